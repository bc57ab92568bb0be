//! Unit tests of the copies a run keeps to put files back.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use super::copy_for_rollback;
use crate::lifecycle::ledger::{Entry, Kind};
use crate::lifecycle::plan::OnDisk;

/// The mode bits of `path`.
fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn a_copy_to_put_back_is_the_file_byte_for_byte_with_its_mode_and_no_temporary_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let txn = tmp.path().join("txn");
    let from = tmp.path().join("run");
    std::fs::write(&from, "#!/bin/sh\nexec old\n").expect("write");
    let known = OnDisk::Known(Entry::of(Kind::File, 0o750, b"#!/bin/sh\nexec old\n"));
    let mut made = PathBuf::new();
    let copy = copy_for_rollback(&txn, &from, "svc/a/run", &known, &mut made)
        .expect("copied")
        .expect("a copy");
    assert_eq!(copy, txn.join("svc/a/run"));
    assert_eq!(
        std::fs::read_to_string(&copy).ok().as_deref(),
        Some("#!/bin/sh\nexec old\n")
    );
    assert_eq!(mode(&copy), 0o750);
    assert_eq!(made, txn.join("svc/a"));
    // a file read whole, into the same directory (made once) and into another
    let file = OnDisk::File {
        mode: 0o600,
        bytes: b"x=1\n".to_vec(),
    };
    for rel in ["svc/a/env", "svc/b/env"] {
        let copy = copy_for_rollback(&txn, &from, rel, &file, &mut made)
            .expect("copied")
            .expect("a copy");
        assert_eq!(std::fs::read(&copy).ok().as_deref(), Some(&b"x=1\n"[..]));
        assert_eq!(mode(&copy), 0o600);
    }
    let names = |d: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(txn.join(d))
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("svc/a"), ["env", "run"]);
    assert_eq!(names("svc/b"), ["env"]);
    // nothing to copy: no copy and no directory
    let none = copy_for_rollback(&txn, &from, "c/new", &OnDisk::Missing, &mut made);
    assert_eq!(none.expect("nothing"), None);
    assert!(!txn.join("c").exists());
}

#[test]
fn a_file_changed_since_it_was_hashed_is_not_copied_and_the_run_stops() {
    let tmp = tempfile::tempdir().expect("tmp");
    let from = tmp.path().join("run");
    std::fs::write(&from, "edited by hand\n").expect("write");
    let known = OnDisk::Known(Entry::of(Kind::File, 0o755, b"as planned\n"));
    let err = copy_for_rollback(
        &tmp.path().join("txn"),
        &from,
        "run",
        &known,
        &mut PathBuf::new(),
    )
    .expect_err("changed");
    assert!(
        format!("{err:#}").contains("changed while this run was planning"),
        "{err:#}"
    );
}
