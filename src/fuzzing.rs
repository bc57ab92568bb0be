//! The whole pipeline on arbitrary text, with the invariants that must hold for any input.
//! Shared by the cargo-fuzz target (`fuzz/fuzz_targets/manifest.rs`) and the stable tests
//! that replay the corpora, so CI exercises the same checks without a fuzzer.

use crate::backend::{self, RenderContext, RenderOptions};
use crate::manifest::ManifestErrors;
use crate::model::Model;
use crate::output;
use crate::render::Templates;

/// What became of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Refused with these messages (as the CLI prints them).
    Invalid(String),
    /// Valid; rendered by every backend, with this many artifacts in all.
    Rendered(usize),
}

/// Load `text` as a manifest, build the model and render it for every backend in
/// [`backend::all`] with the embedded templates and both option sets.
///
/// # Panics
/// When an invariant is broken (that is the point: the fuzzer reports it):
/// an error without a position inside the text or with a terminal control character in its
/// message; a valid model that a backend cannot render; an artifact path that could leave the
/// output directory, appears twice, or contents with a NUL byte.
#[must_use]
pub fn manifest_pipeline(text: &str) -> Outcome {
    match Model::from_toml("fuzz.toml", text) {
        Err(errors) => Outcome::Invalid(check_errors(text, &errors)),
        Ok(model) => Outcome::Rendered(check_render(&model)),
    }
}

fn check_errors(text: &str, errors: &ManifestErrors) -> String {
    assert!(!errors.0.is_empty(), "an error list without errors");
    let lines = text.split('\n').count();
    for e in &errors.0 {
        assert!(
            e.line >= 1 && e.line <= lines && e.col >= 1,
            "position {}:{} outside the text ({lines} lines): {e}",
            e.line,
            e.col
        );
        assert!(!e.message.is_empty(), "an empty message at {e}");
    }
    let shown = errors.to_string();
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "a control character in the printed errors: {shown:?}"
    );
    shown
}

#[expect(
    clippy::expect_used,
    reason = "the embedded templates are tested to parse"
)]
fn check_render(model: &Model) -> usize {
    let templates = Templates::embedded().expect("embedded templates parse");
    let mut total = 0;
    for b in backend::all() {
        for standalone in [false, true] {
            let options = RenderOptions {
                standalone,
                label_prefix: None,
            };
            let ctx = RenderContext {
                templates: &templates,
                options: &options,
            };
            let rendered = match backend::render(*b, model, &ctx) {
                Ok(r) => r,
                Err(e) => panic!("{} cannot render a valid model: {e:#}", b.name()),
            };
            let mut seen = std::collections::BTreeSet::new();
            for a in &rendered.artifacts {
                assert!(
                    output::safe_relative(&a.path).is_ok(),
                    "{}: unsafe artifact path {:?}",
                    b.name(),
                    a.path
                );
                assert!(
                    seen.insert(a.path.as_str()),
                    "{}: artifact {:?} twice",
                    b.name(),
                    a.path
                );
                assert!(
                    !a.contents.contains('\0'),
                    "{}: NUL in {}",
                    b.name(),
                    a.path
                );
            }
            total += rendered.artifacts.len();
        }
    }
    total
}
