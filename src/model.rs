//! The validated model every backend renders from: services with defaults merged, checked
//! names and references, expanded instances and an acyclic dependency graph.

mod build;
mod check;
mod container;
mod csr;
mod deps;
mod environment;
mod graph;
mod instances;
mod names;
mod path;
mod policy;
mod problems;
mod sandbox;
mod service;
mod shared;
mod stream;
mod strs;
mod suggest;
#[cfg(test)]
mod tests;
mod view;

use std::sync::Arc;

use thin_vec::ThinVec;

use crate::manifest::{self, ByteSize, Duration, ManifestErrors};

pub use build::build;
pub use container::{BIND_PLACEHOLDER, Container, DEFAULT_SHELL, Volume, with_bind};
pub use graph::{DepKind, Target};
pub use instances::{MAX_INSTANCES, map_placeholder, substitute};
pub use manifest::SandboxLevel;
pub use policy::Policy;
pub use sandbox::{CAPABILITIES, DEFAULT_LEVEL as DEFAULT_SANDBOX};
pub use strs::{Pairs, Strs};
pub use view::{Dependency, Dependent, Process, View, Wait, Waits};

/// The placeholder that stands for the instance name in commands and environment values.
pub const INSTANCE_PLACEHOLDER: &str = "{instance}";

/// A validated stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Stack name: prefix for the group target, group and meta-service.
    pub name: String,
    /// One line describing the stack.
    pub description: String,
    /// Services in declaration order.
    pub services: Vec<Service>,
    /// Infrastructure the stack waits for.
    pub externals: Vec<External>,
    /// The services the stack target/group/meta-service starts when a
    /// `[groups.<stack name>]` names them; `None`: all of them (see
    /// [`Model::stack_members`]).
    pub stack_group: Option<Vec<String>>,
    /// Named groups of services (other than the stack's own).
    pub groups: Vec<Group>,
    /// The derived view backends render from (processes, typed edges, order, budgets).
    pub view: View,
}

/// A validated service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Unit/program name (shared with the warnings that name the service).
    pub name: Arc<str>,
    /// One line describing the service (the name's when the manifest gives none).
    pub description: Arc<str>,
    /// argv; may contain [`INSTANCE_PLACEHOLDER`].
    pub command: Strs,
    /// Instance names when the service is instanced.
    pub instances: Option<ThinVec<String>>,
    /// Environment in declaration order (defaults first); values may contain the placeholder.
    pub environment: Pairs,
    /// Hard dependencies.
    pub requires: ThinVec<Dep>,
    /// Soft dependencies.
    pub wants: ThinVec<Dep>,
    /// Start after these (ordering only).
    pub after: ThinVec<Dep>,
    /// Start before these services (ordering only).
    pub before: ThinVec<String>,
    /// Health check (boxed: a service without one costs 8 bytes).
    pub health: Option<Box<Health>>,
    /// Commands run before the main one.
    pub pre_start: ThinVec<Strs>,
    /// How it runs: who, where, how it restarts and stops, its limits, logs, container and
    /// sandbox. Services with equal policies (mostly all of a stack's, from `[defaults]`)
    /// share one; a service reads its fields as its own (`svc.user`: [`Service`] derefs to
    /// its [`Policy`]).
    pub policy: Arc<Policy>,
}

/// How far a service is confined, and what it keeps (see `model/sandbox.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// The level.
    pub level: SandboxLevel,
    /// Absolute paths it writes: the working directory, the log directories, then
    /// `writable_paths`; each once.
    pub writable_paths: Vec<String>,
    /// Capabilities it keeps (`CAP_*`), each once; all others are dropped.
    pub capabilities: Vec<String>,
    /// Whether it may get a private /tmp (none of its paths lies under /tmp or /var/tmp).
    pub private_tmp: bool,
    /// Whether /home, /root and /run/user may be hidden (none of its paths lies there).
    pub home_hidden: bool,
}

/// A start limit: `burst` starts within `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartLimit {
    /// Starts allowed.
    pub burst: u32,
    /// Window.
    pub interval: Duration,
}

/// Resource limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Open files.
    pub nofile: Option<u64>,
    /// Processes.
    pub nproc: Option<u64>,
    /// Memory ceiling in bytes.
    pub memory_max: Option<ByteSize>,
    /// CPU percent of one CPU.
    pub cpu_quota: Option<u32>,
}

/// Where output goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Logs {
    /// The init system's own log (journal, supervisord's child log, syslog).
    #[default]
    Journal,
    /// Appended to files; `stderr` None means stderr goes with stdout.
    Files {
        /// stdout file.
        stdout: String,
        /// stderr file.
        stderr: Option<String>,
    },
}

/// A dependency target, by its place (8 bytes: a name each was 32, and its text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dep {
    /// A service of this stack: its index in [`Model::services`].
    Service(u32),
    /// An `[external.X]` entry: its index in [`Model::externals`].
    External(u32),
}

impl Model {
    /// The name of what `d` names.
    #[must_use]
    pub fn dep_name(&self, d: Dep) -> &str {
        match d {
            Dep::Service(i) => &self.services[i as usize].name,
            Dep::External(i) => &self.externals[i as usize].name,
        }
    }
}

/// How to probe something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// A TCP connect.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// An HTTP GET that must succeed.
    Http {
        /// The URL.
        url: String,
    },
    /// A command that must exit 0.
    Exec {
        /// argv.
        argv: Vec<String>,
    },
}

