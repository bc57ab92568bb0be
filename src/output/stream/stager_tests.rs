//! The other staging thread: what it stages is recorded in the batch, and its first error
//! is reported with what it staged before still recorded (so that it can be removed).

use std::ffi::OsStr;

use super::*;

/// A stager whose texts go nowhere.
fn stager() -> Stager {
    Stager::new(Spent::new(std::sync::mpsc::channel().0))
}
use crate::lifecycle::fsops::{Job, Source};

/// Hand the file `name` (one line) of the batch's directory `d` to the other thread.
fn hand_over(batch: &mut Batch, stager: &mut Stager, d: usize, name: &str) -> Handle {
    let (h, job) = batch
        .detach(d, OsStr::new(name), "x\n".to_owned(), 0o644)
        .expect("detached");
    stager.hand(Some(h), job);
    h
}

fn files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).expect("dir").count()
}

#[test]
fn files_are_staged_on_either_thread_and_recorded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut batch = Batch::default();
    let d = batch.dir(tmp.path(), || Ok(())).expect("dir");
    let mut stager = stager();
    let (mut handles, mut handed) = (Vec::new(), 0);
    for i in 0..500 {
        let (name, text) = (format!("f{i}"), format!("{i}\n"));
        if stager.wants() {
            let (h, job) = batch
                .detach(d, OsStr::new(&name), text, 0o644)
                .expect("detached");
            stager.hand(Some(h), job);
            handles.push(h);
            handed += 1;
        } else {
            let job = Job {
                dir: d,
                name: OsStr::new(&name),
                source: Source::File(text.as_bytes(), 0o644),
            };
            handles.extend(batch.stage(&[job]).expect("staged"));
        }
    }
    assert!(handed > 0, "nothing handed over");
    stager.finish(&mut batch).expect("staged");
    batch.sync().expect("synced");
    for h in handles {
        batch.place(h).expect("placed");
    }
    for i in 0..500 {
        let text = std::fs::read_to_string(tmp.path().join(format!("f{i}"))).expect("read");
        assert_eq!(text, format!("{i}\n"));
    }
    assert_eq!(files(tmp.path()), 500, "no temporary file left");
}

#[test]
fn an_error_on_the_other_thread_is_reported_and_what_it_staged_can_be_discarded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut batch = Batch::default();
    let d = batch.dir(tmp.path(), || Ok(())).expect("dir");
    // a directory that is gone by the time its file is staged
    let lost = tmp.path().join("lost");
    let d2 = batch.dir(&lost, || Ok(())).expect("dir");
    std::fs::remove_dir(&lost).expect("removed");
    let mut stager = stager();
    while !stager.wants() {}
    for i in 0..BUNDLE {
        hand_over(&mut batch, &mut stager, d, &format!("f{i}"));
    }
    hand_over(&mut batch, &mut stager, d2, "f");
    let err = stager.finish(&mut batch).expect_err("an error");
    assert!(format!("{err:#}").contains("lost"), "{err:#}");
    assert_eq!(files(tmp.path()), BUNDLE, "the files before were staged");
    batch.discard();
    assert_eq!(files(tmp.path()), 0, "every staged file removed");
}

/// What the other thread staged comes back a bundle at a time, before the end: the
/// writing thread holds no list of every file it handed over.
#[test]
fn what_the_other_thread_staged_is_recorded_as_it_goes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut batch = Batch::default();
    let d = batch.dir(tmp.path(), || Ok(())).expect("dir");
    let mut stager = stager();
    while !stager.wants() {}
    let mut handles = Vec::new();
    for i in 0..2 * BUNDLE {
        handles.push(hand_over(&mut batch, &mut stager, d, &format!("f{i}")));
    }
    assert!(handles.iter().all(|&h| batch.temp(h).is_empty()), "pending");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while handles.iter().any(|&h| batch.temp(h).is_empty()) {
        assert!(std::time::Instant::now() < deadline, "never recorded");
        std::thread::sleep(std::time::Duration::from_millis(5));
        stager.settle(&mut batch);
    }
    for &h in &handles {
        assert!(
            tmp.path().join(batch.temp(h)).is_file(),
            "staged as it says"
        );
    }
    stager.finish(&mut batch).expect("staged");
    batch.discard();
    assert_eq!(files(tmp.path()), 0, "every staged file removed");
}
