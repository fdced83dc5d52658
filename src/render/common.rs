//! Names, labels and the facts every component derives from the values.

use std::collections::BTreeMap;

use crate::values::Probe;
use k8s_openapi::api::core::v1::{
    Capabilities, EnvVar, EnvVarSource, PodSecurityContext, SeccompProfile, SecretKeySelector,
    SecurityContext, ServiceAccount,
};
use k8s_openapi::api::core::v1::{HTTPGetAction, Probe as K8sProbe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Credentials, Object, RenderInput};
use crate::values::Values;

/// The chart's name, used in `app.kubernetes.io/name`.
pub const CHART_NAME: &str = "odoo";
/// The Odoo version this product deploys (`app.kubernetes.io/version`).
pub const APP_VERSION: &str = "18.0";
/// Value of `app.kubernetes.io/managed-by` on every object.
pub const MANAGED_BY: &str = "odoo-tui";

pub mod names {
    /// Truncate to `max` characters and drop a trailing `-`, as the chart's `trunc | trimSuffix` does.
    pub fn trunc(s: &str, max: usize) -> String {
        let t: String = s.chars().take(max).collect();
        t.trim_end_matches('-').to_string()
    }

    /// `nameOverride` or the chart name.
    pub fn chart_name(name_override: &str) -> String {
        if name_override.is_empty() {
            super::CHART_NAME.to_string()
        } else {
            trunc(name_override, 63)
        }
    }

    /// The chart's `odoo.fullname`.
    pub fn fullname(release: &str, name_override: &str, fullname_override: &str) -> String {
        if !fullname_override.is_empty() {
            return trunc(fullname_override, 63);
        }
        let name = chart_name(name_override);
        if release.contains(&name) {
            trunc(release, 63)
        } else {
            trunc(&format!("{release}-{name}"), 63)
        }
    }
}

/// Facts derived once from the values, shared by every component.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub name: String,
    pub fullname: String,
    pub service_account: String,
    pub db_host: String,
    pub db_port: i64,
    pub db_user: String,
    pub db_name: String,
    /// (Secret name, key) holding the database password.
    pub db_secret: (String, String),
    /// Whether the chart-managed Secret must carry `db-password`.
    pub needs_db_password: bool,
    /// (Secret name, key) holding the session store URI.
    pub session_secret: (String, String),
    pub needs_session_uri: bool,
    /// S3 asked for (bundled MinIO or external S3).
    pub s3_requested: bool,
    /// S3 asked for and the image can use it.
    pub s3: bool,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    /// (Secret name, access-key key, secret-key key).
    pub s3_secret: (String, String, String),
    pub needs_s3_keys: bool,
    /// The backend image ships `session_db` and the `fs_*` S3 modules.
    pub image_has_s3_modules: bool,
    /// Whether the filestore lives on a PVC (`<fullname>-backend-data`).
    pub filestore_pvc: bool,
    pub workers: i64,
    /// (Secret name, key) of the master password when it comes from an existing Secret.
    pub master_secret: Option<(String, String)>,
    /// (Secret name, key) of the admin user's password.
    pub admin_secret: (String, String),
}

