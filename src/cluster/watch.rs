//! Watches (not polling) on the objects of one instance, kept in reflector stores and
//! turned into a [`Snapshot`] for the status model. After the initial list, an idle
//! watch makes no requests except its periodic renewal.
//!
//! Two things the status model needs besides the objects are read here, each only for
//! what is in trouble, never for the whole namespace:
//! - the log tail of a container run that failed, read once per failed run
//!   ([`status::tail_request`]) when the pod's change shows it;
//! - the Events of the objects whose reason needs them ([`status::trouble_subjects`]),
//!   and of all the instance's objects while the events view is open, each watched with
//!   the field selector `involvedObject.uid` and dropped when no longer needed.
//!
//! A list the cluster forbids (403) does not hold anything up: the watch counts as ready,
//! keeps retrying in the background, and the snapshot names it in
//! [`Snapshot::forbidden`] so that the status says what it does without.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube::Resource;
use kube::api::LogParams;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::sync::watch as tokio_watch;
use tokio::task::JoinHandle;

use super::Kube;
use crate::status::{self, EventSubject, Snapshot, TailRequest};

/// Label selector of every object odoo-tui made for an instance: its own labels (the
/// instance and `managed-by`), so that another tool's pods carrying the instance's name
/// (a Helm release of the same name) are never taken for the instance's.
pub fn instance_selector(release: &str) -> String {
    super::managed_selector(release)
}

/// The Events of one subject: their store and the task watching them.
type EventsOf = (Store<Event>, JoinHandle<()>);

/// What the watch tasks share: log tails, the Events watched by subject, and whether the
/// events view wants every object's Events.
#[derive(Default)]
struct Shared {
    /// Pod name → the tail of its failed container run.
    tails: Mutex<BTreeMap<String, Vec<String>>>,
    /// Failed runs whose tail was read or is being read.
    asked: Mutex<HashSet<TailRequest>>,
    /// Subject uid → its Events store and watch task.
    events: Mutex<BTreeMap<String, EventsOf>>,
    /// The events view is open: watch the Events of every object of the instance.
    all_events: AtomicBool,
    /// The resources whose list or watch was last answered 403 Forbidden.
    forbidden: Mutex<BTreeSet<&'static str>>,
}

impl Shared {
    fn is_forbidden(&self, what: &str) -> bool {
        self.forbidden.lock().is_ok_and(|f| f.contains(what))
    }

    /// Record whether the last answer for `what` was 403; `true` when that changed.
    fn set_forbidden(&self, what: &'static str, forbidden: bool) -> bool {
        self.forbidden.lock().is_ok_and(|mut f| {
            if forbidden {
                f.insert(what)
            } else {
                f.remove(what)
            }
        })
    }
}

/// Whether a watch failed because the cluster forbids it (RBAC).
fn is_forbidden(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 403,
        watcher::Error::WatchError(s) => s.code == 403,
        _ => false,
    }
}

/// Running watches of one instance. Dropping it stops them.
pub struct InstanceWatch {
    release: String,
    pods: Store<Pod>,
    deployments: Store<Deployment>,
    statefulsets: Store<StatefulSet>,
    jobs: Store<Job>,
    pvcs: Store<PersistentVolumeClaim>,
    shared: Arc<Shared>,
    notify: tokio_watch::Sender<u64>,
    changes: tokio_watch::Receiver<u64>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for InstanceWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Ok(mut events) = self.shared.events.lock() {
            for (_, (_, task)) in std::mem::take(&mut *events) {
                task.abort();
            }
        }
    }
}

/// Asks the watch to follow the Events of every object of the instance (the events
/// view), or only those its reasons need.
#[derive(Clone)]
pub struct EventsSwitch {
    shared: Arc<Shared>,
    notify: tokio_watch::Sender<u64>,
}

impl EventsSwitch {
    pub fn set(&self, all: bool) {
        if self.shared.all_events.swap(all, Ordering::SeqCst) != all {
            self.notify.send_modify(|n| *n += 1);
        }
    }
}

/// Watch `api` (the resource `what`) with `config` into a store; `on_event` sees every
/// event first. A 403 is recorded in `shared` (and cleared by the next answer).
fn spawn_watch<K, F>(
    api: kube::Api<K>,
    config: watcher::Config,
    (what, shared): (&'static str, Arc<Shared>),
    tx: tokio_watch::Sender<u64>,
    mut on_event: F,
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    F: FnMut(&watcher::Event<K>) + Send + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            match &item {
                Ok(ev) => {
                    // `Init` comes before the list is asked for: only an answer clears a 403.
                    if !matches!(ev, watcher::Event::Init) {
                        shared.set_forbidden(what, false);
                    }
                    on_event(ev);
                    tx.send_modify(|n| *n += 1);
                }
                Err(e) => {
                    if shared.set_forbidden(what, is_forbidden(e)) {
                        tx.send_modify(|n| *n += 1);
                    }
                }
            }
        }
    });
    (reader, task)
}

