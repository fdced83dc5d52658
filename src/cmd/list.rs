//! `odoo-tui list [-A]`: every instance with its state, readiness, image, revision and
//! age — also one whose first install failed or is still running, which has no record
//! yet: instances are found by their records, by the ServiceAccounts and Services
//! odoo-tui created for them (read as metadata only) and by their locks.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value as Json;

use super::{Context, Error, print_structured};
use crate::cli::ListArgs;
use crate::cluster::kinds::Kind;
use crate::cluster::record::{HistoryEntry, HistoryKind, HistoryResult};
use crate::cluster::{Kube, MANAGED_SELECTOR};
use crate::instance;
use crate::plan::lock::Held;

/// One row of `list`.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    pub namespace: String,
    pub name: String,
    /// installing, updating, upgrading, backing up, deleting, ready, not ready, stopped,
    /// failed.
    pub state: String,
    pub ready: String,
    pub image: String,
    pub revision: u64,
    pub age: String,
    /// A clone made with `odoo neutralize` (no outgoing mail, crons, payments), as its
    /// history says; `status` says the same.
    pub neutralized: bool,
}

/// How long ago `created` (RFC 3339) was, at unix time `now`.
fn age(created: Option<&str>, now: i64) -> String {
    match created.and_then(crate::time::parse_rfc3339) {
        Some(t) => crate::time::age(now - t),
        None => "?".into(),
    }
}

/// What is known of one instance.
#[derive(Debug, Default)]
struct Found {
    /// The record (as the API returns it).
    record: Option<Json>,
    /// Its newest history entry, when the record has one.
    last: Option<HistoryEntry>,
    /// Its history says it is a neutralized clone.
    neutralized: bool,
    /// The lock, when one is there.
    lock: Option<Held>,
    /// The oldest creation time seen, for instances without a record.
    created: Option<String>,
}

/// The state of an instance from what was found, at unix time `now`. `backend` is the
/// backend Deployment's (desired, ready) replicas.
fn state(found: &Found, backend: Option<(i64, i64)>, now: i64) -> &'static str {
    if let Some(lock) = found
        .lock
        .as_ref()
        .filter(|l| !l.identity.is_empty() && !l.expired(now))
    {
        let verb = lock
            .command
            .as_deref()
            .and_then(|c| c.split_whitespace().next())
            .unwrap_or("");
        return match verb {
            "new" if found.record.is_none() => "installing",
            "new" => "updating",
            "upgrade" => "upgrading",
            "backup" => "backing up",
            "delete" => "deleting",
            "restore" => "restoring",
            _ => "busy",
        };
    }
    if found.record.is_none() {
        // Objects but no record, and nobody at work: the first install did not finish.
        return "failed";
    }
    if let Some(e) = &found.last
        && e.kind == HistoryKind::Upgrade
        && e.result == HistoryResult::Running
    {
        return "upgrading";
    }
    match backend {
        Some((0, _)) => "stopped",
        Some((want, ready)) if ready >= want => "ready",
        _ if found
            .last
            .as_ref()
            .is_some_and(|e| e.result == HistoryResult::Failed) =>
        {
            "failed"
        }
        _ => "not ready",
    }
}

