//! `odoo-tui delete NAME [--delete-data] [--yes]`: remove an instance; its PVCs and
//! generated Secrets stay (a later `new` reattaches to them) unless `--delete-data`,
//! which asks for the name to be typed.

use super::{Context, Error};
use crate::cli::DeleteArgs;
use crate::instance::{self, Reporter};

pub fn run(ctx: &Context, a: DeleteArgs) -> Result<(), Error> {
    ctx.block_on(None, |_| delete(ctx, a))
}

/// With `--delete-data` and no `--yes`: the user types the instance name.
fn confirm_data_loss(ctx: &Context, name: &str, namespace: &str) -> Result<(), Error> {
    if !ctx.stdin_tty {
        return Err(Error::usage(
            "--delete-data deletes the database and filestore volumes: confirm with --yes (no terminal to ask on)",
        ));
    }
    eprint!(
        "This deletes the PVCs (database, filestore) and generated Secrets of `{name}` in namespace `{namespace}`. Type the instance name to confirm: "
    );
    let mut typed = String::new();
    let _ = std::io::stdin().read_line(&mut typed);
    if typed.trim() != name {
        return Err(Error::failure(
            "the name did not match: nothing was deleted",
        ));
    }
    Ok(())
}

async fn delete(ctx: &Context, a: DeleteArgs) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let name = a.name.as_str();
    if a.delete_data && !a.yes {
        confirm_data_loss(ctx, name, &kube.namespace)?;
    }
    let done = instance::delete::delete(&kube, name, a.delete_data, Reporter::default()).await?;
    if done.kept_claims > 0 {
        eprintln!(
            "kept {} PVC(s) and the generated Secrets: `odoo-tui new {name}` reattaches to them; `--delete-data` removes them",
            done.kept_claims
        );
    }
    if done.objects == 0 {
        return Err(Error::failure(format!(
            "no objects of an instance `{name}` in namespace `{}`",
            kube.namespace
        )));
    }
    Ok(())
}
