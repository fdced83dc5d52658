//! Commands that talk to the cluster: `new`, `status --once`, `list`, `delete`.
//! Thin IO around the cores; every message names the object and the fix.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use kube::api::ListParams;
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::{PlainJson, TableFormat, ValuesArgs};
use crate::cluster::apply::{self, ApplyError, Change, Options, Progress};
use crate::cluster::kinds::Kind;
use crate::cluster::{ClusterError, Kube, Target, record, watch};
use crate::render::Derived;
use crate::values::{self, Loaded};
use crate::{Error, commands, plain, status};

/// A command's failure with its exit code (SPEC §1).
#[derive(Debug)]
pub struct Failed {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failed {}

impl From<ApplyError> for Failed {
    fn from(e: ApplyError) -> Failed {
        Failed {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<ClusterError> for Failed {
    fn from(e: ClusterError) -> Failed {
        Failed {
            code: 1,
            message: e.to_string(),
        }
    }
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        Failed {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

/// Parse `15m`, `900s`, `1h`, `90` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, Failed> {
    crate::time::parse_duration(s).ok_or_else(|| Failed {
        code: 2,
        message: format!(
            "--timeout `{}` is not a duration such as 15m, 900s or 1h",
            s.trim()
        ),
    })
}

/// Values for an instance: the recorded values of an existing instance first (so that a
/// re-run changes only what you change), then the preset, each -f, each --set.
async fn load_for(
    kube: &Kube,
    name: &str,
    args: &ValuesArgs,
) -> Result<(Loaded, Option<record::Record>), Failed> {
    let user = commands::sources(args)?;
    let first = values::load(&user)?;
    values::validate::validate_release(name, &first.values).map_err(Error::Usage)?;
    let d = Derived::new(name, &first.values);
    let rec = apply::read_record(kube, &d.fullname).await?;
    let Some(rec) = rec else {
        return Ok((first, None));
    };
    let origin = format!("instance record {}", record::name(&d.fullname));
    let loaded = values::load_over_record(&origin, &rec.values, &user)?;
    Ok((loaded, Some(rec)))
}

fn print_progress(p: &Progress, json: bool, last: &mut Option<status::InstanceStatus>) {
    let mut err = std::io::stderr().lock();
    match p {
        Progress::Status(st) => {
            let lines = if json {
                plain::json_changes(last.as_ref(), st)
            } else {
                plain::changes(last.as_ref(), st)
            };
            for l in lines {
                let _ = writeln!(err, "{l}");
            }
            *last = Some((**st).clone());
        }
        _ if json => {
            let v = match p {
                Progress::Step(s) => serde_json::json!({"step": s}),
                Progress::Wave { index, total, name } => {
                    serde_json::json!({"wave": index, "of": total, "name": name})
                }
                Progress::Object { key, change } => {
                    serde_json::json!({"object": key, "change": change.label()})
                }
                Progress::Done { revision } => {
                    serde_json::json!({"done": true, "revision": revision})
                }
                Progress::Status(_) => unreachable!(),
            };
            let _ = writeln!(err, "{v}");
        }
        Progress::Step(s) => {
            let _ = writeln!(err, "{s}");
        }
        Progress::Wave { index, total, name } => {
            let _ = writeln!(err, "[{index}/{total}] {name}");
        }
        Progress::Object { key, change } if *change != Change::Unchanged => {
            let _ = writeln!(err, "  {key} {}", change.label());
        }
        Progress::Object { .. } => {}
        Progress::Done { revision } => {
            let _ = writeln!(err, "instance record written (revision {revision})");
        }
    }
}

/// Options of `new` that matter here.
pub struct NewArgs {
    pub name: String,
    pub values: ValuesArgs,
    pub dry_run: bool,
    pub force: bool,
    pub output_dir: Option<std::path::PathBuf>,
    pub timeout: String,
    pub show_credentials: bool,
    pub output: PlainJson,
    /// Show the full-screen view while waiting (a terminal, and not --plain / -o json).
    pub live: bool,
}

/// `odoo-tui new NAME --yes`: apply to the cluster, or write manifests when none is reachable.
pub async fn new(target: &Target, a: NewArgs, cancel: CancellationToken) -> Result<(), Failed> {
    let timeout = parse_duration(&a.timeout)?;
    let namespace = target.namespace.clone().unwrap_or_else(|| "default".into());
    if let Some(dir) = a.output_dir.clone() {
        commands::new_to_folder(&a.name, &namespace, &a.values, Some(dir))?;
        return Ok(());
    }
    let kube = match Kube::connect(target).await {
        Ok(k) => match k.check().await {
            Ok(()) => k,
            Err(e @ (ClusterError::Unreachable { .. } | ClusterError::Tls { .. })) => {
                return fallback(&a, &namespace, &e);
            }
            Err(e) => return Err(e.into()),
        },
        Err(e @ ClusterError::NoKubeconfig(_)) => return fallback(&a, &namespace, &e),
        Err(e) => return Err(e.into()),
    };
    let (loaded, _record) = load_for(&kube, &a.name, &a.values).await?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let opts = Options {
        force: a.force,
        dry_run: a.dry_run,
        timeout,
        typed: Default::default(),
    };
    let result = if a.live && !a.dry_run {
        apply_live(&kube, &a.name, &loaded, &opts, cancel).await
    } else {
        apply_plain(
            &kube,
            &a.name,
            &loaded,
            &opts,
            a.output == PlainJson::Json,
            cancel,
        )
        .await
    };
    let outcome = result?;
    if a.dry_run {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{}", outcome.diff);
        let changed = outcome
            .changes
            .iter()
            .filter(|(_, c)| *c != Change::Unchanged)
            .count();
        eprintln!("dry run: {changed} object(s) would change; nothing was stored");
        return Ok(());
    }
    finish(&kube, &a.name, a.show_credentials, &loaded, &outcome);
    Ok(())
}

/// Apply what the wizard decided (on a terminal: with the dashboard).
pub async fn apply_outcome(
    target: &Target,
    name: &str,
    loaded: Loaded,
    typed: crate::render::Credentials,
    show_credentials: bool,
    timeout: &str,
    cancel: CancellationToken,
) -> Result<(), Failed> {
    let timeout = parse_duration(timeout)?;
    let kube = Kube::connect(target).await?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let opts = Options {
        force: false,
        dry_run: false,
        timeout,
        typed,
    };
    let outcome = apply_live(&kube, name, &loaded, &opts, cancel).await?;
    finish(&kube, name, show_credentials, &loaded, &outcome);
    Ok(())
}

async fn apply_plain(
    kube: &Kube,
    name: &str,
    loaded: &Loaded,
    opts: &Options,
    json: bool,
    cancel: CancellationToken,
) -> Result<apply::Outcome, ApplyError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        let mut last = None;
        while let Some(p) = rx.recv().await {
            print_progress(&p, json, &mut last);
        }
    });
    let result = apply::run(kube, name, loaded, opts, &tx, &cancel).await;
    drop(tx);
    let _ = printer.await;
    result
}

/// Apply with the dashboard on screen; it closes when the rollout is ready or fails,
/// then the rest (prune, record) finishes with plain lines.
async fn apply_live(
    kube: &Kube,
    name: &str,
    loaded: &Loaded,
    opts: &Options,
    cancel: CancellationToken,
) -> Result<apply::Outcome, ApplyError> {
    use crate::tui::{self, Action, AppState, Msg};
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (mtx, mut mrx) = mpsc::channel::<Msg>(64);
    let engine = {
        let (kube, name, loaded, opts, cancel) = (
            kube.clone(),
            name.to_string(),
            loaded.clone(),
            opts.clone(),
            cancel.clone(),
        );
        tokio::spawn(async move { apply::run(&kube, &name, &loaded, &opts, &ptx, &cancel).await })
    };
    let forward = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(p) = prx.recv().await {
            match p {
                Progress::Status(st) => {
                    if mtx.send(Msg::Status(st)).await.is_err() {
                        break;
                    }
                }
                other => lines.push(other),
            }
        }
        lines
    });
    let mut state = AppState::new(crate::live::header(kube, name, None), crate::time::now());
    state.operation = Some(format!("new {name}"));
    state.finish_when_done = true;
    state.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut actions = crate::live::Actions::new(kube, mpsc::channel(1).0);
    let ended = tui::run_terminal(&mut state, &mut mrx, |a| actions.handle(a)).await;
    if matches!(ended, Ok(Some(Action::Quit)) | Err(_)) {
        cancel.cancel();
    }
    drop(mrx);
    let result = engine.await.unwrap_or(Err(ApplyError::Cancelled));
    let mut last = None;
    for p in forward.await.unwrap_or_default() {
        if matches!(p, Progress::Object { .. } | Progress::Done { .. }) {
            print_progress(&p, false, &mut last);
        }
    }
    result
}

