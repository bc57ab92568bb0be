//! `generate --out` killed at every durable step (SIGKILL through the journal's testing hook)
//! is completed by the next run, and concurrent runs on one directory serialize.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

use openim_init::lifecycle::journal::CRASH_ENV;
use openim_init::lifecycle::ledger::sha256;

use crate::common::{CLI_BIN, fixture};

/// What a path holds: file contents with mode, or `-> target` for a link.
type Tree = BTreeMap<String, String>;

/// Every file and link under `dir`, outside openim-init's state directory.
fn tree(dir: &Path) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable").flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(dir)
                .expect("under dir")
                .display()
                .to_string();
            let meta = std::fs::symlink_metadata(&p).expect("meta");
            if meta.file_type().is_symlink() {
                let to = std::fs::read_link(&p).expect("link");
                out.insert(rel, format!("-> {}", to.display()));
            } else if meta.is_dir() {
                if rel != ".openim-init" {
                    stack.push(p);
                }
            } else {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = meta.permissions().mode() & 0o7777;
                let text = std::fs::read_to_string(&p).expect("text");
                out.insert(rel, format!("({mode:04o}) {text}"));
            }
        }
    }
    out
}

/// The ledger describes the disk exactly: same paths, types, modes and hashes; no journal,
/// no copies, no temporary file anywhere.
fn assert_ledger_matches_disk(dir: &Path) {
    let ledger: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".openim-init/ledger.json")).expect("ledger"),
    )
    .expect("json");
    let files = ledger["files"].as_object().expect("files");
    let disk = tree(dir);
    let owned: Vec<&String> = files.keys().collect();
    let present: Vec<&String> = disk.keys().collect();
    assert_eq!(owned, present, "ledger and disk list different paths");
    for (path, entry) in files {
        let p = dir.join(path);
        let meta = std::fs::symlink_metadata(&p).expect("meta");
        let (kind, bytes) = if meta.file_type().is_symlink() {
            let to = std::fs::read_link(&p).expect("link");
            ("symlink", to.into_os_string().into_encoded_bytes())
        } else {
            ("file", std::fs::read(&p).expect("read"))
        };
        assert_eq!(entry["kind"], kind, "{path}");
        assert_eq!(entry["sha256"], sha256(&bytes), "{path}");
    }
    let state: Vec<String> = std::fs::read_dir(dir.join(".openim-init"))
        .expect("state dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        state,
        ["ledger.json"],
        "journal, copies or temporary files left"
    );
    assert!(
        disk.keys().all(|k| !k.contains(".openim-init-tmp-")),
        "{:?}",
        disk.keys()
    );
}

fn generate(out: &Path, manifest: &Path) -> Command {
    let mut cmd = Command::new(CLI_BIN);
    cmd.args(["generate", "--backend", "openrc", "--manifest"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .env_remove(CRASH_ENV);
    cmd
}

/// The full fixture, and a second version of it: services and defaults changed, one
/// instance more.
fn manifests(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = fixture("full.toml");
    let text = std::fs::read_to_string(&a).expect("fixture");
    let changed = text
        .replace("Worker {instance}", "Worker v2 {instance}")
        .replace(
            "instances = [\"eu-1\", \"us_2\"]",
            "instances = [\"eu-1\", \"us_2\", \"ap-3\"]",
        )
        .replace("The database", "The database v2")
        .replace("API server", "API server v2")
        .replace("limits = { nofile = 65536 }", "limits = { nofile = 65537 }");
    assert_ne!(
        text, changed,
        "the fixture changed: update the replacements"
    );
    let b = dir.join("b.toml");
    std::fs::write(&b, changed).expect("manifest b");
    (a, b)
}

fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

#[test]
fn a_run_killed_after_any_step_is_completed_by_the_next() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = manifests(tmp.path());
    let old_dir = tmp.path().join("old");
    ok(&mut generate(&old_dir, &a));
    let old = tree(&old_dir);
    let reference = tmp.path().join("ref");
    ok(&mut generate(&reference, &a));
    ok(&mut generate(&reference, &b));
    let new = tree(&reference);
    let mut killed = 0;
    for k in 0.. {
        let out = tmp.path().join(format!("k{k}"));
        ok(&mut generate(&out, &a));
        let o = generate(&out, &b)
            .env(CRASH_ENV, k.to_string())
            .output()
            .expect("runs");
        if o.status.success() {
            break; // k is past the last step
        }
        assert_eq!(o.status.signal(), Some(9), "k={k}: {o:?}");
        killed += 1;
        // killed: every path holds the old or the new version, never a mix within a file
        for (path, now) in tree(&out) {
            let known = old.get(&path) == Some(&now) || new.get(&path) == Some(&now);
            assert!(
                known || path.contains(".openim-init-tmp-"),
                "k={k}: {path} is neither old nor new"
            );
        }
        let stdout = ok(&mut generate(&out, &b));
        assert!(
            stdout.contains("completed an interrupted run"),
            "k={k}: {stdout}"
        );
        assert_eq!(tree(&out), new, "k={k}");
        assert_ledger_matches_disk(&out);
        let again = ok(&mut generate(&out, &b));
        assert!(again.contains("\n0 changed ("), "k={k}: {again}");
    }
    // journal, each file operation, the ledger: at least 4 files change here
    assert!(killed >= 6, "only {killed} crash points");
    eprintln!("killed at {killed} points, each completed by the next run");
}

/// Killed from outside at moments spread over a run's length: whatever the moment, the next
/// run ends with the new version and a ledger that matches the disk.
#[test]
fn a_run_killed_by_a_signal_at_any_moment_is_completed_by_the_next() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = manifests(tmp.path());
    let reference = tmp.path().join("ref");
    ok(&mut generate(&reference, &a));
    let started = std::time::Instant::now();
    ok(&mut generate(&reference, &b));
    let whole = started.elapsed();
    let new = tree(&reference);
    let mut interrupted = 0;
    for i in 0..12u32 {
        let out = tmp.path().join(format!("s{i}"));
        ok(&mut generate(&out, &a));
        let mut child = generate(&out, &b)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns");
        std::thread::sleep(whole * i / 10);
        let _ = child.kill(); // our own child, by its pid
        let status = child.wait().expect("reaped");
        if status.signal() == Some(9) {
            interrupted += 1;
        }
        ok(&mut generate(&out, &b));
        assert_eq!(tree(&out), new, "run {i}");
        assert_ledger_matches_disk(&out);
    }
    eprintln!("{interrupted} of 12 runs killed mid-way (a run takes {whole:?})");
}

#[test]
fn ten_concurrent_runs_on_one_directory_serialize() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = manifests(tmp.path());
    let only_b = tmp.path().join("ref-b");
    ok(&mut generate(&only_b, &b));
    let b_then_a = tmp.path().join("ref-ab");
    ok(&mut generate(&b_then_a, &b));
    ok(&mut generate(&b_then_a, &a));
    let out = tmp.path().join("out");
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..10)
        .map(|i| {
            let m = if i % 2 == 0 { &a } else { &b };
            generate(&out, m)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawns")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("waits");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let now = tree(&out);
    assert!(
        now == tree(&only_b) || now == tree(&b_then_a),
        "the directory is neither version: {:?}",
        now.keys()
    );
    assert_ledger_matches_disk(&out);
    eprintln!("10 concurrent runs in {:?}", started.elapsed());
}
