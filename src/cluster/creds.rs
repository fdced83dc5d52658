//! Credentials on the cluster: Secrets named by `existingSecret` are checked before
//! anything is applied; generated ones are read back so that a re-run never rotates them.

use base64::Engine;
use serde_json::Value as Json;

use super::Kube;
use super::error::ClusterError;
use super::kinds::Kind;
use crate::render::{Credentials, Derived, Object};
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

/// Whether a Secret (as the API returns it) is one odoo-tui manages for `release`. A
/// Secret of the same name that is not (another instance's: `shop` and `shop-odoo` share
/// a fullname; another tool's) is never read back nor written: the ownership check stops
/// the apply with its name.
pub fn is_ours(secret: &Json, release: &str) -> bool {
    let labels = &secret["metadata"]["labels"];
    labels["app.kubernetes.io/managed-by"].as_str() == Some("odoo-tui")
        && labels["app.kubernetes.io/instance"].as_str() == Some(release)
}

/// The chart-managed Secrets of an instance as read: `<fullname>` and
/// `<fullname>-config`, each `None` when absent or not ours.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    pub main: Option<Json>,
    pub config: Option<Json>,
    /// One of them exists but is not this instance's.
    pub foreign: bool,
}

/// Read the chart-managed Secrets of `release`.
pub async fn read_stored(kube: &Kube, release: &str, d: &Derived) -> Result<Stored, ClusterError> {
    let secret_kind = Kind::by_name("Secret").expect("Secret is a known kind");
    let config_name = format!("{}-config", d.fullname);
    let (main, config) = futures::join!(
        kube.get(secret_kind, &d.fullname),
        kube.get(secret_kind, &config_name)
    );
    let (main, config) = (main?, config?);
    let foreign = [&main, &config]
        .into_iter()
        .flatten()
        .any(|s| !is_ours(s, release));
    let keep = |s: Option<Json>| s.filter(|s| is_ours(s, release));
    Ok(Stored {
        main: keep(main),
        config: keep(config),
        foreign,
    })
}

/// A generated credential that lives in a volume's data as well as in its Secret: the
/// database user's password (and the admin's, set by the first boot) in the PostgreSQL
/// volume, MinIO's root password in MinIO's.
struct Bound {
    missing: bool,
    secret: String,
    key: &'static str,
    claim: String,
    what: &'static str,
    setting: &'static str,
}

