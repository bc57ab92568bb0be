//! runit and s6 beyond the shared scenarios: the s6-overlay layout (snapshots of every
//! fixture, the structural lint standing in for s6-rc-compile), and what the verifier of
//! the service directories finds in a broken tree.

use openim_init::backend::runit::verify as dirs;
use openim_init::backend::s6::{LAYOUT, OVERLAY, overlay};
use openim_init::backend::{self, Artifact, BackendKind, Flags, Rendered};
use openim_init::model::Model;
use openim_init::output;

use crate::common::{FIXTURES, fixture, insta_settings};

fn models() -> Vec<(&'static str, Model)> {
    let mut out = vec![("openim", Model::builtin())];
    for name in FIXTURES {
        let text = std::fs::read_to_string(fixture(&format!("{name}.toml"))).expect("fixture");
        out.push((name, Model::from_toml(name, &text).expect("valid")));
    }
    out
}

fn overlay_flags() -> Flags {
    let mut flags = Flags::default();
    flags.0.insert(LAYOUT, OVERLAY.to_owned());
    flags
}

#[test]
fn s6_overlay_tree_of_every_fixture() {
    insta_settings("render").bind(|| {
        for (name, model) in models() {
            let r = backend::render_embedded(BackendKind::S6, &model, &overlay_flags())
                .expect("renders");
            assert_eq!(overlay::lint(&r.artifacts), Vec::<String>::new(), "{name}");
            let mut text = output::to_text(&r.artifacts);
            for n in &r.notes {
                text.push_str(&format!("==== note ====\n{n}\n"));
            }
            insta::assert_snapshot!(format!("s6-overlay__{name}"), text);
        }
    });
}

#[test]
fn s6_overlay_wires_dependencies_bundles_and_the_user_bundle() {
    let model = Model::builtin();
    let r = backend::render_embedded(BackendKind::S6, &model, &overlay_flags()).expect("renders");
    let has = |p: &str| {
        r.artifacts
            .iter()
            .any(|a| a.path == format!("s6-overlay/s6-rc.d/{p}"))
    };
    assert!(has("openim/type") && has("user/contents.d/openim"));
    for p in model.view.processes() {
        let name = p.joined(&model.services[p.service], "-");
        assert!(has(&format!("{name}/type")), "{name}");
        assert!(has(&format!("{name}/dependencies.d/base")), "{name}");
        assert!(has(&format!("openim/contents.d/{name}")), "{name}");
    }
    // s6-rc orders the start: no run script waits for a sibling itself
    for a in r.artifacts.iter().filter(|a| a.path.ends_with("/run")) {
        assert!(!a.contents().contains("../"), "{}", a.path);
    }
    let units: Vec<&str> = r.units.iter().map(|u| u.name.as_str()).collect();
    assert!(units.contains(&"openim"), "{units:?}");
}

#[test]
fn an_unknown_layout_is_a_usage_error() {
    let mut flags = Flags::default();
    flags.0.insert(LAYOUT, "s6-rc".to_owned());
    let e =
        backend::render_embedded(BackendKind::S6, &Model::builtin(), &flags).expect_err("refused");
    assert_eq!(e.exit_code(), openim_init::errors::EXIT_INVALID);
    assert!(e.to_string().contains("s6-overlay"), "{e}");
    let e = backend::render_embedded(BackendKind::Runit, &Model::builtin(), &overlay_flags())
        .expect_err("runit takes no --layout");
    assert!(e.to_string().contains("--backend s6 only"), "{e}");
}

#[test]
fn the_directory_verifier_finds_a_broken_tree() {
    let tmp = tempfile::tempdir().expect("tmp");
    let rendered = Rendered {
        artifacts: vec![
            Artifact::file(
                "sv/a/run",
                0o644,
                "#!/bin/sh\nsv -w 7 start ../zz || exit 1\nif then\n",
            ),
            Artifact::file("sv/b/finish", 0o755, "#!/bin/sh\nexit 0\n"),
            Artifact::file("sv/a/env/1BAD", 0o644, "x\n"),
        ],
        ..Rendered::default()
    };
    openim_init::output::write_all(tmp.path(), &rendered.artifacts, false).expect("written");
    let report = dirs::check(tmp.path(), &rendered, "sv").expect("runs");
    let found = report.findings.join("\n");
    for want in [
        "sv/a/run: not executable",
        "sh -n sv/a/run",
        "sv/b: no run script",
        "`1BAD` is not a variable name",
        "names ../zz",
    ] {
        assert!(found.contains(want), "{want}: {found}");
    }
}

