//! A directory's entries as planning looks them up: their names one after the other in one
//! text, found by bisection of a list sorted by name. As a hash map of names, a listing
//! held an allocation and a 32-byte slot a name (about 90 bytes a file: 0.9 MB for the
//! directory of 10,000 systemd units that a run into an up-to-date directory kept to its
//! end); this way a name's bytes and 12 more.

use std::ffi::OsStr;
use std::fs::FileType;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use crate::lifecycle::fsops::Found;

/// The entries of a directory, by name, with what each is (not following links).
#[derive(Debug, Default)]
pub struct Listing {
    /// The names, in the order they were listed.
    names: Vec<u8>,
    /// Where each name is in `names` (start, end) and what it is, in name order.
    sorted: Vec<(u32, u32, Found)>,
}

impl Listing {
    /// The entries of `dir`.
    ///
    /// # Errors
    /// `dir` cannot be listed (or holds over 4 GiB of names).
    pub fn read(dir: &Path) -> std::io::Result<Self> {
        let mut out = Self::default();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let start = out.names.len();
            out.names.extend_from_slice(entry.file_name().as_bytes());
            let span = u32::try_from(start).and_then(|s| Ok((s, u32::try_from(out.names.len())?)));
            let (start, end) = span.map_err(|_| std::io::Error::other("over 4 GiB of names"))?;
            out.sorted.push((start, end, found_of(entry.file_type()?)));
        }
        let names = &out.names;
        out.sorted
            .sort_unstable_by(|a, b| name(names, a).cmp(name(names, b)));
        Ok(out)
    }

    /// What the entry `wanted` is, if there is one.
    #[must_use]
    pub fn get(&self, wanted: &OsStr) -> Option<Found> {
        let wanted = wanted.as_bytes();
        let i = self
            .sorted
            .binary_search_by(|e| name(&self.names, e).cmp(wanted))
            .ok()?;
        Some(self.sorted[i].2)
    }
}

/// The name of `entry` in `names`.
fn name<'n>(names: &'n [u8], &(start, end, _): &(u32, u32, Found)) -> &'n [u8] {
    &names[start as usize..end as usize]
}

/// What a listed type is.
fn found_of(t: FileType) -> Found {
    if t.is_symlink() {
        Found::Link
    } else if t.is_dir() {
        Found::Dir
    } else if t.is_file() {
        Found::File
    } else {
        Found::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_finds_each_entry_with_its_type_and_nothing_else() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let names: Vec<String> = (0..300)
            .map(|i| format!("svc-{}.service", i * 7 % 300))
            .collect();
        for n in &names {
            std::fs::write(tmp.path().join(n), "x").expect("file");
        }
        std::fs::create_dir(tmp.path().join("d")).expect("dir");
        std::os::unix::fs::symlink("svc-1.service", tmp.path().join("l")).expect("link");
        let listing = Listing::read(tmp.path()).expect("listing");
        for n in &names {
            assert_eq!(listing.get(OsStr::new(n)), Some(Found::File), "{n}");
        }
        assert_eq!(listing.get(OsStr::new("d")), Some(Found::Dir));
        assert_eq!(listing.get(OsStr::new("l")), Some(Found::Link));
        for absent in [
            "",
            "svc-300.service",
            "svc-1.servic",
            "svc-1.service\0",
            "e",
        ] {
            assert_eq!(listing.get(OsStr::new(absent)), None, "{absent}");
        }
        // a name's bytes and 12 more: a map held an allocation and a 32-byte slot a name
        let held = listing.names.capacity() + listing.sorted.capacity() * 12;
        assert!(held < 20 * names.len() + 12 * 1024, "{held}");
        assert_eq!(std::mem::size_of::<(u32, u32, Found)>(), 12);
    }
}
