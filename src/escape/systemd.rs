//! systemd unit file syntax (systemd.syntax(7), systemd.unit(5), systemd.service(5)).
//!
//! Every value is subject to specifier expansion, so `%` is written `%%`. Exec lines are
//! split into words with C-style unquoting and then `$VAR` expansion, so words are
//! double-quoted when needed (`\` and `"` escaped) and `$` is written `$$`.
//!
//! Found by the round-trip tests under a real `systemd --user` (systemd 252): the executable
//! word of an Exec line is not `$`-expanded although `argv[0]` is (a program path with `$` is
//! written `@PATH ARGV0`), systemd refuses quotes, backslashes and control characters in it
//! however quoted, and it drops any assignment holding a Unicode noncharacter; the backend
//! refuses the last two with the field named.

use std::borrow::Cow;

use super::scan;
use crate::model::INSTANCE_PLACEHOLDER;

/// The token that stands for the instance name in a template unit (the escaped form, which
/// equals the name for the instance names the model allows).
pub const INSTANCE_TOKEN: &str = "%i";

/// Escape a plain value (Description=, `WorkingDirectory`=, User=, paths): `%` → `%%`.
#[must_use]
pub fn value(text: &str) -> String {
    text.replace('%', "%%")
}

/// [`value`], borrowing `text` when it has nothing to escape.
#[must_use]
pub fn value_cow(text: &str) -> Cow<'_, str> {
    if text.contains('%') {
        let mut out = String::with_capacity(text.len() + 8);
        scan::push_escaped(&mut out, text, b"%", |_| "%%");
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// What an Exec line's word may hold bare.
const BARE: [bool; 256] = scan::alnum_and(b"/_.,:+@=-{}");

fn needs_quotes(word: &str) -> bool {
    word.is_empty() || !scan::all_in(word, &BARE)
}

/// Append `text` with `\`, `"` and `%` escaped (and `$` when `dollar`).
fn push_quote_inner(out: &mut String, text: &str, dollar: bool) {
    let set: &[u8] = if dollar { b"\\\"%$" } else { b"\\\"%" };
    // every character escaped is ASCII: the runs between them are copied whole
    scan::push_escaped(out, text, set, |b| match b {
        b'\\' => "\\\\",
        b'"' => "\\\"",
        b'%' => "%%",
        _ => "$$",
    });
}

/// Append the inside of a double-quoted word: `text` with `\`, `"` and `%` escaped (and
/// `$` when `dollar`: an Exec line's words but not its executable or an assignment), each
/// `{instance}` written as [`INSTANCE_TOKEN`] when `instanced`.
pub fn push_literal(out: &mut String, text: &str, dollar: bool, instanced: bool) {
    if !instanced {
        push_quote_inner(out, text, dollar);
        return;
    }
    for (i, piece) in text.split(INSTANCE_PLACEHOLDER).enumerate() {
        if i > 0 {
            out.push_str(INSTANCE_TOKEN);
        }
        push_quote_inner(out, piece, dollar);
    }
}

/// One word of an Exec line. `{instance}` becomes `%i` when `instanced`.
#[must_use]
pub fn exec_word(word: &str, instanced: bool) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    push_exec_word(&mut out, word, instanced);
    out
}

/// Append [`exec_word`]`(word, instanced)` to `out`.
pub fn push_exec_word(out: &mut String, word: &str, instanced: bool) {
    // the bare characters need no escaping; `{`/`}` only matter as part of the
    // placeholder, which is replaced (so quoted) when instanced
    let placeholder = instanced && word.contains(INSTANCE_PLACEHOLDER);
    if !placeholder && !needs_quotes(word) {
        out.push_str(word);
        return;
    }
    out.push('"');
    push_literal(out, word, true, instanced);
    out.push('"');
}

/// Whether `c` is a Unicode noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF), which systemd
/// does not accept as UTF-8 (`unichar_is_valid`): it ignores the whole assignment ("String is
/// not UTF-8 clean") and a unit without its `ExecStart=` does not load.
#[must_use]
pub fn is_noncharacter(c: char) -> bool {
    let u = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE
}

/// Why no unit file can carry `text`, or `None`.
#[must_use]
pub fn text_problem(text: &str) -> Option<String> {
    // every noncharacter is at least U+FDD0: its UTF-8 starts with 0xEF or above
    if text.bytes().all(|b| b < 0xEF) {
        return None;
    }
    let c = text.chars().find(|c| is_noncharacter(*c))?;
    Some(format!(
        "contains the Unicode noncharacter U+{:04X}, which systemd rejects as not UTF-8 clean (it would ignore the setting)",
        u32::from(c)
    ))
}

/// Printable ASCII but quotes and backslashes: what a program path may hold.
const PLAIN_PATH: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = b' ';
    while b <= b'~' {
        t[b as usize] = !matches!(b, b'\'' | b'"' | b'\\');
        b += 1;
    }
    t
};

