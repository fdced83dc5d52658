//! Defaulting and validation, as far as the real API server's behaviour matters to
//! clients: defaults that show up in stored objects, required fields, immutable fields.

use crate::error::ApiError;
use crate::resources::ResourceType;
use crate::selectors::LabelSelector;
use crate::util::{self, get};
use base64::Engine;
use serde_json::{Map, Value, json};

fn obj_mut<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    util::ensure_obj(v, path)
}

fn default_key(m: &mut Map<String, Value>, k: &str, v: Value) {
    if !m.contains_key(k) || m[k].is_null() {
        m.insert(k.to_string(), v);
    }
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    let image = m
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tag = image.rsplit('/').next().unwrap_or("");
    let latest = !tag.contains(':') || tag.ends_with(":latest");
    let policy = if image.contains('@') || !latest {
        "IfNotPresent"
    } else {
        "Always"
    };
    default_key(m, "imagePullPolicy", json!(policy));
    default_key(m, "terminationMessagePath", json!("/dev/termination-log"));
    default_key(m, "terminationMessagePolicy", json!("File"));
    default_key(m, "resources", json!({}));
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if let Some(pm) = p.as_object_mut() {
                default_key(pm, "protocol", json!("TCP"));
            }
        }
    }
}

/// Defaults of a pod spec (pods and templates alike).
fn default_pod_spec(spec: &mut Value, is_pod: bool) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    default_key(m, "restartPolicy", json!("Always"));
    default_key(m, "dnsPolicy", json!("ClusterFirst"));
    default_key(m, "schedulerName", json!("default-scheduler"));
    default_key(m, "terminationGracePeriodSeconds", json!(30));
    default_key(m, "securityContext", json!({}));
    if is_pod {
        let sa = m
            .get("serviceAccountName")
            .or_else(|| m.get("serviceAccount"))
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        m.insert("serviceAccountName".into(), json!(sa));
        m.insert("serviceAccount".into(), json!(sa));
        default_key(m, "enableServiceLinks", json!(true));
        default_key(m, "priority", json!(0));
        default_key(m, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
    for list in ["containers", "initContainers"] {
        if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(default_container);
        }
    }
}

fn default_template(obj: &mut Value) {
    if let Some(spec) = obj.pointer_mut("/spec/template/spec") {
        default_pod_spec(spec, false);
    }
}

