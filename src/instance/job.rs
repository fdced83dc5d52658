//! Running one Job of an instance (backup, upgrade): create it (replacing a finished one
//! of the same name, by its uid), follow the log of every container as it starts, and
//! wait for it to complete, fail, hit a terminal pod failure, time out, or be cancelled.
//! A Job that has not finished is never deleted by name: one of the same identity is
//! followed as it is, another one stops the run; a Job the runner may not stop
//! (`leave_running`, the upgrade's `-u`) is left running on a timeout or Ctrl-C.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, LogParams};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Error, Reporter};
use crate::cluster::kinds::Kind;
use crate::cluster::watch::InstanceWatch;
use crate::cluster::{Kube, instance_selector};
use crate::render::Object;
use crate::status::{self, Component};

/// How a Job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    Succeeded,
    /// Failed, with the reason and what to do next.
    Failed {
        reason: String,
        next: String,
    },
    /// Ctrl-C, and the user chose to abort: the Job was deleted.
    Cancelled,
    /// No longer followed (the deadline, or Ctrl-C and the user chose to leave), and left
    /// running ([`JobRunner::leave_running`]): why.
    LeftRunning(String),
}

/// A Job created, or found and followed as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub name: String,
    pub uid: String,
    /// It was there already (same identity) and is followed instead of created.
    pub adopted: bool,
}

/// A finished run: how it ended and every log line seen.
#[derive(Debug, Clone)]
pub struct JobRun {
    pub end: JobEnd,
    pub lines: Vec<String>,
}

/// Runs Jobs of one instance, reporting steps and log lines.
pub struct JobRunner<'a> {
    pub kube: &'a Kube,
    pub release: &'a str,
    /// The component the Job belongs to (its log lines are labelled with it).
    pub component: Component,
    /// When to give up (the Job is then deleted).
    pub deadline: Instant,
    pub cancel: &'a CancellationToken,
    /// Asked after Ctrl-C with the Job's name: `true` keeps waiting, `false` aborts.
    pub keep_waiting: &'a dyn Fn(&str) -> bool,
    pub report: Reporter,
    /// Never delete the Job before it ends: on the deadline or Ctrl-C it is left running
    /// ([`JobEnd::LeftRunning`]).
    pub leave_running: bool,
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

/// Whether the Job `name` is there with uid `uid` and has not ended yet (`-u` may be
/// running in it: nothing else may touch the database or the backend then).
pub async fn still_running(kube: &Kube, name: &str, uid: &str) -> Result<bool, Error> {
    let kind = Kind::by_name("Job").expect("known");
    Ok(kube.get(kind, name).await?.is_some_and(|j| {
        j["metadata"]["uid"].as_str() == Some(uid) && !crate::plan::apply::job_ended(&j)
    }))
}

