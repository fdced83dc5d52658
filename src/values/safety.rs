//! Values that could be turned against the user, refused before anything is rendered:
//! a value written into `odoo.conf`, `nginx.conf` or a script that could end its line or
//! its word; a security context below Pod Security "restricted" without the opt-out; a
//! credential given as a plain environment value (it would be kept in the instance
//! record). Messages name the key and the rule, never the value.

use serde_json::Value as Json;

use super::Values;
use super::validate::Problem;

/// The opt-out that lets security-context values weaken Pod Security "restricted".
pub const OPT_OUT: &str = "security.allowUnrestricted";

/// Keys whose value may span lines or hold tabs: nothing of them reaches a configuration
/// file or a script line (annotations and env values are fields of Kubernetes objects,
/// the maintenance page is an HTML file).
fn multi_line_allowed(path: &[String]) -> bool {
    let dotted = path.join(".");
    dotted == "nginx.maintenancePage.content"
        || path.iter().any(|p| p == "annotations")
        || (path.len() >= 4
            && path[path.len() - 3] == "env"
            && path.last().is_some_and(|l| l == "value"))
}

/// Every check of this module.
pub fn check(v: &Values, merged: &Json) -> Vec<Problem> {
    let mut p = Vec::new();
    control_characters(merged, &mut Vec::new(), &mut p);
    config_values(v, &mut p);
    security_contexts(v, &mut p);
    env_credentials(v, &mut p);
    p
}

fn err(path: &str, message: String) -> Problem {
    Problem {
        path: path.to_string(),
        message,
        is_error: true,
        also: Vec::new(),
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| {
        let n = c as u32;
        n < 0x20 || n == 0x7f || (0x80..=0x9f).contains(&n)
    })
}

/// No string value holds a control character (line break, tab, escape …), except where
/// [`multi_line_allowed`].
fn control_characters(j: &Json, path: &mut Vec<String>, p: &mut Vec<Problem>) {
    match j {
        Json::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                control_characters(v, path, p);
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                control_characters(v, path, p);
                path.pop();
            }
        }
        Json::String(s) if has_control(s) && !multi_line_allowed(path) => {
            let key = path.join(".");
            p.push(err(
                &key,
                format!(
                    "`{key}` holds a control character (a line break, tab or escape) — it would be written into a configuration file or a script; remove it"
                ),
            ));
        }
        _ => {}
    }
}

/// What a value written into a configuration file or a script may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A regular expression (Odoo's `dbfilter`): letters, digits and `^$.*+?()[]{}|\-_%,:`.
    Regex,
    /// An absolute path of letters, digits, `.`, `_`, `-` and `/`, without `..`.
    Path,
    /// Absolute paths as above, separated by commas.
    PathList,
    /// The path of a URL: `/` then letters, digits, `.`, `_`, `~`, `-`, `%` and `/`.
    UrlPath,
    /// An object-key prefix: letters, digits, `.`, `_`, `-` and `/`, without `..`.
    KeyPrefix,
    /// A DNS label: lowercase letters, digits and `-`, at most 63, not starting or ending
    /// with `-` (it names objects and hosts written into nginx.conf and scripts).
    DnsLabel,
    /// A line of `odoo.conf`: no surrounding spaces (Odoo's parser would strip them).
    ConfLine,
    /// An origin: `http(s)://host[:port]`, nothing more.
    Origin,
}

impl Rule {
    /// The rule in words, for the message.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::Regex => {
                "a regular expression of letters, digits and ^$.*+?()[]{}|\\-_%,: (no spaces, quotes, ; or #)"
            }
            Rule::Path => {
                "an absolute path of letters, digits, '.', '_', '-' and '/', without '..'"
            }
            Rule::PathList => {
                "absolute paths of letters, digits, '.', '_', '-' and '/', separated by commas"
            }
            Rule::UrlPath => {
                "a URL path: '/' then letters, digits, '.', '_', '~', '-', '%' and '/'"
            }
            Rule::KeyPrefix => "letters, digits, '.', '_', '-' and '/', without '..'",
            Rule::DnsLabel => {
                "a DNS label: lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit"
            }
            Rule::ConfLine => "a value without leading or trailing spaces",
            Rule::Origin => {
                "an origin such as https://shop.example.com (scheme, host and optional port only)"
            }
        }
    }

    /// Whether `s` follows the rule. An empty value is the caller's business (most keys
    /// then take a default).
    pub fn allows(self, s: &str) -> bool {
        let path_char = |c: char| c.is_ascii_alphanumeric() || "._-/".contains(c);
        let path = |s: &str| {
            s.starts_with('/') && s.chars().all(path_char) && !s.split('/').any(|p| p == "..")
        };
        match self {
            Rule::Regex => s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "^$.*+?()[]{}|\\-_%,:".contains(c)),
            Rule::Path => path(s),
            Rule::PathList => s.split(',').all(|p| path(p.trim()) && !p.contains(' ')),
            Rule::UrlPath => {
                s.starts_with('/')
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._~-%/".contains(c))
                    && !s.split('/').any(|p| p == "..")
            }
            Rule::KeyPrefix => s.chars().all(path_char) && !s.split('/').any(|p| p == ".."),
            Rule::DnsLabel => {
                s.len() <= 63
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !s.starts_with('-')
                    && !s.ends_with('-')
            }
            Rule::ConfLine => s.trim() == s,
            Rule::Origin => {
                let Some((scheme, rest)) = s.split_once("://") else {
                    return false;
                };
                let rest = rest.strip_suffix('/').unwrap_or(rest);
                (scheme == "http" || scheme == "https")
                    && !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]*".contains(c))
            }
        }
    }
}

