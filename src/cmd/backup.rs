//! `odoo-tui backup [NAME]`: the backup Job on demand (pg_dump to the bucket, or to a PVC
//! without S3); prints where the dump went and records it in the instance's history.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING};
use crate::cli::BackupArgs;
use crate::cluster::Kube;
use crate::cluster::record::{HistoryEntry, HistoryKind, HistoryResult};
use crate::instance::backup::BackupEnd;
use crate::instance::{self, Instance, Reporter};
use crate::render::ops_parts::BackupTarget;
use crate::status::Component;

pub fn run(ctx: &Context, a: BackupArgs) -> Result<(), Error> {
    ctx.block_on(Some(FINISHING), |cancel| backup(ctx, a, cancel))
}

/// Where a backup went, or the command error its end means.
pub fn outcome(end: Result<BackupEnd, instance::Error>) -> Result<BackupTarget, Error> {
    match end? {
        BackupEnd::Written(t) => Ok(t),
        BackupEnd::Failed(message) => Err(Error::not_ready(message)),
        BackupEnd::Cancelled { job } => Err(Error::cancelled(format!(
            "cancelled: the backup Job/{job} was deleted"
        ))),
    }
}

/// The first line of an error, for the history.
pub fn first_line(e: &Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

async fn backup(ctx: &Context, a: BackupArgs, cancel: CancellationToken) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name).await?;
    let command = format!("backup {name}");
    let work = backup_locked(ctx, &kube, &name, &cancel);
    instance::lock::with(&kube, &name, &command, a.force_unlock, &cancel, work).await
}

/// The backup of `name`, its lock held.
async fn backup_locked(
    ctx: &Context,
    kube: &Kube,
    name: &str,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let inst = Instance::open(kube.clone(), name.to_string()).await?;
    let v = &inst.loaded.values;
    if !v.backup.enabled {
        return Err(Error::usage(format!(
            "backups are switched off for `{name}` (backup.enabled=false) — turn them on with `odoo-tui new {name} --yes --set backup.enabled=true`"
        )));
    }
    let rc = inst.render_ctx()?;
    let started = crate::time::now();
    let deadline =
        Instant::now() + Duration::from_secs(v.backup.active_deadline_seconds.max(1) as u64 + 120);
    let mut w = inst.watch().await;
    let keep_waiting = |job: &str| ctx.keep_waiting(job);
    let runner = inst.job_runner(
        Component::Backup,
        deadline,
        cancel,
        &keep_waiting,
        Reporter::default(),
    );
    let revision = inst.record.revision;
    let running = instance::maintenance::backend_running(&w);
    let result =
        outcome(instance::backup::run(&runner, &mut w, &rc, revision, started, running).await);
    let entry = HistoryEntry {
        time: started,
        kind: HistoryKind::Backup,
        modules: vec![],
        image: None,
        backup_location: result.as_ref().ok().map(BackupTarget::location),
        result: if result.is_ok() {
            HistoryResult::Succeeded
        } else {
            HistoryResult::Failed
        },
        revision,
        detail: result.as_ref().err().map(first_line),
        upgrade: None,
    };
    inst.append_history(entry, None).await?;
    let t = result?;
    let _ = writeln!(std::io::stdout().lock(), "{}", t.location());
    Ok(())
}
