//! Detection over fake trees: each case writes the files a real system of that kind has.

use std::path::Path;

use super::*;

struct Tree(tempfile::TempDir);

impl Tree {
    fn new() -> Self {
        Self(tempfile::tempdir().expect("tempdir"))
    }

    fn file(self, rel: &str, text: &str) -> Self {
        let p = self.0.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
        std::fs::write(p, text).expect("write");
        self
    }

    fn dir(self, rel: &str) -> Self {
        std::fs::create_dir_all(self.0.path().join(rel)).expect("dir");
        self
    }

    fn pid(self, pid: u32, comm: &str) -> Self {
        self.file(&format!("proc/{pid}/comm"), &format!("{comm}\n"))
    }

    fn pid1_exe(self, exe: &str) -> Self {
        std::fs::create_dir_all(self.0.path().join("proc/1")).expect("dir");
        std::os::unix::fs::symlink(exe, self.0.path().join("proc/1/exe")).expect("link");
        self
    }

    fn detect(&self, os: &str) -> Detection {
        decide(&gather(self.0.path(), os, &DEFAULT_CONFS))
    }

    fn root(&self) -> &Path {
        self.0.path()
    }
}

fn names(d: &Detection) -> Vec<&'static str> {
    d.running.iter().map(|r| r.system.name()).collect()
}

#[test]
fn a_container_with_init_systems_installed_but_none_running() {
    // this project's machines: PID 1 is a plain process, OpenRC and systemd are installed
    let d = Tree::new()
        .pid(1, "process_api")
        .file(".dockerenv", "")
        .dir("run/openrc/started")
        .file("usr/sbin/openrc", "")
        .file("lib/systemd/systemd", "")
        .file("proc/1/cgroup", "9:name=systemd:/\n0::/\n")
        .detect("linux");
    assert_eq!(names(&d), Vec::<&str>::new());
    assert_eq!(d.recommended, None);
    assert!(d.container);
    assert_eq!(d.evidence.container, ["/.dockerenv"]);
    assert_eq!(d.evidence.pid1_comm.as_deref(), Some("process_api"));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("no init system runs in this container")
                && n.contains("process_api")
                && n.contains("supervisord")),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_systemd_host() {
    let d = Tree::new()
        .pid(1, "systemd")
        .pid1_exe("/usr/lib/systemd/systemd")
        .dir("run/systemd/system")
        .file("proc/1/cgroup", "0::/init.scope\n")
        .detect("linux");
    assert_eq!(names(&d), ["systemd"]);
    assert_eq!(d.recommended, Some(InitSystem::Systemd));
    assert!(!d.container);
    assert!(
        d.running[0].because.contains("PID 1 is systemd"),
        "{:?}",
        d.running
    );
}

#[test]
fn a_stale_systemd_marker_under_another_pid1_is_not_systemd() {
    let d = Tree::new()
        .pid(1, "tini")
        .pid1_exe("/usr/bin/tini")
        .dir("run/systemd/system")
        .file("proc/1/cgroup", "0::/system.slice/docker-0123abcd.scope\n")
        .detect("linux");
    assert_eq!(names(&d), Vec::<&str>::new());
    assert!(
        d.notes.iter().any(|n| n.contains("PID 1 is `tini`")),
        "{:?}",
        d.notes
    );
    assert!(
        d.evidence.container[0].contains("docker-0123abcd"),
        "{:?}",
        d.evidence
    );
}

#[test]
fn openrc_counts_only_once_a_runlevel_was_reached() {
    let booted = Tree::new()
        .pid(1, "init")
        .file("run/openrc/softlevel", "default");
    assert_eq!(names(&booted.detect("linux")), ["openrc"]);
    let installed = Tree::new()
        .pid(1, "init")
        .dir("run/openrc")
        .file("sbin/openrc-run", "");
    assert_eq!(names(&installed.detect("linux")), Vec::<&str>::new());
}

#[test]
fn runit_and_s6_as_pid1_or_as_a_process() {
    let runit = Tree::new().pid(1, "runit").detect("linux");
    assert_eq!(names(&runit), ["runit"]);
    let s6 = Tree::new().pid(1, "s6-svscan").detect("linux");
    assert_eq!(names(&s6), ["s6"]);
    let both = Tree::new()
        .pid(1, "sh")
        .pid(57, "runsvdir")
        .pid(90, "s6-svscan")
        .pid(91, "s6-svscan")
        .detect("linux");
    assert_eq!(names(&both), ["runit", "s6"]);
    assert_eq!(both.evidence.supervisors, ["runsvdir", "s6-svscan"]);
    assert!(both.running[0].because.contains("`runsvdir` process"));
}

#[test]
fn supervisord_counts_when_its_socket_answers() {
    let tree = Tree::new()
        .pid(1, "systemd")
        .dir("run/systemd/system")
        .pid(300, "supervisord")
        .file(
            "etc/supervisord.conf",
            "[unix_http_server]\nfile=/run/supervisor/s.sock\n",
        )
        .dir("run/supervisor");
    let d = tree.detect("linux");
    assert_eq!(names(&d), ["systemd"], "the process alone is not enough");
    assert!(
        d.notes.iter().any(|n| n.contains("--supervisord-conf")),
        "{:?}",
        d.notes
    );
    let _listener =
        std::os::unix::net::UnixListener::bind(tree.root().join("run/supervisor/s.sock"))
            .expect("bind");
    let d = tree.detect("linux");
    assert_eq!(names(&d), ["systemd", "supervisord"]);
    assert_eq!(
        d.recommended,
        Some(InitSystem::Systemd),
        "the system manager first"
    );
    assert!(
        d.running[1].because.contains("/etc/supervisord.conf"),
        "{:?}",
        d.running
    );
}

#[test]
fn macos_is_launchd() {
    let d = Tree::new().detect("macos");
    assert_eq!(names(&d), ["launchd"]);
    assert_eq!(d.recommended, Some(InitSystem::Launchd));
}

#[test]
fn the_evidence_serializes_for_json() {
    let d = Tree::new()
        .pid(1, "systemd")
        .dir("run/systemd/system")
        .detect("linux");
    let json = serde_json::to_value(&d).expect("json");
    assert_eq!(json["recommended"], "systemd");
    assert_eq!(json["running"][0]["system"], "systemd");
    assert_eq!(json["evidence"]["run_systemd_system"], true);
}