fn fallback(a: &NewArgs, namespace: &str, why: &ClusterError) -> Result<(), Failed> {
    eprintln!("no reachable cluster: {why}");
    eprintln!(
        "writing the manifests to a folder instead (apply them later with kubectl, or re-run when the cluster is up)"
    );
    commands::new_to_folder(&a.name, namespace, &a.values, None)?;
    Ok(())
}

fn finish(
    kube: &Kube,
    name: &str,
    show_credentials: bool,
    loaded: &Loaded,
    outcome: &apply::Outcome,
) {
    let v = &loaded.values;
    let changed = outcome
        .changes
        .iter()
        .filter(|(_, c)| *c != Change::Unchanged)
        .count();
    eprintln!(
        "\n`{}` is ready in namespace `{}` ({} object(s) changed, revision {}).",
        name, kube.namespace, changed, outcome.revision
    );
    if v.ingress.enabled
        && let Some(h) = v.ingress.hosts.first()
    {
        let scheme = if v.ingress.tls.is_empty() {
            "http"
        } else {
            "https"
        };
        eprintln!("Odoo: {scheme}://{}/", h.host);
    } else {
        eprintln!(
            "Odoo: run `odoo-tui open {} -n {}` and browse http://localhost:8069/",
            name, kube.namespace
        );
    }
    eprintln!("login: {}", v.backend.init_db.admin_login);
    eprintln!("{}", admin_password_hint(name, &kube.namespace, loaded));
    if show_credentials {
        let g = &outcome.generated;
        let mut out = std::io::stdout().lock();
        let mut show = |label: &str, pw: &Option<String>| {
            if let Some(p) = pw {
                let _ = writeln!(out, "{label}: {p}");
            }
        };
        show("admin password", &g.admin_password);
        show("master password", &g.master_password);
        show("database password", &g.db_password);
        show("MinIO root password", &g.minio_root_password);
        if g == &Default::default() {
            let _ = writeln!(
                out,
                "no password was generated by this run (they were created earlier and are kept in Secrets)"
            );
        }
    } else if outcome.generated != Default::default() {
        eprintln!(
            "passwords were generated and stored in Secrets; --show-credentials prints them once on the run that creates them"
        );
    }
}