/// Apply the server's defaults (idempotent). `old` is the stored object, if any.
pub fn apply_defaults(rt: &ResourceType, obj: &mut Value, old: Option<&Value>) {
    match rt.plural {
        "pods" => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec, true);
            }
        }
        "deployments" => {
            let s = obj_mut(obj, &["spec"]);
            default_key(s, "replicas", json!(1));
            default_key(s, "revisionHistoryLimit", json!(10));
            default_key(s, "progressDeadlineSeconds", json!(600));
            default_key(
                s,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            default_template(obj);
        }
        "replicasets" => {
            default_key(obj_mut(obj, &["spec"]), "replicas", json!(1));
            default_template(obj);
        }
        "statefulsets" => {
            let s = obj_mut(obj, &["spec"]);
            default_key(s, "replicas", json!(1));
            default_key(s, "podManagementPolicy", json!("OrderedReady"));
            default_key(s, "revisionHistoryLimit", json!(10));
            default_key(
                s,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            default_key(
                s,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            if let Some(ts) = s
                .get_mut("volumeClaimTemplates")
                .and_then(Value::as_array_mut)
            {
                for t in ts {
                    if let Some(ts) = t.get_mut("spec").and_then(Value::as_object_mut) {
                        default_key(ts, "volumeMode", json!("Filesystem"));
                    }
                }
            }
            default_template(obj);
        }
        "jobs" => {
            let uid = util::uid_of(obj).to_string();
            let name = util::name_of(obj).to_string();
            let s = obj_mut(obj, &["spec"]);
            default_key(s, "completions", json!(1));
            default_key(s, "parallelism", json!(1));
            default_key(s, "backoffLimit", json!(6));
            default_key(s, "completionMode", json!("NonIndexed"));
            default_key(s, "suspend", json!(false));
            default_key(s, "podReplacementPolicy", json!("TerminatingOrFailed"));
            let manual = s.get("manualSelector").and_then(Value::as_bool) == Some(true);
            if !manual && !s.contains_key("selector") && !uid.is_empty() {
                s.insert(
                    "selector".into(),
                    json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
                );
                let l = obj_mut(obj, &["spec", "template", "metadata", "labels"]);
                l.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
                l.insert("batch.kubernetes.io/job-name".into(), json!(name));
                l.insert("controller-uid".into(), json!(uid));
                l.insert("job-name".into(), json!(name));
            }
            default_template(obj);
        }
        "cronjobs" => {
            let s = obj_mut(obj, &["spec"]);
            default_key(s, "concurrencyPolicy", json!("Allow"));
            default_key(s, "suspend", json!(false));
            default_key(s, "successfulJobsHistoryLimit", json!(3));
            default_key(s, "failedJobsHistoryLimit", json!(1));
            if let Some(spec) = obj.pointer_mut("/spec/jobTemplate/spec/template/spec") {
                default_pod_spec(spec, false);
            }
        }
        "services" => {
            let old_ip = old.and_then(|o| o.pointer("/spec/clusterIP")).cloned();
            let s = obj_mut(obj, &["spec"]);
            default_key(s, "type", json!("ClusterIP"));
            default_key(s, "sessionAffinity", json!("None"));
            default_key(s, "internalTrafficPolicy", json!("Cluster"));
            default_key(s, "ipFamilies", json!(["IPv4"]));
            default_key(s, "ipFamilyPolicy", json!("SingleStack"));
            if !s.contains_key("clusterIP") {
                let ip = old_ip.unwrap_or_else(|| {
                    let h = util::fnv(util::new_uid().as_bytes());
                    json!(format!("10.96.{}.{}", (h >> 8) % 256, (h % 253) + 2))
                });
                s.insert("clusterIP".into(), ip);
            }
            let ip = s["clusterIP"].clone();
            default_key(s, "clusterIPs", json!([ip]));
            if let Some(ports) = s.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports {
                    if let Some(pm) = p.as_object_mut() {
                        default_key(pm, "protocol", json!("TCP"));
                        if let Some(port) = pm.get("port").cloned() {
                            default_key(pm, "targetPort", port);
                        }
                    }
                }
            }
        }
        "persistentvolumeclaims" => {
            let s = obj_mut(obj, &["spec"]);
            default_key(s, "volumeMode", json!("Filesystem"));
            default_key(s, "storageClassName", json!("standard"));
        }
        "secrets" => {
            let m = obj.as_object_mut().expect("object");
            default_key(m, "type", json!("Opaque"));
        }
        "namespaces" => {
            let name = util::name_of(obj).to_string();
            obj_mut(obj, &["metadata", "labels"])
                .insert("kubernetes.io/metadata.name".into(), json!(name));
            default_key(obj_mut(obj, &["spec"]), "finalizers", json!(["kubernetes"]));
            default_key(obj_mut(obj, &["status"]), "phase", json!("Active"));
        }
        _ => {}
    }
}

/// `stringData` is write-only: merged into `data` (base64) and dropped.
pub fn fold_string_data(obj: &mut Value) {
    let Some(sd) = obj
        .as_object_mut()
        .and_then(|m| m.shift_remove("stringData"))
    else {
        return;
    };
    if let Some(sd) = sd.as_object() {
        let data = obj_mut(obj, &["data"]);
        for (k, v) in sd {
            let s = v.as_str().unwrap_or("");
            data.insert(
                k.clone(),
                json!(base64::engine::general_purpose::STANDARD.encode(s)),
            );
        }
    }
}

fn dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn dns_label(name: &str) -> bool {
    dns_subdomain(name) && name.len() <= 63 && !name.contains('.')
}

fn go_repr(v: Option<&Value>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
}

