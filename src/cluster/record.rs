//! The instance record: ConfigMap `<fullname>-odoo-tui`, written last, holding the
//! values without credentials, the revision, and the history of installs, upgrades and
//! backups.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::Value as Json;

pub use crate::status::{HistoryEntry, HistoryKind, HistoryResult, UpgradePhase, UpgradeState};

use super::error::ClusterError;
use super::kinds::Kind;
use super::{Kube, managed_selector};
use crate::render::{Credentials, Ctx, Object, RenderInput};
use crate::values::Loaded;

/// Value paths that hold credentials: blanked in the record.
pub const CREDENTIAL_PATHS: &[&[&str]] = &[
    &["postgresql", "auth", "password"],
    &["externalDatabase", "password"],
    &["minio", "auth", "rootPassword"],
    &["externalS3", "accessKey"],
    &["externalS3", "secretKey"],
    &["sessionDb", "uri"],
    &["backend", "odoo", "masterPassword"],
    &["backend", "initDb", "adminPassword"],
];

/// The record as read from the cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    pub release: String,
    pub values: Json,
    pub revision: u64,
    pub history: Vec<HistoryEntry>,
    /// The ConfigMap it was read from (empty for a record not written yet).
    pub config_map: String,
    /// The `resourceVersion` read: the write is conditional on it.
    pub resource_version: Option<String>,
}

/// The record's name.
pub fn name(fullname: &str) -> String {
    format!("{fullname}-odoo-tui")
}

/// Merged values with every credential blanked, including a plain env value that looks
/// like one (the loader refuses those; a record written before is cleaned here too).
pub fn without_credentials(values: &Json) -> Json {
    let mut v = values.clone();
    for path in CREDENTIAL_PATHS {
        let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
        if let Some(slot) = v.pointer_mut(&pointer) {
            *slot = Json::String(String::new());
        }
    }
    for pointer in ["/backend/env", "/frontend/env"] {
        if let Some(Json::Array(items)) = v.pointer_mut(pointer) {
            for item in items {
                let name = item["name"].as_str().unwrap_or_default().to_string();
                if let Some(Json::String(value)) = item.get_mut("value")
                    && (crate::values::safety::looks_like_credential(&name)
                        || crate::values::safety::has_url_password(value))
                {
                    value.clear();
                }
            }
        }
    }
    v
}

/// The ConfigMap for a record.
pub fn to_object(ctx: &Ctx<'_>, record: &Record) -> Object {
    let mut data = BTreeMap::new();
    data.insert("release".to_string(), record.release.clone());
    data.insert("revision".to_string(), record.revision.to_string());
    data.insert(
        "values.yaml".to_string(),
        crate::output::to_yaml(&without_credentials(&record.values)),
    );
    let history = serde_json::to_value(&record.history).unwrap_or(Json::Array(vec![]));
    data.insert("history.yaml".to_string(), crate::output::to_yaml(&history));
    Object::ConfigMap(ConfigMap {
        metadata: ctx.meta(name(ctx.fullname()), None),
        data: Some(data),
        ..Default::default()
    })
}

/// Parse a record ConfigMap as the API returns it.
pub fn from_json(cm: &Json) -> Result<Record, String> {
    let data = &cm["data"];
    let text = |k: &str| data[k].as_str().unwrap_or_default().to_string();
    let values: Json = if text("values.yaml").trim().is_empty() {
        Json::Object(Default::default())
    } else {
        serde_saphyr::from_str(&text("values.yaml")).map_err(|e| format!("values.yaml: {e}"))?
    };
    let history: Vec<HistoryEntry> = if text("history.yaml").trim().is_empty() {
        vec![]
    } else {
        serde_saphyr::from_str(&text("history.yaml")).map_err(|e| format!("history.yaml: {e}"))?
    };
    Ok(Record {
        release: text("release"),
        values,
        revision: text("revision").trim().parse().unwrap_or(0),
        history,
        config_map: cm["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        resource_version: cm["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string),
    })
}

/// Whether the ConfigMap `cm` (as the API returns it) is the record of `release`: it
/// carries the instance's labels and says so itself. Another instance's record (`shop`
/// and `shop-odoo` share a fullname) never is.
pub fn is_record_of(cm: &Json, release: &str) -> bool {
    let labels = &cm["metadata"]["labels"];
    cm["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.ends_with("-odoo-tui"))
        && labels["app.kubernetes.io/instance"].as_str() == Some(release)
        && labels["app.kubernetes.io/managed-by"].as_str() == Some("odoo-tui")
        && cm["data"]["release"].as_str() == Some(release)
}

/// The instance record of `release` in the namespace, found by the instance's labels,
/// never by a name computed from today's values (a `fullnameOverride` not repeated on
/// the command line must find the same record).
pub async fn find(kube: &Kube, release: &str) -> Result<Option<Record>, ClusterError> {
    let cm = Kind::by_name("ConfigMap").expect("known");
    let mut found: Vec<Json> = kube
        .list(cm, &managed_selector(release))
        .await?
        .into_iter()
        .filter(|j| is_record_of(j, release))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => {
            let j = found.remove(0);
            let name = j["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            from_json(&j).map(Some).map_err(|e| {
                ClusterError::Refused(format!(
                    "the instance record ConfigMap/{name} is damaged ({e}) — re-run `odoo-tui new {release} --yes` to rewrite it"
                ))
            })
        }
        _ => {
            let names: Vec<&str> = found
                .iter()
                .filter_map(|j| j["metadata"]["name"].as_str())
                .collect();
            Err(ClusterError::Refused(format!(
                "instance `{release}` has {} records in namespace `{}` ({}): delete the one that is not current with kubectl",
                names.len(),
                kube.namespace,
                names.join(", ")
            )))
        }
    }
}

