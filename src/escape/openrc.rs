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

use crate::escape::sh;
use crate::model::INSTANCE_PLACEHOLDER;

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
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text("") => {}
            Piece::Text(t) => out.push_str(&sh::quote(t)),
            Piece::Var(v) => {
                out.push_str("\"$");
                out.push_str(v);
                out.push('"');
            }
        }
    }
    if out.is_empty() { "''".to_owned() } else { out }
}

/// Characters that an unquoted expansion would split at (IFS) or glob with.
fn unsafe_unquoted(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '*' | '?' | '[')
}

/// Quote the value of an assignment so that the variable holds exactly `value`.
fn assignment_value(value: &str) -> String {
    if !value.contains('\'') {
        return sh::quote(value);
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Lines assigning `var` so that OpenRC's `eval … $var` sees exactly the words `words`.
///
/// Each word becomes shell text without blanks or glob characters, so the unquoted
/// expansion leaves it alone: a shell-quoted literal, `"$instance"` for the placeholder, or,
/// for a word whose text contains a blank, `*`, `?` or `[`, a reference `"$VAR_N"` to a
/// helper variable assigned (one layer of quoting) on a line of its own before `var`.
/// `N` is the word's position, counting from 1. No words: no lines.
#[must_use]
pub fn eval_assign(var: &str, words: &[Vec<Piece<'_>>]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut texts = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let spread = w
            .iter()
            .any(|p| matches!(p, Piece::Text(t) if t.chars().any(unsafe_unquoted)));
        if spread {
            let helper = format!("{var}_{}", i + 1);
            lines.push(format!("{helper}={}", word(w)));
            texts.push(format!("\"${helper}\""));
        } else {
            texts.push(word(w));
        }
    }
    if !texts.is_empty() {
        lines.push(format!("{var}={}", assignment_value(&texts.join(" "))));
    }
    lines
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
        assert!(eval_assign("command_args", &[]).is_empty());
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
