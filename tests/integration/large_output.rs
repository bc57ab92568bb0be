//! An output larger than what `generate` holds for one write (1 MiB) is spooled to a
//! temporary file while every artifact is checked, and copied to stdout once all are good
//! (without a temporary file: rendered a second time), so that memory does not grow with it.
//! A backend that writes one file with every service (supervisord, compose) hands it over
//! in parts, spooled as they come. The bytes must be those of the files `--out` writes, in
//! order, and a refusal deep into the stack must still print nothing at all.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::common::{Cli, generate_into};

/// `n` services, each with an environment value of 10 KiB (so 1,000 of them pass 8 MiB
/// in every backend, well past the 1 MiB held); `last` replaces the last one's program.
fn manifest(n: usize, last: &str) -> String {
    let pad = "x".repeat(10 << 10);
    let mut m = String::from("name = \"big\"\n");
    for i in 0..n {
        let program = if i + 1 == n { last } else { "/opt/big/bin/svc" };
        let _ = write!(
            m,
            "\n[services.svc-{i}]\ncommand = [{program:?}, \"-i\", \"{i}\"]\nenvironment = {{ PAD = \"{pad}\" }}\n"
        );
    }
    m
}

/// The `==== path (mode) ====` sections of a `generate` output, by path.
fn sections(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.split_inclusive('\n') {
        if let Some(head) = line.strip_prefix("==== ") {
            if let Some((path, body)) = current.take() {
                out.insert(path, body);
            }
            let path = head.split([' ', '\n']).next().expect("path").to_owned();
            current = Some((path, String::new()));
        } else if let Some((_, body)) = &mut current {
            body.push_str(line);
        }
    }
    if let Some((path, body)) = current {
        out.insert(path, body);
    }
    out
}

/// Every regular file under `dir` (not openim-init's own state), by relative path.
fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with(".openim-init") {
                continue;
            }
            if p.is_dir() {
                todo.push(p);
            } else if p.is_file() && !p.is_symlink() {
                let rel = p.strip_prefix(dir).expect("under").display().to_string();
                out.insert(rel, std::fs::read_to_string(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn a_large_output_is_every_artifact_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.toml");
    std::fs::write(&path, manifest(1000, "/opt/big/bin/svc")).expect("write");
    for backend in ["systemd", "launchd"] {
        let r = Cli::new()
            .args(["generate", "--backend", backend, "--manifest"])
            .arg(&path)
            .ok();
        assert!(
            r.stdout.len() > 8 << 20,
            "{backend}: {} bytes",
            r.stdout.len()
        );
        let printed = sections(&r.stdout);
        let written = files(generate_into(backend, Some(&path), &[]).path());
        assert_eq!(printed.len(), written.len(), "{backend}: number of files");
        for (p, body) in &written {
            assert_eq!(printed.get(p), Some(body), "{backend}: {p}");
        }
        let headers: Vec<&str> = r
            .stdout
            .lines()
            .filter(|l| l.starts_with("==== "))
            .collect();
        let first = |svc: &str| headers.iter().position(|h| h.contains(svc));
        assert!(
            first("svc-0.") < first("svc-1.") && first("svc-1.") < first("svc-999."),
            "{backend}: out of order"
        );
    }
}

#[test]
fn a_refusal_deep_in_a_large_output_prints_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.toml");
    // systemd refuses a quote in an executable's path, however quoted
    std::fs::write(&path, manifest(1000, "/opt/big/bin/\"svc\"")).expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--manifest"])
        .arg(&path)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("svc-999"), "{}", r.stderr);
    assert_eq!(r.stdout, "", "output printed before the refusal");
}

#[test]
fn without_a_temporary_file_a_large_output_is_rendered_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.toml");
    std::fs::write(&path, manifest(1000, "/opt/big/bin/svc")).expect("write");
    let run = |tmp: &Path| {
        Cli::new()
            .args(["generate", "--backend", "runit", "--manifest"])
            .arg(&path)
            .env("TMPDIR", tmp)
            .ok()
            .stdout
    };
    let spooled = run(dir.path());
    assert!(spooled.len() > 8 << 20, "{} bytes", spooled.len());
    // no temporary file can be made in a directory that does not exist
    let rendered_again = run(&dir.path().join("missing"));
    assert!(spooled == rendered_again, "the two outputs differ");
}

