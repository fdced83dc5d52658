//! Non-resource paths: /version, health, discovery (legacy), OpenAPI.

use crate::error::ApiError;
use crate::resources::{GROUPS, RESOURCES, ResourceType};
use crate::server::{Body, err, ok_json, text_response};
use hyper::Response;
use serde_json::{Value, json};

pub const GIT_VERSION: &str = "v1.33.0";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32"
    })
}

fn verbs(r: &ResourceType) -> Value {
    let mut v = vec![
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    if r.plural == "events" || r.plural == "nodes" {
        v.retain(|x| *x != "deletecollection" || r.plural == "events");
    }
    json!(v)
}

fn resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut out = Vec::new();
    let mut any = false;
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        any = true;
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": verbs(r),
            "storageVersionHash": crate::util::hash_value(&json!(r.plural)),
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        out.push(e);
        for sub in r.subresources {
            let (kind, verbs, group_version): (&str, Value, Option<(&str, &str)>) = match *sub {
                "status" => (r.kind, json!(["get", "patch", "update"]), None),
                "scale" => (
                    "Scale",
                    json!(["get", "patch", "update"]),
                    Some(("autoscaling", "v1")),
                ),
                "log" => ("Pod", json!(["get"]), None),
                "portforward" => ("PodPortForwardOptions", json!(["create", "get"]), None),
                _ => continue,
            };
            let mut e = json!({
                "name": format!("{}/{sub}", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if let Some((g, v)) = group_version {
                e["group"] = json!(g);
                e["version"] = json!(v);
            }
            out.push(e);
        }
    }
    any.then(|| json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}))
}

fn group(g: &str) -> Value {
    let v = RESOURCES
        .iter()
        .find(|r| r.group == g)
        .map(|r| r.version)
        .unwrap_or("v1");
    let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
}

pub fn non_resource(path: &str, _accept: &str) -> Response<Body> {
    let p = path.trim_end_matches('/');
    let segs: Vec<&str> = p.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => ok_json(&version()),
        ["healthz"] | ["livez"] | ["readyz"] => text_response(200, "text/plain", "ok"),
        ["api"] => ok_json(&json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]
        })),
        ["apis"] => ok_json(&json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": GROUPS.iter().map(|g| group(g)).collect::<Vec<_>>(),
        })),
        ["api", v] => match resource_list("", v) {
            Some(l) => ok_json(&l),
            None => not_found(),
        },
        ["apis", g] if GROUPS.contains(g) => {
            let mut v = group(g);
            v["kind"] = json!("APIGroup");
            v["apiVersion"] = json!("v1");
            ok_json(&v)
        }
        ["apis", g, v] => match resource_list(g, v) {
            Some(l) => ok_json(&l),
            None => not_found(),
        },
        ["openapi", "v3"] => crate::openapi::v3_root(),
        ["openapi", "v3", rest @ ..] => crate::openapi::v3_doc(&rest.join("/")),
        ["openapi", "v2"] => crate::openapi::v2(_accept),
        _ => not_found(),
    }
}

fn not_found() -> Response<Body> {
    err(&ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    ))
}
