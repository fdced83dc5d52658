//! Reading a Pod: its row in the dashboard and the reason it is not progressing.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

use k8s_openapi::api::core::v1::ContainerStateTerminated;

use super::events;
use super::model::{Attempt, Component, Failure, PodInfo, Reason};

/// How many log lines a failure carries: the tail the watcher reads once per failed
/// container run.
pub const LOG_LINES: usize = 20;
/// Restarts from which a crash loop is terminal (docs/ARCHITECTURE.md, "Status and
/// fail-fast").
pub const TERMINAL_RESTARTS: i32 = 3;

/// Markers of registry rate limiting in pull errors: transient, not terminal.
const RATE_LIMIT_MARKERS: [&str; 4] = ["toomanyrequests", "rate limit", "429", "too many requests"];

/// Every container status of the pod, init containers first.
fn container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let s = pod.status.as_ref();
    let init = s
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let main = s
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    init.iter().chain(main)
}

/// The pod's name.
pub fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// Whether the pod has the condition `Ready=True`.
pub fn is_ready(pod: &Pod) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.status == "True")
}

fn condition<'a>(
    pod: &'a Pod,
    type_: &str,
) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The pod's phase as Kubernetes reports it.
pub fn phase(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into())
}

/// Restarts summed over the pod's containers.
pub fn restarts(pod: &Pod) -> i32 {
    container_statuses(pod).map(|c| c.restart_count).sum()
}

/// The pod's creation time (unix seconds).
pub fn created(pod: &Pod) -> Option<i64> {
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
}

/// The dashboard row for a pod at time `now`.
pub fn info(pod: &Pod, now: i64) -> PodInfo {
    PodInfo {
        name: name(pod).to_string(),
        phase: phase(pod),
        ready: is_ready(pod),
        restarts: restarts(pod),
        age_seconds: created(pod).map(|t| (now - t).max(0)),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        reason: short_reason(pod),
    }
}

/// A container's waiting or terminated reason, or `Unschedulable`.
fn short_reason(pod: &Pod) -> Option<String> {
    for c in container_statuses(pod) {
        let st = c.state.as_ref();
        let waiting = st
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone());
        if let Some(r) = waiting
            && r != "ContainerCreating"
            && r != "PodInitializing"
        {
            return Some(r);
        }
        if let Some(t) = st.and_then(|s| s.terminated.as_ref())
            && t.exit_code != 0
        {
            return t
                .reason
                .clone()
                .or_else(|| Some(format!("exit {}", t.exit_code)));
        }
    }
    unschedulable(pod).map(|_| "Unschedulable".to_string())
}

fn unschedulable(pod: &Pod) -> Option<String> {
    let c = condition(pod, "PodScheduled")?;
    (c.status == "False" && c.reason.as_deref() == Some("Unschedulable"))
        .then(|| c.message.clone().unwrap_or_default())
}

/// What the analysis of one pod needs besides the pod.
pub struct PodContext<'a> {
    pub component: Component,
    pub events: &'a [Event],
    pub logs: Option<&'a Vec<String>>,
    /// Odoo's worker count, when known (for the OOM cause).
    pub workers: Option<i64>,
    /// The instance's bucket, when known (for S3 causes).
    pub bucket: Option<&'a str>,
    /// For a Job's pod: the attempt it is. A failed attempt is terminal when its cause
    /// cannot be fixed by retrying; otherwise the Job's next attempt is waited for.
    pub attempt: Option<Attempt>,
}

/// A container run that ended with an error (a non-zero exit, or killed for memory).
#[derive(Debug, Clone, Copy)]
pub struct FailedRun<'a> {
    pub container: &'a str,
    pub terminated: &'a ContainerStateTerminated,
    /// The container was restarted since that run: its log is the previous one.
    pub previous: bool,
    pub restarts: i32,
}

fn ended_badly(t: &ContainerStateTerminated) -> bool {
    t.exit_code != 0 || t.reason.as_deref() == Some("OOMKilled")
}

/// The failed run of a container that is not running well again: its current state
/// when it ended with an error (a Job's pod), else its last state while it is not ready
/// (restarted, or waiting to be).
fn failed_run(c: &ContainerStatus) -> Option<FailedRun<'_>> {
    let run = |terminated, previous| FailedRun {
        container: c.name.as_str(),
        terminated,
        previous,
        restarts: c.restart_count,
    };
    let state = c.state.as_ref()?;
    if let Some(t) = &state.terminated {
        return ended_badly(t).then(|| run(t, false));
    }
    if c.ready {
        return None;
    }
    let t = c.last_state.as_ref()?.terminated.as_ref()?;
    ended_badly(t).then(|| run(t, true))
}

