//! The sandbox, measured: `systemd-analyze security --offline=yes` rates every unit of the
//! built-in OpenIM manifest (`sandbox = "strict"`) at most 2.0 ("OK"), and the same units
//! without the sandbox about 9 ("UNSAFE"); `verify --strict` fails above 2.0.

use std::path::Path;
use std::process::Command;

use openim_init::backend::systemd::security::{THRESHOLD, parse_overall};

use crate::common::{Cli, generate_into, require};

/// The exposure of every `.service` in `dir` (a template through `@0`), by file name.
fn exposures(dir: &Path) -> Vec<(String, f64, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".service"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let arg = format!("./{}", n.replace("@.service", "@0.service"));
            let out = Command::new("systemd-analyze")
                .args(["security", "--offline=yes", "--no-pager", &arg])
                .current_dir(dir)
                .output()
                .expect("systemd-analyze");
            let text = String::from_utf8_lossy(&out.stdout);
            let (score, rating) = parse_overall(&text).unwrap_or_else(|| panic!("{n}: {text}"));
            (n, score, rating)
        })
        .collect()
}

fn analyzer() -> bool {
    require(
        which::which("systemd-analyze").is_ok(),
        "systemd-analyze is missing (apt package systemd)",
    )
}

#[test]
fn openim_units_are_rated_ok_and_unsafe_without_the_sandbox() {
    if !analyzer() {
        return;
    }
    let strict = generate_into("systemd", None, &[]);
    let rated = exposures(strict.path());
    assert_eq!(rated.len(), 12, "{rated:?}");
    for (unit, score, rating) in &rated {
        assert!(*score <= THRESHOLD, "{unit}: {score} {rating}");
        assert_eq!(rating, "OK", "{unit}");
    }
    let text =
        openim_init::manifest::BUILTIN_OPENIM.replace("sandbox = \"strict\"", "sandbox = \"off\"");
    let off_dir = tempfile::tempdir().expect("tempdir");
    let manifest = off_dir.path().join("off.toml");
    std::fs::write(&manifest, text).expect("write manifest");
    let off = generate_into("systemd", Some(&manifest), &[]);
    for (unit, score, rating) in exposures(off.path()) {
        assert!(score >= 9.0, "{unit}: {score} {rating}");
        assert_eq!(rating, "UNSAFE", "{unit}");
    }
}

#[test]
fn verify_strict_fails_above_the_threshold() {
    if !analyzer() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.toml");
    let svc = |level: &str| {
        format!(
            "name = \"s\"\n[services.a]\ncommand = [\"/bin/true\"]\nsandbox = \"{level}\"\nrestart = \"always\"\n"
        )
    };
    std::fs::write(&manifest, svc("off")).expect("write");
    let args = ["verify", "--backend", "systemd", "--manifest"];
    let plain = Cli::new().args(args).arg(&manifest).run();
    assert_eq!(plain.code, 0, "{}{}", plain.stdout, plain.stderr);
    assert!(
        plain.stdout.contains("note: exposure 9."),
        "{}",
        plain.stdout
    );
    let strict = Cli::new().args(args).arg(&manifest).arg("--strict").run();
    assert_eq!(strict.code, 4, "{}{}", strict.stdout, strict.stderr);
    assert!(
        strict.stdout.contains("finding: exposure 9."),
        "{}",
        strict.stdout
    );
    std::fs::write(&manifest, svc("strict")).expect("write");
    let ok = Cli::new().args(args).arg(&manifest).arg("--strict").run();
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("note: exposure 1."), "{}", ok.stdout);
}
