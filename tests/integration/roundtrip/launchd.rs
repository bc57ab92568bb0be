//! launchd (no launchd on Linux): the batch's plists are read by Python's plistlib, and each
//! job is started the way launchd starts it (see `tests/integration/launchd/run.rs`):
//! `ProgramArguments` exec'd with launchd's default PATH plus `EnvironmentVariables`. A job
//! with `pre_start` is wrapped in `/bin/sh -c '…; exec "$@"' sh ARGV…`, and the wrapper really
//! runs, so what is compared is what the probe finally received.

use std::path::Path;

use openim_init::escape::plist::is_xml_char;
use serde_json::Value;

use super::driver::run;
use super::{Batch, Outcome, RoundTrip, STACK, exec};
use crate::launchd::{have, plists};

/// launchd's default PATH for jobs.
const LAUNCHD_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";

/// Counts the jobs that ran through the `/bin/sh` wrapper.
#[derive(Default)]
struct Launchd {
    wrapped: std::cell::Cell<usize>,
}

/// Start `job` as launchd would: its argv, PATH and its environment, in its directory or `/`.
fn launch(job: &Value) -> Result<(), String> {
    let argv: Vec<String> = serde_json::from_value(job["ProgramArguments"].clone())
        .map_err(|e| format!("ProgramArguments: {e}"))?;
    let mut env = vec![("PATH".to_owned(), LAUNCHD_PATH.to_owned())];
    if let Some(vars) = job["EnvironmentVariables"].as_object() {
        for (k, v) in vars {
            let v = v.as_str().ok_or("an environment value is not a string")?;
            env.push((k.clone(), v.to_owned()));
        }
    }
    let cwd = job["WorkingDirectory"].as_str().unwrap_or("/");
    exec(&argv, &env, Path::new(cwd))
}

impl RoundTrip for Launchd {
    fn name(&self) -> &'static str {
        "launchd"
    }

    fn unavailable(&self) -> Option<String> {
        (!have("python3")).then(|| "python3 (plistlib) is needed".to_owned())
    }

    fn batch_size(&self) -> usize {
        500
    }

    fn added_env(&self, key: &str) -> bool {
        // launchd's PATH; dash exports PWD to what the wrapper execs
        key == "PATH" || key == "PWD"
    }

    fn uncarried(&self, c: char) -> bool {
        !is_xml_char(c)
    }

    fn stats(&self) -> String {
        format!("; {} ran through the /bin/sh wrapper", self.wrapped.get())
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let out = batch.generate("launchd", &[])?;
        let jobs = plists(&out);
        Ok((0..batch.cases.len())
            .map(|i| {
                let file = format!("io.{STACK}.{}.plist", Batch::service(i));
                let job = jobs
                    .get(&file)
                    .ok_or_else(|| format!("no {file} generated"))?;
                if job["ProgramArguments"][0] == "/bin/sh" {
                    self.wrapped.set(self.wrapped.get() + 1);
                }
                launch(job).map(|()| batch.observed(i))
            })
            .collect())
    }
}

#[test]
fn launchd_execs_exactly_the_manifest() {
    run(&Launchd::default());
}
