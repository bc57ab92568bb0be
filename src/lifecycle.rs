//! The lifecycle layer: everything that changes the system or asks it questions, over one
//! command runner and one journaled ledger. The backends' managers (install, uninstall,
//! status) stand on these:
//! - [`runner`]: the one way to run a command (real, or recorded for `--dry-run`);
//! - [`detect`]: which init system is running here, with the evidence;
//! - [`ledger`]: the files owned per stack and backend, and the lock;
//! - [`plan`]: desired files + ledger + disk → what to do (pure), and its `--dry-run` diff;
//! - [`journal`]: carrying a plan out so that a killed run is finished by the next one;
//! - [`fsops`]: atomic writes and links;
//! - [`place`]: where an install goes (system, `--user`), and its ledger;
//! - [`control`]: the init system's commands from `backends/<name>.toml`;
//! - [`units`]: which units a target names, and the record of an install's units;
//! - [`install`]: `install` and `uninstall` over all of the above;
//! - [`status`] and [`health`]: the init system's truth, and health measured here.
//! - [`stage`]: what a `--root` package tree holds besides the artifacts.

pub mod control;
pub mod detect;
pub mod fsops;
pub mod health;
pub mod install;
pub mod journal;
pub mod ledger;
pub mod place;
pub mod plan;
pub mod provision;
pub mod retire;
pub mod runner;
pub mod runs;
pub mod stage;
pub mod status;
pub mod supervisord_conf;
pub mod uninstall;
pub mod units;