/// Where a locally built s6-rc (s6-rc-compile, s6-rc-init, s6-rc) lives: s6-rc is not
/// packaged on Debian 12, so this test runs only when `OPENIM_S6RC_DIR` names a build
/// (e.g. of skarnet's s6-rc 0.5.4.1 against Debian's skalibs-dev, libs6-dev,
/// libexecline-dev); otherwise it says so and passes.
fn s6_rc_dir() -> Option<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(std::env::var_os("OPENIM_S6RC_DIR")?);
    ["s6-rc-compile", "s6-rc-init", "s6-rc"]
        .iter()
        .all(|t| dir.join(t).is_file())
        .then_some(dir)
}

fn run_ok(program: &std::path::Path, args: &[&std::ffi::OsStr]) -> String {
    let r = crate::harness::scan::Scan::tool(&program.display().to_string(), args);
    assert_eq!(
        r.code,
        0,
        "{} {args:?}: {}{}",
        program.display(),
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// The s6-overlay tree under the real s6-rc: compiled by s6-rc-compile (with stand-ins for
/// s6-overlay's `base` and `user` bundles), brought up with `s6-rc -u change STACK` on a
/// private s6-svscan: B's program starts only after A's health check passed (s6-rc waits
/// for A's readiness), and `s6-rc -d change STACK` stops both.
#[test]
fn s6_rc_runs_the_overlay_tree() {
    use std::ffi::OsStr;
    use std::time::Duration;

    use crate::harness::scan::{Kind, Scan};
    use crate::harness::{WorkDir, free_port, probe};

    let Some(bin) = s6_rc_dir() else {
        eprintln!("skipped: OPENIM_S6RC_DIR does not name a build of s6-rc (not packaged here)");
        return;
    };
    let _serial = crate::harness::hold(&crate::harness::S6);
    let work = WorkDir::new("s6rc");
    let Some(probe_bin) = probe::install(&work) else {
        return;
    };
    let addr = format!("127.0.0.1:{}", free_port());
    let mut a = probe::service(
        &work,
        &probe_bin,
        "a",
        &["a"],
        serde_json::json!({
            "PROBE_LISTEN": addr, "PROBE_LISTEN_DELAY": "1500",
        }),
    );
    a["health"] =
        serde_json::json!({ "tcp": addr, "interval": "1s", "timeout": "1s", "retries": 10 });
    let mut b = probe::service(
        &work,
        &probe_bin,
        "b",
        &["b"],
        serde_json::json!({ "PROBE_REQUIRE": addr }),
    );
    b["requires"] = serde_json::json!(["a"]);
    let manifest = serde_json::json!({ "name": "rc", "services": { "a": a, "b": b } });
    let text = toml::to_string(&manifest).expect("toml");
    let model = Model::from_toml("rc.toml", &text).expect("valid");
    let r = backend::render_embedded(BackendKind::S6, &model, &overlay_flags()).expect("renders");
    let out = work.join("out");
    openim_init::output::write_all(&out, &r.artifacts, false).expect("written");
    let src = out.join(overlay::ROOT);
    for stand_in in ["base", "user"] {
        std::fs::create_dir_all(src.join(stand_in).join("contents.d")).expect("mkdir");
        std::fs::write(src.join(stand_in).join("type"), "bundle\n").expect("type");
    }
    let db = work.join("db");
    run_ok(
        &bin.join("s6-rc-compile"),
        &[db.as_os_str(), src.as_os_str()],
    );
    let empty = work.join("none");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let mut scan = Scan::start_at(work.path(), &work.marker(), Kind::S6, &empty);
    let live = work.join("live");
    let dir = scan.dir.clone();
    run_ok(
        &bin.join("s6-rc-init"),
        &[
            OsStr::new("-c"),
            db.as_os_str(),
            OsStr::new("-l"),
            live.as_os_str(),
            dir.as_os_str(),
        ],
    );
    let rc = |args: &[&str]| {
        let mut all: Vec<&OsStr> = vec![
            OsStr::new("-l"),
            live.as_os_str(),
            OsStr::new("-t"),
            OsStr::new("30000"),
        ];
        all.extend(args.iter().map(OsStr::new));
        run_ok(&bin.join("s6-rc"), &all)
    };
    rc(&["-u", "change", "rc"]);
    let listened = &probe::await_records(&work.record("a"), "listen", 1)[0];
    let started = &probe::await_records(&work.record("b"), "start", 1)[0];
    assert_eq!(
        started.require_ok,
        Some(true),
        "B started before A answered"
    );
    assert!(started.unix_nanos >= listened.unix_nanos);
    let active = rc(&["-a", "list"]);
    assert!(active.contains("a\n") && active.contains("b\n"), "{active}");
    rc(&["-d", "change", "rc"]);
    let active = rc(&["-a", "list"]);
    assert!(
        !active.contains("a\n") && !active.contains("b\n"),
        "{active}"
    );
    assert!(
        crate::harness::wait_for(Duration::from_secs(5), || scan
            .processes()
            .iter()
            .all(|p| !p.cmdline.contains("/bin/probe"))),
        "probes left: {:?}",
        scan.processes()
    );
    let c = scan.shutdown();
    assert!(c.is_clean(), "{c:?}");
}

/// A `requires` gate in s6's `run` asks the dependency's supervisor to start it until that
/// supervisor listens and has written its status. `s6-svok` answers as soon as
/// s6-supervise holds its lock, a moment before it reads its control FIFO (an `s6-svc -u`
/// then fails), and it writes `supervise/status` later still (`s6-svwait` then fails): both
/// left a `restart = never` service down in the suite on a loaded machine. Here the
/// supervisor comes two seconds after the gate is reached.
#[test]
fn s6_requires_gate_asks_again_until_the_supervisor_listens() {
    s6_gate_waits_for_a_late_supervisor(|_| None);
}

/// As above, with something reading the control FIFO before the supervisor has written
/// its status: `s6-svc -u` succeeds at once, and the gate still waits.
#[test]
fn s6_requires_gate_waits_for_the_supervisor_s_status() {
    s6_gate_waits_for_a_late_supervisor(|a| {
        use std::os::unix::fs::OpenOptionsExt as _;
        let dir = a.join("supervise");
        std::fs::create_dir_all(&dir).expect("supervise/");
        let fifo = dir.join("control");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        // a reader, as s6-supervise has one a moment before it writes its status
        let reader = std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("a reader of the control FIFO");
        Some(reader)
    });
}

/// Generate a stack where `b` requires `a`, prepare `a` with `early` (what is held is let
/// go when the real supervisor starts), start `s6-supervise a` two seconds after running
/// `b`'s gate, and check that the gate waited for it and `a` is up.
fn s6_gate_waits_for_a_late_supervisor(
    early: impl FnOnce(&std::path::Path) -> Option<std::fs::File>,
) {
    use std::process::Command;
    use std::time::{Duration, Instant};
    let tools = ["s6-supervise", "s6-svc", "s6-svwait", "s6-svstat", "mkfifo"];
    if !crate::common::require(crate::harness::scan::missing(&tools).is_none(), "s6") {
        return;
    }
    let tmp = crate::harness::WorkDir::new("s6-gate");
    let manifest = tmp.join("gate.toml");
    let text = "name = \"gate\"\n[services.a]\ncommand = [\"/bin/sleep\", \"1000\"]\n\
                [services.b]\ncommand = [\"/bin/true\"]\nrequires = [\"a\"]\nrestart = \"never\"\n";
    std::fs::write(&manifest, text).expect("manifest");
    let out = tmp.join("out");
    crate::common::Cli::new()
        .args(["generate", "--backend", "s6", "--manifest"])
        .args([&manifest])
        .args(["--out"])
        .args([&out])
        .ok();
    let run = std::fs::read_to_string(out.join("s6/b/run")).expect("b/run");
    let gate = run
        .lines()
        .find(|l| l.contains("s6-svc -u ../a"))
        .expect("the gate of b");
    let a = out.join("s6/a");
    let held = early(&a);
    let starter = std::thread::spawn({
        let a = a.clone();
        move || {
            std::thread::sleep(Duration::from_secs(2));
            drop(held);
            Command::new("s6-supervise")
                .arg(&a)
                .spawn()
                .expect("s6-supervise")
        }
    });
    let t0 = Instant::now();
    let gated = Command::new("sh")
        .args(["-c", gate])
        .current_dir(out.join("s6/b"))
        .output()
        .expect("sh");
    let took = t0.elapsed();
    let mut supervisor = starter.join().expect("started");
    let svstat = |args: &[&str]| {
        let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        all.push(a.as_os_str());
        crate::harness::scan::Scan::tool("s6-svstat", all)
    };
    let status = svstat(&[]);
    // down and gone: asked until the supervisor listens; a service it left behind is killed
    let service: Option<i32> = svstat(&["-o", "pid"]).stdout.trim().parse().ok();
    let stop = || Command::new("s6-svc").arg("-dx").arg(&a).status();
    crate::harness::wait_for(Duration::from_secs(5), || stop().is_ok_and(|s| s.success()));
    let ended = crate::harness::procs::reap_or_kill(&mut supervisor, Duration::from_secs(10));
    if let Some(pid) = service.filter(|&p| p > 0 && crate::harness::procs::alive(p)) {
        crate::harness::procs::kill(pid, libc::SIGKILL);
    }
    assert!(
        gated.status.success(),
        "{gate}: {}",
        String::from_utf8_lossy(&gated.stderr)
    );
    assert!(
        took >= Duration::from_secs(2),
        "it waited for the supervisor: {took:?}"
    );
    assert!(
        status.stdout.starts_with("up"),
        "{}{}",
        status.stdout,
        status.stderr
    );
    assert!(!ended.killed, "s6-supervise left when told");
}
