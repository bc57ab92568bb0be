//! supervisord configuration syntax, as supervisor 4.x reads it (`options.py`,
//! `datatypes.py`, `process.py`). A value passes three layers, outside in:
//!
//! 1. **ini** (Python `configparser`, `inline_comment_prefixes=(';', '#')`): a `;` or `#`
//!    preceded by whitespace starts a comment *anywhere* in a value, even inside quotes;
//!    values are stripped of surrounding whitespace; there is no escape character.
//! 2. **`%` expansion** (`value % expansions`): a literal `%` is `%%`; `%(process_num)d`,
//!    `%(ENV_HOME)s`, … are expanded. When the configuration has an `[include]` (every conf.d
//!    setup), every value containing the text `%(here)s` has it replaced *before* that, so the
//!    escaped text must not contain `%(here)s` either (`%%(here)s` would become `%/etc/…`).
//! 3. **per key**: `command` is split by `shlex.split` (POSIX mode, no comments);
//!    `environment` by `shlex.shlex` in non-POSIX mode (`KEY`, `=`, one token, `,`), after
//!    which `'` and `"` are stripped from both ends of each value.
//!
//! The model forbids NUL, so NUL marks the instance placeholder through every layer until
//! [`expand`] turns it into `%(process_num)d`.

use crate::model::INSTANCE_PLACEHOLDER;

/// What `{instance}` becomes in a `numprocs` program.
pub const INSTANCE_TOKEN: &str = "%(process_num)d";

/// Stands for the placeholder between [`mark_instance`] and [`expand`].
const MARK: char = '\0';

/// The text supervisor replaces textually when an `[include]` is present.
const HERE: &str = "%(here)s";

/// Mark `{instance}` for [`INSTANCE_TOKEN`] (only in `numprocs` programs).
#[must_use]
pub fn mark_instance(text: &str) -> String {
    text.replace(INSTANCE_PLACEHOLDER, &MARK.to_string())
}

/// Layer 2: `%` → `%%`, and a marked placeholder → [`INSTANCE_TOKEN`].
#[must_use]
pub fn expand(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%%"),
            MARK => out.push_str(INSTANCE_TOKEN),
            c => out.push(c),
        }
    }
    out
}

/// Whitespace as Python's `str.isspace` sees it (what configparser checks before `;`/`#`).
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Whether a `;` or `#` in `text` follows whitespace (layer 1 would cut the value there).
fn has_inline_comment(text: &str) -> bool {
    let mut prev = None;
    for c in text.chars() {
        if matches!(c, ';' | '#') && prev.is_some_and(is_space) {
            return true;
        }
        prev = Some(c);
    }
    false
}

/// A value taken verbatim by supervisor (`directory`, `user`, log file paths): `None` when
/// the ini layer cannot carry it (surrounding whitespace, an inline comment, `%(here)s`).
#[must_use]
pub fn plain(text: &str) -> Option<String> {
    let carried =
        text.trim_matches(is_space) == text && !has_inline_comment(text) && !text.contains(HERE);
    carried.then(|| expand(text))
}

/// Characters a `command` word may hold without quotes.
fn bare_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | ',' | ':' | '+' | '@' | '=' | '-')
}

