//! Texts kept one after the other in pieces that never move: the file names of a batch's
//! items and the paths of its directories.

use anyhow::{Context as _, Result};

/// Where a text is in [`Pieces`]: its piece, where it starts there, its length.
pub(super) type Span = (u32, u16, u16);

/// How many bytes of text a piece of [`Pieces`] holds.
const PIECE: usize = 1 << 16;

/// Texts one after the other, in pieces of [`PIECE`] bytes that never move (a text grown
/// by doubling leaves each smaller copy behind in the allocator's memory: about as much
/// again as it holds).
#[derive(Default)]
pub(super) struct Pieces(Vec<Vec<u8>>);

/// How many of the texts last added [`Names`] looks among for the one being added.
const RECENT: usize = 8;

/// File names, each kept once among the last [`RECENT`] different ones used: the files of
/// a service's directory have the same names as the last one's (s6's `finish` and
/// `timeout-finish`: 20,000 names, 0.26 MB, in two texts), and a name of its own (a
/// systemd unit's) costs a few comparisons.
#[derive(Default)]
pub(super) struct Names {
    texts: Pieces,
    /// The names last used, the latest first.
    recent: [Option<Span>; RECENT],
}

impl Names {
    /// Add `name` (unless it is among the recent ones): where it is.
    pub(super) fn push(&mut self, name: &[u8]) -> Result<Span> {
        let texts = &self.texts;
        let seen = self
            .recent
            .iter()
            .position(|at| at.is_some_and(|at| texts.get(at) == name));
        let (at, used) = match seen {
            Some(k) => (self.recent[k].unwrap_or_else(|| unreachable!("found")), k),
            None => (self.texts.push(name)?, RECENT - 1),
        };
        // (the latest first: one used often stays, one of its own soon makes room)
        self.recent[..=used].rotate_right(1);
        self.recent[0] = Some(at);
        Ok(at)
    }

    /// The name at `span`.
    pub(super) fn get(&self, span: Span) -> &[u8] {
        self.texts.get(span)
    }
}

impl Pieces {
    /// Add `text`: where it is.
    pub(super) fn push(&mut self, text: &[u8]) -> Result<Span> {
        let len = u16::try_from(text.len()).context("a name too long")?;
        // (a full piece takes no more, not even an empty text: it would start past it)
        if self
            .0
            .last()
            .is_none_or(|p| p.len() == PIECE || PIECE - p.len() < text.len())
        {
            self.0.push(Vec::with_capacity(PIECE));
        }
        let piece = u32::try_from(self.0.len() - 1).context("too many names in one batch")?;
        let last = self
            .0
            .last_mut()
            .unwrap_or_else(|| unreachable!("a piece was added"));
        let start = u16::try_from(last.len()).context("a piece overfilled")?;
        last.extend_from_slice(text);
        Ok((piece, start, len))
    }

    /// The text at `span`.
    pub(super) fn get(&self, (piece, start, len): Span) -> &[u8] {
        let start = usize::from(start);
        &self.0[piece as usize][start..start + usize::from(len)]
    }
}

#[cfg(test)]
mod tests {
    use super::{Names, PIECE, Pieces, RECENT};

    #[test]
    fn a_name_among_the_recent_ones_is_kept_once_and_every_name_reads_back() {
        let mut names = Names::default();
        let mut spans = Vec::new();
        let mut added = Vec::new();
        for i in 0..1000 {
            for name in [
                "finish".to_string(),
                "timeout-finish".into(),
                format!("svc-{i}"),
            ] {
                spans.push(names.push(name.as_bytes()).expect("pushed"));
                added.push(name);
            }
        }
        for (name, span) in added.iter().zip(&spans) {
            assert_eq!(names.get(*span), name.as_bytes());
        }
        // the two shared names once, each unit name once
        let held: usize = names.texts.0.iter().map(Vec::len).sum();
        let own: usize = (0..1000).map(|i| format!("svc-{i}").len()).sum();
        assert_eq!(held, "finish".len() + "timeout-finish".len() + own);
        // a name not among the last RECENT different ones is added again
        for i in 0..RECENT {
            names.push(format!("other-{i}").as_bytes()).expect("pushed");
        }
        let again = names.push(b"finish").expect("pushed");
        assert_ne!(again, spans[0]);
        assert_eq!(names.get(again), b"finish");
    }

    #[test]
    fn texts_across_pieces_are_found_as_they_were_added() {
        let mut pieces = Pieces::default();
        let texts: Vec<String> = (0..20_000)
            .map(|i| format!("/srv/out/runit/svc-{i}/{}", "x".repeat(i % 13)))
            .collect();
        let spans: Vec<_> = texts
            .iter()
            .map(|t| pieces.push(t.as_bytes()).expect("pushed"))
            .collect();
        assert!(pieces.0.len() > 4, "{} pieces", pieces.0.len());
        for (t, span) in texts.iter().zip(spans) {
            assert_eq!(pieces.get(span), t.as_bytes());
        }
        // no piece grew past its size (none moved), and a text never straddles two
        assert!(pieces.0.iter().all(|p| p.capacity() == PIECE));
        assert_eq!(pieces.push(b"").map(|(_, _, len)| len).ok(), Some(0));
        // a piece filled to the last byte, then an empty text: in the next piece
        let mut full = Pieces::default();
        let span = full.push(&vec![b'b'; PIECE - 1]).expect("pushed");
        assert_eq!(full.push(b"c").expect("pushed"), (0, u16::MAX, 1));
        assert_eq!(full.push(b"").expect("pushed"), (1, 0, 0));
        assert_eq!(full.get(span).len(), PIECE - 1);
        let long = vec![b'a'; usize::from(u16::MAX) + 1];
        assert!(pieces.push(&long).is_err());
    }
}
