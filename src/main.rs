use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use odoo_tui::cli::{Cli, Command};
use odoo_tui::{Error, commands};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let code = e.downcast_ref::<Error>().map(Error::exit_code).unwrap_or(1);
            ExitCode::from(code as u8)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let namespace = cli
        .global
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    match cli.command {
        Command::Render {
            name,
            values,
            output_dir,
            include_secrets,
        } => {
            commands::render(
                name.as_deref(),
                &namespace,
                &values,
                output_dir.as_deref(),
                include_secrets,
            )?;
        }
        Command::New {
            name,
            values,
            yes,
            output_dir,
            ..
        } => {
            let Some(name) = name else {
                return Err(Error::Usage(
                    "name the instance: `odoo-tui new NAME` (the interactive wizard is not in this version yet)".into(),
                )
                .into());
            };
            if !yes && output_dir.is_none() {
                eprintln!(
                    "note: the interactive wizard and the cluster connection are not in this version yet; writing the manifests to a folder instead"
                );
            }
            commands::new_to_folder(&name, &namespace, &values, output_dir)?;
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "odoo-tui", &mut std::io::stdout());
        }
        Command::Status { .. } => return Err(commands::not_yet("status").into()),
        Command::Upgrade { .. } => return Err(commands::not_yet("upgrade").into()),
        Command::Backup { .. } => return Err(commands::not_yet("backup").into()),
        Command::Open { .. } => return Err(commands::not_yet("open").into()),
        Command::List { .. } => return Err(commands::not_yet("list").into()),
        Command::Delete { .. } => return Err(commands::not_yet("delete").into()),
    }
    Ok(())
}