fn check_containers(spec: Option<&Value>, prefix: &str, causes: &mut Vec<(String, String)>) {
    let cs = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match cs {
        None => causes.push((format!("{prefix}.containers"), "Required value".into())),
        Some(cs) if cs.is_empty() => {
            causes.push((format!("{prefix}.containers"), "Required value".into()))
        }
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                if c.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push((
                        format!("{prefix}.containers[{i}].name"),
                        "Required value".into(),
                    ));
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push((
                        format!("{prefix}.containers[{i}].image"),
                        "Required value".into(),
                    ));
                }
            }
        }
    }
}

fn check_selector_matches(obj: &Value, causes: &mut Vec<(String, String)>) {
    let sel = obj.pointer("/spec/selector");
    if sel.is_none() {
        causes.push(("spec.selector".into(), "Required value".into()));
        return;
    }
    let labels = obj
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match LabelSelector::from_object(sel) {
        Ok(s) if s.is_empty() => causes.push((
            "spec.selector".into(),
            format!(
                "Invalid value: {}: empty selector is invalid for deployment",
                go_repr(sel)
            ),
        )),
        Ok(s) if !s.matches(&labels) => causes.push((
            "spec.template.metadata.labels".into(),
            format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                Value::Object(labels)
            ),
        )),
        Ok(_) => {}
        Err(e) => causes.push(("spec.selector".into(), format!("Invalid value: {e}"))),
    }
}

fn without(v: Option<&Value>, keys: &[&str]) -> Value {
    let mut v = v.cloned().unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        for k in keys {
            m.shift_remove(*k);
        }
    }
    v
}

/// Go's `time.Parse` with `metav1.MicroTime`'s layout, as its JSON decoding does.
fn parse_micro_time(s: &str) -> Result<(), String> {
    let layout = [
        "2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", ".000000", "Z07:00",
    ];
    let mut rest = s;
    let err = |rest: &str, elem: &str| {
        Err(format!(
            "parsing time {s:?} as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse {rest:?} as {elem:?}"
        ))
    };
    for elem in layout {
        let digits = |n: usize, r: &str| r.len() >= n && r[..n].bytes().all(|b| b.is_ascii_digit());
        match elem {
            "2006" | "01" | "02" | "15" | "04" | "05" => {
                let n = elem.len();
                if !digits(n, rest) {
                    return err(rest, elem);
                }
                rest = &rest[n..];
            }
            ".000000" => {
                if !(rest.starts_with('.') && digits(6, &rest[1..])) {
                    return err(rest, elem);
                }
                rest = &rest[7..];
            }
            "Z07:00" => {
                if let Some(r) = rest.strip_prefix('Z') {
                    rest = r;
                } else if (rest.starts_with('+') || rest.starts_with('-'))
                    && rest.len() >= 6
                    && digits(2, &rest[1..])
                    && &rest[3..4] == ":"
                    && digits(2, &rest[4..])
                {
                    rest = &rest[6..];
                } else {
                    return err(rest, elem);
                }
            }
            lit => match rest.strip_prefix(lit) {
                Some(r) => rest = r,
                None => return err(rest, lit),
            },
        }
    }
    if !rest.is_empty() {
        return Err(format!("parsing time {s:?}: extra text: {rest:?}"));
    }
    Ok(())
}

