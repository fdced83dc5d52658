//! The dashboard's state and its `update` function (Elm-style): pure, no IO, no clock.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::status::{
    ComponentKind, ComponentStatus, EventLine, Failure, HistoryEntry, InstanceStatus, Overall,
    Phase,
};

/// How many log lines the log view keeps.
pub const LOG_CAPACITY: usize = 5000;
/// Lines moved by PageUp/PageDown.
const PAGE: usize = 10;

/// What the header shows about where the instance lives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub instance: String,
    pub context: String,
    pub namespace: String,
    /// The revision from the instance record.
    pub revision: Option<u64>,
    /// The image to show until a status names one.
    pub image: Option<String>,
}

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Dashboard,
    Logs,
    Events,
}

/// What logs to stream: one pod, or a Job's pod (as `kubectl logs job/NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Pod(String),
    Job(String),
}

impl LogTarget {
    /// Whether lines of `pod` belong to this target.
    pub fn matches(&self, pod: &str) -> bool {
        match self {
            LogTarget::Pod(p) => p == pod,
            LogTarget::Job(j) => pod
                .strip_prefix(j.as_str())
                .is_some_and(|r| r.starts_with('-')),
        }
    }

    /// `pod/NAME` or `job/NAME`, as kubectl spells it.
    pub fn label(&self) -> String {
        match self {
            LogTarget::Pod(p) => format!("pod/{p}"),
            LogTarget::Job(j) => format!("job/{j}"),
        }
    }
}

/// The log view: lines of one target, scrolled from the bottom.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogView {
    pub target: Option<LogTarget>,
    pub lines: Vec<String>,
    /// Lines scrolled up from the end; 0 follows new lines.
    pub back: usize,
}

impl LogView {
    /// Whether the view follows new lines.
    pub fn following(&self) -> bool {
        self.back == 0
    }

    fn push(&mut self, lines: Vec<String>) {
        if !self.following() {
            self.back += lines.len();
        }
        self.lines.extend(lines);
        let excess = self.lines.len().saturating_sub(LOG_CAPACITY);
        self.lines.drain(..excess);
        self.back = self.back.min(self.lines.len());
    }

    fn scroll_up(&mut self, n: usize) {
        self.back = (self.back + n).min(self.lines.len().saturating_sub(1));
    }

    fn scroll_down(&mut self, n: usize) {
        self.back = self.back.saturating_sub(n);
    }
}

/// Messages the dashboard reacts to. Background work sends them over a `tokio::mpsc` channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// The periodic tick, carrying the current time (unix seconds).
    Tick(i64),
    /// The terminal was resized to (width, height).
    Resize(u16, u16),
    /// A new status computed from the watchers' snapshot.
    Status(Box<InstanceStatus>),
    /// New log lines of a pod (appended; only kept when they belong to the log view's target).
    Logs { pod: String, lines: Vec<String> },
    /// The instance's events, replacing the previous list.
    Events(Vec<EventLine>),
    /// The instance record: its revision and history of installs, upgrades and backups.
    Record {
        revision: Option<u64>,
        history: Vec<HistoryEntry>,
    },
    /// The running operation's line, e.g. its latest step.
    Operation(String),
}

/// What the caller must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave the dashboard.
    Quit,
    /// Start streaming logs of the target (send them back as [`Msg::Logs`]).
    FollowLogs(LogTarget),
    /// Stop streaming logs (the log view was closed).
    StopLogs,
    /// The events view was opened (send [`Msg::Events`] if not already flowing).
    ShowEvents,
    /// With [`AppState::finish_when_done`]: the instance became ready.
    Ready,
    /// With [`AppState::finish_when_done`]: a terminal failure was seen (fail fast).
    Failed(Box<Failure>),
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppState {
    pub header: Header,
    /// The running operation, e.g. `upgrade sale,account → odoo:18.0-20260501`.
    pub operation: Option<String>,
    pub status: Option<InstanceStatus>,
    pub history: Vec<HistoryEntry>,
    pub events: Vec<EventLine>,
    pub view: View,
    /// Index of the selected component.
    pub selected: usize,
    /// A pod picked with Tab inside the selected component.
    pub selected_pod: Option<usize>,
    pub logs: LogView,
    /// Rows scrolled up from the newest event.
    pub events_back: usize,
    /// When the dashboard started (unix seconds), for the elapsed time.
    pub started_at: i64,
    /// The time of the last tick (unix seconds).
    pub now: i64,
    /// No colours (the caller sets it from `NO_COLOR`); state is always shown as text.
    pub no_color: bool,
    /// Return [`Action::Ready`]/[`Action::Failed`] once the rollout is over (`new`, `upgrade`).
    pub finish_when_done: bool,
    /// A short message for the footer (e.g. "no pod to show logs for").
    pub notice: Option<String>,
    /// The selection follows the active component (`new`, `upgrade`) until the user
    /// moves it; a Job it follows has its log shown in the reason pane as it comes.
    pub follow: bool,
    /// Close when the producer closes the message channel: the operation the view shows
    /// has ended (`restore`, `clone`), whatever the instance's state.
    pub close_with_producer: bool,
    finished: bool,
}

