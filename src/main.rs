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
    on_ctrl_c(
        rt,
        "cancelling: finishing the current step (Ctrl-C again to stop at once)",
    )
}

/// Like [`ctrl_c`], saying `msg` on the first Ctrl-C.
fn on_ctrl_c(rt: &tokio::runtime::Runtime, msg: &'static str) -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\n{msg}");
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
                return Err(Error::Usage(odoo_tui::wizard::non_interactive_error()).into());
            }
            if !yes {
                // The wizard: prompts on stderr; Ctrl-C at a prompt exits 130 with nothing applied.
                let rt = runtime()?;
                let target = Target {
                    non_interactive: true,
                    ..target.clone()
                };
                return odoo_tui::interactive::new(&target, &rt, name, &values, timeout, || {
                    ctrl_c(&rt)
                });
            }
            let Some(name) = name else {
                return Err(Error::Usage(
                    "name the instance: `odoo-tui new NAME --yes` (e.g. acme)".into(),
                )
                .into());
            };
            let rt = runtime()?;
            let cancel = ctrl_c(&rt);
            let live = interactive && !g.plain && output == odoo_tui::cli::PlainJson::Plain;
            let args = ops::NewArgs {
                name,
                values,
                dry_run,
                force,
                output_dir,
                timeout,
                show_credentials,
                output,
                live,
            };
            rt.block_on(ops::new(&target, args, cancel))?;
        }
        Command::Status { name, once, output } => {
            let rt = runtime()?;
            let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
            if once || !terminal || (output != odoo_tui::cli::TableFormat::Table && !g.plain) {
                rt.block_on(ops::status_once(&target, name, output))?;
            } else {
                let cancel = ctrl_c(&rt);
                rt.block_on(ops::status_live(&target, name, g.plain, cancel))?;
            }
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
        // `upgrade` and `backup` (SPEC §7): see src/upgrade.rs.
        Command::Upgrade {
            name,
            modules,
            all,
            image_tag,
            no_update_list,
            no_backup,
            strategy,
            yes,
            timeout,
            output,
        } => {
            let ask = odoo_tui::upgrade::Prompts {
                interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            };
            let args = odoo_tui::upgrade::UpgradeArgs {
                name,
                modules,
                all,
                image_tag,
                no_update_list,
                no_backup,
                strategy,
                yes,
                timeout,
                output,
            };
            let rt = runtime()?;
            let cancel = ctrl_c(&rt);
            rt.block_on(odoo_tui::upgrade::upgrade(&target, args, &ask, cancel))?;
        }
        Command::Backup { name } => {
            let ask = odoo_tui::upgrade::Prompts {
                interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            };
            let rt = runtime()?;
            let cancel = ctrl_c(&rt);
            rt.block_on(odoo_tui::upgrade::backup(&target, name, &ask, cancel))?;
        }
        // `open` (SPEC §1): see src/open.rs.
        Command::Open { name, port } => {
            let rt = runtime()?;
            let cancel = on_ctrl_c(&rt, "stopping the port-forward");
            rt.block_on(odoo_tui::open::open(&target, name, port, cancel))?;
        }
    }
    Ok(())
}
