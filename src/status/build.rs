//! Putting it together: one [`ComponentStatus`] per component and the overall state.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::model::{
    Attempt, Component, ComponentKind, ComponentStatus, Failure, InstanceStatus, Overall, Phase,
    Reason,
};
use super::objects::{self, JobState, WorkloadCounts};
use super::pods::{self, PodContext};
use super::{COMPONENT_LABEL, INSTANCE_LABEL, Snapshot, next_step};

/// Derive the state of an instance from a snapshot of its objects.
pub fn instance_status(input: &Snapshot) -> InstanceStatus {
    let components: Vec<ComponentStatus> = present_components(input)
        .into_iter()
        .map(|c| component_status(input, c))
        .collect();
    let overall = overall(input, &components);
    InstanceStatus {
        instance: input.instance.clone(),
        observed_at: input.now,
        overall,
        components,
        notes: forbidden_notes(&input.forbidden),
    }
}

/// One line per list the snapshot had to do without.
fn forbidden_notes(forbidden: &[String]) -> Vec<String> {
    forbidden
        .iter()
        .filter_map(|what| match what.as_str() {
            super::PODS => Some(
                "listing pods is forbidden (403) for this context: states come from the workloads alone, without the pods' reasons and logs; ask your cluster admin for `list` and `watch` on `pods`"
                    .to_string(),
            ),
            super::EVENTS => Some(
                "listing events is forbidden (403) for this context: no events are shown; ask your cluster admin for `list` and `watch` on `events`"
                    .to_string(),
            ),
            _ => None,
        })
        .collect()
}

fn label<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

/// Whether the object belongs to the snapshot's instance.
fn ours(input: &Snapshot, meta: &ObjectMeta) -> bool {
    input.instance.is_empty() || label(meta, INSTANCE_LABEL) == Some(input.instance.as_str())
}

fn component_of(input: &Snapshot, meta: &ObjectMeta) -> Option<Component> {
    if !ours(input, meta) {
        return None;
    }
    Component::from_label(label(meta, COMPONENT_LABEL)?)
}

fn is<'a>(input: &'a Snapshot, c: Component) -> impl Fn(&&ObjectMeta) -> bool + 'a {
    move |m| component_of(input, m) == Some(c)
}

/// Expected components plus every component an object exists for, in rollout order.
fn present_components(input: &Snapshot) -> Vec<Component> {
    let metas = input
        .pods
        .iter()
        .map(|o| &o.metadata)
        .chain(input.deployments.iter().map(|o| &o.metadata))
        .chain(input.statefulsets.iter().map(|o| &o.metadata))
        .chain(input.jobs.iter().map(|o| &o.metadata));
    let mut all: Vec<Component> = metas
        .filter_map(|m| component_of(input, m))
        .chain(input.expected.iter().copied())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Everything found for one component, before it is summarised.
struct Found<'a> {
    component: Component,
    object: Option<String>,
    image: Option<String>,
    pods: Vec<&'a Pod>,
    candidates: Vec<Failure>,
}

fn component_status(input: &Snapshot, c: Component) -> ComponentStatus {
    match c.kind() {
        ComponentKind::Workload => workload_status(input, c),
        ComponentKind::Job => job_status(input, c),
    }
}

fn component_pods(input: &Snapshot, c: Component) -> Vec<&Pod> {
    let mut v: Vec<&Pod> = input
        .pods
        .iter()
        .filter(|p| is(input, c)(&&p.metadata))
        .collect();
    v.sort_by(|a, b| pods::name(a).cmp(pods::name(b)));
    v
}

fn pod_context<'a>(input: &'a Snapshot, c: Component, p: &Pod) -> PodContext<'a> {
    PodContext {
        component: c,
        events: &input.events,
        logs: input.logs.get(pods::name(p)),
        workers: input.workers,
        bucket: input.bucket.as_deref(),
        attempt: None,
    }
}

fn pod_failures(input: &Snapshot, c: Component, pods: &[&Pod]) -> Vec<Failure> {
    pods.iter()
        .filter_map(|p| pods::failure(p, &pod_context(input, c, p)))
        .collect()
}

