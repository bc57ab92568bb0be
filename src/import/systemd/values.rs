//! systemd's value syntaxes the manifest has a field for: time spans, limits, sizes,
//! restart policies.

use crate::manifest::{ByteSize, Duration, MAX_DURATION, Signal};

/// A time span (`20s`, `1min 30s`, `90` = seconds, `500ms`).
///
/// # Errors
/// `infinity`, an unknown unit, or longer than the manifest accepts.
pub fn timespan(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t == "infinity" {
        return Err("`infinity` has no manifest value".into());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return bounded(secs.saturating_mul(1000), t);
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{t}` is not a time span"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let factor: u64 = match &rest[..unit_len] {
            "us" | "usec" => {
                total = total.saturating_add(n.div_ceil(1000));
                rest = rest[unit_len..].trim_start();
                continue;
            }
            "ms" | "msec" => 1,
            "" | "s" | "sec" | "second" | "seconds" => 1000,
            "m" | "min" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 7 * 86_400_000,
            other => return Err(format!("`{other}` is not a time unit here")),
        };
        total = total.saturating_add(n.saturating_mul(factor));
        rest = rest[unit_len..].trim_start();
    }
    bounded(total, t)
}

fn bounded(ms: u64, text: &str) -> Result<Duration, String> {
    if ms > MAX_DURATION.millis() {
        Err(format!("`{text}` is longer than the manifest accepts"))
    } else {
        Ok(Duration(ms))
    }
}

/// A `Limit*=` value: a number, or `SOFT:HARD` (the soft value is taken, with a note).
///
/// # Errors
/// `infinity` or not a number.
pub fn limit(text: &str) -> Result<(u64, Option<String>), String> {
    let (soft, hard) = match text.split_once(':') {
        Some((s, h)) => (s, Some(h)),
        None => (text, None),
    };
    let n: u64 = soft
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` has no manifest value (a number is needed)"))?;
    if n == 0 {
        return Err("0 has no manifest value".into());
    }
    Ok((
        n,
        hard.map(|h| format!("the hard limit {h} is not carried; the soft limit {n} is")),
    ))
}

/// `MemoryMax=` as bytes.
///
/// # Errors
/// `infinity`, a percentage, or not a size.
pub fn bytes(text: &str) -> Result<ByteSize, String> {
    ByteSize::parse(text).map_err(|e| format!("{e} (the manifest has no percentage or infinity)"))
}

/// `CPUQuota=150%` as 150.
///
/// # Errors
/// Not a whole percentage.
pub fn cpu_quota(text: &str) -> Result<u32, String> {
    text.trim()
        .strip_suffix('%')
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a whole percentage"))
}

/// `KillSignal=` as the manifest's signal.
///
/// # Errors
/// A signal the manifest does not accept.
pub fn signal(text: &str) -> Result<Signal, String> {
    Signal::parse(text)
}

/// `Restart=` as the manifest's policy, and a note when it is an approximation.
///
/// # Errors
/// `on-success`, which the manifest cannot express.
pub fn restart(text: &str) -> Result<(&'static str, Option<String>), String> {
    match text.trim() {
        "always" => Ok(("always", None)),
        "on-failure" => Ok(("on-failure", None)),
        "no" => Ok(("never", None)),
        v @ ("on-abnormal" | "on-abort" | "on-watchdog") => Ok((
            "on-failure",
            Some(format!(
                "`{v}` became on-failure, which also restarts on an unclean exit code"
            )),
        )),
        v => Err(format!("`{v}` has no manifest policy")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_limits() {
        assert_eq!(timespan("20s"), Ok(Duration(20_000)));
        assert_eq!(timespan("1min 30s"), Ok(Duration(90_000)));
        assert_eq!(timespan("90"), Ok(Duration(90_000)));
        assert_eq!(timespan("500ms"), Ok(Duration(500)));
        assert!(timespan("infinity").is_err());
        assert_eq!(limit("1024").map(|l| l.0), Ok(1024));
        assert!(limit("1024:4096").is_ok_and(|l| l.1.is_some()));
        assert!(limit("infinity").is_err());
        assert_eq!(cpu_quota("150%"), Ok(150));
        assert!(restart("on-success").is_err());
    }
}
