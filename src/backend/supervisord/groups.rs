//! Groups: supervisord runs a program once per `[group:x]` that lists it (two groups, two
//! processes), so each program joins exactly one group.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

use super::names::{processes, program_names};
use crate::backend::capability::{Feature, Warning};
use crate::model::Model;

/// A `[group:x]` (when it has programs of its own) and comments.
#[derive(Serialize)]
pub(super) struct GroupSection<'m> {
    pub(super) name: String,
    pub(super) comments: Vec<String>,
    /// Its programs, borrowed from the model where they are a service's name (a copy of
    /// every name was 0.3 MB at 10,000 services).
    pub(super) programs: Vec<Cow<'m, str>>,
    pub(super) priority: u32,
}

/// supervisord runs a program once per group that lists it, so every program joins one
/// group only: the stack's group first, then `[groups.X]` in order. A group whose members
/// are taken keeps the rest; one left empty becomes a comment with the supervisorctl
/// command that drives its members. Each such loss is a warning.
/// Also returns the group each service's programs joined, by service index (`0` the
/// stack's, `g + 1` group `g`); `priority` is each service's.
pub(super) fn groups<'m>(
    model: &'m Model,
    priority: &[u32],
    warnings: &mut Vec<Warning>,
) -> (Vec<GroupSection<'m>>, Vec<Option<u32>>) {
    let mut owner: Vec<Option<u32>> = vec![None; model.services.len()];
    let group_name = |g: usize| match g {
        0 => &*model.name,
        g => &*model.groups[g - 1].name,
    };
    let mut out = Vec::new();
    let wanted = std::iter::once((&model.description, model.stack_members())).chain(
        (model.groups.iter()).map(|g| {
            (
                &g.description,
                g.services.iter().map(String::as_str).collect(),
            )
        }),
    );
    for (gi, (description, members)) in wanted.enumerate() {
        let name = group_name(gi);
        let mut section = GroupSection {
            name: name.to_owned(),
            comments: vec![description.clone()],
            programs: Vec::new(),
            priority: 999,
        };
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for member in members {
            let Some(s) = model.view.service_id(member) else {
                continue;
            };
            if let Some(first) = owner[s] {
                taken.push((s, first as usize));
                continue;
            }
            owner[s] = u32::try_from(gi).ok();
            let before = section.programs.len();
            section
                .programs
                .extend(program_names(&model.services[s]).map(|(n, _)| n));
            if section.programs.len() > before {
                section.priority = section.priority.min(priority[s]);
            }
        }
        if !taken.is_empty() {
            let mut specs = String::new();
            for &(s, first) in &taken {
                for n in processes(&model.services[s]) {
                    if !specs.is_empty() {
                        specs.push(' ');
                    }
                    specs.push_str(group_name(first));
                    specs.push(':');
                    specs.push_str(&n);
                }
            }
            let names: Vec<&str> = taken
                .iter()
                .map(|&(s, _)| &*model.services[s].name)
                .collect();
            let message = format!(
                "supervisord runs a program once per group that lists it, and {} {} already in another group, so {}; drive {} with `supervisorctl start|stop {}`",
                names.join(", "),
                if names.len() == 1 { "is" } else { "are" },
                if section.programs.is_empty() {
                    format!("group {name} is only this comment")
                } else {
                    format!("group {name} leaves them out")
                },
                if section.programs.is_empty() {
                    "its members"
                } else {
                    "them"
                },
                specs
            );
            section.comments.push(message.clone());
            warnings.push(Warning {
                backend: super::NAME,
                feature: Feature::Groups,
                services: names.iter().map(|s| Arc::from(*s)).collect(),
                message,
            });
        }
        out.push(section);
    }
    (out, owner)
}