/// Read the tail of a failed container run once, and keep it under the pod's name.
fn read_tail(
    api: kube::Api<Pod>,
    req: TailRequest,
    shared: Arc<Shared>,
    tx: tokio_watch::Sender<u64>,
) {
    tokio::spawn(async move {
        let lp = LogParams {
            container: Some(req.container.clone()),
            previous: req.previous,
            tail_lines: Some(status::LOG_LINES as i64),
            ..Default::default()
        };
        match api.logs(&req.pod, &lp).await {
            Ok(text) => {
                let lines: Vec<String> = text.lines().map(str::to_string).collect();
                if let Ok(mut tails) = shared.tails.lock() {
                    tails.insert(req.pod.clone(), lines);
                }
                tx.send_modify(|n| *n += 1);
            }
            // Asked again at the pod's next change (never on a timer).
            Err(_) => {
                if let Ok(mut asked) = shared.asked.lock() {
                    asked.remove(&req);
                }
            }
        }
    });
}

impl InstanceWatch {
    /// Start watching Pods, Deployments, StatefulSets, Jobs and PVCs labelled with the
    /// instance, with the log tails and Events their reasons need.
    pub fn start(kube: &Kube, release: &str) -> InstanceWatch {
        let (tx, rx) = tokio_watch::channel(0u64);
        let shared = Arc::new(Shared::default());
        let mut tasks = Vec::new();
        let cfg = || watcher::Config::default().labels(&instance_selector(release));
        let pods = {
            let (api, shared, tx2) = (kube.typed::<Pod>(), shared.clone(), tx.clone());
            let on = ("pods", shared.clone());
            let (store, task) = spawn_watch(
                kube.typed::<Pod>(),
                cfg(),
                on,
                tx.clone(),
                move |ev| match ev {
                    watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                        let Some(req) = status::tail_request(p) else {
                            return;
                        };
                        let new = shared.asked.lock().is_ok_and(|mut a| a.insert(req.clone()));
                        if new {
                            read_tail(api.clone(), req, shared.clone(), tx2.clone());
                        }
                    }
                    watcher::Event::Delete(p) => {
                        let name = p.metadata.name.clone().unwrap_or_default();
                        if let Ok(mut tails) = shared.tails.lock() {
                            tails.remove(&name);
                        }
                    }
                    _ => {}
                },
            );
            tasks.push(task);
            store
        };
        fn keep<K: Resource>(
            tasks: &mut Vec<JoinHandle<()>>,
            w: (Store<K>, JoinHandle<()>),
        ) -> Store<K>
        where
            K::DynamicType: Eq + std::hash::Hash + Clone,
        {
            tasks.push(w.1);
            w.0
        }
        let deployments = keep(
            &mut tasks,
            spawn_watch(
                kube.typed(),
                cfg(),
                ("deployments", shared.clone()),
                tx.clone(),
                |_| {},
            ),
        );
        let statefulsets = keep(
            &mut tasks,
            spawn_watch(
                kube.typed(),
                cfg(),
                ("statefulsets", shared.clone()),
                tx.clone(),
                |_| {},
            ),
        );
        let jobs = keep(
            &mut tasks,
            spawn_watch(
                kube.typed(),
                cfg(),
                ("jobs", shared.clone()),
                tx.clone(),
                |_| {},
            ),
        );
        let pvcs = keep(
            &mut tasks,
            spawn_watch(
                kube.typed(),
                cfg(),
                ("persistentvolumeclaims", shared.clone()),
                tx.clone(),
                |_| {},
            ),
        );
        let mut w = InstanceWatch {
            release: release.to_string(),
            pods,
            deployments,
            statefulsets,
            jobs,
            pvcs,
            shared,
            notify: tx,
            changes: rx,
            tasks,
        };
        let subjects = w.follow_subjects(kube);
        w.tasks.push(subjects);
        w
    }

    /// Keep one Events watch per subject that is needed now: on every change, and every
    /// second (a pod's time unready counts).
    fn follow_subjects(&self, kube: &Kube) -> JoinHandle<()> {
        let api = kube.typed::<Event>();
        let (shared, tx) = (self.shared.clone(), self.notify.clone());
        let mut changes = self.changes.clone();
        let objects = self.objects_only();
        tokio::spawn(async move {
            loop {
                let (pods, pvcs) = (objects.pods.state(), objects.pvcs.state());
                let mut wanted = status::trouble_subjects_in(
                    &objects.release,
                    pods.iter().map(|p| &**p),
                    pvcs.iter().map(|p| &**p),
                    crate::time::now(),
                );
                if shared.all_events.load(Ordering::SeqCst) {
                    let snap = objects.snapshot(crate::time::now());
                    wanted.extend(status::instance_subjects(&snap));
                }
                let wanted: BTreeMap<String, EventSubject> =
                    wanted.into_iter().map(|s| (s.uid.clone(), s)).collect();
                if let Ok(mut events) = shared.events.lock() {
                    events.retain(|uid, (_, task)| {
                        let keep = wanted.contains_key(uid);
                        if !keep {
                            task.abort();
                        }
                        keep
                    });
                    for (uid, s) in &wanted {
                        if !events.contains_key(uid) {
                            let cfg = watcher::Config::default().fields(&s.field_selector());
                            let on = (status::EVENTS, shared.clone());
                            let w = spawn_watch(api.clone(), cfg, on, tx.clone(), |_| {});
                            events.insert(uid.clone(), w);
                        }
                    }
                }
                tokio::select! {
                    r = changes.changed() => if r.is_err() { return },
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        })
    }

    /// The stores alone (no tasks), for the subjects task to read.
    fn objects_only(&self) -> Objects {
        Objects {
            release: self.release.clone(),
            pods: self.pods.clone(),
            deployments: self.deployments.clone(),
            statefulsets: self.statefulsets.clone(),
            jobs: self.jobs.clone(),
            pvcs: self.pvcs.clone(),
        }
    }

    /// The switch between the Events of every object (events view) and the needed ones.
    pub fn events_switch(&self) -> EventsSwitch {
        EventsSwitch {
            shared: self.shared.clone(),
            notify: self.notify.clone(),
        }
    }

    /// Wait until every store has its initial list, or its list is forbidden.
    pub async fn ready(&self) {
        self.ready_or_forbidden(&self.pods, status::PODS).await;
        self.ready_or_forbidden(&self.deployments, "deployments")
            .await;
        self.ready_or_forbidden(&self.statefulsets, "statefulsets")
            .await;
        self.ready_or_forbidden(&self.jobs, "jobs").await;
        self.ready_or_forbidden(&self.pvcs, "persistentvolumeclaims")
            .await;
    }

    async fn ready_or_forbidden<K>(&self, store: &Store<K>, what: &str)
    where
        K: Resource + Clone + 'static,
        K::DynamicType: Eq + std::hash::Hash + Clone,
    {
        let mut changes = self.changes.clone();
        let forbidden = async {
            while !self.shared.is_forbidden(what) {
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = store.wait_until_ready() => {}
            _ = forbidden => {}
        }
    }

    /// Resolves at the next change seen by any watch (or a log tail read).
    pub async fn changed(&mut self) {
        let _ = self.changes.changed().await;
    }

    /// The objects as last seen, with the log tails and Events read so far.
    pub fn snapshot(&self, now: i64) -> Snapshot {
        let mut s = self.objects_only().snapshot(now);
        if let Ok(tails) = self.shared.tails.lock() {
            s.logs = tails.clone();
        }
        if let Ok(f) = self.shared.forbidden.lock() {
            s.forbidden = f.iter().map(|w| w.to_string()).collect();
        }
        if let Ok(events) = self.shared.events.lock() {
            s.events = events
                .values()
                .flat_map(|(store, _)| store.state())
                .map(|e| (*e).clone())
                .collect();
        }
        s
    }

    /// Wait until no pod of `component` (its `app.kubernetes.io/component` label) is
    /// left: `Ok(true)`, or `Ok(false)` when `deadline` comes first;
    /// [`ClusterError::Cancelled`](super::ClusterError::Cancelled) on `cancel`.
    pub async fn wait_pods_gone(
        &mut self,
        component: &str,
        deadline: std::time::Instant,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<bool, super::ClusterError> {
        loop {
            let left = self.pods.state().iter().any(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(status::COMPONENT_LABEL))
                    .is_some_and(|c| c == component)
            });
            if !left {
                return Ok(true);
            }
            let Some(rest) = deadline.checked_duration_since(std::time::Instant::now()) else {
                return Ok(false);
            };
            tokio::select! {
                _ = cancel.cancelled() => return Err(super::ClusterError::Cancelled),
                _ = self.changed() => {}
                _ = tokio::time::sleep(rest.min(Duration::from_secs(1))) => {}
            }
        }
    }

    pub fn jobs(&self) -> Vec<Job> {
        own(self.jobs.state())
    }
    pub fn deployments(&self) -> Vec<Deployment> {
        own(self.deployments.state())
    }
    pub fn statefulsets(&self) -> Vec<StatefulSet> {
        own(self.statefulsets.state())
    }
}

fn own<K: Clone>(v: Vec<Arc<K>>) -> Vec<K> {
    v.into_iter().map(|a| (*a).clone()).collect()
}

/// Readers of the object stores.
struct Objects {
    release: String,
    pods: Store<Pod>,
    deployments: Store<Deployment>,
    statefulsets: Store<StatefulSet>,
    jobs: Store<Job>,
    pvcs: Store<PersistentVolumeClaim>,
}

impl Objects {
    fn snapshot(&self, now: i64) -> Snapshot {
        Snapshot {
            instance: self.release.clone(),
            pods: own(self.pods.state()),
            deployments: own(self.deployments.state()),
            statefulsets: own(self.statefulsets.state()),
            jobs: own(self.jobs.state()),
            pvcs: own(self.pvcs.state()),
            now,
            ..Default::default()
        }
    }
}
