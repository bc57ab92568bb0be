//! Kubernetes: the verifiers (kubernetes-validate --strict and the semantic checks) accept
//! the built-in manifest and every fixture; the semantic checks catch what the schema
//! misses; a `StatefulSet`'s pods get their `{instance}` from the pod index.

use openim_init::backend::kubernetes::{semantic, verify};
use serde_json::json;

use crate::common::{Cli, FIXTURES, fixture, require};

/// `openim-init verify --backend kubernetes` passes for the built-in manifest and every
/// fixture (and with `--init-image`).
#[test]
fn kubernetes_verifiers_accept_every_fixture() {
    if !require(
        verify::validator().is_some(),
        "kubernetes-validate (pip, in /opt/openim-init-venv) is not installed",
    ) {
        return;
    }
    let mut manifests = vec![None];
    manifests.extend(FIXTURES.iter().map(|f| Some(fixture(&format!("{f}.toml")))));
    for m in manifests {
        let mut cli = Cli::new().args([
            "verify",
            "--backend",
            "kubernetes",
            "--init-image",
            "busybox:1.37",
        ]);
        if let Some(path) = &m {
            cli = cli.arg("--manifest").arg(path);
        }
        let r = cli.run();
        assert!(
            r.code == 0
                && r.stdout
                    .contains("kubernetes-validate --strict (-k 1.28.0)")
                && r.stdout.contains("semantic checks")
                && !r.stdout.contains("finding:"),
            "verify of {m:?} exited {}:\n{}{}",
            r.code,
            r.stdout,
            r.stderr
        );
    }
}

/// A Deployment and Service that the schema accepts but that cannot work: each mistake is
/// found, and the correct objects give no finding.
#[test]
fn semantic_checks_find_what_the_schema_misses() {
    let good_pod = json!({
        "metadata": { "labels": { "app": "a" } },
        "spec": {
            "containers": [{
                "name": "a",
                "image": "x",
                "args": ["$(HOME)", "$$(kept)"],
                "env": [{ "name": "HOME", "value": "/h" }],
                "ports": [{ "name": "tcp-80", "containerPort": 80 }],
                "readinessProbe": { "tcpSocket": { "port": 80 } },
                "volumeMounts": [{ "name": "data", "mountPath": "/d" }],
            }],
            "volumes": [{ "name": "data", "persistentVolumeClaim": { "claimName": "data" } }],
        }
    });
    let deployment = |pod: serde_json::Value, selector: &str| {
        json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "a" },
                "spec": { "selector": { "matchLabels": { "app": selector } }, "template": pod } })
    };
    let service = |port: u16| {
        json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "a" },
                "spec": { "selector": { "app": "a" }, "ports": [{ "port": port, "targetPort": port }] } })
    };
    let claim = json!({ "kind": "PersistentVolumeClaim", "metadata": { "name": "data" } });
    let docs = |items: Vec<serde_json::Value>| -> Vec<semantic::Doc> {
        items
            .into_iter()
            .map(|d| ("x.yaml".to_owned(), d))
            .collect()
    };
    let ok = semantic::check(&docs(vec![
        deployment(good_pod.clone(), "a"),
        service(80),
        claim.clone(),
    ]));
    assert!(ok.is_empty(), "{ok:#?}");

    let mut bad_pod = good_pod.clone();
    let c = &mut bad_pod["spec"]["containers"][0];
    c["name"] = json!("Bad_Name");
    c["readinessProbe"]["tcpSocket"]["port"] = json!(81);
    c["args"] = json!(["$(UNDEFINED)"]);
    c["volumeMounts"][0]["name"] = json!("nope");
    let found = semantic::check(&docs(vec![deployment(bad_pod, "b"), service(82)]));
    let text = found.join("\n");
    for want in [
        "selector app=\"b\" does not match the pod labels",
        "name `Bad_Name` is not a DNS label",
        "readinessProbe port 81 is not a declared container port",
        "refers to $(UNDEFINED)",
        "mount `nope` names no pod volume",
        "claim `data` is not defined",
        "targetPort 82 is not a container port of a",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let orphan = semantic::check(&docs(vec![service(80)]));
    assert!(
        orphan.iter().any(|f| f.contains("matches no workload")),
        "{orphan:?}"
    );
}

/// The built-in msgtransfer (instances = 4) is one `StatefulSet` whose pods read `-i` from the
/// pod-index label; a named instance is a Deployment of its own with the name substituted.
#[test]
fn instances_come_from_the_pod_index() {
    let r = Cli::new()
        .args(["generate", "--backend", "kubernetes"])
        .run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sts = r
        .stdout
        .split("==== ")
        .find(|f| f.starts_with("openim-msgtransfer.yaml"))
        .expect("the msgtransfer file");
    for want in [
        "kind: \"StatefulSet\"",
        "replicas: 4",
        "podManagementPolicy: \"Parallel\"",
        "- \"$(POD_INDEX)\"",
        "fieldPath: \"metadata.labels['apps.kubernetes.io/pod-index']\"",
        "clusterIP: \"None\"",
    ] {
        assert!(sts.contains(want), "missing {want:?} in:\n{sts}");
    }
    let full = Cli::new()
        .args(["generate", "--backend", "kubernetes", "--manifest"])
        .arg(fixture("full.toml"))
        .run();
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert!(
        full.stdout.contains("==== worker-eu-1.yaml"),
        "{}",
        full.stdout
    );
    assert!(
        full.stdout.contains("- \"--name=w-us_2\""),
        "{}",
        full.stdout
    );
}
