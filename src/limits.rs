//! Sizes the init systems and the kernel can load, checked before anything is written.
//!
//! - Linux `execve` takes at most `MAX_ARG_STRLEN` (128 KiB with its NUL) per argument or
//!   `KEY=value` string, and `ARG_MAX` (2 MiB by default; 1 MiB on macOS) for all of them.
//! - systemd reads unit files with `LONG_LINE_MAX` (1 MiB): a longer line fails the whole unit
//!   ("No buffer space available", checked with `systemd-analyze verify`, systemd 252).
//! - supervisord (configparser), OpenRC (sh) and launchd (plist) have no line limit of their
//!   own; what they run meets the kernel's.
//!
//! Validation bounds each value and each argv/environment ([`value_problem`],
//! [`MAX_ARGV_BYTES`], [`MAX_ENV_BYTES`]) and names the field; the line check every artifact
//! passes (`backend/checked.rs`, [`MAX_LINE_BYTES`]) is the backstop after rendering, for what
//! escaping and wrapper scripts add.

/// The longest single value: one argument or `KEY=value` the kernel passes (128 KiB − 1).
pub const MAX_VALUE_BYTES: usize = 128 * 1024 - 1;

/// The most bytes of one argv (`command`, a `pre_start` entry, an `exec` check), all
/// arguments together: with quoting doubled it stays far below systemd's line limit, and
/// with the environment below `ARG_MAX`.
pub const MAX_ARGV_BYTES: usize = 256 * 1024;

/// The most bytes of one service's environment (`KEY=value` strings together).
pub const MAX_ENV_BYTES: usize = 512 * 1024;

/// systemd's `LONG_LINE_MAX`: no line of a generated file may reach it.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Why `value` is too long to be passed to a process, or `None`.
#[must_use]
pub fn value_problem(value: &str) -> Option<String> {
    (value.len() > MAX_VALUE_BYTES).then(|| {
        format!(
            "the value is {} long; at most {} fit (the kernel passes at most 128 KiB per argument or variable)",
            size(value.len()),
            size(MAX_VALUE_BYTES)
        )
    })
}

/// A byte count for a message: `1.5 MiB`, `12 KiB`, `300 bytes`.
#[must_use]
pub fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", kib(b) / 1024.0),
        b if b >= 1 << 10 => format!("{:.1} KiB", kib(b)),
        b => format!("{b} bytes"),
    }
}

fn kib(bytes: usize) -> f64 {
    // sizes here are below 2^52: exact in f64
    #[expect(clippy::cast_precision_loss, reason = "sizes are far below 2^52")]
    let b = bytes as f64;
    b / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bounded_by_the_kernel_argument_limit() {
        assert!(value_problem(&"x".repeat(MAX_VALUE_BYTES)).is_none());
        let p = value_problem(&"x".repeat(MAX_VALUE_BYTES + 1)).unwrap_or_default();
        assert!(p.contains("128.0 KiB long"), "{p}");
        assert_eq!(size(300), "300 bytes");
        assert_eq!(size(3 << 20), "3.0 MiB");
    }
}
