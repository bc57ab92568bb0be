//! Scalar value types of the manifest that check themselves while being deserialized.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A duration written as `"5s"`, `"2min"`, `"1h30min"`, `"500ms"`; kept in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Duration(pub u64);

/// The longest duration a manifest may give anywhere: 30 days. Sums of durations (start
/// budgets, health windows) saturate instead of wrapping.
pub const MAX_DURATION: Duration = Duration(30 * 86_400_000);

/// [`MAX_DURATION`] as a user writes it.
pub const MAX_DURATION_TEXT: &str = "30d";

impl Duration {
    /// `self + other`, at most `u64::MAX` milliseconds (never wraps).
    #[must_use]
    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// `self × n`, at most `u64::MAX` milliseconds (never wraps).
    #[must_use]
    pub const fn saturating_mul(self, n: u64) -> Self {
        Self(self.0.saturating_mul(n))
    }

    /// From whole seconds.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs * 1000)
    }

    /// Milliseconds.
    #[must_use]
    pub const fn millis(self) -> u64 {
        self.0
    }

    /// Whole seconds, rounded up (init systems that only take seconds must not get 0 for 500ms).
    #[must_use]
    pub const fn secs_ceil(self) -> u64 {
        self.0.div_ceil(1000)
    }

    /// Parse `"5s"`, `"2min"`, `"1h30min"`, `"250ms"`.
    ///
    /// # Errors
    /// A message saying what is wrong, for the manifest error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("the duration is empty".into());
        }
        if t.starts_with('-') {
            return Err(format!(
                "`{}`: a duration cannot be negative",
                text.escape_debug()
            ));
        }
        let mut total: u64 = 0;
        let mut rest = t;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!("`{}` is not a duration", text.escape_debug()));
            }
            let n: u64 = rest[..digits].parse().map_err(|_| {
                format!(
                    "`{}` is longer than {MAX_DURATION_TEXT}, the longest duration accepted",
                    text.escape_debug()
                )
            })?;
            rest = rest[digits..].trim_start();
            let unit_len = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            let factor = match unit {
                "ms" => 1,
                "s" | "sec" | "secs" => 1000,
                "m" | "min" | "mins" => 60_000,
                "h" | "hr" | "hour" | "hours" => 3_600_000,
                "d" | "day" | "days" => 86_400_000,
                "" => return Err(format!("`{}` has no unit", text.escape_debug())),
                other => return Err(format!("`{other}` is not a time unit")),
            };
            total = n
                .checked_mul(factor)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| {
                    format!(
                        "`{}` is longer than {MAX_DURATION_TEXT}, the longest duration accepted",
                        text.escape_debug()
                    )
                })?;
            rest = rest[unit_len..].trim_start();
        }
        if total > MAX_DURATION.0 {
            return Err(format!(
                "`{}` is longer than {MAX_DURATION_TEXT}, the longest duration accepted",
                text.escape_debug()
            ));
        }
        Ok(Self(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        if !ms.is_multiple_of(1000) {
            return write!(f, "{ms}ms");
        }
        let s = ms / 1000;
        if s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}min", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration string such as "5s", "2min" or "1h""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(|m| E::custom(format!("invalid duration: {m}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// The signals a stop may use, by their canonical names.
pub const SIGNALS: &[&str] = &[
    "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGWINCH",
];

/// A stop signal; accepts `"TERM"`, `"SIGTERM"`, any case; stored as `SIGTERM` (one of
/// `SIGNALS`: no allocation per service).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Signal(&'static str);

impl Signal {
    /// The canonical name with `SIG` prefix, e.g. `SIGTERM`.
    #[must_use]
    pub fn name(&self) -> &str {
        self.0
    }

    /// The name without the `SIG` prefix, e.g. `TERM`.
    #[must_use]
    pub fn short(&self) -> &str {
        &self.0[3..]
    }

    /// Parse a signal name.
    ///
    /// # Errors
    /// The name is not one of `SIGNALS`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let up = text.trim().to_ascii_uppercase();
        let full = if up.starts_with("SIG") {
            up
        } else {
            format!("SIG{up}")
        };
        if let Some(name) = SIGNALS.iter().find(|s| **s == full) {
            Ok(Self(name))
        } else {
            Err(format!(
                "`{}` is not a supported stop signal",
                text.escape_debug()
            ))
        }
    }
}

impl Default for Signal {
    fn default() -> Self {
        Self("SIGTERM")
    }
}

impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Signal::parse(&s).map_err(de::Error::custom)
    }
}

/// `instances = 4` (names "0".."3") or `instances = ["eu", "us"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instances {
    /// Instances named 0..N-1.
    Count(i64),
    /// Instances with the given names.
    Names(Vec<String>),
}

