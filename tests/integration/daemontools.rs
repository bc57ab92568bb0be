//! runit and s6 beyond the shared scenarios: the s6-overlay layout (snapshots of every
//! fixture, the structural lint standing in for s6-rc-compile), and what the verifier of
//! the service directories finds in a broken tree.

use openim_init::backend::runit::verify as dirs;
use openim_init::backend::s6::{LAYOUT, OVERLAY, overlay};
use openim_init::backend::{self, Artifact, BackendKind, Flags, Rendered};
use openim_init::model::Model;
use openim_init::output;

use crate::common::{FIXTURES, fixture, insta_settings};

fn models() -> Vec<(&'static str, Model)> {
    let mut out = vec![("openim", Model::builtin())];
    for name in FIXTURES {
        let text = std::fs::read_to_string(fixture(&format!("{name}.toml"))).expect("fixture");
        out.push((name, Model::from_toml(name, &text).expect("valid")));
    }
    out
}

fn overlay_flags() -> Flags {
    let mut flags = Flags::default();
    flags.0.insert(LAYOUT, OVERLAY.to_owned());
    flags
}

#[test]
fn s6_overlay_tree_of_every_fixture() {
    insta_settings("render").bind(|| {
        for (name, model) in models() {
            let r = backend::render_embedded(BackendKind::S6, &model, &overlay_flags())
                .expect("renders");
            assert_eq!(overlay::lint(&r.artifacts), Vec::<String>::new(), "{name}");
            let mut text = output::to_text(&r.artifacts);
            for n in &r.notes {
                text.push_str(&format!("==== note ====\n{n}\n"));
            }
            insta::assert_snapshot!(format!("s6-overlay__{name}"), text);
        }
    });
}

#[test]
fn s6_overlay_wires_dependencies_bundles_and_the_user_bundle() {
    let model = Model::builtin();
    let r = backend::render_embedded(BackendKind::S6, &model, &overlay_flags()).expect("renders");
    let has = |p: &str| {
        r.artifacts
            .iter()
            .any(|a| a.path == format!("s6-overlay/s6-rc.d/{p}"))
    };
    assert!(has("openim/type") && has("user/contents.d/openim"));
    for p in model.view.processes() {
        let name = p.joined(&model.services[p.service], "-");
        assert!(has(&format!("{name}/type")), "{name}");
        assert!(has(&format!("{name}/dependencies.d/base")), "{name}");
        assert!(has(&format!("openim/contents.d/{name}")), "{name}");
    }
    // s6-rc orders the start: no run script waits for a sibling itself
    for a in r.artifacts.iter().filter(|a| a.path.ends_with("/run")) {
        assert!(!a.contents().contains("../"), "{}", a.path);
    }
    let units: Vec<&str> = r.units.iter().map(|u| u.name.as_str()).collect();
    assert!(units.contains(&"openim"), "{units:?}");
}

#[test]
fn an_unknown_layout_is_a_usage_error() {
    let mut flags = Flags::default();
    flags.0.insert(LAYOUT, "s6-rc".to_owned());
    let e =
        backend::render_embedded(BackendKind::S6, &Model::builtin(), &flags).expect_err("refused");
    assert_eq!(e.exit_code(), openim_init::errors::EXIT_INVALID);
    assert!(e.to_string().contains("s6-overlay"), "{e}");
    let e = backend::render_embedded(BackendKind::Runit, &Model::builtin(), &overlay_flags())
        .expect_err("runit takes no --layout");
    assert!(e.to_string().contains("--backend s6 only"), "{e}");
}

#[test]
fn the_directory_verifier_finds_a_broken_tree() {
    let tmp = tempfile::tempdir().expect("tmp");
    let rendered = Rendered {
        artifacts: vec![
            Artifact::file(
                "sv/a/run",
                0o644,
                "#!/bin/sh\nsv -w 7 start ../zz || exit 1\nif then\n",
            ),
            Artifact::file("sv/b/finish", 0o755, "#!/bin/sh\nexit 0\n"),
            Artifact::file("sv/a/env/1BAD", 0o644, "x\n"),
        ],
        ..Rendered::default()
    };
    openim_init::output::write_all(tmp.path(), &rendered.artifacts, false).expect("written");
    let report = dirs::check(tmp.path(), &rendered, "sv").expect("runs");
    let found = report.findings.join("\n");
    for want in [
        "sv/a/run: not executable",
        "sh -n sv/a/run",
        "sv/b: no run script",
        "`1BAD` is not a variable name",
        "names ../zz",
    ] {
        assert!(found.contains(want), "{want}: {found}");
    }
}
