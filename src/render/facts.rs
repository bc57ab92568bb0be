//! What the checks of [`super::guard`] need from parsed templates (includes, macro calls,
//! `set`s, filters), and the checks over the whole set: refused constructs, include cycles,
//! recursive macros, values built from themselves.

use std::collections::{BTreeMap, BTreeSet};

use tera::ast::{Expr, ExprVal, FunctionCall, Node};

/// Filters that can multiply the size of a value when chained.
const AMPLIFYING: &[&str] = &[
    "addslashes",
    "json_encode",
    "split",
    "concat",
    "indent",
    "urlencode",
    "urlencode_strict",
];

/// What the checks need from one parsed template.
#[derive(Default)]
pub struct Facts {
    /// Templates it includes.
    includes: Vec<String>,
    /// Its macros and the macros each calls, as `(namespace, name)`.
    macros: BTreeMap<String, Vec<(String, String)>>,
    /// Import namespace → template.
    imports: BTreeMap<String, String>,
    /// Variables `set` writes, and for each `set` the variables its value reads.
    sets: Vec<(String, BTreeSet<String>)>,
    /// Problems found while walking (refused filters).
    problems: Vec<String>,
}

/// Collect the [`Facts`] of a parsed template.
#[must_use]
pub fn facts(tpl: &tera::Template) -> Facts {
    let mut f = Facts {
        imports: tpl
            .imported_macro_files
            .iter()
            .map(|(file, ns)| (ns.clone(), file.clone()))
            .collect(),
        ..Facts::default()
    };
    let mut calls = Vec::new();
    walk_nodes(&tpl.ast, &mut f, &mut calls);
    for (name, m) in &tpl.macros {
        let mut calls = Vec::new();
        walk_nodes(&m.body, &mut f, &mut calls);
        for e in m.args.values().flatten() {
            walk_expr(e, &mut f, &mut calls, &mut BTreeSet::new());
        }
        f.macros.insert(name.clone(), calls);
    }
    f
}

fn walk_nodes(nodes: &[Node], f: &mut Facts, calls: &mut Vec<(String, String)>) {
    let mut idents = BTreeSet::new();
    for node in nodes {
        match node {
            Node::VariableBlock(_, e) => walk_expr(e, f, calls, &mut idents),
            Node::Include(_, names, _) => f.includes.extend(names.iter().cloned()),
            Node::Set(_, set) => {
                let mut reads = BTreeSet::new();
                walk_expr(&set.value, f, calls, &mut reads);
                f.sets.push((set.key.clone(), reads));
            }
            Node::FilterSection(_, section, _) => {
                filter(&section.filter, f, calls, &mut idents);
                walk_nodes(&section.body, f, calls);
            }
            Node::Block(_, block, _) => walk_nodes(&block.body, f, calls),
            Node::Forloop(_, l, _) => {
                walk_expr(&l.container, f, calls, &mut idents);
                walk_nodes(&l.body, f, calls);
                walk_nodes(l.empty_body.as_deref().unwrap_or_default(), f, calls);
            }
            Node::If(i, _) => {
                for (_, cond, body) in &i.conditions {
                    walk_expr(cond, f, calls, &mut idents);
                    walk_nodes(body, f, calls);
                }
                if let Some((_, body)) = &i.otherwise {
                    walk_nodes(body, f, calls);
                }
            }
            _ => {}
        }
    }
}

fn filter(
    call: &FunctionCall,
    f: &mut Facts,
    calls: &mut Vec<(String, String)>,
    idents: &mut BTreeSet<String>,
) {
    if AMPLIFYING.contains(&call.name.as_str()) {
        f.problems.push(format!(
            "the `{}` filter is refused in overrides (chained, it multiplies the size of its input)",
            call.name
        ));
    }
    if call.name == "replace" {
        let lit = |k: &str| match call.args.get(k).map(|e| &e.val) {
            Some(ExprVal::String(s)) => Some(s.len()),
            _ => None,
        };
        if !matches!((lit("from"), lit("to")), (Some(from), Some(to)) if from > 0 && to <= from) {
            f.problems.push(
                "`replace` in an override takes literal strings, `to` no longer than a non-empty `from`"
                    .to_owned(),
            );
        }
    }
    for e in call.args.values() {
        walk_expr(e, f, calls, idents);
    }
}

fn walk_expr(
    e: &Expr,
    f: &mut Facts,
    calls: &mut Vec<(String, String)>,
    idents: &mut BTreeSet<String>,
) {
    walk_val(&e.val, f, calls, idents);
    for call in &e.filters {
        filter(call, f, calls, idents);
    }
}

