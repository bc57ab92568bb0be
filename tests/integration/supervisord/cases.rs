//! Manifest-specific decisions: one group per program, names that would collide, values
//! the ini syntax cannot carry.

use super::{parse, sv_python};
use crate::common::Cli;

fn write_manifest(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).expect("manifest");
    (dir, path)
}

/// A named group overlapping the stack group keeps only the members not in it, with a
/// warning; every process still runs once.
#[test]
fn overlapping_groups_keep_each_program_in_one_group() {
    let Some(py) = sv_python() else { return };
    let (dir, path) = write_manifest(
        r#"name = "stk"
[services.a]
command = ["/bin/sleep", "1"]
[services.b]
command = ["/bin/sleep", "2"]
instances = 2
[groups.stk]
services = ["a"]
[groups.g]
services = ["a", "b"]
"#,
    );
    let out = dir.path().join("out");
    let r = Cli::new()
        .args(["generate", "--backend", "supervisord", "--manifest"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .ok();
    assert!(
        r.stderr.contains("group g leaves them out")
            && r.stderr.contains("supervisorctl start|stop stk:a"),
        "{}",
        r.stderr
    );
    let parsed = parse(&py, &out.join("stk.conf")).expect("parsed");
    let mut keys: Vec<&str> = parsed.processes.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["g:b_0", "g:b_1", "stk:a"]);
    let strict = Cli::new()
        .args([
            "generate",
            "--backend",
            "supervisord",
            "--strict",
            "--manifest",
        ])
        .arg(&path)
        .run();
    assert_eq!(strict.code, 3, "{}", strict.stderr);
}

#[test]
fn colliding_process_names_are_an_error() {
    let (_dir, path) = write_manifest(
        r#"name = "stk"
[services.a]
command = ["/bin/sleep", "{instance}"]
instances = ["x"]
[services.a_x]
command = ["/bin/sleep", "1"]
"#,
    );
    let r = Cli::new()
        .args(["generate", "--backend", "supervisord", "--manifest"])
        .arg(&path)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("names `a_x` twice"), "{}", r.stderr);
}

#[test]
fn values_the_ini_syntax_cannot_carry_are_an_error_not_a_mangled_file() {
    for (key, value) in [
        ("working_dir", "/srv/a ;b"),
        ("working_dir", "/srv/%(here)s"),
        ("working_dir", "/srv/a\\t#b"),
        ("logs", "{ stdout = \"/var/log/x ;y.log\" }"),
    ] {
        let value = if key == "logs" {
            value.to_owned()
        } else {
            format!("\"{value}\"")
        };
        let (_dir, path) = write_manifest(&format!(
            "name = \"stk\"\n[services.a]\ncommand = [\"/bin/true\"]\n{key} = {value}\n"
        ));
        let r = Cli::new()
            .args(["generate", "--backend", "supervisord", "--manifest"])
            .arg(&path)
            .run();
        assert_eq!(r.code, 2, "{key} = {value}: {}", r.stderr);
        assert!(
            r.stderr.contains("supervisord cannot carry") && r.stderr.contains("services.a."),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
}
