//! The `openim-init` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = openim_init::cli::Cli::parse();
    if let Err(err) = openim_init::cmd::run(cli) {
        match &err {
            openim_init::errors::Error::Manifest(_) => eprintln!("{err}"),
            _ => eprintln!("error: {err}"),
        }
        std::process::exit(err.exit_code());
    }
}
