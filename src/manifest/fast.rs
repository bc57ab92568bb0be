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

use std::fmt;

use indexmap::IndexMap;
use serde::Deserialize;

use self::cursor::Cursor;
use self::value::BodyDe;
use super::{Manifest, ServiceSpec};

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
    document(&mut Cursor::new(text)).ok()
}

fn document(c: &mut Cursor<'_>) -> Step<Manifest> {
    // the keys before the first header (and `[defaults]` with its sub-tables, if first)
    let mut m = Manifest::deserialize(BodyDe { c, level: 0 })?;
    let top: Vec<_> = std::mem::take(&mut c.keys);
    let has = |key: &str| top.iter().any(|k| k == key);
    let (mut defaults, services, external, groups) = (
        has("defaults"),
        has("services"),
        has("external"),
        has("groups"),
    );
    while let Some(mut path) = c.pending.take() {
        c.keys.clear();
        let level = path.len();
        if level == 1 && path[0] == "defaults" && !defaults {
            defaults = true;
            c.path.clone_from(&path);
            m.defaults = ServiceSpec::deserialize(BodyDe { c, level })?;
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
            defaults_table(c, &mut m.defaults, &path[1])?;
            continue;
        }
        let (Some(name), 2) = (path.pop(), level) else {
            return Err(Bail);
        };
        c.path.clone_from(&path);
        c.path.push(name.clone());
        let name = name.into_owned();
        match &*path[0] {
            "services" if !services => entry(c, "services", &mut m.services, name)?,
            "external" if !external => entry(c, "external", &mut m.external, name)?,
            "groups" if !groups => entry(c, "groups", &mut m.groups, name)?,
            _ => return Err(Bail),
        }
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
