//! End-to-end scale benchmark (issue 14): the release binary on synthetic stacks of every
//! shape, to stdout and into `--out`, against a minimal atomic-write floor and the peers.
//!
//! `cargo bench --bench scale [-- --runs N] [--quick] [--only stdout|chain|out|regen|peers]
//! [--backends a,b] [--dir DIR]`; `OPENIM_INIT_BIN=PATH` measures another build. Wall-clock
//! medians of N runs (default 11; `--quick` 3) and peak RSS (wait4), printed as markdown
//! tables. The `--out` table has two floors: the (temp file, write, fsync, rename,
//! directory fsync, per file) and a batched one with openim-init's own method (every temp
//! file, one `syncfs`, every rename, one directory fsync), which on a disk is the fair one:
//! the per-file floor pays a journal commit per file that the batched method does not.
//! `regen` regenerates plain and rich 10k into their own up-to-date directory, then with
//! every service changed. `--backends` narrows the backends of the stdout, chain, out and
//! regen tables (default: all 8, but systemd and openrc for out). The container backends
//! (compose, kubernetes) get the same stacks with a default image, which they require.
//! `--dir` on a tmpfs (e.g. `/dev/shm/x`) or a disk decides where `--out` and the floor
//! write.
//! honcho and node-foreman are measured when found in `target/peers/venv/bin/honcho` /
//! `target/peers/node_modules/.bin/nf` or on PATH (`python3 -m venv target/peers/venv &&
//! target/peers/venv/bin/pip install honcho jinja2`; `cd target/peers && npm install foreman`).
//! What each writes for N entries differs and the table says it: honcho's systemd export is
//! a unit and a target per process plus one target (2N + 1 files), its supervisord export
//! one file; node-foreman's systemd export is the same 2N + 1 files, its supervisord export
//! a file per process plus a group (N + 1); openim-init writes N units and a target, or
//! one supervisord file. The peers write each file in place (no temporary file, fsync or
//! record of what they own); openim-init writes atomically, durably and journaled. Each
//! export goes into a directory that does not exist yet (openim-init and honcho create it),
//! except node-foreman's, which needs an empty one.
#![allow(
    clippy::many_single_char_names,
    clippy::cast_precision_loss,
    reason = "a report: short names, ratios of sizes"
)]

#[path = "synth.rs"]
#[allow(dead_code, reason = "the example uses the rest")]
mod synth;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use synth::Shape;

#[path = "scale/out.rs"]
mod out;
#[path = "scale/peers.rs"]
mod peers;

use out::{out_table, regen_table};
use peers::peers_table;

const BACKENDS: &[&str] = &[
    "systemd",
    "openrc",
    "supervisord",
    "launchd",
    "runit",
    "s6",
    "compose",
    "kubernetes",
];
/// The binary measured: `OPENIM_INIT_BIN` (e.g. an older build to compare), else the one a
/// user gets from `cargo build --release`, built now. Not `cargo bench`'s own: that one links
/// the library with the tests' `fuzzing` feature, so its symbols are named differently and
/// `link/symbol-order.txt` does not lay it out (about 1 MiB more mapped by every run).
fn bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(build_bin)
}

/// `OPENIM_INIT_BIN`, or `cargo build --release`'s binary, built now.
fn build_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("OPENIM_INIT_BIN") {
        return PathBuf::from(path);
    }
    let out = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "openim-init"])
        .args(["--message-format", "json", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build --release");
    assert!(out.status.success(), "cargo build --release failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|msg| msg.get("executable")?.as_str().map(PathBuf::from))
        .expect("cargo build --release names the binary it built")
}

struct Opts {
    runs: usize,
    only: Option<String>,
    /// `--backends a,b`: only these (in [`BACKENDS`] order).
    backends: Option<Vec<String>>,
    dir: PathBuf,
}

impl Opts {
    /// The backends of `from` that `--backends` keeps.
    fn backends<'a>(&self, from: &[&'a str]) -> Vec<&'a str> {
        from.iter()
            .copied()
            .filter(|b| {
                self.backends
                    .as_ref()
                    .is_none_or(|keep| keep.iter().any(|k| k == b))
            })
            .collect()
    }
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    Opts {
        runs: value("--runs")
            .and_then(|r| r.parse().ok())
            .unwrap_or(if quick { 3 } else { 11 }),
        only: value("--only"),
        backends: value("--backends").map(|v| {
            let names: Vec<String> = v.split(',').map(|b| b.trim().to_owned()).collect();
            for n in &names {
                assert!(
                    BACKENDS.contains(&n.as_str()),
                    "unknown backend {n}: {BACKENDS:?}"
                );
            }
            names
        }),
        dir: value("--dir").map_or_else(
            || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scale"),
            PathBuf::from,
        ),
    }
}

/// Wall time and CPU time (user + system, s) and peak RSS (KiB) of one run; `ok` says
/// whether it exited 0. On a shared machine CPU time is the steadier figure.
struct Sample {
    secs: f64,
    cpu: f64,
    rss_kib: u64,
    ok: bool,
}