/// The reason and message of a Job's true condition `kind`.
fn job_condition(job: &Job, kind: &str) -> Option<(String, String)> {
    status::job_condition(job, kind).map(|c| {
        (
            c.reason.clone().unwrap_or_else(|| kind.to_string()),
            c.message.clone().unwrap_or_default(),
        )
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

/// Whether the container `name` of the pod has started (running or ended).
fn started(pod: &Pod, name: &str) -> bool {
    pod.status
        .iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .any(|cs| {
            cs.name == name
                && cs
                    .state
                    .as_ref()
                    .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        })
}

impl JobRunner<'_> {
    /// Create `job` and follow it to its end. `watch` watches the instance.
    pub async fn run(&self, watch: &mut InstanceWatch, job: &Object) -> Result<JobRun, Error> {
        let started = self.start(job, false).await?;
        self.follow(watch, &started.name, &started.uid).await
    }

    /// Create `job`. A Job of that name already there is, when finished, deleted by its
    /// uid and created again — unless `reuse` and it has the same identity, then it is
    /// taken as it is (its end is this run's); when still running, it is followed if it
    /// has the same identity, and refused otherwise (never deleted midway).
    pub async fn start(&self, job: &Object, reuse: bool) -> Result<Started, Error> {
        let mut job = job.clone();
        crate::plan::apply::annotate(&mut job);
        let hash = job
            .metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get(crate::plan::apply::SPEC_HASH))
            .cloned()
            .unwrap_or_default();
        let name = job.name().to_string();
        let kind = kind_of(&job);
        if let Some(existing) = self.kube.get(kind, &name).await? {
            let uid = existing["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let same = existing["metadata"]["annotations"][crate::plan::apply::SPEC_HASH].as_str()
                == Some(hash.as_str());
            let done = crate::plan::apply::job_ended(&existing);
            if same && (!done || reuse) {
                self.report.step(&format!(
                    "Job/{name} is there from an earlier run: following it"
                ));
                return Ok(Started {
                    name,
                    uid,
                    adopted: true,
                });
            }
            if !done {
                return Err(Error::Unavailable(format!(
                    "Job/{name} is still running from an earlier run, with another specification; odoo-tui never deletes a Job before it ends — wait for it (kubectl -n {} wait --for=condition=complete job/{name}), then run again",
                    self.kube.namespace
                )));
            }
            self.report.step(&format!(
                "Job/{name} exists from an earlier run and has ended: replacing it"
            ));
            self.kube
                .delete_uid_and_wait(kind, &name, &uid, &CancellationToken::new())
                .await?;
        }
        let created = self
            .kube
            .apply(kind, &name, &job.to_json(), true, false)
            .await?;
        let uid = created["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.report.step(&format!("Job/{name} created"));
        Ok(Started {
            name,
            uid,
            adopted: false,
        })
    }

    /// Stop following: the Job is deleted by its uid, or left running.
    async fn give_up(&self, name: &str, uid: &str, why: String, deleted: JobEnd) -> JobEnd {
        if self.leave_running {
            return JobEnd::LeftRunning(why);
        }
        let kind = Kind::by_name("Job").expect("known");
        let _ = self.kube.delete_uid(kind, name, uid).await;
        deleted
    }

    /// Follow the Job `name` of uid `uid`: stream its containers' logs, and wait for its
    /// end (see [`JobEnd`]).
    pub async fn follow(
        &self,
        watch: &mut InstanceWatch,
        name: &str,
        uid: &str,
    ) -> Result<JobRun, Error> {
        let name = name.to_string();
        let uid = uid.to_string();
        let label = self.component.label();
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let mut followed: BTreeSet<(String, String)> = BTreeSet::new();
        let mut followers = Vec::new();
        let mut lines: Vec<String> = Vec::new();
        let mut ignore_cancel = false;
        let on_line = |l: String, lines: &mut Vec<String>| {
            self.report.log(label, &l);
            lines.push(l);
        };
        let end = loop {
            let snap = watch.snapshot(crate::time::now());
            let this_job = snap
                .jobs
                .iter()
                .find(|j| {
                    j.metadata.name.as_deref() == Some(&name)
                        && j.metadata.uid.as_deref() == Some(&uid)
                })
                .cloned();
            // Follow every container of the Job's pods once it has started.
            for pod in snap.pods.iter().filter(|p| owned_by(p, &name)) {
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                for cname in container_names(pod) {
                    let key = (pod_name.clone(), cname.clone());
                    if !followed.contains(&key) && started(pod, &cname) {
                        followed.insert(key);
                        followers.push(follow(self.kube, pod_name.clone(), cname, tx.clone()));
                    }
                }
            }
            if let Some(j) = &this_job {
                if job_condition(j, "Complete").is_some() {
                    break JobEnd::Succeeded;
                }
                // The status of this Job alone: its reason, with the cause read from the
                // failed container's log tail.
                let mut s = snap.clone();
                s.jobs = vec![j.clone()];
                s.pods.retain(|p| owned_by(p, &name));
                s.expected = vec![self.component];
                let st = status::instance_status(&s);
                let failure = st
                    .component(self.component)
                    .and_then(|cs| cs.failure.as_ref());
                let cause = |f: Option<&status::Failure>| {
                    f.and_then(|f| f.cause.as_ref())
                        .map_or(String::new(), |c| format!(" — cause: {}", c.summary))
                };
                if let Some((reason, message)) = job_condition(j, "Failed") {
                    let next = match (reason.as_str(), failure.and_then(|f| f.cause.as_ref())) {
                        ("DeadlineExceeded", _) => format!(
                            "the Job ran longer than its activeDeadlineSeconds — raise {}",
                            if matches!(self.component, Component::Backup | Component::Restore) {
                                "backup.activeDeadlineSeconds"
                            } else {
                                "backend.autoUpgrade.activeDeadlineSeconds"
                            }
                        ),
                        (_, Some(c)) => c.next_step.clone(),
                        _ => "read the log lines above for the cause".to_string(),
                    };
                    break JobEnd::Failed {
                        reason: format!(
                            "Job/{name} failed: {reason} — {message}{}",
                            cause(failure)
                        ),
                        next,
                    };
                }
                // Terminal pod failures (image pull, config errors, an attempt whose
                // cause retrying cannot fix) never heal by waiting. The Job is deleted by
                // its uid, unless it may not be stopped (a next attempt may be running -u).
                if let Some(f) = failure.filter(|f| f.terminal) {
                    if !self.leave_running {
                        let kind = Kind::by_name("Job").expect("known");
                        let _ = self.kube.delete_uid(kind, &name, &uid).await;
                    }
                    break JobEnd::Failed {
                        reason: format!(
                            "{}: {} on {} — {}{}",
                            label,
                            f.reason,
                            f.object,
                            f.detail,
                            cause(Some(f))
                        ),
                        next: f.next_step.clone(),
                    };
                }
            }
            let Some(left) = self.deadline.checked_duration_since(Instant::now()) else {
                let failed = JobEnd::Failed {
                    reason: format!("timed out waiting for Job/{name} (it was deleted)"),
                    next: "raise --timeout, or look at the log lines above".into(),
                };
                break self
                    .give_up(&name, &uid, "--timeout passed".into(), failed)
                    .await;
            };
            tokio::select! {
                _ = self.cancel.cancelled(), if !ignore_cancel => {
                    let keep = tokio::task::block_in_place(|| (self.keep_waiting)(&name));
                    if keep {
                        ignore_cancel = true;
                        self.report.step(&format!("still waiting for Job/{name} (Ctrl-C again stops odoo-tui at once)"));
                    } else {
                        if !self.leave_running {
                            self.report.step(&format!("aborting: deleting Job/{name}"));
                        }
                        break self
                            .give_up(&name, &uid, "cancelled".into(), JobEnd::Cancelled)
                            .await;
                    }
                }
                Some(l) = rx.recv() => on_line(l, &mut lines),
                _ = watch.changed() => {}
                _ = tokio::time::sleep(left.min(Duration::from_secs(1))) => {}
            }
        };
        // Containers that ended between two watch events were not followed yet: read
        // their logs now (listed, so that a pod the watch has not shown yet counts too).
        let lp = ListParams::default().labels(&instance_selector(self.release));
        if let Ok(pods) = self.kube.typed::<Pod>().list(&lp).await {
            for pod in pods.items.iter().filter(|p| owned_by(p, &name)) {
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                for cname in container_names(pod) {
                    if followed.insert((pod_name.clone(), cname.clone())) {
                        followers.push(follow(self.kube, pod_name.clone(), cname, tx.clone()));
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
}
