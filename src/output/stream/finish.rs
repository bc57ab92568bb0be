//! The end of `generate --out` while rendering: once the render is done and good, the
//! plan is checked as a whole and carried out (or a new DIR's tree put in place), and the
//! lines for the user are made.

use anyhow::Result;

use super::fresh::Fresh;
use super::{Writer, leave};
use crate::lifecycle::fsops::Handle;
use crate::lifecycle::journal;
use crate::lifecycle::ledger::{EMPTY, Marked};
use crate::lifecycle::plan::{Plan, Step};
use crate::output::report::{Done, Rest};
use crate::output::{Report, refuse_conflicts};

impl Writer {
    /// The render is done and good: plan the whole, refuse it or carry it out.
    pub(super) fn finish(mut self) -> Result<Report> {
        if let Some(fresh) = self.fresh.take() {
            return self.finish_fresh(fresh);
        }
        // `generate --out` keeps owned files no longer rendered (no pruning): they would
        // each be a step that retains its entry, and change nothing the plan does
        let mut steps = std::mem::take(&mut self.steps);
        let mut handles = std::mem::take(&mut self.handles);
        // one step per path (the feed refuses a path twice)
        sort_by_path(&mut steps, &mut handles);
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

/// Sort `steps` by path in place, and `handles` (one for each step) with them: the order is
/// sorted as indices, then each cycle of it is carried out by swaps in both.
fn sort_by_path(steps: &mut [Step], handles: &mut [Option<Handle>]) {
    const DONE: usize = usize::MAX;
    debug_assert_eq!(steps.len(), handles.len());
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_unstable_by(|&a, &b| steps[a].path.cmp(&steps[b].path));
    // place `i` takes the step now at `order[i]`
    for start in 0..order.len() {
        let mut i = start;
        while order[i] != DONE {
            let from = std::mem::replace(&mut order[i], DONE);
            if from == start {
                break;
            }
            steps.swap(i, from);
            handles.swap(i, from);
            i = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::sort_by_path;
    use crate::lifecycle::fsops::Handle;
    use crate::lifecycle::plan::{Action, OnDisk, Step};

    fn step(path: &str) -> Step {
        Step {
            path: path.into(),
            action: Action::Create,
            desired: None,
            entry: None,
            found: OnDisk::Missing,
        }
    }

    proptest! {
        /// Steps come out sorted by path, each with the handle it went in with.
        #[test]
        fn steps_and_their_handles_sort_together(
            paths in proptest::collection::hash_set("[a-d]{0,4}", 0..40),
        ) {
            let paths: Vec<String> = paths.into_iter().collect();
            let mut steps: Vec<Step> = paths.iter().map(|p| step(p)).collect();
            let mut handles: Vec<Option<Handle>> = (0..paths.len())
                .map(|i| (i % 3 != 0).then(|| Handle::for_test(i)))
                .collect();
            sort_by_path(&mut steps, &mut handles);
            let mut want: Vec<(String, Option<Handle>)> = paths
                .iter()
                .enumerate()
                .map(|(i, p)| (p.clone(), (i % 3 != 0).then(|| Handle::for_test(i))))
                .collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            let got: Vec<(String, Option<Handle>)> =
                steps.into_iter().map(|s| s.path.into_string()).zip(handles).collect();
            prop_assert_eq!(got, want);
        }
    }
}
