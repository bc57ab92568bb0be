//! The scenarios, each run for every driver ([`crate::e2e`]'s `scenarios!` makes one test
//! per scenario × driver). A scenario asserts what every init system must do with the
//! generated artifacts; where init systems differ by design (who starts a required service,
//! the restart delay, what a gated service looks like), the driver says which behaviour is
//! documented and the scenario holds it to exactly that.

use std::collections::BTreeSet;
use std::time::Duration;

use super::driver::{Checkpoint, Driver, Pending, Running, State, boot};
use super::manifests::{self, A_LISTEN_DELAY_MS, NAMED, NUMBERED, stack_units};
use crate::harness::probe::{self, Record};
use crate::harness::{free_port, hostile, millis_between, now_nanos, procs};

/// Every unit Running within `timeout`.
fn all_running<D: Driver>(s: &Running<D>, timeout: Duration) -> Duration {
    s.await_states(&stack_units(&s.driver), &State::Running, timeout)
}

/// Every unit Stopped and no process left.
fn stopped_everything<D: Driver>(s: &Running<D>) {
    s.await_states(
        &stack_units(&s.driver),
        &State::Stopped,
        Duration::from_secs(10),
    );
    s.await_no_processes(Duration::from_secs(5), "after stopping the stack");
}

/// The `n`th start of B happened after A's `n`th listen and B's program found A's port
/// open; returns the gap in ms.
fn b_waited_for_a<D: Driver>(s: &Running<D>, n: usize) -> f64 {
    let a = &probe::await_records(&s.record("a"), "listen", n)[n - 1];
    let b = &probe::await_records(&s.record("b"), "start", n)[n - 1];
    assert_eq!(
        b.require_ok,
        Some(true),
        "B started before A's port answered"
    );
    let gap = millis_between(a.unix_nanos, b.unix_nanos);
    assert!(gap >= 0.0, "B started {:.0} ms before A listened", -gap);
    let a_start = &probe::starts(&s.record("a"))[n - 1];
    eprintln!(
        "start {n}: A listened {:.0} ms after its start ({A_LISTEN_DELAY_MS} ms delay); B's program {gap:.0} ms after that",
        millis_between(a_start.unix_nanos, a.unix_nanos)
    );
    gap
}

/// The whole stack starts (or autostarts), B waits for A's health check, stopping the stack
/// stops everything; started again, every instance gets its own argv, the hostile service
/// its exact exec context; tearing the init system down with the stack running leaves nothing.
pub fn stack_starts_and_stops<D: Driver>() {
    let port_a = free_port();
    let Some(mut s) = boot::<D>("stack", |w, p| manifests::stack::<D>(w, p, port_a)) else {
        return;
    };
    if !D::AUTOSTART {
        s.await_no_processes(Duration::ZERO, "before the stack was started");
        s.driver.start_stack();
    }
    let took = all_running(&s, Duration::from_secs(15));
    eprintln!(
        "{}: the stack is running ({took:?} after the start returned)",
        D::BACKEND
    );
    D::check(&s, Checkpoint::StackRunning);
    b_waited_for_a(&s, 1);

    s.driver.stop_stack();
    stopped_everything(&s);
    D::check(&s, Checkpoint::StackStopped);

    s.driver.start_stack();
    all_running(&s, Duration::from_secs(15));
    b_waited_for_a(&s, 2);
    instances_get_their_own_argv(&s, 2);
    exec_context_arrives_exactly(&s, 2);

    let took = s.teardown_clean();
    eprintln!(
        "{}: torn down with the stack running in {took:?}",
        D::BACKEND
    );
}

/// The `n`th start of every instance of C and N: its own `{instance}` in argv and env, its
/// own process (the init system's main pid), N's `pre_start` once before each start.
fn instances_get_their_own_argv<D: Driver>(s: &Running<D>, n: usize) {
    let pre = std::fs::read_to_string(manifests::pre_log(&s.work)).expect("pre_start ran");
    let mut pids = BTreeSet::new();
    for (svc, insts) in [("c", NUMBERED), ("n", NAMED)] {
        let starts = probe::await_records(&s.record(svc), "start", n * insts.len());
        assert_eq!(starts.len(), n * insts.len(), "{starts:#?}");
        for inst in insts {
            let label = format!("{svc}@{inst}");
            let mine: Vec<&Record> = starts.iter().filter(|r| r.label == label).collect();
            assert_eq!(mine.len(), n, "{label}: {starts:#?}");
            let r = mine[n - 1];
            let want = [
                s.probe.display().to_string(),
                format!("--instance={inst}"),
                inst.to_owned(),
            ];
            assert_eq!(r.argv, want, "{label}");
            assert_eq!(r.env["INSTANCE"], inst, "{label}");
            let unit = s.driver.unit(svc, Some(inst));
            if let Some(var) = D::NAME_VAR {
                assert_eq!(r.env.get(var), Some(&s.driver.env_name(&unit)), "{label}");
            }
            s.assert_main_pid(&unit, r);
            pids.insert(r.pid);
            if svc == "n" {
                let runs: Vec<u64> = pre
                    .lines()
                    .filter_map(|l| l.strip_prefix(&format!("{inst} "))?.parse().ok())
                    .collect();
                assert_eq!(runs.len(), n, "pre_start of {label} once per start: {pre}");
                assert!(
                    runs[n - 1] <= r.unix_nanos,
                    "{label} started before its pre_start"
                );
            }
        }
    }
    assert_eq!(pids.len(), NUMBERED.len() + NAMED.len(), "one process each");
}

