//! Every pod of the built-in manifest's Kubernetes output, checked against the restricted
//! Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards; the
//! restricted profile includes the baseline one). Externals run third-party images the
//! manifest does not sandbox, and are left out.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{Cli, root};

/// Volume types the restricted profile allows.
const VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Capabilities the baseline profile allows adding (the restricted one: `NET_BIND_SERVICE`).
const RESTRICTED_ADD: &[&str] = &["NET_BIND_SERVICE"];

/// The restricted profile's violations of pod `spec`, one line each.
fn violations(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let pod_sc = &spec["securityContext"];
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[key] == Value::Bool(true) {
            out.push(format!("{key} is true"));
        }
    }
    for v in spec["volumes"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_default();
        let kinds: Vec<&String> = v
            .as_object()
            .expect("volume")
            .keys()
            .filter(|k| *k != "name")
            .collect();
        for k in kinds {
            if !VOLUME_TYPES.contains(&k.as_str()) {
                out.push(format!("volume {name}: type {k}"));
            }
        }
    }
    let seccomp_ok = |sc: &Value| {
        matches!(
            sc["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    if pod_sc["seccompProfile"]["type"] == "Unconfined" {
        out.push("pod seccompProfile Unconfined".to_owned());
    }
    if pod_sc["runAsUser"] == 0 {
        out.push("pod runAsUser 0".to_owned());
    }
    let containers = spec["containers"].as_array().into_iter().flatten();
    let inits = spec["initContainers"].as_array().into_iter().flatten();
    for c in containers.chain(inits) {
        let name = c["name"].as_str().unwrap_or_default();
        let sc = &c["securityContext"];
        let mut bad = |what: &str| out.push(format!("container {name}: {what}"));
        if sc["privileged"] == true {
            bad("privileged");
        }
        if c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["hostPort"].as_u64().is_some_and(|n| n != 0))
        {
            bad("hostPort");
        }
        if sc["allowPrivilegeEscalation"] != false {
            bad("allowPrivilegeEscalation is not false");
        }
        if sc["runAsNonRoot"] != true && pod_sc["runAsNonRoot"] != true {
            bad("runAsNonRoot is not true (pod or container)");
        }
        if sc["runAsNonRoot"] == false {
            bad("runAsNonRoot false");
        }
        if sc["runAsUser"] == 0 {
            bad("runAsUser 0");
        }
        if sc["seccompProfile"]["type"] == "Unconfined" || !(seccomp_ok(sc) || seccomp_ok(pod_sc)) {
            bad("seccompProfile is not RuntimeDefault or Localhost");
        }
        let caps = &sc["capabilities"];
        if !caps["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
        {
            bad("capabilities.drop lacks ALL");
        }
        for a in caps["add"].as_array().into_iter().flatten() {
            if !RESTRICTED_ADD.contains(&a.as_str().unwrap_or_default()) {
                bad(&format!("adds capability {a}"));
            }
        }
        for key in ["procMount", "appArmorProfile"] {
            if sc[key].is_string() || sc[key].is_object() {
                bad(&format!("sets {key}"));
            }
        }
    }
    out
}

/// The built-in output's service pods pass the restricted profile, but for the one
/// exception the manifest makes: the OpenIM config is a hostPath volume (on a cluster
/// a `ConfigMap` or a claim replaces it; the manifest's `volumes` decide, not openim-init).
#[test]
fn builtin_service_pods_meet_the_restricted_profile() {
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(root().join("src/manifest/openim.toml")).expect("read"),
    )
    .expect("toml");
    let externals: BTreeSet<&str> = manifest["external"]
        .as_table()
        .expect("externals")
        .keys()
        .map(String::as_str)
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("k8s");
    Cli::new()
        .args(["generate", "--backend", "kubernetes", "--out"])
        .arg(&out)
        .ok();
    let mut pods = 0;
    let mut accepted = BTreeSet::new();
    for entry in std::fs::read_dir(&out).expect("out") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("read");
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc).expect("yaml");
            if !matches!(v["kind"].as_str(), Some("Deployment" | "StatefulSet")) {
                continue;
            }
            let service = v["metadata"]["annotations"]["openim-init.io/service"]
                .as_str()
                .expect("annotation");
            if externals.contains(service) {
                continue;
            }
            pods += 1;
            for problem in violations(&v["spec"]["template"]["spec"]) {
                assert!(problem.contains(": type hostPath"), "{service}: {problem}");
                accepted.insert(problem);
            }
        }
    }
    assert_eq!(pods, 12, "the 12 OpenIM services");
    assert_eq!(accepted.len(), 1, "{accepted:?}");
}

/// The checks catch what they are written for.
#[test]
fn the_checks_reject_an_unconfined_pod() {
    let spec = serde_json::json!({
        "containers": [{ "name": "a", "securityContext": { "capabilities": { "add": ["SYS_ADMIN"] } } }],
        "volumes": [{ "name": "h", "hostPath": { "path": "/" } }],
    });
    let v = violations(&spec);
    for want in [
        "type hostPath",
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "seccompProfile",
        "drop lacks ALL",
        "SYS_ADMIN",
    ] {
        assert!(v.iter().any(|p| p.contains(want)), "{want} not in {v:?}");
    }
}
