//! Kubernetes: a directory of manifests and a `kustomization.yaml` (`kubectl apply -k DIR`).
//! Per service a Deployment, a `StatefulSet` for instances `0..N-1` (`{instance}` from the
//! pod-index label, Kubernetes 1.28+), or a Deployment per named instance; per external with
//! a container image a Deployment; each with a Service for its ports. Dependencies become
//! init containers that wait for the dependency's Service (or the external's address);
//! health becomes startup, readiness and liveness probes. The objects are typed serde
//! structs of our own ([`objects`], [`pod`]) written by [`crate::escape::yaml`]; every
//! string Kubernetes expands (`command`, `args`, env values, exec probes) is `$(`-escaped
//! ([`expand`]).

pub mod claims;
pub mod container;
pub mod expand;
pub mod names;
pub mod objects;
pub mod peers;
pub mod plan;
pub mod pod;
pub mod probe;
pub mod sandbox;
pub mod semantic;
mod text;
pub mod verify;
pub mod wait;
pub mod workload;

use std::path::Path;
use std::sync::LazyLock;

use indexmap::IndexMap;

use super::capability::Findings;
use super::capability::{Feature, Support};
use super::data::BackendData;
use super::kit::{Artifact, Backend, RenderContext, Rendered, Report, Unit, UnitKind};
use crate::errors::{Refusal, Result};
use crate::model::Model;
use claims::{add_claims, claim};
use objects::Claim;
use peers::Peers;
use plan::{Kind, Plan};
use text::{documents, file, header, kustomization};
use workload::{Owner, Pod};

/// The Kubernetes backend.
pub struct Kubernetes;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/kubernetes.toml")));

/// The command-line name.
pub const NAME: &str = "kubernetes";

/// `--init-image`: the image of the init containers that wait for dependencies.
pub const INIT_IMAGE: &str = "init-image";

/// The default init image: busybox has `sh`, `nc`, `wget` and `timeout`.
pub const DEFAULT_INIT_IMAGE: &str = "busybox:1.36";

/// The kustomization file.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// The file of the claims for named volumes.
pub const VOLUMES: &str = "volumes.yaml";

/// The size each named volume's claim asks for.
pub const CLAIM_SIZE: &str = "1Gi";

