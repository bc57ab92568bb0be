//! How a service runs, apart from what it runs and what it depends on: who, where, how it
//! restarts and stops, its limits, logs, container and sandbox. A stack's services mostly
//! take all of it from `[defaults]`, so services with equal policies share one (see
//! `shared.rs`), and a service is about half the size it would be with these inline.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::{Container, Limits, Logs, Sandbox, Service, StartLimit};
use crate::manifest::{Duration, RestartPolicy, Signal};

/// A service's run policy (its fields read as the service's own through [`Service`]'s
/// `Deref`). Values a policy holds behind an `Arc` are shared with the policy built
/// before it when equal, so policies that differ in one field still share the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Absolute path of a `KEY=value` file.
    pub environment_file: Option<Arc<str>>,
    /// User to run as.
    pub user: Option<Arc<str>>,
    /// Group to run as.
    pub group: Option<Arc<str>>,
    /// Working directory.
    pub working_dir: Option<Arc<str>>,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// Pause before a restart.
    pub restart_delay: Duration,
    /// Give up after this many starts in a window.
    pub start_limit: Option<StartLimit>,
    /// Stop signal.
    pub stop_signal: Signal,
    /// Wait after the stop signal before SIGKILL.
    pub stop_timeout: Duration,
    /// Exit codes besides 0 that count as clean.
    pub success_exit_codes: Arc<[i32]>,
    /// Resource limits.
    pub limits: Arc<Limits>,
    /// Log destinations.
    pub logs: Arc<Logs>,
    /// How it runs as a container (docker compose, Kubernetes); shared by the services
    /// that give none.
    pub container: Arc<Container>,
    /// How far it is confined.
    pub sandbox: Arc<Sandbox>,
}

impl Deref for Service {
    type Target = Policy;

    /// The service's policy: `svc.user` reads `svc.policy.user`.
    fn deref(&self) -> &Policy {
        &self.policy
    }
}

impl DerefMut for Service {
    /// The service's own policy to change, copied first when other services share it
    /// (`Arc::make_mut`): changing one service never changes another.
    fn deref_mut(&mut self) -> &mut Policy {
        Arc::make_mut(&mut self.policy)
    }
}
