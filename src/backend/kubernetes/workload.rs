//! One planned workload → its Deployment or `StatefulSet` and its Service.

use std::borrow::Cow;

use super::expand::{Instance, POD_INDEX, with_instance};
use super::names;
use super::objects::{
    APPS_V1, Meta, Selector, Service, ServicePort, ServiceSpec, Strategy, Template, V1, Workload,
    WorkloadSpec,
};
use super::plan::{Kind, Planned};
use super::pod::{
    ClaimRef, Container, ContainerPort, EnvSource, EnvVar, FieldRef, HostPath, InitContainer,
    PodSpec, Volume, VolumeMount,
};

/// The pod-index label the `StatefulSet` controller sets (Kubernetes 1.28+).
pub const POD_INDEX_FIELD: &str = "metadata.labels['apps.kubernetes.io/pod-index']";

/// Who a workload belongs to.
pub struct Owner<'a> {
    /// The stack's name.
    pub stack: &'a str,
    /// The manifest's service or external name.
    pub service: &'a str,
    /// How many pods (a `StatefulSet`'s instances).
    pub replicas: u32,
}

/// The pod of a workload: init containers, the main one, its volumes and grace period.
pub struct Pod<'a> {
    /// Waits, in order.
    pub init: Vec<InitContainer>,
    /// The process.
    pub main: Container,
    /// The volumes `main` mounts (see [`mounts`]).
    pub volumes: &'a [crate::model::Volume],
    /// `terminationGracePeriodSeconds`.
    pub grace: Option<u64>,
}

/// The workload of `p` running `pod` for `owner`.
#[must_use]
pub fn workload<'a>(owner: &Owner<'a>, p: &Planned<'a>, pod: Pod<'_>) -> Workload<'a> {
    let stack = names::stack_label(owner.stack);
    let labels = names::labels(stack, names::dns_cow(owner.service), p.name);
    let instance = match p.instance {
        Instance::Named(i) => Some(i),
        Instance::None | Instance::Index => None,
    };
    let annotations = names::annotations(owner.service, instance);
    let volumes = pod_volumes(pod.volumes);
    let stateful = p.kind == Kind::StatefulSet;
    let claims = volumes.iter().any(|v| v.persistent_volume_claim.is_some());
    Workload {
        api_version: APPS_V1,
        kind: if stateful {
            "StatefulSet"
        } else {
            "Deployment"
        },
        metadata: Meta {
            name: Some(p.name.into()),
            labels: labels.clone(),
            annotations: annotations.clone(),
        },
        spec: WorkloadSpec {
            replicas: owner.replicas,
            service_name: stateful.then(|| p.name.into()),
            pod_management_policy: stateful.then_some("Parallel"),
            // a claim is ReadWriteOnce: the old pod lets go before the new one mounts it
            strategy: (!stateful && claims).then_some(Strategy { kind: "Recreate" }),
            selector: Selector {
                match_labels: names::selector(stack, p.name),
            },
            template: Template {
                metadata: Meta {
                    name: None,
                    labels,
                    annotations,
                },
                spec: PodSpec {
                    termination_grace_period_seconds: pod.grace,
                    init_containers: pod.init,
                    containers: vec![pod.main],
                    volumes,
                    automount_service_account_token: None,
                    security_context: None,
                },
            },
        },
    }
}

/// The Service of `p`: a `ClusterIP` with its ports, or for a `StatefulSet` the headless
/// Service that names its pods. `None` for a Deployment without ports.
#[must_use]
pub fn service<'a>(owner: &Owner<'a>, p: &Planned<'a>) -> Option<Service<'a>> {
    let stateful = p.kind == Kind::StatefulSet;
    if p.ports.is_empty() && !stateful {
        return None;
    }
    let stack = names::stack_label(owner.stack);
    Some(Service {
        api_version: V1,
        kind: "Service",
        metadata: Meta {
            name: Some(p.name.into()),
            labels: names::labels(stack, names::dns_cow(owner.service), p.name),
            annotations: names::Labels::default(),
        },
        spec: ServiceSpec {
            cluster_ip: stateful.then_some("None"),
            selector: names::selector(stack, p.name),
            ports: p
                .ports
                .iter()
                .map(|&port| ServicePort {
                    name: port_name(port),
                    protocol: "TCP",
                    port,
                    target_port: port,
                })
                .collect(),
        },
    })
}

/// `tcp-PORT`: the name of a container port and of the Service port for it.
#[must_use]
pub fn port_name(port: u16) -> String {
    format!("tcp-{port}")
}

/// The container ports of `p`.
#[must_use]
pub fn container_ports(p: &Planned<'_>) -> Vec<ContainerPort> {
    p.ports
        .iter()
        .map(|&port| ContainerPort {
            name: port_name(port),
            container_port: port,
            protocol: "TCP",
        })
        .collect()
}

/// The environment: `POD_INDEX` first in a `StatefulSet` (later values may refer to it), then
/// `vars` with `{instance}` resolved and Kubernetes' `$(` escaped.
#[must_use]
pub fn env(vars: &[(&str, Cow<'_, str>)], instance: Instance<'_>) -> Vec<EnvVar> {
    let mut out = Vec::with_capacity(vars.len() + 1);
    if instance == Instance::Index {
        out.push(EnvVar {
            name: POD_INDEX.to_owned(),
            value: None,
            value_from: Some(EnvSource {
                field_ref: FieldRef {
                    field_path: POD_INDEX_FIELD.to_owned(),
                },
            }),
        });
    }
    out.extend(vars.iter().map(|(k, v)| EnvVar {
        name: (*k).to_owned(),
        value: Some(with_instance(v, instance)),
        value_from: None,
    }));
    out
}

/// The mounts of a container: a host path as `host-N`, a named volume as its claim's name.
#[must_use]
pub fn mounts(volumes: &[crate::model::Volume]) -> Vec<VolumeMount> {
    volumes
        .iter()
        .enumerate()
        .map(|(i, v)| VolumeMount {
            name: if v.is_host_path() {
                format!("host-{i}")
            } else {
                claim_name(&v.source)
            },
            mount_path: v.target.clone(),
            read_only: v.read_only,
        })
        .collect()
}

/// The claim of a named volume.
#[must_use]
pub fn claim_name(source: &str) -> String {
    names::dns(source)
}

/// The pod volumes behind [`mounts`]: host paths, and one claim per named volume.
fn pod_volumes(volumes: &[crate::model::Volume]) -> Vec<Volume> {
    let mut out: Vec<Volume> = Vec::new();
    for (m, v) in mounts(volumes).into_iter().zip(volumes) {
        if out.iter().any(|x| x.name == m.name) {
            continue;
        }
        out.push(if v.is_host_path() {
            Volume {
                name: m.name,
                host_path: Some(HostPath {
                    path: v.source.clone(),
                }),
                persistent_volume_claim: None,
                empty_dir: None,
            }
        } else {
            Volume {
                persistent_volume_claim: Some(ClaimRef {
                    claim_name: m.name.clone(),
                }),
                name: m.name,
                host_path: None,
                empty_dir: None,
            }
        });
    }
    out
}
