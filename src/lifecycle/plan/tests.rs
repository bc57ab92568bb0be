//! The planner's rules, on data only; `scan` on a real directory.
use super::*;
use crate::backend::Artifact;

fn file(path: &str, text: &str) -> Desired {
    Desired {
        path: path.into(),
        kind: Kind::File,
        mode: 0o644,
        contents: text.into(),
    }
}

fn link(path: &str, to: &str) -> Desired {
    Desired::from_artifact(&Artifact::symlink(path, to))
}

fn on_disk(text: &str) -> OnDisk {
    OnDisk::File {
        mode: 0o644,
        bytes: text.as_bytes().to_vec(),
    }
}

fn owned(entries: &[(&str, &str)]) -> Ledger {
    let mut l = Ledger::default();
    for (p, t) in entries {
        l.files
            .insert((*p).into(), Entry::of(Kind::File, 0o644, t.as_bytes()));
    }
    l
}

fn disk(entries: &[(&str, OnDisk)]) -> BTreeMap<String, OnDisk> {
    entries
        .iter()
        .map(|(p, d)| ((*p).to_owned(), d.clone()))
        .collect()
}

fn actions(plan: &Plan) -> Vec<(&str, &Action)> {
    plan.steps.iter().map(|s| (&*s.path, &s.action)).collect()
}

const PRUNE: Options = Options {
    force: false,
    prune: true,
};

#[test]
fn every_rule_for_desired_paths() {
    let desired = [
        file("new", "n"),
        file("ours-same", "s"),
        file("ours-old", "v2"),
        file("edited", "v2"),
        file("foreign", "v2"),
        file("identical", "i"),
        file("dir", "d"),
    ];
    let ledger = owned(&[("ours-same", "s"), ("ours-old", "v1"), ("edited", "v1")]);
    let now = disk(&[
        ("ours-same", on_disk("s")),
        ("ours-old", on_disk("v1")),
        ("edited", on_disk("by hand")),
        ("foreign", on_disk("theirs")),
        ("identical", on_disk("i")),
        ("dir", OnDisk::Blocked("x/dir is a directory".into())),
    ]);
    let p = plan(&desired, &ledger, &now, Options::default());
    assert_eq!(
        actions(&p),
        [
            ("dir", &Action::Refuse(Conflict::Blocked)),
            ("edited", &Action::Refuse(Conflict::Edited)),
            ("foreign", &Action::Refuse(Conflict::Foreign)),
            ("identical", &Action::Adopt),
            ("new", &Action::Create),
            ("ours-old", &Action::Update),
            ("ours-same", &Action::Keep),
        ]
    );
    assert_eq!(p.refusals().len(), 3);
    let why = |path: &str| {
        let step = p.steps.iter().find(|s| *s.path == *path).expect("step");
        match step.action {
            Action::Refuse(c) => c.why(&step.found).to_owned(),
            _ => String::new(),
        }
    };
    assert_eq!(why("dir"), "x/dir is a directory");
    assert_eq!(why("edited"), "edited since openim-init wrote it");
    assert_eq!(why("foreign"), "not written by openim-init");
    // the run stops at the path nothing can be written to, else at every conflict
    assert_eq!(
        p.refused(|p| format!("/{p}")),
        Some(Refused::Blocked(
            "refusing to write /dir: x/dir is a directory".into()
        ))
    );
    let unblocked = plan(&desired[..6], &ledger, &now, Options::default());
    assert_eq!(
        unblocked.refused(str::to_owned),
        Some(Refused::Conflicts(vec![
            "edited (edited since)".into(),
            "foreign".into()
        ]))
    );
    let forced = plan(
        &desired,
        &ledger,
        &now,
        Options {
            force: true,
            prune: false,
        },
    );
    let f = |path: &str| {
        forced
            .steps
            .iter()
            .find(|s| *s.path == *path)
            .map(|s| &s.action)
    };
    assert_eq!(f("edited"), Some(&Action::Force(Conflict::Edited)));
    assert_eq!(f("foreign"), Some(&Action::Force(Conflict::Foreign)));
    assert!(
        matches!(f("dir"), Some(Action::Refuse(_))),
        "blocked even with force"
    );
    assert_eq!(forced.changed(), 4, "{}", forced.summary());
}

#[test]
fn a_mode_or_kind_change_of_an_owned_file_is_an_update() {
    let ledger = owned(&[("a", "x"), ("b", "x")]);
    let now = disk(&[("a", on_disk("x")), ("b", on_disk("x"))]);
    let mut exec = file("a", "x");
    exec.mode = 0o755;
    let p = plan(&[exec, link("b", "x")], &ledger, &now, PRUNE);
    assert_eq!(
        actions(&p),
        [("a", &Action::Update), ("b", &Action::Update)]
    );
    let text = render_dry_run(&p, "/out");
    assert!(
        text.contains("update: /out/a\nmode 0644 → 0755\n"),
        "{text}"
    );
    assert!(
        text.contains("--- a/b\n+++ b/b\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+-> x\n"),
        "{text}"
    );
}

