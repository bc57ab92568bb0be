//! The JSON Schema of the manifest (`openim-init manifest schema`), derived from the serde
//! types, so editors (taplo / Even Better TOML through a `#:schema` directive) complete and
//! check manifests. The scalar types that parse themselves say here what they accept.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::Manifest;
use super::values::{ByteSize, Duration, Instances, SIGNALS, Signal};

/// The manifest's JSON Schema (draft 2020-12), pretty-printed.
#[must_use]
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Manifest);
    schema.insert("title".into(), "openim-init stack manifest".into());
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// A duration: numbers with units, e.g. "5s", "2min", "1h30min", "250ms".
const DURATION_PATTERN: &str =
    r"^\s*([0-9]+\s*(ms|s|sec|secs|m|min|mins|h|hr|hour|hours|d|day|days)\s*)+$";

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration such as \"5s\", \"2min\", \"1h30min\" or \"250ms\" (at most 30 days).",
            "examples": ["5s", "20s", "2min"]
        })
    }
}

impl JsonSchema for Signal {
    fn schema_name() -> Cow<'static, str> {
        "Signal".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<String> = SIGNALS
            .iter()
            .map(|s| format!("({})?{}", any_case("SIG"), any_case(&s[3..])))
            .collect();
        json_schema!({
            "type": "string",
            "pattern": format!("^({})$", names.join("|")),
            "description": format!("A stop signal, with or without SIG, any case: {}.", SIGNALS.join(", "))
        })
    }
}

impl JsonSchema for Instances {
    fn schema_name() -> Cow<'static, str> {
        "Instances".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A count (instances 0..N-1, at most 256) or a list of instance names.",
            "oneOf": [
                { "type": "integer", "minimum": 1, "maximum": 256 },
                {
                    "type": "array",
                    "items": { "type": "string", "pattern": "^[A-Za-z0-9_-]+$" },
                    "minItems": 1,
                    "maxItems": 256,
                    "uniqueItems": true
                }
            ]
        })
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size in bytes, or with a unit K, M, G or T: \"512M\", \"2G\".",
            "oneOf": [
                { "type": "integer", "minimum": 1 },
                { "type": "string", "pattern": r"^\s*[0-9]+[KMGTkmgt]?\s*$" }
            ]
        })
    }
}

/// A pattern matching `word` (letters and digits) in any case, without inline flags
/// (JSON Schema patterns are ECMA-262, which has none).
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_every_table_and_denies_unknown_keys() {
        let text = json_schema();
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["additionalProperties"], serde_json::json!(false));
        for key in ["name", "defaults", "external", "services", "groups"] {
            assert!(v["properties"].get(key).is_some(), "{key}");
        }
        assert!(
            text.contains("\"Duration\""),
            "durations are described once"
        );
    }
}
