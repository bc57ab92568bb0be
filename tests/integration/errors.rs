//! Every malformed manifest under `tests/corpus/invalid` is refused by the real CLI: exit code
//! 2, each expected error at `FILE:LINE:COL: FIELD:` with its hint, no other error, nothing
//! written. Each file states what must be reported in its leading comments:
//!
//! ```toml
//! # expect: 4:13 services.api.requires[0]: `kafak` is not a service
//! # hint: did you mean `kafka`?
//! ```
//!
//! All messages are also kept in one snapshot, `snapshots/errors/corpus.snap`, to be read as
//! a user would.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{Cli, insta_settings, root};

/// One `# expect:` line.
struct Expect {
    /// `FILE:LINE:COL: FIELD: ` with FILE filled in by the caller.
    at: String,
    /// A part of the message.
    text: String,
}

/// The `# expect:` and `# hint:` lines of a corpus file.
fn expectations(text: &str) -> (Vec<Expect>, Vec<String>) {
    let mut expects = Vec::new();
    let mut hints = Vec::new();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let (pos, rest) = rest
                .split_once(' ')
                .expect("`# expect: LINE:COL FIELD: text`");
            let (field, text) = rest.split_once(": ").expect("`FIELD: text`");
            expects.push(Expect {
                at: format!("{pos}: {field}: "),
                text: text.to_owned(),
            });
        } else if let Some(rest) = line.strip_prefix("# hint: ") {
            hints.push(rest.to_owned());
        }
    }
    (expects, hints)
}

/// The `.toml` files of a corpus directory, sorted.
pub fn corpus(sub: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/corpus").join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Run `generate --backend systemd --manifest NAME --out DIR` from the corpus directory (so
/// messages name the file relatively) and check one file; returns its stderr and problems.
fn check_file(path: &Path) -> (String, Vec<String>) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 name");
    let text = std::fs::read_to_string(path).expect("corpus file");
    let (expects, hints) = expectations(&text);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let r = Cli::new()
        .current_dir(path.parent().expect("parent"))
        .args([
            "generate",
            "--backend",
            "systemd",
            "--manifest",
            name,
            "--out",
        ])
        .arg(&out)
        .run();
    let mut problems = Vec::new();
    if expects.is_empty() {
        problems.push("no `# expect:` line".to_owned());
    }
    if r.code != 2 {
        problems.push(format!("exit code {} instead of 2", r.code));
    }
    if out.exists() {
        problems.push("the output directory was created".to_owned());
    }
    if !r.stdout.is_empty() {
        problems.push(format!("stdout is not empty: {}", r.stdout));
    }
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    if errors.len() != expects.len() {
        problems.push(format!(
            "{} errors reported, {} expected",
            errors.len(),
            expects.len()
        ));
    }
    for e in &expects {
        let head = format!("error: {name}:{}", e.at);
        if !errors
            .iter()
            .any(|l| l.starts_with(&head) && l.contains(&e.text))
        {
            problems.push(format!("missing `{head}…{}`", e.text));
        }
    }
    for h in &hints {
        if !r
            .stderr
            .lines()
            .any(|l| l.starts_with("  = hint: ") && l.contains(h.as_str()))
        {
            problems.push(format!("missing hint `{h}`"));
        }
    }
    (r.stderr, problems)
}

