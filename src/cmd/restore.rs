//! `odoo-tui restore [NAME] [--from ID|latest]`: bring a backup back. In order, the lock
//! held: the backup chosen and checked (its image, the database volume's room) before
//! anything changes; a safety backup of the current database (unless
//! `--no-safety-backup`); the backend stopped (the maintenance page with nginx); the
//! restore Job (the backup restored beside the current database, then both swapped);
//! the backend started on the backup's image (or the current one with `--keep-image`)
//! through the apply engine, smoke check included; then the replaced database dropped.
//! Any failure after the backend stopped swaps the replaced database back and starts the
//! backend on its previous image: the instance is as it was before the command.
//! During an open upgrade (docs/ARCHITECTURE.md, "Upgrades") it refuses while the
//! upgrade Job runs, and closes the upgrade once done; after a failure it never starts
//! the previous image on a database the upgrade touched: the backend stays stopped.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING, backup, parse_timeout};
use crate::cli::{PlainJson, RestoreArgs};
use crate::cluster::Kube;
use crate::cluster::record::{HistoryEntry, HistoryKind, HistoryResult};
use crate::cluster::watch::InstanceWatch;
use crate::instance::apply::Rollout;
use crate::instance::job::{JobEnd, JobRunner};
use crate::instance::{self, Reporter, maintenance};
use crate::plan::backups as plan;
use crate::plan::upgrade as upgrade_plan;
use crate::render::ops_parts::{BackupKind, BackupTarget};
use crate::render::restore::{
    RestoreSpec, RestoreStep, backup_source, database_claim, filestore_claim, restore_job,
    restore_step_job,
};
use crate::render::{Credentials, Ctx, RenderInput};
use crate::status::Component;
use crate::values::Loaded;

pub fn run(ctx: &Context, a: RestoreArgs) -> Result<(), Error> {
    ctx.block_on(Some(FINISHING), |cancel| restore(ctx, a, cancel))
}

async fn restore(ctx: &Context, a: RestoreArgs, cancel: CancellationToken) -> Result<(), Error> {
    let timeout = parse_timeout(&a.timeout)?;
    if !a.yes && !ctx.interactive() {
        return Err(Error::usage(
            "`odoo-tui restore` replaces the database and asks for confirmation, but there is no terminal: pass --yes",
        ));
    }
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name.clone()).await?;
    let (command, force) = (format!("restore {name}"), a.force_unlock);
    let work = restore_locked(ctx, a, kube.clone(), name.clone(), timeout, &cancel);
    instance::lock::with(&kube, &name, &command, force, &cancel, work).await
}