impl Backend for Kubernetes {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "Kubernetes: a kustomization of Deployments/StatefulSets and Services, probes, init containers for dependencies"
    }

    fn flags(&self) -> &'static [&'static str] {
        &[INIT_IMAGE]
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::StopTimeout
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::MemoryMax
            | Feature::CpuQuota
            | Feature::Health
            | Feature::Instances => Support::Native,
            Feature::Restart => Support::Unsupported(
                "Deployments and StatefulSets only take restartPolicy: Always: the container is restarted after every exit",
            ),
            Feature::RestartDelay => Support::Unsupported(
                "the kubelet restarts after its own back-off (10s, doubling up to 5min)",
            ),
            Feature::StartLimit => Support::Unsupported(
                "the kubelet keeps restarting, with back-off (CrashLoopBackOff)",
            ),
            Feature::StopSignal => Support::Unsupported(
                "the kubelet sends the image's STOPSIGNAL (SIGTERM by default); a stop signal per container needs the alpha ContainerStopSignals feature (1.33)",
            ),
            Feature::SuccessExitCodes => {
                Support::Unsupported("every exit restarts the container, listed codes included")
            }
            Feature::EnvironmentFile => Support::Emulated(
                "the sh wrapper reads the file inside the container: mount it there (from a ConfigMap or Secret); the image needs /bin/sh",
            ),
            Feature::ProcessLimits => Support::Unsupported(
                "Kubernetes has no per-container ulimits: the container runtime's defaults apply (set them in its configuration)",
            ),
            Feature::LogFiles => Support::Unsupported(
                "output goes to the container log (`kubectl logs`); mount a volume and have the process write files to keep them",
            ),
            Feature::Requires => Support::Emulated(
                "an init container (--init-image) polls the dependency's Service until it answers, failing after the dependency's readiness budget (the kubelet then retries it with back-off, so the pod keeps waiting)",
            ),
            Feature::Wants => Support::Emulated(
                "an init container polls the dependency's Service up to its readiness budget, then the pod starts anyway",
            ),
            Feature::Ordering => Support::Emulated(
                "an init container polls the earlier service's Service up to its readiness budget, then the pod starts anyway",
            ),
            Feature::ExternalGate => Support::Emulated(
                "an external with container.image runs as its own Deployment and Service, and an init container waits for that Service; without one the init container polls its check (tcp/http from --init-image, exec from the service's image)",
            ),
            Feature::PreStart => Support::Emulated(
                "the sh wrapper runs each command inside the container before exec (the image needs /bin/sh)",
            ),
            Feature::NamedInstances => Support::Emulated(
                "one Deployment NAME-INSTANCE per instance, {instance} substituted at generation time",
            ),
            Feature::Groups => Support::Unsupported(
                "no groups: the kustomization is the stack; select a group's workloads by name",
            ),
            Feature::Sandbox => Support::Emulated(
                "restricted Pod Security Standard: runAsNonRoot, seccomp RuntimeDefault, no privilege escalation, capabilities drop ALL (+ `capabilities`); strict: readOnlyRootFilesystem, emptyDir for /tmp and each uncovered writable path; no file-system or system-call rules of its own",
            ),
        }
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let init_image = init_image(ctx.flags.value(INIT_IMAGE))?;
        let plan = Plan::new(model)?;
        let mut acc = Acc {
            peers: Peers::new(&plan),
            ..Acc::default()
        };
        externals(model, &plan, ctx, &mut acc)?;
        services(model, &plan, &init_image, ctx, &mut acc)?;
        let claims = !acc.claims.is_empty();
        if claims {
            let docs: Vec<Claim> = acc.claims.keys().map(|n| claim(&model.name, n)).collect();
            let mut text = header();
            documents(&mut text, &docs)?;
            acc.emit(ctx, VOLUMES.to_owned(), text)?;
        }
        kustomization(&plan, claims, ctx, &mut acc.out)?;
        let mut out = Rendered {
            units: acc.units,
            notes: notes(model, claims, &acc.peers),
            ..acc.out
        };
        for w in acc.peers.ambiguous {
            acc.found.push(w);
        }
        out.warnings = acc.found.into_warnings();
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

/// What rendering collects: claims (name → volume), units, findings, and the loopback
/// addresses rewritten.
#[derive(Default)]
struct Acc<'p> {
    /// Where the text of each workload's file is made (see [`file`]).
    scratch: String,
    /// The artifacts, when the context has no sink.
    out: Rendered,
    /// The wait containers made so far.
    waits: wait::Waits,
    claims: IndexMap<String, String>,
    units: Vec<Unit>,
    found: Findings,
    peers: Peers<'p>,
}

impl Acc<'_> {
    /// Emit file `path` with `text`.
    fn emit(&mut self, ctx: &RenderContext<'_>, path: String, mut text: String) -> Result<()> {
        // a held artifact keeps its capacity: no more than its text
        text.shrink_to_fit();
        ctx.emit(&mut self.out, Artifact::file(path, DATA.file_mode, text))
    }
}

/// A Deployment and Service per external that has a container.
fn externals(
    model: &Model,
    plan: &Plan<'_>,
    ctx: &RenderContext<'_>,
    acc: &mut Acc<'_>,
) -> Result<()> {
    for (e, ext) in model.externals.iter().enumerate() {
        let (Some(p), Some(c)) = (plan.external(e), &ext.container) else {
            continue;
        };
        let owner = Owner {
            stack: &model.name,
            service: &ext.name,
            replicas: 1,
        };
        let pod = Pod {
            init: Vec::new(),
            main: container::external(ext, c, &p, &mut acc.peers),
            volumes: &c.volumes,
            grace: None,
        };
        add_claims(
            &mut acc.claims,
            &format!("external.{}", ext.name),
            &c.volumes,
        )?;
        let text = file(
            &mut acc.scratch,
            &workload::workload(&owner, &p, pod),
            workload::service(&owner, &p),
        )?;
        acc.emit(ctx, format!("{}.yaml", p.name), text)?;
        if ctx.units {
            acc.units.push(Unit::grouping(
                p.name.to_owned(),
                &ext.name,
                UnitKind::Process,
            ));
        }
    }
    Ok(())
}

