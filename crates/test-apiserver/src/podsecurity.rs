//! Pod Security admission: the `baseline` and `restricted` checks of the
//! pod-security-admission library, with its reasons and details, driven by the
//! namespace labels `pod-security.kubernetes.io/{enforce,warn}[-version]`.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

/// A level and version, printed as `restricted:latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub level: Level,
    pub version: String,
}

impl Policy {
    pub fn label(&self) -> String {
        let l = match self.level {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        };
        format!("{l}:{}", self.version)
    }
}

/// The policy a namespace sets for `mode` (`enforce`, `warn`, `audit`), if any.
pub fn namespace_policy(ns: &Value, mode: &str) -> Option<Policy> {
    let labels = ns.pointer("/metadata/labels")?;
    let level = match labels
        .get(format!("pod-security.kubernetes.io/{mode}"))
        .and_then(Value::as_str)?
    {
        "baseline" => Level::Baseline,
        "restricted" => Level::Restricted,
        _ => return None,
    };
    let version = labels
        .get(format!("pod-security.kubernetes.io/{mode}-version"))
        .and_then(Value::as_str)
        .filter(|v| *v == "latest" || v.starts_with("v1."))
        .unwrap_or("latest")
        .to_string();
    Some(Policy { level, version })
}

fn join_quote(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!("\"{}\"", items.join("\", \""))
}

fn plural<'a>(one: &'a str, many: &'a str, n: usize) -> &'a str {
    if n == 1 { one } else { many }
}

fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Containers, init containers and ephemeral containers, as the library visits them.
fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|l| spec.get(*l).and_then(Value::as_array))
        .flatten()
        .collect()
}

fn name(c: &Value) -> String {
    c["name"].as_str().unwrap_or("").to_string()
}

fn sc<'a>(c: &'a Value, k: &str) -> Option<&'a Value> {
    c.get("securityContext").and_then(|s| s.get(k))
}

type Check = fn(&Value, &Value) -> Option<(String, String)>;

/// (reason, detail) of the checks a pod fails, in the library's order: the baseline
/// checks first, then those of the level (overlapping baseline checks only at
/// baseline).
pub fn violations(level: Level, meta: &Value, spec: &Value) -> Vec<(String, String)> {
    if level == Level::Privileged {
        return vec![];
    }
    // Baseline checks, then the overlapping baseline checks (baseline only) or the
    // restricted ones, in the order the library registers them.
    let mut checks: Vec<Check> = vec![
        host_namespaces,
        host_ports,
        privileged,
        proc_mount,
        selinux,
        sysctls,
    ];
    if level == Level::Baseline {
        checks.extend_from_slice(&[capabilities_baseline, host_path_volumes, seccomp_baseline]);
    } else {
        checks.extend_from_slice(&[
            allow_privilege_escalation,
            capabilities_restricted,
            restricted_volumes,
            run_as_non_root,
            run_as_user,
            seccomp_restricted,
        ]);
    }
    checks.iter().filter_map(|c| c(meta, spec)).collect()
}

