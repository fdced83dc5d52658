//! Reading workloads, Jobs and PVCs: counts, phases and object-level reasons.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, PodTemplateSpec};

use super::events;
use super::model::{Component, Failure, Reason};

/// Counts read from a Deployment or StatefulSet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkloadCounts {
    pub desired: u32,
    pub ready: u32,
    /// Ready, up to date, no old replicas left, status observed for the current spec.
    pub rolled_out: bool,
}

fn count(v: Option<i32>) -> u32 {
    v.unwrap_or(0).max(0) as u32
}

fn rolled_out(desired: u32, ready: u32, updated: u32, total: u32, observed: bool) -> bool {
    observed && ready >= desired && updated >= desired && total <= desired
}

/// Counts of a Deployment.
pub fn deployment_counts(d: &Deployment) -> WorkloadCounts {
    let desired = count(d.spec.as_ref().and_then(|s| s.replicas).or(Some(1)));
    let s = d.status.clone().unwrap_or_default();
    let observed = s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let ready = count(s.ready_replicas);
    WorkloadCounts {
        desired,
        ready: ready.min(desired),
        rolled_out: rolled_out(
            desired,
            ready,
            count(s.updated_replicas),
            count(s.replicas),
            observed,
        ),
    }
}

/// Counts of a StatefulSet.
pub fn statefulset_counts(st: &StatefulSet) -> WorkloadCounts {
    let desired = count(st.spec.as_ref().and_then(|s| s.replicas).or(Some(1)));
    let s = st.status.clone().unwrap_or_default();
    let observed = s.observed_generation.unwrap_or(0) >= st.metadata.generation.unwrap_or(0);
    let ready = count(s.ready_replicas);
    // Without an update revision (older controllers) every replica counts as updated.
    let updated = if s.update_revision.is_some() {
        count(s.updated_replicas)
    } else {
        count(Some(s.replicas))
    };
    WorkloadCounts {
        desired,
        ready: ready.min(desired),
        rolled_out: rolled_out(desired, ready, updated, count(Some(s.replicas)), observed),
    }
}

/// The first container image of a pod template.
pub fn template_image(t: Option<&PodTemplateSpec>) -> Option<String> {
    t?.spec.as_ref()?.containers.first()?.image.clone()
}

fn failure(
    component: Component,
    object: String,
    reason: Reason,
    detail: String,
    terminal: bool,
) -> Failure {
    Failure {
        component,
        object,
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

/// `ProgressDeadlineExceeded` from the condition `Progressing=False`.
pub fn deployment_failure(d: &Deployment, component: Component) -> Option<Failure> {
    let conds = d.status.as_ref()?.conditions.as_ref()?;
    let c = conds
        .iter()
        .find(|c| c.type_ == "Progressing" && c.status == "False")?;
    (c.reason.as_deref() == Some("ProgressDeadlineExceeded")).then(|| {
        let name = d.metadata.name.clone().unwrap_or_default();
        let detail = c.message.clone().unwrap_or_default();
        failure(
            component,
            format!("Deployment/{name}"),
            Reason::ProgressDeadlineExceeded,
            detail,
            true,
        )
    })
}

/// Job state from its conditions and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Complete,
    Failed,
    Active,
    Waiting,
}

/// The condition of type `type_` (`Complete`, `Failed`) a Job has, when it is true.
pub fn job_condition<'a>(
    job: &'a Job,
    type_: &str,
) -> Option<&'a k8s_openapi::api::batch::v1::JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// Complete, failed, running or not started yet. (kube-runtime's `is_job_completed`
/// only knows `Complete`; a failed Job needs its own condition.)
pub fn job_state(job: &Job) -> JobState {
    let s = job.status.clone().unwrap_or_default();
    if job_condition(job, "Failed").is_some() {
        JobState::Failed
    } else if job_condition(job, "Complete").is_some() || count(s.succeeded) >= job_completions(job)
    {
        JobState::Complete
    } else if count(s.active) > 0 {
        JobState::Active
    } else {
        JobState::Waiting
    }
}

/// Completions the Job needs (1 unless set).
pub fn job_completions(job: &Job) -> u32 {
    count(job.spec.as_ref().and_then(|s| s.completions).or(Some(1))).max(1)
}

/// The attempts the Job makes: its `backoffLimit` (default 6) plus the first.
pub fn job_attempts(job: &Job) -> u32 {
    let limit = job.spec.as_ref().and_then(|s| s.backoff_limit).unwrap_or(6);
    limit.max(0) as u32 + 1
}

/// Succeeded completions.
pub fn job_succeeded(job: &Job) -> u32 {
    count(job.status.as_ref().and_then(|s| s.succeeded))
}

/// `BackoffLimitExceeded`, `DeadlineExceeded` or another reason from `Failed=True`.
pub fn job_failure(job: &Job, component: Component) -> Option<Failure> {
    let c = job_condition(job, "Failed")?;
    let reason = match c.reason.as_deref() {
        Some("BackoffLimitExceeded") => Reason::BackoffLimitExceeded,
        Some("DeadlineExceeded") => Reason::DeadlineExceeded,
        _ => Reason::JobFailed,
    };
    let name = job.metadata.name.clone().unwrap_or_default();
    let detail = c
        .message
        .clone()
        .or_else(|| c.reason.clone())
        .unwrap_or_default();
    Some(failure(
        component,
        format!("Job/{name}"),
        reason,
        detail,
        true,
    ))
}

/// A Pending PVC whose provisioning or binding failed (transient: shown, not fatal).
pub fn pvc_failure(
    pvc: &PersistentVolumeClaim,
    component: Component,
    evs: &[Event],
) -> Option<Failure> {
    let phase = pvc.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase != Some("Pending") {
        return None;
    }
    let name = pvc.metadata.name.as_deref().unwrap_or_default();
    let e = events::latest(
        evs,
        "PersistentVolumeClaim",
        name,
        &["ProvisioningFailed", "FailedBinding"],
    )?;
    let detail = e.message.clone().unwrap_or_default().trim().to_string();
    Some(failure(
        component,
        format!("PersistentVolumeClaim/{name}"),
        Reason::UnboundPvc,
        detail,
        false,
    ))
}
