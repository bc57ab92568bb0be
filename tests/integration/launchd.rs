//! launchd: every generated plist parses with plistlib and passes the embedded lint, its keys
//! say exactly what the manifest says, `verify` catches broken files, and (in `run`) the
//! `/bin/sh -c` wrapper really executes the exact argv with the exact environment.

mod run;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use openim_init::backend::{self, BackendKind, Flags};
use openim_init::manifest::RestartPolicy;
use openim_init::model::{Logs, Model, substitute};
use openim_init::output;
use serde_json::{Value, json};

use crate::common::{Cli, fixture, generate_into, require};

/// Whether `tool` is on PATH.
pub fn have(tool: &str) -> bool {
    which::which(tool).is_ok()
}

/// Every `*.plist` in `dir`, read by python3's plistlib, as JSON (file name → dict).
pub fn plists(dir: &Path) -> BTreeMap<String, Value> {
    const READ: &str = "import json, os, plistlib, sys\nout = {}\nfor n in sorted(os.listdir(sys.argv[1])):\n    if n.endswith('.plist'):\n        with open(os.path.join(sys.argv[1], n), 'rb') as f: out[n] = plistlib.load(f)\nprint(json.dumps(out))";
    let out = Command::new("python3")
        .args(["-c", READ])
        .arg(dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "plistlib: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json from python")
}

fn model(name: &str) -> Model {
    if name == "openim" {
        return Model::builtin();
    }
    let text = std::fs::read_to_string(fixture(&format!("{name}.toml"))).expect("fixture");
    Model::from_toml(name, &text).expect("fixture valid")
}

fn manifest_arg(name: &str) -> Option<std::path::PathBuf> {
    (name != "openim").then(|| fixture(&format!("{name}.toml")))
}