/// The row of instance `name` in namespace `ns`, with its backend Deployment if found.
fn row(ns: &str, name: &str, found: &Found, deployments: &[Json], now: i64) -> Row {
    let rec = found.record.as_ref();
    // Only the revision is needed: the values are not parsed for a list.
    let revision = rec
        .and_then(|j| j["data"]["revision"].as_str())
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or(0);
    let d = deployments.iter().find(|d| {
        d["metadata"]["namespace"].as_str() == Some(ns)
            && d["metadata"]["labels"]["app.kubernetes.io/instance"].as_str() == Some(name)
    });
    let replicas = d.map(|d| {
        (
            d["spec"]["replicas"].as_i64().unwrap_or(1),
            d["status"]["readyReplicas"].as_i64().unwrap_or(0),
        )
    });
    let (ready, image) = match d {
        Some(d) => (
            format!(
                "{}/{}",
                d["status"]["readyReplicas"].as_i64().unwrap_or(0),
                d["spec"]["replicas"].as_i64().unwrap_or(0)
            ),
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        None => ("-".into(), String::new()),
    };
    let created = rec
        .and_then(|j| j["metadata"]["creationTimestamp"].as_str())
        .or(found.created.as_deref());
    Row {
        namespace: ns.to_string(),
        name: name.to_string(),
        state: state(found, replicas, now).to_string(),
        ready,
        image,
        revision,
        age: age(created, now),
        neutralized: found.neutralized,
    }
}

/// The STATE column: the state, and a neutralized clone marked as such.
fn state_cell(r: &Row) -> String {
    if r.neutralized {
        format!("{}, neutralized", r.state)
    } else {
        r.state.clone()
    }
}

/// The history of a record (as the API returns it); empty when it does not parse.
fn history(rec: &Json) -> Vec<HistoryEntry> {
    rec["data"]["history.yaml"]
        .as_str()
        .and_then(|text| serde_saphyr::from_str(text).ok())
        .unwrap_or_default()
}

/// `(namespace, instance)` of an object labelled by odoo-tui.
fn instance_of(obj: &Json) -> Option<(String, String)> {
    let meta = &obj["metadata"];
    let name = meta["labels"]["app.kubernetes.io/instance"].as_str()?;
    Some((meta["namespace"].as_str()?.to_string(), name.to_string()))
}

/// Every instance in the namespace (or all), with what is known of it.
async fn discover(kube: &Kube, all: bool) -> Result<BTreeMap<(String, String), Found>, Error> {
    let mut found: BTreeMap<(String, String), Found> = BTreeMap::new();
    for (ns, rec) in instance::find::records(kube, all).await? {
        let name = rec["data"]["release"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let f = found.entry((ns, name)).or_default();
        let history = history(&rec);
        f.neutralized = crate::plan::history::neutralized_line(&history).is_some();
        f.last = history.into_iter().last();
        f.record = Some(rec);
    }
    // What the first waves create and `delete` removes (an instance deleted with its data
    // kept has only Secrets and PVCs left, and is not listed).
    for kind in ["ServiceAccount", "Service"] {
        let kind = Kind::by_name(kind).expect("known");
        for o in kube.list_metadata(kind, MANAGED_SELECTOR, all).await? {
            if let Some(key) = instance_of(&o) {
                let f = found.entry(key).or_default();
                let created = o["metadata"]["creationTimestamp"]
                    .as_str()
                    .map(String::from);
                if f.created.is_none() || created < f.created {
                    f.created = created;
                }
            }
        }
    }
    let lease = Kind::by_name("Lease").expect("known");
    let leases = if all {
        kube.list_all(lease, MANAGED_SELECTOR).await?
    } else {
        kube.list(lease, MANAGED_SELECTOR).await?
    };
    for l in leases {
        let Ok(typed) = serde_json::from_value(l.clone()) else {
            continue;
        };
        if let Some(key) = instance_of(&l) {
            let f = found.entry(key).or_default();
            f.lock = Some(instance::lock::held(&typed));
            if f.created.is_none() {
                f.created = l["metadata"]["creationTimestamp"]
                    .as_str()
                    .map(String::from);
            }
        }
    }
    Ok(found)
}

pub fn run(ctx: &Context, a: ListArgs) -> Result<(), Error> {
    ctx.block_on(None, |_| list(ctx, a))
}

async fn list(ctx: &Context, a: ListArgs) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let all = a.all_namespaces;
    let found = discover(&kube, all).await?;
    let deploy = Kind::by_name("Deployment").expect("known");
    let sel = "app.kubernetes.io/component=backend,app.kubernetes.io/managed-by=odoo-tui";
    let deployments = if all {
        kube.list_all(deploy, sel).await?
    } else {
        kube.list(deploy, sel).await?
    };
    let now = crate::time::now();
    let rows: Vec<Row> = found
        .iter()
        .map(|((ns, name), f)| row(ns, name, f, &deployments, now))
        .collect();
    if print_structured(&rows, a.output) {
        return Ok(());
    }
    if rows.is_empty() {
        eprintln!(
            "no odoo-tui instances{}",
            if all {
                "".to_string()
            } else {
                format!(" in namespace `{}`", kube.namespace)
            }
        );
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let states: Vec<String> = rows.iter().map(state_cell).collect();
    let sw = states
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(11);
    let _ = writeln!(
        out,
        "{:<16} {:<24} {:<sw$} {:<6} {:<9} {:<5} IMAGE",
        "NAMESPACE", "NAME", "STATE", "READY", "REVISION", "AGE"
    );
    for (r, state) in rows.iter().zip(states) {
        let _ = writeln!(
            out,
            "{:<16} {:<24} {:<sw$} {:<6} {:<9} {:<5} {}",
            r.namespace, r.name, state, r.ready, r.revision, r.age, r.image
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_come_from_the_creation_time() {
        let now = crate::time::parse_rfc3339("2026-11-27T23:05:00Z").unwrap();
        assert_eq!(age(Some("2026-11-27T23:00:00Z"), now), "5m");
        assert_eq!(age(None, now), "?");
    }

    fn recorded(last: Option<HistoryResult>) -> Found {
        Found {
            record: Some(
                serde_json::json!({"metadata": {"creationTimestamp": "2026-11-27T23:00:00Z"}, "data": {"release": "acme", "revision": " 4 "}}),
            ),
            last: last.map(|result| HistoryEntry {
                time: 0,
                kind: HistoryKind::Upgrade,
                revision: 4,
                modules: vec![],
                image: None,
                backup_location: None,
                result,
                detail: None,
                upgrade: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_row_reads_the_revision_the_backend_and_the_state() {
        let backend = serde_json::json!({"metadata": {"namespace": "shop", "labels": {"app.kubernetes.io/instance": "acme"}}, "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": "odoo:1"}]}}}, "status": {"readyReplicas": 1}});
        let now = crate::time::parse_rfc3339("2026-11-28T01:00:00Z").unwrap();
        let r = row(
            "shop",
            "acme",
            &recorded(None),
            std::slice::from_ref(&backend),
            now,
        );
        assert_eq!(
            (
                r.name.as_str(),
                r.state.as_str(),
                r.ready.as_str(),
                r.image.as_str(),
                r.revision,
                r.age.as_str()
            ),
            ("acme", "not ready", "1/2", "odoo:1", 4, "2h")
        );
        let r = row("other", "acme", &recorded(None), &[backend], now);
        assert_eq!((r.ready.as_str(), r.image.as_str()), ("-", ""));
    }

    #[test]
    fn states_come_from_the_lock_the_record_and_the_backend() {
        let now = 10_000;
        let lock = |command: &str, renewed: i64| Held {
            identity: "h/1".into(),
            command: Some(command.into()),
            acquired: Some(renewed),
            renewed: Some(renewed),
            duration: 60,
        };
        let unrecorded = |l: Option<Held>| Found {
            lock: l,
            ..Default::default()
        };
        assert_eq!(
            state(&unrecorded(Some(lock("new acme", now - 5))), None, now),
            "installing"
        );
        // The install's lock expired (killed), or no lock: it did not finish.
        assert_eq!(
            state(&unrecorded(Some(lock("new acme", now - 600))), None, now),
            "failed"
        );
        assert_eq!(state(&unrecorded(None), None, now), "failed");
        let mut f = recorded(None);
        f.lock = Some(lock("upgrade acme", now - 5));
        assert_eq!(state(&f, Some((1, 1)), now), "upgrading");
        f.lock = Some(lock("new acme", now - 5));
        assert_eq!(state(&f, Some((1, 1)), now), "updating");
        assert_eq!(state(&recorded(None), Some((1, 1)), now), "ready");
        assert_eq!(state(&recorded(None), Some((0, 0)), now), "stopped");
        assert_eq!(
            state(&recorded(Some(HistoryResult::Failed)), Some((1, 0)), now),
            "failed"
        );
        assert_eq!(
            state(&recorded(Some(HistoryResult::Running)), Some((0, 0)), now),
            "upgrading"
        );
        assert_eq!(state(&recorded(None), None, now), "not ready");
    }
}
