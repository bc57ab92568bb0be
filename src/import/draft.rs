//! The manifest an importer assembles, and its writer: TOML laid out like the README's
//! example (top-level keys, then `[defaults]`, `[external.X]`, `[services.X]`,
//! `[groups.X]`, one `key = inline value` a line), with comments where a person must
//! decide something.

use std::fmt::Write as _;

use toml::Value;

/// A manifest being assembled.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The stack name.
    pub name: String,
    /// The stack description.
    pub description: Option<String>,
    /// Comments at the top of the file.
    pub comments: Vec<String>,
    /// `[defaults]` (written only when it has keys).
    pub defaults: Entry,
    /// `[external.X]` tables.
    pub externals: Vec<Entry>,
    /// `[services.X]` tables.
    pub services: Vec<Entry>,
    /// `[groups.X]` tables.
    pub groups: Vec<Entry>,
}

impl Draft {
    /// The service named `name`.
    pub fn service_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.services.iter_mut().find(|e| e.name == name)
    }

    /// The external named `name`, added when missing.
    pub fn external_mut(&mut self, name: &str) -> &mut Entry {
        if let Some(i) = self.externals.iter().position(|e| e.name == name) {
            &mut self.externals[i]
        } else {
            self.externals.push(Entry::new(name));
            let last = self.externals.len() - 1;
            &mut self.externals[last]
        }
    }
}

/// One table: its keys in order, comments above it and above single keys.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// `NAME` of `[services.NAME]`.
    pub name: String,
    /// Comment lines above the table header.
    pub comments: Vec<String>,
    /// The keys, in the order they are written.
    pub table: toml::Table,
    /// Comment lines above a key: (key, comment).
    pub key_comments: Vec<(String, String)>,
}

impl Entry {
    /// An empty table named `name`.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// Set `key` (replacing an earlier value).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.table.insert(key.to_owned(), value.into());
    }

    /// A string value of `key`.
    #[must_use]
    pub fn str(&self, key: &str) -> Option<&str> {
        self.table.get(key).and_then(Value::as_str)
    }

    /// Append `item` to the array `key` (created when missing) unless it is there.
    pub fn push_unique(&mut self, key: &str, item: impl Into<Value>) {
        let item = item.into();
        let entry = self
            .table
            .entry(key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry
            && !a.contains(&item)
        {
            a.push(item);
        }
    }

    /// Set `sub` inside the inline table `key` (created when missing).
    pub fn set_in(&mut self, key: &str, sub: &str, value: impl Into<Value>) {
        let entry = self
            .table
            .entry(key.to_owned())
            .or_insert_with(|| Value::Table(toml::Table::new()));
        if let Value::Table(t) = entry {
            t.insert(sub.to_owned(), value.into());
        }
    }

    /// Put the keys of a service table in the README's order.
    pub fn sort_keys(&mut self) {
        let mut sorted = toml::Table::new();
        for k in ORDER {
            if let Some(v) = self.table.remove(*k) {
                sorted.insert((*k).to_owned(), v);
            }
        }
        sorted.extend(std::mem::take(&mut self.table));
        self.table = sorted;
    }

    /// A comment above `key`, for a person to decide.
    pub fn comment(&mut self, key: &str, text: impl Into<String>) {
        self.key_comments.push((key.to_owned(), text.into()));
    }
}

/// The keys of a service table in the README's order.
const ORDER: &[&str] = &[
    "description",
    "command",
    "instances",
    "environment",
    "environment_file",
    "user",
    "group",
    "working_dir",
    "restart",
    "restart_delay",
    "start_limit",
    "stop_signal",
    "stop_timeout",
    "success_exit_codes",
    "limits",
    "logs",
    "requires",
    "wants",
    "after",
    "before",
    "health",
    "pre_start",
];

/// An argv as a TOML array.
#[must_use]
pub fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String(s.as_ref().to_owned()))
            .collect(),
    )
}

/// A key, bare when TOML allows it.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

/// A value on one line (arrays and tables inline).
fn inline(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
        other => other.to_string(),
    }
}

fn comment_lines(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {line}");
    }
}

fn table(out: &mut String, header: &str, e: &Entry) {
    out.push('\n');
    for c in &e.comments {
        comment_lines(out, c);
    }
    let _ = writeln!(out, "[{header}]");
    for (k, v) in &e.table {
        for (_, c) in e.key_comments.iter().filter(|(ck, _)| ck == k) {
            comment_lines(out, c);
        }
        let _ = writeln!(out, "{} = {}", key(k), inline(v));
    }
}

/// The manifest text of `d`.
#[must_use]
pub fn write(d: &Draft) -> String {
    let mut out = String::new();
    for c in &d.comments {
        comment_lines(&mut out, c);
    }
    let _ = writeln!(out, "name = {}", Value::String(d.name.clone()));
    if let Some(desc) = &d.description {
        let _ = writeln!(out, "description = {}", Value::String(desc.clone()));
    }
    if !d.defaults.table.is_empty() {
        table(&mut out, "defaults", &d.defaults);
    }
    for (kind, list) in [
        ("external", &d.externals),
        ("services", &d.services),
        ("groups", &d.groups),
    ] {
        for e in list {
            table(&mut out, &format!("{kind}.{}", key(&e.name)), e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_readable_valid_toml() {
        let mut svc = Entry::new("api");
        svc.set("command", strings(&["/bin/api", "it's \"x\"", "a\\b"]));
        svc.set_in("limits", "nofile", 1024);
        svc.comment("command", "check the path");
        let d = Draft {
            name: "s".into(),
            services: vec![svc],
            ..Draft::default()
        };
        let text = write(&d);
        assert!(
            text.contains("[services.api]\n# check the path\ncommand = ["),
            "{text}"
        );
        assert!(text.contains("limits = { nofile = 1024 }"), "{text}");
        let back: toml::Table = toml::from_str(&text).unwrap_or_default();
        assert_eq!(
            back["services"]["api"]["command"][1].as_str(),
            Some("it's \"x\"")
        );
    }
}
