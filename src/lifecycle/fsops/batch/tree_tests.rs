//! A new tree's files: under their own names, a name only once, directories kept a few at a
//! time.

use std::cell::Cell;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt as _;

use super::*;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

#[test]
fn files_go_under_their_own_names_and_a_name_is_written_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut tree = Tree::new(tmp.path().to_path_buf());
    let d = tree.dir("svc/log", |_| Ok(())).expect("dir");
    d.write(OsStr::new("run"), Source::File(b"#!/bin/sh\n", 0o755))
        .expect("run");
    d.write(OsStr::new("current"), Source::Link("../run"))
        .expect("link");
    d.detach(OsStr::new("finish"), "exit 0\n".to_owned(), 0o640)
        .stage()
        .expect("staged elsewhere");
    let fd = d.open(OsStr::new("parts"), 0o600).expect("opened");
    for part in ["a", "b\n"] {
        d.append(OsStr::new("parts"), &fd, part.as_bytes())
            .expect("part");
    }
    drop(fd);
    let at = tmp.path().join("svc/log");
    assert_eq!(read(&at.join("run")), "#!/bin/sh\n");
    assert_eq!(read(&at.join("finish")), "exit 0\n");
    assert_eq!(read(&at.join("parts")), "ab\n");
    let link = std::fs::read_link(at.join("current")).expect("a link");
    assert_eq!(link, Path::new("../run"));
    for (name, mode) in [("run", 0o755), ("finish", 0o640), ("parts", 0o600)] {
        let meta = std::fs::metadata(at.join(name)).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "{name}");
    }
    // no temporary name is left: the directory holds exactly the files
    let mut names: Vec<_> = std::fs::read_dir(&at)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["current", "finish", "parts", "run"]);
    // a name is never written over: a second file or link there fails, the first stays
    let again = d.write(OsStr::new("run"), Source::File(b"other\n", 0o644));
    assert!(again.is_err());
    assert!(d.write(OsStr::new("current"), Source::Link("x")).is_err());
    assert_eq!(read(&at.join("run")), "#!/bin/sh\n");
}

#[test]
fn only_the_last_directories_are_kept_and_one_met_again_is_checked_and_opened_again() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut tree = Tree::new(tmp.path().to_path_buf());
    let checked = Cell::new(0);
    let check = |top: &Path| {
        assert_eq!(top, tmp.path());
        checked.set(checked.get() + 1);
        Ok(())
    };
    for i in 0..=OPEN_DIRS {
        let d = tree.dir(&format!("s{i}"), check).expect("dir");
        d.write(OsStr::new("a"), Source::File(b"1\n", 0o644))
            .expect("a");
    }
    assert_eq!(tree.recent.len(), OPEN_DIRS, "no more than that kept");
    assert_eq!(checked.get(), OPEN_DIRS + 1);
    // the last one is kept: not checked again
    tree.dir(&format!("s{OPEN_DIRS}"), check).expect("kept");
    assert_eq!(checked.get(), OPEN_DIRS + 1);
    // the first was let go: checked and opened again, and its file is still there
    let first = tree.dir("s0", check).expect("again");
    assert_eq!(checked.get(), OPEN_DIRS + 2);
    first
        .write(OsStr::new("b"), Source::File(b"2\n", 0o644))
        .expect("b");
    assert_eq!(read(&tmp.path().join("s0/a")), "1\n");
    assert_eq!(read(&tmp.path().join("s0/b")), "2\n");
    // a check that refuses stops the directory from being made
    let refused = tree.dir("blocked/x", |_| anyhow::bail!("no"));
    assert!(refused.is_err());
    assert!(!tmp.path().join("blocked").exists());
}
