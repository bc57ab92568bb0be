//! The sinks of `generate` to stdout: one that holds the artifacts while they are small
//! and spools them to an unnamed temporary file once they are not (or, where no temporary
//! file can be made, only checks them), one that writes them as they are made. A file
//! given in parts ([`Part`]) is held only while everything held fits, then spooled (or
//! written) a part at a time, so it is never whole in memory.

use std::fs::File;
use std::io::{self, BufWriter, Seek as _, Write as _};

use crate::backend::kit::{PART_BYTES, Part};
use crate::backend::{Artifact, Body, Sink};
use crate::errors::Result;
use crate::output;
use crate::stdout::StdoutError;

/// How many bytes of artifacts are held for one write at the end; past this they are spooled
/// to a temporary file (so peak memory stays the model's plus this).
pub const HOLD_BYTES: usize = 1 << 19;

/// The spool's write buffer: artifacts come whole, so it only joins small ones.
const SPOOL_BUFFER: usize = 1 << 16;

/// The room a file given in parts keeps for its next part (a part ends a little past
/// [`PART_BYTES`], at a section's end).
const PART_ROOM: usize = PART_BYTES + PART_BYTES / 4;

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
    /// The file being given in parts is spooled (or counted) a part at a time.
    streaming: bool,
    /// How that file is written.
    part: PartText,
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

    /// Whether artifacts are still held (not spooled, not only counted).
    fn holding(&self) -> bool {
        self.spool.is_none() && !self.counting
    }

    /// Move what is held into a new spool; on any failure, only count.
    fn spill(&mut self) {
        let held = std::mem::take(&mut self.artifacts);
        let spooled = tempfile::tempfile().and_then(|f| {
            let mut w = BufWriter::with_capacity(SPOOL_BUFFER, f);
            output::write_text(&held, &mut w)?;
            Ok(w)
        });
        match spooled {
            Ok(w) => self.spool = Some(w),
            Err(_) => self.counting = true,
        }
    }

    /// Write to the spool with `write`; on failure, only count from now on.
    fn spool_with(&mut self, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) {
        if let Some(spool) = &mut self.spool
            && write(spool).is_err()
        {
            self.spool = None;
            self.counting = true;
        }
    }
}

impl Sink for Held {
    fn take(&mut self, mut artifact: Artifact) -> Result<()> {
        self.bytes = self
            .bytes
            .saturating_add(artifact.path.len() + artifact.contents().len());
        if self.holding() {
            if self.bytes <= HOLD_BYTES || self.artifacts.is_empty() {
                if let Body::File { contents, .. } = &mut artifact.body {
                    contents.shrink_to_fit();
                }
                self.artifacts.push(artifact);
                return Ok(());
            }
            self.spill();
        }
        self.spool_with(|w| output::write_one(&artifact, w));
        Ok(())
    }

    /// Parts are left to grow (held) while everything held fits in [`HOLD_BYTES`]; past
    /// that, what is held is spooled and so is each part as it comes.
    fn take_part(&mut self, part: Part<'_>) -> Result<()> {
        if part.first {
            self.streaming = false;
        }
        if !self.streaming {
            if part.last {
                let contents = std::mem::take(part.text);
                return self.take(Artifact::file(part.path, part.mode, contents));
            }
            let held = self.bytes + part.path.len() + part.text.len();
            if self.holding() && held <= HOLD_BYTES {
                // room for the next part only: left to double, the text's buffer would be
                // up to twice what is held
                part.text.reserve_exact(PART_ROOM);
                return Ok(());
            }
            self.streaming = true;
            self.part = PartText::default();
            if self.holding() {
                self.spill();
            }
        }
        let mut text = std::mem::take(&mut self.part);
        self.spool_with(|w| text.write(&part, w));
        self.part = text;
        part.text.clear();
        // what was held grew the buffer: one part's room is enough from now on
        part.text.shrink_to(PART_ROOM);
        Ok(())
    }
}

/// Writes a file given in parts as [`output::write_one`] writes it whole: the header
/// before the first text, a line break after the last unless the text ends with one.
#[derive(Default)]
struct PartText {
    started: bool,
    newline: bool,
}