#[test]
fn every_plist_of_every_fixture_passes_plistlib_and_the_lint() {
    if !require(have("python3"), "python3 (plistlib) is needed") {
        return;
    }
    for (name, count) in [("minimal", 1), ("full", 7), ("openim", 15)] {
        let dir = generate_into("launchd", manifest_arg(name).as_deref(), &[]);
        let files: Vec<_> = plists(dir.path()).into_keys().collect();
        assert_eq!(files.len(), count, "{name}: {files:?}");
        let out = Command::new("python3")
            .arg("-c")
            .arg(openim_init::backend::launchd::verify::LINT)
            .args(files.iter().map(|f| dir.path().join(f)))
            .output()
            .expect("lint runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {text}");
        assert_eq!(
            text.lines().filter(|l| l.ends_with(": OK")).count(),
            count,
            "{text}"
        );
        let mut cli = Cli::new().args(["verify", "--backend", "launchd"]);
        if let Some(m) = manifest_arg(name) {
            cli = cli.arg("--manifest").arg(m);
        }
        let r = cli.ok();
        assert!(
            r.stdout.contains("ran: python3 launchd-lint.py"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.contains(&format!("ok: {count} artifact(s)")),
            "{}",
            r.stdout
        );
    }
}

/// Every key of every job against the model it came from.
#[test]
fn plist_keys_say_exactly_what_the_manifest_says() {
    if !require(have("python3"), "python3 (plistlib) is needed") {
        return;
    }
    for name in ["minimal", "full", "openim"] {
        let m = model(name);
        let dir = generate_into("launchd", manifest_arg(name).as_deref(), &[]);
        let mut jobs = plists(dir.path());
        for svc in &m.services {
            let instances: Vec<Option<&str>> = match &svc.instances {
                None => vec![None],
                Some(v) => v.iter().map(|i| Some(i.as_str())).collect(),
            };
            for inst in instances {
                let label = match inst {
                    None => format!("io.{}.{}", m.name, svc.name),
                    Some(i) => format!("io.{}.{}.{i}", m.name, svc.name),
                };
                let job = jobs
                    .remove(&format!("{label}.plist"))
                    .unwrap_or_else(|| panic!("{label}.plist missing"));
                assert_eq!(job["Label"], json!(label));
                assert_eq!(job["RunAtLoad"], json!(true));
                let argv = svc.argv_for(inst);
                let pa: Vec<String> =
                    serde_json::from_value(job["ProgramArguments"].clone()).expect("strings");
                let wrapped = pa.len() >= 4 && pa[..2] == ["/bin/sh", "-c"] && *pa[3] == *svc.name;
                if wrapped {
                    assert!(pa[2].ends_with("; exec \"$@\""), "{label}: {}", pa[2]);
                    assert_eq!(pa[4..], argv[..], "{label}");
                } else {
                    assert_eq!(pa, argv, "{label}");
                }
                let needs_wrapper = !svc.pre_start.is_empty()
                    || svc.environment_file.is_some()
                    || !svc.requires.is_empty()
                    || !svc.wants.is_empty()
                    || !svc.after.is_empty()
                    || m.services
                        .iter()
                        .any(|o| o.before.iter().any(|b| **b == *svc.name));
                assert_eq!(wrapped, needs_wrapper, "{label}");

                let env: serde_json::Map<String, Value> = svc
                    .environment
                    .iter()
                    .map(|(k, v)| (k.to_owned(), json!(substitute(v, inst))))
                    .collect();
                let want_env = if env.is_empty() {
                    Value::Null
                } else {
                    Value::Object(env)
                };
                assert_eq!(job["EnvironmentVariables"], want_env, "{label}");
                let keep = match svc.restart {
                    RestartPolicy::Always => json!(true),
                    RestartPolicy::OnFailure => json!({"SuccessfulExit": false}),
                    RestartPolicy::Never => Value::Null,
                };
                assert_eq!(job["KeepAlive"], keep, "{label}");
                let throttle = (svc.restart != RestartPolicy::Never)
                    .then(|| json!(svc.restart_delay.millis().div_ceil(1000).max(1)));
                assert_eq!(job["ThrottleInterval"], throttle.unwrap_or(Value::Null));
                assert_eq!(
                    job["ExitTimeOut"],
                    json!(svc.stop_timeout.millis().div_ceil(1000).max(1))
                );
                assert_eq!(job["UserName"], json!(svc.user));
                assert_eq!(job["GroupName"], json!(svc.group));
                assert_eq!(job["WorkingDirectory"], json!(svc.working_dir));
                let (out, err) = match &*svc.logs {
                    Logs::Journal => (None, None),
                    Logs::Files { stdout, stderr } => (
                        Some(stdout.clone()),
                        Some(stderr.clone().unwrap_or(stdout.clone())),
                    ),
                };
                assert_eq!(job["StandardOutPath"], json!(out), "{label}");
                assert_eq!(job["StandardErrorPath"], json!(err), "{label}");
                for key in ["SoftResourceLimits", "HardResourceLimits"] {
                    assert_eq!(job[key]["NumberOfFiles"], json!(svc.limits.nofile));
                    assert_eq!(job[key]["NumberOfProcesses"], json!(svc.limits.nproc));
                }
            }
        }
        assert!(
            jobs.is_empty(),
            "{name}: unexpected files {:?}",
            jobs.keys()
        );
    }
}

#[test]
fn verify_reports_broken_plists() {
    if !require(have("python3"), "python3 (plistlib) is needed") {
        return;
    }
    let launchd = BackendKind::Launchd;
    let rendered =
        backend::render_embedded(launchd, &model("full"), &Flags::default()).expect("renders");
    let tmp = tempfile::tempdir().expect("tempdir");
    output::write_all(tmp.path(), &rendered.artifacts, false).expect("written");
    let clean = launchd
        .backend()
        .verify(tmp.path(), &rendered)
        .expect("verifier runs");
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
    let edit = |file: &str, from: &str, to: &str| {
        let p = tmp.path().join(file);
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains(from), "{file} lacks {from}");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    };
    edit(
        "io.full.api.plist",
        "<key>RunAtLoad</key>",
        "<key>RunAtLoadd</key>",
    );
    edit("io.full.cron.plist", "</dict>\n</plist>", "</plist>");
    edit(
        "io.full.indexer.0.plist",
        "<integer>30</integer>",
        "<string>30</string>",
    );
    let r = launchd
        .backend()
        .verify(tmp.path(), &rendered)
        .expect("verifier runs");
    let all = r.findings.join("\n");
    assert!(
        all.contains("io.full.api.plist: unknown key 'RunAtLoadd'"),
        "{all}"
    );
    assert!(
        all.contains("io.full.cron.plist: not a valid plist"),
        "{all}"
    );
    assert!(
        all.contains("io.full.indexer.0.plist: ExitTimeOut: expected int"),
        "{all}"
    );
    if have("plistutil") {
        assert!(
            all.contains("plistutil:") && all.contains("io.full.cron.plist"),
            "{all}"
        );
    }
    assert!(
        !all.contains("worker"),
        "only the broken files are reported: {all}"
    );
}

