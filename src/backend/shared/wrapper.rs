//! The one `/bin/sh -c` wrapper for backends that cannot do by themselves what must happen
//! before a service starts (supervisord, launchd, runit, s6): exporting environment values
//! the backend cannot quote, the environment file, resource limits, readiness waits on
//! externals and on dependencies' health checks, and `pre_start` commands. Its last step is
//! `exec "$@"` with the service's argv as the positional parameters, so the process still
//! gets exactly its argv.
//!
//! Every step fails the start (`|| exit`) except a soft wait (`wants`/`after`/`before`),
//! which waits up to its budget and then starts anyway.

use std::borrow::Cow;

use super::gate;
use crate::escape::sh;
use crate::model::{Limits, Wait};

/// The shell the wrapper runs in.
pub const SHELL: &str = "/bin/sh";

/// Separates `KEY=value` arguments (exported by the wrapper) from the program's argv.
pub const EXPORTS_END: &str = "--";

/// Defines `timeout` when the system has none (macOS ships no timeout(1), and every gate
/// probe calls it): perl's `alarm` survives `exec`, so the probe is killed by SIGALRM.
pub const TIMEOUT_SHIM: &str = "command -v timeout >/dev/null 2>&1 || timeout() { perl -e 'alarm shift; exec { $ARGV[0] } @ARGV or exit 127' \"$@\"; }";

/// How the wrapper carries `environment_file`, for the capability report of every backend
/// that uses it.
pub const ENV_FILE_HOW: &str = "the /bin/sh wrapper reads KEY=value lines literally (surrounding blanks trimmed, blank and #/; comment lines skipped, one pair of enclosing quotes removed, nothing executed: no `$`, quote or backslash processing) and exports them; a missing file fails the start";

/// The wrapper's first step with exports: export each `KEY=value` argument up to
/// [`EXPORTS_END`].
pub const EXPORTS_LOOP: &str =
    "while [ \"$1\" != -- ]; do export \"$1\" || exit; shift; done; shift";

/// The wrapper's last step.
pub const EXEC: &str = "exec \"$@\"";

/// How a file syntax carries a wrapper script (see [`Prelude::push_script_in`]).
pub trait Syntax {
    /// Append `text` escaped.
    fn text(&self, out: &mut String, text: &str);

    /// Append a fixed piece of every wrapper ([`TIMEOUT_SHIM`], [`EXPORTS_LOOP`], [`EXEC`])
    /// escaped.
    fn fixed(&self, out: &mut String, piece: &'static str) {
        self.text(out, piece);
    }

    /// Append the poll loop of wait `i` ([`Prelude::waits`]) escaped.
    fn wait(&self, out: &mut String, i: usize, wait: &Ready<'_>) {
        let _ = i;
        self.text(out, &wait.script);
    }
}

/// The script as it is (what [`Prelude::script`] writes).
struct Raw;

impl Syntax for Raw {
    fn text(&self, out: &mut String, text: &str) {
        out.push_str(text);
    }
}

/// One readiness wait as the wrapper runs it: the poll loop (see [`gate::wait_script`],
/// usually shared by every service that waits for the same thing, see
/// [`super::waits::WaitScripts`]) and whether running out of time fails the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready<'a> {
    /// The poll loop.
    pub script: Cow<'a, str>,
    /// Whether running out of time fails the start (`requires`); else it starts anyway.
    pub hard: bool,
}

impl Ready<'_> {
    /// The wait `w`, scripted.
    #[must_use]
    pub fn of(w: &Wait<'_>) -> Ready<'static> {
        Ready {
            script: Cow::Owned(gate::wait_script(&w.label, w.check, w.budget)),
            hard: w.hard(),
        }
    }
}

/// What must happen before the argv runs. A backend fills in what it cannot do natively.
#[derive(Debug, Default, Clone)]
pub struct Prelude<'m> {
    /// `KEY=value` pairs passed as arguments before [`EXPORTS_END`] and exported (for values
    /// the backend's own environment syntax cannot carry).
    pub exports: Vec<(String, String)>,
    /// Absolute path of a `KEY=value` file, read literally (see [`env_file`]).
    pub environment_file: Option<&'m str>,
    /// `nofile`/`nproc` limits set with `ulimit` (the other fields are ignored).
    pub limits: Limits,
    /// Readiness waits, in order.
    pub waits: Vec<Ready<'m>>,
    /// Commands run in order before the argv (instance already substituted).
    pub pre_start: Vec<Vec<String>>,
}

