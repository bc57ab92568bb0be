//! The runtime units of an install: which units a command-line TARGET names (the stack, a
//! group, a service, one instance), which units a changed file defines, and the record of
//! the units an install left (`units.json` beside the ledger), so that the next install
//! stops what left the manifest and `uninstall` stops everything it started.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::fsops;
use super::ledger::{Store, read_regular};
use crate::backend::{Unit, UnitKind};
use crate::errors::usage::UsageError;

const RECORD_FILE: &str = "units.json";

/// The units of one install, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The unit that stands for the whole stack, if the backend has one.
    pub stack: Option<String>,
    /// Every process unit, in start order.
    pub processes: Vec<String>,
}

impl Record {
    /// The record of rendered `units` (processes in the order given).
    #[must_use]
    pub fn of(units: &[Unit]) -> Self {
        Self {
            stack: stack_unit(units).map(|u| u.name.clone()),
            processes: units
                .iter()
                .filter(|u| u.kind == UnitKind::Process)
                .map(|u| u.name.clone())
                .collect(),
        }
    }

    /// Read the record of `store` (none yet: empty).
    ///
    /// # Errors
    /// It cannot be read or parsed.
    pub fn read(store: &Store) -> Result<Self> {
        let path = store.state.join(RECORD_FILE);
        match read_regular(&path)? {
            None => Ok(Self::default()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Write it atomically into the store's state directory, unless its file holds this
    /// very text already (with the mode it is written with): an install that changes
    /// nothing leaves the state directory as it is.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, store: &Store) -> Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        const MODE: u32 = 0o644;
        let path = store.state.join(RECORD_FILE);
        let text = serde_json::to_vec_pretty(self)?;
        let as_written = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o7777 == MODE);
        if as_written
            && read_regular(&path)
                .ok()
                .flatten()
                .is_some_and(|old| old == text)
        {
            return Ok(());
        }
        std::fs::create_dir_all(&store.state)
            .with_context(|| format!("creating {}", store.state.display()))?;
        fsops::write_atomic(&path, &text, MODE)
    }

    /// Remove the record.
    ///
    /// # Errors
    /// I/O errors.
    pub fn remove(store: &Store) -> Result<()> {
        fsops::remove(&store.state.join(RECORD_FILE))
    }
}

/// The unit that stands for the whole stack.
#[must_use]
pub fn stack_unit(units: &[Unit]) -> Option<&Unit> {
    units.iter().find(|u| u.kind == UnitKind::Stack)
}

/// The process units, in the order the backend listed them.
#[must_use]
pub fn processes(units: &[Unit]) -> Vec<&Unit> {
    units
        .iter()
        .filter(|u| u.kind == UnitKind::Process)
        .collect()
}

/// The units a TARGET names: the stack (its unit, or else every process), a group (its
/// unit, or else its members' processes), a service (all its instances), one instance
/// (`SERVICE@INSTANCE` for every backend) or a unit by the init system's own name.
/// `members` gives the services of a group, for backends without group units.
///
/// # Errors
/// The target names nothing of the stack ([`UsageError`]).
pub fn resolve<'u>(
    units: &'u [Unit],
    stack: &str,
    target: &str,
    members: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<Vec<&'u Unit>> {
    let procs = processes(units);
    let grouping = |kind: UnitKind| {
        units
            .iter()
            .find(|u| u.kind == kind && u.service == target)
            .map(|u| vec![u])
    };
    if target == stack {
        return Ok(grouping(UnitKind::Stack).unwrap_or(procs));
    }
    if let Some(found) = grouping(UnitKind::Group) {
        return Ok(found);
    }
    if let Some(services) = members(target) {
        return Ok(procs
            .into_iter()
            .filter(|u| services.contains(&u.service))
            .collect());
    }
    let of_service: Vec<&Unit> = procs
        .iter()
        .copied()
        .filter(|u| u.service == target)
        .collect();
    if !of_service.is_empty() {
        return Ok(of_service);
    }
    let one = procs.iter().copied().find(|u| {
        u.name == target
            || u.instance
                .as_deref()
                .is_some_and(|i| target == format!("{}@{i}", u.service))
    });
    one.map(|u| vec![u]).ok_or_else(|| {
        UsageError(format!(
            "`{target}` is not the stack, a group, a service or an instance of stack `{stack}`"
        ))
        .into()
    })
}

