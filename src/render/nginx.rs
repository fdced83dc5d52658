//! The nginx reverse proxy in front of Odoo (and the optional frontend).
//!
//! Reproduces the chart's routing (health endpoint, public domain → frontend with
//! `/api/` → backend, backoffice domain → backend with `/websocket` → the websocket
//! port, CORS, gzip, cookie flags, HSTS, maintenance page on 502/503/504) with two
//! fixes: with the frontend off the public domain goes to the backend, and nginx runs
//! unprivileged on port 8080 with its pid and temp paths under a writable `emptyDir`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    HTTPGetAction, PodSpec, PodTemplateSpec, Probe, Service, ServicePort, ServiceSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::backend::pdb_for;
use super::common::{self, Ctx};
use super::common::{non_default, port_i32};
use super::object::Object;
use super::template;

/// `app.kubernetes.io/component` of every nginx object.
pub const COMPONENT: &str = "nginx";
/// Port nginx listens on inside the pod (unprivileged).
pub const CONTAINER_PORT: i32 = 8080;
/// Port of the health server used by the probes (not exposed by the Service).
pub const HEALTH_PORT: i32 = 8081;
/// Pod-template annotation carrying the checksum of the rendered `nginx.conf`, so
/// that a configuration change (e.g. the maintenance switch) rolls the pods.
pub const CONFIG_HASH_ANNOTATION: &str = "odoo-tui/config-hash";

/// Writable `emptyDir` holding the pid file and the temp paths.
const WORK_DIR: &str = "/tmp/nginx";
/// Where the maintenance ConfigMap is mounted (a directory mount, so that a content
/// change reaches running pods without a restart).
const MAINTENANCE_DIR: &str = "/usr/share/nginx/maintenance";
const MAINTENANCE_FILE: &str = "maintenance.html";
/// The nginx image's own user and group (`nginx`, 101).
const NGINX_UID: i64 = 101;

const CONF_TEMPLATE: &str = include_str!("../../assets/nginx.conf.tmpl");
const DEFAULT_MAINTENANCE_PAGE: &str = include_str!("../../assets/maintenance.html");

/// Name of the nginx Deployment, Service, PDB and configuration ConfigMap.
pub fn name(ctx: &Ctx) -> String {
    format!("{}-nginx", ctx.fullname())
}

/// Name of the ConfigMap holding the maintenance page.
pub fn maintenance_config_map_name(ctx: &Ctx) -> String {
    format!("{}-nginx-maintenance", ctx.fullname())
}

/// The ConfigMaps `<fullname>-nginx` (`nginx.conf`) and `<fullname>-nginx-maintenance`
/// (`maintenance.html`), when `nginx.enabled`. The maintenance page is on when
/// `nginx.maintenancePage.enabled` or while a transition asks for it; see
/// [`config_maps_with`] for the upgrade switch.
pub fn config_maps(ctx: &Ctx) -> Vec<Object> {
    config_maps_with(ctx, ctx.transition.maintenance)
}

/// Like [`config_maps`], with the maintenance page forced on when `maintenance`.
pub fn config_maps_with(ctx: &Ctx, maintenance: bool) -> Vec<Object> {
    if !ctx.v.nginx.enabled {
        return Vec::new();
    }
    vec![
        config_map(ctx, name(ctx), "nginx.conf", nginx_conf(ctx, maintenance)),
        config_map(
            ctx,
            maintenance_config_map_name(ctx),
            MAINTENANCE_FILE,
            maintenance_page(ctx).to_string(),
        ),
    ]
}

/// Deployment + Service `<fullname>-nginx` and, when `nginx.pdb.enabled` and the
/// replicas exceed `minAvailable`, the PDB; nothing unless `nginx.enabled`.
pub fn render(ctx: &Ctx) -> Vec<Object> {
    render_with(ctx, ctx.transition.maintenance)
}

/// Like [`render`], with the pod template's config checksum computed for the
/// configuration rendered with `maintenance` (pair it with [`config_maps_with`]).
pub fn render_with(ctx: &Ctx, maintenance: bool) -> Vec<Object> {
    if !ctx.v.nginx.enabled {
        return Vec::new();
    }
    let n = &ctx.v.nginx;
    let mut out = vec![
        Object::Deployment(deployment(ctx, maintenance)),
        Object::Service(service(ctx)),
    ];
    out.extend(pdb_for(
        ctx,
        COMPONENT,
        &name(ctx),
        n.pdb.enabled,
        n.pdb.min_available,
        n.replica_count,
    ));
    out
}

