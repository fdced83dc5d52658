//! Reading a Pod: its row in the dashboard and the reason it is not progressing.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

use super::events;
use super::model::{Component, Failure, PodInfo, Reason};

/// How many log lines a failure carries.
pub const LOG_LINES: usize = 10;
/// Restarts from which a crash loop is terminal (SPEC §6).
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
    term: Option<&k8s_openapi::api::core::v1::ContainerStateTerminated>,
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
    term: Option<&k8s_openapi::api::core::v1::ContainerStateTerminated>,
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
    let term = state
        .terminated
        .as_ref()
        .or(if c.ready { None } else { last_term })?;
    (term.reason.as_deref() == Some("OOMKilled")).then(|| {
        let detail = format!(
            "container {} was killed for using more memory than its limit",
            c.name
        );
        let mut f = base(
            pod,
            ctx,
            Reason::OomKilled,
            detail,
            c.restart_count >= TERMINAL_RESTARTS,
        );
        f.exit_code = Some(term.exit_code);
        f.restarts = Some(c.restart_count);
        f.log_lines = last_logs(ctx);
        f.cause = container_cause(pod, c, Some(term), ctx);
        f
    })
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
