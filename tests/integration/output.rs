//! `generate --out DIR` through the real CLI: never over a foreign file without --force, never
//! through a symlink, atomic even when the process dies mid-write.

use std::path::Path;

use crate::common::{Cli, Run, fixture};

mod crash;
mod dirs;

fn generate(out: &Path, manifest: &Path, extra: &[&str]) -> Run {
    Cli::new()
        .args(["generate", "--backend", "systemd", "--manifest"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .args(extra)
        .run()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names in `dir`, sorted, without openim-init's state directory.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".openim-init")
        .collect();
    v.sort();
    v
}

#[test]
fn a_foreign_file_stops_the_whole_generate_and_force_keeps_a_backup() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("out");
    std::fs::write(out.join("hello.service"), "# written by the admin\n").expect("foreign");
    let r = generate(&out, &fixture("minimal.toml"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("refusing to overwrite") && r.stderr.contains("hello.service"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    // not even the other file (mini.target), nor the state file
    assert_eq!(names(&out), ["hello.service"]);
    assert_eq!(read(&out.join("hello.service")), "# written by the admin\n");

    let r = generate(&out, &fixture("minimal.toml"), &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("backed up"), "{}", r.stdout);
    assert_eq!(
        read(&out.join(".openim-init/backup/hello.service")),
        "# written by the admin\n"
    );
    assert!(read(&out.join("hello.service")).contains("ExecStart=/usr/bin/sleep infinity"));
    assert!(read(&out.join(".openim-init/ledger.json")).contains("\"hello.service\""));
    assert_eq!(
        names(&out),
        ["hello.service", "mini.target"],
        "no backup beside the units"
    );
}

#[test]
fn generating_again_over_its_own_files_is_fine_but_not_over_hand_edits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let first = generate(&out, &fixture("full.toml"), &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let files = names(&out);
    let again = generate(&out, &fixture("full.toml"), &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    assert_eq!(names(&out), files, "no backup or temporary file appeared");

    std::fs::write(out.join("api.service"), "edited\n").expect("edit");
    let r = generate(&out, &fixture("full.toml"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("api.service (edited since)"),
        "{}",
        r.stderr
    );
    assert_eq!(read(&out.join("api.service")), "edited\n");
}

#[test]
fn a_symlink_at_an_artifact_path_is_replaced_only_with_force_and_never_followed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("out");
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    std::os::unix::fs::symlink(&victim, out.join("hello.service")).expect("symlink");
    let r = generate(&out, &fixture("minimal.toml"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("hello.service"), "{}", r.stderr);
    assert_eq!(names(&out), ["hello.service"]);
    let r = generate(&out, &fixture("minimal.toml"), &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the link was replaced by a regular file and kept as a link; its target is untouched
    assert_eq!(read(&victim), "precious\n");
    let meta = std::fs::symlink_metadata(out.join("hello.service")).expect("meta");
    assert!(meta.file_type().is_file());
    assert_eq!(
        std::fs::read_link(out.join(".openim-init/backup/hello.service")).expect("backup"),
        victim
    );
}

#[test]
fn an_out_path_that_is_a_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("out");
    std::fs::write(&file, "x").expect("file");
    let r = generate(&file, &fixture("minimal.toml"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(read(&file), "x");
}

/// The process is killed (SIGXFSZ, file size limit) while writing a large file: every
/// artifact path holds the old or the new version completely, never a part.
#[test]
fn a_crash_mid_write_leaves_old_or_new_files_never_partial() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let small = fixture("minimal.toml");
    let big = tmp.path().join("big.toml");
    let long = "x".repeat(64 * 1024);
    std::fs::write(
        &big,
        format!(
            "name = \"mini\"\n[services.hello]\ndescription = \"{long}\"\ncommand = [\"/usr/bin/sleep\", \"infinity\"]\n"
        ),
    )
    .expect("big manifest");
    assert_eq!(generate(&out, &small, &[]).code, 0);
    let old: Vec<(String, String)> = names(&out)
        .into_iter()
        .map(|n| (n.clone(), read(&out.join(&n))))
        .collect();
    let new_dir = tmp.path().join("new");
    assert_eq!(generate(&new_dir, &big, &[]).code, 0);

    // 16 blocks (8-16 KiB depending on the shell): the 64 KiB unit cannot be written
    let r: Run = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 16 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_openim-init"))
        .args(["generate", "--backend", "systemd", "--manifest"])
        .arg(&big)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("sh runs")
        .into();
    assert_ne!(
        r.code, 0,
        "the write should have been cut off: {}",
        r.stdout
    );
    for (name, before) in &old {
        let now = read(&out.join(name));
        let after = std::fs::read_to_string(new_dir.join(name)).unwrap_or_default();
        assert!(
            now == *before || now == after,
            "{name} is neither the old nor the new version ({} bytes)",
            now.len()
        );
    }
    assert!(
        read(&out.join("hello.service")).len() < 16 * 512,
        "the big file was written despite the limit"
    );
    // at most a hidden temporary file is left, never at an artifact path
    for n in names(&out) {
        let known = old.iter().any(|(o, _)| *o == n);
        assert!(
            known || n.starts_with(".openim-init-tmp-"),
            "unexpected file {n}"
        );
    }
    // the next complete run removes what the interrupted one left
    let r = generate(&out, &big, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&out), names(&new_dir));
    assert_eq!(
        read(&out.join("hello.service")),
        read(&new_dir.join("hello.service"))
    );
}

/// Every entry under `dir`, openim-init's state included, relative and sorted.
fn everything(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("readable dir").flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                todo.push(p.clone());
            }
            out.push(p.strip_prefix(dir).expect("inside").display().to_string());
        }
    }
    out.sort();
    out
}

/// Files are written while the backend renders, so a refusal that comes late (`--strict`
/// once all is rendered, a foreign file at the last path) must take back what was staged:
/// no temporary file, no staging list, and no directory the run created.
#[test]
fn a_late_refusal_takes_back_every_staged_file_and_created_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let strict = |out: &Path| {
        Cli::new()
            .args(["generate", "--backend", "openrc", "--strict", "--out"])
            .arg(out)
            .run()
    };
    let r = strict(&tmp.path().join("a/b"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        !tmp.path().join("a").exists(),
        "a created directory is left"
    );

    let out = tmp.path().join("out");
    assert_eq!(generate(&out, &fixture("minimal.toml"), &[]).code, 0);
    let before = everything(&out);
    let r = strict(&out);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(everything(&out), before, "--strict left something");

    // a foreign file at the last path the backend renders
    let all = Cli::new().args(["generate", "--backend", "openrc"]).ok();
    let last = all
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("==== "))
        .filter_map(|l| l.split(' ').next())
        .next_back()
        .expect("a file")
        .to_owned();
    let foreign = out.join(&last);
    std::fs::create_dir_all(foreign.parent().expect("parent")).expect("dir");
    std::fs::write(&foreign, "theirs\n").expect("foreign");
    let before = everything(&out);
    let r = Cli::new()
        .args(["generate", "--backend", "openrc", "--out"])
        .arg(&out)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&last), "{}", r.stderr);
    assert_eq!(everything(&out), before, "the refused run left something");
}