impl Derived {
    pub fn new(release: &str, v: &Values) -> Derived {
        let name = names::chart_name(&v.name_override);
        let fullname = names::fullname(release, &v.name_override, &v.fullname_override);
        let service_account = if v.service_account.create {
            if v.service_account.name.is_empty() {
                fullname.clone()
            } else {
                v.service_account.name.clone()
            }
        } else if v.service_account.name.is_empty() {
            "default".to_string()
        } else {
            v.service_account.name.clone()
        };
        let pg = &v.postgresql;
        let ext = &v.external_database;
        let (db_host, db_port, db_user, db_name) = if pg.enabled {
            (
                format!("{release}-postgresql"),
                5432,
                pg.auth.username.clone(),
                pg.auth.database.clone(),
            )
        } else {
            (
                ext.host.clone(),
                ext.port,
                ext.user.clone(),
                ext.database.clone(),
            )
        };
        let (db_secret, needs_db_password) = if !pg.enabled && !ext.existing_secret.is_empty() {
            (
                (
                    ext.existing_secret.clone(),
                    ext.existing_secret_password_key.clone(),
                ),
                false,
            )
        } else if pg.enabled && !pg.auth.existing_secret.is_empty() {
            (
                (
                    pg.auth.existing_secret.clone(),
                    pg.auth.existing_secret_password_key.clone(),
                ),
                false,
            )
        } else {
            ((fullname.clone(), "db-password".to_string()), true)
        };
        let (session_secret, needs_session_uri) = if !v.session_db.existing_secret.is_empty() {
            (
                (
                    v.session_db.existing_secret.clone(),
                    v.session_db.existing_secret_key.clone(),
                ),
                false,
            )
        } else {
            ((fullname.clone(), "session-db-uri".to_string()), true)
        };
        let s3_requested = v.minio.enabled || v.external_s3.enabled;
        let image_has_s3_modules = match v.backend.image.s3_modules.as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => v
                .backend
                .image
                .repository
                .contains("sergio-bershadsky/odoo"),
        };
        let s3 = s3_requested && image_has_s3_modules;
        let (s3_endpoint, s3_bucket, s3_region) = if v.minio.enabled {
            (
                format!("http://{release}-minio:9000"),
                v.minio
                    .provisioning
                    .buckets
                    .first()
                    .map(|b| b.name.clone())
                    .unwrap_or_else(|| "odoo-filestore".to_string()),
                v.external_s3.region.clone(),
            )
        } else {
            (
                v.external_s3.endpoint.clone(),
                v.external_s3.bucket.clone(),
                v.external_s3.region.clone(),
            )
        };
        let (s3_secret, needs_s3_keys) =
            if v.external_s3.enabled && !v.external_s3.existing_secret.is_empty() {
                (
                    (
                        v.external_s3.existing_secret.clone(),
                        v.external_s3.existing_secret_access_key_key.clone(),
                        v.external_s3.existing_secret_secret_key_key.clone(),
                    ),
                    false,
                )
            } else if v.minio.enabled && !v.minio.auth.existing_secret.is_empty() {
                (
                    (
                        v.minio.auth.existing_secret.clone(),
                        v.minio.auth.existing_secret_root_user_key.clone(),
                        v.minio.auth.existing_secret_root_password_key.clone(),
                    ),
                    false,
                )
            } else {
                (
                    (
                        fullname.clone(),
                        "s3-access-key".to_string(),
                        "s3-secret-key".to_string(),
                    ),
                    s3_requested,
                )
            };
        let filestore_pvc = v.backend.persistence.enabled || !s3;
        let master_secret = if v.backend.odoo.existing_secret.is_empty() {
            None
        } else {
            Some((
                v.backend.odoo.existing_secret.clone(),
                v.backend.odoo.existing_secret_key.clone(),
            ))
        };
        let admin_secret = if v.backend.init_db.existing_secret.is_empty() {
            (format!("{fullname}-config"), "admin-password".to_string())
        } else {
            (
                v.backend.init_db.existing_secret.clone(),
                v.backend.init_db.existing_secret_key.clone(),
            )
        };
        Derived {
            name,
            fullname,
            service_account,
            db_host,
            db_port,
            db_user,
            db_name,
            db_secret,
            needs_db_password,
            session_secret,
            needs_session_uri,
            s3_requested,
            s3,
            s3_endpoint,
            s3_bucket,
            s3_region,
            s3_secret,
            needs_s3_keys,
            image_has_s3_modules,
            filestore_pvc,
            workers: v.backend.odoo.workers,
            master_secret,
            admin_secret,
        }
    }

    /// `--load` modules: the configured list, without `session_db` when the image lacks it.
    pub fn server_wide_modules(&self, v: &Values) -> String {
        v.backend
            .odoo
            .server_wide_modules
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .filter(|m| self.image_has_s3_modules || *m != "session_db")
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The database filter: the configured one, else exactly the instance's database.
    pub fn db_filter(&self, v: &Values) -> String {
        if v.backend.odoo.db_filter.is_empty() {
            format!("^{}$", regex_escape(&self.db_name))
        } else {
            v.backend.odoo.db_filter.clone()
        }
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Everything a component renderer needs.
pub struct Ctx<'a> {
    pub v: &'a Values,
    pub release: &'a str,
    pub namespace: &'a str,
    pub creds: &'a Credentials,
    pub d: Derived,
}

impl<'a> Ctx<'a> {
    pub fn new(input: &RenderInput<'a>) -> Result<Ctx<'a>, crate::Error> {
        Ok(Ctx {
            v: input.values,
            release: input.release,
            namespace: input.namespace,
            creds: input.credentials,
            d: Derived::new(input.release, input.values),
        })
    }

    pub fn fullname(&self) -> &str {
        &self.d.fullname
    }

    /// Labels carried by every object of the instance.
    pub fn labels(&self, component: Option<&str>) -> BTreeMap<String, String> {
        let mut l = self.selector(component);
        l.insert("app.kubernetes.io/managed-by".into(), MANAGED_BY.into());
        l.insert("app.kubernetes.io/version".into(), APP_VERSION.into());
        l
    }

    /// Selector labels: name, instance and component.
    pub fn selector(&self, component: Option<&str>) -> BTreeMap<String, String> {
        let mut l = BTreeMap::new();
        l.insert("app.kubernetes.io/name".into(), self.d.name.clone());
        l.insert(
            "app.kubernetes.io/instance".into(),
            self.release.to_string(),
        );
        if let Some(c) = component {
            l.insert("app.kubernetes.io/component".into(), c.to_string());
        }
        l
    }

    /// Metadata of a top-level object.
    pub fn meta(&self, name: impl Into<String>, component: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.to_string()),
            labels: Some(self.labels(component)),
            ..Default::default()
        }
    }

    /// Metadata of a pod template.
    pub fn pod_meta(&self, component: &str) -> ObjectMeta {
        ObjectMeta {
            labels: Some(self.labels(Some(component))),
            ..Default::default()
        }
    }

    /// A user-supplied container security context as rendered: brought up to
    /// *restricted* with a read-only root filesystem, or — with the opt-out
    /// `security.allowUnrestricted` — taken as written, with only the unset fields filled.
    pub fn container_security(&self, sc: &SecurityContext) -> SecurityContext {
        if self.v.security.allow_unrestricted {
            unrestricted_container(sc)
        } else {
            restricted_container(sc)
        }
    }

    /// A user-supplied pod security context as rendered (see [`Ctx::container_security`]).
    pub fn pod_security(&self, psc: &PodSecurityContext, uid: i64, gid: i64) -> PodSecurityContext {
        if self.v.security.allow_unrestricted {
            let mut p = psc.clone();
            p.run_as_non_root.get_or_insert(true);
            p.run_as_user.get_or_insert(uid);
            p.run_as_group.get_or_insert(gid);
            p.fs_group.get_or_insert(gid);
            p.seccomp_profile.get_or_insert_with(runtime_default);
            p
        } else {
            restricted_pod(psc, uid, gid)
        }
    }

    pub fn image_pull_secrets(
        &self,
    ) -> Option<Vec<k8s_openapi::api::core::v1::LocalObjectReference>> {
        non_empty(self.v.global.image_pull_secrets.clone())
    }
}

