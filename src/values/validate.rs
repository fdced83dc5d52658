//! Checks on typed values: invalid values are errors, risky ones warnings (docs/ARCHITECTURE.md, "Values").

use serde_json::Value as Json;

use super::{Derived, Values, names};

/// One finding: the key it is about and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    pub is_error: bool,
    /// Other settings a warning depends on: it is shown only when the user set `path`
    /// or one of these (the defaults alone never warn).
    pub also: Vec<String>,
}

impl Problem {
    /// Every setting the finding is about.
    pub fn about(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.path.as_str()).chain(self.also.iter().map(String::as_str))
    }

    fn also(mut self, paths: &[&str]) -> Problem {
        self.also.extend(paths.iter().map(|p| p.to_string()));
        self
    }
}

fn err(path: &str, message: impl Into<String>) -> Problem {
    Problem {
        path: path.into(),
        message: message.into(),
        is_error: true,
        also: Vec::new(),
    }
}

fn warn(path: &str, message: impl Into<String>) -> Problem {
    Problem {
        path: path.into(),
        message: message.into(),
        is_error: false,
        also: Vec::new(),
    }
}

/// Validate everything that does not depend on the instance name.
pub fn validate(v: &Values) -> Vec<Problem> {
    let mut p = Vec::new();
    ports(v, &mut p);
    quantities(v, &mut p);
    databases(v, &mut p);
    object_storage(v, &mut p);
    odoo(v, &mut p);
    images(v, &mut p);
    exposure(v, &mut p);
    availability(v, &mut p);
    backups(v, &mut p);
    super::addons::check(v, &mut p);
    p
}

fn backups(v: &Values, p: &mut Vec<Problem>) {
    let b = &v.backup;
    if !b.schedule.trim().is_empty() {
        match super::cron::Schedule::parse(&b.schedule) {
            Err(e) => p.push(err("backup.schedule", format!("`backup.schedule`: {e}"))),
            Ok(_) if !b.enabled => p.push(warn(
                "backup.schedule",
                "`backup.schedule` is set but backups are off (backup.enabled=false): no scheduled backup runs",
            )),
            Ok(_) => {}
        }
    }
}

fn ports(v: &Values, p: &mut Vec<Problem>) {
    let ports = [
        ("backend.service.ports.http", v.backend.service.ports.http),
        (
            "backend.service.ports.websocket",
            v.backend.service.ports.websocket,
        ),
        ("externalDatabase.port", v.external_database.port),
        ("frontend.service.port", v.frontend.service.port),
        ("nginx.service.port", v.nginx.service.port),
    ];
    for (path, port) in ports {
        if !(1..=65535).contains(&port) {
            p.push(err(path, format!("`{path}` is {port}; a port is 1–65535")));
        }
    }
    if v.backend.service.ports.http == v.backend.service.ports.websocket {
        p.push(err(
            "backend.service.ports.websocket",
            "`backend.service.ports.websocket` must differ from `backend.service.ports.http`",
        ));
    }
}

fn quantities(v: &Values, p: &mut Vec<Problem>) {
    let sizes = [
        (
            "postgresql.persistence.size",
            &v.postgresql.persistence.size,
        ),
        ("minio.persistence.size", &v.minio.persistence.size),
        ("backend.persistence.size", &v.backend.persistence.size),
        ("backup.persistence.size", &v.backup.persistence.size),
    ];
    for (path, size) in sizes {
        if parse_quantity(size).is_none() {
            p.push(err(
                path,
                format!("`{path}` is `{size}`, not a Kubernetes quantity — write e.g. 10Gi"),
            ));
        }
    }
    let resources = [
        ("postgresql.resources", &v.postgresql.resources),
        ("minio.resources", &v.minio.resources),
        ("backend.resources", &v.backend.resources),
        (
            "backend.autoUpgrade.resources",
            &v.backend.auto_upgrade.resources,
        ),
        ("frontend.resources", &v.frontend.resources),
        ("nginx.resources", &v.nginx.resources),
        ("backup.resources", &v.backup.resources),
    ];
    for (path, r) in resources {
        for (kind, map) in [("requests", &r.requests), ("limits", &r.limits)] {
            for (name, q) in map.iter().flatten() {
                if parse_quantity(&q.0).is_none() {
                    let key = format!("{path}.{kind}.{name}");
                    p.push(err(
                        &key,
                        format!(
                            "`{key}` is `{}`, not a Kubernetes quantity — write e.g. 500m or 1Gi",
                            q.0
                        ),
                    ));
                }
            }
        }
    }
}

