//! `generate --out` of trees with many directories (runit and s6 give each service its
//! own): written whole under a low limit of open descriptors, into a new directory, an
//! existing one, and over itself.

use std::path::Path;
use std::process::Command;

use openim_init::lifecycle::journal::CRASH_ENV;

use super::crash::{assert_ledger_matches_disk, generate_with, ok, services, tree};

/// `cmd` run under a limit of 128 open descriptors (the tree has about 300 directories).
fn low_limit(cmd: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.args(["-c", "ulimit -n 128 && exec \"$0\" \"$@\""])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_remove(CRASH_ENV);
    sh
}

fn generate(backend: &str, out: &Path, manifest: &Path) -> String {
    ok(&mut low_limit(&generate_with(backend, out, manifest)))
}

#[test]
fn a_tree_of_many_directories_is_written_under_a_low_descriptor_limit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = services(tmp.path(), 150, |i| format!("\"/opt/s\", \"{i}\""));
    let second = tmp.path().join("second.toml");
    let text = std::fs::read_to_string(&first).expect("manifest");
    std::fs::write(&second, text.replace("/opt/s", "/opt/t")).expect("second");
    for backend in ["runit", "s6"] {
        let new = tmp.path().join(format!("new-{backend}"));
        generate(backend, &new, &first);
        let dirs = directories_under(&new);
        assert!(dirs > 200, "{backend}: only {dirs} directories");
        let usual = tmp.path().join(format!("usual-{backend}"));
        std::fs::create_dir(&usual).expect("mkdir");
        generate(backend, &usual, &first);
        assert_eq!(tree(&new), tree(&usual), "{backend}");
        assert_ledger_matches_disk(&usual);
        // again: nothing changes; then every file changes
        let again = generate(backend, &usual, &first);
        let summary = again.lines().last().unwrap_or_default();
        assert!(summary.starts_with("0 changed ("), "{summary}");
        generate(backend, &usual, &second);
        let fresh = tmp.path().join(format!("second-{backend}"));
        generate(backend, &fresh, &second);
        assert_eq!(tree(&usual), tree(&fresh), "{backend}: updated in place");
        assert_ne!(
            tree(&usual),
            tree(&new),
            "{backend}: the second manifest differs"
        );
        assert_ledger_matches_disk(&usual);
    }
}

/// How many directories are under `dir`.
fn directories_under(dir: &Path) -> usize {
    let mut stack = vec![dir.to_path_buf()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable").flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                n += 1;
                stack.push(e.path());
            }
        }
    }
    n
}
