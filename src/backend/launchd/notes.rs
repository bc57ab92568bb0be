//! The notes `generate` prints for launchd: install, and the `launchctl` loops that start
//! and stop the stack and each group in start order (launchd has no groups).

use super::labels::each_label;
use super::{DATA, OPEN_MAX};
use crate::backend::capability;
use crate::backend::data::Fill;
use crate::escape::sh;
use crate::model::{Logs, Model};

/// Whether each service of `model` is one of `members` (named).
fn flags<'a>(model: &Model, members: impl Iterator<Item = &'a str>) -> Vec<bool> {
    let mut member = vec![false; model.services.len()];
    for m in members {
        if let Some(i) = model.view.service_id(m) {
            member[i] = true;
        }
    }
    member
}

/// Call `f` with the label of each process of the services flagged in `member`, in start
/// order, or in reverse.
fn each(model: &Model, prefix: &str, member: &[bool], rev: bool, f: &mut dyn FnMut(&str)) {
    let order = model.view.order().iter().copied();
    let member = |&s: &usize| member[s];
    if rev {
        each_label(model, prefix, order.rev().filter(member), true, f);
    } else {
        each_label(model, prefix, order.filter(member), false, f);
    }
}

/// The note `HEAD: for l in LABELS; do BODY; done`, the labels of [`each`] quoted for
/// `sh`: written into one string of its exact size, the labels made as they are written
/// (a note names every job of the stack; a table of the labels, one of the words and the
/// note grown twice its size were 1.3 MB at 10,000 jobs).
fn loop_note(
    model: &Model,
    prefix: &str,
    (member, rev): (&[bool], bool),
    head: &str,
    body: &str,
) -> String {
    let mut quoted = String::new();
    let (mut len, mut count) = (0, 0_usize);
    each(model, prefix, member, rev, &mut |label| {
        quoted.clear();
        sh::push_quote(&mut quoted, label);
        len += quoted.len();
        count += 1;
    });
    let (open, close) = (": for l in ", "; done");
    let size = head.len() + open.len() + len + count.saturating_sub(1) + "; do ".len();
    let mut note = String::with_capacity(size + body.len() + close.len());
    note.push_str(head);
    note.push_str(open);
    let mut first = true;
    each(model, prefix, member, rev, &mut |label| {
        if !first {
            note.push(' ');
        }
        first = false;
        sh::push_quote(&mut note, label);
    });
    note.push_str("; do ");
    note.push_str(body);
    note.push_str(close);
    debug_assert_eq!(note.len(), size + body.len() + close.len());
    note
}

/// Every note for the stack, its jobs labelled `PREFIX.…`.
pub(super) fn notes(model: &Model, prefix: &str) -> Vec<String> {
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
    let stack = match &model.stack_group {
        Some(names) => flags(model, names.iter().map(String::as_str)),
        None => vec![true; model.services.len()],
    };
    let stack = (format!("stack {}", model.name), stack);
    let groups = (model.groups.iter()).map(|g| {
        let members = flags(model, g.services.iter().map(String::as_str));
        (format!("group {}", g.name), members)
    });
    let (start, stop) = (
        loop_over(&DATA.commands.start),
        loop_over(&DATA.commands.stop),
    );
    for (what, member) in std::iter::once(stack).chain(groups) {
        let start_what = format!("start {what}");
        notes.push(loop_note(
            model,
            prefix,
            (&member, false),
            &start_what,
            &start,
        ));
        let stop_what = format!("stop {what}");
        notes.push(loop_note(model, prefix, (&member, true), &stop_what, &stop));
    }
    let silent = (model.services.iter()).filter(|s| *s.logs == Logs::Journal);
    if let Some(names) = capability::named_of(silent.map(|s| &*s.name)) {
        notes.push(format!(
            "launchd sends the output of a job without StandardOutPath to /dev/null (there is no journal); set logs.stdout to keep it: {names}"
        ));
    }
    let big = (model.services.iter()).filter(|s| s.limits.nofile.is_some_and(|n| n > OPEN_MAX));
    if let Some(names) = capability::named_of(big.map(|s| &*s.name)) {
        notes.push(format!(
            "macOS caps open files at `sysctl kern.maxfilesperproc`; a NumberOfFiles above {OPEN_MAX} may be clamped or refused unless it is raised: {names}"
        ));
    }
    notes
}
