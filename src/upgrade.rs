//! `odoo-tui upgrade` and `odoo-tui backup` (SPEC §7): a backup Job first, the
//! maintenance page and the backend scaled to zero, the upgrade Job with its log streamed
//! live, then the backend rolled to the target image through the apply engine, and the
//! outcome written into the instance record's history.
//!
//! The decisions (module list, strategy, target image, restore instructions, history
//! lines) are pure functions tested below; the Jobs come from the renderer
//! (`render::ops_parts`); this module does the IO around them.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{LogParams, Patch, PatchParams};
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::{PlainJson, Strategy};
use crate::cluster::apply::{self, Change, Options, Progress};
use crate::cluster::error::Op;
use crate::cluster::kinds::Kind;
use crate::cluster::record::{HistoryEntry, HistoryKind, HistoryResult, Record};
use crate::cluster::watch::{self, InstanceWatch};
use crate::cluster::{ClusterError, Kube, Target};
use crate::ops::{self, Failed};
use crate::render::ops_parts::{
    BackupTarget, UpgradeModules, UpgradeSpec, backend_deployment_name, backup_job,
    nginx_config_maps, nginx_render, upgrade_job,
};
use crate::render::{Credentials, Ctx, Derived, Object, RenderInput};
use crate::status::{self, Component};
use crate::values::{self, Image, Loaded, Source};

/// How many log lines a failure shows.
const FAILURE_LINES: usize = 20;

// ---------------------------------------------------------------------------------------
// Prompts

/// The questions `upgrade` and `backup` may ask; inquire on a terminal, nothing otherwise.
pub trait Ask {
    /// Whether there is a terminal to ask on.
    fn interactive(&self) -> bool;
    /// The modules to upgrade (`all` or a comma list); `None` when the user gave up.
    fn modules(&self) -> Option<String>;
    /// A yes/no question (default no).
    fn confirm(&self, question: &str) -> bool;
    /// After Ctrl-C during a Job: `true` to keep waiting, `false` to abort.
    fn keep_waiting(&self, job: &str) -> bool;
}

/// Prompts with inquire when `interactive`; without a terminal every answer is "no".
pub struct Prompts {
    pub interactive: bool,
}

impl Ask for Prompts {
    fn interactive(&self) -> bool {
        self.interactive
    }

    fn modules(&self) -> Option<String> {
        if !self.interactive {
            return None;
        }
        inquire::Text::new("Modules to upgrade (comma-separated, or `all`):")
            .with_help_message("e.g. sale,account — Esc to cancel")
            .prompt()
            .ok()
    }

    fn confirm(&self, question: &str) -> bool {
        self.interactive
            && inquire::Confirm::new(question)
                .with_default(false)
                .prompt()
                .unwrap_or(false)
    }

    fn keep_waiting(&self, job: &str) -> bool {
        if !self.interactive {
            return false;
        }
        const WAIT: &str = "keep waiting";
        const ABORT: &str = "abort: delete the Job and restore the backend";
        inquire::Select::new(&format!("Job/{job} is still running."), vec![WAIT, ABORT])
            .prompt()
            .map(|a| a == WAIT)
            .unwrap_or(false)
    }
}

// ---------------------------------------------------------------------------------------
// Pure decisions

/// The module list from the flags, or "ask" when neither is given on a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleChoice {
    Given(UpgradeModules),
    Ask,
}

fn usage(message: impl Into<String>) -> Failed {
    Failed {
        code: 2,
        message: message.into(),
    }
}

/// `--modules a,b` / `--all` / neither (a terminal asks; otherwise a usage error).
pub fn module_choice(
    modules: Option<&str>,
    all: bool,
    interactive: bool,
) -> Result<ModuleChoice, Failed> {
    match (modules, all) {
        (Some(_), true) => Err(usage("--modules and --all exclude each other: give one")),
        (Some(list), false) => parse_module_list(list).map(ModuleChoice::Given),
        (None, true) => Ok(ModuleChoice::Given(UpgradeModules::All)),
        (None, false) if interactive => Ok(ModuleChoice::Ask),
        (None, false) => Err(usage(
            "say which modules to upgrade: --modules sale,account, or --all for every installed module",
        )),
    }
}

/// A comma list of module names (or `all`, as typed at the prompt).
pub fn parse_module_list(list: &str) -> Result<UpgradeModules, Failed> {
    if list.trim() == "all" {
        return Ok(UpgradeModules::All);
    }
    values::validate::parse_modules(list)
        .map(UpgradeModules::List)
        .map_err(|e| usage(format!("--modules: {e}")))
}

/// `--strategy`, else maintenance when nginx serves the maintenance page, else online.
pub fn pick_strategy(explicit: Option<Strategy>, nginx_enabled: bool) -> Strategy {
    explicit.unwrap_or(if nginx_enabled {
        Strategy::Maintenance
    } else {
        Strategy::Online
    })
}

/// The backend image an upgrade runs: the recorded one, with `--image-tag` when given (a
/// pinned digest belongs to the old tag, so a new tag drops it).
pub fn target_image(current: &Image, tag: Option<&str>) -> Image {
    let mut image = current.clone();
    if let Some(t) = tag
        && t != current.tag
    {
        image.tag = t.to_string();
        image.digest.clear();
    }
    image
}

