//! What a service shares with the one built before it when they are equal: a stack's
//! services mostly take these from `[defaults]`, and each is then held once.

use std::sync::Arc;

use super::{Container, Limits, Logs, Policy, Sandbox};

/// The values of the service built last that the next one shares when it has the same
/// (a stack's services mostly take them from `[defaults]`, or have none).
#[derive(Default)]
pub(super) struct Shared {
    /// `environment_file`, `working_dir`, `user`, `group`.
    pub(super) strings: [Option<Arc<str>>; 4],
    pub(super) exit_codes: Option<Arc<[i32]>>,
    pub(super) limits: Option<Arc<Limits>>,
    pub(super) logs: Option<Arc<Logs>>,
    pub(super) sandbox: Option<Arc<Sandbox>>,
    pub(super) container: Option<Arc<Container>>,
    /// The whole policy: services with equal policies share one.
    pub(super) policy: Option<Arc<Policy>>,
}

/// `value`, shared with the last one kept in `slot` when they are equal.
pub(super) fn share<T: PartialEq>(slot: &mut Option<Arc<T>>, value: T) -> Arc<T> {
    match slot {
        Some(last) if **last == value => Arc::clone(last),
        _ => Arc::clone(slot.insert(Arc::new(value))),
    }
}

/// `value`, shared with the last one kept in `slot` when they are equal (a value from
/// `[defaults]` is then held once, not once per service).
pub(super) fn share_slice<T: PartialEq + ?Sized, V: AsRef<T> + Into<Arc<T>>>(
    slot: &mut Option<Arc<T>>,
    value: V,
) -> Arc<T> {
    match slot {
        Some(last) if **last == *value.as_ref() => Arc::clone(last),
        _ => Arc::clone(slot.insert(value.into())),
    }
}
