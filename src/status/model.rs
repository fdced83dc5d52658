//! The types of the status model: what the dashboard, the plain reporter and
//! `status -o json|yaml` show.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A part of an instance, identified by the label `app.kubernetes.io/component`.
///
/// The order is the rollout order (docs/ARCHITECTURE.md, "The apply engine"), so sorting components sorts them by wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    Postgresql,
    Minio,
    MinioProvisioning,
    Init,
    StorageInit,
    Backend,
    Frontend,
    Nginx,
    SmokeCheck,
    Backup,
    Upgrade,
    /// The restore Job of `restore` and `clone` (the backup restored beside, then swapped).
    Restore,
    /// A clone's identity and neutralization Job.
    Clone,
}

impl Component {
    /// Every component, in rollout order.
    pub const ALL: [Component; 13] = [
        Component::Postgresql,
        Component::Minio,
        Component::MinioProvisioning,
        Component::Init,
        Component::StorageInit,
        Component::Backend,
        Component::Frontend,
        Component::Nginx,
        Component::SmokeCheck,
        Component::Backup,
        Component::Upgrade,
        Component::Restore,
        Component::Clone,
    ];

    /// The value of the `app.kubernetes.io/component` label.
    pub fn label(self) -> &'static str {
        match self {
            Component::Postgresql => "postgresql",
            Component::Minio => "minio",
            Component::MinioProvisioning => "minio-provisioning",
            Component::Init => "init",
            Component::StorageInit => "storage-init",
            Component::Backend => "backend",
            Component::Frontend => "frontend",
            Component::Nginx => "nginx",
            Component::SmokeCheck => "smoke-check",
            Component::Backup => "backup",
            Component::Upgrade => "upgrade",
            Component::Restore => "restore",
            Component::Clone => "clone",
        }
    }

    /// The component named by a label value, if it is one of ours.
    pub fn from_label(value: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.label() == value)
    }

    /// Whether the component is a long-running workload or a run-to-completion Job.
    pub fn kind(self) -> ComponentKind {
        match self {
            Component::Postgresql
            | Component::Minio
            | Component::Backend
            | Component::Frontend
            | Component::Nginx => ComponentKind::Workload,
            _ => ComponentKind::Job,
        }
    }

    /// The values key under which this component's image, resources and storage live.
    ///
    /// Jobs that run the Odoo image map to `backend`; the backup runs the PostgreSQL
    /// server's own image (docs/ARCHITECTURE.md, "Upgrade and backup"), the upgrade Job has its own resources.
    pub fn values_prefix(self) -> &'static str {
        match self {
            Component::Postgresql | Component::Backup => "postgresql",
            Component::Restore => "backup",
            Component::Minio => "minio",
            Component::MinioProvisioning => "minio.provisioning",
            Component::Frontend => "frontend",
            Component::Nginx => "nginx",
            Component::Upgrade => "backend.autoUpgrade",
            Component::Init
            | Component::StorageInit
            | Component::Backend
            | Component::SmokeCheck
            | Component::Clone => "backend",
        }
    }

    /// The values key holding this component's image tag.
    pub fn image_tag_key(self) -> String {
        match self {
            Component::Upgrade => "backend.image.tag".to_string(),
            c => format!("{}.image.tag", c.values_prefix()),
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.label())
    }
}

/// Long-running workload (Deployment/StatefulSet) or Job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    Workload,
    Job,
}

/// Where a component stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Expected but no object exists yet (a later wave).
    Absent,
    /// Created, nothing running yet.
    Pending,
    /// Pods are starting, or a Job is running.
    Progressing,
    /// Every desired replica is ready and up to date.
    Ready,
    /// A workload scaled to zero replicas (e.g. during a maintenance upgrade).
    ScaledDown,
    /// A Job completed.
    Succeeded,
    /// A Job's attempt failed and the Job will try again, or a container exited and will
    /// be restarted: the failure is shown at once, the wait goes on.
    Failing,
    /// A terminal failure was seen.
    Failed,
}