/// supervisord and compose write one file with every service in it: it is made and
/// spooled in parts, never held whole, and must print as `--out` writes it, also when
/// it is rendered again and written part by part (no temporary file).
#[test]
fn a_one_file_backend_prints_its_file_whole_from_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.toml");
    let text = manifest(1000, "/opt/big/bin/svc").replacen(
        '\n',
        "\n[defaults.container]\nimage = \"big:1\"\n",
        1,
    );
    std::fs::write(&path, text).expect("write");
    for backend in ["supervisord", "compose"] {
        let run = |tmp: &Path| {
            Cli::new()
                .args(["generate", "--backend", backend, "--manifest"])
                .arg(&path)
                .env("TMPDIR", tmp)
                .ok()
                .stdout
        };
        let printed = run(dir.path());
        assert!(
            printed.len() > 8 << 20,
            "{backend}: {} bytes",
            printed.len()
        );
        let written = files(generate_into(backend, Some(&path), &[]).path());
        assert_eq!(written.len(), 1, "{backend}: one file");
        assert!(
            sections(&printed) == written,
            "{backend}: printed != written"
        );
        let rendered_again = run(&dir.path().join("missing"));
        assert!(
            printed == rendered_again,
            "{backend}: the two outputs differ"
        );
    }
}

#[test]
fn a_refusal_after_a_one_file_backend_made_its_parts_prints_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.toml");
    // supervisord names instance 1 of `a` `a_1`, and refuses that only once every program
    // section is made
    let clash = "\n[services.a]\ncommand = [\"/bin/a\", \"{instance}\"]\ninstances = [\"1\"]\n\n[services.a_1]\ncommand = [\"/bin/b\"]\n";
    std::fs::write(&path, manifest(1000, "/opt/big/bin/svc") + clash).expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "supervisord", "--manifest"])
        .arg(&path)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("`a_1` twice"), "{}", r.stderr);
    assert_eq!(r.stdout, "", "output printed before the refusal");
}

