//! `odoo-tui upgrade [NAME] --modules a,b | --all`, `--resume` and `--abort` (see
//! docs/ARCHITECTURE.md, "Upgrades"). A new upgrade writes a `running` history entry
//! first, then: the backup (after the backend is stopped when the filestore is on its
//! ReadWriteOnce PVC), the backend stopped with the maintenance page on (unless
//! `--strategy online`), the upgrade Job with its log live, and the rollout on the
//! target image with its own timeout, the page staying on until the backend is ready.
//! Each step is recorded in the entry as it ends, so that an interrupted upgrade can be
//! resumed or aborted. A failed Job or rollout leaves the backend stopped and the entry
//! open, with the ways out; the previous image is put back only by `--abort`.
//!
//! The decisions and messages are `plan::upgrade`; this file orders the steps.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Context, Error, Exit, FINISHING, backup, parse_timeout};
use crate::cli::{self, PlainJson, UpgradeArgs};
use crate::cluster::Kube;
use crate::cluster::kinds::Kind;
use crate::cluster::record::{
    HistoryEntry, HistoryKind, HistoryResult, UpgradePhase, UpgradeState,
};
use crate::cluster::watch::InstanceWatch;
use crate::instance::apply::Rollout;
use crate::instance::job::{JobEnd, JobRunner};
use crate::instance::{self, Instance, Reporter, maintenance};
use crate::plan::upgrade::{self as plan, Mode, ModuleChoice, Strategy};
use crate::render::ops_parts::{
    BackupKind, BackupTarget, UpgradeModules, UpgradeSpec, upgrade_job,
};
use crate::render::{Credentials, Ctx, RenderInput};
use crate::status::Component;
use crate::values::{Image, Loaded};

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

/// The flags of a new upgrade that were given (`--resume` and `--abort` take none).
fn start_flags(a: &UpgradeArgs) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (given, flag) in [
        (a.modules.is_some(), "--modules"),
        (a.all, "--all"),
        (a.image_tag.is_some(), "--image-tag"),
        (a.strategy.is_some(), "--strategy"),
        (a.no_backup, "--no-backup"),
        (a.accept_online_image_change, "--accept-online-image-change"),
    ] {
        if given {
            out.push(flag);
        }
    }
    out
}

async fn upgrade(ctx: &Context, a: UpgradeArgs, cancel: CancellationToken) -> Result<(), Error> {
    let timeout = parse_timeout(&a.timeout)?;
    let rollout_timeout = crate::time::parse_duration(&a.rollout_timeout).ok_or_else(|| {
        Error::usage(format!(
            "--rollout-timeout `{}` is not a duration such as 15m, 900s or 1h",
            a.rollout_timeout.trim()
        ))
    })?;
    let mode = plan::mode(a.resume, a.abort, &start_flags(&a)).map_err(Error::usage)?;
    let choice = match mode {
        Mode::Start => Some(
            plan::module_choice(a.modules.as_deref(), a.all, ctx.interactive())
                .map_err(Error::usage)?,
        ),
        Mode::Resume | Mode::Abort => None,
    };
    if let Some(t) = &a.image_tag {
        plan::check_tag(t).map_err(Error::usage)?;
    }
    if mode != Mode::Resume && !a.yes && !ctx.interactive() {
        return Err(Error::usage(
            "`odoo-tui upgrade` asks for confirmation, but there is no terminal: pass --yes",
        ));
    }
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name.clone()).await?;
    let (command, force) = (format!("upgrade {name}"), a.force_unlock);
    let keep = |job: &str| ctx.keep_following(job);
    let keep_backup = |job: &str| ctx.keep_waiting(job);
    let run = Run {
        ctx,
        kube: &kube,
        name: &name,
        report: Reporter::new(a.output == PlainJson::Json),
        cancel: &cancel,
        keep_following: &keep,
        keep_waiting: &keep_backup,
        deadline: Instant::now() + timeout,
        rollout_timeout,
    };
    let work = run.locked(a, mode, choice);
    instance::lock::with(&kube, &name, &command, force, &cancel, work).await
}