/// Decoding errors of a Lease's spec (400, like the API server's JSON decoder).
fn decode_lease(obj: &Value) -> Result<(), ApiError> {
    let bad = |e: String| {
        ApiError::bad_request(format!(
            "Lease in version \"v1\" cannot be handled as a Lease: {e}"
        ))
    };
    let Some(spec) = obj.get("spec") else {
        return Ok(());
    };
    for (k, want) in [
        ("holderIdentity", "string"),
        ("leaseDurationSeconds", "int32"),
        ("leaseTransitions", "int32"),
        ("acquireTime", "time"),
        ("renewTime", "time"),
        ("strategy", "string"),
        ("preferredHolder", "string"),
    ] {
        let Some(v) = spec.get(k).filter(|v| !v.is_null()) else {
            continue;
        };
        match want {
            "string" if !v.is_string() => {
                return Err(bad(format!(
                    "json: cannot unmarshal {} into Go struct field LeaseSpec.spec.{k} of type string",
                    json_kind(v)
                )));
            }
            "int32"
                if v.as_i64()
                    .is_none_or(|n| n < i32::MIN as i64 || n > i32::MAX as i64) =>
            {
                return Err(bad(format!(
                    "json: cannot unmarshal {} into Go struct field LeaseSpec.spec.{k} of type int32",
                    json_kind(v)
                )));
            }
            "time" => match v.as_str() {
                Some(t) => parse_micro_time(t).map_err(bad)?,
                None => {
                    return Err(bad(format!(
                        "json: cannot unmarshal {} into Go struct field LeaseSpec.spec.{k} of type string",
                        json_kind(v)
                    )));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

fn validate_cronjob(obj: &Value, old: Option<&Value>, causes: &mut Vec<(String, String)>) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let schedule = spec.get("schedule").and_then(Value::as_str).unwrap_or("");
    let tz = spec.get("timeZone").and_then(Value::as_str);
    if schedule.is_empty() {
        causes.push(("spec.schedule".into(), "Required value".into()));
    } else {
        if let Err(e) = crate::cron::parse_standard(schedule) {
            causes.push((
                "spec.schedule".into(),
                format!("Invalid value: {schedule:?}: {e}"),
            ));
        }
        // TZ in the schedule is only tolerated on objects that already had it.
        let had_tz = old
            .and_then(|o| o.pointer("/spec/schedule"))
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("TZ"));
        if schedule.contains("TZ") {
            if !had_tz {
                causes.push((
                    "spec.schedule".into(),
                    format!(
                        "Invalid value: {schedule:?}: cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
                    ),
                ));
            } else if tz.is_some() {
                causes.push((
                    "spec.schedule".into(),
                    format!(
                        "Invalid value: {schedule:?}: cannot use both timeZone field and TZ or CRON_TZ in schedule"
                    ),
                ));
            }
        }
    }
    if let Some(tz) = tz {
        if tz.is_empty() {
            causes.push((
                "spec.timeZone".into(),
                "Invalid value: \"\": timeZone must be nil or non-empty string".into(),
            ));
        } else if !crate::cron::valid_zone_name(tz) {
            causes.push((
                "spec.timeZone".into(),
                format!("Invalid value: {tz:?}: unknown time zone {tz}"),
            ));
        } else if let Err(e) = crate::cron::Zone::load(tz) {
            causes.push((
                "spec.timeZone".into(),
                format!("Invalid value: {tz:?}: {e}"),
            ));
        }
    }
    match spec.get("concurrencyPolicy").and_then(Value::as_str) {
        Some("Allow" | "Forbid" | "Replace") => {}
        Some(p) => causes.push((
            "spec.concurrencyPolicy".into(),
            format!(
                "Unsupported value: {p:?}: supported values: \"Allow\", \"Forbid\", \"Replace\""
            ),
        )),
        None => causes.push(("spec.concurrencyPolicy".into(), "Required value".into())),
    }
    for k in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        if let Some(n) = spec.get(k).and_then(Value::as_i64)
            && n < 0
        {
            causes.push((
                format!("spec.{k}"),
                format!("Invalid value: {n}: must be greater than or equal to 0"),
            ));
        }
    }
    let tspec = obj.pointer("/spec/jobTemplate/spec/template/spec");
    check_containers(tspec, "spec.jobTemplate.spec.template.spec", causes);
    let rp = tspec
        .and_then(|s| s.get("restartPolicy"))
        .and_then(Value::as_str)
        .unwrap_or("Always");
    if rp != "Never" && rp != "OnFailure" {
        causes.push((
            "spec.jobTemplate.spec.template.spec.restartPolicy".into(),
            format!("Unsupported value: {rp:?}: supported values: \"OnFailure\", \"Never\""),
        ));
    }
}

fn validate_lease(obj: &Value, causes: &mut Vec<(String, String)>) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(n) = spec.get("leaseDurationSeconds").and_then(Value::as_i64)
        && n <= 0
    {
        causes.push((
            "spec.leaseDurationSeconds".into(),
            format!("Invalid value: {n}: must be greater than 0"),
        ));
    }
    if let Some(n) = spec.get("leaseTransitions").and_then(Value::as_i64)
        && n < 0
    {
        causes.push((
            "spec.leaseTransitions".into(),
            format!("Invalid value: {n}: must be greater than or equal to 0"),
        ));
    }
    let strategy = spec.get("strategy").and_then(Value::as_str).unwrap_or("");
    if !strategy.is_empty() && strategy != "OldestEmulationVersion" {
        causes.push((
            "spec.strategy".into(),
            format!(
                "Unsupported value: {strategy:?}: supported values: \"OldestEmulationVersion\""
            ),
        ));
    }
    if spec
        .get("preferredHolder")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.is_empty())
        && strategy.is_empty()
    {
        causes.push((
            "spec.preferredHolder".into(),
            "Forbidden: may only be specified if `strategy` is defined".into(),
        ));
    }
}

