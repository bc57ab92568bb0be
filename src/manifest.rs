//! The TOML manifest: the serde schema users write, and loading it with source positions.
//!
//! This layer only checks what a single value can check on its own (types, durations,
//! signals, enums, unknown keys). Cross-references, names and the dependency graph are checked
//! by [`crate::model`], which points back into the file through [`locate::Locator`].

mod env;
pub mod error;
mod fast;
mod hints;
mod load;
pub mod locate;
mod schema;
mod source;
mod syntax;
mod values;

use indexmap::IndexMap;
use serde::Deserialize;

pub use env::EnvTable;
pub use error::{ManifestError, ManifestErrors};
pub use schema::json_schema;
pub use source::{MAX_MANIFEST_BYTES, STDIN, read_capped, read_file_capped, read_manifest};
pub use values::{ByteSize, Duration, Instances, MAX_DURATION, MAX_DURATION_TEXT, Signal};

/// The built-in manifest for OpenIM Server, used when no `--manifest` is given.
pub const BUILTIN_OPENIM: &str = include_str!("manifest/openim.toml");

/// A whole manifest as written by the user.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Name of the stack: the group target, supervisord group and OpenRC meta-service.
    pub name: String,
    /// One line describing the stack.
    #[serde(default)]
    pub description: Option<String>,
    /// Settings merged into every service (a service's own value wins).
    #[serde(default)]
    pub defaults: ServiceSpec,
    /// Infrastructure the stack depends on but does not run.
    #[serde(default)]
    pub external: IndexMap<String, ExternalSpec>,
    /// The processes of the stack, in the order they are written.
    #[serde(default)]
    pub services: IndexMap<String, ServiceSpec>,
    /// Named subsets of services that can be started and stopped together.
    #[serde(default)]
    pub groups: IndexMap<String, GroupSpec>,
}

// (the tables most services leave out are boxed: a table costs little for what it does not
// say; doc comments here are the JSON schema's descriptions)
/// One `[services.NAME]` table (also the shape of `[defaults]`).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// One line describing the service.
    pub description: Option<String>,
    /// The argv to execute; `{instance}` is replaced by the instance name.
    pub command: Option<Vec<String>>,
    /// A count (instances 0..N-1) or a list of instance names.
    pub instances: Option<Box<Instances>>,
    /// Environment variables set for the process.
    #[schemars(with = "Option<IndexMap<String, String>>")]
    pub environment: Option<EnvTable>,
    /// A file of `KEY=value` lines read at start.
    pub environment_file: Option<Box<String>>,
    /// User to run as.
    pub user: Option<Box<String>>,
    /// Group to run as.
    pub group: Option<Box<String>>,
    /// Working directory of the process.
    pub working_dir: Option<Box<String>>,
    /// When to restart the process.
    pub restart: Option<RestartPolicy>,
    /// Pause before a restart.
    pub restart_delay: Option<Duration>,
    /// Give up restarting after `burst` starts within `interval`.
    pub start_limit: Option<Box<StartLimitSpec>>,
    /// Signal that asks the process to stop.
    pub stop_signal: Option<Signal>,
    /// How long to wait after the stop signal before killing.
    pub stop_timeout: Option<Duration>,
    /// Exit codes (besides 0) that count as a clean exit.
    pub success_exit_codes: Option<Box<Vec<i32>>>,
    /// Resource limits.
    pub limits: Option<Box<LimitsSpec>>,
    /// Where stdout and stderr go.
    pub logs: Option<Box<LogsSpec>>,
    /// Hard dependencies: started first, and this service fails without them.
    pub requires: Option<Vec<String>>,
    /// Soft dependencies: started first when present.
    pub wants: Option<Vec<String>>,
    /// Ordering only: start after these when both are started.
    pub after: Option<Vec<String>>,
    /// Ordering only: start before these when both are started.
    pub before: Option<Vec<String>>,
    /// How to tell the service is healthy.
    pub health: Option<Box<HealthSpec>>,
    /// Commands (argv arrays) run before the main command.
    pub pre_start: Option<Box<Vec<Vec<String>>>>,
    /// How the service runs as a container (docker compose, Kubernetes); other backends
    /// ignore it.
    pub container: Option<Box<ContainerSpec>>,
    /// How far the process is confined (default `basic`; the built-in manifest: `strict`).
    pub sandbox: Option<SandboxLevel>,
    /// Paths the process may write besides its working directory and log directories.
    pub writable_paths: Option<Box<Vec<String>>>,
    /// Linux capabilities the process keeps, e.g. `CAP_NET_BIND_SERVICE`; all others are
    /// dropped.
    pub capabilities: Option<Box<Vec<String>>>,
}

/// How far a service is confined (see the README, "Security").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxLevel {
    /// Everything the backend can do: read-only system, private /tmp and devices, kernel
    /// and clock protected, address families, namespaces and system calls restricted.
    Strict,
    /// What never changes a correct program's behaviour: no new privileges, capabilities
    /// dropped, kernel and /usr /etc read-only, private /tmp and devices, umask 027.
    Basic,
    /// No confinement.
    Off,
}

