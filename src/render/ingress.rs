//! The Ingress `<fullname>`: every host to nginx when nginx is on, else the chart's
//! per-path routing plus a `/websocket` path to Odoo's websocket port.

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};

use super::common::port_i32;
use super::common::{self, Ctx};
use super::object::Object;
use crate::values::IngressPath;

const WEBSOCKET_PATH: &str = "/websocket";

/// The Ingress `<fullname>` when `ingress.enabled`. Hosts without paths get `/` to the
/// backend; with no hosts at all, one host-less rule routes every host.
pub fn render(ctx: &Ctx) -> Vec<Object> {
    let i = &ctx.v.ingress;
    if !i.enabled {
        return Vec::new();
    }
    let mut metadata = ctx.meta(ctx.fullname(), None);
    metadata.annotations = common::non_empty_map(&i.annotations);
    let spec = IngressSpec {
        ingress_class_name: Some(i.class_name.trim().to_string()).filter(|c| !c.is_empty()),
        rules: Some(rules(ctx)),
        tls: common::non_empty(i.tls.clone()),
        ..Default::default()
    };
    vec![Object::Ingress(Ingress {
        metadata,
        spec: Some(spec),
        ..Default::default()
    })]
}

fn rules(ctx: &Ctx) -> Vec<IngressRule> {
    let hosts = &ctx.v.ingress.hosts;
    if hosts.is_empty() {
        return vec![rule(None, host_paths(ctx, &[]))];
    }
    hosts
        .iter()
        .map(|h| {
            let host = Some(h.host.trim().to_string()).filter(|h| !h.is_empty());
            rule(host, host_paths(ctx, &h.paths))
        })
        .collect()
}

fn rule(host: Option<String>, paths: Vec<HTTPIngressPath>) -> IngressRule {
    IngressRule {
        host,
        http: Some(HTTPIngressRuleValue { paths }),
    }
}

/// The paths of one host.
fn host_paths(ctx: &Ctx, paths: &[IngressPath]) -> Vec<HTTPIngressPath> {
    if ctx.v.nginx.enabled {
        let nginx = format!("{}-nginx", ctx.fullname());
        return vec![path(
            "/",
            "Prefix",
            &nginx,
            port_i32(ctx.v.nginx.service.port),
        )];
    }
    let backend = backend_service(ctx);
    let http = port_i32(ctx.v.backend.service.ports.http);
    let mut out: Vec<HTTPIngressPath> = if paths.is_empty() {
        vec![path("/", "Prefix", &backend, http)]
    } else {
        paths.iter().map(|p| user_path(ctx, p)).collect()
    };
    let has_websocket = paths
        .iter()
        .any(|p| p.path.trim_end_matches('/') == WEBSOCKET_PATH);
    if !has_websocket {
        out.push(path(
            WEBSOCKET_PATH,
            "Prefix",
            &backend,
            websocket_port(ctx),
        ));
    }
    out
}

/// The Service port Odoo serves `/websocket` on: the gevent port with workers, else HTTP.
fn websocket_port(ctx: &Ctx) -> i32 {
    let ports = &ctx.v.backend.service.ports;
    port_i32(if ctx.d.workers > 0 {
        ports.websocket
    } else {
        ports.http
    })
}

fn backend_service(ctx: &Ctx) -> String {
    format!("{}-backend", ctx.fullname())
}

/// One user-listed path: `backend`/`frontend` name our Services, anything else is
/// taken as the name of another Service. Without a port: the chosen Service's HTTP
/// port (a port named `http` for a Service that is not ours).
fn user_path(ctx: &Ctx, p: &IngressPath) -> HTTPIngressPath {
    let (name, default_port) = match p.service.as_str() {
        "backend" => (backend_service(ctx), Some(ctx.v.backend.service.ports.http)),
        "frontend" => (
            format!("{}-frontend", ctx.fullname()),
            Some(ctx.v.frontend.service.port),
        ),
        other => (other.to_string(), None),
    };
    let port = match p.port.or(default_port) {
        Some(n) => ServiceBackendPort {
            number: Some(port_i32(n)),
            name: None,
        },
        None => ServiceBackendPort {
            number: None,
            name: Some("http".to_string()),
        },
    };
    HTTPIngressPath {
        path: Some(p.path.clone()),
        path_type: p.path_type.clone(),
        backend: service_backend(name, port),
    }
}