/// The workloads (and Services) of every service, and a unit per process.
fn services(
    model: &Model,
    plan: &Plan<'_>,
    init_image: &str,
    ctx: &RenderContext<'_>,
    acc: &mut Acc<'_>,
) -> Result<()> {
    for (s, svc) in model.services.iter().enumerate() {
        let field = format!("services.{}", svc.name);
        add_claims(&mut acc.claims, &field, &svc.container.volumes)?;
        let mut init =
            wait::init_containers(model, plan, s, init_image, &mut acc.waits, &mut acc.found);
        let planned = plan.service(s);
        let count = planned.len();
        for (n, p) in planned.enumerate() {
            let replicas = match p.kind {
                Kind::StatefulSet => svc.instances.as_deref().map_or(1, <[String]>::len),
                Kind::Deployment => 1,
            };
            let owner = Owner {
                stack: &model.name,
                service: &svc.name,
                replicas: u32::try_from(replicas).unwrap_or(u32::MAX),
            };
            let pod = Pod {
                // the last workload takes them, the others copy (the waits are shared)
                init: if n + 1 == count {
                    std::mem::take(&mut init)
                } else {
                    init.clone()
                },
                main: container::service(svc, &p, &mut acc.peers, &mut acc.found)?,
                volumes: &svc.container.volumes,
                grace: Some(svc.stop_timeout.secs_ceil()),
            };
            let mut w = workload::workload(&owner, &p, pod);
            sandbox::confine(svc, &mut w.spec.template.spec, &mut acc.found);
            let text = file(&mut acc.scratch, &w, workload::service(&owner, &p))?;
            acc.emit(ctx, format!("{}.yaml", p.name), text)?;
        }
        if ctx.units {
            for proc in model.view.processes_of(s) {
                acc.units
                    .push(Unit::process(model, proc, unit_name(plan, s, proc)));
            }
        }
    }
    Ok(())
}

/// A process's runtime name (of service `s`): its Deployment, or a `StatefulSet`'s pod
/// `NAME-INDEX`.
fn unit_name(plan: &Plan<'_>, s: usize, proc: &crate::model::Process) -> String {
    let mut planned = plan.service(s);
    if planned.len() == 1
        && let Some(p) = planned.next()
    {
        return match &proc.instance {
            Some(i) if p.kind == Kind::StatefulSet => format!("{}-{i}", p.name),
            _ => p.name.to_owned(),
        };
    }
    match &proc.instance {
        Some(i) => planned
            .find(|p| p.instance == expand::Instance::Named(i))
            .map_or_else(|| i.clone(), |p| p.name.to_owned()),
        None => String::new(),
    }
}

/// The init image: `--init-image`, or [`DEFAULT_INIT_IMAGE`].
fn init_image(flag: Option<&str>) -> Result<String> {
    match flag {
        None => Ok(DEFAULT_INIT_IMAGE.to_owned()),
        Some(i) if !i.is_empty() && !i.contains(|c: char| c.is_whitespace() || c.is_control()) => {
            Ok(i.to_owned())
        }
        Some(i) => Err(Refusal::new(
            format!("--{INIT_IMAGE}"),
            format!("`{}` is not an image reference", i.escape_debug()),
        )
        .hint(format!(
            "e.g. --{INIT_IMAGE} {DEFAULT_INIT_IMAGE} (it needs sh, nc, wget and timeout)"
        ))
        .into()),
    }
}

fn notes(model: &Model, claims: bool, peers: &Peers<'_>) -> Vec<String> {
    let dir = &DATA.install.system;
    let mut notes = DATA.notes(&model.name, None);
    notes.push(format!(
        "apply the stack: `kubectl apply -k {dir}`, remove it: `kubectl delete -k {dir}` (StatefulSets take {{instance}} from the pod-index label: Kubernetes 1.28 or later)"
    ));
    notes.push(
        "every pod has its own address: health checks are probed on the pod's address (the process must listen on all addresses, not 127.0.0.1: `{bind}` in a container table is 0.0.0.0 here), and peers are reached by their Service name (e.g. `redis:16379`), not 127.0.0.1"
            .to_owned(),
    );
    notes.extend(peers.note());
    if claims {
        notes.push(format!(
            "each named volume is a {CLAIM_SIZE} ReadWriteOnce claim in {VOLUMES}: set its size and storage class there or with a kustomize patch"
        ));
    }
    notes
}