/// An image tag as Docker accepts it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<(), Failed> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "--image-tag `{tag}` is not an image tag (letters, digits, `_`, `.`, `-`; e.g. 18.0-20261201)"
        )))
    }
}

/// The module named by an Odoo "loading module X" log line, for progress.
pub fn module_progress(line: &str) -> Option<&str> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("loading module ")? + "loading module ".len();
    let rest = &line[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// How to restore a dump, as commands to copy (no credential in them).
pub fn restore_hint(
    target: &BackupTarget,
    namespace: &str,
    release: &str,
    d: &Derived,
    bundled_pg: bool,
    pg_image: &str,
) -> Vec<String> {
    let backend = format!("{}-backend", d.fullname);
    let mut out = vec![format!(
        "to restore the backup {} (stop the backend first: kubectl -n {namespace} scale deployment/{backend} --replicas=0):",
        target.location()
    )];
    let restore = format!(
        "pg_restore --clean --if-exists --no-owner -U {} -d {}",
        d.db_user, d.db_name
    );
    match target {
        BackupTarget::S3 { bucket, key } => {
            let file = key.rsplit('/').next().unwrap_or(key);
            out.push(format!(
                "  mc cp <alias>/{bucket}/{key} ./{file}    # or any S3 client"
            ));
            if bundled_pg {
                out.push(format!(
                    "  kubectl -n {namespace} exec -i {release}-postgresql-0 -- {restore} < ./{file}"
                ));
            } else {
                out.push(format!(
                    "  PGPASSWORD=<from Secret {} key {}> {restore} -h {} -p {} ./{file}",
                    d.db_secret.0, d.db_secret.1, d.db_host, d.db_port
                ));
            }
        }
        BackupTarget::Pvc { claim, file } => {
            out.push(format!(
                "  in a pod of image {pg_image} with PVC {claim} mounted at /backups and PGPASSWORD from Secret {} key {}:",
                d.db_secret.0, d.db_secret.1
            ));
            out.push(format!(
                "  {restore} -h {} -p {} /backups/{file}",
                d.db_host, d.db_port
            ));
        }
    }
    out
}

/// The "history" section of `status`: the last upgrades and backups, newest first.
pub fn history_lines(history: &[HistoryEntry], max: usize) -> Vec<String> {
    history
        .iter()
        .rev()
        .filter(|e| matches!(e.kind, HistoryKind::Upgrade | HistoryKind::Backup))
        .take(max)
        .map(|e| {
            let result = match e.result {
                HistoryResult::Succeeded => "succeeded",
                HistoryResult::Failed => "FAILED",
                HistoryResult::Running => "running",
            };
            let mut s = format!(
                "  {} {:<7} {:<9} rev {}",
                crate::time::rfc3339(e.time),
                e.kind,
                result,
                e.revision
            );
            if !e.modules.is_empty() {
                s.push_str(&format!("  modules {}", e.modules.join(",")));
            }
            if let Some(i) = &e.image {
                s.push_str(&format!("  image {i}"));
            }
            if let Some(b) = &e.backup_location {
                s.push_str(&format!("  backup {b}"));
            }
            if let Some(d) = &e.detail {
                s.push_str(&format!("  ({d})"));
            }
            s
        })
        .collect()
}

/// Lines for `status`: the history section of an instance (empty when it has none).
pub async fn status_history(kube: &Kube, release: &str) -> Vec<String> {
    match find_record(kube, release).await {
        Ok(Some(rec)) => {
            let lines = history_lines(&rec.history, 5);
            if lines.is_empty() {
                lines
            } else {
                let mut out = vec!["history (upgrades and backups, newest first):".to_string()];
                out.extend(lines);
                out
            }
        }
        _ => vec![],
    }
}

// ---------------------------------------------------------------------------------------
// Output

#[derive(Clone, Copy)]
struct Out {
    json: bool,
}

impl Out {
    fn emit(&self, plain: impl FnOnce() -> String, json: impl FnOnce() -> Json) {
        let mut err = std::io::stderr().lock();
        let _ = if self.json {
            writeln!(err, "{}", json())
        } else {
            writeln!(err, "{}", plain())
        };
    }

    fn step(&self, s: &str) {
        self.emit(|| s.to_string(), || serde_json::json!({ "step": s }));
    }

    fn log(&self, component: &str, line: &str) {
        self.emit(
            || format!("  {component} | {line}"),
            || serde_json::json!({ "component": component, "log": line }),
        );
        if let Some(m) = module_progress(line) {
            self.emit(
                || format!("  {component}: loading module {m}"),
                || serde_json::json!({ "component": component, "module": m }),
            );
        }
    }

    fn progress(&self, p: &Progress, last: &mut Option<status::InstanceStatus>) {
        match p {
            Progress::Status(st) => {
                let lines = if self.json {
                    crate::plain::json_changes(last.as_ref(), st)
                } else {
                    crate::plain::changes(last.as_ref(), st)
                };
                let mut err = std::io::stderr().lock();
                for l in lines {
                    let _ = writeln!(err, "{l}");
                }
                *last = Some((**st).clone());
            }
            Progress::Step(s) => self.step(s),
            Progress::Wave { index, total, name } => self.emit(
                || format!("[{index}/{total}] {name}"),
                || serde_json::json!({"wave": index, "of": total, "name": name}),
            ),
            Progress::Object { key, change } if *change != Change::Unchanged => self.emit(
                || format!("  {key} {}", change.label()),
                || serde_json::json!({"object": key, "change": change.label()}),
            ),
            Progress::Object { .. } => {}
            Progress::Done { revision } => self.emit(
                || format!("instance record written (revision {revision})"),
                || serde_json::json!({"done": true, "revision": revision}),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The instance

/// The record of `release` in the namespace.
async fn find_record(kube: &Kube, release: &str) -> Result<Option<Record>, Failed> {
    Ok(apply::find_record(kube, release).await?)
}

/// The record and the values it holds (plus `extra` --set layers).
async fn instance(
    kube: &Kube,
    release: &str,
    extra: &[String],
) -> Result<(Loaded, Record), Failed> {
    let Some(rec) = find_record(kube, release).await? else {
        return Err(Failed {
            code: 1,
            message: format!(
                "no odoo-tui instance `{release}` in namespace `{}` — create it with `odoo-tui new {release}`, or pick the namespace with -n",
                kube.namespace
            ),
        });
    };
    let mut layers = Vec::new();
    for s in extra {
        layers.push(Source::set(s)?);
    }
    let origin = format!("instance record of `{release}`");
    let loaded = values::load_over_record(&origin, &rec.values, &layers)?;
    Ok((loaded, rec))
}

fn ctx_input<'a>(
    release: &'a str,
    kube: &'a Kube,
    loaded: &'a Loaded,
    creds: &'a Credentials,
) -> RenderInput<'a> {
    RenderInput {
        release,
        namespace: &kube.namespace,
        values: &loaded.values,
        credentials: creds,
    }
}

fn cluster_err(kube: &Kube, e: kube::Error, verb: &'static str, what: String) -> Failed {
    Failed::from(ClusterError::from_kube(
        e,
        &Op::new(verb, what, Some(&kube.namespace)),
        &kube.context,
        &kube.url,
    ))
}

/// Append `entry` to the record (dropping the `update` entry the rollout of this same run
/// wrote, which `entry` replaces); `revision` raises the record's revision.
async fn write_history(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    started: i64,
    entry: HistoryEntry,
    revision: Option<u64>,
) -> Result<(), Failed> {
    let Some(mut rec) = find_record(kube, release).await? else {
        return Ok(());
    };
    while rec
        .history
        .last()
        .is_some_and(|e| e.kind == HistoryKind::Update && e.time >= started)
    {
        rec.history.pop();
    }
    if let Some(r) = revision {
        rec.revision = rec.revision.max(r);
    }
    rec.history.push(entry);
    apply::save_record(kube, release, loaded, &rec).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Running one Job with its log

enum JobEnd {
    Succeeded,
    Failed { reason: String, next: String },
    Cancelled,
}

struct JobRun {
    end: JobEnd,
    lines: Vec<String>,
}

fn kind_of(o: &Object) -> &'static Kind {
    Kind::by_name(o.kind()).expect("every rendered kind is known")
}

fn owned_by(pod: &Pod, job: &str) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job" && o.name == job)
        || pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("job-name"))
            .is_some_and(|n| n == job)
}

fn job_condition(job: &Job, kind: &str) -> Option<(String, String)> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind && c.status == "True")
        .map(|c| {
            (
                c.reason.clone().unwrap_or_else(|| kind.to_string()),
                c.message.clone().unwrap_or_default(),
            )
        })
}

