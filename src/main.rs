use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use odoo_tui::cli::{Cli, Command};
use odoo_tui::cluster::Target;
use odoo_tui::ops::{self, Failed};
use odoo_tui::{Error, commands};
use tokio_util::sync::CancellationToken;

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
            eprintln!("error: {e}");
            ExitCode::from(e.code.clamp(1, 255) as u8)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed {
            code: 1,
            message: format!("cannot start the async runtime: {e}"),
        })
}

/// A token cancelled by the first Ctrl-C; a second Ctrl-C exits at once (130).
fn ctrl_c(rt: &tokio::runtime::Runtime) -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ncancelling: finishing the current step (Ctrl-C again to stop at once)");
            t.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    token
}

fn run(cli: Cli) -> Result<(), Failed> {
    let g = &cli.global;
    let target = Target {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        namespace: g.namespace.clone(),
        non_interactive: false,
    };
    let namespace = g.namespace.clone().unwrap_or_else(|| "default".to_string());
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
            dry_run,
            force,
            output_dir,
            timeout,
            show_credentials,
            output,
        } => {
            let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            if !yes && !interactive {
                return Err(Error::Usage(
                    "`odoo-tui new` asks questions, but there is no terminal: pass --yes and give the answers with --preset, -f values.yaml and --set key=value (e.g. odoo-tui new acme --preset quick-start --yes)".into(),
                )
                .into());
            }
            let Some(name) = name else {
                return Err(Error::Usage(
                    "name the instance: `odoo-tui new NAME --yes` (e.g. acme)".into(),
                )
                .into());
            };
            if !yes {
                return Err(Error::Usage("the interactive wizard is not in this version yet: pass --yes with --preset, -f and --set".into()).into());
            }
            let rt = runtime()?;
            let cancel = ctrl_c(&rt);
            let args = ops::NewArgs {
                name,
                values,
                dry_run,
                force,
                output_dir,
                timeout,
                show_credentials,
                output,
            };
            rt.block_on(ops::new(&target, args, cancel))?;
        }
        Command::Status { name, output, .. } => {
            let rt = runtime()?;
            rt.block_on(ops::status_once(&target, name, output))?;
        }
        Command::List {
            all_namespaces,
            output,
        } => {
            let rt = runtime()?;
            rt.block_on(ops::list(&target, all_namespaces, output))?;
        }
        Command::Delete {
            name,
            delete_data,
            yes,
        } => {
            let rt = runtime()?;
            rt.block_on(ops::delete(&target, &name, delete_data, yes))?;
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "odoo-tui", &mut std::io::stdout());
        }
        Command::Upgrade { .. } => return Err(commands::not_yet("upgrade").into()),
        Command::Backup { .. } => return Err(commands::not_yet("backup").into()),
        Command::Open { .. } => return Err(commands::not_yet("open").into()),
    }
    Ok(())
}
