//! Groups: supervisord runs a program once per `[group:x]` that lists it (two groups, two
//! processes), so each program joins exactly one group.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::Program;
use crate::backend::capability::{Feature, Warning};
use crate::model::Model;

/// A `[group:x]` (when it has programs of its own) and comments.
#[derive(Serialize)]
pub(super) struct GroupSection {
    pub(super) name: String,
    pub(super) comments: Vec<String>,
    pub(super) programs: Vec<String>,
    pub(super) priority: u32,
}

/// supervisord runs a program once per group that lists it, so every program joins one
/// group only: the stack's group first, then `[groups.X]` in order. A group whose members
/// are taken keeps the rest; one left empty becomes a comment with the supervisorctl
/// command that drives its members. Each such loss is a warning.
/// Also returns the group each service's programs joined.
pub(super) fn groups<'m>(
    model: &'m Model,
    programs: &[Program],
    warnings: &mut Vec<Warning>,
) -> (Vec<GroupSection>, HashMap<&'m str, &'m str>) {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let mut of_service: HashMap<&str, Vec<&Program>> = HashMap::new();
    for p in programs {
        of_service.entry(p.service.as_str()).or_default().push(p);
    }
    let of = |svc: &str| of_service.get(svc).map_or(&[][..], Vec::as_slice);
    let mut out = Vec::new();
    let wanted = std::iter::once((
        model.name.as_str(),
        &model.description,
        &model.stack_members,
    ))
    .chain(
        model
            .groups
            .iter()
            .map(|g| (g.name.as_str(), &g.description, &g.services)),
    );
    for (name, description, members) in wanted {
        let mut section = GroupSection {
            name: name.to_owned(),
            comments: vec![description.clone()],
            programs: Vec::new(),
            priority: 999,
        };
        let mut taken: Vec<(&str, &str)> = Vec::new();
        for member in members {
            if let Some(first) = owner.get(member.as_str()) {
                taken.push((member, first));
                continue;
            }
            owner.insert(member, name);
            for p in of(member) {
                section.programs.push(p.name.clone());
                section.priority = section.priority.min(p.section.priority());
            }
        }
        if !taken.is_empty() {
            let specs: Vec<String> = taken
                .iter()
                .flat_map(|(svc, group)| {
                    of(svc)
                        .iter()
                        .flat_map(move |p| p.processes.iter().map(move |n| format!("{group}:{n}")))
                })
                .collect();
            let names: Vec<&str> = taken.iter().map(|(s, _)| *s).collect();
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
                specs.join(" ")
            );
            section.comments.push(message.clone());
            warnings.push(Warning {
                backend: super::NAME,
                feature: Feature::Groups,
                services: taken.iter().map(|(s, _)| Arc::from(*s)).collect(),
                message,
            });
        }
        out.push(section);
    }
    (out, owner)
}
