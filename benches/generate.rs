//! Generation benchmark: manifest text → model → rendered artifacts, in memory, for every
//! backend. Run with `cargo bench --bench generate`. Plain `std::time` so it builds fast;
//! prints the median of several batches per case.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use openim_init::backend::{self, BackendKind, Flags, RenderContext};
use openim_init::manifest::BUILTIN_OPENIM;
use openim_init::model::Model;

fn median_per_iter(iters: u32, batches: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .collect();
    times.sort();
    times[batches / 2]
}

/// A synthetic stack of `n` services, each depending on the previous one.
fn big_manifest(n: usize) -> String {
    let mut m =
        String::from("name = \"big\"\n[external.db]\ncheck = { tcp = \"127.0.0.1:5432\" }\n");
    for i in 0..n {
        let _ = write!(
            m,
            "[services.svc-{i}]\ncommand = [\"/opt/big/bin/svc\", \"--id\", \"{i}\", \"--name\", \"it's {{instance}} 100%\"]\ninstances = 2\nrequires = [\"db\"{}]\nenvironment = {{ A = \"x y\", B = \"$HOME\" }}\nhealth = {{ tcp = \"127.0.0.1:{}\" }}\n",
            if i > 0 {
                format!(", \"svc-{}\"", i - 1)
            } else {
                String::new()
            },
            10000 + i
        );
    }
    m
}

/// `n` services, each requiring a name that is not defined: `n` "did you mean" searches.
fn unknown_deps_manifest(n: usize) -> String {
    let mut m = String::from("name = \"bad\"\n");
    for i in 0..n {
        let _ = write!(
            m,
            "[services.svc-{i}]\ncommand = [\"/bin/svc\"]\nrequires = [\"dep-{i}\"]\n"
        );
    }
    m
}

fn main() {
    let templates = backend::templates(&BTreeMap::new()).expect("embedded templates");
    let flags = Flags::default();
    let ctx = RenderContext::new(&templates, &flags);
    let big = big_manifest(200);
    println!("{:<28} {:>12}", "case", "per run");
    let t = median_per_iter(200, 9, || {
        black_box(Model::from_toml("openim.toml", BUILTIN_OPENIM).expect("valid"));
    });
    println!("{:<28} {:>10.1?}", "load+validate openim", t);
    let t = median_per_iter(5, 9, || {
        black_box(Model::from_toml("big.toml", &big).expect("valid"));
    });
    println!("{:<28} {:>10.1?}", "load+validate 200 svc", t);
    let unknown = unknown_deps_manifest(10_000);
    let t = median_per_iter(1, 3, || {
        black_box(Model::from_toml("bad.toml", &unknown).expect_err("invalid"));
    });
    println!("{:<28} {:>10.1?}", "10k unknown deps (refused)", t);
    let openim = Model::builtin();
    let big_model = Model::from_toml("big.toml", &big).expect("valid");
    for &b in BackendKind::ALL {
        let t = median_per_iter(100, 9, || {
            black_box(backend::render(b, &openim, &ctx).expect("renders"));
        });
        println!("{:<28} {:>10.1?}", format!("render openim {}", b.name()), t);
        let t = median_per_iter(3, 9, || {
            black_box(backend::render(b, &big_model, &ctx).expect("renders"));
        });
        println!(
            "{:<28} {:>10.1?}",
            format!("render 200 svc {}", b.name()),
            t
        );
    }
}
