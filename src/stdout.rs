//! Checked output. `print!`/`println!` panic when stdout fails (exit 101) and Rust's runtime
//! silently swaps a closed stdout for `/dev/null`; everything the commands print goes through
//! here instead:
//! - a reader that went away (`| head`) ends the program quietly with [`EXIT_BROKEN_PIPE`]
//!   (141, what a shell reports for a tool killed by SIGPIPE);
//! - any other write error (`> /dev/full`) is an error with exit code 1 and a message;
//! - a stdout that was closed when the program started (`>&-`) is an error on the first
//!   write, not output lost without a word.
//!
//! Diagnostics on stderr ([`diag`]) never fail: there is nowhere left to report that.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code after the reader of stdout went away: 128 + SIGPIPE, as shells report it.
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Writing to stdout failed.
#[derive(Debug)]
pub enum StdoutError {
    /// The reading end of the pipe was closed: not worth a message.
    BrokenPipe,
    /// Stdout was closed when the program started: nothing can be printed.
    Closed,
    /// Any other error (disk full, I/O error).
    Failed(io::Error),
}

impl StdoutError {
    /// Whether the error ends the program quietly (the reader is gone).
    #[must_use]
    pub fn is_quiet(&self) -> bool {
        matches!(self, Self::BrokenPipe)
    }

    /// The error of a failed write to stdout.
    #[must_use]
    pub fn from_io(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Self::BrokenPipe
        } else {
            Self::Failed(e)
        }
    }
}

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BrokenPipe => f.write_str("writing to stdout: the reader closed the pipe"),
            Self::Closed => f.write_str(
                "stdout is closed, so the output would be lost; redirect it (e.g. > FILE or > /dev/null)",
            ),
            Self::Failed(e) => write!(f, "writing to stdout: {e}"),
        }
    }
}

impl std::error::Error for StdoutError {}

/// Write `text` to stdout.
///
/// # Errors
/// See [`StdoutError`].
pub fn write_str(text: &str) -> Result<(), StdoutError> {
    if closed_at_start() {
        return Err(StdoutError::Closed);
    }
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(StdoutError::from_io)
}

/// The buffer in front of stdout: 64 KiB joins small writes into few (a pipe holds 64 KiB),
/// and costs little at the end of a run, when the model is still held.
const BUFFER_BYTES: usize = 1 << 16;

/// Let `write` write to stdout through one large buffer (no flush per line), e.g. many
/// artifacts without first joining them into one string.
///
/// # Errors
/// See [`StdoutError`].
pub fn write_with(
    write: impl FnOnce(&mut io::BufWriter<io::StdoutLock<'static>>) -> io::Result<()>,
) -> Result<(), StdoutError> {
    if closed_at_start() {
        return Err(StdoutError::Closed);
    }
    let mut out = io::BufWriter::with_capacity(BUFFER_BYTES, io::stdout().lock());
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(StdoutError::from_io)
}

/// Stdout behind one large buffer, for a writer that goes on across calls (e.g. a sink fed
/// artifact by artifact); flush it when done.
///
/// # Errors
/// Stdout was closed when the program started.
pub fn buffered() -> Result<io::BufWriter<io::StdoutLock<'static>>, StdoutError> {
    if closed_at_start() {
        return Err(StdoutError::Closed);
    }
    Ok(io::BufWriter::with_capacity(
        BUFFER_BYTES,
        io::stdout().lock(),
    ))
}

/// Write `text` and a newline to stdout.
///
/// # Errors
/// See [`StdoutError`].
pub fn line(text: impl fmt::Display) -> Result<(), StdoutError> {
    write_str(&format!("{text}\n"))
}

/// Flush stdout; call once before exiting so that a full disk is seen.
///
/// # Errors
/// See [`StdoutError`].
pub fn flush() -> Result<(), StdoutError> {
    if closed_at_start() {
        return Ok(()); // nothing was written
    }
    io::stdout().lock().flush().map_err(StdoutError::from_io)
}

/// Write a diagnostic line to stderr; errors are ignored (there is nowhere to report them).
pub fn diag(text: impl fmt::Display) {
    // through a buffer: stderr writes each piece at once (a report of 10,000 problems was
    // 120,000 writes)
    let mut err = io::BufWriter::new(io::stderr().lock());
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Whether descriptor 1 was closed when the process started (before Rust's runtime put
/// `/dev/null` in its place).
#[must_use]
pub fn closed_at_start() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    std::hint::black_box(&startup::RECORD);
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// A constructor that runs before `main` (and before the runtime reopens closed standard
/// descriptors on `/dev/null`) and records whether stdout was open.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
mod startup {
    use std::sync::atomic::Ordering;

    /// The constructor, placed where the loader calls it before `main`.
    #[used]
    #[cfg_attr(
        any(target_os = "linux", target_os = "android"),
        unsafe(link_section = ".init_array")
    )]
    #[cfg_attr(
        target_vendor = "apple",
        unsafe(link_section = "__DATA,__mod_init_func")
    )]
    pub(super) static RECORD: extern "C" fn() = record;

    extern "C" fn record() {
        // SAFETY: F_GETFD only asks whether descriptor 1 is open; it changes nothing.
        let closed = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1;
        super::STDOUT_CLOSED.store(closed, Ordering::Relaxed);
    }
}

/// `--color`: 0 auto, 1 always, 2 never.
static COLOUR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Set the `--color` choice for this run: `None` auto, `Some(true)` always, `Some(false)`
/// never.
pub fn set_colour(choice: Option<bool>) {
    let v = match choice {
        None => 0,
        Some(true) => 1,
        Some(false) => 2,
    };
    COLOUR.store(v, Ordering::Relaxed);
}

/// Whether to print ANSI colours: `--color always`, or `auto` on a terminal without a
/// non-empty `NO_COLOR` (<https://no-color.org>).
#[must_use]
pub fn colour() -> bool {
    use std::io::IsTerminal as _;
    match COLOUR.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

#[cfg(test)]
mod colour_tests {
    use super::{colour, set_colour};

    #[test]
    fn the_choice_decides_and_auto_needs_a_terminal() {
        set_colour(Some(true));
        assert!(colour());
        set_colour(Some(false));
        assert!(!colour());
        set_colour(None);
        // the test harness's stdout is not a terminal
        assert!(!colour());
    }
}
