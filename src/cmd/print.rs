//! The sinks of `generate` to stdout: one that holds the artifacts while they are small
//! (and only checks them once they are not), one that writes them as they are made.

use std::io::Write as _;

use crate::backend::{Artifact, Body, Sink};
use crate::errors::Result;
use crate::output;
use crate::stdout::StdoutError;

/// How many bytes of artifacts are held for one write at the end; past this the output is
/// rendered again straight to stdout (so peak memory stays the model's plus this).
pub const HOLD_BYTES: usize = 8 << 20;

/// Holds artifacts up to [`HOLD_BYTES`], then only counts them. What is held is trimmed to
/// its length (a renderer's buffer is sized on an estimate), so that holding costs what
/// will be written; a streaming renderer's next artifact reuses the freed tail.
#[derive(Default)]
pub struct Held {
    artifacts: Vec<Artifact>,
    bytes: usize,
}

impl Held {
    /// The artifacts, if they all fitted.
    #[must_use]
    pub fn artifacts(self) -> Option<Vec<Artifact>> {
        (self.bytes <= HOLD_BYTES).then_some(self.artifacts)
    }
}

impl Sink for Held {
    fn take(&mut self, mut artifact: Artifact) -> Result<()> {
        self.bytes = self
            .bytes
            .saturating_add(artifact.path.len() + artifact.contents().len());
        if self.bytes <= HOLD_BYTES {
            if let Body::File { contents, .. } = &mut artifact.body {
                contents.shrink_to_fit();
            }
            self.artifacts.push(artifact);
        } else if !self.artifacts.is_empty() {
            self.artifacts = Vec::new();
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
