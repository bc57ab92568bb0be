//! Apply, commit, roll back and recover on real directories. Killing the process at every
//! step is tested through the CLI (`tests/integration/output.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::lifecycle::ledger::Entry;
use crate::lifecycle::plan::{self, Desired, Options};

pub(super) fn file(path: &str, text: &str) -> Desired {
    Desired {
        path: path.into(),
        kind: Kind::File,
        mode: 0o644,
        contents: text.into(),
    }
}

/// Every file and link under `dir` (not the state directory) with its contents.
pub(super) fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(dir)
                .expect("under dir")
                .display()
                .to_string();
            if rel.starts_with(".openim-init") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).expect("meta");
            if meta.file_type().is_symlink() {
                let to = std::fs::read_link(&p).expect("link");
                out.insert(rel, format!("-> {}", to.display()));
            } else if meta.is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read_to_string(&p).expect("read"));
            }
        }
    }
    out
}

pub(super) struct Setup {
    _tmp: tempfile::TempDir,
    pub(super) store: Store,
    pub(super) lock: Lock,
}

pub(super) fn setup() -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_out_dir(tmp.path());
    let lock = store.lock(tmp.path()).expect("lock");
    Setup {
        _tmp: tmp,
        store,
        lock,
    }
}

pub(super) fn plan_for(s: &Setup, desired: &[Desired], opts: Options) -> (Plan, Ledger) {
    let ledger = s.store.read(&s.lock).expect("ledger");
    let paths: Vec<&str> = desired
        .iter()
        .map(|d| d.path.as_str())
        .chain(ledger.files.keys().map(String::as_str))
        .collect();
    let disk = plan::scan(&s.store.base, paths, true).expect("scan");
    (plan::plan(desired, &ledger, &disk, opts), ledger)
}

pub(super) fn run(s: &Setup, desired: &[Desired], opts: Options) -> Plan {
    let (p, ledger) = plan_for(s, desired, opts);
    apply(&s.store, &s.lock, &p, &ledger)
        .expect("apply")
        .commit()
        .expect("commit");
    p
}

fn leftovers(s: &Setup) -> (bool, bool) {
    (
        s.store.state.join(JOURNAL_FILE).exists(),
        s.store.state.join(TXN_DIR).exists(),
    )
}

#[test]
fn apply_and_commit_write_the_files_and_the_ledger() {
    let s = setup();
    let p = run(
        &s,
        &[file("a", "1"), file("sub/b", "2")],
        Options::default(),
    );
    assert_eq!(p.changed(), 2);
    let expected: BTreeMap<String, String> =
        [("a".into(), "1".into()), ("sub/b".into(), "2".into())].into();
    assert_eq!(tree(&s.store.base), expected);
    let ledger = s.store.read(&s.lock).expect("ledger");
    assert_eq!(ledger.files["sub/b"], Entry::of(Kind::File, 0o644, b"2"));
    assert_eq!(leftovers(&s), (false, false));
    let again = run(
        &s,
        &[file("a", "1"), file("sub/b", "2")],
        Options::default(),
    );
    assert_eq!(again.changed(), 0);
}

#[test]
fn rollback_restores_every_file_and_the_old_ledger() {
    let s = setup();
    run(
        &s,
        &[file("keep", "k"), file("old", "o"), file("gone", "g")],
        Options::default(),
    );
    std::fs::write(s.store.path_of("foreign"), "theirs").expect("foreign");
    let before = tree(&s.store.base);
    let ledger_before = s.store.read(&s.lock).expect("ledger");
    let desired = [
        file("keep", "k"),
        file("old", "o2"),
        file("foreign", "mine"),
        file("new", "n"),
    ];
    let (p, ledger) = plan_for(
        &s,
        &desired,
        Options {
            force: true,
            prune: true,
        },
    );
    assert_eq!(p.changed(), 4, "{}", p.summary());
    let applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    assert_eq!(tree(&s.store.base)["foreign"], "mine");
    assert!(!s.store.path_of("gone").exists());
    assert_eq!(applied.backups.len(), 1);
    let kept = applied.backups[0].1.clone();
    applied.rollback().expect("rollback");
    assert_eq!(tree(&s.store.base), before);
    assert_eq!(s.store.read(&s.lock).expect("ledger"), ledger_before);
    assert_eq!(leftovers(&s), (false, false));
    // the backup of the foreign file is kept, outside the written tree
    assert!(kept.starts_with(s.store.backup_dir()), "{}", kept.display());
    assert_eq!(
        std::fs::read_to_string(kept).ok().as_deref(),
        Some("theirs")
    );
}

/// Undo the rename of `rel` by `applied`: its new contents back under the staged name, as
/// a run killed before that rename leaves it.
fn unplace(s: &Setup, rel: &str) {
    let tmp = staged_name(s, rel);
    let path = s.store.path_of(rel);
    let dir = fsops::parent_of(&path).to_path_buf();
    std::fs::rename(&path, dir.join(tmp)).expect("unplace");
}

