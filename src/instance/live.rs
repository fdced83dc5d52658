//! The live views: watchers feeding the dashboard (`status`, and `new` on a terminal),
//! log streaming on request, and the line-per-change mode of `status --plain`.

use std::io::Write;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::runtime::watcher;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cluster::Kube;
use crate::cluster::record::Record;
use crate::cluster::watch::{EventsSwitch, InstanceWatch};
use crate::status::{self, Component};
use crate::tui::{self, Action, AppState, Header, LogTarget, Msg};

/// The dashboard header for an instance.
pub fn header(kube: &Kube, release: &str, record: Option<&Record>) -> Header {
    Header {
        instance: release.to_string(),
        context: kube.context.clone(),
        namespace: kube.namespace.clone(),
        revision: record.map(|r| r.revision),
        image: None,
    }
}

/// Feed the dashboard from watches until the receiver goes away. The switch turns the
/// Events of every object of the instance on (the events view) and off.
pub fn feed_from_watch(
    kube: &Kube,
    release: &str,
    expected: Vec<Component>,
    tx: mpsc::Sender<Msg>,
) -> (JoinHandle<()>, EventsSwitch) {
    let mut w = InstanceWatch::start(kube, release);
    let switch = w.events_switch();
    let task = tokio::spawn(async move {
        w.ready().await;
        loop {
            let mut snap = w.snapshot(crate::time::now());
            snap.expected = expected.clone();
            let st = status::instance_status(&snap);
            let events = status::event_lines(&snap.events);
            if tx.send(Msg::Status(Box::new(st))).await.is_err()
                || tx.send(Msg::Events(events)).await.is_err()
            {
                return;
            }
            w.changed().await;
        }
    });
    (task, switch)
}

/// Stream the log of a pod's main container as [`Msg::Logs`]; `false` when the receiver
/// went away.
async fn stream_pod(
    pods: kube::Api<Pod>,
    pod: String,
    container: Option<String>,
    tx: mpsc::Sender<Msg>,
) -> bool {
    let lp = LogParams {
        container,
        follow: true,
        tail_lines: Some(500),
        ..Default::default()
    };
    let Ok(stream) = pods.log_stream(&pod, &lp).await else {
        return true;
    };
    let mut lines = stream.lines();
    while let Some(Ok(line)) = lines.next().await {
        let msg = Msg::Logs {
            pod: pod.clone(),
            lines: vec![line],
        };
        if tx.send(msg).await.is_err() {
            return false;
        }
    }
    true
}

/// Stream the logs of a pod, or of every pod of a Job as each starts (a Job that has
/// no pod yet is waited for), as [`Msg::Logs`].
pub fn follow_logs(kube: &Kube, target: LogTarget, tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    let pods: kube::Api<Pod> = kube.typed();
    tokio::spawn(async move {
        let job = match target {
            LogTarget::Pod(p) => {
                stream_pod(pods, p, None, tx).await;
                return;
            }
            LogTarget::Job(j) => j,
        };
        // Dropped with this task, so aborting it stops every stream.
        let mut streams = tokio::task::JoinSet::new();
        let mut followed = std::collections::BTreeSet::new();
        let cfg = watcher::Config::default().labels(&format!(
            "job-name={job},{}",
            crate::cluster::MANAGED_SELECTOR
        ));
        let events = watcher(pods.clone(), cfg);
        futures::pin_mut!(events);
        while let Some(ev) = events.next().await {
            let (Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p))) = ev else {
                continue;
            };
            let name = p.metadata.name.clone().unwrap_or_default();
            let main = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .map(|c| c.name.clone());
            let started = main
                .as_ref()
                .is_some_and(|m| crate::plan::logs::readable_containers(&p, false).contains(m));
            if started && followed.insert(name.clone()) {
                streams.spawn(stream_pod(pods.clone(), name, main, tx.clone()));
            }
            if tx.is_closed() {
                return;
            }
        }
    })
}

/// Handles the dashboard's requests (logs, events) while it runs.
pub struct Actions {
    kube: Kube,
    tx: mpsc::Sender<Msg>,
    logs: Option<JoinHandle<()>>,
    events: Option<EventsSwitch>,
}

impl Actions {
    pub fn new(kube: &Kube, tx: mpsc::Sender<Msg>) -> Actions {
        Actions {
            kube: kube.clone(),
            tx,
            logs: None,
            events: None,
        }
    }

    /// The events view turns on the Events of every object of the instance with this.
    pub fn with_events(mut self, switch: EventsSwitch) -> Actions {
        self.events = Some(switch);
        self
    }

    pub fn handle(&mut self, a: &Action) {
        match a {
            Action::FollowLogs(target) => {
                if let Some(h) = self.logs.take() {
                    h.abort();
                }
                self.logs = Some(follow_logs(&self.kube, target.clone(), self.tx.clone()));
            }
            Action::StopLogs => {
                if let Some(h) = self.logs.take() {
                    h.abort();
                }
            }
            Action::ShowEvents => {
                if let Some(e) = &self.events {
                    e.set(true);
                }
            }
            _ => {}
        }
    }
}

