//! `odoo-tui completions bash|zsh|fish`: shell completions on stdout.

use clap::CommandFactory;

use super::{Context, Error};
use crate::cli::{Cli, CompletionsArgs};

pub fn run(_ctx: &Context, a: CompletionsArgs) -> Result<(), Error> {
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "odoo-tui", &mut std::io::stdout());
    Ok(())
}
