//! `--out` against the two floors: the files a run wrote, written again by a minimal
//! program per file (the floor) and batched (openim-init's method).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{BACKENDS, Opts, Shape, generate, manifest_for, measure, ms, rss_ratio, self_cpu};

/// The files a run wrote (not openim-init's own state), with their sizes.
pub fn written_files(dir: &Path) -> Vec<(PathBuf, usize)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d)
            .expect("read_dir")
            .map(|e| e.expect("entry"))
        {
            let p = e.path();
            let name = e.file_name();
            if name.to_string_lossy().starts_with(".openim-init") {
                continue;
            }
            let meta = fs::symlink_metadata(&p).expect("metadata");
            if meta.is_dir() {
                todo.push(p);
            } else {
                let len = usize::try_from(meta.len()).expect("size");
                out.push((p.strip_prefix(dir).expect("under").to_path_buf(), len));
            }
        }
    }
    out
}

fn fsync_dir(dir: &Path) {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("fsync dir");
}

/// The floor: the same files, each written atomically the minimal way (temp file, write,
/// fsync, rename, fsync of the directory).
fn floor_write(dir: &Path, files: &[(PathBuf, usize)]) {
    let body = vec![b'x'; files.iter().map(|f| f.1).max().unwrap_or(0)];
    for (rel, len) in files {
        let path = dir.join(rel);
        let parent = path.parent().expect("parent");
        fs::create_dir_all(parent).expect("mkdir");
        let tmp = parent.join(".tmp-floor");
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .expect("open");
        f.write_all(&body[..*len]).expect("write");
        f.sync_all().expect("fsync");
        fs::rename(&tmp, &path).expect("rename");
        fsync_dir(parent);
    }
}

pub fn fresh(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
}

/// The batched floor: the same files made durable the way openim-init does it (the issue
/// allows it), so the same method at its minimum: every file written under a temporary name
/// (create, write, close), one `syncfs`, then every rename, then one fsync per directory. A
/// crash leaves the old file or the new one, as with [`floor_write`].
fn floor_batched_write(dir: &Path, files: &[(PathBuf, usize)]) {
    use std::os::fd::AsRawFd as _;
    let body = vec![b'x'; files.iter().map(|f| f.1).max().unwrap_or(0)];
    let mut dirs = std::collections::BTreeSet::new();
    let mut staged = Vec::with_capacity(files.len());
    for (i, (rel, len)) in files.iter().enumerate() {
        let path = dir.join(rel);
        let parent = path.parent().expect("parent").to_path_buf();
        if !dirs.contains(&parent) {
            fs::create_dir_all(&parent).expect("mkdir");
            dirs.insert(parent.clone());
        }
        let tmp = parent.join(format!(".tmp-floor-{i}"));
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)
            .expect("open");
        f.write_all(&body[..*len]).expect("write");
        staged.push((tmp, path));
    }
    let d = fs::File::open(dir).expect("open dir");
    // SAFETY: a descriptor we own, open for the call.
    let r = unsafe { libc::syncfs(d.as_raw_fd()) };
    assert_eq!(r, 0, "syncfs");
    for (tmp, path) in &staged {
        fs::rename(tmp, path).expect("rename");
    }
    for d in &dirs {
        fsync_dir(d);
    }
}

/// Median wall and CPU seconds of `floor` writing `files` into a fresh `dir`, in process.
fn floor_times(
    runs: usize,
    dir: &Path,
    files: &[(PathBuf, usize)],
    floor: fn(&Path, &[(PathBuf, usize)]),
) -> (f64, f64) {
    let (mut wall, mut cpu): (Vec<f64>, Vec<f64>) = (0..runs)
        .map(|_| {
            fresh(dir);
            let (t, c) = (Instant::now(), self_cpu());
            floor(dir, files);
            (t.elapsed().as_secs_f64(), self_cpu() - c)
        })
        .unzip();
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[runs / 2], cpu[runs / 2])
}