/// Delete a Job (and its pods) and wait until it is gone.
async fn delete_job(kube: &Kube, name: &str) -> Result<(), Failed> {
    let kind = Kind::by_name("Job").expect("known");
    kube.delete(kind, name, false).await?;
    for _ in 0..300 {
        if kube.get(kind, name).await?.is_none() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Failed {
        code: 1,
        message: format!(
            "Job/{name} was deleted but is still there after 30 s — delete it with kubectl and run again"
        ),
    })
}

/// Start following a container's log; lines go to `tx`.
fn follow(
    kube: &Kube,
    pod: String,
    container: String,
    tx: mpsc::UnboundedSender<String>,
) -> tokio::task::JoinHandle<()> {
    let api: kube::Api<Pod> = kube.typed();
    tokio::spawn(async move {
        let lp = LogParams {
            container: Some(container),
            follow: true,
            ..Default::default()
        };
        let Ok(stream) = api.log_stream(&pod, &lp).await else {
            return;
        };
        let mut lines = stream.lines();
        while let Some(Ok(l)) = lines.next().await {
            if tx.send(l).is_err() {
                return;
            }
        }
    })
}

/// Init containers first, then the containers, in order.
fn container_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
        })
        .map(|k| k.name.clone())
        .collect()
}

struct JobCtx<'a> {
    kube: &'a Kube,
    release: &'a str,
    component: Component,
    deadline: Instant,
    cancel: &'a CancellationToken,
    ask: &'a dyn Ask,
    out: Out,
}

