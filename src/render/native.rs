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
}

/// Append `\n{key}{value}`: one line, written the way templates with `{%-` tags emit it
/// (each line after the first starts with its newline).
pub fn line(out: &mut String, key: &str, value: &str) {
    out.push('\n');
    out.push_str(key);
    out.push_str(value);
}

/// [`line`] when `value` is what tera's `{% if %}` counts as true (present, not empty).
pub fn line_if(out: &mut String, key: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        line(out, key, v);
    }
}

/// [`line`] for a number, when tera counts it as true (present, not zero).
pub fn number_if(out: &mut String, key: &str, value: Option<u64>) {
    if let Some(v) = value.filter(|&v| v != 0) {
        line(out, key, &v.to_string());
    }
}

/// [`line`] per value (a template's `{%- for %}` loop).
pub fn lines(out: &mut String, key: &str, values: &[String]) {
    for v in values {
        line(out, key, v);
    }
}

/// [`line`] with `values` joined by `sep`, when there are any (`{% if v %}…{{ v | join }}`).
pub fn joined_if(out: &mut String, key: &str, values: &[String], sep: &str) {
    if values.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(key);
    push_joined(out, values, sep);
}

/// Append `values` joined by `sep`.
pub fn push_joined(out: &mut String, values: &[String], sep: &str) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(v);
    }
}
