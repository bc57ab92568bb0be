//! The check every artifact passes before a sink gets it: no line a line-reading init
//! system cannot load ([`MAX_LINE_BYTES`] or more), in a whole artifact or across the parts
//! of one written in parts.

use std::cell::RefCell;

use super::kit::{Artifact, Part, Sink};
use crate::errors::{Error, Refusal, Result};
use crate::limits::{self, MAX_LINE_BYTES};

/// A sink that checks each artifact's lines before passing it on.
pub(super) struct Checked<'s, 'a> {
    backend: &'static str,
    inner: &'s RefCell<dyn Sink + 'a>,
    /// The lines of the artifact being given in parts.
    lines: Lines,
    /// How much of the parts' text the check has seen (what the inner sink left of it).
    seen: usize,
}

impl<'s, 'a> Checked<'s, 'a> {
    /// Check for `backend`, then pass on to `inner`.
    pub(super) fn new(backend: &'static str, inner: &'s RefCell<dyn Sink + 'a>) -> Self {
        Self {
            backend,
            inner,
            lines: Lines::default(),
            seen: 0,
        }
    }
}

impl Sink for Checked<'_, '_> {
    fn take(&mut self, artifact: Artifact) -> Result<()> {
        check_lines(self.backend, &artifact)?;
        self.inner.borrow_mut().take(artifact)
    }

    fn take_part(&mut self, part: Part<'_>) -> Result<()> {
        let Part {
            path,
            mode,
            text,
            first,
            last,
            size_hint,
        } = part;
        if first {
            self.lines = Lines::default();
            self.seen = 0;
        }
        if let Some(long) = self.lines.feed(&text[self.seen.min(text.len())..], last) {
            return Err(refusal(self.backend, path, &long));
        }
        self.inner.borrow_mut().take_part(Part {
            path,
            mode,
            text: &mut *text,
            first,
            last,
            size_hint,
        })?;
        // what the inner sink left was all seen
        self.seen = text.len();
        Ok(())
    }
}

/// Refuse a rendered artifact with a line systemd (or anything reading lines into a fixed
/// buffer) cannot load. The message names the backend, the file, the line and its key.
///
/// # Errors
/// A line of [`MAX_LINE_BYTES`] or more ([`crate::errors::Error::Refused`], exit 2).
pub(super) fn check_lines(backend: &str, a: &Artifact) -> Result<()> {
    // a file shorter than the limit has no line as long as it
    if a.link_target().is_some() || a.contents().len() < MAX_LINE_BYTES {
        return Ok(());
    }
    let Some((index, line)) = first_long_line(a.contents()) else {
        return Ok(());
    };
    Err(refusal(
        backend,
        &a.path,
        &Long {
            index,
            head: line,
            len: line.len(),
        },
    ))
}

/// A line too long: its index, its start (or all of it) and its length.
struct Long<'t> {
    index: usize,
    head: &'t str,
    len: usize,
}

/// The refusal of `long` in file `path`.
fn refusal(backend: &str, path: &str, long: &Long<'_>) -> Error {
    let key: String = long
        .head
        .split(['=', ' '])
        .next()
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    Refusal::new(
        format!(
            "{backend}: {path} line {} ({}…)",
            long.index + 1,
            key.escape_debug()
        ),
        format!(
            "the line is {} long; {backend} reads lines shorter than {}",
            limits::size(long.len),
            limits::size(MAX_LINE_BYTES)
        ),
    )
    .hint("shorten the values that go into it")
    .into()
}

/// Bytes of a line's start kept while it is open (at least the 40 characters of the key).
const HEAD_BYTES: usize = 256;

/// [`check_lines`] over an artifact given in parts: the line still open at the end of a
/// part goes on in the next.
#[derive(Default)]
struct Lines {
    /// Lines ended so far: the index of the open line.
    ended: usize,
    /// Bytes of the open line so far.
    len: usize,
    /// Its first [`HEAD_BYTES`] (for the message).
    head: String,
    /// Whether it ends in `\r` so far.
    cr: bool,
}

impl Lines {
    /// Check `text`, the artifact's next text (`last`: it ends the artifact), and say which
    /// line is too long once that line has ended.
    fn feed<'t>(&'t mut self, text: &'t str, last: bool) -> Option<Long<'t>> {
        let b = text.as_bytes();
        let Some(k) = memchr::memchr(b'\n', b) else {
            self.extend(text);
            return self.long_at_end(last);
        };
        // the open line ends at k (a line break is `\n` or `\r\n`)
        let cr = if k > 0 { b[k - 1] == b'\r' } else { self.cr };
        self.extend(&text[..k]);
        let len = self.len - usize::from(cr);
        if len >= MAX_LINE_BYTES {
            return Some(Long {
                index: self.ended,
                head: &self.head,
                len,
            });
        }
        self.ended += 1;
        let rest = &text[k + 1..];
        let (whole, open) = match memchr::memrchr(b'\n', rest.as_bytes()) {
            Some(j) => rest.split_at(j + 1),
            None => ("", rest),
        };
        if let Some((i, line)) = first_long_line(whole) {
            return Some(Long {
                index: self.ended + i,
                head: line,
                len: line.len(),
            });
        }
        // memchr counts with vector compares (its iterator's `count`)
        self.ended += memchr::memchr_iter(b'\n', whole.as_bytes()).count();
        self.len = 0;
        self.head.clear();
        self.cr = false;
        self.extend(open);
        self.long_at_end(last)
    }

    /// The open line goes on with `text` (no line break in it).
    fn extend(&mut self, text: &str) {
        self.len += text.len();
        if let Some(&c) = text.as_bytes().last() {
            self.cr = c == b'\r';
        }
        if self.head.len() < HEAD_BYTES {
            let mut end = (HEAD_BYTES - self.head.len()).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.head.push_str(&text[..end]);
        }
    }

    /// The open line, when the artifact ends with it and it is too long (a `\r` at the
    /// very end counts, as [`str::lines`] keeps it).
    fn long_at_end(&self, last: bool) -> Option<Long<'_>> {
        (last && self.len >= MAX_LINE_BYTES).then(|| Long {
            index: self.ended,
            head: &self.head,
            len: self.len,
        })
    }
}

/// The first line (as [`str::lines`] gives them) of [`MAX_LINE_BYTES`] or more, with its
/// index. Looks only at the end of each window of that many bytes: the last line break in
/// it ends every line that starts before it.
fn first_long_line(text: &str) -> Option<(usize, &str)> {
    let b = text.as_bytes();
    let mut start = 0;
    while b.len() - start >= MAX_LINE_BYTES {
        let window = &b[start..start + MAX_LINE_BYTES];
        if let Some(k) = memchr::memrchr(b'\n', window) {
            start += k + 1;
            continue;
        }
        let (end, line) = match memchr::memchr(b'\n', &b[start..]) {
            // a line break is `\n` or `\r\n`
            Some(k) => {
                let line = &text[start..start + k];
                (start + k, line.strip_suffix('\r').unwrap_or(line))
            }
            None => (b.len(), &text[start..]),
        };
        if line.len() >= MAX_LINE_BYTES {
            let index = memchr::memchr_iter(b'\n', &b[..start]).count();
            return Some((index, line));
        }
        start = end + 1;
    }
    None
}

#[cfg(test)]
mod tests;
