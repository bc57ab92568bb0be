//! The fast reader against `toml` (the reference): whenever the fast reader returns a
//! manifest, `toml` must return the same one (Debug-equal); when it gives up, the caller uses
//! `toml`, so errors are `toml`'s by construction. Generated manifests cover the usual shape
//! and tricky TOML (sub-tables, dotted keys, inline tables over lines, multi-line strings
//! holding header lines, escapes, comments with brackets, CRLF, a BOM, duplicates).

mod generate;

use std::fmt::Write as _;

use proptest::prelude::*;

use self::generate::{manifest, mutated};
use super::{parse, parse_streamed};
use crate::manifest::load::parse_toml;
use crate::manifest::{BUILTIN_OPENIM, Manifest, ServiceSink, ServiceSpec};

/// Whether the fast reader took `text`; panics when it disagrees with `toml`, or when the
/// streamed reader disagrees with it (see [`streams_the_same`]).
fn agrees(text: &str) -> bool {
    let Some(fast) = parse(text) else {
        return false;
    };
    match parse_toml(text) {
        Ok(reference) => assert_eq!(
            format!("{fast:#?}"),
            format!("{reference:#?}"),
            "different manifests from\n{text}"
        ),
        Err(e) => panic!("the fast reader accepted what toml rejects ({e:?}):\n{text}"),
    }
    streams_the_same(text, &fast);
    true
}

/// What the streamed reader hands over: `[defaults]` as each service got it, the name, the
/// service's table.
#[derive(Default)]
struct Collected(Vec<(String, String, String)>);

impl ServiceSink for Collected {
    fn service(&mut self, defaults: &ServiceSpec, name: String, spec: ServiceSpec) -> bool {
        self.0
            .push((format!("{defaults:#?}"), name, format!("{spec:#?}")));
        true
    }
}

/// When the streamed reader takes `text` (whose manifest is `whole`) and hands over every
/// service (the model's streamed build uses it only then), every service gets the complete
/// `[defaults]` (also one written after it: read ahead), the services come in order as
/// `whole` has them, and the rest is `whole` without its services.
fn streams_the_same(text: &str, whole: &Manifest) {
    let mut got = Collected::default();
    let Some(rest) = parse_streamed(text, &mut got).filter(|m| m.services.is_empty()) else {
        return;
    };
    let defaults = format!("{:#?}", whole.defaults);
    let services: Vec<(String, String, String)> = whole
        .services
        .iter()
        .map(|(n, s)| (defaults.clone(), n.clone(), format!("{s:#?}")))
        .collect();
    assert_eq!(got.0, services, "streamed services of\n{text}");
    let mut without = whole.clone();
    without.services.clear();
    assert_eq!(
        format!("{rest:#?}"),
        format!("{without:#?}"),
        "streamed\n{text}"
    );
}

#[test]
fn fixtures_and_the_builtin_manifest_take_the_fast_path() {
    for text in [
        BUILTIN_OPENIM,
        include_str!("../../../tests/fixtures/full.toml"),
        include_str!("../../../tests/fixtures/minimal.toml"),
        include_str!("../../../tests/fixtures/supervisord-hostile.toml"),
    ] {
        assert!(agrees(text), "not read by the fast reader:\n{text}");
        assert!(agrees(&text.replace('\n', "\r\n")), "CRLF");
        assert!(agrees(&format!("\u{feff}{text}")), "BOM");
    }
}

#[test]
fn corpus_files_agree() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut n = 0;
    for sub in ["invalid", "fuzz-regressions"] {
        let Ok(entries) = std::fs::read_dir(format!("{dir}/{sub}")) else {
            continue;
        };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            let _ = agrees(&String::from_utf8_lossy(&bytes));
            n += 1;
        }
    }
    assert!(n > 50, "the corpus is missing ({n} files)");
}

