//! Events: matching them to objects, picking the latest, and the rows of the events view.

use k8s_openapi::api::core::v1::Event;
use serde::{Deserialize, Serialize};

use crate::text::safe_line;

/// The time an event last happened (unix seconds), from the newest field a cluster set.
pub fn event_time(e: &Event) -> Option<i64> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
}

/// Whether the event is about the object `kind`/`name`.
pub fn is_about(e: &Event, kind: &str, name: &str) -> bool {
    e.involved_object.kind.as_deref() == Some(kind)
        && e.involved_object.name.as_deref() == Some(name)
}

/// The newest event about `kind`/`name` whose reason is one of `reasons`.
pub fn latest<'a>(
    events: &'a [Event],
    kind: &str,
    name: &str,
    reasons: &[&str],
) -> Option<&'a Event> {
    latest_where(events, kind, name, |e| {
        e.reason.as_deref().is_some_and(|r| reasons.contains(&r))
    })
}

/// One row of the events view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    /// When it last happened (unix seconds), if the cluster said.
    pub time: Option<i64>,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    /// `Kind/name` of the object the event is about.
    pub object: String,
    pub message: String,
    /// How many times it happened.
    pub count: i32,
}

impl From<&Event> for EventLine {
    fn from(e: &Event) -> Self {
        let o = &e.involved_object;
        EventLine {
            time: event_time(e),
            type_: safe_line(e.type_.as_deref().unwrap_or("Normal")),
            reason: safe_line(e.reason.as_deref().unwrap_or_default()),
            object: safe_line(&format!(
                "{}/{}",
                o.kind.as_deref().unwrap_or("?"),
                o.name.as_deref().unwrap_or("?")
            )),
            // Event messages are written by any controller or user: never let one act on
            // the terminal.
            message: safe_line(e.message.as_deref().unwrap_or_default().trim()),
            count: e.count.unwrap_or(1),
        }
    }
}

/// The events as view rows, oldest first.
pub fn event_lines(events: &[Event]) -> Vec<EventLine> {
    let mut lines: Vec<EventLine> = events.iter().map(EventLine::from).collect();
    lines.sort_by_key(|l| l.time.unwrap_or(i64::MIN));
    lines
}

/// The newest event about `kind`/`name` that satisfies `pred`.
pub fn latest_where<'a>(
    events: &'a [Event],
    kind: &str,
    name: &str,
    pred: impl Fn(&Event) -> bool,
) -> Option<&'a Event> {
    events
        .iter()
        .filter(|e| is_about(e, kind, name) && pred(e))
        .max_by_key(|e| event_time(e).unwrap_or(i64::MIN))
}