impl PartText {
    /// Write `part`; a large text goes straight to the writer under `w`, not through its
    /// buffer (one copy less).
    fn write<W: io::Write>(&mut self, part: &Part<'_>, w: &mut BufWriter<W>) -> io::Result<()> {
        if !self.started {
            self.started = true;
            writeln!(w, "==== {} ({:04o}) ====", part.path, part.mode)?;
        }
        let text = part.text.as_bytes();
        if let Some(&last) = text.last() {
            self.newline = last == b'\n';
            if text.len() >= PART_BYTES / 2 {
                w.flush()?;
                w.get_mut().write_all(text)?;
            } else {
                w.write_all(text)?;
            }
        }
        if part.last && !self.newline {
            w.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// Writes each artifact (or part) to stdout as it comes.
pub struct Writer {
    out: BufWriter<io::StdoutLock<'static>>,
    part: PartText,
}

impl Writer {
    /// Write to `out`.
    #[must_use]
    pub fn new(out: BufWriter<io::StdoutLock<'static>>) -> Self {
        Self {
            out,
            part: PartText::default(),
        }
    }

    /// Flush what is buffered.
    ///
    /// # Errors
    /// Writing to stdout failed.
    pub fn finish(mut self) -> Result<()> {
        Ok(self.out.flush().map_err(StdoutError::from_io)?)
    }
}

impl Sink for Writer {
    fn take(&mut self, artifact: Artifact) -> Result<()> {
        Ok(output::write_one(&artifact, &mut self.out).map_err(StdoutError::from_io)?)
    }

    fn take_part(&mut self, part: Part<'_>) -> Result<()> {
        if part.first {
            self.part = PartText::default();
        }
        self.part
            .write(&part, &mut self.out)
            .map_err(StdoutError::from_io)?;
        part.text.clear();
        Ok(())
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

    /// Give `text` to `sink` as file `path` in parts of `size` bytes (as a backend's
    /// [`crate::backend::kit::FileWriter`] hands them).
    fn in_parts(sink: &mut Held, path: &str, text: &str, size: usize) {
        let mut buffer = String::new();
        let mut rest = text;
        let mut first = true;
        loop {
            let (now, later) = rest.split_at(size.min(rest.len()));
            buffer.push_str(now);
            rest = later;
            let last = rest.is_empty();
            let part = Part {
                path,
                mode: 0o640,
                text: &mut buffer,
                first,
                last,
                size_hint: text.len(),
            };
            sink.take_part(part).expect("taken");
            first = false;
            if last {
                return;
            }
        }
    }

    fn text_of(k: Kept) -> String {
        match k {
            Kept::Held(a) => output::to_text(&a),
            Kept::Spooled(mut f) => std::io::read_to_string(&mut f).expect("read spool"),
            Kept::Dropped => panic!("dropped"),
        }
    }

    #[test]
    fn a_file_in_parts_is_held_while_it_fits_then_spooled_as_it_comes() {
        let small = "k=v\n".repeat(1000);
        let mut one = Held::default();
        in_parts(&mut one, "a.conf", &small, 1000);
        let kept = one.kept();
        assert!(matches!(&kept, Kept::Held(a) if a.len() == 1));
        assert_eq!(
            text_of(kept),
            output::to_text(&[Artifact::file("a.conf", 0o640, small.as_str())])
        );

        // past what is held: spooled (even as the first artifact), bytes as if whole
        let big = "key=value\n".repeat(HOLD_BYTES / 5);
        for (before, tail) in [(None, ""), (Some(artifact(10)), "no newline at the end")] {
            let mut sink = Held::default();
            let mut whole = Vec::new();
            if let Some(a) = before {
                whole.push(a.clone());
                sink.take(a).expect("held");
            }
            let text = format!("{big}{tail}");
            in_parts(&mut sink, "big.conf", &text, 64 << 10);
            whole.push(Artifact::file("big.conf", 0o640, text));
            sink.take(artifact(3)).expect("spooled");
            whole.push(artifact(3));
            let kept = sink.kept();
            assert!(matches!(kept, Kept::Spooled(_)));
            assert!(
                text_of(kept) == output::to_text(&whole),
                "spooled bytes differ"
            );
        }
    }

    /// A held file's buffer grows by one part's room at a time (not doubled), and once it
    /// is spooled it keeps one part's room only.
    #[test]
    fn a_file_in_parts_keeps_one_part_of_room() {
        let mut sink = Held::default();
        let mut buffer = String::new();
        let mut spooled_at = None;
        for n in 0..(2 * HOLD_BYTES / PART_BYTES) {
            buffer.push_str(&"x".repeat(PART_BYTES));
            let len = buffer.len();
            let part = Part {
                path: "big.conf",
                mode: 0o640,
                text: &mut buffer,
                first: n == 0,
                last: false,
                size_hint: 0,
            };
            sink.take_part(part).expect("taken");
            if buffer.is_empty() {
                spooled_at.get_or_insert(n);
                assert!(
                    buffer.capacity() <= PART_ROOM,
                    "{} spooled",
                    buffer.capacity()
                );
            } else {
                assert!(
                    buffer.capacity() <= len + PART_ROOM,
                    "{} for {len}",
                    buffer.capacity()
                );
            }
        }
        assert!(spooled_at.is_some_and(|n| n > 0), "held, then spooled");
    }
}
