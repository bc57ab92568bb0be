//! The sinks of `generate` to stdout: one that holds the artifacts while they are small
//! and spools them to an unnamed temporary file once they are not (or, where no temporary
//! file can be made, only checks them), one that writes them as they are made.

use std::fs::File;
use std::io::{BufWriter, Seek as _, Write as _};

use crate::backend::{Artifact, Body, Sink};
use crate::errors::Result;
use crate::output;
use crate::stdout::StdoutError;

/// How many bytes of artifacts are held for one write at the end; past this they are spooled
/// to a temporary file (so peak memory stays the model's plus this).
pub const HOLD_BYTES: usize = 1 << 20;

/// Holds artifacts up to [`HOLD_BYTES`], then spools them (see the module documentation).
/// What is held is trimmed to its length (a renderer's buffer is sized on an estimate), so
/// that holding costs what will be written. A first artifact is held whatever its size
/// until a second one comes (the backend made it whole, so holding it costs nothing more,
/// and a one-file output such as supervisord's is neither spooled nor rendered twice).
#[derive(Default)]
pub struct Held {
    artifacts: Vec<Artifact>,
    bytes: usize,
    spool: Option<BufWriter<File>>,
    /// No spool could be made or written: the artifacts are only counted.
    counting: bool,
}

/// Where the artifacts [`Held`] took are, once they are all made.
pub enum Kept {
    /// In memory.
    Held(Vec<Artifact>),
    /// Written (as stdout shows them) to a temporary file, rewound.
    Spooled(File),
    /// Nowhere: they must be rendered again.
    Dropped,
}

impl Held {
    /// Where the artifacts are.
    #[must_use]
    pub fn kept(self) -> Kept {
        if let Some(spool) = self.spool {
            let rewound = spool.into_inner().ok().and_then(|mut f| {
                f.rewind().ok()?;
                Some(f)
            });
            return rewound.map_or(Kept::Dropped, Kept::Spooled);
        }
        if self.counting {
            Kept::Dropped
        } else {
            Kept::Held(self.artifacts)
        }
    }

    /// Move what is held into a new spool, then `artifact`; on any failure, only count.
    fn spill(&mut self, artifact: &Artifact) {
        let held = std::mem::take(&mut self.artifacts);
        let spooled = tempfile::tempfile().and_then(|f| {
            let mut w = BufWriter::with_capacity(1 << 18, f);
            output::write_text(&held, &mut w)?;
            output::write_one(artifact, &mut w)?;
            Ok(w)
        });
        match spooled {
            Ok(w) => self.spool = Some(w),
            Err(_) => self.counting = true,
        }
    }
}

impl Sink for Held {
    fn take(&mut self, mut artifact: Artifact) -> Result<()> {
        self.bytes = self
            .bytes
            .saturating_add(artifact.path.len() + artifact.contents().len());
        if let Some(spool) = &mut self.spool {
            if output::write_one(&artifact, spool).is_err() {
                self.spool = None;
                self.counting = true;
            }
        } else if self.counting {
        } else if self.bytes <= HOLD_BYTES || self.artifacts.is_empty() {
            if let Body::File { contents, .. } = &mut artifact.body {
                contents.shrink_to_fit();
            }
            self.artifacts.push(artifact);
        } else {
            self.spill(&artifact);
        }
        Ok(())
    }
}

/// Writes each artifact to stdout as it comes.
pub struct Writer(pub std::io::BufWriter<std::io::StdoutLock<'static>>);

impl Writer {
    /// Flush what is buffered.
    ///
    /// # Errors
    /// Writing to stdout failed.
    pub fn finish(mut self) -> Result<()> {
        Ok(self.0.flush().map_err(StdoutError::from_io)?)
    }
}

impl Sink for Writer {
    fn take(&mut self, artifact: Artifact) -> Result<()> {
        Ok(output::write_one(&artifact, &mut self.0).map_err(StdoutError::from_io)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(bytes: usize) -> Artifact {
        Artifact::file("f", 0o644, "x".repeat(bytes))
    }

    fn held(k: Kept) -> Option<usize> {
        match k {
            Kept::Held(a) => Some(a.len()),
            Kept::Spooled(_) | Kept::Dropped => None,
        }
    }

    #[test]
    fn one_file_is_held_whatever_its_size_several_only_while_they_fit() {
        let mut one = Held::default();
        one.take(artifact(HOLD_BYTES + 1)).expect("held");
        assert_eq!(held(one.kept()), Some(1));

        let mut two = Held::default();
        two.take(artifact(HOLD_BYTES + 1)).expect("held");
        two.take(artifact(1)).expect("spooled");
        assert!(held(two.kept()).is_none());

        let mut small = Held::default();
        small.take(artifact(10)).expect("held");
        small.take(artifact(10)).expect("held");
        assert_eq!(held(small.kept()), Some(2));
    }
}
