//! A job's `ProgramArguments`: the service's argv, behind the shared `/bin/sh` wrapper when
//! something must happen first. The wrapper script goes into the plist escaped piece by
//! piece: the poll loops and the fixed pieces every job shares are escaped (and checked for
//! what XML cannot hold) once per render.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::Serialize;

use crate::backend::shared::waits::{WaitScripts, edges};
use crate::backend::shared::wrapper::{
    EXEC, EXPORTS_END, EXPORTS_LOOP, Prelude, Ready, SHELL, Syntax, TIMEOUT_SHIM,
};
use crate::escape::plist::{push_text, text_problem};
use crate::model::{Check, Target};

/// The argv of a job: `prelude` wrapped around the service's own `argv`.
#[derive(Debug)]
pub(super) struct Program<'a> {
    pub(super) prelude: Prelude<'a>,
    pub(super) name: &'a str,
    pub(super) argv: Vec<Cow<'a, str>>,
}

impl Program<'_> {
    /// Every argument, as launchd passes them.
    pub(super) fn arguments(&self) -> Vec<Cow<'_, str>> {
        self.prelude.wrap(self.name, self.argv.clone())
    }

    /// About how many bytes the arguments take.
    pub(super) fn size_hint(&self) -> usize {
        let waits: usize = self.prelude.waits.iter().map(|w| w.script.len() + 32).sum();
        self.argv.iter().map(|a| a.len() + 24).sum::<usize>() + waits + waits / 4
    }
}

impl Serialize for Program<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.arguments())
    }
}

/// An escaped poll loop, and what XML cannot hold in it.
type Loop = (String, Option<String>);

/// The pieces of wrapper scripts escaped for XML, each once per render.
pub(super) struct Escaped<'m> {
    scripts: WaitScripts<'m>,
    externals: Vec<OnceCell<Loop>>,
    services: Vec<OnceCell<Loop>>,
    fixed: [OnceCell<String>; 3],
    /// How many services still to render wait for each target (externals, then services).
    left: Vec<u32>,
}

impl<'m> Escaped<'m> {
    /// An empty cache over `scripts`.
    pub(super) fn new(scripts: WaitScripts<'m>, externals: usize, services: usize) -> Self {
        let mut escaped = Self {
            scripts,
            externals: vec![OnceCell::new(); externals],
            services: vec![OnceCell::new(); services],
            fixed: [OnceCell::new(), OnceCell::new(), OnceCell::new()],
            left: vec![0; externals + services],
        };
        let model = escaped.scripts.model();
        for s in 0..services {
            for (target, _) in edges(model, s) {
                if escaped.check(target).is_some() {
                    let i = escaped.slot(target);
                    escaped.left[i] += 1;
                }
            }
        }
        escaped
    }

    /// Where `target` is counted in `left`.
    fn slot(&self, target: Target) -> usize {
        match target {
            Target::External(e) => e,
            Target::Service(s) => self.externals.len() + s,
        }
    }

    /// One service that waits for `targets` (those with a script) is rendered: the loops
    /// and scripts of those no service left to render waits for are freed, so that a large
    /// stack does not keep every one to the end.
    pub(super) fn done_with(&mut self, targets: &[Target]) {
        for &target in targets {
            let i = self.slot(target);
            self.left[i] = self.left[i].saturating_sub(1);
            if self.left[i] == 0 {
                match target {
                    Target::External(e) => drop(self.externals[e].take()),
                    Target::Service(s) => drop(self.services[s].take()),
                }
                self.scripts.forget(target);
            }
        }
    }