/// The restore of `name`, its lock held.
async fn restore_locked(
    ctx: &Context,
    a: RestoreArgs,
    kube: Kube,
    name: String,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let report = Reporter::new(a.output == PlainJson::Json);
    let (loaded, rec) = instance::values::recorded(&kube, &name, &[]).await?;
    let v = &loaded.values;
    if !v.backup.enabled {
        return Err(Error::usage(format!(
            "backups are switched off for `{name}` (backup.enabled=false): there is nothing to restore"
        )));
    }
    // An open upgrade: never while its Job runs `-u`; otherwise the restore replaces the
    // database it left and closes it. Once the upgrade touched the database, no failure
    // of the restore starts the previous image on it.
    let upgrading = upgrade_plan::open_upgrade(&rec.history).map(|i| rec.history[i].clone());
    if let Some(u) = upgrading.as_ref().and_then(|e| e.upgrade.as_ref())
        && let (Some(job), Some(uid)) = (&u.job, &u.job_uid)
        && instance::job::still_running(&kube, job, uid).await?
    {
        return Err(Error::failure(upgrade_plan::job_running_refusal(
            &format!("restore {name}"),
            &name,
            &kube.namespace,
            job,
        )));
    }
    let keep_stopped = upgrading
        .as_ref()
        .and_then(|e| e.upgrade.as_ref())
        .is_some_and(|u| u.phase.touched_database());
    let creds = Credentials::default();
    let input = RenderInput {
        release: &name,
        namespace: &kube.namespace,
        values: &loaded.values,
        credentials: &creds,
    };
    let rc = Ctx::new(&input)?;
    let started = crate::time::now();
    let deadline = Instant::now() + timeout;
    let mut w = InstanceWatch::start(&kube, &name);
    w.ready().await;
    // On the dashboard, a Job past the deadline is not asked about: it fails as without
    // a terminal.
    let live = ctx.interactive() && !ctx.plain && a.output == PlainJson::Plain;
    let keep_waiting = |job: &str| !live && ctx.keep_waiting(job);
    let quiet = JobRunner {
        kube: &kube,
        release: &name,
        component: Component::Backup,
        deadline,
        cancel,
        keep_waiting: &keep_waiting,
        report: Reporter::quiet(),
        leave_running: false,
    };

    // 1. Which backup, and whether it can come back: before anything changes.
    let list = instance::backups::list(&quiet, &mut w, &rc, started).await?;
    let chosen = plan::pick(&list, &a.from, &name)
        .map_err(Error::usage)?
        .clone();
    let current_image = v.backend.image.reference();
    plan::image_check(&chosen, &current_image, a.keep_image).map_err(Error::usage)?;
    let newest = list.first();
    let mut rooms = Vec::new();
    if let Some(claim) = database_claim(&rc) {
        let used = newest.map(|c| c.database_bytes).unwrap_or(0);
        let configured = &v.postgresql.persistence.size;
        rooms.push((
            claim,
            configured,
            "postgresql.persistence.size",
            "database",
            used,
            chosen.database_bytes,
        ));
    }
    if let Some(claim) = filestore_claim(&rc)
        && chosen.contents.contains("filestore")
    {
        let used = newest.map(|c| c.filestore_bytes).unwrap_or(0);
        let configured = &v.backend.persistence.size;
        rooms.push((
            claim,
            configured,
            "backend.persistence.size",
            "filestore",
            used,
            chosen.filestore_bytes,
        ));
    }
    for (claim, configured, setting, what, used, need) in rooms {
        let capacity = instance::backups::claim_capacity(&kube, &claim)
            .await?
            .unwrap_or_else(|| configured.clone());
        let room = plan::Room {
            what,
            claim,
            capacity,
            setting,
        };
        plan::room_check(&room, used, need, &chosen.id).map_err(Error::usage)?;
    }
    let image = if a.keep_image {
        current_image.clone()
    } else {
        chosen.image.clone()
    };
    report.step(&format!(
        "restore `{name}` in namespace `{}` from backup {} ({}, {}, {}) on {image}, {}",
        kube.namespace,
        chosen.id,
        chosen.time,
        chosen.kind,
        chosen.contents,
        if a.no_safety_backup {
            "NO safety backup"
        } else {
            "safety backup first"
        }
    ));
    if let Some(e) = &upgrading {
        report.step(&upgrade_plan::restore_closes(&name, e));
    }
    if !a.yes
        && !ctx.confirm(&format!(
            "Replace the database of `{name}` with backup {}?",
            chosen.id
        ))
    {
        return Err(Error::cancelled("cancelled: nothing was changed"));
    }
    let rest = async {
        let runner = JobRunner { report, ..quiet };
        let restoring = JobRunner {
            component: Component::Restore,
            ..runner
        };
        let history = |result: HistoryResult,
                       safety: &Option<BackupTarget>,
                       detail: Option<String>,
                       revision: u64| {
            let e = HistoryEntry {
                time: started,
                kind: HistoryKind::Restore,
                modules: vec![],
                image: Some(image.clone()),
                backup_location: Some(chosen.location.clone()),
                result,
                revision,
                detail: detail.or_else(|| {
                    safety
                        .as_ref()
                        .map(|s| format!("safety backup {}", s.location()))
                }),
                upgrade: None,
            };
            let rev = (revision != rec.revision).then_some(revision);
            instance::record::append_history(&kube, &name, &loaded, e, rev)
        };

        // 2. The safety backup.
        let safety = if a.no_safety_backup {
            None
        } else {
            let running = maintenance::backend_running(&w);
            let end = instance::backup::run_of(
                &runner,
                &mut w,
                &rc,
                BackupKind::PreRestore,
                rec.revision,
                started,
                running,
            )
            .await;
            match backup::outcome(end) {
                Ok(t) => {
                    let entry = HistoryEntry {
                        time: started,
                        kind: HistoryKind::Backup,
                        modules: vec![],
                        image: None,
                        backup_location: Some(t.location()),
                        result: HistoryResult::Succeeded,
                        revision: rec.revision,
                        detail: Some("safety backup before a restore".into()),
                        upgrade: None,
                    };
                    instance::record::append_history(&kube, &name, &loaded, entry, None).await?;
                    Some(t)
                }
                Err(e) => {
                    history(
                        HistoryResult::Failed,
                        &None,
                        Some(backup::first_line(&e)),
                        rec.revision,
                    )
                    .await?;
                    return Err(e.with_note("nothing was restored: the safety backup failed and the backend was not touched"));
                }
            }
        };

        // 3. The backend stopped.
        if let Err(e) = maintenance::enter(&kube, &rc, &mut w, deadline, report).await {
            if keep_stopped {
                return Err(Error::from(e).with_note(&upgrade_kept(&name)));
            }
            maintenance::leave(
                &kube,
                &rc,
                v.backend.replica_count,
                &mut w,
                deadline,
                report,
            )
            .await?;
            return Err(e.into());
        }

        // 4. The restore Job: restored beside, then swapped.
        let spec = RestoreSpec {
            id: chosen.id.clone(),
            source: backup_source(&rc),
        };
        let job = restore_job(&rc, &spec, started);
        report.step(&format!(
            "restoring backup {} ({})",
            chosen.id, chosen.location
        ));
        let end = restoring.run(&mut w, &job).await;
        let failure = match end {
            Ok(r) => match r.end {
                JobEnd::Succeeded => None,
                JobEnd::Failed { reason, next } => Some(Error::not_ready(format!(
                    "the restore failed: {reason}{}\nnext step: {next}",
                    tail(&r.lines)
                ))),
                JobEnd::Cancelled | JobEnd::LeftRunning(_) => Some(Error::cancelled(format!(
                    "cancelled: Job/{} was deleted",
                    job.name()
                ))),
            },
            Err(e) => Some(e.into()),
        };
        if let Some(e) = failure {
            let back = put_back(
                &restoring,
                &mut w,
                &rc,
                &kube,
                &name,
                &loaded,
                rec.revision,
                report,
                !keep_stopped,
            )
            .await;
            history(
                HistoryResult::Failed,
                &safety,
                Some(backup::first_line(&e)),
                rec.revision,
            )
            .await?;
            return Err(e.with_note(&as_before(back, keep_stopped, &name)));
        }
        report.step(&format!(
            "Job/{} succeeded: the backup's database is in place",
            job.name()
        ));

        // 5. The backend started on the backup's image, smoke check included.
        let revision = rec.revision + 1;
        let sets = plan::image_sets(&v.backend.image, &image);
        let (new_loaded, _) = instance::values::recorded(&kube, &name, &sets).await?;
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or(Duration::from_secs(60));
        if let Err(e) = instance::apply::rollout(
            &kube,
            &name,
            &new_loaded,
            Rollout {
                revision,
                timeout: left,
                maintenance_until_ready: true,
            },
            report,
            cancel,
        )
        .await
        .map_err(Error::from)
        {
            report.step("the backend did not come up on the restored database: putting back the database it replaced");
            let back = put_back(
                &restoring,
                &mut w,
                &rc,
                &kube,
                &name,
                &loaded,
                rec.revision,
                report,
                !keep_stopped,
            )
            .await;
            history(
                HistoryResult::Failed,
                &safety,
                Some(format!("rollout: {}", backup::first_line(&e))),
                rec.revision,
            )
            .await?;
            return Err(Error::not_ready(format!(
                "the backend did not become ready on the restored database: {e}"
            ))
            .with_note(&as_before(back, keep_stopped, &name)));
        }

        // 6. Final: the replaced database and files dropped.
        let commit = restore_step_job(&rc, RestoreStep::Commit, crate::time::now());
        let dropped = matches!(
            restoring.run(&mut w, &commit).await.map(|r| r.end),
            Ok(JobEnd::Succeeded)
        );
        if !dropped {
            report.step(&format!(
            "the database the restore replaced is still kept as {}_previous: drop it when you no longer need it",
            rc.d.db_name
        ));
        }
        if let Some(mut e) = upgrading {
            e.result = HistoryResult::Failed;
            e.revision = rec.revision;
            e.detail = Some(upgrade_plan::closed_by_restore(&chosen.id, &image));
            instance::record::put_entry(&kube, &name, &loaded, e, None).await?;
            report.step("the open upgrade is closed");
        }
        history(HistoryResult::Succeeded, &safety, None, revision).await?;
        report.outcome(
            || {
                format!(
                    "\n`{name}` restored from backup {} on {image} (revision {revision}){}",
                    chosen.id,
                    safety
                        .as_ref()
                        .map(|s| format!(
                            "; the database before it is in safety backup {}",
                            s.location()
                        ))
                        .unwrap_or_default()
                )
            },
            || {
                serde_json::json!({
                    "result": "succeeded",
                    "backup": chosen.id,
                    "image": image,
                    "revision": revision,
                    "safetyBackup": safety.as_ref().map(BackupTarget::location),
                })
            },
        );
        Ok::<(), Error>(())
    };
    if live {
        let op = format!("restore {name} from backup {}", chosen.id);
        instance::live::operation(&kube, &name, &op, ctx.no_color, cancel, rest).await
    } else {
        rest.await
    }
}