/// The `n`th start of D: argv, environment, working directory and user exactly as the
/// manifest says; no variable but what the init system adds.
fn exec_context_arrives_exactly<D: Driver>(s: &Running<D>, n: usize) {
    let d = &probe::await_records(&s.record("d"), "start", n)[n - 1];
    let added = s.driver.added_env();
    hostile::assert_received(d, &s.probe, &D::hostile_dir(&s.work), "nobody", |k| {
        added.iter().any(|a| a == k)
    });
    let unit = s.driver.unit("d", None);
    if let Some(var) = D::NAME_VAR {
        assert_eq!(d.env.get(var), Some(&s.driver.env_name(&unit)));
    }
    s.assert_main_pid(&unit, d);
    D::check(s, Checkpoint::ExecContext(d));
}

/// Starting B alone never runs B's program before A answers. Where `requires` starts the
/// required service, A is pulled in, nothing else is, and stopping A stops B; where it does
/// not (supervisord, as documented), A stays down and B's wrapper waits until A is started
/// by hand.
pub fn starting_b_alone_waits_for_a<D: Driver>() {
    let port_a = free_port();
    let Some(mut s) = boot::<D>("alone", |w, p| manifests::stack::<D>(w, p, port_a)) else {
        return;
    };
    let before = usize::from(D::AUTOSTART);
    if D::AUTOSTART {
        all_running(&s, Duration::from_secs(15));
        b_waited_for_a(&s, 1);
        s.driver.stop_stack();
        stopped_everything(&s);
    }
    let (a, b) = (s.driver.unit("a", None), s.driver.unit("b", None));
    s.driver.start(&b);
    if D::REQUIRES_STARTS {
        s.await_states(
            &[a.clone(), b.clone()],
            &State::Running,
            Duration::from_secs(10),
        );
        let gap = b_waited_for_a(&s, before + 1);
        eprintln!(
            "{}: B alone pulled in A; B's program {gap:.0} ms after A listened",
            D::BACKEND
        );
    } else {
        // absence takes a wait: longer than A's start would take
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(s.driver.state(&a), State::Stopped, "starting B started A");
        assert_eq!(probe::starts(&s.record("a")).len(), before);
        assert_eq!(
            probe::starts(&s.record("b")).len(),
            before,
            "B's program started without A"
        );
        assert_eq!(s.driver.state(&b), State::Running, "the waiting wrapper");
        s.driver.start(&a);
        let gap = b_waited_for_a(&s, before + 1);
        eprintln!(
            "{}: B alone waited; its program {gap:.0} ms after A (started by hand) listened",
            D::BACKEND
        );
    }
    let others: Vec<String> = stack_units(&s.driver)
        .into_iter()
        .filter(|u| *u != a && *u != b)
        .collect();
    s.await_states(&others, &State::Stopped, Duration::from_secs(5));
    if D::REQUIRES_STARTS {
        s.driver.stop(&a);
        s.await_state(&b, &State::Stopped, Duration::from_secs(10));
        s.await_no_processes(Duration::from_secs(5), "after stopping A");
    }
    s.teardown_clean();
}

