//! `--layout s6-overlay`: the s6-rc source tree s6-overlay v3 compiles at container start
//! from `/etc/s6-overlay/s6-rc.d/`. Each process is a `longrun` (the service directory files
//! of `files.rs` plus `type` and `dependencies.d/`), depending on s6-overlay's `base`
//! bundle and on its dependencies' processes; the stack and each group are bundles
//! (`contents.d/`); the stack is enabled by `user/contents.d/STACK`.
//!
//! s6-rc-compile is not packaged here, so [`lint`] checks what it would refuse, from its
//! documented source format: a `type` of `longrun`, `oneshot` or `bundle` in every service
//! directory, an executable `run` for a longrun (`up` for a oneshot), a non-empty
//! `contents.d` for a bundle, every name in `dependencies.d`/`contents.d` defined (or
//! provided by s6-overlay: `base`, `user`), names without `/` or a leading `.`, and no
//! dependency cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::files::{self, Deps};
use crate::backend::kit::{Artifact, Rendered, Report};
use crate::backend::runit::process::Plan;
use crate::backend::runit::verify::sh_n;
use crate::model::Model;

/// The tree's root in the output directory (copied to `/etc/s6-overlay`).
pub const ROOT: &str = "s6-overlay/s6-rc.d";

/// Bundles s6-overlay defines itself.
pub const PROVIDED: &[&str] = &["base", "user"];

/// The longrun of one process.
#[must_use]
pub fn longrun(plan: &Plan<'_>, modes: (u32, u32)) -> Vec<Artifact> {
    let base = format!("{ROOT}/{}", plan.name);
    let mut out = vec![Artifact::file(format!("{base}/type"), modes.1, "longrun\n")];
    files::artifacts(&mut out, plan, &base, Deps::ByS6Rc, None, modes);
    let mut deps: BTreeSet<&str> = plan.deps.iter().map(|d| d.name).collect();
    deps.insert("base");
    for d in deps {
        out.push(Artifact::file(
            format!("{base}/dependencies.d/{d}"),
            modes.1,
            "",
        ));
    }
    out
}

