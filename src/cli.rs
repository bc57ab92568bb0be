//! Command-line interface (clap derive). CLI types stay here; the library has its own.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::backend::BackendKind;

/// The exit codes, shown at the end of `--help`.
pub const EXIT_CODES: &str = "Exit codes:
  0    success
  1    an error while doing the work (I/O, a tool failed, stdout full or closed)
  2    invalid manifest or usage (nothing was written)
  3    --strict refused a feature the backend loses or emulates
  4    the backend's verifier found problems
  141  stdout's reader went away (e.g. `| head`)";

/// Describe the OpenIM stack once; generate, verify and install it for any init system.
///
/// Without --manifest every command uses the built-in OpenIM Server manifest
/// (see `openim-init manifest show`).
#[derive(Debug, Parser)]
#[command(
    name = "openim-init",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Colour in what is printed: auto (a terminal, and `NO_COLOR` unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the artifacts of one backend (to stdout, or into --out DIR).
    Generate(GenerateArgs),
    /// Check a manifest and print a summary of the stack.
    Validate(ValidateArgs),
    /// Render into a temporary directory and run the backend's own verifier on it.
    Verify(VerifyArgs),
    /// List the backends and what each can express (the capability report).
    Backends(BackendsArgs),
    /// Work with manifests.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Work with the templates artifacts are rendered from.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Which init system is running here, on what evidence, and which backend to use.
    Detect(DetectArgs),
    /// Install the stack into the init system (through a ledger; idempotent).
    Install(InstallArgs),
    /// Stop the stack and remove exactly the files openim-init installed.
    Uninstall(UninstallArgs),
    /// Every process's state (from the init system) and health (measured now); exit 3
    /// unless all are running and healthy.
    Status(StatusArgs),
    /// Start the stack, a group, a service or one instance, through the init system.
    Start(ControlArgs),
    /// Stop the stack, a group, a service or one instance, through the init system.
    Stop(ControlArgs),
    /// Restart the stack, a group, a service or one instance, through the init system.
    Restart(ControlArgs),
    /// Show the log of a service or instance.
    Logs(LogsArgs),
    /// Draw the stack: services, instances, groups, externals, dependencies, start layers.
    Graph(GraphArgs),
    /// Read a Procfile, a supervisord ini or systemd units into a manifest (stdout or
    /// --out); what is not carried over is listed on stderr.
    Import(ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `openim-init man | man -l -`.
    Man,
}

/// What every lifecycle command works on: the backend, the manifest, system or user.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The init system (default: the one detected running here).
    #[arg(long, short = 'b', value_name = "NAME")]
    pub backend: Option<BackendKind>,
    /// The manifest.
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// The per-user instance of the init system (`systemctl --user`, ~/Library/LaunchAgents).
    #[arg(long)]
    pub user: bool,
    /// supervisord: the main configuration; programs go into its `[include]` directory and
    /// `supervisorctl` talks to its socket (default: /etc/supervisor/supervisord.conf or
    /// /etc/supervisord.conf, whichever exists).
    #[arg(long, value_name = "FILE")]
    pub supervisord_conf: Option<std::path::PathBuf>,
    /// runit/s6: the scan directory `runsvdir`/`s6-svscan` watches, into which `install`
    /// links the stack's directories (default: runit /etc/service, s6 /run/service; Void:
    /// /var/service).
    #[arg(long, value_name = "DIR")]
    pub service_dir: Option<std::path::PathBuf>,
    /// runit/s6: where the stack's service directories are installed (default: runit
    /// /etc/sv, s6 /etc/s6/sv).
    #[arg(long, value_name = "DIR")]
    pub sv_dir: Option<std::path::PathBuf>,
}

/// `install`.
#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent command-line flags"
)]
pub struct InstallArgs {
    /// Backend, manifest, scope.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Show the diff of every file and every command that would run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Start the stack once installed.
    #[arg(long)]
    pub start: bool,
    /// Do not enable the stack (start at boot).
    #[arg(long)]
    pub no_enable: bool,
    /// Replace files openim-init did not write or that were edited (a backup is kept), and
    /// install despite the verifier's findings.
    #[arg(long)]
    pub force: bool,
    /// Stage the vendor layout into DIR for a package: no host command, nothing enabled;
    /// prints the installed paths one per line.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["start", "user"])]
    pub root: Option<PathBuf>,
    /// The distribution layout under --root (default: this machine's).
    #[arg(long, value_name = "L", requires = "root", value_parser = ["debian", "ubuntu", "rhel", "fedora", "alpine", "arch", "gentoo", "void", "macos"])]
    pub layout: Option<String>,
}

