//! A file's SHA-256 as the ledger and the journal keep it: 33 bytes in memory (not a
//! 64-byte string: `--out` of 100,000 files holds several per file), 64 lower-case hex
//! digits in their JSON.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex, PoisonError};

use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// A SHA-256 of contents, or a recorded value that is not one (an impossible hash marking
/// a file edited since it was written, or a hand-edited ledger): that one is kept as it
/// was and never equals a real digest.
///
/// Such values are rare, so their texts are kept aside, once each, and a hash is a plain
/// 33-byte value aligned to a byte: a ledger [`super::Entry`] is 40 bytes, not 48.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentHash {
    /// The digest.
    Sha256([u8; 32]),
    /// Anything else recorded (never the hash of any contents).
    Other(OtherText),
}

/// A recorded text that is not a digest: its place among the texts of this kind the
/// process has met (each kept once, for the life of the process).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtherText(pub(super) [u8; 4]);

/// Every [`OtherText`]'s text, and the place of each.
#[derive(Default)]
struct OtherTexts {
    texts: Vec<&'static str>,
    places: HashMap<&'static str, u32>,
}

/// The texts of the process's [`OtherText`]s.
static OTHER_TEXTS: LazyLock<Mutex<OtherTexts>> = LazyLock::new(Mutex::default);

impl OtherText {
    /// The one value for `text` (the same place for the same text).
    fn new(text: &str) -> Self {
        let mut table = OTHER_TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&place) = table.places.get(text) {
            return Self(place.to_le_bytes());
        }
        let place = u32::try_from(table.texts.len()).expect("fewer than 2^32 recorded texts");
        let kept: &'static str = Box::leak(text.into());
        table.texts.push(kept);
        table.places.insert(kept, place);
        Self(place.to_le_bytes())
    }

    /// The text.
    fn text(self) -> &'static str {
        let table = OTHER_TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
        table.texts[u32::from_le_bytes(self.0) as usize]
    }
}

impl ContentHash {
    /// The SHA-256 of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self::Sha256(Sha256::digest(bytes).into())
    }

    /// The SHA-256 of what `from` reads to its end, 16 KiB at a time (never held whole);
    /// each piece also goes to `also` (e.g. to copy it).
    ///
    /// # Errors
    /// `from`'s or `also`'s.
    pub fn of_reader(
        from: &mut impl std::io::Read,
        mut also: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<Self> {
        let mut hash = Sha256::new();
        let mut buf = [0u8; 1 << 14];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => return Ok(Self::Sha256(hash.finalize().into())),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hash.update(&buf[..n]);
            also(&buf[..n])?;
        }
    }

    /// A value that matches no contents, e.g. `edited-since-written`.
    #[must_use]
    pub fn other(text: &str) -> Self {
        Self::Other(OtherText::new(text))
    }

    /// The 64 hex digits of `text`, or the text itself when it is not a digest.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        digest_of(text.as_bytes()).map_or_else(|| Self::other(text), Self::Sha256)
    }
}

/// The digest written as `digits`, 64 lower-case hex digits; `None` for anything else.
pub(super) fn digest_of(digits: &[u8]) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    if digits.len() != 64 {
        return None;
    }
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

/// The value of a lower-case hex digit.
fn nibble(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    }
}

/// The 64 lower-case hex digits of `digest`.
fn hex(digest: &[u8; 32]) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
    out
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sha256(digest) => {
                let digits = hex(digest);
                f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
            }
            Self::Other(text) => f.write_str(text.text()),
        }
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl PartialEq<&str> for ContentHash {
    fn eq(&self, other: &&str) -> bool {
        *self == Self::parse(other)
    }
}

impl Default for ContentHash {
    /// No recorded hash (in journals of earlier versions, which held the texts instead).
    fn default() -> Self {
        Self::other("")
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Sha256(digest) => {
                let digits = hex(digest);
                s.serialize_str(std::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?)
            }
            Self::Other(text) => s.serialize_str(text.text()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = ContentHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 in hex")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ContentHash, E> {
                Ok(ContentHash::parse(v))
            }
        }
        d.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_goes_to_hex_and_back_and_anything_else_is_kept_as_it_was() {
        let abc = ContentHash::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(abc.to_string(), hex);
        assert_eq!(ContentHash::parse(hex), abc);
        assert_eq!(serde_json::to_string(&abc).ok(), Some(format!("\"{hex}\"")));
        let back: ContentHash = serde_json::from_str(&format!("\"{hex}\"")).expect("json");
        assert_eq!(back, abc);
        for other in [
            "edited-since-written",
            "",
            &hex.to_uppercase(),
            &hex[..63],
            &format!("{hex}0"),
        ] {
            let h: ContentHash = serde_json::from_str(&format!("\"{other}\"")).expect("json");
            assert_eq!(h, ContentHash::other(other), "{other}");
            assert!(matches!(h, ContentHash::Other(_)), "{other}");
            assert_ne!(h, abc);
            assert_eq!(serde_json::to_string(&h).ok(), Some(format!("\"{other}\"")));
        }
        assert_ne!(ContentHash::other("a"), ContentHash::other("b"));
        assert_eq!(std::mem::size_of::<ContentHash>(), 33);
        assert_eq!(std::mem::size_of::<super::super::Entry>(), 40);
    }

    #[test]
    fn a_hash_read_piece_by_piece_is_the_hash_of_the_whole_and_every_piece_is_passed_on() {
        let text: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut copied = Vec::new();
        let hash = ContentHash::of_reader(&mut text.as_slice(), |piece| {
            copied.extend_from_slice(piece);
            Ok(())
        })
        .expect("read");
        assert_eq!(hash, ContentHash::of(&text));
        assert_eq!(copied, text);
        let empty = ContentHash::of_reader(&mut [].as_slice(), |_| Ok(())).expect("read");
        assert_eq!(empty, ContentHash::of(b""));
        // the receiver's error stops the reading
        let refused =
            ContentHash::of_reader(&mut text.as_slice(), |_| Err(std::io::Error::other("full")));
        assert!(refused.is_err());
    }
}