/// `Some(v)` unless empty.
pub fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

/// `Some(m)` unless empty.
pub fn non_empty_map(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    if m.is_empty() { None } else { Some(m.clone()) }
}

/// An env var from a Secret key.
pub fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_string(),
                key: key.to_string(),
                optional: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A plain env var.
pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.into()),
        ..Default::default()
    }
}

/// Bring a user-supplied pod security context up to Pod Security Standard *restricted*:
/// non-root and the RuntimeDefault seccomp profile, keeping everything else the user set.
pub fn restricted_pod(psc: &PodSecurityContext, uid: i64, gid: i64) -> PodSecurityContext {
    let mut p = psc.clone();
    p.run_as_non_root = Some(true);
    if p.run_as_user == Some(0) {
        p.run_as_user = None;
    }
    if p.seccomp_profile
        .as_ref()
        .is_some_and(|s| s.type_ == "Unconfined")
    {
        p.seccomp_profile = None;
    }
    if p.run_as_user.is_none() {
        p.run_as_user = Some(uid);
    }
    if p.run_as_group.is_none() {
        p.run_as_group = Some(gid);
    }
    if p.fs_group.is_none() {
        p.fs_group = Some(gid);
    }
    if p.seccomp_profile.is_none() {
        p.seccomp_profile = Some(runtime_default());
    }
    p
}

