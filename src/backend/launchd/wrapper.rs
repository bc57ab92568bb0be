//! The `/bin/sh -c` wrapper that emulates what launchd lacks: the environment file, readiness
//! gates on externals, waits for service dependencies (through their health checks) and
//! `pre_start` commands. Its last step is `exec "$@"`, with the service's argv passed as the
//! positional parameters, so launchd still ends up running exactly that argv.

use crate::backend::Feature;
use crate::escape::sh;
use crate::gate;
use crate::manifest::Duration;
use crate::model::{Dep, Model, Service, substitute};

/// Defines `timeout` when the system has none (macOS ships no timeout(1), and every gate
/// probe calls it): perl's `alarm` survives `exec`, so the probe is killed by SIGALRM.
pub const TIMEOUT_SHIM: &str = "command -v timeout >/dev/null 2>&1 || timeout() { perl -e 'alarm shift; exec { $ARGV[0] } @ARGV or exit 127' \"$@\"; }";

/// The argv of the wrapped job: `/bin/sh -c SCRIPT sh ARGV...`.
#[must_use]
pub fn wrap(script: &str, argv: &[String]) -> Vec<String> {
    let mut out = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        script.to_owned(),
        "sh".to_owned(),
    ];
    out.extend(argv.iter().cloned());
    out
}

/// Loads `KEY=value` lines of `path` into the environment without running anything from the
/// file: blank lines and `#`/`;` comments are skipped, surrounding whitespace is trimmed, one
/// pair of enclosing `"` or `'` is removed, the rest is taken literally. A missing file or an
/// invalid key fails the start. Its variables are prefixed so they cannot clobber the job's.
#[must_use]
pub fn env_file(path: &str) -> String {
    format!(
        "while read -r __oi_l || [ -n \"$__oi_l\" ]; do case $__oi_l in ''|'#'*|';'*) continue;; *=*) ;; *) continue;; esac; \
         __oi_k=${{__oi_l%%=*}}; __oi_v=${{__oi_l#*=}}; \
         case $__oi_v in \\\"*\\\"|\\'*\\') __oi_v=${{__oi_v#?}}; __oi_v=${{__oi_v%?}};; esac; \
         export \"$__oi_k=$__oi_v\" || exit; done < {} || exit; unset __oi_l __oi_k __oi_v",
        sh::quote(path)
    )
}

/// What a service waits for before its command runs.
#[derive(Debug, Default)]
pub struct Waits {
    /// One shell line per gate, in order (each runs in a subshell: its variables stay there).
    pub lines: Vec<String>,
    /// Service dependencies that cannot be waited for (no health check): (feature, name).
    pub unwaitable: Vec<(Feature, String)>,
}

/// The readiness gates of `svc`: externals it requires (hard: the start fails after the
/// external's `wait_timeout`) or wants / orders itself after (soft: it starts anyway), then the
/// services it depends on, waited for through their health checks.
#[must_use]
pub fn waits(model: &Model, svc: &Service) -> Waits {
    let mut out = Waits::default();
    for (dep, hard, feature) in &dep_edges(model, svc) {
        let script = match dep {
            Dep::External(name) => model
                .external(name)
                .map(|e| gate::wait_script(&format!("external {name}"), &e.check, e.wait_timeout)),
            Dep::Service(name) => match model.service(name) {
                Some(d) if d.health.is_some() => d.health.as_ref().map(|h| {
                    gate::wait_script(&format!("service {name}"), &h.check, ready_budget(model, d))
                }),
                Some(_) => {
                    out.unwaitable.push((*feature, name.clone()));
                    None
                }
                None => None,
            },
        };
        if let Some(s) = script {
            let on_fail = if *hard { "exit" } else { ":" };
            out.lines.push(format!("( {s} ) || {on_fail}"));
        }
    }
    out
}

