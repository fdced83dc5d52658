//! The binary: parse the command line, run the command, turn its error into an exit code.
//! Everything else is in the library (see docs/ARCHITECTURE.md).

use std::process::ExitCode;

use clap::Parser;
use odoo_tui::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match odoo_tui::cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit().code())
        }
    }
}
