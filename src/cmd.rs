//! The commands: load, validate, render, then hand the artifacts to a sink. With
//! [`crate::output`] the only place that touches the outside world; one file per command.

pub mod backends;
mod control;
pub mod detect;
mod generate;
pub mod graph;
mod import;
mod install;
mod logs;
mod print;
pub mod stack;
mod status;
mod uninstall;

use std::collections::BTreeMap;
use std::path::Path;

use clap::CommandFactory as _;

use crate::backend::{
    self, Artifact, BackendKind, Flags, RenderContext, Rendered, kubernetes, launchd, supervisord,
};
use crate::cli::{Cli, Command, ManifestArg, ManifestCommand, RenderArgs, TemplatesCommand};
use crate::errors::{Error, Result};
use crate::lifecycle::control::Verb;
use crate::manifest::BUILTIN_OPENIM;
use crate::model::Model;
use crate::render::Templates;
use crate::{output, stdout};

/// Run a parsed command line.
///
/// # Errors
/// Any failure; [`Error::exit_code`] maps it to an exit code.
pub fn run(cli: Cli) -> Result<()> {
    stdout::set_colour(match cli.color {
        crate::cli::ColorChoice::Auto => None,
        crate::cli::ColorChoice::Always => Some(true),
        crate::cli::ColorChoice::Never => Some(false),
    });
    let result = dispatch(cli);
    // a full disk shows at the flush; the command's own error, if any, matters more
    let flushed = stdout::flush();
    result?;
    Ok(flushed?)
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate::generate(&args),
        Command::Validate(args) => generate::validate(&args),
        Command::Verify(args) => {
            let (kind, rendered) = render_for(&args.render)?;
            generate::verify(kind, &rendered, args.render.strict)
        }
        Command::Backends(args) => backends::backends(&args),
        Command::Detect(args) => Ok(detect::run(&args)?),
        Command::Install(args) => install::run(&args),
        Command::Uninstall(args) => uninstall::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Start(args) => control::run(&args, Verb::Start),
        Command::Stop(args) => control::run(&args, Verb::Stop),
        Command::Restart(args) => control::run(&args, Verb::Restart),
        Command::Logs(args) => logs::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Manifest(ManifestCommand::Show) => Ok(stdout::write_str(BUILTIN_OPENIM)?),
        Command::Manifest(ManifestCommand::Schema) => {
            Ok(stdout::line(crate::manifest::json_schema())?)
        }
        Command::Graph(args) => {
            let model = load_model(&args.manifest)?;
            Ok(stdout::write_str(&graph::render(&model, args.format))?)
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "openim-init", &mut buf);
            Ok(stdout::write_str(&String::from_utf8_lossy(&buf))?)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .map_err(anyhow::Error::from)?;
            Ok(stdout::write_str(&String::from_utf8_lossy(&buf))?)
        }
        Command::Templates(TemplatesCommand::List) => {
            for (name, _) in backend::embedded_templates() {
                stdout::line(name)?;
            }
            Ok(())
        }
        Command::Templates(TemplatesCommand::Dump { dir, force }) => {
            // the same safe sink as `generate --out`: atomic, and never over an edited file
            let artifacts: Vec<Artifact> = backend::embedded_templates()
                .iter()
                .map(|(name, text)| Artifact::file(*name, 0o644, *text))
                .collect();
            for line in output::write_all_owned(&dir, artifacts, force)? {
                stdout::line(line)?;
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
            // (freed once the model is built: see `heap::in_own_mapping`)
            let (name, text) =
                crate::heap::in_own_mapping(|| crate::manifest::read_manifest(path))?;
            Ok(Model::from_text(&name, text)?)
        }
    }
}

fn load_templates(dir: Option<&Path>) -> Result<Templates> {
    let overrides = match dir {
        Some(dir) => crate::render::overrides::load(dir, &backend::embedded_templates())?,
        None => BTreeMap::new(),
    };
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
    if let Some(l) = &args.layout {
        flags.0.insert(backend::s6::LAYOUT, l.clone());
    }
    if let Some(i) = &args.init_image {
        flags.0.insert(kubernetes::INIT_IMAGE, i.clone());
    }
    flags
}

/// Hand a large value back with the process instead of freeing it allocation by allocation:
/// a command runs once per process, which exits right after it, and freeing ten thousand
/// services piece by piece costs as much as rendering them for some backends. Unit tests
/// (many commands in one process) free it as usual.
pub(crate) fn release<T>(value: T) {
    if cfg!(test) {
        drop(value);
    } else {
        std::mem::forget(value);
    }
}

