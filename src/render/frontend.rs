//! The optional headless frontend (e.g. a Next.js shop) served next to Odoo.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ClientIPConfig, Container, ContainerPort, PodSpec, PodTemplateSpec, Service, ServiceSpec,
    SessionAffinityConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::backend::pdb_for;
use super::common::{self, Ctx};
use super::common::{http_probe, non_default, port_i32};
use super::object::Object;

/// `app.kubernetes.io/component` of every frontend object.
pub const COMPONENT: &str = "frontend";
/// uid/gid the frontend runs as unless its security contexts say otherwise.
const FRONTEND_UID: i64 = 1000;

/// Name of the frontend Deployment, Service and PDB.
pub fn name(ctx: &Ctx) -> String {
    format!("{}-frontend", ctx.fullname())
}

/// Deployment + Service `<fullname>-frontend` and, when `frontend.pdb.enabled` and the
/// replicas exceed `minAvailable`, the PDB; nothing unless `frontend.enabled`.
pub fn render(ctx: &Ctx) -> Vec<Object> {
    let f = &ctx.v.frontend;
    if !f.enabled {
        return Vec::new();
    }
    let mut out = vec![
        Object::Deployment(deployment(ctx)),
        Object::Service(service(ctx)),
    ];
    out.extend(pdb_for(
        ctx,
        COMPONENT,
        &name(ctx),
        f.pdb.enabled,
        f.pdb.min_available,
        f.replica_count,
    ));
    out
}

