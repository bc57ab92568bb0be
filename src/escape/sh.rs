//! POSIX shell quoting.

/// Quote `word` so a POSIX shell reads it back as exactly one word with this text.
///
/// Words made only of safe characters stay bare; everything else is single-quoted, with
/// each `'` written as `'\''`.
#[must_use]
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '/' | '_' | '.' | ',' | ':' | '+' | '@' | '%' | '-' | '=')
        });
    // a leading `=` or `~` can mean something at the start of a word in some shells
    if safe && !word.starts_with(['=', '~']) {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quote every word and join them with spaces: a command line `sh` splits back into `argv`.
#[must_use]
pub fn join(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
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
}
