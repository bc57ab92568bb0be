//! YAML for readers of every YAML version. YAML 1.2 serializers (`serde_norway` included) write
//! `no`, `on`, `y`, `3:4` or `2001-12-14` as plain scalars, which YAML 1.1 readers — docker-compose
//! 1.29's `PyYAML`, Kubernetes' go-yaml v2 — load as booleans, numbers or dates: the value
//! changes or the file is rejected. So every string here is double-quoted, with every
//! character a reader might not take literally written as an escape; keys stay plain only
//! when they cannot be misread. Block style, two-space indent. The text is written while serde
//! walks the typed structs (`ser`): no value tree in between.

use serde::Serialize;

/// The `serde::Serializer` methods every serializer here writes the same way, given a
/// `text(self, &str)` method and its own `serialize_i64`, `serialize_u64` and
/// `serialize_str`: booleans, narrower integers, floats, chars, `None`/unit as `null`, and
/// wrappers as what they wrap.
macro_rules! same_scalars {
    () => {
        fn serialize_bool(self, v: bool) -> Result<(), Error> {
            self.text(if v { "true" } else { "false" });
            Ok(())
        }
        fn serialize_i8(self, v: i8) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
        fn serialize_i16(self, v: i16) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
        fn serialize_i32(self, v: i32) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
        fn serialize_u8(self, v: u8) -> Result<(), Error> {
            self.serialize_u64(v.into())
        }
        fn serialize_u16(self, v: u16) -> Result<(), Error> {
            self.serialize_u64(v.into())
        }
        fn serialize_u32(self, v: u32) -> Result<(), Error> {
            self.serialize_u64(v.into())
        }
        fn serialize_f32(self, v: f32) -> Result<(), Error> {
            self.text(&serde_norway::Number::from(v).to_string());
            Ok(())
        }
        fn serialize_f64(self, v: f64) -> Result<(), Error> {
            self.text(&serde_norway::Number::from(v).to_string());
            Ok(())
        }
        fn serialize_char(self, v: char) -> Result<(), Error> {
            self.serialize_str(v.encode_utf8(&mut [0; 4]))
        }
        fn serialize_none(self) -> Result<(), Error> {
            self.text("null");
            Ok(())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), Error> {
            self.text("null");
            Ok(())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
            self.text("null");
            Ok(())
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
        ) -> Result<(), Error> {
            self.serialize_str(variant)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<(), Error> {
            value.serialize(self)
        }
    };
}

mod error;
mod key;
mod scalar;
mod ser;

pub use error::Error;
#[cfg(test)]
use scalar::printable;
use scalar::push_key;
pub use scalar::push_quote;
pub use ser::push_entry;

/// `value` as a YAML document (block style, every string double-quoted).
///
/// # Errors
/// The value has a shape with no YAML text here (bytes, an enum variant with data).
pub fn to_string(value: &impl Serialize) -> Result<String, Error> {
    let mut out = String::with_capacity(4096);
    push_document(&mut out, value)?;
    Ok(out)
}

/// Append [`to_string`]`(value)` to `out`.
///
/// # Errors
/// As [`to_string`].
///
/// # Panics
/// In test builds, when the text differs from the value-tree writer's (a bug here).
pub fn push_document(out: &mut String, value: &impl Serialize) -> Result<(), Error> {
    #[cfg(test)]
    let start = out.len();
    value.serialize(ser::ValueSer::top(out))?;
    #[cfg(test)]
    assert_eq!(out[start..], reference::to_string(value));
    Ok(())
}

/// A string as a YAML double-quoted scalar that every YAML reader takes literally.
#[must_use]
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quote(&mut out, s);
    out
}

/// The first writer, from `serde_norway`'s value tree: what [`to_string`] must write.
#[cfg(test)]
mod reference {
    use serde::Serialize;
    use serde_norway::{Mapping, Value};

    use super::{printable, push_key, quote};

    /// The first `quote`: a character at a time.
    pub fn quote_chars(s: &str) -> String {
        use std::fmt::Write as _;
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if printable(c) => out.push(c),
                c if u32::from(c) <= 0xFFFF => {
                    let _ = write!(out, "\\u{:04X}", u32::from(c));
                }
                c => {
                    let _ = write!(out, "\\U{:08X}", u32::from(c));
                }
            }
        }
        out.push('"');
        out
    }

    /// The first key writer.
    pub fn key_chars(k: &str) -> String {
        let plain = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
            && !matches!(
                k.to_ascii_lowercase().as_str(),
                "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
            );
        if plain { k.to_owned() } else { quote_chars(k) }
    }

    pub fn to_string(value: &impl Serialize) -> String {
        let v = serde_norway::to_value(value).expect("a value");
        let mut out = String::new();
        match &v {
            Value::Mapping(m) if !m.is_empty() => object(&mut out, m, 0),
            Value::Sequence(a) if !a.is_empty() => array(&mut out, a, 0),
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
        out
    }

    fn scalar(v: &Value) -> String {
        match v {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => quote(s),
            Value::Sequence(_) => "[]".to_owned(),
            Value::Mapping(_) => "{}".to_owned(),
            Value::Tagged(t) => format!("{} {}", t.tag, scalar(&t.value)),
        }
    }

    fn is_nested(v: &Value) -> bool {
        match v {
            Value::Sequence(a) => !a.is_empty(),
            Value::Mapping(m) => !m.is_empty(),
            _ => false,
        }
    }

    fn object(out: &mut String, m: &Mapping, indent: usize) {
        for (i, (k, v)) in m.iter().enumerate() {
            if !(i == 0 && out.ends_with("- ")) {
                out.push_str(&" ".repeat(indent));
            }
            match k {
                Value::String(k) => push_key(out, k),
                other => out.push_str(&scalar(other)),
            }
            out.push(':');
            match v {
                Value::Mapping(inner) if !inner.is_empty() => {
                    out.push('\n');
                    object(out, inner, indent + 2);
                }
                Value::Sequence(items) if !items.is_empty() => {
                    out.push('\n');
                    array(out, items, indent + 2);
                }
                other => {
                    out.push(' ');
                    out.push_str(&scalar(other));
                    out.push('\n');
                }
            }
        }
    }

    fn array(out: &mut String, items: &[Value], indent: usize) {
        for v in items {
            out.push_str(&" ".repeat(indent));
            out.push_str("- ");
            match v {
                Value::Mapping(m) if is_nested(v) => object(out, m, indent + 2),
                Value::Sequence(a) if is_nested(v) => {
                    out.push('\n');
                    array(out, a, indent + 2);
                }
                other => {
                    out.push_str(&scalar(other));
                    out.push('\n');
                }
            }
        }
    }
}

