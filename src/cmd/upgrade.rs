//! `odoo-tui upgrade [NAME] --modules a,b | --all`: a backup first, the maintenance page
//! and the backend scaled to zero (maintenance strategy), the upgrade Job with its log
//! live, then the backend rolled to the target image through the apply engine; on
//! failure the old image and replicas come back, with the restore command (exit 3). The
//! outcome goes into the instance record's history.
//!
//! The decisions are `plan::upgrade`; this file orders the steps.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING, backup, parse_timeout};
use crate::cli::{self, PlainJson, UpgradeArgs};
use crate::cluster::Kube;
use crate::cluster::record::{HistoryEntry, HistoryKind, HistoryResult};
use crate::instance::apply::Rollout;
use crate::instance::job::{JobEnd, JobRunner};
use crate::instance::{self, Instance, Reporter, maintenance};
use crate::plan::upgrade::{self as plan, ModuleChoice, Strategy};
use crate::render::ops_parts::{BackupKind, BackupTarget, UpgradeSpec, upgrade_job};
use crate::status::Component;

impl From<cli::Strategy> for Strategy {
    fn from(s: cli::Strategy) -> Strategy {
        match s {
            cli::Strategy::Online => Strategy::Online,
            cli::Strategy::Maintenance => Strategy::Maintenance,
        }
    }
}

pub fn run(ctx: &Context, a: UpgradeArgs) -> Result<(), Error> {
    ctx.block_on(Some(FINISHING), |cancel| upgrade(ctx, a, cancel))
}

async fn upgrade(ctx: &Context, a: UpgradeArgs, cancel: CancellationToken) -> Result<(), Error> {
    let timeout = parse_timeout(&a.timeout)?;
    let choice = plan::module_choice(a.modules.as_deref(), a.all, ctx.interactive())
        .map_err(Error::usage)?;
    if let Some(t) = &a.image_tag {
        plan::check_tag(t).map_err(Error::usage)?;
    }
    if !a.yes && !ctx.interactive() {
        return Err(Error::usage(
            "`odoo-tui upgrade` asks for confirmation, but there is no terminal: pass --yes",
        ));
    }
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name.clone()).await?;
    let (command, force) = (format!("upgrade {name}"), a.force_unlock);
    let work = upgrade_locked(ctx, a, kube.clone(), name.clone(), choice, timeout, &cancel);
    instance::lock::with(&kube, &name, &command, force, &cancel, work).await
}

