//! Deserializing a parsed document so that every schema problem is reported, not only the
//! first one serde meets. When the whole manifest does not deserialize, each entry of
//! `[services]`, `[external]` and `[groups]` is tried on its own, then each key of it, then
//! each element of a list or table value, and the errors at the deepest level are kept.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeString, DeTable, DeValue, ValueDeserializer};

use super::{ExternalSpec, GroupSpec, Manifest, ServiceSpec};

/// How deep refinement goes into nested lists and tables (the schema is at most 4 deep).
const MAX_DEPTH: usize = 8;

/// Parse and deserialize `text`. A syntax error is the only error returned for its file (the
/// parser cannot go on); schema errors are all returned, in file order.
pub(super) fn parse(text: &str) -> Result<Manifest, Vec<toml::de::Error>> {
    // the usual shape of a manifest is read straight from the text; anything else, and any
    // error, by `toml` (whose results and messages are the reference)
    match super::fast::parse(text) {
        Some(m) => Ok(m),
        None => parse_toml(text),
    }
}

/// [`parse`] by `toml` alone: a document tree first, then serde over it.
pub(super) fn parse_toml(text: &str) -> Result<Manifest, Vec<toml::de::Error>> {
    let document = || -> Result<_, Vec<toml::de::Error>> {
        let root = DeTable::parse(text).map_err(|e| vec![e])?;
        let span = root.span();
        Ok(Spanned::new(span, DeValue::Table(root.into_inner())))
    };
    // the common case consumes the tree; only a manifest with problems is parsed again
    let whole = match Manifest::deserialize(ValueDeserializer::from(document()?)) {
        Ok(m) => return Ok(m),
        Err(e) => e,
    };
    let root = document()?;
    let mut errors = Vec::new();
    table_errors::<Manifest>(&root, &mut errors, &|key, value, errors| match key {
        "defaults" => Some(table_errors::<ServiceSpec>(value, errors, &no_descent)),
        "services" => entries::<ServiceSpec>(value, errors),
        "external" => entries::<ExternalSpec>(value, errors),
        "groups" => entries::<GroupSpec>(value, errors),
        _ => None,
    });
    if errors.is_empty() {
        errors.push(whole);
    }
    errors.sort_by_key(|e| e.span().map_or(0, |s| s.start));
    errors.dedup_by(|a, b| a.span() == b.span() && a.message() == b.message());
    Err(errors)
}

fn de<'a, T: Deserialize<'a>>(v: &Spanned<DeValue<'a>>) -> Result<T, toml::de::Error> {
    T::deserialize(ValueDeserializer::from(v.clone()))
}

/// `missing field` reported for the table spanning `span` (not for a table inside it).
fn is_missing_here(e: &toml::de::Error, span: &Range<usize>) -> bool {
    e.message().starts_with("missing field") && e.span().as_ref() == Some(span)
}

/// How a key of a table is checked when it holds nested entries: `Some(ok)` when handled.
type Descend<'a> = dyn Fn(&str, &Spanned<DeValue<'a>>, &mut Vec<toml::de::Error>) -> Option<bool>;

fn no_descent(_: &str, _: &Spanned<DeValue<'_>>, _: &mut Vec<toml::de::Error>) -> Option<bool> {
    None
}

/// Each entry of a `[services]`-like table as a `T`; a non-table is left to the parent.
fn entries<'a, T: Deserialize<'a>>(
    value: &Spanned<DeValue<'a>>,
    errors: &mut Vec<toml::de::Error>,
) -> Option<bool> {
    let table = value.get_ref().as_table()?;
    let mut ok = true;
    for (_, entry) in table {
        ok &= table_errors::<T>(entry, errors, &no_descent);
    }
    Some(ok)
}

/// Collect the errors of deserializing `value` as `T`: key by key, then the keys that were
/// fine together (which finds missing required keys). Returns whether there were none.
fn table_errors<'a, T: Deserialize<'a>>(
    value: &Spanned<DeValue<'a>>,
    errors: &mut Vec<toml::de::Error>,
    descend: &Descend<'a>,
) -> bool {
    let Err(whole) = de::<T>(value) else {
        return true;
    };
    let Some(table) = value.get_ref().as_table() else {
        errors.push(whole);
        return false;
    };
    let span = value.span();
    let before = errors.len();
    let mut good = DeTable::new();
    for (key, item) in table {
        let fine = descend(key.get_ref(), item, errors).unwrap_or_else(|| {
            let mut steps = vec![Step::Key(key.clone())];
            refine::<T>(&mut steps, item, &span, errors, 0)
        });
        if fine {
            good.insert(key.clone(), item.clone());
        }
    }
    if let Err(e) = de::<T>(&Spanned::new(span.clone(), DeValue::Table(good))) {
        // a required key that is present but wrong was reported above
        let present = e
            .message()
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .is_some_and(|k| table.contains_key(k));
        if !present {
            errors.push(e);
        }
    }
    if errors.len() == before {
        errors.push(whole);
    }
    false
}

/// One step from a `T` down to a value: a key of a table, or an element of an array.
enum Step<'a> {
    Key(Spanned<DeString<'a>>),
    Elem,
}

/// The smallest `T` that holds `value` at `steps`: single-entry tables and arrays around it.
fn wrap<'a>(
    steps: &[Step<'a>],
    value: &Spanned<DeValue<'a>>,
    span: &Range<usize>,
) -> Spanned<DeValue<'a>> {
    let mut v = value.clone();
    for step in steps.iter().rev() {
        v = match step {
            Step::Key(k) => {
                let mut t = DeTable::new();
                t.insert(k.clone(), v);
                Spanned::new(span.clone(), DeValue::Table(t))
            }
            Step::Elem => {
                let mut a = DeArray::new();
                a.push(v);
                Spanned::new(span.clone(), DeValue::Array(a))
            }
        };
    }
    v
}

/// The errors of `value` at `steps` inside a `T` (whose table spans `span`), from the deepest
/// entries or elements that fail on their own. Returns whether there were none.
fn refine<'a, T: Deserialize<'a>>(
    steps: &mut Vec<Step<'a>>,
    value: &Spanned<DeValue<'a>>,
    span: &Range<usize>,
    errors: &mut Vec<toml::de::Error>,
    depth: usize,
) -> bool {
    let err = match de::<T>(&wrap(steps, value, span)) {
        Ok(_) => return true,
        // a required key of `T` itself: checked by the caller with all good keys together
        Err(e) if is_missing_here(&e, span) => return true,
        Err(e) => e,
    };
    let mut inner = Vec::new();
    if depth < MAX_DEPTH {
        match value.get_ref() {
            DeValue::Table(t) => {
                for (k, v) in t {
                    steps.push(Step::Key(k.clone()));
                    refine::<T>(steps, v, span, &mut inner, depth + 1);
                    steps.pop();
                }
            }
            DeValue::Array(a) => {
                for v in &**a {
                    steps.push(Step::Elem);
                    refine::<T>(steps, v, span, &mut inner, depth + 1);
                    steps.pop();
                }
            }
            _ => {}
        }
    }
    // an error at a wrapper (outside this value) means the value's own type is wrong
    let within = value.span();
    let located = |e: &toml::de::Error| {
        e.span()
            .is_some_and(|s| within.start <= s.start && s.end <= within.end)
    };
    if inner.is_empty() || !inner.iter().all(located) {
        errors.push(err);
    } else {
        errors.append(&mut inner);
    }
    false
}
