//! A single-replica StatefulSet with its Service, as the bundled PostgreSQL and MinIO use.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, PodSpec, PodTemplateSpec, Service, ServiceSpec, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::Object;
use super::backend::{claim, empty_dir, service_port};
use super::common::{Ctx, non_default, non_empty, non_empty_map};
use crate::values::{Persistence, StringMap};

pub struct Stateful<'v> {
    pub name: String,
    pub component: &'static str,
    pub container: Container,
    pub uid: i64,
    pub persistence: &'v Persistence,
    pub extra_empty_dirs: &'static [&'static str],
    pub ports: Vec<(&'static str, i64)>,
    pub node_selector: &'v StringMap,
    pub tolerations: &'v [Toleration],
    pub affinity: &'v Affinity,
}

pub fn stateful_set(ctx: &Ctx<'_>, s: Stateful<'_>) -> Vec<Object> {
    let mut volumes: Vec<_> = s.extra_empty_dirs.iter().map(|n| empty_dir(n)).collect();
    let claims = if s.persistence.enabled {
        let mut c = claim(
            ctx,
            "data".into(),
            &s.persistence.size,
            &s.persistence.storage_class,
            s.component,
        );
        // Claim templates carry only what the controller copies: the selector labels and
        // `managed-by`, so that odoo-tui can tell its own PVCs from another tool's that
        // share the instance label.
        c.metadata.namespace = None;
        let mut labels = ctx.selector(Some(s.component));
        labels.insert(
            "app.kubernetes.io/managed-by".into(),
            super::common::MANAGED_BY.into(),
        );
        c.metadata.labels = Some(labels);
        Some(vec![c])
    } else {
        volumes.push(empty_dir("data"));
        None
    };
    let sts = StatefulSet {
        metadata: ctx.meta(s.name.clone(), Some(s.component)),
        spec: Some(StatefulSetSpec {
            service_name: Some(s.name.clone()),
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(Some(s.component))),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ctx.pod_meta(s.component)),
                spec: Some(PodSpec {
                    image_pull_secrets: ctx.image_pull_secrets(),
                    automount_service_account_token: Some(false),
                    security_context: Some(ctx.pod_security(&Default::default(), s.uid, s.uid)),
                    containers: vec![s.container],
                    volumes: non_empty(volumes),
                    node_selector: non_empty_map(s.node_selector),
                    tolerations: non_empty(s.tolerations.to_vec()),
                    affinity: non_default(s.affinity),
                    ..Default::default()
                }),
            },
            volume_claim_templates: claims,
            ..Default::default()
        }),
        ..Default::default()
    };
    let svc = Service {
        metadata: ctx.meta(s.name.clone(), Some(s.component)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(ctx.selector(Some(s.component))),
            ports: Some(
                s.ports
                    .iter()
                    .map(|(n, p)| service_port(n, *p, n))
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    vec![Object::Service(svc), Object::StatefulSet(sts)]
}
