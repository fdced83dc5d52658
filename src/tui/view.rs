//! Drawing the dashboard: `draw(frame, state)`, pure apart from writing into the frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::state::{AppState, View};
use crate::status::{
    ComponentStatus, Failure, HistoryEntry, HistoryResult, InstanceStatus, Overall, Phase, PodInfo,
};
use crate::text::safe_line;

/// The smallest terminal the full view fits in.
pub const MIN_WIDTH: u16 = 60;
/// The smallest terminal height the full view fits in.
pub const MIN_HEIGHT: u16 = 15;

/// Draw the whole screen for `state`.
pub fn draw(frame: &mut Frame, state: &AppState) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, state);
    match state.view {
        View::Dashboard => draw_dashboard(frame, body, state),
        View::Logs => draw_logs(frame, body, state),
        View::Events => draw_events(frame, body, state),
    }
    draw_footer(frame, footer, state);
}

/// Colours that switch off with `NO_COLOR`.
struct Palette {
    no_color: bool,
}

impl Palette {
    fn fg(&self, c: Color) -> Style {
        if self.no_color {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    fn phase(&self, p: Phase) -> Style {
        self.fg(match p {
            Phase::Ready | Phase::Succeeded => Color::Green,
            Phase::Failed => Color::Red,
            Phase::Failing => Color::LightRed,
            Phase::Progressing | Phase::Pending => Color::Yellow,
            Phase::Absent | Phase::ScaledDown => Color::DarkGray,
        })
    }

    fn overall(&self, o: &Overall) -> Style {
        let s = self.fg(match o {
            Overall::Ready => Color::Green,
            Overall::Progressing => Color::Yellow,
            Overall::Failed { .. } => Color::Red,
        });
        s.add_modifier(Modifier::BOLD)
    }

    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }
}

fn palette(state: &AppState) -> Palette {
    Palette {
        no_color: state.no_color,
    }
}

fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("Terminal too small"),
        Line::from(format!(
            "{}x{}, need {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("Enlarge it, or use --plain. q quits."),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

/// `45s`, `3m05s`, `2h05m`, `3d04h`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

/// A short age: `45s`, `3m`, `2h`, `3d`.
fn age(secs: Option<i64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m", s / 60),
        Some(s) if s < 86400 => format!("{}h", s / 3600),
        Some(s) => format!("{}d", s / 86400),
    }
}

fn image(state: &AppState) -> String {
    let from_status = state.status.as_ref().and_then(|s| {
        let backend = s.component(crate::status::Component::Backend)?;
        backend.image.clone()
    });
    from_status
        .or_else(|| state.header.image.clone())
        .unwrap_or_else(|| "-".into())
}

fn draw_header(frame: &mut Frame, area: Rect, state: &AppState) {
    let p = palette(state);
    let h = &state.header;
    let rev = h.revision.map_or("-".to_string(), |r| r.to_string());
    let first = Line::from(vec![
        Span::styled(
            format!("odoo-tui · {}", h.instance),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("  {}/{}", h.context, h.namespace)),
        Span::raw(format!("  image {}", image(state))),
        Span::raw(format!("  rev {rev}")),
    ]);
    let (label, style) = match &state.status {
        Some(s) => (s.overall.label(), p.overall(&s.overall)),
        None => ("CONNECTING", p.dim()),
    };
    let mut second = vec![
        Span::raw("State: "),
        Span::styled(label, style),
        Span::raw(format!(
            "  elapsed {}",
            duration(state.now - state.started_at)
        )),
    ];
    if let Some(op) = &state.operation {
        second.push(Span::raw(format!("  {op}")));
    }
    frame.render_widget(Paragraph::new(vec![first, Line::from(second)]), area);
}

fn draw_footer(frame: &mut Frame, area: Rect, state: &AppState) {
    let keys = match state.view {
        View::Dashboard if state.follow => {
            "following the work — ↑/↓ j/k take over  Enter/l logs  e events  q quit"
        }
        View::Dashboard => "↑/↓ j/k select  Tab pod  Enter/l logs  e events  q quit",
        View::Logs => "↑/↓ scroll  PgUp/PgDn  End/f follow  e events  Esc back  q quit",
        View::Events => "↑/↓ scroll  Enter/l logs  Esc back  q quit",
    };
    let text = match &state.notice {
        Some(n) => format!("{n} · {keys}"),
        None => keys.to_string(),
    };
    frame.render_widget(Paragraph::new(text).style(palette(state).dim()), area);
}

fn draw_dashboard(frame: &mut Frame, area: Rect, state: &AppState) {
    let rows = state.components().len() as u16;
    let table_h = (rows + 3).min(area.height.saturating_sub(6)).max(4);
    let [table, rest] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Fill(1)]).areas(area);
    draw_components(frame, table, state);
    if rest.width >= 150 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(rest);
        let history_h = history_height(state, left.height);
        let [pods, history] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(history_h)]).areas(left);
        draw_pods(frame, pods, state);
        draw_history(frame, history, state);
        draw_reason(frame, right, state);
    } else {
        let pods_h = if rest.height >= 14 {
            rest.height / 3
        } else {
            0
        };
        let history_h = history_height(state, rest.height.saturating_sub(pods_h + 8));
        let [reason, pods, history] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(pods_h),
            Constraint::Length(history_h),
        ])
        .areas(rest);
        draw_reason(frame, reason, state);
        draw_pods(frame, pods, state);
        draw_history(frame, history, state);
    }
}

