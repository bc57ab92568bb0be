//! The meta-service of the stack and of each group: `depend()` wants its members (and the
//! stack its groups), `stop()` stops them layer by layer. The lists grow with the stack, so
//! they are cut into lines: repeated `want`/`after` lines add up in OpenRC, and a long layer
//! of `_stop_members` continues on the next line (`\` at the end of a line).

use serde::Serialize;

use super::index::Index;
use crate::backend::kit::HEADER;
use crate::backend::shared::lines;
use crate::escape::openrc::{Piece, word};

/// The context of `templates/openrc/meta.tera`.
#[derive(Serialize)]
pub(super) struct MetaScript {
    pub(super) header: &'static str,
    pub(super) description: String,
    /// Every member, space-separated (the `want_lines` and `after_lines` joined).
    pub(super) members: String,
    /// What `depend()` wants (members, then groups), one line each.
    pub(super) want_lines: Vec<String>,
    /// What `depend()` starts after (the members), one line each.
    pub(super) after_lines: Vec<String>,
    /// Members to stop, deepest start layer first; each layer's services stop in parallel.
    pub(super) stop_layers: Vec<String>,
    /// Group meta-services the stack also starts (and marks stopped after its members).
    pub(super) groups: String,
}

/// `items` cut into lines; an empty list is one empty line (`want ` alone, as the template
/// always wrote it).
fn list_lines(items: &[&str]) -> Vec<String> {
    let runs = lines::joined_runs(items, " ");
    if runs.is_empty() {
        vec![String::new()]
    } else {
        runs
    }
}

/// `names` joined by spaces, continued on a further (indented) line wherever the line would
/// grow past [`lines::LIST_LINE_BYTES`].
fn continued(names: &[&str]) -> String {
    let mut out = String::with_capacity(names.iter().map(|n| n.len() + 1).sum());
    for (i, run) in lines::runs(names).enumerate() {
        if i > 0 {
            out.push_str(" \\\n\t\t");
        }
        lines::push_joined(&mut out, run, " ");
    }
    out
}

/// The meta-service of the stack (`groups`: true) or of a group; `members[i]` says whether
/// service `i` belongs to it.
pub(super) fn meta(
    index: &Index<'_>,
    description: &str,
    members: &[bool],
    groups: bool,
) -> MetaScript {
    let model = index.model;
    let view = &model.view;
    let order: Vec<usize> = view
        .order()
        .iter()
        .copied()
        .filter(|&i| members[i])
        .collect();
    // the processes by layer, the deepest first, each layer in reverse start order (one
    // list: a chain of 100,000 has as many layers)
    let mut by_layer: Vec<(usize, &str)> = order
        .iter()
        .rev()
        .flat_map(|&i| {
            let layer = view.layer(i);
            index.names.of(i).rev().map(move |n| (layer, n))
        })
        .collect();
    by_layer.sort_by_key(|&(layer, _)| std::cmp::Reverse(layer));
    let names: Vec<&str> = order.iter().flat_map(|&i| index.names.of(i)).collect();
    let group_names: Vec<&str> = if groups {
        model
            .groups
            .iter()
            .filter(|g| {
                g.services
                    .iter()
                    .all(|m| view.service_id(m).is_some_and(|i| members[i]))
            })
            .map(|g| g.name.as_str())
            .collect()
    } else {
        Vec::new()
    };
    let mut want = names.clone();
    want.extend(&group_names);
    MetaScript {
        header: HEADER,
        description: word(&[Piece::Text(description)]),
        members: names.join(" "),
        want_lines: list_lines(&want),
        after_lines: list_lines(&names),
        stop_layers: by_layer
            .chunk_by(|a, b| a.0 == b.0)
            .map(|layer| continued(&layer.iter().map(|&(_, n)| n).collect::<Vec<_>>()))
            .collect(),
        groups: group_names.join(" "),
    }
}