/// The process units that the file installed from artifact `path` defines: the unit named
/// like the file, or every instance of the service named like it (`svc`, `svc@`), or the
/// unit whose service directory holds it (runit/s6: `sv/NAME/run`, `sv/NAME/log/run`); a
/// lone file defines every process (supervisord's one conf file).
#[must_use]
pub fn defined_by<'u>(path: &str, units: &'u [Unit], artifacts: usize) -> Vec<&'u Unit> {
    let file = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = |s: &str| {
        let f = s.strip_suffix(".plist").unwrap_or(s);
        f.rsplit_once('.')
            .filter(|(_, ext)| matches!(*ext, "service" | "conf" | "ini"))
            .map_or(f, |(base, _)| base)
            .to_owned()
    };
    let name = stem(&file);
    let dirs: Vec<&str> = Path::new(path)
        .parent()
        .map(|p| p.iter().filter_map(|c| c.to_str()).collect())
        .unwrap_or_default();
    processes(units)
        .into_iter()
        .filter(|u| {
            artifacts == 1
                || dirs.contains(&u.name.as_str())
                || stem(&u.name) == name
                || u.service == name
                || u.instance.is_some() && format!("{}@", u.service) == name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Vec<Unit> {
        let p = |name: &str, svc: &str, inst: Option<&str>| Unit {
            name: name.into(),
            service: svc.into(),
            instance: inst.map(Into::into),
            kind: UnitKind::Process,
        };
        vec![
            p("a.service", "a", None),
            p("c@0.service", "c", Some("0")),
            p("c@1.service", "c", Some("1")),
            Unit::grouping("g.target".into(), "g", UnitKind::Group),
            Unit::grouping("s.target".into(), "s", UnitKind::Stack),
        ]
    }

    fn names(found: &[&Unit]) -> Vec<String> {
        found.iter().map(|u| u.name.clone()).collect()
    }

    #[test]
    fn targets_name_the_stack_groups_services_and_instances() {
        let u = units();
        let none = |_: &str| None;
        let r = |t: &str| names(&resolve(&u, "s", t, none).expect(t));
        assert_eq!(r("s"), ["s.target"]);
        assert_eq!(r("g"), ["g.target"]);
        assert_eq!(r("c"), ["c@0.service", "c@1.service"]);
        assert_eq!(r("c@1"), ["c@1.service"]);
        assert_eq!(r("a.service"), ["a.service"]);
        assert!(resolve(&u, "s", "zz", none).is_err());
        let members = |g: &str| (g == "m").then(|| vec!["a".to_owned()]);
        assert_eq!(
            names(&resolve(&u, "s", "m", members).expect("m")),
            ["a.service"]
        );
        let no_stack: Vec<Unit> = u
            .into_iter()
            .filter(|x| x.kind == UnitKind::Process)
            .collect();
        assert_eq!(
            names(&resolve(&no_stack, "s", "s", none).expect("s")).len(),
            3
        );
    }

    #[test]
    fn files_define_their_units() {
        let u = units();
        assert_eq!(
            names(&defined_by("x/c@.service", &u, 3)),
            ["c@0.service", "c@1.service"]
        );
        assert_eq!(names(&defined_by("a.service", &u, 3)), ["a.service"]);
        assert!(defined_by("s.target", &u, 3).is_empty());
        assert_eq!(defined_by("stack.conf", &u, 1).len(), 3);
        let dirs = vec![
            Unit {
                name: "a".into(),
                service: "a".into(),
                instance: None,
                kind: UnitKind::Process,
            },
            Unit {
                name: "c-1".into(),
                service: "c".into(),
                instance: Some("1".into()),
                kind: UnitKind::Process,
            },
        ];
        assert_eq!(names(&defined_by("sv/c-1/log/run", &dirs, 9)), ["c-1"]);
        assert_eq!(names(&defined_by("sv/a/env/X", &dirs, 9)), ["a"]);
        assert!(defined_by("sv/b/run", &dirs, 9).is_empty());
    }
}