/// Rows for the history panel: its entries plus borders, if there is room.
fn history_height(state: &AppState, room: u16) -> u16 {
    if state.history.is_empty() || room < 8 {
        return 0;
    }
    (state.history.len() as u16 + 2).min(room / 2).min(7)
}

fn bar(progress: f64, width: usize) -> String {
    let p = progress.clamp(0.0, 1.0);
    let filled = (p * width as f64).round() as usize;
    let pct = (p * 100.0).floor() as u32;
    format!(
        "{}{} {pct:>3}%",
        "█".repeat(filled),
        "░".repeat(width - filled)
    )
}

fn reason_cell(c: &ComponentStatus) -> String {
    match &c.failure {
        Some(f) if f.terminal => format!("{} (terminal)", f.reason),
        Some(f) => match f.attempt {
            Some(a) => format!("{}, attempt {} of {} failed", f.reason, a.number, a.of),
            None => f.reason.to_string(),
        },
        None => String::new(),
    }
}

fn draw_components(frame: &mut Frame, area: Rect, state: &AppState) {
    let p = palette(state);
    let bar_w = if area.width < 90 { 6 } else { 12 };
    let rows = state.components().iter().map(|c| {
        Row::new(vec![
            Cell::from(c.component.label()),
            Cell::from(match c.phase {
                Phase::Absent => "-".to_string(),
                _ => format!("{}/{}", c.ready, c.desired),
            }),
            Cell::from(bar(c.progress, bar_w)),
            Cell::from(Span::styled(c.phase.to_string(), p.phase(c.phase))),
            Cell::from(reason_cell(c)),
        ])
    });
    let widths = [
        Constraint::Length(18),
        Constraint::Length(5),
        Constraint::Length(bar_w as u16 + 5),
        Constraint::Length(11),
        Constraint::Fill(1),
    ];
    let header = Row::new(["COMPONENT", "READY", "PROGRESS", "STATE", "REASON"]).style(p.dim());
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::ALL).title(" Components "))
        .row_highlight_style(p.selected())
        .highlight_symbol("> ");
    let mut ts = TableState::default().with_selected(state.status.as_ref().map(|_| state.selected));
    frame.render_stateful_widget(table, area, &mut ts);
    if state.status.is_none() {
        let inner = area.inner(ratatui::layout::Margin::new(2, 2));
        frame.render_widget(Paragraph::new("waiting for the first status…"), inner);
    }
}

fn pod_row(pod: &PodInfo, wide: bool) -> Row<'static> {
    let mut cells = vec![
        pod.name.clone(),
        pod.phase.clone(),
        if pod.ready { "yes" } else { "no" }.to_string(),
        pod.restarts.to_string(),
        age(pod.age_seconds),
    ];
    if wide {
        cells.push(pod.node.clone().unwrap_or_else(|| "-".into()));
    }
    cells.push(pod.reason.clone().unwrap_or_default());
    Row::new(cells)
}