/// Parse a Kubernetes quantity (`1`, `500m`, `1.5Gi`, `1e3`) into its value in base units.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let suffixes: [(&str, f64); 16] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("", 1.0),
    ];
    let (num, mult) = suffixes.iter().find_map(|(suf, m)| {
        s.strip_suffix(suf)
            .map(|n| (n, *m))
            .filter(|(n, _)| !n.is_empty())
    })?;
    let num = num.strip_prefix('+').unwrap_or(num);
    let valid_chars = num
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+');
    if !valid_chars
        || !num
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
    {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    if value < 0.0 || !value.is_finite() {
        return None;
    }
    Some(value * mult)
}

fn databases(v: &Values, p: &mut Vec<Problem>) {
    let pg = &v.postgresql;
    let ext = &v.external_database;
    let (user_path, user) = if pg.enabled {
        ("postgresql.auth.username", &pg.auth.username)
    } else {
        ("externalDatabase.user", &ext.user)
    };
    if user == "postgres" {
        p.push(err(user_path, format!(
            "`{user_path}` is `postgres`: Odoo refuses to run as the PostgreSQL superuser — use a dedicated user such as `odoo`"
        )));
    }
    if !is_pg_identifier(user) {
        p.push(err(user_path, format!("`{user_path}` `{user}` is not a valid PostgreSQL user name (letters, digits, _ and -)")));
    }
    let (db_path, db) = if pg.enabled {
        ("postgresql.auth.database", &pg.auth.database)
    } else {
        ("externalDatabase.database", &ext.database)
    };
    if !is_pg_identifier(db) {
        p.push(err(
            db_path,
            format!("`{db_path}` `{db}` is not a valid database name (letters, digits, _ and -)"),
        ));
    }
    if !pg.enabled {
        if ext.host.trim().is_empty() {
            p.push(err("externalDatabase.host", "`externalDatabase.host` is required when `postgresql.enabled` is false — set --set externalDatabase.host=<host>"));
        } else if !is_host(&ext.host) {
            p.push(err(
                "externalDatabase.host",
                format!(
                    "`externalDatabase.host` `{}` is not a host name or IP address",
                    ext.host
                ),
            ));
        }
        if ext.password.is_empty() && ext.existing_secret.is_empty() {
            p.push(err("externalDatabase.password", "the external database needs a password: set `externalDatabase.existingSecret` (recommended) or `externalDatabase.password`"));
        }
    }
    let uri = &v.session_db.uri;
    if !uri.is_empty() && !uri.starts_with("postgres://") && !uri.starts_with("postgresql://") {
        p.push(err(
            "sessionDb.uri",
            "`sessionDb.uri` must be a postgres:// or postgresql:// URI",
        ));
    }
}

fn is_pg_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-')
}

fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Parse an http(s) URL enough to know it names a host; returns the scheme.
pub fn check_url(u: &str) -> Result<(), String> {
    let (scheme, rest) = u
        .split_once("://")
        .ok_or("it has no scheme — write https://host")?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme `{scheme}` is not http or https"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port: u32 = port
                .parse()
                .map_err(|_| format!("port `{port}` is not a number"))?;
            if !(1..=65535).contains(&port) {
                return Err(format!("port {port} is not 1–65535"));
            }
            h
        }
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || (!is_host(host) && host.parse::<std::net::IpAddr>().is_err()) {
        return Err(format!("`{host}` is not a host name"));
    }
    Ok(())
}

