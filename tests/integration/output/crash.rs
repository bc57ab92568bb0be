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
pub(super) fn tree(dir: &Path) -> Tree {
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
pub(super) fn assert_ledger_matches_disk(dir: &Path) {
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
    generate_with("openrc", out, manifest)
}

pub(super) fn generate_with(backend: &str, out: &Path, manifest: &Path) -> Command {
    let mut cmd = Command::new(CLI_BIN);
    cmd.args(["generate", "--backend", backend, "--manifest"])
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

/// Start `cmd`, kill it (SIGKILL) after `after`: whether the kill ended it.
fn kill_after(cmd: &mut Command, after: std::time::Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    std::thread::sleep(after);
    let _ = child.kill(); // our own child, by its pid
    child.wait().expect("reaped").signal() == Some(9)
}

pub(super) fn ok(cmd: &mut Command) -> String {
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
        if kill_after(&mut generate(&out, &b), whole * i / 10) {
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

/// The tree a run builds for a new DIR, next to it.
fn building(out: &Path) -> std::path::PathBuf {
    let name = out.file_name().expect("name").to_string_lossy();
    out.with_file_name(format!(".{name}.openim-init-new"))
}

/// A DIR that did not exist is built next to it and renamed into place whole: the same
/// files, modes, links, ledger entries and lines as the usual way (into an existing
/// directory), and nothing left beside it.
#[test]
fn a_new_directory_is_built_as_the_usual_way_builds_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = fixture("full.toml");
    for backend in ["systemd", "openrc", "supervisord", "runit", "s6"] {
        let new = tmp.path().join(format!("new-{backend}"));
        let new_lines = ok(&mut generate_with(backend, &new, &a));
        let usual = tmp.path().join(format!("usual-{backend}"));
        std::fs::create_dir(&usual).expect("mkdir");
        let usual_lines = ok(&mut generate_with(backend, &usual, &a));
        assert_eq!(tree(&new), tree(&usual), "{backend}");
        // the same entries (a new DIR's ledger lists them in the order they were written)
        let ledger = |d: &Path| -> serde_json::Value {
            let text = std::fs::read_to_string(d.join(".openim-init/ledger.json"));
            serde_json::from_str(&text.expect("ledger")).expect("JSON")
        };
        assert_eq!(ledger(&new), ledger(&usual), "{backend}");
        // and the same lines, each naming its own DIR (in the order written, not sorted)
        let mut new_lines: Vec<String> = new_lines
            .lines()
            .map(|l| l.replace(&format!("/new-{backend}/"), "/DIR/"))
            .collect();
        let mut usual_lines: Vec<String> = usual_lines
            .lines()
            .map(|l| l.replace(&format!("/usual-{backend}/"), "/DIR/"))
            .collect();
        new_lines.sort();
        usual_lines.sort();
        assert_eq!(new_lines, usual_lines, "{backend}");
        assert_ledger_matches_disk(&new);
        assert!(
            !building(&new).exists(),
            "{backend}: the tree is left beside"
        );
    }
}

/// A manifest of `n` services `s0`…, service `i` running `[command(i)]`, in `dir`.
pub(super) fn services(
    dir: &Path,
    n: usize,
    command: impl Fn(usize) -> String,
) -> std::path::PathBuf {
    let mut text = String::from("name = \"many\"\n");
    for i in 0..n {
        text.push_str(&format!("\n[services.s{i}]\ncommand = [{}]\n", command(i)));
    }
    let path = dir.join("many.toml");
    std::fs::write(&path, text).expect("manifest");
    path
}

/// A refused run into a new DIR leaves neither DIR nor its tree.
#[test]
fn a_refused_run_into_a_new_directory_leaves_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // systemd refuses a quote in the last service's program path
    let m = services(tmp.path(), 300, |i| {
        if i == 299 {
            "\"/opt/\\\"q\\\"\""
        } else {
            "\"/opt/s\""
        }
        .to_owned()
    });
    let out = tmp.path().join("deep/out");
    let o = generate_with("systemd", &out, &m).output().expect("runs");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(!tmp.path().join("deep").exists(), "DIR or its parent left");
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("dir").count(),
        1,
        "only the manifest"
    );
}

/// A run killed at any moment leaves a new DIR empty or whole (never a part of it), and
/// the next run removes a tree left half built and ends with every file.
#[test]
fn a_new_directory_killed_at_any_moment_is_empty_or_whole() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = services(tmp.path(), 2000, |i| format!("\"/opt/s\", \"{i}\""));
    let reference = tmp.path().join("ref");
    let started = std::time::Instant::now();
    ok(&mut generate(&reference, &big));
    let whole = started.elapsed();
    let new = tree(&reference);
    let mut interrupted = 0;
    for i in 0..12u32 {
        let out = tmp.path().join(format!("f{i}"));
        if kill_after(&mut generate(&out, &big), whole * i / 10) {
            interrupted += 1;
        }
        if out.exists() {
            let now = tree(&out);
            assert!(now.is_empty() || now == new, "run {i}: a part of the tree");
        }
        ok(&mut generate(&out, &big));
        assert_eq!(tree(&out), new, "run {i}");
        assert_ledger_matches_disk(&out);
        assert!(!building(&out).exists(), "run {i}: the tree left beside");
    }
    eprintln!("{interrupted} of 12 runs killed mid-way (a run takes {whole:?})");
}

/// What a killed run left beside DIR is removed by the next run; a look-alike without
/// openim-init's state directory is left alone.
#[test]
fn a_tree_left_half_built_is_removed_and_a_look_alike_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = fixture("full.toml");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let left = building(&out);
    std::fs::create_dir_all(left.join(".openim-init")).expect("mkdir");
    std::fs::write(left.join("half"), "x").expect("write");
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    let look_alike = building(&other);
    std::fs::create_dir(&look_alike).expect("mkdir");
    std::fs::write(look_alike.join("mine"), "x").expect("write");
    ok(&mut generate(&out, &a));
    assert!(!left.exists(), "the half-built tree is left");
    assert_ledger_matches_disk(&out);
    ok(&mut generate(&other, &a));
    assert!(look_alike.join("mine").exists(), "a look-alike was removed");
}
