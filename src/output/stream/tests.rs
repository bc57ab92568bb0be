//! Unit tests of writing while rendering: a path rendered twice is refused (the feed keeps
//! only a hash of each path; the writing thread, which has the paths, decides).

use std::cell::RefCell;
use std::path::Path;

use super::{Feed, write_streamed};
use crate::backend::kit::Part;
use crate::backend::{Artifact, Sink as _};
use crate::errors::Error;

/// Hand `files` (path, text; a text in `|`-separated parts is written in parts) to the feed.
fn render(feed: &RefCell<Feed>, files: &[(&str, &str)]) -> crate::errors::Result<()> {
    let mut feed = feed.borrow_mut();
    for (path, text) in files {
        if !text.contains('|') {
            feed.take(Artifact::file(*path, 0o644, *text))?;
            continue;
        }
        let pieces: Vec<&str> = text.split('|').collect();
        for (i, piece) in pieces.iter().enumerate() {
            feed.take_part(Part {
                path,
                mode: 0o644,
                text: &mut (*piece).to_owned(),
                first: i == 0,
                last: i + 1 == pieces.len(),
                size_hint: text.len(),
            })?;
        }
    }
    Ok(())
}

/// Write `files` into `dir` while "rendering" them: the lines for the user, or the error.
fn write(dir: &Path, files: &[(&str, &str)]) -> crate::errors::Result<Vec<String>> {
    let ((), report) = write_streamed(dir, false, files.len(), |feed| render(feed, files))?;
    Ok(report.lines())
}

fn refused_twice(r: &crate::errors::Result<Vec<String>>, path: &str) -> bool {
    matches!(r, Err(Error::Usage(m)) if m == &format!("refusing to write {path} twice"))
}

/// Every file under `dir`, with its text, in path order.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in walk(dir) {
        let rel = e
            .strip_prefix(dir)
            .expect("under dir")
            .display()
            .to_string();
        out.push((rel, std::fs::read_to_string(&e).expect("file")));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[test]
fn a_path_rendered_twice_into_a_new_directory_is_refused_and_nothing_is_left() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let cases: [&[(&str, &str)]; 3] = [
        &[("a/run", "1\n"), ("b/run", "2\n"), ("a/run", "3\n")],
        // a whole file at the path of one made in parts, and the other way round
        &[("a/run", "1|2\n"), ("a/run", "3\n")],
        &[("a/run", "1\n"), ("b/x", "y\n"), ("a/run", "2|3\n")],
    ];
    for files in cases {
        let r = write(&out, files);
        assert!(refused_twice(&r, "a/run"), "{files:?}: {r:?}");
        assert!(!out.exists(), "{files:?}: nothing is left");
        assert_eq!(walk(tmp.path()), Vec::<std::path::PathBuf>::new());
    }
}

#[test]
fn a_path_rendered_twice_into_a_directory_written_before_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    write(&out, &[("a/run", "old\n"), ("b/run", "old\n")]).expect("first write");
    let before = tree(&out);
    let r = write(
        &out,
        &[("a/run", "new\n"), ("c/run", "new\n"), ("a/run", "again\n")],
    );
    assert!(refused_twice(&r, "a/run"), "{r:?}");
    assert_eq!(tree(&out), before);
}

#[test]
fn many_distinct_paths_are_all_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let paths: Vec<String> = (0..3000).map(|i| format!("s{}/f{}", i % 300, i)).collect();
    let files: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), "x\n")).collect();
    let lines = write(&out, &files).expect("written");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("3000 changed (3000 created, 0 updated, 0 removed), 0 unchanged")
    );
    // the files and the ledger
    assert_eq!(tree(&out).len(), 3001);
}

#[test]
fn paths_whose_hashes_are_alike_are_written_and_a_path_twice_is_still_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    super::feed::ALIKE.set(true);
    let distinct = write(
        &tmp.path().join("a"),
        &[("x/run", "1\n"), ("y/run", "2|3\n"), ("x/log", "4\n")],
    );
    let twice = write(
        &tmp.path().join("b"),
        &[("x/run", "1\n"), ("y/run", "2|3\n"), ("y/run", "4\n")],
    );
    super::feed::ALIKE.set(false);
    assert_eq!(distinct.expect("written").len(), 4);
    assert_eq!(tree(&tmp.path().join("a")).len(), 4);
    assert!(refused_twice(&twice, "y/run"), "{twice:?}");
    assert!(!tmp.path().join("b").exists());
}