    /// The check polled for `target`.
    fn check(&self, target: Target) -> Option<&'m Check> {
        let model = self.scripts.model();
        match target {
            Target::External(e) => Some(&model.externals[e].check),
            Target::Service(s) => model.services[s].health.as_ref().map(|h| &h.check),
        }
    }

    /// The wait scripts escaped here.
    pub(super) fn scripts(&self) -> &WaitScripts<'m> {
        &self.scripts
    }

    /// The poll loop of `target`, escaped, and what XML cannot hold in it.
    pub(super) fn wait(&self, target: Target) -> &Loop {
        let cell = match target {
            Target::External(e) => &self.externals[e],
            Target::Service(s) => &self.services[s],
        };
        cell.get_or_init(|| {
            let script = self.scripts.script(target).unwrap_or_default();
            let mut out = String::with_capacity(script.len() + script.len() / 4);
            push_text(&mut out, script);
            (out, self.check(target).and_then(check_problem))
        })
    }
}

/// What XML cannot hold in the poll loop of `check`: the first problem of its fields, in
/// the order the loop first writes them (the rest of the loop is openim-init's own text and
/// names the model already checked).
fn check_problem(check: &Check) -> Option<String> {
    match check {
        Check::Tcp { host, .. } => text_problem(host),
        Check::Http { url } => text_problem(url),
        Check::Exec { argv } => argv.iter().find_map(|a| text_problem(a)),
    }
}

/// The XML syntax of one job's wrapper (the waits of that job are `targets`).
pub(super) struct Xml<'c, 'm> {
    pub(super) escaped: &'c Escaped<'m>,
    pub(super) targets: &'c [Target],
}

impl Syntax for Xml<'_, '_> {
    fn text(&self, out: &mut String, text: &str) {
        push_text(out, text);
    }

    fn fixed(&self, out: &mut String, piece: &'static str) {
        let i = match piece {
            TIMEOUT_SHIM => 0,
            EXPORTS_LOOP => 1,
            EXEC => 2,
            other => return push_text(out, other),
        };
        out.push_str(self.escaped.fixed[i].get_or_init(|| {
            let mut s = String::new();
            push_text(&mut s, piece);
            s
        }));
    }

    fn wait(&self, out: &mut String, i: usize, wait: &Ready<'_>) {
        match self.targets.get(i) {
            Some(&t) => out.push_str(&self.escaped.wait(t).0),
            None => push_text(out, &wait.script),
        }
    }
}

/// Append the `<string>` elements of `program`'s arguments (at two tabs), the wrapper
/// script escaped through `syntax`.
pub(super) fn push_arguments(out: &mut String, program: &Program<'_>, syntax: &dyn Syntax) {
    let string = |out: &mut String, text: &str| {
        out.push_str("\n\t\t<string>");
        push_text(out, text);
        out.push_str("</string>");
    };
    if !program.prelude.is_empty() {
        string(out, SHELL);
        string(out, "-c");
        out.push_str("\n\t\t<string>");
        program.prelude.push_script_in(out, syntax);
        out.push_str("</string>");
        string(out, program.name);
        if !program.prelude.exports.is_empty() {
            for (k, v) in &program.prelude.exports {
                out.push_str("\n\t\t<string>");
                push_text(out, k);
                out.push('=');
                push_text(out, v);
                out.push_str("</string>");
            }
            string(out, EXPORTS_END);
        }
    }
    for a in &program.argv {
        string(out, a);
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::Model;

    fn refusal(text: &str) -> String {
        let model = Model::from_toml("t.toml", text).expect("valid");
        render_embedded(BackendKind::Launchd, &model, &Flags::default())
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn what_xml_cannot_hold_in_a_wait_names_the_first_job_that_waits() {
        let text = r#"
name = "x"
[external.db]
check = { http = "http://h/\uFFFE" }
[services.a]
command = ["/bin/a"]
requires = ["db"]
[services.b]
command = ["/bin/b"]
health = { exec = ["/bin/c", "\uFFFF"] }
[services.c]
command = ["/bin/c"]
wants = ["b"]
"#;
        let e = refusal(text);
        assert!(
            e.contains("launchd job io.x.a: an argument contains U+FFFE"),
            "{e}"
        );
        let e = refusal(&text.replace("\\uFFFE", ""));
        assert!(
            e.contains("launchd job io.x.c: an argument contains U+FFFF"),
            "{e}"
        );
    }
}
