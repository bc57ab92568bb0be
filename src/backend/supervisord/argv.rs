//! The `command=` of a wrapped program. The `/bin/sh` wrapper script is one word of it,
//! written piece by piece in the order [`Prelude::push_script_in`] writes them: the pieces
//! every program shares (the fixed ones and each poll loop) are escaped once per render.
//!
//! A piece that starts with none of `'`, `;`, `#`, `(` is escaped the same wherever it
//! stands in the word, except for the quote that opens it; every piece ends in a character
//! other than whitespace, so the separators between pieces (`; `, `( `, ` ) || exit`) are
//! inside the quotes: after a piece that ends outside them a quote is opened at once, as
//! the separator would open it.

use std::cell::{Cell, OnceCell};

use crate::backend::shared::gate;
use crate::backend::shared::waited::Waited;
use crate::backend::shared::waits::{WaitScripts, edges};
use crate::backend::shared::wrapper::{
    EXEC, EXPORTS_END, EXPORTS_LOOP, Prelude, Ready, SHELL, Syntax, TIMEOUT_SHIM,
};
use crate::escape::supervisord as esc;
use crate::model::Target;

/// A piece escaped as it reads after `; ` inside the quotes, ending inside them; `None`
/// when its first character's escape depends on what comes before it.
fn escape_piece(piece: &str) -> Option<String> {
    if piece.is_empty() || matches!(piece.as_bytes()[0], b'\'' | b';' | b'#' | b'(') {
        return None;
    }
    let mut out = String::with_capacity(piece.len() + piece.len() / 8);
    let mut open = true;
    esc::push_word_part(&mut out, piece, &mut open, Some(' '));
    if !open {
        out.push('\'');
    }
    Some(out)
}

/// The pieces of wrapper scripts escaped for `command=`, and the description of each wait
/// for the comments, each made once per render and freed once no service left to render
/// waits for it.
pub(super) struct Escaped<'m> {
    scripts: WaitScripts<'m>,
    /// Of each target some service waits for: its poll loop escaped, and `LABEL (CHECK)`.
    waited: Waited<(Cached, Cached)>,
    fixed: [Cached; 3],
}

/// A piece made once (`None`: it cannot be written).
type Cached = OnceCell<Option<String>>;

impl<'m> Escaped<'m> {
    /// An empty cache over `scripts`.
    pub(super) fn new(scripts: WaitScripts<'m>) -> Self {
        Self {
            waited: Waited::new(scripts.model()),
            scripts,
            fixed: [OnceCell::new(), OnceCell::new(), OnceCell::new()],
        }
    }

    /// Every program of service `s` is rendered: free the scripts, loops and descriptions
    /// of the targets no service left to render waits for, so that a large stack does not
    /// keep every one to the end.
    pub(super) fn done_with(&mut self, s: usize) {
        let model = self.scripts.model();
        for (target, _) in edges(model, s) {
            if self.waited.done_with(model, target) {
                self.scripts.forget(target);
            }
        }
    }

    /// The poll loops escaped here.
    pub(super) fn scripts(&self) -> &WaitScripts<'m> {
        &self.scripts
    }

    /// The poll loop of `target`, escaped.
    fn wait(&self, target: Target) -> Option<&str> {
        let (cell, _) = self.waited.get(self.scripts.model(), target)?;
        cell.get_or_init(|| self.scripts.script(target).and_then(escape_piece))
            .as_deref()
    }

    /// `external NAME (CHECK)` or `service NAME (CHECK)` (labelled as
    /// [`crate::model::View::waits`] labels it); `None` for a service without a health
    /// check.
    pub(super) fn described(&self, target: Target) -> Option<&str> {
        let model = self.scripts.model();
        let (_, cell) = self.waited.get(model, target)?;
        cell.get_or_init(|| {
            let (kind, name, check) = match target {
                Target::External(e) => {
                    let x = &model.externals[e];
                    ("external ", x.name.as_str(), &x.check)
                }
                Target::Service(t) => {
                    let svc = &model.services[t];
                    ("service ", &*svc.name, &svc.health.as_ref()?.check)
                }
            };
            let mut out = String::with_capacity(kind.len() + name.len() + 48);
            out.push_str(kind);
            out.push_str(name);
            out.push_str(" (");
            gate::push_describe(&mut out, check);
            out.push(')');
            Some(out)
        })
        .as_deref()
    }

    /// A fixed piece, escaped.
    fn fixed(&self, piece: &str) -> Option<&str> {
        let i = match piece {
            TIMEOUT_SHIM => 0,
            EXPORTS_LOOP => 1,
            EXEC => 2,
            _ => return None,
        };
        self.fixed[i].get_or_init(|| escape_piece(piece)).as_deref()
    }
}

/// The shlex syntax of one program's wrapper script (its waits are for `targets`).
struct Shlex<'c, 'm> {
    escaped: &'c Escaped<'m>,
    targets: &'c [Target],
    /// Whether a quote is open.
    open: Cell<bool>,
    /// Whether a piece was written (the next one follows a separator ending in a space).
    started: Cell<bool>,
}

