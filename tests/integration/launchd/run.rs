//! The jobs run for real the way launchd would start them (`ProgramArguments` exec'd with
//! `EnvironmentVariables`, launchd's default PATH and WorkingDirectory): a checker program
//! records the argv and environment it receives, so the `/bin/sh -c … exec "$@"` wrapper is
//! proven to pass hostile strings through byte for byte, and its gates, `pre_start` commands and
//! environment file behave as documented.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{have, plists};
use crate::common::{Cli, optional_tool, require};

/// Strings every syntax trips over; none may change on the way to the program.
const HOSTILE: &[&str] = &[
    "it's \"q\"",
    "<tag>",
    "a & b",
    "]]>",
    "<![CDATA[x]]>",
    "&amp;",
    "100%",
    "%n %s",
    "$HOME",
    "${PATH}",
    "$(id)",
    "`id`",
    "back\\slash",
    "\\",
    "ünïcødé 日本 🦀",
    "",
    "-",
    "--",
    "-leading",
    " spaced ",
    "tab\there",
    ";",
    "a;b",
    "*",
    "~",
    "'",
    "\"",
    "#",
    "!",
    "{}",
    "x=y",
    "exec \"$@\"",
];

/// The checker's environment as the kernel handed it over (Python adds `LC_CTYPE` to os.environ
/// when it coerces a C locale).
const ENV: &str = "try:\n    raw = open('/proc/self/environ', 'rb').read().split(b'\\0')\n    env = dict(e.decode().split('=', 1) for e in raw if e)\nexcept OSError:\n    env = dict(os.environ)";

/// launchd's default PATH for jobs.
const LAUNCHD_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";

struct Lab {
    dir: tempfile::TempDir,
    checker: String,
}

impl Lab {
    /// A temp dir with `checker`: a python script appending {argv, env} as a JSON line to `dump`.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3");
        let exe = String::from_utf8(exe.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        let checker = dir.path().join("checker");
        let dump = dir.path().join("dump");
        std::fs::write(
            &checker,
            format!(
                "#!{exe}\nimport json, os, sys\n{ENV}\nwith open({:?}, 'a') as f:\n    f.write(json.dumps({{'argv': sys.argv, 'env': env}}) + '\\n')\n",
                dump.display().to_string()
            ),
        )
        .expect("write checker");
        std::fs::set_permissions(&checker, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Self {
            checker: checker.display().to_string(),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Generate the launchd plists of `manifest` (JSON written as TOML); returns the parsed
    /// jobs by file name and the generator's stderr.
    fn generate(&self, manifest: &Value) -> (std::collections::BTreeMap<String, Value>, String) {
        let path = self.path("stack.toml");
        std::fs::write(&path, toml::to_string(manifest).expect("toml")).expect("write manifest");
        let out = self.path("out");
        let r = Cli::new()
            .args(["generate", "--backend", "launchd", "--force", "--manifest"])
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .ok();
        (plists(&out), r.stderr)
    }

    /// The checker's records since the last call.
    fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.path("dump")).unwrap_or_default();
        let _ = std::fs::remove_file(self.path("dump"));
        text.lines()
            .map(|l| serde_json::from_str(l).expect("json record"))
            .collect()
    }
}

/// Start a job the way launchd does.
fn launch(job: &Value) -> Output {
    launch_with(job, None)
}

/// Start a job, optionally with another shell in place of the wrapper's `/bin/sh`.
fn launch_with(job: &Value, shell: Option<&PathBuf>) -> Output {
    let mut pa: Vec<String> =
        serde_json::from_value(job["ProgramArguments"].clone()).expect("argv");
    if let Some(sh) = shell {
        assert_eq!(pa[0], "/bin/sh");
        pa[0] = sh.display().to_string();
    }
    let mut cmd = Command::new(&pa[0]);
    cmd.args(&pa[1..]).env_clear().env("PATH", LAUNCHD_PATH);
    if let Some(env) = job["EnvironmentVariables"].as_object() {
        for (k, v) in env {
            cmd.env(k, v.as_str().expect("string value"));
        }
    }
    cmd.current_dir(job["WorkingDirectory"].as_str().unwrap_or("/"));
    cmd.output().expect("job starts")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn hostile_argv_and_environment_reach_the_program_exactly() {
    if !require(have("python3"), "python3 (plistlib) is needed") {
        return;
    }
    let lab = Lab::new();
    let env_file = lab.path("app.env");
    std::fs::write(
        &env_file,
        "# comment\n; comment too\n\nPLAIN=plain value\nDQ=\"double $HOME `id`\"\nSQ='single $(id)'\nEQ=a=b=c\n   INDENT=yes\nOVR=from file\nLAST=no newline",
    )
    .expect("env file");
    let from_file = [
        ("PLAIN", "plain value"),
        ("DQ", "double $HOME `id`"),
        ("SQ", "single $(id)"),
        ("EQ", "a=b=c"),
        ("INDENT", "yes"),
        ("OVR", "from file"),
        ("LAST", "no newline"),
    ];
    let mut env = serde_json::Map::new();
    for (i, h) in HOSTILE.iter().enumerate() {
        env.insert(format!("H{i}"), json!(h));
    }
    // the wrapper's own shell variables must not clobber these
    for k in ["i", "k", "l", "v", "f"] {
        env.insert(k.to_owned(), json!(format!("keep {k}")));
    }
    env.insert("OVR".into(), json!("from plist"));
    let mut h_env = env.clone();
    h_env.insert("INST".into(), json!("{instance}/x"));
    let mut command = vec![lab.checker.clone()];
    command.extend(strings(HOSTILE));
    let mut h_cmd = command.clone();
    h_cmd.push("inst={instance}".into());
    let mut pre = vec![lab.checker.clone(), "pre".into()];
    pre.extend(strings(HOSTILE));
    pre.push("{instance}".into());
    let manifest = json!({
        "name": "hostile",
        "external": { "ok": { "check": { "exec": ["/bin/true"] }, "wait_timeout": "5s" } },
        "services": {
            "dep": { "command": ["/bin/sleep", "1"], "health": { "exec": ["/bin/true"] } },
            "h": {
                "command": h_cmd, "instances": ["a-1", "b_2"], "environment": h_env,
                "environment_file": env_file, "requires": ["ok", "dep"], "pre_start": [pre],
                "working_dir": lab.dir.path(),
            },
            "plain": { "command": command, "environment": env },
        },
    });
    let (jobs, _) = lab.generate(&manifest);

    let plain = &jobs["io.hostile.plain.plist"];
    assert_eq!(
        plain["ProgramArguments"],
        json!(command),
        "no wrapper, argv verbatim"
    );
    assert_eq!(plain["EnvironmentVariables"], Value::Object(env.clone()));
    let out = launch(plain);
    assert!(out.status.success(), "{out:?}");
    let rec = lab.records();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0]["argv"], json!(command));

