//! systemd unit file syntax (systemd.syntax(7), systemd.unit(5), systemd.service(5)).
//!
//! Every value is subject to specifier expansion, so `%` is written `%%`. Exec lines are
//! split into words with C-style unquoting and then `$VAR` expansion, so words are
//! double-quoted when needed (`\` and `"` escaped) and `$` is written `$$`.

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
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' if dollar => out.push_str("$$"),
            c => out.push(c),
        }
    }
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

/// A whole Exec line (`ExecStart`=, `ExecStartPre`=, …) for `argv`.
#[must_use]
pub fn exec_line(argv: &[String], instanced: bool) -> String {
    argv.iter()
        .map(|w| exec_word(w, instanced))
        .collect::<Vec<_>>()
        .join(" ")
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
    fn environment_values() {
        assert_eq!(environment("A", "x y", false), "\"A=x y\"");
        assert_eq!(environment("A", "50%$", false), "\"A=50%%$\"");
        assert_eq!(environment("I", "n-{instance}", true), "\"I=n-%i\"");
    }
}
