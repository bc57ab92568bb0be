//! runit and s6: the batch's service directories are linked into a private scan directory
//! and the real scan daemon starts them (`runsvdir`, or `s6-svscan`): runsv / s6-supervise
//! runs each `run` (`chpst -e` / `s6-envdir` with the env dir, or the shared `/bin/sh`
//! wrapper for what an env dir cannot carry and for `pre_start`), the probe records what it
//! received and exits, and `finish` (restart = never) leaves it down.

use std::time::Duration;

use super::driver::run;
use super::{Batch, Outcome, RoundTrip};
use crate::harness::scan::{Kind, MARKER_VAR, Scan, missing};
use crate::harness::{probe, wait_for};

/// Counts the jobs whose `run` execs the shared wrapper.
#[derive(Default)]
pub struct Daemontools {
    kind: Option<Kind>,
    wrapped: std::cell::Cell<usize>,
}

impl Daemontools {
    /// The round trip through `kind`'s scan daemon.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind: Some(kind),
            wrapped: std::cell::Cell::default(),
        }
    }

    fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Runit)
    }

    fn sub(&self) -> &'static str {
        match self.kind() {
            Kind::Runit => "sv",
            Kind::S6 => "s6",
        }
    }
}

impl RoundTrip for Daemontools {
    fn name(&self) -> &'static str {
        match self.kind() {
            Kind::Runit => "runit",
            Kind::S6 => "s6",
        }
    }

    fn unavailable(&self) -> Option<String> {
        match self.kind() {
            Kind::Runit => missing(&["runsvdir", "runsv", "sv", "chpst"]),
            Kind::S6 => missing(&["s6-svscan", "s6-supervise", "s6-svc", "s6-envdir"]),
        }
    }

    fn batch_size(&self) -> usize {
        100
    }

    fn added_env(&self, key: &str) -> bool {
        // the daemon's own environment, and PWD from the /bin/sh of ./run
        matches!(key, "PATH" | "PWD") || key == MARKER_VAR
    }

    fn stats(&self) -> String {
        format!("; {} ran through the /bin/sh wrapper", self.wrapped.get())
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let out = batch.generate(self.name(), &[])?;
        let dirs = out.join(self.sub());
        for i in 0..batch.cases.len() {
            let run = std::fs::read_to_string(dirs.join(Batch::service(i)).join("run"))
                .map_err(|e| e.to_string())?;
            if run.contains("/bin/sh -c ") {
                self.wrapped.set(self.wrapped.get() + 1);
            }
        }
        // the logger is not under test, and would write to /var/log: run's output goes to
        // the daemon's instead
        for i in 0..batch.cases.len() {
            let log = dirs.join(Batch::service(i)).join("log");
            if log.exists() {
                std::fs::remove_dir_all(&log).map_err(|e| e.to_string())?;
            }
        }
        let marker = batch.dir.display().to_string();
        let mut scan = Scan::start_at(&batch.dir, &marker, self.kind(), &dirs);
        let all = wait_for(Duration::from_mins(1), || {
            (0..batch.cases.len())
                .all(|i| probe::starts(&batch.record(i)).len() >= batch.want_execs(i))
        });
        // every service down (its finish done) before the daemon is told to exit: a finish
        // that runs `sv down .` after runsv was told to exit would keep runsv up
        let kind = self.kind();
        wait_for(Duration::from_secs(20), || {
            (0..batch.cases.len()).all(|i| is_down(kind, &scan.service(&Batch::service(i))))
        });
        let cleanup = scan.shutdown();
        if !cleanup.is_clean() {
            return Err(format!("the scan daemon left processes: {cleanup:?}"));
        }
        let outcomes = (0..batch.cases.len())
            .map(|i| {
                let seen = batch.observed(i);
                if all || seen.len() >= batch.want_execs(i) {
                    Ok(seen)
                } else {
                    Err(format!(
                        "{} of {} execs within 60 s; daemon output: {}",
                        seen.len(),
                        batch.want_execs(i),
                        scan.output().replace("..", "")
                    ))
                }
            })
            .collect();
        Ok(outcomes)
    }
}

/// Whether the service in `dir` is down with nothing running (its finish done).
fn is_down(kind: Kind, dir: &std::path::Path) -> bool {
    match kind {
        Kind::Runit => {
            std::fs::read_to_string(dir.join("supervise/stat")).is_ok_and(|s| s.trim() == "down")
        }
        Kind::S6 => {
            Scan::tool(
                "s6-svstat",
                [
                    std::ffi::OsStr::new("-o"),
                    "up,wantedup".as_ref(),
                    dir.as_os_str(),
                ],
            )
            .stdout
            .trim()
                == "false false"
        }
    }
}

#[test]
fn runit_execs_exactly_the_manifest() {
    run(&Daemontools::new(Kind::Runit));
}

#[test]
fn s6_execs_exactly_the_manifest() {
    run(&Daemontools::new(Kind::S6));
}
