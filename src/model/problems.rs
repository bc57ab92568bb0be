//! Collecting located problems while the model is built: every check pushes here, and the
//! build reports them all at once.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::manifest::locate::Locator;
use crate::manifest::{GroupSpec, HealthSpec, ManifestError};

use super::check::{self, NAME_HINT};
use super::path::At;
use super::suggest::{self, SUGGEST_BUDGET};

/// What an unknown reference could have named: what "did you mean" lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Known {
    /// Services and externals (a dependency).
    Targets = 0,
    /// Services (a group member).
    Services = 1,
}

/// A hash of `name` that is the same in every run and every place (a name is kept as its
/// hash where only whether it was met matters).
pub(super) fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::hash::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// Collects located errors while the model is built.
pub(super) struct Errors<'a> {
    file: Arc<str>,
    loc: Locator<'a>,
    /// The problems found so far.
    pub(super) list: Vec<ManifestError>,
    /// What is left of [`SUGGEST_BUDGET`].
    suggest_budget: usize,
    /// The list of what is known, once made, per kind of reference ([`Known`]).
    known_lists: [Option<Arc<str>>; 2],
    /// The hashes of the unknown names a hint looked for among the groups: a streamed
    /// build, which reads the groups last, checks them once it has.
    pub(super) not_groups: Vec<u64>,
}

impl<'a> Errors<'a> {
    /// An empty collector for `file`, locating paths with `loc`.
    pub(super) fn new(file: &'a str, loc: Locator<'a>) -> Self {
        Self {
            file: file.into(),
            loc,
            list: Vec::new(),
            suggest_budget: SUGGEST_BUDGET,
            known_lists: [None, None],
            not_groups: Vec::new(),
        }
    }

    /// "did you mean" for an unknown reference to one of `known` (see [`suggest::suggest`]).
    pub(super) fn suggest<'k, I>(&mut self, name: &str, (kind, known): (Known, I)) -> Arc<str>
    where
        I: Iterator<Item = &'k str> + Clone,
    {
        let list = &mut self.known_lists[kind as usize];
        suggest::suggest(&mut self.suggest_budget, name, known, list)
    }

    /// Group `name` of `groups`; when there is none, `name` is noted (see
    /// [`Self::not_groups`]).
    pub(super) fn group<'g>(
        &mut self,
        groups: &'g IndexMap<String, GroupSpec>,
        name: &str,
    ) -> Option<&'g GroupSpec> {
        let group = groups.get(name);
        if group.is_none() {
            self.not_groups.push(name_hash(name));
        }
        group
    }

    /// An error at the value of `path`.
    pub(super) fn push(
        &mut self,
        path: &At<'_>,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) {
        let hint = hint.into().map(Arc::from);
        self.push_shared(path, message, hint);
    }

    /// [`Self::push`] with a hint other problems may share.
    pub(super) fn push_shared(
        &mut self,
        path: &At<'_>,
        message: impl Into<String>,
        hint: Option<Arc<str>>,
    ) {
        let e = ManifestError::at(&self.file, &self.loc, &path.path(), message, hint);
        self.list.push(e);
    }

    /// An error at the key naming `path` (an entry name, an environment variable name).
    pub(super) fn push_key(
        &mut self,
        path: &At<'_>,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) {
        let hint = hint.into().map(Arc::from);
        let e = ManifestError::at_key(&self.file, &self.loc, &path.path(), message, hint);
        self.list.push(e);
    }

    /// The 1-based line where the key naming `path` is written.
    pub(super) fn line_of(&self, path: &At<'_>) -> usize {
        self.loc.line_col(self.loc.key_span(&path.path()).start).0
    }

    /// Check the name of a service, external, group or the stack.
    pub(super) fn name(&mut self, path: &At<'_>, name: &str) {
        if let Some(m) = check::name_problem(name) {
            self.push_key(path, m, Some(NAME_HINT.to_owned()));
        }
    }

    /// Check that a value carries no character a backend cannot write.
    pub(super) fn chars(&mut self, path: &At<'_>, value: &str) {
        if check::plain_value(value) {
            return;
        }
        if let Some(m) = crate::limits::value_problem(value) {
            let hint =
                "long data belongs in a file the service reads (environment_file, a config file)";
            self.push(path, m, Some(hint.to_owned()));
        } else if let Some(m) = check::char_problem(value) {
            let hint = if value.contains(['\n', '\r']) {
                "write it on one line; a multi-line script belongs in a file the command runs"
            } else {
                "remove the character; values must be plain text"
            };
            self.push(path, m, Some(hint.to_owned()));
        }
    }

    /// Check an absolute path.
    pub(super) fn absolute(&mut self, path: &At<'_>, value: &str) {
        if let Some(m) = check::absolute_problem(value) {
            self.push(
                path,
                m,
                Some("write the full path starting with `/`".to_owned()),
            );
        } else {
            self.chars(path, value);
        }
    }

    /// Check an argv: not empty, absolute executable, no unwritable characters, and the
    /// placeholder only where instances exist.
    pub(super) fn argv(&mut self, path: &At<'_>, argv: &[String], allow_placeholder: bool) {
        let Some(exe) = argv.first() else {
            self.push(
                path,
                "the command is empty",
                Some(
                    r#"give an argv: ["/opt/openim/bin/openim-api", "-c", "/etc/openim/config/"]"#
                        .to_owned(),
                ),
            );
            return;
        };
        if !exe.starts_with('/') {
            let base = exe.rsplit('/').next().unwrap_or(exe);
            let hint = if base.is_empty() || exe.contains(char::is_whitespace) {
                "write the program's full path as the first element; each argument is its own element".to_owned()
            } else {
                format!(
                    "init systems search different PATHs; write e.g. `/usr/bin/{}`",
                    base.escape_debug()
                )
            };
            let what = if exe.is_empty() {
                "the executable is empty".to_owned()
            } else {
                format!("`{}` is not an absolute path", exe.escape_debug())
            };
            self.push(&path.index(0), what, Some(hint));
        }
        let total: usize = argv.iter().map(|a| a.len() + 1).sum();
        if total > crate::limits::MAX_ARGV_BYTES {
            self.push(
                path,
                format!(
                    "the arguments take {} together; at most {} are accepted",
                    crate::limits::size(total),
                    crate::limits::size(crate::limits::MAX_ARGV_BYTES)
                ),
                Some("pass long data in a file the program reads".to_owned()),
            );
        }
        for (i, arg) in argv.iter().enumerate() {
            // the path of each element is built only for an element with a problem
            let scan = check::scan(arg);
            if !scan.plain {
                self.chars(&path.index(i), arg);
            }
            if !allow_placeholder && scan.placeholder_in(arg) {
                self.push(
                    &path.index(i),
                    "`{instance}` is used but the service has no `instances`",
                    Some(
                        "add `instances = 2` (or a list of names), or remove `{instance}`"
                            .to_owned(),
                    ),
                );
            }
        }
    }
}

/// Parse and check a probe (`health` of a service, `check` of an external).
pub(super) fn health_check(
    errs: &mut Errors<'_>,
    spec: HealthSpec,
    path: &At<'_>,
    allow_placeholder: bool,
) -> Option<super::Check> {
    match check::parse_check(spec) {
        Ok(c) => {
            if let super::Check::Exec { argv } = &c {
                errs.argv(&path.key("exec"), argv, allow_placeholder);
            }
            Some(c)
        }
        Err((key, m, h)) => {
            errs.push(&key.map_or(*path, |k| path.key(k)), m, Some(h));
            None
        }
    }
}
