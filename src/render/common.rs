//! Labels, metadata and the building blocks every component shares. The facts derived
//! from the values (names, database, object storage, Secrets) are in `values::derived`.

use std::collections::BTreeMap;

use crate::values::Probe;
use k8s_openapi::api::core::v1::{
    Capabilities, EnvVar, EnvVarSource, PodSecurityContext, SeccompProfile, SecretKeySelector,
    SecurityContext, ServiceAccount,
};
use k8s_openapi::api::core::v1::{HTTPGetAction, Probe as K8sProbe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Credentials, Object, RenderInput, Transition};
use crate::values::Values;
pub use crate::values::derived::{Derived, names};

/// The Odoo version this product deploys (`app.kubernetes.io/version`).
pub const APP_VERSION: &str = "18.0";
/// Value of `app.kubernetes.io/managed-by` on every object.
pub const MANAGED_BY: &str = "odoo-tui";

/// Everything a component renderer needs.
pub struct Ctx<'a> {
    pub v: &'a Values,
    pub release: &'a str,
    pub namespace: &'a str,
    pub creds: &'a Credentials,
    pub d: Derived,
    /// An operation under way (none outside the apply engine's special runs).
    pub transition: Transition,
}

impl<'a> Ctx<'a> {
    pub fn new(input: &RenderInput<'a>) -> Result<Ctx<'a>, crate::Error> {
        Ok(Ctx {
            v: input.values,
            release: input.release,
            namespace: input.namespace,
            creds: input.credentials,
            d: Derived::new(input.release, input.values),
            transition: Transition::default(),
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