impl Phase {
    /// Whether this phase counts as done for the overall state.
    pub fn is_done(self) -> bool {
        matches!(self, Phase::Ready | Phase::Succeeded)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Phase::Absent => "Waiting",
            Phase::Pending => "Pending",
            Phase::Progressing => "Progressing",
            Phase::Ready => "Ready",
            Phase::ScaledDown => "ScaledDown",
            Phase::Succeeded => "Succeeded",
            Phase::Failing => "Failing",
            Phase::Failed => "Failed",
        };
        f.pad(s)
    }
}

/// Why a component is not progressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    ImagePullBackOff,
    ErrImagePull,
    InvalidImageName,
    CrashLoopBackOff,
    #[serde(rename = "OOMKilled")]
    OomKilled,
    /// A container exited with a non-zero code (the kubelet's reason `Error`).
    Error,
    CreateContainerConfigError,
    Unschedulable,
    #[serde(rename = "UnboundPVC")]
    UnboundPvc,
    ProbeFailed,
    BackoffLimitExceeded,
    DeadlineExceeded,
    JobFailed,
    ProgressDeadlineExceeded,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Reason::ImagePullBackOff => "ImagePullBackOff",
            Reason::ErrImagePull => "ErrImagePull",
            Reason::InvalidImageName => "InvalidImageName",
            Reason::CrashLoopBackOff => "CrashLoopBackOff",
            Reason::OomKilled => "OOMKilled",
            Reason::Error => "Error",
            Reason::CreateContainerConfigError => "CreateContainerConfigError",
            Reason::Unschedulable => "Unschedulable",
            Reason::UnboundPvc => "UnboundPVC",
            Reason::ProbeFailed => "ProbeFailed",
            Reason::BackoffLimitExceeded => "BackoffLimitExceeded",
            Reason::DeadlineExceeded => "DeadlineExceeded",
            Reason::JobFailed => "JobFailed",
            Reason::ProgressDeadlineExceeded => "ProgressDeadlineExceeded",
        };
        f.pad(s)
    }
}

/// A reason a component is not progressing, with what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub component: Component,
    /// The object the reason was seen on, as `Kind/name` (e.g. `Pod/acme-odoo-backend-5d8f-x2x`).
    pub object: String,
    pub reason: Reason,
    /// What the cluster said (container message, scheduler message, event message).
    pub detail: String,
    /// A terminal failure does not heal by waiting: `new`/`upgrade` stop on it.
    pub terminal: bool,
    /// One line telling the user what to do.
    pub next_step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<i32>,
    /// For a failed attempt of a Job: which attempt failed, and how many the Job makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<Attempt>,
    /// The last log lines of the failing pod, when the watcher supplied them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_lines: Vec<String>,
    /// The known cause read from the log lines and the container's state, when the
    /// classifier recognises it (see [`super::cause`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<super::cause::Cause>,
}

impl Failure {
    /// Whether this is a container run that ended with an error (a failed attempt, a
    /// restart, a crash loop), as opposed to a pod that could not start.
    pub fn is_failed_run(&self) -> bool {
        matches!(
            self.reason,
            Reason::Error | Reason::OomKilled | Reason::CrashLoopBackOff
        )
    }
}

/// Which attempt of a Job failed: `number` of `of` (the Job's `backoffLimit` + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub number: u32,
    pub of: u32,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt {} of {} failed", self.number, self.of)
    }
}

/// One pod of a component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodInfo {
    pub name: String,
    /// The pod phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`).
    pub phase: String,
    pub ready: bool,
    pub restarts: i32,
    /// Seconds since the pod was created, relative to the snapshot's `now`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A short reason when the pod is not running well (a container's waiting or
    /// terminated reason, or `Unschedulable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The state of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentStatus {
    pub component: Component,
    pub kind: ComponentKind,
    /// The owning object as `Kind/name`, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The image of the first container of the workload or Job template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Desired replicas (workloads) or completions (Jobs).
    pub desired: u32,
    /// Ready replicas (workloads) or succeeded completions (Jobs).
    pub ready: u32,
    /// 0.0 to 1.0; 1.0 only when the phase is `Ready` or `Succeeded`.
    pub progress: f64,
    pub phase: Phase,
    pub pods: Vec<PodInfo>,
    /// The most important reason the component is not progressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// The overall state of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state")]