/// Every dependency of `svc` once, as (target, hard, feature): requires first, so a target
/// also listed under wants/after keeps the hard edge; `before` edges of other services
/// pointing at `svc` count as soft ordering.
fn dep_edges(model: &Model, svc: &Service) -> Vec<(Dep, bool, Feature)> {
    let mut edges: Vec<(Dep, bool, Feature)> = Vec::new();
    edges.extend(
        svc.requires
            .iter()
            .map(|d| (d.clone(), true, Feature::Requires)),
    );
    edges.extend(svc.wants.iter().map(|d| (d.clone(), false, Feature::Wants)));
    edges.extend(
        svc.after
            .iter()
            .map(|d| (d.clone(), false, Feature::Ordering)),
    );
    edges.extend(
        model
            .services
            .iter()
            .filter(|o| o.before.contains(&svc.name))
            .map(|o| (Dep::Service(o.name.clone()), false, Feature::Ordering)),
    );
    let mut out: Vec<(Dep, bool, Feature)> = Vec::new();
    for (dep, hard, feature) in edges {
        if out.iter().any(|(d, _, _)| *d == dep) {
            continue;
        }
        let feature = match dep {
            Dep::External(_) => Feature::ExternalGate,
            Dep::Service(_) => feature,
        };
        out.push((dep, hard, feature));
    }
    out
}

/// How long a dependent waits for `svc` to become healthy: the time `svc` may spend in its own
/// gates, plus its health window (`interval × retries + timeout`).
fn ready_budget(model: &Model, svc: &Service) -> Duration {
    let mut ms: u64 = 0;
    for (dep, _, _) in dep_edges(model, svc) {
        ms = ms.saturating_add(match &dep {
            Dep::External(n) => model.external(n).map_or(0, |e| e.wait_timeout.millis()),
            Dep::Service(n) => model
                .service(n)
                .filter(|d| d.health.is_some())
                .map_or(0, |d| ready_budget(model, d).millis()),
        });
    }
    if let Some(h) = &svc.health {
        ms = ms.saturating_add(h.window().millis());
    }
    Duration(ms)
}

/// The whole wrapper script for one instance (or `None` when the service needs none).
#[must_use]
pub fn script(svc: &Service, waits: &Waits, instance: Option<&str>) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    if !waits.lines.is_empty() {
        lines.push(TIMEOUT_SHIM.to_owned());
    }
    if let Some(f) = &svc.environment_file {
        lines.push(env_file(f));
    }
    lines.extend(waits.lines.iter().cloned());
    for argv in &svc.pre_start {
        let argv: Vec<String> = argv.iter().map(|a| substitute(a, instance)).collect();
        lines.push(format!("{} || exit", sh::join(&argv)));
    }
    if lines.is_empty() {
        return None;
    }
    lines.push("exec \"$@\"".to_owned());
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = r#"
name = "t"
[external.db]
check = { tcp = "127.0.0.1:5432" }
wait_timeout = "5s"
[services.a]
command = ["/bin/a"]
requires = ["db"]
health = { tcp = "127.0.0.1:1", interval = "1s", timeout = "1s", retries = 1 }
[services.b]
command = ["/bin/b"]
requires = ["a"]
after = ["a"]
wants = ["db"]
[services.c]
command = ["/bin/c"]
wants = ["b"]
"#;

    #[test]
    fn a_hard_edge_wins_and_budgets_add_up() {
        let model = Model::from_toml("t.toml", STACK).expect("valid");
        let b = model.service("b").expect("b");
        let w = waits(&model, b);
        assert_eq!(w.lines.len(), 2, "{:?}", w.lines);
        // a's own gate (db, 5s) plus its health window (1s × 1 + 1s)
        assert!(w.lines[0].contains("service a (tcp 127.0.0.1:1) not ready after 7s"));
        assert!(w.lines[0].ends_with(") || exit"), "requires beats after");
        assert!(w.lines[1].contains("external db") && w.lines[1].ends_with(") || :"));
        let c = waits(&model, model.service("c").expect("c"));
        assert!(c.lines.is_empty());
        assert_eq!(c.unwaitable, vec![(Feature::Wants, "b".to_owned())]);
    }
}
