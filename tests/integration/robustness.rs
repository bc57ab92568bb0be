//! The fuzz target's function (`openim_init::fuzzing::manifest_pipeline`) on stable Rust:
//! every corpus file, then random TOML-ish text, mutated fixtures and random manifests.
//! It panics when an invariant breaks; here nothing may panic.

use std::fmt::Write as _;

use openim_init::fuzzing::{Outcome, manifest_pipeline};
use openim_init::manifest::BUILTIN_OPENIM;
use proptest::prelude::*;

use crate::common::{fixture, root};
use crate::errors::corpus;

#[test]
fn every_corpus_file_goes_through_the_pipeline() {
    for path in corpus("invalid") {
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let outcome = manifest_pipeline(&text);
        assert!(
            matches!(outcome, Outcome::Invalid(_)),
            "{} was accepted",
            path.display()
        );
    }
    // crashes found by fuzzing: each must now be either valid or a clean error
    let regressions = corpus("fuzz-regressions");
    assert!(!regressions.is_empty(), "the regression corpus is missing");
    for path in regressions {
        let bytes = std::fs::read(&path).expect("regression file");
        let text = String::from_utf8_lossy(&bytes);
        let _ = manifest_pipeline(&text);
    }
    for name in ["minimal.toml", "full.toml"] {
        let text = std::fs::read_to_string(fixture(name)).expect("fixture");
        assert!(
            matches!(manifest_pipeline(&text), Outcome::Rendered(n) if n > 0),
            "{name} does not render"
        );
    }
    assert!(matches!(manifest_pipeline(BUILTIN_OPENIM), Outcome::Rendered(n) if n > 0));
    // the fuzzer's seed directories must exist where the README says
    assert!(root().join("fuzz/fuzz_targets/manifest.rs").is_file());
}

/// Pieces of manifests: keys, headers, values and the syntax between them.
const PIECES: &[&str] = &[
    "name = \"x\"\n",
    "[services.a]\n",
    "[services.b]\n",
    "[services.\"a.b\"]\n",
    "[external.k]\n",
    "[groups.g]\n",
    "[groups.x]\n",
    "[defaults]\n",
    "[services.a.health]\n",
    "command = [\"/bin/a\", \"{instance}\"]\n",
    "command = [\"/bin/a\"]\n",
    "command = []\n",
    "instances = 3\n",
    "instances = [\"eu\", \"us\"]\n",
    "instances = 100000\n",
    "requires = [\"b\"]\n",
    "requires = [\"k\"]\n",
    "after = [\"a\"]\n",
    "before = [\"b\"]\n",
    "wants = [\"g\"]\n",
    "services = [\"a\", \"b\"]\n",
    "check = { tcp = \"127.0.0.1:1\" }\n",
    "check = { exec = [\"/bin/true\"] }\n",
    "health = { http = \"http://h/\" }\n",
    "tcp = \"[::1]:80\"\n",
    "environment = { A = \"%$\\\\;\\\"\" }\n",
    "environment = { \"1\" = \"\\u0000\" }\n",
    "logs = { stdout = \"/l\" }\n",
    "limits = { nofile = 0, cpu_quota = 4294967295 }\n",
    "restart_delay = \"1h30min\"\n",
    "stop_signal = \"kill\"\n",
    "pre_start = [[\"/bin/x\"], []]\n",
    "success_exit_codes = [255, -1]\n",
    "description = \"\u{1b}[31m \u{202e} é\"\n",
    "=",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\"\"\"",
    ",",
    ".",
    "\n",
    " ",
    "#",
    "\\",
    "a",
    "1",
    "-",
    "\r\n",
    "\t",
    "\u{0}",
    "é",
];

fn toml_ish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

