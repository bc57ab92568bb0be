//! Why a value has no YAML text here.

use std::fmt;

use serde::ser;

/// Why a value has no YAML text here (a shape the backends never serialise).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// What no backend serialises.
pub(super) fn unsupported(what: &str) -> Error {
    Error(format!("no YAML text for {what}"))
}
