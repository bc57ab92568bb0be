//! The `openim-init` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;
use openim_init::errors::Error;
use openim_init::stdout;

fn main() {
    openim_init::heap::tune();
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
    if let Err(err) = openim_init::cmd::run(cli) {
        fail(&err);
    }
}

fn fail(err: &Error) -> ! {
    match err {
        // the reader went away: end quietly, like other Unix tools
        e if e.is_quiet() => {}
        Error::Manifest(_) => stdout::diag(err),
        _ => stdout::diag(format_args!("error: {err}")),
    }
    std::process::exit(err.exit_code());
}
