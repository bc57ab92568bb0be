//! Templates: the embedded defaults (`templates/<backend>/*.tera`), user overrides and
//! rendering. Escaping never happens here: backends hand templates values that are already
//! quoted for their syntax (see [`crate::escape`]), so an override cannot forget it.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use serde::Serialize;

/// A set of templates ready to render.
pub struct Templates {
    tera: tera::Tera,
}

impl Templates {
    /// The `embedded` templates (name → text, as every backend lists them) with some
    /// replaced by name (`systemd/service.tera` → text).
    ///
    /// # Errors
    /// An override names no embedded template, or does not parse.
    pub fn new(
        embedded: &[(&'static str, &'static str)],
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self> {
        for name in overrides.keys() {
            if !embedded.iter().any(|(n, _)| n == name) {
                let known: Vec<&str> = embedded.iter().map(|(n, _)| *n).collect();
                anyhow::bail!(
                    "template override `{name}` replaces nothing; known templates: {}",
                    known.join(", ")
                );
            }
        }
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![]);
        let sources = embedded.iter().map(|(name, text)| {
            let text = overrides.get(*name).map_or(*text, String::as_str);
            (*name, text)
        });
        tera.add_raw_templates(sources)
            .context("a template does not parse")?;
        Ok(Self { tera })
    }

    /// Render template `name` with `context`.
    ///
    /// # Errors
    /// The template fails (unknown variable in an override, …).
    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String> {
        let ctx = tera::Context::from_serialize(context).context("template context")?;
        self.tera
            .render(name, &ctx)
            .map_err(|e| anyhow::anyhow!("{}", error_chain(&e)))
            .with_context(|| format!("rendering template {name}"))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