#[test]
fn owned_paths_no_longer_desired_when_pruning() {
    let ledger = owned(&[("gone", "g"), ("stale", "s"), ("edited", "e")]);
    let now = disk(&[("stale", on_disk("s")), ("edited", on_disk("by hand"))]);
    let p = plan(&[], &ledger, &now, PRUNE);
    assert_eq!(
        actions(&p),
        [
            ("edited", &Action::KeepEdited),
            ("gone", &Action::Forget),
            ("stale", &Action::Remove)
        ]
    );
    assert!(p.ledger_after(&ledger).expect("after").files.is_empty());
    let forced = plan(
        &[],
        &ledger,
        &now,
        Options {
            force: true,
            prune: true,
        },
    );
    assert_eq!(forced.steps[0].action, Action::Force(Conflict::Edited));
    // without pruning (generate --out) they are left alone and stay owned
    let kept = plan(&[], &ledger, &now, Options::default());
    assert!(kept.steps.iter().all(|s| s.action == Action::Retain));
    assert_eq!(
        kept.ledger_after(&ledger).expect("after").files,
        ledger.files
    );
    assert_eq!(kept.changed(), 0);
}

#[test]
fn planning_what_is_already_there_changes_nothing() {
    let desired = [
        file("a.service", "A\n"),
        file("b.service", "B\n"),
        link("b.1", "b"),
    ];
    let first = plan(&desired, &Ledger::default(), &BTreeMap::new(), PRUNE);
    assert_eq!(first.changed(), 3);
    assert_eq!(
        first.summary(),
        "3 changed (3 created, 0 updated, 0 removed), 0 unchanged"
    );
    // the disk and ledger as the first plan leaves them
    let ledger = first.ledger_after(&Ledger::default()).expect("after");
    let now = disk(&[
        ("a.service", on_disk("A\n")),
        ("b.service", on_disk("B\n")),
        (
            "b.1",
            OnDisk::Symlink {
                target: b"b".to_vec(),
            },
        ),
    ]);
    let again = plan(&desired, &ledger, &now, PRUNE);
    assert_eq!(again.changed(), 0);
    assert_eq!(
        again.summary(),
        "0 changed (0 created, 0 updated, 0 removed), 3 unchanged"
    );
    assert_eq!(again.ledger_after(&ledger).expect("after"), ledger);
    assert_eq!(
        render_dry_run(&again, "/"),
        "0 changed (0 created, 0 updated, 0 removed), 3 unchanged\n"
    );
}

#[test]
fn a_path_desired_twice_is_refused() {
    let p = plan(
        &[file("a", "1"), file("a", "2")],
        &Ledger::default(),
        &BTreeMap::new(),
        PRUNE,
    );
    assert_eq!(p.refusals().len(), 1);
    let twice = p.refusals()[0];
    assert_eq!(twice.action, Action::Refuse(Conflict::Twice));
    assert_eq!(
        Conflict::Twice.why(&twice.found),
        "it would be written twice"
    );
    assert_eq!(
        p.refused(str::to_owned),
        Some(Refused::Blocked(
            "refusing to write a: it would be written twice".into()
        ))
    );
}

#[test]
fn dry_run_shows_unified_diffs_of_what_changes() {
    let desired = [
        file("etc/a.service", "[Unit]\nDescription=A v2\n"),
        file("etc/new.conf", "x=1\n"),
    ];
    let ledger = owned(&[
        ("etc/a.service", "[Unit]\nDescription=A\n"),
        ("etc/old.service", "old\n"),
    ]);
    let now = disk(&[
        ("etc/a.service", on_disk("[Unit]\nDescription=A\n")),
        ("etc/old.service", on_disk("old\n")),
    ]);
    let text = render_dry_run(&plan(&desired, &ledger, &now, PRUNE), "/");
    assert_eq!(
        text,
        "update: /etc/a.service\n\
         --- a/etc/a.service\n+++ b/etc/a.service\n@@ -1,2 +1,2 @@\n [Unit]\n-Description=A\n+Description=A v2\n\
         create: /etc/new.conf\n\
         --- /dev/null\n+++ b/etc/new.conf\n@@ -0,0 +1 @@\n+x=1\n\
         remove: /etc/old.service\n\
         --- a/etc/old.service\n+++ /dev/null\n@@ -1 +0,0 @@\n-old\n\
         3 changed (1 created, 1 updated, 1 removed), 0 unchanged\n"
    );
}