/// The pods of a Job in the order they were created: attempt 1 first.
fn by_attempt<'a>(pods: &[&'a Pod]) -> Vec<&'a Pod> {
    let mut v = pods.to_vec();
    v.sort_by_key(|p| (pods::created(p), pods::name(p).to_string()));
    v
}

/// The failure of a Job's latest attempt that has one (a failed attempt stays visible
/// while the next one runs), numbered among the Job's attempts.
fn attempt_failure(input: &Snapshot, c: Component, job: &Job, pods: &[&Pod]) -> Option<Failure> {
    let of = objects::job_attempts(job);
    by_attempt(pods)
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, p)| {
            let ctx = PodContext {
                attempt: Some(Attempt {
                    number: i as u32 + 1,
                    of,
                }),
                ..pod_context(input, c, p)
            };
            pods::failure(p, &ctx)
        })
}

/// Whether a pod is still running or about to (not Succeeded or Failed).
fn active(p: &Pod) -> bool {
    !matches!(pods::phase(p).as_str(), "Succeeded" | "Failed")
}

/// PVCs labelled with the component or mounted by its pods.
fn pvc_failures(input: &Snapshot, c: Component, pods: &[&Pod]) -> Vec<Failure> {
    let claimed = |pvc: &PersistentVolumeClaim| {
        let name = pvc.metadata.name.as_deref();
        pods.iter().any(|p| {
            let vols = p
                .spec
                .as_ref()
                .and_then(|s| s.volumes.as_deref())
                .unwrap_or_default();
            vols.iter()
                .filter_map(|v| v.persistent_volume_claim.as_ref())
                .any(|v| Some(v.claim_name.as_str()) == name)
        })
    };
    input
        .pvcs
        .iter()
        .filter(|p| ours(input, &p.metadata))
        .filter(|p| is(input, c)(&&p.metadata) || claimed(p))
        .filter_map(|p| objects::pvc_failure(p, c, &input.events))
        .collect()
}

fn workload_status(input: &Snapshot, c: Component) -> ComponentStatus {
    let pods = component_pods(input, c);
    let mut candidates = pod_failures(input, c, &pods);
    candidates.extend(pvc_failures(input, c, &pods));
    let mut found = Found {
        component: c,
        object: None,
        image: None,
        pods,
        candidates,
    };
    let counts = if let Some(d) = input
        .deployments
        .iter()
        .find(|d| is(input, c)(&&d.metadata))
    {
        found.object = Some(format!(
            "Deployment/{}",
            d.metadata.name.as_deref().unwrap_or_default()
        ));
        found.image = objects::template_image(d.spec.as_ref().map(|s| &s.template));
        found.candidates.extend(objects::deployment_failure(d, c));
        Some(objects::deployment_counts(d))
    } else if let Some(s) = input
        .statefulsets
        .iter()
        .find(|s| is(input, c)(&&s.metadata))
    {
        found.object = Some(format!(
            "StatefulSet/{}",
            s.metadata.name.as_deref().unwrap_or_default()
        ));
        found.image = objects::template_image(s.spec.as_ref().map(|s| &s.template));
        Some(objects::statefulset_counts(s))
    } else {
        None
    };
    let failure = pick(found.candidates.drain(..).collect(), input);
    let (phase, counts) = workload_phase(counts, &found, failure.as_ref());
    let progress = match phase {
        Phase::Ready => 1.0,
        _ => pods_progress(&found.pods, counts.desired),
    };
    finish(
        input,
        found,
        counts.desired,
        counts.ready,
        progress,
        phase,
        failure,
    )
}

fn workload_phase(
    counts: Option<WorkloadCounts>,
    found: &Found<'_>,
    failure: Option<&Failure>,
) -> (Phase, WorkloadCounts) {
    let Some(counts) = counts else {
        let phase = if found.pods.is_empty() {
            Phase::Absent
        } else {
            Phase::Pending
        };
        return (phase, WorkloadCounts::default());
    };
    let phase = if failure.is_some_and(|f| f.terminal) {
        Phase::Failed
    } else if counts.desired == 0 {
        Phase::ScaledDown
    } else if counts.rolled_out {
        Phase::Ready
    } else if failure.is_some_and(Failure::is_failed_run) {
        Phase::Failing
    } else if found.pods.iter().any(|p| pod_progress(p) > 0.0) {
        Phase::Progressing
    } else {
        Phase::Pending
    };
    (phase, counts)
}

