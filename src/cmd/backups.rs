//! `odoo-tui backups [NAME]`: the instance's backups, newest first, from their manifests
//! (read by a short listing Job: no running Odoo needed); `-o json|yaml`. Takes no lock:
//! it changes nothing.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Context, Error, print_structured};
use crate::cli::BackupsArgs;
use crate::cluster::Kube;
use crate::cluster::watch::InstanceWatch;
use crate::instance::job::JobRunner;
use crate::instance::{self, Reporter};
use crate::plan::backups::{self, BackupInfo};
use crate::render::{Credentials, Ctx, RenderInput};
use crate::status::Component;

pub fn run(ctx: &Context, a: BackupsArgs) -> Result<(), Error> {
    ctx.block_on(None, |cancel| list(ctx, a, cancel))
}

async fn list(ctx: &Context, a: BackupsArgs, cancel: CancellationToken) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name).await?;
    let found = of(ctx, &kube, &name, &cancel).await?;
    if print_structured(&found, a.output) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    if found.is_empty() {
        let _ = writeln!(
            out,
            "`{name}` has no backup yet: take one with `odoo-tui backup {name}`"
        );
        return Ok(());
    }
    for line in backups::table(&found) {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// The backups of the instance `name`, newest first.
pub async fn of(
    ctx: &Context,
    kube: &Kube,
    name: &str,
    cancel: &CancellationToken,
) -> Result<Vec<BackupInfo>, Error> {
    let (loaded, _) = instance::values::recorded(kube, name, &[]).await?;
    let creds = Credentials::default();
    let input = RenderInput {
        release: name,
        namespace: &kube.namespace,
        values: &loaded.values,
        credentials: &creds,
    };
    let rc = Ctx::new(&input)?;
    let mut w = InstanceWatch::start(kube, name);
    w.ready().await;
    let keep_waiting = |job: &str| ctx.keep_waiting(job);
    let runner = JobRunner {
        kube,
        release: name,
        component: Component::Backup,
        deadline: Instant::now() + Duration::from_secs(300),
        cancel,
        keep_waiting: &keep_waiting,
        report: Reporter::quiet(),
        leave_running: false,
    };
    Ok(instance::backups::list(&runner, &mut w, &rc, crate::time::now()).await?)
}
