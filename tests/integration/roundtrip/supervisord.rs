//! supervisord: the batch's conf.d file is read by supervisor's own parser (the embedded
//! helper: `ServerOptions.realize()` behind an `[include]`, `Subprocess.get_execv_args()`
//! and each program's `environment`), and every process is then exec'd the way supervisord
//! spawns it: that argv, with supervisord's `SUPERVISOR_*` variables plus the program's
//! environment. When the backend wraps a command in `/bin/sh -c '…; exec "$@"' NAME …` (a
//! value `environment=` cannot carry, or `pre_start`), the wrapper really runs, so what is
//! compared is what the probe finally received.

use openim_init::backend::shared::wrapper::SHELL as WRAPPER_SHELL;
use openim_init::backend::supervisord::verify::{parse, python};

use super::driver::run;
use super::{Batch, Outcome, RoundTrip, STACK, exec};

/// Counts the jobs that ran through the `/bin/sh` wrapper.
#[derive(Default)]
struct Supervisord {
    wrapped: std::cell::Cell<usize>,
}

/// What supervisord adds to every child (`Subprocess._spawn`), before the program's own.
fn spawn_env(process: &str) -> Vec<(String, String)> {
    [
        ("SUPERVISOR_ENABLED", "1"),
        ("SUPERVISOR_PROCESS_NAME", process),
        ("SUPERVISOR_GROUP_NAME", STACK),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

impl RoundTrip for Supervisord {
    fn name(&self) -> &'static str {
        "supervisord"
    }

    fn unavailable(&self) -> Option<String> {
        python().err().map(|e| e.to_string())
    }

    fn batch_size(&self) -> usize {
        250
    }

    fn added_env(&self, key: &str) -> bool {
        // dash exports PWD to what the wrapper execs
        key.starts_with("SUPERVISOR_") || key == "PWD"
    }

    fn stats(&self) -> String {
        format!("; {} ran through the /bin/sh wrapper", self.wrapped.get())
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let out = batch.generate("supervisord", &[])?;
        let py = python().map_err(|e| e.to_string())?;
        let parsed = parse(&py, &out.join(format!("{STACK}.conf"))).map_err(|e| e.to_string())?;
        if !parsed.errors.is_empty() {
            return Err(format!("supervisor rejects the file: {:?}", parsed.errors));
        }
        let mut outcomes = Vec::new();
        for i in 0..batch.cases.len() {
            let name = Batch::service(i);
            let Some(p) = parsed.processes.get(&format!("{STACK}:{name}")) else {
                outcomes.push(Err(format!("supervisor has no process {STACK}:{name}")));
                continue;
            };
            let argv: Vec<String> =
                serde_json::from_value(p["argv"].clone()).map_err(|e| e.to_string())?;
            let environment: std::collections::BTreeMap<String, String> =
                serde_json::from_value(p["environment"].clone()).map_err(|e| e.to_string())?;
            let mut env = spawn_env(&name);
            env.extend(environment);
            if argv.first().is_some_and(|a| a == WRAPPER_SHELL) {
                self.wrapped.set(self.wrapped.get() + 1);
            }
            outcomes.push(exec(&argv, &env, &batch.dir).map(|()| batch.observed(i)));
        }
        Ok(outcomes)
    }
}

#[test]
fn supervisord_execs_exactly_the_manifest() {
    run(&Supervisord::default());
}