/// The maintenance page: `nginx.maintenancePage.content`, else our default page.
pub fn maintenance_page<'a>(ctx: &Ctx<'a>) -> &'a str {
    let content = &ctx.v.nginx.maintenance_page.content;
    if content.trim().is_empty() {
        DEFAULT_MAINTENANCE_PAGE
    } else {
        content
    }
}

// ---------------------------------------------------------------------------
// nginx.conf
// ---------------------------------------------------------------------------

/// The rendered `nginx.conf`. With `maintenance` (or `nginx.maintenancePage.enabled`)
/// every request except the health endpoint gets the maintenance page with a 503.
pub fn nginx_conf(ctx: &Ctx, maintenance: bool) -> String {
    let n = &ctx.v.nginx;
    let maintenance = maintenance || n.maintenance_page.enabled;
    let servers = servers(ctx);
    let health_port = HEALTH_PORT.to_string();
    let servers_text = render_servers(ctx, &servers, maintenance);
    let upstreams = if maintenance {
        String::new()
    } else {
        render_upstreams(ctx, &servers)
    };
    let vars: [(&str, &str); 10] = [
        ("work_dir", WORK_DIR),
        ("health_port", &health_port),
        ("proxy_read_timeout", &arg(&n.timeouts.proxy_read)),
        ("proxy_connect_timeout", &arg(&n.timeouts.proxy_connect)),
        ("proxy_send_timeout", &arg(&n.timeouts.proxy_send)),
        ("client_max_body_size", &arg(&n.client_max_body_size)),
        ("cors_map", &cors_map(ctx)),
        ("gzip", &gzip(ctx)),
        ("upstreams", &upstreams),
        ("servers", &servers_text),
    ];
    template::fill(CONF_TEMPLATE, &vars)
}

/// One nginx directive argument: bare when it is plainly safe, else double-quoted with
/// `\` and `"` escaped, so that no value can end a directive or open a block.
fn arg(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:*/".contains(c));
    if safe { s.to_string() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// Where a location proxies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Upstream {
    /// `<fullname>-backend`, HTTP port.
    OdooHttp,
    /// `<fullname>-backend`, websocket (gevent) port.
    OdooWebsocket,
    /// `<fullname>-frontend`.
    Frontend,
}

impl Upstream {
    fn id(self) -> &'static str {
        match self {
            Upstream::OdooHttp => "odoo_http",
            Upstream::OdooWebsocket => "odoo_websocket",
            Upstream::Frontend => "frontend",
        }
    }

    fn address(self, ctx: &Ctx) -> String {
        let ports = &ctx.v.backend.service.ports;
        match self {
            Upstream::OdooHttp => format!("{}-backend:{}", ctx.fullname(), ports.http),
            Upstream::OdooWebsocket => format!("{}-backend:{}", ctx.fullname(), ports.websocket),
            Upstream::Frontend => {
                format!(
                    "{}-frontend:{}",
                    ctx.fullname(),
                    ctx.v.frontend.service.port
                )
            }
        }
    }
}

/// A proxied location.
#[derive(Debug, Clone, PartialEq)]
struct Location {
    path: &'static str,
    upstream: Upstream,
    websocket: bool,
    cors: bool,
}

/// What a server block does with its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Routing {
    /// The public domain: frontend (or backend when the frontend is off).
    Public,
    /// The backoffice domain: Odoo.
    Backoffice,
    /// Unknown hosts when domains are configured: close the connection.
    Drop,
}

#[derive(Debug, Clone, PartialEq)]
struct Server {
    /// `None` for the default server.
    host: Option<String>,
    routing: Routing,
}

/// The server blocks on the main port: a default server (routing like the public
/// domain when no public host is set, else dropping unknown hosts), then the public
/// and backoffice domains when set.
fn servers(ctx: &Ctx) -> Vec<Server> {
    let domains = &ctx.v.nginx.domains;
    let public = domains.public.host.trim();
    let backoffice = domains.backoffice.host.trim();
    let mut out = vec![Server {
        host: None,
        routing: if public.is_empty() {
            Routing::Public
        } else {
            Routing::Drop
        },
    }];
    if !public.is_empty() {
        out.push(Server {
            host: Some(public.to_string()),
            routing: Routing::Public,
        });
    }
    if domains.backoffice.enabled && !backoffice.is_empty() {
        out.push(Server {
            host: Some(backoffice.to_string()),
            routing: Routing::Backoffice,
        });
    }
    out
}

