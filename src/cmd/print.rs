//! The sinks of `generate` to stdout: one that holds the artifacts while they are small
//! (and only checks them once they are not), one that writes them as they are made.

use std::io::Write as _;

use crate::backend::{Artifact, Sink};
use crate::errors::Result;
use crate::output;
use crate::stdout::StdoutError;

/// How many bytes of artifacts are held for one write at the end; past this the output is
/// rendered again straight to stdout (so peak memory stays the model's plus this, or plus
/// the largest artifact).
pub const HOLD_BYTES: usize = 8 << 20;

/// Holds artifacts up to [`HOLD_BYTES`], then only counts them. A first artifact is held
/// whatever its size (the backend made it whole, so holding it costs nothing more; a
/// one-file output such as supervisord's is then rendered once) until a second one comes.
#[derive(Default)]
pub struct Held {
    artifacts: Vec<Artifact>,
    bytes: usize,
    count: usize,
}

impl Held {
    /// The artifacts, if they all fitted (or there is only one).
    #[must_use]
    pub fn artifacts(self) -> Option<Vec<Artifact>> {
        (self.bytes <= HOLD_BYTES || self.count == 1).then_some(self.artifacts)
    }
}

impl Sink for Held {
    fn take(&mut self, artifact: Artifact) -> Result<()> {
        self.bytes = self
            .bytes
            .saturating_add(artifact.path.len() + artifact.contents().len());
        self.count += 1;
        if self.bytes <= HOLD_BYTES || self.count == 1 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(bytes: usize) -> Artifact {
        Artifact::file("f", 0o644, "x".repeat(bytes))
    }

    #[test]
    fn one_file_is_held_whatever_its_size_several_only_while_they_fit() {
        let mut one = Held::default();
        one.take(artifact(HOLD_BYTES + 1)).expect("held");
        assert_eq!(one.artifacts().map(|a| a.len()), Some(1));

        let mut two = Held::default();
        two.take(artifact(HOLD_BYTES + 1)).expect("held");
        two.take(artifact(1)).expect("counted");
        assert!(two.artifacts().is_none());

        let mut small = Held::default();
        small.take(artifact(10)).expect("held");
        small.take(artifact(10)).expect("held");
        assert_eq!(small.artifacts().map(|a| a.len()), Some(2));
    }
}
