//! The reporter for non-terminals (CI, pipes, `--plain`): one line per change between two
//! statuses, as text or as JSON lines (`-o json`). Pure: the caller prints the lines.

use serde_json::json;

use crate::status::{ComponentStatus, Failure, InstanceStatus, Overall};
use crate::text::safe_line;

/// What makes a component line worth printing again: its state, and its reason with
/// what is known about it (a log tail read after the failure, the cause read from it).
fn key(c: &ComponentStatus) -> impl PartialEq + use<'_> {
    let reason = c.failure.as_ref().map(|f| {
        (
            f.reason,
            f.terminal,
            f.object.as_str(),
            f.restarts,
            f.attempt,
            f.cause.as_ref().map(|c| c.kind),
            f.log_lines.is_empty(),
        )
    });
    (c.phase, c.ready, c.desired, reason)
}

/// The components of `next` that are new or changed since `prev`.
fn changed<'a>(
    prev: Option<&InstanceStatus>,
    next: &'a InstanceStatus,
) -> Vec<&'a ComponentStatus> {
    next.components
        .iter()
        .filter(|c| {
            let before = prev.and_then(|p| p.component(c.component));
            before.is_none_or(|b| key(b) != key(c))
        })
        .collect()
}

/// The notes of `next` that `prev` did not have (a list newly forbidden).
fn new_notes<'a>(
    prev: Option<&InstanceStatus>,
    next: &'a InstanceStatus,
) -> impl Iterator<Item = &'a String> {
    let before: Vec<String> = prev.map(|p| p.notes.clone()).unwrap_or_default();
    next.notes.iter().filter(move |n| !before.contains(n))
}

fn overall_changed(prev: Option<&InstanceStatus>, next: &InstanceStatus) -> bool {
    prev.is_none_or(|p| p.overall.label() != next.overall.label())
}

/// One text line for a component: component, state, ready/desired, reason.
pub fn component_line(c: &ComponentStatus) -> String {
    let base = format!(
        "{:<18} {:<11} {}/{}",
        c.component.label(),
        c.phase,
        c.ready,
        c.desired
    );
    match &c.failure {
        Some(f) => {
            let sev = if f.terminal { "" } else { " (transient)" };
            // A failed run says how it ended (attempt, exit code or OOM, restarts).
            let how = if f.is_failed_run() {
                format!("{}; ", f.detail)
            } else {
                String::new()
            };
            let line = match &f.cause {
                Some(cause) => format!(
                    "{base}  {}{sev}: {how}{} — {}",
                    f.reason, cause.summary, f.next_step
                ),
                None => format!("{base}  {}{sev}: {how}{}", f.reason, f.next_step),
            };
            safe_line(&line)
        }
        None => base,
    }
}

/// The log tail of a failed container run, indented under its component line.
fn tail_lines(c: &ComponentStatus) -> Vec<String> {
    match &c.failure {
        Some(f) if f.is_failed_run() => f
            .log_lines
            .iter()
            .map(|l| safe_line(&format!("    | {l}")))
            .collect(),
        _ => Vec::new(),
    }
}

/// The text lines to print for the change from `prev` (None at the start) to `next`: a
/// line per changed component (with the log tail of a failed run under it), then the
/// instance's state when it changed.
pub fn changes(prev: Option<&InstanceStatus>, next: &InstanceStatus) -> Vec<String> {
    let mut lines: Vec<String> = changed(prev, next)
        .into_iter()
        .flat_map(|c| std::iter::once(component_line(c)).chain(tail_lines(c)))
        .collect();
    lines.extend(new_notes(prev, next).map(|n| format!("note: {n}")));
    if overall_changed(prev, next) {
        lines.push(format!(
            "instance {}: {}",
            next.instance,
            next.overall.label()
        ));
    }
    lines
}

fn component_json(c: &ComponentStatus) -> serde_json::Value {
    let mut v = json!({
        "component": c.component,
        "kind": c.kind,
        "phase": c.phase,
        "ready": c.ready,
        "desired": c.desired,
    });
    if let Some(f) = &c.failure {
        v["reason"] = json!(f.reason);
        v["terminal"] = json!(f.terminal);
        v["object"] = json!(f.object);
        v["detail"] = json!(safe_line(&f.detail));
        v["next_step"] = json!(f.next_step);
        if let Some(code) = f.exit_code {
            v["exit_code"] = json!(code);
        }
        if let Some(n) = f.restarts {
            v["restarts"] = json!(n);
        }
        if let Some(a) = f.attempt {
            v["attempt"] = json!(a);
        }
        if let Some(cause) = &f.cause {
            v["cause"] = json!(cause);
        }
        if !f.log_lines.is_empty() {
            v["log_tail"] = json!(crate::text::safe_lines(&f.log_lines));
        }
    }
    v
}

/// The JSON lines (`-o json`) for the change from `prev` to `next`.
pub fn json_changes(prev: Option<&InstanceStatus>, next: &InstanceStatus) -> Vec<String> {
    let mut values: Vec<serde_json::Value> = changed(prev, next)
        .into_iter()
        .map(component_json)
        .collect();
    values.extend(new_notes(prev, next).map(|n| json!({ "note": n })));
    if overall_changed(prev, next) {
        let mut v =
            json!({ "instance": next.instance, "state": next.overall.label().to_lowercase() });
        if let Overall::Failed { failure } = &next.overall {
            v["failure"] = json!(failure);
        }
        values.push(v);
    }
    values.iter().map(|v| v.to_string()).collect()
}