/// One run of `upgrade`: what every step needs.
struct Run<'a> {
    ctx: &'a Context,
    kube: &'a Kube,
    name: &'a str,
    report: Reporter,
    cancel: &'a CancellationToken,
    /// After Ctrl-C during the upgrade Job (which is never stopped).
    keep_following: &'a dyn Fn(&str) -> bool,
    /// After Ctrl-C during the backup Job.
    keep_waiting: &'a dyn Fn(&str) -> bool,
    /// When to stop following the backup and the upgrade Job (`--timeout`).
    deadline: Instant,
    /// The rollout's own time (`--rollout-timeout`).
    rollout_timeout: Duration,
}

/// The open upgrade being driven: its history entry as last written.
struct Open {
    entry: HistoryEntry,
    /// The record's values (the previous image until the upgrade succeeds).
    loaded: Loaded,
    /// The record's revision when it was read.
    recorded_revision: u64,
}

impl Open {
    fn state(&self) -> &UpgradeState {
        self.entry
            .upgrade
            .as_ref()
            .expect("an upgrade entry has a state")
    }

    fn state_mut(&mut self) -> &mut UpgradeState {
        self.entry
            .upgrade
            .as_mut()
            .expect("an upgrade entry has a state")
    }

    fn strategy(&self) -> Strategy {
        Strategy::from_label(&self.state().strategy)
    }

    fn image(&self) -> Image {
        let mut image = self.loaded.values.backend.image.clone();
        if let Some(reference) = &self.entry.image
            && *reference != image.reference()
        {
            image = plan::target_image(&image, reference.rsplit_once(':').map(|(_, t)| t));
        }
        image
    }

    fn modules(&self) -> UpgradeModules {
        if self.entry.modules == ["all"] {
            UpgradeModules::All
        } else {
            UpgradeModules::List(self.entry.modules.clone())
        }
    }

    fn backup(&self) -> Option<BackupTarget> {
        self.entry
            .backup_location
            .as_deref()
            .and_then(BackupTarget::from_location)
    }
}

/// `Err(e)` with `e` mapped to a command error.
type Step<T> = Result<T, Error>;

