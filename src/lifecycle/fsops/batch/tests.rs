//! Staging a batch of files and placing them.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::*;

fn stage_and_place(dir: &Path, files: &[(&str, u32)]) {
    let mut batch = Batch::default();
    let d = batch.dir(dir, || Ok(())).expect("dir");
    let jobs: Vec<Job<'_>> = files
        .iter()
        .map(|(name, mode)| Job {
            dir: d,
            name: OsStr::new(name),
            source: Source::File(b"x\n", *mode),
        })
        .collect();
    let handles = batch.stage(&jobs).expect("staged");
    batch.sync().expect("synced");
    for h in handles {
        batch.place(h).expect("placed");
    }
    batch.sync_dirs();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o7777
}

#[test]
fn every_file_gets_exactly_its_mode_whatever_the_umask_or_a_default_acl() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let modes = [("a", 0o644), ("b", 0o666), ("c", 0o750), ("d", 0o600)];
    stage_and_place(tmp.path(), &modes);
    for (name, m) in modes {
        assert_eq!(mode(&tmp.path().join(name)), m, "{name}");
    }
    // a default ACL that grants nothing to the group or others
    let acl = tmp.path().join("acl");
    std::fs::create_dir(&acl).expect("dir");
    let set = std::process::Command::new("setfacl")
        .args(["-d", "-m", "u::rwx,g::---,o::---"])
        .arg(&acl)
        .status();
    if !set.is_ok_and(|s| s.success()) {
        eprintln!("no setfacl or no ACL support here: the ACL case is skipped");
        return;
    }
    stage_and_place(&acl, &modes);
    for (name, m) in modes {
        assert_eq!(mode(&acl.join(name)), m, "{name} under a default ACL");
    }
    let names: Vec<_> = std::fs::read_dir(&acl)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 4, "no temporary file left: {names:?}");
}

/// A batch with `dir` opened in it, and its index.
fn batch_in(dir: &Path) -> (Batch, usize) {
    let mut batch = Batch::default();
    let d = batch.dir(dir, || Ok(())).expect("dir");
    (batch, d)
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_file_staged_on_another_thread_is_placed_with_its_contents_and_mode() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut batch, d) = batch_in(tmp.path());
    let (h, job) = batch
        .detach(d, OsStr::new("far"), "far away\n".to_owned(), 0o640)
        .expect("detached");
    let inline = batch
        .stage(&[Job {
            dir: d,
            name: OsStr::new("near"),
            source: Source::File(b"near\n", 0o644),
        }])
        .expect("staged");
    // not staged yet: placing it is an error, discarding it leaves it alone
    assert!(batch.place(h).is_err());
    batch.unstage(h);
    let tmp_name = std::thread::spawn(move || job.stage())
        .join()
        .expect("thread")
        .expect("staged");
    batch.settle(h, tmp_name);
    batch.sync().expect("synced");
    for h in inline.into_iter().chain([h]) {
        batch.place(h).expect("placed");
    }
    let far = tmp.path().join("far");
    assert_eq!(std::fs::read_to_string(&far).expect("far"), "far away\n");
    assert_eq!(mode(&far), 0o640);
    assert_eq!(listing(tmp.path()), ["far", "near"]);
}

#[test]
fn discarding_removes_files_staged_on_another_thread_once_settled() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut batch, d) = batch_in(tmp.path());
    let (h, job) = batch
        .detach(d, OsStr::new("gone"), "x\n".to_owned(), 0o644)
        .expect("detached");
    let tmp_name = job.stage().expect("staged");
    let TempName::Numbered(n) = tmp_name else {
        panic!("staged under a temporary name: {tmp_name:?}");
    };
    let named = TempText::of(n);
    assert!(
        named
            .as_str()
            .starts_with(crate::lifecycle::fsops::TEMP_PREFIX)
    );
    assert!(
        named
            .as_str()
            .ends_with(&format!("-{}-{n}", std::process::id()))
    );
    assert_eq!(listing(tmp.path()), [named.as_str()]);
    batch.settle(h, tmp_name);
    assert_eq!(batch.temp(h), named.as_str());
    batch.discard();
    assert!(listing(tmp.path()).is_empty());
}

