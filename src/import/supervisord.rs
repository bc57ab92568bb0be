//! supervisord ini → manifest (work in progress).

use std::path::PathBuf;

use super::{Failure, Files, Imported, Options};

/// Import a supervisord configuration.
///
/// # Errors
/// A file that cannot be read.
pub fn import(
    _paths: &[PathBuf],
    _files: &dyn Files,
    _opts: &Options,
) -> Result<Imported, Failure> {
    Err(Failure("supervisord import is not written yet".into()))
}
