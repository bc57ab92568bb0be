//! The fast reader: a manifest in the usual shape (`key = value` lines under `[defaults]`,
//! `[services.NAME]`, `[external.NAME]`, `[groups.NAME]` headers and their sub-tables) is
//! deserialized straight from the text in one pass, entry by entry, without a token vector
//! or a document tree. It reads a subset of TOML (no dotted keys, floats, dates, array
//! tables, or tables out of the usual order); for anything else, and for any error, it gives
//! up and the caller reads the document with `toml`, so results and errors are `toml`'s.

mod cursor;
mod strings;
#[cfg(test)]
mod tests;
mod value;

use std::borrow::Cow;
use std::fmt;

use indexmap::IndexMap;
use serde::Deserialize;

use self::cursor::Cursor;
use self::value::BodyDe;
use super::{Manifest, ServiceSink, ServiceSpec};

/// The fast reader gave up: the text is outside its subset or is not valid TOML. The caller
/// then reads the document with `toml`, which decides (and reports) what it is.
#[derive(Debug)]
pub struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outside the fast reader's subset")
    }
}

impl std::error::Error for Bail {}

impl serde::de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self // the message is never shown: the document is read again by `toml`
    }
}

/// A step of the fast reader.
pub type Step<T> = Result<T, Bail>;

/// The manifest in `text`, or `None` when the fast reader cannot tell (read it with `toml`).
pub(super) fn parse(text: &str) -> Option<Manifest> {
    document(&mut Cursor::new(text), None, None).ok()
}

/// The manifest in `text` with each `[services.NAME]` table handed to `sink` as it is read
/// (not kept in [`Manifest::services`]), or `None` when the fast reader cannot tell or the
/// sink stopped. `[defaults]` tables after the first service are read ahead (see
/// [`Ahead`]).
pub(super) fn parse_streamed(text: &str, sink: &mut dyn ServiceSink) -> Option<Manifest> {
    let ahead = if super::late_defaults(text) {
        Some(Ahead::read(text)?)
    } else {
        None
    };
    document(&mut Cursor::new(text), Some(sink), ahead).ok()
}

/// `[defaults]` read ahead of the services, for a manifest that writes it (or a
/// `[defaults.KEY]` table) after them: every service needs it complete. Its tables are
/// found by their header lines (`[defaults` at the start of a line) and read the way the
/// document reads them, each from where the one before left off. A guess, checked as the
/// document is read: the document must meet exactly these headers, at these places, in
/// this order (a header-like line inside a multi-line string, or one written otherwise,
/// makes it give up).
struct Ahead {
    /// `[defaults]`, complete.
    defaults: ServiceSpec,
    /// Where each of its headers starts.
    at: Vec<usize>,
    /// How many of them the document has met.
    met: usize,
    /// What the document reads at those headers (the same again; dropped).
    again: ServiceSpec,
}

impl Ahead {
    /// `[defaults]` of `text`, or `None` when it cannot be read ahead.
    fn read(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let mut ahead = Self {
            defaults: ServiceSpec::default(),
            at: Vec::new(),
            met: 0,
            again: ServiceSpec::default(),
        };
        let mut from = 0;
        let lines = memchr::memmem::find_iter(bytes, b"\n[defaults").map(|i| i + 1);
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let first = bytes[bom..].starts_with(b"[defaults").then_some(bom);
        for start in first.into_iter().chain(lines) {
            if start < from {
                continue; // read as part of the table before
            }
            let mut c = Cursor::at(text, start);
            c.header().ok()?;
            // the tables that follow one another, as the document reads them
            while let Some(path) = c.pending.take() {
                if path[0] != "defaults" {
                    break;
                }
                ahead.at.push(c.header_at);
                c.keys.clear();
                c.path.clone_from(&path);
                match (path.len(), ahead.at.len()) {
                    (1, 1) => {
                        ahead.defaults = ServiceSpec::deserialize(BodyDe {
                            c: &mut c,
                            level: 1,
                        })
                        .ok()?;
                    }
                    (2, _) => defaults_table(&mut c, &mut ahead.defaults, &path[1]).ok()?,
                    _ => return None,
                }
            }
            from = c.pos();
        }
        Some(ahead)
    }

    /// Where the document reads a `[defaults…]` header at `at`: into [`Ahead::again`], if
    /// it is the next one read ahead.
    fn meet(&mut self, at: usize) -> Step<&mut ServiceSpec> {
        if self.at.get(self.met) != Some(&at) {
            return Err(Bail);
        }
        self.met += 1;
        Ok(&mut self.again)
    }
}

/// The names of the `[services.NAME]` and of the `[external.NAME]` headers of `text`, in
/// order: a guess (a header-like line may be inside a multi-line string, a table may be
/// written another way) that the caller checks against what the reader then reads.
pub(super) fn header_names<'a>(text: &'a str) -> [Vec<Cow<'a, str>>; 2] {
    const TABLES: [&str; 2] = ["services", "external"];
    let mut names = [Vec::new(), Vec::new()];
    // a header written otherwise than `[table.bare-name]`: read by the cursor
    let read = |at: usize, names: &mut [Vec<Cow<'a, str>>; 2]| {
        let mut c = Cursor::at(text, at);
        if c.header().is_ok()
            && let Some(mut path) = c.pending.take()
            && path.len() == 2
            && let Some(t) = TABLES.iter().position(|t| path[0] == *t)
            && let Some(name) = path.pop()
        {
            names[t].push(name);
        }
    };
    let bytes = text.as_bytes();
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    if bytes.get(start) == Some(&b'[') {
        read(start, &mut names);
    }
    for i in memchr::memmem::find_iter(bytes, b"\n[") {
        let rest = &bytes[i + 2..];
        let Some(t) = TABLES
            .iter()
            .position(|t| rest.starts_with(t.as_bytes()) && rest.get(t.len()) == Some(&b'.'))
        else {
            continue;
        };
        let from = i + 3 + TABLES[t].len();
        let len = strings::bare_len(&bytes[from..]);
        match bytes.get(from + len) {
            Some(b']') if len > 0 && bytes.get(from + len + 1) == Some(&b'\n') => {
                names[t].push(Cow::Borrowed(&text[from..from + len]));
            }
            Some(b'.') if len > 0 => {} // a sub-table
            _ => read(i + 1, &mut names),
        }
    }
    names
}

