//! The planner: desired artifacts + ledger + what is on disk → what to do with each path.
//! [`plan`] is pure; [`scan`] is the one function that looks at the disk for it.
//!
//! The rules, per path:
//! - desired, nothing there → create; ours and unchanged since → update or keep;
//!   identical to what we would write but not in the ledger → adopt (record, no write);
//!   a file we did not write, or one edited since → refuse, or with `force` back up and
//!   replace; a symlinked or non-directory parent, or a directory at the path → refuse.
//! - in the ledger, no longer desired (only when pruning) → remove if unchanged, keep with a
//!   warning if edited (or with `force` back up and remove), forget if already gone.

mod coded;
mod desired;
mod diff;
mod entries;
mod listing;
mod scan;
mod step;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use compact_str::CompactString;
use hashbrown::HashSet;

pub use desired::{Content, Desired};
pub use diff::render_dry_run;
pub use scan::{Dir as ScannedDir, scan};
pub use step::desired_step;
use step::leftover_step;

use super::ledger::{Entry, Item, Kind, Ledger, Owned};

/// What a path holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDisk {
    /// Nothing.
    Missing,
    /// A regular file.
    File {
        /// Permission bits.
        mode: u32,
        /// Contents.
        bytes: Vec<u8>,
    },
    /// A symbolic link (never followed).
    Symlink {
        /// The link's target, as bytes.
        target: Vec<u8>,
    },
    /// Nothing can be written there, and why (a directory, a symlinked parent, a FIFO).
    Blocked(String),
    /// Exactly as desired, known by its ledger entry only: a step that leaves it alone
    /// does not keep its contents (see [`OnDisk::settled`]).
    Same(Entry),
    /// A regular file known by its entry: hashed as it was read, its contents not kept (a
    /// copy to save is taken from the disk and checked against it). `--out` reads files
    /// this way: a 23 MB supervisord file was held whole through the render.
    Known(Entry),
}

impl OnDisk {
    /// What is there, for a step with `action` that wants `want`: as it was read, unless
    /// the step leaves it alone ([`Action::Keep`], [`Action::Adopt`]: it is `want`), when
    /// only its entry is kept. Regenerating into an up-to-date tree of 10,000 files would
    /// otherwise hold all their contents until the end.
    #[must_use]
    pub fn settled(self, action: &Action, want: &Entry) -> Self {
        match action {
            Action::Keep | Action::Adopt => Self::Same(want.clone()),
            _ => self,
        }
    }

    /// The ledger entry describing what is there, if it is a file or link.
    #[must_use]
    pub fn entry(&self) -> Option<Entry> {
        match self {
            Self::File { mode, bytes } => Some(Entry::of(Kind::File, *mode, bytes)),
            Self::Symlink { target } => Some(Entry::of(Kind::Symlink, 0o777, target)),
            Self::Same(entry) | Self::Known(entry) => Some(entry.clone()),
            Self::Missing | Self::Blocked(_) => None,
        }
    }

    /// The contents (a link's target) as text, for diffs (none kept for [`OnDisk::Same`]
    /// and [`OnDisk::Known`]).
    #[must_use]
    pub fn text(&self) -> Option<String> {
        match self {
            Self::File { bytes, .. } | Self::Symlink { target: bytes } => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            Self::Missing | Self::Blocked(_) | Self::Same(_) | Self::Known(_) => None,
        }
    }
}

/// Why a path cannot be written without `--force` (or at all, when blocked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A file openim-init did not write.
    Foreign,
    /// A file openim-init wrote, changed since.
    Edited,
    /// Nothing can be written there (even with `--force`): why is the step's
    /// [`OnDisk::Blocked`].
    Blocked,
    /// The plan has the path twice (even with `--force`).
    Twice,
}

impl Conflict {
    /// Why, in words, for a step that found `found` on disk.
    #[must_use]
    pub fn why(self, found: &OnDisk) -> &str {
        match (self, found) {
            (Self::Foreign, _) => "not written by openim-init",
            (Self::Edited, _) => "edited since openim-init wrote it",
            (Self::Blocked, OnDisk::Blocked(why)) => why,
            (Self::Blocked, _) => "nothing can be written there",
            (Self::Twice, _) => "it would be written twice",
        }
    }
}