/// How far one pod got: scheduled, started, ready.
fn pod_progress(p: &Pod) -> f64 {
    let scheduled = p
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "PodScheduled" && c.status == "True")
        });
    match (pods::is_ready(p), pods::phase(p).as_str(), scheduled) {
        (true, _, _) => 1.0,
        (_, "Running" | "Succeeded", _) => 0.5,
        (_, _, true) => 0.25,
        _ => 0.0,
    }
}

/// The best `desired` pods' progress over `desired`, below 1.0 until rolled out.
fn pods_progress(pods: &[&Pod], desired: u32) -> f64 {
    if desired == 0 {
        return 0.0;
    }
    let mut ps: Vec<f64> = pods.iter().map(|p| pod_progress(p)).collect();
    ps.sort_by(|a, b| b.total_cmp(a));
    let sum: f64 = ps.iter().take(desired as usize).sum();
    (sum / f64::from(desired)).min(0.99)
}

/// The newest Job of the component (backups and upgrades leave one per run).
fn newest_job(input: &Snapshot, c: Component) -> Option<&Job> {
    input
        .jobs
        .iter()
        .filter(|j| is(input, c)(&&j.metadata))
        .max_by_key(|j| {
            (
                j.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.as_second()),
                j.metadata.name.clone(),
            )
        })
}

fn owned_by_job(p: &Pod, job: &str) -> bool {
    let owner = p
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|o| o.kind == "Job");
    let label = label(&p.metadata, "batch.kubernetes.io/job-name")
        .or_else(|| label(&p.metadata, "job-name"));
    match (owner, label) {
        (Some(o), _) => o.name == job,
        (None, Some(l)) => l == job,
        (None, None) => true,
    }
}

fn job_status(input: &Snapshot, c: Component) -> ComponentStatus {
    let Some(job) = newest_job(input, c) else {
        let pods = component_pods(input, c);
        let candidates = pod_failures(input, c, &pods);
        let found = Found {
            component: c,
            object: None,
            image: None,
            pods,
            candidates,
        };
        let failure = pick(found.candidates.clone(), input);
        let phase = if found.pods.is_empty() {
            Phase::Absent
        } else {
            Phase::Pending
        };
        return finish(input, found, 0, 0, 0.0, phase, failure);
    };
    let name = job.metadata.name.clone().unwrap_or_default();
    let pods: Vec<&Pod> = component_pods(input, c)
        .into_iter()
        .filter(|p| owned_by_job(p, &name))
        .collect();
    let state = objects::job_state(job);
    // The failed attempts of a Job that then succeeded are history, not a reason.
    let mut candidates: Vec<Failure> = match state {
        JobState::Complete => Vec::new(),
        _ => attempt_failure(input, c, job, &pods).into_iter().collect(),
    };
    candidates.extend(pvc_failures(input, c, &pods));
    if let Some(mut f) = objects::job_failure(job, c) {
        enrich_job_failure(&mut f, &pods, input);
        candidates.insert(0, f);
    }
    let found = Found {
        component: c,
        object: Some(format!("Job/{name}")),
        image: objects::template_image(job.spec.as_ref().map(|s| &s.template)),
        pods,
        candidates,
    };
    let failure = pick(found.candidates.clone(), input);
    let (desired, ready) = (objects::job_completions(job), objects::job_succeeded(job));
    // Between a failed attempt and the next one (the Job's back-off), nothing runs.
    let latest = found.pods.len() as u32;
    let failing = failure
        .as_ref()
        .and_then(|f| f.attempt)
        .is_some_and(|a| a.number == latest)
        && !found.pods.iter().any(|p| active(p));
    let phase = match state {
        JobState::Complete => Phase::Succeeded,
        JobState::Failed => Phase::Failed,
        _ if failure.as_ref().is_some_and(|f| f.terminal) => Phase::Failed,
        _ if failing => Phase::Failing,
        JobState::Active => Phase::Progressing,
        JobState::Waiting if found.pods.is_empty() => Phase::Pending,
        JobState::Waiting => Phase::Progressing,
    };
    let progress = match phase {
        Phase::Succeeded => 1.0,
        _ => {
            let running = found
                .pods
                .iter()
                .map(|p| pod_progress(p))
                .fold(0.0, f64::max);
            ((f64::from(ready) + running * 0.5) / f64::from(desired)).min(0.99)
        }
    };
    finish(input, found, desired, ready, progress, phase, failure)
}

