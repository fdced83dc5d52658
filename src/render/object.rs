//! One rendered Kubernetes object, typed.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

macro_rules! objects {
    ($($variant:ident),* $(,)?) => {
        /// A rendered object.
        // Every variant is a whole Kubernetes object of a few kilobytes; boxing the
        // largest would save little and break the one shape all kinds share.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Object {
            $($variant($variant),)*
        }

        impl Object {
            /// The object's `kind`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Object::$variant(_) => stringify!($variant),)*
                }
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Object::$variant(o) => &o.metadata,)*
                }
            }

            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Object::$variant(o) => &mut o.metadata,)*
                }
            }

            /// The object as JSON, with `apiVersion` and `kind`.
            pub fn to_json(&self) -> serde_json::Value {
                let v = match self {
                    $(Object::$variant(o) => serde_json::to_value(o),)*
                };
                v.expect("Kubernetes objects always serialise to JSON")
            }

            /// Parse an object of one of the known kinds from JSON.
            pub fn from_json(v: serde_json::Value) -> Result<Object, String> {
                let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
                match kind.as_str() {
                    $(stringify!($variant) => serde_json::from_value(v)
                        .map(Object::$variant)
                        .map_err(|e| format!("{kind}: {e}")),)*
                    other => Err(format!("unknown kind `{other}`")),
                }
            }
        }
    };
}

objects!(
    ServiceAccount,
    Secret,
    ConfigMap,
    Service,
    PersistentVolumeClaim,
    StatefulSet,
    Job,
    CronJob,
    Deployment,
    PodDisruptionBudget,
    Ingress,
    NetworkPolicy,
);

impl Object {
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// `Kind/name`, for messages.
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }

    pub fn component(&self) -> Option<&str> {
        self.metadata()
            .labels
            .as_ref()
            .and_then(|l| l.get("app.kubernetes.io/component"))
            .map(String::as_str)
    }
}
