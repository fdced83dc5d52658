//! The pure status model (docs/ARCHITECTURE.md, "Status and fail-fast"): the objects of one instance in, the state of every
//! component and the reason it is not progressing out. No IO, no clock: the time comes in
//! the [`Snapshot`].

mod build;
pub mod cause;
mod events;
mod model;
mod next_step;
mod objects;
mod pods;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use serde::Deserialize;

pub use build::instance_status;
pub use cause::{Cause, CauseKind, Evidence, Facts, classify};
pub use events::{
    EventLine, EventSubject, MAX_TROUBLE_SUBJECTS, MAX_VIEW_SUBJECTS, PROBE_GRACE_SECS,
    event_lines, instance_subjects, trouble_subjects, trouble_subjects_in,
};
pub use model::{
    Attempt, Component, ComponentKind, ComponentStatus, Failure, HistoryEntry, HistoryKind,
    HistoryResult, InstanceStatus, Overall, Phase, PodInfo, Reason, UpgradePhase, UpgradeState,
};
pub use next_step::missing_secret_ref;
pub use objects::job_condition;
pub use pods::{LOG_LINES, TERMINAL_RESTARTS, TailRequest, tail_request};

/// Label naming the component of an object.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Label naming the instance (Helm's release) of an object.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// The objects of one instance at one moment, as the watchers last saw them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The instance name; objects labelled with another instance are ignored.
    /// Empty: take every object given.
    pub instance: String,
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub jobs: Vec<Job>,
    pub pvcs: Vec<PersistentVolumeClaim>,
    /// Events about this instance's objects (only those are used): the ones
    /// [`trouble_subjects`] names, or all of them from a fixture.
    pub events: Vec<Event>,
    /// The last log lines of pods, by pod name: the tail of a container's failed run
    /// (see [`tail_request`]) as the watcher read it once; for crash loops, failed Job
    /// attempts and probes.
    pub logs: BTreeMap<String, Vec<String>>,
    /// The components the caller waits for (from the rendered manifests). Empty: every
    /// component present counts.
    pub expected: Vec<Component>,
    /// The current time (unix seconds), for pod ages.
    pub now: i64,
    /// Odoo's worker count, when the caller knows the values (names it in an OOM cause).
    pub workers: Option<i64>,
    /// The instance's S3 bucket, when the caller knows the values (an S3 error rarely
    /// names it).
    pub bucket: Option<String>,
    /// What the caller may not list (403 Forbidden): [`PODS`] and/or [`EVENTS`]. The
    /// status does without them and says so ([`InstanceStatus::notes`]).
    pub forbidden: Vec<String>,
}

/// [`Snapshot::forbidden`]: listing or watching Pods is forbidden.
pub const PODS: &str = "pods";
/// [`Snapshot::forbidden`]: listing or watching Events is forbidden.
pub const EVENTS: &str = "events";

/// The first terminal failure (in rollout order) among the counted components, for
/// fail-fast (docs/ARCHITECTURE.md, "Status and fail-fast"). Components outside [`Snapshot::expected`] never fail the instance.
pub fn first_terminal_failure(status: &InstanceStatus) -> Option<&Failure> {
    match &status.overall {
        Overall::Failed { failure } => Some(failure),
        _ => None,
    }
}

/// One item of a `kubectl get ... -o yaml` List.
#[derive(Deserialize)]
#[serde(tag = "kind")]
enum Item {
    Pod(Box<Pod>),
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    Job(Box<Job>),
    PersistentVolumeClaim(Box<PersistentVolumeClaim>),
    Event(Box<Event>),
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    items: Vec<Item>,
}

impl Snapshot {
    /// Build a snapshot from the YAML of `kubectl get pods,deploy,sts,jobs,pvc,events -o yaml`
    /// (a `kind: List`), as captured from a cluster.
    pub fn from_kubectl_list(yaml: &str) -> Result<Snapshot, serde_saphyr::Error> {
        let list: List = serde_saphyr::from_str(yaml)?;
        let mut s = Snapshot::default();
        for item in list.items {
            match item {
                Item::Pod(o) => s.pods.push(*o),
                Item::Deployment(o) => s.deployments.push(*o),
                Item::StatefulSet(o) => s.statefulsets.push(*o),
                Item::Job(o) => s.jobs.push(*o),
                Item::PersistentVolumeClaim(o) => s.pvcs.push(*o),
                Item::Event(o) => s.events.push(*o),
            }
        }
        Ok(s)
    }
}
