//! The live dashboard (docs/ARCHITECTURE.md, "Status and fail-fast"), Elm-style: [`AppState`] is changed only by [`update`] with a
//! [`Msg`], and [`draw`] renders it. Both are pure (the time comes in [`Msg::Tick`]).
//! [`run`] is the event loop, generic over the ratatui backend; [`run_terminal`] sets up and
//! restores the real terminal.

mod run;
mod state;
#[cfg(test)]
mod tests;
mod view;

pub use run::{TICK, run, run_terminal, terminal_msg, unix_now};
pub use state::{Action, AppState, Header, LOG_CAPACITY, LogTarget, LogView, Msg, View, update};
pub use view::{MIN_HEIGHT, MIN_WIDTH, draw, duration};
