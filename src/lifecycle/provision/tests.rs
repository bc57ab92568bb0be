use super::*;
use crate::backend::BackendKind;
use crate::lifecycle::runner::{Output, RecordingRunner, Setup};

/// A lookup where `openim` (user and group) does not exist.
fn nobody_there() -> RecordingRunner {
    RecordingRunner::new(Setup::default())
        .reply(&["getent", "passwd", "openim"], Output::exited(2, ""))
        .reply(&["getent", "group", "openim"], Output::exited(2, ""))
}

fn lines(commands: &[Vec<String>]) -> Vec<String> {
    commands.iter().map(|c| c.join(" ")).collect()
}

#[test]
fn systemd_creates_missing_users_and_directories_through_sysusers_and_tmpfiles() {
    let model = Model::builtin();
    let data = BackendKind::Systemd.backend().data();
    let empty = tempfile::tempdir().expect("tempdir");
    let p = plan(&model, data, empty.path(), &nobody_there()).expect("plan");
    assert_eq!(p.files[0].path, "etc/sysusers.d/openim.conf");
    assert_eq!(p.files[1].path, "etc/tmpfiles.d/openim.conf");
    assert_eq!(p.missing.users, ["openim"]);
    assert_eq!(p.missing.groups, ["openim"]);
    assert!(
        p.missing.dirs.contains(&"/data/openim".to_owned()),
        "{:?}",
        p.missing
    );
    assert_eq!(
        lines(&p.commands),
        [
            "systemd-sysusers /etc/sysusers.d/openim.conf",
            "systemd-tmpfiles --create /etc/tmpfiles.d/openim.conf"
        ]
    );
    // an existing user (the recorder answers 0) and existing directories: nothing to do
    let all_there = RecordingRunner::new(Setup::default());
    std::fs::create_dir_all(empty.path().join("data/openim/logs")).expect("mkdir");
    let p = plan(&model, data, empty.path(), &all_there).expect("plan");
    let dirs_left = p.missing.dirs.clone();
    assert!(p.missing.users.is_empty() && p.missing.groups.is_empty());
    assert_eq!(
        p.commands.is_empty(),
        dirs_left.is_empty(),
        "{:?}",
        p.commands
    );
}

#[test]
fn elsewhere_useradd_or_busybox_adduser_and_install_d() {
    let model = Model::builtin();
    let data = BackendKind::Openrc.backend().data();
    let base = tempfile::tempdir().expect("tempdir");
    let alpine = plan(&model, data, base.path(), &nobody_there()).expect("plan");
    let cmds = lines(&alpine.commands);
    assert!(alpine.files.is_empty());
    assert_eq!(cmds[0], "addgroup -S openim");
    assert_eq!(
        cmds[1],
        "adduser -S -D -H -h /data/openim -s /sbin/nologin -G openim openim"
    );
    assert!(
        cmds.contains(&"install -d -m 0750 -o openim -g openim /data/openim".to_owned()),
        "{cmds:?}"
    );
    std::fs::create_dir_all(base.path().join("usr/sbin")).expect("mkdir");
    std::fs::write(base.path().join("usr/sbin/useradd"), "").expect("useradd");
    let debian = plan(&model, data, base.path(), &nobody_there()).expect("plan");
    let cmds = lines(&debian.commands);
    assert_eq!(cmds[0], "groupadd -r openim");
    assert_eq!(
        cmds[1],
        "useradd -r -M -d /data/openim -s /usr/sbin/nologin -g openim openim"
    );
    let launchd = BackendKind::Launchd.backend().data();
    let none = plan(&model, launchd, base.path(), &nobody_there()).expect("plan");
    assert!(none.commands.is_empty() && none.files.is_empty());
}