impl Drop for Actions {
    fn drop(&mut self) {
        if let Some(h) = self.logs.take() {
            h.abort();
        }
    }
}

/// `odoo-tui status` on a terminal: the full-screen dashboard until q.
pub async fn dashboard(
    kube: &Kube,
    release: &str,
    record: Option<Record>,
    no_color: bool,
) -> std::io::Result<()> {
    let (tx, mut rx) = mpsc::channel(64);
    let mut state = AppState::new(header(kube, release, record.as_ref()), crate::time::now());
    state.no_color = no_color;
    if let Some(r) = &record {
        let _ = tx
            .send(Msg::Record {
                revision: Some(r.revision),
                history: r.history.clone(),
            })
            .await;
    }
    let (feeder, events) = feed_from_watch(kube, release, vec![], tx.clone());
    let mut actions = Actions::new(kube, tx).with_events(events);
    debug_assert!(
        kube.non_interactive,
        "an exec credential plugin must never prompt under the dashboard"
    );
    let held = crate::cluster::log::hold();
    let result = tui::run_terminal(&mut state, &mut rx, |a| actions.handle(a)).await;
    drop(held);
    feeder.abort();
    result.map(|_| ())
}

/// `odoo-tui status --plain`: one line per change (text, or JSON lines with `json`) on
/// stdout until Ctrl-C.
pub async fn follow_lines(kube: &Kube, release: &str, json: bool, cancel: CancellationToken) {
    let mut w = InstanceWatch::start(kube, release);
    w.ready().await;
    let mut last: Option<status::InstanceStatus> = None;
    loop {
        let st = status::instance_status(&w.snapshot(crate::time::now()));
        let lines = if json {
            crate::plain::json_changes(last.as_ref(), &st)
        } else {
            crate::plain::changes(last.as_ref(), &st)
        };
        let mut out = std::io::stdout().lock();
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        drop(out);
        last = Some(st);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = w.changed() => {}
        }
    }
}

/// Run an operation's `work` on `release` (`restore`, `clone`) with the dashboard on
/// screen, as `new` shows its rollout: the components from watches, the selection
/// following the active one with its Job's log, and the operation's latest step on the
/// header line. What the work reports is held while the dashboard is up and its steps
/// printed once it closes. It closes when the work ends; q (or Ctrl-C) closes it and
/// cancels `cancel`, and the work stops as after Ctrl-C.
pub async fn operation<T>(
    kube: &Kube,
    release: &str,
    operation: &str,
    no_color: bool,
    cancel: &CancellationToken,
    work: impl std::future::Future<Output = T>,
) -> T {
    // Everything for the view goes through `itx`; once the work ends the forwarder
    // stops, and the view, its channel closed, closes too.
    let (itx, mut irx) = mpsc::channel::<Msg>(64);
    let (mtx, mut mrx) = mpsc::channel::<Msg>(64);
    let done = CancellationToken::new();
    let forward = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = done.cancelled() => return,
                    m = irx.recv() => match m {
                        Some(m) => {
                            if mtx.send(m).await.is_err() {
                                return;
                            }
                        }
                        None => return,
                    },
                }
            }
        })
    };
    let record = crate::cluster::record::find(kube, release)
        .await
        .ok()
        .flatten();
    let mut state = AppState::new(header(kube, release, record.as_ref()), crate::time::now());
    state.operation = Some(operation.to_string());
    state.follow = true;
    state.close_with_producer = true;
    state.no_color = no_color;
    if let Some(r) = &record {
        let _ = itx
            .send(Msg::Record {
                revision: Some(r.revision),
                history: r.history.clone(),
            })
            .await;
    }
    let (feeder, events) = feed_from_watch(kube, release, vec![], itx.clone());
    let (stx, mut srx) = mpsc::unbounded_channel::<(bool, String)>();
    let captured = super::progress::capture(stx);
    let steps = {
        let (itx, op) = (itx.clone(), operation.to_string());
        tokio::spawn(async move {
            let mut all = Vec::new();
            while let Some((step, line)) = srx.recv().await {
                if step {
                    let shown = line.trim().lines().next().unwrap_or_default();
                    let _ = itx.send(Msg::Operation(format!("{op} · {shown}"))).await;
                    all.push(line);
                }
            }
            all
        })
    };
    let mut actions = Actions::new(kube, itx).with_events(events);
    let view = async {
        let held = crate::cluster::log::hold();
        let ended = tui::run_terminal(&mut state, &mut mrx, |a| actions.handle(a)).await;
        if matches!(ended, Ok(Some(Action::Quit)) | Err(_)) {
            cancel.cancel();
        }
        // From here on, lines go to the terminal again: first the steps held back.
        drop(captured);
        drop(held);
        let mut err = std::io::stderr().lock();
        for line in steps.await.unwrap_or_default() {
            let _ = writeln!(err, "{line}");
        }
    };
    let work = async {
        let out = work.await;
        done.cancel();
        out
    };
    let ((), out) = tokio::join!(view, work);
    feeder.abort();
    forward.abort();
    out
}
