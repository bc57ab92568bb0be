//! The contents of files once written go back to the rendering thread, which allocated
//! them, to be freed there: freed on a writing thread they would contend for the rendering
//! thread's allocator, and kept they would hold every file's text until the end (a rich
//! 10,000-service OpenRC `--out` peaked at 100 MB, against 32 MB to stdout). Freed as the
//! render goes on, their memory serves the next artifacts.

use std::sync::mpsc;

use super::leave;

/// Texts handed back at a time (sooner freed than in bundles of 64, at the same speed).
const BUNDLE: usize = 16;

/// A writing thread's end of the way back.
pub struct Spent {
    to: mpsc::Sender<Vec<String>>,
    bundle: Vec<String>,
}

impl Spent {
    /// Hand texts back over `to`.
    pub fn new(to: mpsc::Sender<Vec<String>>) -> Self {
        Self {
            to,
            bundle: Vec::new(),
        }
    }

    /// Another end for another thread.
    pub fn share(&self) -> Self {
        Self::new(self.to.clone())
    }

    /// `text` is written: hand it back (with others).
    pub fn give(&mut self, text: String) {
        if text.capacity() == 0 {
            return;
        }
        self.bundle.push(text);
        if self.bundle.len() >= BUNDLE {
            let bundle = std::mem::replace(&mut self.bundle, Vec::with_capacity(BUNDLE));
            if let Err(mpsc::SendError(bundle)) = self.to.send(bundle) {
                leave(bundle); // the render is over: the process ends soon
            }
        }
    }
}

impl Drop for Spent {
    fn drop(&mut self) {
        leave(std::mem::take(&mut self.bundle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_back_in_bundles_and_a_render_that_is_over_is_harmless() {
        let (to, back) = mpsc::channel();
        let mut spent = Spent::new(to);
        for i in 0..2 * BUNDLE + 3 {
            spent.give(i.to_string());
        }
        spent.give(String::new()); // nothing to free: not handed back
        let got: Vec<Vec<String>> = back.try_iter().collect();
        assert_eq!(got.len(), 2, "two full bundles, the rest held");
        assert!(got.iter().all(|b| b.len() == BUNDLE));
        assert_eq!(got[1][0], BUNDLE.to_string(), "in order");
        drop(back);
        for i in 0..BUNDLE {
            spent.give(i.to_string());
        }
    }
}