impl Run<'_> {
    async fn locked(
        &self,
        a: UpgradeArgs,
        mode: Mode,
        choice: Option<ModuleChoice>,
    ) -> Result<(), Error> {
        let inst = Instance::open(self.kube.clone(), self.name.to_string()).await?;
        let (loaded, rec) = (inst.loaded, inst.record);
        let open = plan::open_upgrade(&rec.history).map(|i| Open {
            entry: rec.history[i].clone(),
            loaded: loaded.clone(),
            recorded_revision: rec.revision,
        });
        match (mode, open) {
            (Mode::Start, Some(o)) => Err(Error::failure(plan::open_refusal(
                &format!("upgrade {}", self.name),
                self.name,
                &o.entry,
            ))),
            (Mode::Start, None) => {
                let choice = choice.expect("a new upgrade has its module choice");
                self.start(a, choice, loaded, rec.revision).await
            }
            (Mode::Resume | Mode::Abort, None) => Err(Error::failure(format!(
                "no upgrade of `{}` is open: there is nothing to {} (see the history with `odoo-tui status {}`)",
                self.name,
                if mode == Mode::Resume {
                    "resume"
                } else {
                    "abort"
                },
                self.name
            ))),
            (Mode::Resume, Some(mut o)) => {
                self.report.step(&format!(
                    "resuming the upgrade of `{}` to {}: {}",
                    self.name,
                    o.entry.image.as_deref().unwrap_or("?"),
                    o.state().phase.describe()
                ));
                self.drive(&mut o, true).await
            }
            (Mode::Abort, Some(mut o)) => self.abort(&mut o, a.yes).await,
        }
    }

    /// A new upgrade: decide, confirm, write the open entry, then drive it.
    async fn start(
        &self,
        a: UpgradeArgs,
        choice: ModuleChoice,
        loaded: Loaded,
        recorded_revision: u64,
    ) -> Result<(), Error> {
        let (kube, name, report) = (self.kube, self.name, self.report);
        let chosen = match choice {
            ModuleChoice::Given(m) => m,
            ModuleChoice::Ask => {
                let typed = self
                    .ctx
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
        let backup_on = !a.no_backup && v.backup.enabled;
        let creds = Credentials::default();
        let input = input(kube, name, &loaded, &creds);
        let rc = Ctx::new(&input)?;
        let modules = plan::job_modules(&chosen, image_changes, &plan::own_modules(&rc.d, v));

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
        if !a.yes && !self.ctx.confirm(&format!("Upgrade `{name}` now?")) {
            return Err(Error::cancelled("cancelled: nothing was changed"));
        }

        // The trace comes first: from here on an interruption leaves an open entry.
        let previous_replicas = maintenance::replicas(kube, &rc)
            .await?
            .unwrap_or(v.backend.replica_count);
        let mut open = Open {
            entry: HistoryEntry {
                time: crate::time::now(),
                kind: HistoryKind::Upgrade,
                modules: modules.names(),
                image: Some(image.reference()),
                backup_location: None,
                result: HistoryResult::Running,
                revision: recorded_revision + 1,
                detail: None,
                upgrade: Some(UpgradeState {
                    phase: UpgradePhase::Started,
                    strategy: strategy.label().to_string(),
                    previous_image: v.backend.image.reference(),
                    previous_replicas,
                    backup: backup_on,
                    job: None,
                    job_uid: None,
                }),
            },
            loaded: loaded.clone(),
            recorded_revision,
        };
        self.save(&open).await?;
        self.drive(&mut open, false).await
    }

    /// Write the open entry as it is now.
    async fn save(&self, o: &Open) -> Result<(), Error> {
        instance::record::put_entry(self.kube, self.name, &o.loaded, o.entry.clone(), None).await?;
        Ok(())
    }

    /// Close the entry with `result` (`detail` says why when it failed).
    async fn close(
        &self,
        o: &mut Open,
        result: HistoryResult,
        detail: Option<String>,
    ) -> Result<(), Error> {
        o.entry.result = result.clone();
        o.entry.detail = detail;
        let revision = if result == HistoryResult::Succeeded {
            Some(o.entry.revision)
        } else {
            o.entry.revision = o.recorded_revision;
            None
        };
        instance::record::put_entry(self.kube, self.name, &o.loaded, o.entry.clone(), revision)
            .await?;
        Ok(())
    }

    fn runner<'r>(&'r self, component: Component) -> JobRunner<'r> {
        let upgrade = component == Component::Upgrade;
        JobRunner {
            kube: self.kube,
            release: self.name,
            component,
            deadline: self.deadline,
            cancel: self.cancel,
            keep_waiting: if upgrade {
                self.keep_following
            } else {
                self.keep_waiting
            },
            report: self.report,
            leave_running: upgrade,
        }
    }

    /// The apply engine with `loaded` as part of the open upgrade, with its own time
    /// (`--rollout-timeout`): the record gets `revision` and no entry of the apply's own,
    /// and the maintenance page stays on until the backend is ready.
    async fn roll(&self, loaded: &Loaded, revision: u64) -> Result<(), Error> {
        let r = Rollout {
            revision,
            timeout: self.rollout_timeout,
            maintenance_until_ready: true,
        };
        instance::apply::rollout(self.kube, self.name, loaded, r, self.report, self.cancel).await?;
        Ok(())
    }

    /// Carry the open upgrade on, step by step from its phase, to its end.
    async fn drive(&self, o: &mut Open, resuming: bool) -> Result<(), Error> {
        let creds = Credentials::default();
        let loaded = o.loaded.clone();
        let input = input(self.kube, self.name, &loaded, &creds);
        let rc = Ctx::new(&input)?;
        let mut w = InstanceWatch::start(self.kube, self.name);
        w.ready().await;
        loop {
            match o.state().phase {
                UpgradePhase::Started => {
                    self.backup_and_stop(o, &rc, &mut w).await?;
                    self.create_job(o, &rc, resuming).await?;
                }
                UpgradePhase::Migrating => self.follow_job(o, &rc, &mut w).await?,
                UpgradePhase::JobFailed => {
                    // Resumed after the Job failed: run it again.
                    self.report
                        .step("the upgrade Job failed before: running it again");
                    self.create_job(o, &rc, false).await?;
                }
                UpgradePhase::Migrated | UpgradePhase::RolloutFailed => {
                    return self.roll_out(o, &rc).await;
                }
            }
        }
    }

    /// The backup (when asked and not taken yet) and the backend stopped (maintenance),
    /// in the order the filestore needs. On failure nothing is migrated: the backend is
    /// put back and the entry closed.
    async fn backup_and_stop(&self, o: &mut Open, rc: &Ctx<'_>, w: &mut InstanceWatch) -> Step<()> {
        let strategy = o.strategy();
        let wanted = o.state().backup && o.entry.backup_location.is_none();
        let after_stop = plan::backup_after_stop(strategy, rc.d.filestore_pvc);
        if wanted && !after_stop {
            let running = maintenance::backend_running(w);
            self.backup(o, rc, w, false, running).await?;
        }
        if strategy == Strategy::Maintenance
            && let Err(e) = maintenance::enter(self.kube, rc, w, self.deadline, self.report).await
        {
            return Err(self.nothing_migrated(o, rc, w, true, e.into()).await);
        }
        if wanted && after_stop {
            self.report.step(
                "the filestore is on the backend's ReadWriteOnce PVC: the backup runs now that the backend is stopped",
            );
            self.backup(o, rc, w, true, false).await?;
        }
        Ok(())
    }

    /// Take the backup and record where it went; on failure, the way back (the backend
    /// started again when it was `stopped`).
    async fn backup(
        &self,
        o: &mut Open,
        rc: &Ctx<'_>,
        w: &mut InstanceWatch,
        stopped: bool,
        backend_running: bool,
    ) -> Step<()> {
        let runner = self.runner(Component::Backup);
        let end = instance::backup::run_of(
            &runner,
            w,
            rc,
            BackupKind::PreUpgrade,
            o.recorded_revision,
            o.entry.time,
            backend_running,
        )
        .await;
        match backup::outcome(end) {
            Ok(t) => {
                o.entry.backup_location = Some(t.location());
                self.save(o).await
            }
            Err(e) => Err(self.nothing_migrated(o, rc, w, stopped, e).await),
        }
    }

    /// Before the Job: put the backend back as it was (when it was `stopped`), close the
    /// entry as failed, and say that nothing was upgraded.
    async fn nothing_migrated(
        &self,
        o: &mut Open,
        rc: &Ctx<'_>,
        w: &mut InstanceWatch,
        stopped: bool,
        e: Error,
    ) -> Error {
        let mut note = "nothing was upgraded: the backend was not touched".to_string();
        if stopped {
            let back = maintenance::leave(
                self.kube,
                rc,
                o.state().previous_replicas,
                w,
                Instant::now() + self.rollout_timeout,
                self.report,
            )
            .await;
            note = match back {
                Ok(()) => "nothing was upgraded: the backend is back as it was".into(),
                Err(b) => format!(
                    "nothing was upgraded, but putting the backend back failed: {b} — run `odoo-tui upgrade {} --abort`",
                    self.name
                ),
            };
        }
        match self
            .close(o, HistoryResult::Failed, Some(backup::first_line(&e)))
            .await
        {
            Ok(()) => e.with_note(&note),
            Err(r) => e.with_note(&format!("{note}; the history could not be written: {r}")),
        }
    }

    /// Create the upgrade Job (following one of the same identity that is there) and
    /// record it.
    async fn create_job(&self, o: &mut Open, rc: &Ctx<'_>, reuse: bool) -> Step<()> {
        let job = upgrade_job(
            rc,
            &UpgradeSpec {
                modules: o.modules(),
                image: o.image(),
                revision: o.entry.revision,
                beside_backend: o.strategy() == Strategy::Online,
            },
        );
        self.report.step(&format!(
            "upgrading modules {} with {}",
            o.modules().arg(),
            o.image().reference(),
        ));
        let started = self.runner(Component::Upgrade).start(&job, reuse).await?;
        let u = o.state_mut();
        u.phase = UpgradePhase::Migrating;
        u.job = Some(started.name);
        u.job_uid = Some(started.uid);
        self.save(o).await
    }

    /// Follow the upgrade Job to its end and record it.
    async fn follow_job(&self, o: &mut Open, rc: &Ctx<'_>, w: &mut InstanceWatch) -> Step<()> {
        let kind = Kind::by_name("Job").expect("known");
        let (job, uid) = (
            o.state().job.clone().unwrap_or_default(),
            o.state().job_uid.clone().unwrap_or_default(),
        );
        let there = self
            .kube
            .get(kind, &job)
            .await?
            .is_some_and(|j| j["metadata"]["uid"].as_str() == Some(uid.as_str()));
        if !there {
            // Its end is unknown: `-u` again is safe on modules already upgraded.
            self.report.step(&format!(
                "Job/{job} of this upgrade is gone (its end is unknown): running the upgrade Job again"
            ));
            return self.create_job(o, rc, false).await;
        }
        let run = self
            .runner(Component::Upgrade)
            .follow(w, &job, &uid)
            .await?;
        match run.end {
            JobEnd::Succeeded => {
                self.report.step(&format!("Job/{job} succeeded"));
                o.state_mut().phase = UpgradePhase::Migrated;
                self.save(o).await
            }
            JobEnd::Failed { reason, next } => {
                o.state_mut().phase = UpgradePhase::JobFailed;
                o.entry.detail = Some(reason.clone());
                self.save(o).await?;
                let backup = o.backup().map(|t| t.id());
                Err(Error::not_ready(plan::failure_message(
                    self.name,
                    &reason,
                    &run.lines,
                    &next,
                    o.state(),
                    backup.as_deref(),
                )))
            }
            JobEnd::LeftRunning(why) if why != "cancelled" => Err(Error::not_ready(
                plan::still_running_message(self.name, &job, &why),
            )),
            JobEnd::LeftRunning(_) | JobEnd::Cancelled => Err(Error::cancelled(
                plan::still_running_message(self.name, &job, "cancelled"),
            )),
        }
    }

    /// The rollout on the target image, with its own time; the maintenance page stays on
    /// until the backend is ready. On failure the backend stays stopped: the database is
    /// migrated, and only `--abort` puts the previous image back.
    async fn roll_out(&self, o: &mut Open, rc: &Ctx<'_>) -> Result<(), Error> {
        let image = o.image();
        let sets = plan::image_sets(&o.loaded.values.backend.image, &image);
        let (new_loaded, _) = instance::values::recorded(self.kube, self.name, &sets).await?;
        self.report.step(&format!(
            "rolling the backend out on {} (up to {}s)",
            image.reference(),
            self.rollout_timeout.as_secs()
        ));
        let rolled = self.roll(&new_loaded, o.entry.revision).await;
        if let Err(e) = rolled {
            o.state_mut().phase = UpgradePhase::RolloutFailed;
            o.entry.detail = Some(format!("rollout: {}", backup::first_line(&e)));
            if o.strategy() == Strategy::Maintenance {
                let backend = crate::render::ops_parts::backend_deployment_name(rc);
                match self.kube.scale_deployment(&backend, 0).await {
                    Ok(()) => self.report.step(&format!(
                        "Deployment/{backend} scaled to 0: it stays stopped"
                    )),
                    Err(s) => self.report.step(&format!(
                        "Deployment/{backend} could not be scaled to 0: {s}"
                    )),
                }
            }
            self.save(o).await?;
            let backup = o.backup().map(|t| t.id());
            let message = plan::rollout_failure_message(
                self.name,
                &image.reference(),
                &e.to_string(),
                o.state(),
                backup.as_deref(),
            );
            return Err(if e.exit() == Exit::Cancelled {
                Error::cancelled(message)
            } else {
                Error::not_ready(message)
            });
        }
        o.loaded = new_loaded;
        self.close(o, HistoryResult::Succeeded, None).await?;
        let (name, revision) = (self.name, o.entry.revision);
        let modules = o.modules();
        let backup = o.entry.backup_location.clone();
        self.report.emit(
            || {
                format!(
                    "\n`{name}` upgraded: modules {} on {} (revision {revision}){}",
                    modules.arg(),
                    image.reference(),
                    backup
                        .as_ref()
                        .map(|b| format!(", backup {b}"))
                        .unwrap_or_default()
                )
            },
            || {
                serde_json::json!({
                    "result": "succeeded",
                    "modules": modules.names(),
                    "image": image.reference(),
                    "revision": revision,
                    "backup": backup,
                })
            },
        );
        Ok(())
    }

    /// `--abort`: the previous image and replicas back, the maintenance page off, and the
    /// entry closed. Refused while the upgrade Job runs (it is never stopped midway).
    async fn abort(&self, o: &mut Open, yes: bool) -> Result<(), Error> {
        let creds = Credentials::default();
        let loaded = o.loaded.clone();
        let input = input(self.kube, self.name, &loaded, &creds);
        let rc = Ctx::new(&input)?;
        if let (Some(job), Some(uid)) = (&o.state().job, &o.state().job_uid)
            && instance::job::still_running(self.kube, job, uid).await?
        {
            return Err(Error::failure(plan::job_running_refusal(
                &format!("upgrade {} --abort", self.name),
                self.name,
                &self.kube.namespace,
                job,
            )));
        }
        let u = o.state().clone();
        let image = o.entry.image.clone().unwrap_or_default();
        let backup = o.backup().map(|t| t.id());
        if u.phase.touched_database() {
            self.report.step(&plan::abort_warning(
                self.name,
                &u,
                &image,
                backup.as_deref(),
            ));
        }
        if !yes
            && !self.ctx.confirm(&format!(
                "Put {} back on `{}` with {} replica(s)?",
                u.previous_image, self.name, u.previous_replicas
            ))
        {
            return Err(Error::cancelled(
                "cancelled: the upgrade stays open, nothing was changed",
            ));
        }
        let mut w = InstanceWatch::start(self.kube, self.name);
        w.ready().await;
        let live_image = maintenance::image(self.kube, &rc).await?;
        if live_image.as_deref().is_some_and(|i| i != u.previous_image) {
            // The rollout got as far as the Deployment: the recorded values put it back.
            self.roll(&o.loaded, o.recorded_revision).await?;
        } else {
            maintenance::leave(
                self.kube,
                &rc,
                u.previous_replicas,
                &mut w,
                Instant::now() + self.rollout_timeout,
                self.report,
            )
            .await?;
        }
        let detail = if u.phase.touched_database() {
            format!(
                "aborted after the upgrade Job ran ({}): {} put back",
                u.phase.describe(),
                u.previous_image
            )
        } else {
            format!(
                "aborted before anything was migrated: {} put back",
                u.previous_image
            )
        };
        self.close(o, HistoryResult::Failed, Some(detail)).await?;
        let name = self.name;
        self.report.emit(
            || {
                format!(
                    "\nthe upgrade of `{name}` is aborted: the backend runs {} with {} replica(s)",
                    u.previous_image, u.previous_replicas
                )
            },
            || {
                serde_json::json!({
                    "result": "aborted",
                    "image": u.previous_image,
                    "replicas": u.previous_replicas,
                    "database_migrated": u.phase.touched_database(),
                })
            },
        );
        Ok(())
    }
}

/// The render input of the instance with its recorded values.
fn input<'a>(
    kube: &'a Kube,
    name: &'a str,
    loaded: &'a Loaded,
    creds: &'a Credentials,
) -> RenderInput<'a> {
    RenderInput {
        release: name,
        namespace: &kube.namespace,
        values: &loaded.values,
        credentials: creds,
    }
}
