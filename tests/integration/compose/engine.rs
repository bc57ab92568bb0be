//! A private Docker engine for one test, the recipe's way
//! (`../shared/backends-lab/compose-runtime.md`): Debian's `dockerd` started by hand with its
//! own data root, exec root, socket and containerd namespace, host networking only (no
//! iptables, no bridge, no `ip_forward`), and an image imported from a local tarball (no
//! registry): busybox, bash and the probe with their shared libraries. Dropping it removes
//! every container and the image, stops dockerd and removes what it left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::common::{Run, require};
use crate::harness::{WorkDir, procs, run_timeout, wait_for};

/// One engine at a time in this test binary.
pub static ENGINE_LOCK: Mutex<()> = Mutex::new(());

/// The image every test container runs.
pub const IMAGE: &str = "localhost/openim-init-probe:1";

/// Files dockerd 20.10 writes outside its roots whatever the flags say.
const STRAYS: &[&str] = &["/etc/docker/key.json", "/run/docker"];

/// A running private dockerd (see the module documentation).
pub struct Engine {
    /// The test's work directory (records, rootfs, compose files).
    pub work: WorkDir,
    exec_root: tempfile::TempDir,
    dockerd: std::process::Child,
    sock: PathBuf,
    strays: Vec<&'static str>,
}

impl Engine {
    /// Start dockerd and import the image; `None` (skip, or fail in CI) without the tools.
    pub fn start(name: &str) -> Option<Self> {
        let have = [
            "dockerd",
            "docker",
            "docker-compose",
            "bash",
            "busybox",
            "ldd",
        ]
        .iter()
        .all(|t| which::which(t).is_ok());
        if !require(
            have && crate::common::is_root(),
            "dockerd, docker, docker-compose (apt docker.io docker-compose), bash, busybox and root",
        ) {
            return None;
        }
        let probe = crate::harness::probe::binary()?;
        let work = WorkDir::new(name);
        // containerd's socket path must fit in 108 bytes: a short exec root
        let exec_root = tempfile::Builder::new()
            .prefix("oidk")
            .tempdir_in("/tmp")
            .expect("exec root");
        let strays = STRAYS
            .iter()
            .copied()
            .filter(|p| !Path::new(p).exists())
            .collect();
        let sock = exec_root.path().join("d.sock");
        let ns = format!("oi-test-{}", std::process::id());
        let log = std::fs::File::create(work.log("dockerd")).expect("log");
        // containerd writes `containerd.PID.stacks.log` to TMPDIR when signalled during the
        // teardown: inside the work dir, not left in /tmp
        let tmp = work.join("tmp");
        std::fs::create_dir(&tmp).expect("tmp dir");
        let child = Command::new("dockerd")
            .env("TMPDIR", &tmp)
            .arg("--data-root")
            .arg(work.join("docker-root"))
            .arg("--exec-root")
            .arg(exec_root.path().join("x"))
            .arg("--pidfile")
            .arg(exec_root.path().join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
            ])
            .args([
                "--ip-masq=false",
                "--bridge=none",
                "--storage-driver=overlay2",
            ])
            .args(["--containerd-namespace", &ns])
            .args(["--containerd-plugins-namespace", &format!("{ns}-plugins")])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        let engine = Self {
            work,
            exec_root,
            dockerd: child,
            sock,
            strays,
        };
        let up = wait_for(Duration::from_secs(30), || {
            engine.docker(&["version"]).code == 0
        });
        assert!(
            up,
            "dockerd did not answer within 30s: {}",
            std::fs::read_to_string(engine.work.log("dockerd")).unwrap_or_default()
        );
        engine.import_image(&probe);
        Some(engine)
    }

    /// `docker ARGS` against this engine (60 s deadline).
    pub fn docker(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("docker");
        cmd.args(args)
            .env("DOCKER_HOST", format!("unix://{}", self.sock.display()));
        run_timeout(&mut cmd, Duration::from_mins(1))
    }

    /// `docker-compose -p PROJECT -f FILE ARGS` against this engine (deadline `limit`).
    pub fn compose(&self, project: &str, file: &Path, args: &[&str], limit: Duration) -> Run {
        let mut cmd = Command::new("docker-compose");
        cmd.args(["-p", project])
            .arg("-f")
            .arg(file)
            .args(args)
            .env("DOCKER_HOST", format!("unix://{}", self.sock.display()));
        run_timeout(&mut cmd, limit)
    }

    /// A field of `docker inspect` of a container.
    pub fn inspect(&self, container: &str, format: &str) -> String {
        self.docker(&["inspect", "--format", format, container])
            .stdout
            .trim()
            .to_owned()
    }

    /// The containers (ids) of compose project `project`, stopped ones included.
    pub fn project_containers(&self, project: &str) -> Vec<String> {
        let filter = format!("label=com.docker.compose.project={project}");
        let r = self.docker(&["ps", "-aq", "--filter", &filter]);
        r.stdout.split_whitespace().map(str::to_owned).collect()
    }

    /// The id of the container that runs compose service `service` of `project`.
    pub fn container_of(&self, project: &str, service: &str) -> String {
        let p = format!("label=com.docker.compose.project={project}");
        let s = format!("label=com.docker.compose.service={service}");
        let r = self.docker(&["ps", "-aq", "--filter", &p, "--filter", &s]);
        r.stdout
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Build a root file system of busybox (every applet), bash and the probe with their
    /// shared libraries, and import it as [`IMAGE`].
    fn import_image(&self, probe: &Path) {
        let root = self.work.join("rootfs");
        for d in ["bin", "etc", "tmp", "www", "out", "proc", "sys", "dev"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        crate::harness::set_mode(&root.join("tmp"), 0o1777);
        let busybox = which::which("busybox").expect("busybox");
        let bash = which::which("bash").expect("bash");
        for (src, name) in [
            (&busybox, "busybox"),
            (&bash, "bash"),
            (&probe.to_path_buf(), "probe"),
        ] {
            std::fs::copy(src, root.join("bin").join(name)).expect("copy binary");
            for lib in libraries(src) {
                let dest = root.join(lib.strip_prefix("/").expect("absolute"));
                std::fs::create_dir_all(dest.parent().expect("dir")).expect("mkdir lib");
                std::fs::copy(&lib, &dest).expect("copy library");
            }
        }
        let list = Command::new(&busybox)
            .arg("--list")
            .output()
            .expect("applets");
        for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
            let link = root.join("bin").join(applet);
            if !link.exists() {
                std::os::unix::fs::symlink("busybox", link).expect("applet link");
            }
        }
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").expect("group");
        std::fs::write(root.join("www/index.html"), "ok\n").expect("index");
        let tar = self.work.join("rootfs.tar");
        let r = run_timeout(
            Command::new("tar")
                .arg("-C")
                .arg(&root)
                .arg("-cf")
                .arg(&tar)
                .arg("."),
            Duration::from_mins(1),
        );
        assert_eq!(r.code, 0, "tar: {}", r.stderr);
        let tar = tar.display().to_string();
        let r = self.docker(&["import", "--change", "ENV PATH=/bin", &tar, IMAGE]);
        assert_eq!(r.code, 0, "docker import: {}{}", r.stdout, r.stderr);
    }
}

