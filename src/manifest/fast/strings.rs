//! TOML strings as `toml_parser` reads them: basic (`"..."`, with escapes), literal
//! (`'...'`) and both multi-line forms. Each function takes the text and the position of the
//! opening quote and returns the value (borrowed from the text unless it has escapes) and
//! the position after the closing quote.

use std::borrow::Cow;

use super::{Bail, Step};

/// A string and where it ends.
type Read<'a> = Step<(Cow<'a, str>, usize)>;

/// Any string at `at`.
#[inline]
pub fn string(text: &str, at: usize) -> Read<'_> {
    let b = &text.as_bytes()[at..];
    match b {
        [b'"', b'"', b'"', ..] => multi_line(text, at, b'"'),
        [b'"', ..] => basic(text, at),
        [b'\'', b'\'', b'\'', ..] => multi_line(text, at, b'\''),
        _ => literal(text, at),
    }
}

/// `"..."`.
#[inline]
pub fn basic(text: &str, at: usize) -> Read<'_> {
    let b = text.as_bytes();
    let start = at + 1;
    let mut i = start;
    loop {
        i += plain_basic(&b[i..]);
        match *b.get(i).ok_or(Bail)? {
            b'"' => return Ok((Cow::Borrowed(&text[start..i]), i + 1)),
            b'\\' => break,
            b'\t' => i += 1,
            _ => return Err(Bail),
        }
    }
    let mut out = String::with_capacity(i - start + 8);
    out.push_str(&text[start..i]);
    let mut from = i;
    loop {
        i += plain_basic(&b[i..]);
        match *b.get(i).ok_or(Bail)? {
            b'"' => {
                out.push_str(&text[from..i]);
                return Ok((Cow::Owned(out), i + 1));
            }
            b'\\' => {
                out.push_str(&text[from..i]);
                i = escape(b, i + 1, &mut out)?;
                from = i;
            }
            b'\t' => i += 1,
            _ => return Err(Bail),
        }
    }
}

/// `'...'`.
pub fn literal(text: &str, at: usize) -> Read<'_> {
    let b = text.as_bytes();
    let start = at + 1;
    let mut i = start;
    loop {
        i += run(&b[i..], LITERAL);
        match *b.get(i).ok_or(Bail)? {
            b'\'' => return Ok((Cow::Borrowed(&text[start..i]), i + 1)),
            b'\t' => i += 1,
            _ => return Err(Bail),
        }
    }
}

/// `"""..."""` (with escapes) or `'''...'''` (`quote` tells which): a line break right
/// after the opening delimiter is dropped; up to two quotes may precede the closing ones.
fn multi_line(text: &str, at: usize, quote: u8) -> Read<'_> {
    let bytes = text.as_bytes();
    let mut i = at + 3;
    if bytes.get(i) == Some(&b'\n') {
        i += 1;
    } else if bytes[i..].starts_with(b"\r\n") {
        i += 2;
    }
    let start = i;
    let mut out: Option<String> = None;
    let mut from = i;
    loop {
        match *bytes.get(i).ok_or(Bail)? {
            byte if byte == quote => {
                let n = bytes[i..].iter().take_while(|&&q| q == quote).count();
                if n < 3 {
                    i += n;
                    continue;
                }
                if n > 5 {
                    return Err(Bail);
                }
                let end = i + n - 3;
                let value = match out {
                    None => Cow::Borrowed(&text[start..end]),
                    Some(mut s) => {
                        s.push_str(&text[from..end]);
                        Cow::Owned(s)
                    }
                };
                return Ok((value, i + n));
            }
            b'\\' if quote == b'"' => {
                let s = out.get_or_insert_with(String::new);
                s.push_str(&text[from..i]);
                i = match bytes.get(i + 1) {
                    Some(b' ' | b'\t' | b'\r' | b'\n') => escaped_newline(bytes, i + 1)?,
                    _ => escape(bytes, i + 1, s)?,
                };
                from = i;
            }
            b'\n' => i += 1,
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            byte if is_control(byte) => return Err(Bail),
            _ => i += 1,
        }
    }
}

