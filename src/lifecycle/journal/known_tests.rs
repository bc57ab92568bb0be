//! Files known on disk by their entry only (as `--out` reads them): a copy to save is
//! taken from the disk, and checked.

use super::tests::{Setup, file, plan_for, run, setup, tree};
use super::*;
use crate::lifecycle::plan::{Desired, OnDisk, Options};

/// The plan of `desired` with each file found on disk known by its entry only, as `--out`
/// reads them ([`OnDisk::Known`]).
fn plan_known(s: &Setup, desired: &[Desired], opts: Options) -> (Plan, Ledger) {
    let (mut p, ledger) = plan_for(s, desired, opts);
    for step in &mut p.steps {
        if let OnDisk::File { .. } = step.found {
            step.found = OnDisk::Known(step.found.entry().expect("an entry"));
        }
    }
    (p, ledger)
}

#[test]
fn a_file_known_by_its_entry_is_copied_from_the_disk_when_it_is_saved() {
    let s = setup();
    run(
        &s,
        &[file("a", "one\n"), file("b", "bee\n")],
        Options::default(),
    );
    std::fs::write(s.store.base.join("b"), "mine\n").expect("edit");
    let force = Options {
        force: true,
        ..Options::default()
    };
    let (p, ledger) = plan_known(&s, &[file("a", "two\n"), file("b", "new\n")], force);
    let applied = apply(&s.store, &s.lock, &p, &ledger).expect("apply");
    assert_eq!(tree(&s.store.base)["a"], "two\n");
    // the edited file forced over is kept for the user, copied from the disk
    let (path, kept) = &applied.backups[0];
    assert_eq!(path, "b");
    assert_eq!(std::fs::read_to_string(kept).expect("backup"), "mine\n");
    // the copies of the run put everything back
    applied.rollback().expect("rollback");
    let back = tree(&s.store.base);
    assert_eq!(
        (back["a"].as_str(), back["b"].as_str()),
        ("one\n", "mine\n")
    );
}

#[test]
fn a_file_known_by_its_entry_that_changed_since_it_was_read_stops_the_run() {
    let s = setup();
    run(&s, &[file("a", "one\n")], Options::default());
    let (p, ledger) = plan_known(&s, &[file("a", "two\n")], Options::default());
    assert_eq!(p.steps[0].action, Action::Update);
    // someone writes the file between the plan and the copy
    std::fs::write(s.store.base.join("a"), "theirs\n").expect("edit");
    let err = apply(&s.store, &s.lock, &p, &ledger).expect_err("changed since");
    assert!(
        format!("{err:#}").contains("changed while this run was planning"),
        "{err:#}"
    );
    assert_eq!(tree(&s.store.base)["a"], "theirs\n", "nothing replaced");
    assert_eq!(s.store.read(&s.lock).expect("ledger"), ledger);
}
