//! The shell faces: `graph` (and the README's picture of the built-in stack, kept in sync),
//! `completions`, `man`, `manifest schema` (every fixture validates with Python's
//! jsonschema, a wrong manifest does not), and the exit codes in `--help`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::common::{Cli, fixture, root};

/// The Mermaid block between the README's graph markers.
fn readme_graph() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let start = "<!-- graph: openim-init graph -->\n```mermaid\n";
    let from = readme.find(start).expect("README has the graph block") + start.len();
    let to = from + readme[from..].find("```\n").expect("block ends");
    readme[from..to].to_owned()
}

#[test]
fn the_readme_shows_the_builtin_stack_as_graph_draws_it() {
    let r = Cli::new().arg("graph").ok();
    assert_eq!(
        readme_graph(),
        r.stdout,
        "regenerate the README block with `openim-init graph`"
    );
}

#[test]
fn graph_draws_every_kind_of_edge_differently() {
    let m = fixture("full.toml");
    let mermaid = Cli::new().args(["graph", "--manifest"]).arg(&m).ok().stdout;
    for arrow in ["==>|requires|", "-->|wants|", "-.->|after|"] {
        assert!(mermaid.contains(arrow), "{arrow} missing:\n{mermaid}");
    }
    assert!(mermaid.contains("subgraph layer1"), "{mermaid}");
    let dot = Cli::new()
        .args(["graph", "--format", "dot", "--manifest"])
        .arg(&m)
        .ok()
        .stdout;
    assert!(dot.starts_with("digraph \"full\" {"), "{dot}");
    for style in [
        "style=bold",
        "style=solid",
        "style=dashed",
        "shape=cylinder",
    ] {
        assert!(dot.contains(style), "{style} missing:\n{dot}");
    }
    let text = Cli::new()
        .args(["graph", "--format", "text", "--manifest"])
        .arg(&m)
        .ok()
        .stdout;
    assert!(text.contains("layer 0: "), "{text}");
    assert!(text.contains(" requires external db"), "{text}");
}

#[test]
fn completions_are_scripts_the_shells_accept() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = Cli::new().args(["completions", shell]).ok();
        assert!(r.stdout.contains("openim-init"), "{shell}");
        assert!(r.stdout.contains("generate"), "{shell}: subcommands listed");
    }
    let script = Cli::new().args(["completions", "bash"]).ok().stdout;
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .expect("bash runs");
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    assert!(bash.wait().expect("bash").success(), "bash -n rejects it");
}

#[test]
fn man_page_and_help_name_the_exit_codes() {
    let man = Cli::new().arg("man").ok().stdout;
    assert!(
        man.starts_with(".ie") || man.contains(".TH openim-init"),
        "{man}"
    );
    assert!(man.contains("141"), "exit codes in the man page");
    let help = Cli::new().arg("--help").ok().stdout;
    assert!(
        help.contains("Exit codes:") && help.contains("2    invalid manifest"),
        "{help}"
    );
}

/// Validate the JSON form of TOML `text` against the schema; the validator's verdict.
fn schema_accepts(schema: &str, text: &str) -> Result<(), String> {
    let value: toml::Value = toml::from_str(text).expect("TOML");
    let json = serde_json::to_string(&value).expect("json");
    let py = openim_init::backend::supervisord::verify::python()
        .expect("the venv's python with jsonschema (run .ci/setup.sh)");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("schema.json"), schema).expect("schema");
    std::fs::write(dir.path().join("doc.json"), json).expect("doc");
    let out = Command::new(py)
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))\n\
             jsonschema.Draft202012Validator.check_schema(s)\n\
             errs = [e.message for e in jsonschema.Draft202012Validator(s).iter_errors(d)]\n\
             print('\\n'.join(errs)); sys.exit(1 if errs else 0)",
        ])
        .arg(dir.path().join("schema.json"))
        .arg(dir.path().join("doc.json"))
        .output()
        .expect("python runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn every_fixture_validates_against_the_schema_and_mistakes_do_not() {
    let schema = Cli::new().args(["manifest", "schema"]).ok().stdout;
    let builtin = Cli::new().args(["manifest", "show"]).ok().stdout;
    schema_accepts(&schema, &builtin).expect("the built-in manifest");
    for name in ["minimal.toml", "full.toml", "supervisord-hostile.toml"] {
        let text = std::fs::read_to_string(fixture(name)).expect("fixture");
        schema_accepts(&schema, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (bad, why) in [
        (
            "name = \"x\"\n[services.a]\ncommand = [\"/a\"]\nrestart = \"sometimes\"\n",
            "enum",
        ),
        (
            "name = \"x\"\n[services.a]\ncommand = [\"/a\"]\ncomand = [\"/a\"]\n",
            "unknown key",
        ),
        (
            "name = \"x\"\n[services.a]\ncommand = [\"/a\"]\nstop_timeout = \"5 parsecs\"\n",
            "duration",
        ),
        (
            "name = \"x\"\n[services.a]\ncommand = [\"/a\"]\nstop_signal = \"SIGFOO\"\n",
            "signal",
        ),
        (
            "name = \"x\"\n[services.a]\ncommand = [\"/a\"]\ninstances = 0\n",
            "instances",
        ),
    ] {
        assert!(schema_accepts(&schema, bad).is_err(), "{why} accepted");
    }
}

#[test]
fn validate_json_describes_the_stack() {
    let r = Cli::new().args(["validate", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["stack"], "openim");
    assert_eq!(v["processes"], 15, "12 services, msgtransfer ×4");
    let order = v["start_order"].as_array().expect("order");
    assert_eq!(order.len(), 12);
    assert_eq!(v["start_layers"].as_array().map(Vec::len), Some(12));
    assert!(
        v["externals"]
            .as_array()
            .expect("externals")
            .iter()
            .any(|e| e == "kafka")
    );
    let transfer = v["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "openim-msgtransfer")
        .expect("msgtransfer");
    assert_eq!(transfer["processes"], 4);
}

#[test]
fn color_is_a_global_flag_with_three_choices() {
    for choice in ["auto", "always", "never"] {
        Cli::new().args(["--color", choice, "validate"]).ok();
        Cli::new().args(["backends", "--color", choice]).ok();
    }
    let r = Cli::new().args(["--color", "sometimes", "validate"]).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
}