#[test]
fn plistutil_round_trips_every_plist_to_binary_unchanged() {
    if !require(
        have("python3") && have("plistutil"),
        "python3 and plistutil (libplist-utils)",
    ) {
        return;
    }
    for name in ["full", "openim"] {
        let dir = generate_into("launchd", manifest_arg(name).as_deref(), &[]);
        let bin = tempfile::tempdir().expect("tempdir");
        for (file, parsed) in plists(dir.path()) {
            let out = Command::new("plistutil")
                .arg("-i")
                .arg(dir.path().join(&file))
                .arg("-o")
                .arg(bin.path().join(&file))
                .args(["-f", "bin"])
                .output()
                .expect("plistutil runs");
            // plistutil exits 0 even on malformed input: its silence is the signal
            assert!(
                out.stdout.is_empty() && out.stderr.is_empty(),
                "{file}: {out:?}"
            );
            let head = std::fs::read(bin.path().join(&file)).expect("binary written");
            assert!(head.starts_with(b"bplist00"), "{file}");
            assert_eq!(plists(bin.path()).remove(&file), Some(parsed), "{file}");
        }
    }
}

#[test]
fn label_prefix_is_used_and_checked() {
    let dir = generate_into("launchd", None, &["--label-prefix", "com.example.im-1"]);
    assert!(
        dir.path()
            .join("com.example.im-1.openim-api.plist")
            .is_file()
    );
    assert!(
        dir.path()
            .join("com.example.im-1.openim-msgtransfer.3.plist")
            .is_file()
    );
    let text = std::fs::read_to_string(dir.path().join("com.example.im-1.openim-api.plist"))
        .expect("read");
    assert!(text.contains("<string>com.example.im-1.openim-api</string>"));
    for bad in [
        "com..example",
        ".com",
        "com.",
        "a b",
        "com.ex_ample",
        "x/y",
        "",
    ] {
        let r = Cli::new()
            .args(["generate", "--backend", "launchd", "--label-prefix", bad])
            .run();
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("is not a reverse-DNS name"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn clashing_labels_are_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = tmp.path().join("clash.toml");
    std::fs::write(
        &m,
        "name = \"c\"\n[services.\"w.1\"]\ncommand = [\"/bin/true\"]\n[services.w]\ncommand = [\"/bin/true\"]\ninstances = 2\n",
    )
    .expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "launchd", "--manifest"])
        .arg(&m)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("`io.c.w.1`"), "{}", r.stderr);
}

#[test]
fn groups_become_launchctl_loops_in_start_order() {
    let r = Cli::new()
        .args(["generate", "--backend", "launchd", "--manifest"])
        .arg(fixture("full.toml"))
        .ok();
    assert!(r.stderr.contains(
        "start group backend: for l in io.full.worker.eu-1 io.full.worker.us_2 io.full.indexer.0 io.full.indexer.1 io.full.indexer.2; do launchctl bootstrap system /Library/LaunchDaemons/\"$l\".plist; done"
    ), "{}", r.stderr);
    assert!(r.stderr.contains(
        "stop stack full: for l in io.full.cron io.full.indexer.2 io.full.indexer.1 io.full.indexer.0 io.full.worker.us_2 io.full.worker.eu-1 io.full.api; do launchctl bootout system/\"$l\"; done"
    ), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: launchd: groups → not supported"),
        "{}",
        r.stderr
    );
}

#[test]
fn verify_without_python3_says_what_to_install() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_openim-init"))
        .args(["verify", "--backend", "launchd"])
        .env("PATH", empty.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the verifier `python3` is not installed (install Python 3"),
        "{stderr}"
    );
}
