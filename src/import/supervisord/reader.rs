//! The values of one program section, `%`-expanded as supervisor expands them.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::super::Report;
use super::Section;
use crate::escape::supervisord::interpolate;

/// Expansions of one program.
pub(super) struct Ctx<'a> {
    /// The process environment and `[supervisord] environment=` (`%(ENV_X)s`).
    pub env: &'a BTreeMap<String, String>,
    /// `%(group_name)s`.
    pub group: &'a str,
    /// Whether `%(here)s` is replaced as text first (a configuration with `[include]`).
    pub textual_here: bool,
}

/// Reads the values of one program section.
pub(super) struct Reader<'a> {
    pub(super) s: &'a Section,
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) name: String,
    pub(super) numprocs: String,
    pub(super) process_num: String,
    pub(super) env: BTreeMap<String, String>,
}

impl Reader<'_> {
    /// The raw value of `key`.
    pub(super) fn raw(&self, key: &str) -> Option<&str> {
        self.s.sec.get(key).map(|v| v.value.as_str())
    }

    /// `key` expanded as supervisor does, or a drop.
    pub(super) fn get(&self, key: &str, report: &mut Report) -> Option<String> {
        let mut raw = self.raw(key)?.to_owned();
        if self.ctx.textual_here {
            raw = raw.replace("%(here)s", &self.s.here());
        }
        let used = RefCell::new(Vec::new());
        let lookup = |n: &str| {
            let v = match n {
                "here" => Some(self.s.here()),
                "program_name" => Some(self.name.clone()),
                "group_name" => Some(self.ctx.group.to_owned()),
                "numprocs" => Some(self.numprocs.clone()),
                "process_num" => return Some(self.process_num.clone()),
                n => n
                    .strip_prefix("ENV_")
                    .and_then(|k| self.env.get(k).cloned()),
            };
            if v.is_some() {
                used.borrow_mut().push(format!("%({n})"));
            }
            v
        };
        let out = interpolate(&raw, &lookup);
        let place = self.s.place(key);
        let used = used.into_inner();
        if !used.is_empty() && out.is_ok() {
            report.note(
                place.clone(),
                format!("expanded {} to this machine's values", used.join(", ")),
            );
        }
        out.map_err(|m| report.drop(place, m)).ok()
    }

    pub(super) fn number(&self, key: &str, report: &mut Report) -> Option<i64> {
        let v = self.get(key, report)?;
        v.trim()
            .parse()
            .map_err(|_| report.drop(self.s.place(key), format!("`{v}` is not a number")))
            .ok()
    }
}

/// `true`/`yes`/`on`/`1` as supervisor's `boolean`.
pub(super) fn truthy(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}
