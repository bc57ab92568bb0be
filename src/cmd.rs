//! The commands: load, validate, render, then hand the artifacts to a sink. With
//! [`crate::output`] the only place that touches the outside world; one file per command.

pub mod backends;
pub mod detect;
mod generate;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::backend::{
    self, Artifact, BackendKind, Flags, RenderContext, Rendered, launchd, supervisord,
};
use crate::cli::{Cli, Command, ManifestArg, ManifestCommand, RenderArgs, TemplatesCommand};
use crate::errors::{Error, Result};
use crate::manifest::BUILTIN_OPENIM;
use crate::model::Model;
use crate::output;
use crate::render::Templates;

/// Run a parsed command line.
///
/// # Errors
/// Any failure; [`Error::exit_code`] maps it to an exit code.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate::generate(&args),
        Command::Validate(args) => generate::validate(&args),
        Command::Verify(args) => {
            let (kind, rendered) = render_for(&args.render)?;
            generate::verify(kind, &rendered)
        }
        Command::Backends(args) => backends::backends(&args),
        Command::Detect(args) => Ok(detect::run(&args)?),
        Command::Manifest(ManifestCommand::Show) => {
            print!("{BUILTIN_OPENIM}");
            Ok(())
        }
        Command::Templates(TemplatesCommand::List) => {
            for (name, _) in backend::embedded_templates() {
                println!("{name}");
            }
            Ok(())
        }
        Command::Templates(TemplatesCommand::Dump { dir }) => {
            // the same safe sink as `generate --out`: atomic, and never over an edited file
            let artifacts: Vec<Artifact> = backend::embedded_templates()
                .iter()
                .map(|(name, text)| Artifact::file(*name, 0o644, *text))
                .collect();
            for line in output::write_all(&dir, &artifacts, false)? {
                println!("{line}");
            }
            Ok(())
        }
    }
}

/// Read and validate the manifest (or the built-in one).
///
/// # Errors
/// The file cannot be read, or the manifest is invalid ([`Error::Manifest`]).
pub fn load_model(arg: &ManifestArg) -> Result<Model> {
    match &arg.manifest {
        None => Ok(Model::from_toml("<built-in openim.toml>", BUILTIN_OPENIM)?),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading manifest {}", path.display()))?;
            Ok(Model::from_toml(&path.display().to_string(), &text)?)
        }
    }
}

fn load_templates(dir: Option<&Path>) -> Result<Templates> {
    let mut overrides = BTreeMap::new();
    if let Some(dir) = dir {
        for (name, _) in backend::embedded_templates() {
            let path = dir.join(name);
            if path.exists() {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading template {}", path.display()))?;
                overrides.insert(name.to_owned(), text);
            }
        }
        if overrides.is_empty() {
            return Err(Error::usage(format!(
                "{} holds no template overrides (expected e.g. {}/systemd/service.tera)",
                dir.display(),
                dir.display()
            )));
        }
    }
    backend::templates(&overrides)
}

/// The backend-specific flags given on the command line.
fn flags(args: &RenderArgs) -> Flags {
    let mut flags = Flags::default();
    if args.standalone {
        flags.0.insert(supervisord::STANDALONE, String::new());
    }
    if let Some(p) = &args.label_prefix {
        flags.0.insert(launchd::LABEL_PREFIX, p.clone());
    }
    flags
}

/// Load, validate and render for the chosen backend; print warnings; apply `--strict`.
fn render_for(args: &RenderArgs) -> Result<(BackendKind, Rendered)> {
    let kind = args.backend;
    let flags = flags(args);
    kind.check_flags(&flags)?;
    let model = load_model(&args.manifest)?;
    let templates = load_templates(args.templates.as_deref())?;
    let ctx = RenderContext {
        templates: &templates,
        flags: &flags,
    };
    let rendered = backend::render(kind, &model, &ctx)?;
    if args.strict && !rendered.warnings.is_empty() {
        return Err(Error::Strict(rendered.warnings));
    }
    let mut err = std::io::stderr().lock();
    for w in &rendered.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    Ok((kind, rendered))
}
