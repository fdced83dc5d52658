//! Events: matching them to objects, picking the latest, the rows of the events view, and
//! which objects' Events to read at all.

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::Snapshot;
use crate::text::safe_line;

/// The time an event last happened (unix seconds), from the newest field a cluster set.
pub fn event_time(e: &Event) -> Option<i64> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
}

/// Whether the event is about the object `kind`/`name`.
pub fn is_about(e: &Event, kind: &str, name: &str) -> bool {
    e.involved_object.kind.as_deref() == Some(kind)
        && e.involved_object.name.as_deref() == Some(name)
}

/// The newest event about `kind`/`name` whose reason is one of `reasons`.
pub fn latest<'a>(
    events: &'a [Event],
    kind: &str,
    name: &str,
    reasons: &[&str],
) -> Option<&'a Event> {
    latest_where(events, kind, name, |e| {
        e.reason.as_deref().is_some_and(|r| reasons.contains(&r))
    })
}

/// One row of the events view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    /// When it last happened (unix seconds), if the cluster said.
    pub time: Option<i64>,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    /// `Kind/name` of the object the event is about.
    pub object: String,
    pub message: String,
    /// How many times it happened.
    pub count: i32,
}

impl From<&Event> for EventLine {
    fn from(e: &Event) -> Self {
        let o = &e.involved_object;
        EventLine {
            time: event_time(e),
            type_: safe_line(e.type_.as_deref().unwrap_or("Normal")),
            reason: safe_line(e.reason.as_deref().unwrap_or_default()),
            object: safe_line(&format!(
                "{}/{}",
                o.kind.as_deref().unwrap_or("?"),
                o.name.as_deref().unwrap_or("?")
            )),
            // Event messages are written by any controller or user: never let one act on
            // the terminal.
            message: safe_line(e.message.as_deref().unwrap_or_default().trim()),
            count: e.count.unwrap_or(1),
        }
    }
}

/// The events as view rows, oldest first.
pub fn event_lines(events: &[Event]) -> Vec<EventLine> {
    let mut lines: Vec<EventLine> = events.iter().map(EventLine::from).collect();
    lines.sort_by_key(|l| l.time.unwrap_or(i64::MIN));
    lines
}

/// The newest event about `kind`/`name` that satisfies `pred`.
pub fn latest_where<'a>(
    events: &'a [Event],
    kind: &str,
    name: &str,
    pred: impl Fn(&Event) -> bool,
) -> Option<&'a Event> {
    events
        .iter()
        .filter(|e| is_about(e, kind, name) && pred(e))
        .max_by_key(|e| event_time(e).unwrap_or(i64::MIN))
}

/// An object of the instance whose Events are read, by `involvedObject.uid` (a field
/// selector the API serves, so that no namespace-wide Events list is needed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventSubject {
    pub kind: &'static str,
    pub name: String,
    pub uid: String,
}

impl EventSubject {
    /// The field selector of this object's Events.
    pub fn field_selector(&self) -> String {
        format!("involvedObject.uid={}", self.uid)
    }
}

/// At most this many objects' Events are read at once for reasons.
pub const MAX_TROUBLE_SUBJECTS: usize = 8;
/// At most this many objects' Events are read for the events view.
pub const MAX_VIEW_SUBJECTS: usize = 40;
/// A pod running but not ready for this long (seconds) may be failing its readiness
/// probe, which only its Events tell.
pub const PROBE_GRACE_SECS: i64 = 10;

fn subject(kind: &'static str, meta: &ObjectMeta) -> Option<EventSubject> {
    Some(EventSubject {
        kind,
        name: meta.name.clone()?,
        uid: meta.uid.clone()?,
    })
}

fn ours(instance: &str, meta: &ObjectMeta) -> bool {
    instance.is_empty()
        || meta
            .labels
            .as_ref()
            .and_then(|l| l.get(super::INSTANCE_LABEL))
            .is_some_and(|i| i == instance)
}

/// Whether the pod's reason needs its Events: an image pull that fails (the pull's own
/// event says why), or running unready past [`PROBE_GRACE_SECS`] (a failing probe).
fn pod_in_trouble(p: &Pod, now: i64) -> bool {
    let Some(status) = p.status.as_ref() else {
        return false;
    };
    let statuses = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    let mut running_since: Option<i64> = None;
    for c in statuses {
        let state = c.state.as_ref();
        let waiting = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref());
        if matches!(waiting, Some("ErrImagePull" | "ImagePullBackOff")) {
            return true;
        }
        if !c.ready
            && let Some(r) = state.and_then(|s| s.running.as_ref())
        {
            let started = r.started_at.as_ref().map_or(now, |t| t.0.as_second());
            running_since = Some(running_since.map_or(started, |s| s.min(started)));
        }
    }
    status.phase.as_deref() == Some("Running")
        && running_since.is_some_and(|t| now - t >= PROBE_GRACE_SECS)
}

/// The objects whose Events the status model needs now: pods whose image cannot be
/// pulled or that stay unready, and Pending PVCs — at most [`MAX_TROUBLE_SUBJECTS`].
/// A healthy instance needs none.
pub fn trouble_subjects(s: &Snapshot) -> Vec<EventSubject> {
    trouble_subjects_in(&s.instance, s.pods.iter(), s.pvcs.iter(), s.now)
}

/// [`trouble_subjects`] of objects given one by one (the watcher's stores, uncopied).
pub fn trouble_subjects_in<'a>(
    instance: &str,
    pods: impl Iterator<Item = &'a Pod>,
    pvcs: impl Iterator<Item = &'a PersistentVolumeClaim>,
    now: i64,
) -> Vec<EventSubject> {
    let mine = |m: &ObjectMeta| ours(instance, m);
    let pvcs = pvcs
        .filter(|c| mine(&c.metadata))
        .filter(|c| c.status.as_ref().and_then(|st| st.phase.as_deref()) == Some("Pending"))
        .filter_map(|c| subject("PersistentVolumeClaim", &c.metadata));
    let pods = pods
        .filter(|p| mine(&p.metadata) && pod_in_trouble(p, now))
        .filter_map(|p| subject("Pod", &p.metadata));
    let mut out: Vec<EventSubject> = pvcs.chain(pods).collect();
    out.truncate(MAX_TROUBLE_SUBJECTS);
    out
}

/// The instance's own objects, for the events view: workloads, Jobs, PVCs, then pods
/// newest first — at most [`MAX_VIEW_SUBJECTS`].
pub fn instance_subjects(s: &Snapshot) -> Vec<EventSubject> {
    let mut out: Vec<EventSubject> = Vec::new();
    let mut add = |kind: &'static str, meta: &ObjectMeta| {
        if ours(&s.instance, meta)
            && let Some(x) = subject(kind, meta)
        {
            out.push(x);
        }
    };
    s.statefulsets
        .iter()
        .for_each(|o| add("StatefulSet", &o.metadata));
    s.deployments
        .iter()
        .for_each(|o| add("Deployment", &o.metadata));
    s.jobs.iter().for_each(|o| add("Job", &o.metadata));
    s.pvcs
        .iter()
        .for_each(|o| add("PersistentVolumeClaim", &o.metadata));
    let mut pods: Vec<&Pod> = s.pods.iter().collect();
    pods.sort_by_key(|p| std::cmp::Reverse(p.metadata.creation_timestamp.as_ref().map(|t| t.0)));
    pods.into_iter().for_each(|p| add("Pod", &p.metadata));
    out.truncate(MAX_VIEW_SUBJECTS);
    out
}