/// The temporary name the journal on disk gives the staged file of `rel` (the run's own
/// operations are made from its plan, without it).
fn staged_name(s: &Setup, rel: &str) -> String {
    let bytes = std::fs::read(journal_path(&s.store)).expect("a journal");
    let journal: Journal<'_> = serde_json::from_slice(&bytes).expect("parses");
    let op = journal
        .ops
        .iter()
        .find(|o| o.path == rel)
        .map(|o| o.staged.clone());
    op.flatten().expect("staged")
}

#[test]
fn a_dropped_run_is_completed_by_recover() {
    let s = setup();
    run(&s, &[file("a", "1")], Options::default());
    let (p, ledger) = plan_for(&s, &[file("a", "2"), file("b", "3")], Options::default());
    let applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    // the journal on disk holds the run's operations (made from its plan), each with the
    // name of its staged file
    let bytes = std::fs::read(journal_path(&s.store)).expect("a journal");
    let read: Journal<'_> = serde_json::from_slice(&bytes).expect("parses");
    assert_eq!(read.ops.len(), 2);
    for (on_disk, planned) in read.ops.iter().zip(applied.journal.ops.iter()) {
        let mut on_disk = on_disk.into_owned();
        assert!(on_disk.staged.take().is_some(), "{on_disk:?}");
        assert_eq!(on_disk, planned.into_owned());
    }
    assert_eq!(read.ops.get(0).saved.as_deref(), Some("txn/a"));
    // the process "dies" before commit, and before renaming b into place
    unplace(&s, "b");
    drop(applied);
    assert!(!s.store.path_of("b").exists());
    let (refused, _) = plan_for(&s, &[file("x", "x")], Options::default());
    let err = apply(&s.store, &s.lock, &refused, &ledger).expect_err("journal pending");
    assert!(format!("{err}").contains("recovered first"), "{err}");
    let line = recover(&s.store, &s.lock)
        .expect("recover")
        .expect("a journal");
    assert!(
        line.starts_with("completed an interrupted run (2 file operation(s))"),
        "{line}"
    );
    let expected: BTreeMap<String, String> =
        [("a".into(), "2".into()), ("b".into(), "3".into())].into();
    assert_eq!(tree(&s.store.base), expected);
    assert_eq!(s.store.read(&s.lock).expect("ledger").files.len(), 2);
    assert_eq!(leftovers(&s), (false, false));
    assert_eq!(recover(&s.store, &s.lock).expect("nothing"), None);
    assert_eq!(staged_left(&s, &[""]), 0);
}

/// How many staged files are in these directories (relative to the base).
fn staged_left(s: &Setup, dirs: &[&str]) -> usize {
    dirs.iter()
        .flat_map(|d| {
            std::fs::read_dir(s.store.base.join(d))
                .expect("dir")
                .flatten()
        })
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(fsops::TEMP_PREFIX)
        })
        .count()
}

#[test]
fn a_run_whose_staged_copy_is_gone_is_completed_without_it() {
    let s = setup();
    run(&s, &[file("a", "1")], Options::default());
    let (p, ledger) = plan_for(&s, &[file("a", "2"), file("b", "3")], Options::default());
    let applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    // a not yet renamed, and its staged copy removed by someone
    unplace(&s, "a");
    std::fs::copy(s.store.state.join("txn/a"), s.store.path_of("a")).expect("old a back");
    let tmp = staged_name(&s, "a");
    std::fs::remove_file(s.store.base.join(tmp)).expect("rm staged");
    drop(applied);
    let line = recover(&s.store, &s.lock)
        .expect("recover")
        .expect("a journal");
    assert!(
        line.ends_with("staged copy gone, left as it was: a"),
        "{line}"
    );
    assert_eq!(tree(&s.store.base)["a"], "1");
    assert_eq!(tree(&s.store.base)["b"], "3");
    // the ledger still owns a as it is: the next run updates it without --force
    let again = run(&s, &[file("a", "2"), file("b", "3")], Options::default());
    assert_eq!(
        again.summary(),
        "1 changed (0 created, 1 updated, 0 removed), 1 unchanged"
    );
}

#[test]
fn files_staged_by_a_run_killed_before_its_journal_are_removed() {
    let s = setup();
    run(&s, &[file("a", "1")], Options::default());
    let (p, ledger) = plan_for(
        &s,
        &[file("a", "2"), file("sub/b", "3")],
        Options::default(),
    );
    let steps: Vec<&Step> = p.steps.iter().filter(|s| s.action.changes_disk()).collect();
    // killed after staging, before the journal: the staged files and their list remain
    let (batch, _) = stage_all(&s.store, &steps).expect("staged");
    drop(batch);
    assert!(s.store.state.join(STAGING_FILE).exists());
    assert_eq!(staged_left(&s, &["", "sub"]), 2);
    let line = recover(&s.store, &s.lock).expect("recover");
    assert_eq!(
        line.as_deref(),
        Some("removed 2 file(s) staged by an interrupted run that had changed nothing yet")
    );
    let expected: BTreeMap<String, String> = [("a".into(), "1".into())].into();
    assert_eq!(tree(&s.store.base), expected);
    assert!(!s.store.state.join(STAGING_FILE).exists());
    assert_eq!(staged_left(&s, &["", "sub"]), 0);
    assert_eq!(s.store.read(&s.lock).expect("ledger"), ledger);
}