impl AppState {
    /// A dashboard for `header`, started at `now`.
    pub fn new(header: Header, now: i64) -> Self {
        AppState {
            header,
            started_at: now,
            now,
            ..AppState::default()
        }
    }

    /// The components listed in the table.
    pub fn components(&self) -> &[ComponentStatus] {
        self.status
            .as_ref()
            .map_or(&[], |s| s.components.as_slice())
    }

    /// The selected component, if any.
    pub fn selected_component(&self) -> Option<&ComponentStatus> {
        self.components().get(self.selected)
    }

    /// Index of the pod whose details and logs are shown for the selected component:
    /// the one picked with Tab, else the first with a reason, else the first.
    pub fn focused_pod(&self) -> Option<usize> {
        let c = self.selected_component()?;
        if c.pods.is_empty() {
            return None;
        }
        let i = self
            .selected_pod
            .or_else(|| c.pods.iter().position(|p| p.reason.is_some()))
            .unwrap_or(0);
        Some(i.min(c.pods.len() - 1))
    }

    /// What Enter/l shows logs of: the selected Job (unless a pod was picked), else the pod.
    pub fn log_target(&self) -> Option<LogTarget> {
        let c = self.selected_component()?;
        let job = c.object.as_deref().and_then(|o| o.strip_prefix("Job/"));
        match (c.kind, job, self.selected_pod) {
            (ComponentKind::Job, Some(j), None) => Some(LogTarget::Job(j.to_string())),
            _ => self
                .focused_pod()
                .map(|i| LogTarget::Pod(c.pods[i].name.clone())),
        }
    }
}

/// Apply a message to the state; returns what the caller must do, if anything.
pub fn update(state: &mut AppState, msg: Msg) -> Option<Action> {
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key),
        Msg::Key(_) | Msg::Resize(..) => None,
        Msg::Tick(now) => {
            state.now = now;
            None
        }
        Msg::Status(status) => on_status(state, *status),
        Msg::Logs { pod, lines } => {
            if state.logs.target.as_ref().is_some_and(|t| t.matches(&pod)) {
                state.logs.push(lines);
            }
            None
        }
        Msg::Events(events) => {
            state.events = events;
            None
        }
        Msg::Record { revision, history } => {
            state.header.revision = revision.or(state.header.revision);
            state.history = history;
            None
        }
        Msg::Operation(op) => {
            state.operation = Some(op);
            None
        }
    }
}

fn on_status(state: &mut AppState, status: InstanceStatus) -> Option<Action> {
    let selected = state.selected_component().map(|c| c.component);
    state.now = state.now.max(status.observed_at);
    state.status = Some(status);
    // Keep the same component selected when the list changes.
    let comps = state.components();
    state.selected = selected
        .and_then(|s| comps.iter().position(|c| c.component == s))
        .unwrap_or(state.selected)
        .min(comps.len().saturating_sub(1));
    let followed = follow_the_work(state);
    if !state.finish_when_done || state.finished {
        return followed;
    }
    let action = match &state.status.as_ref()?.overall {
        Overall::Ready => Action::Ready,
        Overall::Failed { failure } => Action::Failed(failure.clone()),
        Overall::Progressing => return followed,
    };
    state.finished = true;
    Some(action)
}

/// The Job whose log the reason pane shows while following: the selected component's,
/// while it runs (or waits for its next attempt).
fn pane_job(state: &AppState) -> Option<LogTarget> {
    let c = state.selected_component()?;
    let job = c.object.as_deref()?.strip_prefix("Job/")?;
    matches!(
        c.phase,
        Phase::Pending | Phase::Progressing | Phase::Failing
    )
    .then(|| LogTarget::Job(job.to_string()))
}

/// While following: select the active component, and stream the log of a Job there.
fn follow_the_work(state: &mut AppState) -> Option<Action> {
    if !state.follow || state.view != View::Dashboard {
        return None;
    }
    if let Some(i) = state.status.as_ref().and_then(InstanceStatus::active)
        && i != state.selected
    {
        state.selected = i;
        state.selected_pod = None;
    }
    let want = pane_job(state);
    if want == state.logs.target {
        return None;
    }
    let had = state.logs.target.is_some();
    state.logs = LogView {
        target: want.clone(),
        ..LogView::default()
    };
    match want {
        Some(t) => Some(Action::FollowLogs(t)),
        None if had => Some(Action::StopLogs),
        None => None,
    }
}

/// The log shown in the reason pane for the selected component, if it has one.
pub fn pane_log(state: &AppState) -> Option<&LogView> {
    let target = state.logs.target.as_ref()?;
    (state.follow && state.view == View::Dashboard && pane_job(state).as_ref() == Some(target))
        .then_some(&state.logs)
}

