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
        let text = match std::fs::read_link(&e) {
            Ok(target) => format!("@{}", target.display()),
            Err(_) => std::fs::read_to_string(&e).expect("file"),
        };
        out.push((rel, text));
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
    // there the feed keeps no hashes: the writing thread finds the path among its steps
    // (changed or new files) and its marks in the ledger (files left as they are)
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let first = [("a/run", "old\n"), ("b/run", "old\n"), ("p/run", "x|y\n")];
    write(&out, &first).expect("first write");
    let before = tree(&out);
    let cases: [(&str, &[(&str, &str)]); 9] = [
        (
            "a/run",
            &[("a/run", "new\n"), ("c/run", "new\n"), ("a/run", "again\n")],
        ),
        ("a/run", &[("a/run", "old\n"), ("a/run", "old\n")]),
        (
            "a/run",
            &[("a/run", "old\n"), ("b/run", "new\n"), ("a/run", "new\n")],
        ),
        ("a/run", &[("a/run", "new\n"), ("a/run", "old\n")]),
        (
            "c/run",
            &[("c/run", "new\n"), ("b/run", "old\n"), ("c/run", "new\n")],
        ),
        ("p/run", &[("p/run", "x|y\n"), ("p/run", "z\n")]),
        ("a/run", &[("a/run", "old\n"), ("a/run", "1|2\n")]),
        ("p/run", &[("p/run", "1|2\n"), ("p/run", "x|y\n")]),
        ("c/run", &[("c/run", "1|2\n"), ("c/run", "1|2\n")]),
    ];
    for (path, files) in cases {
        let r = write(&out, files);
        assert!(refused_twice(&r, path), "{files:?}: {r:?}");
        assert_eq!(tree(&out), before, "{files:?}");
    }
    // and distinct paths whose steps are many still go through
    let many: Vec<String> = (0..500).map(|i| format!("m{}/f{i}", i % 50)).collect();
    let mut files: Vec<(&str, &str)> = first.to_vec();
    files.extend(many.iter().map(|p| (p.as_str(), "m\n")));
    let lines = write(&out, &files).expect("written");
    assert!(
        lines.last().is_some_and(|l| l.starts_with("500 changed")),
        "{lines:?}"
    );
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

#[test]
fn a_new_directory_lists_its_files_in_path_order_and_its_ledger_knows_them_all() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let render = |feed: &RefCell<Feed>| -> crate::errors::Result<()> {
        let mut f = feed.borrow_mut();
        f.take(Artifact::file("z/run", 0o755, "run\n"))?;
        f.take(Artifact::symlink("a/current", "run"))?;
        for (i, piece) in ["1\n", "2\n"].iter().enumerate() {
            f.take_part(Part {
                path: "m/parts",
                mode: 0o644,
                text: &mut (*piece).to_owned(),
                first: i == 0,
                last: i == 1,
                size_hint: 4,
            })?;
        }
        f.take(Artifact::file("b", 0o600, "b\n"))
    };
    let ((), first) = write_streamed(&out, false, 4, render).expect("written");
    let root = std::fs::canonicalize(&out)
        .expect("out")
        .display()
        .to_string();
    assert_eq!(
        first.lines(),
        [
            format!("linked {root}/a/current -> run"),
            format!("wrote {root}/b (0600)"),
            format!("wrote {root}/m/parts (0644)"),
            format!("wrote {root}/z/run (0755)"),
            "4 changed (4 created, 0 updated, 0 removed), 0 unchanged".to_owned(),
        ],
        "in path order, as a later run lists them"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("m/parts")).expect("parts"),
        "1\n2\n"
    );
    let link = std::fs::read_link(out.join("a/current")).expect("link");
    assert_eq!(link, Path::new("run"));
    // the ledger holds every file as written: a second run finds each one unchanged
    let ((), again) = write_streamed(&out, false, 4, render).expect("again");
    assert_eq!(
        again.lines(),
        [
            format!("unchanged {root}/a/current"),
            format!("unchanged {root}/b"),
            format!("unchanged {root}/m/parts"),
            format!("unchanged {root}/z/run"),
            "0 changed (0 created, 0 updated, 0 removed), 4 unchanged".to_owned(),
        ]
    );
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["out"], "no tree is left next to it");
}

