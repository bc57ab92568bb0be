//! The `openim-init` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = openim_init::cli::Cli::parse();
    if let Err(err) = openim_init::app::run(cli) {
        if err
            .downcast_ref::<openim_init::manifest::ManifestErrors>()
            .is_some()
        {
            eprintln!("{err}");
        } else {
            eprintln!("error: {err:#}");
        }
        std::process::exit(openim_init::errors::exit_code(&err));
    }
}
