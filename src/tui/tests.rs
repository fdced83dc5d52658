//! Dashboard frames (insta snapshots of the `TestBackend` buffer) and key handling,
//! fed from the status fixtures in `tests/fixtures/status/`.

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use tokio::sync::mpsc;

use super::*;
use crate::status::tests::{INSTALL, NOW, fixture};
use crate::status::{
    Component, HistoryEntry, HistoryKind, HistoryResult, InstanceStatus, Overall, event_lines,
    instance_status,
};

fn status(name: &str) -> InstanceStatus {
    let mut snap = fixture(name);
    if name == "installing" {
        snap.expected = INSTALL.to_vec();
    }
    instance_status(&snap)
}

fn history() -> Vec<HistoryEntry> {
    vec![
        HistoryEntry {
            time: NOW - 86_400 * 30,
            kind: HistoryKind::Install,
            modules: vec![],
            image: Some("odoo:18.0".into()),
            backup_location: None,
            result: HistoryResult::Succeeded,
            revision: 0,
            detail: None,
            upgrade: None,
        },
        HistoryEntry {
            time: NOW - 86_400 * 2,
            kind: HistoryKind::Backup,
            modules: vec![],
            image: None,
            backup_location: Some("s3://acme-odoo/backups/2026-05-02T09-00-00.dump".into()),
            result: HistoryResult::Succeeded,
            revision: 0,
            detail: None,
            upgrade: None,
        },
        HistoryEntry {
            time: NOW - 86_400 * 2 + 120,
            kind: HistoryKind::Upgrade,
            modules: vec!["sale".into(), "account".into()],
            image: Some("odoo:18.0".into()),
            backup_location: Some("s3://acme-odoo/backups/2026-05-02T09-00-00.dump".into()),
            result: HistoryResult::Succeeded,
            revision: 0,
            detail: None,
            upgrade: None,
        },
    ]
}

/// A dashboard showing fixture `name`, started 5 minutes before the capture.
fn state(name: &str) -> AppState {
    let header = Header {
        instance: "acme".into(),
        context: "kind-dev".into(),
        namespace: "shop".into(),
        revision: Some(3),
        image: None,
    };
    let mut s = AppState::new(header, NOW - 300);
    update(&mut s, Msg::Tick(NOW));
    update(&mut s, Msg::Status(Box::new(status(name))));
    s
}

fn select(s: &mut AppState, c: Component) {
    s.selected = s
        .components()
        .iter()
        .position(|x| x.component == c)
        .expect("component listed");
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(code))
}

/// The screen as text, one line per row, trailing blanks trimmed.
fn screen(backend: &TestBackend) -> String {
    let buf = backend.buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn render(s: &AppState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, s)).unwrap();
    screen(t.backend())
}

#[test]
fn frame_installing() {
    let mut s = state("installing");
    select(&mut s, Component::Minio);
    let text = render(&s, 120, 32);
    assert!(text.contains("State: PROGRESSING"));
    assert_snapshot!("installing", text);
}

#[test]
fn frame_ready() {
    let mut s = state("ready");
    update(
        &mut s,
        Msg::Record {
            revision: Some(4),
            history: history(),
        },
    );
    select(&mut s, Component::Backend);
    let text = render(&s, 160, 36);
    assert!(text.contains("State: READY"));
    assert!(text.contains("rev 4"));
    assert_snapshot!("ready", text);
}

#[test]
fn frame_image_pull_failure() {
    let mut s = state("image-pull-backoff");
    select(&mut s, Component::Backend);
    let text = render(&s, 100, 30);
    assert!(text.contains("next:   image odoo:18.O not found — fix backend.image.tag"));
    assert_snapshot!("image_pull_failure", text);
}

#[test]
fn frame_crash_loop_with_logs() {
    let mut s = state("crash-loop");
    select(&mut s, Component::Backend);
    let text = render(&s, 120, 36);
    assert!(text.contains("password authentication failed"));
    assert_snapshot!("crash_loop", text);
}

#[test]
fn frame_oom_killed() {
    let mut s = state("oom-killed");
    select(&mut s, Component::Backend);
    assert_snapshot!("oom_killed", render(&s, 100, 30));
}