/// A fixture with some bytes replaced, inserted or deleted (at character boundaries).
fn mutated() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        include_str!("../fixtures/full.toml"),
        include_str!("../fixtures/minimal.toml"),
        BUILTIN_OPENIM,
    ]);
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..8);
    (base, edits).prop_map(|(base, edits)| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, kind, c) in edits {
            if chars.is_empty() {
                break;
            }
            let i = at.index(chars.len());
            match kind {
                0 => chars[i] = c,
                1 => chars.insert(i, c),
                _ => {
                    chars.remove(i);
                }
            }
        }
        chars.into_iter().collect()
    })
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A syntactically valid manifest with random names and values (often invalid ones).
fn random_manifest() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "a", "b", "c", "api", "x.y", "-a", "../a", "", "a b", "é",
    ]);
    let word = ".{0,12}";
    let service = (
        name.clone(),
        prop::collection::vec(word, 0..4),
        prop::option::of(-2i64..6),
        prop::collection::vec(name.clone(), 0..3),
        prop::collection::vec(name.clone(), 0..2),
        prop::collection::vec((word, word), 0..3),
    );
    (
        name.clone(),
        prop::collection::vec(service, 0..5),
        prop::collection::vec((name.clone(), prop::collection::vec(name, 0..3)), 0..2),
    )
        .prop_map(|(stack, services, groups)| {
            let q = |s: &str| toml_string(s);
            let list = |v: &[&str]| v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
            let mut t = format!("name = {}\n", q(stack));
            for (n, argv, inst, req, after, env) in &services {
                let _ = writeln!(t, "[services.{}]", q(n));
                let mut argv: Vec<String> = argv.iter().map(|a| q(a)).collect();
                argv.insert(0, q("/bin/x"));
                let _ = writeln!(t, "command = [{}]", argv.join(", "));
                if let Some(i) = inst {
                    let _ = writeln!(t, "instances = {i}");
                }
                let _ = write!(t, "requires = [{}]\nafter = [{}]\n", list(req), list(after));
                let env: Vec<String> = env
                    .iter()
                    .map(|(k, v)| format!("{} = {}", q(k), q(v)))
                    .collect();
                let _ = writeln!(t, "environment = {{ {} }}", env.join(", "));
            }
            for (g, members) in &groups {
                let _ = write!(t, "[groups.{}]\nservices = [{}]\n", q(g), list(members));
            }
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn toml_ish_text_never_panics(text in toml_ish()) {
        let _ = manifest_pipeline(&text);
    }

    #[test]
    fn mutated_fixtures_never_panic(text in mutated()) {
        let _ = manifest_pipeline(&text);
    }

    #[test]
    fn random_manifests_never_panic(text in random_manifest()) {
        let _ = manifest_pipeline(&text);
    }
}

/// Every error of a mutated manifest has a position inside the text, a field and a hint.
fn points_and_helps(text: &str) -> Result<(), String> {
    let Err(errors) = openim_init::model::Model::from_toml("m.toml", text) else {
        return Ok(());
    };
    let lines = text.split('\n').count();
    for e in &errors.0 {
        if e.line == 0 || e.line > lines || e.col == 0 {
            return Err(format!("position outside the text: {e}"));
        }
        if e.field.is_empty() {
            return Err(format!("no field: {e}"));
        }
        if e.hint.as_deref().is_none_or(str::is_empty) {
            return Err(format!("no hint: {e}"));
        }
    }
    Ok(())
}

/// Values of the wrong type, range or unit.
const BAD_VALUES: &[&str] = &[
    "0",
    "\"\"",
    "-1",
    "\"5 parsecs\"",
    "[]",
    "{}",
    "true",
    "\"x\"",
    "4294967296",
    "[1]",
    "{ a = 1 }",
    "\"0s\"",
    "1.5",
    "\"3416063717354h\"",
    "[\"\"]",
    "\"/\"",
];

/// A fixture with some values (what follows ` = ` up to the end of the line) replaced.
fn mutated_values() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        include_str!("../fixtures/full.toml"),
        include_str!("../fixtures/minimal.toml"),
        BUILTIN_OPENIM,
    ]);
    let edits = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::sample::select(BAD_VALUES),
        ),
        1..4,
    );
    (base, edits).prop_map(|(base, edits)| {
        let mut text = base.to_owned();
        for (at, bad) in edits {
            let values: Vec<usize> = text.match_indices(" = ").map(|(i, _)| i + 3).collect();
            if values.is_empty() {
                break;
            }
            let start = values[at.index(values.len())];
            let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
            text.replace_range(start..end, bad);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_error_of_a_mutated_manifest_points_and_helps(text in mutated()) {
        if let Err(why) = points_and_helps(&text) {
            prop_assert!(false, "{}\n--- manifest:\n{}", why, text);
        }
    }

    #[test]
    fn every_error_of_a_wrong_value_points_and_helps(text in mutated_values()) {
        if let Err(why) = points_and_helps(&text) {
            prop_assert!(false, "{}\n--- manifest:\n{}", why, text);
        }
    }
}