/// A log tail the status needs: the failed run of one container. The watcher reads it
/// once (`tailLines` = [`LOG_LINES`]) and gives it back in [`super::Snapshot::logs`]
/// under the pod's name; a later failed run of the same container is a new request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TailRequest {
    pub pod: String,
    pub uid: String,
    pub container: String,
    /// Read the container's previous run (`--previous`).
    pub previous: bool,
    /// The container's restart count when it failed (tells one run from the next).
    pub restarts: i32,
}

/// The log tail to read for this pod, if a container of it failed: the first failed
/// run, init containers first (a pod whose init container failed runs nothing else).
pub fn tail_request(pod: &Pod) -> Option<TailRequest> {
    let run = container_statuses(pod).find_map(failed_run)?;
    Some(TailRequest {
        pod: name(pod).to_string(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        container: run.container.to_string(),
        previous: run.previous,
        restarts: run.restarts,
    })
}

/// The memory limit of the pod's container `name`, as its spec gives it.
pub fn memory_limit<'a>(pod: &'a Pod, name: &str) -> Option<&'a str> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)?
        .resources
        .as_ref()?
        .limits
        .as_ref()?
        .get("memory")
        .map(|q| q.0.as_str())
}

/// The cause of a container's failure, from its log tail and how it last ended.
pub fn cause(
    pod: &Pod,
    container: &str,
    term: Option<&ContainerStateTerminated>,
    logs: Option<&Vec<String>>,
    component: Component,
    workers: Option<i64>,
    bucket: Option<&str>,
) -> Option<super::cause::Cause> {
    let log = logs.map(Vec::as_slice).unwrap_or_default();
    super::cause::classify(&super::cause::Evidence {
        log: &log[log.len().saturating_sub(LOG_LINES * 2)..],
        reason: term.and_then(|t| t.reason.as_deref()),
        exit_code: term.map(|t| t.exit_code),
        memory_limit: memory_limit(pod, container),
        workers,
        component: Some(component),
        bucket,
    })
}

/// The most important reason this pod is not progressing, if any.
/// `next_step` is left empty; the caller fills it in.
pub fn failure(pod: &Pod, ctx: &PodContext<'_>) -> Option<Failure> {
    container_statuses(pod)
        .find_map(|c| container_failure(pod, c, ctx))
        .or_else(|| unschedulable_failure(pod, ctx))
        .or_else(|| probe_failure(pod, ctx))
}

fn base(
    pod: &Pod,
    ctx: &PodContext<'_>,
    reason: Reason,
    detail: String,
    terminal: bool,
) -> Failure {
    Failure {
        component: ctx.component,
        object: format!("Pod/{}", name(pod)),
        reason,
        detail: crate::text::safe_line(&detail),
        terminal,
        next_step: String::new(),
        image: None,
        exit_code: None,
        restarts: None,
        attempt: None,
        log_lines: Vec::new(),
        cause: None,
    }
}

/// The last log lines, terminal-safe.
fn last_logs(ctx: &PodContext<'_>) -> Vec<String> {
    let lines = ctx.logs.map(Vec::as_slice).unwrap_or_default();
    crate::text::safe_lines(&lines[lines.len().saturating_sub(LOG_LINES)..])
}

fn container_cause(
    pod: &Pod,
    c: &ContainerStatus,
    term: Option<&ContainerStateTerminated>,
    ctx: &PodContext<'_>,
) -> Option<super::cause::Cause> {
    cause(
        pod,
        &c.name,
        term,
        ctx.logs,
        ctx.component,
        ctx.workers,
        ctx.bucket,
    )
}

