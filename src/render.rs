//! Templates: the embedded defaults (`templates/<backend>/*.tera`), user overrides and
//! rendering. Escaping never happens here: backends hand templates values that are already
//! quoted for their syntax (see [`crate::escape`]), so an override cannot forget it.

mod facts;
mod guard;
pub mod native;
pub mod overrides;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::errors::usage::UsageError;

pub use guard::{FUEL, MAX_DEPTH, MAX_OUTPUT_BYTES, MAX_TEMPLATE_BYTES};
pub use native::Native;

/// The stack of the thread that renders with overrides.
const OVERRIDE_STACK: usize = 64 << 20;

/// A set of templates ready to render.
pub struct Templates {
    /// Compiled on first use: without overrides the [`Native`] writers render everything.
    tera: OnceLock<tera::Tera>,
    /// Every template's source (overrides instrumented by [`guard`]).
    sources: BTreeMap<String, String>,
    /// The names that were overridden (rendered under the limits of [`guard`]).
    overridden: BTreeSet<String>,
    /// Loop iterations and macro calls left for the file being rendered.
    fuel: Arc<AtomicU64>,
    /// Whether templates that are not overridden render through [`Native`] (else tera).
    native: bool,
}

impl Templates {
    /// The `embedded` templates (name → text, as every backend lists them) with some
    /// replaced by name (`systemd/service.tera` → text).
    ///
    /// # Errors
    /// An override names no embedded template, does not parse, or is refused by the checks
    /// that keep it from crashing the process (see `guard`): a [`UsageError`] naming it.
    pub fn new(
        embedded: &[(&'static str, &'static str)],
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self> {
        let refuse = |name: &str, what: &str| -> anyhow::Error {
            UsageError(format!("template override {name}: {what}")).into()
        };
        let mut sources: BTreeMap<String, String> = embedded
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let mut facts = BTreeMap::new();
        for (name, text) in overrides {
            if !sources.contains_key(name) {
                let known: Vec<&str> = embedded.iter().map(|(n, _)| *n).collect();
                return Err(UsageError(format!(
                    "template override `{name}` replaces nothing; known templates: {}",
                    known.join(", ")
                ))
                .into());
            }
            guard::check_text(text).map_err(|e| refuse(name, &e))?;
            let parsed = tera::Template::new(name, None, text)
                .map_err(|e| refuse(name, &format!("does not parse: {}", error_chain(&e))))?;
            facts.insert(name.clone(), facts::facts(&parsed));
            sources.insert(name.clone(), guard::instrument(text));
        }
        if !overrides.is_empty() {
            for (name, text) in embedded {
                if !facts.contains_key(*name) {
                    let parsed = tera::Template::new(name, None, text)?;
                    facts.insert((*name).to_owned(), facts::facts(&parsed));
                }
            }
            facts::check_set(&facts).map_err(|(name, what)| refuse(&name, &what))?;
        }
        let fuel = Arc::new(AtomicU64::new(FUEL));
        let tera = OnceLock::new();
        if !overrides.is_empty() {
            // an override that does not compile is an error now, before anything renders
            let _ = tera.set(compile(&sources, &fuel)?);
        }
        Ok(Self {
            tera,
            sources,
            overridden: overrides.keys().cloned().collect(),
            fuel,
            native: true,
        })
    }

    /// The same templates, every one rendered by tera, overridden or not: what proves that
    /// the [`Native`] writers produce the embedded templates' bytes.
    #[must_use]
    pub fn through_tera(mut self) -> Self {
        self.native = false;
        self
    }

    /// Render template `name` with `context`: by its [`Native`] writer unless an override
    /// replaces the template.
    ///
    /// # Errors
    /// The template fails (unknown variable in an override, …).
    pub fn render(&self, name: &str, context: &impl Native) -> Result<String> {
        if self.is_native(name) {
            let mut out = String::with_capacity(context.size_hint());
            context.write_native(&mut out);
            return Ok(out);
        }
        self.render_tera(name, context)
    }

    /// Whether template `name` renders through its [`Native`] writer (not overridden).
    #[must_use]
    pub fn is_native(&self, name: &str) -> bool {
        self.native && !self.overridden.contains(name)
    }

    /// [`Self::render`] appended to `out` (straight from the [`Native`] writer, without a
    /// string of its own, when the template is not overridden).
    ///
    /// # Errors
    /// As [`Self::render`].
    pub fn render_into(&self, name: &str, context: &impl Native, out: &mut String) -> Result<()> {
        if self.is_native(name) {
            context.write_native(out);
        } else {
            out.push_str(&self.render_tera(name, context)?);
        }
        Ok(())
    }

    fn render_tera(&self, name: &str, context: &impl Serialize) -> Result<String> {
        if self.tera.get().is_none() {
            let _ = self.tera.set(compile(&self.sources, &self.fuel)?);
        }
        let Some(tera) = self.tera.get() else {
            unreachable!("set above")
        };
        let ctx = tera::Context::from_serialize(context).context("template context")?;
        self.fuel.store(FUEL, Ordering::Relaxed);
        let render = || {
            let mut out = guard::Bounded::default();
            tera.render_to(name, &ctx, &mut out).map(|()| out.bytes)
        };
        let rendered = if self.overridden.is_empty() {
            render()
        } else {
            // overrides are bounded in depth; a roomy stack is the margin on top
            std::thread::scope(|s| {
                std::thread::Builder::new()
                    .name("template".into())
                    .stack_size(OVERRIDE_STACK)
                    .spawn_scoped(s, render)
                    .map_err(|e| tera::Error::msg(format!("starting the renderer: {e}")))?
                    .join()
                    .unwrap_or_else(|_| Err(tera::Error::msg("the renderer panicked")))
            })
        };
        match rendered {
            Ok(bytes) => String::from_utf8(bytes).context("a template produced invalid UTF-8"),
            // an override the user wrote is the user's mistake: a usage error naming it
            Err(e) if !self.overridden.is_empty() => Err(UsageError(format!(
                "rendering template {name} (--templates overrides it or what it includes): {}",
                error_chain(&e)
            ))
            .into()),
            Err(e) => Err(anyhow::anyhow!("{}", error_chain(&e)))
                .with_context(|| format!("rendering template {name}")),
        }
    }
}

/// Compile `sources` with the guard's functions (fuel shared with the [`Templates`]).
fn compile(sources: &BTreeMap<String, String>, fuel: &Arc<AtomicU64>) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .map_err(|e| UsageError(format!("a template does not parse: {}", error_chain(&e))))?;
    let left = Arc::clone(fuel);
    tera.register_function(
        guard::FUEL_FN,
        move |_: &std::collections::HashMap<String, tera::Value>| {
            let ok = left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
            if ok {
                Ok(tera::Value::String(String::new()))
            } else {
                Err(tera::Error::msg(format!(
                    "more than {FUEL} loop iterations and macro calls for one file"
                )))
            }
        },
    );
    tera.register_function("range", guard::range);
    Ok(tera)
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
