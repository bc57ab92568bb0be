//! Checks of single values: names, paths, characters a backend cannot carry, probes.

use crate::manifest::HealthSpec;

use super::{Check, INSTANCE_PLACEHOLDER};

/// The longest URL of an http check (what servers and probes accept).
const MAX_URL: usize = 8192;

/// The longest service, group or external name.
pub const MAX_NAME: usize = 64;

/// Classes of bytes, for the checks of names: one table lookup per byte.
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
const UNDERSCORE: u8 = 4;
const DASH: u8 = 8;
const DOT: u8 = 16;
const COLON: u8 = 32;
const ALNUM: u8 = LETTER | DIGIT;

/// The class of each byte (0: none of the above; every non-ASCII byte).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c {
            0x41..=0x5a | 0x61..=0x7a => LETTER,
            0x30..=0x39 => DIGIT,
            0x5f => UNDERSCORE,
            0x2d => DASH,
            0x2e => DOT,
            0x3a => COLON,
            _ => 0,
        };
        c += 1;
    }
    t
};

/// Whether every byte of `bytes` is in one of `classes`.
fn all_in(bytes: &[u8], classes: u8) -> bool {
    bytes.iter().all(|&b| CLASS[usize::from(b)] & classes != 0)
}

/// Whether the first byte of `bytes` is in one of `classes` (`false` when empty).
fn starts_in(bytes: &[u8], classes: u8) -> bool {
    bytes
        .first()
        .is_some_and(|&b| CLASS[usize::from(b)] & classes != 0)
}

/// Whether `name` is a safe name: what [`name_problem`] accepts, in one pass over the bytes.
fn safe_name(name: &[u8]) -> bool {
    name.len() <= MAX_NAME
        && starts_in(name, ALNUM)
        && all_in(name, ALNUM | UNDERSCORE | DASH | DOT)
        && !name.windows(2).any(|w| w == b"..")
}

/// Why a name is unsafe, or `None` when it is fine.
pub fn name_problem(name: &str) -> Option<String> {
    if safe_name(name.as_bytes()) {
        return None;
    }
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
    let ok = name.len() <= 32 && all_in(name.as_bytes(), ALNUM | UNDERSCORE | DASH);
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
/// [`crate::limits::value_problem`] would find: not too long, no control byte (not even a
/// tab, which is fine but rare), no DEL and no byte 0xC2 (which the C1 control characters
/// U+0080..U+009F start with in UTF-8). One pass over the bytes, eight at a time; `false`
/// only means "check it exactly".
#[must_use]
pub fn plain_value(value: &str) -> bool {
    scan(value).plain
}

/// What one pass over a value finds (see [`scan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// See [`plain_value`].
    pub plain: bool,
    /// Whether it holds a `{` (so maybe [`INSTANCE_PLACEHOLDER`]).
    pub brace: bool,
}

impl Scan {
    /// Whether `value` (the one scanned) holds [`INSTANCE_PLACEHOLDER`].
    #[must_use]
    pub fn placeholder_in(self, value: &str) -> bool {
        self.brace && value.contains(INSTANCE_PLACEHOLDER)
    }
}

/// [`plain_value`] and whether there is a `{`, eight bytes at a time.
#[must_use]
pub fn scan(value: &str) -> Scan {
    /// A byte of 1 in each lane; the top bit of each lane.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    /// The top bit of each lane of `x` below `n` is set (exact as to whether any is, for
    /// `n <= 0x80`).
    fn below(x: u64, n: u8) -> u64 {
        x.wrapping_sub(ONES * u64::from(n)) & !x & TOPS
    }
    // a control byte (tab included: it is fine, but rare, and the exact check then says
    // so), DEL, or 0xC2; and `{`
    let (mut suspicious, mut brace) = (0, 0);
    let mut word = |x: u64| {
        suspicious |= below(x, 0x20) | below(x ^ (ONES * 0x7f), 1) | below(x ^ (ONES * 0xc2), 1);
        brace |= below(x ^ (ONES * u64::from(b'{')), 1);
    };
    let bytes = value.as_bytes();
    let (words, tail) = bytes.as_chunks::<8>();
    for w in words {
        word(u64::from_le_bytes(*w));
    }
    if !tail.is_empty() {
        // the last eight bytes (some seen already), or the few there are padded with `x`
        let mut last = [b'x'; 8];
        match bytes.last_chunk::<8>() {
            Some(l) => last = *l,
            None => last[..tail.len()].copy_from_slice(tail),
        }
        word(u64::from_le_bytes(last));
    }
    Scan {
        plain: value.len() <= crate::limits::MAX_VALUE_BYTES && suspicious == 0,
        brace: brace != 0,
    }
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
    let bytes = key.as_bytes();
    let ok = starts_in(bytes, LETTER | UNDERSCORE) && all_in(bytes, ALNUM | UNDERSCORE);
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
    let bytes = name.as_bytes();
    let numeric = all_in(bytes, DIGIT);
    let named = name.len() <= 32
        && starts_in(bytes, LETTER | UNDERSCORE)
        && all_in(bytes, ALNUM | UNDERSCORE | DASH | DOT);
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
        && all_in(host.as_bytes(), ALNUM | DOT | DASH | COLON | UNDERSCORE);
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
        // the one-pass test agrees with the rules as written
        let rules = |n: &str| {
            let mut chars = n.chars();
            !n.is_empty()
                && n.len() <= MAX_NAME
                && !n.contains("..")
                && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        };
        let long = "x".repeat(64);
        for n in [
            "a", "a.", "a..b", "a.b.c", "0-_", "é", "aé", "a\\b", "a/b", "_a", ".a", "a b", &long,
        ] {
            assert_eq!(super::safe_name(n.as_bytes()), rules(n), "{n:?}");
            assert_eq!(name_problem(n).is_none(), rules(n), "{n:?}");
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
        for v in ["/opt/x", "héllo", "it's \"x\" $HOME", ""] {
            assert!(plain_value(v), "{v:?}");
        }
        // a tab is fine, but rare: the quick test leaves it to the exact one
        assert!(!plain_value("a\tb") && char_problem("a\tb").is_none());
        // C1 controls and every byte the exact check refuses fall back to it, wherever
        // they are in the eight-byte words
        for bad in ["\n", "\0", "\u{1f}", "\u{7f}", "\u{85}", "\u{9f}"] {
            for at in 0..20 {
                let v = format!("{}{bad}{}", "x".repeat(at), "y".repeat(20 - at));
                assert!(!plain_value(&v) && char_problem(&v).is_some(), "{v:?}");
            }
        }
        let all_plain: String = (' '..='~').chain(['é', 'ü', '€', '\u{a0}']).collect();
        assert!(char_problem(&all_plain).is_none());
        // 0xC2 starts U+00A0 and U+00A9: those ask the exact check, the rest pass here
        assert!(plain_value(&all_plain.replace('\u{a0}', "")));
        // the placeholder, wherever it is
        for at in 0..20 {
            let v = format!("{}{{instance}}{}", "x".repeat(at), "y".repeat(20 - at));
            let other = v.replace('{', "(");
            assert!(scan(&v).placeholder_in(&v), "{v}");
            assert!(!scan(&other).placeholder_in(&other), "{other}");
        }
        // 0xC2 also starts printable characters: the exact check accepts them
        assert!(!plain_value("\u{a0}") && char_problem("\u{a0}").is_none());
    }
}
