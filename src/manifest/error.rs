//! Manifest errors: where (file:line:col), which field, what is wrong, and a hint.

use std::fmt;

use super::locate::{FieldPath, Locator};

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's file name as given by the user.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// The field path, e.g. `services.openim-api.requires[0]`; empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// The offending source line.
    pub snippet: String,
}

impl ManifestError {
    /// An error at `path`, located through `loc`.
    #[must_use]
    pub fn at(
        file: &str,
        loc: &Locator<'_>,
        path: &FieldPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        let span = loc.span(path);
        let (line, col) = loc.line_col(span.start);
        Self {
            file: file.to_owned(),
            line,
            col,
            field: path.to_string(),
            message: message.into(),
            hint,
            snippet: loc.line_text(span.start).to_owned(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if !self.snippet.is_empty() {
            let caret = " ".repeat(self.col.saturating_sub(1));
            write!(f, "\n  | {}\n  | {caret}^", self.snippet)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  = hint: {h}")?;
        }
        Ok(())
    }
}

/// All problems found in a manifest (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl From<ManifestError> for ManifestErrors {
    fn from(e: ManifestError) -> Self {
        Self(vec![e])
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {e}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} errors in the manifest", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestErrors {}

/// Turn a TOML parse/deserialize error into a located manifest error with a hint.
pub(crate) fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> ManifestError {
    let loc = Locator::new(text);
    let offset = err.span().map_or(0, |s| s.start);
    let (line, col) = loc.line_col(offset);
    let path = loc.path_at(offset);
    let raw = err.message().trim().to_owned();
    let (message, hint) = explain(&raw, &path);
    ManifestError {
        file: file.to_owned(),
        line,
        col,
        field: path.to_string(),
        message,
        hint,
        snippet: loc.line_text(offset).to_owned(),
    }
}

/// Reword serde's messages and add a hint ("did you mean", the expected shape).
fn explain(raw: &str, path: &FieldPath) -> (String, Option<String>) {
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let (unknown, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<&str> = tail
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| !s.is_empty())
            .collect();
        let best = expected
            .iter()
            .map(|e| (strsim::jaro_winkler(unknown, e), *e))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, e)| e);
        let hint = match best {
            Some(b) => format!("did you mean `{b}`?"),
            None => format!("known keys here: {}", expected.join(", ")),
        };
        return (format!("unknown key `{unknown}`"), Some(hint));
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let hint = match field {
            "name" => "add `name = \"openim\"` at the top of the file".to_owned(),
            "check" => "add e.g. `check = { tcp = \"127.0.0.1:9092\" }`".to_owned(),
            "services" => "add `services = [\"a\", \"b\"]`".to_owned(),
            _ => format!("add `{field} = ...` to this table"),
        };
        return (format!("missing required key `{field}`"), Some(hint));
    }
    if raw.starts_with("invalid type") {
        let hint = path.0.last().and_then(|s| match s {
            super::locate::Seg::Key(k) => type_hint(k),
            super::locate::Seg::Index(_) => None,
        });
        return (raw.to_owned(), hint.map(str::to_owned));
    }
    if raw.starts_with("unknown variant") {
        return (raw.to_owned(), None);
    }
    (raw.to_owned(), None)
}

fn type_hint(key: &str) -> Option<&'static str> {
    Some(match key {
        "command" | "exec" => {
            r#"an argv array: command = ["/opt/openim/bin/openim-api", "-c", "/etc/openim/config/"]"#
        }
        "pre_start" => {
            r#"a list of argv arrays: pre_start = [["/bin/mkdir", "-p", "/data/openim"]]"#
        }
        "restart_delay" | "stop_timeout" | "interval" | "timeout" | "wait_timeout" => {
            r#"durations are strings: "500ms", "5s", "2min", "1h""#
        }
        "instances" => r#"a count (instances = 4) or names (instances = ["a", "b"])"#,
        "environment" => r#"a table of strings: environment = { KEY = "value" }"#,
        "requires" | "wants" | "after" | "before" | "services" => {
            r#"a list of names: requires = ["kafka", "openim-rpc-user"]"#
        }
        "success_exit_codes" => "a list of integers: success_exit_codes = [255]",
        _ => return None,
    })
}