/// Validate `obj` (already defaulted), with `old` for updates.
pub fn validate(rt: &ResourceType, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let name = util::name_of(obj);
    if rt.plural == "leases" {
        decode_lease(obj)?;
    }
    let mut causes: Vec<(String, String)> = Vec::new();
    let name_ok = match rt.plural {
        "namespaces" | "services" => dns_label(name),
        _ => dns_subdomain(name),
    };
    if !name_ok && old.is_none() {
        causes.push((
            "metadata.name".into(),
            format!(
                "Invalid value: {name:?}: a lowercase RFC 1123 {} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                if matches!(rt.plural, "namespaces" | "services") { "label" } else { "subdomain" }
            ),
        ));
    }
    match rt.plural {
        "pods" => check_containers(obj.get("spec"), "spec", &mut causes),
        "deployments" | "replicasets" | "statefulsets" => {
            check_selector_matches(obj, &mut causes);
            check_containers(
                obj.pointer("/spec/template/spec"),
                "spec.template.spec",
                &mut causes,
            );
        }
        "jobs" => {
            check_containers(
                obj.pointer("/spec/template/spec"),
                "spec.template.spec",
                &mut causes,
            );
            let rp = obj
                .pointer("/spec/template/spec/restartPolicy")
                .and_then(Value::as_str)
                .unwrap_or("Always");
            if rp != "Never" && rp != "OnFailure" {
                causes.push((
                    "spec.template.spec.restartPolicy".into(),
                    format!(
                        "Unsupported value: {rp:?}: supported values: \"OnFailure\", \"Never\""
                    ),
                ));
            }
        }
        "cronjobs" => validate_cronjob(obj, old, &mut causes),
        "leases" => validate_lease(obj, &mut causes),
        "poddisruptionbudgets" => {
            let spec = obj.get("spec");
            if spec.is_some_and(|s| {
                s.get("minAvailable").is_some() && s.get("maxUnavailable").is_some()
            }) {
                causes.push((
                    "spec".into(),
                    "Invalid value: policy.PodDisruptionBudgetSpec: minAvailable and maxUnavailable cannot be both set".into(),
                ));
            }
        }
        _ => {}
    }
    if let Some(old) = old {
        immutable(rt, obj, old, &mut causes);
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(rt, name, &causes))
    }
}

