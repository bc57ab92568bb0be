//! OpenRC (no OpenRC boot here: its state would touch the host): each generated script is
//! sourced by `sh` the way openrc-run does, then `start_pre` runs (the `pre_start` commands
//! exec the probe) and OpenRC's real `supervise_start` (from /lib/rc/sh/supervise-daemon.sh)
//! `eval`s `command`, `command_args` and `supervise_daemon_args`. A stand-in
//! `supervise-daemon` records the argv it got; the round trip then execs its command and
//! arguments with its `--env` variables, as supervise-daemon does. With `restart = "never"`
//! that command is the backend's `/bin/sh` guard, which really runs and execs the probe.
//!
//! `pre_start` commands run before supervise-daemon sets the service's environment (a
//! documented limitation): they must get the environment of the script, not the manifest's.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::cases::Case;
use super::driver::run;
use super::{Batch, Exec, Outcome, RoundTrip, exec};
use crate::common::{in_ci, optional_tool};
use crate::harness::{run_timeout, set_mode};

/// OpenRC's start function for supervise-daemon services (package openrc).
const LIB: &str = "/lib/rc/sh/supervise-daemon.sh";

/// Stubs for the openrc-run helpers the scripts call, then the script, then the start.
const START: &str = r#"ebegin() { :; }; eend() { return "${1:-0}"; }; einfo() { :; }
ewarn() { echo "$*" >&2; }; eerror() { echo "$*" >&2; }
checkpath() { :; }; service_set_value() { :; }; service_get_value() { echo 0; }
. "$1" || exit 9
. "$0" || exit 9
if command -v start_pre >/dev/null; then start_pre || exit 8; fi
supervise_start"#;

/// Stands in for supervise-daemon: writes its argv, NUL-terminated, next to the state.
const FAKE: &str =
    "#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done > \"$RC_SVCDIR/argv.$RC_SVCNAME\"\n";

/// Files in the directory the scripts run in, for a glob that should not happen to match.
const GLOB_BAIT: &[&str] = &[
    "a", "b", "x.rs", "'a'", "'x'", "'", "''", "'-'", "\"a\"", "'a", "a'",
];

/// The shells `/bin/sh` is where OpenRC runs: dash (Debian), busybox ash (Alpine), bash in
/// POSIX mode (Gentoo). Each is required in CI; elsewhere those found here, `/bin/sh` when
/// none is.
const SHELLS: &[(&str, &[&str], &str)] = &[
    ("dash", &[], "Debian's /bin/sh"),
    ("busybox", &["sh"], "busybox ash, Alpine's /bin/sh"),
    ("bash", &["--posix"], "Gentoo's /bin/sh"),
];

/// Each case runs under one of [`SHELLS`] ([`Case::variant`]).
struct OpenRc {
    shells: Vec<Vec<String>>,
    runs: RefCell<BTreeMap<String, usize>>,
}

impl OpenRc {
    fn new() -> Self {
        let mut shells: Vec<Vec<String>> = SHELLS
            .iter()
            .filter_map(|(tool, args, what)| {
                let path = optional_tool(tool, what)?;
                let mut shell = vec![path.display().to_string()];
                shell.extend(args.iter().map(|a| (*a).to_owned()));
                Some(shell)
            })
            .collect();
        if shells.is_empty() {
            shells.push(vec!["/bin/sh".to_owned()]);
        }
        Self {
            shells,
            runs: RefCell::default(),
        }
    }

    fn shell(&self, case: &Case) -> &[String] {
        &self.shells[usize::from(case.variant) % self.shells.len()]
    }
}

/// What supervise-daemon execs: argv and the `--env` variables.
type Launch = (Vec<String>, Vec<(String, String)>);

/// The command and its environment from supervise-daemon's argv (`NAME --start [--opt
/// value]… COMMAND -- ARGS…`).
fn launch(words: &[String]) -> Result<Launch, String> {
    // the sandbox's one option without a value, before `--`
    let end = words.iter().position(|w| w == "--").unwrap_or(words.len());
    let words: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| *i > end || *w != "--no-new-privs")
        .map(|(_, w)| w.clone())
        .collect();
    let dashdash = words
        .iter()
        .position(|w| w == "--")
        .ok_or_else(|| format!("no -- in {words:?}"))?;
    if words.get(1).map(String::as_str) != Some("--start") || dashdash < 3 || dashdash % 2 == 0 {
        return Err(format!(
            "not NAME --start [--opt value]… COMMAND --: {words:?}"
        ));
    }
    let mut env = Vec::new();
    for pair in words[2..dashdash - 1].chunks(2) {
        if pair[0] == "--env" {
            let (k, v) = pair[1]
                .split_once('=')
                .ok_or_else(|| format!("--env {:?} is not KEY=value", pair[1]))?;
            env.push((k.to_owned(), v.to_owned()));
        }
    }
    let mut argv = vec![words[dashdash - 1].clone()];
    argv.extend(words[dashdash + 1..].iter().cloned());
    Ok((argv, env))
}

