//! What a schema cannot see, checked over the parsed objects: names are DNS labels,
//! selectors match their pod labels, every Service selects a workload and targets ports its
//! container declares, probes use declared ports, mounts name pod volumes, claims exist,
//! a `StatefulSet`'s Service is headless, and every `$(VAR)` Kubernetes would expand names a
//! variable defined before it (an undefined one stays literal: a sign of a missed escape).

use serde_json::Value;

use super::expand::expand;
use super::names::label_problem;

/// One parsed document and the file it came from.
pub type Doc = (String, Value);

fn name(d: &Value) -> &str {
    d["metadata"]["name"].as_str().unwrap_or_default()
}

fn kind(d: &Value) -> &str {
    d["kind"].as_str().unwrap_or_default()
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn is_workload(d: &Value) -> bool {
    matches!(kind(d), "Deployment" | "StatefulSet")
}

/// Every problem found in `docs`, each naming the file and object.
#[must_use]
pub fn check(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, d) in docs {
        let at = format!("{file}: {} {}", kind(d), name(d));
        if let Some(p) = label_problem(name(d)) {
            out.push(format!("{at}: metadata.name {p}"));
        }
        if is_workload(d) {
            workload(&at, d, docs, &mut out);
        }
        if kind(d) == "Service" {
            service(&at, d, docs, &mut out);
        }
    }
    out
}

fn workload(at: &str, d: &Value, docs: &[Doc], out: &mut Vec<String>) {
    let spec = &d["spec"];
    let labels = &spec["template"]["metadata"]["labels"];
    if let Some(m) = spec["selector"]["matchLabels"].as_object() {
        for (k, v) in m {
            if labels.get(k) != Some(v) {
                out.push(format!(
                    "{at}: selector {k}={v} does not match the pod labels"
                ));
            }
        }
    }
    if kind(d) == "StatefulSet" {
        let svc = spec["serviceName"].as_str().unwrap_or_default();
        let headless = docs.iter().any(|(_, s)| {
            kind(s) == "Service" && name(s) == svc && s["spec"]["clusterIP"] == "None"
        });
        if !headless {
            out.push(format!(
                "{at}: serviceName `{svc}` is no headless Service of the stack"
            ));
        }
    }
    let pod = &spec["template"]["spec"];
    let volumes: Vec<&str> = arr(&pod["volumes"])
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for v in arr(&pod["volumes"]) {
        if let Some(c) = v["persistentVolumeClaim"]["claimName"].as_str()
            && !docs
                .iter()
                .any(|(_, x)| kind(x) == "PersistentVolumeClaim" && name(x) == c)
        {
            out.push(format!("{at}: claim `{c}` is not defined"));
        }
    }
    for c in arr(&pod["initContainers"])
        .iter()
        .chain(arr(&pod["containers"]))
    {
        container(
            &format!("{at} container {}", c["name"].as_str().unwrap_or_default()),
            c,
            &volumes,
            out,
        );
    }
}

fn container(at: &str, c: &Value, volumes: &[&str], out: &mut Vec<String>) {
    if let Some(p) = label_problem(c["name"].as_str().unwrap_or_default()) {
        out.push(format!("{at}: name {p}"));
    }
    let ports: Vec<&Value> = arr(&c["ports"])
        .iter()
        .flat_map(|p| [&p["containerPort"], &p["name"]])
        .collect();
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        for h in ["tcpSocket", "httpGet"] {
            let port = &c[probe][h]["port"];
            if !port.is_null() && !ports.contains(&port) {
                out.push(format!(
                    "{at}: {probe} port {port} is not a declared container port"
                ));
            }
        }
    }
    for m in arr(&c["volumeMounts"]) {
        let n = m["name"].as_str().unwrap_or_default();
        if !volumes.contains(&n) {
            out.push(format!("{at}: mount `{n}` names no pod volume"));
        }
    }
    // Kubernetes expands $(VAR) with the variables defined before (env) or at all (argv)
    let mut defined: Vec<&str> = Vec::new();
    let refs = |text: &str, defined: &[&str], out: &mut Vec<String>, what: &str| {
        let missing = std::cell::RefCell::new(Vec::new());
        let _ = expand(text, |n| {
            (!defined.contains(&n)).then(|| missing.borrow_mut().push(n.to_owned()));
            None
        });
        for n in missing.into_inner() {
            out.push(format!(
                "{at}: {what} refers to $({n}), which is not defined before it"
            ));
        }
    };
    for e in arr(&c["env"]) {
        if let Some(v) = e["value"].as_str() {
            refs(v, &defined, out, "env");
        }
        defined.extend(e["name"].as_str());
    }
    for a in arr(&c["command"]).iter().chain(arr(&c["args"])) {
        refs(a.as_str().unwrap_or_default(), &defined, out, "argv");
    }
}

fn service(at: &str, d: &Value, docs: &[Doc], out: &mut Vec<String>) {
    let Some(selector) = d["spec"]["selector"].as_object() else {
        out.push(format!("{at}: no selector"));
        return;
    };
    let selected: Vec<&Value> = docs
        .iter()
        .map(|(_, w)| w)
        .filter(|w| is_workload(w))
        .filter(|w| {
            let labels = &w["spec"]["template"]["metadata"]["labels"];
            selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
        .collect();
    if selected.is_empty() {
        out.push(format!("{at}: the selector matches no workload's pods"));
    }
    for p in arr(&d["spec"]["ports"]) {
        let target = if p["targetPort"].is_null() {
            &p["port"]
        } else {
            &p["targetPort"]
        };
        for w in &selected {
            let declared = arr(&w["spec"]["template"]["spec"]["containers"])
                .iter()
                .any(|c| {
                    arr(&c["ports"])
                        .iter()
                        .any(|cp| &cp["containerPort"] == target || &cp["name"] == target)
                });
            if !declared {
                out.push(format!(
                    "{at}: targetPort {target} is not a container port of {}",
                    name(w)
                ));
            }
        }
    }
}
