//! POSIX shell quoting.

/// Quote `word` so a POSIX shell reads it back as exactly one word with this text.
///
/// Words made only of safe characters stay bare; everything else is single-quoted, with
/// each `'` written as `'\''`.
#[must_use]
pub fn quote(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    push_quote(&mut out, word);
    out
}

/// The bytes that may stand bare in a word (no quoting needed).
const BARE: [bool; 256] = super::scan::alnum_and(b"/_.,:+@%-=");

/// Whether `word` stands for itself in `sh` ([`quote`] leaves it as it is).
#[must_use]
pub fn is_bare(word: &str) -> bool {
    // a leading `=` or `~` can mean something at the start of a word in some shells
    !word.is_empty() && !word.starts_with(['=', '~']) && super::scan::all_in(word, &BARE)
}

/// Append [`quote`]`(word)` to `out`.
pub fn push_quote(out: &mut String, word: &str) {
    if is_bare(word) {
        out.push_str(word);
        return;
    }
    out.push('\'');
    let mut rest = word;
    while let Some(i) = rest.find('\'') {
        out.push_str(&rest[..i]);
        out.push_str("'\\''");
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('\'');
}

/// Quote every word and join them with spaces: a command line `sh` splits back into `argv`.
#[must_use]
pub fn join(argv: &[String]) -> String {
    let mut out = String::with_capacity(argv.iter().map(|a| a.len() + 1).sum());
    push_join(&mut out, argv);
    out
}

/// Append [`join`]`(argv)` to `out`.
pub fn push_join<S: AsRef<str>>(out: &mut String, argv: &[S]) {
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_quote(out, a.as_ref());
    }
}

/// The inverse of [`join`] for the plain part of the shell language: split `line` into
/// words as `sh` does (blanks separate; `'…'` is literal; in `"…"` a `\` escapes only
/// `$`, `` ` ``, `"`, `\`; outside quotes `\c` is `c`). `Err` names the first piece of shell
/// syntax that plain words cannot express (expansions, operators, globs, comments, a
/// leading assignment, an unclosed quote): such a line must run under `/bin/sh -c`.
///
/// # Errors
/// The shell syntax found, for the report.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let at_start = word.is_none();
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("an unclosed `'`".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => w.push(e),
                            Some(e @ ('$' | '`')) => {
                                return Err(format!("an escaped `{e}` in double quotes"));
                            }
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err("an unclosed `\"`".into()),
                        },
                        Some(e @ ('$' | '`')) => return Err(format!("`{e}` (an expansion)")),
                        Some(c) => w.push(c),
                        None => return Err("an unclosed `\"`".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => return Err("a trailing `\\`".into()),
                Some(e) => word.get_or_insert_with(String::new).push(e),
            },
            '#' if at_start => return Err("`#` (a comment)".into()),
            '~' if at_start => return Err("`~` (home directory expansion)".into()),
            '$' | '`' => return Err(format!("`{c}` (an expansion)")),
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '\n' => {
                return Err(format!("`{}` (an operator)", c.escape_debug()));
            }
            '*' | '?' | '[' => return Err(format!("`{c}` (a glob)")),
            '=' if words.is_empty()
                && word.as_deref().is_some_and(|w| {
                    !w.is_empty() && w.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
                }) =>
            {
                return Err("a leading `NAME=value` (a variable assignment)".into());
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("/opt/openim/bin/x"), "/opt/openim/bin/x");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("~"), "'~'");
    }

    #[test]
    fn split_inverts_join() {
        let argv: Vec<String> = ["/bin/x", "", "a b", "it's", "$HOME", "~", "*", "a;b", "\\"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(split(&join(&argv)), Ok(argv));
        assert_eq!(
            split(r#"run "a \"b\" \x" c\ d"#),
            Ok(vec!["run".into(), r#"a "b" \x"#.into(), "c d".into()])
        );
        for shell in [
            "a | b", "x $HOME", "a && b", "echo *", "A=1 x", "x 'y", "x # c", "x `id`",
        ] {
            assert!(split(shell).is_err(), "{shell}");
        }
        assert_eq!(split("x --a=b"), Ok(vec!["x".into(), "--a=b".into()]));
    }
}
