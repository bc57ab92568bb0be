//! Checks of single values: names, paths, characters a backend cannot carry, probes.

use crate::manifest::HealthSpec;

use super::{Check, INSTANCE_PLACEHOLDER};

/// The longest URL of an http check (what servers and probes accept).
const MAX_URL: usize = 8192;

/// The longest service, group or external name.
pub const MAX_NAME: usize = 64;

/// Why a name is unsafe, or `None` when it is fine.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if name.len() > MAX_NAME {
        return Some(format!(
            "the name is {} characters long; at most {MAX_NAME} are allowed",
            name.len()
        ));
    }
    if name.contains("..") || name.contains('/') || name.contains('\\') {
        return Some(format!(
            "`{}` could name a path outside the output directory",
            name.escape_debug()
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Some(format!("`{}` is not a safe unit name", name.escape_debug()));
    }
    None
}

/// The hint shown with every name problem.
pub const NAME_HINT: &str =
    "names start with a letter or digit and use only A-Z a-z 0-9 _ . - (at most 64 characters)";

/// Why an instance name is unusable, or `None`.
pub fn instance_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the instance name is empty".into());
    }
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    (!ok).then(|| {
        format!(
            "`{}` is not a valid instance name (A-Z a-z 0-9 _ -, at most 32 characters)",
            name.escape_debug()
        )
    })
}

/// Characters no backend can carry in a value: NUL, and control characters other than tab
/// (a newline would end a systemd line, an INI value, an OpenRC assignment).
pub fn char_problem(value: &str) -> Option<String> {
    let bad = value.chars().find(|c| c.is_control() && *c != '\t')?;
    Some(match bad {
        '\0' => "contains a NUL character, which no init system can pass to a process".into(),
        '\n' | '\r' => {
            "contains a line break, which the unit/ini/script syntax cannot carry".into()
        }
        c => format!("contains the control character U+{:04X}", c as u32),
    })
}

/// Whether `value` certainly has no problem [`char_problem`] or
/// [`crate::limits::value_problem`] would find: not too long, no control byte but tab, and
/// no byte 0xC2 (which the C1 control characters U+0080..U+009F start with in UTF-8). One
/// pass over the bytes; `false` only means "check it exactly".
#[must_use]
pub fn plain_value(value: &str) -> bool {
    value.len() <= crate::limits::MAX_VALUE_BYTES
        && !value
            .bytes()
            .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f || b == 0xc2)
}

/// Whether `text` holds [`INSTANCE_PLACEHOLDER`] (a byte search for its `{` first).
#[must_use]
pub fn has_placeholder(text: &str) -> bool {
    text.as_bytes().contains(&b'{') && text.contains(INSTANCE_PLACEHOLDER)
}

/// Why `path` is not an absolute path, or `None`.
pub fn absolute_problem(path: &str) -> Option<String> {
    if path.starts_with('/') {
        None
    } else if path.is_empty() {
        Some("the path is empty".into())
    } else {
        Some(format!("`{}` is not an absolute path", path.escape_debug()))
    }
}

/// Why `key` is not a portable environment variable name, or `None`.
pub fn env_key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("the environment variable name is empty".into());
    }
    let mut chars = key.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    (!ok).then(|| {
        format!(
            "`{}` is not a valid environment variable name",
            key.escape_debug()
        )
    })
}

/// Why `name` is not a user or group name (or numeric id), or `None`.
pub fn account_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the user or group name is empty".into());
    }
    let numeric = !name.is_empty() && name.chars().all(|c| c.is_ascii_digit());
    let mut chars = name.chars();
    let named = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.len() <= 32;
    (!numeric && !named).then(|| {
        format!(
            "`{}` is not a valid user or group name",
            name.escape_debug()
        )
    })
}