/// Odoo serves `/websocket` on the gevent port only with workers; otherwise on HTTP.
fn websocket_upstream(ctx: &Ctx) -> Upstream {
    if ctx.d.workers > 0 {
        Upstream::OdooWebsocket
    } else {
        Upstream::OdooHttp
    }
}

fn locations(ctx: &Ctx, routing: Routing) -> Vec<Location> {
    let cors = ctx.v.nginx.cors.enabled;
    let proxy = |path, upstream, websocket, cors| Location {
        path,
        upstream,
        websocket,
        cors,
    };
    let websocket = proxy("/websocket", websocket_upstream(ctx), true, false);
    match routing {
        Routing::Drop => Vec::new(),
        Routing::Backoffice => vec![websocket, proxy("/", Upstream::OdooHttp, false, false)],
        Routing::Public if ctx.v.frontend.enabled => vec![
            proxy("/api/", Upstream::OdooHttp, false, cors),
            proxy("/", Upstream::Frontend, false, false),
        ],
        Routing::Public => {
            let mut l = vec![websocket];
            if cors {
                l.push(proxy("/api/", Upstream::OdooHttp, false, true));
            }
            l.push(proxy("/", Upstream::OdooHttp, false, false));
            l
        }
    }
}

fn render_upstreams(ctx: &Ctx, servers: &[Server]) -> String {
    let used: BTreeSet<Upstream> = servers
        .iter()
        .flat_map(|s| locations(ctx, s.routing))
        .map(|l| l.upstream)
        .collect();
    let mut c = Conf::new(1);
    for u in used {
        c.blank();
        c.open(&format!("upstream {}", u.id()));
        c.line(&format!("server {};", arg(&u.address(ctx))));
        c.close();
    }
    c.out
}

fn cors_map(ctx: &Ctx) -> String {
    let cors = &ctx.v.nginx.cors;
    if !cors.enabled {
        return String::new();
    }
    let mut c = Conf::new(1);
    c.blank();
    c.line("# CORS: only the listed origins are echoed back.");
    c.open("map $http_origin $cors_origin");
    c.line("default \"\";");
    for origin in &cors.origins {
        c.line(&format!("{} $http_origin;", quoted(origin)));
    }
    c.close();
    c.out
}

fn gzip(ctx: &Ctx) -> String {
    if !ctx.v.nginx.gzip.enabled {
        return String::new();
    }
    let mut c = Conf::new(1);
    c.blank();
    c.line("gzip on;");
    c.line("gzip_vary on;");
    c.line("gzip_proxied any;");
    c.line("gzip_min_length 1024;");
    c.line(
        "gzip_types text/css text/scss text/plain text/xml application/xml application/json \
         application/javascript image/svg+xml;",
    );
    c.out
}

fn render_servers(ctx: &Ctx, servers: &[Server], maintenance: bool) -> String {
    let mut c = Conf::new(1);
    for s in servers {
        c.blank();
        server_block(&mut c, ctx, s, maintenance);
    }
    c.out
}

fn server_block(c: &mut Conf, ctx: &Ctx, s: &Server, maintenance: bool) {
    c.line(&match (&s.host, s.routing) {
        (None, Routing::Drop) => "# Default server: unknown hosts are dropped.".to_string(),
        (None, _) => "# Default server: no public domain set, routes like one.".to_string(),
        (Some(h), Routing::Backoffice) => format!("# Backoffice domain {h}: Odoo."),
        (Some(h), _) => format!("# Public domain {h}."),
    });
    c.open("server");
    match &s.host {
        None => {
            c.line(&format!("listen {CONTAINER_PORT} default_server;"));
            c.line("server_name _;");
        }
        Some(h) => {
            c.line(&format!("listen {CONTAINER_PORT};"));
            c.line(&format!("server_name {};", arg(h)));
        }
    }
    if s.routing != Routing::Drop {
        c.line(&format!(
            "proxy_cookie_flags session_id {};",
            cookie_flags(ctx)
        ));
    }
    if s.host.is_none() {
        c.blank();
        health_location(c);
    }
    if s.routing == Routing::Drop {
        c.blank();
        c.open("location /");
        c.line("return 444;");
        c.close();
        c.close();
        return;
    }
    c.blank();
    c.line(&format!("error_page 502 503 504 /{MAINTENANCE_FILE};"));
    maintenance_location(c, ctx, maintenance);
    if maintenance {
        c.blank();
        c.line("# Maintenance: everything gets the maintenance page.");
        c.open("location /");
        c.line("return 503;");
        c.close();
    } else {
        for l in locations(ctx, s.routing) {
            c.blank();
            proxy_location(c, ctx, &l);
        }
    }
    c.close();
}

