//! Build script: in a release build, ask the linker to lay out the functions a run uses
//! next to each other (`link/symbol-order.txt`, made by `benches/symbol-order.sh`).
//!
//! Why: the kernel maps a program's code in 64 KiB windows around each page it runs. Left
//! to the linker's order, the ~1 MB of code a `generate` runs is spread over the whole 6 MB
//! text, and a run maps 3.6-3.9 MiB of it; laid out together, 1.0-1.7 MiB. Nothing else
//! changes: the same functions, only their place.
//!
//! The order file names symbols; a symbol it names that a build lacks (another toolchain,
//! another dependency version, a function renamed) is skipped, so a stale file costs
//! memory, never a failed build. A linker that does not know the option (LLD does, and is
//! Rust's default linker on x86-64 Linux) is detected by linking an empty program first,
//! and then nothing is asked of it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let order = dir.join("link").join("symbol-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("PROFILE").as_deref() != Ok("release") || !order.is_file() {
        return;
    }
    let args = [
        format!("-Wl,--symbol-ordering-file={}", order.display()),
        "-Wl,--no-warn-symbol-ordering".to_owned(),
    ];
    if links_with(&args) {
        for arg in args {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}

/// Whether this build's compiler and linker link an empty program with `args`.
fn links_with(args: &[String]) -> bool {
    let Some(out) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        return false;
    };
    let source = out.join("probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut probe = Command::new(rustc);
    probe
        .arg("--crate-name=link_probe")
        .arg("--edition=2021")
        .arg("-o")
        .arg(out.join("link-probe"))
        .arg(&source);
    if let Ok(target) = env::var("TARGET") {
        probe.arg(format!("--target={target}"));
    }
    if let Some(linker) = env::var_os("RUSTC_LINKER") {
        probe.arg(format!("-Clinker={}", Path::new(&linker).display()));
    }
    if let Ok(flags) = env::var("CARGO_ENCODED_RUSTFLAGS") {
        probe.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    for arg in args {
        probe.arg(format!("-Clink-arg={arg}"));
    }
    probe.output().is_ok_and(|done| done.status.success())
}