#[test]
fn a_long_requires_chain_renders_for_the_service_directory_backends() {
    // each service requires the one before: any per-service walk of the chain would be
    // quadratic (this test asserts the output, not the time)
    let n = 20_000;
    let mut m = String::from("name = \"chain\"\n");
    for i in 0..n {
        let _ = write!(m, "\n[services.c{i}]\ncommand = [\"/bin/c\"]\n");
        if i > 0 {
            let _ = writeln!(m, "requires = [\"c{}\"]", i - 1);
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chain.toml");
    std::fs::write(&path, m).expect("write");
    for (backend, last) in [
        ("systemd", "==== c19999.service (0644) ===="),
        ("openrc", "==== init.d/c19999 (0755) ===="),
        ("runit", "==== sv/c19999/run (0755) ===="),
        ("s6", "==== s6/c19999/run (0755) ===="),
    ] {
        let r = Cli::new()
            .args(["generate", "--backend", backend, "--manifest"])
            .arg(&path)
            .ok();
        let at = r
            .stdout
            .find(last)
            .unwrap_or_else(|| panic!("{backend}: no {last}"));
        assert!(
            r.stdout[at..].contains("c19998"),
            "{backend}: c19999 without its dependency"
        );
    }
}

/// The names in `dir` (not below it).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `generate --backend BACKEND --manifest MANIFEST`, into `out` when given.
fn generate_to(backend: &str, manifest: &Path, out: Option<&Path>) -> Cli {
    let mut cli = Cli::new()
        .args(["generate", "--backend", backend, "--manifest"])
        .arg(manifest);
    if let Some(out) = out {
        cli = cli.arg("--out").arg(out);
    }
    cli
}

/// What `generate` prints for `manifest`, and the files it writes into `out` (checked to
/// succeed).
fn printed_and_written(
    backend: &str,
    manifest: &Path,
    out: &Path,
) -> (String, BTreeMap<String, String>) {
    let printed = generate_to(backend, manifest, None).ok().stdout;
    generate_to(backend, manifest, Some(out)).ok();
    (printed, files(out))
}

/// supervisord's one file goes to `--out` in parts, written and hashed as they come: it is
/// the text printed, the ledger has its hash, and no temporary file is left, also when a
/// second run finds it already right or a foreign file there refuses the run.
#[test]
fn a_one_file_backend_writes_its_parts_to_out_and_ledgers_their_hash() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.toml");
    std::fs::write(&path, manifest(100, "/opt/big/bin/svc")).expect("write");
    let out = dir.path().join("out");
    let (printed, written) = printed_and_written("supervisord", &path, &out);
    let generate = || generate_to("supervisord", &path, Some(&out)).run();
    assert_eq!(written.len(), 1, "one file");
    let (name, text) = written.iter().next().expect("one file");
    assert!(text.len() > 1 << 20, "{} bytes: in many parts", text.len());
    assert!(sections(&printed) == written, "printed != written");
    let hex = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
    let ledger_path = out.join(".openim-init/ledger.json");
    let ledger = std::fs::read_to_string(&ledger_path).expect("ledger");
    assert!(ledger.contains(&hex), "no {hex} in {ledger}");
    let before = names(&out);
    assert_eq!(before, [".openim-init".to_owned(), name.clone()]);

    // already right: nothing changes, the staged copy is gone
    let again = generate();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(names(&out), before);
    assert!(files(&out) == written);
    assert_eq!(
        std::fs::read_to_string(&ledger_path).expect("ledger"),
        ledger
    );

    // a foreign file there: refused, nothing written, no temporary file left
    std::fs::remove_file(&ledger_path).expect("forget the file");
    std::fs::write(out.join(name), "mine\n").expect("write");
    let refused = generate();
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_eq!(names(&out), before);
    assert_eq!(
        std::fs::read_to_string(out.join(name)).expect("kept"),
        "mine\n"
    );
}

/// Past a few dozen files `--out` stages on two threads, and past 1,024 renames them on two:
/// every file is the text printed, no temporary file is left, a second run changes nothing,
/// and a foreign file deep in the stack refuses the run with nothing changed.
#[test]
fn many_files_staged_and_renamed_on_two_threads_are_whole_and_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("many.toml");
    let mut m = String::from("name = \"many\"\n");
    for i in 0..1500 {
        let _ = write!(m, "\n[services.s{i}]\ncommand = [\"/bin/s\", \"{i}\"]\n");
    }
    std::fs::write(&path, m).expect("write");
    let out = dir.path().join("out");
    let (printed, written) = printed_and_written("systemd", &path, &out);
    let generate = || generate_to("systemd", &path, Some(&out)).run();
    assert_eq!(written.len(), 1501, "every unit and the target");
    assert!(sections(&printed) == written, "printed != written");
    let listed = names(&out);
    assert_eq!(listed.len(), 1502, "no temporary file left");
    let again = generate();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(files(&out) == written && names(&out) == listed);
    let ledger = std::fs::read_to_string(out.join(".openim-init/ledger.json")).expect("ledger");

    // every file changes and a foreign file sits where a new one goes: refused after all
    // were staged, and nothing changes
    let changed = std::fs::read_to_string(&path)
        .expect("read")
        .replace("/bin/s", "/bin/t")
        + "\n[services.s1500]\ncommand = [\"/bin/t\"]\n";
    std::fs::write(&path, changed).expect("write");
    std::fs::write(out.join("s1500.service"), "mine\n").expect("write");
    let refused = generate();
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("s1500.service"),
        "{}",
        refused.stderr
    );
    let mut listed = listed;
    listed.push("s1500.service".to_owned());
    listed.sort();
    assert_eq!(names(&out), listed, "a temporary file left");
    let mut kept = files(&out);
    assert_eq!(kept.remove("s1500.service").as_deref(), Some("mine\n"));
    assert!(kept == written, "a file changed");
    let ledger_after = std::fs::read_to_string(out.join(".openim-init/ledger.json"));
    assert_eq!(ledger_after.expect("ledger"), ledger);
}