/// `reason (detail), reason (detail)`, as in the admission message.
pub fn describe(v: &[(String, String)]) -> String {
    v.iter()
        .map(|(r, d)| {
            if d.is_empty() {
                r.clone()
            } else {
                format!("{r} ({d})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn host_namespaces(_: &Value, spec: &Value) -> Option<(String, String)> {
    let set: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| spec.get(**k).and_then(Value::as_bool) == Some(true))
        .map(|k| format!("{k}=true"))
        .collect();
    (!set.is_empty()).then(|| ("host namespaces".into(), set.join(", ")))
}

fn host_ports(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut ports = Vec::new();
    for c in containers(spec) {
        let mut any = false;
        for p in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(h) = p
                .get("hostPort")
                .and_then(Value::as_i64)
                .filter(|h| *h != 0)
            {
                any = true;
                ports.push(h.to_string());
            }
        }
        if any {
            bad.push(name(c));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let ports = sorted_unique(ports);
    Some((
        "hostPort".into(),
        format!(
            "{} {} {} {} {}",
            plural("container", "containers", bad.len()),
            join_quote(&bad),
            plural("uses", "use", bad.len()),
            plural("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    ))
}

fn privileged(_: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "privileged").and_then(Value::as_bool) == Some(true))
        .map(name)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "privileged".into(),
            format!(
                "{} {} must not set securityContext.privileged=true",
                plural("container", "containers", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

fn proc_mount(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut types = Vec::new();
    for c in containers(spec) {
        if let Some(t) = sc(c, "procMount").and_then(Value::as_str)
            && t != "Default"
        {
            bad.push(name(c));
            types.push(t.to_string());
        }
    }
    (!bad.is_empty()).then(|| {
        (
            "procMount".into(),
            format!(
                "{} {} must not set securityContext.procMount to {}",
                plural("container", "containers", bad.len()),
                join_quote(&bad),
                join_quote(&sorted_unique(types))
            ),
        )
    })
}

fn selinux(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    let mut types = Vec::new();
    let (mut user, mut role) = (false, false);
    let mut check = |o: &Value| -> bool {
        let mut ok = true;
        let t = o.get("type").and_then(Value::as_str).unwrap_or("");
        if !["", "container_t", "container_init_t", "container_kvm_t"].contains(&t) {
            ok = false;
            types.push(t.to_string());
        }
        if o.get("user")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            ok = false;
            user = true;
        }
        if o.get("role")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            ok = false;
            role = true;
        }
        ok
    };
    if let Some(o) = spec.pointer("/securityContext/seLinuxOptions")
        && !check(o)
    {
        setters.push("pod".to_string());
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        if let Some(o) = sc(c, "seLinuxOptions")
            && !check(o)
        {
            bad.push(name(c));
        }
    }
    if !bad.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", bad.len()),
            join_quote(&bad)
        ));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    let types = sorted_unique(types);
    if !types.is_empty() {
        data.push(format!(
            "{} {}",
            plural("type", "types", types.len()),
            join_quote(&types)
        ));
    }
    if user {
        data.push("user may not be set".to_string());
    }
    if role {
        data.push("role may not be set".to_string());
    }
    Some((
        "seLinuxOptions".into(),
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    ))
}

const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

fn sysctls(_: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = spec
        .pointer("/securityContext/sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .map(String::from)
        .collect();
    (!bad.is_empty()).then(|| ("forbidden sysctls".into(), bad.join(", ")))
}

const DEFAULT_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added_caps(c: &Value) -> Vec<String> {
    sc(c, "capabilities")
        .and_then(|x| x.get("add"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

fn capabilities_baseline(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut caps = Vec::new();
    for c in containers(spec) {
        let extra: Vec<String> = added_caps(c)
            .into_iter()
            .filter(|x| !DEFAULT_CAPS.contains(&x.as_str()))
            .collect();
        if !extra.is_empty() {
            bad.push(name(c));
            caps.extend(extra);
        }
    }
    (!bad.is_empty()).then(|| {
        (
            "non-default capabilities".into(),
            format!(
                "{} {} must not include {} in securityContext.capabilities.add",
                plural("container", "containers", bad.len()),
                join_quote(&bad),
                join_quote(&sorted_unique(caps))
            ),
        )
    })
}

fn host_path_volumes(_: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("hostPath").is_some())
        .map(name)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "hostPath volumes".into(),
            format!(
                "{} {}",
                plural("volume", "volumes", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

fn seccomp_ok(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

fn seccomp_type(v: Option<&Value>) -> Option<String> {
    v.map(|p| {
        p.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    })
}

fn seccomp_baseline(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    let mut values = Vec::new();
    if let Some(t) = seccomp_type(spec.pointer("/securityContext/seccompProfile"))
        && !seccomp_ok(&t)
    {
        setters.push("pod".to_string());
        values.push(t);
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        if let Some(t) = seccomp_type(sc(c, "seccompProfile"))
            && !seccomp_ok(&t)
        {
            bad.push(name(c));
            values.push(t);
        }
    }
    if !bad.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", bad.len()),
            join_quote(&bad)
        ));
    }
    (!setters.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&sorted_unique(values))
            ),
        )
    })
}

fn allow_privilege_escalation(_: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false))
        .map(name)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "allowPrivilegeEscalation != false".into(),
            format!(
                "{} {} must set securityContext.allowPrivilegeEscalation=false",
                plural("container", "containers", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

fn capabilities_restricted(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut caps = Vec::new();
    for c in containers(spec) {
        let Some(capabilities) = sc(c, "capabilities") else {
            missing_drop.push(name(c));
            continue;
        };
        let dropped_all = capabilities
            .get("drop")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x == "ALL"));
        if !dropped_all {
            missing_drop.push(name(c));
        }
        let extra: Vec<String> = added_caps(c)
            .into_iter()
            .filter(|x| x != "NET_BIND_SERVICE")
            .collect();
        if !extra.is_empty() {
            adding.push(name(c));
            caps.extend(extra);
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} {} must set securityContext.capabilities.drop=[\"ALL\"]",
            plural("container", "containers", missing_drop.len()),
            join_quote(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} {} must not include {} in securityContext.capabilities.add",
            plural("container", "containers", adding.len()),
            join_quote(&adding),
            join_quote(&sorted_unique(caps))
        ));
    }
    (!details.is_empty()).then(|| ("unrestricted capabilities".into(), details.join("; ")))
}

const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn restricted_volumes(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut types = Vec::new();
    for v in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(m) = v.as_object() else { continue };
        let source = m.keys().find(|k| *k != "name").cloned();
        match source {
            Some(s) if ALLOWED_VOLUMES.contains(&s.as_str()) => {}
            Some(s) => {
                bad.push(name(v));
                types.push(s);
            }
            None => {}
        }
    }
    if bad.is_empty() {
        return None;
    }
    let bad = sorted_unique(bad);
    let types = sorted_unique(types);
    Some((
        "restricted volume types".into(),
        format!(
            "{} {} {} restricted volume {} {}",
            plural("volume", "volumes", bad.len()),
            join_quote(&bad),
            plural("uses", "use", bad.len()),
            plural("type", "types", types.len()),
            join_quote(&types)
        ),
    ))
}

fn run_as_non_root(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    let mut pod_ok = false;
    match spec
        .pointer("/securityContext/runAsNonRoot")
        .and_then(Value::as_bool)
    {
        Some(false) => setters.push("pod".to_string()),
        Some(true) => pod_ok = true,
        None => {}
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(spec) {
        match sc(c, "runAsNonRoot").and_then(Value::as_bool) {
            Some(false) => explicit.push(name(c)),
            Some(true) => {}
            None if !pod_ok => implicit.push(name(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", explicit.len()),
            join_quote(&explicit)
        ));
    }
    if !setters.is_empty() {
        return Some((
            "runAsNonRoot != true".into(),
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "runAsNonRoot != true".into(),
            format!(
                "pod or {} {} must set securityContext.runAsNonRoot=true",
                plural("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

fn run_as_user(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    if spec
        .pointer("/securityContext/runAsUser")
        .and_then(Value::as_i64)
        == Some(0)
    {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "runAsUser").and_then(Value::as_i64) == Some(0))
        .map(name)
        .collect();
    if !bad.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", bad.len()),
            join_quote(&bad)
        ));
    }
    (!setters.is_empty()).then(|| {
        (
            "runAsUser=0".into(),
            format!("{} must not set runAsUser=0", setters.join(" and ")),
        )
    })
}

fn seccomp_restricted(_: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    let mut values = Vec::new();
    let mut pod_set = false;
    if let Some(t) = seccomp_type(spec.pointer("/securityContext/seccompProfile")) {
        if seccomp_ok(&t) {
            pod_set = true;
        } else {
            setters.push("pod".to_string());
            values.push(t);
        }
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(spec) {
        match seccomp_type(sc(c, "seccompProfile")) {
            Some(t) if !seccomp_ok(&t) => {
                explicit.push(name(c));
                values.push(t);
            }
            Some(_) => {}
            None if !pod_set => implicit.push(name(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", explicit.len()),
            join_quote(&explicit)
        ));
    }
    if !setters.is_empty() {
        return Some((
            "seccompProfile".into(),
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&sorted_unique(values))
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!(
                "pod or {} {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                plural("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

/// The pod template (metadata, spec) of a workload object, or the pod itself.
pub fn pod_parts<'a>(plural: &str, obj: &'a Value) -> Option<(&'a Value, &'a Value)> {
    let t = match plural {
        "pods" => obj,
        "deployments" | "replicasets" | "statefulsets" | "jobs" => obj.pointer("/spec/template")?,
        "cronjobs" => obj.pointer("/spec/jobTemplate/spec/template")?,
        _ => return None,
    };
    Some((t.get("metadata").unwrap_or(&Value::Null), t.get("spec")?))
}

/// `would violate PodSecurity "restricted:latest": ...` for the namespace's `warn`
/// policy, if the pod (template) violates it.
pub fn warning(namespace: &Value, plural: &str, obj: &Value) -> Option<String> {
    let policy = namespace_policy(namespace, "warn")?;
    let (meta, spec) = pod_parts(plural, obj)?;
    let v = violations(policy.level, meta, spec);
    (!v.is_empty()).then(|| {
        format!(
            "would violate PodSecurity {:?}: {}",
            policy.label(),
            describe(&v)
        )
    })
}

/// The enforce message for a pod, if the namespace's `enforce` policy refuses it.
pub fn enforce(namespace: &Value, pod: &Value) -> Option<String> {
    let policy = namespace_policy(namespace, "enforce")?;
    let (meta, spec) = pod_parts("pods", pod)?;
    let v = violations(policy.level, meta, spec);
    (!v.is_empty()).then(|| {
        format!(
            "violates PodSecurity {:?}: {}",
            policy.label(),
            describe(&v)
        )
    })
}

/// An HTTP `Warning` header value (code 299, text quoted like the API server does).
pub fn warning_header(text: &str) -> String {
    let mut q = String::with_capacity(text.len() + 2);
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            q.push('\\');
        }
        q.push(ch);
    }
    format!("299 - \"{q}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn restricted_message_lists_the_checks_in_order() {
        let spec = json!({"hostNetwork": true, "containers": [{"name": "c", "image": "i",
            "securityContext": {"privileged": true, "runAsUser": 0}}],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}]});
        let v = violations(Level::Restricted, &json!({}), &spec);
        assert_eq!(
            describe(&v),
            "host namespaces (hostNetwork=true), privileged (container \"c\" must not set securityContext.privileged=true), \
allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), \
unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), \
restricted volume types (volume \"host\" uses restricted volume type \"hostPath\"), \
runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), \
runAsUser=0 (container \"c\" must not set runAsUser=0), \
seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        let b = violations(Level::Baseline, &json!({}), &spec);
        assert_eq!(
            describe(&b),
            "host namespaces (hostNetwork=true), privileged (container \"c\" must not set securityContext.privileged=true), hostPath volumes (volume \"host\")"
        );
    }

    #[test]
    fn a_hardened_pod_passes() {
        let spec = json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "i", "securityContext": {"allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
            "volumes": [{"name": "d", "emptyDir": {}}, {"name": "s", "secret": {"secretName": "x"}}]});
        assert!(violations(Level::Restricted, &json!({}), &spec).is_empty());
        assert_eq!(
            warning_header("would violate PodSecurity \"restricted:latest\": x"),
            "299 - \"would violate PodSecurity \\\"restricted:latest\\\": x\""
        );
    }
}
