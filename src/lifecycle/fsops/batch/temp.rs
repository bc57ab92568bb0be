//! Temporary names: a staged file keeps the number of its name, and the name is made on
//! the stack when it is needed (a name of its own was 48 bytes a file).

use std::ffi::OsStr;
use std::sync::OnceLock;

use super::super::TEMP_PREFIX;
use super::TempName;

/// The number of a fresh temporary name (a name taken, e.g. by a killed run with the same
/// pid, is skipped by the caller). Four bytes a staged file: after 4 billion names the
/// numbers start again, and one still in use is skipped as a taken one.
pub(super) fn temp_number() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    // (never one of the two values a packed name keeps for none yet and its own, the top
    // two)
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % OWN
}

/// A [`TempName`] in four bytes, as a staged file keeps it (with the name's own eight and
/// its directory's four: 16 bytes a file): the number, or one of the two values
/// [`temp_number`] never gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PackedTemp(u32);

/// The packed [`TempName::Pending`].
const PENDING: u32 = u32::MAX;
/// The packed [`TempName::Own`].
const OWN: u32 = u32::MAX - 1;

impl From<TempName> for PackedTemp {
    fn from(name: TempName) -> Self {
        Self(match name {
            TempName::Pending => PENDING,
            TempName::Own => OWN,
            TempName::Numbered(n) => n,
        })
    }
}

impl PackedTemp {
    /// The name it packs.
    pub(super) fn get(self) -> TempName {
        match self.0 {
            PENDING => TempName::Pending,
            OWN => TempName::Own,
            n => TempName::Numbered(n),
        }
    }
}

/// Temporary name number `n` as text, built on the stack: the prefix, the process id and
/// `n`. A staged file keeps only its number (a name of its own was 48 bytes a file).
pub struct TempText {
    buf: [u8; 64],
    len: usize,
}

impl TempText {
    pub(super) fn of(n: u32) -> Self {
        static PID: OnceLock<String> = OnceLock::new();
        let pid = PID.get_or_init(|| format!("{TEMP_PREFIX}{}-", std::process::id()));
        let mut buf = [0u8; 64];
        buf[..pid.len()].copy_from_slice(pid.as_bytes());
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut rest = n;
        loop {
            i -= 1;
            digits[i] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let len = pid.len() + digits.len() - i;
        buf[pid.len()..len].copy_from_slice(&digits[i..]);
        Self { buf, len }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// The name a staged file has in its directory.
pub(super) enum StagedAs<'a> {
    /// Its own.
    Own(&'a OsStr),
    /// A temporary one.
    Temp(TempText),
}

impl StagedAs<'_> {
    /// The name.
    pub(super) fn os(&self) -> &OsStr {
        match self {
            Self::Own(name) => name,
            Self::Temp(t) => OsStr::new(t.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{OWN, PENDING, PackedTemp, TempName, temp_number};

    #[test]
    fn every_temporary_name_packs_into_four_bytes_and_back() {
        let names = [
            TempName::Pending,
            TempName::Own,
            TempName::Numbered(0),
            TempName::Numbered(OWN - 1),
            TempName::Numbered(temp_number()),
        ];
        for name in names {
            assert_eq!(PackedTemp::from(name).get(), name);
        }
        assert_eq!(size_of::<PackedTemp>(), 4);
        assert!((0..1000).all(|_| temp_number() < OWN && OWN < PENDING));
    }
}
