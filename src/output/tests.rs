//! Unit tests of the file sink; the CLI-level cases are in `tests/integration/output.rs`.

use super::*;
use crate::lifecycle::ledger::{Entry, Kind, Ledger};

fn ledger_of(dir: &Path) -> Ledger {
    let store = Store::for_out_dir(dir);
    let lock = store.lock(dir).expect("lock");
    store.read(&lock).expect("ledger")
}

fn art(path: &str, contents: &str) -> Artifact {
    Artifact::file(path, 0o644, contents)
}

fn is_refusal(r: &Result<Vec<String>>) -> bool {
    r.as_ref().err().is_some_and(|e| {
        e.downcast_ref::<crate::errors::usage::UsageError>()
            .is_some()
    })
}

/// Every file under `dir` (relative paths), to show that nothing was written.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            let rel = p.strip_prefix(dir).map(|r| r.display().to_string());
            out.push(rel.unwrap_or_default());
        }
    }
    out.sort();
    out
}

#[test]
fn safe_relative_accepts_plain_paths_only() {
    for ok in [
        "a.service",
        "init.d/openim-api",
        "a/b/c.plist",
        "a..b",
        "..a",
    ] {
        assert!(safe_relative(ok).is_ok(), "{ok:?} refused");
    }
    for bad in [
        "",
        "/etc/passwd",
        "..",
        "../x",
        "a/../../x",
        "a/..",
        ".",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "a\\..\\b",
        "a\nb",
        "a\0b",
        LEGACY_STATE_FILE,
        "sub/.openim-init-files",
        ".openim-init/ledger.json",
        ".openim-init",
        ".openim-init-tmp-x",
    ] {
        assert!(safe_relative(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn unsafe_artifact_paths_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    for bad in ["../escape", "/abs", "a/../../b"] {
        let r = write_all(&out, &[art("ok.service", "x"), art(bad, "y")], false);
        assert!(is_refusal(&r), "{bad}: {r:?}");
        assert!(!out.exists(), "{bad}: the directory was created");
    }
    assert!(!tmp.path().join("escape").exists());
}

#[test]
fn writes_records_and_rewrites_its_own_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let arts = [art("a.service", "one"), art("sub/b.conf", "two")];
    let lines = write_all(&out, &arts, false).expect("first write");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0],
        format!("wrote {}/a.service (0644)", out.display())
    );
    assert_eq!(
        lines[2],
        "2 changed (2 created, 0 updated, 0 removed), 0 unchanged"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sub/b.conf"))
            .ok()
            .as_deref(),
        Some("two")
    );
    let ledger = ledger_of(&out);
    assert_eq!(
        ledger.files["a.service"],
        Entry::of(Kind::File, 0o644, b"one")
    );
    // same again: nothing to do
    let lines = write_all(&out, &arts, false).expect("second write");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("0 changed (0 created, 0 updated, 0 removed), 2 unchanged")
    );
    assert!(
        lines[..2].iter().all(|l| l.starts_with("unchanged ")),
        "{lines:?}"
    );
    // new contents over our own files: replaced without --force, no backup; the file no
    // longer rendered stays, still owned
    let lines = write_all(&out, &[art("a.service", "three")], false).expect("third write");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(listing(&out.join(".openim-init")), ["ledger.json"]);
    assert_eq!(ledger_of(&out).files.len(), 2);
}