/// A failed Job carries the last pod's exit code, reason and log lines.
fn enrich_job_failure(f: &mut Failure, pods: &[&Pod], input: &Snapshot) {
    let Some(last) = pods
        .iter()
        .max_by_key(|p| (pods::created(p), pods::name(p).to_string()))
    else {
        return;
    };
    let terminated = last
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| {
            cs.iter().find_map(|c| {
                let t = c.state.as_ref()?.terminated.as_ref()?;
                Some((c.name.as_str(), t))
            })
        });
    let logs = input.logs.get(pods::name(last));
    f.cause = pods::cause(
        last,
        terminated.map_or("", |(n, _)| n),
        terminated.map(|(_, t)| t),
        logs,
        f.component,
        input.workers,
        input.bucket.as_deref(),
    );
    if let Some((_, t)) = terminated {
        f.exit_code = Some(t.exit_code);
        let why = t.reason.as_deref().unwrap_or("Error");
        f.detail = format!(
            "{} (pod {}: {why}, exit code {})",
            f.detail,
            pods::name(last),
            t.exit_code
        );
    }
    if let Some(lines) = logs {
        f.log_lines =
            crate::text::safe_lines(&lines[lines.len().saturating_sub(pods::LOG_LINES)..]);
    }
}

/// Rank of a reason among transient ones: the most specific first.
fn rank(r: Reason) -> u8 {
    match r {
        Reason::UnboundPvc => 0,
        Reason::ImagePullBackOff | Reason::ErrImagePull => 1,
        Reason::OomKilled => 2,
        Reason::CrashLoopBackOff | Reason::Error => 3,
        Reason::Unschedulable => 4,
        Reason::ProbeFailed => 5,
        _ => 6,
    }
}

/// The most important candidate: terminal ones first (in the order found), then by rank.
/// Fills in the next step.
fn pick(mut candidates: Vec<Failure>, input: &Snapshot) -> Option<Failure> {
    candidates.sort_by_key(|f| (!f.terminal, if f.terminal { 0 } else { rank(f.reason) }));
    let mut f = candidates.into_iter().next()?;
    let ns = namespace(input);
    // A known cause names the fix; the reason's generic next step is the fallback.
    f.next_step = match &f.cause {
        Some(c) => c.next_step.clone(),
        None => next_step::next_step(&f, &ns),
    };
    Some(f)
}

fn namespace(input: &Snapshot) -> String {
    let metas = input
        .pods
        .iter()
        .map(|p| &p.metadata)
        .chain(input.jobs.iter().map(|j| &j.metadata));
    metas
        .filter_map(|m| m.namespace.clone())
        .next()
        .unwrap_or_else(|| "default".into())
}

fn finish(
    input: &Snapshot,
    found: Found<'_>,
    desired: u32,
    ready: u32,
    progress: f64,
    phase: Phase,
    failure: Option<Failure>,
) -> ComponentStatus {
    ComponentStatus {
        component: found.component,
        kind: found.component.kind(),
        object: found.object,
        image: found.image,
        desired,
        ready,
        progress,
        phase,
        pods: found
            .pods
            .iter()
            .map(|p| pods::info(p, input.now))
            .collect(),
        failure,
    }
}

/// Failed on the first terminal failure among the counted components, Ready when every
/// counted component is done, Progressing otherwise.
fn overall(input: &Snapshot, components: &[ComponentStatus]) -> Overall {
    let counted: Vec<&ComponentStatus> = components
        .iter()
        .filter(|c| input.expected.is_empty() || input.expected.contains(&c.component))
        .collect();
    if let Some(f) = counted
        .iter()
        .filter_map(|c| c.failure.as_ref())
        .find(|f| f.terminal)
    {
        return Overall::Failed {
            failure: Box::new(f.clone()),
        };
    }
    if !counted.is_empty() && counted.iter().all(|c| c.phase.is_done()) {
        Overall::Ready
    } else {
        Overall::Progressing
    }
}
