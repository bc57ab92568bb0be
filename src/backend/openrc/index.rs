//! What every script of one render shares, built once: the OpenRC name of every process,
//! the default log directory, and the gate lines on externals.

use std::cell::OnceCell;

use super::process_name;
use crate::backend::shared::names::ProcessNames;
use crate::backend::shared::waits::WaitScripts;
use crate::backend::shared::wrapper;
use crate::escape::openrc::{Piece, word};
use crate::model::{Model, Target};

/// The shared pieces of one render (see the module documentation).
pub struct Index<'m> {
    /// The model rendered.
    pub model: &'m Model,
    /// `NAME` / `NAME.INSTANCE` of every process.
    pub names: ProcessNames,
    /// Where services without `logs` write (`/var/log/STACK`).
    pub log_dir: String,
    /// [`Index::log_dir`] with a trailing `/`.
    pub log_prefix: String,
    /// The `start_pre()` line that creates [`Index::log_dir`].
    pub log_dir_line: String,
    scripts: WaitScripts<'m>,
    /// The `start_pre()` line of each external's gate: (hard, soft).
    gates: Vec<[OnceCell<String>; 2]>,
}

impl<'m> Index<'m> {
    /// Index `model`.
    #[must_use]
    pub fn new(model: &'m Model) -> Self {
        let log_dir = format!("/var/log/{}", model.name);
        Self {
            log_dir_line: format!(
                "checkpath --directory --mode 0755 {}",
                word(&[Piece::Text(&log_dir)])
            ),
            model,
            names: ProcessNames::new(model, |p| process_name(model, p)),
            log_prefix: format!("{log_dir}/"),
            log_dir,
            scripts: WaitScripts::new(model),
            gates: (0..model.externals.len())
                .map(|_| [OnceCell::new(), OnceCell::new()])
                .collect(),
        }
    }

    /// The gate line on external `e` (a failed hard gate fails the start).
    #[must_use]
    pub fn gate(&self, e: usize, hard: bool) -> &str {
        self.gates[e][usize::from(!hard)].get_or_init(|| {
            let script = self.scripts.script(Target::External(e)).unwrap_or_default();
            let mut line = String::with_capacity(script.len() + 16);
            wrapper::push_wait_line(&mut line, script, hard, "return 1");
            line
        })
    }
}