#[test]
fn frame_unschedulable() {
    let mut s = state("unschedulable");
    select(&mut s, Component::Backend);
    let text = render(&s, 120, 32);
    assert!(text.contains("Unschedulable (transient — may resolve)"));
    assert_snapshot!("unschedulable", text);
}

#[test]
fn frame_missing_secret_key() {
    let mut s = state("missing-secret-key");
    select(&mut s, Component::Init);
    let text = render(&s, 80, 24);
    assert!(text.contains("db-password"));
    assert_snapshot!("missing_secret_key", text);
}

#[test]
fn frame_upgrade_running() {
    let mut s = state("upgrade-running");
    s.operation = Some("upgrade sale,account → odoo:18.0-20260501 (maintenance)".into());
    update(
        &mut s,
        Msg::Record {
            revision: Some(3),
            history: history(),
        },
    );
    select(&mut s, Component::Upgrade);
    let text = render(&s, 120, 36);
    assert!(text.contains("ScaledDown"));
    assert_snapshot!("upgrade_running", text);
    // Enter follows the upgrade Job's log.
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        Some(Action::FollowLogs(LogTarget::Job(
            "acme-odoo-upgrade-20260504100300".into()
        )))
    );
    let lines = vec![
        "2026-05-04 10:04:20,007 1 INFO acme odoo.modules.loading: Loading module sale (88/142)"
            .to_string(),
    ];
    update(
        &mut s,
        Msg::Logs {
            pod: "acme-odoo-upgrade-20260504100300-k2p8w".into(),
            lines,
        },
    );
    assert_snapshot!("upgrade_running_logs", render(&s, 100, 16));
}

#[test]
fn frame_upgrade_failed() {
    let mut s = state("job-backoff-limit");
    s.operation = Some("upgrade sale,account → odoo:18.0-20260501 (maintenance)".into());
    select(&mut s, Component::Upgrade);
    let text = render(&s, 120, 36);
    assert!(text.contains("State: FAILED"));
    assert!(text.contains("BackoffLimitExceeded (terminal)"));
    assert_snapshot!("upgrade_failed", text);
}

#[test]
fn frame_events_view() {
    let mut s = state("image-pull-backoff");
    update(
        &mut s,
        Msg::Events(event_lines(&fixture("image-pull-backoff").events)),
    );
    assert_eq!(
        update(&mut s, key(KeyCode::Char('e'))),
        Some(Action::ShowEvents)
    );
    assert_snapshot!("events", render(&s, 120, 16));
}

#[test]
fn frame_smallest_full_view() {
    let mut s = state("crash-loop");
    select(&mut s, Component::Backend);
    let text = render(&s, MIN_WIDTH, MIN_HEIGHT);
    assert!(text.contains("Components"));
    assert_snapshot!("size_60x15", text);
}

#[test]
fn too_small_terminals_get_a_message_not_a_panic() {
    let s = state("crash-loop");
    let text = render(&s, 59, 15);
    assert!(text.contains("Terminal too small"));
    assert!(text.contains("59x15, need 60x15"));
    for (w, h) in [(1, 1), (0, 0), (10, 3), (60, 14), (200, 2)] {
        render(&s, w, h);
    }
    let mut logs = s.clone();
    logs.view = View::Logs;
    let mut events = s;
    events.view = View::Events;
    for w in (60..130).step_by(7) {
        for h in 15..40 {
            render(&logs, w, h);
            render(&events, w, h);
        }
    }
}

#[test]
fn no_color_uses_no_colours_but_keeps_the_text() {
    let mut s = state("image-pull-backoff");
    let coloured = Terminal::new(TestBackend::new(100, 30)).map(|mut t| {
        t.draw(|f| draw(f, &s)).unwrap();
        t.backend().buffer().clone()
    });
    let coloured = coloured.unwrap();
    assert!(coloured.content.iter().any(|c| c.fg != Color::Reset));
    s.no_color = true;
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| draw(f, &s)).unwrap();
    let buf = t.backend().buffer();
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    assert!(screen(t.backend()).contains("State: FAILED"));
}

