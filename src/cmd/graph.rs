//! `graph`: the stack as a picture — services (instances), externals, groups, the
//! `requires`/`wants`/`after` edges drawn differently, and the start layers — in Mermaid,
//! Graphviz DOT or text. Everything comes from the model's view: nothing is derived here.

use std::fmt::Write as _;

use crate::backend::shared::gate;
use crate::cli::GraphFormat;
use crate::model::{DepKind, Model, Target};

/// One edge: from what starts first to what waits for it.
struct Edge {
    from: Target,
    to: usize,
    kind: DepKind,
}

/// Every edge of the stack: declared dependencies, then `before` (drawn as ordering).
fn edges(model: &Model) -> Vec<Edge> {
    let mut out = Vec::new();
    for s in 0..model.services.len() {
        for d in model.view.dependencies(s) {
            out.push(Edge {
                from: d.target,
                to: s,
                kind: d.kind,
            });
        }
        for &b in model.view.ordered_before(s) {
            out.push(Edge {
                from: Target::Service(b),
                to: s,
                kind: DepKind::Before,
            });
        }
    }
    out
}

/// Services by start layer.
fn layers(model: &Model) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for &s in model.view.order() {
        let l = model.view.layer(s);
        if out.len() <= l {
            out.resize(l + 1, Vec::new());
        }
        out[l].push(s);
    }
    out
}

/// A service's label: its name, and its instances.
fn label(model: &Model, s: usize) -> String {
    let svc = &model.services[s];
    match &svc.instances {
        None => svc.name.to_string(),
        Some(list) => format!("{} ×{} ({})", svc.name, list.len(), list.join(" ")),
    }
}

/// The groups that list service `s`, for its label.
fn groups_of(model: &Model, s: usize) -> Vec<&str> {
    model
        .view
        .groups_of(s)
        .iter()
        .map(|&g| model.groups[g].name.as_str())
        .collect()
}

/// Render the graph of `model` in `format`.
#[must_use]
pub fn render(model: &Model, format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => mermaid(model),
        GraphFormat::Dot => dot(model),
        GraphFormat::Text => text(model),
    }
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn mermaid(model: &Model) -> String {
    let id = |t: Target| match t {
        Target::Service(i) => format!("s{i}"),
        Target::External(i) => format!("e{i}"),
    };
    let mut out = format!("flowchart LR\n  %% stack {}\n", model.name);
    if !model.externals.is_empty() {
        out.push_str("  subgraph externals\n");
        for (i, e) in model.externals.iter().enumerate() {
            let what = mermaid_text(&gate::describe(&e.check));
            let _ = writeln!(out, "    e{i}[(\"{}<br/>{what}\")]", e.name);
        }
        out.push_str("  end\n");
    }
    for (l, members) in layers(model).iter().enumerate() {
        let _ = writeln!(out, "  subgraph layer{l} [\"start layer {l}\"]");
        for &s in members {
            let mut text = mermaid_text(&label(model, s));
            let groups = groups_of(model, s);
            if !groups.is_empty() {
                let _ = write!(text, "<br/>group {}", groups.join(", "));
            }
            let _ = writeln!(out, "    s{s}[\"{text}\"]");
        }
        out.push_str("  end\n");
    }
    for e in edges(model) {
        let arrow = match e.kind {
            DepKind::Requires => "==>|requires|",
            DepKind::Wants => "-->|wants|",
            DepKind::After => "-.->|after|",
            DepKind::Before => "-.->|before|",
        };
        let _ = writeln!(out, "  {} {arrow} s{}", id(e.from), e.to);
    }
    out
}

fn dot_text(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn dot(model: &Model) -> String {
    let id = |t: Target| match t {
        Target::Service(i) => dot_text(&model.services[i].name),
        Target::External(i) => dot_text(&format!("external {}", model.externals[i].name)),
    };
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n", dot_text(&model.name));
    for (i, e) in model.externals.iter().enumerate() {
        let what = format!("{}\n{}", e.name, gate::describe(&e.check));
        let _ = writeln!(
            out,
            "  {} [shape=cylinder, label={}];",
            id(Target::External(i)),
            dot_text(&what)
        );
    }
    for (l, members) in layers(model).iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_layer{l} {{\n    label=\"start layer {l}\";"
        );
        for &s in members {
            let mut text = label(model, s);
            let groups = groups_of(model, s);
            if !groups.is_empty() {
                let _ = write!(text, "\ngroup {}", groups.join(", "));
            }
            let _ = writeln!(
                out,
                "    {} [shape=box, label={}];",
                id(Target::Service(s)),
                dot_text(&text)
            );
        }
        out.push_str("  }\n");
    }
    for e in edges(model) {
        let style = match e.kind {
            DepKind::Requires => "style=bold",
            DepKind::Wants => "style=solid",
            DepKind::After | DepKind::Before => "style=dashed",
        };
        let _ = writeln!(
            out,
            "  {} -> {} [{style}, label={}];",
            id(e.from),
            id(Target::Service(e.to)),
            dot_text(e.kind.key())
        );
    }
    out.push_str("}\n");
    out
}

fn text(model: &Model) -> String {
    let name = |t: Target| match t {
        Target::Service(i) => model.services[i].name.to_string(),
        Target::External(i) => format!("external {}", model.externals[i].name),
    };
    let mut out = format!(
        "stack {}: {} services ({} processes), {} externals, {} group(s)\n",
        model.name,
        model.services.len(),
        model.view.processes().len(),
        model.externals.len(),
        model.groups.len()
    );
    for (l, members) in layers(model).iter().enumerate() {
        let names: Vec<String> = members.iter().map(|&s| label(model, s)).collect();
        let _ = writeln!(out, "layer {l}: {}", names.join(", "));
    }
    for e in &model.externals {
        let _ = writeln!(out, "external {}: {}", e.name, gate::describe(&e.check));
    }
    for g in &model.groups {
        let _ = writeln!(out, "group {}: {}", g.name, g.services.join(", "));
    }
    for e in edges(model) {
        let _ = writeln!(
            out,
            "{} {} {}",
            model.services[e.to].name,
            match e.kind {
                DepKind::Before => "after (before)",
                k => k.key(),
            },
            name(e.from)
        );
    }
    out
}
