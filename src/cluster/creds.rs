//! Credentials on the cluster: Secrets named by `existingSecret` are checked before
//! anything is applied; generated ones are read back so that a re-run never rotates them.

use base64::Engine;
use serde_json::Value as Json;

use super::Kube;
use super::error::ClusterError;
use super::kinds::Kind;
use crate::render::{Credentials, Derived};
use crate::values::Values;

/// A Secret the configuration names, the key it needs, and the setting that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
    pub setting: &'static str,
}

/// Every Secret + key that must exist before the install (not created by odoo-tui).
pub fn existing_secret_refs(v: &Values, d: &Derived) -> Vec<SecretRef> {
    let mut out = Vec::new();
    let mut push = |name: &str, key: &str, setting: &'static str| {
        let r = SecretRef {
            name: name.to_string(),
            key: key.to_string(),
            setting,
        };
        if !out.contains(&r) {
            out.push(r);
        }
    };
    if !d.needs_db_password {
        let setting = if v.postgresql.enabled {
            "postgresql.auth.existingSecret"
        } else {
            "externalDatabase.existingSecret"
        };
        push(&d.db_secret.0, &d.db_secret.1, setting);
    }
    if !d.needs_session_uri {
        push(
            &d.session_secret.0,
            &d.session_secret.1,
            "sessionDb.existingSecret",
        );
    }
    if d.s3_requested && !d.needs_s3_keys {
        let setting = if v.minio.enabled {
            "minio.auth.existingSecret"
        } else {
            "externalS3.existingSecret"
        };
        push(&d.s3_secret.0, &d.s3_secret.1, setting);
        push(&d.s3_secret.0, &d.s3_secret.2, setting);
    }
    if let Some((name, key)) = &d.master_secret {
        push(name, key, "backend.odoo.existingSecret");
    }
    if !v.backend.init_db.existing_secret.is_empty() {
        push(
            &d.admin_secret.0,
            &d.admin_secret.1,
            "backend.initDb.existingSecret",
        );
    }
    out
}

/// The keys of a Secret as the API returns it.
pub fn secret_keys(secret: &Json) -> Vec<String> {
    let mut keys: Vec<String> = ["data", "stringData"]
        .iter()
        .filter_map(|f| secret[*f].as_object())
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The message for a missing Secret or key, or None when it is there.
pub fn check_ref(r: &SecretRef, secret: Option<&Json>, namespace: &str) -> Option<String> {
    match secret {
        None => Some(format!(
            "Secret `{}` not found in namespace `{namespace}` (named by {}): create it first — put the value in a file `./{key}` (not on a command line), then: kubectl create secret generic {} -n {namespace} --from-file={key}=./{key}",
            r.name,
            r.setting,
            r.name,
            key = r.key
        )),
        Some(s) => {
            let keys = secret_keys(s);
            (!keys.contains(&r.key)).then(|| {
                format!(
                    "Secret `{}` in namespace `{namespace}` has no key `{}` (named by {}; its keys: {}) — add the key or set the matching existingSecret…Key setting",
                    r.name,
                    r.key,
                    r.setting,
                    if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
                )
            })
        }
    }
}

/// Verify every referenced Secret and key; all problems in one error.
pub async fn verify_existing(kube: &Kube, v: &Values, d: &Derived) -> Result<(), ClusterError> {
    let secret_kind = Kind::by_name("Secret").expect("Secret is a known kind");
    let mut problems = Vec::new();
    let mut cache: Vec<(String, Option<Json>)> = Vec::new();
    for r in existing_secret_refs(v, d) {
        let secret = match cache.iter().find(|(n, _)| *n == r.name) {
            Some((_, s)) => s.clone(),
            None => {
                let s = kube.get(secret_kind, &r.name).await?;
                cache.push((r.name.clone(), s.clone()));
                s
            }
        };
        if let Some(p) = check_ref(&r, secret.as_ref(), &kube.namespace) {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ClusterError::Refused(problems.join("\n")))
    }
}

/// An Opaque Secret holding `data` (key → value), the values base64-encoded in `data`.
pub fn secret_body(name: &str, data: &std::collections::BTreeMap<String, String>) -> Json {
    let encoded: serde_json::Map<String, Json> = data
        .iter()
        .map(|(k, v)| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(v.as_bytes());
            (k.clone(), Json::String(b64))
        })
        .collect();
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "data": encoded,
    })
}