fn on_key(state: &mut AppState, key: KeyEvent) -> Option<Action> {
    state.notice = None;
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    if ctrl_c || key.code == KeyCode::Char('q') {
        return Some(Action::Quit);
    }
    match state.view {
        View::Dashboard => dashboard_key(state, key.code),
        View::Logs => logs_key(state, key.code),
        View::Events => events_key(state, key.code),
    }
}

fn dashboard_key(state: &mut AppState, code: KeyCode) -> Option<Action> {
    let n = state.components().len();
    // Moving the selection takes it over from the work it followed.
    let moves = matches!(
        code,
        KeyCode::Up
            | KeyCode::Down
            | KeyCode::Char('k' | 'j' | 'g' | 'G')
            | KeyCode::Home
            | KeyCode::End
            | KeyCode::Tab
    );
    if moves && state.follow {
        state.follow = false;
        if state.logs.target.take().is_some() {
            state.logs = LogView::default();
            let action = move_selection(state, code, n);
            return action.or(Some(Action::StopLogs));
        }
    }
    move_selection(state, code, n)
}

fn move_selection(state: &mut AppState, code: KeyCode, n: usize) -> Option<Action> {
    match code {
        KeyCode::Esc => return Some(Action::Quit),
        KeyCode::Up | KeyCode::Char('k') => select(state, state.selected.saturating_sub(1)),
        KeyCode::Down | KeyCode::Char('j') => {
            select(state, (state.selected + 1).min(n.saturating_sub(1)))
        }
        KeyCode::Home | KeyCode::Char('g') => select(state, 0),
        KeyCode::End | KeyCode::Char('G') => select(state, n.saturating_sub(1)),
        KeyCode::Tab => cycle_pod(state),
        KeyCode::Enter | KeyCode::Char('l') => return open_logs(state),
        KeyCode::Char('e') => return open_events(state),
        _ => {}
    }
    None
}

fn select(state: &mut AppState, i: usize) {
    if i != state.selected {
        state.selected_pod = None;
    }
    state.selected = i;
}

fn cycle_pod(state: &mut AppState) {
    let n = state.selected_component().map_or(0, |c| c.pods.len());
    if n > 0 {
        state.selected_pod = Some(state.selected_pod.map_or(0, |i| (i + 1) % n));
    }
}

fn open_logs(state: &mut AppState) -> Option<Action> {
    let Some(target) = state.log_target() else {
        state.notice = Some("no pod or Job to show logs of yet".into());
        return None;
    };
    // Start with the lines the status already carries for that pod, if any.
    let known = state
        .selected_component()
        .and_then(|c| c.failure.as_ref())
        .filter(|f| {
            f.object
                .strip_prefix("Pod/")
                .is_some_and(|p| target.matches(p))
                || f.object.starts_with("Job/")
        })
        .map(|f| f.log_lines.clone())
        .unwrap_or_default();
    state.logs = LogView {
        target: Some(target.clone()),
        lines: known,
        back: 0,
    };
    state.view = View::Logs;
    Some(Action::FollowLogs(target))
}

fn open_events(state: &mut AppState) -> Option<Action> {
    state.view = View::Events;
    state.events_back = 0;
    Some(Action::ShowEvents)
}

fn close_logs(state: &mut AppState) -> Option<Action> {
    state.view = View::Dashboard;
    state.logs = LogView::default();
    Some(Action::StopLogs)
}

fn logs_key(state: &mut AppState, code: KeyCode) -> Option<Action> {
    let logs = &mut state.logs;
    match code {
        KeyCode::Esc => return close_logs(state),
        KeyCode::Up | KeyCode::Char('k') => logs.scroll_up(1),
        KeyCode::Down | KeyCode::Char('j') => logs.scroll_down(1),
        KeyCode::PageUp => logs.scroll_up(PAGE),
        KeyCode::PageDown => logs.scroll_down(PAGE),
        KeyCode::Home | KeyCode::Char('g') => logs.scroll_up(usize::MAX / 2),
        KeyCode::End | KeyCode::Char('G') | KeyCode::Char('f') => logs.back = 0,
        KeyCode::Char('e') => {
            let stop = close_logs(state);
            open_events(state);
            return stop;
        }
        _ => {}
    }
    None
}

fn events_key(state: &mut AppState, code: KeyCode) -> Option<Action> {
    let max = state.events.len().saturating_sub(1);
    match code {
        KeyCode::Esc | KeyCode::Char('e') => state.view = View::Dashboard,
        KeyCode::Up | KeyCode::Char('k') => state.events_back = (state.events_back + 1).min(max),
        KeyCode::Down | KeyCode::Char('j') => {
            state.events_back = state.events_back.saturating_sub(1)
        }
        KeyCode::PageUp => state.events_back = (state.events_back + PAGE).min(max),
        KeyCode::PageDown => state.events_back = state.events_back.saturating_sub(PAGE),
        KeyCode::End | KeyCode::Char('G') => state.events_back = 0,
        KeyCode::Enter | KeyCode::Char('l') => {
            state.view = View::Dashboard;
            return open_logs(state);
        }
        _ => {}
    }
    None
}