/// One word for `shlex.split` (POSIX) that also survives layers 1 and 2 once [`expand`]ed.
///
/// Single quotes, except for characters written `\c` outside them: `'` (which single
/// quotes cannot hold), a `;`/`#` after whitespace (an inline comment otherwise) and a `(`
/// after `%` (so no `%(here)s` text appears).
#[must_use]
pub fn shlex_word(word: &str) -> String {
    if !word.is_empty() && word.chars().all(bare_safe) {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 2);
    let mut open = false;
    let mut prev: Option<char> = None;
    for c in word.chars() {
        let outside = c == '\''
            || (matches!(c, ';' | '#') && prev.is_some_and(is_space))
            || (c == '(' && prev == Some('%'));
        if outside {
            if open {
                out.push('\'');
                open = false;
            }
            out.push('\\');
        } else if !open {
            out.push('\'');
            open = true;
        }
        out.push(c);
        prev = Some(c);
    }
    if open {
        out.push('\'');
    }
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

/// The `command=` value for `argv` (words [`shlex_word`]-quoted, then [`expand`]ed).
#[must_use]
pub fn command(argv: &[String]) -> String {
    let words: Vec<String> = argv.iter().map(|w| shlex_word(w)).collect();
    expand(&words.join(" "))
}

/// One environment value as a non-POSIX shlex token, or `None` when `environment=` cannot
/// carry it exactly: both quote characters, a quote at either end (stripped by supervisor),
/// an inline comment, or `%(here)s`.
#[must_use]
pub fn env_token(value: &str) -> Option<String> {
    let quotes = ['\'', '"'];
    if value.starts_with(quotes)
        || value.ends_with(quotes)
        || has_inline_comment(value)
        || value.contains(HERE)
    {
        return None;
    }
    if !value.contains('"') {
        Some(format!("\"{value}\""))
    } else if !value.contains('\'') {
        Some(format!("'{value}'"))
    } else {
        None
    }
}

/// The `environment=` value for pairs that [`env_token`] accepts (others are skipped).
#[must_use]
pub fn environment(pairs: &[(String, String)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| env_token(v).map(|t| format!("{k}={t}")))
        .collect();
    expand(&items.join(","))
}

/// The inverse of [`expand`] (layer 2): Python's `text % expansions`. `%%` → `%`,
/// `%(NAME)s` / `%(NAME)d` → `lookup(NAME)`.
///
/// # Errors
/// An unknown name or a `%` that Python would reject.
pub fn interpolate(text: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let Some(r) = rest.strip_prefix('(') else {
            return Err(format!(
                "a `%` without `%` or `(`: `{}`",
                text.escape_debug()
            ));
        };
        let close = r
            .find(')')
            .ok_or_else(|| format!("an unclosed `%(` in `{}`", text.escape_debug()))?;
        let name = &r[..close];
        let after = &r[close + 1..];
        let conv = after.chars().next().filter(|c| matches!(c, 's' | 'd'));
        let Some(conv) = conv else {
            return Err(format!("`%({name})` needs `s` or `d`"));
        };
        out.push_str(&lookup(name).ok_or_else(|| format!("`%({name}){conv}` is not known here"))?);
        rest = &after[1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The inverse of [`command`] after [`interpolate`]: `shlex.split` (POSIX, no comments).
///
/// # Errors
/// An unclosed quote or a `\` at the end (shlex's "No closing quotation" / "No escaped
/// character").
pub fn shlex_split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => w.push(x),
                        None => return Err("no closing quotation".into()),
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
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err("no closing quotation".into()),
                        },
                        Some(x) => w.push(x),
                        None => return Err("no closing quotation".into()),
                    }
                }
            }
            '\\' => {
                let e = chars.next().ok_or("no escaped character")?;
                word.get_or_insert_with(String::new).push(e);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Tokens of supervisor's non-POSIX `shlex.shlex`: words, quoted strings, other characters.
fn env_tokens(text: &str) -> Result<Vec<String>, String> {
    let word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            continue;
        }
        if c == '#' {
            while chars.next_if(|c| *c != '\n').is_some() {}
            continue;
        }
        let mut t = c.to_string();
        if c == '"' || c == '\'' {
            loop {
                let x = chars.next().ok_or("no closing quotation")?;
                t.push(x);
                if x == c {
                    break;
                }
            }
        } else if word(c) {
            while let Some(x) = chars.next_if(|x| word(*x) || *x == '"' || *x == '\'') {
                t.push(x);
            }
        }
        out.push(t);
    }
    Ok(out)
}

