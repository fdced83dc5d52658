//! `odoo-tui logs [NAME] [COMPONENT] [-f] [--previous] [--since 10m]`: the logs of every
//! pod of a component (default backend; a Job component's newest Job), each line
//! prefixed with its pod and container and made terminal-safe. With `-f`, new lines as
//! they come, also of pods that start later, until Ctrl-C or until a Job's pods are done.
//! Which pods and containers is decided by `plan::logs`.

use std::collections::BTreeSet;
use std::io::Write;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, LogParams};
use kube::runtime::watcher;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Context, Error};
use crate::cli::LogsArgs;
use crate::cluster::error::Op;
use crate::cluster::{Kube, MANAGED_SELECTOR};
use crate::instance;
use crate::plan::logs as plan;
use crate::status::{COMPONENT_LABEL, Component, ComponentKind, INSTANCE_LABEL};
use crate::text::safe_line;

pub fn run(ctx: &Context, a: LogsArgs) -> Result<(), Error> {
    let since = match &a.since {
        None => None,
        Some(s) => Some(crate::time::parse_duration(s).ok_or_else(|| {
            Error::usage(format!(
                "--since `{}` is not a duration such as 10m, 90s or 1h",
                s.trim()
            ))
        })?),
    };
    if a.follow && a.previous {
        return Err(Error::usage(
            "--previous reads runs that are over: it cannot be followed (-f)",
        ));
    }
    let since = since.map(|d| d.as_secs().max(1) as i64);
    if a.follow {
        ctx.block_on(Some("stopping"), |cancel| logs(ctx, a, since, cancel))
    } else {
        ctx.block_on(None, |cancel| logs(ctx, a, since, cancel))
    }
}

fn print(pod: &str, container: &str, line: &str) {
    let _ = writeln!(
        std::io::stdout().lock(),
        "{} {}",
        plan::prefix(pod, container),
        safe_line(line)
    );
}

async fn logs(
    ctx: &Context,
    a: LogsArgs,
    since: Option<i64>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let instances: Vec<String> = instance::find::records(&kube, false)
        .await?
        .iter()
        .filter_map(|(_, j)| j["data"]["release"].as_str().map(str::to_string))
        .collect();
    let (name, component) = plan::split_args(a.first.as_deref(), a.second.as_deref(), &instances)
        .map_err(Error::usage)?;
    let name = instance::resolve_name(&kube, name).await?;
    let selector = format!(
        "{INSTANCE_LABEL}={name},{COMPONENT_LABEL}={},{MANAGED_SELECTOR}",
        component.label()
    );
    let lp = ListParams::default().labels(&selector);
    let op = |what: &str| Op::new("list", what.to_string(), Some(&kube.namespace));
    let (pods_api, jobs_api) = (kube.typed::<Pod>(), kube.typed::<Job>());
    let pods = kube.retry(&op("pods"), || pods_api.list(&lp)).await?.items;
    let jobs = if component.kind() == ComponentKind::Job {
        kube.retry(&op("jobs"), || jobs_api.list(&lp)).await?.items
    } else {
        Vec::new()
    };
    let to_read = plan::pods_to_read(component, &pods, &jobs);
    if a.follow {
        let job = plan::newest_job(&jobs).map(str::to_string);
        return follow(&kube, &selector, component, job, to_read, since, cancel).await;
    }
    if to_read.is_empty() {
        eprintln!(
            "`{name}` has no {} pod in namespace `{}`{}",
            component.label(),
            kube.namespace,
            if component.kind() == ComponentKind::Job {
                " (its Job has not run, or was removed)"
            } else {
                ""
            }
        );
        return Ok(());
    }
    for p in to_read {
        let pod = p.metadata.name.clone().unwrap_or_default();
        let containers = plan::readable_containers(p, a.previous);
        if containers.is_empty() {
            eprintln!(
                "pod {pod}: {}",
                if a.previous {
                    "no container was restarted"
                } else {
                    "no container has started yet"
                }
            );
        }
        for c in containers {
            let params = LogParams {
                container: Some(c.clone()),
                previous: a.previous,
                since_seconds: since,
                ..Default::default()
            };
            let o = Op::new("get", format!("pods/{pod}/log"), Some(&kube.namespace));
            let text = kube.retry(&o, || pods_api.logs(&pod, &params)).await?;
            for line in text.lines() {
                print(&pod, &c, line);
            }
        }
    }
    Ok(())
}