/// A probe parsed from a health/check table, or the problem: the key of the table it is at
/// (`None`: the table itself), the message and the hint.
pub fn parse_check(spec: HealthSpec) -> Result<Check, (Option<&'static str>, String, String)> {
    let given = [spec.tcp.is_some(), spec.http.is_some(), spec.exec.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if given != 1 {
        return Err((
            None,
            format!("needs exactly one of `tcp`, `http`, `exec` (found {given})"),
            r#"e.g. { tcp = "127.0.0.1:10002" }, { http = "http://127.0.0.1:8080/healthz" } or { exec = ["/usr/bin/check"] }"#.into(),
        ));
    }
    if let Some(addr) = spec.tcp {
        return parse_tcp(addr).map_err(|m| {
            (
                Some("tcp"),
                m,
                r#"write "host:port", e.g. "127.0.0.1:19094" or "[::1]:80""#.into(),
            )
        });
    }
    if let Some(url) = spec.http {
        let ok = url.len() <= MAX_URL
            && (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() > "https://".len()
            && !url.contains(char::is_whitespace)
            && char_problem(&url).is_none();
        return if ok {
            Ok(Check::Http { url })
        } else {
            Err((
                Some("http"),
                format!("`{}` is not an http(s) URL", url.escape_debug()),
                "e.g. \"http://127.0.0.1:10002/healthz\"".into(),
            ))
        };
    }
    let argv = spec.exec.unwrap_or_default();
    Ok(Check::Exec { argv })
}

/// A `host:port` check; the host keeps the buffer of `addr`.
fn parse_tcp(addr: String) -> Result<Check, String> {
    let bad = || format!("`{}` is not host:port", addr.escape_debug());
    // where the host lies in `addr`, and the port text
    let (start, end, port) = if let Some(rest) = addr.strip_prefix('[') {
        let close = rest.find("]:").ok_or_else(bad)?;
        (1, 1 + close, &rest[close + 2..])
    } else {
        let colon = addr
            .rfind(':')
            .ok_or_else(|| format!("`{}` has no port", addr.escape_debug()))?;
        (0, colon, &addr[colon + 1..])
    };
    let host = &addr[start..end];
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'_'));
    if !host_ok {
        return Err(bad());
    }
    let port: u32 = port.parse().map_err(|_| bad())?;
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("port {port} is out of range (1-65535)"))?;
    let mut host = addr;
    host.truncate(end);
    host.drain(..start);
    Ok(Check::Tcp { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name_problem("openim-api").is_none());
        assert!(name_problem("a.b_c-1").is_none());
        for bad in ["", "../x", "a/b", ".", "-a", "a b", "a@b", &"x".repeat(65)] {
            assert!(name_problem(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn tcp_addresses() {
        let ok = |s: &str| parse_tcp(s.to_owned()).is_ok();
        assert!(ok("127.0.0.1:80") && ok("[::1]:443") && ok("kafka:9092"));
        assert!(!ok(&format!("{}:80", "a".repeat(254))));
        assert_eq!(
            parse_tcp("[::1]:443".to_owned()),
            Ok(Check::Tcp {
                host: "::1".to_owned(),
                port: 443
            })
        );
        assert!(!ok("127.0.0.1") && !ok("127.0.0.1:0") && !ok("127.0.0.1:70000") && !ok(":80"));
    }

    #[test]
    fn control_characters() {
        assert!(char_problem("a\tb").is_none());
        assert!(char_problem("a\nb").is_some());
        assert!(char_problem("a\0b").is_some());
        for v in ["a\tb", "/opt/x", "héllo", "it's \"x\" $HOME", ""] {
            assert!(plain_value(v), "{v:?}");
        }
        // C1 controls and every byte the exact check refuses fall back to it
        for v in ["a\nb", "a\0b", "\u{7f}", "\u{85}", "\u{9f}x"] {
            assert!(!plain_value(v) && char_problem(v).is_some(), "{v:?}");
        }
        // 0xC2 also starts printable characters: the exact check accepts them
        assert!(!plain_value("\u{a0}") && char_problem("\u{a0}").is_none());
    }
}