fn object_storage(v: &Values, p: &mut Vec<Problem>) {
    let s3 = &v.external_s3;
    if v.minio.enabled && s3.enabled {
        p.push(err("externalS3.enabled", "both `minio.enabled` and `externalS3.enabled` are true — choose one: --set minio.enabled=false for external S3"));
    }
    if s3.enabled {
        if s3.endpoint.is_empty() {
            p.push(err("externalS3.endpoint", "`externalS3.endpoint` is required with `externalS3.enabled` — e.g. https://s3.amazonaws.com"));
        } else if let Err(e) = check_url(&s3.endpoint) {
            p.push(err(
                "externalS3.endpoint",
                format!("`externalS3.endpoint` `{}`: {e}", s3.endpoint),
            ));
        }
        if !is_bucket(&s3.bucket) {
            p.push(err("externalS3.bucket", format!("`externalS3.bucket` `{}` is not a valid bucket name (3–63 lowercase letters, digits, . and -)", s3.bucket)));
        }
        if s3.existing_secret.is_empty() && (s3.access_key.is_empty() || s3.secret_key.is_empty()) {
            p.push(err("externalS3.accessKey", "external S3 needs credentials: set `externalS3.existingSecret` (recommended) or both `externalS3.accessKey` and `externalS3.secretKey`"));
        }
    }
    if v.minio.enabled {
        for (i, b) in v.minio.provisioning.buckets.iter().enumerate() {
            if !is_bucket(&b.name) {
                let path = format!("minio.provisioning.buckets.{i}.name");
                p.push(err(&path, format!("`{path}` `{}` is not a valid bucket name (3–63 lowercase letters, digits, . and -)", b.name)));
            }
        }
        if v.minio.auth.existing_secret.is_empty() && v.minio.auth.root_user.len() < 3 {
            p.push(err(
                "minio.auth.rootUser",
                "`minio.auth.rootUser` must be at least 3 characters (MinIO refuses shorter)",
            ));
        }
        if !v.minio.auth.root_password.is_empty() && v.minio.auth.root_password.len() < 8 {
            p.push(warn("minio.auth.rootPassword", "`minio.auth.rootPassword` is shorter than 8 characters: MinIO will refuse to start — leave it empty to generate one"));
        }
    }
    let d = Derived::new("x", v);
    if d.s3_requested && !d.image_has_s3_modules {
        p.push(warn("backend.image", format!(
            "S3 is requested but the image `{}` lacks the S3 filestore modules (fs_attachment_s3) and session_db: the filestore goes to a PVC instead. Use ghcr.io/sergio-bershadsky/odoo, or set backend.image.s3Modules=true if your image has them",
            v.backend.image.reference()
        )).also(&["minio.enabled", "externalS3.enabled"]));
    }
    if v.backend.replica_count > 1 && d.filestore_pvc {
        p.push(warn("backend.replicaCount", format!(
            "{} backend replicas share a ReadWriteOnce filestore PVC: pods on other nodes cannot mount it — use S3 for more than one replica",
            v.backend.replica_count
        )).also(&["backend.persistence", "backend.image", "minio.enabled", "externalS3.enabled"]));
    }
}

fn is_bucket(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Odoo module names: `[a-z0-9_]+`.
pub fn is_module_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parse a comma-separated module list, refusing empty items and bad names.
pub fn parse_modules(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, m) in list.split(',').enumerate() {
        let m = m.trim();
        if m.is_empty() {
            return Err(format!(
                "module list `{list}` has an empty item at position {} — write e.g. sale,account",
                i + 1
            ));
        }
        if !is_module_name(m) {
            return Err(format!(
                "`{m}` is not an Odoo module name (lowercase letters, digits and _)"
            ));
        }
        if !out.iter().any(|o| o == m) {
            out.push(m.to_string());
        }
    }
    Ok(out)
}