#[test]
fn recover_leaves_alone_a_file_changed_after_the_crash() {
    let s = setup();
    run(&s, &[file("a", "1")], Options::default());
    let (p, ledger) = plan_for(&s, &[file("a", "2")], Options::default());
    drop(apply(&s.store, &s.lock, &p, &ledger).expect("apply"));
    std::fs::write(s.store.path_of("a"), "admin").expect("edit");
    let line = recover(&s.store, &s.lock)
        .expect("recover")
        .expect("a journal");
    assert!(line.ends_with("left alone: a"), "{line}");
    assert_eq!(tree(&s.store.base)["a"], "admin");
    let (next, _) = plan_for(&s, &[file("a", "2")], Options::default());
    assert_eq!(next.steps[0].action, Action::Refuse(plan::Conflict::Edited));
}

#[test]
fn an_interrupted_rollback_is_finished_as_a_rollback() {
    let s = setup();
    run(&s, &[file("a", "1")], Options::default());
    let (p, ledger) = plan_for(&s, &[file("a", "2"), file("b", "3")], Options::default());
    let mut applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    // killed right after marking the journal as rolling back
    applied.journal.phase = Phase::Rollback;
    write_journal(&s.store, &applied.journal, None).expect("journal");
    drop(applied);
    let line = recover(&s.store, &s.lock)
        .expect("recover")
        .expect("a journal");
    assert!(line.starts_with("rolled back"), "{line}");
    let expected: BTreeMap<String, String> = [("a".into(), "1".into())].into();
    assert_eq!(tree(&s.store.base), expected);
    assert_eq!(s.store.read(&s.lock).expect("ledger"), ledger);
}

#[test]
fn a_run_that_adopts_keeps_its_whole_ledger_in_the_journal() {
    let s = setup();
    std::fs::write(s.store.path_of("same"), "s").expect("identical file");
    let (p, ledger) = plan_for(
        &s,
        &[file("same", "s"), file("new", "n")],
        Options::default(),
    );
    assert_eq!(p.steps[1].action, Action::Adopt);
    let applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    assert!(applied.journal.ledger_after.is_some());
    drop(applied);
    recover(&s.store, &s.lock)
        .expect("recover")
        .expect("a journal");
    let owned = s.store.read(&s.lock).expect("ledger").files;
    assert_eq!(owned.keys().collect::<Vec<_>>(), ["new", "same"]);
    // without anything adopted the journal leaves the ledger out: it follows from the ops
    let (p, ledger) = plan_for(&s, &[file("new", "n2")], Options::default());
    let applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    assert!(applied.journal.ledger_after.is_none());
    let derived = applied.journal.after();
    applied.commit().expect("commit");
    assert_eq!(
        s.store.read(&s.lock).expect("ledger"),
        derived.expect("derived")
    );
}

#[test]
fn the_staging_list_grows_a_line_a_directory_and_reads_back_whatever_its_shape() {
    let s = setup();
    std::fs::create_dir_all(&s.store.state).expect("state dir");
    std::fs::write(s.store.state.join(STAGING_FILE), "[\"old\"]").expect("old list");
    let mut list = StagingList::create(&s.store).expect("list");
    let read = || staging_dirs(&std::fs::read(s.store.state.join(STAGING_FILE)).expect("read"));
    assert!(read().is_empty(), "a new list starts empty");
    for dir in ["", "sv/a b", "sv/\"q\"\n"] {
        list.add(dir).expect("added");
    }
    assert_eq!(read(), ["", "sv/a b", "sv/\"q\"\n"]);
    // a list written whole (list_staging), an older one (a JSON array), one cut short
    list_staging(&s.store, ["x", "y/z"]).expect("listed");
    assert_eq!(read(), ["x", "y/z"]);
    assert_eq!(staging_dirs(b"[\"a\",\"b\"]"), ["a", "b"]);
    assert_eq!(staging_dirs(b"\"a\"\n\"b\"\n\"c"), ["a", "b"]);
}

#[test]
fn files_staged_in_directories_listed_one_at_a_time_are_removed_after_a_kill() {
    let s = setup();
    run(&s, &[file("a", "1")], Options::default());
    let mut list = StagingList::create(&s.store).expect("list");
    for dir in ["", "sub"] {
        list.add(dir).expect("added");
        let d = s.store.base.join(dir);
        std::fs::create_dir_all(&d).expect("dir");
        std::fs::write(d.join(format!("{}1-2", fsops::TEMP_PREFIX)), "x").expect("staged");
    }
    drop(list); // killed: the list stays
    let line = recover(&s.store, &s.lock).expect("recover");
    assert_eq!(
        line.as_deref(),
        Some("removed 2 file(s) staged by an interrupted run that had changed nothing yet")
    );
    assert_eq!(staged_left(&s, &["", "sub"]), 0);
    assert!(!s.store.state.join(STAGING_FILE).exists());
}
