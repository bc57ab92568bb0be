//! What every unit of one render shares, built once per render: the unit names of the
//! processes, the targets, the gates on externals and the sandbox directives; and the
//! dependency lists of one unit, borrowed from them.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::{esc, process_unit};
use crate::backend::shared::names::ProcessNames;
use crate::backend::shared::waits::WaitScripts;
use crate::model::{DepKind, Model, Target};

/// What every unit of one render shares: the unit names of the processes, the targets and
/// the gates on externals, each built once.
pub(super) struct Shared<'a> {
    pub(super) model: &'a Model,
    /// `NAME.service` / `NAME@INSTANCE.service` of every process.
    pub(super) units: ProcessNames,
    /// `STACK.target`.
    pub(super) stack_target: String,
    /// `GROUP.target` of every group.
    pub(super) group_targets: Vec<String>,
    scripts: WaitScripts<'a>,
    /// The `ExecStartPre=` line (without the `-` of a soft wait) of each external's gate.
    gates: Vec<OnceCell<String>>,
    /// The sandbox directives of each run of services with the same sandbox, and the run
    /// of each service (services mostly share the defaults' sandbox).
    pub(super) sandboxes: Vec<Vec<Cow<'static, str>>>,
    pub(super) sandbox_of: Vec<usize>,
}

impl<'a> Shared<'a> {
    /// Index `model` (names, targets, sandboxes); gates are built on first use.
    pub(super) fn new(model: &'a Model) -> Self {
        let (sandboxes, sandbox_of) = sandboxes(model);
        Self {
            model,
            units: ProcessNames::new(model, |p| process_unit(model, p)),
            stack_target: format!("{}.target", model.name),
            group_targets: model
                .groups
                .iter()
                .map(|g| format!("{}.target", g.name))
                .collect(),
            scripts: WaitScripts::new(model),
            gates: vec![OnceCell::new(); model.externals.len()],
            sandboxes,
            sandbox_of,
        }
    }

    /// The gate on external `e` as an Exec line.
    pub(super) fn gate(&self, e: usize) -> &str {
        self.gates[e].get_or_init(|| {
            let script = self.scripts.script(Target::External(e)).unwrap_or_default();
            let mut line = String::with_capacity(script.len() + 32);
            line.push_str("/bin/sh -c \"");
            esc::push_literal(&mut line, script, true, false);
            line.push('"');
            line
        })
    }
}

/// The sandbox directives of each run of services with equal sandboxes, and the run of
/// each service.
fn sandboxes(model: &Model) -> (Vec<Vec<Cow<'static, str>>>, Vec<usize>) {
    let mut runs = Vec::new();
    let mut run_of = Vec::with_capacity(model.services.len());
    let mut last: Option<&crate::model::Sandbox> = None;
    for svc in &model.services {
        if last != Some(&svc.sandbox) {
            runs.push(super::sandbox::directives(svc));
            last = Some(&svc.sandbox);
        }
        run_of.push(runs.len() - 1);
    }
    (runs, run_of)
}

/// The units of the services service `s` depends on, per kind, and the units it orders
/// itself before.
pub(super) struct Edges<'a> {
    pub(super) requires: Vec<&'a str>,
    pub(super) wants: Vec<&'a str>,
    pub(super) after: Vec<&'a str>,
    pub(super) before: Vec<&'a str>,
}

/// The edges of service `s` (what its unit context borrows).
pub(super) fn edges<'a>(sh: &'a Shared<'_>, s: usize) -> Edges<'a> {
    let model = sh.model;
    let units = |i: usize| sh.units.of(i);
    let mut e = Edges {
        requires: Vec::new(),
        wants: Vec::new(),
        after: Vec::new(),
        before: Vec::new(),
    };
    for d in model.view.dependencies(s) {
        let Target::Service(t) = d.target else {
            continue;
        };
        match d.kind {
            DepKind::Requires => e.requires.extend(units(t)),
            DepKind::Wants => e.wants.extend(units(t)),
            DepKind::After | DepKind::Before => {}
        }
        e.after.extend(units(t));
    }
    for name in &model.services[s].before {
        if let Some(t) = model.view.service_id(name) {
            e.before.extend(units(t));
        }
    }
    e
}
