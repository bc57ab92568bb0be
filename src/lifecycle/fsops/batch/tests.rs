//! Staging a batch of files and placing them.

use std::os::unix::fs::PermissionsExt as _;

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
