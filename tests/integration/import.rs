//! `import` (issue 15): what openim-init renders reads back into the same stack
//! (`import(generate(M)) == M` on the fields the backend carries), hostile values survive
//! both ways, and every unit installed on this machine imports without a panic.

use std::path::{Path, PathBuf};

use openim_init::backend::{self, BackendKind, Body, Flags};
use openim_init::import::{self, Format, Memory, Options};
use openim_init::model::{DepKind, Logs, Model, Target};
use proptest::prelude::*;

use crate::roundtrip::cases;

/// Render `model` for `kind` into memory and import it back.
pub(crate) fn round_trip(
    kind: BackendKind,
    format: Format,
    model: &Model,
) -> Result<(Model, import::Report), String> {
    let rendered =
        backend::render_embedded(kind, model, &Flags::default()).map_err(|e| e.to_string())?;
    let mut files = Memory::default();
    for a in &rendered.artifacts {
        if let Body::File { contents, .. } = &a.body {
            files
                .0
                .insert(PathBuf::from("/r").join(&a.path), contents.clone());
        }
    }
    let paths: Vec<PathBuf> = files.0.keys().cloned().collect();
    let opts = Options {
        name: Some(model.name.clone()),
        resolve: false,
        env: Vec::new(),
    };
    let imported = import::import(format, &paths, &files, &opts).map_err(|f| f.to_string())?;
    let back = imported
        .model()
        .map_err(|e| format!("{e}\n{}", imported.to_toml()))?;
    Ok((back, imported.report))
}

/// What systemd units carry of a model, as comparable text: every service field (health
/// as its check and window, soft external edges as one kind), the externals some service
/// waits for, the stack and its groups. Not carried: descriptions of externals,
/// `container` tables, health timing beyond the window.
fn systemd_form(m: &Model) -> String {
    // unit files strip ASCII blanks around values
    let trim = |s: &str| s.trim_matches([' ', '\t']).to_owned();
    let mut out = format!(
        "stack {} {:?} {:?}\n",
        m.name,
        trim(&m.description),
        m.stack_members()
    );
    for (i, s) in m.services.iter().enumerate() {
        let mut deps: Vec<String> = m
            .view
            .dependencies(i)
            .iter()
            .map(|d| match d.target {
                Target::Service(t) => format!("{:?} {}", d.kind, m.services[t].name),
                Target::External(e) => {
                    let x = &m.externals[e];
                    let kind = if d.kind == DepKind::Requires {
                        "hard"
                    } else {
                        "soft"
                    };
                    format!(
                        "{kind} {} {:?} {}",
                        x.name,
                        x.check,
                        x.wait_timeout.secs_ceil()
                    )
                }
            })
            .collect();
        deps.sort();
        let logs = match &*s.logs {
            Logs::Files { stdout, stderr } if stderr.as_ref() == Some(stdout) => Logs::Files {
                stdout: stdout.clone(),
                stderr: None,
            },
            l => l.clone(),
        };
        let health = s.health.as_ref().map(|h| (h.check.clone(), h.window()));
        out += &format!(
            "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {deps:?} {:?} {health:?} {:?} {:?}\n",
            s.name,
            trim(&s.description),
            s.command,
            s.instances,
            s.environment,
            s.environment_file,
            s.user,
            s.group,
            s.working_dir,
            s.restart,
            s.restart_delay,
            s.start_limit,
            s.stop_signal,
            s.stop_timeout,
            s.success_exit_codes,
            s.limits,
            logs,
            s.before,
            s.pre_start,
            s.sandbox,
        );
    }
    for g in &m.groups {
        out += &format!(
            "group {} {:?} {:?}\n",
            g.name,
            trim(&g.description),
            g.services
        );
    }
    out
}

pub(crate) fn fixtures() -> Vec<(String, Model)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = vec![("built-in".to_owned(), Model::builtin())];
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let name = p.display().to_string();
        match Model::from_toml(&name, &text) {
            Ok(m) => out.push((name, m)),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    out
}

#[test]
fn systemd_units_import_back_into_the_same_stack() {
    let all = fixtures();
    assert!(all.len() >= 4, "the built-in manifest and the fixtures");
    for (name, m) in &all {
        let (back, report) = round_trip(BackendKind::Systemd, Format::Systemd, m)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(systemd_form(&back), systemd_form(m), "{name}");
        let dropped: Vec<String> = report.dropped().map(ToString::to_string).collect();
        assert!(dropped.is_empty(), "{name}: {dropped:#?}");
    }
}