/// The bundles: the stack, each group, and the stack's entry in s6-overlay's `user` bundle.
#[must_use]
pub fn bundles(model: &Model, mode: u32) -> Vec<Artifact> {
    let mut out = Vec::new();
    let mut bundle = |name: &str, members: &[&str]| {
        out.push(Artifact::file(
            format!("{ROOT}/{name}/type"),
            mode,
            "bundle\n",
        ));
        for m in model.process_names(members, "-") {
            out.push(Artifact::file(
                format!("{ROOT}/{name}/contents.d/{m}"),
                mode,
                "",
            ));
        }
    };
    bundle(&model.name, &model.stack_members());
    for g in &model.groups {
        bundle(
            &g.name,
            &g.services.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    out.push(Artifact::file(
        format!("{ROOT}/user/contents.d/{}", model.name),
        mode,
        "",
    ));
    out
}

/// What `generate` tells the user.
#[must_use]
pub fn notes(model: &Model) -> Vec<String> {
    vec![
        "install: copy the tree into the image (`COPY s6-overlay /etc/s6-overlay`); s6-overlay v3 compiles it with s6-rc-compile at container start".to_owned(),
        format!(
            "the stack starts with the container (user/contents.d/{0}); drive it with `s6-rc -u change {0}` / `s6-rc -d change {0}` (or a group's bundle)",
            model.name
        ),
        "since s6-overlay 3.2.3.2 the user bundle may also be enabled through user-bundles.d/user/contents.d/; user/contents.d/ still works".to_owned(),
        "logs: services without `logs` write to the container's output (docker logs)".to_owned(),
    ]
}

/// The services of the tree: name → (file name → contents).
fn tree(artifacts: &[Artifact]) -> BTreeMap<&str, BTreeMap<&str, &Artifact>> {
    let prefix = format!("{ROOT}/");
    let mut out: BTreeMap<&str, BTreeMap<&str, &Artifact>> = BTreeMap::new();
    for a in artifacts {
        if let Some((svc, file)) = a.path.strip_prefix(&prefix).and_then(|r| r.split_once('/')) {
            out.entry(svc).or_default().insert(file, a);
        }
    }
    out
}

/// What s6-rc-compile would refuse in the tree (see the module documentation).
#[must_use]
pub fn lint(artifacts: &[Artifact]) -> Vec<String> {
    let tree = tree(artifacts);
    let defined = |n: &str| tree.contains_key(n) || PROVIDED.contains(&n);
    let mut findings = Vec::new();
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (svc, files) in &tree {
        if svc.starts_with('.') || svc.contains(['/', '\n']) {
            findings.push(format!("{svc}: not a valid s6-rc service name"));
        }
        let ty = files.get("type").map(|a| a.contents().trim());
        let listed =
            |dir: &str| -> Vec<&str> { files.keys().filter_map(|f| f.strip_prefix(dir)).collect() };
        let (needs, list) = match ty {
            Some("longrun") => (Some("run"), "dependencies.d/"),
            Some("oneshot") => (Some("up"), "dependencies.d/"),
            Some("bundle") => (None, "contents.d/"),
            None if PROVIDED.contains(svc) => (None, "contents.d/"),
            other => {
                findings.push(format!(
                    "{svc}: type is {other:?}, not longrun, oneshot or bundle"
                ));
                continue;
            }
        };
        if let Some(f) = needs
            && !files.contains_key(f)
        {
            findings.push(format!("{svc}: a {} without ./{f}", ty.unwrap_or_default()));
        }
        if let Some(run) = files.get("run")
            && run.mode() & 0o111 == 0
        {
            findings.push(format!("{svc}/run: not executable"));
        }
        let names = listed(list);
        if ty == Some("bundle") && names.is_empty() {
            findings.push(format!("{svc}: an empty bundle"));
        }
        for n in &names {
            if !defined(n) {
                findings.push(format!("{svc}/{list}{n}: no service or bundle `{n}`"));
            }
        }
        edges.insert(svc, names);
    }
    if let Some(cycle) = find_cycle(&edges) {
        findings.push(format!("dependency cycle: {}", cycle.join(" -> ")));
    }
    findings
}

/// A cycle in `edges` (depth-first), as the names along it.
fn find_cycle<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = path.iter().position(|p| *p == n) {
            let mut c = path[i..].to_vec();
            c.push(n);
            return Some(c);
        }
        if !done.insert(n) {
            return None;
        }
        path.push(n);
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

/// `sh -n` on every script written to `dir`, then [`lint`].
///
/// # Errors
/// `sh` could not be started.
pub fn verify(dir: &Path, rendered: &Rendered) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let mut scripts = 0;
    for a in &rendered.artifacts {
        if a.contents().starts_with("#!/bin/sh") {
            scripts += 1;
            sh_n(dir, &a.path, &mut report)?;
        }
    }
    report.findings.extend(lint(&rendered.artifacts));
    report.ran.push(format!(
        "sh -n on {scripts} script(s); structural lint of the s6-rc source tree (s6-rc-compile's format: types, run scripts, every dependency and bundle member defined, no cycle)"
    ));
    report.notes.push(
        "s6-rc-compile is not run (not packaged here): s6-overlay compiles the tree when the container starts".into(),
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(path: &str, contents: &str) -> Artifact {
        Artifact::file(format!("{ROOT}/{path}"), 0o755, contents)
    }

    #[test]
    fn the_lint_finds_what_s6_rc_compile_refuses() {
        let good = vec![
            f("a/type", "longrun\n"),
            f("a/run", "#!/bin/sh\n"),
            f("a/dependencies.d/base", ""),
            f("b/type", "longrun\n"),
            f("b/run", "#!/bin/sh\n"),
            f("b/dependencies.d/a", ""),
            f("st/type", "bundle\n"),
            f("st/contents.d/a", ""),
            f("st/contents.d/b", ""),
            f("user/contents.d/st", ""),
        ];
        assert_eq!(lint(&good), Vec::<String>::new());
        let mut bad = good.clone();
        bad.push(f("a/dependencies.d/b", ""));
        bad.push(f("c/type", "daemon\n"));
        bad.push(f("d/type", "longrun\n"));
        bad.push(f("st/contents.d/zz", ""));
        let found = lint(&bad).join("\n");
        for want in [
            "dependency cycle: a -> b -> a",
            "c: type is Some(\"daemon\")",
            "d: a longrun without ./run",
            "no service or bundle `zz`",
        ] {
            assert!(found.contains(want), "{want}: {found}");
        }
    }
}
