//! The event loop: messages and keys in, `update`, `draw`. Generic over the ratatui
//! backend so tests drive it with `TestBackend`.

use std::io;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use super::state::{Action, AppState, Msg, update};
use super::view::draw;

/// The redraw period when nothing changes (the elapsed time and ages move on).
pub const TICK: Duration = Duration::from_secs(1);

/// A terminal event as a message (key presses and resizes; the rest is ignored).
pub fn terminal_msg(ev: TermEvent) -> Option<Msg> {
    match ev {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        TermEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

/// Whether the action ends the loop.
fn ends(action: &Action) -> bool {
    matches!(action, Action::Quit | Action::Ready | Action::Failed(_))
}

/// Run the dashboard until an action ends it ([`Action::Quit`], or [`Action::Ready`]/
/// [`Action::Failed`] with `finish_when_done`); that action is returned. Returns `None`
/// when both the message channel and the key stream are closed.
///
/// `msgs` carries what the watchers see, `keys` the terminal's events (crossterm's
/// `EventStream` in the binary), `clock` the current unix time for ticks (every [`TICK`]).
/// Every other action (`FollowLogs`, `StopLogs`, `ShowEvents`) is handed to `on_action`.
/// The screen is redrawn after every message and tick.
pub async fn run<B, K, C, F>(
    terminal: &mut Terminal<B>,
    state: &mut AppState,
    msgs: &mut mpsc::Receiver<Msg>,
    mut keys: K,
    clock: C,
    mut on_action: F,
) -> Result<Option<Action>, B::Error>
where
    B: Backend,
    K: Stream<Item = io::Result<TermEvent>> + Unpin,
    C: Fn() -> i64,
    F: FnMut(&Action),
{
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut msgs_open, mut keys_open) = (true, true);
    terminal.draw(|f| draw(f, state))?;
    loop {
        // The producer of a finishing view (`new`, `upgrade`) is gone: nothing more will
        // come; or the operation a view shows has ended (`restore`, `clone`).
        if !msgs_open && (!keys_open || state.finish_when_done || state.close_with_producer) {
            return Ok(None);
        }
        let msg = tokio::select! {
            biased;
            m = msgs.recv(), if msgs_open => match m {
                Some(m) => Some(m),
                None => { msgs_open = false; None }
            },
            k = keys.next(), if keys_open => match k {
                Some(Ok(ev)) => terminal_msg(ev),
                Some(Err(_)) | None => { keys_open = false; None }
            },
            _ = ticks.tick() => Some(Msg::Tick(clock())),
        };
        let Some(msg) = msg else { continue };
        let action = update(state, msg);
        terminal.draw(|f| draw(f, state))?;
        match action {
            Some(a) if ends(&a) => return Ok(Some(a)),
            Some(a) => on_action(&a),
            None => {}
        }
    }
}

/// The current unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Run the dashboard on the real terminal: raw mode and the alternate screen on entry,
/// restored on exit and on panic (`ratatui::try_init` installs a panic hook that restores
/// the terminal before the panic message is printed).
pub async fn run_terminal<F>(
    state: &mut AppState,
    msgs: &mut mpsc::Receiver<Msg>,
    on_action: F,
) -> io::Result<Option<Action>>
where
    F: FnMut(&Action),
{
    let mut terminal = ratatui::try_init()?;
    let keys = crossterm::event::EventStream::new();
    let result = run(&mut terminal, state, msgs, keys, unix_now, on_action).await;
    ratatui::restore();
    result
}
