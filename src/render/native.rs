//! Rendering the embedded templates without tera: each template context writes itself
//! exactly as its embedded template would render it (tera's `{%-` trimming included), so an
//! artifact costs string appends instead of a JSON context and a tree walk. Tera renders
//! only a template that `--templates` overrides; the tests render every fixture both ways
//! and compare the bytes.

use serde::Serialize;

/// A template context that can also write itself the way its embedded template renders it.
pub trait Native: Serialize {
    /// Append what the embedded template renders for this context to `out`.
    fn write_native(&self, out: &mut String);

    /// About how many bytes [`Native::write_native`] appends (the buffer it starts with).
    fn size_hint(&self) -> usize {
        256
    }
}

/// Append `\n{key}{value}`: one line, written the way templates with `{%-` tags emit it
/// (each line after the first starts with its newline).
pub fn line(out: &mut String, key: &str, value: &str) {
    out.push('\n');
    out.push_str(key);
    out.push_str(value);
}

/// [`line()`] when `value` is what tera's `{% if %}` counts as true (present, not empty).
pub fn line_if(out: &mut String, key: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        line(out, key, v);
    }
}

/// [`line()`] for a number, when tera counts it as true (present, not zero).
pub fn number_if(out: &mut String, key: &str, value: Option<u64>) {
    if let Some(v) = value.filter(|&v| v != 0) {
        out.push('\n');
        out.push_str(key);
        push_u64(out, v);
    }
}

/// Append `v` in decimal (what `{{ v }}` and `v.to_string()` write, without the formatter).
pub fn push_u64(out: &mut String, v: u64) {
    if v < 10 {
        out.push(char::from(b'0' + digit(v)));
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + digit(v % 10);
        v /= 10;
    }
    out.reserve(buf.len() - i);
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Append `v` in decimal, with a `-` when negative.
pub fn push_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_u64(out, v.unsigned_abs());
}

/// `v % 10` as a byte.
fn digit(v: u64) -> u8 {
    // below 10: the conversion cannot fail
    u8::try_from(v % 10).unwrap_or_default()
}

/// [`line()`] per value (a template's `{%- for %}` loop).
pub fn lines<S: AsRef<str>>(out: &mut String, key: &str, values: &[S]) {
    for v in values {
        line(out, key, v.as_ref());
    }
}

/// [`line()`] with `values` joined by `sep`, when there are any (`{% if v %}…{{ v | join }}`).
pub fn joined_if(out: &mut String, key: &str, values: &[String], sep: &str) {
    if values.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(key);
    push_joined(out, values, sep);
}

/// Append `values` joined by `sep`.
pub fn push_joined<S: AsRef<str>>(out: &mut String, values: &[S], sep: &str) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(v.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::{push_i64, push_u64};

    #[test]
    fn numbers_are_written_as_to_string_writes_them() {
        for v in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut out = String::from("x");
            push_u64(&mut out, v);
            assert_eq!(out, format!("x{v}"));
        }
        for v in [0, -1, 255, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_i64(&mut out, v);
            assert_eq!(out, v.to_string());
        }
    }
}
