//! The action for one path: the rules of the module documentation of [`super`].

use super::{Action, Conflict, OnDisk, Options};
use crate::lifecycle::ledger::Entry;

/// The action for a desired path whose ledger entry will be `want` (what [`super::plan`] decides
/// for it; for a caller that plans path by path, then calls [`super::with_leftovers`]).
#[must_use]
pub fn desired_step(want: &Entry, owned: Option<&Entry>, found: &OnDisk, opts: Options) -> Action {
    let now = match found {
        OnDisk::Blocked(_) => return Action::Refuse(Conflict::Blocked),
        OnDisk::Missing => return Action::Create,
        OnDisk::File { .. } | OnDisk::Symlink { .. } | OnDisk::Same(_) | OnDisk::Known(_) => {
            found.entry()
        }
    };
    let conflict = match owned {
        _ if now.as_ref() == Some(want) => {
            return if owned.is_some() {
                Action::Keep
            } else {
                Action::Adopt
            };
        }
        Some(e) if now.as_ref() == Some(e) => return Action::Update,
        Some(_) => Conflict::Edited,
        None => Conflict::Foreign,
    };
    if opts.force {
        Action::Force(conflict)
    } else {
        Action::Refuse(conflict)
    }
}

/// The step for an owned path that is no longer desired.
pub(super) fn leftover_step(owned: &Entry, found: &OnDisk, opts: Options) -> Action {
    if !opts.prune {
        return Action::Retain;
    }
    match found {
        OnDisk::Missing => Action::Forget,
        OnDisk::Blocked(_) => Action::KeepEdited,
        _ if found.entry().as_ref() == Some(owned) => Action::Remove,
        _ if opts.force => Action::Force(Conflict::Edited),
        _ => Action::KeepEdited,
    }
}
