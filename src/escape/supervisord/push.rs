//! The escapers of [`super`] appending into one buffer: a byte scan copies the runs between
//! the few characters some layer changes, with no per-word allocation. The string-returning
//! functions of [`super`] are these with a fresh buffer.

use super::{INSTANCE_TOKEN, MARK, is_space};
use crate::escape::scan;

/// Bytes some layer changes in a quoted `command` word: `'`, `;`, `#` and `(` may be
/// written outside the quotes, `%` and the instance mark are expanded.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\'' as usize] = true;
    t[b';' as usize] = true;
    t[b'#' as usize] = true;
    t[b'(' as usize] = true;
    t[b'%' as usize] = true;
    t[MARK as usize] = true;
    t
};

/// Append [`super::expand`]`(text)`.
pub fn push_expanded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = memchr::memchr2(b'%', MARK as u8, rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push_str(if rest.as_bytes()[i] == b'%' {
            "%%"
        } else {
            INSTANCE_TOKEN
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// Whether `word` needs no quotes (the characters of [`super::shlex_word`]'s bare words are
/// all ASCII, so bytes decide).
fn bare(word: &str) -> bool {
    !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'/' | b'_' | b'.' | b',' | b':' | b'+' | b'@' | b'=' | b'-'
                )
        })
}

/// Append [`super::expand`]`(`[`super::shlex_word`]`(word))`.
pub fn push_word(out: &mut String, word: &str) {
    if bare(word) {
        out.push_str(word);
        return;
    }
    if word.is_empty() {
        out.push_str("''");
        return;
    }
    let mut open = false;
    push_word_part(out, word, &mut open, None);
    if open {
        out.push('\'');
    }
}

/// Append `text`, a part of a longer [`push_word`] word that is being quoted: `open` says
/// whether a single quote is open (and is updated), `prev` is the character before `text`
/// in the word (`None` at its start). The word's closing quote is the caller's.
pub fn push_word_part(out: &mut String, text: &str, open: &mut bool, prev: Option<char>) {
    // the run of characters written as they are, not yet appended, starts at `start`
    let mut start = 0;
    if text.len() < 32 {
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if SPECIAL[usize::from(b)] {
                special(out, text, i, &mut start, open, prev);
            }
        }
    } else {
        // longer text (a wrapper's script): vectorised search for the special bytes
        for i in scan::positions(text, b"';#(%\0") {
            special(out, text, i, &mut start, open, prev);
        }
    }
    if start < text.len() {
        quote(out, open, true);
        out.push_str(&text[start..]);
    }
}

/// Open (`want`) or close the quote unless it already is.
fn quote(out: &mut String, open: &mut bool, want: bool) {
    if *open != want {
        out.push('\'');
        *open = want;
    }
}

/// Append the run before the special byte at `i` of `text`, then that byte as its layer
/// writes it (see [`push_word_part`]).
fn special(
    out: &mut String,
    text: &str,
    i: usize,
    start: &mut usize,
    open: &mut bool,
    prev: Option<char>,
) {
    if *start < i {
        quote(out, open, true);
        out.push_str(&text[*start..i]);
    }
    *start = i + 1;
    let b = text.as_bytes()[i];
    let before = || text[..i].chars().next_back().or(prev);
    let outside = match b {
        b'\'' => true,
        b';' | b'#' => before().is_some_and(is_space),
        b'(' => before() == Some('%'),
        _ => false,
    };
    quote(out, open, !outside);
    match b {
        b'%' => out.push_str("%%"),
        _ if b == MARK as u8 => out.push_str(INSTANCE_TOKEN),
        _ => {
            if outside {
                out.push('\\');
            }
            out.push(char::from(b));
        }
    }
}

/// Append the `command=` value for `argv` (see [`super::command`]).
pub fn push_command<S: AsRef<str>>(out: &mut String, argv: impl IntoIterator<Item = S>) {
    for (i, w) in argv.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_word(out, w.as_ref());
    }
}

/// Append the `environment=` value for the pairs whose values [`super::env_quote`] accepts
/// (see [`super::environment`]).
pub fn push_environment<'p>(out: &mut String, pairs: impl IntoIterator<Item = (&'p str, &'p str)>) {
    let mut first = true;
    for (k, v) in pairs {
        let Some(q) = super::env_quote(v) else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        push_expanded(out, k);
        out.push('=');
        out.push(q);
        push_expanded(out, v);
        out.push(q);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{expand, mark_instance, shlex_word};
    use super::*;

    /// What [`push_word`] appends, the slow way.
    fn reference(word: &str) -> String {
        expand(&shlex_word(word))
    }

    fn pushed(word: &str) -> String {
        let mut out = String::from("x");
        push_word(&mut out, word);
        out.split_off(1)
    }

    #[test]
    fn words_as_first_written() {
        for w in [
            "", "a", "a b", "'", "''", "a'", "'a", " ;", ";", " #x", "\u{a0};", "\u{1c}#",
            "%(here)s", "%%(", "(", "%", "\0", "\0(", "é;", "é ;", "a\0b%c", "x ;y'z",
        ] {
            assert_eq!(pushed(w), reference(w), "{w:?}");
            assert_eq!(pushed(&mark_instance(w)), reference(&mark_instance(w)));
        }
    }

    proptest! {
        #[test]
        fn any_word_as_first_written(w in "[ a'%;#(\\x00\\t\u{a0}é{}instace/=-]{0,80}") {
            prop_assert_eq!(pushed(&w), reference(&w));
            let m = mark_instance(&w);
            prop_assert_eq!(pushed(&m), reference(&m));
        }
    }
}
