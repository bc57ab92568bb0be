//! One real run: `supervisord -n -c` on the `--standalone` output of a small manifest, its
//! paths moved into a temporary directory by a template override (the way a user picks
//! them), driven with supervisorctl: autostart, stop and start `STACK:*`, the argv and
//! environment of the running processes, shutdown, and nothing left behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openim_init::model::Model;

use super::sv_python;
use crate::common::Cli;

/// If the test fails before its shutdown: SIGTERM supervisord (it stops its children),
/// SIGKILL it after 10 s, then SIGKILL any process of this run still alive (by pid).
struct Daemon {
    child: Child,
    token: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg(self.child.id().to_string())
                .status();
            let gone = wait_until(Duration::from_secs(10), || {
                matches!(self.child.try_wait(), Ok(Some(_)))
            });
            if gone.is_none() {
                let _ = self.child.kill();
            }
            let _ = self.child.wait();
        }
        for pid in leftovers(&self.token) {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
}

fn ctl(py: &Path, conf: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(py)
        .args(["-m", "supervisor.supervisorctl", "-c"])
        .arg(conf)
        .args(args)
        .output()
        .expect("supervisorctl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn wait_until(limit: Duration, mut ok: impl FnMut() -> bool) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if ok() {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn count(status: &str, state: &str) -> usize {
    status
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some(state))
        .count()
}

/// Pids of this run's `/bin/sleep TOKEN…` processes.
fn leftovers(token: &str) -> Vec<String> {
    let needle = format!("/bin/sleep\0{token}");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(&needle)
        {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

fn nul_split(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn manifest(dir: &Path, token: &str) -> String {
    format!(
        r#"name = "svrun"
[defaults]
restart = "always"
stop_timeout = "5s"
[services.a]
command = ["/bin/sleep", "{token}1"]
[services.b]
command = ["/bin/sleep", "{token}2"]
instances = 2
requires = ["a"]
environment = {{ B = "it's {{instance}} 100%", Q = "'q' \"q\" ;x" }}
[services.c]
command = ["/bin/sleep", "{token}3"]
instances = ["x", "y"]
pre_start = [["/bin/sh", "-c", "echo \"pre $1\" >> '{dir}/pre.log'", "sh", "{{instance}}"]]
logs = {{ stdout = "{dir}/c.log" }}
"#,
        dir = dir.display()
    )
}

/// conf.tera with the daemon's paths inside `dir`.
fn template_override(dir: &Path) -> PathBuf {
    let base = openim_init::render::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "supervisord/conf.tera")
        .expect("embedded")
        .1;
    let d = dir.display();
    let text = base
        .replace("{{ daemon.socket }}", &format!("{d}/supervisor.sock"))
        .replace("{{ daemon.logfile }}", &format!("{d}/supervisord.log"))
        .replace("{{ daemon.pidfile }}", &format!("{d}/supervisord.pid"))
        .replace("{{ daemon.childlogdir }}", &d.to_string());
    assert_ne!(text, base, "the template still names the daemon paths");
    let tpl = dir.join("templates");
    std::fs::create_dir_all(tpl.join("supervisord")).expect("mkdir");
    std::fs::write(tpl.join("supervisord/conf.tera"), text).expect("override");
    tpl
}

#[test]
fn standalone_config_runs_under_real_supervisord() {
    let Some(py) = sv_python() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let token = format!("8{}", std::process::id());
    let text = manifest(dir, &token);
    std::fs::write(dir.join("svrun.toml"), &text).expect("manifest");
    let model = Model::from_toml("svrun.toml", &text).expect("valid");
    let templates = template_override(dir);
    let out = dir.join("out");
    Cli::new()
        .args([
            "generate",
            "--backend",
            "supervisord",
            "--standalone",
            "--templates",
        ])
        .arg(&templates)
        .arg("--manifest")
        .arg(dir.join("svrun.toml"))
        .arg("--out")
        .arg(&out)
        .ok();
    let conf = out.join("supervisord.conf");

    let t0 = Instant::now();
    let child = Command::new(&py)
        .args(["-m", "supervisor.supervisord", "-n", "-c"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("supervisord.out")).expect("out"))
        .stderr(std::fs::File::create(dir.join("supervisord.err")).expect("err"))
        .spawn()
        .expect("supervisord starts");
    let mut daemon = Daemon {
        child,
        token: token.clone(),
    };
    let up = wait_until(Duration::from_secs(10), || ctl(&py, &conf, &["pid"]).0 == 0)
        .expect("supervisord answers");
    eprintln!("supervisord answering after {up:?}");

    // autostart brings up all 5 processes (a, b_0, b_1, c_x, c_y)
    let all = || count(&ctl(&py, &conf, &["status"]).1, "RUNNING") == 5;
    let t = wait_until(Duration::from_secs(15), all).expect("5 RUNNING after autostart");
    eprintln!(
        "autostart: 5 RUNNING {t:?} after supervisord answered ({:?} total)",
        t0.elapsed()
    );

    let (code, status) = ctl(&py, &conf, &["stop", "svrun:*"]);
    assert_eq!(code, 0, "{status}");
    let (code, status) = ctl(&py, &conf, &["status"]);
    assert_eq!((code, count(&status, "STOPPED")), (3, 5), "{status}");

    let t1 = Instant::now();
    let (code, started) = ctl(&py, &conf, &["start", "svrun:*"]);
    eprintln!("start svrun:* returned in {:?}:\n{started}", t1.elapsed());
    assert_eq!(code, 0, "{started}");
    let (code, status) = ctl(&py, &conf, &["status"]);
    eprintln!("status:\n{status}");
    assert_eq!((code, count(&status, "RUNNING")), (0, 5), "{status}");

    // the running processes have exactly the manifest's argv and environment
    for (proc_name, svc, inst) in super::expected(&model) {
        let (_, pid) = ctl(&py, &conf, &["pid", &format!("svrun:{proc_name}")]);
        let pid = pid.trim();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
        assert_eq!(
            nul_split(&cmdline),
            svc.argv_for(inst.as_deref()),
            "{proc_name}"
        );
        let environ = nul_split(&std::fs::read(format!("/proc/{pid}/environ")).expect("env"));
        for (k, v) in super::want_env(svc, inst.as_deref()) {
            assert!(
                environ.contains(&format!("{k}={v}")),
                "{proc_name}: {k}={v} in {environ:?}"
            );
        }
    }
    let pre = std::fs::read_to_string(dir.join("pre.log")).expect("pre_start ran");
    assert_eq!(pre.lines().filter(|l| *l == "pre x").count(), 2, "{pre}"); // autostart + start
    assert_eq!(pre.lines().filter(|l| *l == "pre y").count(), 2, "{pre}");

    let (code, stopped) = ctl(&py, &conf, &["stop", "svrun:*"]);
    assert_eq!(code, 0, "{stopped}");
    let t2 = Instant::now();
    let (code, bye) = ctl(&py, &conf, &["shutdown"]);
    assert_eq!(code, 0, "{bye}");
    let exited = wait_until(Duration::from_secs(10), || {
        matches!(daemon.child.try_wait(), Ok(Some(_)))
    })
    .expect("supervisord exits after shutdown");
    let rc = daemon.child.wait().expect("status").code();
    eprintln!(
        "shutdown: supervisord exited with {rc:?} after {exited:?} ({:?})",
        t2.elapsed()
    );
    assert_eq!(rc, Some(0));
    assert_eq!(
        leftovers(&token),
        Vec::<String>::new(),
        "processes left behind"
    );
}
