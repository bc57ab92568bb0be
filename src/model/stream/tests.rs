//! The streamed build gives the model the usual build gives, or gives up.

use std::fmt::Write as _;
use std::fs;
use std::sync::Arc;

use super::checked;
use crate::manifest;
use crate::model::Model;

/// The usual build of `text`.
fn usual(text: &str) -> Result<Model, manifest::ManifestErrors> {
    let spec = manifest::parse("t.toml", text)?;
    crate::model::build("t.toml", text, spec)
}

/// `text` streamed: `Some` when the usual build succeeds, and then the same model; its
/// problems, when streamed, the very list the usual build reports.
fn same(text: &str) -> Option<Model> {
    match (checked("t.toml", text), usual(text)) {
        (Some(Ok(s)), Ok(u)) => {
            let s = s.model();
            assert_eq!(s, u, "{text}");
            Some(s)
        }
        (Some(Ok(_)), Err(e)) => panic!("streamed a manifest with problems: {e:?}\n{text}"),
        (Some(Err(e)), Ok(_)) => panic!("problems streamed in a valid manifest: {e:?}\n{text}"),
        (Some(Err(s)), Err(u)) => {
            assert_eq!(s, u, "{text}");
            None
        }
        (None, _) => None,
    }
}

/// Whether `text` streams to its problems (the list the usual build reports: see [`same`]).
fn streams_problems(text: &str) -> bool {
    same(text);
    matches!(checked("t.toml", text), Some(Err(_)))
}

const HEAD: &str = "name = \"s\"\n";

#[test]
fn the_usual_shapes_stream_to_the_usual_model() {
    let full = fs::read_to_string("tests/fixtures/full.toml").expect("fixture");
    assert!(same(&full).is_some());
    assert!(same(manifest::BUILTIN_OPENIM).is_some());
    let mut chain = HEAD.to_owned();
    chain.push_str(
        "[defaults]\nrequires = [\"db\"]\n[defaults.limits]\nnofile = 10\n\
         [external.db]\ncheck = { tcp = \"127.0.0.1:1\" }\n",
    );
    for i in 0..50 {
        let _ = write!(
            chain,
            "[services.s-{i}]\ncommand = [\"/bin/x\", \"{{instance}}\"]\ninstances = 2\n"
        );
        // references ahead and behind, and sub-tables
        if i < 49 {
            let _ = writeln!(chain, "wants = [\"s-{}\"]", (i + 7).min(49));
        }
        if i % 3 == 0 {
            let _ = writeln!(
                chain,
                "[services.s-{i}.health]\ntcp = \"127.0.0.1:{}\"",
                i + 1
            );
        }
    }
    chain.push_str("[groups.g]\nservices = [\"s-1\", \"s-2\"]\n[external.late]\ncheck = { tcp = \"127.0.0.1:2\" }\n");
    assert!(same(&chain).is_some());
    // a quoted name, CRLF line ends, a comment: the header read the slow way, still streamed
    let odd = format!(
        "{HEAD}[services.\"a\"]\r\ncommand = [\"/bin/a\"]\r\n[services.c] # c\r\ncommand = [\"/bin/c\"]\r\nrequires = [\"a\"]\r\n"
    );
    assert!(same(&odd).is_some());
}

#[test]
fn anything_else_gives_up() {
    let cases = [
        // a header-like line in a string
        format!(
            "{HEAD}description = \"\"\"\n[services.ghost]\n\"\"\"\n[services.a]\ncommand = [\"/bin/a\"]\n"
        ),
        // a header with blanks (not found ahead), a service twice, services inline,
        // externals inline
        format!(
            "{HEAD}[services.a]\ncommand = [\"/bin/a\"]\n[ services . c ]\ncommand = [\"/bin/c\"]\n"
        ),
        format!(
            "{HEAD}[services.a]\ncommand = [\"/bin/a\"]\n[services.a]\ncommand = [\"/bin/b\"]\n"
        ),
        format!("{HEAD}services = {{ a = {{ command = [\"/bin/a\"] }} }}\n"),
        format!(
            "{HEAD}[external]\ndb = {{ check = {{ tcp = \"h:1\" }} }}\n[services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"db\"]\n"
        ),
        // problems outside the fast reader (an unknown key, no services); a dependency on
        // a group, whose hint needs the groups before they are read
        format!("{HEAD}[services.a]\ncommand = [\"/bin/a\"]\nbogus = 1\n"),
        HEAD.to_owned(),
        format!(
            "{HEAD}[services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"g\"]\n[groups.g]\nservices = [\"a\"]\n"
        ),
    ];
    for text in &cases {
        assert!(same(text).is_none(), "{text}");
        assert!(checked("t.toml", text).is_none(), "{text}");
    }
}