/// The inverse of [`environment`] after [`interpolate`]: supervisor's
/// `dict_of_key_value_pairs` (`KEY`, `=`, one token, a separator; quotes stripped from
/// both ends of the value).
///
/// # Errors
/// What supervisor would reject ("Unexpected end of key/value pairs").
pub fn parse_environment(text: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = env_tokens(text)?;
    if !tokens
        .chunks(4)
        .all(|kv| matches!(kv, [_, eq, _, ..] if eq == "="))
    {
        let what = "unexpected end of key/value pairs in";
        return Err(format!("{what} `{}`", text.escape_debug()));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for kv in tokens.chunks(4) {
        let (k, v) = (&kv[0], kv[2].trim_matches(['\'', '"']).to_owned());
        out.retain(|(key, _)| key != k);
        out.push((k.clone(), v));
    }
    Ok(out)
}

#[cfg(test)]
mod unescape_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_doubles_percent_and_places_the_instance() {
        assert_eq!(expand("100%"), "100%%");
        assert_eq!(expand("%(ENV_HOME)s"), "%%(ENV_HOME)s");
        assert_eq!(
            expand(&mark_instance("-i {instance}")),
            "-i %(process_num)d"
        );
    }

    #[test]
    fn plain_values() {
        assert_eq!(
            plain("/data/full stack").as_deref(),
            Some("/data/full stack")
        );
        assert_eq!(plain("/var/log/50%").as_deref(), Some("/var/log/50%%"));
        assert_eq!(plain("/a ;b"), None);
        assert_eq!(plain("/a\t#b"), None);
        assert_eq!(plain("/a;b#c").as_deref(), Some("/a;b#c"));
        assert_eq!(plain("/a "), None);
        assert_eq!(plain("/x/%(here)s"), None);
    }

    #[test]
    fn shlex_words() {
        assert_eq!(
            shlex_word("/opt/openim/bin/openim-api"),
            "/opt/openim/bin/openim-api"
        );
        assert_eq!(shlex_word("--name=x"), "--name=x");
        assert_eq!(shlex_word(""), "''");
        assert_eq!(shlex_word("a b"), "'a b'");
        assert_eq!(shlex_word("it's"), r"'it'\''s'");
        assert_eq!(shlex_word("'"), r"\'");
        assert_eq!(shlex_word(";"), "';'");
        assert_eq!(shlex_word("x ;y"), r"'x '\;'y'");
        assert_eq!(shlex_word("x\t#"), "'x\t'\\#");
        assert_eq!(shlex_word("x\u{a0};"), "'x\u{a0}'\\;");
        assert_eq!(shlex_word("%(here)s"), r"'%'\('here)s'");
        assert_eq!(shlex_word("100%"), "'100%'");
        assert_eq!(shlex_word("tab\there"), "'tab\there'");
        assert_eq!(shlex_word("héllo"), "'héllo'");
    }

    #[test]
    fn commands() {
        let argv = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            command(&argv(&["/bin/x", "-p", "50%", "a ;b"])),
            r"/bin/x -p '50%%' 'a '\;'b'"
        );
        assert_eq!(
            command(&[mark_instance("/bin/x"), mark_instance("w-{instance}")]),
            "/bin/x 'w-%(process_num)d'"
        );
        assert_eq!(
            command(&argv(&["/bin/x", "%(here)s"])),
            r"/bin/x '%%'\('here)s'"
        );
    }

    #[test]
    fn env_tokens() {
        assert_eq!(env_token("x, y=z").as_deref(), Some("\"x, y=z\""));
        assert_eq!(env_token("it's").as_deref(), Some("\"it's\""));
        assert_eq!(
            env_token(r#"say "hi" now"#).as_deref(),
            Some(r#"'say "hi" now'"#)
        );
        assert_eq!(env_token("").as_deref(), Some("\"\""));
        assert_eq!(env_token(r"a\b").as_deref(), Some(r#""a\b""#));
        assert_eq!(env_token("'x'"), None);
        assert_eq!(env_token(r#"say "hi""#), None);
        assert_eq!(env_token(r#"'a' "b""#), None);
        assert_eq!(env_token("a ;b"), None);
        assert_eq!(env_token("a #b"), None);
        assert_eq!(env_token("%(here)s"), None);
    }

    #[test]
    fn environment_lines() {
        let pairs = vec![
            ("A".to_owned(), "1%".to_owned()),
            ("B".to_owned(), "'quoted'".to_owned()),
            ("C".to_owned(), mark_instance("n{instance}")),
        ];
        assert_eq!(environment(&pairs), "A=\"1%%\",C=\"n%(process_num)d\"");
    }
}