/// Every value written into `odoo.conf`, `nginx.conf` or a script that is not already
/// held to a stricter rule elsewhere (host names, ports, module names, database and user
/// names, sizes and times are), with its rule.
pub fn written_values(v: &Values) -> Vec<(String, &str, Rule)> {
    let o = &v.backend.odoo;
    let mut out = vec![
        (
            "backend.odoo.dbFilter".to_string(),
            o.db_filter.as_str(),
            Rule::Regex,
        ),
        (
            "backend.odoo.addonsPath".to_string(),
            o.addons_path.as_str(),
            Rule::PathList,
        ),
        (
            "backend.odoo.dataDir".to_string(),
            o.data_dir.as_str(),
            Rule::Path,
        ),
        (
            "backend.odoo.masterPassword".to_string(),
            o.master_password.as_str(),
            Rule::ConfLine,
        ),
        (
            "backend.smokeCheck.path".to_string(),
            v.backend.smoke_check.path.as_str(),
            Rule::UrlPath,
        ),
        (
            "backup.prefix".to_string(),
            v.backup.prefix.as_str(),
            Rule::KeyPrefix,
        ),
        (
            "nameOverride".to_string(),
            v.name_override.as_str(),
            Rule::DnsLabel,
        ),
        (
            "fullnameOverride".to_string(),
            v.fullname_override.as_str(),
            Rule::DnsLabel,
        ),
    ];
    for (i, origin) in v.nginx.cors.origins.iter().enumerate() {
        out.push((
            format!("nginx.cors.origins.{i}"),
            origin.as_str(),
            Rule::Origin,
        ));
    }
    out
}

fn config_values(v: &Values, p: &mut Vec<Problem>) {
    for (key, value, rule) in written_values(v) {
        if !value.is_empty() && !rule.allows(value) {
            p.push(err(
                &key,
                format!(
                    "`{key}` must be {} — it is written into a configuration file or a script",
                    rule.describe()
                ),
            ));
        }
    }
}

/// A security-context value that would run a pod below Pod Security "restricted" (or
/// with a writable root filesystem), as `(field, value as written)`.
fn weakenings_container(sc: &k8s_openapi::api::core::v1::SecurityContext) -> Vec<(String, String)> {
    let mut w = Vec::new();
    if sc.privileged == Some(true) {
        w.push(("privileged".into(), "true".into()));
    }
    if sc.allow_privilege_escalation == Some(true) {
        w.push(("allowPrivilegeEscalation".into(), "true".into()));
    }
    if sc.run_as_non_root == Some(false) {
        w.push(("runAsNonRoot".into(), "false".into()));
    }
    if sc.run_as_user == Some(0) {
        w.push(("runAsUser".into(), "0".into()));
    }
    if sc.read_only_root_filesystem == Some(false) {
        w.push(("readOnlyRootFilesystem".into(), "false".into()));
    }
    if let Some(caps) = &sc.capabilities
        && let Some(add) = &caps.add
    {
        for c in add.iter().filter(|c| c.as_str() != "NET_BIND_SERVICE") {
            w.push(("capabilities.add".into(), c.clone()));
        }
    }
    if let Some(s) = &sc.seccomp_profile
        && s.type_ == "Unconfined"
    {
        w.push(("seccompProfile.type".into(), "Unconfined".into()));
    }
    if sc.proc_mount.as_deref() == Some("Unmasked") {
        w.push(("procMount".into(), "Unmasked".into()));
    }
    if sc
        .windows_options
        .as_ref()
        .and_then(|o| o.host_process)
        .unwrap_or(false)
    {
        w.push(("windowsOptions.hostProcess".into(), "true".into()));
    }
    if let Some(se) = &sc.se_linux_options {
        w.extend(selinux(se));
    }
    w
}