fn immutable(rt: &ResourceType, obj: &Value, old: &Value, causes: &mut Vec<(String, String)>) {
    let spec = obj.get("spec");
    let old_spec = old.get("spec");
    let field = |p: &str| obj.pointer(p) != old.pointer(p);
    match rt.plural {
        "deployments" | "replicasets" if field("/spec/selector") => {
            causes.push((
                "spec.selector".into(),
                format!(
                    "Invalid value: {}: field is immutable",
                    go_repr(obj.pointer("/spec/selector"))
                ),
            ));
        }
        "statefulsets" => {
            let allowed = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ];
            if without(spec, &allowed) != without(old_spec, &allowed) {
                causes.push((
                    "spec".into(),
                    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
                ));
            }
        }
        "jobs" => {
            for (p, f) in [
                ("/spec/selector", "spec.selector"),
                ("/spec/template", "spec.template"),
                ("/spec/completions", "spec.completions"),
                ("/spec/completionMode", "spec.completionMode"),
            ] {
                if field(p) {
                    causes.push((
                        f.into(),
                        format!(
                            "Invalid value: {}: field is immutable",
                            go_repr(obj.pointer(p))
                        ),
                    ));
                }
            }
        }
        "pods" => {
            let strip = |s: Option<&Value>| {
                let mut s = without(s, &["activeDeadlineSeconds", "tolerations"]);
                for list in ["containers", "initContainers"] {
                    if let Some(cs) = s.get_mut(list).and_then(Value::as_array_mut) {
                        for c in cs {
                            if let Some(m) = c.as_object_mut() {
                                m.shift_remove("image");
                            }
                        }
                    }
                }
                if let Some(m) = s.as_object_mut()
                    && m.get("nodeName").is_some()
                {
                    m.shift_remove("nodeName");
                }
                s
            };
            let node_changed =
                old_spec.and_then(|s| s.get("nodeName")).is_some() && field("/spec/nodeName");
            if strip(spec) != strip(old_spec) || node_changed {
                causes.push((
                    "spec".into(),
                    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into(),
                ));
            }
        }
        "services" => {
            let oip = old.pointer("/spec/clusterIP");
            if oip.is_some() && field("/spec/clusterIP") {
                causes.push((
                    "spec.clusterIPs[0]".into(),
                    format!(
                        "Invalid value: {}: may not change once set",
                        go_repr(obj.pointer("/spec/clusterIP"))
                    ),
                ));
            }
        }
        "persistentvolumeclaims" => {
            let strip = |s: Option<&Value>| {
                let mut s = s.cloned().unwrap_or(Value::Null);
                if let Some(r) = s.get_mut("resources").and_then(Value::as_object_mut) {
                    r.shift_remove("requests");
                }
                if let Some(m) = s.as_object_mut() {
                    m.shift_remove("volumeAttributesClassName");
                    if old_spec.and_then(|o| o.get("volumeName")).is_none() {
                        m.shift_remove("volumeName");
                    }
                }
                s
            };
            if strip(spec) != strip(old_spec) {
                causes.push((
                    "spec".into(),
                    "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims".into(),
                ));
            }
        }
        "secrets" | "configmaps"
            if get(old, &["immutable"]).and_then(Value::as_bool) == Some(true) =>
        {
            for f in ["data", "binaryData"] {
                if obj.get(f) != old.get(f) {
                    causes.push((
                        f.into(),
                        "Forbidden: field is immutable when `immutable` is set".into(),
                    ));
                }
            }
            if obj.get("immutable") != old.get("immutable") {
                causes.push((
                    "immutable".into(),
                    "Forbidden: field is immutable when `immutable` is set".into(),
                ));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn string_data_folds_into_data() {
        let mut s = json!({"data": {"a": "eA=="}, "stringData": {"password": "hunter2"}});
        fold_string_data(&mut s);
        assert_eq!(
            s,
            json!({"data": {"a": "eA==", "password": "aHVudGVyMg=="}})
        );
    }

    #[test]
    fn deployment_defaults_are_idempotent() {
        let rt = find("apps", "v1", "deployments").unwrap();
        let mut d = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "odoo:18.0", "ports": [{"containerPort": 8069}]}]}}}});
        apply_defaults(rt, &mut d, None);
        let once = d.clone();
        apply_defaults(rt, &mut d, None);
        assert_eq!(d, once);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
            "TCP"
        );
        validate(rt, &d, None).unwrap();
        let mut changed = d.clone();
        changed["spec"]["selector"]["matchLabels"]["a"] = json!("c");
        changed["spec"]["template"]["metadata"]["labels"]["a"] = json!("c");
        let e = validate(rt, &changed, Some(&d)).unwrap_err();
        assert_eq!(e.code, 422);
        assert!(e.message.contains("field is immutable"), "{}", e.message);
    }

    #[test]
    fn selector_must_match_template() {
        let rt = find("apps", "v1", "deployments").unwrap();
        let d = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let e = validate(rt, &d, None).unwrap_err();
        assert!(
            e.message.contains("does not match template"),
            "{}",
            e.message
        );
    }
}