/// `generate --out` into a fresh directory, against the same run to stdout (the difference
/// is the sink's own time) and the two floors writing the same files: the (an
/// fsync per file and per rename) and the batched one (openim-init's method, one `syncfs`).
pub fn out_table(o: &Opts) {
    let runs = o.runs.min(7);
    println!(
        "\n### generate --out into a fresh directory on {} (median of {runs} runs)\n",
        o.dir.display()
    );
    println!(
        "wall / CPU time; sink = --out − stdout (the sink's own time); floor: temp file, \
         write, fsync, rename, directory fsync per file; batched floor: every temp file, one \
         syncfs, every rename, one directory fsync (openim-init's method); ratio = --out ÷ \
         floor, wall / CPU\n"
    );
    println!(
        "| stack | backend | files | stdout | --out | sink | floor | ratio | batched floor | ratio | peak RSS --out (× manifest) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let out = o.dir.join("out");
    let backends = if o.backends.is_some() {
        o.backends(BACKENDS)
    } else {
        vec!["systemd", "openrc"]
    };
    for shape in [Shape::Plain, Shape::Rich] {
        for &b in &backends {
            let m = manifest_for(o, shape, 10_000, b);
            let to_stdout = measure(runs, || {}, || generate(b, &m));
            let s = measure(
                runs,
                || fresh(&out),
                || {
                    let mut c = generate(b, &m);
                    c.arg("--out").arg(&out);
                    c
                },
            );
            let files = written_files(&out);
            let floor_dir = o.dir.join("floor");
            let (fw, fc) = floor_times(runs, &floor_dir, &files, floor_write);
            let (bw, bc) = floor_times(runs, &floor_dir, &files, floor_batched_write);
            let n = files.len();
            println!(
                "| {} 10k | {b} | {n} | {} | {} | {:.0} / {:.0} ms | {:.0} / {:.0} ms | {:.2} / {:.2} | {:.0} / {:.0} ms | {:.2} / {:.2} | {} |",
                shape.name(),
                ms(&to_stdout),
                ms(&s),
                (s.secs - to_stdout.secs) * 1e3,
                (s.cpu - to_stdout.cpu) * 1e3,
                fw * 1e3,
                fc * 1e3,
                s.secs / fw,
                s.cpu / fc,
                bw * 1e3,
                bc * 1e3,
                s.secs / bw,
                s.cpu / bc,
                rss_ratio(&s, &m)
            );
        }
    }
}

/// `generate --out` of plain 10k and rich 10k into its own up-to-date directory (written
/// once, then once more so that its ledger is in path order, as every run after the first
/// leaves it): nothing changes, yet each file is looked at, hashed and checked against the
/// ledger; then with every service changed, so that every file is rewritten (plain 10k,
/// 1.07 MB, is where the files weigh most against the manifest).
pub fn regen_table(o: &Opts) {
    let runs = o.runs.min(7);
    println!(
        "\n### generate --out into its own up-to-date directory on {} (median of {runs} runs), \
         then with `restart_delay` changed or added in `[defaults]` (each run from the up-to-date tree)\n",
        o.dir.display()
    );
    println!(
        "| stack | backend | files | stdout | --out, nothing to change | peak RSS (× manifest) \
         | files changed | --out, every service changed | peak RSS (× manifest) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let out = o.dir.join("regen");
    for (shape, b) in [Shape::Plain, Shape::Rich]
        .into_iter()
        .flat_map(|shape| o.backends(BACKENDS).into_iter().map(move |b| (shape, b)))
    {
        let m = manifest_for(o, shape, 10_000, b);
        let changed = changed_manifest(&m);
        let to_stdout = measure(runs, || {}, || generate(b, &m));
        let into = |manifest: &Path| {
            let mut c = generate(b, manifest);
            c.arg("--out").arg(&out);
            c
        };
        let run = |manifest: &Path| {
            let ok = into(manifest).status().is_ok_and(|s| s.success());
            assert!(ok, "generate --out {b}");
        };
        fresh(&out);
        run(&m);
        run(&m);
        let s = measure(runs, || {}, || into(&m));
        let files = written_files(&out).len();
        let c = measure(runs, || run(&m), || into(&changed));
        run(&m);
        let rewritten = changed_count(into(&changed));
        println!(
            "| {} 10k | {b} | {files} | {} | {} | {} | {rewritten} | {} | {} |",
            shape.name(),
            ms(&to_stdout),
            ms(&s),
            rss_ratio(&s, &m),
            ms(&c),
            rss_ratio(&c, &changed)
        );
        fresh(&out);
    }
}

/// `manifest` with every service changed (a file beside it): the `restart_delay` of its
/// `[defaults]` from 5s to 7s, or one added in a `[defaults]` of its own where it has none
/// (plain). `benches/symbol-order.sh` changes its manifests the same way.
fn changed_manifest(manifest: &Path) -> PathBuf {
    let text = fs::read_to_string(manifest).expect("manifest");
    let changed = if text.contains("restart_delay = \"5s\"") {
        text.replacen("restart_delay = \"5s\"", "restart_delay = \"7s\"", 1)
    } else {
        let first = text.find("\n[services.").expect("a service") + 1;
        format!(
            "{}[defaults]\nrestart_delay = \"7s\"\n\n{}",
            &text[..first],
            &text[first..]
        )
    };
    let path = manifest.with_extension("changed.toml");
    fs::write(&path, changed).expect("write manifest");
    path
}

/// How many files `generate --out` says it changed (its summary line: "N changed (…").
fn changed_count(mut cmd: std::process::Command) -> usize {
    let output = cmd
        .stdout(std::process::Stdio::piped())
        .output()
        .expect("generate");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .rev()
        .find_map(|l| l.split_once(" changed (")?.0.parse().ok())
        .expect("a summary line")
}