const LOG_LEVELS: &[&str] = &[
    "info",
    "debug_rpc_answer",
    "debug_rpc",
    "debug",
    "debug_sql",
    "warn",
    "error",
    "critical",
    "notset",
];

fn odoo(v: &Values, p: &mut Vec<Problem>) {
    let o = &v.backend.odoo;
    if !LOG_LEVELS.contains(&o.log_level.as_str()) {
        p.push(err(
            "backend.odoo.logLevel",
            format!(
                "`backend.odoo.logLevel` `{}` is not one of {}",
                o.log_level,
                LOG_LEVELS.join(", ")
            ),
        ));
    }
    if !(0..=64).contains(&o.workers) {
        p.push(err(
            "backend.odoo.workers",
            format!(
                "`backend.odoo.workers` is {}; use 0 (threaded, dev) to 64",
                o.workers
            ),
        ));
    }
    if o.max_cron_threads < 0 {
        p.push(err(
            "backend.odoo.maxCronThreads",
            "`backend.odoo.maxCronThreads` cannot be negative",
        ));
    }
    if o.limit_memory_soft <= 0 || o.limit_memory_hard < o.limit_memory_soft {
        p.push(err("backend.odoo.limitMemoryHard", "`backend.odoo.limitMemorySoft` must be positive and `limitMemoryHard` at least as large"));
    }
    for m in o.server_wide_modules.split(',').map(str::trim) {
        if !is_module_name(m) {
            p.push(err("backend.odoo.serverWideModules", format!("`backend.odoo.serverWideModules` item `{m}` is not a module name (lowercase letters, digits and _; comma-separated)")));
        }
    }
    for (path, list) in [
        (
            "backend.autoUpgrade.modules",
            &v.backend.auto_upgrade.modules,
        ),
        ("backend.initDb.modules", &v.backend.init_db.modules),
    ] {
        for m in list {
            if !is_module_name(m) {
                p.push(err(
                    path,
                    format!(
                        "`{path}` item `{m}` is not a module name (lowercase letters, digits and _)"
                    ),
                ));
            }
        }
    }
    if !matches!(
        v.backend.image.s3_modules.as_deref(),
        None | Some("auto" | "true" | "false")
    ) {
        p.push(err(
            "backend.image.s3Modules",
            "`backend.image.s3Modules` is auto, true or false",
        ));
    }
    let login = &v.backend.init_db.admin_login;
    if login.trim().is_empty() || login.chars().any(char::is_whitespace) {
        p.push(err("backend.initDb.adminLogin", "`backend.initDb.adminLogin` must be a login without spaces, e.g. admin or you@example.com"));
    }
    if !v.backend.init_db.admin_email.is_empty() && !v.backend.init_db.admin_email.contains('@') {
        p.push(err(
            "backend.initDb.adminEmail",
            "`backend.initDb.adminEmail` is not an e-mail address",
        ));
    }
    let lang = &v.backend.init_db.language;
    let lang_ok = lang.len() >= 2
        && lang
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '@');
    if !lang_ok {
        p.push(err(
            "backend.initDb.language",
            format!("`backend.initDb.language` `{lang}` is not a language code such as en_US"),
        ));
    }
    if v.backend.replica_count < 1 {
        p.push(err(
            "backend.replicaCount",
            "`backend.replicaCount` must be at least 1",
        ));
    }
    // Memory: about 300 MiB per worker + 500 MiB.
    let mib = 1024.0 * 1024.0;
    let needed = (o.workers.max(0) as f64 * 300.0 + 500.0) * mib;
    let limit = v
        .backend
        .resources
        .limits
        .as_ref()
        .and_then(|l| l.get("memory"))
        .and_then(|q| parse_quantity(&q.0));
    if let Some(limit) = limit
        && limit < needed
    {
        p.push(warn("backend.resources.limits.memory", format!(
            "backend memory limit {:.0}Mi is small for {} worker(s) (about {:.0}Mi needed: 300Mi per worker + 500Mi) — raise backend.resources.limits.memory or lower backend.odoo.workers",
            limit / mib,
            o.workers,
            needed / mib
        )).also(&["backend.resources", "backend.odoo.workers"]));
    }
}