/// Why a run stops ([`Plan::refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Nothing can be written to a path: the whole message.
    Blocked(String),
    /// Foreign or edited files, which `--force` would replace: their paths.
    Conflicts(Vec<String>),
}

/// What happens to one path (a byte: a step is held per file written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing there: write it.
    Create,
    /// Ours and unchanged since, but different from the desired state: replace it.
    Update,
    /// Ours and already right.
    Keep,
    /// Not in the ledger but exactly as desired: recorded, not written.
    Adopt,
    /// Ours, unchanged, no longer desired: delete it.
    Remove,
    /// In the ledger, no longer desired, already gone: drop the entry.
    Forget,
    /// No longer desired but edited since: kept on disk, dropped from the ledger, warned.
    KeepEdited,
    /// Not desired and not pruning: left alone, still owned.
    Retain,
    /// A conflict overridden by `force`: back up what is there, then write (or remove).
    Force(Conflict),
    /// A conflict that stops the whole run.
    Refuse(Conflict),
}

impl Action {
    /// Whether the action touches the file on disk.
    #[must_use]
    pub fn changes_disk(&self) -> bool {
        matches!(
            self,
            Self::Create | Self::Update | Self::Remove | Self::Force(_)
        )
    }
}

/// One path's step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Path relative to the store's base (held in the step itself up to 24 bytes: a block
    /// of its own each was 32 bytes more a step, 20,000 of them read back at s6's end).
    pub path: CompactString,
    /// What happens.
    pub action: Action,
    /// The desired state (`None`: to be removed or left).
    pub desired: Option<Content>,
    /// The desired state's ledger entry (its hash computed once).
    pub entry: Option<Entry>,
    /// What is there now.
    pub found: OnDisk,
}

/// Planning options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Replace (after a backup) foreign and edited files instead of refusing.
    pub force: bool,
    /// Remove owned files that are no longer desired (install); `generate --out` keeps them.
    pub prune: bool,
}

/// Every step, in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One per path.
    pub steps: Vec<Step>,
}

impl Plan {
    /// How many files change on disk.
    #[must_use]
    pub fn changed(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.action.changes_disk())
            .count()
    }

    /// The steps that stop the run.
    #[must_use]
    pub fn refusals(&self) -> Vec<&Step> {
        let refused = |s: &&Step| matches!(s.action, Action::Refuse(_));
        self.steps.iter().filter(refused).collect()
    }

    /// Why the run stops, each path named by `shown`: the first path nothing can be
    /// written to (`refusing to write P: why`), else every foreign or edited path (edited
    /// ones marked), which `--force` would replace; `None` when nothing is refused.
    #[must_use]
    pub fn refused(&self, shown: impl Fn(&str) -> String) -> Option<Refused> {
        let mut conflicts = Vec::new();
        for step in self.refusals() {
            let path = shown(&step.path);
            match step.action {
                Action::Refuse(c @ (Conflict::Blocked | Conflict::Twice)) => {
                    let why = c.why(&step.found);
                    return Some(Refused::Blocked(format!("refusing to write {path}: {why}")));
                }
                Action::Refuse(Conflict::Edited) => {
                    conflicts.push(format!("{path} (edited since)"));
                }
                _ => conflicts.push(path),
            }
        }
        (!conflicts.is_empty()).then_some(Refused::Conflicts(conflicts))
    }

    /// The ledger after the plan is carried out.
    ///
    /// # Errors
    /// An entry of `before` cannot be read again.
    pub fn ledger_after(&self, before: &dyn Owned) -> std::io::Result<Ledger> {
        let files = self.entries_after(before);
        Ok(Ledger {
            version: 1,
            files: files
                .map(|file| file.map(|(p, e)| (p.into_owned(), e)))
                .collect::<std::io::Result<_>>()?,
        })
    }

    /// The entries of [`Self::ledger_after`], in path order, without building it (an
    /// entry of `before` that cannot be read again gives its error).
    pub fn entries_after<'a>(
        &'a self,
        before: &'a dyn Owned,
    ) -> impl Iterator<Item = Item<'a>> + 'a {
        entries::after(&self.steps, before)
    }

    /// One line for people: `N changed (a created, b updated, c removed), k unchanged`.
    #[must_use]
    pub fn summary(&self) -> String {
        let (changed, counts) = self.counts();
        summary_line(changed, counts)
    }

    /// What [`Self::summary`] says: how many change, then how many are created, updated,
    /// removed, forced and unchanged.
    #[must_use]
    pub fn counts(&self) -> (usize, [usize; 5]) {
        let count = |f: fn(&Action) -> bool| self.steps.iter().filter(|s| f(&s.action)).count();
        let created = count(|a| matches!(a, Action::Create));
        let updated = count(|a| matches!(a, Action::Update));
        let removed = count(|a| matches!(a, Action::Remove));
        let forced = count(|a| matches!(a, Action::Force(_)));
        let same = count(|a| matches!(a, Action::Keep | Action::Adopt));
        (self.changed(), [created, updated, removed, forced, same])
    }
}