fn cookie_flags(ctx: &Ctx) -> &'static str {
    if ctx.v.nginx.cookie_secure {
        "samesite=lax secure"
    } else {
        "samesite=lax"
    }
}

fn health_location(c: &mut Conf) {
    c.open("location = /healthz");
    c.line("access_log off;");
    c.line("default_type text/plain;");
    c.line("return 200 \"ok\\n\";");
    c.close();
}

fn hsts(c: &mut Conf, ctx: &Ctx) {
    let h = &ctx.v.nginx.hsts;
    if h.enabled {
        c.line(&format!(
            "add_header Strict-Transport-Security \"max-age={}; includeSubDomains\" always;",
            h.max_age.max(0)
        ));
    }
}

fn maintenance_location(c: &mut Conf, ctx: &Ctx, maintenance: bool) {
    c.open(&format!("location = /{MAINTENANCE_FILE}"));
    c.line("internal;");
    c.line(&format!("root {MAINTENANCE_DIR};"));
    c.line("add_header Cache-Control \"no-store\" always;");
    if maintenance {
        c.line("add_header Retry-After 120 always;");
    }
    hsts(c, ctx);
    c.close();
}

fn proxy_location(c: &mut Conf, ctx: &Ctx, l: &Location) {
    c.open(&format!("location {}", l.path));
    c.line(&format!("proxy_pass http://{};", l.upstream.id()));
    c.line("proxy_http_version 1.1;");
    c.line("proxy_redirect off;");
    c.line("proxy_set_header Host $http_host;");
    c.line("proxy_set_header X-Forwarded-Host $http_host;");
    c.line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    c.line("proxy_set_header X-Forwarded-Proto $forwarded_proto;");
    c.line("proxy_set_header X-Real-IP $remote_addr;");
    if l.websocket {
        c.line("proxy_set_header Upgrade $http_upgrade;");
        c.line("proxy_set_header Connection $connection_upgrade;");
    }
    hsts(c, ctx);
    if l.cors {
        c.line("add_header Access-Control-Allow-Origin $cors_origin always;");
        c.line(
            "add_header Access-Control-Allow-Methods \"GET, POST, PUT, DELETE, PATCH, OPTIONS\" \
             always;",
        );
        c.line("add_header Access-Control-Allow-Headers \"Authorization, Content-Type, Accept\" always;");
        c.line("add_header Access-Control-Allow-Credentials \"true\" always;");
        c.line("add_header Vary Origin always;");
        c.open("if ($request_method = OPTIONS)");
        c.line("return 204;");
        c.close();
    }
    c.close();
}

/// A tiny indenting writer for nginx blocks.
struct Conf {
    out: String,
    depth: usize,
}

impl Conf {
    fn new(depth: usize) -> Conf {
        Conf {
            out: String::new(),
            depth,
        }
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }
}

// ---------------------------------------------------------------------------
// Kubernetes objects
// ---------------------------------------------------------------------------

fn config_map(ctx: &Ctx, name: String, key: &str, content: String) -> Object {
    Object::ConfigMap(ConfigMap {
        metadata: ctx.meta(name, Some(COMPONENT)),
        data: Some(BTreeMap::from([(key.to_string(), content)])),
        ..Default::default()
    })
}

fn deployment(ctx: &Ctx, maintenance: bool) -> Deployment {
    let n = &ctx.v.nginx;
    let mut pod_meta = ctx.pod_meta(COMPONENT);
    pod_meta.annotations = Some(BTreeMap::from([(
        CONFIG_HASH_ANNOTATION.to_string(),
        template::checksum(&nginx_conf(ctx, maintenance)),
    )]));
    Deployment {
        metadata: ctx.meta(name(ctx), Some(COMPONENT)),
        spec: Some(DeploymentSpec {
            replicas: Some(n.replica_count),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(Some(COMPONENT))),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(pod_meta),
                spec: Some(pod_spec(ctx)),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod_spec(ctx: &Ctx) -> PodSpec {
    let n = &ctx.v.nginx;
    PodSpec {
        automount_service_account_token: Some(false),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(ctx.pod_security(&n.pod_security_context, NGINX_UID, NGINX_UID)),
        containers: vec![container(ctx)],
        volumes: Some(volumes(ctx)),
        node_selector: common::non_empty_map(&n.node_selector),
        tolerations: common::non_empty(n.tolerations.clone()),
        affinity: non_default(&n.affinity),
        ..Default::default()
    }
}

fn container(ctx: &Ctx) -> Container {
    let n = &ctx.v.nginx;
    let security = ctx.container_security(&n.container_security_context);
    Container {
        name: COMPONENT.to_string(),
        image: Some(n.image.reference()),
        image_pull_policy: Some(n.image.pull_policy.clone()),
        // Bypass the image's entrypoint scripts: they try to rewrite files under /etc.
        command: Some(vec!["nginx".into(), "-g".into(), "daemon off;".into()]),
        ports: Some(vec![
            container_port("http", CONTAINER_PORT),
            container_port("health", HEALTH_PORT),
        ]),
        liveness_probe: Some(health_probe(10)),
        readiness_probe: Some(health_probe(5)),
        resources: non_default(&n.resources),
        security_context: Some(security),
        volume_mounts: Some(volume_mounts()),
        ..Default::default()
    }
}

fn container_port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_string()),
        container_port: port,
        protocol: Some("TCP".to_string()),
        ..Default::default()
    }
}