#[test]
fn foreign_or_edited_files_stop_everything_unless_forced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    write_all(&out, &[art("a.service", "ours")], false).expect("first write");
    std::fs::write(out.join("a.service"), "edited by hand").expect("edit");
    std::fs::write(out.join("b.service"), "theirs").expect("foreign");
    let before = listing(&out);
    let arts = [
        art("new.service", "n"),
        art("a.service", "v2"),
        art("b.service", "v2"),
    ];
    let r = write_all(&out, &arts, false);
    assert!(is_refusal(&r), "{r:?}");
    let msg = format!("{:#}", r.expect_err("refused"));
    assert!(
        msg.contains("a.service (edited since)") && msg.contains("b.service"),
        "{msg}"
    );
    assert_eq!(listing(&out), before, "something was written");
    // --force: replaced, with backups of what was there
    write_all(&out, &arts, true).expect("forced");
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_default();
    assert_eq!(read("a.service"), "v2");
    assert_eq!(read(".openim-init/backup/a.service"), "edited by hand");
    assert_eq!(read(".openim-init/backup/b.service"), "theirs");
    // a second forced replacement keeps the first backup
    std::fs::write(out.join("b.service"), "theirs again").expect("foreign");
    write_all(&out, &arts, true).expect("forced again");
    assert_eq!(read(".openim-init/backup/b.service"), "theirs");
    assert_eq!(read(".openim-init/backup/b.service.1"), "theirs again");
    // no backup beside the files, where an init system would pick it up
    assert!(
        listing(&out).iter().all(|p| !p.contains(".bak")),
        "{:?}",
        listing(&out)
    );
}

#[test]
fn symlinks_are_refused_at_artifacts_and_in_subdirectories() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).expect("outside dir");
    std::fs::write(outside.join("victim"), "keep").expect("victim");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("out");
    // at the artifact path
    std::os::unix::fs::symlink(outside.join("victim"), out.join("a.service")).expect("link");
    let r = write_all(&out, &[art("a.service", "x")], false);
    assert!(is_refusal(&r), "{r:?}");
    // a symlinked subdirectory, pointing outside or back inside
    std::fs::remove_file(out.join("a.service")).expect("unlink");
    std::os::unix::fs::symlink(&outside, out.join("init.d")).expect("link");
    std::fs::create_dir(out.join("real")).expect("real");
    std::os::unix::fs::symlink(out.join("real"), out.join("inside")).expect("link");
    for path in ["init.d/victim", "init.d/new", "inside/x"] {
        let r = write_all(&out, &[art("first.service", "x"), art(path, "x")], true);
        assert!(is_refusal(&r), "{path}: {r:?}");
        // the refusal says why: what the run found on the way
        let link = out.join(path.split('/').next().unwrap_or_default());
        let why = format!("refusing to write {path}: {} is a symlink", link.display());
        assert!(
            r.as_ref().is_err_and(|e| format!("{e:#}").contains(&why)),
            "{path}: {r:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("victim"))
            .ok()
            .as_deref(),
        Some("keep")
    );
    assert_eq!(listing(&outside), ["victim"]);
    assert!(
        !out.join("first.service").exists(),
        "written before the refusal"
    );
    // the (legacy) state file must be a regular file too
    std::os::unix::fs::symlink(outside.join("victim"), out.join(LEGACY_STATE_FILE)).expect("link");
    assert!(is_refusal(&write_all(
        &out,
        &[art("x.service", "x")],
        false
    )));
}

#[test]
fn a_file_where_a_directory_belongs_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("init.d"), "a file").expect("file");
    let r = write_all(tmp.path(), &[art("init.d/x", "x")], true);
    assert!(is_refusal(&r), "{r:?}");
    let r = write_all(&tmp.path().join("init.d"), &[art("x", "x")], true);
    assert!(is_refusal(&r), "{r:?}");
}

#[test]
fn a_failed_write_keeps_the_old_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("ro/x.service");
    std::fs::create_dir(tmp.path().join("ro")).expect("dir");
    std::fs::write(&path, "old").expect("old");
    // a directory where the file should go: rename fails after the temporary file is written
    let dir_target = tmp.path().join("ro/d");
    std::fs::create_dir(&dir_target).expect("dir");
    std::fs::write(dir_target.join("inner"), "x").expect("inner");
    assert!(write_atomic(&dir_target, b"new", 0o644).is_err());
    assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("old"));
    assert_eq!(
        listing(&tmp.path().join("ro")),
        ["d", "d/inner", "x.service"]
    );
}