impl Prelude<'_> {
    /// Whether nothing must happen before the argv (no wrapper: [`Prelude::wrap`] returns
    /// the argv itself).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.exports.is_empty()
            && self.waits.is_empty()
            && self.environment_file.is_none()
            && self.limits.nofile.is_none()
            && self.limits.nproc.is_none()
            && self.pre_start.is_empty()
    }

    /// The wrapper script, or `None` when nothing must happen first.
    #[must_use]
    pub fn script(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(
            256 + self
                .waits
                .iter()
                .map(|w| w.script.len() + 16)
                .sum::<usize>(),
        );
        self.push_script(&mut out);
        Some(out)
    }

    /// Append the (non-empty) wrapper script to `out`: its steps joined by `; `.
    fn push_script(&self, out: &mut String) {
        self.push_script_in(out, &Raw);
    }

    /// Append the (non-empty) wrapper script to `out` written in `syntax`: every piece
    /// escaped (fixed pieces and poll loops through their own methods, so that a backend
    /// escapes them once per render). The separators between the pieces (`; `, `( `,
    /// ` ) || exit`) hold no character any syntax escapes.
    pub fn push_script_in(&self, out: &mut String, syntax: &dyn Syntax) {
        let mut first = true;
        let mut step = |out: &mut String| {
            if !first {
                out.push_str("; ");
            }
            first = false;
        };
        if !self.exports.is_empty() {
            step(out);
            syntax.fixed(out, EXPORTS_LOOP);
        }
        if !self.waits.is_empty() {
            step(out);
            syntax.fixed(out, TIMEOUT_SHIM);
        }
        if let Some(f) = self.environment_file {
            step(out);
            syntax.text(out, &env_file(f));
        }
        if let Some(n) = self.limits.nofile {
            step(out);
            syntax.text(out, &format!("ulimit -n {n} || exit"));
        }
        if let Some(n) = self.limits.nproc {
            step(out);
            syntax.text(
                out,
                &format!("{{ ulimit -u {n} 2>/dev/null || ulimit -p {n}; }} || exit"),
            );
        }
        for (i, w) in self.waits.iter().enumerate() {
            step(out);
            out.push_str("( ");
            syntax.wait(out, i, w);
            out.push_str(if w.hard { " ) || exit" } else { " ) || :" });
        }
        for argv in &self.pre_start {
            step(out);
            syntax.text(out, &sh::join(argv));
            out.push_str(" || exit");
        }
        step(out);
        syntax.fixed(out, EXEC);
    }

    /// The argv the backend runs: `argv` itself when nothing must happen first, else
    /// `/bin/sh -c SCRIPT NAME [KEY=value… --] ARGV…` (`NAME`, the process name, is `$0`).
    #[must_use]
    pub fn wrap<S: From<String>>(&self, name: &str, argv: Vec<S>) -> Vec<S> {
        let Some(script) = self.script() else {
            return argv;
        };
        let mut out: Vec<S> = Vec::with_capacity(5 + self.exports.len() + argv.len());
        out.extend([SHELL.to_owned(), "-c".to_owned(), script, name.to_owned()].map(S::from));
        if !self.exports.is_empty() {
            out.extend(
                self.exports
                    .iter()
                    .map(|(k, v)| S::from(format!("{k}={v}"))),
            );
            out.push(S::from(EXPORTS_END.to_owned()));
        }
        out.extend(argv);
        out
    }
}

/// One readiness wait as a shell line: the poll loop in a subshell (its variables stay
/// there); when it runs out, a hard wait runs `fail` (`exit`, `return 1`), a soft one goes on.
#[must_use]
pub fn wait_line(w: &Wait<'_>, fail: &str) -> String {
    let script = gate::wait_script(&w.label, w.check, w.budget);
    let mut out = String::with_capacity(script.len() + 16);
    push_wait_line(&mut out, &script, w.hard(), fail);
    out
}

/// Append [`wait_line`] for the poll loop `script` to `out`.
pub fn push_wait_line(out: &mut String, script: &str, hard: bool, fail: &str) {
    out.push_str("( ");
    out.push_str(script);
    out.push_str(" ) || ");
    out.push_str(if hard { fail } else { ":" });
}

/// Loads `KEY=value` lines of `path` into the environment without running anything from the
/// file: blank lines and `#`/`;` comments are skipped, one pair of enclosing `"` or `'` is
/// removed, the rest is taken literally (no `$`, quote or backslash processing). A missing
/// file or an invalid key fails the start. Its own variables are prefixed so they cannot
/// clobber the job's.
#[must_use]
pub fn env_file(path: &str) -> String {
    format!(
        "while read -r __oi_l || [ -n \"$__oi_l\" ]; do case $__oi_l in ''|'#'*|';'*) continue;; *=*) ;; *) continue;; esac; \
         __oi_k=${{__oi_l%%=*}}; __oi_v=${{__oi_l#*=}}; \
         case $__oi_v in \\\"*\\\"|\\'*\\') __oi_v=${{__oi_v#?}}; __oi_v=${{__oi_v%?}};; esac; \
         export \"$__oi_k=$__oi_v\" || exit; done < {} || exit; unset __oi_l __oi_k __oi_v",
        sh::quote(path)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_pieces_use_the_exports_marker() {
        assert!(EXPORTS_LOOP.contains(&format!("!= {EXPORTS_END} ]")));
    }
}