#[test]
fn arrows_and_jk_select_within_bounds() {
    let mut s = state("ready");
    let n = s.components().len();
    assert_eq!(s.selected, 0);
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.selected, 0);
    update(&mut s, key(KeyCode::Char('j')));
    update(&mut s, key(KeyCode::Down));
    assert_eq!(s.selected, 2);
    update(&mut s, key(KeyCode::Char('k')));
    assert_eq!(s.selected, 1);
    for _ in 0..20 {
        update(&mut s, key(KeyCode::Down));
    }
    assert_eq!(s.selected, n - 1);
}

#[test]
fn selection_follows_the_component_when_the_list_grows() {
    let mut s = state("installing");
    select(&mut s, Component::Backend);
    let mut bigger = status("installing");
    bigger
        .components
        .retain(|c| c.component != Component::Minio);
    update(&mut s, Msg::Status(Box::new(bigger)));
    assert_eq!(
        s.selected_component().unwrap().component,
        Component::Backend
    );
}

#[test]
fn enter_on_a_workload_follows_the_failing_pod_and_esc_closes_first() {
    let mut s = state("unschedulable");
    select(&mut s, Component::Backend);
    let target = LogTarget::Pod("acme-odoo-backend-6c9f7d8b5-p7r2d".into());
    assert_eq!(
        update(&mut s, key(KeyCode::Char('l'))),
        Some(Action::FollowLogs(target))
    );
    assert_eq!(s.view, View::Logs);
    assert_eq!(update(&mut s, key(KeyCode::Esc)), Some(Action::StopLogs));
    assert_eq!(s.view, View::Dashboard);
    assert_eq!(update(&mut s, key(KeyCode::Esc)), Some(Action::Quit));
}

#[test]
fn tab_picks_another_pod() {
    let mut s = state("unschedulable");
    select(&mut s, Component::Backend);
    update(&mut s, key(KeyCode::Tab));
    let target = LogTarget::Pod("acme-odoo-backend-6c9f7d8b5-h4k8s".into());
    assert_eq!(s.log_target(), Some(target));
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(
        s.log_target(),
        Some(LogTarget::Pod("acme-odoo-backend-6c9f7d8b5-p7r2d".into()))
    );
}

#[test]
fn log_view_keeps_only_its_targets_lines_and_pauses_when_scrolled() {
    let mut s = state("crash-loop");
    select(&mut s, Component::Backend);
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        s.logs.lines.len(),
        6,
        "starts with the lines the status carries"
    );
    update(
        &mut s,
        Msg::Logs {
            pod: "someone-else".into(),
            lines: vec!["x".into()],
        },
    );
    assert_eq!(s.logs.lines.len(), 6);
    update(&mut s, key(KeyCode::Up));
    assert!(!s.logs.following());
    let pod = "acme-odoo-backend-6c9f7d8b5-h4k8s".to_string();
    update(
        &mut s,
        Msg::Logs {
            pod: pod.clone(),
            lines: vec!["new 1".into(), "new 2".into()],
        },
    );
    assert_eq!(s.logs.back, 3, "the view stays where the user scrolled");
    assert!(render(&s, 80, 20).contains("paused — End to follow"));
    update(&mut s, key(KeyCode::End));
    assert!(s.logs.following());
    let text = render(&s, 80, 20);
    assert!(text.contains("new 2") && text.contains("following"));
}

#[test]
fn log_buffer_is_bounded() {
    let mut s = state("crash-loop");
    select(&mut s, Component::Backend);
    update(&mut s, key(KeyCode::Enter));
    let pod = "acme-odoo-backend-6c9f7d8b5-h4k8s".to_string();
    let lines: Vec<String> = (0..LOG_CAPACITY + 10).map(|i| i.to_string()).collect();
    update(&mut s, Msg::Logs { pod, lines });
    assert_eq!(s.logs.lines.len(), LOG_CAPACITY);
    assert_eq!(
        s.logs.lines.last().unwrap(),
        &(LOG_CAPACITY + 9).to_string()
    );
}

#[test]
fn q_and_ctrl_c_quit_from_any_view() {
    let mut s = state("ready");
    update(&mut s, key(KeyCode::Char('e')));
    assert_eq!(update(&mut s, key(KeyCode::Char('q'))), Some(Action::Quit));
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut s, ctrl_c), Some(Action::Quit));
}

