//! `install --root DIR --layout L`: the vendor layout of every distribution staged for a
//! package, with no host command; the file list is snapshotted, the systemd tree accepts a
//! real `systemctl --root=DIR enable`, the Alpine tree is what `abuild` expects, and the
//! runit/s6 trees hold executable scripts and no scan-directory link.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::common::{Cli, insta_settings, optional_tool};

const CASES: &[(&str, &str)] = &[
    ("systemd", "debian"),
    ("systemd", "ubuntu"),
    ("systemd", "rhel"),
    ("systemd", "fedora"),
    ("systemd", "arch"),
    ("openrc", "alpine"),
    ("supervisord", "debian"),
    ("supervisord", "rhel"),
    ("supervisord", "alpine"),
    ("launchd", "macos"),
    ("runit", "debian"),
    ("runit", "void"),
    ("s6", "debian"),
];

fn stage(root: &Path, backend: &str, layout: &str) -> crate::common::Run {
    Cli::new()
        .args([
            "install",
            "--backend",
            backend,
            "--layout",
            layout,
            "--root",
        ])
        .arg(root)
        .ok()
}

/// Every file under `root` except openim-init's own state, relative, sorted.
fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(root).expect("inside").display().to_string();
            if rel.starts_with("var/lib/openim-init") {
                continue;
            }
            if p.is_dir() && !p.is_symlink() {
                todo.push(p);
            } else {
                out.push(format!("/{rel}"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_layout_stages_its_vendor_paths_and_prints_them() {
    let host_before = Path::new("/lib/systemd/system/openim.target").exists();
    let mut text = String::new();
    for (backend, layout) in CASES {
        let root = tempfile::tempdir().expect("root");
        let r = stage(root.path(), backend, layout);
        let printed: Vec<String> = r.stdout.lines().map(str::to_owned).collect();
        assert_eq!(
            printed,
            tree(root.path()),
            "{backend}/{layout}: printed != staged"
        );
        assert!(
            !r.stderr.contains("ran: "),
            "{backend}/{layout} ran a command"
        );
        text.push_str(&format!(
            "==== {backend} --layout {layout} ====\n{}",
            r.stdout
        ));
        let again = stage(root.path(), backend, layout);
        assert!(again.stderr.contains("0 changed"), "{}", again.stderr);
    }
    insta_settings("lifecycle").bind(|| insta::assert_snapshot!("staged_file_lists", text));
    assert_eq!(
        Path::new("/lib/systemd/system/openim.target").exists(),
        host_before,
        "the host changed"
    );
}

#[test]
fn the_staged_systemd_tree_accepts_systemctl_root_enable() {
    let Some(systemctl) = optional_tool("systemctl", "systemctl --root=DIR enable") else {
        return;
    };
    for layout in ["debian", "fedora"] {
        let root = tempfile::tempdir().expect("root");
        stage(root.path(), "systemd", layout);
        let out = std::process::Command::new(&systemctl)
            .arg(format!("--root={}", root.path().display()))
            .args(["enable", "openim.target"])
            .output()
            .expect("systemctl");
        assert!(out.status.success(), "{layout}: {out:?}");
        let link = root
            .path()
            .join("etc/systemd/system/multi-user.target.wants/openim.target");
        let unit_dir = if layout == "debian" {
            "/lib"
        } else {
            "/usr/lib"
        };
        assert_eq!(
            std::fs::read_link(&link).expect("enabled"),
            Path::new(&format!("{unit_dir}/systemd/system/openim.target"))
        );
    }
}

#[test]
fn the_alpine_tree_has_executable_openrc_scripts_and_a_user_snippet() {
    let root = tempfile::tempdir().expect("root");
    let r = stage(root.path(), "openrc", "alpine");
    assert!(r.stderr.contains("addgroup -S openim"), "{}", r.stderr);
    for path in r.stdout.lines() {
        let p = root.path().join(path.trim_start_matches('/'));
        let meta = std::fs::symlink_metadata(&p).expect("staged");
        if meta.file_type().is_symlink() {
            continue;
        }
        assert_eq!(meta.permissions().mode() & 0o777, 0o755, "{path}");
        let text = std::fs::read_to_string(&p).expect("script");
        assert!(text.starts_with("#!/sbin/openrc-run\n"), "{path}");
        assert!(path.starts_with("/etc/init.d/"), "{path}");
    }
    for not_ours in ["opt", "usr/local"] {
        assert!(!root.path().join(not_ours).exists(), "{not_ours} written");
    }
    let gone = Cli::new()
        .args(["uninstall", "--backend", "openrc", "--root"])
        .arg(root.path())
        .ok();
    assert!(
        gone.stdout.contains("removed /etc/init.d/openim"),
        "{}",
        gone.stdout
    );
    assert!(tree(root.path()).is_empty(), "{:?}", tree(root.path()));
}

#[test]
fn the_runit_and_s6_trees_are_service_directories_without_links() {
    for (backend, dir) in [("runit", "/etc/sv/"), ("s6", "/etc/s6/sv/")] {
        let root = tempfile::tempdir().expect("root");
        let r = stage(root.path(), backend, "debian");
        assert!(r.stderr.contains("useradd -r -g openim"), "{}", r.stderr);
        for path in r.stdout.lines() {
            assert!(path.starts_with(dir), "{backend}: {path}");
            let name = Path::new(path).file_name().and_then(|n| n.to_str());
            if matches!(name, Some("run" | "finish")) {
                let p = root.path().join(path.trim_start_matches('/'));
                let mode = std::fs::metadata(&p).expect("staged").permissions().mode();
                assert_eq!(mode & 0o777, 0o755, "{backend}: {path}");
            }
        }
        for scan in ["etc/service", "var/service", "run/service"] {
            assert!(
                !root.path().join(scan).exists(),
                "{backend}: {scan} written"
            );
        }
        let gone = Cli::new()
            .args([
                "uninstall",
                "--backend",
                backend,
                "--layout",
                "debian",
                "--root",
            ])
            .arg(root.path())
            .ok();
        assert!(gone.stdout.contains("removed /etc/"), "{}", gone.stdout);
        assert!(tree(root.path()).is_empty(), "{:?}", tree(root.path()));
        let sv = root.path().join(dir.trim_matches('/'));
        assert_eq!(
            std::fs::read_dir(&sv).expect("kept").count(),
            0,
            "{backend}"
        );
    }
}

#[test]
fn a_staged_install_run_again_unchanged_leaves_its_state_files_as_they_are() {
    use std::os::unix::fs::MetadataExt as _;
    let root = tempfile::tempdir().expect("root");
    let state = root.path().join("var/lib/openim-init");
    // each state file's name, inode and modification time (a rewrite is a new file)
    let stamps = || {
        let mut out = Vec::new();
        for stack in std::fs::read_dir(&state).expect("state") {
            for backend in std::fs::read_dir(stack.expect("stack").path()).expect("stack") {
                for file in std::fs::read_dir(backend.expect("backend").path()).expect("dir") {
                    let file = file.expect("file");
                    let m = file.metadata().expect("meta");
                    out.push((file.file_name(), m.ino(), m.mtime(), m.mtime_nsec()));
                }
            }
        }
        out.sort();
        out
    };
    stage(root.path(), "systemd", "debian");
    let first = stamps();
    let names: Vec<_> = first
        .iter()
        .map(|s| s.0.to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ledger.json", "units.json"]);
    let again = stage(root.path(), "systemd", "debian");
    assert!(again.stderr.contains("0 changed"), "{}", again.stderr);
    assert_eq!(stamps(), first, "an unchanged install rewrote its state");
}
