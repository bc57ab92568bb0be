//! The commands: load, validate, render, then hand the artifacts to a sink. The only module
//! besides [`crate::output`] and [`crate::verify`] that touches the outside world.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::backend::{self, Backend, RenderContext, RenderOptions, Rendered, capability};
use crate::cli::{
    BackendsArgs, Cli, Command, GenerateArgs, ManifestArg, ManifestCommand, RenderArgs,
    TemplatesCommand,
};
use crate::errors::{StrictError, UsageError};
use crate::manifest::BUILTIN_OPENIM;
use crate::model::Model;
use crate::render::{EMBEDDED, Templates};
use crate::{output, stdout, verify};

/// Run a parsed command line.
///
/// # Errors
/// Any failure; [`crate::errors::exit_code`] maps it to an exit code.
pub fn run(cli: Cli) -> Result<()> {
    let result = dispatch(cli);
    // a full disk shows at the flush; the command's own error, if any, matters more
    let flushed = stdout::flush();
    result?;
    Ok(flushed?)
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate(&args),
        Command::Validate(args) => validate(&args),
        Command::Verify(args) => {
            let (backend, rendered) = render_for(&args.render)?;
            verify::run(backend, &rendered)
        }
        Command::Backends(args) => backends(&args),
        Command::Manifest(ManifestCommand::Show) => Ok(stdout::write_str(BUILTIN_OPENIM)?),
        Command::Templates(TemplatesCommand::List) => {
            for (name, _) in EMBEDDED {
                stdout::line(name)?;
            }
            Ok(())
        }
        Command::Templates(TemplatesCommand::Dump { dir, force }) => {
            // the same safe sink as `generate --out`: atomic, and never over an edited file
            let artifacts: Vec<crate::backend::Artifact> = EMBEDDED
                .iter()
                .map(|(name, text)| crate::backend::Artifact {
                    path: (*name).to_owned(),
                    mode: 0o644,
                    contents: (*text).to_owned(),
                })
                .collect();
            for line in output::write_all(&dir, &artifacts, force)? {
                stdout::line(line)?;
            }
            Ok(())
        }
    }
}

/// Read and validate the manifest (or the built-in one).
///
/// # Errors
/// The file cannot be read, or the manifest is invalid ([`crate::manifest::ManifestErrors`]).
pub fn load_model(arg: &ManifestArg) -> Result<Model> {
    match &arg.manifest {
        None => Ok(Model::from_toml("<built-in openim.toml>", BUILTIN_OPENIM)?),
        Some(path) => {
            let (name, text) = crate::manifest::read_manifest(path)?;
            Ok(Model::from_toml(&name, &text)?)
        }
    }
}

fn backend_named(name: &str) -> Result<&'static dyn Backend> {
    backend::by_name(name).ok_or_else(|| {
        let known: Vec<&str> = backend::all().iter().map(|b| b.name()).collect();
        UsageError(format!(
            "unknown backend `{name}`; available: {}",
            known.join(", ")
        ))
        .into()
    })
}

fn load_templates(dir: Option<&Path>) -> Result<Templates> {
    match dir {
        Some(dir) => Templates::with_overrides(&crate::render::overrides::load(dir)?),
        None => Templates::embedded(),
    }
}

/// Load, validate and render for the chosen backend; print warnings; apply `--strict`.
fn render_for(args: &RenderArgs) -> Result<(&'static dyn Backend, Rendered)> {
    let backend = backend_named(&args.backend)?;
    let model = load_model(&args.manifest)?;
    let templates = load_templates(args.templates.as_deref())?;
    let options = RenderOptions {
        standalone: args.standalone,
        label_prefix: args.label_prefix.clone(),
    };
    let rendered = backend::render(
        backend,
        &model,
        &RenderContext {
            templates: &templates,
            options: &options,
        },
    )?;
    if args.strict && !rendered.warnings.is_empty() {
        return Err(StrictError(rendered.warnings).into());
    }
    for w in &rendered.warnings {
        stdout::diag(format_args!("warning: {w}"));
    }
    Ok((backend, rendered))
}

fn generate(args: &GenerateArgs) -> Result<()> {
    let (_, rendered) = render_for(&args.render)?;
    match &args.out {
        None => stdout::write_str(&output::to_text(&rendered.artifacts))?,
        Some(dir) => {
            let written = output::write_all(dir, &rendered.artifacts, args.force)?;
            for w in written {
                stdout::line(w)?;
            }
        }
    }
    for note in &rendered.notes {
        stdout::diag(format_args!("note: {note}"));
    }
    Ok(())
}

fn validate(args: &ManifestArg) -> Result<()> {
    let model = load_model(args)?;
    let instances: usize = model
        .services
        .iter()
        .map(|s| s.instances.as_ref().map_or(1, Vec::len))
        .sum();
    stdout::line(format_args!(
        "ok: stack `{}`: {} services ({instances} processes), {} externals, {} groups",
        model.name,
        model.services.len(),
        model.externals.len(),
        model.groups.len()
    ))?;
    let order: Vec<&str> = model
        .start_order()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    stdout::line(format_args!("start order: {}", order.join(" → ")))?;
    Ok(())
}

fn backends(args: &BackendsArgs) -> Result<()> {
    if args.json {
        let report: Vec<serde_json::Value> = backend::all()
            .iter()
            .map(|b| {
                let features: serde_json::Map<String, serde_json::Value> = crate::backend::Feature::ALL
                    .iter()
                    .map(|f| (f.key().to_owned(), serde_json::to_value(capability::support(*b, *f)).unwrap_or_default()))
                    .collect();
                serde_json::json!({ "name": b.name(), "summary": b.summary(), "features": features })
            })
            .collect();
        stdout::line(serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    let mut out = String::new();
    for b in backend::all() {
        let _ = writeln!(out, "{:<12} {}", b.name(), b.summary());
    }
    let os = os_info::get();
    match backend::suggested_for(os.os_type()) {
        Some(b) => {
            let _ = writeln!(out, "\nthis machine: {os} → most likely `--backend {b}`");
        }
        None => {
            let _ = writeln!(
                out,
                "\nthis machine: {os} (no usual init system known; supervisord runs anywhere)"
            );
        }
    }
    let _ = writeln!(out, "\ncapabilities (native / emulated / unsupported):");
    let _ = write!(out, "{:<20}", "feature");
    for b in backend::all() {
        let _ = write!(out, " {:<12}", b.name());
    }
    out.push('\n');
    for f in crate::backend::Feature::ALL {
        let _ = write!(out, "{:<20}", f.key());
        for b in backend::all() {
            let _ = write!(out, " {:<12}", capability::support(*b, *f).label());
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nhow emulated features work and what unsupported ones lose:"
    );
    for b in backend::all() {
        for (f, s) in b.capabilities() {
            match s {
                crate::backend::Support::Native => {}
                crate::backend::Support::Emulated(how)
                | crate::backend::Support::Unsupported(how) => {
                    let _ = writeln!(out, "  {}: {} ({}): {how}", b.name(), f.key(), s.label());
                }
            }
        }
    }
    stdout::write_str(&out)?;
    Ok(())
}