/// Where the admin password can be seen later: the user's own Secret when the values
/// name one, else the `credentials` command.
fn admin_password_hint(name: &str, namespace: &str, loaded: &Loaded) -> String {
    let init = &loaded.values.backend.init_db;
    if init.existing_secret.is_empty() {
        format!("admin password: shown again by `odoo-tui credentials {name} -n {namespace}`")
    } else {
        format!(
            "admin password: in your Secret `{}` (key `{}`) in namespace `{namespace}`",
            init.existing_secret, init.existing_secret_key
        )
    }
}

/// One status snapshot, listed (not watched): for `status --once` and non-terminals.
pub async fn snapshot(kube: &Kube, release: &str) -> Result<status::Snapshot, Failed> {
    let sel = watch::instance_selector(release);
    let lp = ListParams::default().labels(&sel);
    let all = ListParams::default();
    let op = |what: &str| {
        crate::cluster::error::Op::new("list", what.to_string(), Some(&kube.namespace))
    };
    let (pods, deployments, statefulsets, jobs, pvcs, events) = (
        kube.typed::<k8s_openapi::api::core::v1::Pod>(),
        kube.typed::<k8s_openapi::api::apps::v1::Deployment>(),
        kube.typed::<k8s_openapi::api::apps::v1::StatefulSet>(),
        kube.typed::<k8s_openapi::api::batch::v1::Job>(),
        kube.typed::<k8s_openapi::api::core::v1::PersistentVolumeClaim>(),
        kube.typed::<k8s_openapi::api::core::v1::Event>(),
    );
    Ok(status::Snapshot {
        instance: release.to_string(),
        pods: kube.retry(&op("pods"), || pods.list(&lp)).await?.items,
        deployments: kube
            .retry(&op("deployments"), || deployments.list(&lp))
            .await?
            .items,
        statefulsets: kube
            .retry(&op("statefulsets"), || statefulsets.list(&lp))
            .await?
            .items,
        jobs: kube.retry(&op("jobs"), || jobs.list(&lp)).await?.items,
        pvcs: kube
            .retry(&op("persistentvolumeclaims"), || pvcs.list(&lp))
            .await?
            .items,
        events: kube.retry(&op("events"), || events.list(&all)).await?.items,
        now: crate::time::now(),
        ..Default::default()
    })
}

