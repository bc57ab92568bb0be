//! The `/bin/sh` wrappers of one render that many service directories share: a service
//! whose wrapper only waits for externals (no exports, environment file or `pre_start`)
//! gets the same script as every other service waiting for the same externals, so each
//! distinct script is written and quoted once.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::backend::shared::waits::{self, WaitScripts};
use crate::backend::shared::wrapper::{Prelude, Ready};
use crate::escape::{envdir, sh};
use crate::model::{INSTANCE_PLACEHOLDER, Model, Service, Target};

/// How the processes of one service are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    /// Not at all: nothing must happen before the argv.
    Bare,
    /// By shared script `i` (see [`Wrappers::script`]).
    Shared(usize),
    /// By a script of their own (exports, environment file, `pre_start`).
    Own,
}

/// The shared wrappers of a render (see the module documentation).
pub struct Wrappers {
    /// (script, the script quoted for `sh`) of each distinct wrapper.
    scripts: Vec<(String, String)>,
    of: Vec<Wrapper>,
}

/// Whether every process of `svc` gets no wrapper step but the gates: no environment file,
/// no `pre_start`, and every variable carried by the env dir whatever the instance.
fn gates_only(svc: &Service, reader: envdir::Reader) -> bool {
    svc.environment_file.is_none()
        && svc.pre_start.is_empty()
        && svc
            .environment
            .iter()
            .all(|(_, v)| !v.contains(INSTANCE_PLACEHOLDER) && envdir::carries(v, reader))
}

impl Wrappers {
    /// The wrappers of `model`'s services, whose env dirs `reader` reads.
    #[must_use]
    pub fn new(model: &Model, reader: envdir::Reader, gates: &WaitScripts<'_>) -> Self {
        let mut scripts = Vec::new();
        let mut ids: HashMap<Vec<(usize, bool)>, usize> = HashMap::new();
        let mut key: Vec<(usize, bool)> = Vec::new();
        let of = (0..model.services.len())
            .map(|s| {
                if !gates_only(&model.services[s], reader) {
                    return Wrapper::Own;
                }
                key.clear();
                key.extend(waits::externals(model, s).map(|(e, kind)| (e, kind.is_hard())));
                if key.is_empty() {
                    return Wrapper::Bare;
                }
                if let Some(&id) = ids.get(key.as_slice()) {
                    return Wrapper::Shared(id);
                }
                let next = scripts.len();
                let id = *ids.entry(key.clone()).or_insert_with_key(|key| {
                    let prelude = Prelude {
                        waits: key
                            .iter()
                            .map(|&(e, hard)| Ready {
                                script: Cow::Borrowed(
                                    gates.script(Target::External(e)).unwrap_or_default(),
                                ),
                                hard,
                            })
                            .collect(),
                        ..Prelude::default()
                    };
                    let script = prelude.script().unwrap_or_default();
                    let quoted = sh::quote(&script);
                    scripts.push((script, quoted));
                    next
                });
                Wrapper::Shared(id)
            })
            .collect();
        Self { scripts, of }
    }

    /// How service `s`'s processes are wrapped.
    #[must_use]
    pub fn of(&self, s: usize) -> Wrapper {
        self.of[s]
    }

    /// Shared script `i` and its quoted form.
    #[must_use]
    pub fn script(&self, i: usize) -> (&str, &str) {
        let (script, quoted) = &self.scripts[i];
        (script, quoted)
    }
}