    // macOS' /bin/sh is bash in POSIX mode (bash started as `sh`); Debian's is dash
    let mut shells = vec![None];
    if let Some(bash) = optional_tool("bash", "macOS' /bin/sh is bash in POSIX mode") {
        let sh = lab.path("sh");
        std::os::unix::fs::symlink(bash, &sh).expect("symlink");
        shells.push(Some(sh));
    }
    for (inst, shell) in ["a-1", "b_2"]
        .into_iter()
        .flat_map(|i| shells.iter().map(move |s| (i, s.as_ref())))
    {
        let inst_shell = format!("{inst} {shell:?}");
        let job = &jobs[&format!("io.hostile.h.{inst}.plist")];
        let mut want_env = h_env.clone();
        want_env.insert("INST".into(), json!(format!("{inst}/x")));
        assert_eq!(
            job["EnvironmentVariables"],
            Value::Object(want_env.clone()),
            "{inst}"
        );
        let pa = job["ProgramArguments"].as_array().expect("array");
        assert_eq!(pa[..2], [json!("/bin/sh"), json!("-c")], "{inst}: wrapped");

        let out = launch_with(job, shell);
        assert!(out.status.success(), "{inst_shell}: {out:?}");
        let rec = lab.records();
        assert_eq!(
            rec.len(),
            2,
            "{inst_shell}: pre_start then the program: {rec:?}"
        );
        let mut want_pre = pre.clone();
        *want_pre.last_mut().expect("nonempty") = inst.to_owned();
        assert_eq!(
            rec[0]["argv"],
            json!(want_pre),
            "{inst_shell}: pre_start argv"
        );
        let mut want_argv = command.clone();
        want_argv.push(format!("inst={inst}"));
        assert_eq!(
            rec[1]["argv"],
            json!(want_argv),
            "{inst_shell}: program argv"
        );

        for (k, v) in from_file {
            want_env.insert(k.to_owned(), json!(v));
        }
        want_env.insert("PATH".into(), json!(LAUNCHD_PATH));
        let got = rec[1]["env"].as_object().expect("env");
        for (k, v) in &want_env {
            assert_eq!(got.get(k), Some(v), "{inst_shell}: env {k}");
        }
        let extra: Vec<&String> = got
            .keys()
            .filter(|k| !want_env.contains_key(*k) && !["PWD", "SHLVL"].contains(&k.as_str()))
            .collect();
        assert!(
            extra.is_empty(),
            "{inst_shell}: unexpected variables {extra:?}"
        );
        assert_eq!(
            rec[0]["env"]["PLAIN"],
            json!("plain value"),
            "pre_start sees the file"
        );
    }
}