#[test]
fn every_invalid_manifest_is_refused_with_its_position_field_and_hint() {
    let files = corpus("invalid");
    assert!(files.len() >= 40, "the corpus has {} files", files.len());
    let mut all = String::new();
    let mut failures = Vec::new();
    for path in &files {
        let (stderr, problems) = check_file(path);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let _ = write!(all, "===== {name} =====\n{stderr}\n");
        if !problems.is_empty() {
            failures.push(format!("{name}:\n  {}\n{stderr}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta_settings("errors").bind(|| insta::assert_snapshot!("corpus", all));
}

#[test]
fn corpus_files_state_what_they_expect() {
    for path in corpus("invalid") {
        let text = std::fs::read_to_string(&path).expect("corpus file");
        assert!(
            text.starts_with("# expect: "),
            "{} must start with `# expect: `",
            path.display()
        );
    }
}

#[test]
fn invalid_utf8_is_reported_at_the_first_bad_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("latin1.toml");
    std::fs::write(
        &path,
        b"name = \"x\"\n[services.a]\ncommand = [\"/bin/a\"]\ndescription = \"caf\xe9\"\n",
    )
    .expect("write");
    let r = Cli::new()
        .current_dir(dir.path())
        .args(["validate", "-m", "latin1.toml"])
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "error: latin1.toml:4:19: services.a.description: the manifest is not valid UTF-8 (byte 0xE9)"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("  = hint: save the file as UTF-8"),
        "{}",
        r.stderr
    );
}

#[test]
fn values_an_init_system_cannot_load_are_refused_with_their_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            format!(
                "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\"]\ndescription = \"{}\"\n",
                "d".repeat(1 << 20)
            ),
            "m.toml:4:15: services.a.description: the value is 1.0 MiB long",
        ),
        (
            format!(
                "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\"{}]\n",
                format!(", \"{}\"", "a".repeat(100_000)).repeat(3)
            ),
            "m.toml:3:11: services.a.command: the arguments take 293.0 KiB together",
        ),
        (
            format!(
                "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\"]\nenvironment = {{ {} }}\n",
                (0..6)
                    .map(|i| format!("K{i} = \"{}\"", "v".repeat(100_000)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "m.toml:4:15: services.a.environment: the environment takes 586.0 KiB together",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(dir.path().join("m.toml"), &text).expect("write");
        let r = Cli::new()
            .current_dir(dir.path())
            .args(["generate", "-b", "systemd", "-m", "m.toml"])
            .run();
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains(want),
            "{want}\n{}",
            &r.stderr[..r.stderr.len().min(2000)]
        );
        assert!(r.stderr.contains("  = hint: "), "{}", r.stderr.len());
        // snippets of long lines are cut
        assert!(
            r.stderr.lines().all(|l| l.len() < 1000),
            "a long line was printed whole"
        );
    }
    // just under the limits, every backend renders and no line reaches systemd's limit
    let text = format!(
        "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\", \"{}\"]\ndescription = \"{}\"\n",
        "%".repeat(131_000),
        "d".repeat(131_000)
    );
    std::fs::write(dir.path().join("m.toml"), &text).expect("write");
    for backend in ["systemd", "openrc", "supervisord", "launchd"] {
        let r = Cli::new()
            .current_dir(dir.path())
            .args(["generate", "-b", backend, "-m", "m.toml"])
            .ok();
        assert!(r.stdout.lines().all(|l| l.len() < (1 << 20)), "{backend}");
    }
}

/// Where a backend names each process by a scheme (`NAME-INSTANCE`, `NAME_INSTANCE`,
/// `NAME.INSTANCE`), a service whose own name is such a process name would take a file or
/// a service twice: each such backend refuses it (exit 2, the field, a hint, nothing on
/// stdout), none silently keeps one of the two.
#[test]
fn a_process_name_taken_twice_is_refused_by_every_backend_that_would_take_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = |other: &str| {
        format!(
            "name = \"x\"\n[defaults.container]\nimage = \"busybox\"\n\
             [services.a]\ncommand = [\"/bin/a\"]\ninstances = 2\n\
             [services.\"{other}\"]\ncommand = [\"/bin/b\"]\n"
        )
    };
    let cases = [
        (
            "compose",
            "a-1",
            "compose needs one service per process, but `a-1`",
        ),
        (
            "runit",
            "a-1",
            "runit needs one service directory per process, but `sv/a-1`",
        ),
        (
            "s6",
            "a-1",
            "s6 needs one service directory per process, but `s6/a-1`",
        ),
        ("supervisord", "a_1", "supervisord names `a_1` twice"),
        ("launchd", "a.1", "would both be labelled `io.x.a.1`"),
        ("openrc", "a.1", "`init.d/a.1` would be written twice"),
    ];
    for (backend, other, want) in cases {
        std::fs::write(dir.path().join("m.toml"), manifest(other)).expect("write");
        let r = Cli::new()
            .current_dir(dir.path())
            .args(["generate", "-b", backend, "-m", "m.toml"])
            .run();
        assert_eq!(r.code, 2, "{backend}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{backend}: {}", r.stdout);
        assert!(r.stderr.contains(want), "{backend}: {want}\n{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("services.{other}")),
            "{backend}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("hint: "), "{backend}: {}", r.stderr);
    }
}
