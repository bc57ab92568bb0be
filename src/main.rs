//! The `openim-init` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;
use openim_init::errors::Error;
use openim_init::stdout;

fn main() {
    tune_malloc();
    let cli = match openim_init::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version go through the checked stdout like every other output
        Err(e) if !e.use_stderr() => {
            match stdout::write_str(&e.render().to_string()).and_then(|()| stdout::flush()) {
                Ok(()) => std::process::exit(0),
                Err(err) => fail(&err.into()),
            }
        }
        Err(e) => e.exit(),
    };
    if let Err(err) = openim_init::cmd::run(cli) {
        fail(&err);
    }
}

/// glibc's malloc gives memory back to the kernel (a freed block of 128 KiB or more, and
/// the top of the heap past 128 KiB) and asks for fresh pages again soon after: a run is
/// short and its big buffers come and go (the manifest's tables, then the model, then the
/// artifacts), so every page would be faulted in twice. Keep what was freed for reuse.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // the largest mmap threshold glibc takes on 64-bit systems (32 MiB)
    const KEEP: libc::c_int = 32 << 20;
    // SAFETY: mallopt only sets two thresholds of the allocator; called before any thread
    // is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, KEEP);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn fail(err: &Error) -> ! {
    match err {
        // the reader went away: end quietly, like other Unix tools
        e if e.is_quiet() => {}
        Error::Manifest(_) => stdout::diag(err),
        _ => stdout::diag(format_args!("error: {err}")),
    }
    std::process::exit(err.exit_code());
}
