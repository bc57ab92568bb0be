//! Print a synthetic manifest (or Procfile) of the benchmark (issue 14):
//! `cargo run --release --example synth -- SHAPE N [--procfile] > FILE`, SHAPE one of
//! plain, rich, chain, fan-in, fan-out, wide-dag, instances, unknown.

#[path = "../benches/synth.rs"]
#[allow(dead_code, reason = "the benchmarks use the rest")]
mod synth;

use std::io::Write as _;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synth SHAPE N [--procfile]";
    let (Some(shape), Some(n)) = (
        args.first().and_then(|s| synth::Shape::parse(s)),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let text = if args.iter().any(|a| a == "--procfile") {
        synth::procfile(n)
    } else {
        synth::manifest(shape, n)
    };
    if std::io::stdout().write_all(text.as_bytes()).is_err() {
        std::process::exit(1);
    }
}
