//! `container` tables: the image, ports, mounts and probe shell the container backends
//! (docker compose, Kubernetes) need, merged from `[defaults.container]` and checked. Other
//! backends ignore them.

use std::sync::{Arc, LazyLock};

use crate::manifest::ContainerSpec;

use super::check;
use super::path::At;
use super::problems::Errors;

/// The shell that runs tcp/http probes inside a container when the manifest names none.
pub const DEFAULT_SHELL: &str = "/bin/sh";

/// In a container's `command` and `environment`: the address the container listens on,
/// chosen by the backend — docker compose (host networking) `127.0.0.1`, so that the stack's
/// infrastructure stays off the host's other interfaces; Kubernetes `0.0.0.0`, as a pod is
/// reached on its own address (by its Service and its probes).
pub const BIND_PLACEHOLDER: &str = "{bind}";

/// `text` with every [`BIND_PLACEHOLDER`] replaced by `address`.
#[must_use]
pub fn with_bind(text: &str, address: &str) -> String {
    text.replace(BIND_PLACEHOLDER, address)
}

/// A service's or an external's container, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Container {
    /// The image; `None` when the manifest gives none (the container backends refuse it).
    pub image: Option<String>,
    /// TCP ports the process listens on, each once.
    pub ports: Vec<u16>,
    /// Mounts, in order.
    pub volumes: Vec<Volume>,
    /// The shell that runs tcp/http probes (absolute path in the image).
    pub shell: String,
    /// The argv the image runs (externals only; empty: the image's own).
    pub command: Vec<String>,
    /// The container's environment: an external's whole environment; for a service what the
    /// container backends add over its own `environment` (e.g. where the stack's
    /// infrastructure is). May hold [`BIND_PLACEHOLDER`].
    pub environment: Vec<(String, String)>,
}

/// One mount: `SOURCE:TARGET[:ro]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// A host path (absolute) or a named volume.
    pub source: String,
    /// The absolute path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

impl Volume {
    /// Whether the source is a host path (else a named volume).
    #[must_use]
    pub fn is_host_path(&self) -> bool {
        self.source.starts_with('/')
    }
}

/// The container of every service that gives no `container` table (nor do the defaults):
/// what the checks below make of no tables at all, made once.
static NONE: LazyLock<Arc<Container>> = LazyLock::new(|| {
    Arc::new(Container {
        shell: DEFAULT_SHELL.to_owned(),
        ..Container::default()
    })
});

/// The container of a service that gives no `container` table when the defaults give none
/// either (one for the whole stack).
pub(super) fn none() -> Arc<Container> {
    Arc::clone(&NONE)
}

/// A service's container: its own table `own` over `dflt` (`[defaults.container]`), key by
/// key (and the environment variable by variable); `path` is the service's table. `None`
/// when neither table is given (see [`none`]).
pub(super) fn service(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    name: &str,
    own: Option<ContainerSpec>,
    dflt: Option<&ContainerSpec>,
) -> Option<Container> {
    if own.is_none() && dflt.is_none() {
        return None;
    }
    let own = own.unwrap_or_default();
    let empty = ContainerSpec::default();
    let dflt = dflt.unwrap_or(&empty);
    let path = path.key("container");
    let dpath = At::keys(&["defaults", "container"]);
    for (set, at) in [
        (own.command.is_some(), &path),
        (dflt.command.is_some(), &dpath),
    ] {
        if set {
            errs.push_key(
                &at.key("command"),
                "`container.command` is for externals only",
                Some(format!(
                    "a service's `command` is its own: write it in [services.{name}]"
                )),
            );
        }
    }
    // the environment variable by variable, each checked where it was written; a variable of
    // the service's own replaces the default of that name, and comes after the defaults
    let own_env = own.environment.unwrap_or_default();
    let mut environment: Vec<(String, String)> = Vec::new();
    for (k, v) in dflt.environment.iter().flatten() {
        check_var(errs, &dpath, k, v);
        if !own_env.contains_key(k) {
            environment.push((k.clone(), v.clone()));
        }
    }
    for (k, v) in own_env {
        check_var(errs, &path, &k, &v);
        environment.push((k, v));
    }
    let pick = |own_set: bool| if own_set { path } else { dpath };
    let at = Origins {
        image: pick(own.image.is_some()),
        ports: pick(own.ports.is_some()),
        volumes: pick(own.volumes.is_some()),
        shell: pick(own.shell.is_some()),
        rest: path,
    };
    let merged = ContainerSpec {
        image: own.image.or_else(|| dflt.image.clone()),
        ports: own.ports.or_else(|| dflt.ports.clone()),
        volumes: own.volumes.or_else(|| dflt.volumes.clone()),
        shell: own.shell.or_else(|| dflt.shell.clone()),
        command: None,
        environment: None,
    };
    Some(Container {
        environment,
        ..checked(errs, merged, &at)
    })
}

