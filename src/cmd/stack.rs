//! What the lifecycle commands share: choose the backend (given, or the detected one),
//! load and render the manifest, resolve where it is installed, and the runner.

use crate::backend::{self, BackendKind, Flags, Rendered, Unit};
use crate::cli::StackArgs;
use crate::errors::{Error, Result};
use crate::lifecycle::control::{self, Control};
use crate::lifecycle::place::{Env, Place, Scope};
use crate::lifecycle::runner::{ProcessRunner, RecordingRunner, Runner};
use crate::lifecycle::supervisord_conf::MainConf;
use crate::lifecycle::units;
use crate::model::Model;
use crate::stdout;

/// A loaded, rendered stack with its install place and a runner.
pub struct Stack {
    /// The backend.
    pub kind: BackendKind,
    /// The validated manifest.
    pub model: Model,
    /// The rendered artifacts and units.
    pub rendered: Rendered,
    /// Where it is installed.
    pub place: Place,
    process: ProcessRunner,
    recording: Option<RecordingRunner>,
    dir: String,
    domain: String,
    scan: String,
}

/// The backend named on the command line, or the one detected running here.
fn backend(args: &StackArgs) -> Result<BackendKind> {
    if let Some(kind) = args.backend {
        return Ok(kind);
    }
    let d = super::detect::detect_here(None, args.supervisord_conf.as_deref());
    d.recommended
        .and_then(|s| BackendKind::by_name(s.name()))
        .ok_or_else(|| {
            Error::usage(format!(
                "no init system openim-init can drive is running here; pass --backend ({})",
                super::detect::verdict(&d)
            ))
        })
}

/// Load, render and place the stack of `args`; with `dry_run` the runner only records.
///
/// # Errors
/// No backend, an invalid manifest, a render refusal, `--user` where it has no meaning.
pub fn open(args: &StackArgs, dry_run: bool) -> Result<Stack> {
    open_in(args, dry_run, None, None)
}

/// The layout of this machine's distribution, for `--root` without `--layout`.
fn this_layout() -> Option<&'static str> {
    use os_info::Type as T;
    Some(match os_info::get().os_type() {
        T::Debian => "debian",
        T::Ubuntu | T::Mint | T::Pop => "ubuntu",
        T::Redhat | T::RedHatEnterprise | T::CentOS | T::AlmaLinux | T::RockyLinux => "rhel",
        T::Fedora => "fedora",
        T::Alpine => "alpine",
        T::Arch => "arch",
        T::Gentoo => "gentoo",
        T::Void => "void",
        T::Macos => "macos",
        _ => return None,
    })
}

/// [`open`], or with `root` a staging tree in `layout` (default: this machine's; the
/// backend defaults to the layout's usual one).
///
/// # Errors
/// As [`open`]; no layout known for this machine.
pub fn open_in(
    args: &StackArgs,
    dry_run: bool,
    root: Option<&std::path::Path>,
    layout: Option<&str>,
) -> Result<Stack> {
    let layout = match (root, layout) {
        (Some(_), None) => Some(this_layout().ok_or_else(|| {
            Error::usage("--root: this machine's distribution is not known; pass --layout")
        })?),
        (_, l) => l,
    };
    let kind = match (args.backend, layout) {
        (None, Some(l)) => match l {
            "alpine" | "gentoo" => BackendKind::Openrc,
            "void" => BackendKind::Runit,
            "macos" => BackendKind::Launchd,
            _ => BackendKind::Systemd,
        },
        _ => backend(args)?,
    };
    let model = super::load_model(&args.manifest)?;
    let rendered = backend::render_embedded(kind, &model, &Flags::default())?;
    for w in &rendered.warnings {
        stdout::diag(format_args!("warning: {w}"));
    }
    let data = kind.backend().data();
    let scope = match (root, layout) {
        (Some(root), Some(layout)) => Scope::Root {
            root: root.to_path_buf(),
            layout: layout.to_owned(),
        },
        _ if args.user => Scope::User,
        _ => Scope::System,
    };
    let mut place = Place::resolve(data, kind.name(), &model.name, &scope, &Env::from_process())?;
    let mut setup = control::setup(data, args.user);
    if kind == BackendKind::Supervisord
        && root.is_none()
        && let Some(conf) = MainConf::find(args.supervisord_conf.as_deref())?
    {
        place.dir.clone_from(&conf.include_dir);
        place.ext.clone_from(&conf.ext);
        setup = conf.drive(setup);
    }
    if root.is_none() {
        service_dirs(args, &mut place, kind)?;
    }
    let recording = dry_run.then(|| RecordingRunner::new(setup.clone()));
    let dir = place.dir_text();
    let scan = place.scan_text();
    let mut rendered = rendered;
    start_order(&model, &mut rendered.units);
    Ok(Stack {
        kind,
        model,
        rendered,
        place,
        process: ProcessRunner::new(setup),
        recording,
        dir,
        domain: control::domain(data, args.user),
        scan,
    })
}

