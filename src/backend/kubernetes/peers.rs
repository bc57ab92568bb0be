//! Loopback addresses of the stack's own workloads. A manifest is written for one machine,
//! where the database is `127.0.0.1:37017`; in a cluster every pod has its own loopback, and the
//! workload serving port 37017 is reached by its Service name. So in the argv and the
//! environment of every container, `HOST:PORT` with a loopback HOST (`127.x.y.z`,
//! `localhost`, `[::1]`) and a PORT that exactly one workload's Service serves becomes
//! `SERVICE:PORT` — the container's own port included: what a process advertises to others
//! (Kafka's advertised listener, etcd's client URL) must be its Service name, and what it
//! listens on is written `{bind}` (`0.0.0.0` here). A port no Service serves stays (it is in
//! the pod: Kafka's controller); a port two Services serve stays and is reported.

use indexmap::IndexMap;

use super::plan::Plan;
use crate::backend::capability::{Feature, Warning};

/// The Service of each port, and the rewrites made.
#[derive(Debug, Default)]
pub struct Peers<'p> {
    /// Port → the Services that serve it (the plan's names).
    by_port: IndexMap<u16, Vec<&'p str>>,
    /// (written, rewritten) → the workloads where it was rewritten.
    pub rewritten: IndexMap<(String, String), Vec<String>>,
    /// Loopback addresses left as written because two Services serve their port.
    pub ambiguous: Vec<Warning>,
}

impl<'p> Peers<'p> {
    /// The Services of `plan`, by port.
    #[must_use]
    pub fn new(plan: &'p Plan<'_>) -> Self {
        let mut by_port: IndexMap<u16, Vec<&'p str>> = IndexMap::new();
        for p in plan.all() {
            for port in &p.ports {
                let names = by_port.entry(*port).or_default();
                if !names.contains(&p.name) {
                    names.push(p.name);
                }
            }
        }
        Self {
            by_port,
            ..Self::default()
        }
    }

    /// `text` of workload `who` (of manifest entry `entry`) with every loopback address of a
    /// Service's port written as that Service's `NAME:PORT`.
    pub fn rewrite(&mut self, entry: &str, who: &str, text: &str) -> String {
        self.rewritten(entry, who, text)
            .unwrap_or_else(|| text.to_owned())
    }

    /// [`Self::rewrite`], or `None` when `text` has no loopback address (it stays as it is).
    pub fn rewritten(&mut self, entry: &str, who: &str, text: &str) -> Option<String> {
        next_loopback(text)?;
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((before, host, port, after)) = next_loopback(rest) {
            out.push_str(before);
            let written = &rest[before.len()..rest.len() - after.len()];
            match self.by_port.get(&port).map(Vec::as_slice) {
                Some([name]) => {
                    let new = format!("{name}:{port}");
                    let users = self
                        .rewritten
                        .entry((written.to_owned(), new.clone()))
                        .or_default();
                    if !users.iter().any(|u| u == who) {
                        users.push(who.to_owned());
                    }
                    out.push_str(&new);
                }
                Some(many) if many.len() > 1 => {
                    self.ambiguous.push(Warning {
                        backend: super::NAME,
                        feature: Feature::Environment,
                        services: vec![entry.into()].into(),
                        message: format!(
                            "`{host}:{port}` is left as written: port {port} is served by {}, and in a pod {host} is the pod itself",
                            many.join(" and ")
                        ),
                    });
                    out.push_str(written);
                }
                _ => out.push_str(written),
            }
            rest = after;
        }
        out.push_str(rest);
        Some(out)
    }

    /// The note naming every rewrite, or `None` when there was none.
    #[must_use]
    pub fn note(&self) -> Option<String> {
        if self.rewritten.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .rewritten
            .iter()
            .map(|((from, to), who)| format!("`{from}` → `{to}` ({})", who.len()))
            .collect();
        Some(format!(
            "in a pod 127.0.0.1 is the pod itself: loopback addresses of the stack's own workloads in argv and environment are written as their Service names (in how many containers): {}",
            list.join(", ")
        ))
    }
}