#[test]
fn only_the_last_directories_keep_a_descriptor_and_every_file_is_placed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut batch = Batch::default();
    let kept = |b: &Batch| (0..b.dirs.len()).filter(|&i| b.opened(i).is_some()).count();
    let mut handles = Vec::new();
    let n = 3 * OPEN_DIRS;
    for i in 0..n {
        let d = batch
            .dir(&tmp.path().join(format!("d{i}")), || Ok(()))
            .expect("dir");
        let text = format!("{i}\n");
        let job = Job {
            dir: d,
            name: OsStr::new("f"),
            source: Source::File(text.as_bytes(), 0o644),
        };
        handles.extend(batch.stage(&[job]).expect("staged"));
        assert!(
            kept(&batch) <= OPEN_DIRS,
            "{} descriptors kept",
            kept(&batch)
        );
    }
    // a directory let go is opened again: by path (the same index) and for a file
    assert_eq!(batch.dir(&tmp.path().join("d0"), || Ok(())).ok(), Some(0));
    let job = Job {
        dir: 0,
        name: OsStr::new("g"),
        source: Source::File(b"g\n", 0o600),
    };
    handles.extend(batch.stage(&[job]).expect("staged"));
    // a file staged elsewhere after its directory was let go meanwhile
    let (h, job) = batch
        .detach(1, OsStr::new("h"), "h\n".to_owned(), 0o640)
        .expect("detached");
    for i in 2..2 + OPEN_DIRS {
        batch.keep(i).expect("kept");
    }
    assert!(batch.opened(1).is_none(), "let go");
    batch.settle(h, job.stage().expect("staged"));
    handles.push(h);
    assert!(kept(&batch) <= OPEN_DIRS);
    batch.sync().expect("synced");
    for h in handles {
        batch.place(h).expect("placed");
    }
    batch.sync_dirs();
    for i in 0..n {
        let d = tmp.path().join(format!("d{i}"));
        let names = match i {
            0 => vec!["f", "g"],
            1 => vec!["f", "h"],
            _ => vec!["f"],
        };
        assert_eq!(listing(&d), names, "d{i}: no temporary name left");
        assert_eq!(
            std::fs::read_to_string(d.join("f")).expect("f"),
            format!("{i}\n")
        );
    }
    assert_eq!(mode(&tmp.path().join("d1/h")), 0o640);
}

/// A run keeps a handle and an item per file it writes until the end: a handle, or none,
/// 4 bytes; an item (its directory, temporary name and file name), 16; and 12 bytes per
/// directory it writes into.
#[test]
fn a_handle_and_an_item_are_small() {
    assert_eq!(size_of::<Option<Handle>>(), 4);
    for i in [0, 1, 41, u32::MAX - 1] {
        let h = Handle::from_number(i);
        assert_eq!((h.number(), h.index()), (i, i as usize));
    }
    assert_eq!(size_of::<Item>(), 16);
    assert_eq!(size_of::<(Handle, TempName)>(), 12);
    assert_eq!(size_of::<super::Slot>(), 12);
}

/// Files staged within the room reserved for them never move the list of files (each
/// copy a list grown by doubling leaves behind stays in memory).
#[test]
fn staging_within_the_reserved_room_grows_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut batch = Batch::default();
    batch.reserve(100);
    let room = batch.items.capacity();
    assert!(room >= 100);
    let d = batch.dir(tmp.path(), || Ok(())).expect("dir");
    let names: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
    for name in &names {
        let job = Job {
            dir: d,
            name: OsStr::new(name),
            source: Source::File(b"x\n", 0o644),
        };
        batch.stage(&[job]).expect("staged");
    }
    assert_eq!(batch.items.capacity(), room);
    batch.discard();
}

/// A batch that let go of its lookup by path still finds each of its directories, under
/// the same index (none added twice), and builds the lookup again for a new one.
#[test]
fn directories_are_found_again_after_the_lookup_is_let_go() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut batch = Batch::default();
    let paths: Vec<_> = (0..100).map(|i| tmp.path().join(format!("d{i}"))).collect();
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(batch.dir(p, || Ok(())).ok(), Some(i));
    }
    batch.unindex();
    assert!(paths.iter().all(|p| batch.has_dir(p)));
    assert!(!batch.has_dir(&tmp.path().join("elsewhere")));
    let checked = std::cell::Cell::new(0);
    let check = || {
        checked.set(checked.get() + 1);
        Ok(())
    };
    for (i, p) in paths.iter().enumerate().rev() {
        assert_eq!(batch.dir(p, check).ok(), Some(i), "{}", p.display());
    }
    assert_eq!(checked.get(), 0, "none checked (created) again");
    let new = tmp.path().join("new");
    assert_eq!(batch.dir(&new, check).ok(), Some(100));
    assert_eq!(checked.get(), 1);
    assert_eq!(batch.dirs.len(), 101);
}
