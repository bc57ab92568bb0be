//! A job's `ProgramArguments`: the service's argv, behind the shared `/bin/sh` wrapper when
//! something must happen first. The wrapper script goes into the plist escaped piece by
//! piece: the poll loops and the fixed pieces every job shares are escaped (and checked for
//! what XML cannot hold) once per render.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::Serialize;

use crate::backend::shared::waited::{Waited, check};
use crate::backend::shared::waits::WaitScripts;
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
}

impl Serialize for Program<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.arguments())
    }
}

/// The pieces of wrapper scripts escaped for XML, each once per render.
pub(super) struct Escaped<'m> {
    scripts: WaitScripts<'m>,
    /// The poll loop of each target some service waits for, escaped.
    waited: Waited<OnceCell<String>>,
    fixed: [OnceCell<String>; 3],
}

impl<'m> Escaped<'m> {
    /// An empty cache over `scripts`.
    pub(super) fn new(scripts: WaitScripts<'m>) -> Self {
        Self {
            waited: Waited::new(scripts.model()),
            scripts,
            fixed: [OnceCell::new(), OnceCell::new(), OnceCell::new()],
        }
    }

    /// One service that waits for `targets` (those with a script) is rendered: the loops
    /// and scripts of those no service left to render waits for are freed, so that a large
    /// stack does not keep every one to the end.
    pub(super) fn done_with(&mut self, targets: &[Target]) {
        for &target in targets {
            if self.waited.done_with(self.scripts.model(), target) {
                self.scripts.forget(target);
            }
        }
    }

    /// The wait scripts escaped here.
    pub(super) fn scripts(&self) -> &WaitScripts<'m> {
        &self.scripts
    }

    /// The poll loop of `target`, escaped (`None` if no service waits for it).
    pub(super) fn wait(&self, target: Target) -> Option<&str> {
        let cell = self.waited.get(self.scripts.model(), target)?;
        Some(cell.get_or_init(|| {
            let script = self.scripts.script(target).unwrap_or_default();
            let mut out = String::with_capacity(script.len() + script.len() / 4);
            push_text(&mut out, script);
            out
        }))
    }

    /// What XML cannot hold in the first poll loop of `targets` that holds something (not
    /// kept with the loop: it ends the render).
    pub(super) fn problem(&self, targets: &[Target]) -> Option<String> {
        let model = self.scripts.model();
        targets
            .iter()
            .find_map(|&t| check(model, t).and_then(check_problem))
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
            Some(&t) => match self.escaped.wait(t) {
                Some(escaped) => out.push_str(escaped),
                None => push_text(out, &wait.script),
            },
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
    use std::fmt::Write as _;

    use super::Escaped;
    use crate::backend::shared::waits::WaitScripts;
    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::{Model, Target};

    #[test]
    fn only_the_targets_a_service_waits_for_have_a_loop_and_none_without_waits() {
        let mut text = String::from("name = \"x\"\n");
        for i in 0..50 {
            let _ = write!(text, "[services.s{i}]\ncommand = [\"/bin/s\"]\n");
        }
        let plain = Model::from_toml("t.toml", &text).expect("valid");
        let escaped = Escaped::new(WaitScripts::new(&plain));
        assert_eq!(escaped.waited.room(), 0, "no table when nothing waits");
        text.push_str("[services.h]\ncommand = [\"/bin/h\"]\nhealth = { tcp = \"127.0.0.1:1\" }\n");
        for (w, kind) in [("v", "requires"), ("w", "wants")] {
            let _ = write!(
                text,
                "[services.{w}]\ncommand = [\"/bin/w\"]\n{kind} = [\"h\"]\n"
            );
        }
        let one = Model::from_toml("t.toml", &text).expect("valid");
        let mut escaped = Escaped::new(WaitScripts::new(&one));
        assert_eq!(escaped.waited.len(), 1, "one loop, for h");
        let h = Target::Service(50);
        assert!(escaped.wait(h).is_some_and(|l| l.contains("127.0.0.1")));
        assert!(escaped.wait(Target::Service(0)).is_none());
        escaped.done_with(&[h]);
        let kept = |e: &Escaped<'_>| e.waited.get(&one, h).is_some_and(|c| c.get().is_some());
        assert!(kept(&escaped), "w still waits for h");
        escaped.done_with(&[h]);
        assert!(!kept(&escaped), "freed after its last wait");
    }

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
