//! Taking a backup of an instance: the backup Job (and its PVC when there is no S3),
//! run and followed like any Job. Used by `backup` and, first, by `upgrade`.

use super::Error;
use super::job::{JobEnd, JobRunner};
use crate::cluster::kinds::Kind;
use crate::cluster::watch::InstanceWatch;
use crate::plan;
use crate::render::Ctx;
use crate::render::ops_parts::{BackupKind, BackupTarget, backup_job_of};

/// How a backup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupEnd {
    /// The dump is there.
    Written(BackupTarget),
    /// The Job failed: the message says why, with the log tail and the next step.
    Failed(String),
    /// Aborted after Ctrl-C: the Job was deleted.
    Cancelled { job: String },
}

/// Run the backup Job of the instance `ctx` renders, for record revision `revision`, at
/// unix time `now` (which names the dump): a manual backup. `backend_running`: the
/// backend holds its filestore PVC, so the backup pod goes to the node of one of its pods.
pub async fn run(
    runner: &JobRunner<'_>,
    watch: &mut InstanceWatch,
    ctx: &Ctx<'_>,
    revision: u64,
    now: i64,
    backend_running: bool,
) -> Result<BackupEnd, Error> {
    run_of(
        runner,
        watch,
        ctx,
        BackupKind::Manual,
        revision,
        now,
        backend_running,
    )
    .await
}

/// The same for a backup taken for `kind` (its manifest says so).
pub async fn run_of(
    runner: &JobRunner<'_>,
    watch: &mut InstanceWatch,
    ctx: &Ctx<'_>,
    kind: BackupKind,
    revision: u64,
    now: i64,
    backend_running: bool,
) -> Result<BackupEnd, Error> {
    let mut b = backup_job_of(ctx, kind, revision, now);
    if backend_running && ctx.d.filestore_pvc {
        runner.report.step(&format!(
            "the filestore is on the ReadWriteOnce PVC {} that the running backend holds: the backup pod runs on the node of a backend pod, where the volume is attached",
            crate::render::ops_parts::filestore_pvc_name(ctx)
        ));
        b = b.beside_backend(ctx);
    }
    let kube = runner.kube;
    if let Some(pvc) = &b.pvc {
        let kind = Kind::by_name(pvc.kind()).expect("known");
        if kube.get(kind, pvc.name()).await?.is_none() {
            kube.apply(kind, pvc.name(), &pvc.to_json(), true, false)
                .await?;
            runner.report.step(&format!(
                "PersistentVolumeClaim/{} created for backups",
                pvc.name()
            ));
        }
    }
    runner.report.step(&format!(
        "backing up database `{}` to {}",
        ctx.d.db_name,
        b.target.location()
    ));
    let run = runner.run(watch, &b.job).await?;
    Ok(match run.end {
        JobEnd::Succeeded => {
            runner
                .report
                .step(&format!("backup written: {}", b.target.location()));
            BackupEnd::Written(b.target)
        }
        JobEnd::Failed { reason, next } => {
            BackupEnd::Failed(plan::backup::failure_message(&reason, &run.lines, &next))
        }
        JobEnd::Cancelled | JobEnd::LeftRunning(_) => BackupEnd::Cancelled {
            job: b.job.name().to_string(),
        },
    })
}
