//! The steps of a journaled `--out` run, waiting in sorted runs (see `lifecycle::runs`)
//! until the render is done: kept in memory, a step and its path were about 180 bytes for
//! each file rewritten, held at the run's peak, while the model and the texts being
//! written are held too. The render over and its memory given back, they come back in
//! path order, each with its staged file.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::lifecycle::fsops::Handle;
use crate::lifecycle::plan::Step;
use crate::lifecycle::runs::Runs;
use crate::lifecycle::runs::bytes::take_u32;

/// What a step's staged file is when it has none.
const UNSTAGED: u32 = u32::MAX;

/// The bytes of steps held before they are written out (about 120 bytes a step): the
/// steps are written while the render holds its most, and read back once it is over, when
/// a read buffer for each of more runs costs nothing at the peak.
const PIECE_BYTES: usize = 32 << 10;

/// The steps taken so far.
#[derive(Default)]
pub(super) struct Spilled {
    /// The runs, once a step is taken (a run with no step makes no file).
    runs: Option<Runs>,
    /// The bytes of the step being added.
    scratch: Vec<u8>,
    count: usize,
}

impl Spilled {
    /// Add `step` (whose file is staged as `handle`, if it is): the runs' file is made in
    /// `state` (made if missing) for the first.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub(super) fn add(&mut self, state: &Path, step: &Step, handle: Option<Handle>) -> Result<()> {
        let runs = match &mut self.runs {
            Some(runs) => runs,
            None => self
                .runs
                .insert(Runs::with_piece(file_in(state)?, PIECE_BYTES)),
        };
        self.scratch.clear();
        let number = handle.map_or(UNSTAGED, Handle::number);
        self.scratch.extend_from_slice(&number.to_le_bytes());
        step.encode_rest(&mut self.scratch);
        runs.add(&step.path, &self.scratch)
            .with_context(|| format!("keeping steps in {}", state.display()))?;
        self.count += 1;
        Ok(())
    }

    /// Whether a step at `path` was added (read back from the runs: for a path whose hash
    /// was seen before).
    ///
    /// # Errors
    /// Reading the runs back.
    pub(super) fn contains(&mut self, path: &str) -> Result<bool> {
        match &mut self.runs {
            None => Ok(false),
            Some(runs) => Ok(runs.contains(path).context("reading steps back")?),
        }
    }

    /// Every step, in path order, and the staged file of each.
    ///
    /// # Errors
    /// Reading the runs back.
    pub(super) fn into_steps(self) -> Result<(Vec<Step>, Vec<Option<Handle>>)> {
        let mut steps = Vec::with_capacity(self.count);
        let mut handles = Vec::with_capacity(self.count);
        let Some(runs) = self.runs else {
            return Ok((steps, handles));
        };
        let sealed = runs.seal().context("keeping steps")?;
        let mut merge = sealed.merge().context("reading steps back")?;
        while let Some((path, payload)) = merge.next_record().context("reading steps back")? {
            let mut from = payload.as_slice();
            let number = take_u32(&mut from)?;
            steps.push(Step::decode(path, &mut from)?);
            handles.push((number != UNSTAGED).then(|| Handle::from_number(number)));
        }
        Ok((steps, handles))
    }
}

/// A file with no name in `state`, gone with the process (`state` made if missing).
fn file_in(state: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(state).with_context(|| format!("creating {}", state.display()))?;
    tempfile::tempfile_in(state).with_context(|| format!("creating a file in {}", state.display()))
}