/// Manifests in the usual shape that the fast reader must take (and agree on).
const TAKEN: &[&str] = &[
    "name = \"x\"\n",
    "name = 'x' # c [services.z]\ndescription = \"\"\"\n[services.y]\nz\"\"\"\n",
    "name = \"x\"\n[services.a]\ncommand = [\n  \"/bin/a\", # [services.b]\n  '-v',\n]\n",
    "name = \"x\"\n[ services . \"a.b\" ]\ncommand = [\"/bin/a\"]\n[services.'c d']\n",
    "name = \"x\"\n[services.a]\nenvironment = { A = \"1\", \"B C\" = '2', }\n",
    "name = \"x\"\n[services.a]\nenvironment = {\n  A = \"1\", # one\n  B = \"2\"\n}\n",
    "name = \"x\"\n[services.a]\n[services.a.health]\ntcp = \"h:1\"\n[services.b]\n",
    "name = \"x\"\n[defaults]\nuser = \"u\"\n[defaults.container]\nimage = \"i\"\n[defaults.container.environment]\nA = \"1\"\n[services.a]\n",
    "name = \"x\"\n[services]\na = { command = [\"/a\"] }\n[services.b]\ncommand = [\"/b\"]\n",
    "name = \"x\"\n[defaults]\nuser = \"u\"\n[services.a]\n[defaults.container]\nimage = \"i\"\n[defaults.container.environment]\nA = \"1\"\n",
    "name = \"x\"\n[services.a]\n[defaults.limits]\nnofile = 1\n[defaults.logs]\nstdout = \"/l\"\n",
    "name = \"\\u00e9\\U0001F600\\x41\\e\\t\\\"\\\\\"\n",
    "name = \"\"\"a\\\n    b \\  \n\n  c\"\"\"\n",
    "name = \"\"\"q\"\"\"\"\ndescription = '''''q'''''\n",
    "name = \"x\"\n[services.a]\ninstances = +3\nsuccess_exit_codes = [-1, 0, 255]\n",
    "name = \"x\"\n[services.a]\nrestart = 'on-failure'\nsandbox = \"off\"\nstop_signal = \"kill\"\n",
    "name = \"x\"\n[external.k]\ncheck = { tcp = \"h:1\" }\n[groups.g]\nservices = []\n",
    "\u{feff}name = \"x\"\n",
    "name\t=\t\"x\"\t#\ttab\n\n\n",
    "name = \"\"\"\"\"\"\"\n",
];

#[test]
fn the_usual_shape_takes_the_fast_path() {
    for text in TAKEN {
        assert!(agrees(text), "not read by the fast reader:\n{text}");
        assert!(agrees(&text.replace('\n', "\r\n")), "CRLF:\n{text}");
    }
}

/// Documents the fast reader leaves to `toml` (valid or not).
const LEFT: &[&str] = &[
    "name = \"x\"\nname = \"y\"\n",
    "name = \"x\"\n[services.a]\n[services.a]\n",
    "name = \"x\"\n[services.a]\n[services.\"a\"]\n",
    "name = \"x\"\n[services.a]\nenvironment = { A = \"1\", A = \"2\" }\n",
    "name = \"x\"\n[services.a]\nhealth.tcp = \"h:1\"\n",
    "name = \"x\"\n[services.a.health]\ntcp = \"h:1\"\n[services.a]\n",
    "name = \"x\"\n[services.a]\nhealth = { tcp = \"h:1\" }\n[services.a.health]\n",
    "name = \"x\"\n[[services.a]]\n",
    "name = \"x\"\ndefaults = { user = \"u\" }\n[services.a]\n[defaults.container]\n",
    "name = \"x\"\n[defaults]\ncontainer = {}\n[services.a]\n[defaults.container]\n",
    "name = \"x\"\n[defaults]\n[services.a]\n[defaults.limits]\n[defaults.limits]\n",
    "name = \"x\"\n[defaults]\n[services.a]\n[defaults.user]\n",
    "name = \"x\"\n[services.a]\n[defaults.logs]\n[defaults]\n",
    "name = \"x\"\nservices = {}\n[services.a]\n",
    "name = \"x\"\n[services.a]\ninstances = 1.0\n",
    "name = \"x\"\n[services.a]\ninstances = 0x10\n",
    "name = \"x\"\n[services.a]\ninstances = 1_0\n",
    "name = \"x\"\n[services.a]\ninstances = 01\n",
    "name = 1979-05-27\n",
    "name = \"x\r\"\n",
    "name = \"x\"\r",
    "name = \"x\" # \u{7f}\n",
    "name = \"\\q\"\n",
    "name = \"\\ud800\"\n",
    "name = \"x\"\"\n",
    "name = \"x\"\n[services.a]\ncommand = [\"/a\",,]\n",
    "name = \"x\"\n[services.a]\ncommand = [,]\n",
    "name = \"x\"\n[services.a]\ncommand = [\"/a\" \"/b\"]\n",
    "[services.a]\n",
    "name = \"x\"\n[services.a]\nbogus = 1\n",
    "name = \"x\"\n[services.a]\ninstances = 9223372036854775808\n",
];

