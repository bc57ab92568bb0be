//! The meta-service of the stack and of each group: `depend()` wants its members (and the
//! stack its groups), `stop()` stops them layer by layer. The lists grow with the stack, so
//! they are cut into lines: repeated `want`/`after` lines add up in OpenRC, and a long layer
//! of `_stop_members` continues on the next line (`\` at the end of a line).
//!
//! The context keeps service indices, not names: the native writer streams each name from
//! [`Index::names`] into the script, so a stack of 10,000 services builds no list of names
//! and no joined line (about 1.5 MB before). Only a `--templates` override, which reads the
//! lists tera serialises, builds them ([`MetaScript`]'s `Serialize`).

use std::cmp::Reverse;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::index::Index;
use crate::backend::kit::HEADER;
use crate::backend::shared::lines;
use crate::escape::openrc::{Piece, word};
use crate::model::View;

/// Whose meta-service: the stack's, or that of group `g` (index in `Model::groups`).
#[derive(Clone, Copy)]
pub(super) enum Owner {
    /// The stack: its members and the groups wholly inside it.
    Stack,
    /// A named group.
    Group(usize),
}

impl Owner {
    /// Whether its meta-service starts service `s`.
    fn has(self, view: &View, s: usize) -> bool {
        match self {
            Self::Stack => view.in_stack(s),
            Self::Group(g) => view.groups_of(s).contains(&g),
        }
    }
}

/// The context of `templates/openrc/meta.tera` (see the module documentation). Serialised,
/// it has the template's fields: `header`, `description`, `members` (space-separated),
/// `want_lines`, `after_lines`, `stop_layers` (one line per layer, deepest first) and
/// `groups` (space-separated).
pub(super) struct MetaScript<'a> {
    index: &'a Index<'a>,
    owner: Owner,
    /// The description, quoted.
    description: String,
    /// The members, deepest start layer first, each layer in reverse start order.
    stop: Vec<usize>,
    /// Group meta-services the stack also starts (and marks stopped after its members).
    groups: Vec<&'a str>,
    /// Bytes of the member names, a separator each.
    name_bytes: usize,
    /// Start layers among the members.
    layers: usize,
}

impl<'a> MetaScript<'a> {
    /// The meta-service of `owner`.
    pub(super) fn new(index: &'a Index<'a>, description: &str, owner: Owner) -> Self {
        let model = index.model;
        let view = &model.view;
        let member = |s: usize| owner.has(view, s);
        // sized exactly: a list as long as the stack, not doubled on the way
        let mut stop = Vec::with_capacity(view.order().iter().filter(|&&s| member(s)).count());
        stop.extend(view.order().iter().rev().filter(|&&s| member(s)));
        // stable: each layer keeps the reverse start order
        stop.sort_by_key(|&s| Reverse(view.layer(s)));
        let groups = match owner {
            Owner::Stack => model
                .groups
                .iter()
                .filter(|g| {
                    g.services
                        .iter()
                        .all(|m| view.service_id(m).is_some_and(member))
                })
                .map(|g| g.name.as_str())
                .collect(),
            Owner::Group(_) => Vec::new(),
        };
        let name_bytes = stop
            .iter()
            .flat_map(|&s| index.names.of(s))
            .map(|n| n.len() + 1)
            .sum();
        let layers = stop
            .chunk_by(|&a, &b| view.layer(a) == view.layer(b))
            .count();
        Self {
            index,
            owner,
            description: word(&[Piece::Text(description)]),
            stop,
            groups,
            name_bytes,
            layers,
        }
    }

    /// Whether the stack's meta-service also starts groups.
    pub(super) fn has_groups(&self) -> bool {
        !self.groups.is_empty()
    }

    /// The quoted description.
    pub(super) fn description(&self) -> &str {
        &self.description
    }

