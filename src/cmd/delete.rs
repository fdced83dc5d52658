//! `odoo-tui delete NAME [--delete-data] [--yes]`: remove an instance; its PVCs and
//! generated Secrets stay (a later `new` reattaches to them) unless `--delete-data`,
//! which asks for the name to be typed.

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING};
use crate::cli::DeleteArgs;
use crate::cluster::Kube;
use crate::instance::delete::Data;
use crate::instance::{self, Reporter};

pub fn run(ctx: &Context, a: DeleteArgs) -> Result<(), Error> {
    ctx.block_on(Some(FINISHING), |cancel| delete(ctx, a, cancel))
}

/// What `--delete-data` deletes, by name.
fn data_lines(name: &str, namespace: &str, data: &Data) -> String {
    let mut s = format!("This deletes the data of `{name}` in namespace `{namespace}`:\n");
    for c in &data.claims.delete {
        s.push_str(&format!("  PersistentVolumeClaim/{c}\n"));
    }
    for sec in &data.secrets {
        s.push_str(&format!("  Secret/{sec}\n"));
    }
    if data.claims.delete.is_empty() && data.secrets.is_empty() {
        s.push_str("  (no volume or generated Secret of its own was found)\n");
    }
    for (c, why) in &data.claims.left {
        s.push_str(&format!("and leaves PersistentVolumeClaim/{c}: {why}\n"));
    }
    s
}

/// With `--delete-data` and no `--yes`: the claims and Secrets by name, then the user
/// types the instance name.
fn confirm_data_loss(ctx: &Context, name: &str, namespace: &str, data: &Data) -> Result<(), Error> {
    if !ctx.stdin_tty {
        return Err(Error::usage(
            "--delete-data deletes the database and filestore volumes: confirm with --yes (no terminal to ask on)",
        ));
    }
    eprint!(
        "{}Type the instance name to confirm: ",
        data_lines(name, namespace, data)
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
    let data = if a.delete_data {
        let data = instance::delete::find_data(kube, name).await?;
        if !a.yes {
            confirm_data_loss(ctx, name, &kube.namespace, &data)?;
        }
        Some(data)
    } else {
        None
    };
    let done =
        instance::delete::delete(kube, name, data.as_ref(), Reporter::default(), cancel).await?;
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
