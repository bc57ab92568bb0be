//! s6's `loaded` probe, which the lifecycle polls after `enable` before it starts a
//! service: it must wait until s6-supervise listens on its control FIFO and has written its
//! status. `s6-svok` is true as soon as s6-supervise holds its lock, a moment before
//! either, and an `s6-svc -wu` in that moment fails ("supervisor not listening", or no
//! status to read).

use std::os::fd::AsRawFd as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use openim_init::backend::BackendKind;
use openim_init::backend::data::Fill;

/// Whether the backend's `loaded` command says `dir` is supervised.
fn loaded(dir: &Path) -> bool {
    let data = BackendKind::S6.backend().data();
    let argv = data
        .commands
        .loaded
        .as_ref()
        .expect("s6 has a loaded probe");
    let parent = dir.parent().expect("parent").to_string_lossy();
    let name = dir.file_name().expect("name").to_string_lossy();
    let fill = Fill {
        dir: &parent,
        unit: &name,
        ..Fill::default()
    };
    let argv = fill.apply(argv);
    Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .expect("the probe runs")
        .status
        .success()
}

fn svok(dir: &Path) -> bool {
    Command::new("s6-svok")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn s6_loaded_waits_for_a_supervisor_that_listens_and_has_written_its_status() {
    let tools = ["s6-supervise", "s6-svc", "s6-svok", "mkfifo"];
    if !crate::common::require(crate::harness::scan::missing(&tools).is_none(), "s6") {
        return;
    }
    let tmp = crate::harness::WorkDir::new("s6-loaded");
    let svc = tmp.join("svc");
    std::fs::create_dir_all(&svc).expect("svc");
    std::fs::write(svc.join("run"), "#!/bin/sh\nexec sleep 1000\n").expect("run");
    let made_exec = Command::new("chmod")
        .arg("+x")
        .arg(svc.join("run"))
        .status();
    assert!(made_exec.is_ok_and(|s| s.success()));
    std::fs::write(svc.join("down"), "").expect("down: nothing is started");
    assert!(!loaded(&svc), "no supervisor");

    // the moment after s6-supervise took its lock: s6-svok says yes, the probe no
    let supervise = svc.join("supervise");
    std::fs::create_dir_all(&supervise).expect("supervise/");
    let lock = std::fs::File::create(supervise.join("lock")).expect("lock");
    // SAFETY: an fcntl lock on a descriptor we own (the kind of lock s6-svok tests).
    let locked = unsafe { libc::lockf(lock.as_raw_fd(), libc::F_TLOCK, 0) };
    assert_eq!(locked, 0, "lockf");
    assert!(svok(&svc), "s6-svok answers once the lock is held");
    assert!(!loaded(&svc), "the control FIFO has no reader yet");

    // then it reads its control FIFO, and writes its status a moment later
    let fifo = supervise.join("control");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let reader = {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("a reader of the control FIFO")
    };
    assert!(!loaded(&svc), "listening, but no status yet");
    drop((reader, lock));
    std::fs::remove_dir_all(&supervise).expect("the stand-in goes");

    // the real one
    let mut supervisor = Command::new("s6-supervise")
        .arg(&svc)
        .spawn()
        .expect("s6-supervise");
    let up = crate::harness::wait_for(Duration::from_secs(10), || loaded(&svc));
    let exit = Command::new("s6-svc").arg("-x").arg(&svc).status();
    let ended = crate::harness::procs::reap_or_kill(&mut supervisor, Duration::from_secs(10));
    let gone = crate::harness::wait_for(Duration::from_secs(5), || !loaded(&svc));
    assert!(up, "a running s6-supervise is loaded");
    assert!(exit.is_ok_and(|s| s.success()), "s6-svc -x");
    assert!(!ended.killed, "s6-supervise left when told");
    assert!(
        gone,
        "an exited supervisor is not loaded (its status file stays)"
    );
    assert!(svc.join("supervise/status").exists());
}