fn images(v: &Values, p: &mut Vec<Problem>) {
    let mut list = vec![
        ("backend.image", &v.backend.image, true),
        (
            "postgresql.image",
            &v.postgresql.image,
            v.postgresql.enabled || v.backup.enabled,
        ),
        ("minio.image", &v.minio.image, v.minio.enabled),
        (
            "minio.provisioning.image",
            &v.minio.provisioning.image,
            v.minio.enabled && v.minio.provisioning.enabled,
        ),
        (
            "backend.initContainers.waitForDb.image",
            &v.backend.init_containers.wait_for_db.image,
            true,
        ),
        ("nginx.image", &v.nginx.image, v.nginx.enabled),
        ("backup.image", &v.backup.image, v.backup.enabled),
        ("backup.mcImage", &v.backup.mc_image, v.backup.enabled),
        (
            "backend.addonsFetch.image",
            &v.backend.addons_fetch.image,
            !v.backend.addons.is_empty(),
        ),
    ];
    list.push(("frontend.image", &v.frontend.image, v.frontend.enabled));
    for (path, img, used) in list {
        if !used {
            continue;
        }
        if img.repository.trim().is_empty() {
            p.push(err(
                &format!("{path}.repository"),
                format!("`{path}.repository` is empty — name the image to run"),
            ));
            continue;
        }
        if img.repository.contains(char::is_whitespace) || img.tag.contains(char::is_whitespace) {
            p.push(err(
                &format!("{path}.tag"),
                format!("`{path}` `{}` contains spaces", img.reference()),
            ));
        }
        if !matches!(
            img.pull_policy.as_str(),
            "Always" | "IfNotPresent" | "Never"
        ) {
            p.push(err(
                &format!("{path}.pullPolicy"),
                format!("`{path}.pullPolicy` is Always, IfNotPresent or Never"),
            ));
        }
        if !img.digest.is_empty() && !img.digest.starts_with("sha256:") {
            p.push(err(
                &format!("{path}.digest"),
                format!("`{path}.digest` must look like sha256:<64 hex digits>"),
            ));
        }
        if img.tag.trim().is_empty() && img.digest.is_empty() {
            p.push(err(
                &format!("{path}.tag"),
                format!("`{path}.tag` is empty — pin a version tag (or set `{path}.digest`)"),
            ));
            continue;
        }
        if img.digest.is_empty() && img.tag == "latest" {
            p.push(warn(&format!("{path}.tag"), format!(
                "`{path}` `{}` floats: a restart may run a different version — pin a version tag or a digest",
                img.reference()
            )).also(&[path]));
        }
    }
}

