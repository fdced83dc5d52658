//! NetworkPolicies (`networkPolicy.enabled`): only nginx, the frontend, the smoke
//! check and the ingress controller's namespaces reach the backend; PostgreSQL admits
//! only the instance's backend and the Jobs that use the database, MinIO only the
//! backend and the Jobs that use the bucket — each by its component label, never any pod
//! that merely carries the instance label (anyone can create such a pod). Ingress
//! policies only: egress stays open.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::common::Ctx;
use super::common::port_i32;
use super::nginx;
use super::object::Object;

/// Component label of the post-rollout smoke-check Job's pods.
const SMOKE_CHECK: &str = "smoke-check";
const POSTGRESQL_PORT: i32 = 5432;
const MINIO_API_PORT: i32 = 9000;

/// The NetworkPolicies `<fullname>-backend`, `-postgresql` (bundled PostgreSQL),
/// `-minio` (bundled MinIO), `-nginx` and `-frontend` (when those are enabled);
/// nothing unless `networkPolicy.enabled`.
pub fn render(ctx: &Ctx) -> Vec<Object> {
    let v = ctx.v;
    if !v.network_policy.enabled {
        return Vec::new();
    }
    let mut out = vec![backend(ctx)];
    if v.postgresql.enabled {
        out.push(only_from(
            ctx,
            "postgresql",
            POSTGRESQL_CLIENTS,
            POSTGRESQL_PORT,
        ));
    }
    if v.minio.enabled {
        out.push(only_from(ctx, "minio", MINIO_CLIENTS, MINIO_API_PORT));
    }
    if v.nginx.enabled {
        out.push(nginx_policy(ctx));
    }
    if v.frontend.enabled {
        out.push(frontend(ctx));
    }
    out.into_iter().map(Object::NetworkPolicy).collect()
}

/// The backend: from nginx, the frontend, the smoke check and the ingress namespaces,
/// on the HTTP and websocket ports.
fn backend(ctx: &Ctx) -> NetworkPolicy {
    let v = ctx.v;
    let mut from = Vec::new();
    if v.nginx.enabled {
        from.push(pods(ctx.selector(Some(nginx::COMPONENT))));
    }
    if v.frontend.enabled {
        from.push(pods(ctx.selector(Some(super::frontend::COMPONENT))));
    }
    from.push(pods(ctx.selector(Some(SMOKE_CHECK))));
    from.extend(ingress_namespaces(ctx));
    let ports = &v.backend.service.ports;
    policy(
        ctx,
        "backend",
        from,
        &[port_i32(ports.http), port_i32(ports.websocket)],
    )
}

/// The components whose pods talk to PostgreSQL: the backend and the Jobs running Odoo
/// or `pg_dump`.
pub const POSTGRESQL_CLIENTS: &[&str] = &["backend", "init", "storage-init", "upgrade", "backup"];
/// The components whose pods talk to MinIO: the backend, the Jobs that write attachments
/// (first boot, storage init, upgrades), the backup upload and the bucket provisioning.
pub const MINIO_CLIENTS: &[&str] = &[
    "backend",
    "init",
    "storage-init",
    "upgrade",
    "backup",
    "minio-provisioning",
];

/// PostgreSQL or MinIO: only from the pods of these components of this instance (the
/// full selector labels: name, instance and component).
fn only_from(ctx: &Ctx, component: &str, clients: &[&str], port: i32) -> NetworkPolicy {
    let from = clients
        .iter()
        .map(|c| pods(ctx.selector(Some(c))))
        .collect();
    policy(ctx, component, from, &[port])
}

/// nginx: from the ingress namespaces, on its (unprivileged) container port.
fn nginx_policy(ctx: &Ctx) -> NetworkPolicy {
    policy(
        ctx,
        nginx::COMPONENT,
        ingress_namespaces(ctx).into_iter().collect(),
        &[nginx::CONTAINER_PORT],
    )
}

/// The frontend: from nginx and the ingress namespaces.
fn frontend(ctx: &Ctx) -> NetworkPolicy {
    let mut from = Vec::new();
    if ctx.v.nginx.enabled {
        from.push(pods(ctx.selector(Some(nginx::COMPONENT))));
    }
    from.extend(ingress_namespaces(ctx));
    policy(
        ctx,
        super::frontend::COMPONENT,
        from,
        &[port_i32(ctx.v.frontend.service.port)],
    )
}

