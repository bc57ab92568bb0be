//! `import`: read a Procfile, a supervisord ini or systemd units into a manifest; list on
//! stderr what was not carried over; refuse with `--strict` when something was.

use anyhow::anyhow;

use crate::cli::{ImportArgs, ImportFormat};
use crate::errors::{Error, Result};
use crate::import::{self, Disk, Format, Options};
use crate::stdout;

/// Run `import`.
///
/// # Errors
/// Unreadable files, nothing to import, `--strict` with losses, or an output failure.
pub fn run(args: &ImportArgs) -> Result<()> {
    let format = match args.format {
        ImportFormat::Procfile => Format::Procfile,
        ImportFormat::Supervisord => Format::Supervisord,
        ImportFormat::Systemd => Format::Systemd,
    };
    let opts = Options {
        name: args.name.clone(),
        resolve: args.resolve,
        env: std::env::vars().collect(),
    };
    let imported = import::import(format, &args.files, &Disk, &opts)
        .map_err(|f| Error::Failed(anyhow!("import: {f}")))?;
    for item in &imported.report.items {
        stdout::diag(item);
    }
    let dropped = imported.report.dropped().count();
    if args.strict && dropped > 0 {
        return Err(Error::ImportStrict(dropped));
    }
    let text = imported.to_toml();
    // the output must be a manifest openim-init accepts
    imported.model()?;
    match &args.out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| Error::Failed(anyhow!("{}: {e}", path.display())))?,
        None => stdout::write_str(&text)?,
    }
    if dropped > 0 {
        stdout::diag(format_args!(
            "import: {dropped} key(s) or directive(s) not carried over (listed above)"
        ));
    }
    Ok(())
}
