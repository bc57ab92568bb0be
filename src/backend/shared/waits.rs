//! The readiness waits of one render, scripted once: every service that waits for the same
//! external, or for the same service's health check, polls with the same script, so each
//! script is written once per render instead of once per waiting service.

use std::cell::OnceCell;

use super::gate;
use crate::model::{DepKind, Model, Target};

/// What service `s` waits for before it starts, in the order [`crate::model::View::waits`]
/// lists it: its dependencies, then the services ordered before it that it does not
/// depend on (as [`DepKind::Before`]). Unlike `View::waits` this builds no labels, and it
/// also yields the services without a health check (the `unwaitable` ones).
pub fn edges(model: &Model, s: usize) -> impl Iterator<Item = (Target, DepKind)> + '_ {
    let deps = model.view.dependencies(s);
    let before = model
        .view
        .ordered_before(s)
        .iter()
        .filter(move |&&t| !deps.iter().any(|d| d.target == Target::Service(t)))
        .map(|&t| (Target::Service(t), DepKind::Before));
    deps.iter().map(|d| (d.target, d.kind)).chain(before)
}

/// The externals service `s` waits for, in order, with the kind of each edge.
pub fn externals(model: &Model, s: usize) -> impl Iterator<Item = (usize, DepKind)> + '_ {
    model
        .view
        .dependencies(s)
        .iter()
        .filter_map(|d| match d.target {
            Target::External(e) => Some((e, d.kind)),
            Target::Service(_) => None,
        })
}

/// The [`gate::wait_script`] a dependent runs for external `e` of `model`: its check for its
/// `wait_timeout` (what [`WaitScripts::script`] keeps for an external).
#[must_use]
pub fn external_script(model: &Model, e: usize) -> String {
    let x = &model.externals[e];
    let mut out = String::with_capacity(400);
    gate::push_wait_script(
        &mut out,
        &format!("external {}", x.name),
        &x.check,
        x.wait_timeout,
    );
    out
}

/// Every wait script of a render, built on first use (see the module documentation).
pub struct WaitScripts<'m> {
    model: &'m Model,
    externals: Vec<OnceCell<String>>,
    services: Vec<OnceCell<String>>,
}

impl<'m> WaitScripts<'m> {
    /// An empty cache for `model`.
    #[must_use]
    pub fn new(model: &'m Model) -> Self {
        Self {
            model,
            externals: vec![OnceCell::new(); model.externals.len()],
            // none without a health check to poll: a table of 10,000 empty cells was 240 KB
            services: if model.services.iter().any(|s| s.health.is_some()) {
                vec![OnceCell::new(); model.services.len()]
            } else {
                Vec::new()
            },
        }
    }

    /// The model the scripts are of.
    #[must_use]
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The [`gate::wait_script`] a dependent runs for `target`, labelled as
    /// [`crate::model::View::waits`] labels it: an external's check for its
    /// `wait_timeout`, a service's health check for its ready budget; `None` for a service
    /// without a health check (nothing to poll).
    #[must_use]
    pub fn script(&self, target: Target) -> Option<&str> {
        let m = self.model;
        match target {
            Target::External(e) => Some(self.externals[e].get_or_init(|| external_script(m, e))),
            Target::Service(t) => {
                let h = m.services[t].health.as_ref()?;
                Some(self.services[t].get_or_init(|| {
                    let mut out = String::with_capacity(400);
                    gate::push_wait_script(
                        &mut out,
                        &format!("service {}", m.services[t].name),
                        &h.check,
                        m.view.ready_budget(t),
                    );
                    out
                }))
            }
        }
    }

    /// Forget the script of `target` (it is built again if asked for again), so that a
    /// render that is done with a target does not keep its script to the end.
    pub fn forget(&mut self, target: Target) {
        match target {
            Target::External(e) => drop(self.externals[e].take()),
            Target::Service(t) => drop(self.services.get_mut(t).and_then(OnceCell::take)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::shared::gate::wait_script;

    /// `before` edges that repeat a dependency and one that does not.
    const BEFORE: &str = r#"
name = "w"
[external.db]
check = { tcp = "127.0.0.1:1" }
[services.a]
command = ["/bin/a"]
health = { tcp = "127.0.0.1:2" }
before = ["c"]
[services.b]
command = ["/bin/b"]
before = ["c"]
[services.c]
command = ["/bin/c"]
requires = ["db", "a"]
wants = ["b"]
[services.d]
command = ["/bin/d"]
health = { exec = ["/bin/true"] }
before = ["c"]
"#;

    #[test]
    fn no_table_of_service_scripts_without_a_health_check() {
        let text = "name = \"p\"\n[services.a]\ncommand = [\"/bin/a\"]\n[services.b]\ncommand = [\"/bin/b\"]\nrequires = [\"a\"]\n";
        let model = Model::from_toml("p.toml", text).expect("valid");
        let mut scripts = WaitScripts::new(&model);
        assert_eq!(scripts.services.capacity(), 0);
        assert_eq!(scripts.script(Target::Service(0)), None);
        scripts.forget(Target::Service(0));
    }

    #[test]
    fn the_same_waits_as_the_view_in_the_same_order() {
        let mut models = vec![Model::builtin()];
        for text in [
            include_str!("../../../tests/fixtures/full.toml"),
            include_str!("../../../tests/fixtures/minimal.toml"),
            include_str!("../../../tests/fixtures/supervisord-hostile.toml"),
            BEFORE,
        ] {
            models.push(Model::from_toml("fixture.toml", text).expect("fixture valid"));
        }
        for model in &models {
            let scripts = WaitScripts::new(model);
            for s in 0..model.services.len() {
                let want = model.waits(s);
                let mut waits = Vec::new();
                let mut unwaitable = Vec::new();
                for (target, kind) in edges(model, s) {
                    match (target, scripts.script(target)) {
                        (_, Some(script)) => waits.push((script.to_owned(), kind)),
                        (Target::Service(t), None) => unwaitable.push((kind, t)),
                        (Target::External(_), None) => unreachable!("externals have checks"),
                    }
                }
                let expected: Vec<(String, DepKind)> = want
                    .waits
                    .iter()
                    .map(|w| (wait_script(&w.label, w.check, w.budget), w.kind))
                    .collect();
                assert_eq!(waits, expected);
                assert_eq!(unwaitable, want.unwaitable);
                let ext: Vec<DepKind> = externals(model, s).map(|(_, k)| k).collect();
                let want_ext: Vec<DepKind> = want
                    .waits
                    .iter()
                    .filter(|w| w.external)
                    .map(|w| w.kind)
                    .collect();
                assert_eq!(ext, want_ext);
            }
        }
    }
}
