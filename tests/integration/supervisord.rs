//! supervisord: supervisor's own parser must read back exactly the manifest's argv and
//! environment for every process of every fixture (conf.d include and --standalone); the
//! hostile manifest's commands run for real; `verify`. Runs under a real supervisord are in
//! `e2e_supervisord`.

mod cases;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use openim_init::backend::shared::wrapper::{EXPORTS_END, SHELL as WRAPPER_SHELL};
use openim_init::backend::supervisord::verify::{Parsed, parse, python};
use openim_init::model::{Model, Service, substitute};
use serde_json::Value;

use crate::common::{Cli, fixture, generate_into, require};

/// Every fixture the exactness check runs on (`openim` is the built-in manifest).
const ALL: &[&str] = &["minimal", "full", "supervisord-hostile", "openim"];

fn sv_python() -> Option<PathBuf> {
    let p = python();
    require(
        p.is_ok(),
        "Python with supervisor (the venv at /opt/openim-init-venv)",
    )
    .then(|| p.expect("checked"))
}

fn manifest(name: &str) -> Option<PathBuf> {
    (name != "openim").then(|| fixture(&format!("{name}.toml")))
}

fn model(name: &str) -> Model {
    match manifest(name) {
        None => Model::builtin(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).expect("fixture readable");
            Model::from_toml(name, &text).expect("fixture valid")
        }
    }
}

/// Generate `name` and parse it with supervisor; returns the model, the parse, the file.
fn generated(py: &Path, name: &str, standalone: bool) -> (Model, Parsed, tempfile::TempDir) {
    let m = model(name);
    let extra: &[&str] = if standalone { &["--standalone"] } else { &[] };
    let dir = generate_into("supervisord", manifest(name).as_deref(), extra);
    let file = if standalone {
        "supervisord.conf".to_owned()
    } else {
        format!("{}.conf", m.name)
    };
    let parsed = parse(py, &dir.path().join(file)).expect("the helper runs");
    assert!(parsed.errors.is_empty(), "{name}: {:?}", parsed.errors);
    assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
    (m, parsed, dir)
}

/// Every process the model expects: (process name, service, instance).
fn expected(m: &Model) -> Vec<(String, &Service, Option<String>)> {
    let mut out = Vec::new();
    for svc in &m.services {
        match &svc.instances {
            None => out.push((svc.name.to_string(), svc, None)),
            Some(list) => {
                for i in list {
                    out.push((format!("{}_{i}", svc.name), svc, Some(i.clone())));
                }
            }
        }
    }
    out
}

