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
//!
//! It also asks for packed relative relocations (`-z pack-relative-relocs`, `DT_RELR`): the
//! ~10,000 pointers the dynamic loader fixes at start are then a 3 KiB bitmap it reads, not
//! a 245 KiB table (0.2-0.3 MiB less mapped by every run). Only glibc 2.36 and later load
//! such a binary, so it is asked only when an empty program linked so runs here (never
//! when cross-compiling): built on an older glibc, the binary is as before.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let order = dir.join("link").join("symbol-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    let args = [
        format!("-Wl,--symbol-ordering-file={}", order.display()),
        "-Wl,--no-warn-symbol-ordering".to_owned(),
    ];
    if order.is_file() && links_with("order", &args).is_some() {
        for arg in args {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
    let relr = ["-Wl,-z,pack-relative-relocs".to_owned()];
    let native = env::var("TARGET").ok() == env::var("HOST").ok();
    if native
        && links_with("relr", &relr)
            .is_some_and(|probe| Command::new(probe).status().is_ok_and(|s| s.success()))
    {
        println!("cargo:rustc-link-arg-bins={}", relr[0]);
    }
}

/// The empty program (`link-probe-NAME`) this build's compiler and linker link with
/// `args`, if they do.
fn links_with(name: &str, args: &[String]) -> Option<PathBuf> {
    let out = env::var_os("OUT_DIR").map(PathBuf::from)?;
    let source = out.join("probe.rs");
    std::fs::write(&source, "fn main() {}\n").ok()?;
    let program = out.join(format!("link-probe-{name}"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut probe = Command::new(rustc);
    probe
        .arg("--crate-name=link_probe")
        .arg("--edition=2021")
        .arg("-o")
        .arg(&program)
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
    let linked = probe.output().is_ok_and(|done| done.status.success());
    linked.then_some(program)
}