fn container_failure(pod: &Pod, c: &ContainerStatus, ctx: &PodContext<'_>) -> Option<Failure> {
    let state = c.state.as_ref()?;
    let last_term = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    if let Some(w) = &state.waiting {
        let reason = w.reason.as_deref().unwrap_or_default();
        let message = w.message.clone().unwrap_or_default();
        match reason {
            "ErrImagePull" | "ImagePullBackOff" => {
                return Some(image_pull(pod, c, ctx, reason, message));
            }
            "InvalidImageName" => {
                let mut f = base(pod, ctx, Reason::InvalidImageName, message, true);
                f.image = Some(c.image.clone());
                return Some(f);
            }
            "CreateContainerConfigError" => {
                return Some(base(
                    pod,
                    ctx,
                    Reason::CreateContainerConfigError,
                    message,
                    true,
                ));
            }
            "CrashLoopBackOff" => {
                let oom = last_term.and_then(|t| t.reason.as_deref()) == Some("OOMKilled");
                let r = if oom {
                    Reason::OomKilled
                } else {
                    Reason::CrashLoopBackOff
                };
                let exit = last_term.map(|t| t.exit_code);
                let detail = match exit {
                    Some(code) => format!(
                        "container {} exited with code {code}, restarted {} times",
                        c.name, c.restart_count
                    ),
                    None => message,
                };
                let mut f = base(pod, ctx, r, detail, c.restart_count >= TERMINAL_RESTARTS);
                f.exit_code = exit;
                f.restarts = Some(c.restart_count);
                f.log_lines = last_logs(ctx);
                f.cause = container_cause(pod, c, last_term, ctx);
                return Some(f);
            }
            _ => {}
        }
    }
    failed_run(c).map(|run| failed_run_failure(pod, c, run, ctx))
}

/// A container run that ended with an error: at once, with its exit code or reason, the
/// attempt (a Job's pod) or the restarts, its log tail and the cause.
fn failed_run_failure(
    pod: &Pod,
    c: &ContainerStatus,
    run: FailedRun<'_>,
    ctx: &PodContext<'_>,
) -> Failure {
    let t = run.terminated;
    let oom = t.reason.as_deref() == Some("OOMKilled");
    let what = if oom {
        let limit = memory_limit(pod, &c.name).map_or(String::new(), |l| format!(" of {l}"));
        format!(
            "container {} was killed for using more than its memory limit{limit}",
            c.name
        )
    } else {
        format!("container {} exited with code {}", c.name, t.exit_code)
    };
    let detail = match (ctx.attempt, run.restarts) {
        (Some(a), _) => format!("{a}: {what}"),
        (None, 0) => what,
        (None, 1) => format!("{what}, restarted once"),
        (None, n) => format!("{what}, restarted {n} times"),
    };
    let cause = container_cause(pod, c, Some(t), ctx);
    // A Job's attempt is worth waiting for unless its cause says retrying cannot fix
    // it; a workload's container gets the restarts of a crash loop (TERMINAL_RESTARTS).
    let terminal = match ctx.attempt {
        Some(_) => cause.as_ref().is_some_and(|c| !c.retryable),
        None => run.restarts >= TERMINAL_RESTARTS,
    };
    let reason = if oom {
        Reason::OomKilled
    } else {
        Reason::Error
    };
    let mut f = base(pod, ctx, reason, detail, terminal);
    f.exit_code = Some(t.exit_code);
    f.restarts = Some(run.restarts);
    f.attempt = ctx.attempt;
    f.log_lines = last_logs(ctx);
    f.cause = cause;
    f
}

fn image_pull(
    pod: &Pod,
    c: &ContainerStatus,
    ctx: &PodContext<'_>,
    reason: &str,
    message: String,
) -> Failure {
    // The back-off message does not say why the pull failed; the pull's own event does.
    let pulled = events::latest_where(ctx.events, "Pod", name(pod), |e| {
        e.reason.as_deref() == Some("Failed")
            && e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("Failed to pull image"))
    })
    .and_then(|e| e.message.clone());
    let detail = match pulled {
        Some(m) if !message.contains("rpc error") => m,
        _ => message,
    };
    let lower = detail.to_ascii_lowercase();
    let rate_limited = RATE_LIMIT_MARKERS.iter().any(|m| lower.contains(m));
    let r = if reason == "ErrImagePull" {
        Reason::ErrImagePull
    } else {
        Reason::ImagePullBackOff
    };
    let mut f = base(pod, ctx, r, detail, !rate_limited);
    f.image = Some(c.image.clone());
    f
}

fn unschedulable_failure(pod: &Pod, ctx: &PodContext<'_>) -> Option<Failure> {
    let message = unschedulable(pod)?;
    Some(base(pod, ctx, Reason::Unschedulable, message, false))
}

fn probe_failure(pod: &Pod, ctx: &PodContext<'_>) -> Option<Failure> {
    if is_ready(pod) || phase(pod) != "Running" {
        return None;
    }
    let e = events::latest(ctx.events, "Pod", name(pod), &["Unhealthy"])?;
    let message = e.message.clone().unwrap_or_default().trim().to_string();
    let mut f = base(pod, ctx, Reason::ProbeFailed, message, false);
    f.log_lines = last_logs(ctx);
    Some(f)
}
