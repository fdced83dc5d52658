//! The progress reporter of `new`, `upgrade` and `backup`: one line per step, wave,
//! changed object, status change and log line on stderr, as text or as JSON lines
//! (`-o json`). stdout stays for the result.

use std::io::Write;

use serde_json::{Value as Json, json};

use crate::cluster::apply::{Change, Progress};
use crate::plain;
use crate::plan::upgrade::module_progress;
use crate::status::InstanceStatus;

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
        if self.quiet {
            return;
        }
        let line = if self.json {
            json().to_string()
        } else {
            plain()
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    /// A step of the operation.
    pub fn step(&self, s: &str) {
        self.emit(|| s.to_string(), || json!({ "step": s }));
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
                let mut err = std::io::stderr().lock();
                for l in lines {
                    let _ = writeln!(err, "{l}");
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
