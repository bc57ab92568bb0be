//! OpenRC service scripts (openrc-run(8)): POSIX shell, plus the `eval` layer.
//!
//! OpenRC's default start (`supervise_start` in `/lib/rc/sh/supervise-daemon.sh`) runs
//! `eval supervise-daemon … ${directory:+--chdir} $directory … $command -- $command_args`.
//! So `command`, `command_args`, `command_user`, `directory`, `output_log`, `error_log`
//! and `supervise_daemon_args` go through two layers: the assignment in the script, then an
//! **unquoted** expansion (split at blanks, globbed against the working directory) whose
//! fields `eval` joins with single spaces and parses as shell again. [`eval_assign`] is the
//! one function that writes such a variable; [`word`] writes an ordinary shell word.
//!
//! A value is a list of [`Piece`]s: literal text, or a reference to a shell variable that
//! is expanded at run time (the instance name of a multiplexed script).

use crate::escape::{scan, sh};
use crate::model::INSTANCE_PLACEHOLDER;
use crate::render::native::push_u64;

/// The shell variable that holds the instance name in a multiplexed script.
pub const INSTANCE_VAR: &str = "instance";

/// Part of a shell word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text, kept byte for byte.
    Text(&'a str),
    /// The value of a shell variable (a name `[A-Za-z_][A-Za-z0-9_]*`) at run time.
    Var(&'a str),
}

/// Split `text` at `{instance}` placeholders; each becomes `$instance` when `instanced`.
#[must_use]
pub fn pieces(text: &str, instanced: bool) -> Vec<Piece<'_>> {
    if !instanced {
        return vec![Piece::Text(text)];
    }
    let mut out = Vec::new();
    for (i, part) in text.split(INSTANCE_PLACEHOLDER).enumerate() {
        if i > 0 {
            out.push(Piece::Var(INSTANCE_VAR));
        }
        if !part.is_empty() {
            out.push(Piece::Text(part));
        }
    }
    out
}

/// One ordinary shell word (one layer of quoting) that expands to the pieces joined.
#[must_use]
pub fn word(pieces: &[Piece<'_>]) -> String {
    let mut out = String::with_capacity(16);
    push_word(&mut out, pieces);
    out
}

/// Append [`word`]`(pieces)` to `out`.
pub fn push_word(out: &mut String, pieces: &[Piece<'_>]) {
    let start = out.len();
    for p in pieces {
        match p {
            Piece::Text("") => {}
            Piece::Text(t) => sh::push_quote(out, t),
            Piece::Var(v) => {
                out.push_str("\"$");
                out.push_str(v);
                out.push('"');
            }
        }
    }
    if out.len() == start {
        out.push_str("''");
    }
}

/// Characters that an unquoted expansion would split at (IFS) or glob with.
const UNSAFE_UNQUOTED: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    let set = b" \t\n*?[";
    while i < set.len() {
        t[set[i] as usize] = true;
        i += 1;
    }
    t
};

/// Append the quoted value of an assignment so that the variable holds exactly `value`.
fn push_assignment_value(out: &mut String, value: &str) {
    if !value.contains('\'') {
        sh::push_quote(out, value);
        return;
    }
    out.push('"');
    scan::push_escaped(out, value, b"\\\"$`", |b| match b {
        b'\\' => "\\\\",
        b'"' => "\\\"",
        b'$' => "\\$",
        _ => "\\`",
    });
    out.push('"');
}

/// Lines assigning `var` so that OpenRC's `eval … $var` sees exactly the words `words`.
///
/// Each word becomes shell text without blanks or glob characters, so the unquoted
/// expansion leaves it alone: a shell-quoted literal, `"$instance"` for the placeholder, or,
/// for a word whose text contains a blank, `*`, `?` or `[`, a reference `"$VAR_N"` to a
/// helper variable assigned (one layer of quoting) on a line of its own before `var`.
/// `N` is the word's position, counting from 1. No words: no lines.
#[must_use]
pub fn eval_assign<'p, W: AsRef<[Piece<'p>]>>(var: &str, words: &[W]) -> Vec<String> {
    let mut lines = Vec::new();
    push_eval_assign(&mut lines, var, words);
    lines
}

/// [`eval_assign`], appending the lines to `lines`.
pub fn push_eval_assign<'p, W: AsRef<[Piece<'p>]>>(
    lines: &mut Vec<String>,
    var: &str,
    words: &[W],
) {
    if words.is_empty() {
        return;
    }
    let mut texts = String::with_capacity(16 * words.len());
    for (i, w) in words.iter().enumerate() {
        let w = w.as_ref();
        if i > 0 {
            texts.push(' ');
        }
        let spread = w.iter().any(
            |p| matches!(p, Piece::Text(t) if t.bytes().any(|b| UNSAFE_UNQUOTED[usize::from(b)])),
        );
        if spread {
            let mut line = String::with_capacity(var.len() + 32);
            line.push_str(var);
            line.push('_');
            push_u64(&mut line, u64::try_from(i + 1).unwrap_or(u64::MAX));
            let helper_len = line.len();
            line.push('=');
            push_word(&mut line, w);
            texts.push_str("\"$");
            texts.push_str(&line[..helper_len]);
            texts.push('"');
            lines.push(line);
        } else {
            push_word(&mut texts, w);
        }
    }
    let mut line = String::with_capacity(var.len() + texts.len() + 3);
    line.push_str(var);
    line.push('=');
    push_assignment_value(&mut line, &texts);
    lines.push(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(words: &[&'static str]) -> Vec<Vec<Piece<'static>>> {
        words.iter().map(|w| vec![Piece::Text(w)]).collect()
    }

    #[test]
    fn plain_words_stay_readable() {
        assert_eq!(
            eval_assign(
                "command_args",
                &lit(&["-i", "0", "-c", "/etc/openim/config/"])
            ),
            ["command_args='-i 0 -c /etc/openim/config/'"]
        );
        assert_eq!(
            eval_assign("command", &lit(&["/opt/x"])),
            ["command=/opt/x"]
        );
        assert!(eval_assign::<Vec<Piece<'_>>>("command_args", &[]).is_empty());
    }

    #[test]
    fn quotes_survive_both_layers() {
        assert_eq!(
            eval_assign("a", &lit(&["it's", "", "$HOME", ";", "#x"])),
            [r#"a="'it'\\''s' '' '\$HOME' ';' '#x'""#]
        );
    }

    #[test]
    fn blanks_and_globs_go_through_a_helper() {
        assert_eq!(
            eval_assign("command_args", &lit(&["--motd", "a  b", "*/5"])),
            [
                "command_args_2='a  b'",
                "command_args_3='*/5'",
                r#"command_args='--motd "$command_args_2" "$command_args_3"'"#,
            ]
        );
    }

    #[test]
    fn instance_placeholder_becomes_a_variable() {
        let w = pieces("--name=w-{instance}", true);
        assert_eq!(w, [Piece::Text("--name=w-"), Piece::Var(INSTANCE_VAR)]);
        assert_eq!(word(&w), r#"--name=w-"$instance""#);
        assert_eq!(word(&pieces("{instance}", true)), r#""$instance""#);
        assert_eq!(word(&pieces("{instance}", false)), "'{instance}'");
        assert_eq!(
            eval_assign("command_args", &[pieces("a b {instance}", true)]),
            [
                r#"command_args_1='a b '"$instance""#,
                r#"command_args='"$command_args_1"'"#
            ]
        );
    }

    #[test]
    fn empty_words_are_kept() {
        assert_eq!(word(&[]), "''");
        assert_eq!(word(&[Piece::Text("")]), "''");
    }
}