/// The shared libraries `binary` loads (from `ldd`), the dynamic loader included.
fn libraries(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(binary).output().expect("ldd");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = l.split("=> ").nth(1).unwrap_or(l);
            let path = path.split(" (").next()?.trim();
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

impl Drop for Engine {
    fn drop(&mut self) {
        let all = self.docker(&["ps", "-aq"]);
        for id in all.stdout.split_whitespace() {
            let _ = self.docker(&["rm", "-f", "-v", id]);
        }
        let _ = self.docker(&["volume", "prune", "-f"]);
        let _ = self.docker(&["image", "rm", "-f", IMAGE]);
        let pid = i32::try_from(self.dockerd.id()).expect("pid");
        procs::kill(pid, libc::SIGTERM);
        let dockerd = &mut self.dockerd;
        let gone = wait_for(Duration::from_secs(20), || {
            !matches!(dockerd.try_wait(), Ok(None))
        });
        if !gone {
            procs::kill(pid, libc::SIGKILL);
            let _ = self.dockerd.wait();
        }
        // dockerd leaves its default network namespace bind-mounted under the exec root
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut ours: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(1))
            .filter(|m| {
                m.starts_with(&*self.exec_root.path().to_string_lossy())
                    || m.starts_with(&*self.work.path().to_string_lossy())
            })
            .collect();
        ours.sort_unstable_by(|a, b| b.cmp(a));
        for m in ours {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        for p in &self.strays {
            let _ = std::fs::remove_file(p);
            let _ = std::fs::remove_dir_all(p);
        }
        let _ = std::fs::remove_dir("/run/containerd/s");
        let _ = std::fs::remove_dir("/run/containerd");
    }
}