fn walk_val(
    v: &ExprVal,
    f: &mut Facts,
    calls: &mut Vec<(String, String)>,
    idents: &mut BTreeSet<String>,
) {
    match v {
        ExprVal::Ident(name) => {
            let root = name.split(['.', '[']).next().unwrap_or(name);
            idents.insert(root.to_owned());
        }
        ExprVal::Math(m) => {
            walk_expr(&m.lhs, f, calls, idents);
            walk_expr(&m.rhs, f, calls, idents);
        }
        ExprVal::Logic(m) => {
            walk_expr(&m.lhs, f, calls, idents);
            walk_expr(&m.rhs, f, calls, idents);
        }
        ExprVal::In(m) => {
            walk_expr(&m.lhs, f, calls, idents);
            walk_expr(&m.rhs, f, calls, idents);
        }
        ExprVal::Test(t) => {
            idents.insert(t.ident.clone());
            for a in &t.args {
                walk_expr(a, f, calls, idents);
            }
        }
        ExprVal::MacroCall(m) => {
            calls.push((m.namespace.clone(), m.name.clone()));
            for a in m.args.values() {
                walk_expr(a, f, calls, idents);
            }
        }
        ExprVal::FunctionCall(c) => {
            for a in c.args.values() {
                walk_expr(a, f, calls, idents);
            }
        }
        ExprVal::Array(items) => {
            for a in items {
                walk_expr(a, f, calls, idents);
            }
        }
        ExprVal::StringConcat(c) => {
            for v in &c.values {
                walk_val(v, f, calls, idents);
            }
        }
        ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => {}
    }
}

/// Check the whole set of templates (name → facts): refused constructs, include cycles,
/// recursive macros, `set` feedback. The error names the template.
///
/// # Errors
/// `(template, what is wrong)`.
pub fn check_set(all: &BTreeMap<String, Facts>) -> Result<(), (String, String)> {
    let written: BTreeSet<&str> = all
        .values()
        .flat_map(|f| f.sets.iter().map(|(k, _)| k.as_str()))
        .collect();
    for (name, f) in all {
        if let Some(p) = f.problems.first() {
            return Err((name.clone(), p.clone()));
        }
        for (key, reads) in &f.sets {
            if let Some(r) = reads.iter().find(|r| written.contains(r.as_str())) {
                return Err((
                    name.clone(),
                    format!(
                        "`set {key}` reads `{r}`, which a `set` writes: values built from themselves can grow without bound"
                    ),
                ));
            }
        }
    }
    let includes =
        |t: &String| -> Vec<String> { all.get(t).map(|f| f.includes.clone()).unwrap_or_default() };
    let templates: Vec<String> = all.keys().cloned().collect();
    if let Some(cycle) = find_cycle(&templates, &includes) {
        return Err((
            cycle[0].clone(),
            format!("includes itself: {}", cycle.join(" → ")),
        ));
    }
    let macros: Vec<(String, String)> = all
        .iter()
        .flat_map(|(t, f)| f.macros.keys().map(move |m| (t.clone(), m.clone())))
        .collect();
    let callees = |(file, name): &(String, String)| -> Vec<(String, String)> {
        let Some(facts) = all.get(file) else {
            return Vec::new();
        };
        let calls = facts
            .macros
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        calls
            .iter()
            .filter_map(|(ns, callee)| {
                let target = if ns == "self" {
                    file.clone()
                } else {
                    facts.imports.get(ns)?.clone()
                };
                Some((target, callee.clone()))
            })
            .collect()
    };
    if let Some(cycle) = find_cycle(&macros, &callees) {
        let shown: Vec<String> = cycle.iter().map(|(t, m)| format!("{t}::{m}")).collect();
        return Err((
            cycle[0].0.clone(),
            format!(
                "macro `{}` calls itself: {} (recursion is refused: it can overflow the stack)",
                cycle[0].1,
                shown.join(" → ")
            ),
        ));
    }
    Ok(())
}

/// A cycle in the graph `edges` over `nodes` (depth-first, each node visited once), as the
/// path from its first node back to it.
fn find_cycle<K: Clone + Ord>(nodes: &[K], edges: &dyn Fn(&K) -> Vec<K>) -> Option<Vec<K>> {
    let mut done: BTreeSet<K> = BTreeSet::new();
    for start in nodes {
        if done.contains(start) {
            continue;
        }
        // iterative: (node, its successors not yet followed)
        let mut stack: Vec<(K, Vec<K>)> = vec![(start.clone(), edges(start))];
        let mut on_path: BTreeSet<K> = BTreeSet::from([start.clone()]);
        while let Some((_, next)) = stack.last_mut() {
            let Some(n) = next.pop() else {
                let (k, _) = stack.pop()?;
                on_path.remove(&k);
                done.insert(k);
                continue;
            };
            if on_path.contains(&n) {
                let from = stack.iter().position(|(k, _)| *k == n).unwrap_or(0);
                let mut cycle: Vec<K> = stack[from..].iter().map(|(k, _)| k.clone()).collect();
                cycle.push(n);
                return Some(cycle);
            }
            if !done.contains(&n) {
                on_path.insert(n.clone());
                let succ = edges(&n);
                stack.push((n, succ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_once_each_node() {
        let edges = |n: &u32| -> Vec<u32> {
            match n {
                0 => vec![1, 2],
                1 => vec![2],
                2 => vec![3],
                3 => vec![1],
                _ => vec![],
            }
        };
        assert_eq!(find_cycle(&[0, 1, 2, 3], &edges), Some(vec![2, 3, 1, 2]));
        let dag = |n: &u32| -> Vec<u32> { (n + 1..20).collect() };
        assert_eq!(find_cycle(&(0..20).collect::<Vec<_>>(), &dag), None);
    }
}