/// `uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Backend, manifest, scope.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Show what would be stopped and removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove openim-init's state for the stack (ledger, backups).
    #[arg(long)]
    pub purge: bool,
    /// Remove installed files even if they were edited since (a backup is kept).
    #[arg(long)]
    pub force: bool,
    /// Remove a staged tree's files from DIR (no host command).
    #[arg(long, value_name = "DIR", conflicts_with = "user")]
    pub root: Option<PathBuf>,
    /// The distribution layout under --root (default: this machine's).
    #[arg(long, value_name = "L", requires = "root", hide = true)]
    pub layout: Option<String>,
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Backend, manifest, scope.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    /// The stack (default), groups, services or instances (`SERVICE@INSTANCE`).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
}

/// `start`, `stop`, `restart`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// Backend, manifest, scope.
    #[command(flatten)]
    pub stack: StackArgs,
    /// The stack (default), groups, services or instances (`SERVICE@INSTANCE`).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
}

/// `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Backend, manifest, scope.
    #[command(flatten)]
    pub stack: StackArgs,
    /// A service or one instance (`SERVICE@INSTANCE`).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Keep printing new lines.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How many of the last lines to show.
    #[arg(short = 'n', value_name = "N", default_value_t = 50)]
    pub lines: u32,
}

/// `graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The manifest to draw.
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Output format: Mermaid (renders on GitHub), Graphviz DOT, or text for terminals.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

/// The formats of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// Plain text: the start layers and every edge.
    Text,
}

/// `detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Print the verdict and the evidence as JSON.
    #[arg(long)]
    pub json: bool,
    /// The supervisord main configuration whose socket is probed (default: the
    /// distributions' /etc/supervisor/supervisord.conf and /etc/supervisord.conf).
    #[arg(long, value_name = "FILE")]
    pub supervisord_conf: Option<PathBuf>,
    /// Look at this directory as if it were `/` (for tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub fs_root: Option<PathBuf>,
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The manifest to check.
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Print the stack (services, processes, externals, groups, start order and layers) as
    /// JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--manifest FILE`.
#[derive(Debug, Args)]
pub struct ManifestArg {
    /// The stack manifest (TOML; `-` reads stdin). Default: the built-in OpenIM Server manifest.
    #[arg(long, short = 'm', value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

/// Options shared by everything that renders.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Target init system (see `openim-init backends`).
    #[arg(long, short = 'b', value_name = "NAME")]
    pub backend: BackendKind,
    /// The manifest to render.
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Directory with template overrides (same names as `templates dump` writes).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// supervisord: emit a complete supervisord.conf that `supervisord -c` runs directly.
    #[arg(long)]
    pub standalone: bool,
    /// launchd: label prefix (default: `io.<stack name>`).
    #[arg(long, value_name = "PREFIX")]
    pub label_prefix: Option<String>,
    /// s6: `s6-overlay` writes the s6-rc source tree s6-overlay v3 reads
    /// (`/etc/s6-overlay/s6-rc.d`) instead of plain s6 service directories.
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<String>,
    /// kubernetes: the image of the init containers that wait for dependencies (it needs
    /// sh, nc, wget and timeout; default busybox:1.36).
    #[arg(long, value_name = "IMAGE")]
    pub init_image: Option<String>,
    /// Treat every capability warning (a feature the backend loses or emulates) as an error.
    #[arg(long)]
    pub strict: bool,
}

/// `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to render, and how.
    #[command(flatten)]
    pub render: RenderArgs,
    /// Write the files into DIR (created if missing) instead of printing them.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: overwrite files that openim-init did not write (a .bak copy is kept).
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What to render, and how.
    #[command(flatten)]
    pub render: RenderArgs,
}

/// `backends`.
#[derive(Debug, Args)]
pub struct BackendsArgs {
    /// Print the capability matrix as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `manifest …`.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Print the built-in OpenIM manifest, a starting point for your own.
    Show,
    /// Print the manifest's JSON Schema, for editors (`#:schema` in taplo / Even Better TOML).
    Schema,
}

/// `templates …`.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the default templates into DIR for editing; use them with --templates DIR.
    Dump {
        /// Target directory (created if missing).
        dir: PathBuf,
        /// Overwrite templates edited since they were dumped (the old one is kept under .openim-init/backup/).
        #[arg(long)]
        force: bool,
    },
    /// List the template names.
    List,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the files are.
    #[arg(value_enum)]
    pub format: ImportFormat,
    /// The files: a Procfile; a supervisord ini (its `[include]` files are read too); unit
    /// files (`.service`, `.target`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The stack name (default: guessed from the files).
    #[arg(long, value_name = "STACK")]
    pub name: Option<String>,
    /// Write the manifest to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Resolve bare program names (Procfile) to absolute paths through PATH.
    #[arg(long)]
    pub resolve: bool,
    /// Fail (exit 3) when anything was not carried over.
    #[arg(long)]
    pub strict: bool,
}

/// The formats of `import`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportFormat {
    /// A foreman/honcho Procfile (and `.env` beside it).
    Procfile,
    /// A supervisord ini.
    Supervisord,
    /// systemd unit files.
    Systemd,
}