/// Pods in the policy's namespace with these labels.
fn pods(labels: BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(labels),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Every pod of the namespaces matching `networkPolicy.ingressNamespaceSelector`.
/// An empty selector would match every namespace: it is left out instead (closed).
fn ingress_namespaces(ctx: &Ctx) -> Option<NetworkPolicyPeer> {
    let selector = &ctx.v.network_policy.ingress_namespace_selector;
    let empty = selector
        .match_labels
        .as_ref()
        .is_none_or(BTreeMap::is_empty)
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(Vec::is_empty);
    if empty {
        return None;
    }
    Some(NetworkPolicyPeer {
        namespace_selector: Some(selector.clone()),
        ..Default::default()
    })
}

/// `<fullname>-<component>` selecting the component's pods, Ingress only. With no
/// peers there is no rule at all: a rule without `from` would admit everyone.
fn policy(
    ctx: &Ctx,
    component: &str,
    from: Vec<NetworkPolicyPeer>,
    ports: &[i32],
) -> NetworkPolicy {
    let ingress = if from.is_empty() {
        Vec::new()
    } else {
        vec![NetworkPolicyIngressRule {
            from: Some(from),
            ports: Some(ports.iter().map(|p| tcp(*p)).collect()),
        }]
    };
    NetworkPolicy {
        metadata: ctx.meta(format!("{}-{component}", ctx.fullname()), Some(component)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(ctx.selector(Some(component))),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".to_string()]),
            ingress: Some(ingress),
            egress: None,
        }),
    }
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".to_string()),
        end_port: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Credentials, RenderInput};
    use crate::values::Values;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn values() -> Values {
        let mut v: Values = crate::values::defaults();
        v.network_policy.enabled = true;
        v
    }

    fn policies(v: &Values) -> BTreeMap<String, NetworkPolicySpec> {
        let creds = Credentials::default();
        let input = RenderInput {
            release: "acme",
            namespace: "odoo",
            values: v,
            credentials: &creds,
        };
        render(&Ctx::new(&input).expect("ctx"))
            .into_iter()
            .map(|o| match o {
                Object::NetworkPolicy(np) => (np.metadata.name.unwrap(), np.spec.unwrap()),
                other => panic!("unexpected {}", other.key()),
            })
            .collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn component(c: &str) -> BTreeMap<String, String> {
        labels(&[
            ("app.kubernetes.io/name", "odoo"),
            ("app.kubernetes.io/instance", "acme"),
            ("app.kubernetes.io/component", c),
        ])
    }

    fn ingress_ns() -> NetworkPolicyPeer {
        NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(labels(&[("kubernetes.io/metadata.name", "ingress-nginx")])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn the_rule(spec: &NetworkPolicySpec) -> &NetworkPolicyIngressRule {
        let rules = spec.ingress.as_ref().unwrap();
        assert_eq!(rules.len(), 1);
        &rules[0]
    }

    fn ports(rule: &NetworkPolicyIngressRule) -> Vec<i32> {
        rule.ports
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| match p.port {
                Some(IntOrString::Int(n)) => n,
                ref other => panic!("port {other:?}"),
            })
            .collect()
    }

    #[test]
    fn nothing_when_disabled() {
        let mut v = values();
        v.network_policy.enabled = false;
        assert!(policies(&v).is_empty());
    }

    #[test]
    fn defaults_cover_backend_postgresql_and_minio() {
        let p = policies(&values());
        let names: Vec<_> = p.keys().cloned().collect();
        assert_eq!(
            names,
            [
                "acme-odoo-backend",
                "acme-odoo-minio",
                "acme-odoo-postgresql"
            ]
        );
        for spec in p.values() {
            assert_eq!(
                spec.policy_types.as_deref(),
                Some(&["Ingress".to_string()][..])
            );
            assert!(spec.egress.is_none());
        }
    }

    #[test]
    fn backend_admits_nginx_frontend_smoke_check_and_ingress_namespace() {
        let mut v = values();
        v.nginx.enabled = true;
        v.frontend.enabled = true;
        let p = policies(&v);
        let spec = &p["acme-odoo-backend"];
        assert_eq!(
            spec.pod_selector.as_ref().unwrap().match_labels,
            Some(component("backend"))
        );
        let rule = the_rule(spec);
        assert_eq!(
            rule.from.as_deref().unwrap(),
            &[
                pods(component("nginx")),
                pods(component("frontend")),
                pods(component("smoke-check")),
                ingress_ns(),
            ]
        );
        assert_eq!(ports(rule), [8069, 8072]);
        assert_eq!(
            rule.ports.as_ref().unwrap()[0].protocol.as_deref(),
            Some("TCP")
        );
    }

    #[test]
    fn backend_without_nginx_and_frontend() {
        let p = policies(&values());
        let rule = the_rule(&p["acme-odoo-backend"]);
        assert_eq!(
            rule.from.as_deref().unwrap(),
            &[pods(component("smoke-check")), ingress_ns()]
        );
    }

    #[test]
    fn datastores_only_from_their_clients_by_component() {
        let p = policies(&values());
        for (name, comp, port, clients) in [
            (
                "acme-odoo-postgresql",
                "postgresql",
                5432,
                &["backend", "init", "storage-init", "upgrade", "backup"][..],
            ),
            (
                "acme-odoo-minio",
                "minio",
                9000,
                &[
                    "backend",
                    "init",
                    "storage-init",
                    "upgrade",
                    "backup",
                    "minio-provisioning",
                ][..],
            ),
        ] {
            let spec = &p[name];
            assert_eq!(
                spec.pod_selector.as_ref().unwrap().match_labels,
                Some(component(comp))
            );
            let rule = the_rule(spec);
            let want: Vec<NetworkPolicyPeer> = clients.iter().map(|c| pods(component(c))).collect();
            assert_eq!(rule.from.as_deref().unwrap(), &want[..]);
            // Never a peer matching any pod that only carries the instance label.
            for peer in rule.from.as_ref().unwrap() {
                let l = peer
                    .pod_selector
                    .as_ref()
                    .unwrap()
                    .match_labels
                    .as_ref()
                    .unwrap();
                assert!(
                    l.contains_key("app.kubernetes.io/component"),
                    "{name}: {l:?}"
                );
                assert!(peer.namespace_selector.is_none());
            }
            assert_eq!(ports(rule), [port]);
        }
        let mut v = values();
        v.postgresql.enabled = false;
        v.minio.enabled = false;
        let names: Vec<_> = policies(&v).into_keys().collect();
        assert_eq!(names, ["acme-odoo-backend"]);
    }

    #[test]
    fn nginx_and_frontend_policies() {
        let mut v = values();
        v.nginx.enabled = true;
        v.frontend.enabled = true;
        v.frontend.service.port = 3001;
        let p = policies(&v);
        let nginx = the_rule(&p["acme-odoo-nginx"]);
        assert_eq!(nginx.from.as_deref().unwrap(), &[ingress_ns()]);
        assert_eq!(ports(nginx), [8080]);
        assert_eq!(
            p["acme-odoo-nginx"]
                .pod_selector
                .as_ref()
                .unwrap()
                .match_labels,
            Some(component("nginx"))
        );
        let frontend = the_rule(&p["acme-odoo-frontend"]);
        assert_eq!(
            frontend.from.as_deref().unwrap(),
            &[pods(component("nginx")), ingress_ns()]
        );
        assert_eq!(ports(frontend), [3001]);
    }

    #[test]
    fn namespace_selector_with_expressions_is_kept() {
        let mut v = values();
        v.network_policy.ingress_namespace_selector = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "ingress".into(),
                operator: "Exists".into(),
                values: None,
            }]),
        };
        let p = policies(&v);
        let from = the_rule(&p["acme-odoo-backend"]).from.clone().unwrap();
        assert_eq!(
            from.last().unwrap().namespace_selector,
            Some(v.network_policy.ingress_namespace_selector.clone())
        );
    }

    #[test]
    fn empty_namespace_selector_closes_instead_of_opening() {
        let mut v = values();
        v.nginx.enabled = true;
        v.network_policy.ingress_namespace_selector = LabelSelector::default();
        let p = policies(&v);
        // nginx has no allowed peer left: no rule at all (deny), never an empty `from`.
        assert_eq!(p["acme-odoo-nginx"].ingress, Some(vec![]));
        let backend = the_rule(&p["acme-odoo-backend"]);
        assert!(
            backend
                .from
                .as_ref()
                .unwrap()
                .iter()
                .all(|peer| peer.namespace_selector.is_none())
        );
    }
}
