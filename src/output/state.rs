//! The record of what openim-init wrote into an output directory (`.openim-init-files`):
//! one line per file, its path and a hash of the contents written, so a file edited by hand
//! since is not silently replaced.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::errors::{Error, Result};

/// The file in an output directory that lists what openim-init wrote there.
pub const STATE_FILE: &str = ".openim-init-files";

/// Paths written (relative to the directory), with the hash of what was written (`None` for
/// entries from before hashes were recorded).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct State(pub BTreeMap<String, Option<u64>>);

/// How a file found at an artifact path relates to what openim-init wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Written by openim-init and unchanged since.
    Ours,
    /// Written by openim-init, then changed.
    Edited,
    /// Not written by openim-init.
    Foreign,
}

/// FNV-1a, 64 bit: stable across Rust versions and platforms; detects edits, not attacks.
#[must_use]
pub fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl State {
    /// Read the state file of `dir`; a missing file is an empty state.
    ///
    /// # Errors
    /// The state file is a symlink or not a regular file, or cannot be read.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(STATE_FILE);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(Error::Failed(
                    anyhow::Error::from(e).context(format!("reading {}", path.display())),
                ));
            }
            Ok(m) if !m.file_type().is_file() => {
                return Err(Error::Usage(format!(
                    "refusing to use {}: it is not a regular file",
                    path.display()
                )));
            }
            Ok(_) => {}
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(Self::parse(&text))
    }

    /// Parse the state file's text.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut map = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let hashed = line.rsplit_once(' ').and_then(|(p, h)| {
                let h = u64::from_str_radix(h.strip_prefix("fnv1a64:")?, 16).ok()?;
                Some((p, h))
            });
            match hashed {
                Some((p, h)) => map.insert(p.to_owned(), Some(h)),
                None => map.insert(line.to_owned(), None),
            };
        }
        Self(map)
    }

    /// The state file's text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# files written by openim-init (path, hash of the contents written);\n\
             # it replaces only these, and only while unchanged\n",
        );
        for (path, h) in &self.0 {
            let _ = match h {
                Some(h) => writeln!(out, "{path} fnv1a64:{h:016x}"),
                None => writeln!(out, "{path}"),
            };
        }
        out
    }

    /// Whether the file at `rel` with `contents` is one openim-init wrote, unchanged.
    #[must_use]
    pub fn ownership(&self, rel: &str, contents: &[u8]) -> Ownership {
        match self.0.get(rel) {
            None => Ownership::Foreign,
            Some(None) => Ownership::Ours,
            Some(Some(h)) if *h == hash(contents) => Ownership::Ours,
            Some(Some(_)) => Ownership::Edited,
        }
    }

    /// Record that `contents` was written at `rel`.
    pub fn record(&mut self, rel: &str, contents: &[u8]) {
        self.0.insert(rel.to_owned(), Some(hash(contents)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_old_entries() {
        let mut s = State::parse("# comment\nold.service\n");
        s.record("a/b.service", b"x");
        let again = State::parse(&s.render());
        assert_eq!(again, s);
        assert_eq!(again.ownership("old.service", b"anything"), Ownership::Ours);
        assert_eq!(again.ownership("a/b.service", b"x"), Ownership::Ours);
        assert_eq!(again.ownership("a/b.service", b"y"), Ownership::Edited);
        assert_eq!(again.ownership("c.service", b"x"), Ownership::Foreign);
    }

    #[test]
    fn fnv_known_value() {
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
