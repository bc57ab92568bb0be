use super::*;
use crate::backend::{BackendKind, Flags, render_embedded};
use crate::lifecycle::control::Control;
use crate::lifecycle::place::{Env, Scope};
use crate::lifecycle::runner::{Output, RecordingRunner, Setup};
use crate::model::Model;

fn launchd_stack(value: &str) -> (Model, Rendered) {
    let text = format!(
        "name = \"s\"\n[services.a]\ncommand = [\"/bin/a\"]\n\
         [services.b]\ncommand = [\"/bin/b\"]\nenvironment = {{ V = \"{value}\" }}\n"
    );
    let model = Model::from_toml("s.toml", &text).expect("manifest");
    let rendered =
        render_embedded(BackendKind::Launchd, &model, &Flags::default()).expect("render");
    (model, rendered)
}

/// One `--user` install with launchctl only recorded (`print` says: not loaded).
fn run(place: &Place, rendered: &Rendered) -> Vec<String> {
    let runner = RecordingRunner::new(Setup::default())
        .reply(&["launchctl", "print"], Output::exited(113, ""))
        .live();
    let job = Job {
        place,
        control: Control {
            data: BackendKind::Launchd.backend().data(),
            runner: &runner,
            stack: "s",
            dir: &place.dir_text(),
            domain: "gui/501",
            scan: "",
        },
        extra: Vec::new(),
        provision: None,
    };
    let opts = InstallOptions {
        start: true,
        enable: true,
        commands: true,
        force: false,
    };
    install(&job, rendered, opts).expect("install");
    let dir = place.dir_text();
    runner
        .recorded()
        .iter()
        .map(|c| c.join(" ").replace(&dir, "DIR"))
        .collect()
}

/// launchd: a fresh install enables and bootstraps every job; a second one only enables;
/// a changed plist is booted out, awaited until `print` no longer finds it, and
/// bootstrapped again — only that job.
#[test]
fn launchd_bootstraps_new_jobs_and_reloads_a_changed_one_after_its_bootout() {
    let home = tempfile::tempdir().expect("home");
    let env = Env {
        home: Some(home.path().to_path_buf()),
        ..Env::default()
    };
    let data = BackendKind::Launchd.backend().data();
    let place = Place::resolve(data, "launchd", "s", &Scope::User, &env).expect("place");
    let (_, first) = launchd_stack("1");
    let label = |j: &str| format!("io.s.{j}");
    let a = label("a");
    let b = label("b");
    let (fa, fb) = (format!("DIR/{a}.plist"), format!("DIR/{b}.plist"));
    assert_eq!(
        run(&place, &first),
        [
            format!("launchctl enable gui/501/{a}"),
            format!("launchctl enable gui/501/{b}"),
            format!("launchctl bootstrap gui/501 {fa}"),
            format!("launchctl bootstrap gui/501 {fb}"),
        ]
    );
    // a second install only enables again (idempotent): nothing is booted out or in
    assert_eq!(
        run(&place, &first),
        [
            format!("launchctl enable gui/501/{a}"),
            format!("launchctl enable gui/501/{b}"),
        ]
    );
    let (_, changed) = launchd_stack("2");
    assert_eq!(
        run(&place, &changed),
        [
            format!("launchctl enable gui/501/{a}"),
            format!("launchctl enable gui/501/{b}"),
            format!("launchctl bootout gui/501/{b}"),
            format!("launchctl print gui/501/{b}"),
            format!("launchctl bootstrap gui/501 {fb}"),
        ]
    );
}
