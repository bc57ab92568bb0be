//! The end of `generate --out` while rendering: once the render is done and good, the
//! plan is checked as a whole and carried out (or a new DIR's tree put in place), and the
//! lines for the user are made.

use anyhow::Result;

use super::fresh::Fresh;
use super::{Writer, leave};
use crate::lifecycle::journal;
use crate::lifecycle::ledger::{EMPTY, Marked};
use crate::lifecycle::plan::Plan;
use crate::output::report::{Done, Rest};
use crate::output::{Report, refuse_conflicts};

impl Writer {
    /// The render is done and good: plan the whole, refuse it or carry it out.
    pub(super) fn finish(mut self) -> Result<Report> {
        if let Some(fresh) = self.fresh.take() {
            return self.finish_fresh(fresh);
        }
        // `generate --out` keeps owned files no longer rendered (no pruning): they would
        // each be a step that retains its entry, and change nothing the plan does. The
        // steps come back from disk in path order (one per path: a path taken twice was
        // refused), into the memory the render gave back (the model, the texts: given back
        // to the kernel first, else the steps would add to the peak, not take its place),
        // and the lookups only the render used (of paths taken, of directories by path).
        crate::heap::give_back(|| {
            self.repeats = None;
            self.batch.unindex();
        });
        let (steps, handles) = match std::mem::take(&mut self.steps).into_steps() {
            Ok(read) => read,
            Err(e) => {
                self.discard();
                return Err(e);
            }
        };
        let kept = std::mem::replace(&mut self.kept, Marked::new(&EMPTY));
        let plan = Plan { steps };
        if let Err(e) = refuse_conflicts(&self.root, &self.store, &plan) {
            self.discard();
            return Err(e);
        }
        let batch = std::mem::take(&mut self.batch);
        let steps = &plan.steps;
        let handle = |p: &str| {
            let i = steps.binary_search_by(|s| (*s.path).cmp(p)).ok()?;
            handles[i]
        };
        let staged: journal::Prestaged<'_> = (batch, &handle);
        let applied = journal::apply_staged(&self.store, &self.lock, &plan, self.ledger, staged)
            .and_then(|applied| {
                let backups = applied.backups.clone();
                applied.commit().map(|()| backups)
            });
        // the lines are made from the plan as they are written out (held, they were 5 MB
        // for 84,000 files)
        let report = Report::new(
            self.recovered_line(),
            Some(Rest::Plan(Done {
                root: self.root.clone(),
                plan,
                kept,
                backups: applied?,
            })),
        );
        leave(self);
        Ok(report)
    }

    /// The line about a run that was killed and is now finished, if any.
    fn recovered_line(&mut self) -> Vec<u8> {
        self.recovered
            .take()
            .map(|line| format!("{line}\n").into_bytes())
            .unwrap_or_default()
    }

    /// Put the tree built for a new DIR in place (see `fresh.rs`): its ledger closed, one
    /// `syncfs`, one rename. The lines are read back from its ledger as they are written
    /// out.
    fn finish_fresh(mut self, fresh: Fresh) -> Result<Report> {
        let tree = match fresh.finish(&self.root) {
            Ok(tree) => tree,
            Err(e) => {
                self.discard();
                return Err(e);
            }
        };
        let report = Report::new(self.recovered_line(), Some(Rest::Tree(tree)));
        leave(self);
        Ok(report)
    }
}