/// The length of the bare key (`A-Za-z0-9_-`) at the start of `b`.
#[inline]
pub fn bare_len(b: &[u8]) -> usize {
    run(b, BARE)
}

/// Control characters are not allowed in strings or comments (tab is).
pub fn is_control(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7F
}

/// Byte classes for [`run`].
const BARE: u8 = 1;
/// Bytes of a literal string that stand for themselves (not `'`, tab or another control).
const LITERAL: u8 = 2;

/// The classes of each byte (all bytes of a multi-byte character are plain).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation)] // i < 256
        let c = i as u8;
        let mut k = 0;
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            k |= BARE;
        }
        if c >= 0x20 && c != 0x7F && c != b'\'' {
            k |= LITERAL;
        }
        t[i] = k;
        i += 1;
    }
    t
};

/// How many bytes at the start of `b` are in `class`.
#[inline]
fn run(b: &[u8], class: u8) -> usize {
    b.iter()
        .position(|&c| CLASS[usize::from(c)] & class == 0)
        .unwrap_or(b.len())
}

/// How many bytes at the start of `b` stand for themselves in a basic string (not `"`,
/// `\`, tab or another control character), eight at a time.
#[inline]
fn plain_basic(b: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // a high bit in each byte that is zero; the lowest one flagged is exact
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let special = (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | zero(w ^ (ONES * 0x7F));
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| c < 0x20 || c == b'"' || c == b'\\' || c == 0x7F)
        .unwrap_or(b.len() - i)
}

/// The escape after a backslash at `i` (pushed onto `out`); returns where it ends.
fn escape(b: &[u8], i: usize, out: &mut String) -> Step<usize> {
    let (c, len) = match *b.get(i).ok_or(Bail)? {
        b'"' => ('"', 1),
        b'\\' => ('\\', 1),
        b'b' => ('\u{8}', 1),
        b'e' => ('\u{1b}', 1),
        b'f' => ('\u{c}', 1),
        b'n' => ('\n', 1),
        b'r' => ('\r', 1),
        b't' => ('\t', 1),
        b'x' => (hex(b, i + 1, 2)?, 3),
        b'u' => (hex(b, i + 1, 4)?, 5),
        b'U' => (hex(b, i + 1, 8)?, 9),
        _ => return Err(Bail),
    };
    out.push(c);
    Ok(i + len)
}

/// `digits` hexadecimal digits at `i` as a character.
fn hex(b: &[u8], i: usize, digits: usize) -> Step<char> {
    let h = b.get(i..i + digits).ok_or(Bail)?;
    let mut n: u32 = 0;
    for &c in h {
        n = n * 16 + char::from(c).to_digit(16).ok_or(Bail)?;
    }
    char::from_u32(n).ok_or(Bail)
}

/// A backslash ending a line of a `"""` string (at `i`, after the backslash): it drops the
/// line break and all whitespace and line breaks after it. Returns where they end.
fn escaped_newline(b: &[u8], mut i: usize) -> Step<usize> {
    while let Some(b' ' | b'\t') = b.get(i) {
        i += 1;
    }
    match b.get(i) {
        Some(b'\n') => i += 1,
        Some(b'\r') if b.get(i + 1) == Some(&b'\n') => i += 2,
        _ => return Err(Bail),
    }
    loop {
        match b.get(i) {
            Some(b' ' | b'\t' | b'\n') => i += 1,
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => i += 2,
            Some(b'\r') => return Err(Bail),
            _ => return Ok(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_basic_stops_at_the_first_special_byte() {
        for special in [b'"', b'\\', b'\t', b'\n', 0, 0x1F, 0x7F] {
            for at in 0..20 {
                let mut v = vec![b'a'; 20];
                v[at] = special;
                // bytes of multi-byte characters and a later special do not matter
                if at + 2 < 20 {
                    v[at + 1] = 0xC3;
                    v[at + 2] = b'"';
                }
                assert_eq!(plain_basic(&v), at, "{special:#x} at {at}");
            }
        }
        assert_eq!(plain_basic("é €".as_bytes()), "é €".len());
    }
}
