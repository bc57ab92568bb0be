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

use std::borrow::Cow;

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
    push_expanded(&mut out, text);
    out
}

/// Whitespace as Python's `str.isspace` sees it (what configparser checks before `;`/`#`).
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Whether a `;` or `#` in `text` follows whitespace (layer 1 would cut the value there).
fn has_inline_comment(text: &str) -> bool {
    if memchr::memchr2(b';', b'#', text.as_bytes()).is_none() {
        return false;
    }
    let mut prev = None;
    for c in text.chars() {
        if matches!(c, ';' | '#') && prev.is_some_and(is_space) {
            return true;
        }
        prev = Some(c);
    }
    false
}

/// Whether `text` holds [`HERE`] (a `%` is rare: looked for first).
fn has_here(text: &str) -> bool {
    memchr::memchr(b'%', text.as_bytes()).is_some() && text.contains(HERE)
}

/// A value taken verbatim by supervisor (`directory`, `user`, log file paths): `None` when
/// the ini layer cannot carry it (surrounding whitespace, an inline comment, `%(here)s`).
#[must_use]
pub fn plain(text: &str) -> Option<String> {
    plain_cow(text).map(Cow::into_owned)
}

/// [`plain`], borrowed when [`expand`] changes nothing.
#[must_use]
pub fn plain_cow(text: &str) -> Option<Cow<'_, str>> {
    let carried = !text.starts_with(is_space)
        && !text.ends_with(is_space)
        && !has_inline_comment(text)
        && !has_here(text);
    carried.then(|| expand_cow(text))
}

/// [`expand`], borrowed when it changes nothing.
#[must_use]
pub fn expand_cow(text: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'%', MARK as u8, text.as_bytes()).is_none() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(expand(text))
    }
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
///
/// [`push_word`] appends it [`expand`]ed, without the intermediate string.
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
    let mut out = String::with_capacity(argv.iter().map(|w| w.len() + 3).sum());
    push_command(&mut out, argv);
    out
}

/// One environment value as a non-POSIX shlex token, or `None` when `environment=` cannot
/// carry it exactly: both quote characters, a quote at either end (stripped by supervisor),
/// an inline comment, or `%(here)s`.
#[must_use]
pub fn env_token(value: &str) -> Option<String> {
    env_quote(value).map(|q| format!("{q}{value}{q}"))
}

/// The quote character [`env_token`] encloses `value` in, or `None` when it cannot.
#[must_use]
pub fn env_quote(value: &str) -> Option<char> {
    let quotes = ['\'', '"'];
    if value.starts_with(quotes)
        || value.ends_with(quotes)
        || has_inline_comment(value)
        || has_here(value)
    {
        return None;
    }
    if memchr::memchr(b'"', value.as_bytes()).is_none() {
        Some('"')
    } else if memchr::memchr(b'\'', value.as_bytes()).is_none() {
        Some('\'')
    } else {
        None
    }
}

/// The `environment=` value for pairs that [`env_token`] accepts (others are skipped).
#[must_use]
pub fn environment(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    push_environment(
        &mut out,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    out
}

mod push;
pub use push::{push_command, push_environment, push_expanded, push_word, push_word_part};

mod unescape;
pub use unescape::{
    IniFile, IniSection, IniValue, interpolate, parse_environment, parse_ini, shlex_split,
};

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
