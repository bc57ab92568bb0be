//! Kubernetes: the batch's manifests are read back with `PyYAML` (a YAML 1.1 reader, like the
//! go-yaml behind `kubectl`), every case's container has Kubernetes' `$(VAR)` expansion
//! applied as the kubelet does (env values in order, each seeing the variables before it;
//! `command` and `args` seeing them all — [`expand`], the kubelet's algorithm), and the
//! result is exec'd: that argv with exactly that environment. When the backend wraps the
//! command in `/bin/sh -c '…; exec "$@"'` (`pre_start`), the wrapper really runs.

use openim_init::backend::kubernetes::expand::expand;

use super::driver::run;
use super::{Batch, Outcome, RoundTrip, exec};

/// `PyYAML` → JSON on stdout: per file named in argv, its documents.
const TO_JSON: &str = "import sys, json, yaml; json.dump([list(yaml.safe_load_all(open(f, encoding='utf-8'))) for f in sys.argv[1:]], sys.stdout)";

struct Kubernetes;

/// The kubelet's view of one container: its argv and environment after expansion.
/// An argv and an environment in order.
type Launch = (Vec<String>, Vec<(String, String)>);

fn expanded(container: &serde_json::Value) -> Result<Launch, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    for e in container["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().ok_or("an env entry without a name")?;
        let raw = e["value"].as_str().ok_or("an env entry without a value")?;
        let lookup = |n: &str| {
            env.iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        let value = expand(raw, lookup);
        env.push((name.to_owned(), value));
    }
    let words = container["command"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(container["args"].as_array().into_iter().flatten());
    let mut argv = Vec::new();
    for w in words {
        let w = w.as_str().ok_or("a non-string argv word")?;
        argv.push(expand(w, |n| {
            env.iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        }));
    }
    Ok((argv, env))
}

impl RoundTrip for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn unavailable(&self) -> Option<String> {
        let ok = std::process::Command::new("/usr/bin/python3")
            .args(["-c", "import yaml"])
            .status()
            .is_ok_and(|s| s.success());
        (!ok).then(|| "python3-yaml (PyYAML) is not installed".to_owned())
    }

    fn batch_size(&self) -> usize {
        250
    }

    fn added_env(&self, key: &str) -> bool {
        // dash exports PWD to what the pre_start wrapper execs
        key == "PWD"
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let out = batch.generate("kubernetes", &[])?;
        let files: Vec<std::path::PathBuf> = (0..batch.cases.len())
            .map(|i| out.join(format!("{}.yaml", Batch::service(i))))
            .collect();
        let parsed = std::process::Command::new("/usr/bin/python3")
            .args(["-c", TO_JSON])
            .args(&files)
            .output()
            .map_err(|e| e.to_string())?;
        let all: Vec<serde_json::Value> = serde_json::from_slice(&parsed.stdout).map_err(|e| {
            format!(
                "PyYAML read of the manifests: {e}: {}",
                String::from_utf8_lossy(&parsed.stderr)
            )
        })?;
        let mut outcomes = Vec::new();
        for (i, docs) in all.iter().enumerate() {
            let container = &docs[0]["spec"]["template"]["spec"]["containers"][0];
            let outcome = expanded(container)
                .and_then(|(argv, env)| exec(&argv, &env, &batch.dir).map(|()| batch.observed(i)));
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}

#[test]
fn kubernetes_manifests_carry_exactly_the_manifest() {
    run(&Kubernetes);
}