/// The instance records in the namespace (or all namespaces).
async fn records(kube: &Kube, all: bool) -> Result<Vec<(String, Json)>, Failed> {
    let cm = Kind::by_name("ConfigMap").expect("known");
    let sel = "app.kubernetes.io/managed-by=odoo-tui";
    let items = if all {
        kube.list_all(cm, sel).await?
    } else {
        kube.list(cm, sel).await?
    };
    Ok(items
        .into_iter()
        .filter(|j| {
            j["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-odoo-tui"))
                && j["data"]["release"].is_string()
        })
        .map(|j| {
            (
                j["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                j,
            )
        })
        .collect())
}

/// Find the one instance when NAME is omitted.
pub async fn resolve_name(kube: &Kube, name: Option<String>) -> Result<String, Failed> {
    if let Some(n) = name {
        return Ok(n);
    }
    let recs = records(kube, false).await?;
    let names: Vec<String> = recs
        .iter()
        .filter_map(|(_, j)| j["data"]["release"].as_str().map(str::to_string))
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failed {
            code: 1,
            message: format!(
                "no odoo-tui instance in namespace `{}` — name one, or pick the namespace with -n",
                kube.namespace
            ),
        }),
        many => Err(Failed {
            code: 2,
            message: format!(
                "namespace `{}` holds {} instances ({}): name the one you mean",
                kube.namespace,
                many.len(),
                many.join(", ")
            ),
        }),
    }
}

/// `status --once` (and `status` without a terminal): print one snapshot; exit 0 when ready, 3 otherwise.
pub async fn status_once(
    target: &Target,
    name: Option<String>,
    output: TableFormat,
) -> Result<(), Failed> {
    let kube = Kube::connect(target).await?;
    let name = resolve_name(&kube, name).await?;
    let snap = snapshot(&kube, &name).await?;
    let st = status::instance_status(&snap);
    let mut out = std::io::stdout().lock();
    match crate::output::print_structured(&st, output) {
        true => {}
        false => {
            let _ = writeln!(
                out,
                "{} in {} ({}): {}",
                name,
                kube.namespace,
                kube.context,
                st.overall.label()
            );
            for c in &st.components {
                let _ = writeln!(out, "{}", plain::component_line(c));
            }
            // The last upgrades and backups (SPEC §7), from the instance record.
            for l in crate::upgrade::status_history(&kube, &name).await {
                let _ = writeln!(out, "{l}");
            }
        }
    }
    if matches!(st.overall, status::Overall::Ready) {
        Ok(())
    } else {
        Err(Failed {
            code: 3,
            message: format!(
                "`{name}` is not ready ({})",
                st.overall.label().to_lowercase()
            ),
        })
    }
}

/// `status` on a terminal: the dashboard, or lines per change with `--plain`.
pub async fn status_live(
    target: &Target,
    name: Option<String>,
    plain: bool,
    cancel: CancellationToken,
) -> Result<(), Failed> {
    let target = Target {
        non_interactive: !plain,
        ..target.clone()
    };
    let kube = Kube::connect(&target).await?;
    let name = resolve_name(&kube, name).await?;
    if plain {
        crate::live::follow_lines(&kube, &name, false, cancel).await;
        return Ok(());
    }
    let probe = values::load(&[]).map_err(Failed::from)?;
    let d = Derived::new(&name, &probe.values);
    let record = apply::read_record(&kube, &d.fullname).await?;
    crate::live::dashboard(&kube, &name, record)
        .await
        .map_err(|e| Failed {
            code: 1,
            message: format!("terminal: {e}"),
        })
}

/// One row of `list`.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    pub namespace: String,
    pub name: String,
    pub ready: String,
    pub image: String,
    pub revision: u64,
    pub age: String,
}

fn age(created: Option<&str>, now: i64) -> String {
    match created.and_then(crate::time::parse_rfc3339) {
        Some(t) => crate::time::age(now - t),
        None => "?".into(),
    }
}

