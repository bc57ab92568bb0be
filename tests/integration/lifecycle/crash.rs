//! `install` killed after k journaled steps (SIGKILL through the journal's testing hook,
//! for every k until a run completes) is completed by the next run, and ten concurrent
//! installs of one stack serialize on the ledger's lock. Run on `--root` staging trees
//! (OpenRC's Alpine layout: scripts, instance links), so that nothing on the host changes;
//! the install path (plan, journal, ledger) is the one host installs take.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::Command;

use openim_init::lifecycle::journal::CRASH_ENV;
use openim_init::lifecycle::ledger::sha256;

use crate::common::{CLI_BIN, fixture};

const STATE: &str = "var/lib/openim-init/full/openrc";

fn install(root: &Path, manifest: &Path) -> Command {
    let mut cmd = Command::new(CLI_BIN);
    cmd.args(["install", "--layout", "alpine", "--manifest"])
        .arg(manifest)
        .arg("--root")
        .arg(root)
        .env_remove(CRASH_ENV);
    // the verifier's scratch copy goes next to ROOT, in the test's own directory: a run
    // killed while it verifies cannot remove it, and the test's directory takes it away
    let scratch = root.with_file_name("scratch");
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    cmd.env("TMPDIR", &scratch);
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().expect("runs");
    let text = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{text}");
    text
}

/// Every file and link under `root/etc/init.d`: contents (or `-> target`).
fn scripts(root: &Path) -> BTreeMap<String, String> {
    let dir = root.join("etc/init.d");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let p = e.expect("entry").path();
            let name = format!(
                "etc/init.d/{}",
                p.file_name().expect("name").to_string_lossy()
            );
            let meta = std::fs::symlink_metadata(&p).expect("meta");
            let what = if meta.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).expect("link").display())
            } else {
                std::fs::read_to_string(&p).expect("text")
            };
            (name, what)
        })
        .collect()
}

/// The ledger lists exactly the files on disk, with their kinds and hashes, and nothing
/// but the ledger and the units record is left in the state directory.
fn assert_ledger_matches_disk(root: &Path) {
    let text = std::fs::read_to_string(root.join(STATE).join("ledger.json")).expect("ledger");
    let ledger: serde_json::Value = serde_json::from_str(&text).expect("json");
    let files = ledger["files"].as_object().expect("files");
    let owned: Vec<&String> = files.keys().collect();
    let disk = scripts(root);
    let present: Vec<&String> = disk.keys().collect();
    assert_eq!(owned, present, "ledger and disk list different paths");
    for (path, entry) in files {
        let p = root.join(path);
        let bytes = match std::fs::read_link(&p) {
            Ok(to) => to.into_os_string().into_encoded_bytes(),
            Err(_) => std::fs::read(&p).expect("read"),
        };
        assert_eq!(entry["sha256"], sha256(&bytes), "{path}");
    }
    let mut state: Vec<String> = std::fs::read_dir(root.join(STATE))
        .expect("state")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    state.sort();
    assert_eq!(
        state,
        ["ledger.json", "units.json"],
        "journal or copies left"
    );
}

/// The full fixture and a second version: a service changed, one instance more.
fn manifests(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = fixture("full.toml");
    let text = std::fs::read_to_string(&a).expect("fixture");
    let changed = text
        .replace("Worker {instance}", "Worker v2 {instance}")
        .replace(
            "instances = [\"eu-1\", \"us_2\"]",
            "instances = [\"eu-1\", \"us_2\", \"ap-3\"]",
        )
        .replace("API server", "API server v2");
    assert_ne!(
        text, changed,
        "the fixture changed: update the replacements"
    );
    let b = dir.join("b.toml");
    std::fs::write(&b, changed).expect("manifest b");
    (a, b)
}

#[test]
fn an_install_killed_after_k_steps_is_completed_by_the_next() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = manifests(tmp.path());
    let reference = tmp.path().join("ref");
    ok(&mut install(&reference, &a));
    ok(&mut install(&reference, &b));
    let new = scripts(&reference);
    let mut killed = 0;
    let mut in_install = 0;
    for k in 0.. {
        let root = tmp.path().join(format!("k{k}"));
        ok(&mut install(&root, &a));
        let old = scripts(&root);
        let o = install(&root, &b)
            .env(CRASH_ENV, k.to_string())
            .output()
            .expect("runs");
        if o.status.success() {
            break;
        }
        assert_eq!(o.status.signal(), Some(9), "k={k}: {o:?}");
        killed += 1;
        for (path, now) in scripts(&root) {
            let known = old.get(&path) == Some(&now) || new.get(&path) == Some(&now);
            assert!(
                known || path.contains(".openim-init-tmp-"),
                "k={k}: {path} is a mix"
            );
        }
        // the first steps write the verifier's scratch copy: killed there, nothing of the
        // install had started; from then on the journal is there to be completed
        let journal = root.join(STATE).join("journal.json").exists();
        assert!(
            journal || scripts(&root) == old,
            "k={k}: changed without a journal"
        );
        let next = ok(&mut install(&root, &b));
        if journal {
            in_install += 1;
            assert!(
                next.contains("completed an interrupted run"),
                "k={k}: {next}"
            );
        }
        assert_eq!(scripts(&root), new, "k={k}: not the new version");
        assert_ledger_matches_disk(&root);
        let again = ok(&mut install(&root, &b));
        assert!(again.contains("0 changed"), "k={k}: {again}");
    }
    assert!(
        in_install >= 5,
        "only {in_install} crash points in the install"
    );
    eprintln!(
        "install killed at {killed} points ({in_install} with its journal written), each completed by the next run"
    );
}

#[test]
fn ten_concurrent_installs_serialize() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let a = fixture("full.toml");
    let children: Vec<_> = (0..10)
        .map(|_| {
            install(&root, &a)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut created = 0;
    for c in children {
        let o = c.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        if err.contains(" created") && !err.contains("(0 created") {
            created += 1;
        } else {
            assert!(err.contains("0 changed"), "{err}");
        }
    }
    assert_eq!(
        created, 1,
        "exactly one run wrote the files, the others found them"
    );
    assert_ledger_matches_disk(&root);
}
