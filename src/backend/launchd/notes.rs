//! The notes `generate` prints for launchd: install, and the `launchctl` loops that start
//! and stop the stack and each group in start order (launchd has no groups).

use super::{DATA, OPEN_MAX};
use crate::backend::capability;
use crate::backend::data::Fill;
use crate::backend::shared::names::ProcessNames;
use crate::escape::sh;
use crate::model::{Logs, Model};

/// Labels of the named services, in start order, instances expanded.
fn labels_in_order<'a>(model: &Model, labels: &'a ProcessNames, members: &[&str]) -> Vec<&'a str> {
    let mut member = vec![false; model.services.len()];
    for m in members {
        if let Some(i) = model.view.service_id(m) {
            member[i] = true;
        }
    }
    model
        .view
        .order()
        .iter()
        .filter(|&&s| member[s])
        .flat_map(|&s| labels.of(s))
        .collect()
}

/// `labels` quoted for `sh`, separated by spaces (in one string: a stack of 100,000 has
/// as many).
fn words<'a>(labels: impl Iterator<Item = &'a &'a str>) -> String {
    let mut out = String::new();
    for (i, label) in labels.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        sh::push_quote(&mut out, label);
    }
    out
}

/// Every note for the stack whose processes are labelled `labels`.
pub(super) fn notes(model: &Model, labels: &ProcessNames) -> Vec<String> {
    let mut notes = DATA.notes(&model.name, None);
    notes.push(format!(
        "owned by root:wheel, mode 0644, launchd loads them at boot and RunAtLoad starts them; for one user copy them to {} and use the domain gui/$(id -u) instead of system (launchd ignores UserName/GroupName for agents)",
        DATA.install.user.as_deref().unwrap_or_default(),
    ));
    let dir = DATA.install.system.as_str();
    // each word quoted around the loop variable that stands for the label
    let loop_over = |argv: &[String]| {
        Fill {
            stack: &model.name,
            unit: "\0",
            dir,
            domain: &DATA.domain.system,
        }
        .apply(argv)
        .iter()
        .map(|w| {
            w.split('\0')
                .map(|part| {
                    if part.is_empty() {
                        String::new()
                    } else {
                        sh::quote(part)
                    }
                })
                .collect::<Vec<_>>()
                .join("\"$l\"")
        })
        .collect::<Vec<_>>()
        .join(" ")
    };
    let stack = (format!("stack {}", model.name), model.stack_members());
    let groups = (model.groups.iter()).map(|g| {
        let members = g.services.iter().map(String::as_str).collect();
        (format!("group {}", g.name), members)
    });
    for (what, members) in std::iter::once(stack).chain(groups) {
        let order = labels_in_order(model, labels, &members);
        notes.push(format!(
            "start {what}: for l in {}; do {}; done",
            words(order.iter()),
            loop_over(&DATA.commands.start)
        ));
        notes.push(format!(
            "stop {what}: for l in {}; do {}; done",
            words(order.iter().rev()),
            loop_over(&DATA.commands.stop)
        ));
    }
    let silent: Vec<&str> = model
        .services
        .iter()
        .filter(|s| *s.logs == Logs::Journal)
        .map(|s| &*s.name)
        .collect();
    if !silent.is_empty() {
        notes.push(format!(
            "launchd sends the output of a job without StandardOutPath to /dev/null (there is no journal); set logs.stdout to keep it: {}",
            capability::named(&silent)
        ));
    }
    let big: Vec<&str> = model
        .services
        .iter()
        .filter(|s| s.limits.nofile.is_some_and(|n| n > OPEN_MAX))
        .map(|s| &*s.name)
        .collect();
    if !big.is_empty() {
        notes.push(format!(
            "macOS caps open files at `sysctl kern.maxfilesperproc`; a NumberOfFiles above {OPEN_MAX} may be clamped or refused unless it is raised: {}",
            capability::named(&big)
        ));
    }
    notes
}