/// `odoo-tui list`.
pub async fn list(target: &Target, all: bool, output: TableFormat) -> Result<(), Failed> {
    let kube = Kube::connect(target).await?;
    let recs = records(&kube, all).await?;
    let deploy = Kind::by_name("Deployment").expect("known");
    let deployments = if all {
        kube.list_all(
            deploy,
            "app.kubernetes.io/component=backend,app.kubernetes.io/managed-by=odoo-tui",
        )
        .await?
    } else {
        kube.list(
            deploy,
            "app.kubernetes.io/component=backend,app.kubernetes.io/managed-by=odoo-tui",
        )
        .await?
    };
    let now = crate::time::now();
    let mut rows: Vec<Row> = recs
        .iter()
        .map(|(ns, j)| {
            let name = j["data"]["release"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // Only the revision is needed: the values and history are not parsed for a list.
            let revision = j["data"]["revision"]
                .as_str()
                .and_then(|r| r.trim().parse().ok())
                .unwrap_or(0);
            let d = deployments.iter().find(|d| {
                d["metadata"]["namespace"].as_str() == Some(ns)
                    && d["metadata"]["labels"]["app.kubernetes.io/instance"].as_str()
                        == Some(name.as_str())
            });
            let (ready, image) = match d {
                Some(d) => (
                    format!(
                        "{}/{}",
                        d["status"]["readyReplicas"].as_i64().unwrap_or(0),
                        d["spec"]["replicas"].as_i64().unwrap_or(0)
                    ),
                    d["spec"]["template"]["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ),
                None => ("-".into(), String::new()),
            };
            Row {
                namespace: ns.clone(),
                name,
                ready,
                image,
                revision,
                age: age(j["metadata"]["creationTimestamp"].as_str(), now),
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut out = std::io::stdout().lock();
    match crate::output::print_structured(&rows, output) {
        true => {}
        false => {
            if rows.is_empty() {
                eprintln!(
                    "no odoo-tui instances{}",
                    if all {
                        "".to_string()
                    } else {
                        format!(" in namespace `{}`", kube.namespace)
                    }
                );
                return Ok(());
            }
            let _ = writeln!(
                out,
                "{:<16} {:<24} {:<6} {:<9} {:<5} IMAGE",
                "NAMESPACE", "NAME", "READY", "REVISION", "AGE"
            );
            for r in rows {
                let _ = writeln!(
                    out,
                    "{:<16} {:<24} {:<6} {:<9} {:<5} {}",
                    r.namespace, r.name, r.ready, r.revision, r.age, r.image
                );
            }
        }
    }
    Ok(())
}

/// `odoo-tui delete NAME [--delete-data] [--yes]`.
pub async fn delete(
    target: &Target,
    name: &str,
    delete_data: bool,
    yes: bool,
) -> Result<(), Failed> {
    let kube = Kube::connect(target).await?;
    if delete_data && !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failed { code: 2, message: "--delete-data deletes the database and filestore volumes: confirm with --yes (no terminal to ask on)".into() });
        }
        eprint!(
            "This deletes the PVCs (database, filestore) and generated Secrets of `{name}` in namespace `{}`. Type the instance name to confirm: ",
            kube.namespace
        );
        let mut typed = String::new();
        let _ = std::io::stdin().read_line(&mut typed);
        if typed.trim() != name {
            return Err(Failed {
                code: 1,
                message: "the name did not match: nothing was deleted".into(),
            });
        }
    }
    let sel = format!("app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=odoo-tui");
    let mut kinds: Vec<&Kind> = Kind::prunable().collect();
    kinds.push(Kind::by_name("ServiceAccount").expect("known"));
    if delete_data {
        kinds.push(Kind::by_name("Secret").expect("known"));
    }
    let mut deleted = 0;
    for kind in kinds {
        for obj in kube.list(kind, &sel).await? {
            let n = obj["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            kube.delete(kind, &n, false).await?;
            eprintln!("{}/{n} deleted", kind.kind);
            deleted += 1;
        }
    }
    let pvc = Kind::by_name("PersistentVolumeClaim").expect("known");
    let claims = kube
        .list(pvc, &format!("app.kubernetes.io/instance={name}"))
        .await?;
    if delete_data {
        for obj in &claims {
            let n = obj["metadata"]["name"].as_str().unwrap_or_default();
            kube.delete(pvc, n, false).await?;
            eprintln!("PersistentVolumeClaim/{n} deleted");
            deleted += 1;
        }
    } else if !claims.is_empty() {
        eprintln!(
            "kept {} PVC(s) and the generated Secrets: `odoo-tui new {name}` reattaches to them; `--delete-data` removes them",
            claims.len()
        );
    }
    if deleted == 0 {
        return Err(Failed {
            code: 1,
            message: format!(
                "no objects of an instance `{name}` in namespace `{}`",
                kube.namespace
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_come_from_the_creation_time() {
        let now = crate::time::parse_rfc3339("2026-11-27T23:05:00Z").unwrap();
        assert_eq!(age(Some("2026-11-27T23:00:00Z"), now), "5m");
        assert_eq!(age(None, now), "?");
    }
}
