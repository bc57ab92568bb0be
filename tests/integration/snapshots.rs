//! One combined snapshot per fixture × backend (every file under a `==== path (mode) ====`
//! header, then the warnings and notes), plus the capability matrix.

use openim_init::backend::{self, BackendKind, Flags};
use openim_init::model::Model;
use openim_init::output;

use crate::common::{FIXTURES, fixture, insta_settings};

fn load(name: &str) -> Model {
    if name == "openim" {
        return Model::builtin();
    }
    let path = fixture(&format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    Model::from_toml(&format!("{name}.toml"), &text).expect("fixture valid")
}

fn combined(kind: BackendKind, model: &Model) -> String {
    let r = backend::render_embedded(kind, model, &Flags::default()).expect("renders");
    let mut text = output::to_text(&r.artifacts);
    for w in &r.warnings {
        text.push_str(&format!("==== warning ====\n{w}\n"));
    }
    for n in &r.notes {
        text.push_str(&format!("==== note ====\n{n}\n"));
    }
    text
}

#[test]
fn every_backend_every_fixture() {
    let settings = insta_settings("render");
    settings.bind(|| {
        for &kind in BackendKind::ALL {
            for name in FIXTURES.iter().copied().chain(["openim"]) {
                let model = load(name);
                insta::assert_snapshot!(format!("{}__{name}", kind.name()), combined(kind, &model));
            }
        }
    });
}

#[test]
fn rendering_is_deterministic() {
    let model = load("full");
    for &kind in BackendKind::ALL {
        let a = combined(kind, &model);
        let again = combined(kind, &model);
        assert_eq!(
            a,
            again,
            "{} output differs between two renders",
            kind.name()
        );
    }
}

/// Without the runtime units (as `generate` renders) every backend writes the same files,
/// warnings and notes, and makes no unit; with them, one for every process.
#[test]
fn rendering_without_units_changes_nothing_else() {
    let templates = backend::templates(&std::collections::BTreeMap::new()).expect("templates");
    let flags = Flags::default();
    for &kind in BackendKind::ALL {
        for name in FIXTURES.iter().copied().chain(["openim"]) {
            let model = load(name);
            let with = backend::RenderContext::new(&templates, &flags);
            let without = backend::RenderContext {
                units: false,
                ..backend::RenderContext::new(&templates, &flags)
            };
            let a = backend::render(kind, &model, &with).expect("renders");
            let b = backend::render(kind, &model, &without).expect("renders");
            let what = format!("{} {name}", kind.name());
            assert_eq!(a.artifacts, b.artifacts, "{what}");
            assert_eq!(a.notes, b.notes, "{what}");
            let text = |r: &backend::Rendered| {
                r.warnings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            };
            assert_eq!(text(&a), text(&b), "{what}");
            assert!(b.units.is_empty(), "{what}");
            for p in model.view.processes() {
                let service = &model.services[p.service].name;
                assert!(
                    a.units
                        .iter()
                        .any(|u| *u.service == **service && u.instance == p.instance),
                    "{what}: no unit for {service} {:?}",
                    p.instance
                );
            }
        }
    }
}

/// The whole capability matrix, as `backends` prints it and as JSON (stable feature ids).
#[test]
fn capability_matrix() {
    insta_settings("backends").bind(|| {
        insta::assert_snapshot!("matrix", openim_init::cmd::backends::matrix_text());
        insta::assert_snapshot!(
            "matrix_json",
            serde_json::to_string_pretty(&openim_init::cmd::backends::matrix_json()).expect("json")
        );
    });
}

#[path = "../../benches/synth.rs"]
#[allow(
    dead_code,
    reason = "the benchmark's generator; the test uses some shapes"
)]
mod synth;

/// The embedded templates render without tera unless overridden: the native writers must
/// produce tera's bytes for every fixture, every backend option and the benchmark's shapes.
#[test]
fn native_writers_match_tera() {
    use std::collections::BTreeMap;

    use openim_init::backend::RenderContext;

    let native = backend::templates(&BTreeMap::new()).expect("templates");
    let tera = backend::templates(&BTreeMap::new())
        .expect("templates")
        .through_tera();
    let mut models: Vec<(String, Model)> = std::fs::read_dir(fixture(""))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("fixture readable");
            let name = p.display().to_string();
            let model = Model::from_toml(&name, &text).expect("fixture valid");
            (name, model)
        })
        .collect();
    models.push(("openim".into(), Model::builtin()));
    for shape in [
        synth::Shape::Rich,
        synth::Shape::WideDag,
        synth::Shape::FanIn,
    ] {
        let text = synth::manifest(shape, 60);
        let model = Model::from_toml(shape.name(), &text).expect("synthetic manifest valid");
        models.push((shape.name().into(), model));
    }
    let mut standalone = Flags::default();
    standalone
        .0
        .insert(backend::supervisord::STANDALONE, String::new());
    for (name, model) in &models {
        // only the backends with text templates have two paths to compare
        for &kind in BackendKind::ALL
            .iter()
            .filter(|k| !k.backend().templates().is_empty())
        {
            let mut variants = vec![Flags::default()];
            if kind == BackendKind::Supervisord {
                variants.push(standalone.clone());
            }
            for flags in &variants {
                let render = |templates| {
                    let ctx = RenderContext::new(templates, flags);
                    backend::render(kind, model, &ctx).expect("renders")
                };
                let (a, b) = (render(&native), render(&tera));
                assert_eq!(a.artifacts.len(), b.artifacts.len(), "{name} {kind:?}");
                for (x, y) in a.artifacts.iter().zip(&b.artifacts) {
                    assert_eq!(x, y, "{name} {kind:?} {flags:?}: native ≠ tera");
                }
            }
        }
    }
}