/// The lines printed when `new`/`upgrade` stop on a terminal failure: reason, object,
/// detail, next step and the last log lines.
pub fn failure_report(f: &Failure) -> Vec<String> {
    let mut lines = vec![
        format!("{} failed: {}", f.component, f.reason),
        format!("  object:    {}", f.object),
    ];
    if let Some(image) = &f.image {
        lines.push(format!("  image:     {image}"));
    }
    if let Some(cause) = &f.cause {
        let retry = if cause.retryable {
            ""
        } else {
            " (retrying cannot fix it)"
        };
        lines.push(format!("  cause:     {}{retry}", cause.summary));
    }
    lines.push(format!("  detail:    {}", f.detail));
    lines.push(format!("  next step: {}", f.next_step));
    if !f.log_lines.is_empty() {
        lines.push("  last log lines:".into());
        lines.extend(f.log_lines.iter().map(|l| format!("    {l}")));
    }
    // Everything here may come from a log or a cluster message: never let it act on the
    // terminal.
    lines.into_iter().map(|l| safe_line(&l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::tests::fixture;
    use crate::status::{Component, instance_status};

    fn status(name: &str) -> InstanceStatus {
        instance_status(&fixture(name))
    }

    #[test]
    fn first_report_lists_every_component_and_the_state() {
        let s = status("image-pull-backoff");
        let lines = changes(None, &s);
        assert_eq!(lines.len(), s.components.len() + 1);
        assert_eq!(lines[0], "postgresql         Ready       1/1");
        assert!(lines.contains(
            &"backend            Failed      0/1  ImagePullBackOff: image odoo:18.O not found — fix backend.image.tag".to_string()
        ));
        assert_eq!(lines.last().unwrap(), "instance acme: FAILED");
    }

    #[test]
    fn unchanged_status_prints_nothing() {
        let s = status("installing");
        assert!(changes(Some(&s), &s).is_empty());
        assert!(json_changes(Some(&s), &s).is_empty());
    }

    #[test]
    fn only_changed_components_are_printed() {
        let before = status("installing");
        let mut after = before.clone();
        let minio = after
            .components
            .iter_mut()
            .find(|c| c.component == Component::Minio)
            .unwrap();
        minio.ready = 1;
        minio.phase = crate::status::Phase::Ready;
        minio.progress = 1.0;
        // Progress and ages alone are no change worth a line.
        after.components[0].progress = 0.3;
        assert_eq!(
            changes(Some(&before), &after),
            vec!["minio              Ready       1/1"]
        );
    }

    #[test]
    fn transient_reasons_are_marked() {
        let lines = changes(None, &status("unschedulable"));
        let backend = lines.iter().find(|l| l.starts_with("backend")).unwrap();
        assert!(backend.starts_with("backend            Progressing 1/2  Unschedulable (transient): no node can run the pod"), "{backend}");
    }

    #[test]
    fn json_lines_parse_and_carry_the_reason() {
        let lines = json_changes(None, &status("crash-loop"));
        let values: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let backend = values.iter().find(|v| v["component"] == "backend").unwrap();
        assert_eq!(backend["reason"], "CrashLoopBackOff");
        assert_eq!(backend["terminal"], true);
        assert_eq!(backend["ready"], 0);
        let last = values.last().unwrap();
        assert_eq!(last["state"], "failed");
        assert_eq!(last["failure"]["exit_code"], 1);
        assert!(lines.iter().all(|l| !l.contains('\n')));
    }

    #[test]
    fn failure_report_has_next_step_and_logs() {
        let s = status("job-backoff-limit");
        let f = crate::status::first_terminal_failure(&s).unwrap();
        let lines = failure_report(f);
        assert_eq!(lines[0], "upgrade failed: BackoffLimitExceeded");
        assert_eq!(
            lines[1],
            "  object:    Job/acme-odoo-upgrade-20260504100300"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("  next step: the upgrade failed"))
        );
        assert!(lines.last().unwrap().contains("NotNullViolation"));
    }
}

#[cfg(test)]
mod safety_tests {
    use super::*;
    use crate::status::tests::fixture;
    use crate::status::{Component, instance_status};

    #[test]
    fn escape_sequences_in_logs_and_events_never_reach_plain_or_json_output() {
        let mut snap = fixture("crash-loop");
        let pod = snap.logs.keys().next().unwrap().clone();
        snap.logs.get_mut(&pod).unwrap().push(
            "\u{1b}]0;owned\u{7}psycopg2.OperationalError: FATAL:  password authentication failed for user \"odoo\"\u{1b}[2J".into(),
        );
        for e in &mut snap.events {
            e.message = Some(format!(
                "{}\u{1b}[1A\u{9b}2J",
                e.message.clone().unwrap_or_default()
            ));
        }
        let status = instance_status(&snap);
        let backend = status.component(Component::Backend).unwrap();
        let f = backend.failure.as_ref().unwrap();
        let mut out = failure_report(f);
        out.extend(changes(None, &status));
        out.extend(json_changes(None, &status));
        for line in &out {
            assert!(
                !line
                    .chars()
                    .any(|c| c.is_control() || ('\u{80}'..='\u{9f}').contains(&c)),
                "{line:?}"
            );
        }
        assert!(
            out.iter()
                .any(|l| l.contains("password authentication failed"))
        );
        assert!(
            out.iter()
                .any(|l| l.contains("cause:     PostgreSQL refused the password of user \"odoo\""))
        );
    }

    #[test]
    fn json_lines_carry_the_cause() {
        let lines = json_changes(None, &instance_status(&fixture("crash-loop")));
        let backend: serde_json::Value = lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["component"] == "backend")
            .unwrap();
        assert_eq!(backend["cause"]["kind"], "password-authentication-failed");
        assert_eq!(backend["cause"]["retryable"], false);
        assert_eq!(backend["cause"]["facts"]["user"], "odoo");
    }
}