/// A health check with its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The probe.
    pub check: Check,
    /// Between probes.
    pub interval: Duration,
    /// Per probe.
    pub timeout: Duration,
    /// Failures in a row before unhealthy.
    pub retries: u32,
}

impl Health {
    /// How long the check may take to pass: `interval × retries + timeout` (saturating).
    #[must_use]
    pub fn window(&self) -> Duration {
        self.interval
            .saturating_mul(u64::from(self.retries))
            .saturating_add(self.timeout)
    }
}

/// External infrastructure that dependents wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// Name, e.g. `kafka`.
    pub name: String,
    /// One line describing it.
    pub description: String,
    /// The readiness probe.
    pub check: Check,
    /// How long a dependent waits before failing its start.
    pub wait_timeout: Duration,
    /// The container the container backends run it in; `None`: it stays external.
    pub container: Option<Container>,
}

/// A named group of services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// One line describing it.
    pub description: String,
    /// Member service names.
    pub services: Vec<String>,
}

impl Model {
    /// Load and validate manifest text.
    ///
    /// # Errors
    /// Every problem found, each with its position.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ManifestErrors> {
        // the usual case: services built as they are read; anything else the usual way
        match stream::checked(file, text) {
            Some(checked) => Ok(checked?.model()),
            None => build(file, text, manifest::parse(file, text)?),
        }
    }

    /// Load and validate manifest text, which is dropped as soon as it is no longer needed
    /// (for a big manifest, before the model's view is made).
    ///
    /// # Errors
    /// Every problem found, each with its position.
    pub fn from_text(file: &str, text: String) -> Result<Self, ManifestErrors> {
        let Some(checked) = stream::checked(file, &text) else {
            return build(file, &text, manifest::parse(file, &text)?);
        };
        drop(text);
        Ok(checked?.model())
    }

    /// The built-in OpenIM model.
    ///
    /// # Panics
    /// Never in a released build: a test keeps the embedded manifest valid.
    #[must_use]
    #[expect(clippy::expect_used, reason = "the embedded manifest is tested")]
    pub fn builtin() -> Self {
        Self::from_toml("<built-in openim.toml>", manifest::BUILTIN_OPENIM)
            .expect("the built-in manifest is valid")
    }

    /// A stack of `n` independent services `s0`…, for tests.
    #[cfg(test)]
    pub(crate) fn independent(n: usize) -> Self {
        use std::fmt::Write as _;
        let mut text = String::from("name = \"n\"\n");
        for i in 0..n {
            let _ = write!(text, "[services.s{i}]\ncommand = [\"/bin/s\"]\n");
        }
        Self::from_toml("n.toml", &text).expect("valid")
    }

    /// A service by name.
    #[must_use]
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.view.service_id(name).map(|i| &self.services[i])
    }

    /// An external by name.
    #[must_use]
    pub fn external(&self, name: &str) -> Option<&External> {
        self.view.external_id(name).map(|i| &self.externals[i])
    }

    /// Services in a start order that respects every dependency and ordering edge;
    /// ties keep declaration order.
    #[must_use]
    pub fn start_order(&self) -> Vec<&Service> {
        self.view
            .order()
            .iter()
            .map(|&i| &self.services[i])
            .collect()
    }

    /// What service `s` (an index) waits for before its command runs, for backends without
    /// a dependency model (see [`View::waits`]).
    #[must_use]
    pub fn waits(&self, s: usize) -> Waits<'_> {
        self.view.waits(&self.services, &self.externals, s)
    }

    /// The services the stack target/group/meta-service starts, by name: all of them in
    /// order, unless a `[groups.<stack name>]` names a subset (borrowed: a copy of every
    /// name was 5 MB for 100,000 services).
    #[must_use]
    pub fn stack_members(&self) -> Vec<&str> {
        match &self.stack_group {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => self.services.iter().map(|s| &*s.name).collect(),
        }
    }

    /// The process-level runtime names of the services `names`, in their order, each
    /// service's processes joined with `sep` (see [`Process::joined`]).
    #[must_use]
    pub fn process_names<S: AsRef<str>>(&self, names: &[S], sep: &str) -> Vec<String> {
        names
            .iter()
            .filter_map(|n| self.view.service_id(n.as_ref()))
            .flat_map(|i| {
                self.view
                    .processes_of(i)
                    .iter()
                    .map(move |p| p.joined(&self.services[i], sep))
            })
            .collect()
    }
}

impl Service {
    /// Whether the service runs as several instances.
    #[must_use]
    pub fn is_instanced(&self) -> bool {
        self.instances.is_some()
    }

    /// Whether the instances are exactly "0".."N-1" (what counters like numprocs express).
    #[must_use]
    pub fn instances_are_indices(&self) -> bool {
        self.instances
            .as_ref()
            .is_some_and(|v| v.iter().enumerate().all(|(i, name)| *name == i.to_string()))
    }

    /// The argv with the placeholder replaced by `instance` (or left as is for `None`).
    #[must_use]
    pub fn argv_for(&self, instance: Option<&str>) -> Vec<String> {
        self.command
            .iter()
            .map(|a| substitute(a, instance))
            .collect()
    }

    /// Whether `{instance}` appears in the command or environment.
    #[must_use]
    pub fn uses_instance(&self) -> bool {
        self.command
            .iter()
            .chain(self.environment.iter().map(|(_, v)| v))
            .any(|s| s.contains(INSTANCE_PLACEHOLDER))
    }
}
