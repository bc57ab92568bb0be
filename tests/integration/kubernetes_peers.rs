//! Kubernetes: in the built-in stack no container reaches another pod through 127.0.0.1.
//! Every pod has its own loopback, so OpenIM's processes must be given the infrastructure's
//! Service names (`IMENV_*`), the init containers must wait on Services, and the
//! infrastructure must listen on all addresses and advertise its Service name.

use std::collections::BTreeMap;

use serde::Deserialize as _;
use serde_json::Value;

use crate::common::generate_into;

/// A workload of the output: its name, whether it runs an external, its containers.
struct Workload {
    name: String,
    external: bool,
    main: Vec<Value>,
    init: Vec<Value>,
}

/// The Services (name → ports) and workloads of the built-in Kubernetes output.
fn built_in() -> (BTreeMap<String, Vec<u64>>, Vec<Workload>) {
    let dir = generate_into("kubernetes", None, &[]);
    let mut services = BTreeMap::new();
    let mut workloads = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("the output") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a file");
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).expect("YAML");
            let name = v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            match v["kind"].as_str() {
                Some("Service") => {
                    let ports = v["spec"]["ports"].as_array().into_iter().flatten();
                    let ports = ports.filter_map(|p| p["port"].as_u64()).collect();
                    services.insert(name, ports);
                }
                Some("Deployment" | "StatefulSet") => {
                    let pod = &v["spec"]["template"]["spec"];
                    let list = |key: &str| pod[key].as_array().cloned().unwrap_or_default();
                    workloads.push(Workload {
                        external: !name.starts_with("openim-"),
                        name,
                        main: list("containers"),
                        init: list("initContainers"),
                    });
                }
                _ => {}
            }
        }
    }
    (services, workloads)
}

/// Every string a container runs with: command, args and environment values.
fn strings(c: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["command", "args"] {
        for a in c[key].as_array().into_iter().flatten() {
            out.push(a.as_str().expect("a string").to_owned());
        }
    }
    for e in c["env"].as_array().into_iter().flatten() {
        if let Some(v) = e["value"].as_str() {
            out.push(v.to_owned());
        }
    }
    out
}

/// The ports that follow a loopback host (`127.*`, `localhost`, `[::1]`) in `text`.
fn loopback_ports(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for host in ["127.0.0.1:", "localhost:", "[::1]:"] {
        for (i, _) in text.match_indices(host) {
            let digits: String = text[i + host.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            out.extend(digits.parse::<u64>());
        }
    }
    out
}

#[test]
fn no_container_reaches_another_pod_through_its_loopback() {
    let (services, workloads) = built_in();
    assert!(services.contains_key("redis") && workloads.len() >= 17);
    for w in &workloads {
        let own = services.get(&w.name).cloned().unwrap_or_default();
        for c in w.main.iter().chain(&w.init) {
            for s in strings(c) {
                for port in loopback_ports(&s) {
                    let other = services
                        .iter()
                        .find(|(n, ports)| **n != w.name && ports.contains(&port));
                    // its own Service's port too: what a pod advertises is its Service name
                    assert!(
                        other.is_none() && !own.contains(&port),
                        "{} reaches port {port} of {other:?} through its loopback: {s:?}",
                        w.name
                    );
                }
                // OpenIM's processes and every init container: no loopback at all
                if !w.external || w.init.contains(c) {
                    assert!(
                        !s.contains("127.0.0.1") && !s.contains("localhost"),
                        "{}: {s:?}",
                        w.name
                    );
                }
            }
        }
    }
}

#[test]
fn openim_gets_the_service_names_and_the_infrastructure_listens_on_the_pod() {
    let (_, workloads) = built_in();
    let env = |w: &Workload, key: &str| {
        w.main[0]["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == key)
            .and_then(|e| e["value"].as_str())
            .map(str::to_owned)
    };
    let by_name = |n: &str| workloads.iter().find(|w| w.name == n).expect(n);
    for w in workloads.iter().filter(|w| !w.external) {
        for (key, want) in [
            ("IMENV_MONGODB_ADDRESS", "mongodb:37017"),
            ("IMENV_REDIS_ADDRESS", "redis:16379"),
            ("IMENV_KAFKA_ADDRESS", "kafka:19094"),
            ("IMENV_DISCOVERY_ETCD_ADDRESS", "etcd:12379"),
            ("IMENV_MINIO_INTERNALADDRESS", "minio:10005"),
        ] {
            assert_eq!(env(w, key).as_deref(), Some(want), "{} {key}", w.name);
        }
        let waits: Vec<&str> = w.init.iter().filter_map(|c| c["name"].as_str()).collect();
        assert!(waits.contains(&"wait-etcd"), "{}: {waits:?}", w.name);
    }
    let kafka = by_name("kafka");
    assert_eq!(
        env(kafka, "KAFKA_CFG_LISTENERS").as_deref(),
        Some("PLAINTEXT://0.0.0.0:19094,CONTROLLER://127.0.0.1:19095")
    );
    assert_eq!(
        env(kafka, "KAFKA_CFG_ADVERTISED_LISTENERS").as_deref(),
        Some("PLAINTEXT://kafka:19094")
    );
    let etcd = by_name("etcd");
    assert_eq!(
        env(etcd, "ETCD_LISTEN_CLIENT_URLS").as_deref(),
        Some("http://0.0.0.0:12379")
    );
    assert_eq!(
        env(etcd, "ETCD_ADVERTISE_CLIENT_URLS").as_deref(),
        Some("http://etcd:12379")
    );
    for (name, flag, want) in [
        ("mongodb", "--bind_ip", "0.0.0.0"),
        ("redis", "--bind", "0.0.0.0"),
        ("redis", "--protected-mode", "no"),
        ("minio", "--address", "0.0.0.0:10005"),
    ] {
        let args = strings(&by_name(name).main[0]);
        let at = args.iter().position(|a| a == flag).expect(flag);
        assert_eq!(args[at + 1], want, "{name} {flag}");
    }
}
