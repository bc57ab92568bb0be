//! Shared helpers: run the real CLI, fixture paths, insta settings.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture manifest under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Names of the fixture manifests used for snapshots (plus the built-in one).
pub const FIXTURES: &[&str] = &["minimal", "full"];

/// Insta settings that put snapshots in the top-level `snapshots/` folder.
pub fn insta_settings(subdir: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots").join(subdir));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// The openim-init binary cargo built for these tests.
pub const CLI_BIN: &str = env!("CARGO_BIN_EXE_openim-init");

/// A finished CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Builder for one `openim-init` invocation.
pub struct Cli {
    cmd: Command,
}

impl Cli {
    pub fn new() -> Self {
        let mut cmd = Command::new(CLI_BIN);
        cmd.env_remove("RUST_BACKTRACE");
        Self { cmd }
    }

    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Where the program's stdout goes (default: captured).
    pub fn stdout(mut self, to: impl Into<std::process::Stdio>) -> Self {
        self.cmd.stdout(to);
        self
    }

    /// What the program reads on stdin (default: nothing).
    pub fn stdin(mut self, from: impl Into<std::process::Stdio>) -> Self {
        self.cmd.stdin(from);
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn run(mut self) -> Run {
        self.cmd.output().expect("openim-init runs").into()
    }

    /// Run and insist on exit code 0.
    pub fn ok(self) -> Run {
        let r = self.run();
        assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
        r
    }
}

/// Render `fixture` (None = built-in) for `backend` into a fresh temp dir; returns it.
pub fn generate_into(backend: &str, manifest: Option<&Path>, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cli = Cli::new()
        .args(["generate", "--backend", backend, "--out"])
        .arg(dir.path());
    if let Some(m) = manifest {
        cli = cli.arg("--manifest").arg(m);
    }
    cli.args(extra).ok();
    dir
}

/// True when running in CI (`CI=true`): missing tools are failures there, skips elsewhere.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip (outside CI) or fail (in CI) when a requirement is missing. Returns true to proceed.
pub fn require(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    assert!(!in_ci(), "required in CI: {why}");
    eprintln!("skipped: {why}");
    false
}

/// A tool that a test uses when present (e.g. an extra shell to prove quoting under): its
/// path; when it is missing, a note outside CI (the test runs without it) and a failure in
/// CI, where `.ci/setup.sh` installs it.
pub fn optional_tool(tool: &str, what: &str) -> Option<std::path::PathBuf> {
    let found = which::which(tool).ok();
    if found.is_none() {
        assert!(
            !in_ci(),
            "required in CI: `{tool}` ({what}; .ci/setup.sh installs it)"
        );
        eprintln!("note: `{tool}` is missing ({what}): this test runs without it");
    }
    found
}

/// Whether we run as root.
pub fn is_root() -> bool {
    // SAFETY-free: read our effective uid from /proc
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
