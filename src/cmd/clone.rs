//! `odoo-tui clone SRC NEW [--from ID|latest] [--no-neutralize]`: a new instance from a
//! backup of another (taken on the spot, under SRC's lock, when `--from` is not given).
//! NEW gets SRC's values with its own name, credentials, Secrets and volumes (no
//! Ingress: the hosts are SRC's; `odoo-tui open NEW` reaches it); its datastores come up
//! first, then the backup is restored into its database (the attachment objects copied
//! to its own bucket), then it gets a new `database.uuid` and its own admin password and
//! is neutralized with `odoo neutralize` (verified), and only then does its backend
//! start. NEW's lock is held throughout.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING, backup, parse_timeout};
use crate::cli::{CloneArgs, PlainJson};
use crate::cluster::Kube;
use crate::cluster::apply::{FIRST_BOOT_WAVE, Options};
use crate::cluster::record::{HistoryEntry, HistoryKind, HistoryResult};
use crate::cluster::watch::InstanceWatch;
use crate::instance::job::{JobEnd, JobRunner};
use crate::instance::{self, Reporter};
use crate::plan::backups as plan;
use crate::render::ops_parts::BackupKind;
use crate::render::restore::{RestoreSpec, backup_source, clone_job, restore_job};
use crate::render::{Credentials, Ctx, RenderInput};
use crate::status::Component;
use crate::values::{Loaded, Source, Values};

pub fn run(ctx: &Context, a: CloneArgs) -> Result<(), Error> {
    ctx.block_on(Some(FINISHING), |cancel| clone(ctx, a, cancel))
}

/// The layers that make SRC's values NEW's: no fixed full name, no Ingress (its hosts
/// are SRC's), and with an external server a database of its own. Credentials a clone
/// cannot have of its own (an external server's or bucket's, given inline) are refused.
pub fn layers(src: &Values, new: &str) -> Result<Vec<String>, String> {
    let mut sets = vec![
        "fullnameOverride=".to_string(),
        "ingress.enabled=false".to_string(),
    ];
    if !src.postgresql.enabled {
        if src.external_database.existing_secret.is_empty() {
            return Err("the source's external database password was given inline, and a clone cannot read it back: put it in a Secret (externalDatabase.existingSecret) for the source first".into());
        }
        sets.push(format!(
            "externalDatabase.database={}_{}",
            src.external_database.database,
            new.replace('-', "_")
        ));
    }
    if !src.minio.enabled
        && !src.external_s3.endpoint.is_empty()
        && src.external_s3.existing_secret.is_empty()
    {
        return Err("the source's S3 keys were given inline, and a clone cannot read them back: put them in a Secret (externalS3.existingSecret) for the source first".into());
    }
    Ok(sets)
}

async fn clone(ctx: &Context, a: CloneArgs, cancel: CancellationToken) -> Result<(), Error> {
    let timeout = parse_timeout(&a.timeout)?;
    if !a.yes && !ctx.interactive() {
        return Err(Error::usage(
            "`odoo-tui clone` asks for confirmation, but there is no terminal: pass --yes",
        ));
    }
    if a.src == a.new {
        return Err(Error::usage(
            "SRC and NEW are the same name: a clone is a new instance",
        ));
    }
    let kube = ctx.connect().await?;
    if instance::record::find(&kube, &a.new).await?.is_some() {
        return Err(Error::usage(format!(
            "instance `{}` exists already in namespace `{}`: a clone makes a new instance — pick another name, or restore into `{}` with `odoo-tui restore {}`",
            a.new, kube.namespace, a.new, a.new
        )));
    }
    let left = instance::find::leftovers(&kube, &a.new).await?;
    if !left.is_empty() {
        return Err(Error::usage(format!(
            "`{}` is not a new name in namespace `{}`: odoo-tui objects of an instance of that name are still there ({}; an install that did not finish, or an instance deleted with its data kept). A clone gets its own credentials and volumes: pick another name, or remove them first with `odoo-tui delete {} --delete-data`",
            a.new,
            kube.namespace,
            left.join(", "),
            a.new
        )));
    }
    let (command, force) = (format!("clone {} {}", a.src, a.new), a.force_unlock);
    let new = a.new.clone();
    let work = clone_locked(ctx, a, kube.clone(), timeout, &cancel);
    instance::lock::with(&kube, &new, &command, force, &cancel, work).await
}

