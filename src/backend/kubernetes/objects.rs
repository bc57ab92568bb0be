//! The typed Kubernetes objects openim-init writes (the fields it sets of `apps/v1`
//! Deployment and `StatefulSet`, `v1` Service and `PersistentVolumeClaim`, and the kustomize
//! Kustomization), in the order keys are written. Field names follow the API reference;
//! `kubernetes-validate --strict` checks them against the official schemas. The pod parts
//! are in [`super::pod`]. Every string is already `$(`-escaped where Kubernetes expands it.

use std::borrow::Cow;

use indexmap::IndexMap;
use serde::Serialize;

use super::names::Labels;
use super::pod::PodSpec;

/// `metadata:` of an object or a pod template.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Meta<'a> {
    /// The object's name (absent in a pod template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// Labels (selectors match these).
    pub labels: Labels<'a>,
    /// Annotations: the manifest's own names, which need not be valid label values.
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub annotations: Labels<'a>,
}

/// `apps/v1` Deployment or `StatefulSet`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload<'a> {
    /// `apps/v1`.
    pub api_version: &'static str,
    /// `Deployment` or `StatefulSet`.
    pub kind: &'static str,
    /// Name and labels.
    pub metadata: Meta<'a>,
    /// The spec.
    pub spec: WorkloadSpec<'a>,
}

/// The spec of a Deployment or a `StatefulSet` (the `StatefulSet`-only fields are absent in a
/// Deployment, `strategy` in a `StatefulSet`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec<'a> {
    /// Pods (instances).
    pub replicas: u32,
    /// `StatefulSet`: the headless Service that gives the pods their names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<Cow<'a, str>>,
    /// `StatefulSet`: `Parallel` (instances do not wait for each other).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_management_policy: Option<&'static str>,
    /// Deployment: `Recreate` when the pod mounts a claim (one writer at a time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Which pods belong to it.
    pub selector: Selector<'a>,
    /// The pod template.
    pub template: Template<'a>,
}

/// `strategy: {type: …}`.
#[derive(Debug, Serialize)]
pub struct Strategy {
    /// `Recreate` or `RollingUpdate`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `selector: {matchLabels: …}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector<'a> {
    /// Labels every selected pod carries.
    pub match_labels: Labels<'a>,
}

/// `template:` — a pod's metadata and spec.
#[derive(Debug, Serialize)]
pub struct Template<'a> {
    /// Labels (a superset of the selector).
    pub metadata: Meta<'a>,
    /// The pod.
    pub spec: PodSpec,
}

/// `v1` Service.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service<'a> {
    /// `v1`.
    pub api_version: &'static str,
    /// `Service`.
    pub kind: &'static str,
    /// Name and labels.
    pub metadata: Meta<'a>,
    /// The spec.
    pub spec: ServiceSpec<'a>,
}

/// A Service's spec.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec<'a> {
    /// `None` for the headless Service of a `StatefulSet`.
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<&'static str>,
    /// The pods it routes to.
    pub selector: Labels<'a>,
    /// One per declared container port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
}

/// One port of a Service.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// `tcp-PORT`.
    pub name: String,
    /// `TCP`.
    pub protocol: &'static str,
    /// The Service's port (the container's).
    pub port: u16,
    /// The container port.
    pub target_port: u16,
}

/// `v1` `PersistentVolumeClaim`: a named volume of the manifest.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim<'a> {
    /// `v1`.
    pub api_version: &'static str,
    /// `PersistentVolumeClaim`.
    pub kind: &'static str,
    /// Name and labels.
    pub metadata: Meta<'a>,
    /// The spec.
    pub spec: ClaimSpec,
}

/// A claim's spec.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSpec {
    /// `ReadWriteOnce`.
    pub access_modes: Vec<&'static str>,
    /// The requested size.
    pub resources: ClaimResources,
}

/// `resources: {requests: {storage: …}}`.
#[derive(Debug, Serialize)]
pub struct ClaimResources {
    /// `storage`.
    pub requests: IndexMap<&'static str, String>,
}

/// `kustomization.yaml`: the files of the stack, and the labels every object carries.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    /// `kustomize.config.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// `Kustomization`.
    pub kind: &'static str,
    /// The object files, in order.
    pub resources: FileList,
}

/// File names, in order, in one text (a `String` each and a growing list of them took
/// 900 KB at 10,000 files); serialized as a sequence.
#[derive(Debug, Default)]
pub struct FileList {
    /// Each name followed by a newline (no name holds one: they are DNS names).
    text: String,
}

impl FileList {
    /// Add `name` (without a newline) at the end.
    pub fn push(&mut self, name: &str) {
        debug_assert!(!name.contains('\n'), "a file name holds no newline");
        self.text.push_str(name);
        self.text.push('\n');
    }
}

impl Serialize for FileList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.text.lines())
    }
}

/// `apps/v1`.
pub const APPS_V1: &str = "apps/v1";
/// `v1`.
pub const V1: &str = "v1";

#[cfg(test)]
mod tests {
    use super::FileList;

    #[test]
    fn a_file_list_is_a_sequence_of_its_names_in_order() {
        let mut files = FileList::default();
        assert_eq!(serde_json::to_string(&files).expect("json"), "[]");
        for name in ["b.yaml", "a.yaml", "volumes.yaml"] {
            files.push(name);
        }
        let json = serde_json::to_string(&files).expect("json");
        assert_eq!(json, r#"["b.yaml","a.yaml","volumes.yaml"]"#);
    }
}
