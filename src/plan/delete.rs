//! Which volumes `delete --delete-data` may delete: only the instance's own claims, by
//! their exact expected names and odoo-tui's label, never by the instance label alone (a
//! Helm release of the same name labels its PVCs with it too).

use std::collections::BTreeSet;

use serde_json::Value as Json;

/// The claims of an instance, as decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// Deleted with the data.
    pub delete: Vec<String>,
    /// Carrying the instance's label but not recognised as its own: left, with why.
    pub left: Vec<(String, String)>,
}

fn name_of(o: &Json) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}

fn label<'a>(o: &'a Json, key: &str) -> Option<&'a str> {
    o["metadata"]["labels"][key].as_str()
}

/// The claim names the StatefulSets `statefulsets` (as the API returns them) give their
/// pods: `<template>-<statefulset>-<ordinal>`.
pub fn statefulset_claims(statefulsets: &[Json]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for sts in statefulsets {
        let replicas = sts["spec"]["replicas"].as_i64().unwrap_or(1).max(1);
        for t in sts["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let template = t["metadata"]["name"].as_str().unwrap_or_default();
            for i in 0..replicas {
                out.insert(format!("{template}-{}-{i}", name_of(sts)));
            }
        }
    }
    out
}

/// Decide for each claim labelled with instance `release`. `ours` are the StatefulSets of
/// the instance odoo-tui manages (their claims are the instance's even without the label,
/// which claim templates of older installs lack); `expected` the names its configuration
/// gives its claims (rendered PVCs, the claim templates of its StatefulSets, the backups').
pub fn claims(
    release: &str,
    claims: &[Json],
    ours: &[Json],
    expected: &BTreeSet<String>,
) -> Claims {
    let used = statefulset_claims(ours);
    let mut out = Claims::default();
    for c in claims {
        let name = name_of(c).to_string();
        if label(c, "app.kubernetes.io/instance") != Some(release) {
            continue;
        }
        let labelled = label(c, "app.kubernetes.io/managed-by") == Some("odoo-tui");
        if used.contains(&name) || (labelled && expected.contains(&name)) {
            out.delete.push(name);
        } else if labelled {
            out.left.push((
                name,
                "labelled by odoo-tui, but not a name this instance gives its volumes".into(),
            ));
        } else {
            out.left.push((
                name,
                "not labelled app.kubernetes.io/managed-by: odoo-tui nor used by this instance's StatefulSets (another tool's, or left by an older odoo-tui whose StatefulSet is gone): delete it with kubectl if it is this instance's".into(),
            ));
        }
    }
    out.delete.sort();
    out.left.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pvc(name: &str, managed: bool) -> Json {
        let mut labels =
            json!({"app.kubernetes.io/instance": "acme", "app.kubernetes.io/name": "odoo"});
        if managed {
            labels["app.kubernetes.io/managed-by"] = json!("odoo-tui");
        }
        json!({"metadata": {"name": name, "labels": labels}})
    }

    #[test]
    fn only_the_instances_own_claims_are_deleted() {
        let sts = json!({"metadata": {"name": "acme-postgresql"}, "spec": {"replicas": 1,
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}});
        let expected: BTreeSet<String> = [
            "data-acme-postgresql-0",
            "data-acme-minio-0",
            "acme-odoo-backend-data",
        ]
        .map(String::from)
        .into();
        let found = claims(
            "acme",
            &[
                pvc("data-acme-postgresql-0", false), // an older install's, used by our StatefulSet
                pvc("data-acme-minio-0", true),
                pvc("acme-odoo-backend-data", true),
                pvc("redis-data-acme-redis-0", false), // a Helm release's
                pvc("scratch", true),
                json!({"metadata": {"name": "other", "labels": {"app.kubernetes.io/instance": "shop"}}}),
            ],
            &[sts],
            &expected,
        );
        assert_eq!(
            found.delete,
            [
                "acme-odoo-backend-data",
                "data-acme-minio-0",
                "data-acme-postgresql-0"
            ]
        );
        let left: Vec<&str> = found.left.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(left, ["redis-data-acme-redis-0", "scratch"]);
        // Without its StatefulSet, an unlabelled claim is not recognised.
        let found = claims(
            "acme",
            &[pvc("data-acme-postgresql-0", false)],
            &[],
            &expected,
        );
        assert!(found.delete.is_empty() && found.left.len() == 1);
    }
}