fn document(
    c: &mut Cursor<'_>,
    mut sink: Option<&mut dyn ServiceSink>,
    mut ahead: Option<Ahead>,
) -> Step<Manifest> {
    // the keys before the first header (and `[defaults]` with its sub-tables, if first:
    // the first tables read ahead)
    let mut m = Manifest::deserialize(BodyDe { c, level: 0 })?;
    let top: Vec<_> = std::mem::take(&mut c.keys);
    if let Some(a) = &mut ahead {
        if top.iter().any(|k| k == "defaults") {
            // inline (no table may follow), or a first header not read ahead (indented)
            if !c.headers.iter().any(|h| h == "defaults")
                || a.at.first() != c.first_header_at.as_ref()
            {
                return Err(Bail);
            }
            a.met = a.at.iter().take_while(|&&at| at < c.pos()).count();
        }
        m.defaults = std::mem::take(&mut a.defaults);
    }
    let has = |key: &str| top.iter().any(|k| k == key);
    let (mut defaults, services, external, groups) = (
        has("defaults"),
        has("services"),
        has("external"),
        has("groups"),
    );
    // a service was handed to the sink: `[defaults]` is fixed from then on
    let mut streamed = false;
    while let Some(mut path) = c.pending.take() {
        c.keys.clear();
        let level = path.len();
        let into = match (&mut ahead, path[0] == "defaults") {
            (Some(a), true) => a.meet(c.header_at)?,
            (None, true) if streamed => return Err(Bail),
            _ => &mut m.defaults,
        };
        if level == 1 && path[0] == "defaults" && !defaults {
            defaults = true;
            c.path.clone_from(&path);
            *into = ServiceSpec::deserialize(BodyDe { c, level })?;
            continue;
        }
        if level == 2 && path[0] == "defaults" {
            // `[defaults.X]` after other tables extends `[defaults]` (unless that is an
            // inline table, which is closed; if there is none yet, TOML makes one)
            if has("defaults") && !c.headers.iter().any(|h| h == "defaults") {
                return Err(Bail);
            }
            defaults = true;
            c.path.clone_from(&path);
            defaults_table(c, into, &path[1])?;
            continue;
        }
        let (Some(name), 2) = (path.pop(), level) else {
            return Err(Bail);
        };
        c.path.clone_from(&path);
        c.path.push(name.clone());
        let name = name.into_owned();
        match (&*path[0], sink.as_deref_mut()) {
            ("services", Some(sink)) if !services => {
                streamed = true;
                let spec = ServiceSpec::deserialize(BodyDe { c, level })?;
                if !sink.service(&m.defaults, name, spec) {
                    return Err(Bail);
                }
            }
            ("services", None) if !services => entry(c, "services", &mut m.services, name)?,
            ("external", _) if !external => entry(c, "external", &mut m.external, name)?,
            ("groups", _) if !groups => entry(c, "groups", &mut m.groups, name)?,
            _ => return Err(Bail),
        }
        c.recycle(path);
    }
    if ahead.is_some_and(|a| a.met != a.at.len()) {
        return Err(Bail);
    }
    m.services.shrink_to_fit();
    m.external.shrink_to_fit();
    m.groups.shrink_to_fit();
    Ok(m)
}

/// The body of a late `[defaults.KEY]` header as the sub-table `key` of `[defaults]`, which
/// must not have it yet (a table is defined once).
fn defaults_table(c: &mut Cursor<'_>, d: &mut ServiceSpec, key: &str) -> Step<()> {
    fn set<'a, T: Deserialize<'a>>(c: &mut Cursor<'a>, slot: &mut Option<T>) -> Step<()> {
        if slot.is_some() {
            return Err(Bail);
        }
        *slot = Some(T::deserialize(BodyDe { c, level: 2 })?);
        Ok(())
    }
    match key {
        "container" => set(c, &mut d.container),
        "environment" => set(c, &mut d.environment),
        "health" => set(c, &mut d.health),
        "limits" => set(c, &mut d.limits),
        "logs" => set(c, &mut d.logs),
        "start_limit" => set(c, &mut d.start_limit),
        _ => Err(Bail),
    }
}

/// The body of a `[table.NAME]` header as the entry `name` of `map` (new: a table is
/// defined once).
fn entry<'a, T: Deserialize<'a>>(
    c: &mut Cursor<'a>,
    table: &str,
    map: &mut IndexMap<String, T>,
    name: String,
) -> Step<()> {
    if map.is_empty() {
        // one allocation of the right size (an entry of `services` is about 1 KiB)
        *map = IndexMap::with_capacity(c.headers_ahead(table));
    }
    let value = T::deserialize(BodyDe { c, level: 2 })?;
    match map.entry(name) {
        indexmap::map::Entry::Occupied(_) => Err(Bail),
        indexmap::map::Entry::Vacant(v) => {
            v.insert(value);
            Ok(())
        }
    }
}
