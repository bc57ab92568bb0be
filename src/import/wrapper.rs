//! openim-init's own `/bin/sh -c '…; exec "$@"' NAME [KEY=value… --] ARGV` wrapper (see
//! [`crate::backend::shared::wrapper`]) read back into what it does before the program:
//! exports, the environment file, limits, readiness waits and `pre_start` commands. It is
//! recognised only when rendering what was read gives exactly the same script, so a
//! hand-written `sh -c` is never mistaken for one (it stays the command).

use super::gate::{Gate, recognize};
use crate::backend::shared::wrapper::{EXPORTS_END, Prelude, Ready, SHELL, TIMEOUT_SHIM, env_file};
use crate::escape::sh;
use crate::model::{DepKind, Limits, Wait};

/// What the wrapper did before `exec "$@"`, and the program's own argv.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unwrapped {
    /// `$0`: the service name.
    pub name: String,
    /// `KEY=value` arguments the wrapper exports.
    pub exports: Vec<(String, String)>,
    /// The environment file it reads.
    pub environment_file: Option<String>,
    /// `ulimit -n` / `ulimit -u`.
    pub limits: Limits,
    /// Readiness waits in order, with whether running out fails the start.
    pub waits: Vec<(Gate, bool)>,
    /// Commands run before the program.
    pub pre_start: Vec<Vec<String>>,
    /// The program's argv.
    pub argv: Vec<String>,
}

/// The exports loop, as [`Prelude::script`] writes it.
fn exports_line() -> String {
    format!("while [ \"$1\" != {EXPORTS_END} ]; do export \"$1\" || exit; shift; done; shift")
}

/// `rest` without `prefix` and the `; ` after it.
fn step<'a>(rest: &'a str, prefix: &str) -> Option<&'a str> {
    rest.strip_prefix(prefix)?.strip_prefix("; ")
}

/// The environment-file step at the start of `rest`: (path, rest after it).
fn env_file_step(rest: &str) -> Option<(String, &str)> {
    let end_marker = " || exit; unset __oi_l __oi_k __oi_v";
    if !rest.starts_with("while read -r __oi_l") {
        return None;
    }
    let end = rest.find(end_marker)? + end_marker.len();
    let segment = &rest[..end];
    let at = segment.rfind(" done < ")? + " done < ".len();
    let quoted = &segment[at..segment.len() - end_marker.len()];
    let path = sh::split(quoted).ok()?.pop()?;
    (env_file(&path) == segment).then(|| (path, &rest[end..]))
}

/// A number step `PREFIX N SUFFIX; ` at the start of `rest`.
fn number_step(rest: &str, render: impl Fn(u64) -> String) -> Option<(u64, &str)> {
    let probe = render(0);
    let (head, _) = probe.split_once('0')?;
    let digits: String = rest
        .strip_prefix(head)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let n: u64 = digits.parse().ok()?;
    step(rest, &render(n)).map(|r| (n, r))
}

/// A wait `( SCRIPT ) || exit` / `( SCRIPT ) || :` at the start of `rest`.
fn wait_step(rest: &str) -> Option<((Gate, bool), &str)> {
    let body = rest.strip_prefix("( ")?;
    for (i, _) in body.match_indices(" ) || ") {
        let after = &body[i + " ) || ".len()..];
        let (hard, tail) = if let Some(t) = after.strip_prefix("exit; ") {
            (true, t)
        } else if let Some(t) = after.strip_prefix(":; ") {
            (false, t)
        } else {
            continue;
        };
        if let Some(g) = recognize(&body[..i]) {
            return Some(((g, hard), tail));
        }
    }
    None
}

/// A `pre_start` command `ARGV || exit; ` at the start of `rest`.
fn pre_step(rest: &str) -> Option<(Vec<String>, &str)> {
    rest.match_indices(" || exit; ").find_map(|(i, m)| {
        let line = &rest[..i];
        let argv = sh::split(line).ok().filter(|a| !a.is_empty())?;
        (sh::join(&argv) == line).then(|| (argv, &rest[i + m.len()..]))
    })
}

