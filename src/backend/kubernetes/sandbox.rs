//! The sandbox of a service's pod, after the restricted Pod Security Standard: the pod runs
//! as non-root under the runtime's seccomp profile, without a service account token; every
//! container (init containers too) cannot escalate privileges and drops every capability
//! (the main one keeps `capabilities`; the restricted profile allows only
//! `NET_BIND_SERVICE`, others are kept and reported). `strict` also makes every root file
//! system read-only, with an `emptyDir` for /tmp and one for each writable path no writable
//! volume covers (it lives as long as the pod).

use super::pod::{
    Capabilities, EmptyDir, PodSecurityContext, PodSpec, SeccompProfile, SecurityContext, Volume,
    VolumeMount,
};
use crate::backend::capability::Findings;
use crate::backend::capability::{Feature, Warning};
use crate::model::{SandboxLevel, Service};

/// The only capability the restricted profile lets a container add.
pub const RESTRICTED_ADD: &str = "NET_BIND_SERVICE";

/// The user init containers run as when the service names no numeric one (`nobody`).
pub const INIT_USER: u64 = 65534;

/// Whether `path` is `dir` or lies beneath it.
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Confine the pod `spec` of service `svc` (its main container is `spec.containers[0]`);
/// what the restricted profile does not allow is pushed to `found`.
pub fn confine(svc: &Service, spec: &mut PodSpec, found: &mut Findings) {
    let sandbox = &svc.sandbox;
    if sandbox.level == SandboxLevel::Off {
        return;
    }
    let strict = sandbox.level == SandboxLevel::Strict;
    // a service of the stack never talks to the Kubernetes API
    spec.automount_service_account_token = Some(false);
    spec.security_context = Some(PodSecurityContext {
        run_as_non_root: Some(true),
        seccomp_profile: Some(SeccompProfile {
            kind: "RuntimeDefault",
        }),
    });
    let add: Vec<String> = sandbox
        .capabilities
        .iter()
        .map(|c| c.trim_start_matches("CAP_").to_owned())
        .collect();
    let beyond: Vec<&str> = add
        .iter()
        .map(String::as_str)
        .filter(|c| *c != RESTRICTED_ADD)
        .collect();
    if !beyond.is_empty() {
        found.push(detail(format!(
                "capabilities {} are kept, and the restricted Pod Security Standard allows adding only {RESTRICTED_ADD}: the pod meets a weaker profile",
                beyond.join(", ")
            ),
        ));
    }
    let main_user = spec
        .containers
        .first()
        .and_then(|c| c.security_context.as_ref())
        .and_then(|sc| sc.run_as_user);
    if svc.user.is_none() {
        found.push(detail(
            "no `user`: runAsNonRoot needs the image's USER to be a numeric id other than 0, or the kubelet refuses to start it".to_owned(),
        ));
    }
    if main_user == Some(0) {
        found.push(detail(
            "user root: runAsNonRoot makes the kubelet refuse to start it; set a numeric user other than 0 or sandbox = \"off\"".to_owned(),
        ));
    }
    for (i, c) in spec.containers.iter_mut().enumerate() {
        let sc = c
            .security_context
            .get_or_insert_with(SecurityContext::default);
        restrict(sc, if i == 0 { add.clone() } else { Vec::new() }, strict);
    }
    for c in &mut spec.init_containers {
        let sc = c
            .security_context
            .get_or_insert_with(SecurityContext::default);
        sc.run_as_user = Some(main_user.filter(|&u| u != 0).unwrap_or(INIT_USER));
        restrict(sc, Vec::new(), strict);
    }
    if strict {
        scratch(svc, spec);
    }
}

fn restrict(sc: &mut SecurityContext, add: Vec<String>, strict: bool) {
    sc.allow_privilege_escalation = Some(false);
    sc.capabilities = Some(Capabilities {
        add,
        drop: &["ALL"],
    });
    if strict {
        sc.read_only_root_filesystem = Some(true);
    }
}

/// `emptyDir`s for /tmp and the writable paths no writable mount of the main container
/// covers, mounted there.
fn scratch(svc: &Service, spec: &mut PodSpec) {
    let Some(main) = spec.containers.first_mut() else {
        return;
    };
    let mut paths: Vec<&str> = Vec::new();
    for p in std::iter::once("/tmp").chain(svc.sandbox.writable_paths.iter().map(String::as_str)) {
        let covered = main
            .volume_mounts
            .iter()
            .any(|m| !m.read_only && under(p, &m.mount_path))
            || paths.iter().any(|d| under(p, d));
        if !covered {
            paths.push(p);
        }
    }
    for (i, path) in paths.into_iter().enumerate() {
        let name = if i == 0 {
            "sandbox-tmp".to_owned()
        } else {
            format!("sandbox-writable-{i}")
        };
        main.volume_mounts.push(VolumeMount {
            name: name.clone(),
            mount_path: path.to_owned(),
            read_only: false,
        });
        spec.volumes.push(Volume {
            name,
            host_path: None,
            persistent_volume_claim: None,
            empty_dir: Some(EmptyDir {}),
        });
    }
}

/// A detail of the sandbox of a sandboxed service. It names no service: the sandbox's own
/// warning, which it is merged into, names every sandboxed service, as Kubernetes emulates
/// the sandbox (a name each, of every service, was held through the render: 260 KB at
/// 10,000).
fn detail(message: String) -> Warning {
    Warning {
        backend: super::NAME,
        feature: Feature::Sandbox,
        services: Vec::new().into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::capability::{Feature, Support};
    use crate::backend::kit::{Backend as _, RenderContext};
    use crate::backend::{BackendKind, Flags, render_embedded, templates};
    use crate::model::Model;

    #[test]
    fn a_sandbox_detail_names_no_service_and_its_warning_names_each_sandboxed_one() {
        let toml = "name = \"s\"\n[defaults.container]\nimage = \"i\"\n\
            [services.a]\ncommand = [\"/x\"]\n[services.b]\ncommand = [\"/x\"]\n\
            [services.c]\ncommand = [\"/x\"]\nsandbox = \"off\"\n";
        let model = Model::from_toml("t.toml", toml).expect("valid");
        let kubernetes = super::super::Kubernetes;
        assert!(matches!(
            kubernetes.support(Feature::Sandbox),
            Support::Emulated(_)
        ));
        let templates = templates(&std::collections::BTreeMap::new()).expect("templates");
        let flags = Flags::default();
        let found = kubernetes
            .render(&model, &RenderContext::new(&templates, &flags))
            .expect("renders")
            .warnings;
        let details: Vec<_> = found
            .iter()
            .filter(|w| w.feature == Feature::Sandbox)
            .collect();
        assert_eq!(details.len(), 1, "{found:?}");
        assert!(details[0].message.starts_with("no `user`"), "{found:?}");
        assert!(details[0].services.is_empty(), "{found:?}");
        let all = render_embedded(BackendKind::Kubernetes, &model, &flags).expect("renders");
        let sandbox = all.warnings.iter().find(|w| w.feature == Feature::Sandbox);
        let sandbox = sandbox.expect("a sandbox warning");
        assert!(
            sandbox.message.contains("; no `user`"),
            "{}",
            sandbox.message
        );
        let names: Vec<&str> = sandbox.services.iter().map(|s| &**s).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