/// The value of `key` in a Secret as the API returns it (`data`, base64), if not empty.
pub fn decode(secret: &Json, key: &str) -> Option<String> {
    let b64 = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

/// Credentials already stored in the chart-managed Secrets, for the ones `needed`.
pub fn read_back(needed: &Credentials, main: Option<&Json>, config: Option<&Json>) -> Credentials {
    let from = |want: &Option<String>, secret: Option<&Json>, key: &str| {
        want.as_ref()
            .and_then(|_| secret.and_then(|s| decode(s, key)))
    };
    let master = needed.master_password.as_ref().and_then(|_| {
        let conf = config.and_then(|c| decode(c, "odoo.conf"))?;
        conf.lines()
            .find_map(|l| l.strip_prefix("admin_passwd = "))
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    });
    Credentials {
        db_password: from(&needed.db_password, main, "db-password"),
        minio_root_password: from(&needed.minio_root_password, main, "s3-secret-key"),
        master_password: master,
        admin_password: from(&needed.admin_password, config, "admin-password"),
    }
}

/// Read back what exists and generate the rest: a re-run never rotates a credential.
/// Returns the credentials and which of them were generated now.
pub async fn resolve(
    kube: &Kube,
    v: &Values,
    d: &Derived,
    typed: &Credentials,
) -> Result<(Credentials, Credentials), ClusterError> {
    let needed = crate::render::needed_credentials(v);
    let secret_kind = Kind::by_name("Secret").expect("Secret is a known kind");
    let config_name = format!("{}-config", d.fullname);
    let (main, config) = futures::join!(
        kube.get(secret_kind, &d.fullname),
        kube.get(secret_kind, &config_name)
    );
    let (main, config) = (main?, config?);
    let existing = read_back(&needed, main.as_ref(), config.as_ref());
    // Typed ones (the wizard) stand in for generated ones; stored ones always win, so
    // that a re-run never changes a password the database already uses.
    let generated_now = crate::credentials::generate(&needed);
    let or = |t: &Option<String>, g: &Option<String>| {
        t.clone().filter(|s| !s.is_empty()).or_else(|| g.clone())
    };
    let fresh = Credentials {
        db_password: needed
            .db_password
            .as_ref()
            .and(or(&typed.db_password, &generated_now.db_password)),
        minio_root_password: needed.minio_root_password.as_ref().and(or(
            &typed.minio_root_password,
            &generated_now.minio_root_password,
        )),
        master_password: needed
            .master_password
            .as_ref()
            .and(or(&typed.master_password, &generated_now.master_password)),
        admin_password: needed
            .admin_password
            .as_ref()
            .and(or(&typed.admin_password, &generated_now.admin_password)),
    };
    let pick = |e: &Option<String>, f: &Option<String>| e.clone().or_else(|| f.clone());
    let generated = Credentials {
        db_password: if existing.db_password.is_none() {
            fresh.db_password.clone()
        } else {
            None
        },
        minio_root_password: if existing.minio_root_password.is_none() {
            fresh.minio_root_password.clone()
        } else {
            None
        },
        master_password: if existing.master_password.is_none() {
            fresh.master_password.clone()
        } else {
            None
        },
        admin_password: if existing.admin_password.is_none() {
            fresh.admin_password.clone()
        } else {
            None
        },
    };
    let all = Credentials {
        db_password: pick(&existing.db_password, &fresh.db_password),
        minio_root_password: pick(&existing.minio_root_password, &fresh.minio_root_password),
        master_password: pick(&existing.master_password, &fresh.master_password),
        admin_password: pick(&existing.admin_password, &fresh.admin_password),
    };
    Ok((all, generated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn production_names_every_secret_with_its_setting() {
        let v = crate::values::load(&[
            crate::presets::load("production").unwrap(),
            crate::values::Source::set(
                "externalDatabase.host=db,externalS3.endpoint=https://s3.example.com",
            )
            .unwrap(),
        ])
        .unwrap()
        .values;
        let refs = existing_secret_refs(&v, &Derived::new("acme", &v));
        let short: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|r| (r.name.as_str(), r.key.as_str(), r.setting))
            .collect();
        assert_eq!(
            short,
            [
                ("odoo-db", "password", "externalDatabase.existingSecret"),
                ("odoo-s3", "access-key", "externalS3.existingSecret"),
                ("odoo-s3", "secret-key", "externalS3.existingSecret"),
                (
                    "odoo-master",
                    "master-password",
                    "backend.odoo.existingSecret"
                ),
                (
                    "odoo-admin",
                    "admin-password",
                    "backend.initDb.existingSecret"
                ),
            ]
        );
    }

    #[test]
    fn missing_secret_and_missing_key_messages() {
        let r = SecretRef {
            name: "odoo-db".into(),
            key: "password".into(),
            setting: "externalDatabase.existingSecret",
        };
        let m = check_ref(&r, None, "prod").unwrap();
        assert!(m.starts_with("Secret `odoo-db` not found in namespace `prod` (named by externalDatabase.existingSecret)"), "{m}");
        let s = json!({"data": {"user": b64("u"), "pass": b64("p")}});
        let m = check_ref(&r, Some(&s), "prod").unwrap();
        assert!(
            m.contains("has no key `password`") && m.contains("its keys: pass, user"),
            "{m}"
        );
        let ok = json!({"data": {"password": b64("p")}});
        assert_eq!(check_ref(&r, Some(&ok), "prod"), None);
    }

    #[test]
    fn read_back_takes_only_what_is_needed() {
        let needed = Credentials {
            db_password: Some(String::new()),
            minio_root_password: Some(String::new()),
            master_password: Some(String::new()),
            admin_password: None,
        };
        let main = json!({"data": {"db-password": b64("db1"), "s3-secret-key": b64("mio1")}});
        let config = json!({"data": {"odoo.conf": b64("[options]\nadmin_passwd = m1\n"), "admin-password": b64("a1")}});
        let got = read_back(&needed, Some(&main), Some(&config));
        assert_eq!(got.db_password.as_deref(), Some("db1"));
        assert_eq!(got.minio_root_password.as_deref(), Some("mio1"));
        assert_eq!(got.master_password.as_deref(), Some("m1"));
        assert_eq!(got.admin_password, None);
        assert_eq!(read_back(&needed, None, None), Credentials::default());
    }
}