#[test]
fn the_record_grows_and_purge_removes_only_what_it_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_install(tmp.path(), "s", "openrc");
    assert!(Created::read(&store).expect("read").is_empty());
    let first = Created {
        users: vec!["openim".into()],
        groups: vec!["openim".into()],
        dirs: vec!["/data/openim".into()],
    };
    Created::record(&store, &first).expect("record");
    let more = Created {
        dirs: vec!["/data/openim/logs".into(), "/data/openim".into()],
        ..Created::default()
    };
    Created::record(&store, &more).expect("record");
    let all = Created::read(&store).expect("read");
    assert_eq!(all.dirs, ["/data/openim", "/data/openim/logs"]);
    // the user is still there, its group went with it (userdel): groupdel is not planned
    let lookup = RecordingRunner::new(Setup::default())
        .reply(&["getent", "group", "openim"], Output::exited(2, ""));
    let purge = purge_commands(&all, &lookup).expect("purge");
    assert_eq!(
        lines(&purge),
        [
            "rm -rf -- /data/openim/logs",
            "rm -rf -- /data/openim",
            "userdel openim"
        ]
    );
    assert_eq!(
        lines(&purge_commands(&Created::default(), &lookup).expect("p")).len(),
        0
    );
    Created::forget(&store).expect("forget");
    assert!(Created::read(&store).expect("read").is_empty());
}

/// A whole install and `uninstall --purge` on a scratch tree, commands only recorded: the
/// missing account and directory are created and recorded, an existing one is never
/// touched, and purge removes exactly what was recorded.
#[test]
fn install_creates_and_purge_removes_only_what_was_missing() {
    use crate::backend::{Flags, render_embedded};
    use crate::lifecycle::control::Control;
    use crate::lifecycle::install::{InstallOptions, Job, install};
    use crate::lifecycle::place::{Env, Place, Scope};
    use crate::lifecycle::uninstall::{UninstallOptions, uninstall};

    let tmp = tempfile::tempdir().expect("tempdir");
    let model = Model::builtin();
    let kind = BackendKind::Openrc;
    let data = kind.backend().data();
    let rendered = render_embedded(kind, &model, &Flags::default()).expect("render");
    let scope = Scope::Root {
        root: tmp.path().to_path_buf(),
        layout: "alpine".into(),
    };
    let place = Place::resolve(data, "openrc", "openim", &scope, &Env::default()).expect("place");
    let cycle = |runner: &RecordingRunner, later: &RecordingRunner| {
        let mut job = Job {
            place: &place,
            control: Control {
                data,
                runner,
                stack: "openim",
                dir: "/etc/init.d",
                domain: "",
                scan: "",
            },
            extra: Vec::new(),
            provision: Some(plan(&model, data, tmp.path(), runner).expect("plan")),
        };
        let opts = InstallOptions {
            commands: true,
            enable: true,
            ..InstallOptions::default()
        };
        let lines = install(&job, &rendered, opts).expect("install");
        let store = &place.store;
        let created = Created::read(store).expect("read");
        let opts = UninstallOptions {
            purge: true,
            commands: true,
            force: false,
        };
        job.control.runner = later;
        uninstall(&job, &rendered, opts).expect("uninstall");
        let mut ran = lines_of(runner);
        ran.extend(lines_of(later));
        (lines, created, ran)
    };
    // the user is missing: created, recorded; at the purge it exists: removed
    let all_there = || RecordingRunner::new(Setup::default()).live();
    let (lines, created, ran) = cycle(&nobody_there().live(), &all_there());
    assert!(
        lines.contains(&"creating user openim".to_owned()),
        "{lines:?}"
    );
    assert_eq!(created.users, ["openim"]);
    assert!(ran.contains(&"addgroup -S openim".to_owned()), "{ran:?}");
    assert!(
        ran.contains(&"rm -rf -- /data/openim".to_owned()),
        "{ran:?}"
    );
    for purged in ["userdel openim", "groupdel openim"] {
        assert!(ran.contains(&purged.to_owned()), "{purged}: {ran:?}");
    }
    assert!(!place.store.state.exists(), "purge leaves no state");
    // the user exists (lookups answer 0) and so does the directory: nothing is created,
    // and purge removes nothing of the host's
    std::fs::create_dir_all(tmp.path().join("data/openim")).expect("mkdir");
    let (_, created, ran) = cycle(&all_there(), &all_there());
    assert!(created.is_empty(), "{created:?}");
    let touched: Vec<&String> = ran
        .iter()
        .filter(|c| {
            [
                "adduser", "addgroup", "userdel", "groupdel", "rm", "install",
            ]
            .iter()
            .any(|t| c.starts_with(t))
        })
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
}

fn lines_of(runner: &RecordingRunner) -> Vec<String> {
    lines(&runner.recorded())
}