/// Hand-written instead of `#[serde(untagged)]`, which would hide what was wrong (a float, a
/// quoted number, an element that is not a string) behind one generic message.
impl<'de> Deserialize<'de> for Instances {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Instances;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count such as 4, or a list of instance names")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Instances, E> {
                Ok(Instances::Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Instances, E> {
                Ok(Instances::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Instances, E> {
                let what = if v.trim().parse::<i64>().is_ok() {
                    format!(
                        "invalid type: string \"{}\", expected a count without quotes",
                        v.escape_debug()
                    )
                } else {
                    format!(
                        "invalid type: string \"{}\", expected a count or a list of names",
                        v.escape_debug()
                    )
                };
                Err(E::custom(what))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Instances, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<String>()? {
                    names.push(n);
                }
                Ok(Instances::Names(names))
            }
        }
        d.deserialize_any(V)
    }
}

/// A byte size written as `"512M"`, `"2G"` or a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parse `"512M"`, `"2G"`, `"1024K"`, `"100"`.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (num, mul) = match t.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => {
                let mul: u64 = match c.to_ascii_uppercase() {
                    'K' => 1 << 10,
                    'M' => 1 << 20,
                    'G' => 1 << 30,
                    'T' => 1 << 40,
                    _ => return Err(format!("`{}`: unit must be K, M, G or T", t.escape_debug())),
                };
                (&t[..i], mul)
            }
            _ => (t, 1),
        };
        num.parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mul))
            .filter(|&n| n > 0)
            .map(Self)
            .ok_or_else(|| {
                format!(
                    "`{}` is not a size such as \"512M\" or \"2G\"",
                    t.escape_debug()
                )
            })
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a size such as "512M" or "2G""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .ok()
                    .filter(|&n| n > 0)
                    .map(ByteSize)
                    .ok_or_else(|| E::custom("a size must be positive"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(Duration::parse("5s"), Ok(Duration(5000)));
        assert_eq!(Duration::parse("2min"), Ok(Duration(120_000)));
        assert_eq!(Duration::parse("1h30min"), Ok(Duration(5_400_000)));
        assert_eq!(Duration::parse("250ms"), Ok(Duration(250)));
        assert!(Duration::parse("5").is_err());
        assert!(Duration::parse("5 parsecs").is_err());
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("-1s").is_err());
        assert_eq!(Duration(1500).to_string(), "1500ms");
        assert_eq!(Duration(120_000).to_string(), "2min");
        assert_eq!(Duration(250).secs_ceil(), 1);
    }

    #[test]
    fn durations_are_bounded_and_sums_saturate() {
        assert_eq!(Duration::parse(MAX_DURATION_TEXT), Ok(MAX_DURATION));
        assert_eq!(Duration::parse("719h60min"), Ok(MAX_DURATION));
        for absurd in [
            "30d1ms",
            "3416063717354h",
            "99999999999999999999s",
            "720h1s",
        ] {
            let e = Duration::parse(absurd).err().unwrap_or_default();
            assert!(e.contains("longer than 30d"), "{absurd}: {e:?}");
        }
        let big = Duration(u64::MAX - 1);
        assert_eq!(big.saturating_add(MAX_DURATION), Duration(u64::MAX));
        assert_eq!(MAX_DURATION.saturating_mul(u64::MAX), Duration(u64::MAX));
        assert_eq!(Duration(2).saturating_mul(3), Duration(6));
    }

    #[test]
    fn signals_normalise() {
        assert_eq!(Signal::parse("term").map(|s| s.0), Ok("SIGTERM"));
        assert_eq!(
            Signal::parse("SIGINT").map(|s| s.short().to_owned()),
            Ok("INT".into())
        );
        assert!(Signal::parse("SIGFOO").is_err());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(ByteSize::parse("2G"), Ok(ByteSize(2 << 30)));
        assert_eq!(ByteSize::parse("100"), Ok(ByteSize(100)));
        assert!(ByteSize::parse("2X").is_err());
        assert!(ByteSize::parse("0").is_err());
    }
}
