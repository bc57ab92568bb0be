//! systemd unit file syntax (systemd.syntax(7), systemd.unit(5), systemd.service(5)).
//!
//! Every value is subject to specifier expansion, so `%` is written `%%`. Exec lines are
//! split into words with C-style unquoting and then `$VAR` expansion, so words are
//! double-quoted when needed (`\` and `"` escaped) and `$` is written `$$`.
//!
//! Found by the round-trip tests under a real `systemd --user` (systemd 252): the executable
//! word of an Exec line is not `$`-expanded although argv[0] is (a program path with `$` is
//! written `@PATH ARGV0`), systemd refuses quotes, backslashes and control characters in it
//! however quoted, and it drops any assignment holding a Unicode noncharacter; the backend
//! refuses the last two with the field named.

use crate::model::map_placeholder;

/// The token that stands for the instance name in a template unit (the escaped form, which
/// equals the name for the instance names the model allows).
pub const INSTANCE_TOKEN: &str = "%i";

/// Escape a plain value (Description=, `WorkingDirectory`=, User=, paths): `%` → `%%`.
#[must_use]
pub fn value(text: &str) -> String {
    text.replace('%', "%%")
}

fn needs_quotes(word: &str) -> bool {
    word.is_empty()
        || !word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '/' | '_' | '.' | ',' | ':' | '+' | '@' | '=' | '-' | '{' | '}'
                )
        })
}

fn quote_inner(text: &str, dollar: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // every character escaped is ASCII: copy the runs between them whole
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'%' => "%%",
            b'$' if dollar => "$$",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out
}

/// One word of an Exec line. `{instance}` becomes `%i` when `instanced`.
#[must_use]
pub fn exec_word(word: &str, instanced: bool) -> String {
    let literal = |s: &str| quote_inner(s, true);
    let body = if instanced {
        map_placeholder(word, literal, INSTANCE_TOKEN)
    } else {
        literal(word)
    };
    // `{`/`}` only matter as part of the placeholder, which is already replaced
    if needs_quotes(word) || body != word {
        format!("\"{body}\"")
    } else {
        body
    }
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
    let c = text.chars().find(|c| is_noncharacter(*c))?;
    Some(format!(
        "contains the Unicode noncharacter U+{:04X}, which systemd rejects as not UTF-8 clean (it would ignore the setting)",
        u32::from(c)
    ))
}

/// Why systemd refuses `path` as the executable of an Exec line, or `None`. systemd
/// rejects quotes, backslashes and control characters (a tab too) in the executable name
/// ("Executable name contains special characters"), however it is quoted: the unit would
/// not load.
#[must_use]
pub fn executable_problem(path: &str) -> Option<String> {
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
pub fn exec_line(argv: &[String], instanced: bool) -> String {
    let words = argv.iter().map(|w| exec_word(w, instanced));
    match argv.first() {
        Some(exe) if needs_argv0(exe) => {
            let literal = |s: &str| quote_inner(s, false);
            let path = if instanced {
                map_placeholder(exe, literal, INSTANCE_TOKEN)
            } else {
                literal(exe)
            };
            std::iter::once(format!("\"@{path}\""))
                .chain(words)
                .collect::<Vec<_>>()
                .join(" ")
        }
        _ => words.collect::<Vec<_>>().join(" "),
    }
}

/// One `Environment=` assignment, quoted: `"KEY=value"`.
#[must_use]
pub fn environment(key: &str, val: &str, instanced: bool) -> String {
    let literal = |s: &str| quote_inner(s, false);
    let body = if instanced {
        map_placeholder(val, literal, INSTANCE_TOKEN)
    } else {
        literal(val)
    };
    format!("\"{key}={body}\"")
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