fn deployment(ctx: &Ctx) -> Deployment {
    let f = &ctx.v.frontend;
    Deployment {
        metadata: ctx.meta(name(ctx), Some(COMPONENT)),
        spec: Some(DeploymentSpec {
            replicas: Some(f.replica_count),
            strategy: non_default(&f.update_strategy),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(Some(COMPONENT))),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ctx.pod_meta(COMPONENT)),
                spec: Some(pod_spec(ctx)),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod_spec(ctx: &Ctx) -> PodSpec {
    let f = &ctx.v.frontend;
    PodSpec {
        service_account_name: Some(ctx.d.service_account.clone()),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(ctx.pod_security(
            &f.pod_security_context,
            FRONTEND_UID,
            FRONTEND_UID,
        )),
        containers: vec![container(ctx)],
        // The root filesystem is read-only: temporary files go to /tmp.
        volumes: Some(vec![super::backend::empty_dir("tmp")]),
        node_selector: common::non_empty_map(&f.node_selector),
        tolerations: common::non_empty(f.tolerations.clone()),
        affinity: non_default(&f.affinity),
        ..Default::default()
    }
}

fn container(ctx: &Ctx) -> Container {
    let f = &ctx.v.frontend;
    Container {
        name: COMPONENT.to_string(),
        image: Some(f.image.reference()),
        image_pull_policy: Some(f.image.pull_policy.clone()),
        command: common::non_empty(f.command.clone()),
        args: common::non_empty(f.args.clone()),
        env: common::non_empty(f.env.clone()),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_string()),
            container_port: port_i32(f.service.port),
            protocol: Some("TCP".to_string()),
            ..Default::default()
        }]),
        startup_probe: http_probe(&f.startup_probe),
        liveness_probe: http_probe(&f.liveness_probe),
        readiness_probe: http_probe(&f.readiness_probe),
        resources: non_default(&f.resources),
        security_context: Some(ctx.container_security(&f.container_security_context)),
        volume_mounts: Some(vec![k8s_openapi::api::core::v1::VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn service(ctx: &Ctx) -> Service {
    let s = &ctx.v.frontend.service;
    let affinity = s.session_affinity.enabled;
    Service {
        metadata: ctx.meta(name(ctx), Some(COMPONENT)),
        spec: Some(ServiceSpec {
            type_: Some(s.type_.clone()),
            selector: Some(ctx.selector(Some(COMPONENT))),
            session_affinity: affinity.then(|| "ClientIP".to_string()),
            session_affinity_config: affinity.then_some(SessionAffinityConfig {
                client_ip: Some(ClientIPConfig {
                    timeout_seconds: Some(s.session_affinity.timeout_seconds),
                }),
            }),
            ports: Some(vec![super::backend::service_port("http", s.port, "http")]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Credentials, RenderInput};
    use crate::values::Values;
    use k8s_openapi::api::core::v1::EnvVar;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn values() -> Values {
        let mut v: Values = crate::values::defaults();
        v.frontend.enabled = true;
        v.frontend.image.repository = "ghcr.io/acme/shop".into();
        v.frontend.image.tag = "1.4.2".into();
        v
    }

    fn rendered(v: &Values) -> Vec<Object> {
        let creds = Credentials::default();
        let input = RenderInput {
            release: "acme",
            namespace: "odoo",
            values: v,
            credentials: &creds,
        };
        render(&Ctx::new(&input).expect("ctx"))
    }

    fn deployment(objects: &[Object]) -> &Deployment {
        objects
            .iter()
            .find_map(|o| match o {
                Object::Deployment(d) => Some(d),
                _ => None,
            })
            .expect("deployment")
    }

    fn service(objects: &[Object]) -> &Service {
        objects
            .iter()
            .find_map(|o| match o {
                Object::Service(s) => Some(s),
                _ => None,
            })
            .expect("service")
    }

    #[test]
    fn nothing_when_disabled() {
        let mut v = values();
        v.frontend.enabled = false;
        assert!(rendered(&v).is_empty());
    }

    #[test]
    fn deployment_container_and_pod() {
        let mut v = values();
        v.frontend.command = vec!["node".into()];
        v.frontend.args = vec!["server.js".into()];
        v.frontend.env = vec![common::env("API_URL", "http://acme-odoo-backend:8069")];
        v.frontend.node_selector.insert("pool".into(), "web".into());
        let objects = rendered(&v);
        let d = deployment(&objects);
        assert_eq!(d.metadata.name.as_deref(), Some("acme-odoo-frontend"));
        assert_eq!(
            d.metadata.labels.as_ref().unwrap()["app.kubernetes.io/component"],
            "frontend"
        );
        let spec = d.spec.as_ref().unwrap();
        assert_eq!(
            spec.selector.match_labels.as_ref().unwrap()["app.kubernetes.io/component"],
            "frontend"
        );
        assert_eq!(
            spec.strategy.as_ref().unwrap().type_.as_deref(),
            Some("RollingUpdate")
        );
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.service_account_name.as_deref(), Some("acme-odoo"));
        assert_eq!(pod.node_selector.as_ref().unwrap()["pool"], "web");
        assert!(pod.affinity.is_none() && pod.tolerations.is_none());
        let c = &pod.containers[0];
        assert_eq!(c.image.as_deref(), Some("ghcr.io/acme/shop:1.4.2"));
        assert_eq!(c.command.as_deref(), Some(&["node".to_string()][..]));
        assert_eq!(c.args.as_deref(), Some(&["server.js".to_string()][..]));
        let env: &[EnvVar] = c.env.as_deref().unwrap();
        assert_eq!(env[0].name, "API_URL");
        let port = &c.ports.as_ref().unwrap()[0];
        assert_eq!(
            (port.name.as_deref(), port.container_port),
            (Some("http"), 3000)
        );
    }

    #[test]
    fn empty_lists_are_left_out() {
        let objects = rendered(&values());
        let c = &deployment(&objects)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        assert!(c.command.is_none() && c.args.is_none() && c.env.is_none());
    }

    #[test]
    fn probes_only_set_fields() {
        let mut v = values();
        v.frontend.liveness_probe.enabled = false;
        v.frontend.readiness_probe.path = "/ready".into();
        v.frontend.readiness_probe.port = "3001".into();
        v.frontend.readiness_probe.timeout_seconds = Some(2);
        let objects = rendered(&v);
        let c = &deployment(&objects)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        assert!(c.liveness_probe.is_none());
        let startup = c.startup_probe.as_ref().unwrap();
        let get = startup.http_get.as_ref().unwrap();
        assert_eq!(get.path.as_deref(), Some("/"));
        assert_eq!(get.port, IntOrString::String("http".into()));
        assert_eq!(startup.period_seconds, Some(5));
        assert_eq!(startup.failure_threshold, Some(12));
        assert_eq!(startup.timeout_seconds, None);
        assert_eq!(startup.initial_delay_seconds, None);
        let ready = c.readiness_probe.as_ref().unwrap();
        let get = ready.http_get.as_ref().unwrap();
        assert_eq!(get.path.as_deref(), Some("/ready"));
        assert_eq!(get.port, IntOrString::Int(3001));
        assert_eq!(ready.timeout_seconds, Some(2));
    }

    #[test]
    fn restricted_security_contexts() {
        let mut v = values();
        v.frontend.pod_security_context = Default::default();
        v.frontend.container_security_context = Default::default();
        let objects = rendered(&v);
        let pod = deployment(&objects)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .clone()
            .unwrap();
        let psc = pod.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.run_as_user, Some(1000));
        assert_eq!(psc.run_as_group, Some(1000));
        assert_eq!(psc.fs_group, Some(1000));
        assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let sc = pod.containers[0].security_context.clone().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.capabilities.unwrap().drop, Some(vec!["ALL".to_string()]));
        assert_eq!(sc.seccomp_profile.unwrap().type_, "RuntimeDefault");
    }

    #[test]
    fn service_with_session_affinity() {
        let mut v = values();
        let objects = rendered(&v);
        let spec = service(&objects).spec.clone().unwrap();
        assert_eq!(spec.session_affinity, None);
        assert_eq!(spec.session_affinity_config, None);
        let port = &spec.ports.unwrap()[0];
        assert_eq!(port.port, 3000);
        assert_eq!(port.target_port, Some(IntOrString::String("http".into())));

        v.frontend.service.session_affinity.enabled = true;
        v.frontend.service.session_affinity.timeout_seconds = 600;
        let objects = rendered(&v);
        let spec = service(&objects).spec.clone().unwrap();
        assert_eq!(spec.session_affinity.as_deref(), Some("ClientIP"));
        assert_eq!(
            spec.session_affinity_config
                .unwrap()
                .client_ip
                .unwrap()
                .timeout_seconds,
            Some(600)
        );
        assert_eq!(
            spec.selector.unwrap()["app.kubernetes.io/component"],
            "frontend"
        );
    }

    #[test]
    fn pdb_only_when_replicas_exceed_min_available() {
        let mut v = values();
        v.frontend.pdb.enabled = true;
        v.frontend.pdb.min_available = 1;
        v.frontend.replica_count = 1;
        let kinds = |v: &Values| rendered(v).iter().map(|o| o.kind()).collect::<Vec<_>>();
        assert_eq!(kinds(&v), ["Deployment", "Service"]);
        v.frontend.replica_count = 3;
        let objects = rendered(&v);
        let pdb = objects
            .iter()
            .find_map(|o| match o {
                Object::PodDisruptionBudget(p) => Some(p),
                _ => None,
            })
            .expect("pdb");
        assert_eq!(pdb.metadata.name.as_deref(), Some("acme-odoo-frontend"));
        let spec = pdb.spec.as_ref().unwrap();
        assert_eq!(spec.min_available, Some(IntOrString::Int(1)));
        assert_eq!(
            spec.selector
                .as_ref()
                .unwrap()
                .match_labels
                .as_ref()
                .unwrap()["app.kubernetes.io/component"],
            "frontend"
        );
        v.frontend.pdb.enabled = false;
        assert_eq!(kinds(&v), ["Deployment", "Service"]);
    }
}