/// The upgrade of `name`, its lock held.
async fn upgrade_locked(
    ctx: &Context,
    a: UpgradeArgs,
    kube: Kube,
    name: String,
    choice: ModuleChoice,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let report = Reporter::new(a.output == PlainJson::Json);
    let inst = Instance::open(kube, name).await?;
    let (kube, name, loaded, rec) = (&inst.kube, inst.name.as_str(), &inst.loaded, &inst.record);
    let modules = match choice {
        ModuleChoice::Given(m) => m,
        ModuleChoice::Ask => {
            let typed = ctx
                .ask_text(
                    "Modules to upgrade (comma-separated, or `all`):",
                    "e.g. sale,account — Esc to cancel",
                )
                .ok_or_else(|| {
                    Error::cancelled("cancelled: no module was chosen, nothing was changed")
                })?;
            plan::parse_module_list(&typed).map_err(Error::usage)?
        }
    };
    let v = &loaded.values;
    let strategy = plan::pick_strategy(a.strategy.map(Strategy::from));
    let image = plan::target_image(&v.backend.image, a.image_tag.as_deref());
    let image_changes = plan::image_changes(&v.backend.image, &image);
    plan::check_online(strategy, image_changes, a.accept_online_image_change)
        .map_err(Error::usage)?;
    let revision = rec.revision + 1;
    let backup_on = !a.no_backup && v.backup.enabled;
    let rc = inst.render_ctx()?;
    let modules = plan::job_modules(
        &modules,
        image_changes,
        &plan::own_modules(&rc.d, &loaded.values),
    );

    report.step(&format!(
        "upgrade `{name}` in namespace `{}`: modules {}, image {}, strategy {}, {}",
        kube.namespace,
        modules.arg(),
        image.reference(),
        strategy.describe(v.nginx.enabled),
        if backup_on {
            "backup first"
        } else {
            "NO backup"
        }
    ));
    if !a.no_backup && !v.backup.enabled {
        report.step("backup.enabled is false: no backup is taken");
    }
    if strategy == Strategy::Online {
        report.step(plan::ONLINE_WARNING);
        if rc.d.filestore_pvc {
            report.step("the filestore is a ReadWriteOnce PVC that the running backend holds: the upgrade Job runs on the node of a backend pod, where the volume is attached");
        }
    }
    if !a.yes && !ctx.confirm(&format!("Upgrade `{name}` now?")) {
        return Err(Error::cancelled("cancelled: nothing was changed"));
    }

    let started = crate::time::now();
    let deadline = Instant::now() + timeout;
    let mut w = inst.watch().await;
    let keep_waiting = |job: &str| ctx.keep_waiting(job);
    let runner = inst.job_runner(Component::Backup, deadline, cancel, &keep_waiting, report);
    let entry = |result: HistoryResult,
                 backup: &Option<BackupTarget>,
                 detail: Option<String>,
                 revision: u64| HistoryEntry {
        time: started,
        kind: HistoryKind::Upgrade,
        modules: modules.names(),
        image: Some(image.reference()),
        backup_location: backup.as_ref().map(BackupTarget::location),
        result,
        revision,
        detail,
    };
    let failed = |backup: &Option<BackupTarget>, detail: String| {
        entry(HistoryResult::Failed, backup, Some(detail), rec.revision)
    };
    let history = |e: HistoryEntry, revision: Option<u64>| inst.append_history(e, revision);

    // 1. Backup.
    let backup = if backup_on {
        let end = instance::backup::run_of(
            &runner,
            &mut w,
            &rc,
            BackupKind::PreUpgrade,
            rec.revision,
            started,
        )
        .await;
        match backup::outcome(end) {
            Ok(t) => Some(t),
            Err(e) => {
                history(failed(&None, backup::first_line(&e)), None).await?;
                return Err(e.with_note("nothing was upgraded: the backend was not touched"));
            }
        }
    } else {
        None
    };
    let hint = backup.as_ref().map(|t| {
        crate::plan::backup::restore_hint(
            t,
            &kube.namespace,
            name,
            &rc.d,
            v.postgresql.enabled,
            &v.postgresql.image.reference(),
        )
    });

    // 2. Maintenance: page on, backend to zero through the scale subresource.
    if strategy == Strategy::Maintenance
        && let Err(e) = maintenance::enter(kube, &rc, &mut w, deadline, report).await
    {
        maintenance::leave(kube, &rc, strategy, report).await?;
        return Err(e.into());
    }

    // 3. The upgrade Job.
    let job = upgrade_job(
        &rc,
        &UpgradeSpec {
            modules: modules.clone(),
            image: image.clone(),
            revision,
            beside_backend: strategy == Strategy::Online,
        },
    );
    report.step(&format!(
        "upgrading modules {} with {}",
        modules.arg(),
        image.reference(),
    ));
    let runner = JobRunner {
        component: Component::Upgrade,
        ..runner
    };
    let run = match runner.run(&mut w, &job).await {
        Ok(r) => r,
        Err(e) => {
            maintenance::leave(kube, &rc, strategy, report).await?;
            return Err(e.into());
        }
    };
    match run.end {
        JobEnd::Succeeded => {}
        JobEnd::Failed { reason, next } => {
            maintenance::leave(kube, &rc, strategy, report).await?;
            history(failed(&backup, reason.clone()), None).await?;
            return Err(Error::not_ready(plan::failure_message(
                &reason,
                &run.lines,
                &v.backend.image.reference(),
                &next,
                hint.as_deref(),
            )));
        }
        JobEnd::Cancelled => {
            maintenance::leave(kube, &rc, strategy, report).await?;
            history(failed(&backup, "cancelled by the user".into()), None).await?;
            return Err(Error::cancelled(format!(
                "cancelled: Job/{} was deleted and the backend restored on {}",
                job.name(),
                v.backend.image.reference()
            )));
        }
    }
    report.step(&format!("Job/{} succeeded", job.name()));

    // 4. Roll the backend to the target image through the apply engine (this also
    //    restores the replicas and switches the maintenance page off).
    let sets = plan::image_sets(&v.backend.image, &image);
    let (new_loaded, _) = instance::values::recorded(kube, name, &sets).await?;
    let left = deadline
        .checked_duration_since(Instant::now())
        .unwrap_or(Duration::from_secs(1));
    if let Err(e) = instance::apply::rollout(
        kube,
        name,
        &new_loaded,
        Rollout {
            revision,
            timeout: left,
            maintenance_until_ready: false,
        },
        report,
        cancel,
    )
    .await
    .map_err(Error::from)
    {
        // Back to the previous image and replicas; the failure is recorded.
        report.step("the rollout failed: putting the backend back on its previous image");
        let back = instance::apply::rollout(
            kube,
            name,
            loaded,
            Rollout {
                revision: rec.revision,
                timeout: Duration::from_secs(600),
                maintenance_until_ready: false,
            },
            report,
            &CancellationToken::new(),
        )
        .await
        .map_err(Error::from);
        if back.is_err() {
            let _ = maintenance::leave(kube, &rc, strategy, report).await;
        }
        let detail = format!("rollout: {}", backup::first_line(&e));
        history(failed(&backup, detail), None).await?;
        let mut message = format!(
            "the modules were upgraded but the backend did not become ready on {}: {e}",
            image.reference()
        );
        if let Some(h) = &hint {
            message.push('\n');
            message.push_str(&h.join("\n"));
        }
        return Err(if e.exit() == super::Exit::Cancelled {
            Error::cancelled(message)
        } else {
            Error::not_ready(message)
        });
    }
    history(
        entry(HistoryResult::Succeeded, &backup, None, revision),
        Some(revision),
    )
    .await?;
    report.emit(
        || {
            format!(
                "\n`{name}` upgraded: modules {} on {} (revision {revision}){}",
                modules.arg(),
                image.reference(),
                backup
                    .as_ref()
                    .map(|b| format!(", backup {}", b.location()))
                    .unwrap_or_default()
            )
        },
        || {
            serde_json::json!({
                "result": "succeeded",
                "modules": modules.names(),
                "image": image.reference(),
                "revision": revision,
                "backup": backup.as_ref().map(BackupTarget::location),
            })
        },
    );
    Ok(())
}
