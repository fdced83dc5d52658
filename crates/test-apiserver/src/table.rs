//! Server-side printing (`Accept: application/json;as=Table`), which kubectl uses for
//! `get` output, with the columns the real server prints for the common types.

use crate::resources::ResourceType;
use crate::util::{age, get_i64, get_str};
use serde_json::{Value, json};

fn col(name: &str, ty: &str) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": 0})
}

fn columns(rt: &ResourceType) -> Vec<Value> {
    let names: &[(&str, &str)] = match rt.plural {
        "pods" => &[
            ("Name", "string"),
            ("Ready", "string"),
            ("Status", "string"),
            ("Restarts", "string"),
            ("Age", "string"),
        ],
        "deployments" => &[
            ("Name", "string"),
            ("Ready", "string"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Age", "string"),
        ],
        "replicasets" => &[
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Age", "string"),
        ],
        "statefulsets" => &[("Name", "string"), ("Ready", "string"), ("Age", "string")],
        "jobs" => &[
            ("Name", "string"),
            ("Status", "string"),
            ("Completions", "string"),
            ("Duration", "string"),
            ("Age", "string"),
        ],
        "persistentvolumeclaims" => &[
            ("Name", "string"),
            ("Status", "string"),
            ("Volume", "string"),
            ("Capacity", "string"),
            ("Access Modes", "string"),
            ("StorageClass", "string"),
            ("Age", "string"),
        ],
        "services" => &[
            ("Name", "string"),
            ("Type", "string"),
            ("Cluster-IP", "string"),
            ("External-IP", "string"),
            ("Port(s)", "string"),
            ("Age", "string"),
        ],
        "namespaces" => &[("Name", "string"), ("Status", "string"), ("Age", "string")],
        "events" => &[
            ("Last Seen", "string"),
            ("Type", "string"),
            ("Reason", "string"),
            ("Object", "string"),
            ("Message", "string"),
        ],
        "secrets" => &[
            ("Name", "string"),
            ("Type", "string"),
            ("Data", "string"),
            ("Age", "string"),
        ],
        "configmaps" => &[("Name", "string"), ("Data", "string"), ("Age", "string")],
        "leases" => &[("Name", "string"), ("Holder", "string"), ("Age", "string")],
        "cronjobs" => &[
            ("Name", "string"),
            ("Schedule", "string"),
            ("Timezone", "string"),
            ("Suspend", "boolean"),
            ("Active", "integer"),
            ("Last Schedule", "string"),
            ("Age", "string"),
        ],
        _ => &[("Name", "string"), ("Age", "string")],
    };
    names.iter().map(|(n, t)| col(n, t)).collect()
}

/// kubectl's pod STATUS column.
pub fn pod_status(p: &Value) -> String {
    let mut reason = get_str(p, &["status", "reason"])
        .or_else(|| get_str(p, &["status", "phase"]))
        .unwrap_or("Pending")
        .to_string();
    let empty = vec![];
    let inits = p
        .pointer("/status/initContainerStatuses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let n_init = p
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut initializing = false;
    for (i, c) in inits.iter().enumerate() {
        if let Some(t) = c.pointer("/state/terminated") {
            if get_i64(t, &["exitCode"]) == Some(0) {
                continue;
            }
            reason = match get_str(t, &["reason"]) {
                Some(r) => format!("Init:{r}"),
                None => format!("Init:ExitCode:{}", get_i64(t, &["exitCode"]).unwrap_or(0)),
            };
        } else if let Some(r) = c
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
            .filter(|r| *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{n_init}");
        }
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        let cs = p
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for c in cs.iter().rev() {
            if let Some(r) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
                reason = r.to_string();
            } else if let Some(t) = c.pointer("/state/terminated") {
                reason = match get_str(t, &["reason"]) {
                    Some(r) => r.to_string(),
                    None => format!("ExitCode:{}", get_i64(t, &["exitCode"]).unwrap_or(0)),
                };
            } else if c.pointer("/state/running").is_some() && c["ready"] == true {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if p.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    reason
}

fn cells(rt: &ResourceType, o: &Value) -> Vec<Value> {
    let name = json!(get_str(o, &["metadata", "name"]).unwrap_or(""));
    let a = json!(age(get_str(o, &["metadata", "creationTimestamp"])));
    let i = |p: &[&str]| get_i64(o, p).unwrap_or(0);
    match rt.plural {
        "pods" => {
            let cs = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = cs.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = cs
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                a,
            ]
        }
        "deployments" => vec![
            name,
            json!(format!(
                "{}/{}",
                i(&["status", "readyReplicas"]),
                i(&["spec", "replicas"])
            )),
            json!(i(&["status", "updatedReplicas"])),
            json!(i(&["status", "availableReplicas"])),
            a,
        ],
        "replicasets" => vec![
            name,
            json!(i(&["spec", "replicas"])),
            json!(i(&["status", "replicas"])),
            json!(i(&["status", "readyReplicas"])),
            a,
        ],
        "statefulsets" => vec![
            name,
            json!(format!(
                "{}/{}",
                i(&["status", "readyReplicas"]),
                i(&["spec", "replicas"])
            )),
            a,
        ],
        "jobs" => {
            let conds = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let has = |t: &str| {
                conds
                    .iter()
                    .any(|c| c["type"] == t && c["status"] == "True")
            };
            let status = if has("Complete") {
                "Complete"
            } else if has("Failed") {
                "Failed"
            } else if has("Suspended") {
                "Suspended"
            } else {
                "Running"
            };
            vec![
                name,
                json!(status),
                json!(format!(
                    "{}/{}",
                    i(&["status", "succeeded"]),
                    get_i64(o, &["spec", "completions"]).unwrap_or(1)
                )),
                json!(age(get_str(o, &["status", "startTime"]))),
                a,
            ]
        }
        "persistentvolumeclaims" => vec![
            name,
            json!(get_str(o, &["status", "phase"]).unwrap_or("")),
            json!(get_str(o, &["spec", "volumeName"]).unwrap_or("")),
            json!(get_str(o, &["status", "capacity", "storage"]).unwrap_or("")),
            json!(
                o.pointer("/status/accessModes")
                    .and_then(Value::as_array)
                    .map(|m| m
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| match s {
                            "ReadWriteOnce" => "RWO",
                            "ReadOnlyMany" => "ROX",
                            "ReadWriteMany" => "RWX",
                            "ReadWriteOncePod" => "RWOP",
                            x => x,
                        })
                        .collect::<Vec<_>>()
                        .join(","))
                    .unwrap_or_default()
            ),
            json!(get_str(o, &["spec", "storageClassName"]).unwrap_or("")),
            a,
        ],
        "services" => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            vec![
                name,
                json!(get_str(o, &["spec", "type"]).unwrap_or("ClusterIP")),
                json!(get_str(o, &["spec", "clusterIP"]).unwrap_or("")),
                json!("<none>"),
                json!(if ports.is_empty() {
                    "<none>".to_string()
                } else {
                    ports.join(",")
                }),
                a,
            ]
        }
        "namespaces" => vec![
            name,
            json!(get_str(o, &["status", "phase"]).unwrap_or("Active")),
            a,
        ],
        "events" => vec![
            json!(age(
                get_str(o, &["lastTimestamp"]).or(get_str(o, &["eventTime"]))
            )),
            json!(get_str(o, &["type"]).unwrap_or("")),
            json!(get_str(o, &["reason"]).unwrap_or("")),
            json!(format!(
                "{}/{}",
                get_str(o, &["involvedObject", "kind"])
                    .unwrap_or("")
                    .to_lowercase(),
                get_str(o, &["involvedObject", "name"]).unwrap_or("")
            )),
            json!(get_str(o, &["message"]).unwrap_or("")),
        ],
        "secrets" => vec![
            name,
            json!(get_str(o, &["type"]).unwrap_or("Opaque")),
            json!(
                o.get("data")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
                    .to_string()
            ),
            a,
        ],
        "configmaps" => vec![
            name,
            json!(
                o.get("data")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
                    .to_string()
            ),
            a,
        ],
        "leases" => vec![
            name,
            json!(get_str(o, &["spec", "holderIdentity"]).unwrap_or("")),
            a,
        ],
        "cronjobs" => vec![
            name,
            json!(get_str(o, &["spec", "schedule"]).unwrap_or("")),
            json!(get_str(o, &["spec", "timeZone"]).unwrap_or("<none>")),
            json!(
                o.pointer("/spec/suspend")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ),
            json!(
                o.pointer("/status/active")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            ),
            json!(
                get_str(o, &["status", "lastScheduleTime"])
                    .map(|t| age(Some(t)))
                    .unwrap_or_else(|| "<none>".into())
            ),
            a,
        ],
        _ => vec![name, a],
    }
}

fn table_version(accept: &str) -> &'static str {
    if accept.contains("as=Table;v=v1;")
        || accept.contains("as=Table;v=v1,")
        || accept.ends_with("as=Table;v=v1")
    {
        "meta.k8s.io/v1"
    } else if accept.contains("v=v1beta1") {
        "meta.k8s.io/v1beta1"
    } else {
        "meta.k8s.io/v1"
    }
}

fn row(rt: &ResourceType, o: &Value) -> Value {
    let mut obj = o.clone();
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    json!({"cells": cells(rt, o), "object": obj})
}

pub fn table_of_list(rt: &ResourceType, list: &Value, accept: &str) -> Value {
    let rows: Vec<Value> = list["items"]
        .as_array()
        .map(|a| a.iter().map(|o| row(rt, o)).collect())
        .unwrap_or_default();
    json!({
        "kind": "Table",
        "apiVersion": table_version(accept),
        "metadata": list["metadata"],
        "columnDefinitions": columns(rt),
        "rows": rows,
    })
}

pub fn table_of_object(rt: &ResourceType, o: &Value, accept: &str) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": table_version(accept),
        "metadata": {"resourceVersion": o.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))},
        "columnDefinitions": columns(rt),
        "rows": [row(rt, o)],
    })
}
