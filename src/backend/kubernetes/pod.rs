//! The typed pod spec: containers, init containers, probes, environment, resources,
//! security contexts and volumes (the fields openim-init sets, as the API names them).

use std::rc::Rc;

use indexmap::IndexMap;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

/// `spec:` of a pod template.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// Seconds between SIGTERM and SIGKILL (`stop_timeout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<u64>,
    /// Waits for dependencies, in order, before the main container starts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<InitContainer>,
    /// The one main container.
    pub containers: Vec<Container>,
    /// Host paths, claims and scratch directories the containers mount.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// `false` when sandboxed: no Kubernetes API token in the containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// Non-root and the runtime's seccomp profile, for every container (sandboxed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
}

/// A pod's `securityContext:`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    /// The kubelet refuses to start any container as root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    /// `RuntimeDefault`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
}

/// `seccompProfile: {type: …}`.
#[derive(Debug, Clone, Serialize)]
pub struct SeccompProfile {
    /// `RuntimeDefault`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `capabilities: {drop: [ALL], add: […]}`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Capabilities {
    /// Capabilities kept (`NET_BIND_SERVICE`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    /// `ALL`.
    pub drop: &'static [&'static str],
}

/// `emptyDir: {}`: a scratch directory that lives as long as the pod.
#[derive(Debug, Clone, Serialize)]
pub struct EmptyDir {}

/// A wait of an init container: the same in every pod that waits for the same thing, so
/// made once and shared (see [`super::wait`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wait {
    /// A DNS-1123 label.
    pub name: String,
    /// The image.
    pub image: String,
    /// The argv (`sh -c LINE`).
    pub command: Vec<String>,
}

/// An init container: a shared [`Wait`] and the pod's own security context for it, written
/// as a [`Container`] with just these fields.
#[derive(Debug, Clone)]
pub struct InitContainer {
    /// What it runs.
    pub wait: Rc<Wait>,
    /// User, non-root (sandboxed).
    pub security_context: Option<SecurityContext>,
}

impl Serialize for InitContainer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = &*self.wait;
        let mut m = s.serialize_struct("Container", 4)?;
        m.serialize_field("name", &w.name)?;
        m.serialize_field("image", &w.image)?;
        if !w.command.is_empty() {
            m.serialize_field("command", &w.command)?;
        }
        if let Some(sc) = &self.security_context {
            m.serialize_field("securityContext", sc)?;
        }
        m.end()
    }
}

/// One container.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// A DNS-1123 label.
    pub name: String,
    /// The image.
    pub image: String,
    /// The argv's first word (overrides the image's entrypoint); absent: the image's own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The rest of the argv.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Environment, in order (a value may refer to an earlier one as `$(NAME)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Declared TCP ports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Holds liveness and readiness back until the start window has passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    /// Takes the pod out of its Service while it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Restarts the container when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Memory and CPU limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// User, group, non-root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    /// Mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

/// One environment variable: a value, or (for the instance index) a field of the pod.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// The name.
    pub name: String,
    /// A literal value (with Kubernetes' `$(` escaping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A value from the downward API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvSource>,
}

/// `valueFrom:`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvSource {
    /// `fieldRef: {fieldPath: …}`.
    pub field_ref: FieldRef,
}

/// `fieldRef:`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    /// e.g. `metadata.labels['apps.kubernetes.io/pod-index']`.
    pub field_path: String,
}

/// `ports:` entry of a container.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// `tcp-PORT` (Service ports refer to it).
    pub name: String,
    /// The port.
    pub container_port: u16,
    /// `TCP`.
    pub protocol: &'static str,
}

/// A probe: one handler and its timing.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// A TCP connect to the pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocket>,
    /// An HTTP GET to the pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGet>,
    /// A command in the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<Exec>,
    /// Seconds between probes.
    pub period_seconds: u32,
    /// Seconds one probe may take.
    pub timeout_seconds: u32,
    /// Failures in a row before it counts.
    pub failure_threshold: u32,
}

/// `tcpSocket:`.
#[derive(Debug, Clone, Serialize)]
pub struct TcpSocket {
    /// The port (on the pod's address).
    pub port: u16,
}

/// `httpGet:`.
#[derive(Debug, Clone, Serialize)]
pub struct HttpGet {
    /// The path and query.
    pub path: String,
    /// The port.
    pub port: u16,
    /// `HTTP` or `HTTPS`.
    pub scheme: &'static str,
}

/// `exec:`.
#[derive(Debug, Clone, Serialize)]
pub struct Exec {
    /// The argv.
    pub command: Vec<String>,
}

/// `resources: {limits: …}`.
#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    /// `memory` and `cpu` quantities.
    pub limits: IndexMap<&'static str, String>,
}

/// A container's `securityContext:`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    /// The kubelet refuses to start the container as root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    /// A numeric user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<u64>,
    /// A numeric group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<u64>,
    /// `false`: setuid binaries cannot gain privileges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    /// Every capability dropped but the listed ones (sandboxed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// A read-only root file system (`strict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
}

/// `volumeMounts:` entry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// The pod volume's name.
    pub name: String,
    /// Where in the container.
    pub mount_path: String,
    /// Read-only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// `volumes:` entry of a pod: a host path or a claim.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// The name mounts refer to.
    pub name: String,
    /// A directory of the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPath>,
    /// A claim of the stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimRef>,
    /// A scratch directory (`strict`: /tmp and the writable paths).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
}

/// `hostPath: {path: …}`.
#[derive(Debug, Clone, Serialize)]
pub struct HostPath {
    /// The node's path.
    pub path: String,
}

/// `persistentVolumeClaim: {claimName: …}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRef {
    /// The claim.
    pub claim_name: String,
}