    /// About how many bytes the script takes (a little more, not less).
    pub(super) fn size_hint(&self) -> usize {
        let group_bytes: usize = self.groups.iter().map(|g| g.len() + 1).sum();
        let runs = self.name_bytes / (lines::LIST_LINE_BYTES / 2) + 1;
        1600 + 3 * self.name_bytes + 2 * group_bytes + 32 * (self.layers + 3 * runs)
    }

    /// The member names in start order.
    fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        let view = &self.index.model.view;
        let names = &self.index.names;
        let owner = self.owner;
        view.order()
            .iter()
            .filter(move |&&s| owner.has(view, s))
            .flat_map(move |&s| names.of(s))
    }

    /// The member names by start layer, deepest first: each layer's services in reverse start
    /// order, each service's instances in reverse.
    fn layers(&self) -> impl Iterator<Item = impl Iterator<Item = &'a str> + '_> + '_ {
        let view = &self.index.model.view;
        let names = &self.index.names;
        self.stop
            .chunk_by(|&a, &b| view.layer(a) == view.layer(b))
            .map(move |layer| layer.iter().flat_map(move |&s| names.of(s).rev()))
    }

    /// The `want` lines, then the `after` lines of `depend()` (an empty list is one line with
    /// the keyword alone, as the template writes it).
    pub(super) fn push_depend(&self, out: &mut String) {
        let want = self.names().chain(self.groups.iter().copied());
        if push_runs(out, want, |o, _| o.push_str("\n\twant ")) == 0 {
            out.push_str("\n\twant ");
        }
        if push_runs(out, self.names(), |o, _| o.push_str("\n\tafter ")) == 0 {
            out.push_str("\n\tafter ");
        }
    }

    /// The `_stop_members` lines of `stop()`: one per layer, then the groups.
    pub(super) fn push_stop(&self, out: &mut String) {
        for layer in self.layers() {
            let runs = push_runs(out, layer, |o, i| {
                o.push_str(if i == 0 {
                    "\n\t_stop_members "
                } else {
                    " \\\n\t\t"
                });
            });
            if runs > 0 {
                out.push_str(" || rc=1");
            }
        }
        if self.has_groups() {
            out.push_str("\n\t_stop_members ");
            lines::push_joined(out, &self.groups, " ");
            out.push_str(" || rc=1");
        }
    }
}

/// Append `items` cut into runs as [`lines::runs`] cuts them, the items of a run joined by
/// spaces; `open` writes what goes before run `i`. Returns how many runs there were.
fn push_runs<'s>(
    out: &mut String,
    items: impl IntoIterator<Item = &'s str>,
    mut open: impl FnMut(&mut String, usize),
) -> usize {
    let (mut runs, mut len) = (0, 0);
    for item in items {
        if runs > 0 && len + 1 + item.len() <= lines::LIST_LINE_BYTES {
            out.push(' ');
            len += 1 + item.len();
        } else {
            open(out, runs);
            runs += 1;
            len = item.len();
        }
        out.push_str(item);
    }
    runs
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

impl Serialize for MetaScript<'_> {
    /// The lists the template reads, built only here (for tera).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = self.names().collect();
        let mut want = names.clone();
        want.extend(&self.groups);
        let stop_layers: Vec<String> = self
            .layers()
            .map(|layer| {
                let mut line = String::new();
                push_runs(&mut line, layer, |o, i| {
                    if i > 0 {
                        o.push_str(" \\\n\t\t");
                    }
                });
                line
            })
            .filter(|line| !line.is_empty())
            .collect();
        let mut s = serializer.serialize_struct("MetaScript", 7)?;
        s.serialize_field("header", HEADER)?;
        s.serialize_field("description", &self.description)?;
        s.serialize_field("members", &names.join(" "))?;
        s.serialize_field("want_lines", &list_lines(&want))?;
        s.serialize_field("after_lines", &list_lines(&names))?;
        s.serialize_field("stop_layers", &stop_layers)?;
        s.serialize_field("groups", &self.groups.join(" "))?;
        s.end()
    }
}