/// Follow every started container of the pods given and of those that start later;
/// a Job component ends once no pod of it is active, its streams are over and the Job
/// finished.
async fn follow(
    kube: &Kube,
    selector: &str,
    component: Component,
    job: Option<String>,
    first: Vec<&Pod>,
    since: Option<i64>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let pods_api = kube.typed::<Pod>();
    let started = crate::time::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, String, Option<String>)>();
    let mut followed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut open = 0usize;
    let mut tasks = Vec::new();
    let mut start = |p: &Pod, followed: &mut BTreeSet<(String, String)>, open: &mut usize| {
        let pod = p.metadata.name.clone().unwrap_or_default();
        for c in plan::readable_containers(p, false) {
            if !followed.insert((pod.clone(), c.clone())) {
                continue;
            }
            *open += 1;
            let (api, tx, pod) = (pods_api.clone(), tx.clone(), pod.clone());
            tasks.push(tokio::spawn(async move {
                let lp = LogParams {
                    container: Some(c.clone()),
                    follow: true,
                    since_seconds: since,
                    ..Default::default()
                };
                if let Ok(stream) = api.log_stream(&pod, &lp).await {
                    let mut lines = stream.lines();
                    while let Some(Ok(l)) = lines.next().await {
                        if tx.send((pod.clone(), c.clone(), Some(l))).is_err() {
                            return;
                        }
                    }
                }
                let _ = tx.send((pod, c, None));
            }));
        }
    };
    for p in first {
        start(p, &mut followed, &mut open);
    }
    // A pod of this run: the newest Job's, or one created since the command started.
    let wanted = |p: &Pod| {
        component.kind() == ComponentKind::Workload
            || plan::job_of(p).map(str::to_string) == job
            || p.metadata
                .creation_timestamp
                .as_ref()
                .is_some_and(|t| t.0.as_second() >= started)
    };
    let mut active: BTreeSet<String> = BTreeSet::new();
    let stream = watcher(
        pods_api.clone(),
        watcher::Config::default().labels(selector),
    );
    futures::pin_mut!(stream);
    let jobs_api = kube.typed::<Job>();
    let result = loop {
        tokio::select! {
            _ = cancel.cancelled() => break Ok(()),
            Some((pod, c, line)) = rx.recv() => match line {
                Some(l) => print(&pod, &c, &l),
                None => open = open.saturating_sub(1),
            },
            ev = stream.next() => match ev {
                Some(Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p))) if wanted(&p) => {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    if plan::active(&p) {
                        active.insert(name);
                    } else {
                        active.remove(&name);
                    }
                    start(&p, &mut followed, &mut open);
                }
                Some(Ok(watcher::Event::Delete(p))) => {
                    active.remove(p.metadata.name.as_deref().unwrap_or_default());
                }
                Some(_) => {}
                None => break Ok(()),
            },
        }
        // A Job's pods are done: end once the Job says so (it may retry otherwise).
        if component.kind() == ComponentKind::Job
            && open == 0
            && active.is_empty()
            && !followed.is_empty()
            && let Some(j) = &job
            && let Ok(Some(j)) = jobs_api.get_opt(j).await
            && j.status
                .iter()
                .flat_map(|s| s.conditions.iter().flatten())
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        {
            break Ok(());
        }
    };
    for t in tasks {
        t.abort();
    }
    result
}
