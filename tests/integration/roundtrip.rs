//! Round-trip property tests (issue 6 item 1): every backend must make its init system exec
//! exactly the manifest's argv and environment, whatever characters they hold.
//!
//! proptest generates [`cases::Case`]s (a hostile program path, argv, environment and
//! `pre_start` commands; see [`cases::ATOMS`]). A batch of cases becomes one manifest with one
//! service per case, every command being the probe (examples/probe.rs), which records the
//! argv and environment it receives. The real CLI renders the batch, and each backend
//! ([`RoundTrip`], one module each) has its own init system or parser read it back and exec
//! it; the records must equal the manifest exactly. A failing case is re-run alone, shrunk
//! in batches, and reported with both sides `{:?}`-escaped.
//!
//! `OPENIM_ROUNDTRIP_CASES` (default 1000) sets the cases per backend and
//! `OPENIM_ROUNDTRIP_SEED` replays a run (every run prints its seed).

pub mod cases;
mod compose;
mod driver;
mod kubernetes;
mod launchd;
mod openrc;
mod refuse;
mod runit;
mod shrink;
mod supervisord;
mod systemd;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::common::{Cli, Run};
use crate::harness::{WorkDir, probe, run_timeout, write_manifest};
use cases::Case;

/// One exec the probe recorded (or the round trip expects): argv, argv[0] included, and
/// the whole environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// What running one case produced: its execs in order (`pre_start` commands, then the
/// command), or why they could not be observed.
pub type Outcome = Result<Vec<Exec>, String>;

/// One backend under the round trip.
pub trait RoundTrip {
    /// The backend's name (`--backend`).
    fn name(&self) -> &'static str;
    /// Why this machine cannot run it (a missing tool), or `None`.
    fn unavailable(&self) -> Option<String>;
    /// How many cases share one manifest (one parser run or manager start).
    fn batch_size(&self) -> usize;
    /// Whether the init system itself (or the launch it stands for) adds variable `key`.
    fn added_env(&self, key: &str) -> bool;
    /// Whether the init system cannot carry character `c` in any value, however it is
    /// written (then the backend must refuse the manifest, naming the field).
    fn uncarried(&self, _c: char) -> bool {
        false
    }
    /// Why the init system cannot run a program at `path` however it is written (then the
    /// backend must refuse the manifest, naming the field), or `None`.
    fn program_problem(&self, _path: &str) -> Option<String> {
        None
    }
    /// What the backend counted over the run, for the summary line (e.g. wrapped commands).
    fn stats(&self) -> String {
        String::new()
    }
    /// How the backend runs `case`, for a failure report (e.g. under which shell).
    fn describe(&self, _case: &Case) -> String {
        String::new()
    }
    /// The execs case `i` of `batch` must produce; by default [`Batch::expected`].
    fn expected(&self, batch: &Batch<'_>, i: usize) -> Vec<Exec> {
        batch.expected(i)
    }
    /// Render `batch` with the real CLI, have the backend's own parser or manager read it
    /// and exec every service; one outcome per case. `Err` when the batch as a whole fails
    /// (the round trip then bisects it to find the case).
    fn check_batch(&self, batch: &Batch<'_>) -> Result<Vec<Outcome>, String>;
}

/// The work directory of one backend's round trip, with the probe copied in.
pub struct Lab {
    pub work: WorkDir,
    pub probe: PathBuf,
    batches: std::cell::Cell<usize>,
}

impl Lab {
    /// None when the probe is not built (skip outside CI, failure in CI).
    pub fn new(name: &str) -> Option<Self> {
        let work = WorkDir::new(&format!("roundtrip-{name}"));
        let probe = probe::install(&work)?;
        Some(Self {
            work,
            probe,
            batches: std::cell::Cell::new(0),
        })
    }
}

/// Cases rendered as one manifest, in a directory of their own.
pub struct Batch<'a> {
    pub cases: &'a [Case],
    pub dir: PathBuf,
}

/// The stack name of every batch manifest.
pub const STACK: &str = "rt";

/// The image the container backends run every batch's services from.
pub const CONTAINER_IMAGE: &str = "localhost/openim-init-probe:1";

impl<'a> Batch<'a> {
    /// A fresh directory with `records/` and, per case, the probe linked under its hostile
    /// directory name.
    pub fn new(lab: &Lab, cases: &'a [Case]) -> Self {
        let n = lab.batches.get();
        lab.batches.set(n + 1);
        let dir = lab.work.join(format!("b{n}"));
        std::fs::create_dir_all(dir.join("records")).expect("mkdir records");
        let batch = Self { cases, dir };
        for i in 0..cases.len() {
            let program = batch.program(i);
            std::fs::create_dir_all(program.parent().expect("has a parent")).expect("mkdir");
            std::os::unix::fs::symlink(&lab.probe, &program).expect("link the probe");
        }
        batch
    }

    /// The service of case `i`.
    pub fn service(i: usize) -> String {
        format!("c{i}")
    }

    /// The program path of case `i`: `DIR/x/i/<exe_dir>/probe`, or with `odd_path`
    /// `DIR/x/i/./<exe_dir>//probe`.
    pub fn program(&self, i: usize) -> PathBuf {
        let c = &self.cases[i];
        let base = self.dir.join("x").join(i.to_string());
        if c.odd_path {
            PathBuf::from(format!("{}/./{}//probe", base.display(), c.exe_dir))
        } else {
            base.join(&c.exe_dir).join("probe")
        }
    }

    /// Where the probe of case `i` appends its records.
    pub fn record(&self, i: usize) -> PathBuf {
        self.dir.join("records").join(format!("c{i}.jsonl"))
    }