#[test]
fn finish_when_done_reports_once() {
    let mut s = state("installing");
    s.finish_when_done = true;
    assert_eq!(
        update(&mut s, Msg::Status(Box::new(status("installing")))),
        None
    );
    let failed = status("crash-loop");
    let Overall::Failed { failure } = failed.overall.clone() else {
        panic!()
    };
    assert_eq!(
        update(&mut s, Msg::Status(Box::new(failed.clone()))),
        Some(Action::Failed(failure))
    );
    assert_eq!(update(&mut s, Msg::Status(Box::new(failed))), None);
}

fn keys(codes: &[KeyCode]) -> impl futures::Stream<Item = std::io::Result<TermEvent>> + Unpin {
    let evs: Vec<std::io::Result<TermEvent>> = codes
        .iter()
        .map(|c| Ok(TermEvent::Key(KeyEvent::from(*c))))
        .collect();
    futures::stream::iter(evs)
}

#[tokio::test]
async fn run_loop_drives_navigation_and_hands_out_actions() {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut s = state("installing");
    let (tx, mut rx) = mpsc::channel(8);
    tx.send(Msg::Status(Box::new(status("crash-loop"))))
        .await
        .unwrap();
    drop(tx);
    // backend is the 6th component of the crash-loop fixture.
    let codes = [
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Char('e'),
        KeyCode::Esc,
        KeyCode::Char('q'),
    ];
    let mut actions = Vec::new();
    let end = run(
        &mut terminal,
        &mut s,
        &mut rx,
        keys(&codes),
        || NOW,
        |a| actions.push(a.clone()),
    )
    .await
    .unwrap();
    assert_eq!(end, Some(Action::Quit));
    assert_eq!(
        actions,
        vec![
            Action::FollowLogs(LogTarget::Pod("acme-odoo-backend-6c9f7d8b5-h4k8s".into())),
            Action::StopLogs,
            Action::ShowEvents,
        ]
    );
    assert_eq!(
        s.selected_component().unwrap().component,
        Component::Backend
    );
    let text = screen(terminal.backend());
    assert!(text.contains("> backend"), "{text}");
    assert!(text.contains("CrashLoopBackOff (terminal)"));
}

#[tokio::test]
async fn run_loop_stops_on_terminal_failure_when_asked() {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut s = state("installing");
    s.finish_when_done = true;
    let (tx, mut rx) = mpsc::channel(8);
    tx.send(Msg::Status(Box::new(status("missing-secret-key"))))
        .await
        .unwrap();
    let end = run(
        &mut terminal,
        &mut s,
        &mut rx,
        futures::stream::pending(),
        || NOW,
        |_| {},
    )
    .await
    .unwrap();
    let Some(Action::Failed(f)) = end else {
        panic!("{end:?}")
    };
    assert_eq!(f.reason, crate::status::Reason::CreateContainerConfigError);
    drop(tx);
}

