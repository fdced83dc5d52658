//! The backups of an instance, read from their manifests by a short listing Job (mc on
//! the bucket, or a shell on the backups PVC): no Odoo needed. Used by `backups`,
//! `restore` and `clone`.

use super::Error;
use super::job::{JobEnd, JobRunner};
use crate::cluster::kinds::Kind;
use crate::cluster::watch::InstanceWatch;
use crate::plan::backups::{self, BackupInfo};
use crate::render::Ctx;
use crate::render::backup::list_job;
use crate::render::ops_parts::backups_pvc_name;
use crate::render::restore::backup_source;

/// The backups of the instance `ctx` renders, newest first. The listing Job is deleted
/// once read.
pub async fn list(
    runner: &JobRunner<'_>,
    watch: &mut InstanceWatch,
    ctx: &Ctx<'_>,
    now: i64,
) -> Result<Vec<BackupInfo>, Error> {
    let kube = runner.kube;
    if !ctx.d.s3_requested {
        let pvc = Kind::by_name("PersistentVolumeClaim").expect("known");
        if kube.get(pvc, &backups_pvc_name(ctx)).await?.is_none() {
            // No backup was ever written without S3.
            return Ok(vec![]);
        }
    }
    let job = list_job(ctx, now);
    let run = runner.run(watch, &job).await?;
    let kind = Kind::by_name("Job").expect("known");
    match run.end {
        JobEnd::Succeeded => {
            let _ = kube.delete(kind, job.name(), false).await;
            let source = backup_source(ctx);
            Ok(backups::parse(&run.lines, ctx.fullname(), |id| {
                source.location(id)
            }))
        }
        JobEnd::Failed { reason, .. } => {
            let tail: Vec<&str> = run
                .lines
                .iter()
                .rev()
                .take(5)
                .rev()
                .map(String::as_str)
                .collect();
            Err(Error::Unavailable(format!(
                "cannot read the backups of `{}`: {reason}{}",
                ctx.release,
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("\nlast log lines:\n  {}", tail.join("\n  "))
                }
            )))
        }
        JobEnd::Cancelled | JobEnd::LeftRunning(_) => Err(Error::Cancelled(format!(
            "cancelled: Job/{} was deleted",
            job.name()
        ))),
    }
}

/// The capacity of claim `name` as the cluster reports it (else as it asks for), a
/// quantity; `None` when there is no such claim.
pub async fn claim_capacity(
    kube: &crate::cluster::Kube,
    name: &str,
) -> Result<Option<String>, Error> {
    let pvc = Kind::by_name("PersistentVolumeClaim").expect("known");
    Ok(kube.get(pvc, name).await?.and_then(|c| {
        c.pointer("/status/capacity/storage")
            .or_else(|| c.pointer("/spec/resources/requests/storage"))
            .and_then(|q| q.as_str())
            .map(str::to_string)
    }))
}
