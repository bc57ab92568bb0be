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

/// The head of `kustomization.yaml`: its `resources:` (the files of the stack) follow, a
/// file at a time ([`push_resource`]), so that a large list is never held whole.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    /// `kustomize.config.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// `Kustomization`.
    pub kind: &'static str,
}

/// The key of a kustomization's files, after its head (the list is never empty: a stack
/// has a service).
pub const RESOURCES: &str = "resources:\n";

/// Append `file` to the `resources:` of a kustomization: what the YAML writer writes for a
/// string item of a sequence under a top-level key.
pub fn push_resource(out: &mut String, file: &str) {
    out.push_str("  - ");
    crate::escape::yaml::push_quote(out, file);
    out.push('\n');
}

/// `apps/v1`.
pub const APPS_V1: &str = "apps/v1";
/// `v1`.
pub const V1: &str = "v1";

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::{Kustomization, RESOURCES, push_resource};
    use crate::escape::yaml;

    #[test]
    fn a_kustomization_written_a_file_at_a_time_is_the_whole_documents_text() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Whole<'a> {
            api_version: &'static str,
            kind: &'static str,
            resources: &'a [&'a str],
        }
        let (api_version, kind) = ("kustomize.config.k8s.io/v1beta1", "Kustomization");
        for files in [&["a.yaml"][..], &["b.yaml", "a-1.yaml", "volumes.yaml"]] {
            let mut text = yaml::to_string(&Kustomization { api_version, kind }).expect("yaml");
            text.push_str(RESOURCES);
            for f in files {
                push_resource(&mut text, f);
            }
            let whole = Whole {
                api_version,
                kind,
                resources: files,
            };
            assert_eq!(text, yaml::to_string(&whole).expect("yaml"));
        }
    }
}
