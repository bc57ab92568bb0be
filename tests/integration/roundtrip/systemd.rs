//! systemd: each batch's units run under a real `systemd --user` manager (the e2e harness,
//! [`crate::harness::systemd`]): the stack target is started, every unit's `ExecStartPre`
//! lines and `ExecStart` run the probe, which records what systemd handed it. One manager
//! start per batch of 250 services.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use openim_init::escape::systemd::{executable_problem, is_noncharacter};

use super::driver::run;
use super::{Batch, Outcome, RoundTrip, STACK};
use crate::harness::systemd::{UserManager, unavailable};
use crate::harness::{SYSTEMD, WorkDir, hold};

#[derive(Default)]
struct Systemd {
    /// The last manager's environment block (`systemctl --user show-environment`), which
    /// every unit inherits: the harness's variables plus what environment.d adds.
    inherited: RefCell<BTreeSet<String>>,
}

/// What systemd itself puts in a service's environment (systemd.exec(5), "Environment
/// variables in spawned processes").
const MANAGER_ENV: &[&str] = &[
    "PATH",
    "LANG",
    "USER",
    "LOGNAME",
    "HOME",
    "SHELL",
    "PWD",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "MANAGERPID",
    "SYSTEMD_EXEC_PID",
];

/// `show` properties of `units`, one `PROP=value` line each, by unit.
fn show(mgr: &UserManager, units: &[String]) -> BTreeMap<String, String> {
    let mut args = vec![
        "show".to_owned(),
        "-p".into(),
        "Id,LoadState,ActiveState,SubState,Result,ExecMainStatus".into(),
    ];
    args.extend(units.iter().cloned());
    let text = mgr.systemctl(&args).stdout;
    text.split("\n\n")
        .filter_map(|block| {
            let id = block.lines().find_map(|l| l.strip_prefix("Id="))?;
            Some((id.to_owned(), block.trim().replace('\n', " ")))
        })
        .collect()
}

/// Wait until every case recorded all its execs, or nothing is left to happen (no jobs and
/// no unit still active), at most 120 s. Returns the cases still incomplete.
fn settle(mgr: &UserManager, batch: &Batch<'_>) -> Vec<usize> {
    let t0 = Instant::now();
    let incomplete = || -> Vec<usize> {
        (0..batch.cases.len())
            .filter(|&i| batch.observed(i).len() < batch.want_execs(i))
            .collect()
    };
    loop {
        let open = incomplete();
        if open.is_empty() || t0.elapsed() > Duration::from_mins(2) {
            return open;
        }
        let jobs = mgr.systemctl(["list-jobs", "--no-legend"]).stdout;
        if jobs.trim().is_empty() {
            let units: Vec<String> = open.iter().map(|&i| unit(i)).collect();
            let busy = show(mgr, &units)
                .values()
                .any(|s| s.contains("ActiveState=active") || s.contains("ActiveState=activating"));
            if !busy {
                // idle now: the records are final (they may have grown since `open`)
                return incomplete();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn unit(i: usize) -> String {
    format!("{}.service", Batch::service(i))
}

impl RoundTrip for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn unavailable(&self) -> Option<String> {
        unavailable()
    }

    fn batch_size(&self) -> usize {
        250
    }

    fn added_env(&self, key: &str) -> bool {
        MANAGER_ENV.contains(&key) || self.inherited.borrow().contains(key)
    }

    fn uncarried(&self, c: char) -> bool {
        is_noncharacter(c)
    }

    fn program_problem(&self, path: &str) -> Option<String> {
        executable_problem(path)
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let units = batch.generate("systemd", &[])?;
        let _serial = hold(&SYSTEMD);
        let home = WorkDir::new("roundtrip-systemd-manager");
        let mut mgr = UserManager::start(&home, &units);
        *self.inherited.borrow_mut() = mgr
            .ok(["show-environment"])
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_owned()))
            .collect();
        mgr.ok(["start", "--no-block", &format!("{STACK}.target")]);
        let open = settle(&mgr, batch);
        let open_units: Vec<String> = open.iter().map(|&i| unit(i)).collect();
        let states = if open.is_empty() {
            BTreeMap::new()
        } else {
            show(&mgr, &open_units)
        };
        let mut outcomes = Vec::new();
        for i in 0..batch.cases.len() {
            let got = batch.observed(i);
            outcomes.push(if open.contains(&i) {
                let u = unit(i);
                let exec = mgr.show(&u, "ExecStart");
                Err(format!(
                    "{u} recorded {} of {} execs: {}\nsystemd parsed ExecStart as {exec}\nrecorded: {got:#?}\nmanager log: {}",
                    got.len(),
                    batch.want_execs(i),
                    states.get(&u).map_or("(no state)", String::as_str),
                    mgr.diagnostics()
                ))
            } else {
                Ok(got)
            });
        }
        mgr.shutdown().assert_clean();
        Ok(outcomes)
    }
}

#[test]
fn systemd_execs_exactly_the_manifest() {
    run(&Systemd::default());
}