/// Compare [`to_string`] with the reference writer on `value`.
#[cfg(test)]
pub(crate) fn assert_same_as_reference(value: &impl Serialize) {
    let text = to_string(value).expect("yaml");
    assert_eq!(text, reference::to_string(value));
}

#[cfg(test)]
mod backends;

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings a YAML reader could take for something else.
    const HOSTILE: [&str; 21] = [
        "no",
        "on",
        "Off",
        "y",
        "3:4",
        "2001-12-14",
        "~",
        "null",
        "",
        "-1",
        "0x1",
        "1e3",
        "a\"b\\c",
        "tab\there",
        "\u{7f}\u{85}\u{2028}\u{feff}",
        "é😀",
        "- x",
        "#c",
        "&a *b !t",
        "<<",
        "=",
    ];

    #[test]
    fn strings_read_back_exactly_and_are_never_plain() {
        let hostile = HOSTILE;
        let doc = serde_json::json!({ "list": hostile, "map": { "no": "yes", "a b": ["x"] }, "e": [], "o": {} });
        let text = to_string(&doc).expect("yaml");
        let back: serde_json::Value = serde_norway::from_str(&text).expect("parses");
        assert_eq!(back, doc, "{text}");
        for h in hostile {
            assert!(text.contains(&quote(h)), "{h:?} not quoted in {text}");
        }
    }

    #[test]
    fn the_streaming_writer_writes_what_the_value_tree_writer_wrote() {
        let docs = [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!("x"),
            serde_json::json!(null),
            serde_json::json!([1, [], {}, [[1, 2], [3]], [{"a": 1}], {"b": [], "c": {}}]),
            serde_json::json!({"a": {"b": {"c": [1, {"d": [{"e": "f"}]}]}}, "no": true, "x y": -1.5, "é": 2.0}),
            serde_json::json!([{"a": [], "b": {}}, {"c": [[]]}]),
        ];
        for d in &docs {
            assert_same_as_reference(d);
        }
        let mut m = indexmap::IndexMap::new();
        m.insert(1, vec![Some("a"), None]);
        m.insert(2, Vec::new());
        assert_same_as_reference(&m);
        assert_same_as_reference(&(1u8, 'c', 0.5f32, ()));
        let keyed: indexmap::IndexMap<&str, [&str; 21]> =
            HOSTILE.iter().map(|h| (*h, HOSTILE)).collect();
        assert_same_as_reference(&keyed);
    }

    proptest::proptest! {
        #[test]
        fn quoting_a_run_at_a_time_quotes_as_a_character_at_a_time(
            s in "(\\PC|[\\x00-\\x7f\\u{85}\\u{a0}\\u{2028}\\u{feff}\\u{fffe}])*"
        ) {
            proptest::prop_assert_eq!(quote(&s), reference::quote_chars(&s));
            let mut key = String::new();
            push_key(&mut key, &s);
            proptest::prop_assert_eq!(key, reference::key_chars(&s));
        }
    }

    #[test]
    fn quoting_finds_a_special_character_anywhere_in_a_block() {
        for special in [
            "\"", "\\", "\u{7f}", "\u{1f}", "\n", "é", "\u{2028}", "\u{85}",
        ] {
            for at in 0..=40 {
                let s = format!("{}{special}{}", "a".repeat(at), "~".repeat(40 - at));
                assert_eq!(quote(&s), reference::quote_chars(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn keys_are_written_as_the_first_key_writer_wrote_them() {
        for k in [
            "y", "Y", "n", "YES", "No", "oN", "OFF", "True", "fAlSe", "NULL", "nulls", "yess",
            "of", "t", "f", "o", "_", "a-b.c/d", "9a", "-a", "a b", "é", "", "a:b",
        ] {
            let mut key = String::new();
            push_key(&mut key, k);
            assert_eq!(key, reference::key_chars(k), "{k:?}");
        }
    }

    #[test]
    fn sequences_of_mappings_nest() {
        let doc =
            serde_json::json!({ "c": [{ "name": "a", "ports": [{ "p": 1 }] }, { "name": "b" }] });
        let text = to_string(&doc).expect("yaml");
        assert_eq!(
            text,
            "c:\n  - name: \"a\"\n    ports:\n      - p: 1\n  - name: \"b\"\n"
        );
        let back: serde_json::Value = serde_norway::from_str(&text).expect("parses");
        assert_eq!(back, doc);
    }
}
