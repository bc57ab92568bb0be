//! One combined snapshot per fixture × backend (every file under a `==== path (mode) ====`
//! header, then the warnings and notes), plus the capability matrix.

use openim_init::backend::{self, RenderContext, RenderOptions};
use openim_init::model::Model;
use openim_init::output;
use openim_init::render::Templates;

use crate::common::{FIXTURES, fixture, insta_settings};

fn load(name: &str) -> Model {
    if name == "openim" {
        return Model::builtin();
    }
    let path = fixture(&format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    Model::from_toml(&format!("{name}.toml"), &text).expect("fixture valid")
}

fn combined(b: &dyn backend::Backend, model: &Model, options: &RenderOptions) -> String {
    let templates = Templates::embedded().expect("embedded templates");
    let r = backend::render(
        b,
        model,
        &RenderContext {
            templates: &templates,
            options,
        },
    )
    .expect("renders");
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
        for b in backend::all() {
            for name in FIXTURES.iter().copied().chain(["openim"]) {
                let model = load(name);
                insta::assert_snapshot!(
                    format!("{}__{name}", b.name()),
                    combined(*b, &model, &RenderOptions::default())
                );
            }
        }
    });
}

#[test]
fn rendering_is_deterministic() {
    let model = load("full");
    for b in backend::all() {
        let a = combined(*b, &model, &RenderOptions::default());
        let again = combined(*b, &model, &RenderOptions::default());
        assert_eq!(a, again, "{} output differs between two renders", b.name());
    }
}
