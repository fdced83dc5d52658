//! Applying an instance with its progress shown: as lines (text or JSON) on stderr, or
//! with the dashboard on screen while the waves roll out.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Reporter, live};
use crate::cluster::apply::{self, ApplyError, Options, Outcome, Progress};
use crate::cluster::{Kube, log};
use crate::tui::{self, Action, AppState, Msg};
use crate::values::Loaded;

/// Apply `loaded` as instance `release`, reporting progress as lines.
pub async fn with_lines(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    opts: &Options,
    report: Reporter,
    cancel: &CancellationToken,
) -> Result<Outcome, ApplyError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        let mut last = None;
        while let Some(p) = rx.recv().await {
            report.progress(&p, &mut last);
        }
    });
    let result = apply::run(kube, release, loaded, opts, &tx, cancel).await;
    drop(tx);
    let _ = printer.await;
    result
}

/// [`with_lines`], stopping before the wave named `stop_before` (no prune, no record).
pub async fn with_lines_until(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    opts: &Options,
    report: Reporter,
    cancel: &CancellationToken,
    stop_before: &str,
) -> Result<Outcome, ApplyError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        let mut last = None;
        while let Some(p) = rx.recv().await {
            report.progress(&p, &mut last);
        }
    });
    let result =
        apply::run_until(kube, release, loaded, opts, &tx, cancel, Some(stop_before)).await;
    drop(tx);
    let _ = printer.await;
    result
}

/// Apply with the dashboard on screen; it closes when the rollout is ready or fails
/// (or on q, which cancels), then what remains (prune, record) is printed as lines.
pub async fn with_dashboard(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    opts: &Options,
    no_color: bool,
    cancel: CancellationToken,
) -> Result<Outcome, ApplyError> {
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (mtx, mut mrx) = mpsc::channel::<Msg>(64);
    let engine = {
        let (kube, release, loaded, opts, cancel) = (
            kube.clone(),
            release.to_string(),
            loaded.clone(),
            opts.clone(),
            cancel.clone(),
        );
        tokio::spawn(
            async move { apply::run(&kube, &release, &loaded, &opts, &ptx, &cancel).await },
        )
    };
    // The dashboard's own requests (a pod's log) come back on `ltx`. Both are passed on
    // while the engine runs; once it is done, dropping `mtx` tells the view so.
    let (ltx, mut lrx) = mpsc::channel::<Msg>(64);
    let forward = tokio::spawn(async move {
        let mut lines = Vec::new();
        let mut view_open = true;
        loop {
            tokio::select! {
                p = prx.recv() => match p {
                    Some(Progress::Status(st)) => {
                        view_open = view_open && mtx.send(Msg::Status(st)).await.is_ok();
                    }
                    Some(other) => lines.push(other),
                    None => break,
                },
                Some(m) = lrx.recv(), if view_open => {
                    view_open = mtx.send(m).await.is_ok();
                }
            }
        }
        lines
    });
    // The header names the image and the revision from the start: the recorded one of
    // an instance being updated, 1 for a new one.
    let mut header = live::header(kube, release, None);
    header.image = Some(loaded.values.backend.image.reference());
    header.revision = match super::record::find(kube, release).await {
        Ok(Some(r)) => Some(r.revision),
        _ => Some(1),
    };
    let mut state = AppState::new(header, crate::time::now());
    state.operation = Some(format!("new {release}"));
    state.finish_when_done = true;
    state.follow = true;
    state.no_color = no_color;
    let mut actions = live::Actions::new(kube, ltx);
    debug_assert!(
        kube.non_interactive,
        "an exec credential plugin must never prompt under the dashboard"
    );
    let held = log::hold();
    let ended = tui::run_terminal(&mut state, &mut mrx, |a| actions.handle(a)).await;
    drop(held);
    if matches!(ended, Ok(Some(Action::Quit)) | Err(_)) {
        cancel.cancel();
    }
    drop(mrx);
    let result = engine.await.unwrap_or(Err(ApplyError::Cancelled));
    let report = Reporter::new(false);
    let mut last = None;
    for p in forward.await.unwrap_or_default() {
        if matches!(p, Progress::Object { .. } | Progress::Done { .. }) {
            report.progress(&p, &mut last);
        }
    }
    result
}

/// How an operation that records its own history entry (`upgrade`, `restore`) runs the
/// apply engine.
#[derive(Debug, Clone, Copy)]
pub struct Rollout {
    /// The revision the record gets, with no entry of the apply's own.
    pub revision: u64,
    /// Give up waiting after this long.
    pub timeout: Duration,
    /// Keep the maintenance page on until the backend is ready again.
    pub maintenance_until_ready: bool,
}

/// Apply `loaded` for an operation (see [`Rollout`]), progress as lines; this also brings
/// the backend's replicas back and, at the end, switches the maintenance page off.
pub async fn rollout(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    r: Rollout,
    report: Reporter,
    cancel: &CancellationToken,
) -> Result<(), ApplyError> {
    let opts = Options {
        force: false,
        dry_run: false,
        timeout: r.timeout,
        typed: Default::default(),
        revision: Some(r.revision),
        maintenance_until_ready: r.maintenance_until_ready,
    };
    with_lines(kube, release, loaded, &opts, report, cancel).await?;
    Ok(())
}
