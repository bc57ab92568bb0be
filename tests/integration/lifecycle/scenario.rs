//! The steps every lifecycle test takes, whatever the init system: an environment ([`Life`])
//! says how to run the CLI against its init system and what that system calls the stack's
//! four processes; the steps ([`reinstall_changes_nothing`], [`drive`]) are written once.

use std::time::Duration;

use serde_json::Value;

use super::by_unit;
use crate::common::Run;
use crate::harness::wait_for;

/// How long a state the CLI reports may take to settle (a busy machine is slow to restart).
const SETTLE: Duration = Duration::from_secs(30);

/// One lifecycle environment: openim-init pointed at one real init system.
pub trait Life {
    /// The four processes of the stack (`a`, `b`, `c@0`, `c@1`) as `status` names them.
    fn units(&self) -> [&'static str; 4];

    /// Run openim-init with `args`; the environment adds the backend, manifest and paths.
    fn run(&self, args: &[&str]) -> Run;

    /// What the init system logged, for failure messages.
    fn diagnostics(&self) -> String;

    /// Whether the init system counts restarts (`status` gives `restarts`).
    fn counts_restarts(&self) -> bool {
        true
    }

    /// What `stop g` must print, where the backend stops instances one by one.
    fn group_stop_output(&self) -> Option<&'static str> {
        None
    }

    /// Run `args` and require exit 0.
    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code,
            0,
            "{args:?}\nstdout:\n{}\nstderr:\n{}\n{}",
            r.stdout,
            r.stderr,
            self.diagnostics()
        );
        r
    }

    /// `status --json`: its exit code and its answer.
    fn status(&self) -> (i32, Value) {
        let r = self.run(&["status", "--json"]);
        let v = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("status --json: {e}: {}{}", r.stdout, r.stderr));
        (r.code, v)
    }

    /// Wait until `status --json` exits `code` and `ok` holds for its answer.
    fn await_status(&self, code: i32, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let mut last = (0, Value::Null);
        let reached = wait_for(SETTLE, || {
            last = self.status();
            last.0 == code && ok(&last.1)
        });
        assert!(reached, "{what}: {last:#?}\n{}", self.diagnostics());
        last.1
    }

    /// Whether every process of the stack runs, in a `status --json` answer.
    fn all_running(&self, v: &Value) -> bool {
        let p = by_unit(v);
        self.units().iter().all(|u| p[*u]["state"] == "running")
    }

    /// The pid of the `i`-th process (see [`Life::units`]) in a `status --json` answer, or 0.
    fn pid(&self, v: &Value, i: usize) -> i64 {
        by_unit(v)[self.units()[i]]["pid"]
            .as_i64()
            .unwrap_or_default()
    }

    /// The pids of all four processes.
    fn pids(&self, v: &Value) -> [i64; 4] {
        [0, 1, 2, 3].map(|i| self.pid(v, i))
    }
}

/// Every process running, each with a pid and an uptime, `a` healthy, `b` without a check,
/// `c@1` with its instance; a second `install --start` changes and restarts nothing.
/// Returns the settled status and what the second install printed.
pub fn reinstall_changes_nothing(e: &impl Life) -> (Value, String) {
    let [a, b, _, c1] = e.units();
    let v = e.await_status(0, "all running and healthy", |v| e.all_running(v));
    let p = by_unit(&v);
    assert_eq!(p[a]["health"], "ok", "{v:#}");
    assert_eq!(p[b]["health"], "none", "{v:#}");
    assert_eq!(p[c1]["instance"], "1", "{v:#}");
    for u in e.units() {
        assert!(p[u]["pid"].as_i64().is_some_and(|x| x > 0), "{u}: {v:#}");
        assert!(p[u]["uptime_s"].as_u64().is_some(), "{u}: {v:#}");
        if e.counts_restarts() {
            assert_eq!(p[u]["restarts"], 0, "{u}: {v:#}");
        }
    }
    let again = e.ok(&["install", "--start"]);
    assert!(again.stdout.contains("0 changed"), "{}", again.stdout);
    let same = e.await_status(0, "still running", |v| e.all_running(v));
    assert_eq!(
        e.pids(&same),
        e.pids(&v),
        "a second install restarted something"
    );
    (same, again.stdout)
}

/// The operator's day: `b` killed with SIGKILL (the test plays the crash) comes back (and is
/// counted where the init system counts); `stop g` stops only the group's instances; `start g`, `restart a`, `stop`/`start c@1`; an unknown name is refused
/// (exit 2); `logs -n 5` gives at most 5 lines; the status table names the units.
pub fn drive(e: &impl Life, v: &Value) {
    let [a, b, c0, c1] = e.units();
    let old_b = e.pid(v, 1);
    crate::harness::procs::kill(i32::try_from(old_b).expect("pid"), libc::SIGKILL);
    e.await_status(0, "b restarted", |v| {
        let counted = !e.counts_restarts() || by_unit(v)[b]["restarts"].as_u64() >= Some(1);
        e.all_running(v) && e.pid(v, 1) != old_b && counted
    });
    let stop = e.ok(&["stop", "g"]);
    if let Some(out) = e.group_stop_output() {
        assert_eq!(stop.stdout, out, "the group's instances in reverse order");
    }
    let v = e.await_status(3, "g stopped, others running", |v| {
        let p = by_unit(v);
        p[c0]["state"] == "stopped"
            && p[c1]["state"] == "stopped"
            && p[a]["state"] == "running"
            && p[b]["state"] == "running"
    });
    assert_eq!(by_unit(&v)[c0]["pid"], Value::Null, "{v:#}");
    e.ok(&["start", "g"]);
    let v = e.await_status(0, "g running again", |v| e.all_running(v));
    let old_a = e.pid(&v, 0);
    e.ok(&["restart", "a"]);
    e.await_status(0, "a restarted", |v| {
        e.all_running(v) && e.pid(v, 0) != old_a
    });
    e.ok(&["stop", "c@1"]);
    e.await_status(3, "c@1 stopped", |v| by_unit(v)[c1]["state"] == "stopped");
    e.ok(&["start", "c@1"]);
    e.await_status(0, "c@1 running again", |v| e.all_running(v));
    let unknown = e.run(&["stop", "nope"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    let logs = e.ok(&["logs", "b", "-n", "5"]);
    assert!(logs.stdout.lines().count() <= 5, "{}", logs.stdout);
    let table = e.ok(&["status"]).stdout;
    assert!(table.contains(c0) && table.contains("running"), "{table}");
    assert!(!table.contains('\x1b'), "NO_COLOR: {table:?}");
    println!("{table}");
}