/// Refuse when a generated credential is missing from its Secret while the volume whose
/// data uses it exists: a new one would not be the one that data knows.
async fn check_bound(
    kube: &Kube,
    release: &str,
    d: &Derived,
    needed: &Credentials,
    existing: &Credentials,
) -> Result<(), ClusterError> {
    let pg = format!("data-{release}-postgresql-0");
    let bound = [
        Bound {
            missing: needed.db_password.is_some() && existing.db_password.is_none(),
            secret: d.fullname.clone(),
            key: "db-password",
            claim: pg.clone(),
            what: "database",
            setting: "postgresql.auth.existingSecret",
        },
        Bound {
            missing: needed.db_password.is_some()
                && needed.admin_password.is_some()
                && existing.admin_password.is_none(),
            secret: format!("{}-config", d.fullname),
            key: "admin-password",
            claim: pg,
            what: "database",
            setting: "backend.initDb.existingSecret",
        },
        Bound {
            missing: needed.minio_root_password.is_some() && existing.minio_root_password.is_none(),
            secret: d.fullname.clone(),
            key: "s3-secret-key",
            claim: format!("data-{release}-minio-0"),
            what: "MinIO",
            setting: "minio.auth.existingSecret",
        },
    ];
    let pvc = Kind::by_name("PersistentVolumeClaim").expect("known");
    let mut problems = Vec::new();
    for b in bound.iter().filter(|b| b.missing) {
        if kube.get(pvc, &b.claim).await?.is_some() {
            problems.push(format!(
                "Secret `{}` has no `{}`, but the {} volume PersistentVolumeClaim/{} exists: a newly generated password would not be the one its data was set up with, so nothing was applied — put the password back into the Secret (key `{}`), or name a Secret holding it with {}; to start afresh instead, delete the volume (`odoo-tui delete {release} --delete-data`)",
                b.secret, b.key, b.what, b.claim, b.key, b.setting
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ClusterError::Refused(problems.join("\n")))
    }
}

/// Read back what exists and generate the rest: a re-run never rotates a credential.
/// Returns the credentials and which of them were generated now (to be stored with
/// [`store_generated`] before anything uses them). A generated credential missing while
/// the volume holding data that uses it exists is refused.
pub async fn resolve(
    kube: &Kube,
    release: &str,
    v: &Values,
    d: &Derived,
    typed: &Credentials,
) -> Result<(Credentials, Credentials), ClusterError> {
    let needed = crate::render::needed_credentials(v);
    let stored = read_stored(kube, release, d).await?;
    let existing = read_back(&needed, stored.main.as_ref(), stored.config.as_ref());
    if !stored.foreign {
        check_bound(kube, release, d, &needed, &existing).await?;
    }
    // Typed ones (the wizard) stand in for generated ones; stored ones always win, so
    // that a re-run never changes a password the database already uses.
    let fresh = crate::credentials::typed_or_generated(&needed, typed);
    let new_if_absent = |e: &Option<String>, f: &Option<String>| {
        if e.is_none() { f.clone() } else { None }
    };
    let generated = Credentials {
        db_password: new_if_absent(&existing.db_password, &fresh.db_password),
        minio_root_password: new_if_absent(
            &existing.minio_root_password,
            &fresh.minio_root_password,
        ),
        master_password: new_if_absent(&existing.master_password, &fresh.master_password),
        admin_password: new_if_absent(&existing.admin_password, &fresh.admin_password),
    };
    let pick = |e: &Option<String>, f: &Option<String>| e.clone().or_else(|| f.clone());
    let all = Credentials {
        db_password: pick(&existing.db_password, &fresh.db_password),
        minio_root_password: pick(&existing.minio_root_password, &fresh.minio_root_password),
        master_password: pick(&existing.master_password, &fresh.master_password),
        admin_password: pick(&existing.admin_password, &fresh.admin_password),
    };
    Ok((all, generated))
}

/// The keys of the chart-managed Secrets that hold credentials odoo-tui generated: kept
/// when the configuration stops using them (a credential switched to `existingSecret`),
/// so that switching back finds the password the data was set up with.
pub const GENERATED_KEYS: &[&str] = &["db-password", "s3-secret-key", "admin-password"];

/// The keys of Secret `name` (as rendered in `objects`) that carry a credential
/// `generated` holds.
fn generated_keys(name: &str, d: &Derived, generated: &Credentials) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if name == d.fullname {
        if generated.db_password.is_some() {
            keys.push("db-password");
        }
        if generated.minio_root_password.is_some() {
            keys.push("s3-secret-key");
        }
    } else if name == format!("{}-config", d.fullname) {
        if generated.admin_password.is_some() {
            keys.push("admin-password");
        }
        if generated.master_password.is_some() {
            keys.push("odoo.conf");
        }
    }
    keys
}

/// Store the credentials generated by this run, only where they are absent: a Secret
/// that does not exist is created (POST: it fails if another run created it first); a
/// key missing from an existing Secret is added by an update conditional on the version
/// read. Never a forced apply, which could overwrite another run's. Returns the Secrets
/// written (key and object as stored), or `None` when another writer got there first
/// (409): read back theirs with [`resolve`] and render again.
pub async fn store_generated(
    kube: &Kube,
    release: &str,
    d: &Derived,
    objects: &[Object],
    generated: &Credentials,
) -> Result<Option<Vec<(String, Json)>>, ClusterError> {
    let kind = Kind::by_name("Secret").expect("known");
    let mut stored = Vec::new();
    for o in objects.iter().filter(|o| o.kind() == "Secret") {
        let keys = generated_keys(o.name(), d, generated);
        if keys.is_empty() {
            continue;
        }
        let body = o.to_json();
        let written = match kube.get(kind, o.name()).await? {
            None => kube.create(kind, &body).await,
            Some(live) if is_ours(&live, release) => {
                // A credential already there was stored by another run since it was
                // read: read back theirs.
                let stored_meanwhile = keys.iter().any(|k| {
                    if *k == "odoo.conf" {
                        decode(&live, k).is_some_and(|c| c.contains("\nadmin_passwd = "))
                    } else {
                        decode(&live, k).is_some()
                    }
                });
                if stored_meanwhile {
                    return Ok(None);
                }
                let mut updated = live.clone();
                for k in &keys {
                    updated["data"][*k] = body["data"][*k].clone();
                }
                kube.replace(kind, o.name(), &updated).await
            }
            // Not ours: left alone (the ownership check names it).
            Some(_) => continue,
        };
        match written {
            Ok(obj) => stored.push((o.key(), obj)),
            Err(e) if e.code() == Some(409) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(stored))
}

/// The credentials a Secret (as the API returns it, or as rendered) holds: the values of
/// [`GENERATED_KEYS`] and the master password in `odoo.conf`.
fn credentials_in(secret: &Json) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = GENERATED_KEYS
        .iter()
        .map(|k| (k.to_string(), decode(secret, k)))
        .collect();
    let master = decode(secret, "odoo.conf").and_then(|c| {
        c.lines()
            .find_map(|l| l.strip_prefix("admin_passwd = "))
            .map(str::to_string)
    });
    out.push(("admin_passwd".into(), master));
    out
}

/// Whether applying `body` over `live` would change no credential: the live Secret was
/// written meanwhile, but with the same credentials (another run that read them back).
pub fn same_credentials(live: &Json, body: &Json) -> bool {
    credentials_in(live) == credentials_in(body)
}

/// Keep, in the rendered Secrets, the generated credentials their live versions hold
/// and the configuration no longer uses (see [`GENERATED_KEYS`]): server-side apply
/// would otherwise remove them.
pub fn keep_generated_keys(
    objects: &mut [Object],
    existing: &[(String, Option<Json>)],
    release: &str,
    d: &Derived,
) {
    let config_name = format!("{}-config", d.fullname);
    for o in objects.iter_mut() {
        let Object::Secret(secret) = o else { continue };
        let name = secret.metadata.name.clone().unwrap_or_default();
        if name != d.fullname && name != config_name {
            continue;
        }
        let key = format!("Secret/{name}");
        let Some(live) = existing
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, l)| l.as_ref())
            .filter(|l| is_ours(l, release))
        else {
            continue;
        };
        let data = secret.data.get_or_insert_with(Default::default);
        for k in GENERATED_KEYS {
            if data.contains_key(*k) {
                continue;
            }
            let bytes = live["data"][*k]
                .as_str()
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
            if let Some(b) = bytes {
                data.insert(k.to_string(), k8s_openapi::ByteString(b));
            }
        }
    }
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