fn exposure(v: &Values, p: &mut Vec<Problem>) {
    for (path, svc) in [
        ("backend.service.type", &v.backend.service.type_),
        ("frontend.service.type", &v.frontend.service.type_),
        ("nginx.service.type", &v.nginx.service.type_),
    ] {
        if !matches!(svc.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
            p.push(err(
                path,
                format!("`{path}` is ClusterIP, NodePort or LoadBalancer"),
            ));
        }
    }
    let n = &v.nginx;
    if n.enabled {
        if n.domains.backoffice.enabled && !is_host(&n.domains.backoffice.host) {
            p.push(err("nginx.domains.backoffice.host", "`nginx.domains.backoffice.host` must be a host name when the backoffice domain is enabled"));
        }
        if !n.domains.public.host.is_empty() && !is_host(&n.domains.public.host) {
            p.push(err(
                "nginx.domains.public.host",
                format!(
                    "`nginx.domains.public.host` `{}` is not a host name",
                    n.domains.public.host
                ),
            ));
        }
        if n.domains.backoffice.enabled && n.domains.backoffice.host == n.domains.public.host {
            p.push(err(
                "nginx.domains.backoffice.host",
                "`nginx.domains.backoffice.host` must differ from `nginx.domains.public.host`",
            ));
        }
        if !is_nginx_size(&n.client_max_body_size) {
            p.push(err(
                "nginx.clientMaxBodySize",
                format!(
                    "`nginx.clientMaxBodySize` `{}` is not an nginx size such as 200m or 1g",
                    n.client_max_body_size
                ),
            ));
        }
        for (key, t) in [
            ("proxy_read", &n.timeouts.proxy_read),
            ("proxy_connect", &n.timeouts.proxy_connect),
            ("proxy_send", &n.timeouts.proxy_send),
        ] {
            if !is_nginx_time(t) {
                p.push(err(
                    &format!("nginx.timeouts.{key}"),
                    format!("`nginx.timeouts.{key}` `{t}` is not an nginx time such as 720s or 5m"),
                ));
            }
        }
    }
    if v.ingress.enabled {
        if v.ingress.hosts.is_empty() {
            p.push(err("ingress.hosts", "`ingress.enabled` needs at least one host: --set ingress.hosts[0].host=odoo.example.com"));
        }
        for (i, h) in v.ingress.hosts.iter().enumerate() {
            let host = h.host.strip_prefix("*.").unwrap_or(&h.host);
            if !is_host(host) {
                let path = format!("ingress.hosts.{i}.host");
                p.push(err(
                    &path,
                    format!("`{path}` `{}` is not a host name", h.host),
                ));
            }
            for (j, path) in h.paths.iter().enumerate() {
                if !matches!(
                    path.path_type.as_str(),
                    "Prefix" | "Exact" | "ImplementationSpecific"
                ) {
                    let key = format!("ingress.hosts.{i}.paths.{j}.pathType");
                    p.push(err(
                        &key,
                        format!("`{key}` is Prefix, Exact or ImplementationSpecific"),
                    ));
                }
                if !path.path.starts_with('/') {
                    let key = format!("ingress.hosts.{i}.paths.{j}.path");
                    p.push(err(&key, format!("`{key}` must start with /")));
                }
                if let Some(port) = path.port
                    && !(1..=65535).contains(&port)
                {
                    let key = format!("ingress.hosts.{i}.paths.{j}.port");
                    p.push(err(&key, format!("`{key}` is {port}; a port is 1–65535")));
                }
            }
        }
    }
}

fn is_nginx_size(s: &str) -> bool {
    let digits = s.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    !digits.is_empty() && digits.len() + 1 >= s.len() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_nginx_time(s: &str) -> bool {
    let digits = s.trim_end_matches(['s', 'm', 'h', 'd']);
    !digits.is_empty() && digits.len() + 1 >= s.len() && digits.chars().all(|c| c.is_ascii_digit())
}

fn availability(v: &Values, p: &mut Vec<Problem>) {
    let pdbs = [
        ("backend", &v.backend.pdb, v.backend.replica_count, true),
        (
            "frontend",
            &v.frontend.pdb,
            v.frontend.replica_count,
            v.frontend.enabled,
        ),
        (
            "nginx",
            &v.nginx.pdb,
            v.nginx.replica_count,
            v.nginx.enabled,
        ),
    ];
    for (component, pdb, replicas, on) in pdbs {
        let path = format!("{component}.pdb");
        if on && pdb.enabled && pdb.min_available >= replicas {
            let settings = [
                path.clone(),
                format!("{component}.replicaCount"),
                format!("{component}.enabled"),
            ];
            p.push(warn(&format!("{path}.minAvailable"), format!(
                "`{path}.minAvailable` {} with {replicas} replica(s) would block every node drain: the PodDisruptionBudget is not rendered — raise the replica count or lower minAvailable",
                pdb.min_available
            )).also(&settings.each_ref().map(String::as_str)));
        }
        if pdb.min_available < 0 {
            p.push(err(
                &format!("{path}.minAvailable"),
                format!("`{path}.minAvailable` cannot be negative"),
            ));
        }
    }
    for (path, n) in [
        ("frontend.replicaCount", v.frontend.replica_count),
        ("nginx.replicaCount", v.nginx.replica_count),
    ] {
        if n < 1 {
            p.push(err(path, format!("`{path}` must be at least 1")));
        }
    }
}

/// Numbers under `resources.requests/limits` become strings (`cpu: 1` → "1"), as Helm renders them.
pub fn quantities_as_strings(v: &mut Json) {
    match v {
        Json::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "resources" {
                    for part in ["requests", "limits"] {
                        if let Some(Json::Object(q)) = child.get_mut(part) {
                            for val in q.values_mut() {
                                if let Json::Number(n) = val {
                                    *val = Json::String(n.to_string());
                                }
                            }
                        }
                    }
                }
                quantities_as_strings(child);
            }
        }
        Json::Array(items) => items.iter_mut().for_each(quantities_as_strings),
        _ => {}
    }
}

