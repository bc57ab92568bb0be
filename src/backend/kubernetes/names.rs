//! Object names, labels and annotations. Kubernetes names are DNS labels (lowercase letters,
//! digits and `-`, at most 63, a Service's starting with a letter); the manifest's names may
//! hold capitals, `_` and `.`, so they are mapped (`Api_v2.x` → `api-v2-x`) and a name that
//! still does not fit, or two that map to the same, are refused. The manifest's own names
//! ride along as annotations.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::errors::Refusal;

/// Label: the workload (selectors match it).
pub const NAME: &str = "app.kubernetes.io/name";
/// Label: the service a workload runs (every named instance of it).
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// Label: the stack.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// Label: who wrote the object.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Annotation: the manifest's service or external name.
pub const ANNOTATION_SERVICE: &str = "openim-init.io/service";
/// Annotation: the manifest's instance name.
pub const ANNOTATION_INSTANCE: &str = "openim-init.io/instance";

/// The longest DNS label.
pub const MAX_LABEL: usize = 63;

/// [`dns`], borrowing `name` when it already is one.
#[must_use]
pub fn dns_cow(name: &str) -> Cow<'_, str> {
    if name
        .bytes()
        .any(|b| b == b'_' || b == b'.' || b.is_ascii_uppercase())
    {
        Cow::Owned(dns(name))
    } else {
        Cow::Borrowed(name)
    }
}

/// `name` as a DNS label: lowercase, `_` and `.` as `-`.
#[must_use]
pub fn dns(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Why `name` is not an RFC 1035 label (what a Service name must be), or `None`.
#[must_use]
pub fn label_problem(name: &str) -> Option<String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty() || name.len() > MAX_LABEL {
        Some(format!(
            "`{name}` is empty or longer than {MAX_LABEL} characters"
        ))
    } else if !ok_chars
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
    {
        Some(format!(
            "`{name}` is not a DNS label (a-z, 0-9 and -, starting with a letter, not ending with -)"
        ))
    } else {
        None
    }
}

/// The DNS label of `name`, written at `field`, or a refusal saying why there is none.
///
/// # Errors
/// The mapped name is not a DNS label.
pub fn object_name(field: &str, name: &str) -> Result<String, Refusal> {
    object_name_at(name, || field.to_owned())
}

/// [`object_name`], with the field made only for the refusal.
///
/// # Errors
/// The mapped name is not a DNS label.
pub fn object_name_at(name: &str, field: impl FnOnce() -> String) -> Result<String, Refusal> {
    let mapped = dns(name);
    match label_problem(&mapped) {
        None => Ok(mapped),
        Some(why) => Err(Refusal::new(
            field(),
            format!("Kubernetes names its objects by DNS label, and {why}"),
        )
        .hint("rename it: lowercase letters, digits and -, starting with a letter, at most 63 characters (52 for an instanced service)")),
    }
}

/// A few labels or annotations, in the order they are written: a list of pairs (there are at
/// most four, so neither hashing nor owned keys pay), serialized as a map; the values
/// borrow the plan's and the manifest's names where they can.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels<'a>(pub Vec<(&'static str, Cow<'a, str>)>);

impl<'a> Labels<'a> {
    /// No pairs (an empty map is not written: see [`Labels::is_empty`]).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends `key: value`.
    pub fn push(&mut self, key: &'static str, value: impl Into<Cow<'a, str>>) {
        self.0.push((key, value.into()));
    }
}

impl Serialize for Labels<'_> {
    /// A mapping written as a struct's: the keys are the program's own (a writer may
    /// remember how each is written).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Labels", self.0.len())?;
        for (k, v) in &self.0 {
            m.serialize_field(k, v)?;
        }
        m.end()
    }
}

/// The labels of every object of workload `name` (of service `component`) in the stack
/// whose [`stack_label`] is `stack`.
#[must_use]
pub fn labels<'a>(stack: &'a str, component: Cow<'a, str>, name: &'a str) -> Labels<'a> {
    let mut out = Labels(Vec::with_capacity(4));
    out.push(NAME, name);
    out.push(PART_OF, stack);
    out.push(COMPONENT, component);
    out.push(MANAGED_BY, "openim-init");
    out
}

/// The labels a workload's selector and Service match: the workload and the stack (its
/// [`stack_label`]).
#[must_use]
pub fn selector<'a>(stack: &'a str, name: &'a str) -> Labels<'a> {
    Labels(vec![(NAME, name.into()), (PART_OF, stack.into())])
}

/// The stack's name as a label value (at most 63 characters, ending with a letter or digit).
#[must_use]
pub fn stack_label(stack: &str) -> &str {
    let cut = match stack.char_indices().nth(MAX_LABEL) {
        Some((i, _)) => &stack[..i],
        None => stack,
    };
    cut.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
}

/// The annotations naming the manifest's service (and instance).
#[must_use]
pub fn annotations<'a>(service: &'a str, instance: Option<&'a str>) -> Labels<'a> {
    let mut out = Labels(Vec::with_capacity(2));
    out.push(ANNOTATION_SERVICE, service);
    if let Some(i) = instance {
        out.push(ANNOTATION_INSTANCE, i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_dns_labels_or_are_refused() {
        assert_eq!(
            object_name("f", "Worker_eu.1").expect("maps"),
            "worker-eu-1"
        );
        assert!(object_name("f", "1st").is_err());
        assert!(object_name("f", "x-").is_err());
        assert!(object_name("f", &"a".repeat(64)).is_err());
        assert_eq!(stack_label("full-"), "full");
    }
}
