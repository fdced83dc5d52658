//! The classifier's table against `tests/fixtures/causes.yaml`: every entry's lines are
//! in the real format of the program that writes them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    exit_code: Option<i32>,
    #[serde(default)]
    memory_limit: Option<String>,
    #[serde(default)]
    workers: Option<i64>,
    #[serde(default)]
    component: Option<Component>,
    #[serde(default)]
    bucket: Option<String>,
    log: Vec<String>,
    expect: Option<Expect>,
}

#[derive(Deserialize)]
struct Expect {
    kind: CauseKind,
    retryable: bool,
    /// Facts that must be as given (`null`: must be absent).
    #[serde(default)]
    facts: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    summary_has: Vec<String>,
    #[serde(default)]
    next_has: Vec<String>,
    #[serde(default)]
    evidence_has: Vec<String>,
    #[serde(default)]
    evidence_lacks: Vec<String>,
}

fn entries() -> Vec<Entry> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/causes.yaml");
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_saphyr::from_str(&text).expect("causes.yaml parses")
}

fn classify_entry(e: &Entry) -> Option<Cause> {
    classify(&Evidence {
        log: &e.log,
        reason: e.reason.as_deref(),
        exit_code: e.exit_code,
        memory_limit: e.memory_limit.as_deref(),
        workers: e.workers,
        component: e.component,
        bucket: e.bucket.as_deref(),
    })
}

#[test]
fn every_fixture_gives_its_cause() {
    let mut failures = Vec::new();
    for e in entries() {
        let got = classify_entry(&e);
        let Some(want) = &e.expect else {
            if let Some(c) = got {
                failures.push(format!("{}: expected no cause, got {:?}", e.name, c.kind));
            }
            continue;
        };
        let Some(c) = got else {
            failures.push(format!("{}: no cause, expected {:?}", e.name, want.kind));
            continue;
        };
        if c.kind != want.kind || c.retryable != want.retryable {
            failures.push(format!(
                "{}: got {:?} retryable={}, expected {:?} retryable={}",
                e.name, c.kind, c.retryable, want.kind, want.retryable
            ));
        }
        let facts = serde_json::to_value(&c.facts).unwrap();
        for (k, v) in &want.facts {
            let got = facts.get(k).cloned().unwrap_or(serde_json::Value::Null);
            if &got != v {
                failures.push(format!("{}: fact {k} is {got}, expected {v}", e.name));
            }
        }
        for (what, text, needles) in [
            ("summary", &c.summary, &want.summary_has),
            ("next step", &c.next_step, &want.next_has),
        ] {
            for n in needles {
                if !text.contains(n.as_str()) {
                    failures.push(format!("{}: {what} `{text}` lacks `{n}`", e.name));
                }
            }
        }
        let evidence = c.evidence.clone().unwrap_or_default();
        for n in &want.evidence_has {
            if !evidence.contains(n.as_str()) {
                failures.push(format!("{}: evidence `{evidence}` lacks `{n}`", e.name));
            }
        }
        for n in &want.evidence_lacks {
            if evidence.contains(n.as_str()) {
                failures.push(format!("{}: evidence `{evidence}` holds `{n}`", e.name));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_fixture() {
    let covered: Vec<CauseKind> = entries()
        .iter()
        .filter_map(|e| e.expect.as_ref().map(|x| x.kind))
        .collect();
    for rule in RULES {
        assert!(
            covered.contains(&rule.kind),
            "no fixture in tests/fixtures/causes.yaml for {:?}",
            rule.kind
        );
    }
}

#[test]
fn the_first_matching_rule_wins_over_a_later_line() {
    // A refused password is the cause even when a later line reports the connection failed.
    let log = vec![
        "psycopg2.OperationalError: connection to server at \"db\" (10.0.0.9), port 5432 failed: FATAL:  password authentication failed for user \"odoo\"".to_string(),
        "psycopg2.OperationalError: connection to server at \"db\" (10.0.0.9), port 5432 failed: Connection refused".to_string(),
    ];
    let c = classify(&Evidence {
        log: &log,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.kind, CauseKind::PasswordAuthenticationFailed);
    // The kubelet's OOMKilled outranks whatever the log says.
    let c = classify(&Evidence {
        log: &log,
        reason: Some("OOMKilled"),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.kind, CauseKind::OomKilled);
}

#[test]
fn evidence_is_terminal_safe() {
    let log = vec![
        "\u{1b}[31mFATAL:  password authentication failed for user \"odoo\"\u{1b}[0m\u{1b}]0;x\u{7}"
            .to_string(),
    ];
    let c = classify(&Evidence {
        log: &log,
        ..Default::default()
    })
    .unwrap();
    let ev = c.evidence.unwrap();
    assert!(!ev.contains('\u{1b}') && !ev.contains('\u{7}'), "{ev:?}");
    assert_eq!(c.facts.user.as_deref(), Some("odoo"));
}

#[test]
fn credentials_are_blanked_in_lines() {
    assert_eq!(
        blank_credentials("uri postgres://odoo:pw@db:5432/odoo and https://host/x"),
        "uri postgres://odoo:***@db:5432/odoo and https://host/x"
    );
    assert_eq!(
        blank_credentials("dsn host=db password=hunter2 user=odoo"),
        "dsn host=db password=*** user=odoo"
    );
    assert_eq!(
        blank_credentials("mc: <ERROR> Invalid secret key `abc/def`."),
        "mc: <ERROR> Invalid secret key `***`."
    );
    assert_eq!(blank_credentials("nothing here"), "nothing here");
}