/// The ledger file's inode and modification time (a rewrite is a new file put in place).
fn ledger_stamp(out: &Path) -> (u64, i64, i64) {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(out.join(".openim-init/ledger.json")).expect("ledger");
    (m.ino(), m.mtime(), m.mtime_nsec())
}

/// Generate `manifest` into `out` (the run must succeed): the ledger's stamp after it.
fn stamped(out: &Path, manifest: &Path) -> (u64, i64, i64) {
    let r = generate(out, manifest, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = std::fs::read_dir(out.join(".openim-init"))
        .expect("state dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        state,
        ["ledger.json"],
        "no journal, staging list or copy left"
    );
    ledger_stamp(out)
}

#[test]
fn an_up_to_date_run_leaves_the_ledger_file_as_it_is_and_any_other_writes_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let a = fixture("full.toml");
    let b = tmp.path().join("b.toml");
    std::fs::write(&b, read(&a).replace("API server", "API server v2")).expect("b");
    // a new tree's ledger is written in path order, as every ledger: kept from then on
    let sorted = stamped(&out, &a);
    assert_eq!(
        stamped(&out, &a),
        sorted,
        "an up-to-date run rewrote the ledger"
    );
    // out of path order (a new tree's, as versions before 2026-12-04 wrote it): written
    // again once, in path order
    let path = out.join(".openim-init/ledger.json");
    let canonical = read(&path);
    let lines: Vec<&str> = canonical.lines().collect();
    let (head, rest) = lines.split_at(3);
    let (entries, tail) = rest.split_at(rest.len() - 2);
    assert!(entries.len() > 2, "{canonical}");
    let mut reversed: Vec<String> = entries
        .iter()
        .rev()
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect();
    let last = reversed.len() - 1;
    reversed[..last].iter_mut().for_each(|l| l.push(','));
    let shuffled = [head.join("\n"), reversed.join("\n"), tail.join("\n")].join("\n") + "\n";
    std::fs::write(&path, &shuffled).expect("out of order");
    let unsorted = ledger_stamp(&out);
    let sorted = stamped(&out, &a);
    assert_ne!(
        sorted, unsorted,
        "a ledger out of path order is written again"
    );
    assert_eq!(read(&path), canonical);
    assert_eq!(stamped(&out, &a), sorted);
    let changed = stamped(&out, &b);
    assert_ne!(
        changed, sorted,
        "a changed service did not rewrite the ledger"
    );
    assert!(read(&out.join("api.service")).contains("API server v2"));
    assert_eq!(stamped(&out, &b), changed);
    // a ledger in another form (the same entries, pretty-printed), or a legacy state file
    // beside it: written again, in the form, and the legacy file removed
    let value: serde_json::Value = serde_json::from_str(&read(&path)).expect("json");
    let canonical = read(&path);
    std::fs::write(&path, serde_json::to_string_pretty(&value).expect("pretty")).expect("w");
    let pretty = ledger_stamp(&out);
    assert_ne!(stamped(&out, &b), pretty);
    assert_eq!(read(&path), canonical);
    std::fs::write(out.join(".openim-init-files"), "# old state\n").expect("legacy");
    let legacy = ledger_stamp(&out);
    assert_ne!(stamped(&out, &b), legacy);
    assert!(!out.join(".openim-init-files").exists());
    assert_eq!(read(&path), canonical);
}