fn draw_pods(frame: &mut Frame, area: Rect, state: &AppState) {
    if area.height < 3 {
        return;
    }
    let p = palette(state);
    let c = state.selected_component();
    let title = format!(" Pods of {} ", c.map_or("-", |c| c.component.label()));
    let pods: &[PodInfo] = c.map_or(&[], |c| &c.pods);
    let wide = area.width >= 90;
    let fixed: u16 = 9 + 5 + 8 + 4 + if wide { 10 } else { 0 } + 7 + 8;
    let longest = pods.iter().map(|p| p.name.len()).max().unwrap_or(4) as u16;
    let name_w = longest.clamp(4, area.width.saturating_sub(fixed).max(4));
    let mut widths = vec![
        Constraint::Length(name_w),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(4),
    ];
    let mut header = vec!["NAME", "PHASE", "READY", "RESTARTS", "AGE"];
    if wide {
        widths.push(Constraint::Length(10));
        header.push("NODE");
    }
    widths.push(Constraint::Fill(1));
    header.push("REASON");
    let table = Table::new(pods.iter().map(|pod| pod_row(pod, wide)), widths)
        .header(Row::new(header).style(p.dim()))
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(p.selected());
    let mut ts = TableState::default().with_selected(state.selected_pod.and(state.focused_pod()));
    frame.render_stateful_widget(table, area, &mut ts);
    if pods.is_empty() {
        let inner = area.inner(ratatui::layout::Margin::new(1, 1));
        frame.render_widget(Paragraph::new("no pods yet").style(p.dim()), inner);
    }
}

fn failure_lines(f: &Failure, p: &Palette) -> Vec<Line<'static>> {
    let severity = if f.terminal {
        "terminal — will not heal by waiting"
    } else {
        "transient — may resolve"
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                f.reason.to_string(),
                p.fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(" ({severity})")),
        ]),
        Line::from(vec![
            Span::styled("next:   ", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(f.next_step.clone()),
        ]),
        Line::from(format!("object: {}", f.object)),
    ];
    if let Some(image) = &f.image {
        lines.push(Line::from(format!("image:  {image}")));
    }
    if let Some(cause) = &f.cause {
        let retry = if cause.retryable {
            ""
        } else {
            " (retrying cannot fix it)"
        };
        lines.push(Line::from(vec![
            Span::styled("cause:  ", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{}{retry}", safe_line(&cause.summary))),
        ]));
    }
    lines.push(Line::from(format!("detail: {}", safe_line(&f.detail))));
    if !f.log_lines.is_empty() {
        lines.push(Line::from(Span::styled("last log lines:", p.dim())));
        lines.extend(
            f.log_lines
                .iter()
                .map(|l| Line::from(format!("  {}", safe_line(l)))),
        );
    }
    lines
}

fn no_failure_lines(c: &ComponentStatus, status: &InstanceStatus) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(format!(
        "{}: {} {}/{} — no problem seen",
        c.component, c.phase, c.ready, c.desired
    ))];
    if let Some(object) = &c.object {
        lines.push(Line::from(format!("object: {object}")));
    }
    let other = status
        .components
        .iter()
        .find_map(|o| o.failure.as_ref().map(|f| (o.component, f.reason)));
    if let Some((comp, reason)) = other {
        lines.push(Line::from(format!(
            "{comp} reports {reason}: select it with ↑/↓"
        )));
    }
    lines
}

fn draw_reason(frame: &mut Frame, area: Rect, state: &AppState) {
    if area.height < 3 {
        return;
    }
    let p = palette(state);
    let c = state.selected_component();
    // A Job the view follows shows its log as it comes, until it has a reason.
    if let (Some(c), Some(log)) = (c, super::state::pane_log(state))
        && c.failure.is_none()
    {
        draw_pane_log(frame, area, c, log, &p);
        return;
    }
    let lines = match (c, &state.status) {
        (Some(c), Some(s)) => match &c.failure {
            Some(f) => failure_lines(f, &p),
            None => no_failure_lines(c, s),
        },
        _ => vec![Line::from("waiting for the first status…")],
    };
    let mut lines = lines;
    for n in state.status.iter().flat_map(|s| &s.notes) {
        lines.push(Line::from(Span::styled(
            format!("note: {n}"),
            p.fg(Color::Yellow),
        )));
    }
    let title = format!(" Reason · {} ", c.map_or("-", |c| c.component.label()));
    let block = Block::default().borders(Borders::ALL).title(title);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The last lines of the followed Job's log that fit, in the reason pane.
fn draw_pane_log(
    frame: &mut Frame,
    area: Rect,
    c: &ComponentStatus,
    log: &super::state::LogView,
    p: &Palette,
) {
    let target = log.target.as_ref().map_or("-".to_string(), |t| t.label());
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} · {target} · following ", c.component.label()));
    let height = area.height.saturating_sub(2) as usize;
    let start = log.lines.len().saturating_sub(height);
    let lines: Vec<Line> = log.lines[start..]
        .iter()
        .map(|l| Line::from(safe_line(l)))
        .collect();
    let body = if lines.is_empty() {
        Paragraph::new(format!(
            "{}: {} — waiting for log lines…",
            c.component, c.phase
        ))
        .style(p.dim())
    } else {
        Paragraph::new(lines)
    };
    frame.render_widget(body.block(block), area);
}