    /// The environment case `i` is given (and must receive): its own plus the probe's.
    fn env(&self, i: usize) -> BTreeMap<String, String> {
        let mut env = self.cases[i].env.clone();
        env.insert("PROBE_RECORD".into(), self.record(i).display().to_string());
        env.insert("PROBE_EXIT".into(), "0".into());
        env
    }

    fn argv(&self, i: usize, args: &[String]) -> Vec<String> {
        let mut words = vec![self.program(i).display().to_string()];
        words.extend(args.iter().cloned());
        words
    }

    /// The execs case `i` must produce: each `pre_start` command, then the command.
    pub fn expected(&self, i: usize) -> Vec<Exec> {
        let c = &self.cases[i];
        let env = self.env(i);
        c.pre
            .iter()
            .chain(std::iter::once(&c.args))
            .map(|args| Exec {
                argv: self.argv(i, args),
                env: env.clone(),
            })
            .collect()
    }

    /// How many execs case `i` must produce.
    pub fn want_execs(&self, i: usize) -> usize {
        self.cases[i].pre.len() + 1
    }

    /// What the probe of case `i` recorded so far.
    pub fn observed(&self, i: usize) -> Vec<Exec> {
        probe::starts(&self.record(i))
            .into_iter()
            .map(|r| Exec {
                argv: r.argv,
                env: r.env,
            })
            .collect()
    }

    /// The manifest: one service per case, never restarted.
    fn manifest(&self) -> Value {
        let mut services = Map::new();
        for (i, c) in self.cases.iter().enumerate() {
            let mut svc = json!({ "command": self.argv(i, &c.args), "environment": self.env(i) });
            if !c.pre.is_empty() {
                let pre: Vec<Vec<String>> = c.pre.iter().map(|p| self.argv(i, p)).collect();
                svc["pre_start"] = json!(pre);
            }
            services.insert(Self::service(i), svc);
        }
        // the container backends need an image; the others ignore `container`
        json!({
            "name": STACK,
            "defaults": { "restart": "never", "container": { "image": CONTAINER_IMAGE } },
            "services": services,
        })
    }

    /// Write the manifest and run `openim-init generate --backend BACKEND EXTRA… --out
    /// DIR/out`; returns the output directory, or the CLI's complaint.
    pub fn generate(&self, backend: &str, extra: &[&str]) -> Result<PathBuf, String> {
        let manifest = self.dir.join("manifest.toml");
        write_manifest(&manifest, &self.manifest());
        let out = self.dir.join("out");
        let r: Run = Cli::new()
            .args(["generate", "--backend", backend, "--force"])
            .args(extra)
            .arg("--manifest")
            .arg(&manifest)
            .arg("--out")
            .arg(&out)
            .run();
        if r.code == 0 {
            Ok(out)
        } else {
            Err(format!("generate exited with {}: {}", r.code, r.stderr))
        }
    }

    /// Every generated file, for a failure report (cut to a readable size).
    pub fn artifacts(&self) -> String {
        fn files(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    files(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let root = self.dir.join("out");
        let mut paths = Vec::new();
        files(&root, &mut paths);
        paths.sort();
        let mut text = String::new();
        for p in paths {
            let body = std::fs::read_to_string(&p).unwrap_or_default();
            let name = p.strip_prefix(&root).unwrap_or(&p).display();
            text.push_str(&format!("==== {name} ====\n{body}\n"));
        }
        if text.len() > 6000 {
            let cut = (0..=6000)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push_str("\n…(cut)");
        }
        text
    }
}

/// Exec `argv` with exactly `env` in `cwd`, the way a supervisor's execve does, and wait for
/// it (the probe exits 0 right after recording).
pub fn exec(argv: &[String], env: &[(String, String)], cwd: &Path) -> Result<(), String> {
    let (program, rest) = argv.split_first().ok_or("an empty argv")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest)
        .env_clear()
        .envs(env.iter().cloned())
        .current_dir(cwd);
    let r = run_timeout(&mut cmd, Duration::from_secs(20));
    if r.code == 0 {
        Ok(())
    } else {
        Err(format!(
            "exec of {argv:?} exited with {}: {}{}",
            r.code, r.stdout, r.stderr
        ))
    }
}

/// Why `got` differs from `want`, or `None`. Variables not in the manifest are accepted
/// only when the backend's init system adds them (`added`).
pub fn compare(want: &[Exec], got: &Outcome, added: &dyn Fn(&str) -> bool) -> Option<String> {
    let got = match got {
        Ok(g) => g,
        Err(e) => return Some(format!("no exec observed: {e}")),
    };
    if got.len() != want.len() {
        return Some(format!(
            "expected {} exec(s), observed {}: {:#?}",
            want.len(),
            got.len(),
            got.iter().map(|e| &e.argv).collect::<Vec<_>>()
        ));
    }
    let mut out = String::new();
    for (n, (w, g)) in want.iter().zip(got).enumerate() {
        let what = if n + 1 == want.len() {
            "command".to_owned()
        } else {
            format!("pre_start[{n}]")
        };
        if w.argv != g.argv {
            out.push_str(&format!(
                "{what}: argv differs\n  expected {:?}\n  observed {:?}\n",
                w.argv, g.argv
            ));
            for (k, (a, b)) in w.argv.iter().zip(&g.argv).enumerate() {
                if a != b {
                    out.push_str(&format!("  argv[{k}]: expected {a:?}, observed {b:?}\n"));
                }
            }
        }
        for (k, v) in &w.env {
            if g.env.get(k) != Some(v) {
                out.push_str(&format!(
                    "{what}: environment {k}: expected {v:?}, observed {:?}\n",
                    g.env.get(k)
                ));
            }
        }
        for (k, v) in &g.env {
            if !w.env.contains_key(k) && !added(k) {
                out.push_str(&format!("{what}: unexpected variable {k}={v:?}\n"));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}