/// A `container` table: what the container backends (docker compose, Kubernetes) need
/// besides the service itself. Other backends ignore it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    /// The image, e.g. `openim/openim-server:v3.8.3` (required by the container backends).
    pub image: Option<String>,
    /// TCP ports the process listens on (Kubernetes containerPorts and Services).
    pub ports: Option<Vec<u16>>,
    /// Mounts as `SOURCE:TARGET` or `SOURCE:TARGET:ro`; SOURCE a host path or a volume name.
    pub volumes: Option<Vec<String>>,
    /// The shell (absolute path in the image) that runs tcp/http probes; default `/bin/sh`.
    pub shell: Option<String>,
    /// The argv the image runs (externals only: a service's `command` is its own). `{bind}` is
    /// the address to listen on.
    pub command: Option<Vec<String>>,
    /// Environment of the container: an external's; for a service, variables the container
    /// backends add over its own `environment`. `{bind}` is the address to listen on.
    pub environment: Option<IndexMap<String, String>>,
}

/// Restart policy of a service.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Restart whenever the process exits.
    Always,
    /// Restart only on an unclean exit (non-success code, signal, health failure).
    OnFailure,
    /// Never restart.
    Never,
}

/// `start_limit = { burst = 5, interval = "1min" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartLimitSpec {
    /// How many starts are allowed within the interval.
    pub burst: u32,
    /// The window the starts are counted in.
    pub interval: Duration,
}

/// `limits = { nofile = 200000, ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Maximum open files (`RLIMIT_NOFILE`).
    pub nofile: Option<u64>,
    /// Maximum processes of the user (`RLIMIT_NPROC`).
    pub nproc: Option<u64>,
    /// Memory ceiling, e.g. "2G" or "512M".
    pub memory_max: Option<ByteSize>,
    /// CPU time share in percent of one CPU, e.g. 150 = one and a half CPUs.
    pub cpu_quota: Option<u32>,
}

/// `logs = { stdout = "/var/log/x.log", stderr = "/var/log/x.err" }`; absent means journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsSpec {
    /// File that stdout is appended to.
    pub stdout: Option<String>,
    /// File that stderr is appended to; absent means "with stdout".
    pub stderr: Option<String>,
}

/// A readiness or liveness check: exactly one of `tcp`, `http`, `exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthSpec {
    /// `host:port` that must accept a TCP connection.
    pub tcp: Option<String>,
    /// `http://...` URL that must answer 2xx/3xx.
    pub http: Option<String>,
    /// An argv that must exit 0.
    pub exec: Option<Vec<String>>,
    /// Time between checks.
    pub interval: Option<Duration>,
    /// Time one check may take.
    pub timeout: Option<Duration>,
    /// Failed checks in a row before the service counts as unhealthy.
    pub retries: Option<u32>,
}

/// One `[external.NAME]` table.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalSpec {
    /// One line describing the dependency.
    pub description: Option<String>,
    /// How to tell it is up.
    pub check: HealthSpec,
    /// How long dependents wait for it before giving up (default 60s).
    pub wait_timeout: Option<Duration>,
    /// With an `image`, the container backends run it as part of the stack (its `check`
    /// becomes its health check); without one it stays external.
    pub container: Option<ContainerSpec>,
}

/// One `[groups.NAME]` table.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// One line describing the group.
    pub description: Option<String>,
    /// Member services.
    pub services: Vec<String>,
}

/// What takes the services of a manifest one by one as they are read (see
/// [`parse_streamed`]), so that their tables are never all held at once.
pub(crate) trait ServiceSink {
    /// The table of service `name`, in file order; `defaults` is `[defaults]`, complete by
    /// then. `false` stops the reading.
    fn service(&mut self, defaults: &ServiceSpec, name: String, spec: ServiceSpec) -> bool;
}

/// The manifest in `text` without its services, each of which is handed to `sink` as it is
/// read; `None` when this cannot be done (the text is not in the usual shape, is not valid,
/// or the sink stopped): then read it with [`parse`].
pub(crate) fn parse_streamed(text: &str, sink: &mut dyn ServiceSink) -> Option<Manifest> {
    fast::parse_streamed(text, sink)
}

/// Whether a `[defaults…]` header line follows a `[services.…]` one: [`parse_streamed`]
/// then reads `[defaults]` ahead (it applies to the services before it too). A guess like
/// [`header_names`]: a miss only costs the attempt.
pub(crate) fn late_defaults(text: &str) -> bool {
    let bytes = text.as_bytes();
    let first = if bytes.starts_with(b"[services.") {
        Some(0)
    } else {
        memchr::memmem::find(bytes, b"\n[services.")
    };
    first.is_some_and(|at| memchr::memmem::find(&bytes[at..], b"\n[defaults").is_some())
}

/// The names of the `[services.NAME]` and of the `[external.NAME]` headers of `text`, in
/// order: a guess to check against what [`parse_streamed`] reads.
pub(crate) fn header_names(text: &str) -> [Vec<std::borrow::Cow<'_, str>>; 2] {
    fast::header_names(text)
}

/// Parse manifest text; `file` is only used in error messages.
///
/// # Errors
/// A TOML syntax error, a wrong type or an unknown key, with its position and a hint.
pub fn parse(file: &str, text: &str) -> Result<Manifest, ManifestErrors> {
    load::parse(text).map_err(|errs| {
        let loc = locate::Locator::new(text);
        let list = errs
            .iter()
            .map(|e| error::from_toml(file, text, &loc, e))
            .collect();
        ManifestErrors(error::merge_misspelled(list))
    })
}