#[test]
fn a_file_in_the_way_of_a_new_directory_s_path_is_refused_by_its_place_in_dir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let r = write(&out, &[("a", "1\n"), ("a/b", "2\n")]);
    let Err(Error::Usage(m)) = &r else {
        panic!("{r:?}");
    };
    let a = tmp.path().join("out/a");
    assert_eq!(
        m,
        &format!(
            "refusing to write a/b: {} is a file, not a directory",
            a.display()
        )
    );
    assert_eq!(walk(tmp.path()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_directory_met_again_after_its_listing_was_let_go_is_looked_at_again() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let dirs = 2 * super::dirs::LISTED;
    let paths: Vec<String> = (0..4 * dirs)
        .map(|i| format!("s{}/f{i}", i % dirs))
        .collect();
    let files: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), "x\n")).collect();
    std::fs::create_dir(&out).expect("an existing DIR: the journaled way");
    write(&out, &files).expect("written");
    // a file openim-init did not write, in the first directory, taken last: by then that
    // directory's first listing was let go
    let last = paths
        .last()
        .expect("paths")
        .replace(&format!("s{}/", dirs - 1), "s0/");
    std::fs::write(out.join(&last), "mine\n").expect("foreign");
    let mut again = files.clone();
    again.push((&last, "x\n"));
    let r = write(&out, &again);
    let Err(Error::Usage(m)) = &r else {
        panic!("{r:?}");
    };
    assert!(m.contains(&last), "{m}");
    assert_eq!(
        std::fs::read_to_string(out.join(&last)).expect("kept"),
        "mine\n"
    );
    // without it, every file is found as written: nothing changes
    std::fs::remove_file(out.join(&last)).expect("rm");
    let lines = write(&out, &files).expect("again");
    let summary = format!(
        "0 changed (0 created, 0 updated, 0 removed), {} unchanged",
        4 * dirs
    );
    assert_eq!(lines.last(), Some(&summary));
}

/// The artifacts of `files` as whole files (a text in parts joined), a `@target` text as a
/// link.
fn artifacts(files: &[(&str, &str)]) -> Vec<Artifact> {
    let one = |(path, text): &(&str, &str)| match text.strip_prefix('@') {
        Some(target) => Artifact::symlink(*path, target),
        None => Artifact::file(*path, 0o644, text.replace('|', "")),
    };
    files.iter().map(one).collect()
}

/// [`render`], with a `@target` text as a link.
fn render_links(feed: &RefCell<Feed>, files: &[(&str, &str)]) -> crate::errors::Result<()> {
    for (path, text) in files {
        if let Some(target) = text.strip_prefix('@') {
            feed.borrow_mut().take(Artifact::symlink(*path, target))?;
        } else {
            render(feed, &[(path, text)])?;
        }
    }
    Ok(())
}

#[test]
fn regenerating_says_and_records_what_the_whole_plan_says_and_records() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first: &[(&str, &str)] = &[
        ("a/x", "1\n"),
        ("b/y", "2\n"),
        ("c/z", "3|4\n"),
        ("d/w", "5\n"),
        ("e/v", "6\n"),
        ("e/link", "@v"),
    ];
    // out of path order, one file changed, one link retargeted, two new, one no longer
    // rendered (kept and still owned: no pruning)
    let second: &[(&str, &str)] = &[
        ("e/v", "6\n"),
        ("a/x", "1, changed\n"),
        ("c/z", "3|4\n"),
        ("e/link", "@x"),
        ("b/y", "2\n"),
        ("f/new", "7\n"),
        ("0/first", "0|\n"),
        ("b/link", "@y"),
    ];
    let (streamed, whole) = (tmp.path().join("streamed"), tmp.path().join("whole"));
    for dir in [&streamed, &whole] {
        std::fs::create_dir(dir).expect("an existing DIR: the journaled way");
    }
    let stream = |files: &[(&str, &str)]| {
        let run = |feed: &RefCell<Feed>| render_links(feed, files);
        let ((), report) = write_streamed(&streamed, false, files.len(), run).expect("streamed");
        report.lines()
    };
    let shown = |lines: Vec<String>, dir: &Path| {
        let root = dir.display().to_string();
        lines
            .iter()
            .map(|l| l.replace(&root, "DIR"))
            .collect::<Vec<_>>()
    };
    let twice = |files: &[(&str, &str)]| {
        let a = shown(stream(files), &streamed);
        let b = crate::output::write_all(&whole, &artifacts(files), false).expect("whole");
        (a, shown(b, &whole))
    };
    for files in [first, second, second] {
        let (a, b) = twice(files);
        assert_eq!(a, b);
        let ledger =
            |dir: &Path| std::fs::read(dir.join(".openim-init/ledger.json")).expect("ledger");
        assert_eq!(ledger(&streamed), ledger(&whole));
    }
    let (lines, _) = twice(second);
    assert_eq!(
        lines,
        [
            "unchanged DIR/0/first",
            "unchanged DIR/a/x",
            "unchanged DIR/b/link",
            "unchanged DIR/b/y",
            "unchanged DIR/c/z",
            "unchanged DIR/e/link",
            "unchanged DIR/e/v",
            "unchanged DIR/f/new",
            "0 changed (0 created, 0 updated, 0 removed), 8 unchanged",
        ]
    );
    assert_eq!(tree(&streamed), tree(&whole));
}
