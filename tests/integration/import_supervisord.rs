//! `import supervisord` (issue 15): what openim-init renders for supervisord reads back into
//! the same stack on everything supervisord carries, and hostile values survive both ways.
//!
//! supervisord cannot carry, so these are not compared: `group`, `restart_delay`, the
//! start-limit interval, `memory_max`/`cpu_quota`, `before`/`after`/`wants` edges as such
//! (only the start order, from `priority`), health checks of services nobody waits for
//! and all health timing, descriptions of externals, groups whose members all belong to an
//! earlier group (a comment only), `container` and `sandbox` tables.

use std::collections::BTreeSet;

use openim_init::backend::BackendKind;
use openim_init::import::Format;
use openim_init::model::{Logs, Model};
use proptest::prelude::*;

use crate::import::{fixtures, round_trip, service_table};
use crate::roundtrip::cases;

/// What supervisord carries of `m`, as comparable text, and the soft waits on services
/// (which the imported stack may extend: `priority` becomes `after`).
fn supervisord_form(m: &Model) -> (String, Vec<BTreeSet<String>>) {
    let names = |v: &[usize]| -> Vec<&str> { v.iter().map(|&i| &*m.services[i].name).collect() };
    let mut out = format!(
        "stack {} {:?}\norder {:?}\n",
        m.name,
        m.description.trim(),
        names(m.view.order())
    );
    let mut waited = BTreeSet::new();
    let mut soft = Vec::new();
    for (i, s) in m.services.iter().enumerate() {
        let w = m.waits(i);
        let mut hard = Vec::new();
        let mut soft_svc = BTreeSet::new();
        for x in &w.waits {
            if x.external {
                hard.push(format!(
                    "{} {} {:?} {}",
                    x.hard(),
                    x.label,
                    x.check,
                    x.budget.secs_ceil()
                ));
            } else {
                waited.insert(x.label.trim_start_matches("service ").to_owned());
                if x.hard() {
                    hard.push(format!("hard {}", x.label));
                } else {
                    soft_svc.insert(x.label.clone());
                }
            }
        }
        hard.sort();
        soft.push(soft_svc);
        let mut env = s.environment.to_vec();
        env.sort();
        let mut codes: Vec<i32> = s
            .success_exit_codes
            .iter()
            .copied()
            .filter(|c| *c != 0)
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let logs = match &*s.logs {
            Logs::Files { stdout, stderr } if stderr.as_ref() == Some(stdout) => Logs::Files {
                stdout: stdout.clone(),
                stderr: None,
            },
            l => l.clone(),
        };
        out += &format!(
            "{} {:?} {:?} {:?} {env:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {codes:?} {:?} {:?} {logs:?} {:?} {hard:?}\n",
            s.name,
            s.description.trim(),
            s.command,
            s.instances,
            s.environment_file,
            s.user,
            s.working_dir,
            s.restart,
            s.start_limit.map_or(10, |l| l.burst),
            s.stop_signal,
            s.stop_timeout.secs_ceil(),
            s.limits.nofile,
            s.limits.nproc,
            s.pre_start,
        );
    }
    for s in &m.services {
        if waited.iter().any(|w| **w == *s.name) {
            out += &format!(
                "health {} {:?}\n",
                s.name,
                s.health.as_ref().map(|h| &h.check)
            );
        }
    }
    // each program joins the first group that lists it (the stack's first)
    let mut owned = BTreeSet::new();
    owned.extend(m.stack_members().into_iter().map(str::to_owned));
    for g in &m.groups {
        let own: Vec<&String> = g
            .services
            .iter()
            .filter(|s| owned.insert((*s).clone()))
            .collect();
        if !own.is_empty() {
            out += &format!("group {} {:?} {own:?}\n", g.name, g.description.trim());
        }
    }
    (out, soft)
}

fn same(back: &Model, m: &Model) -> Result<(), String> {
    let (a, sa) = supervisord_form(back);
    let (b, sb) = supervisord_form(m);
    if a != b {
        return Err(format!("imported:\n{a}\noriginal:\n{b}"));
    }
    for (x, y) in sa.iter().zip(&sb) {
        if !y.is_subset(x) {
            return Err(format!("soft waits lost: {y:?} ⊄ {x:?}"));
        }
    }
    Ok(())
}

#[test]
fn supervisord_ini_imports_back_into_the_same_stack() {
    let all = fixtures();
    for (name, m) in &all {
        let (back, report) = round_trip(BackendKind::Supervisord, Format::Supervisord, m)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(e) = same(&back, m) {
            panic!("{name}: {e}");
        }
        let dropped: Vec<String> = report.dropped().map(ToString::to_string).collect();
        assert!(dropped.is_empty(), "{name}: {dropped:#?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Hostile argv, environment and `pre_start` survive generate → import for supervisord.
    #[test]
    fn hostile_values_survive_supervisord_both_ways(c in cases::case(), desc in cases::value()) {
        let text = format!(
            "name = \"h\"\ndescription = {}\n{}",
            toml::Value::String(desc),
            service_table(&c.args, &c.env, &c.pre)
        );
        let Ok(m) = Model::from_toml("case", &text) else { return Ok(()) };
        match round_trip(BackendKind::Supervisord, Format::Supervisord, &m) {
            Ok((back, _)) => prop_assert_eq!(same(&back, &m), Ok(())),
            Err(e) => prop_assert!(e.contains("services.s") || e.contains("description"), "{}", e),
        }
    }
}