/// Source script `i` with `shell` and start it; then exec what supervise-daemon would.
fn start(shell: &[String], batch: &Batch<'_>, out: &Path, rc: &Path, i: usize) -> Outcome {
    let name = Batch::service(i);
    std::fs::create_dir_all(rc.join("options").join(&name)).map_err(|e| e.to_string())?;
    std::fs::write(rc.join("options").join(&name).join("start_count"), "0")
        .map_err(|e| e.to_string())?;
    let script = out.join("init.d").join(&name);
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", rc.join("bin").display());
    let mut cmd = Command::new(&shell[0]);
    cmd.args(&shell[1..])
        .args(["-c", START])
        .arg(&script)
        .arg(LIB)
        .env_clear()
        .env("PATH", path)
        .env("RC_SVCNAME", &name)
        .env("RC_SVCDIR", rc)
        .env("PROBE_RECORD", batch.record(i))
        .env("PROBE_EXIT", "0")
        .current_dir(rc.join("cwd"));
    let r = run_timeout(&mut cmd, std::time::Duration::from_secs(20));
    if r.code != 0 || !r.stderr.is_empty() {
        return Err(format!(
            "sourcing and starting {name} with {shell:?} exited with {}: {}{}",
            r.code, r.stdout, r.stderr
        ));
    }
    let raw = std::fs::read(rc.join(format!("argv.{name}"))).map_err(|e| e.to_string())?;
    let words: Vec<String> = String::from_utf8(raw)
        .map_err(|e| e.to_string())?
        .split_terminator('\0')
        .map(str::to_owned)
        .collect();
    let (argv, env) = launch(&words)?;
    exec(&argv, &env, &batch.dir)?;
    Ok(batch.observed(i))
}

impl RoundTrip for OpenRc {
    fn name(&self) -> &'static str {
        "openrc"
    }

    fn unavailable(&self) -> Option<String> {
        (!Path::new(LIB).is_file()).then(|| format!("{LIB} is missing (apt package openrc)"))
    }

    fn batch_size(&self) -> usize {
        250
    }

    fn added_env(&self, key: &str) -> bool {
        // the script's own environment (pre_start), and what the shells export: PWD, and
        // bash's SHLVL and `_`
        matches!(
            key,
            "PATH" | "PWD" | "RC_SVCNAME" | "RC_SVCDIR" | "SHLVL" | "_"
        )
    }

    fn expected(&self, batch: &Batch<'_>, i: usize) -> Vec<Exec> {
        let mut want = batch.expected(i);
        let probe_only: BTreeMap<String, String> = want
            .last()
            .map(|e| e.env.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k.starts_with("PROBE_"))
            .collect();
        let pre = want.len() - 1;
        for e in &mut want[..pre] {
            e.env.clone_from(&probe_only);
        }
        want
    }

    fn stats(&self) -> String {
        let runs: Vec<String> = self
            .runs
            .borrow()
            .iter()
            .map(|(shell, n)| format!("{n} under {shell}"))
            .collect();
        format!("; {}", runs.join(", "))
    }

    fn describe(&self, case: &Case) -> String {
        format!(
            "(sourced and started with {})\n",
            self.shell(case).join(" ")
        )
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let out = batch.generate("openrc", &[])?;
        let rc = batch.dir.join("rc");
        std::fs::create_dir_all(rc.join("bin")).map_err(|e| e.to_string())?;
        let fake = rc.join("bin/supervise-daemon");
        std::fs::write(&fake, FAKE).map_err(|e| e.to_string())?;
        set_mode(&fake, 0o755);
        // an unquoted expansion that globs would match these (quoted words are patterns
        // like `'*'`, which match `'a'`)
        std::fs::create_dir_all(rc.join("cwd")).map_err(|e| e.to_string())?;
        for bait in GLOB_BAIT {
            std::fs::write(rc.join("cwd").join(bait), "").map_err(|e| e.to_string())?;
        }
        Ok((0..batch.cases.len())
            .map(|i| {
                let shell = self.shell(&batch.cases[i]);
                *self.runs.borrow_mut().entry(shell.join(" ")).or_default() += 1;
                start(shell, batch, &out, &rc, i)
            })
            .collect())
    }
}

#[test]
fn openrc_execs_exactly_the_manifest() {
    let rt = OpenRc::new();
    run(&rt);
    // in CI every shell must have run cases: with 60 cases or more, a shell left out by
    // chance ((2/3)^60) is not a thing
    let runs = rt.runs.borrow();
    if in_ci() && runs.values().sum::<usize>() >= 60 {
        for shell in &rt.shells {
            let shell = shell.join(" ");
            assert!(
                runs.get(&shell).is_some_and(|&n| n > 0),
                "no case ran under {shell}: {runs:?}"
            );
        }
    }
}