pub enum Overall {
    /// Every expected workload is ready and every expected Job succeeded.
    Ready,
    /// Still rolling out (possibly with transient reasons).
    Progressing,
    /// A terminal failure was seen; this is the first one in rollout order.
    Failed { failure: Box<Failure> },
}

impl Overall {
    /// A text label for the state (never show state by colour alone).
    pub fn label(&self) -> &'static str {
        match self {
            Overall::Ready => "READY",
            Overall::Progressing => "PROGRESSING",
            Overall::Failed { .. } => "FAILED",
        }
    }
}

/// Everything the status model derives from one snapshot of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub instance: String,
    /// The snapshot's `now` (unix seconds).
    pub observed_at: i64,
    #[serde(flatten)]
    pub overall: Overall,
    /// Components in rollout order: the expected ones and any other one present.
    pub components: Vec<ComponentStatus>,
    /// What the status had to do without (a list that was forbidden), one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl InstanceStatus {
    /// The component's status, if it is listed.
    pub fn component(&self, c: Component) -> Option<&ComponentStatus> {
        self.components.iter().find(|s| s.component == c)
    }

    /// Where the work is: the first component, in rollout order, that exists and is not
    /// done (not ready, succeeded or scaled down) — the one a rollout waits for.
    pub fn active(&self) -> Option<usize> {
        self.components.iter().position(|c| {
            !matches!(
                c.phase,
                Phase::Absent | Phase::Ready | Phase::Succeeded | Phase::ScaledDown
            )
        })
    }
}

/// What kind of operation an instance-record history entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryKind {
    Install,
    /// `new` re-run with changed values.
    Update,
    Upgrade,
    Backup,
    Restore,
}

impl fmt::Display for HistoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            HistoryKind::Install => "install",
            HistoryKind::Update => "update",
            HistoryKind::Upgrade => "upgrade",
            HistoryKind::Backup => "backup",
            HistoryKind::Restore => "restore",
        };
        f.pad(s)
    }
}

/// How an operation in the history ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryResult {
    Succeeded,
    Failed,
    Running,
}

/// One install, upgrade or backup, as kept in the instance record (docs/ARCHITECTURE.md, "The apply engine").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it started (unix seconds).
    pub time: i64,
    pub kind: HistoryKind,
    /// Modules upgraded (`["all"]` for `--all`); empty for installs and backups.
    #[serde(default)]
    pub modules: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Where the backup went (e.g. `s3://acme-odoo/backups/2026-05-04T10-00-00.dump`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_location: Option<String>,
    pub result: HistoryResult,
    /// The instance revision this entry produced.
    #[serde(default)]
    pub revision: u64,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// An upgrade's state: what `upgrade --resume` and `--abort` need while it is open
    /// (result `running`), and where it stopped once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeState>,
}

/// Where an upgrade stands (see docs/ARCHITECTURE.md, "Upgrades").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeState {
    pub phase: UpgradePhase,
    /// `maintenance` (the backend stopped) or `online`.
    pub strategy: String,
    /// The backend image before the upgrade: what `--abort` puts back.
    pub previous_image: String,
    /// The backend's replicas before the upgrade: what `--abort` restores.
    pub previous_replicas: i32,
    /// A backup is taken first (no `--no-backup`).
    pub backup: bool,
    /// The upgrade Job, once created, and its uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_uid: Option<String>,
}

/// The steps of an upgrade, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradePhase {
    /// Backup and stopping the backend; nothing is migrated yet.
    Started,
    /// The upgrade Job runs (or ran): the database is being migrated.
    Migrating,
    /// The upgrade Job failed: the database may be partly migrated.
    JobFailed,
    /// The upgrade Job succeeded: the database is migrated; the rollout comes next.
    Migrated,
    /// The rollout on the new image failed after a successful migration.
    RolloutFailed,
}