/// `--service-dir` and `--sv-dir`: only for the backends that link directories into a
/// scan directory (runit, s6).
fn service_dirs(args: &StackArgs, place: &mut Place, kind: BackendKind) -> Result<()> {
    if place.scan.is_none() {
        if args.service_dir.is_some() || args.sv_dir.is_some() {
            return Err(Error::usage(format!(
                "--service-dir/--sv-dir: the {} backend has no scan directory (runit and s6 have)",
                kind.name()
            )));
        }
        return Ok(());
    }
    let absolute = |p: &std::path::Path| std::path::absolute(p).map_err(anyhow::Error::from);
    if let Some(d) = &args.service_dir {
        place.scan = Some(absolute(d)?);
    }
    if let Some(d) = &args.sv_dir {
        place.dir = absolute(d)?;
    }
    Ok(())
}

/// Without a unit for the whole stack the processes are started one by one: put them in
/// dependency order (stable: independent services keep their declaration order).
fn start_order(model: &Model, units: &mut [Unit]) {
    if units::stack_unit(units).is_some() {
        return;
    }
    let order = model.view.order();
    let rank = |u: &Unit| {
        model
            .view
            .service_id(&u.service)
            .and_then(|id| order.iter().position(|&o| o == id))
            .unwrap_or(usize::MAX)
    };
    units.sort_by_key(rank);
}

impl Stack {
    /// Runs the init system's commands (only records them for a dry run).
    #[must_use]
    pub fn runner(&self) -> &dyn Runner {
        match &self.recording {
            Some(r) => r,
            None => &self.process,
        }
    }

    /// Runs read-only lookups (`getent`) for real, even for a dry run.
    #[must_use]
    pub fn lookup(&self) -> &dyn Runner {
        &self.process
    }

    /// The commands a dry run recorded, one per line.
    #[must_use]
    pub fn transcript(&self) -> Option<String> {
        self.recording.as_ref().map(RecordingRunner::transcript)
    }

    /// The init system's commands for this stack.
    #[must_use]
    pub fn control(&self) -> Control<'_> {
        Control {
            data: self.kind.backend().data(),
            runner: self.runner(),
            stack: &self.model.name,
            dir: &self.dir,
            domain: &self.domain,
            scan: &self.scan,
        }
    }

    /// The units `targets` name (none: the stack).
    ///
    /// # Errors
    /// A target names nothing of the stack.
    pub fn targets(&self, targets: &[String]) -> Result<Vec<&Unit>> {
        let stack = [self.model.name.clone()];
        let targets = if targets.is_empty() {
            &stack[..]
        } else {
            targets
        };
        let members = |g: &str| {
            self.model
                .groups
                .iter()
                .find(|x| x.name == g)
                .map(|x| x.services.clone())
        };
        let mut out: Vec<&Unit> = Vec::new();
        for t in targets {
            for u in units::resolve(&self.rendered.units, &self.model.name, t, members)? {
                if !out.iter().any(|o| o.name == u.name) {
                    out.push(u);
                }
            }
        }
        Ok(out)
    }

    /// The process units `targets` name: a stack or group stands for its members.
    ///
    /// # Errors
    /// A target names nothing of the stack.
    pub fn process_targets(&self, targets: &[String]) -> Result<Vec<&Unit>> {
        let procs = units::processes(&self.rendered.units);
        if targets.is_empty() || targets.contains(&self.model.name) {
            return Ok(procs);
        }
        let mut out: Vec<&Unit> = Vec::new();
        for t in targets {
            let found = match self.model.groups.iter().find(|g| g.name == *t) {
                Some(g) => procs
                    .iter()
                    .copied()
                    .filter(|u| g.services.contains(&u.service))
                    .collect(),
                None => self.targets(std::slice::from_ref(t))?,
            };
            for u in found {
                if !out.iter().any(|o| o.name == u.name) {
                    out.push(u);
                }
            }
        }
        Ok(out)
    }
}