#[test]
fn everything_else_is_left_to_toml() {
    for text in LEFT {
        assert!(!agrees(text), "taken by the fast reader:\n{text}");
    }
}

/// Every table struct of the manifest denies unknown keys, so that serde's derive reports
/// any key given twice (known fields are reported by the derive): the fast reader relies on it.
#[test]
fn every_table_struct_denies_unknown_keys() {
    fn walk(v: &serde_json::Value, n: &mut usize) {
        match v {
            serde_json::Value::Object(o) => {
                if o.contains_key("properties") {
                    assert_eq!(o.get("additionalProperties"), Some(&false.into()), "{v}");
                    *n += 1;
                }
                o.values().for_each(|v| walk(v, n));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, n)),
            _ => {}
        }
    }
    let schema = serde_json::from_str(&crate::manifest::json_schema()).unwrap_or_default();
    let mut n = 0;
    walk(&schema, &mut n);
    assert!(n >= 9, "{n} table structs");
}

#[test]
fn deep_nesting_is_left_to_toml() {
    let mut text = String::from("name = \"x\"\n[services.a]\n");
    let mut path = String::from("services.a");
    for i in 0..200 {
        let _ = write!(path, ".k{i}");
        let _ = writeln!(text, "[{path}]");
    }
    assert!(!agrees(&text));
    let deep = format!("name = {}1{}\n", "[".repeat(100), "]".repeat(100));
    assert!(!agrees(&deep));
}