async fn clone_locked(
    ctx: &Context,
    a: CloneArgs,
    kube: Kube,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let report = Reporter::new(a.output == PlainJson::Json);
    let (src, new) = (a.src.as_str(), a.new.as_str());
    let (src_loaded, src_rec) = instance::values::recorded(&kube, src, &[]).await?;
    let sets = layers(&src_loaded.values, new).map_err(Error::usage)?;
    let sources: Vec<Source> = sets
        .iter()
        .map(|s| Source::set(s))
        .collect::<Result<_, _>>()?;
    let origin = format!("instance record of `{src}`");
    let new_loaded: Loaded = crate::values::load_over_record(&origin, &src_rec.values, &sources)?;
    crate::values::validate::validate_release(new, &new_loaded.values).map_err(Error::usage)?;
    let creds = Credentials::default();
    let src_input = RenderInput {
        release: src,
        namespace: &kube.namespace,
        values: &src_loaded.values,
        credentials: &creds,
    };
    let rc_src = Ctx::new(&src_input)?;
    let started = crate::time::now();
    let deadline = Instant::now() + timeout;
    // On the dashboard, a Job past the deadline is not asked about: it fails as without
    // a terminal.
    let live = ctx.interactive() && !ctx.plain && a.output == PlainJson::Plain;
    let keep_waiting = |job: &str| !live && ctx.keep_waiting(job);

    // 1. The backup: the one named, or one taken now under SRC's lock.
    let mut ws = InstanceWatch::start(&kube, src);
    ws.ready().await;
    let src_runner = JobRunner {
        kube: &kube,
        release: src,
        component: Component::Backup,
        deadline,
        cancel,
        keep_waiting: &keep_waiting,
        report: Reporter::quiet(),
        leave_running: false,
    };
    let id = match &a.from {
        Some(from) => {
            let list = instance::backups::list(&src_runner, &mut ws, &rc_src, started).await?;
            plan::pick(&list, from, src)
                .map_err(Error::usage)?
                .id
                .clone()
        }
        None => {
            let runner = JobRunner {
                report,
                ..src_runner
            };
            let src_running = instance::maintenance::backend_running(&ws);
            let work = async {
                let end = instance::backup::run_of(
                    &runner,
                    &mut ws,
                    &rc_src,
                    BackupKind::Clone,
                    src_rec.revision,
                    started,
                    src_running,
                )
                .await;
                backup::outcome(end).map_err(|e| e.with_note("nothing was created"))
            };
            let t = instance::lock::with(
                &kube,
                src,
                &format!("backup {src} for clone {new}"),
                false,
                cancel,
                work,
            )
            .await?;
            let file = t.location();
            let file = file.rsplit('/').next().unwrap_or_default().to_string();
            file.trim_end_matches(".dump").to_string()
        }
    };
    report.step(&format!(
        "clone `{src}` as `{new}` from backup {id}{}",
        if a.no_neutralize {
            ", NOT neutralized"
        } else {
            ", neutralized"
        }
    ));
    if !a.yes && !ctx.confirm(&format!("Create `{new}` from backup {id} of `{src}`?")) {
        return Err(Error::cancelled("cancelled: nothing was created"));
    }

    let rest = async {
        // 2. NEW's credentials, volumes and datastores, up to first boot.
        let opts = Options {
            force: false,
            dry_run: false,
            timeout,
            typed: Default::default(),
            revision: Some(1),
            maintenance_until_ready: false,
        };
        let incomplete = |e: Error| {
            e.with_note(&format!(
            "`{new}` is incomplete and its backend never started; remove it with `odoo-tui delete {new} --delete-data`, then clone again"
        ))
        };
        instance::apply::with_lines_until(
            &kube,
            new,
            &new_loaded,
            &opts,
            report,
            cancel,
            FIRST_BOOT_WAVE,
        )
        .await
        .map_err(|e| incomplete(e.into()))?;

        // 3. The backup restored into NEW's database, its objects into NEW's bucket.
        let new_input = RenderInput {
            release: new,
            namespace: &kube.namespace,
            values: &new_loaded.values,
            credentials: &creds,
        };
        let rc_new = Ctx::new(&new_input)?;
        let mut wn = InstanceWatch::start(&kube, new);
        wn.ready().await;
        let runner = JobRunner {
            kube: &kube,
            release: new,
            component: Component::Restore,
            deadline,
            cancel,
            keep_waiting: &keep_waiting,
            report,
            leave_running: false,
        };
        let spec = RestoreSpec {
            id: id.clone(),
            source: backup_source(&rc_src),
        };
        let job = restore_job(&rc_new, &spec, started);
        expect_success(&runner, &mut wn, &job, "the restore")
            .await
            .map_err(incomplete)?;

        // 4. Its own identity, neutralized and verified, before its backend ever starts.
        let identity = clone_job(&rc_new, !a.no_neutralize, crate::time::now());
        expect_success(
            &JobRunner {
                component: Component::Clone,
                ..runner
            },
            &mut wn,
            &identity,
            "the neutralization",
        )
        .await
        .map_err(incomplete)?;

        // 5. The rest: first boot finds the database initialised, the backend starts.
        instance::apply::with_lines(&kube, new, &new_loaded, &opts, report, cancel)
            .await
            .map_err(|e| incomplete(e.into()))?;
        let entry = HistoryEntry {
            time: started,
            kind: HistoryKind::Restore,
            modules: vec![],
            image: Some(new_loaded.values.backend.image.reference()),
            backup_location: Some(spec.source.location(&id)),
            result: HistoryResult::Succeeded,
            revision: 1,
            detail: Some(format!(
                "clone of `{src}`{}",
                if a.no_neutralize { "" } else { ", neutralized" }
            )),
            upgrade: None,
        };
        instance::record::append_history(&kube, new, &new_loaded, entry, None).await?;
        report.outcome(
        || {
            format!(
                "\n`{new}` is a clone of `{src}` (backup {id}){}; reach it with `odoo-tui open {new}`, its admin password with `odoo-tui credentials {new}`",
                if a.no_neutralize {
                    ", NOT neutralized: it may send mail and run crons like its source"
                } else {
                    ", neutralized"
                }
            )
        },
        || {
            serde_json::json!({
                "result": "succeeded",
                "source": src,
                "backup": id,
                "neutralized": !a.no_neutralize,
            })
        },
    );
        Ok::<(), Error>(())
    };
    if live {
        let op = format!("clone {src} as {new} from backup {id}");
        instance::live::operation(&kube, new, &op, ctx.no_color, cancel, rest).await
    } else {
        rest.await
    }
}

/// Run a Job and require its success.
async fn expect_success(
    runner: &JobRunner<'_>,
    watch: &mut InstanceWatch,
    job: &crate::render::Object,
    what: &str,
) -> Result<(), Error> {
    let run = runner.run(watch, job).await?;
    match run.end {
        JobEnd::Succeeded => Ok(()),
        JobEnd::Failed { reason, next } => {
            let from = run.lines.len().saturating_sub(8);
            Err(Error::not_ready(format!(
                "{what} failed: {reason}\nlast log lines:\n  {}\nnext step: {next}",
                run.lines[from..].join("\n  ")
            )))
        }
        JobEnd::Cancelled | JobEnd::LeftRunning(_) => Err(Error::cancelled(format!(
            "cancelled: Job/{} was deleted",
            job.name()
        ))),
    }
}
