//! Keeping user templates (`--templates DIR`) from crashing the process. Tera has no limits:
//! a template that includes itself or a recursive macro overflows the stack (an abort, not an
//! error), and loops, `set` and some filters can build values of any size. So, before an
//! override is used:
//! - it is at most [`MAX_TEMPLATE_BYTES`] and nests blocks and brackets at most [`MAX_DEPTH`]
//!   deep (the parser recurses per level);
//! - (checked in [`super::facts`]) includes may not form a cycle and macros may not call themselves (directly, through other
//!   macros or through imports): recursion depth is then bounded by the template set;
//! - a `set` may not read a variable that a `set` writes (`{% set s = s ~ s %}` doubles), and
//!   filters that multiply their input when chained (`addslashes`, `json_encode`, `split`,
//!   `concat`, `indent`, a `replace` that lengthens) are refused;
//! - every `for` body and macro body is given a call to a fuel counter, so that loops and
//!   macro calls stop after [`FUEL`] steps per file rendered with an error naming the template.
//!
//! Output is also capped while it is written ([`MAX_OUTPUT_BYTES`], in [`super`]).

/// The largest template override.
pub const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;
/// The deepest nesting of blocks (`for`, `if`, `macro`, …) or brackets in an override.
pub const MAX_DEPTH: usize = 32;
/// The longest `{{ … }}` or `{% … %}` tag in an override.
pub const MAX_TAG_BYTES: usize = 1024;
/// Loop iterations and macro calls allowed while one file is rendered from overrides.
pub const FUEL: u64 = 1_000_000;
/// The largest file a template may produce.
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;
/// The function the instrumented templates call once per loop iteration and macro call.
pub const FUEL_FN: &str = "__openim_init_fuel";
/// The most elements `range()` may produce.
pub const MAX_RANGE: i64 = 10_000;

/// A writer that refuses to hold more than [`MAX_OUTPUT_BYTES`].
#[derive(Default)]
pub struct Bounded {
    /// What was written.
    pub bytes: Vec<u8>,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            return Err(std::io::Error::other(format!(
                "the output would be larger than {} MiB",
                MAX_OUTPUT_BYTES >> 20
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Tera's `range(end, start=0, step_by=1)`, refusing more than [`MAX_RANGE`] elements.
///
/// # Errors
/// A missing or non-integer argument, a zero step, or a range too long.
pub fn range(args: &std::collections::HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let int = |k: &str, default: Option<i64>| -> tera::Result<i64> {
        match args.get(k) {
            Some(v) => v
                .as_i64()
                .ok_or_else(|| tera::Error::msg(format!("range: `{k}` must be an integer"))),
            None => default.ok_or_else(|| tera::Error::msg(format!("range: `{k}` is required"))),
        }
    };
    let (start, end, step) = (
        int("start", Some(0))?,
        int("end", None)?,
        int("step_by", Some(1))?,
    );
    if step <= 0 {
        return Err(tera::Error::msg("range: `step_by` must be positive"));
    }
    let span = (i128::from(end) - i128::from(start)).max(0);
    let count = (span + i128::from(step) - 1) / i128::from(step);
    if count > i128::from(MAX_RANGE) {
        return Err(tera::Error::msg(format!(
            "range: {count} elements; at most {MAX_RANGE} are allowed"
        )));
    }
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        out.push(tera::Value::from(i));
        i = i.saturating_add(step);
    }
    Ok(tera::Value::Array(out))
}

/// Check one override's text before it is parsed: size and nesting depth.
///
/// # Errors
/// What is wrong, for a message that names the template.
pub fn check_text(text: &str) -> Result<(), String> {
    // an expression's operators nest in the parser and the evaluator: bound them by its size
    if let Some(t) = tags(text).iter().find(|t| t.len > MAX_TAG_BYTES) {
        let (line, _) = crate::manifest::locate::line_col(text, t.end - t.len);
        return Err(format!(
            "the tag on line {line} is {} bytes long; at most {MAX_TAG_BYTES} are allowed",
            t.len
        ));
    }
    let mut depth: usize = 0;
    for tag in lex(text) {
        match tag {
            Piece::Open => depth += 1,
            Piece::Close => depth = depth.saturating_sub(1),
            Piece::Other => {}
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "blocks or brackets nest more than {MAX_DEPTH} deep"
            ));
        }
    }
    let mut brackets: usize = 0;
    for c in text.chars() {
        match c {
            '(' | '[' => brackets += 1,
            ')' | ']' => brackets = brackets.saturating_sub(1),
            _ => {}
        }
        if brackets > MAX_DEPTH {
            return Err(format!("brackets nest more than {MAX_DEPTH} deep"));
        }
    }
    Ok(())
}

/// What one tag of the template text does to the nesting.
enum Piece {
    /// A block tag that opens a body (`for`, `if`, …).
    Open,
    /// A tag that closes a block (`endfor`, …).
    Close,
    /// Anything else.
    Other,
}

/// One `{% … %}` or `{{ … }}` tag.
struct Tag {
    /// Byte offset just after it.
    end: usize,
    /// Its length in bytes.
    len: usize,
    /// The first word of a block tag (`for`, `endif`); empty for `{{ … }}`.
    word: String,
    /// Whether it ends in `-%}` (trims the whitespace after it).
    trims: bool,
}

/// The tags of `text` outside comments and `raw` blocks.
fn tags(text: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut raw = false;
    while let Some(start) = text[i..].find('{').map(|s| s + i) {
        let rest = &text[start..];
        let close = if rest.starts_with("{#") {
            "#}"
        } else if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            i = start + 1;
            continue;
        };
        let Some(len) = tag_len(rest, close) else {
            break; // unclosed: the parser reports it
        };
        let tag = &rest[..len];
        i = start + len;
        if close == "#}" || (raw && close == "}}") {
            continue;
        }
        if close == "}}" {
            out.push(Tag {
                end: i,
                len,
                word: String::new(),
                trims: false,
            });
            continue;
        }
        let inner = tag[2..len - 2].trim_matches('-').trim();
        let word = inner
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        if raw && word != "endraw" {
            continue;
        }
        raw = word == "raw";
        let trims = tag.ends_with("-%}");
        out.push(Tag {
            end: i,
            len,
            word,
            trims,
        });
    }
    out
}