impl Shlex<'_, '_> {
    /// Append an escaped piece (see [`escape_piece`]).
    fn cached(&self, out: &mut String, piece: &str) {
        if !self.open.get() {
            out.push('\'');
        }
        out.push_str(piece);
        self.open.set(true);
        self.started.set(true);
    }
}

impl Syntax for Shlex<'_, '_> {
    fn text(&self, out: &mut String, text: &str) {
        let mut open = self.open.get();
        let prev = self.started.get().then_some(' ');
        esc::push_word_part(out, text, &mut open, prev);
        if !open {
            out.push('\'');
        }
        self.open.set(true);
        self.started.set(true);
    }

    fn fixed(&self, out: &mut String, piece: &'static str) {
        match self.escaped.fixed(piece) {
            Some(p) => self.cached(out, p),
            None => self.text(out, piece),
        }
    }

    fn wait(&self, out: &mut String, i: usize, wait: &Ready<'_>) {
        match self.targets.get(i).and_then(|&t| self.escaped.wait(t)) {
            Some(p) => self.cached(out, p),
            None => self.text(out, &wait.script),
        }
    }
}

/// Append the `command=` value of `argv` behind `prelude` (see [`Prelude::wrap`]; `name`
/// is `$0`), the waits of `prelude` being for `targets`.
pub(super) fn push_command<'a>(
    out: &mut String,
    escaped: &Escaped<'_>,
    prelude: &Prelude<'_>,
    targets: &[Target],
    name: &str,
    argv: impl Iterator<Item = std::borrow::Cow<'a, str>>,
) {
    if prelude.is_empty() {
        esc::push_command(out, argv);
        return;
    }
    esc::push_command(out, [SHELL, "-c"]);
    out.push(' ');
    let shlex = Shlex {
        escaped,
        targets,
        open: Cell::new(false),
        started: Cell::new(false),
    };
    prelude.push_script_in(out, &shlex);
    if shlex.open.get() {
        out.push('\'');
    }
    out.push(' ');
    esc::push_word(out, name);
    for (k, v) in &prelude.exports {
        out.push(' ');
        esc::push_word(out, &format!("{k}={v}"));
    }
    if !prelude.exports.is_empty() {
        out.push(' ');
        esc::push_word(out, EXPORTS_END);
    }
    for a in argv {
        out.push(' ');
        esc::push_word(out, &a);
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::backend::shared::waits::edges;
    use crate::model::{Limits, Model};

    /// What the wrapper's `command=` is, the slow way.
    fn reference(prelude: &Prelude<'_>, name: &str, argv: &[String]) -> String {
        esc::command(&prelude.wrap(name, argv.to_vec()))
    }

    #[test]
    fn the_pieces_escaped_once_give_the_whole_words_bytes() {
        let mut models = vec![Model::builtin()];
        for text in [
            include_str!("../../../tests/fixtures/full.toml"),
            include_str!("../../../tests/fixtures/supervisord-hostile.toml"),
        ] {
            models.push(Model::from_toml("fixture.toml", text).expect("fixture valid"));
        }
        let pre_starts: [&[&str]; 5] = [
            &["/bin/x", "a ;b", "it's"],
            &["'q", "100%", "%(here)s"],
            &[";", "#", "( x"],
            &["\0", "x\0y"],
            &["ends ", "é ;"],
        ];
        let mut checked = 0;
        for model in &models {
            let escaped = Escaped::new(WaitScripts::new(model));
            for s in 0..model.services.len() {
                let mut waits = Vec::new();
                let mut targets = Vec::new();
                for (t, kind) in edges(model, s) {
                    if let Some(script) = escaped.scripts().script(t) {
                        waits.push(Ready {
                            script: Cow::Borrowed(script),
                            hard: kind.is_hard(),
                        });
                        targets.push(t);
                    }
                }
                for variant in 0..4 {
                    let prelude = Prelude {
                        exports: if variant & 1 == 1 {
                            vec![("K".into(), "'v' \"w\"".into())]
                        } else {
                            Vec::new()
                        },
                        environment_file: (variant == 2).then_some("/e f;"),
                        limits: Limits {
                            nofile: (variant > 0).then_some(10),
                            ..Limits::default()
                        },
                        waits: waits.clone(),
                        pre_start: pre_starts
                            .iter()
                            .take(variant * 2)
                            .map(|a| a.iter().map(|w| (*w).to_owned()).collect())
                            .collect(),
                    };
                    let argv = vec!["/bin/a".to_owned(), "x ;y".to_owned()];
                    let mut out = String::new();
                    push_command(
                        &mut out,
                        &escaped,
                        &prelude,
                        &targets,
                        "svc",
                        argv.iter().map(|a| Cow::Borrowed(a.as_str())),
                    );
                    assert_eq!(out, reference(&prelude, "svc", &argv));
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "{checked}");
    }
}
