//! Finding the bytes an escaper must rewrite, with vectorised search ([`memchr`]) instead of
//! a test per byte: the runs between them are copied whole.

use std::iter::Peekable;

use memchr::Memchr3;

/// The positions of the bytes of `set` (one to six ASCII bytes) in `hay`, in order.
///
/// # Panics
/// `set` is empty or has more than six bytes (a bug in the caller).
#[must_use]
pub fn positions<'h>(hay: &'h str, set: &[u8]) -> Positions<'h> {
    assert!(
        (1..=6).contains(&set.len()),
        "one to six bytes, not {set:?}"
    );
    let three = |s: &[u8]| {
        let at = |i: usize| s.get(i).copied().unwrap_or(s[0]);
        memchr::memchr3_iter(at(0), at(1), at(2), hay.as_bytes()).peekable()
    };
    let (a, b) = set.split_at(set.len().min(3));
    Positions {
        a: three(a),
        b: (!b.is_empty()).then(|| three(b)),
    }
}

/// See [`positions`].
pub struct Positions<'h> {
    a: Peekable<Memchr3<'h>>,
    b: Option<Peekable<Memchr3<'h>>>,
}

impl Iterator for Positions<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let Some(b) = &mut self.b else {
            return self.a.next();
        };
        match (self.a.peek(), b.peek()) {
            (Some(x), Some(y)) if y < x => b.next(),
            (Some(_), _) => self.a.next(),
            (None, _) => b.next(),
        }
    }
}

/// Append `text` to `out` with each byte of `set` replaced by `escape(byte)`.
pub fn push_escaped(out: &mut String, text: &str, set: &[u8], escape: impl Fn(u8) -> &'static str) {
    // short text: a plain scan costs less than setting up the vector search
    if text.len() < 32 {
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if set.contains(&b) {
                out.push_str(&text[start..i]);
                out.push_str(escape(b));
                start = i + 1;
            }
        }
        out.push_str(&text[start..]);
        return;
    }
    let mut start = 0;
    for i in positions(text, set) {
        out.push_str(&text[start..i]);
        out.push_str(escape(text.as_bytes()[i]));
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// A byte class as a table: ASCII letters and digits, and the bytes of `extra`.
#[must_use]
pub const fn alnum_and(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = b.is_ascii_alphanumeric();
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// Whether every byte of `text` is in the class `table`.
#[must_use]
pub fn all_in(text: &str, table: &[bool; 256]) -> bool {
    text.bytes().all(|b| table[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_position_in_order() {
        let text = "a\\b\"c%d$e\\\\f$$";
        let want: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| b"\\\"%$".contains(b))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(positions(text, b"\\\"%$").collect::<Vec<_>>(), want);
        assert_eq!(positions(text, b"$").collect::<Vec<_>>(), [7, 12, 13]);
        assert_eq!(positions(text, b"%$").collect::<Vec<_>>(), [5, 7, 12, 13]);
        assert_eq!(positions("", b"abcdef").count(), 0);
        let long = "x".repeat(100) + "&" + &"y".repeat(100) + "<";
        assert_eq!(positions(&long, b"&<>\"'").collect::<Vec<_>>(), [100, 201]);
    }

    #[test]
    fn byte_classes() {
        const WORD: [bool; 256] = alnum_and(b"-_");
        assert!(all_in("a-Z_09", &WORD));
        assert!(!all_in("a b", &WORD));
        assert!(!all_in("é", &WORD));
        assert!(all_in("", &WORD));
    }

    #[test]
    fn escapes_each_byte_of_the_set() {
        let mut out = String::from(">");
        push_escaped(&mut out, "50% of $x é", b"%$", |b| {
            if b == b'%' { "%%" } else { "$$" }
        });
        assert_eq!(out, ">50%% of $$x é");
    }
}
