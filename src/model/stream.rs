//! The model built while the manifest is read: each service is built as soon as its table
//! is read, and the table is dropped then, so that the manifest's tables of all services and
//! the model are never held at once. Only for a manifest in the usual shape: for anything
//! else it gives up, and the caller reads and builds the manifest the usual way. Problems
//! are reported as the usual build reports them (a test holds the two to the same list),
//! unless a hint needed the groups before they were read: then it gives up too.

use indexmap::IndexMap;

use crate::manifest::locate::Locator;
use crate::manifest::{self, GroupSpec, ManifestErrors, ServiceSink, ServiceSpec};

use super::Service;
use super::build::{Checked, check_stack, externals, finish};
use super::deps::{Links, Tables};
use super::names::NameIndex;
use super::problems::{Errors, name_hash};
use super::service;
use super::shared::Shared;

/// The stack of `text` built and checked (it needs the text no more) or its problems, or
/// `None` when it cannot be done this way (see the module documentation).
pub(super) fn checked(file: &str, text: &str) -> Option<Result<Checked, ManifestErrors>> {
    // the names are known before the first service is built (a reference may point ahead):
    // from the table headers, checked against what is read
    let [services, outside] = manifest::header_names(text);
    let services_ix = NameIndex::new(services.iter().map(|n| &**n));
    let externals_ix = NameIndex::new(outside.iter().map(|n| &**n));
    let n = services.len();
    drop((services, outside));
    if !services_ix.unique() || !externals_ix.unique() {
        return None;
    }
    // (freed once the render is done: see `heap::in_own_mapping`)
    let mut services = crate::heap::in_own_mapping(|| Vec::with_capacity(n));
    prefault(&mut services);
    // the services' strings and lists take about twice the text: have those pages mapped
    // at once too (a freed block at the top of the heap, which the allocator reuses)
    prefault(&mut Vec::<u8>::with_capacity(text.len().min(24 << 20)));
    let mut sink = Sink {
        errs: Errors::new(file, Locator::new(text)),
        ix: Some((services_ix, externals_ix)),
        links: None,
        shared: Shared::default(),
        services,
        built: 0,
        groups: IndexMap::new(),
    };
    let m = manifest::parse_streamed(text, &mut sink)?;
    let Sink {
        mut errs,
        links,
        services,
        built,
        ..
    } = sink;
    let links = links?;
    let read_all = built == links.service_count()
        && m.services.is_empty()
        && links.externals_are(m.external.keys().map(String::as_str));
    if !read_all {
        return None;
    }
    // a name taken for unknown may be a group's, whose hint is another
    let groups: hashbrown::HashSet<u64> = m.groups.keys().map(|g| name_hash(g)).collect();
    if errs.not_groups.iter().any(|n| groups.contains(n)) {
        return None;
    }
    check_stack(&mut errs, &m, &links);
    let externals = externals(&mut errs, &m);
    Some(finish(errs, m, externals, services, links))
}

/// Have the kernel map the pages of `v`'s spare capacity in one call (Linux 5.14 and later)
/// rather than fault them in one at a time as the services are written there: the model's
/// biggest vector, written once from end to end.
#[cfg(target_os = "linux")]
fn prefault<T>(v: &mut Vec<T>) {
    const PAGE: usize = 4096;
    let spare = v.spare_capacity_mut();
    let start = spare.as_mut_ptr().addr();
    let end = start + size_of_val(spare);
    let (from, to) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
    if to > from {
        // SAFETY: whole pages inside the vector's own allocation, which nothing reads before
        // writing it; populating them changes no byte. A kernel without it refuses (ignored).
        unsafe {
            libc::madvise(
                spare.as_mut_ptr().cast::<u8>().add(from - start).cast(),
                to - from,
                libc::MADV_POPULATE_WRITE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn prefault<T>(_: &mut Vec<T>) {}

/// Builds each service as it is read.
struct Sink<'t> {
    errs: Errors<'t>,
    /// The services and externals by name, until the first service makes the links.
    ix: Option<(NameIndex, NameIndex)>,
    links: Option<Links>,
    shared: Shared,
    services: Vec<Service>,
    /// How many services were built (those after a problem are not kept).
    built: usize,
    /// None: the groups are read last; they are only looked at for the hint of a problem
    /// (see [`Errors::not_groups`]).
    groups: IndexMap<String, GroupSpec>,
}

impl ServiceSink for Sink<'_> {
    fn service(&mut self, defaults: &ServiceSpec, name: String, mut spec: ServiceSpec) -> bool {
        if let Some(ix) = self.ix.take() {
            // about one dependency of its own per service (the list may grow)
            let own = ix.0.len();
            self.links = Some(Links::new(defaults, ix, own));
        }
        let Some(links) = &mut self.links else {
            return false;
        };
        // the service read is the next one of the headers (not one in a string)
        if !links.service_is(self.built, &name) {
            return false;
        }
        let t = Tables {
            defaults,
            groups: &self.groups,
        };
        let s = service::service(
            &mut self.errs,
            &t,
            (links, &mut self.shared),
            &name,
            &mut spec,
        );
        // past a problem, only the problems count: the service goes
        if self.errs.list.is_empty() {
            self.services.push(s);
        }
        self.built += 1;
        true
    }
}

#[cfg(test)]
mod tests;
