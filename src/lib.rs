//! openim-init: describe the OpenIM stack once in a TOML manifest and generate correct,
//! verified artifacts for systemd, OpenRC, supervisord, launchd and more.
//!
//! Pipeline: [`manifest`] (TOML with positions) → [`model`] (validated) →
//! [`backend::Backend::render`] (pure) → [`output`] / [`verify`] (the only side effects).

pub mod app;
pub mod backend;
pub mod cli;
pub mod errors;
pub mod escape;
pub mod fuzzing;
pub mod gate;
pub mod limits;
pub mod manifest;
pub mod model;
pub mod output;
pub mod render;
pub mod stdout;
pub mod verify;