#[tokio::test]
async fn run_loop_ends_when_all_inputs_close() {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut s = state("ready");
    let (tx, mut rx) = mpsc::channel::<Msg>(1);
    drop(tx);
    let end = run(
        &mut terminal,
        &mut s,
        &mut rx,
        keys(&[KeyCode::Down]),
        || NOW,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(end, None);
    assert_eq!(s.selected, 1);
}

/// Whether any cell of the screen holds a control character (an escape sequence would
/// reach the real terminal through it).
fn has_control(backend: &TestBackend) -> bool {
    let buf = backend.buffer();
    (0..buf.area.height).any(|y| {
        (0..buf.area.width).any(|x| {
            buf[(x, y)]
                .symbol()
                .chars()
                .any(|c| c.is_control() || ('\u{80}'..='\u{9f}').contains(&c))
        })
    })
}

#[test]
fn escape_sequences_in_logs_and_events_never_reach_the_terminal() {
    let mut s = state("upgrade-running");
    select(&mut s, Component::Upgrade);
    update(&mut s, key(KeyCode::Enter));
    update(
        &mut s,
        Msg::Logs {
            pod: "acme-odoo-upgrade-20260504100300-k2p8w".into(),
            lines: vec![
                "\u{1b}[2J\u{1b}]0;owned\u{7}INFO\tmodule sale loaded\u{1b}[31m red\u{9b}H".into(),
            ],
        },
    );
    let mut t = Terminal::new(TestBackend::new(100, 20)).unwrap();
    t.draw(|f| draw(f, &s)).unwrap();
    let text = screen(t.backend());
    assert!(!has_control(t.backend()), "{text}");
    assert!(
        text.contains("INFO    module sale loaded red\\x9bH"),
        "{text}"
    );

    // An Event message with an escape sequence, as a cluster would deliver it.
    let mut event: k8s_openapi::api::core::v1::Event =
        fixture("image-pull-backoff").events[0].clone();
    event.message = Some("Back-off \u{1b}]52;c;ZWNobyBwd25lZA==\u{7}pulling\u{1b}[1A".into());
    event.reason = Some("BackOff\u{1b}[5m".into());
    let mut s = state("image-pull-backoff");
    update(&mut s, Msg::Events(event_lines(&[event.clone()])));
    update(&mut s, key(KeyCode::Char('e')));
    let mut t = Terminal::new(TestBackend::new(120, 16)).unwrap();
    t.draw(|f| draw(f, &s)).unwrap();
    let text = screen(t.backend());
    assert!(!has_control(t.backend()), "{text}");
    assert!(text.contains("Back-off pulling"), "{text}");
    // Also when an events row arrives unsanitised.
    let mut raw = event_lines(&[event])[0].clone();
    raw.message = "raw \u{1b}[2Jmessage\u{7}".into();
    let mut s2 = s.clone();
    update(&mut s2, Msg::Events(vec![raw]));
    let mut t = Terminal::new(TestBackend::new(120, 16)).unwrap();
    t.draw(|f| draw(f, &s2)).unwrap();
    assert!(!has_control(t.backend()), "{}", screen(t.backend()));
}

#[test]
fn the_reason_pane_names_the_cause() {
    let mut s = state("crash-loop");
    select(&mut s, Component::Backend);
    let text = render(&s, 120, 36);
    assert!(
        text.contains(
            "cause:  PostgreSQL refused the password of user \"odoo\" (retrying cannot fix it)"
        ),
        "{text}"
    );
}

#[test]
fn the_selection_follows_the_work_and_shows_the_running_jobs_log_until_taken_over() {
    let mut s = AppState::new(Header::default(), NOW - 60);
    s.follow = true;
    let mut st = status("installing");
    // The databases are ready: the init Job is where the work is.
    for c in st.components.iter_mut() {
        if matches!(c.component, Component::Minio | Component::MinioProvisioning) {
            c.phase = crate::status::Phase::Ready;
        }
    }
    let init = st
        .components
        .iter()
        .position(|c| c.component == Component::Init)
        .unwrap();
    assert_eq!(st.active(), Some(init));
    let job = st.components[init]
        .object
        .clone()
        .unwrap()
        .trim_start_matches("Job/")
        .to_string();
    assert_eq!(
        update(&mut s, Msg::Status(Box::new(st.clone()))),
        Some(Action::FollowLogs(LogTarget::Job(job.clone())))
    );
    assert_eq!(s.selected, init);
    update(
        &mut s,
        Msg::Logs {
            pod: format!("{job}-x2k9p"),
            lines: vec!["odoo.modules.loading: loading 1 modules...".into()],
        },
    );
    let text = render(&s, 120, 32);
    assert!(
        text.contains("init · job/acme-odoo-init · following"),
        "{text}"
    );
    assert!(
        text.contains("odoo.modules.loading: loading 1 modules..."),
        "{text}"
    );
    assert!(text.contains("following the work"), "{text}");
    // The same status again changes nothing.
    assert_eq!(update(&mut s, Msg::Status(Box::new(st.clone()))), None);
    // The user moves: the selection is theirs from now on.
    assert_eq!(update(&mut s, key(KeyCode::Up)), Some(Action::StopLogs));
    assert_eq!(s.selected, init - 1);
    let mut later = st;
    later.components[init].phase = crate::status::Phase::Succeeded;
    assert_eq!(update(&mut s, Msg::Status(Box::new(later))), None);
    assert_eq!(s.selected, init - 1);
    assert!(!render(&s, 120, 32).contains("following"));
}
