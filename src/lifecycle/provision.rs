//! What a host install creates for the services: their users and groups, and their
//! working and log directories — only what is missing, never changing an existing user.
//! systemd gets a `sysusers.d` and a `tmpfiles.d` file (owned by the ledger) applied with
//! `systemd-sysusers` / `systemd-tmpfiles --create`; elsewhere `groupadd`/`useradd` (`BusyBox`
//! `addgroup -S`/`adduser -S` where there is no useradd) and `install -d`. What was missing
//! is recorded (`created.json` beside the ledger) before it is created, so that `uninstall
//! --purge` removes exactly that and nothing that existed before.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::fsops;
use super::ledger::{Store, read_regular};
use super::plan::Desired;
use super::runner::Runner;
use super::stage;
use crate::backend::BackendData;
use crate::model::Model;

const CREATED_FILE: &str = "created.json";

/// What openim-init created on the host (and so may remove with `--purge`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// Groups.
    pub groups: Vec<String>,
    /// Users.
    pub users: Vec<String>,
    /// Directories (absolute).
    pub dirs: Vec<String>,
}

impl Created {
    /// Nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.users.is_empty() && self.dirs.is_empty()
    }

    /// The record of `store` (none: empty).
    ///
    /// # Errors
    /// It cannot be read or parsed.
    pub fn read(store: &Store) -> Result<Self> {
        let path = store.state.join(CREATED_FILE);
        match read_regular(&path)? {
            None => Ok(Self::default()),
            Some(b) => {
                serde_json::from_slice(&b).with_context(|| format!("reading {}", path.display()))
            }
        }
    }

    /// Add `more` to the record of `store` (written atomically).
    ///
    /// # Errors
    /// I/O errors.
    pub fn record(store: &Store, more: &Self) -> Result<()> {
        let mut all = Self::read(store)?;
        for (have, add) in [
            (&mut all.groups, &more.groups),
            (&mut all.users, &more.users),
            (&mut all.dirs, &more.dirs),
        ] {
            for a in add {
                if !have.contains(a) {
                    have.push(a.clone());
                }
            }
        }
        std::fs::create_dir_all(&store.state)?;
        fsops::write_atomic(
            &store.state.join(CREATED_FILE),
            &serde_json::to_vec_pretty(&all)?,
            0o644,
        )
    }

    /// Forget the record.
    ///
    /// # Errors
    /// I/O errors.
    pub fn forget(store: &Store) -> Result<()> {
        fsops::remove(&store.state.join(CREATED_FILE))
    }
}

/// A host install's accounts and directories: the files (systemd) and, once looked up,
/// what is missing and the commands that create it.
#[derive(Debug, Clone, Default)]
pub struct Provision {
    /// The `sysusers.d`/`tmpfiles.d` files (paths relative to `/`), installed through the
    /// ledger.
    pub files: Vec<Desired>,
    /// What is missing now.
    pub missing: Created,
    /// The commands that create it, in order.
    pub commands: Vec<Vec<String>>,
}

/// Whether `argv` (run through `lookup`) exits 0.
fn found(lookup: &dyn Runner, argv: &[&str]) -> Result<bool> {
    let argv: Vec<String> = argv.iter().map(|w| (*w).to_owned()).collect();
    Ok(lookup.run(&argv)?.success())
}

/// Whether the `BusyBox` tools are the ones to use (no `useradd` in the usual places).
fn busybox(base: &Path) -> bool {
    !["usr/sbin/useradd", "sbin/useradd", "usr/bin/useradd"]
        .iter()
        .any(|p| base.join(p).exists())
}

/// The provisioning of `model` for a host install with `data`, under the tree `base`;
/// users and groups looked up with `getent` through `lookup` (a read-only query, run even
/// for a dry run).
///
/// # Errors
/// A lookup could not be run.
pub fn plan(
    model: &Model,
    data: &BackendData,
    base: &Path,
    lookup: &dyn Runner,
) -> Result<Provision> {
    let host = &data.install.host;
    let files = stage::account_files(
        model,
        data.file_mode,
        host.sysusers.as_deref(),
        host.tmpfiles.as_deref(),
    );
    let mut missing = Created::default();
    for (user, group, _) in stage::users(model) {
        if !found(lookup, &["getent", "group", &group])? && !missing.groups.contains(&group) {
            missing.groups.push(group);
        }
        if !found(lookup, &["getent", "passwd", &user])? {
            missing.users.push(user);
        }
    }
    for (dir, _, _) in stage::dirs(model) {
        if !base.join(dir.trim_start_matches('/')).exists() {
            missing.dirs.push(dir);
        }
    }
    let mut p = Provision {
        files,
        missing,
        commands: Vec::new(),
    };
    p.commands = commands(&p, model, data, base);
    Ok(p)
}