/// Keys inside free-form Kubernetes blocks (securityContext, resources, affinity…) that the
/// Kubernetes types do not know: found by writing the typed values back and comparing.
pub fn unknown_nested_fields(input: &Json, v: &Values) -> Vec<Problem> {
    let output = serde_json::to_value(v).unwrap_or(Json::Null);
    let mut out = Vec::new();
    diff_keys(input, &output, &mut Vec::new(), &mut out);
    out
}

fn diff_keys(input: &Json, output: &Json, path: &mut Vec<String>, out: &mut Vec<Problem>) {
    match (input, output) {
        (Json::Object(i), Json::Object(o)) => {
            for (k, iv) in i {
                if iv.is_null() {
                    continue;
                }
                path.push(k.clone());
                match o.get(k) {
                    Some(ov) => diff_keys(iv, ov, path, out),
                    None => {
                        let dotted = path.join(".");
                        out.push(err(&dotted, format!("unknown key `{dotted}` — not a field of this Kubernetes object; check its spelling")));
                    }
                }
                path.pop();
            }
        }
        (Json::Array(i), Json::Array(o)) => {
            for (idx, (iv, ov)) in i.iter().zip(o).enumerate() {
                path.push(idx.to_string());
                diff_keys(iv, ov, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The instance name: a DNS-1035 label short enough for every derived name.
pub fn validate_release(name: &str, v: &Values) -> Result<(), String> {
    if name.is_empty() {
        return Err("the instance name is empty — pass a NAME such as `acme`".into());
    }
    let dns1035 = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !dns1035 {
        return Err(format!(
            "instance name `{name}` is not valid: use lowercase letters, digits and '-', starting with a letter and not ending with '-' (e.g. `acme-prod`)"
        ));
    }
    // StatefulSet names must leave room for the pod ordinal suffix: ≤ 52 characters.
    let mut limits: Vec<(String, usize)> = Vec::new();
    if v.postgresql.enabled {
        limits.push((format!("{name}-postgresql"), 52));
    }
    if v.minio.enabled {
        limits.push((format!("{name}-minio"), 52));
        limits.push((format!("{name}-minio-provisioning"), 63));
    }
    let fullname = names::fullname(name, &v.name_override, &v.fullname_override);
    // Services and Jobs are DNS labels (≤ 63); Jobs also label their pods with their name.
    for suffix in [
        "backend",
        "frontend",
        "nginx",
        "init",
        "storage-init",
        "smoke-check",
        "upgrade-9999",
    ] {
        limits.push((format!("{fullname}-{suffix}"), 63));
    }
    for (derived, max) in limits {
        if derived.len() > max {
            let over = derived.len() - max;
            return Err(format!(
                "instance name `{name}` is too long: `{derived}` would be {} characters, the limit is {max} — shorten the name by {over} or more",
                derived.len()
            ));
        }
    }
    Ok(())
}