/// A manifest in the usual shape with problems streams to them: the list the usual build
/// reports, every problem of every service (past the budget of "did you mean" too).
#[test]
fn problems_stream_to_what_the_usual_build_reports() {
    let mut many = HEAD.to_owned();
    for i in 0..300 {
        let _ = write!(
            many,
            "[services.s-{i}]\ncommand = [\"/bin/x\"]\nrequires = [\"s-{}\", \"dep-{i}\"]\n",
            (i + 1) % 300
        );
    }
    many.push_str("[groups.g]\nservices = [\"s-1\", \"t-2\"]\n");
    let cases = [
        format!("{HEAD}[services.a]\ncommand = [\"bin/a\"]\n"),
        format!("{HEAD}[services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"nope\"]\n"),
        format!("{HEAD}[services.a]\ncommand = [\"/bin/a\"]\n[groups.g]\nservices = [\"b\"]\n"),
        format!("{HEAD}[services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"a\"]\n"),
        format!(
            "{HEAD}[defaults]\nrequires = [\"nope\"]\n[services.a]\ncommand = [\"/bin/a\"]\n[services.b]\ncommand = [\"/bin/b\"]\n"
        ),
        many,
    ];
    for text in &cases {
        assert!(streams_problems(text), "{text}");
    }
    let Some(Err(e)) = checked("t.toml", &cases[5]) else {
        panic!("problems")
    };
    // 300 unknown names, a cycle through every service, an unknown group member
    assert!(e.0.len() >= 302, "{}", e.0.len());
}

#[test]
fn the_corpora_stream_to_the_usual_model_or_give_up() {
    let mut problems = 0;
    for dir in [
        "tests/corpus/fuzz-regressions",
        "tests/corpus/invalid",
        "tests/fixtures",
    ] {
        for entry in fs::read_dir(dir).expect("corpus") {
            let bytes = fs::read(entry.expect("entry").path()).expect("read");
            if let Ok(text) = String::from_utf8(bytes) {
                problems += usize::from(streams_problems(&text));
            }
        }
    }
    // the invalid corpus is mostly in the usual shape: its problems stream
    assert!(problems >= 40, "{problems}");
}

#[test]
fn a_late_defaults_header_is_seen_before_streaming() {
    let late = |t: &str| manifest::late_defaults(t);
    let svc = "[services.a]\ncommand = [\"/bin/a\"]\n";
    assert!(late(&format!(
        "{HEAD}{svc}[defaults.container]\nimage = \"i\"\n"
    )));
    assert!(late(&format!("{svc}[defaults]\nuser = \"u\"\n")));
    assert!(!late(&format!("{HEAD}[defaults]\nuser = \"u\"\n{svc}")));
    assert!(!late(&format!(
        "{HEAD}[defaults.limits]\nnofile = 5\n{svc}"
    )));
    assert!(!late(&format!(
        "{HEAD}{svc}[groups.g]\nservices = [\"a\"]\n"
    )));
}

/// A `[defaults]` written after the services is read ahead: the stack streams, to the model
/// the usual build gives; a header-like line that is not a header, or a shape the
/// document would refuse, makes it give up (and the usual build decides).
#[test]
fn late_defaults_are_read_ahead() {
    let svc = |n: &str| format!("[services.{n}]\ncommand = [\"/bin/{n}\"]\n");
    let (a, b) = (svc("a"), svc("b"));
    let streams = [
        // the whole `[defaults]` at the end, with sub-tables
        format!(
            "{HEAD}{a}{b}[defaults]\nuser = \"u\"\nrequires = [\"b\"]\n[defaults.limits]\nnofile = 9\n\
             [defaults.container]\nimage = \"i\"\n"
        ),
        // only a sub-table late, after groups
        format!(
            "{HEAD}{a}{b}[groups.g]\nservices = [\"a\"]\n[defaults.container]\nimage = \"i\"\n"
        ),
        // split: `[defaults]` first, a sub-table between services, another at the end
        format!(
            "{HEAD}[defaults]\nuser = \"u\"\n{a}[defaults.logs]\nstdout = \"/var/log/x.log\"\n{b}\
             [defaults.environment]\nK = \"v\"\n"
        ),
    ];
    for text in &streams {
        let m = same(text).unwrap_or_else(|| panic!("did not stream:\n{text}"));
        assert!(
            m.services
                .iter()
                .all(|s| Arc::ptr_eq(&s.container, &m.services[0].container))
        );
    }
    // the first `[defaults]` read with the top of the document: after a byte order mark it
    // is read ahead too; indented, it is not (the document gives up)
    let split = format!("[defaults]\nuser = \"u\"\n{a}[defaults.limits]\nnofile = 9\n");
    let bom = format!("\u{feff}name = \"s\"\n{split}");
    let m = same(&bom).expect("streams");
    assert!(m.services.iter().all(|s| s.user.as_deref() == Some("u")));
    assert!(same(&format!("name = \"s\"\n  {split}")).is_none());
    let late = format!("{HEAD}{a}{b}[defaults]\nuser = \"u\"\n");
    let m = same(&late).expect("streams");
    assert!(m.services.iter().all(|s| s.user.as_deref() == Some("u")));
    let give_up = [
        // a header-like line inside a multi-line string: not a header
        format!(
            "{HEAD}[services.a]\ncommand = [\"/bin/a\"]\ndescription = \"\"\"x\n[defaults]\nuser = 1\"\"\"\n{b}"
        ),
        // `[defaults]` after one of its sub-tables, or twice
        format!("{HEAD}{a}[defaults.limits]\nnofile = 9\n[defaults]\nuser = \"u\"\n"),
        format!("{HEAD}{a}[defaults]\nuser = \"u\"\n{b}[defaults]\ngroup = \"g\"\n"),
        // an inline `defaults` at the top, then a late header
        format!("name = \"s\"\ndefaults = {{ user = \"u\" }}\n{a}[defaults.limits]\nnofile = 9\n"),
        // an indented header, which the read-ahead does not find
        format!("{HEAD}{a}  [defaults]\nuser = \"u\"\n"),
    ];
    for text in &give_up {
        assert!(same(text).is_none(), "streamed:\n{text}");
    }
}