/// The commands that create what is missing.
fn commands(p: &Provision, model: &Model, data: &BackendData, base: &Path) -> Vec<Vec<String>> {
    let host = &data.install.host;
    let words = |w: &[&str]| w.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    let apply = |argv: Option<&Vec<String>>, file: Option<&Desired>| {
        argv.zip(file).map(|(a, f)| {
            a.iter()
                .map(|w| w.replace("{file}", &format!("/{}", f.path)))
                .collect()
        })
    };
    let mut out = Vec::new();
    let accounts = !p.missing.users.is_empty() || !p.missing.groups.is_empty();
    if host.sysusers.is_some() {
        let sysusers = p.files.iter().find(|f| f.path.contains("sysusers.d"));
        let tmpfiles = p.files.iter().find(|f| f.path.contains("tmpfiles.d"));
        if accounts {
            out.extend(apply(host.apply_sysusers.as_ref(), sysusers));
        }
        if !p.missing.dirs.is_empty() {
            out.extend(apply(host.apply_tmpfiles.as_ref(), tmpfiles));
        }
        return out;
    }
    if !host.useradd {
        return out;
    }
    let bb = busybox(base);
    for g in &p.missing.groups {
        out.push(if bb {
            words(&["addgroup", "-S", g])
        } else {
            words(&["groupadd", "-r", g])
        });
    }
    for (user, group, home) in stage::users(model) {
        if p.missing.users.contains(&user) {
            out.push(if bb {
                words(&[
                    "adduser",
                    "-S",
                    "-D",
                    "-H",
                    "-h",
                    &home,
                    "-s",
                    "/sbin/nologin",
                    "-G",
                    &group,
                    &user,
                ])
            } else {
                words(&[
                    "useradd",
                    "-r",
                    "-M",
                    "-d",
                    &home,
                    "-s",
                    "/usr/sbin/nologin",
                    "-g",
                    &group,
                    &user,
                ])
            });
        }
    }
    for (dir, user, group) in stage::dirs(model) {
        if p.missing.dirs.contains(&dir) {
            out.push(words(&[
                "install", "-d", "-m", "0750", "-o", &user, "-g", &group, &dir,
            ]));
        }
    }
    out
}

/// The commands `uninstall --purge` runs for what `created` records: directories first
/// (with everything in them), then users, then the groups that are still there.
///
/// # Errors
/// A lookup could not be run.
pub fn purge_commands(created: &Created, lookup: &dyn Runner) -> Result<Vec<Vec<String>>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for d in created.dirs.iter().rev() {
        out.push(vec!["rm".into(), "-rf".into(), "--".into(), d.clone()]);
    }
    for u in &created.users {
        if found(lookup, &["getent", "passwd", u])? {
            out.push(vec!["userdel".into(), u.clone()]);
        }
    }
    for g in &created.groups {
        // userdel may have removed a user's own group already: see [`run`]
        if found(lookup, &["getent", "group", g])? {
            out.push(vec!["groupdel".into(), g.clone()]);
        }
    }
    Ok(out)
}

/// Run `commands` through `runner`; each must succeed (`groupdel` of a group that is gone,
/// exit 6, counts as done). Each is reported in `lines`.
///
/// # Errors
/// A command failed: the message names it, its exit code and what it printed.
pub fn run(runner: &dyn Runner, commands: &[Vec<String>], lines: &mut Vec<String>) -> Result<()> {
    for argv in commands {
        let out = runner.run(argv)?;
        let shown = runner.setup().expand(argv).join(" ");
        let gone = argv.first().is_some_and(|t| t == "groupdel") && out.code == Some(6);
        anyhow::ensure!(
            out.success() || gone,
            "`{shown}` failed ({}): {}",
            out.code
                .map_or_else(|| "no exit code".to_owned(), |c| format!("exit code {c}")),
            format!("{}{}", out.stderr, out.stdout).trim()
        );
        lines.push(format!("ran: {shown}"));
    }
    Ok(())
}

/// What `missing` means to a person, one line each.
#[must_use]
pub fn describe(missing: &Created, verb: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (what, names) in [
        ("group", &missing.groups),
        ("user", &missing.users),
        ("directory", &missing.dirs),
    ] {
        out.extend(names.iter().map(|n| format!("{verb} {what} {n}")));
    }
    out
}

#[cfg(test)]
mod tests;
