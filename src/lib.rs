//! openim-init: describe the OpenIM stack once in a TOML manifest and generate correct,
//! verified artifacts for systemd, OpenRC, supervisord, launchd and more.
//!
//! Pipeline: [`manifest`] (TOML with positions) → [`model`] (validated) →
//! [`backend::Backend::render`] (pure) → [`output`] / [`lifecycle`] (the only side effects).

pub mod backend;
pub mod cli;
pub mod cmd;
pub mod errors;
pub mod escape;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod heap;
pub mod import;
pub mod lifecycle;
pub mod limits;
pub mod manifest;
pub mod model;
pub mod output;
pub mod render;
pub mod stdout;
