//! `odoo-tui list [-A]`: the instances with readiness, image, revision and age.

use std::io::Write;

use serde_json::Value as Json;

use super::{Context, Error, print_structured};
use crate::cli::ListArgs;
use crate::cluster::kinds::Kind;
use crate::instance;

/// One row of `list`.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    pub namespace: String,
    pub name: String,
    pub ready: String,
    pub image: String,
    pub revision: u64,
    pub age: String,
}

/// How long ago `created` (RFC 3339) was, at unix time `now`.
fn age(created: Option<&str>, now: i64) -> String {
    match created.and_then(crate::time::parse_rfc3339) {
        Some(t) => crate::time::age(now - t),
        None => "?".into(),
    }
}

/// The row of the record `j` in namespace `ns`, with its backend Deployment if found.
fn row(ns: &str, j: &Json, deployments: &[Json], now: i64) -> Row {
    let name = j["data"]["release"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Only the revision is needed: the values and history are not parsed for a list.
    let revision = j["data"]["revision"]
        .as_str()
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or(0);
    let d = deployments.iter().find(|d| {
        d["metadata"]["namespace"].as_str() == Some(ns)
            && d["metadata"]["labels"]["app.kubernetes.io/instance"].as_str() == Some(name.as_str())
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
    Row {
        namespace: ns.to_string(),
        name,
        ready,
        image,
        revision,
        age: age(j["metadata"]["creationTimestamp"].as_str(), now),
    }
}

pub fn run(ctx: &Context, a: ListArgs) -> Result<(), Error> {
    ctx.block_on(None, |_| list(ctx, a))
}

async fn list(ctx: &Context, a: ListArgs) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let all = a.all_namespaces;
    let recs = instance::find::records(&kube, all).await?;
    let deploy = Kind::by_name("Deployment").expect("known");
    let sel = "app.kubernetes.io/component=backend,app.kubernetes.io/managed-by=odoo-tui";
    let deployments = if all {
        kube.list_all(deploy, sel).await?
    } else {
        kube.list(deploy, sel).await?
    };
    let now = crate::time::now();
    let mut rows: Vec<Row> = recs
        .iter()
        .map(|(ns, j)| row(ns, j, &deployments, now))
        .collect();
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
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
    let _ = writeln!(
        out,
        "{:<16} {:<24} {:<6} {:<9} {:<5} IMAGE",
        "NAMESPACE", "NAME", "READY", "REVISION", "AGE"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<16} {:<24} {:<6} {:<9} {:<5} {}",
            r.namespace, r.name, r.ready, r.revision, r.age, r.image
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

    #[test]
    fn a_row_reads_the_revision_and_the_backend() {
        let rec = serde_json::json!({"metadata": {"creationTimestamp": "2026-11-27T23:00:00Z"}, "data": {"release": "acme", "revision": " 4 "}});
        let backend = serde_json::json!({"metadata": {"namespace": "shop", "labels": {"app.kubernetes.io/instance": "acme"}}, "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": "odoo:1"}]}}}, "status": {"readyReplicas": 1}});
        let now = crate::time::parse_rfc3339("2026-11-28T01:00:00Z").unwrap();
        let r = row("shop", &rec, std::slice::from_ref(&backend), now);
        assert_eq!(
            (
                r.name.as_str(),
                r.ready.as_str(),
                r.image.as_str(),
                r.revision,
                r.age.as_str()
            ),
            ("acme", "1/2", "odoo:1", 4, "2h")
        );
        let r = row("other", &rec, &[backend], now);
        assert_eq!((r.ready.as_str(), r.image.as_str()), ("-", ""));
    }
}