/// Read-modify-write the record of `release` with optimistic concurrency: `change` gets
/// the record as read (a default one, `existed == false`, when there is none) and says
/// whether to write it. The write carries the `resourceVersion` read (or creates the
/// record); when someone else wrote it meanwhile (409) the record is read again and
/// `change` runs again. Returns the record as written (or as read, when not written).
pub async fn update<F>(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    mut change: F,
) -> Result<Record, ClusterError>
where
    F: FnMut(&mut Record, bool) -> bool,
{
    let creds = Credentials::default();
    let input = RenderInput {
        release,
        namespace: &kube.namespace,
        values: &loaded.values,
        credentials: &creds,
    };
    let ctx = Ctx::new(&input).map_err(|e| ClusterError::Refused(e.to_string()))?;
    let cm = Kind::by_name("ConfigMap").expect("known");
    for _ in 0..5 {
        let found = find(kube, release).await?;
        let existed = found.is_some();
        let mut rec = found.unwrap_or_default();
        if !change(&mut rec, existed) {
            return Ok(rec);
        }
        rec.release = release.to_string();
        let mut body = to_object(&ctx, &rec).to_json();
        // Written whole (PUT, conditional on the version read) or created (POST, which
        // fails if another writer created it first): the record is odoo-tui's alone.
        let written = match &rec.resource_version {
            Some(rv) if existed => {
                body["metadata"]["name"] = Json::String(rec.config_map.clone());
                body["metadata"]["resourceVersion"] = Json::String(rv.clone());
                kube.replace(cm, &rec.config_map, &body).await
            }
            _ => kube.create(cm, &body).await,
        };
        match written {
            Ok(_) => return Ok(rec),
            Err(e) if e.code() == Some(409) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ClusterError::Conflict(format!(
        "the instance record of `{release}` kept changing while odoo-tui wrote it — run the command again"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_blanked() {
        let v = serde_json::json!({"postgresql": {"auth": {"password": "pw", "username": "odoo"}}, "externalS3": {"secretKey": "sk"}, "backend": {"odoo": {"masterPassword": "m"}}});
        let out = without_credentials(&v);
        assert_eq!(out["postgresql"]["auth"]["password"], "");
        assert_eq!(out["postgresql"]["auth"]["username"], "odoo");
        assert_eq!(out["externalS3"]["secretKey"], "");
        assert_eq!(out["backend"]["odoo"]["masterPassword"], "");
    }

    #[test]
    fn env_values_that_look_like_credentials_are_blanked() {
        let v = serde_json::json!({"backend": {"env": [
            {"name": "SMTP_PASSWORD", "value": "hunter2"},
            {"name": "SENTRY_URL", "value": "https://u:tok3n@sentry.example.com/1"},
            {"name": "LOG_FORMAT", "value": "json"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
        ]}});
        let out = without_credentials(&v);
        let text = out.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("tok3n"),
            "{text}"
        );
        assert_eq!(out["backend"]["env"][2]["value"], "json");
        assert_eq!(
            out["backend"]["env"][3]["valueFrom"]["secretKeyRef"]["name"],
            "s"
        );
    }

    #[test]
    fn record_round_trips_through_its_config_map() {
        let values = crate::values::load(&[]).unwrap();
        let creds = crate::render::Credentials::default();
        let input = crate::render::RenderInput {
            release: "acme",
            namespace: "ns",
            values: &values.values,
            credentials: &creds,
        };
        let ctx = Ctx::new(&input).unwrap();
        let rec = Record {
            release: "acme".into(),
            values: values.merged.clone(),
            revision: 3,
            history: vec![HistoryEntry {
                time: 1_795_820_700,
                kind: HistoryKind::Upgrade,
                revision: 3,
                modules: vec!["sale".into()],
                image: Some("ghcr.io/x/odoo:18.0-1".into()),
                backup_location: Some("s3://odoo-filestore/backups/acme-3.dump".into()),
                result: HistoryResult::Succeeded,
                detail: None,
                upgrade: None,
            }],
            ..Default::default()
        };
        let obj = to_object(&ctx, &rec);
        assert_eq!(obj.name(), "acme-odoo-odoo-tui");
        let back = from_json(&obj.to_json()).unwrap();
        assert_eq!(back.revision, 3);
        assert_eq!(back.history, rec.history);
        assert_eq!(back.values, without_credentials(&values.merged));
    }
}
