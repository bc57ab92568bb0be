//! The whole pipeline on arbitrary text, with the invariants that must hold for any input.
//! Shared by the cargo-fuzz target (`fuzz/fuzz_targets/manifest.rs`) and the stable tests
//! that replay the corpora, so CI exercises the same checks without a fuzzer.

use crate::backend::{self, BackendKind, Flags, RenderContext};
use crate::errors::Error;
use crate::manifest::ManifestErrors;
use crate::model::{Check, Logs, Model};
use crate::output;

/// What became of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Refused with these messages (as the CLI prints them).
    Invalid(String),
    /// Valid; rendered by every backend, with this many artifacts in all.
    Rendered(usize),
}

/// Load `text` as a manifest, build the model and render it for every backend in
/// [`BackendKind::ALL`] with the embedded templates, without and with its own flags.
///
/// # Panics
/// When an invariant is broken (that is the point: the fuzzer reports it):
/// an error without a position inside the text or with a terminal control character in its
/// message; a valid model that a backend cannot render; an artifact path that could leave the
/// output directory, appears twice, or contents with a NUL byte.
#[must_use]
pub fn manifest_pipeline(text: &str) -> Outcome {
    match Model::from_toml("fuzz.toml", text) {
        Err(errors) => Outcome::Invalid(check_errors(text, &errors)),
        Ok(model) => {
            check_model(&model);
            Outcome::Rendered(check_render(&model))
        }
    }
}

/// Every string of a valid model, with where it is.
fn strings(model: &Model) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = vec![
        ("name".into(), &model.name),
        ("description".into(), &model.description),
    ];
    for s in &model.services {
        let at = |k: &str| format!("services.{}.{k}", s.name);
        out.push((at("name"), &s.name));
        out.push((at("description"), &s.description));
        out.extend(s.command.iter().map(|a| (at("command"), a)));
        for (k, v) in &s.environment {
            out.push((at("environment"), k));
            out.push((at("environment"), v));
        }
        for (key, v) in [
            ("environment_file", &s.environment_file),
            ("user", &s.user),
            ("group", &s.group),
            ("working_dir", &s.working_dir),
        ] {
            out.extend(v.as_deref().map(|v| (at(key), v)));
        }
        if let Logs::Files { stdout, stderr } = &*s.logs {
            out.push((at("logs"), stdout));
            out.extend(stderr.as_deref().map(|e| (at("logs"), e)));
        }
        out.extend(
            s.instances
                .iter()
                .flatten()
                .map(|i| (at("instances"), i.as_str())),
        );
        out.extend(s.pre_start.iter().flatten().map(|a| (at("pre_start"), a)));
        if let Some(h) = &s.health {
            out.extend(check_strings(&at("health"), &h.check));
        }
    }
    for e in &model.externals {
        let at = |k: &str| format!("external.{}.{k}", e.name);
        out.push((at("name"), &e.name));
        out.push((at("description"), &e.description));
        out.extend(check_strings(&at("check"), &e.check));
    }
    for g in &model.groups {
        out.push((format!("groups.{}.name", g.name), &g.name));
        out.push((format!("groups.{}.description", g.name), &g.description));
    }
    out
}

fn check_strings<'a>(at: &str, c: &'a Check) -> Vec<(String, &'a str)> {
    match c {
        Check::Tcp { host, .. } => vec![(at.to_owned(), host.as_str())],
        Check::Http { url } => vec![(at.to_owned(), url.as_str())],
        Check::Exec { argv } => argv.iter().map(|a| (at.to_owned(), a.as_str())).collect(),
    }
}

/// What the model promises every backend: no value a file format cannot carry, executables
/// and paths absolute, names that are safe as file names.
fn check_model(model: &Model) {
    for (at, value) in strings(model) {
        assert!(
            !value.chars().any(|c| c.is_control() && c != '\t'),
            "{at}: a control character passed validation: {value:?}"
        );
    }
    let names = std::iter::once(model.name.as_str())
        .chain(model.services.iter().map(|s| &*s.name))
        .chain(model.externals.iter().map(|e| e.name.as_str()))
        .chain(model.groups.iter().map(|g| g.name.as_str()));
    for n in names {
        assert!(
            output::safe_relative(n).is_ok() && !n.contains('/') && !n.starts_with('-'),
            "unsafe name {n:?} passed validation"
        );
    }
    for s in &model.services {
        assert!(
            s.command.first().is_some_and(|e| e.starts_with('/')),
            "{}: relative executable",
            s.name
        );
        for argv in &s.pre_start {
            assert!(
                argv.first().is_some_and(|e| e.starts_with('/')),
                "{}: relative pre_start",
                s.name
            );
        }
    }
    assert_eq!(
        model.start_order().len(),
        model.services.len(),
        "the start order lost services"
    );
}

fn check_errors(text: &str, errors: &ManifestErrors) -> String {
    assert!(!errors.0.is_empty(), "an error list without errors");
    let lines = text.split('\n').count();
    for e in &errors.0 {
        assert!(
            e.line >= 1 && e.line <= lines && e.col >= 1,
            "position {}:{} outside the text ({lines} lines): {e}",
            e.line,
            e.col
        );
        assert!(!e.message.is_empty(), "an empty message at {e}");
    }
    let shown = errors.to_string();
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "a control character in the printed errors: {shown:?}"
    );
    shown
}

#[expect(
    clippy::expect_used,
    reason = "the embedded templates are tested to parse"
)]
fn check_render(model: &Model) -> usize {
    let templates =
        backend::templates(&std::collections::BTreeMap::new()).expect("embedded templates parse");
    let mut total = 0;
    for &kind in BackendKind::ALL {
        let b = kind.backend();
        for with_flags in [false, true] {
            let mut flags = Flags::default();
            if with_flags {
                for f in b.flags() {
                    // a switch, or a value every option accepts
                    let v = if *f == crate::backend::launchd::LABEL_PREFIX {
                        "io.fuzz"
                    } else if *f == crate::backend::s6::LAYOUT {
                        crate::backend::s6::OVERLAY
                    } else if *f == crate::backend::kubernetes::INIT_IMAGE {
                        "busybox:1.37"
                    } else {
                        ""
                    };
                    flags.0.insert(f, v.to_owned());
                }
            }
            let ctx = RenderContext::new(&templates, &flags);
            let rendered = match backend::render(kind, model, &ctx) {
                Ok(r) => r,
                // a backend may refuse what its syntax cannot carry, as a clean usage error
                // (exit 2) that names the field; anything else is a bug
                Err(e @ Error::Refused(_)) => {
                    let text = e.to_string();
                    assert!(
                        !text.contains(|c: char| c.is_control() && c != '\t' && c != '\n'),
                        "{}: refusal prints control characters: {text:?}",
                        b.name()
                    );
                    assert_eq!(e.exit_code(), crate::errors::EXIT_INVALID);
                    continue;
                }
                Err(e) => panic!("{} cannot render a valid model: {e:#}", b.name()),
            };
            let mut seen = std::collections::BTreeSet::new();
            for a in &rendered.artifacts {
                assert!(
                    output::safe_relative(&a.path).is_ok(),
                    "{}: unsafe artifact path {:?}",
                    b.name(),
                    a.path
                );
                assert!(
                    seen.insert(a.path.as_str()),
                    "{}: artifact {:?} twice",
                    b.name(),
                    a.path
                );
                assert!(
                    !a.contents().contains('\0'),
                    "{}: NUL in {}",
                    b.name(),
                    a.path
                );
            }
            total += rendered.artifacts.len();
        }
    }
    total
}