/// What rendering reads, loaded and checked from the command line.
struct Prepared {
    kind: BackendKind,
    flags: Flags,
    model: Model,
    templates: Templates,
}

fn prepare(args: &RenderArgs) -> Result<Prepared> {
    let kind = args.backend;
    let flags = flags(args);
    kind.check_flags(&flags)?;
    let model = load_model(&args.manifest)?;
    let templates = load_templates(args.templates.as_deref())?;
    Ok(Prepared {
        kind,
        flags,
        model,
        templates,
    })
}

/// Print the warnings, or refuse them all under `--strict`.
fn warnings(args: &RenderArgs, rendered: &mut Rendered) -> Result<()> {
    if args.strict && !rendered.warnings.is_empty() {
        return Err(Error::Strict(std::mem::take(&mut rendered.warnings)));
    }
    for w in &rendered.warnings {
        stdout::diag(format_args!("warning: {w}"));
    }
    Ok(())
}

/// Load, validate and render for the chosen backend; print warnings; apply `--strict`.
fn render_for(args: &RenderArgs) -> Result<(BackendKind, Rendered)> {
    let p = prepare(args)?;
    let mut rendered = backend::render(
        p.kind,
        &p.model,
        &RenderContext::new(&p.templates, &p.flags),
    )?;
    warnings(args, &mut rendered)?;
    let kind = p.kind;
    release(p);
    Ok((kind, rendered))
}

/// Load, validate and render into `dir`, writing while rendering (see
/// [`output::write_streamed`]): nothing is written unless the whole output is good.
/// Returns the result without artifacts or warnings (they are printed), and the report
/// for the user (a line per file and a summary, made as it is written out).
///
/// The model is freed once rendered, while the writing thread finishes. No runtime units
/// are made: `generate` has no use for them.
fn out_for(args: &RenderArgs, dir: &Path, force: bool) -> Result<(Rendered, output::Report)> {
    let p = prepare(args)?;
    let expected = p.kind.backend().expected_files(&p.model);
    output::write_streamed(dir, force, expected, move |feed| {
        let rendered = {
            let ctx = RenderContext {
                sink: Some(feed),
                units: false,
                ..RenderContext::new(&p.templates, &p.flags)
            };
            backend::render(p.kind, &p.model, &ctx)
        };
        drop(p);
        let mut rendered = rendered?;
        warnings(args, &mut rendered)?;
        // printed: held to the end, their names (one per service and feature) kept 2.4 MB
        // of the freed model's pages in use for s6 at 10,000 services
        rendered.warnings = Vec::new();
        Ok(rendered)
    })
}

/// Load, validate and render to stdout, printing nothing unless the whole output is good
/// (every artifact rendered and checked, `--strict` satisfied). The artifacts are held
/// while they fit in [`print::HOLD_BYTES`]; a larger output is spooled to an unnamed
/// temporary file and copied to stdout once it is all good, so memory does not grow with
/// it (without a temporary file, it is rendered a second time and written as it is made).
/// Returns the result without artifacts (warnings, notes).
fn print_for(args: &RenderArgs) -> Result<Rendered> {
    let p = prepare(args)?;
    let held = std::cell::RefCell::new(print::Held::default());
    let ctx = RenderContext {
        sink: Some(&held),
        units: false,
        ..RenderContext::new(&p.templates, &p.flags)
    };
    let mut rendered = backend::render(p.kind, &p.model, &ctx)?;
    warnings(args, &mut rendered)?;
    match held.into_inner().kept() {
        print::Kept::Held(artifacts) => {
            stdout::write_with(|w| output::write_text(&artifacts, w))?;
        }
        print::Kept::Spooled(mut file) => {
            stdout::write_with(|w| std::io::copy(&mut file, w).map(drop))?;
        }
        print::Kept::Dropped => {
            let writer = std::cell::RefCell::new(print::Writer::new(stdout::buffered()?));
            let ctx = RenderContext {
                sink: Some(&writer),
                units: false,
                ..RenderContext::new(&p.templates, &p.flags)
            };
            backend::render(p.kind, &p.model, &ctx)?;
            writer.into_inner().finish()?;
        }
    }
    release(p);
    Ok(rendered)
}