/// Why systemd refuses `path` as the executable of an Exec line, or `None`. systemd
/// rejects quotes, backslashes and control characters (a tab too) in the executable name
/// ("Executable name contains special characters"), however it is quoted: the unit would
/// not load.
#[must_use]
pub fn executable_problem(path: &str) -> Option<String> {
    if scan::all_in(path, &PLAIN_PATH) {
        return None;
    }
    let bad = path
        .chars()
        .find(|c| matches!(c, '\'' | '"' | '\\') || c.is_control())?;
    let what = if bad.is_control() {
        format!("U+{:04X}", u32::from(bad))
    } else {
        format!("`{bad}`")
    };
    Some(format!(
        "systemd refuses a program path containing {what} (no quotes, backslashes or control characters in an Exec line's executable, however quoted); move or link the program to a plain path"
    ))
}

/// Whether the executable word needs a separate argv[0] (the `@` prefix): systemd does not
/// `$`-expand the executable path but does expand argv[0], so one word cannot carry a `$`
/// to both.
fn needs_argv0(path: &str) -> bool {
    path.contains('$')
}

/// A whole Exec line (`ExecStart`=, `ExecStartPre`=, …) for `argv`. The executable must pass
/// [`executable_problem`].
#[must_use]
pub fn exec_line<A, S>(argv: A, instanced: bool) -> String
where
    A: IntoIterator<Item = S> + Copy,
    S: AsRef<str>,
{
    let mut out = String::with_capacity(argv.into_iter().map(|w| w.as_ref().len() + 3).sum());
    push_exec_line(&mut out, argv, instanced);
    out
}

/// Append [`exec_line`]`(argv, instanced)` to `out`.
pub fn push_exec_line<A, S>(out: &mut String, argv: A, instanced: bool)
where
    A: IntoIterator<Item = S> + Copy,
    S: AsRef<str>,
{
    if let Some(exe) = argv
        .into_iter()
        .next()
        .filter(|exe| needs_argv0(exe.as_ref()))
    {
        out.push_str("\"@");
        push_literal(out, exe.as_ref(), false, instanced);
        out.push_str("\" ");
    }
    for (i, w) in argv.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_exec_word(out, w.as_ref(), instanced);
    }
}

/// One `Environment=` assignment, quoted: `"KEY=value"`.
#[must_use]
pub fn environment(key: &str, val: &str, instanced: bool) -> String {
    let mut out = String::with_capacity(key.len() + val.len() + 4);
    out.push('"');
    out.push_str(key);
    out.push('=');
    push_literal(&mut out, val, false, instanced);
    out.push('"');
    out
}

pub use unescape::{ExecLine, parse_exec, split_words, undollar, unspecify};

mod unescape;
#[cfg(test)]
mod unescape_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_words() {
        assert_eq!(
            exec_word("/opt/openim/bin/openim-api", false),
            "/opt/openim/bin/openim-api"
        );
        assert_eq!(exec_word("-c", false), "-c");
        assert_eq!(exec_word("", false), "\"\"");
        assert_eq!(exec_word("a b", false), "\"a b\"");
        assert_eq!(exec_word("100%", false), "\"100%%\"");
        assert_eq!(exec_word("$HOME", false), "\"$$HOME\"");
        assert_eq!(exec_word(r#"say "hi"\"#, false), r#""say \"hi\"\\""#);
        assert_eq!(exec_word(";", false), "\";\"");
        assert_eq!(exec_word("{instance}", true), "\"%i\"");
        assert_eq!(exec_word("{instance}", false), "{instance}");
    }

    #[test]
    fn executables() {
        let line = |v: &[&str]| {
            exec_line(
                &v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
                false,
            )
        };
        assert_eq!(line(&["/opt/a b/x", "-c"]), "\"/opt/a b/x\" -c");
        assert_eq!(line(&["/opt/50%/x"]), "\"/opt/50%%/x\"");
        // the path keeps `$`, argv[0] needs `$$`
        assert_eq!(
            line(&["/opt/$x/y", "$a"]),
            "\"@/opt/$x/y\" \"/opt/$$x/y\" \"$$a\""
        );
        assert_eq!(line(&["/opt//x/./y"]), "/opt//x/./y");
        assert!(executable_problem("/opt/it's/x").is_some());
        assert!(executable_problem("/opt/a\\b").is_some());
        assert!(executable_problem("/opt/a\tb").is_some());
        assert!(executable_problem("/opt/a b;%$/x").is_none());
    }

    #[test]
    fn noncharacters() {
        for c in [
            '\u{fdd0}',
            '\u{fdef}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{3fffe}',
            '\u{10ffff}',
        ] {
            assert!(text_problem(&format!("a{c}b")).is_some(), "{c:?}");
        }
        for c in [
            '\u{fdcf}',
            '\u{fdf0}',
            '\u{fffd}',
            '\u{10000}',
            '\u{1fffd}',
            'é',
        ] {
            assert!(text_problem(&format!("a{c}b")).is_none(), "{c:?}");
        }
    }

    #[test]
    fn environment_values() {
        assert_eq!(environment("A", "x y", false), "\"A=x y\"");
        assert_eq!(environment("A", "50%$", false), "\"A=50%%$\"");
        assert_eq!(environment("I", "n-{instance}", true), "\"I=n-%i\"");
    }
}
