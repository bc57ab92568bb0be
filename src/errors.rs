//! Errors the command line maps to their own exit codes.

use std::fmt;

use crate::backend::Warning;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: an error while doing the work (I/O, a tool failed).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code: invalid manifest or invalid usage.
pub const EXIT_INVALID: i32 = 2;
/// Exit code: `--strict` and the backend loses or emulates something.
pub const EXIT_STRICT: i32 = 3;
/// Exit code: the backend's verifier found problems.
pub const EXIT_VERIFY: i32 = 4;

/// Invalid usage that clap cannot see (an unknown backend name, an unsafe path).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// `--strict` refused the output because of these warnings.
#[derive(Debug)]
pub struct StrictError(pub Vec<Warning>);

impl fmt::Display for StrictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "--strict: the backend cannot express {} feature(s) of this manifest; nothing was written:",
            self.0.len()
        )?;
        for w in &self.0 {
            writeln!(f, "  {w}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StrictError {}

/// The verifier reported findings (already printed).
#[derive(Debug)]
pub struct VerifyFailed(pub usize);

impl fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "verification failed: {} finding(s)", self.0)
    }
}

impl std::error::Error for VerifyFailed {}

/// The exit code for an error, by its type.
#[must_use]
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err
        .downcast_ref::<crate::manifest::ManifestErrors>()
        .is_some()
        || err.downcast_ref::<UsageError>().is_some()
    {
        EXIT_INVALID
    } else if let Some(e) = err.downcast_ref::<crate::stdout::StdoutError>() {
        if e.is_quiet() {
            crate::stdout::EXIT_BROKEN_PIPE
        } else {
            EXIT_FAILURE
        }
    } else if err.downcast_ref::<StrictError>().is_some() {
        EXIT_STRICT
    } else if err.downcast_ref::<VerifyFailed>().is_some() {
        EXIT_VERIFY
    } else {
        EXIT_FAILURE
    }
}
