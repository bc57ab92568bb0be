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
    use super::{PIECE, Pieces};

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
