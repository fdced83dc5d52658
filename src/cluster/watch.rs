//! Watches (not polling) on the objects of one instance, kept in reflector stores and
//! turned into a [`Snapshot`] for the status model. After the initial list, an idle
//! watch makes no requests except its periodic renewal.

use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube::Resource;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::sync::watch as tokio_watch;
use tokio::task::JoinHandle;

use super::Kube;
use crate::status::Snapshot;

/// Label selector of every object of an instance.
pub fn instance_selector(release: &str) -> String {
    format!("app.kubernetes.io/instance={release}")
}

/// Running watches of one instance. Dropping it stops them.
pub struct InstanceWatch {
    release: String,
    pods: Store<Pod>,
    deployments: Store<Deployment>,
    statefulsets: Store<StatefulSet>,
    jobs: Store<Job>,
    pvcs: Store<PersistentVolumeClaim>,
    events: Store<Event>,
    changes: tokio_watch::Receiver<u64>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for InstanceWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn spawn_watch<K>(
    api: kube::Api<K>,
    config: watcher::Config,
    tx: tokio_watch::Sender<u64>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store::<K>();
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    tasks.push(tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            if item.is_ok() {
                tx.send_modify(|n| *n += 1);
            }
        }
    }));
    reader
}

impl InstanceWatch {
    /// Start watching Pods, Deployments, StatefulSets, Jobs and PVCs labelled with the
    /// instance, and the namespace's Events.
    pub fn start(kube: &Kube, release: &str) -> InstanceWatch {
        let (tx, rx) = tokio_watch::channel(0u64);
        let mut tasks = Vec::new();
        let cfg = || watcher::Config::default().labels(&instance_selector(release));
        let pods = spawn_watch(kube.typed::<Pod>(), cfg(), tx.clone(), &mut tasks);
        let deployments = spawn_watch(kube.typed::<Deployment>(), cfg(), tx.clone(), &mut tasks);
        let statefulsets = spawn_watch(kube.typed::<StatefulSet>(), cfg(), tx.clone(), &mut tasks);
        let jobs = spawn_watch(kube.typed::<Job>(), cfg(), tx.clone(), &mut tasks);
        let pvcs = spawn_watch(
            kube.typed::<PersistentVolumeClaim>(),
            cfg(),
            tx.clone(),
            &mut tasks,
        );
        let events = spawn_watch(
            kube.typed::<Event>(),
            watcher::Config::default(),
            tx,
            &mut tasks,
        );
        InstanceWatch {
            release: release.to_string(),
            pods,
            deployments,
            statefulsets,
            jobs,
            pvcs,
            events,
            changes: rx,
            tasks,
        }
    }

    /// Wait until every store has its initial list.
    pub async fn ready(&self) {
        let _ = self.pods.wait_until_ready().await;
        let _ = self.deployments.wait_until_ready().await;
        let _ = self.statefulsets.wait_until_ready().await;
        let _ = self.jobs.wait_until_ready().await;
        let _ = self.pvcs.wait_until_ready().await;
        let _ = self.events.wait_until_ready().await;
    }

    /// Resolves at the next change seen by any watch.
    pub async fn changed(&mut self) {
        let _ = self.changes.changed().await;
    }

    /// The objects as last seen.
    pub fn snapshot(&self, now: i64) -> Snapshot {
        fn own<K: Clone>(v: Vec<Arc<K>>) -> Vec<K> {
            v.into_iter().map(|a| (*a).clone()).collect()
        }
        Snapshot {
            instance: self.release.clone(),
            pods: own(self.pods.state()),
            deployments: own(self.deployments.state()),
            statefulsets: own(self.statefulsets.state()),
            jobs: own(self.jobs.state()),
            pvcs: own(self.pvcs.state()),
            events: own(self.events.state()),
            now,
            ..Default::default()
        }
    }

    pub fn jobs(&self) -> Vec<Job> {
        self.jobs
            .state()
            .into_iter()
            .map(|a| (*a).clone())
            .collect()
    }
    pub fn deployments(&self) -> Vec<Deployment> {
        self.deployments
            .state()
            .into_iter()
            .map(|a| (*a).clone())
            .collect()
    }
    pub fn statefulsets(&self) -> Vec<StatefulSet> {
        self.statefulsets
            .state()
            .into_iter()
            .map(|a| (*a).clone())
            .collect()
    }
}
