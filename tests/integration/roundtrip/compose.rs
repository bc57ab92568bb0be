//! docker compose: the batch's compose.yaml is loaded, interpolated and printed back by
//! docker-compose itself (`config`, which writes every literal `$` as `$$` again), read with
//! `PyYAML` (the YAML 1.1 reader compose uses), and every service's `command` and
//! `environment` are exec'd as the engine would: that argv with exactly that environment.
//! When the backend wraps a command in `/bin/sh -c '…; exec "$@"'` (`pre_start`), the
//! wrapper really runs.

use std::collections::BTreeMap;
use std::time::Duration;

use openim_init::escape::compose::undollar;

use super::driver::run;
use super::{Batch, Outcome, RoundTrip, exec};
use crate::harness::run_timeout;

/// `PyYAML` → JSON on stdout.
const TO_JSON: &str = "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";

struct Compose;

impl RoundTrip for Compose {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn unavailable(&self) -> Option<String> {
        let ok = which::which("docker-compose").is_ok()
            && std::process::Command::new("/usr/bin/python3")
                .args(["-c", "import yaml"])
                .status()
                .is_ok_and(|s| s.success());
        (!ok).then(|| {
            "docker-compose (apt docker-compose, with python3-yaml) is not installed".to_owned()
        })
    }

    fn batch_size(&self) -> usize {
        250
    }

    fn added_env(&self, key: &str) -> bool {
        // dash exports PWD to what the pre_start wrapper execs
        key == "PWD"
    }

    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String> {
        let out = batch.generate("compose", &[])?;
        let config = run_timeout(
            std::process::Command::new("docker-compose")
                .arg("-f")
                .arg(out.join("compose.yaml"))
                .arg("config"),
            Duration::from_mins(1),
        );
        if config.code != 0 {
            return Err(format!("docker-compose config: {}", config.stderr));
        }
        let json_path = batch.dir.join("config.yaml");
        std::fs::write(&json_path, &config.stdout).map_err(|e| e.to_string())?;
        let file = std::fs::File::open(&json_path).map_err(|e| e.to_string())?;
        let parsed = std::process::Command::new("/usr/bin/python3")
            .args(["-c", TO_JSON])
            .stdin(file)
            .output()
            .map_err(|e| e.to_string())?;
        let doc: serde_json::Value = serde_json::from_slice(&parsed.stdout).map_err(|e| {
            format!(
                "PyYAML read of the config: {e}: {}",
                String::from_utf8_lossy(&parsed.stderr)
            )
        })?;
        let mut outcomes = Vec::new();
        for i in 0..batch.cases.len() {
            let svc = &doc["services"][Batch::service(i)];
            let argv: Option<Vec<String>> = serde_json::from_value(svc["command"].clone()).ok();
            let env: Option<BTreeMap<String, Option<String>>> =
                serde_json::from_value(svc["environment"].clone()).ok();
            let (Some(argv), Some(env)) = (argv, env) else {
                outcomes.push(Err(format!("compose read service c{i} as {svc}")));
                continue;
            };
            let argv: Vec<String> = argv.iter().map(|a| undollar(a)).collect();
            let env: Vec<(String, String)> = env
                .into_iter()
                .map(|(k, v)| (k, undollar(&v.unwrap_or_default())))
                .collect();
            outcomes.push(exec(&argv, &env, &batch.dir).map(|()| batch.observed(i)));
        }
        Ok(outcomes)
    }
}

#[test]
fn compose_config_carries_exactly_the_manifest() {
    run(&Compose);
}
