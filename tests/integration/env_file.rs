//! `environment_file` has one semantics in every backend that reads it through the shared
//! `/bin/sh` wrapper: `KEY=value` lines taken literally (nothing executed or expanded).
//! Proven by running the argv that supervisord (as supervisor's own parser reads it) and
//! launchd (as plistlib reads `ProgramArguments`) would exec, with a file holding `$`, quotes,
//! a backslash and a command substitution.

use std::path::Path;
use std::process::Command;

use openim_init::backend::supervisord::verify::{parse, python};

use crate::common::Cli;

const FILE: &str = "PLAIN=a b c\nDOLLAR=$HOME and ${PATH}\nSUBST=$(touch pwned) `touch pwned2`\nQUOTED=\"in quotes\"\nSINGLE='it''s'\nBACKSLASH=a\\b\\\\c\\n\n# comment=no\n";

/// What each variable must be in the program's environment.
const WANT: &[(&str, &str)] = &[
    ("PLAIN", "a b c"),
    ("DOLLAR", "$HOME and ${PATH}"),
    ("SUBST", "$(touch pwned) `touch pwned2`"),
    ("QUOTED", "in quotes"),
    ("SINGLE", "it''s"),
    ("BACKSLASH", "a\\b\\\\c\\n"),
];

fn manifest(dir: &Path) -> std::path::PathBuf {
    let env = dir.join("svc.env");
    std::fs::write(&env, FILE).expect("env file");
    let m = dir.join("m.toml");
    std::fs::write(
        &m,
        format!(
            "name = \"envf\"\n[services.s]\ncommand = [\"/usr/bin/env\"]\nenvironment_file = \"{}\"\n",
            env.display()
        ),
    )
    .expect("manifest");
    m
}

fn generate(backend: &str, m: &Path, out: &Path) {
    Cli::new()
        .args(["generate", "--backend", backend, "--manifest"])
        .arg(m)
        .arg("--out")
        .arg(out)
        .ok();
}

/// Run `argv` in `cwd` with an empty environment; the variables it printed.
fn run(argv: &[String], cwd: &Path) -> Vec<(String, String)> {
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .env("HOME", "/home/nobody")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{argv:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn assert_literal(backend: &str, env: &[(String, String)], cwd: &Path) {
    for (k, v) in WANT {
        let got = env
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str());
        assert_eq!(got, Some(*v), "{backend}: {k}");
    }
    assert!(!env.iter().any(|(k, _)| k == "# comment"), "{backend}");
    assert!(
        !cwd.join("pwned").exists() && !cwd.join("pwned2").exists(),
        "{backend} ran the file"
    );
}

#[test]
fn supervisord_and_launchd_read_the_file_literally() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = manifest(tmp.path());

    let out = tmp.path().join("sv");
    generate("supervisord", &m, &out);
    let py = python().expect("supervisor's python (run .ci/setup.sh)");
    let parsed = parse(&py, &out.join("envf.conf")).expect("supervisor parses");
    let p = parsed.processes.values().next().expect("one process");
    let argv: Vec<String> = serde_json::from_value(p["argv"].clone()).expect("argv");
    assert_literal("supervisord", &run(&argv, tmp.path()), tmp.path());

    let out = tmp.path().join("ld");
    generate("launchd", &m, &out);
    let jobs = crate::launchd::plists(&out);
    let job = jobs.values().next().expect("one plist");
    let argv: Vec<String> =
        serde_json::from_value(job["ProgramArguments"].clone()).expect("strings");
    assert_literal("launchd", &run(&argv, tmp.path()), tmp.path());
}
