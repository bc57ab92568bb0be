//! The real runner on small shell commands; the recorder on scripted replies.

use super::*;

#[test]
fn expand_puts_the_prefix_first_and_tool_args_after_the_tool() {
    let setup = Setup::default()
        .with_prefix(&["nsenter", "-t", "42", "-m", "--"])
        .with_tool_args("systemctl", &["--user"])
        .with_tool_args("supervisorctl", &["-c", "/x/s.conf"]);
    assert_eq!(
        setup.expand(&argv(&["/usr/bin/systemctl", "start", "a.service"])),
        argv(&[
            "nsenter",
            "-t",
            "42",
            "-m",
            "--",
            "/usr/bin/systemctl",
            "--user",
            "start",
            "a.service"
        ])
    );
    assert_eq!(
        setup.expand(&argv(&["supervisorctl", "status"])),
        argv(&[
            "nsenter",
            "-t",
            "42",
            "-m",
            "--",
            "supervisorctl",
            "-c",
            "/x/s.conf",
            "status"
        ])
    );
    assert_eq!(
        Setup::default().expand(&argv(&["rc-service", "x", "status"])),
        argv(&["rc-service", "x", "status"])
    );
}

#[test]
fn process_runner_captures_code_stdout_and_stderr() {
    let r = ProcessRunner::default();
    let out = r
        .run(&argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]))
        .expect("sh runs");
    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    assert!(!out.timed_out && !out.success());
    assert!(r.run(&argv(&["true"])).expect("true runs").success());
}

#[test]
fn process_runner_applies_the_setup() {
    let r = ProcessRunner::new(
        Setup::default()
            .with_prefix(&["env", "X=1"])
            .with_tool_args("sh", &["-c", "echo $X \"$0\""]),
    );
    let out = r.run(&argv(&["sh", "word"])).expect("runs");
    assert_eq!(out.stdout, "1 word\n");
}

#[test]
fn a_missing_program_is_an_error_naming_it() {
    let err = ProcessRunner::default()
        .run(&argv(&["/no/such/tool", "x"]))
        .expect_err("cannot start");
    assert!(format!("{err:#}").contains("/no/such/tool x"), "{err:#}");
}

#[test]
fn a_command_past_its_timeout_is_killed_with_its_children() {
    let r = ProcessRunner::new(Setup {
        timeout: Some(Duration::from_millis(300)),
        ..Setup::default()
    });
    let start = Instant::now();
    // the grandchild holds stdout open: only killing the group ends the read
    let out = r
        .run(&argv(&["sh", "-c", "echo started; sleep 30 & sleep 30"]))
        .expect("runs");
    assert!(out.timed_out);
    assert_eq!(out.code, None);
    assert_eq!(out.stdout, "started\n");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn recording_runner_records_the_expanded_argv_and_replies_as_scripted() {
    let r = RecordingRunner::new(Setup::default().with_tool_args("launchctl", &["-v"]))
        .reply(&["launchctl", "print"], Output::exited(113, "nope"));
    assert!(r.is_dry_run());
    let printed = r
        .run(&argv(&["launchctl", "print", "gui/501/x"]))
        .expect("rec");
    assert_eq!(printed.code, Some(113));
    assert_eq!(printed.stdout, "nope");
    assert!(
        r.run(&argv(&[
            "launchctl",
            "bootstrap",
            "gui/501",
            "/L/a b.plist"
        ]))
        .expect("rec")
        .success()
    );
    assert_eq!(
        r.recorded(),
        [
            argv(&["launchctl", "-v", "print", "gui/501/x"]),
            argv(&["launchctl", "-v", "bootstrap", "gui/501", "/L/a b.plist"]),
        ]
    );
    assert_eq!(
        r.transcript(),
        "launchctl -v print gui/501/x\nlaunchctl -v bootstrap gui/501 '/L/a b.plist'\n"
    );
}
