//! A file artifact made in parts: a backend that writes one large file (supervisord's
//! conf, compose's `compose.yaml`) appends to a [`FileWriter`] and hands the text on every
//! [`PART_BYTES`], so a sink that writes parts as they come never holds the whole file.

use super::{Artifact, RenderContext, Rendered};
use crate::errors::Result;

/// How much text a [`FileWriter`] makes before it hands a part to the sink.
pub const PART_BYTES: usize = 64 * 1024;

/// One part of a file artifact, as a sink gets it ([`super::Sink::take_part`]).
pub struct Part<'p> {
    /// The artifact's path.
    pub path: &'p str,
    /// Its permission bits.
    pub mode: u32,
    /// The text made since the sink last took some: a sink that writes parts as they come
    /// takes it all (leaves it empty); whatever it leaves is handed again, with more after
    /// it, in the next part.
    pub text: &'p mut String,
    /// The first part of this artifact.
    pub first: bool,
    /// The last part: the file ends with this text.
    pub last: bool,
    /// How large the backend expects the whole file to be (what a sink that keeps the text
    /// whole may reserve at once).
    pub size_hint: usize,
}

/// A file artifact being written: append to [`Self::text`], call [`Self::part_done`]
/// where a part may end (e.g. after each section), then [`Self::finish`]. Without a sink
/// the file is made whole into [`Rendered::artifacts`].
pub struct FileWriter<'c, 'a> {
    ctx: &'c RenderContext<'a>,
    path: String,
    mode: u32,
    size_hint: usize,
    text: String,
    first: bool,
    /// Hand a part once the text is this long.
    next: usize,
}

impl<'a> RenderContext<'a> {
    /// Start the file `path` (permission bits `mode`, about `size_hint` bytes), written in
    /// parts of about [`PART_BYTES`] to the sink.
    #[must_use]
    pub fn file(&self, path: impl Into<String>, mode: u32, size_hint: usize) -> FileWriter<'_, 'a> {
        let (capacity, next) = match self.sink {
            Some(_) => (size_hint.min(PART_BYTES + PART_BYTES / 4), PART_BYTES),
            None => (size_hint, usize::MAX),
        };
        FileWriter {
            ctx: self,
            path: path.into(),
            mode,
            size_hint,
            text: String::with_capacity(capacity),
            first: true,
            next,
        }
    }
}

impl FileWriter<'_, '_> {
    /// The text not yet handed on, to append to.
    pub fn text(&mut self) -> &mut String {
        &mut self.text
    }

    /// A part may end here: hand the text to the sink once it is [`PART_BYTES`] longer
    /// than what the sink left of the last part.
    ///
    /// # Errors
    /// The sink's.
    pub fn part_done(&mut self) -> Result<()> {
        if self.text.len() < self.next {
            return Ok(());
        }
        self.hand(false)?;
        self.next = self.text.len().saturating_add(PART_BYTES);
        Ok(())
    }

    /// The file is complete: hand the last part, or keep the whole file in `out` when
    /// there is no sink.
    ///
    /// # Errors
    /// The sink's.
    pub fn finish(mut self, out: &mut Rendered) -> Result<()> {
        if self.ctx.sink.is_none() {
            out.artifacts
                .push(Artifact::file(self.path, self.mode, self.text));
            return Ok(());
        }
        self.hand(true)
    }

    fn hand(&mut self, last: bool) -> Result<()> {
        let Some(sink) = self.ctx.sink else {
            return Ok(());
        };
        let first = std::mem::replace(&mut self.first, false);
        sink.borrow_mut().take_part(Part {
            path: &self.path,
            mode: self.mode,
            text: &mut self.text,
            first,
            last,
            size_hint: self.size_hint,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::backend::kit::{Flags, Sink};

    /// Keeps whole artifacts, counting the parts it was handed.
    #[derive(Default)]
    struct Whole {
        artifacts: Vec<Artifact>,
        parts: usize,
    }

    impl Sink for Whole {
        fn take(&mut self, artifact: Artifact) -> Result<()> {
            self.artifacts.push(artifact);
            Ok(())
        }

        fn take_part(&mut self, part: Part<'_>) -> Result<()> {
            self.parts += 1;
            // the default: keep the text growing, take it whole at the end
            Keeps(&mut self.artifacts).take_part(part)
        }
    }

    /// A sink with only [`Sink::take`], so the default [`Sink::take_part`].
    struct Keeps<'s>(&'s mut Vec<Artifact>);

    impl Sink for Keeps<'_> {
        fn take(&mut self, artifact: Artifact) -> Result<()> {
            self.0.push(artifact);
            Ok(())
        }
    }

    /// Write 3.5 parts' worth of lines through a [`FileWriter`] in `ctx`.
    fn write(ctx: &RenderContext<'_>, out: &mut Rendered) -> String {
        let mut file = ctx.file("f.conf", 0o600, 100);
        let line = "0123456789abcdef\n";
        for _ in 0..(PART_BYTES * 7 / 2) / line.len() {
            file.text().push_str(line);
            file.part_done().expect("part");
        }
        file.finish(out).expect("finished");
        line.repeat((PART_BYTES * 7 / 2) / line.len())
    }

    #[test]
    fn a_file_in_parts_is_whole_without_a_sink_and_for_a_sink_that_keeps_parts() {
        let templates = crate::backend::templates(&std::collections::BTreeMap::new())
            .expect("embedded templates");
        let flags = Flags::default();
        let mut out = Rendered::default();
        let text = write(&RenderContext::new(&templates, &flags), &mut out);
        assert_eq!(
            out.artifacts,
            [Artifact::file("f.conf", 0o600, text.as_str())]
        );

        let sink = RefCell::new(Whole::default());
        let ctx = RenderContext {
            sink: Some(&sink),
            ..RenderContext::new(&templates, &flags)
        };
        let mut out = Rendered::default();
        write(&ctx, &mut out);
        assert!(out.artifacts.is_empty());
        let whole = sink.into_inner();
        assert_eq!(whole.artifacts, [Artifact::file("f.conf", 0o600, text)]);
        // kept parts are handed again only once a part's worth more was made
        assert_eq!(whole.parts, 4);
    }
}