#[test]
fn gates_pre_start_and_environment_file_fail_or_pass_as_documented() {
    if !require(have("python3"), "python3 (plistlib) is needed") {
        return;
    }
    let lab = Lab::new();
    let c = &lab.checker;
    let manifest = json!({
        "name": "gates",
        "external": { "down": { "check": { "exec": ["/bin/false"] }, "wait_timeout": "1s" } },
        "services": {
            "hard": { "command": [c, "hard"], "requires": ["down"] },
            "soft": { "command": [c, "soft"], "wants": ["down"] },
            "prefail": { "command": [c, "prefail"], "pre_start": [["/bin/false"]] },
            "noenv": { "command": [c, "noenv"], "environment_file": "/nonexistent/openim-init.env" },
            "lonely": { "command": [c, "lonely"], "requires": ["soft"] },
        },
    });
    let (jobs, stderr) = lab.generate(&manifest);
    let not_ready = "external down (exec /bin/false) not ready after 1s";

    let out = launch(&jobs["io.gates.hard.plist"]);
    assert!(!out.status.success(), "requires: the start fails");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(not_ready),
        "{out:?}"
    );
    assert!(lab.records().is_empty(), "the program must not run");

    let out = launch(&jobs["io.gates.soft.plist"]);
    assert!(out.status.success(), "wants: starts anyway: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(not_ready),
        "{out:?}"
    );
    assert_eq!(lab.records()[0]["argv"], json!([c, "soft"]));

    for name in ["prefail", "noenv"] {
        let out = launch(&jobs[&format!("io.gates.{name}.plist")]);
        assert!(!out.status.success(), "{name}: the start fails");
        assert!(lab.records().is_empty(), "{name}: the program must not run");
    }

    assert!(
        stderr.contains(
            "not waitable: `soft` has no health check: its dependents start without waiting for it (lonely)"
        ),
        "{stderr}"
    );
    assert_eq!(
        jobs["io.gates.lonely.plist"]["ProgramArguments"],
        json!([c, "lonely"])
    );
}

/// macOS has no timeout(1): the shim must stand in for it with perl, and the gate must work.
#[test]
fn timeout_shim_works_without_timeout_1() {
    if !require(have("perl"), "perl is needed for the timeout shim") {
        return;
    }
    let bin = tempfile::tempdir().expect("tempdir");
    for tool in ["sh", "perl", "sleep", "true", "false"] {
        let real = which::which(tool).expect("tool present");
        std::os::unix::fs::symlink(real, bin.path().join(tool)).expect("symlink");
    }
    let check = |exe: &str| openim_init::model::Check::Exec {
        argv: vec![exe.to_owned()],
    };
    let gate = |exe: &str| {
        openim_init::backend::shared::gate::wait_script(
            "x",
            &check(exe),
            openim_init::manifest::Duration::from_secs(1),
        )
    };
    let script = format!(
        "{}\ncommand -v timeout\ntimeout 1 sleep 5; echo \"rc=$?\"\ntimeout 5 true; echo \"rc=$?\"\n( {} ) && echo up\n( {} ) || echo down",
        openim_init::backend::launchd::TIMEOUT_SHIM,
        gate("/bin/true"),
        gate("/bin/false"),
    );
    let start = Instant::now();
    let out = Command::new("/bin/sh")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", bin.path())
        .output()
        .expect("sh runs");
    let elapsed = start.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "timeout", "the function, not a binary: {text}");
    assert!(
        lines[1] != "rc=0" && lines[1].starts_with("rc="),
        "killed: {text}"
    );
    assert_eq!(lines[2..], ["rc=0", "up", "down"], "{text}");
    assert!(
        elapsed < Duration::from_secs(4),
        "the alarm fired: {elapsed:?}"
    );
}