#[test]
fn links_must_stay_in_their_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    for target in ["../x", "/etc/passwd", "a/b", "", ".."] {
        let a = [Artifact::symlink("init.d/x.1", target)];
        assert!(write_all(dir.path(), &a, false).is_err(), "{target}");
    }
    let a = [Artifact::symlink("init.d/x.1", "x")];
    let lines = write_all(dir.path(), &a, false).expect("plain link");
    let root = dir.path().display();
    assert_eq!(
        lines[0],
        format!("linked {root}/init.d/x.1 -> x"),
        "{lines:?}"
    );
    let link = std::fs::read_link(dir.path().join("init.d/x.1")).expect("link");
    assert_eq!(link, Path::new("x"));
    assert!(to_text(&a).contains("==== init.d/x.1 -> x ====\n"));
    // a second run finds its own link unchanged; a foreign link is refused
    let lines = write_all(dir.path(), &a, false).expect("again");
    assert!(
        lines.iter().any(|l| l.starts_with("unchanged")),
        "{lines:?}"
    );
    std::os::unix::fs::symlink("elsewhere", dir.path().join("init.d/x.2")).expect("plant");
    let b = [Artifact::symlink("init.d/x.2", "x")];
    assert!(
        write_all(dir.path(), &b, false).is_err(),
        "a foreign link needs --force"
    );
    write_all(dir.path(), &b, true).expect("forced");
    assert_eq!(
        std::fs::read_link(dir.path().join("init.d/x.2")).expect("link"),
        Path::new("x")
    );
    let bak = std::fs::read_link(dir.path().join(".openim-init/backup/init.d/x.2"))
        .expect("the backup is a link");
    assert_eq!(bak, Path::new("elsewhere"));
}

#[test]
fn a_mode_is_written_as_format_writes_it() {
    for mode in [0, 0o7, 0o644, 0o755, 0o777, 0o4755, 0o17777, u32::MAX] {
        let mut out = Vec::new();
        super::push_octal4(&mut out, mode).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            format!("{mode:04o}")
        );
    }
}

#[test]
fn a_lock_knows_when_its_directory_was_removed_and_made_again() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).expect("dir");
    let lock = Store::for_out_dir(&dir).lock(&dir).expect("lock");
    assert!(lock.is_at(&dir));
    std::fs::remove_dir(&dir).expect("removed");
    assert!(!lock.is_at(&dir));
    std::fs::create_dir(&dir).expect("made again");
    assert!(!lock.is_at(&dir), "another directory, unlocked");
}

/// The whole plan's way (`write_all`): an up-to-date run leaves the ledger file as it is,
/// and one that changes only the ledger (a file adopted) writes it.
#[test]
fn an_up_to_date_write_keeps_the_ledger_file_and_an_adoption_writes_it() {
    use std::os::unix::fs::MetadataExt as _;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let arts = [art("b.service", "b\n"), art("a.service", "a\n")];
    let path = dir.join(".openim-init/ledger.json");
    let inode = || std::fs::metadata(&path).expect("ledger").ino();
    write_all(dir, &arts, false).expect("first");
    let first = inode();
    let again = write_all(dir, &arts, false).expect("again");
    assert_eq!(
        again.last().map(String::as_str),
        Some("0 changed (0 created, 0 updated, 0 removed), 2 unchanged")
    );
    assert_eq!(inode(), first, "an up-to-date run wrote the ledger");
    // the ledger without `a.service`, in the form a run writes it: adopted, and recorded
    let store = Store::for_out_dir(dir);
    let mut ledger = ledger_of(dir);
    ledger.files.remove("a.service");
    store
        .write(&store.lock(dir).expect("lock"), &ledger)
        .expect("write");
    let without = inode();
    write_all(dir, &arts, false).expect("adopted");
    assert_ne!(inode(), without, "an adoption did not write the ledger");
    assert!(ledger_of(dir).files.contains_key("a.service"));
    let state: Vec<_> = std::fs::read_dir(dir.join(".openim-init"))
        .expect("state")
        .collect();
    assert_eq!(state.len(), 1, "only the ledger");
}
