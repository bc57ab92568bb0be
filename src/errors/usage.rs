//! The refusal type of the anyhow-based layers below the error enum (manifest reading,
//! templates, the file sink and ledger): a leaf module, so those layers need nothing above
//! them; [`super::Error`] turns it into a usage error (exit 2) at the edge.

use std::fmt;

/// A refusal raised inside the anyhow-based file layer ([`crate::output`],
/// [`crate::lifecycle`], …): it becomes [`super::Error::Usage`] at the edge.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