/// The last log lines of a failed Job, as a message's tail.
fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let from = lines.len().saturating_sub(8);
    format!("\nlast log lines:\n  {}", lines[from..].join("\n  "))
}

/// What a failure says when the open upgrade keeps the backend stopped.
fn upgrade_kept(name: &str) -> String {
    format!(
        "the backend stays stopped as the open upgrade left it (its database may be migrated): `odoo-tui upgrade {name} --resume`, `--abort`, or this restore again"
    )
}

/// What the message says about the instance once [`put_back`] ran (`kept_stopped`: it
/// put the database back but left the backend stopped for the open upgrade).
fn as_before(back: Result<(), Error>, kept_stopped: bool, name: &str) -> String {
    match back {
        Ok(()) if kept_stopped => format!(
            "the database the restore replaced is back in place; {}",
            upgrade_kept(name)
        ),
        Ok(()) => {
            "the instance is as it was before the command: its database, files, image and replicas"
                .into()
        }
        Err(e) => format!(
            "putting the instance back failed too ({e}): its previous database is kept as <db>_previous; run `odoo-tui restore` again or ask for help before anything else"
        ),
    }
}

/// After a failure once the backend is stopped: the replaced database and files swapped
/// back (whatever point the restore reached), then, with `start`, the backend on its
/// previous values (not during an upgrade that touched the database: see the caller).
#[allow(clippy::too_many_arguments)]
async fn put_back(
    runner: &JobRunner<'_>,
    watch: &mut InstanceWatch,
    rc: &Ctx<'_>,
    kube: &Kube,
    name: &str,
    loaded: &Loaded,
    revision: u64,
    report: Reporter,
    start: bool,
) -> Result<(), Error> {
    let undo = restore_step_job(rc, RestoreStep::Undo, crate::time::now());
    let never = CancellationToken::new();
    let patient = JobRunner {
        cancel: &never,
        deadline: Instant::now()
            + Duration::from_secs(rc.v.backup.active_deadline_seconds.max(60) as u64 + 120),
        keep_waiting: runner.keep_waiting,
        ..*runner
    };
    let run = patient.run(watch, &undo).await?;
    if run.end != JobEnd::Succeeded {
        return Err(Error::not_ready(format!(
            "Job/{} did not put the database back{}",
            undo.name(),
            tail(&run.lines)
        )));
    }
    if !start {
        return Ok(());
    }
    instance::apply::rollout(
        kube,
        name,
        loaded,
        Rollout {
            revision,
            timeout: Duration::from_secs(600),
            maintenance_until_ready: true,
        },
        report,
        &never,
    )
    .await
    .map_err(Error::from)
}