/// A user's container security context with the opt-out: what the user wrote stays, the
/// fields left unset get the restricted defaults.
pub fn unrestricted_container(sc: &SecurityContext) -> SecurityContext {
    let mut s = sc.clone();
    s.allow_privilege_escalation.get_or_insert(false);
    s.run_as_non_root.get_or_insert(true);
    s.read_only_root_filesystem.get_or_insert(true);
    s.seccomp_profile.get_or_insert_with(runtime_default);
    if s.capabilities.is_none() {
        s.capabilities = Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            add: None,
        });
    }
    s
}

/// Bring a user-supplied container security context up to *restricted*, with a read-only
/// root filesystem (each pod mounts small `emptyDir`s where its program must write).
pub fn restricted_container(sc: &SecurityContext) -> SecurityContext {
    let mut s = sc.clone();
    s.allow_privilege_escalation = Some(false);
    s.privileged = None;
    s.run_as_non_root = Some(true);
    s.read_only_root_filesystem = Some(true);
    if s.run_as_user == Some(0) {
        s.run_as_user = None;
    }
    s.proc_mount = None;
    if let Some(w) = s.windows_options.as_mut() {
        w.host_process = None;
    }
    let mut caps = s.capabilities.take().unwrap_or_default();
    caps.drop = Some(vec!["ALL".to_string()]);
    caps.add = caps
        .add
        .filter(|a| a.iter().all(|c| c == "NET_BIND_SERVICE"))
        .filter(|a| !a.is_empty());
    s.capabilities = Some(Capabilities { ..caps });
    if s.seccomp_profile
        .as_ref()
        .is_none_or(|p| p.type_ == "Unconfined")
    {
        s.seccomp_profile = Some(runtime_default());
    }
    s
}

/// The default restricted container security context for our own helper containers.
pub fn restricted_default(uid: i64, gid: i64) -> SecurityContext {
    let mut s = restricted_container(&SecurityContext::default());
    s.run_as_user = Some(uid);
    s.run_as_group = Some(gid);
    s
}

pub fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        localhost_profile: None,
    }
}

pub fn service_account(ctx: &Ctx<'_>) -> Option<Object> {
    if !ctx.v.service_account.create {
        return None;
    }
    let mut meta = ctx.meta(ctx.d.service_account.clone(), None);
    meta.annotations = non_empty_map(&ctx.v.service_account.annotations);
    Some(Object::ServiceAccount(ServiceAccount {
        metadata: meta,
        automount_service_account_token: Some(false),
        ..Default::default()
    }))
}

/// `Some(t)` unless `t` is its type's default (e.g. an empty `affinity: {}`).
pub fn non_default<T: Default + PartialEq + Clone>(t: &T) -> Option<T> {
    if *t == T::default() {
        None
    } else {
        Some(t.clone())
    }
}

/// An HTTP GET probe from the values, when enabled; only the timings that are set.
pub fn http_probe(p: &Probe) -> Option<K8sProbe> {
    if !p.enabled {
        return None;
    }
    Some(K8sProbe {
        http_get: Some(HTTPGetAction {
            path: Some(p.path.clone()).filter(|path| !path.is_empty()),
            port: port_ref(&p.port),
            ..Default::default()
        }),
        initial_delay_seconds: p.initial_delay_seconds,
        period_seconds: p.period_seconds,
        timeout_seconds: p.timeout_seconds,
        failure_threshold: p.failure_threshold,
        ..Default::default()
    })
}

/// A port given as a number or a name (`"8069"` or `"http"`).
pub fn port_ref(port: &str) -> IntOrString {
    match port.trim().parse::<i32>() {
        Ok(n) => IntOrString::Int(n),
        Err(_) => IntOrString::String(port.to_string()),
    }
}

/// A port number from the values (validated to 1–65535 by the loader); clamped so
/// that rendering never panics on unvalidated input.
pub fn port_i32(port: i64) -> i32 {
    i32::try_from(port.clamp(0, 65535)).unwrap_or_default()
}