/// The first loopback `HOST:PORT` in `text`: (text before it, host, port, text after it).
fn next_loopback(text: &str) -> Option<(&str, &str, u16, &str)> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while from < text.len() {
        let i = from + text[from..].find(['1', 'l', 'L', '['])?;
        from = i + 1;
        let boundary = i == 0 || {
            let b = bytes[i - 1];
            !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        };
        if !boundary {
            continue;
        }
        let Some(host_len) = loopback_host(&text[i..]) else {
            continue;
        };
        let after_host = &text[i + host_len..];
        let Some(digits) = after_host.strip_prefix(':') else {
            continue;
        };
        let n = digits.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(port) = digits[..n].parse::<u16>()
            && port != 0
            && n <= 5
        {
            let end = i + host_len + 1 + n;
            return Some((&text[..i], &text[i..i + host_len], port, &text[end..]));
        }
    }
    None
}

/// The length of the loopback host `text` starts with.
fn loopback_host(text: &str) -> Option<usize> {
    for literal in ["localhost", "[::1]"] {
        if text
            .get(..literal.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(literal))
        {
            return Some(literal.len());
        }
    }
    // 127.d.d.d
    let len = text
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let octets: Vec<&str> = text[..len].split('.').collect();
    let ok =
        octets.len() == 4 && octets[0] == "127" && octets.iter().all(|o| o.parse::<u8>().is_ok());
    ok.then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> Peers<'static> {
        let mut by_port = IndexMap::new();
        by_port.insert(16379, vec!["redis"]);
        by_port.insert(19094, vec!["kafka"]);
        by_port.insert(8080, vec!["a", "b"]);
        Peers {
            by_port,
            ..Peers::default()
        }
    }

    #[test]
    fn loopback_addresses_of_services_become_their_names() {
        let mut p = peers();
        assert_eq!(p.rewrite("s", "s", "127.0.0.1:16379"), "redis:16379");
        assert_eq!(
            p.rewrite(
                "s",
                "s",
                "PLAINTEXT://localhost:19094,CONTROLLER://127.0.0.1:19095"
            ),
            "PLAINTEXT://kafka:19094,CONTROLLER://127.0.0.1:19095"
        );
        assert_eq!(p.rewrite("s", "s", "[::1]:16379 x"), "redis:16379 x");
        assert_eq!(
            p.rewrite("s", "t", "--r=127.1.2.3:16379"),
            "--r=redis:16379"
        );
        assert_eq!(
            p.rewrite("s", "s", "0@127.0.0.1:19095"),
            "0@127.0.0.1:19095"
        );
        assert_eq!(
            p.rewrite("s", "s", "a.127.0.0.1:16379"),
            "a.127.0.0.1:16379"
        );
        assert_eq!(p.rewrite("s", "s", "127.0.0.1:163790"), "127.0.0.1:163790");
        assert_eq!(p.rewrite("s", "s", "127.0.0.1:1637"), "127.0.0.1:1637");
        assert_eq!(p.rewrite("s", "s", "1270.0.0.1:16379"), "1270.0.0.1:16379");
        assert_eq!(p.rewrite("s", "s", "127.0.0.1"), "127.0.0.1");
        assert_eq!(p.rewrite("s", "s", "é127.0.0.1:16379é"), "éredis:16379é");
        assert!(p.ambiguous.is_empty());
        assert_eq!(p.rewrite("s", "s", "127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(p.ambiguous.len(), 1);
        let who = &p.rewritten[&("127.1.2.3:16379".to_owned(), "redis:16379".to_owned())];
        assert_eq!(who, &["t"]);
        assert!(
            p.note()
                .is_some_and(|n| n.contains("`127.0.0.1:16379` → `redis:16379` (1)"))
        );
    }
}