/// A service that requires an external TCP dependency does not run its program until the
/// port answers; the start then completes and the program is the unit's main process.
pub fn external_dependency_gates_the_start<D: Driver>() {
    let port = free_port();
    let Some(mut s) = boot::<D>("external", |w, p| manifests::external(w, p, port)) else {
        return;
    };
    let e = s.driver.unit("e", None);
    let mut pending = (!D::AUTOSTART).then(|| Pending::spawn(s.driver.start_command(&e)));
    s.await_state(&e, &D::GATED_STATE, Duration::from_secs(10));
    // absence takes a wait: more than two of the gate's polls
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        s.driver.state(&e),
        D::GATED_STATE,
        "{}",
        s.driver.diagnostics()
    );
    assert!(
        probe::starts(&s.record("e")).is_empty(),
        "e started while its external dependency was down"
    );
    if let Some(p) = &mut pending {
        assert!(
            p.waiting(),
            "the start returned while the external was down"
        );
    }
    let waiting = s.driver.main_pid(&e);
    if D::GATED_STATE == State::Running {
        assert!(waiting.is_some(), "running, but no main pid");
    }
    let opened = now_nanos();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("open the external");
    let rec = probe::one_start(&s.work, "e");
    assert!(rec.unix_nanos >= opened, "e started before the port opened");
    if let Some(pid) = waiting {
        // the gate exec'd the program: the same process, which the init system keeps watching
        assert_eq!(i64::from(pid), i64::from(rec.pid));
    }
    if let Some(p) = &mut pending {
        p.assert_succeeds(Duration::from_secs(10));
    }
    s.await_state(&e, &State::Running, Duration::from_secs(10));
    s.assert_main_pid(&e, &rec);
    eprintln!(
        "{}: external gate: e started {:.0} ms after the port opened (the gate polls once a second)",
        D::BACKEND,
        millis_between(opened, rec.unix_nanos)
    );
    s.driver.stop(&e);
    s.await_state(&e, &State::Stopped, Duration::from_secs(10));
    s.teardown_clean();
    drop(listener);
}

/// SIGKILL of each service's main pid (as the init system reports it): `always` is
/// respawned by the same supervisor within the backend's restart window; `never` stays down.
pub fn sigkill_restarts_unless_never<D: Driver>() {
    let Some(mut s) = boot::<D>("restart", |w, p| {
        probe::restart_manifest(w, p, D::restart_defaults())
    }) else {
        return;
    };
    if let Some(w) = D::restart_warning() {
        assert!(
            s.warnings.contains(w),
            "generate must warn {w:?}: {}",
            s.warnings
        );
    }
    let (always, never) = (s.driver.unit("always", None), s.driver.unit("never", None));
    let both = [always.clone(), never.clone()];
    if !D::AUTOSTART {
        s.driver.start_stack();
    }
    s.await_states(&both, &State::Running, Duration::from_secs(10));
    let first = probe::one_start(&s.work, "always");
    let never_rec = probe::one_start(&s.work, "never");
    for (unit, rec) in [(&always, &first), (&never, &never_rec)] {
        s.assert_main_pid(unit, rec);
        assert_eq!(
            i64::from(rec.ppid),
            i64::from(s.driver.supervisor(unit)),
            "{unit}'s parent"
        );
    }
    let killed_at = now_nanos();
    for unit in &both {
        procs::kill(s.driver.main_pid(unit).expect("main pid"), libc::SIGKILL);
    }
    let again = &probe::await_records(&s.record("always"), "start", 2)[1];
    assert_ne!(again.pid, first.pid);
    assert_eq!(again.ppid, first.ppid, "the same supervisor respawned it");
    let delay = millis_between(killed_at, again.unix_nanos);
    let (lo, hi) = D::RESTART_WINDOW_MS;
    eprintln!(
        "{}: SIGKILL → restarted process running after {delay:.0} ms (window {lo}..={hi} ms)",
        D::BACKEND
    );
    assert!(
        (lo..=hi).contains(&delay),
        "restart after {delay:.0} ms, want {lo}..={hi} ms: the backend's restart delay plus a margin for a loaded machine"
    );
    s.await_state(&always, &State::Running, Duration::from_secs(5));
    s.assert_main_pid(&always, again);
    let restarts = s.driver.restarts(&always);
    eprintln!(
        "{}: restarts of {always} as the init system counts them: {restarts:?}",
        D::BACKEND
    );
    if let Some(n) = restarts {
        assert_eq!(n, 1, "restarts of {always}");
    }

    never_stays_down(&s, &never, &never_rec, again);
    s.teardown_clean();
}

/// After the SIGKILL, `never` is down and stays down well after a restart would have
/// happened; only `always`'s respawned probe (`again`) still runs.
fn never_stays_down<D: Driver>(s: &Running<D>, never: &str, never_rec: &Record, again: &Record) {
    s.await_state(never, &State::Failed, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        s.driver.state(never),
        State::Failed,
        "{}",
        s.driver.diagnostics()
    );
    assert_eq!(s.driver.main_pid(never), None);
    assert_eq!(
        probe::starts(&s.record("never")).len(),
        1,
        "never was restarted"
    );
    assert!(!procs::alive(i32::try_from(never_rec.pid).expect("pid")));
    if let Some(n) = s.driver.restarts(never) {
        assert_eq!(n, 0, "restarts of {never}");
    }
    // only `always`'s probe still runs (both have the same command line)
    let probe = s.probe.display().to_string();
    let probes: Vec<i64> = s
        .driver
        .processes()
        .into_iter()
        .filter(|p| p.cmdline.trim_end() == probe)
        .map(|p| i64::from(p.pid))
        .collect();
    assert_eq!(probes, [i64::from(again.pid)], "{}", s.driver.diagnostics());
    assert_eq!(probe::starts(&s.record("always")).len(), 2);
}
