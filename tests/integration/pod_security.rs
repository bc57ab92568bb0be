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
    if pod_sc["seccompProfile"]["type"] == "Unconfined" {
        out.push("pod seccompProfile Unconfined".to_owned());
    }
    if pod_sc["runAsUser"] == 0 {
        out.push("pod runAsUser 0".to_owned());
    }
    let containers = spec["containers"].as_array().into_iter().flatten();
    let inits = spec["initContainers"].as_array().into_iter().flatten();
    for c in containers.chain(inits) {
        container_violations(c, pod_sc, &mut out);
    }
    out
}

/// The restricted profile's violations of container `c` in a pod whose securityContext is
/// `pod_sc`.
fn container_violations(c: &Value, pod_sc: &Value, out: &mut Vec<String>) {
    let seccomp_ok = |sc: &Value| {
        matches!(
            sc["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault" | "Localhost")
        )
    };
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

/// Checkov's Kubernetes checks the service workloads may fail, and why each is accepted.
const CHECKOV_ACCEPTED: &[(&str, &str)] = &[
    (
        "CKV_K8S_10",
        "CPU requests: the manifest models limits (cpu_quota), requests are the cluster's scheduling choice",
    ),
    ("CKV_K8S_12", "memory requests: as for CPU"),
    (
        "CKV_K8S_11",
        "CPU limits: written from `cpu_quota`, which the built-in manifest leaves unset",
    ),
    (
        "CKV_K8S_13",
        "memory limits: written from `memory_max`, which the built-in manifest leaves unset",
    ),
    (
        "CKV_K8S_15",
        "imagePullPolicy Always: the kubelet's default for a tag; pin images by digest instead",
    ),
    (
        "CKV_K8S_43",
        "image digest: the manifest names images by tag; `image@sha256:…` there passes it",
    ),
    (
        "CKV_K8S_21",
        "default namespace: the kustomization leaves the namespace to `kubectl apply -n` or kustomize",
    ),
    (
        "CKV_K8S_40",
        "high UID: the built-in `user` is a name; a numeric user of 10000 or more passes it",
    ),
    (
        "CKV_K8S_8",
        "liveness probe: the services without `health` in the manifest",
    ),
    ("CKV_K8S_9", "readiness probe: as for liveness"),
    ("CKV2_K8S_6", "NetworkPolicy: none is generated yet"),
];

/// The checks the sandbox is for: each must pass on every service workload.
const CHECKOV_SANDBOX: &[&str] = &[
    "CKV_K8S_20",
    "CKV_K8S_22",
    "CKV_K8S_23",
    "CKV_K8S_28",
    "CKV_K8S_29",
    "CKV_K8S_30",
    "CKV_K8S_31",
    "CKV_K8S_37",
    "CKV_K8S_38",
];

/// checkov: `$OPENIM_INIT_CHECKOV_VENV/bin/checkov`, the CI venv's, or on PATH.
fn checkov() -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("OPENIM_INIT_CHECKOV_VENV").map_or_else(
        || "/opt/openim-init-checkov".into(),
        std::path::PathBuf::from,
    );
    Some(venv.join("bin/checkov"))
        .filter(|p| p.exists())
        .or_else(|| which::which("checkov").ok())
}

/// Checkov's JSON report on the built-in manifest's Kubernetes output.
fn checkov_report(tool: &std::path::Path) -> Value {
    // checkov skips hidden directories, and tempdir()'s names start with a dot
    let dir = tempfile::Builder::new()
        .prefix("openim-checkov-")
        .tempdir()
        .expect("tempdir");
    let out = dir.path().join("k8s");
    Cli::new()
        .args(["generate", "--backend", "kubernetes", "--out"])
        .arg(&out)
        .ok();
    let run = std::process::Command::new(tool)
        .args(["--framework", "kubernetes", "--compact", "-o", "json", "-d"])
        .arg(&out)
        .output()
        .expect("checkov runs");
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)))
}

/// Checkov on the built-in output: the service workloads fail no check but the accepted
/// ones, and pass every check the sandbox is for.
#[test]
fn checkov_accepts_the_service_workloads() {
    let tool = checkov();
    if !crate::common::require(
        tool.is_some(),
        "checkov (pip, see .ci/setup.sh) is not installed",
    ) {
        return;
    }
    let report = checkov_report(&tool.expect("checkov"));
    let report = if report.is_array() {
        &report[0]
    } else {
        &report
    };
    let name = |r: &Value| {
        r["resource"]
            .as_str()
            .unwrap_or_default()
            .split('.')
            .nth(2)
            .unwrap_or_default()
            .to_owned()
    };
    let is_service = |n: &str| n.starts_with("openim-");
    let mut failed = BTreeSet::new();
    for f in report["results"]["failed_checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no failed_checks: {}", report["summary"]))
    {
        let id = f["check_id"].as_str().expect("id");
        if is_service(&name(f)) {
            assert!(
                CHECKOV_ACCEPTED.iter().any(|(a, _)| *a == id),
                "{id} ({}) failed on {}",
                f["check_name"],
                f["resource"]
            );
            failed.insert(id.to_owned());
        }
    }
    let passed: Vec<(String, String)> = report["results"]["passed_checks"]
        .as_array()
        .expect("passed_checks")
        .iter()
        .map(|p| {
            (
                p["check_id"].as_str().unwrap_or_default().to_owned(),
                name(p),
            )
        })
        .collect();
    let workloads: BTreeSet<&str> = passed
        .iter()
        .map(|(_, n)| n.as_str())
        .filter(|n| is_service(n))
        .collect();
    assert_eq!(workloads.len(), 12, "{workloads:?}");
    for w in &workloads {
        for id in CHECKOV_SANDBOX {
            assert!(
                passed.contains(&((*id).to_owned(), (*w).to_owned())),
                "{id} did not pass on {w}"
            );
        }
    }
    eprintln!("checkov: accepted failures on the service workloads: {failed:?}");
}