fn selinux(se: &k8s_openapi::api::core::v1::SELinuxOptions) -> Vec<(String, String)> {
    let mut w = Vec::new();
    if let Some(t) = &se.type_
        && !matches!(
            t.as_str(),
            "" | "container_t" | "container_init_t" | "container_kvm_t" | "container_engine_t"
        )
    {
        w.push(("seLinuxOptions.type".into(), t.clone()));
    }
    if se.user.as_deref().is_some_and(|u| !u.is_empty()) {
        w.push(("seLinuxOptions.user".into(), "…".into()));
    }
    if se.role.as_deref().is_some_and(|r| !r.is_empty()) {
        w.push(("seLinuxOptions.role".into(), "…".into()));
    }
    w
}

fn weakenings_pod(psc: &k8s_openapi::api::core::v1::PodSecurityContext) -> Vec<(String, String)> {
    let mut w = Vec::new();
    if psc.run_as_non_root == Some(false) {
        w.push(("runAsNonRoot".into(), "false".into()));
    }
    if psc.run_as_user == Some(0) {
        w.push(("runAsUser".into(), "0".into()));
    }
    if let Some(s) = &psc.seccomp_profile
        && s.type_ == "Unconfined"
    {
        w.push(("seccompProfile.type".into(), "Unconfined".into()));
    }
    if psc
        .windows_options
        .as_ref()
        .and_then(|o| o.host_process)
        .unwrap_or(false)
    {
        w.push(("windowsOptions.hostProcess".into(), "true".into()));
    }
    if let Some(se) = &psc.se_linux_options {
        w.extend(selinux(se));
    }
    w
}

fn security_contexts(v: &Values, p: &mut Vec<Problem>) {
    if v.security.allow_unrestricted {
        return;
    }
    let containers = [
        ("postgresql", &v.postgresql.container_security_context),
        ("minio", &v.minio.container_security_context),
        ("backend", &v.backend.container_security_context),
        ("frontend", &v.frontend.container_security_context),
        ("nginx", &v.nginx.container_security_context),
    ];
    let pods = [
        ("backend", &v.backend.pod_security_context),
        ("frontend", &v.frontend.pod_security_context),
        ("nginx", &v.nginx.pod_security_context),
    ];
    let mut found: Vec<(String, String)> = Vec::new();
    for (c, sc) in containers {
        for (field, value) in weakenings_container(sc) {
            found.push((format!("{c}.containerSecurityContext.{field}"), value));
        }
    }
    for (c, psc) in pods {
        for (field, value) in weakenings_pod(psc) {
            found.push((format!("{c}.podSecurityContext.{field}"), value));
        }
    }
    for (key, value) in found {
        p.push(err(
            &key,
            format!(
                "`{key}: {value}` would run the pod below Pod Security \"restricted\" (or with a writable root filesystem) — remove it, or set `{OPT_OUT}: true` to accept the risk (a namespace odoo-tui creates enforces \"restricted\": relabel it too)"
            ),
        ));
    }
}

/// Whether an environment variable's name says it holds a credential.
pub fn looks_like_credential(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "SECRET",
        "TOKEN",
        "KEY",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "PRIVATE",
        "DSN",
    ];
    let upper = name.to_ascii_uppercase();
    upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| WORDS.contains(&w) || w.ends_with("PASSWORD") || w.ends_with("SECRET"))
}

/// Whether a value carries a password inside a URL (`scheme://user:password@host`).
pub fn has_url_password(value: &str) -> bool {
    value.split("://").skip(1).any(|rest| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

/// Plain env values that look like credentials: refused, pointing at `valueFrom`. The
/// values are kept in the instance record (a ConfigMap) and in the user's values files;
/// a `secretKeyRef` keeps the credential in a Secret only.
fn env_credentials(v: &Values, p: &mut Vec<Problem>) {
    for (prefix, env) in [
        ("backend.env", &v.backend.env),
        ("frontend.env", &v.frontend.env),
    ] {
        for (i, e) in env.iter().enumerate() {
            let Some(value) = e.value.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            if looks_like_credential(&e.name) || has_url_password(value) {
                let key = format!("{prefix}.{i}");
                p.push(err(
                    &key,
                    format!(
                        "`{key}` (`{}`) looks like a credential given as a plain value: values are kept in the instance record (a ConfigMap) — put it in a Secret and use `valueFrom.secretKeyRef` instead",
                        crate::text::safe_line(&e.name)
                    ),
                ));
            }
        }
    }
}