pub(crate) fn service_table(
    args: &[String],
    env: &std::collections::BTreeMap<String, String>,
    pre: &[Vec<String>],
) -> String {
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let list = |v: &[String]| v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
    let mut t = format!(
        "[services.s]\ncommand = [\"/opt/x/bin/app\", {}]\n",
        list(args)
    );
    if !env.is_empty() {
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k} = {}", q(v))).collect();
        t += &format!("environment = {{ {} }}\n", pairs.join(", "));
    }
    if !pre.is_empty() {
        let cmds: Vec<String> = pre
            .iter()
            .map(|p| format!("[\"/opt/x/bin/pre\", {}]", list(p)))
            .collect();
        t += &format!("pre_start = [{}]\n", cmds.join(", "));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Hostile argv, environment and `pre_start` survive generate → import for systemd.
    #[test]
    fn hostile_values_survive_systemd_both_ways(c in cases::case(), desc in cases::value()) {
        let text = format!(
            "name = \"h\"\ndescription = {}\n{}",
            toml::Value::String(desc),
            service_table(&c.args, &c.env, &c.pre)
        );
        let Ok(m) = Model::from_toml("case", &text) else { return Ok(()) };
        match round_trip(BackendKind::Systemd, Format::Systemd, &m) {
            Ok((back, _)) => prop_assert_eq!(systemd_form(&back), systemd_form(&m)),
            // what systemd cannot carry is refused at render, naming the field
            Err(e) => prop_assert!(e.contains("services.s") || e.contains("description"), "{}", e),
        }
    }
}

/// Every `.service` unit installed here imports without a panic, each with a report of
/// what was dropped.
#[test]
fn installed_units_import_with_a_report() {
    let mut units: Vec<PathBuf> = Vec::new();
    for dir in ["/lib/systemd/system", "/usr/lib/systemd/system"] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        units.extend(
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "service") && p.is_file()),
        );
    }
    let (mut ok, mut dropped) = (0, 0);
    for u in &units {
        let out = import::import(
            Format::Systemd,
            std::slice::from_ref(u),
            &import::Disk,
            &Options::default(),
        );
        if let Ok(imported) = out {
            let n = imported.report.dropped().count();
            dropped += n;
            if let Err(e) = imported.model() {
                panic!(
                    "{}: the imported manifest is invalid:\n{e}\n{}",
                    u.display(),
                    imported.to_toml()
                );
            }
            ok += 1;
        }
    }
    eprintln!(
        "installed units: {} found, {ok} imported, {dropped} directives reported dropped",
        units.len()
    );
    assert!(units.is_empty() || ok > 0);
}

#[test]
fn procfile_lines_shell_and_env() {
    let mut files = Memory::default();
    files.0.insert(
        PathBuf::from("/app/Procfile"),
        "web: /usr/bin/web --port 5000 'a b'\nworker: bundle exec sidekiq\nclock: /bin/clock | tee x\n# comment\nnot a process\n".into(),
    );
    files.0.insert(
        PathBuf::from("/app/.env"),
        "PORT=5000\nexport NAME=\"x y\"\n".into(),
    );
    let opts = Options {
        name: Some("app".into()),
        resolve: false,
        env: Vec::new(),
    };
    let imported = import::import(
        Format::Procfile,
        &[PathBuf::from("/app/Procfile")],
        &files,
        &opts,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let m = imported
        .model()
        .unwrap_or_else(|e| panic!("{e}\n{}", imported.to_toml()));
    let web = m
        .service("web")
        .map(|s| (s.command.to_vec(), s.environment.to_vec()));
    assert_eq!(
        web,
        Some((
            vec![
                "/usr/bin/web".into(),
                "--port".into(),
                "5000".into(),
                "a b".into()
            ],
            vec![
                ("PORT".into(), "5000".into()),
                ("NAME".into(), "x y".into())
            ]
        ))
    );
    assert_eq!(
        m.service("clock").map(|s| s.command.to_vec()[..2].to_vec()),
        Some(vec!["/bin/sh".into(), "-c".into()])
    );
    let report: Vec<String> = imported
        .report
        .items
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        report
            .iter()
            .any(|r| r.contains(":5") && r.contains("skipped")),
        "{report:#?}"
    );
    assert!(report.iter().any(|r| r.contains("`bundle`")), "{report:#?}");
}

#[test]
fn hardening_no_sandbox_level_gives_is_reported_and_adds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = dir.path().join("x.service");
    std::fs::write(
        &unit,
        "[Service]\nExecStart=/usr/bin/x\nNoNewPrivileges=yes\nProtectSystem=full\n",
    )
    .expect("unit");
    let r = crate::common::Cli::new()
        .args(["import", "systemd"])
        .arg(&unit)
        .ok();
    assert!(r.stdout.contains("sandbox = \"off\""), "{}", r.stdout);
    assert!(
        r.stderr.contains("NoNewPrivileges=") && r.stderr.contains("no `sandbox` level"),
        "{}",
        r.stderr
    );
}
