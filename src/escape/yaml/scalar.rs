//! The text of scalars and keys: double-quoted strings every YAML reader takes literally,
//! and keys that stay plain only when no reader can misread them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Printable ASCII but `"` and `\`: what stands for itself in double quotes.
const LITERAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b <= 0x7E {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// How many bytes from the start of `b` are [`LITERAL`], up to the last whole block of
/// 16: each block is looked at whole, without a branch per byte (the compiler makes it a
/// few vector instructions).
fn literal_prefix(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(block) = b[i..].first_chunk::<16>() {
        let special = block.iter().fold(0u8, |any, &c| {
            any | u8::from(!(0x20..0x7F).contains(&c)) | u8::from(c == b'"' || c == b'\\')
        });
        if special != 0 {
            break;
        }
        i += 16;
    }
    i
}

/// Append [`super::quote`]`(s)` to `out`.
pub fn push_quote(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    // runs of literal ASCII are copied whole (found a block at a time); the rest is looked
    // at a character at a time
    let mut start = 0;
    let mut i = 0;
    loop {
        // whole blocks, then the bytes up to the next special one (in the block that has
        // it, or in the last few)
        i += literal_prefix(&bytes[i..]);
        while bytes.get(i).is_some_and(|&b| LITERAL[usize::from(b)]) {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        out.push_str(&s[start..i]);
        match bytes[i] {
            b'"' => {
                out.push_str("\\\"");
                i += 1;
                start = i;
                continue;
            }
            b'\\' => {
                out.push_str("\\\\");
                i += 1;
                start = i;
                continue;
            }
            _ => {}
        }
        // `"` and `\\` are taken above
        let c = s[i..].chars().next().unwrap_or_default();
        match c {
            c if printable(c) => out.push(c),
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
        i += c.len_utf8();
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Characters every reader takes literally inside double quotes (`PyYAML`'s printable set
/// without the characters YAML 1.1 treats as line breaks, and without the BOM).
pub(super) fn printable(c: char) -> bool {
    matches!(u32::from(c), 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Whether key `k` can be written plain: an identifier no reader can misread.
fn plain(k: &str) -> bool {
    /// Words YAML 1.1 readers take for booleans or null, in any case.
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let b = k.as_bytes();
    b.first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
        && b.iter().all(|&c| KEY[usize::from(c)])
        && !(b.len() <= 5
            && matches!(b[0] | 0x20, b'y' | b'n' | b'o' | b't' | b'f')
            && WORDS.iter().any(|w| w.eq_ignore_ascii_case(k)))
}

/// Append a key: plain when it is a plain identifier no reader can misread, else quoted.
pub(super) fn push_key(out: &mut String, k: &str) {
    if plain(k) {
        out.push_str(k);
    } else {
        push_quote(out, k);
    }
}

/// How many field names [`push_field_key`] remembers.
const FIELDS: usize = 256;

/// How many slots a field name may take, from the one its address gives.
const PROBES: usize = 8;

/// Field names seen and whether each is plain, one word each: address (48 bits), length
/// (15 bits), plain (1 bit); 0 is a free slot. Open addressing by address, never evicted
/// (a name that finds no free slot is looked at each time). One word per slot: threads
/// racing write the same words, and a word read is always whole.
static FIELD_PLAIN: [AtomicU64; FIELDS] = [const { AtomicU64::new(0) }; FIELDS];

/// [`push_key`] of a struct's field name: the same few names come back in every document,
/// so whether each is plain is remembered by its address.
pub(super) fn push_field_key(out: &mut String, k: &'static str) {
    let addr = u64::try_from(k.as_ptr() as usize).unwrap_or(u64::MAX);
    let len = u64::try_from(k.len()).unwrap_or(u64::MAX);
    let is_plain = if addr >> 48 == 0 && len >> 15 == 0 {
        let tag = addr << 16 | len << 1;
        // the address mixed (field names are a few bytes apart), its top 8 bits: 0..FIELDS
        let home =
            usize::try_from(addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56).unwrap_or_default();
        remembered(tag, home, || plain(k))
    } else {
        plain(k)
    };
    if is_plain {
        out.push_str(k);
    } else {
        push_quote(out, k);
    }
}

/// Whether the name of `tag` (address and length) is plain: remembered from its slot near
/// `home`, or worked out by `plain` and remembered.
fn remembered(tag: u64, home: usize, plain: impl FnOnce() -> bool) -> bool {
    for probe in 0..PROBES {
        let slot = &FIELD_PLAIN[(home + probe) % FIELDS];
        match slot.load(Ordering::Relaxed) {
            0 => {
                let p = plain();
                slot.store(tag | u64::from(p), Ordering::Relaxed);
                return p;
            }
            word if word & !1 == tag => return word & 1 == 1,
            _ => {}
        }
    }
    plain()
}

/// The bytes of a plain key: ASCII letters and digits, `_`, `-`, `.` and `/`.
const KEY: [bool; 256] = {
    let mut t = [false; 256];
    let mut c: u8 = 0;
    while c < 128 {
        t[c as usize] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/');
        c += 1;
    }
    t
};