/// `2026-05-04 10:05` (UTC).
fn timestamp(secs: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| secs.to_string())
}

fn history_row(h: &HistoryEntry) -> Line<'static> {
    let result = match h.result {
        HistoryResult::Succeeded => "ok",
        HistoryResult::Failed => "FAILED",
        HistoryResult::Running => "running",
    };
    let mut text = format!("{}  {:<7} {:<7}", timestamp(h.time), h.kind, result);
    if !h.modules.is_empty() {
        text.push_str(&format!(" modules {}", h.modules.join(",")));
    }
    if let Some(i) = &h.image {
        text.push_str(&format!(" {i}"));
    }
    if let Some(b) = &h.backup_location {
        text.push_str(&format!(" → {b}"));
    }
    Line::from(text)
}

fn draw_history(frame: &mut Frame, area: Rect, state: &AppState) {
    if area.height < 3 {
        return;
    }
    let rows = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = state
        .history
        .iter()
        .rev()
        .take(rows)
        .map(history_row)
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Last upgrades and backups ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_logs(frame: &mut Frame, area: Rect, state: &AppState) {
    let logs = &state.logs;
    let target = logs.target.as_ref().map_or("-".to_string(), |t| t.label());
    let mode = if logs.following() {
        "following"
    } else {
        "paused — End to follow"
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Logs · {target} · {mode} "));
    let height = area.height.saturating_sub(2) as usize;
    let end = logs.lines.len().saturating_sub(logs.back);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = logs.lines[start..end]
        .iter()
        .map(|l| Line::from(safe_line(l)))
        .collect();
    let body = if lines.is_empty() {
        Paragraph::new("waiting for log lines…").style(palette(state).dim())
    } else {
        Paragraph::new(lines)
    };
    frame.render_widget(body.block(block), area);
}

fn draw_events(frame: &mut Frame, area: Rect, state: &AppState) {
    let p = palette(state);
    let height = area.height.saturating_sub(3) as usize;
    let end = state.events.len().saturating_sub(state.events_back);
    let start = end.saturating_sub(height);
    let rows = state.events[start..end].iter().map(|e| {
        let type_style = if e.type_ == "Warning" {
            p.fg(Color::Yellow)
        } else {
            Style::default()
        };
        Row::new(vec![
            Cell::from(e.time.map_or("-".into(), |t| age(Some(state.now - t)))),
            Cell::from(Span::styled(e.type_.clone(), type_style)),
            Cell::from(safe_line(&e.reason)),
            Cell::from(safe_line(&e.object)),
            Cell::from(format!(
                "{}{}",
                safe_line(&e.message),
                if e.count > 1 {
                    format!(" (x{})", e.count)
                } else {
                    String::new()
                }
            )),
        ])
    });
    let object_w = state
        .events
        .iter()
        .map(|e| e.object.len())
        .max()
        .unwrap_or(6) as u16;
    let widths = [
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(18),
        Constraint::Length(object_w.clamp(6, area.width / 3)),
        Constraint::Fill(1),
    ];
    let forbidden = state
        .status
        .iter()
        .flat_map(|s| &s.notes)
        .find(|n| n.starts_with("listing events is forbidden"));
    let title = match forbidden {
        Some(_) => " Events (forbidden) ".to_string(),
        None => format!(" Events ({}) ", state.events.len()),
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    if let Some(n) = forbidden {
        let text = Line::from(Span::styled(n.clone(), p.fg(Color::Yellow)));
        let para = Paragraph::new(text).block(block).wrap(Wrap { trim: false });
        frame.render_widget(para, area);
        return;
    }
    let table = Table::new(rows, widths)
        .header(Row::new(["AGE", "TYPE", "REASON", "OBJECT", "MESSAGE"]).style(p.dim()))
        .block(block);
    frame.render_widget(table, area);
}
