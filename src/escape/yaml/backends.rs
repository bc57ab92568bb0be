//! The YAML backends against the reference writer: rendering asserts, in test builds, that
//! the streaming writer writes what the old value-tree writer wrote, for every document.

use crate::backend::{BackendKind, Flags, render_embedded};
use crate::model::Model;

/// Every fixture and the built-in manifest, rendered by compose and Kubernetes (each
/// document checked as it is written); at least two must render for each.
#[test]
fn every_fixture_writes_the_same_yaml_as_the_value_tree() {
    let mut models = vec![Model::builtin()];
    for text in [
        include_str!("../../../tests/fixtures/full.toml"),
        include_str!("../../../tests/fixtures/minimal.toml"),
        include_str!("../../../tests/fixtures/supervisord-hostile.toml"),
    ] {
        models.push(Model::from_toml("fixture.toml", text).expect("fixture valid"));
    }
    for kind in [BackendKind::Compose, BackendKind::Kubernetes] {
        let rendered = models
            .iter()
            .filter(|m| render_embedded(kind, m, &Flags::default()).is_ok())
            .count();
        assert!(rendered >= 2, "{kind:?}: {rendered}");
    }
}
