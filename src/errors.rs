//! The library's error at its edge: one typed enum whose variant decides the exit code.
//! anyhow stays inside, for context on I/O and tool failures ([`Error::Failed`]).

use std::fmt;

use crate::backend::capability::Warning;
use crate::manifest::ManifestErrors;
use crate::stdout::StdoutError;

pub mod usage;

use usage::UsageError;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: an error while doing the work (I/O, a tool failed).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code: invalid manifest or invalid usage.
pub const EXIT_INVALID: i32 = 2;
/// Exit code: `--strict` and the backend loses or emulates something.
pub const EXIT_STRICT: i32 = 3;
/// Exit code: `status` found a process not running or not healthy.
pub const EXIT_NOT_WELL: i32 = 3;
/// Exit code: the backend's verifier found problems.
pub const EXIT_VERIFY: i32 = 4;

/// Every way a command can fail.
#[derive(Debug)]
pub enum Error {
    /// The manifest is invalid: every problem, located.
    Manifest(ManifestErrors),
    /// Invalid usage that clap cannot see (an unsafe path, a flag of another backend).
    Usage(String),
    /// A backend cannot carry a value of the manifest.
    Refused(Refusal),
    /// `--strict` refused the output because of these warnings.
    Strict(Vec<Warning>),
    /// `import --strict`: this many keys or directives were not carried over (already
    /// listed on stderr).
    ImportStrict(usize),
    /// The verifier reported this many findings (already printed).
    Verify(usize),
    /// Writing to stdout failed (a closed pipe ends quietly with 141).
    Stdout(StdoutError),
    /// `status`: not every process is running and healthy (the table says which).
    NotWell,
    /// Anything else: I/O, a tool that failed (with context).
    Failed(anyhow::Error),
}

/// A value a backend's syntax cannot carry: the field, what is wrong, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Where the value is, e.g. `services.api.command[0]`.
    pub field: String,
    /// What the backend cannot do with it.
    pub message: String,
    /// What to change.
    pub hint: Option<String>,
}

impl Refusal {
    /// A refusal of `field`.
    #[must_use]
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// The same refusal with a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl Error {
    /// The process exit code for this error.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Manifest(_) | Self::Usage(_) | Self::Refused(_) => EXIT_INVALID,
            Self::Strict(_) | Self::ImportStrict(_) => EXIT_STRICT,
            Self::Verify(_) => EXIT_VERIFY,
            Self::NotWell => EXIT_NOT_WELL,
            Self::Stdout(e) if e.is_quiet() => crate::stdout::EXIT_BROKEN_PIPE,
            Self::Stdout(_) | Self::Failed(_) => EXIT_FAILURE,
        }
    }

    /// A usage error.
    #[must_use]
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manifest(e) => write!(f, "{e}"),
            Self::Usage(m) => write!(f, "{m}"),
            Self::Refused(r) => write!(f, "{r}"),
            Self::Strict(warnings) => {
                writeln!(
                    f,
                    "--strict: the backend cannot express {} feature(s) of this manifest; nothing was written:",
                    warnings.len()
                )?;
                for w in warnings {
                    writeln!(f, "  {w}")?;
                }
                Ok(())
            }
            Self::ImportStrict(n) => write!(
                f,
                "--strict: {n} key(s) or directive(s) were not carried over (listed above); nothing was written"
            ),
            Self::Verify(n) => write!(f, "verification failed: {n} finding(s)"),
            Self::NotWell => write!(f, "not every process is running and healthy"),
            Self::Stdout(e) => write!(f, "{e}"),
            Self::Failed(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ManifestErrors> for Error {
    fn from(e: ManifestErrors) -> Self {
        Self::Manifest(e)
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        let e = match e.downcast::<UsageError>() {
            Ok(u) => return Self::Usage(u.0),
            Err(e) => e,
        };
        let e = match e.downcast::<ManifestErrors>() {
            Ok(m) => return Self::Manifest(m),
            Err(e) => e,
        };
        match e.downcast::<StdoutError>() {
            Ok(s) => Self::Stdout(s),
            Err(e) => Self::Failed(e),
        }
    }
}

impl From<StdoutError> for Error {
    fn from(e: StdoutError) -> Self {
        Self::Stdout(e)
    }
}

impl Error {
    /// Whether the error ends the program without a message (the reader of stdout left).
    #[must_use]
    pub fn is_quiet(&self) -> bool {
        matches!(self, Self::Stdout(e) if e.is_quiet())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Failed(e.into())
    }
}

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
