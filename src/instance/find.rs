//! Finding instances: the records in a namespace (or all), and the one a command means
//! when its NAME is omitted.

use serde_json::Value as Json;

use super::Error;
use crate::cluster::kinds::Kind;
use crate::cluster::{Kube, MANAGED_SELECTOR, managed_selector};

/// The instance records (as the API returns them) in the namespace, or in every
/// namespace with `all`, each with its namespace.
pub async fn records(kube: &Kube, all: bool) -> Result<Vec<(String, Json)>, Error> {
    let cm = Kind::by_name("ConfigMap").expect("known");
    let items = if all {
        kube.list_all(cm, MANAGED_SELECTOR).await?
    } else {
        kube.list(cm, MANAGED_SELECTOR).await?
    };
    Ok(items
        .into_iter()
        .filter(|j| {
            j["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-odoo-tui"))
                && j["data"]["release"].is_string()
        })
        .map(|j| {
            (
                j["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                j,
            )
        })
        .collect())
}

/// The instance a command means: `name` when given, else the only one in the namespace.
pub async fn resolve_name(kube: &Kube, name: Option<String>) -> Result<String, Error> {
    if let Some(n) = name {
        return Ok(n);
    }
    let recs = records(kube, false).await?;
    let mut names: Vec<String> = recs
        .iter()
        .filter_map(|(_, j)| j["data"]["release"].as_str().map(str::to_string))
        .collect();
    match names.len() {
        1 => Ok(names.remove(0)),
        0 => Err(Error::NoneInNamespace {
            namespace: kube.namespace.clone(),
        }),
        _ => Err(Error::Ambiguous {
            namespace: kube.namespace.clone(),
            names,
        }),
    }
}

/// `Kind/name` of what odoo-tui left of an instance `name` that has no record: an
/// install that failed before its record, or an instance deleted with its data kept
/// (its Secrets and volumes). Metadata only: no Secret's data is read.
pub async fn leftovers(kube: &Kube, name: &str) -> Result<Vec<String>, Error> {
    let selector = managed_selector(name);
    let mut out = Vec::new();
    for kind in [
        "ServiceAccount",
        "Service",
        "Secret",
        "PersistentVolumeClaim",
        "StatefulSet",
        "Deployment",
    ] {
        let k = Kind::by_name(kind).expect("known");
        for o in kube.list_metadata(k, &selector, false).await? {
            if let Some(n) = o["metadata"]["name"].as_str() {
                out.push(format!("{kind}/{n}"));
            }
        }
    }
    Ok(out)
}
