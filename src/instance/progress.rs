//! The progress reporter of `new`, `upgrade` and `backup`: one line per step, wave,
//! changed object, status change and log line on stderr, as text or as JSON lines
//! (`-o json`). stdout stays for the result.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value as Json, json};

use crate::cluster::apply::{Change, Progress};
use crate::plain;
use crate::plan::upgrade::module_progress;
use crate::status::InstanceStatus;

/// Where lines go while a full-screen view owns the terminal: (is a step, line).
static CAPTURE: Mutex<Option<tokio::sync::mpsc::UnboundedSender<(bool, String)>>> =
    Mutex::new(None);

/// While a full-screen view is on (see [`capture`]): every line a reporter prints goes to
/// the view's channel instead of stderr, until the guard is dropped.
pub struct Capture(());

/// Send every reporter's lines to `tx` (steps flagged `true`) until the guard is dropped.
pub fn capture(tx: tokio::sync::mpsc::UnboundedSender<(bool, String)>) -> Capture {
    *CAPTURE.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    Capture(())
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURE.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Print a line on stderr, or hand it to the view that captures lines.
fn print(step: bool, line: String) {
    if let Some(tx) = CAPTURE.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        let _ = tx.send((step, line));
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints progress to stderr, as text or JSON lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reporter {
    json: bool,
    quiet: bool,
}

impl Reporter {
    /// A reporter printing JSON lines when `json`, text otherwise.
    pub fn new(json: bool) -> Reporter {
        Reporter { json, quiet: false }
    }

    /// A reporter printing nothing (for a Job whose log is data, not progress).
    pub fn quiet() -> Reporter {
        Reporter {
            json: false,
            quiet: true,
        }
    }

    /// Whether lines are JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// One line: `plain()` as text, or `json()` as a JSON line.
    pub fn emit(&self, plain: impl FnOnce() -> String, json: impl FnOnce() -> Json) {
        self.line(false, plain, json);
    }

    fn line(&self, step: bool, plain: impl FnOnce() -> String, json: impl FnOnce() -> Json) {
        if self.quiet {
            return;
        }
        let line = if self.json {
            json().to_string()
        } else {
            plain()
        };
        print(step, line);
    }

    /// The operation's result: [`Reporter::emit`], kept with the steps by a view that
    /// captures lines (printed once it closes).
    pub fn outcome(&self, plain: impl FnOnce() -> String, json: impl FnOnce() -> Json) {
        self.line(true, plain, json);
    }

    /// A step of the operation.
    pub fn step(&self, s: &str) {
        self.line(true, || s.to_string(), || json!({ "step": s }));
    }

    /// A log line of a Job's container (and the module it loads, when it says).
    pub fn log(&self, component: &str, line: &str) {
        self.emit(
            || format!("  {component} | {line}"),
            || json!({ "component": component, "log": line }),
        );
        if let Some(m) = module_progress(line) {
            self.emit(
                || format!("  {component}: loading module {m}"),
                || json!({ "component": component, "module": m }),
            );
        }
    }

    /// What the apply engine reports. Objects are listed when they changed (every one in
    /// JSON); `last` is the status printed before, so that only changes are printed.
    pub fn progress(&self, p: &Progress, last: &mut Option<InstanceStatus>) {
        match p {
            Progress::Status(st) => {
                let lines = if self.json {
                    plain::json_changes(last.as_ref(), st)
                } else {
                    plain::changes(last.as_ref(), st)
                };
                for l in lines {
                    print(false, l);
                }
                *last = Some((**st).clone());
            }
            Progress::Step(s) => self.step(s),
            Progress::Wave { index, total, name } => self.emit(
                || format!("[{index}/{total}] {name}"),
                || json!({"wave": index, "of": total, "name": name}),
            ),
            Progress::Object { change, .. } if *change == Change::Unchanged && !self.json => {}
            Progress::Object { key, change } => self.emit(
                || format!("  {key} {}", change.label()),
                || json!({"object": key, "change": change.label()}),
            ),
            Progress::Done { revision } => self.emit(
                || format!("instance record written (revision {revision})"),
                || json!({"done": true, "revision": revision}),
            ),
        }
    }
}
