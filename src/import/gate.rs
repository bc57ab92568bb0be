//! openim-init's own readiness gates read back: a `/bin/sh -c` wait loop (see
//! [`crate::backend::shared::gate::wait_script`]) tells which external or service it waits
//! for, the check and the budget. A script is recognised only when rendering what was read
//! gives the same text, so a hand-written script is never mistaken for one.

use toml::Value;

use crate::backend::shared::gate::wait_script;
use crate::escape::sh;
use crate::manifest::Duration;
use crate::model::Check;

/// A recognised wait loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// `external` or `service` (a dependency), or empty (the service's own health check).
    pub kind: String,
    /// The name waited for.
    pub name: String,
    /// The probe.
    pub check: Check,
    /// Whole seconds of waiting.
    pub budget: Duration,
}

/// Parse [`crate::backend::shared::gate::describe`]'s text back.
fn check_of(text: &str) -> Option<Check> {
    let (kind, rest) = text.split_once(' ')?;
    match kind {
        "tcp" => {
            let (host, port) = rest.rsplit_once(':')?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            Some(Check::Tcp {
                host: host.to_owned(),
                port: port.parse().ok()?,
            })
        }
        "http" => Some(Check::Http {
            url: rest.to_owned(),
        }),
        "exec" => Some(Check::Exec {
            argv: sh::split(rest).ok()?,
        }),
        _ => None,
    }
}

/// The gate `script` is, or `None` when it is not exactly one of openim-init's.
#[must_use]
pub fn recognize(script: &str) -> Option<Gate> {
    let start = script.find("echo '")? + "echo ".len();
    let end = start + script[start..].find(" >&2; exit 1;")?;
    let msg = sh::split(&script[start..end]).ok()?.pop()?;
    let (head, limit) = msg.rsplit_once(") not ready after ")?;
    let secs: u64 = limit.strip_suffix('s')?.parse().ok()?;
    let budget = Duration::from_secs(secs);
    // the label may hold " (": try every split, keep the one that renders the same script
    head.match_indices(" (").find_map(|(i, _)| {
        let (what, desc) = (&head[..i], &head[i + 2..]);
        let (kind, name) = match what.split_once(' ') {
            Some((k @ ("external" | "service"), n)) => (k, n),
            _ => ("", what),
        };
        let check = check_of(desc)?;
        (wait_script(what, &check, budget) == script).then(|| Gate {
            kind: kind.to_owned(),
            name: name.to_owned(),
            check,
            budget,
        })
    })
}

/// A check as the manifest's inline table (`{ tcp = "h:p" }`, `{ http = … }`, `{ exec = … }`).
#[must_use]
pub fn check_table(check: &Check) -> toml::Table {
    let mut t = toml::Table::new();
    match check {
        Check::Tcp { host, port } if host.contains(':') => {
            t.insert("tcp".into(), Value::String(format!("[{host}]:{port}")));
        }
        Check::Tcp { host, port } => {
            t.insert("tcp".into(), Value::String(format!("{host}:{port}")));
        }
        Check::Http { url } => {
            t.insert("http".into(), Value::String(url.clone()));
        }
        Check::Exec { argv } => {
            t.insert("exec".into(), super::draft::strings(argv));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::shared::gate::wait_argv;

    #[test]
    fn gates_read_back() {
        let checks = [
            Check::Tcp {
                host: "::1".into(),
                port: 9000,
            },
            Check::Http {
                url: "http://x/h?a=1&b='".into(),
            },
            Check::Exec {
                argv: vec!["/bin/t".into(), "a (b) c".into()],
            },
        ];
        for check in checks {
            let argv = wait_argv("external db (x)", &check, Duration::from_secs(45));
            let g = recognize(&argv[2]);
            assert_eq!(
                g.map(|g| (g.name, g.check, g.budget)),
                Some(("db (x)".into(), check, Duration::from_secs(45)))
            );
        }
        assert_eq!(
            recognize("echo 'x (tcp a:1) not ready after 3s' >&2; exit 1;"),
            None
        );
    }
}