/// The summary of [`Plan::summary`]: `changed`, then how many were created, updated,
/// removed, forced and unchanged.
#[must_use]
pub fn summary_line(
    changed: usize,
    [created, updated, removed, forced, same]: [usize; 5],
) -> String {
    let mut line =
        format!("{changed} changed ({created} created, {updated} updated, {removed} removed");
    if forced > 0 {
        let _ = write!(line, ", {forced} forced");
    }
    let _ = write!(line, "), {same} unchanged");
    line
}

/// Plan `desired` against the `ledger` and what is on `disk` (every desired and owned path;
/// a path absent from `disk` counts as missing). Pure.
#[must_use]
pub fn plan(
    desired: &[Desired],
    ledger: &Ledger,
    disk: &BTreeMap<String, OnDisk>,
    opts: Options,
) -> Plan {
    plan_owned(desired.to_vec(), ledger, disk, opts)
}

/// [`plan`], keeping the desired states in the steps without copying their contents.
#[must_use]
pub fn plan_owned(
    desired: Vec<Desired>,
    ledger: &Ledger,
    disk: &BTreeMap<String, OnDisk>,
    opts: Options,
) -> Plan {
    let found = |p: &str| disk.get(p).cloned().unwrap_or(OnDisk::Missing);
    let mut seen = HashSet::with_capacity(desired.len());
    let twice: Vec<bool> = desired
        .iter()
        .map(|d| !seen.insert(d.path.as_str()))
        .collect();
    drop(seen);
    let entries = entries::entries(&desired);
    let mut steps = Vec::with_capacity(desired.len());
    for ((d, twice), want) in desired.into_iter().zip(twice).zip(entries) {
        let on_disk = found(&d.path);
        let action = if twice {
            Action::Refuse(Conflict::Twice)
        } else {
            desired_step(&want, ledger.files.get(&d.path), &on_disk, opts)
        };
        let (path, content) = d.split();
        steps.push(Step {
            path: path.into(),
            found: on_disk.settled(&action, &want),
            action,
            desired: Some(content),
            entry: Some(want),
        });
    }
    with_leftovers(steps, ledger, disk, opts)
}

/// The plan of the desired `steps` (one per path), with a step for every owned path not
/// among them (as [`plan`] makes it), in path order.
#[must_use]
pub fn with_leftovers(
    mut steps: Vec<Step>,
    ledger: &Ledger,
    disk: &BTreeMap<String, OnDisk>,
    opts: Options,
) -> Plan {
    let found = |p: &str| disk.get(p).cloned().unwrap_or(OnDisk::Missing);
    // (a first run has no ledger: nothing to look up)
    let desired_paths: HashSet<&str> = if ledger.files.is_empty() {
        HashSet::new()
    } else {
        steps.iter().map(|s| &*s.path).collect()
    };
    // which owned paths are left over (a flag each), then their steps added in place: no
    // second list of steps, one growth at most
    let left: Vec<bool> = (ledger.files.keys())
        .map(|p| !desired_paths.contains(p.as_str()))
        .collect();
    drop(desired_paths);
    steps.reserve_exact(left.iter().filter(|&&l| l).count());
    for ((path, owned), _) in ledger.files.iter().zip(left).filter(|(_, l)| *l) {
        let on_disk = found(path);
        steps.push(Step {
            path: path.as_str().into(),
            action: leftover_step(owned, &on_disk, opts),
            desired: None,
            entry: None,
            found: on_disk,
        });
    }
    // a caller's steps already in order cost no sort (nor its buffer of half the steps)
    if !steps.is_sorted_by(|a, b| a.path <= b.path) {
        steps.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Plan { steps }
}

#[cfg(test)]
mod tests;