/// A parsed process split into (wrapper script, exported `KEY=value`s, program argv).
struct Launch {
    script: Option<String>,
    exports: Vec<(String, String)>,
    argv: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// Undo the `/bin/sh -c SCRIPT NAME [KEY=value… --] ARGV…` wrapper, when there is one.
fn unwrap(svc: &Service, inst: Option<&str>, argv: Vec<String>) -> Launch {
    if argv == svc.argv_for(inst) {
        return Launch {
            script: None,
            exports: Vec::new(),
            argv,
        };
    }
    assert_eq!(argv[..2], [WRAPPER_SHELL, "-c"], "{argv:?}");
    assert_eq!(*argv[3], *svc.name, "$0 of the wrapper");
    let script = argv[2].clone();
    assert!(script.ends_with("; exec \"$@\""), "{script}");
    let mut rest = argv[4..].to_vec();
    let mut exports = Vec::new();
    if script.contains("export \"$1\"") {
        let end = rest
            .iter()
            .position(|a| a == EXPORTS_END)
            .expect("-- after the exports");
        for kv in rest.drain(..=end).take(end) {
            let (k, v) = kv.split_once('=').expect("KEY=value");
            exports.push((k.to_owned(), v.to_owned()));
        }
    }
    Launch {
        script: Some(script),
        exports,
        argv: rest,
    }
}

fn want_env(svc: &Service, inst: Option<&str>) -> BTreeMap<String, String> {
    svc.environment
        .iter()
        .map(|(k, v)| (k.to_owned(), substitute(v, inst)))
        .collect()
}

/// The exactness check: every process once, with the manifest's argv and environment.
fn check_exact(name: &str, standalone: bool, py: &Path) -> usize {
    let (m, parsed, _dir) = generated(py, name, standalone);
    let want = expected(&m);
    assert_eq!(
        parsed.processes.len(),
        want.len(),
        "{name}: {:?}",
        parsed.processes.keys()
    );
    for (proc_name, svc, inst) in &want {
        let inst = inst.as_deref();
        let hits: Vec<&Value> = parsed
            .processes
            .iter()
            .filter(|(k, _)| k.rsplit(':').next() == Some(proc_name.as_str()))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(hits.len(), 1, "{name}: process {proc_name} exactly once");
        let p = hits[0];
        let launch = unwrap(svc, inst, strings(&p["argv"]));
        assert_eq!(
            launch.argv,
            svc.argv_for(inst),
            "{name}: argv of {proc_name}"
        );
        let mut env: BTreeMap<String, String> = p["environment"]
            .as_object()
            .expect("environment")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
            .collect();
        for (k, v) in launch.exports {
            assert!(env.insert(k.clone(), v).is_none(), "{name}: {k} set twice");
        }
        assert_eq!(
            env,
            want_env(svc, inst),
            "{name}: environment of {proc_name}"
        );
    }
    want.len()
}

#[test]
fn every_process_gets_exactly_the_manifest_argv_and_environment() {
    let Some(py) = sv_python() else { return };
    for name in ALL {
        for standalone in [false, true] {
            let n = check_exact(name, standalone, &py);
            assert!(n > 0);
        }
    }
}

/// Run `argv` as supervisord would (clean environment plus the program's), return stdout.
fn exec(argv: &[String], env: &Value) -> Vec<u8> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env_clear().current_dir("/");
    for (k, v) in env.as_object().expect("environment") {
        cmd.env(k, v.as_str().expect("string"));
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{argv:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn nul_joined(words: &[String]) -> Vec<u8> {
    words.iter().flat_map(|w| w.bytes().chain([0])).collect()
}

/// The hostile commands are `printf '%s\0' WORDS…` (and so are their `pre_start` commands):
/// run what supervisor parsed, wrapper and all, and compare the bytes; then run the wrapper
/// with `env -0` as the program to see the environment the program would get.
#[test]
fn hostile_commands_run_for_real_with_exact_words_and_environment() {
    let Some(py) = sv_python() else { return };
    let env_dir = Path::new("/tmp/hostile env;x");
    std::fs::create_dir_all(env_dir).expect("env file dir");
    std::fs::write(
        env_dir.join("it's.env"),
        "FROM_FILE='file value'\nPLAIN=from-file\n",
    )
    .expect("env file");
    let (m, parsed, _dir) = generated(&py, "supervisord-hostile", false);
    for (proc_name, svc, inst) in expected(&m) {
        let inst = inst.as_deref();
        let (_, p) = parsed
            .processes
            .iter()
            .find(|(k, _)| k.ends_with(&format!(":{proc_name}")))
            .expect("process parsed");
        let argv = strings(&p["argv"]);
        let pre: Vec<u8> = svc
            .pre_start
            .iter()
            .filter(|a| a.first() == Some("/usr/bin/printf"))
            .flat_map(|a| {
                nul_joined(
                    &a.iter()
                        .skip(2)
                        .map(|w| substitute(w, inst))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mut want = pre.clone();
        want.extend(nul_joined(&svc.argv_for(inst)[2..]));
        assert_eq!(
            exec(&argv, &p["environment"]),
            want,
            "{proc_name}: printed words"
        );

        let launch = unwrap(svc, inst, argv.clone());
        if launch.script.is_none() {
            continue; // no wrapper: the environment is what supervisor parsed, checked above
        }
        let keep = argv.len() - launch.argv.len();
        let mut probe = argv[..keep].to_vec();
        probe.extend(["/usr/bin/env".to_owned(), "-0".to_owned()]);
        let out = exec(&probe, &p["environment"]);
        let rest = out
            .strip_prefix(pre.as_slice())
            .expect("pre_start output first");
        let mut got: BTreeMap<String, String> = rest
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| {
                let e = String::from_utf8(e.to_vec()).expect("utf-8");
                let (k, v) = e.split_once('=').expect("KEY=value");
                (k.to_owned(), v.to_owned())
            })
            .collect();
        got.remove("PWD"); // dash exports it
        let mut want_env = want_env(svc, inst);
        if svc.environment_file.is_some() {
            want_env.insert("FROM_FILE".into(), "file value".into());
            want_env.insert("PLAIN".into(), "from-file".into()); // the file wins, as in systemd
        }
        assert_eq!(got, want_env, "{proc_name}: environment the program gets");
    }
    std::fs::remove_dir_all(env_dir).expect("cleanup");
}

#[test]
fn verify_passes_every_fixture_in_both_layouts() {
    let Some(_) = sv_python() else { return };
    for name in ALL {
        for extra in [None, Some("--standalone")] {
            let mut cli = Cli::new().args(["verify", "--backend", "supervisord"]);
            if let Some(m) = manifest(name) {
                cli = cli.arg("--manifest").arg(m);
            }
            let r = cli.args(extra).ok();
            assert!(
                r.stdout.contains("ok: 1 artifact(s) passed"),
                "{name}: {}",
                r.stdout
            );
            assert!(r.stdout.contains("supervisor parsed"), "{}", r.stdout);
        }
    }
}

/// A template override that breaks the file: verify must report it and exit 4.
#[test]
fn verify_reports_what_supervisor_rejects_or_ignores() {
    let Some(_) = sv_python() else { return };
    let cases = [
        ("restart_sec=5\n", "unknown key 'restart_sec'"),
        ("numprocs=2\n", "process_name"),
        ("command=/bin/x 'unclosed\n", "can't parse command"),
    ];
    for (line, finding) in cases {
        let tpl = tempfile::tempdir().expect("tempdir");
        let path = tpl.path().join("supervisord/program.tera");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let base = openim_init::backend::embedded_templates()
            .into_iter()
            .find(|(n, _)| *n == "supervisord/program.tera")
            .expect("embedded")
            .1;
        std::fs::write(&path, format!("{base}{line}")).expect("override");
        let r = Cli::new()
            .args(["verify", "--backend", "supervisord", "--templates"])
            .arg(tpl.path())
            .arg("--manifest")
            .arg(fixture("minimal.toml"))
            .run();
        assert_eq!(r.code, 4, "{line}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains(finding), "{line}: {}", r.stdout);
    }
}