#[test]
fn many_keys_in_one_table_are_checked_for_duplicates() {
    let mut text = String::from("name = \"x\"\n[services.a]\nenvironment = { ");
    for i in 0..40 {
        let _ = write!(text, "K{i} = \"{i}\", ");
    }
    assert!(agrees(&format!("{text}}}\n")));
    assert!(!agrees(&format!("{text}K7 = \"again\" }}\n")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn generated_manifests_agree(text in manifest()) {
        agrees(&text);
    }

    #[test]
    fn mutated_fixtures_agree(text in mutated()) {
        agrees(&text);
    }
}

/// `n` texts of `strategy`, the same on every run.
fn sampled(strategy: &impl Strategy<Value = String>, n: usize) -> Vec<String> {
    use proptest::strategy::ValueTree as _;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok())
        .map(|tree| tree.current())
        .collect()
}

/// The generators are worth something only if the fast reader takes most of what `toml`
/// accepts among them.
#[test]
fn the_fast_reader_takes_most_valid_generated_manifests() {
    let (mut valid, mut taken) = (0, 0);
    for text in sampled(&manifest(), 500) {
        valid += usize::from(parse_toml(&text).is_ok());
        taken += usize::from(agrees(&text));
    }
    assert!(valid > 100 && taken * 10 >= valid * 9, "{taken} of {valid}");
}

/// Corner cases of TOML: taken or left, the fast reader must agree with `toml`.
const EDGES: &[&str] = &[
    "name = \"x\"#c\n",
    "name='x'\n[services.a]\ninstances=1#c\n",
    "name = \"x\"\n[services.a]\ninstances = 1 \n",
    "  name = \"x\"\n  [services.a]\n  command = [ ]\n",
    "name = \"x\"\n[\"services\".a]\n",
    "name = \"x\"\n[services.\"\"]\n",
    "\"name\" = \"x\"\n",
    "\"\\u006eame\" = \"x\"\n",
    "name = \"x\"\n[services.a]\nhealth = {}\n",
    "name = \"x\"\n[services.a]\nhealth = { tcp = \"a\", tcp = \"b\" }\n",
    "name = \"x\"\n[services.a]\ncontainer = { ports = [70000] }\n",
    "name = \"x\"\n[services.a]\ninstances = []\n",
    "name = \"x\"\n[services.a]\nhealth = [\"h:1\"]\n",
    "name = \"x\"\n[services.a]\nrestart = { always = {} }\n",
    "name = \"x\"\n[services.a]\nrestart = \"Always\"\n",
    "name = \"x\"\n[services.a]\nenvironment = { }\n",
    "name = \"x\"\n[services.a]\nenvironment = {\n}\n",
    "name = \"x\"\n[services.a]\nenvironment = {\nA = \"1\"\n}\n",
    "name = \"x\"\n[services.a]\nenvironment = { A\n= \"1\" }\n",
    "name = \"x\"\n[services.a]\nenvironment = { A =\n\"1\" }\n",
    "name = \"x\"\n[services.a]\ncommand = [\n\"a\"\n,\n\"b\"\n]\n",
    "name = \"x\"\n[services.a]\ncommand = [\"a\"\n# c\n]\n",
    "name = \"x\"\n[services.a]\ncommand = [\"a\",]\n",
    "name = \"x\"\n[services.a]\n\n\n# c\n\n[services.b]\n",
    "name = \"x\"\n[services.a] \t# c\n",
    "name = \"x\"\n[services.a]\n[services.a.environment]\nA = \"1\"\n",
    "name = \"x\"\n[services.a]\nenvironment = {}\n[services.a.environment]\nA = \"1\"\n",
    "name = \"x\"\n[services]\na = {}\n[services.a]\n",
    "name = \"x\"\n[services]\n[services.a]\n[services.b]\n",
    "name = \"x\"\n[services.a.health]\n",
    "name = \"x\"\ndescription = \"\"\"\r\nx\r\ny\"\"\"\n",
    "name = \"x\"\ndescription = '''\r\nx\r\ny'''\n",
    "name = \"x\"\ndescription = \"\"\"x\\\r\n  y\"\"\"\n",
    "name = \"x\"\ndescription = \"\"\"x\\ \r\n  y\"\"\"\n",
    "name = \"x\"\ndescription = \"\"\"x\\ y\"\"\"\n",
    "name = \"x\"\ndescription = \"\"\"\"\"\"\n",
    "name = \"x\"\ndescription = ''''''\n",
    "name = \"x\"\ndescription = '''''''\n",
    "name = \"x\"\ndescription = ''''''''\n",
    "name = \"x\"\ndescription = \"\"\"a\"\"\"\"\"\"\n",
    "name = \"\\U0010FFFF\\U00110000\"\n",
    "name = \"\\x80\\xff\"\n",
    "name = \"\\uD7FF\\uE000\"\n",
    "name = \"é\u{7f}\"\n",
    "name = \"\u{1}\"\n",
    "name = 'tab\tok'\n",
    "name = \"x\"\n[services.a]\ninstances = -9223372036854775808\n",
    "name = \"x\"\n[services.a]\ninstances = +0\n",
    "name = \"x\"\n[services.a]\ninstances = -0\n",
    "name = \"x\"\n[services.a]\ninstances = 0\n",
    "name = \"x\"\n[services.a]\ninstances = true\n",
    "name = \"x\"\n[services.a]\nsuccess_exit_codes = [1,2,]\n",
    "name = \"x\"\n[services.a]\npre_start = [[], [\"a\"],]\n",
    "name = \"x\"\n[groups.g]\nservices = [\"a\"]\n[groups.g.x]\n",
    "name = \"x\"\n[external.e]\ncheck = { tcp = \"h:1\" }\n[external.e.check]\n",
    "name = \"x\"\n[external.e]\n[external.e.check]\ntcp = \"h:1\"\n",
    "name = \"x\"\n[defaults]\n[defaults]\n",
    "name = \"x\"\ndefaults = {}\n[defaults]\n",
    "name = \"x\"\n[services.a]\n[defaults]\nuser = \"u\"\n",
    "name = \"x\"\n[services.a]\n[defaults.container]\n",
    "name = \"x\"\n\u{feff}",
    "\u{feff}\u{feff}name = \"x\"\n",
    "name = \"x\"\n[services.a]\ncommand = [\"a\"] [\"b\"]\n",
    "name = \"x\" \"y\"\n",
    "name = \"x\"\n[services.a]]\n",
    "name = \"x\"\n[services.a\n",
    "name = \"x\"\n[services..a]\n",
    "name = \"x\"\n[services.a.]\n",
    "name = \"x\"\n[.services.a]\n",
    "name = \"x\"\n[]\n",
    "name =\n\"x\"\n",
    "name = \"x\"\n[services.a]\ncommand = [\"a\"]\n[services.b]\ncommand = [\"a\"]\n[services.a]\n",
];

#[test]
fn corner_cases_agree() {
    for text in EDGES {
        agrees(text);
        agrees(&text.replace('\n', "\r\n"));
    }
}

/// Stacks whose `[defaults]` tables come anywhere among the services (before, between,
/// after them), in any order.
fn defaults_anywhere() -> impl Strategy<Value = String> {
    let tables = prop::sample::subsequence(
        vec![
            "[defaults]\nuser = \"u\"\nrestart = \"always\"\n",
            "[defaults.limits]\nnofile = 7\n",
            "[defaults.container]\nimage = \"i\"\n",
            "[defaults.environment]\nK = \"v\"\n",
        ],
        1..=4,
    )
    .prop_shuffle();
    let places = prop::collection::vec(any::<prop::sample::Index>(), 4);
    (tables, 1usize..5, places).prop_map(|(tables, n, places)| {
        let mut sections: Vec<String> = (0..n)
            .map(|i| format!("[services.s{i}]\ncommand = [\"/bin/s{i}\"]\n"))
            .collect();
        for (table, at) in tables.iter().zip(places) {
            sections.insert(at.index(sections.len() + 1), (*table).to_owned());
        }
        format!("name = \"x\"\n{}", sections.concat())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Wherever `[defaults]` is written, what streams is what `toml` reads.
    #[test]
    fn defaults_anywhere_stream_the_same(text in defaults_anywhere()) {
        agrees(&text);
    }
}

/// Most of those stream (all but `[defaults]` after one of its sub-tables, which the
/// document reads only the usual way).
#[test]
fn defaults_anywhere_mostly_stream() {
    let (mut late, mut streamed) = (0, 0);
    for text in sampled(&defaults_anywhere(), 300) {
        if !crate::manifest::late_defaults(&text) {
            continue;
        }
        late += 1;
        let mut got = Collected::default();
        streamed +=
            usize::from(parse_streamed(&text, &mut got).is_some_and(|m| m.services.is_empty()));
    }
    assert!(late > 100 && streamed * 2 >= late, "{streamed} of {late}");
}
