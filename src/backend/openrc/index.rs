//! What every script of one render shares, built once: the OpenRC name of every process,
//! the default log directory, and the gate lines on externals.

use std::cell::OnceCell;

use crate::backend::shared::waits;
use crate::backend::shared::wrapper;
use crate::escape::openrc::{Piece, word};
use crate::model::Model;

/// The shared pieces of one render (see the module documentation).
pub struct Index<'m> {
    /// The model rendered.
    pub model: &'m Model,
    /// `NAME` / `NAME.INSTANCE` of every process.
    pub names: Names<'m>,
    /// Where services without `logs` write (`/var/log/STACK`).
    pub log_dir: String,
    /// [`Index::log_dir`] with a trailing `/`.
    pub log_prefix: String,
    /// The `start_pre()` line that creates [`Index::log_dir`].
    pub log_dir_line: String,
    /// The `start_pre()` line of each external's gate: (hard, soft). Only externals have
    /// gates in OpenRC (a service is waited for by `need`/`after`), so no table per service.
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
            names: Names::new(model),
            log_prefix: format!("{log_dir}/"),
            log_dir,
            gates: (0..model.externals.len())
                .map(|_| [OnceCell::new(), OnceCell::new()])
                .collect(),
        }
    }

    /// The gate line on external `e` (a failed hard gate fails the start).
    #[must_use]
    pub fn gate(&self, e: usize, hard: bool) -> &str {
        self.gates[e][usize::from(!hard)].get_or_init(|| {
            let script = waits::external_script(self.model, e);
            let mut line = String::with_capacity(script.len() + 16);
            wrapper::push_wait_line(&mut line, &script, hard, "return 1");
            line
        })
    }
}

/// The OpenRC name of every process (see [`super::process_name`]). A service without
/// instances is one process named as the service, borrowed from the model: only the
/// `NAME.INSTANCE` names of instanced services are built (a plain stack of 10,000 services
/// would otherwise copy 10,000 names, about 560 KB).
pub struct Names<'m> {
    model: &'m Model,
    /// `NAME.INSTANCE` of each process of the instanced services, services in order.
    links: Vec<String>,
    /// Each instanced service and the index in `links` of its first process, in order.
    starts: Vec<(usize, usize)>,
}

impl<'m> Names<'m> {
    /// Name the processes of `model`.
    #[must_use]
    pub fn new(model: &'m Model) -> Self {
        let instanced = || model.services.iter().filter_map(|s| s.instances.as_ref());
        let mut links = Vec::with_capacity(instanced().map(thin_vec::ThinVec::len).sum());
        let mut starts = Vec::with_capacity(instanced().count());
        for (s, svc) in model.services.iter().enumerate() {
            if let Some(list) = &svc.instances {
                starts.push((s, links.len()));
                links.extend(list.iter().map(|i| format!("{}.{i}", svc.name)));
            }
        }
        Self {
            model,
            links,
            starts,
        }
    }

    /// The names of service `s`'s processes, in instance order.
    #[must_use]
    pub fn of(&self, s: usize) -> Of<'_> {
        let Ok(k) = self.starts.binary_search_by_key(&s, |&(t, _)| t) else {
            return Of {
                one: Some(&*self.model.services[s].name),
                many: [].iter(),
            };
        };
        let end = self.starts.get(k + 1).map_or(self.links.len(), |&(_, e)| e);
        Of {
            one: None,
            many: self.links[self.starts[k].1..end].iter(),
        }
    }

    /// How many `NAME.INSTANCE` names were built (none for a stack without instances).
    pub fn built(&self) -> usize {
        self.links.len()
    }
}

/// The names of one service's processes ([`Names::of`]): its own name, or its instances'.
#[derive(Clone)]
pub struct Of<'a> {
    one: Option<&'a str>,
    many: std::slice::Iter<'a, String>,
}

impl<'a> Iterator for Of<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.one
            .take()
            .or_else(|| self.many.next().map(String::as_str))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.one.is_some()) + self.many.len();
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Of<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.many
            .next_back()
            .map(String::as_str)
            .or_else(|| self.one.take())
    }
}

impl ExactSizeIterator for Of<'_> {}
