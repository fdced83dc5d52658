//! `odoo-tui delete NAME [--delete-data] [--yes]`: remove an instance; its PVCs and
//! generated Secrets stay (a later `new` reattaches to them) unless `--delete-data`,
//! which asks for the name to be typed.

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING};
use crate::cli::DeleteArgs;
use crate::cluster::Kube;
use crate::instance::{self, Reporter};

pub fn run(ctx: &Context, a: DeleteArgs) -> Result<(), Error> {
    ctx.block_on(Some(FINISHING), |cancel| delete(ctx, a, cancel))
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

async fn delete(ctx: &Context, a: DeleteArgs, cancel: CancellationToken) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let name = a.name.as_str();
    let command = format!("delete {name}");
    let work = delete_locked(ctx, &kube, &a, &cancel);
    instance::lock::with(&kube, name, &command, a.force_unlock, &cancel, work).await
}

/// The deletion, the instance's lock held.
async fn delete_locked(
    ctx: &Context,
    kube: &Kube,
    a: &DeleteArgs,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let name = a.name.as_str();
    if a.delete_data && !a.yes {
        confirm_data_loss(ctx, name, &kube.namespace)?;
    }
    let done =
        instance::delete::delete(kube, name, a.delete_data, Reporter::default(), cancel).await?;
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