#[test]
fn scan_reads_files_links_and_blocks_unsafe_parents() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path();
    std::fs::create_dir(base.join("real")).expect("dir");
    std::fs::write(base.join("real/f"), "text").expect("file");
    std::os::unix::fs::symlink("f", base.join("real/l")).expect("link");
    std::os::unix::fs::symlink("real", base.join("via")).expect("dir link");
    let paths = ["real/f", "real/l", "real/none", "real", "via/f"];
    let found = scan(base, paths, true).expect("scan");
    assert_eq!(found["real/f"], on_disk("text"));
    assert_eq!(
        found["real/l"],
        OnDisk::Symlink {
            target: b"f".to_vec()
        }
    );
    assert_eq!(found["real/none"], OnDisk::Missing);
    assert!(matches!(&found["real"], OnDisk::Blocked(w) if w.ends_with("is a directory")));
    assert!(matches!(&found["via/f"], OnDisk::Blocked(w) if w.ends_with("is a symlink")));
    let unconfined = scan(base, ["via/f"], false).expect("scan");
    assert_eq!(
        unconfined["via/f"],
        on_disk("text"),
        "system trees may go through links"
    );
}

#[test]
fn a_step_that_leaves_a_file_alone_keeps_only_its_entry() {
    let desired = [file("a", "A\n"), file("b", "B2\n"), file("c", "C\n")];
    let ledger = owned(&[("a", "A\n"), ("b", "B\n")]);
    let now = disk(&[
        ("a", on_disk("A\n")),
        ("b", on_disk("B\n")),
        ("c", on_disk("C\n")),
    ]);
    let p = plan(&desired, &ledger, &now, PRUNE);
    let step = |path: &str| p.steps.iter().find(|s| *s.path == *path).expect("step");
    // kept and adopted: only the entry, which is what is there
    for path in ["a", "c"] {
        let s = step(path);
        assert!(matches!(s.action, Action::Keep | Action::Adopt), "{path}");
        assert!(matches!(s.found, OnDisk::Same(_)), "{path}: {:?}", s.found);
        assert_eq!(s.found.entry(), now[path].entry(), "{path}");
        assert_eq!(s.found.text(), None, "{path}");
    }
    // updated: the old contents stay (a crash puts them back)
    assert_eq!(step("b").action, Action::Update);
    assert_eq!(step("b").found, on_disk("B\n"));
    // what is the same is still the same to the rules
    let want = Entry::of(Kind::File, 0o644, b"A\n");
    let same = OnDisk::Same(want.clone());
    assert_eq!(desired_step(&want, Some(&want), &same, PRUNE), Action::Keep);
    assert_eq!(desired_step(&want, None, &same, PRUNE), Action::Adopt);
}

#[test]
fn the_entries_after_a_plan_are_walked_in_path_order_as_the_ledger_after_it() {
    let entry = |t: &str| Entry::of(Kind::File, 0o644, t.as_bytes());
    let before = owned(&[
        ("a", "a0"),
        ("c", "c0"),
        ("e", "e0"),
        ("g", "g0"),
        ("z", "z0"),
    ]);
    let step = |path: &str, action: Action, new: Option<&str>| Step {
        path: path.into(),
        action,
        desired: None,
        entry: new.map(entry),
        found: OnDisk::Missing,
    };
    let plan = Plan {
        steps: vec![
            step("a", Action::Update, Some("a1")),
            step("b", Action::Create, Some("b1")),
            step("c", Action::Remove, None),
            step("d", Action::Refuse(Conflict::Foreign), Some("d1")),
            step("e", Action::Retain, None),
            step("f", Action::Force(Conflict::Edited), Some("f1")),
            step("g", Action::Refuse(Conflict::Edited), Some("g1")),
            step("h", Action::Forget, None),
        ],
    };
    // the ledger after, as a copy of the one before with each step's change
    let mut expected = before.files.clone();
    for s in &plan.steps {
        match (&s.action, &s.entry) {
            (Action::Retain | Action::Refuse(_), _) => {}
            (_, Some(e)) => {
                expected.insert(s.path.to_string(), e.clone());
            }
            (_, None) => {
                expected.remove(&*s.path);
            }
        }
    }
    let walked: Vec<(String, Entry)> = plan
        .entries_after(&before)
        .map(|f| f.map(|(p, e)| (p.into_owned(), e)))
        .collect::<std::io::Result<_>>()
        .expect("walked");
    let want: Vec<(String, Entry)> = expected.clone().into_iter().collect();
    assert_eq!(walked, want);
    let paths: Vec<&str> = walked.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["a", "b", "e", "f", "g", "z"]);
    assert_eq!(plan.ledger_after(&before).expect("after").files, expected);
    // from no ledger at all, and from a ledger with no step
    let empty = Ledger::default();
    let none: Vec<String> = plan
        .entries_after(&empty)
        .map(|f| f.map(|(p, _)| p.into_owned()))
        .collect::<std::io::Result<_>>()
        .expect("walked");
    assert_eq!(none, ["a", "b", "f"]);
    let untouched = Plan::default();
    assert_eq!(
        untouched.ledger_after(&before).expect("after").files,
        before.files
    );
}