fn health_probe(period_seconds: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/healthz".to_string()),
            port: IntOrString::String("health".to_string()),
            ..Default::default()
        }),
        period_seconds: Some(period_seconds),
        failure_threshold: Some(3),
        ..Default::default()
    }
}

fn volume_mounts() -> Vec<VolumeMount> {
    vec![
        VolumeMount {
            name: "config".to_string(),
            mount_path: "/etc/nginx/nginx.conf".to_string(),
            sub_path: Some("nginx.conf".to_string()),
            read_only: Some(true),
            ..Default::default()
        },
        VolumeMount {
            name: "maintenance".to_string(),
            mount_path: MAINTENANCE_DIR.to_string(),
            read_only: Some(true),
            ..Default::default()
        },
        VolumeMount {
            name: "work".to_string(),
            mount_path: WORK_DIR.to_string(),
            ..Default::default()
        },
    ]
}

fn volumes(ctx: &Ctx) -> Vec<Volume> {
    let config_map_volume = |volume: &str, config_map: String| Volume {
        name: volume.to_string(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map,
            ..Default::default()
        }),
        ..Default::default()
    };
    vec![
        config_map_volume("config", name(ctx)),
        config_map_volume("maintenance", maintenance_config_map_name(ctx)),
        Volume {
            name: "work".to_string(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
    ]
}

fn service(ctx: &Ctx) -> Service {
    let s = &ctx.v.nginx.service;
    Service {
        metadata: ctx.meta(name(ctx), Some(COMPONENT)),
        spec: Some(ServiceSpec {
            type_: Some(s.type_.clone()),
            selector: Some(ctx.selector(Some(COMPONENT))),
            ports: Some(vec![ServicePort {
                name: Some("http".to_string()),
                port: port_i32(s.port),
                target_port: Some(IntOrString::Int(CONTAINER_PORT)),
                protocol: Some("TCP".to_string()),
                ..Default::default()
            }]),
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

    fn values() -> Values {
        let mut v: Values = crate::values::defaults();
        v.nginx.enabled = true;
        v
    }

    fn with_ctx<T>(v: &Values, f: impl FnOnce(&Ctx) -> T) -> T {
        let creds = Credentials::default();
        let input = RenderInput {
            release: "acme",
            namespace: "odoo",
            values: v,
            credentials: &creds,
        };
        let ctx = Ctx::new(&input).expect("ctx");
        f(&ctx)
    }

    fn conf(v: &Values, maintenance: bool) -> String {
        with_ctx(v, |ctx| nginx_conf(ctx, maintenance))
    }

    /// The text of the `server { ... }` block whose `server_name` line is `name`.
    fn server<'a>(conf: &'a str, server_name: &str) -> &'a str {
        let marker = format!("server_name {server_name};");
        let at = conf.find(&marker).expect("server present");
        let start = conf[..at].rfind("server {").expect("server start");
        let end = conf[at..]
            .find("\n    }\n")
            .map(|e| at + e)
            .expect("server end");
        &conf[start..end]
    }

    /// The text of `location <path> { ... }` inside a server block.
    fn location<'a>(block: &'a str, path: &str) -> &'a str {
        let head = format!("location {path} {{");
        let start = block
            .find(&head)
            .unwrap_or_else(|| panic!("{path} in {block}"));
        let end = block[start..].find("\n        }").expect("end") + start;
        &block[start..end]
    }

    fn deployment_of(objects: &[Object]) -> &Deployment {
        objects
            .iter()
            .find_map(|o| match o {
                Object::Deployment(d) => Some(d),
                _ => None,
            })
            .expect("deployment")
    }

    #[test]
    fn nothing_when_disabled() {
        let mut v = values();
        v.nginx.enabled = false;
        with_ctx(&v, |ctx| {
            assert!(config_maps(ctx).is_empty());
            assert!(render(ctx).is_empty());
        });
    }

    #[test]
    fn no_unfilled_placeholders_and_balanced_braces() {
        let mut v = values();
        v.nginx.cors.enabled = true;
        v.nginx.cors.origins = vec!["https://shop.example.com".into()];
        v.nginx.domains.public.host = "shop.example.com".into();
        v.nginx.domains.backoffice.enabled = true;
        v.nginx.domains.backoffice.host = "erp.example.com".into();
        v.frontend.enabled = true;
        for maintenance in [false, true] {
            let c = conf(&v, maintenance);
            assert!(!c.contains("{{"), "{c}");
            assert_eq!(c.matches('{').count(), c.matches('}').count(), "{c}");
        }
    }

    #[test]
    fn frontend_off_public_domain_goes_to_backend() {
        let mut v = values();
        v.frontend.enabled = false;
        v.nginx.domains.public.host = "shop.example.com".into();
        let c = conf(&v, false);
        assert!(!c.contains("-frontend"), "no frontend upstream: {c}");
        assert!(!c.contains("proxy_pass http://frontend"), "{c}");
        let public = server(&c, "shop.example.com");
        assert!(location(public, "/").contains("proxy_pass http://odoo_http;"));
        assert!(location(public, "/websocket").contains("proxy_pass http://odoo_websocket;"));
        assert!(c.contains("server acme-odoo-backend:8069;"));
        assert!(c.contains("server acme-odoo-backend:8072;"));
    }

    #[test]
    fn frontend_on_public_domain_goes_to_frontend_with_api_to_backend() {
        let mut v = values();
        v.frontend.enabled = true;
        v.nginx.domains.public.host = "shop.example.com".into();
        v.nginx.domains.backoffice.enabled = true;
        v.nginx.domains.backoffice.host = "erp.example.com".into();
        let c = conf(&v, false);
        assert!(c.contains("server acme-odoo-frontend:3000;"));
        let public = server(&c, "shop.example.com");
        assert!(location(public, "/").contains("proxy_pass http://frontend;"));
        assert!(location(public, "/api/").contains("proxy_pass http://odoo_http;"));
        let backoffice = server(&c, "erp.example.com");
        assert!(location(backoffice, "/").contains("proxy_pass http://odoo_http;"));
        let ws = location(backoffice, "/websocket");
        assert!(ws.contains("proxy_pass http://odoo_websocket;"));
        assert!(ws.contains("proxy_http_version 1.1;"));
        assert!(ws.contains("proxy_set_header Upgrade $http_upgrade;"));
        assert!(ws.contains("proxy_set_header Connection $connection_upgrade;"));
        // Unknown hosts are dropped when domains are set; the health endpoint stays.
        let default = server(&c, "_");
        assert!(default.contains("listen 8080 default_server;"));
        assert!(location(default, "/").contains("return 444;"));
        assert!(default.contains("location = /healthz"));
    }

    #[test]
    fn no_domain_default_server_routes_like_public() {
        let v = values();
        let c = conf(&v, false);
        let default = server(&c, "_");
        assert!(location(default, "/").contains("proxy_pass http://odoo_http;"));
        assert!(location(default, "/websocket").contains("proxy_pass http://odoo_websocket;"));
        assert!(!default.contains("return 444"));
    }

    #[test]
    fn workers_zero_routes_websocket_to_http_port() {
        let mut v = values();
        v.backend.odoo.workers = 0;
        v.nginx.domains.public.host = "shop.example.com".into();
        v.nginx.domains.backoffice.enabled = true;
        v.nginx.domains.backoffice.host = "erp.example.com".into();
        let c = conf(&v, false);
        assert!(!c.contains("8072"), "{c}");
        assert!(!c.contains("odoo_websocket"), "{c}");
        for host in ["shop.example.com", "erp.example.com"] {
            let ws = location(server(&c, host), "/websocket");
            assert!(ws.contains("proxy_pass http://odoo_http;"), "{ws}");
            assert!(ws.contains("proxy_set_header Upgrade $http_upgrade;"));
        }
    }

    #[test]
    fn unprivileged_port_and_writable_paths() {
        let c = conf(&values(), false);
        assert!(c.contains("pid /tmp/nginx/nginx.pid;"));
        for temp in [
            "client_body_temp_path",
            "proxy_temp_path",
            "fastcgi_temp_path",
            "uwsgi_temp_path",
            "scgi_temp_path",
        ] {
            let line = c
                .lines()
                .find(|l| l.trim_start().starts_with(temp))
                .unwrap_or_else(|| panic!("{temp} missing"));
            assert!(line.contains(" /tmp/nginx/"), "{line}");
        }
        assert!(!c.contains("listen 80;") && !c.contains("listen 80 "));
        assert!(!c.lines().any(|l| l.trim_start().starts_with("user ")));
        assert!(c.contains("listen 8080 default_server;"));
        assert!(c.contains("listen 8081;"));
    }

    #[test]
    fn deployment_runs_unprivileged_with_read_only_root() {
        let v = values();
        let objects = with_ctx(&v, render);
        let d = deployment_of(&objects);
        assert_eq!(d.metadata.name.as_deref(), Some("acme-odoo-nginx"));
        let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let psc = pod.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.run_as_user, Some(101));
        assert_eq!(
            psc.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
            Some("RuntimeDefault")
        );
        let c = &pod.containers[0];
        assert_eq!(c.image.as_deref(), Some("nginx:1.27.5-alpine"));
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_string()][..])
        );
        let ports: Vec<_> = c
            .ports
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| p.container_port)
            .collect();
        assert_eq!(ports, vec![8080, 8081]);
        let probe = c
            .readiness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        assert_eq!(probe.path.as_deref(), Some("/healthz"));
        assert_eq!(probe.port, IntOrString::String("health".into()));

        let mounts = c.volume_mounts.as_ref().unwrap();
        let work = mounts
            .iter()
            .find(|m| m.mount_path == "/tmp/nginx")
            .unwrap();
        let conf_mount = mounts
            .iter()
            .find(|m| m.mount_path == "/etc/nginx/nginx.conf")
            .unwrap();
        assert_eq!(conf_mount.sub_path.as_deref(), Some("nginx.conf"));
        let volumes = pod.volumes.as_ref().unwrap();
        let vol = |n: &str| volumes.iter().find(|v| v.name == n).unwrap();
        assert!(vol(&work.name).empty_dir.is_some());
        assert_eq!(
            vol(&conf_mount.name).config_map.as_ref().unwrap().name,
            "acme-odoo-nginx"
        );
        assert_eq!(
            vol("maintenance").config_map.as_ref().unwrap().name,
            "acme-odoo-nginx-maintenance"
        );
    }

    #[test]
    fn service_maps_port_to_8080() {
        let mut v = values();
        v.nginx.service.port = 8000;
        let objects = with_ctx(&v, render);
        let svc = objects
            .iter()
            .find_map(|o| match o {
                Object::Service(s) => Some(s),
                _ => None,
            })
            .unwrap();
        let spec = svc.spec.as_ref().unwrap();
        let port = &spec.ports.as_ref().unwrap()[0];
        assert_eq!(port.port, 8000);
        assert_eq!(port.target_port, Some(IntOrString::Int(8080)));
        assert_eq!(
            spec.selector
                .as_ref()
                .unwrap()
                .get("app.kubernetes.io/component"),
            Some(&"nginx".to_string())
        );
    }

    #[test]
    fn maintenance_switches_every_location_to_the_page() {
        let mut v = values();
        v.frontend.enabled = true;
        v.nginx.domains.public.host = "shop.example.com".into();
        v.nginx.domains.backoffice.enabled = true;
        v.nginx.domains.backoffice.host = "erp.example.com".into();
        let on = conf(&v, true);
        assert!(!on.contains("proxy_pass"), "{on}");
        assert!(!on.contains("upstream "), "{on}");
        for host in ["shop.example.com", "erp.example.com"] {
            let block = server(&on, host);
            assert!(location(block, "/").contains("return 503;"));
            assert!(block.contains("error_page 502 503 504 /maintenance.html;"));
            let page = location(block, "= /maintenance.html");
            assert!(page.contains("root /usr/share/nginx/maintenance;"));
            assert!(page.contains("Retry-After"));
        }
        // The health server still answers.
        assert!(on.contains("listen 8081;"));
        assert!(on.contains("return 200 \"ok\\n\";"));

        // The value switches it on too; off, the page only covers upstream errors.
        v.nginx.maintenance_page.enabled = true;
        assert_eq!(conf(&v, false), on);
        v.nginx.maintenance_page.enabled = false;
        let off = conf(&v, false);
        assert!(off.contains("error_page 502 503 504 /maintenance.html;"));
        assert!(!off.contains("return 503;"));
    }

    #[test]
    fn config_hash_follows_the_conf() {
        let v = values();
        let hash = |maintenance| {
            with_ctx(&v, |ctx| {
                let objects = render_with(ctx, maintenance);
                deployment_of(&objects)
                    .spec
                    .as_ref()
                    .unwrap()
                    .template
                    .metadata
                    .as_ref()
                    .unwrap()
                    .annotations
                    .as_ref()
                    .unwrap()[CONFIG_HASH_ANNOTATION]
                    .clone()
            })
        };
        assert_eq!(hash(false), hash(false));
        assert_ne!(hash(false), hash(true));
        assert_eq!(hash(false), template::checksum(&conf(&v, false)));
    }

    #[test]
    fn config_maps_carry_conf_and_page() {
        let mut v = values();
        let maps = with_ctx(&v, config_maps);
        let names: Vec<_> = maps.iter().map(Object::name).collect();
        assert_eq!(names, ["acme-odoo-nginx", "acme-odoo-nginx-maintenance"]);
        let data = |o: &Object| match o {
            Object::ConfigMap(cm) => cm.data.clone().unwrap(),
            _ => panic!("not a ConfigMap"),
        };
        assert!(data(&maps[0])["nginx.conf"].contains("worker_processes"));
        assert!(data(&maps[1])["maintenance.html"].contains("<html"));
        assert_eq!(maps[1].component(), Some("nginx"));

        v.nginx.maintenance_page.content = "<p>down</p>".into();
        let maps = with_ctx(&v, config_maps);
        assert_eq!(data(&maps[1])["maintenance.html"], "<p>down</p>");
    }

    #[test]
    fn cors_hsts_cookies_gzip_and_limits() {
        let mut v = values();
        v.nginx.cors.enabled = true;
        v.nginx.cors.origins = vec!["https://shop.example.com".into()];
        v.nginx.hsts.max_age = 600;
        v.nginx.client_max_body_size = "50m".into();
        v.nginx.timeouts.proxy_read = "300s".into();
        let c = conf(&v, false);
        assert!(c.contains("\"https://shop.example.com\" $http_origin;"));
        let api = location(server(&c, "_"), "/api/");
        assert!(api.contains("add_header Access-Control-Allow-Origin $cors_origin always;"));
        assert!(api.contains("return 204;"));
        assert!(api.contains("Strict-Transport-Security \"max-age=600; includeSubDomains\""));
        assert!(c.contains("proxy_cookie_flags session_id samesite=lax secure;"));
        assert!(c.contains("gzip on;"));
        assert!(c.contains("client_max_body_size 50m;"));
        assert!(c.contains("proxy_read_timeout 300s;"));
        assert!(c.contains("proxy_connect_timeout 720s;"));
        assert!(c.contains("proxy_send_timeout 720s;"));
        assert!(c.contains("X-Forwarded-Proto $forwarded_proto;"));

        v.nginx.cors.enabled = false;
        v.nginx.hsts.enabled = false;
        v.nginx.cookie_secure = false;
        v.nginx.gzip.enabled = false;
        let c = conf(&v, false);
        assert!(!c.contains("cors_origin"));
        assert!(!c.contains("Strict-Transport-Security"));
        assert!(c.contains("proxy_cookie_flags session_id samesite=lax;"));
        assert!(!c.contains("gzip on;"));
    }

    #[test]
    fn user_values_cannot_break_out_of_a_directive() {
        let mut v = values();
        v.nginx.domains.public.host = "evil.example.com; include /etc/passwd".into();
        v.nginx.client_max_body_size = "1m; }".into();
        let c = conf(&v, false);
        assert!(c.contains("server_name \"evil.example.com; include /etc/passwd\";"));
        assert!(c.contains("client_max_body_size \"1m; }\";"));
        assert_eq!(
            template::fill("{{a}}{{b}}", &[("a", "{{b}}"), ("b", "x")]),
            "{{b}}x"
        );
    }

    #[test]
    fn pdb_only_when_replicas_exceed_min_available() {
        let mut v = values();
        v.nginx.pdb.enabled = true;
        v.nginx.pdb.min_available = 1;
        v.nginx.replica_count = 1;
        let kinds = |v: &Values| {
            with_ctx(v, |ctx| {
                render(ctx).iter().map(|o| o.kind()).collect::<Vec<_>>()
            })
        };
        assert_eq!(kinds(&v), ["Deployment", "Service"]);
        v.nginx.replica_count = 2;
        assert_eq!(kinds(&v), ["Deployment", "Service", "PodDisruptionBudget"]);
        v.nginx.pdb.enabled = false;
        assert_eq!(kinds(&v), ["Deployment", "Service"]);
    }
}
