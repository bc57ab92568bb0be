//! The peers side by side: honcho and node-foreman exporting the same 10,000 entries.

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::out::{fresh, written_files};
use super::{Opts, Sample, Shape, generate, manifest, measure, ms, synth};

fn find_tool(local: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(local);
    if p.exists() {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

/// What a run left in `dir`: `N files, M MB`.
fn wrote(dir: &Path) -> String {
    let files = written_files(dir);
    let bytes: usize = files.iter().map(|f| f.1).sum();
    format!("{} files, {:.1} MB", files.len(), bytes as f64 / 1e6)
}

/// A peer's command, with as many descriptors as allowed: node-foreman opens every file it
/// writes at once (its systemd export of N entries needs 2N + 1 and fails with EMFILE where
/// the hard limit is lower).
fn peer_command(tool: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(tool);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: getrlimit and setrlimit are async-signal-safe; nothing else runs in the child.
    unsafe {
        c.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) == 0 {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &raw const lim);
            }
            Ok(())
        });
    }
    c
}

/// The same 10,000 plain entries exported by honcho and node-foreman (from a Procfile) and
/// by openim-init (from the manifest), each into a fresh directory, side by side; with what
/// each wrote, and how much of openim-init's time is its sink (--out − stdout).
pub fn peers_table(o: &Opts) {
    let runs = o.runs.min(5);
    let procfile = o.dir.join("Procfile-10000");
    fs::write(&procfile, synth::procfile(10_000)).expect("procfile");
    let m = manifest(o, Shape::Plain, 10_000);
    let out = o.dir.join("peer-out");
    let honcho = find_tool("target/peers/venv/bin/honcho", "honcho");
    let nf = find_tool("target/peers/node_modules/.bin/nf", "nf");
    println!(
        "\n### peers: 10,000-entry export into a fresh directory on {} (median of {runs} runs)\n",
        o.dir.display()
    );
    println!(
        "wall / CPU time (what the run wrote); × is the peer's time ÷ openim-init's, wall / \
         CPU; sink is openim-init's --out − stdout, and its share of the --out time\n"
    );
    println!("| format | openim-init | sink | honcho | × | node-foreman | × |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for format in ["systemd", "supervisord"] {
        // openim-init and honcho create the directory; node-foreman needs it made
        let missing = || fresh(&out);
        let empty = || {
            fresh(&out);
            fs::create_dir_all(&out).expect("mkdir");
        };
        let to_stdout = measure(runs, || {}, || generate(format, &m));
        let ours = measure(runs, missing, || {
            let mut c = generate(format, &m);
            c.arg("--out").arg(&out);
            c
        });
        let ours_wrote = wrote(&out);
        let (p, d) = (
            procfile.to_str().expect("utf-8"),
            out.to_str().expect("utf-8"),
        );
        let peer = |tool: &Option<PathBuf>, args: &[&str], prep: &dyn Fn()| {
            tool.as_ref().map(|t| {
                let s = measure(runs, prep, || peer_command(t, args));
                (s, wrote(&out))
            })
        };
        let h = peer(&honcho, &["export", "-f", p, format, d], &missing);
        let f = peer(&nf, &["export", "-j", p, "-t", format, "-o", d], &empty);
        let cell = |s: &Option<(Sample, String)>| match s {
            None => ("not installed".to_owned(), "–".to_owned()),
            Some((s, what)) if !s.ok => (
                format!("failed after {} ({what})", ms(s).replace(" (exit≠0)", "")),
                "–".to_owned(),
            ),
            Some((s, what)) => (
                format!("{} ({what})", ms(s)),
                format!("{:.1} / {:.1}", s.secs / ours.secs, s.cpu / ours.cpu),
            ),
        };
        let ((hc, hx), (fc, fx)) = (cell(&h), cell(&f));
        let (sw, sc) = (ours.secs - to_stdout.secs, ours.cpu - to_stdout.cpu);
        println!(
            "| {format} | {} ({ours_wrote}) | {:.0} / {:.0} ms ({:.0}% / {:.0}%) | {hc} | {hx} | {fc} | {fx} |",
            ms(&ours),
            sw * 1e3,
            sc * 1e3,
            100.0 * sw / ours.secs,
            100.0 * sc / ours.cpu
        );
    }
}