/// Create the Job (replacing a finished one of the same name), stream its log, and wait
/// for it to complete, fail, hit a terminal pod failure, time out, or be cancelled.
async fn run_job(
    c: &JobCtx<'_>,
    watch: &mut InstanceWatch,
    job: &Object,
) -> Result<JobRun, Failed> {
    let name = job.name().to_string();
    let label = c.component.label();
    if c.kube.get(kind_of(job), &name).await?.is_some() {
        c.out.step(&format!(
            "Job/{name} exists from an earlier run: replacing it"
        ));
        delete_job(c.kube, &name).await?;
    }
    let created = c
        .kube
        .apply(kind_of(job), &name, &job.to_json(), true, false)
        .await?;
    let uid = created["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    c.out.step(&format!("Job/{name} created"));

    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let mut followed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut followers = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut ignore_cancel = false;
    let on_line = |l: String, lines: &mut Vec<String>| {
        c.out.log(label, &l);
        lines.push(l);
    };
    let end = loop {
        let snap = watch.snapshot(crate::time::now());
        let this_job = snap
            .jobs
            .iter()
            .find(|j| {
                j.metadata.name.as_deref() == Some(&name) && j.metadata.uid.as_deref() == Some(&uid)
            })
            .cloned();
        // Follow every container of the Job's pods once it has started.
        for pod in snap.pods.iter().filter(|p| owned_by(p, &name)) {
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            let st = pod.status.as_ref();
            let started = |cname: &str| {
                st.into_iter()
                    .flat_map(|s| {
                        s.init_container_statuses
                            .iter()
                            .flatten()
                            .chain(s.container_statuses.iter().flatten())
                    })
                    .any(|cs| {
                        cs.name == cname
                            && cs
                                .state
                                .as_ref()
                                .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
                    })
            };
            for cname in container_names(pod) {
                let key = (pod_name.clone(), cname.clone());
                if !followed.contains(&key) && started(&cname) {
                    followed.insert(key);
                    followers.push(follow(c.kube, pod_name.clone(), cname, tx.clone()));
                }
            }
        }
        if let Some(j) = &this_job {
            if job_condition(j, "Complete").is_some() {
                break JobEnd::Succeeded;
            }
            if let Some((reason, message)) = job_condition(j, "Failed") {
                let next = match reason.as_str() {
                    "DeadlineExceeded" => format!(
                        "the Job ran longer than its activeDeadlineSeconds — raise {}",
                        if c.component == Component::Backup {
                            "backup.activeDeadlineSeconds"
                        } else {
                            "backend.autoUpgrade.activeDeadlineSeconds"
                        }
                    ),
                    _ => "read the log lines above for the cause".to_string(),
                };
                break JobEnd::Failed {
                    reason: format!("Job/{name} failed: {reason} — {message}"),
                    next,
                };
            }
            // Terminal pod failures (image pull, config errors) never heal by waiting.
            let mut s = snap.clone();
            s.jobs = vec![j.clone()];
            s.pods.retain(|p| owned_by(p, &name));
            s.expected = vec![c.component];
            let st = status::instance_status(&s);
            if let Some(f) = st
                .component(c.component)
                .and_then(|cs| cs.failure.as_ref())
                .filter(|f| f.terminal)
            {
                let _ = c.kube.delete(kind_of(job), &name, false).await;
                break JobEnd::Failed {
                    reason: format!("{}: {} on {} — {}", label, f.reason, f.object, f.detail),
                    next: f.next_step.clone(),
                };
            }
        }
        let Some(left) = c.deadline.checked_duration_since(Instant::now()) else {
            let _ = c.kube.delete(kind_of(job), &name, false).await;
            break JobEnd::Failed {
                reason: format!("timed out waiting for Job/{name} (it was deleted)"),
                next: "raise --timeout, or look at the log lines above".into(),
            };
        };
        tokio::select! {
            _ = c.cancel.cancelled(), if !ignore_cancel => {
                let keep = tokio::task::block_in_place(|| c.ask.keep_waiting(&name));
                if keep {
                    ignore_cancel = true;
                    c.out.step(&format!("still waiting for Job/{name} (Ctrl-C again stops odoo-tui at once)"));
                } else {
                    c.out.step(&format!("aborting: deleting Job/{name}"));
                    let _ = c.kube.delete(kind_of(job), &name, false).await;
                    break JobEnd::Cancelled;
                }
            }
            Some(l) = rx.recv() => on_line(l, &mut lines),
            _ = watch.changed() => {}
            _ = tokio::time::sleep(left.min(Duration::from_secs(1))) => {}
        }
    };
    // Containers that ended between two watch events were not followed yet: read
    // their logs now (listed, so that a pod the watch has not shown yet counts too).
    let lp = kube::api::ListParams::default().labels(&watch::instance_selector(c.release));
    if let Ok(pods) = c.kube.typed::<Pod>().list(&lp).await {
        for pod in pods.items.iter().filter(|p| owned_by(p, &name)) {
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            for cname in container_names(pod) {
                if followed.insert((pod_name.clone(), cname.clone())) {
                    followers.push(follow(c.kube, pod_name.clone(), cname, tx.clone()));
                }
            }
        }
    }
    // Let the log streams finish (they end with their containers), briefly.
    drop(tx);
    let drain = async {
        while let Some(l) = rx.recv().await {
            on_line(l, &mut lines);
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), drain).await;
    for f in followers {
        f.abort();
    }
    Ok(JobRun { end, lines })
}

fn last_lines(lines: &[String]) -> Vec<String> {
    let from = lines.len().saturating_sub(FAILURE_LINES);
    lines[from..].to_vec()
}

// ---------------------------------------------------------------------------------------
// Backup

/// Run the backup Job; returns where the dump went, or a failure (exit 3).
async fn run_backup(
    c: &JobCtx<'_>,
    watch: &mut InstanceWatch,
    ctx: &Ctx<'_>,
    revision: u64,
    now: i64,
) -> Result<BackupTarget, Failed> {
    let b = backup_job(ctx, revision, now);
    if let Some(pvc) = &b.pvc
        && c.kube.get(kind_of(pvc), pvc.name()).await?.is_none()
    {
        c.kube
            .apply(kind_of(pvc), pvc.name(), &pvc.to_json(), true, false)
            .await?;
        c.out.step(&format!(
            "PersistentVolumeClaim/{} created for backups",
            pvc.name()
        ));
    }
    c.out.step(&format!(
        "backing up database `{}` to {}",
        ctx.d.db_name,
        b.target.location()
    ));
    let run = run_job(c, watch, &b.job).await?;
    match run.end {
        JobEnd::Succeeded => {
            c.out
                .step(&format!("backup written: {}", b.target.location()));
            Ok(b.target)
        }
        JobEnd::Failed { reason, next } => {
            let mut message = format!("the backup failed: {reason}");
            let shown = last_lines(&run.lines);
            if !shown.is_empty() {
                message.push_str("\nlast log lines:\n  ");
                message.push_str(&shown.join("\n  "));
            }
            message.push_str(&format!("\nnext step: {next}"));
            Err(Failed { code: 3, message })
        }
        JobEnd::Cancelled => Err(Failed {
            code: 130,
            message: format!("cancelled: the backup Job/{} was deleted", b.job.name()),
        }),
    }
}

/// `odoo-tui backup [NAME]`: the backup Job on demand; prints where the dump went.
pub async fn backup(
    target: &Target,
    name: Option<String>,
    ask: &dyn Ask,
    cancel: CancellationToken,
) -> Result<(), Failed> {
    let kube = Kube::connect(target).await?;
    let name = ops::resolve_name(&kube, name).await?;
    let (loaded, rec) = instance(&kube, &name, &[]).await?;
    if !loaded.values.backup.enabled {
        return Err(usage(format!(
            "backups are switched off for `{name}` (backup.enabled=false) — turn them on with `odoo-tui new {name} --yes --set backup.enabled=true`"
        )));
    }
    let creds = Credentials::default();
    let input = ctx_input(&name, &kube, &loaded, &creds);
    let ctx = Ctx::new(&input)?;
    let out = Out { json: false };
    let started = crate::time::now();
    let deadline = Instant::now()
        + Duration::from_secs(loaded.values.backup.active_deadline_seconds.max(1) as u64 + 120);
    let mut w = InstanceWatch::start(&kube, &name);
    w.ready().await;
    let jc = JobCtx {
        kube: &kube,
        release: &name,
        component: Component::Backup,
        deadline,
        cancel: &cancel,
        ask,
        out,
    };
    let result = run_backup(&jc, &mut w, &ctx, rec.revision, started).await;
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
        revision: rec.revision,
        detail: result
            .as_ref()
            .err()
            .map(|f| f.message.lines().next().unwrap_or_default().to_string()),
    };
    write_history(&kube, &name, &loaded, started, entry, None).await?;
    let t = result?;
    let _ = writeln!(std::io::stdout().lock(), "{}", t.location());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Upgrade

/// The options of `upgrade`.
pub struct UpgradeArgs {
    pub name: Option<String>,
    pub modules: Option<String>,
    pub all: bool,
    pub image_tag: Option<String>,
    pub no_update_list: bool,
    pub no_backup: bool,
    pub strategy: Option<Strategy>,
    pub yes: bool,
    pub timeout: String,
    pub output: PlainJson,
}

/// Maintenance page on or off: re-apply the nginx ConfigMaps and Deployment.
async fn set_maintenance(kube: &Kube, ctx: &Ctx<'_>, on: bool) -> Result<(), Failed> {
    let objects = nginx_config_maps(ctx, on)
        .into_iter()
        .chain(nginx_render(ctx, on))
        .filter(|o| matches!(o.kind(), "ConfigMap" | "Deployment"));
    for o in objects {
        kube.apply(kind_of(&o), o.name(), &o.to_json(), true, false)
            .await?;
    }
    Ok(())
}

/// Scale the backend through the scale subresource (a transient change, SPEC §5).
async fn scale_backend(kube: &Kube, name: &str, replicas: i32) -> Result<(), Failed> {
    let api: kube::Api<Deployment> = kube.typed();
    let patch = serde_json::json!({ "spec": { "replicas": replicas } });
    api.patch_scale(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| cluster_err(kube, e, "patch", format!("deployments/{name}/scale")))?;
    Ok(())
}

/// Wait until the backend has no pod left (bounded by `deadline`).
async fn wait_backend_gone(watch: &mut InstanceWatch, deadline: Instant) -> Result<(), Failed> {
    loop {
        let snap = watch.snapshot(crate::time::now());
        let left = snap.pods.iter().any(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(status::COMPONENT_LABEL))
                .is_some_and(|c| c == "backend")
        });
        if !left {
            return Ok(());
        }
        let Some(rest) = deadline.checked_duration_since(Instant::now()) else {
            return Err(Failed {
                code: 3,
                message: "timed out waiting for the backend pods to stop — raise --timeout".into(),
            });
        };
        tokio::select! {
            _ = watch.changed() => {}
            _ = tokio::time::sleep(rest.min(Duration::from_secs(1))) => {}
        }
    }
}