/// The steps of `script`, or `None` when it is not exactly one of openim-init's.
fn steps(script: &str, out: &mut Unwrapped) -> Option<bool> {
    let mut rest = script;
    let exports = step(rest, &exports_line()).inspect(|r| rest = r).is_some();
    let _shim = step(rest, TIMEOUT_SHIM).inspect(|r| rest = r).is_some();
    if let Some((path, r)) = env_file_step(rest) {
        out.environment_file = Some(path);
        rest = step(r, "").unwrap_or(r);
    }
    if let Some((n, r)) = number_step(rest, |n| format!("ulimit -n {n} || exit")) {
        out.limits.nofile = Some(n);
        rest = r;
    }
    let nproc = |n| format!("{{ ulimit -u {n} 2>/dev/null || ulimit -p {n}; }} || exit");
    if let Some((n, r)) = number_step(rest, nproc) {
        out.limits.nproc = Some(n);
        rest = r;
    }
    while let Some((w, r)) = wait_step(rest) {
        out.waits.push(w);
        rest = r;
    }
    while rest != "exec \"$@\"" {
        let (argv, r) = pre_step(rest)?;
        out.pre_start.push(argv);
        rest = r;
    }
    Some(exports)
}

/// Read `argv` as openim-init's wrapper, or `None` when it is not one.
#[must_use]
pub fn unwrap(argv: &[String]) -> Option<Unwrapped> {
    let [shell, c, script, name, rest @ ..] = argv else {
        return None;
    };
    if shell != SHELL || c != "-c" {
        return None;
    }
    let mut out = Unwrapped {
        name: name.clone(),
        ..Unwrapped::default()
    };
    let exports = steps(script, &mut out)?;
    let mut rest = rest.iter();
    if exports {
        for a in rest.by_ref() {
            if a == EXPORTS_END {
                break;
            }
            let (k, v) = a.split_once('=')?;
            out.exports.push((k.to_owned(), v.to_owned()));
        }
    }
    out.argv = rest.cloned().collect();
    if out.argv.is_empty() {
        return None;
    }
    // the proof: the same steps render the same script
    let waits: Vec<Wait<'_>> = out
        .waits
        .iter()
        .map(|(g, hard)| Wait {
            label: if g.kind.is_empty() {
                g.name.clone()
            } else {
                format!("{} {}", g.kind, g.name)
            },
            check: &g.check,
            budget: g.budget,
            kind: if *hard {
                DepKind::Requires
            } else {
                DepKind::Wants
            },
            external: g.kind == "external",
        })
        .collect();
    let prelude = Prelude {
        exports: out.exports.clone(),
        environment_file: out.environment_file.as_deref(),
        limits: out.limits,
        waits: waits.iter().map(Ready::of).collect(),
        pre_start: out.pre_start.clone(),
    };
    (prelude.script().as_deref() == Some(script.as_str())).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Duration;
    use crate::model::Check;

    #[test]
    fn the_wrapper_reads_back() {
        let check = Check::Tcp {
            host: "127.0.0.1".into(),
            port: 1,
        };
        let prelude = Prelude {
            exports: vec![("A".into(), "it's \"x\"".into())],
            environment_file: Some("/e f;x/it's.env"),
            limits: Limits {
                nofile: Some(1024),
                nproc: Some(64),
                ..Limits::default()
            },
            waits: vec![Ready::of(&Wait {
                label: "external db (x) || exit; ".into(),
                check: &check,
                budget: Duration::from_secs(45),
                kind: DepKind::Wants,
                external: true,
            })],
            pre_start: vec![
                vec!["/bin/p".into(), "a || exit; b".into()],
                vec!["/bin/q".into()],
            ],
        };
        let argv = vec!["/bin/app".to_owned(), "--".to_owned(), "x y".to_owned()];
        let wrapped = prelude.wrap("svc", argv.clone());
        let back = unwrap(&wrapped).unwrap_or_default();
        assert_eq!(back.argv, argv);
        assert_eq!(back.exports, prelude.exports);
        assert_eq!(back.environment_file.as_deref(), prelude.environment_file);
        assert_eq!(
            (back.limits.nofile, back.limits.nproc),
            (Some(1024), Some(64))
        );
        assert_eq!(back.pre_start, prelude.pre_start);
        assert_eq!(back.waits.len(), 1);
        assert_eq!(back.waits[0].0.name, "db (x) || exit; ");
        assert!(!back.waits[0].1);
        let hand = vec![
            SHELL.into(),
            "-c".into(),
            "ulimit -n 5 || exit; exec \"$@\" ".into(),
            "x".into(),
            "/bin/a".into(),
        ];
        assert_eq!(unwrap(&hand), None);
    }
}
