//! The `openim-init` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;
use openim_init::stdout::{self, StdoutError};

fn main() {
    let cli = match openim_init::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version go through the checked stdout like every other output
        Err(e) if !e.use_stderr() => {
            match stdout::write_str(&e.render().to_string()).and_then(|()| stdout::flush()) {
                Ok(()) => std::process::exit(0),
                Err(err) => fail(&err.into()),
            }
        }
        Err(e) => e.exit(),
    };
    if let Err(err) = openim_init::app::run(cli) {
        fail(&err);
    }
}

fn fail(err: &anyhow::Error) -> ! {
    let quiet = err
        .downcast_ref::<StdoutError>()
        .is_some_and(StdoutError::is_quiet);
    if quiet {
        // the reader went away: end quietly, like other Unix tools
    } else if err
        .downcast_ref::<openim_init::manifest::ManifestErrors>()
        .is_some()
    {
        stdout::diag(err);
    } else {
        stdout::diag(format_args!("error: {err:#}"));
    }
    std::process::exit(openim_init::errors::exit_code(err));
}