fn path(path: &str, path_type: &str, service: &str, port: i32) -> HTTPIngressPath {
    HTTPIngressPath {
        path: Some(path.to_string()),
        path_type: path_type.to_string(),
        backend: service_backend(
            service.to_string(),
            ServiceBackendPort {
                number: Some(port),
                name: None,
            },
        ),
    }
}

fn service_backend(name: String, port: ServiceBackendPort) -> IngressBackend {
    IngressBackend {
        service: Some(IngressServiceBackend {
            name,
            port: Some(port),
        }),
        resource: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Credentials, RenderInput};
    use crate::values::{IngressHost, Values};
    use k8s_openapi::api::networking::v1::IngressTLS;

    fn values() -> Values {
        let mut v: Values = crate::values::defaults();
        v.ingress.enabled = true;
        v.ingress.hosts = vec![IngressHost {
            host: "erp.example.com".into(),
            paths: vec![],
        }];
        v
    }

    fn ingress(v: &Values) -> Option<Ingress> {
        let creds = Credentials::default();
        let input = RenderInput {
            release: "acme",
            namespace: "odoo",
            values: v,
            credentials: &creds,
        };
        let objects = render(&Ctx::new(&input).expect("ctx"));
        assert!(objects.len() <= 1);
        objects.into_iter().next().map(|o| match o {
            Object::Ingress(i) => i,
            other => panic!("unexpected {}", other.key()),
        })
    }

    /// (host, path, pathType, service, port number or name) of every path.
    fn routes(i: &Ingress) -> Vec<(String, String, String, String, String)> {
        let spec = i.spec.as_ref().unwrap();
        let mut out = Vec::new();
        for r in spec.rules.as_ref().unwrap() {
            for p in &r.http.as_ref().unwrap().paths {
                let svc = p.backend.service.as_ref().unwrap();
                let port = svc.port.as_ref().unwrap();
                out.push((
                    r.host.clone().unwrap_or_default(),
                    p.path.clone().unwrap(),
                    p.path_type.clone(),
                    svc.name.clone(),
                    port.number
                        .map(|n| n.to_string())
                        .or(port.name.clone())
                        .unwrap(),
                ));
            }
        }
        out
    }

    fn route(
        h: &str,
        p: &str,
        t: &str,
        s: &str,
        port: &str,
    ) -> (String, String, String, String, String) {
        (h.into(), p.into(), t.into(), s.into(), port.into())
    }

    #[test]
    fn nothing_when_disabled() {
        let mut v = values();
        v.ingress.enabled = false;
        assert!(ingress(&v).is_none());
    }

    #[test]
    fn with_nginx_every_host_goes_to_nginx() {
        let mut v = values();
        v.nginx.enabled = true;
        v.nginx.service.port = 8000;
        v.ingress.hosts.push(IngressHost {
            host: "shop.example.com".into(),
            paths: vec![IngressPath {
                path: "/api".into(),
                path_type: "Prefix".into(),
                service: "backend".into(),
                port: None,
            }],
        });
        let i = ingress(&v).unwrap();
        assert_eq!(i.metadata.name.as_deref(), Some("acme-odoo"));
        assert_eq!(
            routes(&i),
            vec![
                route("erp.example.com", "/", "Prefix", "acme-odoo-nginx", "8000"),
                route("shop.example.com", "/", "Prefix", "acme-odoo-nginx", "8000"),
            ]
        );
    }

    #[test]
    fn without_nginx_host_without_paths_gets_backend_and_websocket() {
        let i = ingress(&values()).unwrap();
        assert_eq!(
            routes(&i),
            vec![
                route(
                    "erp.example.com",
                    "/",
                    "Prefix",
                    "acme-odoo-backend",
                    "8069"
                ),
                route(
                    "erp.example.com",
                    "/websocket",
                    "Prefix",
                    "acme-odoo-backend",
                    "8072"
                ),
            ]
        );
    }

    #[test]
    fn websocket_goes_to_http_port_without_workers() {
        let mut v = values();
        v.backend.odoo.workers = 0;
        let i = ingress(&v).unwrap();
        assert_eq!(
            routes(&i)[1],
            route(
                "erp.example.com",
                "/websocket",
                "Prefix",
                "acme-odoo-backend",
                "8069"
            )
        );
    }

    #[test]
    fn user_paths_resolve_services_and_default_ports() {
        let mut v = values();
        v.ingress.hosts[0].paths = vec![
            IngressPath {
                path: "/".into(),
                path_type: "Prefix".into(),
                service: "frontend".into(),
                port: None,
            },
            IngressPath {
                path: "/web".into(),
                path_type: "Prefix".into(),
                service: "backend".into(),
                port: None,
            },
            IngressPath {
                path: "/docs".into(),
                path_type: "Exact".into(),
                service: "docs-site".into(),
                port: Some(8080),
            },
            IngressPath {
                path: "/blog".into(),
                path_type: "ImplementationSpecific".into(),
                service: "blog".into(),
                port: None,
            },
        ];
        let i = ingress(&v).unwrap();
        assert_eq!(
            routes(&i),
            vec![
                route(
                    "erp.example.com",
                    "/",
                    "Prefix",
                    "acme-odoo-frontend",
                    "3000"
                ),
                route(
                    "erp.example.com",
                    "/web",
                    "Prefix",
                    "acme-odoo-backend",
                    "8069"
                ),
                route("erp.example.com", "/docs", "Exact", "docs-site", "8080"),
                route(
                    "erp.example.com",
                    "/blog",
                    "ImplementationSpecific",
                    "blog",
                    "http"
                ),
                route(
                    "erp.example.com",
                    "/websocket",
                    "Prefix",
                    "acme-odoo-backend",
                    "8072"
                ),
            ]
        );
    }

    #[test]
    fn user_websocket_path_is_kept_not_duplicated() {
        let mut v = values();
        v.ingress.hosts[0].paths = vec![IngressPath {
            path: "/websocket/".into(),
            path_type: "Prefix".into(),
            service: "backend".into(),
            port: Some(9999),
        }];
        let i = ingress(&v).unwrap();
        assert_eq!(
            routes(&i),
            vec![route(
                "erp.example.com",
                "/websocket/",
                "Prefix",
                "acme-odoo-backend",
                "9999"
            )]
        );
    }

    #[test]
    fn no_hosts_routes_every_host() {
        let mut v = values();
        v.ingress.hosts.clear();
        let i = ingress(&v).unwrap();
        assert_eq!(
            routes(&i),
            vec![
                route("", "/", "Prefix", "acme-odoo-backend", "8069"),
                route("", "/websocket", "Prefix", "acme-odoo-backend", "8072"),
            ]
        );
    }

    #[test]
    fn class_annotations_and_tls_from_values() {
        let mut v = values();
        let i = ingress(&v).unwrap();
        let spec = i.spec.as_ref().unwrap();
        assert!(spec.ingress_class_name.is_none() && spec.tls.is_none());
        assert!(i.metadata.annotations.is_none());

        v.ingress.class_name = "nginx".into();
        v.ingress.annotations.insert(
            "cert-manager.io/cluster-issuer".into(),
            "letsencrypt".into(),
        );
        v.ingress.tls = vec![IngressTLS {
            hosts: Some(vec!["erp.example.com".into()]),
            secret_name: Some("erp-tls".into()),
        }];
        let i = ingress(&v).unwrap();
        let spec = i.spec.as_ref().unwrap();
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
        assert_eq!(
            spec.tls.as_ref().unwrap()[0].secret_name.as_deref(),
            Some("erp-tls")
        );
        assert_eq!(
            i.metadata.annotations.as_ref().unwrap()["cert-manager.io/cluster-issuer"],
            "letsencrypt"
        );
        assert_eq!(
            i.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
            "odoo-tui"
        );
    }
}