fn cpu_secs(u: &libc::rusage) -> f64 {
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// CPU time this process has used so far (for the in-process floor).
fn self_cpu() -> f64 {
    // SAFETY: an all-zero rusage is valid; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our own rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut usage) };
    cpu_secs(&usage)
}

/// Let a child's peak RSS be its own. Linux records the peak of the address space a
/// process execs from in its `ru_maxrss`, and a spawned child execs from its parent's (a
/// `vfork`, or a `fork`'s copy): every child would report at least this bench's own peak,
/// which grows with the files it reads for the floors (39 MiB where launchd's run peaked
/// at 37). So give freed memory back and reset this process's peak to what it holds now.
fn own_peak_only() {
    // SAFETY: malloc_trim only returns free memory of this process's heap to the system.
    unsafe { libc::malloc_trim(0) };
    // "5": reset the peak resident set size to the current one (Linux 4.0 and later)
    let _ = fs::write("/proc/self/clear_refs", "5");
}

#[expect(clippy::zombie_processes, reason = "wait4 reaps it, with its rusage")]
fn run_once(cmd: &mut Command) -> Sample {
    own_peak_only();
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; status and usage are valid pointers.
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4");
    Sample {
        secs,
        cpu: cpu_secs(&usage),
        rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

/// Median seconds and largest peak RSS over `runs`; `prepare` runs untimed before each.
fn measure(runs: usize, mut prepare: impl FnMut(), mut cmd: impl FnMut() -> Command) -> Sample {
    let mut samples: Vec<Sample> = (0..runs)
        .map(|_| {
            prepare();
            run_once(&mut cmd())
        })
        .collect();
    let rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let ok = samples.iter().all(|s| s.ok);
    let mut cpu: Vec<f64> = samples.iter().map(|s| s.cpu).collect();
    cpu.sort_by(f64::total_cmp);
    samples.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    let mid = samples.swap_remove(runs / 2);
    Sample {
        cpu: cpu[runs / 2],
        rss_kib: rss,
        ok,
        ..mid
    }
}

fn manifest(o: &Opts, shape: Shape, n: usize) -> PathBuf {
    let path = o.dir.join(format!("{}-{n}.toml", shape.name()));
    if !path.exists() {
        fs::write(&path, synth::manifest(shape, n)).expect("write manifest");
    }
    path
}

/// The backends that run every service from an image (the manifest must name one).
const CONTAINER_BACKENDS: &[&str] = &["compose", "kubernetes"];

/// The manifest of `shape` and `n` for `backend`: for the container backends the same
/// stack with a default image.
fn manifest_for(o: &Opts, shape: Shape, n: usize, backend: &str) -> PathBuf {
    let plain = manifest(o, shape, n);
    if !CONTAINER_BACKENDS.contains(&backend) {
        return plain;
    }
    let path = o.dir.join(format!("{}-{n}-image.toml", shape.name()));
    if !path.exists() {
        let mut text = fs::read_to_string(&plain).expect("manifest");
        text.push_str("\n[defaults.container]\nimage = \"openim/openim-server:v3.8.3\"\n");
        fs::write(&path, text).expect("write manifest");
    }
    path
}

fn generate(backend: &str, manifest: &Path) -> Command {
    let mut c = Command::new(bin());
    c.args(["generate", "--backend", backend, "--manifest"])
        .arg(manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// `wall / cpu` in milliseconds.
fn ms(s: &Sample) -> String {
    let mark = if s.ok { "" } else { " (exit≠0)" };
    format!("{:.0} / {:.0} ms{mark}", s.secs * 1e3, s.cpu * 1e3)
}

fn rss_ratio(s: &Sample, manifest: &Path) -> String {
    let size = fs::metadata(manifest).map_or(1, |m| m.len().max(1));
    let ratio = (s.rss_kib * 1024) as f64 / size as f64;
    format!("{:.1} MiB ({ratio:.1}×)", s.rss_kib as f64 / 1024.0)
}

/// Every shape and backend at 1k and 10k: time to stdout, the 10k/1k ratio, peak memory.
fn stdout_table(o: &Opts) {
    println!("\n### generate to stdout (median of {} runs)\n", o.runs);
    println!("wall / CPU (user + system) time; the ratio is of CPU time\n");
    println!("| shape | backend | 1k | 10k | 10k/1k | peak RSS 10k (× manifest) |");
    println!("|---|---|---:|---:|---:|---:|");
    for &shape in Shape::ALL {
        let backends = if shape.invalid() {
            o.backends(BACKENDS).into_iter().take(1).collect()
        } else {
            o.backends(BACKENDS)
        };
        for b in backends {
            let small = manifest_for(o, shape, 1000, b);
            let big = manifest_for(o, shape, 10_000, b);
            let s1 = measure(o.runs, || {}, || generate(b, &small));
            let s10 = measure(o.runs, || {}, || generate(b, &big));
            println!(
                "| {} | {b} | {} | {} | {:.1} | {} |",
                shape.name(),
                ms(&s1),
                ms(&s10),
                s10.cpu / s1.cpu,
                rss_ratio(&s10, &big)
            );
        }
    }
}

/// A 100,000-service `requires` chain (each with a health check), every backend.
fn chain_table(o: &Opts) {
    let runs = o.runs.min(5);
    println!("\n### 100,000-service requires chain (median of {runs} runs)\n");
    println!("| backend | time | peak RSS (× manifest) |");
    println!("|---|---:|---:|");
    for b in o.backends(BACKENDS) {
        let m = manifest_for(o, Shape::Chain, 100_000, b);
        let s = measure(runs, || {}, || generate(b, &m));
        println!("| {b} | {} | {} |", ms(&s), rss_ratio(&s, &m));
    }
}

fn machine(o: &Opts) {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "machine: {cpu}, {cores} cores, Linux {}; files in {}; binary {}",
        kernel.trim(),
        o.dir.display(),
        bin().display()
    );
    println!("load average at the start: {}", load_average());
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`): times wander on a busy machine,
/// so a table says how busy it was.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn main() {
    let o = opts();
    fs::create_dir_all(&o.dir).expect("bench dir");
    machine(&o);
    let want = |s: &str| o.only.as_deref().is_none_or(|only| only == s);
    if want("stdout") {
        stdout_table(&o);
    }
    if want("chain") {
        chain_table(&o);
    }
    if want("out") {
        out_table(&o);
    }
    if want("regen") {
        regen_table(&o);
    }
    if want("peers") {
        peers_table(&o);
    }
}