/// An external's container: `Some` when it names an image (the stack then runs it).
pub(super) fn external(
    errs: &mut Errors<'_>,
    name: &str,
    spec: Option<ContainerSpec>,
) -> Option<Container> {
    let spec = spec?;
    let path = At::keys(&["external", name, "container"]);
    if spec.image.is_none() {
        errs.push(
            &path,
            "the external's container has no `image`",
            Some(
                "add image = \"redis:7.0.0\" to run it as part of the stack, or remove the table to keep it external"
                    .to_owned(),
            ),
        );
        return None;
    }
    let at = Origins {
        image: path,
        ports: path,
        volumes: path,
        shell: path,
        rest: path,
    };
    Some(checked(errs, spec, &at))
}

/// Where each key of a merged container table was written.
struct Origins<'p> {
    image: At<'p>,
    ports: At<'p>,
    volumes: At<'p>,
    shell: At<'p>,
    rest: At<'p>,
}

fn checked(errs: &mut Errors<'_>, c: ContainerSpec, at: &Origins<'_>) -> Container {
    if let Some(image) = &c.image {
        let p = at.image.key("image");
        if image.is_empty() || image.contains(char::is_whitespace) {
            errs.push(
                &p,
                "an image reference has no blanks and is not empty",
                Some("e.g. \"openim/openim-server:v3.8.3\"".to_owned()),
            );
        } else {
            errs.chars(&p, image);
        }
    }
    let ports = c.ports.unwrap_or_default();
    for (i, port) in ports.iter().enumerate() {
        if *port == 0 || ports[..i].contains(port) {
            errs.push(
                &at.ports.key("ports").index(i),
                format!("port {port} is 0 or listed twice"),
                Some("list each TCP port the process listens on once".to_owned()),
            );
        }
    }
    let volumes = c
        .volumes
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| volume(errs, &at.volumes.key("volumes").index(i), v))
        .collect();
    let shell = c.shell.unwrap_or_else(|| DEFAULT_SHELL.to_owned());
    errs.absolute(&at.shell.key("shell"), &shell);
    let set = c.command.is_some();
    let command = c.command.unwrap_or_default();
    if set {
        if command.is_empty() {
            errs.push(
                &at.rest.key("command"),
                "the command is empty",
                Some("remove it to run the image's own command".to_owned()),
            );
        }
        for (i, a) in command.iter().enumerate() {
            errs.chars(&at.rest.key("command").index(i), a);
        }
    }
    let mut environment = Vec::new();
    for (k, v) in c.environment.into_iter().flatten() {
        check_var(errs, &at.rest, &k, &v);
        environment.push((k, v));
    }
    Container {
        image: c.image,
        ports,
        volumes,
        shell,
        command,
        environment,
    }
}

/// Check one variable of the `environment` of the container table at `at`.
fn check_var(errs: &mut Errors<'_>, at: &At<'_>, k: &str, v: &str) {
    if let Some(msg) = check::env_key_problem(k) {
        errs.push_key(
            &at.key("environment").key(k),
            msg,
            Some("use letters, digits and _".to_owned()),
        );
    }
    if !check::plain_value(v) {
        errs.chars(&at.key("environment").key(k), v);
    }
}

fn volume(errs: &mut Errors<'_>, p: &At<'_>, text: &str) -> Option<Volume> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, read_only) = match parts.as_slice() {
        [s, t] | [s, t, "rw"] => (*s, *t, false),
        [s, t, "ro"] => (*s, *t, true),
        _ => ("", "", false),
    };
    let named_ok = !source.is_empty()
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if (source.starts_with('/') || named_ok) && target.starts_with('/') {
        errs.chars(p, text);
        return Some(Volume {
            source: source.to_owned(),
            target: target.to_owned(),
            read_only,
        });
    }
    errs.push(
        p,
        format!("`{}` is not SOURCE:TARGET[:ro]", text.escape_debug()),
        Some("e.g. \"/data/openim/logs:/openim/logs\" or \"mongo-data:/data/db:ro\"; TARGET is absolute".to_owned()),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::{ContainerSpec, none, service};
    use crate::manifest::locate::Locator;
    use crate::model::path::At;
    use crate::model::problems::Errors;

    #[test]
    fn no_tables_at_all_are_what_the_checks_make_of_empty_ones() {
        let mut errs = Errors::new("f", Locator::new(""));
        let path = At::keys(&["services", "a"]);
        assert_eq!(service(&mut errs, &path, "a", None, None), None);
        let empty = ContainerSpec::default();
        let checked = service(&mut errs, &path, "a", Some(empty.clone()), Some(&empty));
        assert_eq!(Some(&*none()), checked.as_ref());
        assert!(errs.list.is_empty());
    }
}
