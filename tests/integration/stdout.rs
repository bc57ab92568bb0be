//! Output to a stdout that fails: a reader that went away, a full disk, a closed descriptor.
//! Nothing may panic (exit 101), nothing may be lost without a word.

use std::process::{Command, Stdio};

use crate::common::{CLI_BIN, Cli, Run};

/// A pipe whose reading end is already closed: every write fails with EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer
}

const COMMANDS: &[&[&str]] = &[
    &["generate", "--backend", "systemd"],
    &["generate", "--backend", "launchd"],
    &["validate"],
    &["backends"],
    &["backends", "--json"],
    &["manifest", "show"],
    &["templates", "list"],
    &["--help"],
    &["--version"],
];

#[test]
fn a_closed_pipe_ends_quietly_with_141() {
    for args in COMMANDS {
        let r = Cli::new().args(*args).stdout(closed_pipe()).run();
        assert_eq!(r.code, 141, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("error:"), "{args:?}: {}", r.stderr);
    }
    // --out writes its files, then the listing meets the closed pipe
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--out"])
        .arg(dir.path())
        .stdout(closed_pipe())
        .run();
    assert_eq!(r.code, 141, "{}", r.stderr);
    assert!(dir.path().join("openim.target").is_file());
}

#[test]
fn a_full_disk_is_an_error_with_a_message() {
    for args in COMMANDS {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let r = Cli::new().args(*args).stdout(full).run();
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("error: writing to stdout: No space left on device"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
    }
}

/// Run the CLI through `sh` with its stdout closed (`>&-`).
fn with_stdout_closed(args: &[&str]) -> Run {
    Command::new("sh")
        .arg("-c")
        .arg("exec \"$@\" >&-")
        .arg("sh")
        .arg(CLI_BIN)
        .args(args)
        .stdout(Stdio::piped())
        .output()
        .expect("sh runs")
        .into()
}

#[test]
fn a_closed_stdout_is_an_error_not_lost_output() {
    for args in COMMANDS {
        let r = with_stdout_closed(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("error: stdout is closed"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // /dev/null is a choice, not a closed stdout
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let r = Cli::new().arg("validate").stdout(null).run();
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_failing_stderr_does_not_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    // warnings and the error message go to stderr: losing them must not crash the run
    let mut cmd = Command::new(CLI_BIN);
    cmd.args([
        "generate",
        "--backend",
        "launchd",
        "--manifest",
        "/nonexistent",
    ])
    .stderr(full);
    let r: Run = cmd.output().expect("runs").into();
    assert_eq!(r.code, 1);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = Command::new(CLI_BIN);
    cmd.args(["generate", "--backend", "launchd"]).stderr(full);
    let r: Run = cmd.output().expect("runs").into();
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("==== "));
}