/// Put traffic back after a failed or aborted upgrade: replicas, then maintenance off.
async fn restore(kube: &Kube, ctx: &Ctx<'_>, strategy: Strategy, out: Out) -> Result<(), Failed> {
    if strategy != Strategy::Maintenance {
        return Ok(());
    }
    let backend = backend_deployment_name(ctx);
    let replicas = ctx.v.backend.replica_count;
    scale_backend(kube, &backend, replicas).await?;
    out.step(&format!(
        "Deployment/{backend} scaled back to {replicas} replica(s) on its previous image"
    ));
    if ctx.v.nginx.enabled {
        set_maintenance(kube, ctx, false).await?;
        out.step("maintenance page off");
    }
    Ok(())
}

/// `odoo-tui upgrade`: see the module docs and SPEC §7.
pub async fn upgrade(
    target: &Target,
    a: UpgradeArgs,
    ask: &dyn Ask,
    cancel: CancellationToken,
) -> Result<(), Failed> {
    let timeout = ops::parse_duration(&a.timeout)?;
    let choice = module_choice(a.modules.as_deref(), a.all, ask.interactive())?;
    if let Some(t) = &a.image_tag {
        check_tag(t)?;
    }
    if !a.yes && !ask.interactive() {
        return Err(usage(
            "`odoo-tui upgrade` asks for confirmation, but there is no terminal: pass --yes",
        ));
    }
    let out = Out {
        json: a.output == PlainJson::Json,
    };
    let kube = Kube::connect(target).await?;
    let name = ops::resolve_name(&kube, a.name.clone()).await?;
    let (loaded, rec) = instance(&kube, &name, &[]).await?;
    let modules = match choice {
        ModuleChoice::Given(m) => m,
        ModuleChoice::Ask => {
            let typed = ask.modules().ok_or_else(|| Failed {
                code: 130,
                message: "cancelled: no module was chosen, nothing was changed".into(),
            })?;
            parse_module_list(&typed)?
        }
    };
    let v = &loaded.values;
    let strategy = pick_strategy(a.strategy, v.nginx.enabled);
    let image = target_image(&v.backend.image, a.image_tag.as_deref());
    let revision = rec.revision + 1;
    let backup_on = !a.no_backup && v.backup.enabled;
    let creds = Credentials::default();
    let input = ctx_input(&name, &kube, &loaded, &creds);
    let ctx = Ctx::new(&input)?;
    let d = &ctx.d;

    out.step(&format!(
        "upgrade `{name}` in namespace `{}`: modules {}, image {}, strategy {}, {}",
        kube.namespace,
        modules.arg(),
        image.reference(),
        match strategy {
            Strategy::Maintenance => "maintenance (backend stopped, maintenance page on)",
            Strategy::Online => "online (keeps serving)",
        },
        if backup_on {
            "backup first"
        } else {
            "NO backup"
        }
    ));
    if !a.no_backup && !v.backup.enabled {
        out.step("backup.enabled is false: no backup is taken");
    }
    if strategy == Strategy::Maintenance && !v.nginx.enabled {
        out.step("nginx is off: the backend is stopped but no maintenance page is shown");
    }
    if !a.yes && !ask.confirm(&format!("Upgrade `{name}` now?")) {
        return Err(Failed {
            code: 130,
            message: "cancelled: nothing was changed".into(),
        });
    }

    let started = crate::time::now();
    let deadline = Instant::now() + timeout;
    let mut w = InstanceWatch::start(&kube, &name);
    w.ready().await;
    let jc = JobCtx {
        kube: &kube,
        release: &name,
        component: Component::Backup,
        deadline,
        cancel: &cancel,
        ask,
        out,
    };
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

    // 1. Backup.
    let backup = if backup_on {
        match run_backup(&jc, &mut w, &ctx, rec.revision, started).await {
            Ok(t) => Some(t),
            Err(f) => {
                let detail = f.message.lines().next().unwrap_or_default().to_string();
                write_history(
                    &kube,
                    &name,
                    &loaded,
                    started,
                    entry(HistoryResult::Failed, &None, Some(detail), rec.revision),
                    None,
                )
                .await?;
                return Err(Failed {
                    code: f.code,
                    message: format!(
                        "{}\nnothing was upgraded: the backend was not touched",
                        f.message
                    ),
                });
            }
        }
    } else {
        None
    };
    let hint = backup.as_ref().map(|t| {
        restore_hint(
            t,
            &kube.namespace,
            &name,
            d,
            v.postgresql.enabled,
            &v.postgresql.image.reference(),
        )
    });

    // 2. Maintenance: page on, backend to zero through the scale subresource.
    if strategy == Strategy::Maintenance {
        if v.nginx.enabled {
            set_maintenance(&kube, &ctx, true).await?;
            out.step("maintenance page on");
        }
        let backend = backend_deployment_name(&ctx);
        scale_backend(&kube, &backend, 0).await?;
        out.step(&format!("Deployment/{backend} scaled to 0"));
        if let Err(f) = wait_backend_gone(&mut w, deadline).await {
            restore(&kube, &ctx, strategy, out).await?;
            return Err(f);
        }
    }

    // 3. The upgrade Job.
    let job = upgrade_job(
        &ctx,
        &UpgradeSpec {
            modules: modules.clone(),
            image: image.clone(),
            revision,
        },
    );
    out.step(&format!(
        "upgrading modules {} with {}",
        modules.arg(),
        image.reference(),
    ));
    let jc = JobCtx {
        component: Component::Upgrade,
        ..jc
    };
    let run = match run_job(&jc, &mut w, &job).await {
        Ok(r) => r,
        Err(f) => {
            restore(&kube, &ctx, strategy, out).await?;
            return Err(f);
        }
    };
    match run.end {
        JobEnd::Succeeded => {}
        JobEnd::Failed { reason, next } => {
            restore(&kube, &ctx, strategy, out).await?;
            write_history(
                &kube,
                &name,
                &loaded,
                started,
                entry(
                    HistoryResult::Failed,
                    &backup,
                    Some(reason.clone()),
                    rec.revision,
                ),
                None,
            )
            .await?;
            let mut message = format!("the upgrade failed: {reason}");
            let shown = last_lines(&run.lines);
            if !shown.is_empty() {
                message.push_str("\nlast log lines:\n  ");
                message.push_str(&shown.join("\n  "));
            }
            message.push_str(&format!(
                "\nthe backend stays on {} with its replicas; next step: {next}",
                v.backend.image.reference()
            ));
            match &hint {
                Some(h) => {
                    message.push('\n');
                    message.push_str(&h.join("\n"));
                }
                None => message.push_str("\nno backup was taken (--no-backup)"),
            }
            return Err(Failed { code: 3, message });
        }
        JobEnd::Cancelled => {
            restore(&kube, &ctx, strategy, out).await?;
            write_history(
                &kube,
                &name,
                &loaded,
                started,
                entry(
                    HistoryResult::Failed,
                    &backup,
                    Some("cancelled by the user".into()),
                    rec.revision,
                ),
                None,
            )
            .await?;
            return Err(Failed {
                code: 130,
                message: format!(
                    "cancelled: Job/{} was deleted and the backend restored on {}",
                    job.name(),
                    v.backend.image.reference()
                ),
            });
        }
    }
    out.step(&format!("Job/{} succeeded", job.name()));

    // 4. Roll the backend to the target image through the apply engine (this also
    //    restores the replicas and switches the maintenance page off).
    let mut sets = Vec::new();
    if image.tag != v.backend.image.tag {
        sets.push(format!("backend.image.tag={}", image.tag));
        if !v.backend.image.digest.is_empty() {
            sets.push("backend.image.digest=".to_string());
        }
    }
    let (new_loaded, _) = instance(&kube, &name, &sets).await?;
    let left = deadline
        .checked_duration_since(Instant::now())
        .unwrap_or(Duration::from_secs(1));
    let rolled = roll(&kube, &name, &new_loaded, left, &cancel, out).await;
    if let Err(f) = rolled {
        // Back to the previous image and replicas; the failure is recorded.
        out.step("the rollout failed: putting the backend back on its previous image");
        let back = roll(
            &kube,
            &name,
            &loaded,
            Duration::from_secs(600),
            &CancellationToken::new(),
            out,
        )
        .await;
        if back.is_err() {
            let _ = restore(&kube, &ctx, strategy, out).await;
        }
        write_history(
            &kube,
            &name,
            &loaded,
            started,
            entry(
                HistoryResult::Failed,
                &backup,
                Some(format!(
                    "rollout: {}",
                    f.message.lines().next().unwrap_or_default()
                )),
                rec.revision,
            ),
            None,
        )
        .await?;
        let mut message = format!(
            "the modules were upgraded but the backend did not become ready on {}: {}",
            image.reference(),
            f.message
        );
        if let Some(h) = &hint {
            message.push('\n');
            message.push_str(&h.join("\n"));
        }
        return Err(Failed {
            code: if f.code == 130 { 130 } else { 3 },
            message,
        });
    }
    write_history(
        &kube,
        &name,
        &loaded,
        started,
        entry(HistoryResult::Succeeded, &backup, None, revision),
        Some(revision),
    )
    .await?;
    out.emit(
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

/// Run the apply engine with `loaded`, printing its progress.
async fn roll(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    timeout: Duration,
    cancel: &CancellationToken,
    out: Out,
) -> Result<(), Failed> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        let mut last = None;
        while let Some(p) = rx.recv().await {
            out.progress(&p, &mut last);
        }
    });
    let opts = Options {
        force: false,
        dry_run: false,
        timeout,
        typed: Default::default(),
    };
    let r = apply::run(kube, release, loaded, &opts, &tx, cancel).await;
    drop(tx);
    let _ = printer.await;
    r.map(|_| ()).map_err(Failed::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(l: &[&str]) -> UpgradeModules {
        UpgradeModules::List(l.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn module_flags() {
        assert_eq!(
            module_choice(Some("sale,account"), false, false).unwrap(),
            ModuleChoice::Given(list(&["sale", "account"]))
        );
        assert_eq!(
            module_choice(None, true, false).unwrap(),
            ModuleChoice::Given(UpgradeModules::All)
        );
        assert_eq!(module_choice(None, false, true).unwrap(), ModuleChoice::Ask);
        let e = module_choice(None, false, false).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("--modules") && e.message.contains("--all"));
        for bad in ["sale,,account", "Sale", "sale;rm -rf", ""] {
            let e = module_choice(Some(bad), false, false).unwrap_err();
            assert_eq!(e.code, 2, "{bad}");
        }
        assert_eq!(module_choice(Some("a"), true, false).unwrap_err().code, 2);
        assert_eq!(parse_module_list(" all ").unwrap(), UpgradeModules::All);
    }

    #[test]
    fn strategy_defaults_to_maintenance_with_nginx() {
        assert_eq!(pick_strategy(None, true), Strategy::Maintenance);
        assert_eq!(pick_strategy(None, false), Strategy::Online);
        assert_eq!(
            pick_strategy(Some(Strategy::Online), true),
            Strategy::Online
        );
    }

    #[test]
    fn a_new_tag_drops_the_old_digest() {
        let img = Image {
            repository: "ghcr.io/x/odoo".into(),
            tag: "18.0-1".into(),
            digest: "sha256:abc".into(),
            pull_policy: "IfNotPresent".into(),
            s3_modules: None,
        };
        assert_eq!(target_image(&img, None), img);
        assert_eq!(target_image(&img, Some("18.0-1")), img);
        let t = target_image(&img, Some("18.0-2"));
        assert_eq!(t.reference(), "ghcr.io/x/odoo:18.0-2");
        assert!(check_tag("18.0-2").is_ok());
        for bad in ["", "a b", "x:y", "-x", "a@sha256"] {
            assert_eq!(check_tag(bad).unwrap_err().code, 2, "{bad}");
        }
    }

    #[test]
    fn loading_module_lines_are_progress() {
        assert_eq!(
            module_progress(
                "2026-11-27 23:05:00,1 1 INFO odoo odoo.modules.loading: Loading module sale (12/45)"
            ),
            Some("sale")
        );
        assert_eq!(
            module_progress("loading module account_edi"),
            Some("account_edi")
        );
        assert_eq!(module_progress("loading 45 modules..."), None);
    }

    #[test]
    fn restore_hints_name_the_dump_and_no_password() {
        let loaded = values::load(&[]).unwrap();
        let d = Derived::new("acme", &loaded.values);
        let s3 = BackupTarget::S3 {
            bucket: "odoo-filestore".into(),
            key: "backups/acme-odoo-1-2611272305.dump".into(),
        };
        let h = restore_hint(&s3, "shop", "acme", &d, true, "postgres:17.6").join("\n");
        assert!(
            h.contains("s3://odoo-filestore/backups/acme-odoo-1-2611272305.dump"),
            "{h}"
        );
        assert!(h.contains(
            "kubectl -n shop exec -i acme-postgresql-0 -- pg_restore --clean --if-exists --no-owner -U odoo -d odoo < ./acme-odoo-1-2611272305.dump"
        ), "{h}");
        let pvc = BackupTarget::Pvc {
            claim: "acme-odoo-backups".into(),
            file: "f.dump".into(),
        };
        let h = restore_hint(&pvc, "shop", "acme", &d, true, "postgres:17.6").join("\n");
        assert!(
            h.contains("pvc:acme-odoo-backups/f.dump") && h.contains("/backups/f.dump"),
            "{h}"
        );
        assert!(h.contains("Secret acme-odoo key db-password"), "{h}");
    }

    #[test]
    fn history_shows_upgrades_and_backups_newest_first() {
        let e = |time, kind, result| HistoryEntry {
            time,
            kind,
            modules: if kind == HistoryKind::Upgrade {
                vec!["sale".into()]
            } else {
                vec![]
            },
            image: None,
            backup_location: Some("s3://b/backups/x.dump".into()),
            result,
            revision: 2,
            detail: None,
        };
        let h = vec![
            e(0, HistoryKind::Install, HistoryResult::Succeeded),
            e(60, HistoryKind::Backup, HistoryResult::Succeeded),
            e(120, HistoryKind::Upgrade, HistoryResult::Failed),
        ];
        let lines = history_lines(&h, 5);
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].contains("upgrade")
                && lines[0].contains("FAILED")
                && lines[0].contains("modules sale")
        );
        assert!(lines[1].contains("backup") && lines[1].contains("s3://b/backups/x.dump"));
        assert_eq!(history_lines(&h, 1).len(), 1);
    }
}
