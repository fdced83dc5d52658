//! OpenAPI v3, just enough for kubectl: the root lists one document per group
//! version, and each document has the resources' paths with their operations and
//! query parameters (kubectl reads the PATCH operation's `fieldValidation` parameter to
//! decide to leave validation to the server). There are no schemas: `kubectl explain`
//! and client-side schema validation do not work.

use crate::error::ApiError;
use crate::resources::{RESOURCES, ResourceType};
use crate::server::{Body, err, ok_json};
use hyper::Response;
use serde_json::{Map, Value, json};

fn group_versions() -> Vec<(String, &'static str, &'static str)> {
    let mut out: Vec<(String, &str, &str)> = Vec::new();
    for r in RESOURCES {
        let key = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        if !out.iter().any(|(k, _, _)| *k == key) {
            out.push((key, r.group, r.version));
        }
    }
    out
}

/// OpenAPI v2 (kubectl before 1.28 downloads it before anything else): an empty
/// document. kubectl asks for protobuf, where an empty message is zero bytes.
pub fn v2(accept: &str) -> Response<Body> {
    if accept.contains("protobuf") {
        crate::server::text_response(200, "application/octet-stream", Vec::new())
    } else {
        ok_json(
            &json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": crate::discovery::GIT_VERSION}, "paths": {}, "definitions": {}}),
        )
    }
}

pub fn v3_root() -> Response<Body> {
    let mut paths = Map::new();
    for (key, _, _) in group_versions() {
        let hash = crate::util::hash_value(&json!([key, crate::discovery::GIT_VERSION]));
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    ok_json(&json!({"paths": paths}))
}

fn param(name: &str) -> Value {
    json!({"name": name, "in": "query", "description": name, "schema": {"type": "string", "uniqueItems": true}})
}

fn op(r: &ResourceType, action: &str, params: &[&str]) -> Value {
    let op_name = format!(
        "{action}{}{}{}",
        if r.group.is_empty() {
            "Core".to_string()
        } else {
            r.group.split('.').next().unwrap_or("").to_string()
        },
        r.version,
        r.kind
    );
    json!({
        "operationId": op_name,
        "parameters": params.iter().map(|p| param(p)).collect::<Vec<_>>(),
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
    })
}

pub fn v3_doc(path: &str) -> Response<Body> {
    let path = path.split('?').next().unwrap_or(path);
    let Some((_, group, version)) = group_versions().into_iter().find(|(k, _, _)| k == path) else {
        return err(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    };
    let write = ["dryRun", "fieldManager", "fieldValidation"];
    let patch = ["dryRun", "fieldManager", "fieldValidation", "force"];
    let list = [
        "allowWatchBookmarks",
        "continue",
        "fieldSelector",
        "labelSelector",
        "limit",
        "resourceVersion",
        "resourceVersionMatch",
        "sendInitialEvents",
        "timeoutSeconds",
        "watch",
    ];
    let mut paths = Map::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let coll = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{prefix}/{}", r.plural)
        };
        paths.insert(
            coll.clone(),
            json!({"get": op(r, "list", &list), "post": op(r, "post", &write),
                   "delete": op(r, "deletecollection", &["dryRun", "labelSelector", "fieldSelector"])}),
        );
        paths.insert(
            format!("{coll}/{{name}}"),
            json!({"get": op(r, "get", &[]), "put": op(r, "put", &write),
                   "patch": op(r, "patch", &patch), "delete": op(r, "delete", &["dryRun", "gracePeriodSeconds", "propagationPolicy"])}),
        );
        for sub in r.subresources {
            let p = format!("{coll}/{{name}}/{sub}");
            let v = match *sub {
                "log" => {
                    json!({"get": op(r, "get", &["container", "follow", "previous", "tailLines", "timestamps", "sinceSeconds"])})
                }
                "portforward" => {
                    json!({"get": op(r, "connect", &["ports"]), "post": op(r, "connect", &["ports"])})
                }
                _ => {
                    json!({"get": op(r, "get", &[]), "put": op(r, "put", &write), "patch": op(r, "patch", &patch)})
                }
            };
            paths.insert(p, v);
        }
    }
    ok_json(&json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::discovery::GIT_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
