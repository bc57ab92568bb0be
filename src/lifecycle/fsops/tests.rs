//! Atomic writes and links, what a path holds, the parent check, the sync of a tree.

use super::*;

#[test]
fn atomic_write_leaves_no_temporary_file_and_sets_the_mode() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("x.sh");
    std::fs::write(&path, "old").expect("old");
    write_atomic(&path, b"new", 0o755).expect("write");
    assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("new"));
    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o7777);
    assert_eq!(mode.ok(), Some(0o755));
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["x.sh"]);
}

#[test]
fn links_replace_files_and_leftovers_are_removed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("a.1");
    std::fs::write(&path, "file").expect("file");
    symlink_atomic(&path, "a").expect("link");
    assert_eq!(inspect(&path).ok(), Some(Found::Link));
    std::fs::write(tmp.path().join(format!("{TEMP_PREFIX}x")), "").expect("leftover");
    let removed = remove_leftovers([tmp.path().to_path_buf()]);
    assert_eq!(removed.len(), 1);
    remove(&path).expect("rm");
    remove(&path).expect("rm of a missing file is fine");
    assert_eq!(inspect(&path).ok(), Some(Found::Missing));
}

#[test]
fn blocked_parent_names_the_first_bad_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path();
    std::fs::create_dir(base.join("real")).expect("dir");
    std::os::unix::fs::symlink("real", base.join("link")).expect("link");
    std::fs::write(base.join("file"), "").expect("file");
    let check = |rel: &str| blocked_parent(base, Path::new(rel)).expect("inspect");
    assert_eq!(check("real/x"), None);
    assert_eq!(check("new/deeper/x"), None);
    assert!(check("link/x").is_some_and(|m| m.ends_with("link is a symlink")));
    assert!(check("file/x").is_some_and(|m| m.contains("a file, not a directory")));
}

#[test]
fn a_tree_is_synced_file_by_file_without_following_its_links() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let top = tmp.path().join("tree");
    std::fs::create_dir_all(top.join("a/b")).expect("dirs");
    std::fs::write(top.join("a/b/run"), "x").expect("file");
    std::fs::write(top.join("top"), "y").expect("file");
    // opened, a link to nothing would fail
    std::os::unix::fs::symlink("missing", top.join("a/dangling")).expect("link");
    sync_each(&top).expect("every file and directory synced");
    sync_tree(&top).expect("synced whole");
    let gone = sync_each(&tmp.path().join("gone")).expect_err("nothing to sync");
    assert!(format!("{gone:#}").contains("gone"), "{gone:#}");
}
