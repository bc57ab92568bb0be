//! The typed compose file (the part of the compose specification openim-init writes), in
//! the order keys are written. Every string is already `$`-escaped
//! ([`crate::escape::compose::dollar`]) when it gets here.

use indexmap::IndexMap;
use serde::Serialize;

/// A whole `compose.yaml`. No top-level `name:`: docker-compose 1.29 rejects it, the
/// project name is given with `-p`.
#[derive(Debug, Serialize)]
pub struct ComposeFile<S> {
    /// The services, by name (a map of [`ComposeService`]s, possibly made while written).
    pub services: S,
    /// Named volumes the services mount.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub volumes: IndexMap<String, Empty>,
}

/// `{}`: a named volume with the engine's defaults.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// One compose service: a process of the stack or an external run as part of it.
#[derive(Debug, Serialize)]
pub struct ComposeService {
    /// The image.
    pub image: String,
    /// The argv, exactly (the image's entrypoint must be empty or exec its arguments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment, in manifest order.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, String>,
    /// Files of `KEY=value` lines compose reads when it creates the container.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<String>,
    /// `user[:group]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Always `host`: the manifest's addresses are the host's.
    pub network_mode: &'static str,
    /// An init process that forwards signals and reaps children (processes of the stack).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// `always`, `on-failure` or `no`.
    pub restart: &'static str,
    /// The stop signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Time between the stop signal and SIGKILL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<String>,
    /// `nofile` / `nproc`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<&'static str, Ulimit>,
    /// Memory ceiling in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<u64>,
    /// CPUs (1.5 = one and a half).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Mounts, `SOURCE:TARGET[:ro]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// `no-new-privileges:true` when sandboxed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<&'static str>,
    /// `[ALL]` when sandboxed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<&'static str>,
    /// The capabilities kept (`NET_BIND_SERVICE`, without `CAP_`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// A read-only root file system (`strict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Writable in-memory mounts under a read-only root: `/tmp` and the writable paths no
    /// volume covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// The health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// What starts first, and how long compose waits for it.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub depends_on: IndexMap<String, DependsOn>,
    /// Which stack, service and instance the container belongs to.
    pub labels: IndexMap<&'static str, String>,
}

/// A soft and hard limit.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ulimit {
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// `healthcheck:`.
#[derive(Debug, Serialize)]
pub struct Healthcheck {
    /// `["CMD", argv…]`.
    pub test: Vec<String>,
    /// Between probes.
    pub interval: String,
    /// Per probe.
    pub timeout: String,
    /// Failures in a row before unhealthy.
    pub retries: u32,
    /// Failures during this time after the start do not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<String>,
}

/// One `depends_on` entry (long syntax).
#[derive(Debug, Serialize)]
pub struct DependsOn {
    /// `service_started` or `service_healthy`.
    pub condition: Condition,
}

/// When a dependency counts as up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Its container was started.
    ServiceStarted,
    /// Its health check passed.
    ServiceHealthy,
}

/// A duration as compose writes it: `10s`, `1500ms` (Go's duration syntax).
#[must_use]
pub fn duration(d: crate::manifest::Duration) -> String {
    let ms = d.millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