/// The length of the tag at the start of `s` up to and including `close`, skipping quoted
/// strings inside it.
fn tag_len(s: &str, close: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(2) {
        match quote {
            Some(q) if c == q => quote = None,
            None if close != "#}" && matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None if s[i..].starts_with(close) => return Some(i + close.len()),
            Some(_) | None => {}
        }
    }
    None
}

fn lex(text: &str) -> impl Iterator<Item = Piece> {
    tags(text).into_iter().map(|t| match t.word.as_str() {
        "for" | "if" | "macro" | "block" | "filter" | "raw" => Piece::Open,
        w if w.starts_with("end") => Piece::Close,
        _ => Piece::Other,
    })
}

/// `text` with a call to [`FUEL_FN`] at the start of every `for` body and macro body. It
/// prints nothing and keeps the whitespace control of the tag it follows, so the output is
/// unchanged; no line is added, so error positions are unchanged.
#[must_use]
pub fn instrument(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut copied = 0;
    for Tag {
        end, word, trims, ..
    } in tags(text)
    {
        if word == "for" || word == "macro" {
            out.push_str(&text[copied..end]);
            let (open, close) = if trims { ("{{-", "-}}") } else { ("{{", "}}") };
            for piece in [open, " ", FUEL_FN, "() ", close] {
                out.push_str(piece);
            }
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrumenting_keeps_output_and_whitespace_control() {
        let t = "{% for x in xs -%}\n {{ x }}{% endfor %}{# {% for %} #}{% raw %}{% for y in z %}{% endraw %}";
        let i = instrument(t);
        assert_eq!(i.matches(FUEL_FN).count(), 1, "{i}");
        assert!(i.contains(&format!("-%}}{{{{- {FUEL_FN}() -}}}}")), "{i}");
        let m = instrument("{% macro m(a) %}{{ a }}{% endmacro %}{{ \"{% for\" }}");
        assert_eq!(m.matches(FUEL_FN).count(), 1, "{m}");
    }

    #[test]
    fn nesting_is_bounded() {
        assert!(check_text(&"{% if a %}".repeat(MAX_DEPTH)).is_ok());
        assert!(check_text(&"{% if a %}".repeat(MAX_DEPTH + 1)).is_err());
        assert!(check_text(&format!("{{{{ {}1 }}}}", "(".repeat(MAX_DEPTH + 1))).is_err());
    }
}
