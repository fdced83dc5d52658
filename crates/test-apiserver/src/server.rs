//! HTTP: accept loop (plain or TLS), authentication, faults, routing, watch streams.

use crate::api::{self, DeleteOpts, ListOpts, PatchType, WriteOpts};
use crate::error::ApiError;
use crate::faults::{FaultAction, RequestRecord};
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{EventType, StoredEvent};
use crate::{Shared, discovery, kubelet, portforward, table, util};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

pub async fn serve(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut stop = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(shared, req).await) }
            });
            let builder = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acc) => {
                    if let Ok(s) = acc.accept(stream).await {
                        let io = hyper_util::rt::TokioIo::new(s);
                        let _ = builder.serve_connection(io, svc).with_upgrades().await;
                    }
                }
                None => {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = builder.serve_connection(io, svc).with_upgrades().await;
                }
            }
        });
    }
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed_unsync()
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("Content-Type", "application/json")
        .body(full(serde_json::to_vec(v).unwrap_or_default()))
        .expect("response")
}

fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.to_status());
    for (k, v) in &e.headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

/// A parsed resource request.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub rt: &'static ResourceType,
    /// Namespace from the URL ("" for cluster-scoped or all-namespace requests).
    pub ns: String,
    pub name: Option<String>,
    pub sub: Option<String>,
}

fn parse_target(path: &str) -> Option<Result<Target, ApiError>> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return None,
    };
    let find = |plural: &str| resources::find(group, version, plural);
    let nf = |p: &str| {
        Some(Err(ApiError::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({p})"),
        )))
    };
    let (ns, rest): (String, &[&str]) = match rest {
        ["namespaces", ns, plural, more @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            let mut v = vec![*plural];
            v.extend_from_slice(more);
            return Some(build(find(plural)?, ns, &v[1..]));
        }
        _ => (String::new(), rest),
    };
    let Some(rt) = find(rest[0]) else {
        return nf(rest[0]);
    };
    Some(build(rt, &ns, &rest[1..]))
}

fn build(rt: &'static ResourceType, ns: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let t = Target {
        rt,
        ns: ns.to_string(),
        name: rest.first().map(|s| s.to_string()),
        sub: rest.get(1).map(|s| s.to_string()),
    };
    if rest.len() > 2 {
        return Err(ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    }
    if let Some(sub) = &t.sub
        && !rt.subresources.contains(&sub.as_str())
    {
        return Err(ApiError::new(
            404,
            "NotFound",
            format!(
                "the server could not find the requested resource ({}/{sub})",
                rt.plural
            ),
        ));
    }
    Ok(t)
}

fn verb_of(method: &Method, t: &Target, watch: bool) -> &'static str {
    // Connect subresources: a WebSocket GET needs `create` like a POST (as RBAC checks it).
    if t.sub.as_deref() == Some("portforward") {
        return "create";
    }
    match (method, t.name.is_some()) {
        (&Method::GET, false) if watch => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) if watch => "watch",
        (&Method::GET, true) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, false) => "deletecollection",
        (&Method::DELETE, true) => "delete",
        _ => "unknown",
    }
}

fn manager_from(query: &[(String, String)], ua: &str, verb: &str) -> String {
    if let Some((_, m)) = query.iter().find(|(k, _)| k == "fieldManager") {
        return m.clone();
    }
    // Like the real server: the user agent's program name.
    let prog = ua.split('/').next().unwrap_or("").trim();
    let prog = prog.rsplit(['/', '\\']).next().unwrap_or(prog);
    if prog.is_empty() {
        if verb == "patch" {
            "unknown-patch"
        } else {
            "unknown"
        }
        .to_string()
    } else {
        prog.chars().take(128).collect()
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = util::parse_query(req.uri().query());
    let q = |k: &str| query.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let header = |k: &str| {
        req.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let ua = header("user-agent");
    let accept = header("accept");
    let ctype = header("content-type");
    let auth = header("authorization");
    let watch = matches!(q("watch"), Some("1") | Some("true"));
    let target = parse_target(&path);

    let mut rec = RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        verb: method.as_str().to_lowercase(),
        resource: path.trim_matches('/').to_string(),
        namespace: String::new(),
        name: String::new(),
        status: 200,
        user_agent: ua.clone(),
        field_manager: String::new(),
        field_selector: q("fieldSelector").unwrap_or_default().to_string(),
    };
    if let Some(Ok(t)) = &target {
        rec.verb = verb_of(&method, t, watch).to_string();
        rec.resource = match &t.sub {
            Some(s) => format!("{}/{s}", t.rt.plural),
            None => t.rt.plural.to_string(),
        };
        rec.namespace = if t.rt.plural == "namespaces" {
            t.name.clone().unwrap_or_default()
        } else {
            t.ns.clone()
        };
        rec.name = t.name.clone().unwrap_or_default();
        rec.field_manager = manager_from(&query, &ua, &rec.verb);
    }

    let resp = async {
        if let Some(tok) = &shared.token
            && !matches!(path.as_str(), "/healthz" | "/livez" | "/readyz")
            && auth.strip_prefix("Bearer ").map(str::trim) != Some(tok.as_str())
        {
            return error_response(&ApiError::new(401, "Unauthorized", "Unauthorized"));
        }
        let latency = shared.faults.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match shared.faults.take(&rec) {
            Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
            Some(FaultAction::Status(code)) => {
                let reason = match code {
                    500 => "InternalError",
                    503 => "ServiceUnavailable",
                    504 => "Timeout",
                    _ => "InternalError",
                };
                return error_response(&ApiError::new(
                    code,
                    reason,
                    format!("injected fault: {code} for {} {}", rec.verb, rec.resource),
                ));
            }
            Some(FaultAction::TooManyRequests { retry_after_secs }) => {
                let mut e = ApiError::new(
                    429,
                    "TooManyRequests",
                    "the server has received too many requests and has asked us to try again later",
                )
                .with_details(json!({"retryAfterSeconds": retry_after_secs}));
                e.headers
                    .push(("Retry-After".into(), retry_after_secs.to_string()));
                return error_response(&e);
            }
            Some(FaultAction::Forbidden) => {
                let group = match &target {
                    Some(Ok(t)) => t.rt.group,
                    _ => "",
                };
                let mut msg = format!(
                    "{} is forbidden: User \"system:serviceaccount:default:test\" cannot {} resource \"{}\" in API group \"{group}\"",
                    rec.resource, rec.verb, rec.resource
                );
                if !rec.namespace.is_empty() {
                    msg.push_str(&format!(" in the namespace \"{}\"", rec.namespace));
                }
                return error_response(
                    &ApiError::new(403, "Forbidden", msg)
                        .with_details(json!({"kind": rec.resource})),
                );
            }
            None => {}
        }
        // pods/{name}/portforward: a WebSocket upgrade, not a request with a body.
        if let Some(Ok(t)) = &target
            && t.sub.as_deref() == Some("portforward")
        {
            return portforward::serve(&shared, t, &query, req)
                .await
                .unwrap_or_else(|e| error_response(&e));
        }
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::new(),
        };
        match target {
            None => discovery::non_resource(&path, &accept),
            Some(Err(e)) => error_response(&e),
            Some(Ok(t)) => {
                let ctx = Ctx {
                    shared: shared.clone(),
                    method: method.clone(),
                    query: query.clone(),
                    accept,
                    ctype,
                    body,
                    manager: rec.field_manager.clone(),
                    watch,
                };
                match resource(&ctx, &t).await {
                    Ok(r) => r,
                    Err(e) => error_response(&e),
                }
            }
        }
    }
    .await;
    rec.status = resp.status().as_u16();
    shared.faults.record(rec);
    resp
}

pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub method: Method,
    pub query: Vec<(String, String)>,
    pub accept: String,
    pub ctype: String,
    pub body: Bytes,
    pub manager: String,
    pub watch: bool,
}

impl Ctx {
    fn q(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
    }

    /// `Accept: application/json;as=PartialObjectMetadata(List);g=meta.k8s.io;v=v1`.
    fn wants_metadata(&self) -> bool {
        self.accept.contains("as=PartialObjectMetadata")
    }

    fn wants_table(&self) -> bool {
        self.accept.contains("as=Table")
    }

    fn write_opts(&self) -> WriteOpts {
        WriteOpts {
            manager: self.manager.clone(),
            dry_run: self.q("dryRun") == Some("All"),
            force: self.q("force") == Some("true"),
            subresource: None,
        }
    }

    fn body_json(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        if self.ctype.contains("protobuf") {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml ({})",
                    self.ctype
                ),
            ));
        }
        let is_yaml = self.ctype.contains("yaml");
        if is_yaml {
            let s = std::str::from_utf8(&self.body)
                .map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
            serde_saphyr::from_str::<Value>(s)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
        } else {
            serde_json::from_slice(&self.body).map_err(|e| {
                ApiError::bad_request(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml: {e}"
                ))
            })
        }
    }

    /// `fieldValidation=Strict`: reject unknown fields (as far as the server knows them).
    fn strict(&self, rt: &ResourceType, body: &Value, apply: bool) -> Result<(), ApiError> {
        if self.q("fieldValidation") != Some("Strict") {
            return Ok(());
        }
        let unknown = crate::strict::unknown_fields(rt.kind, body);
        if unknown.is_empty() {
            return Ok(());
        }
        let name = util::name_of(body);
        if apply {
            let msg = unknown
                .iter()
                .map(|f| format!("{f}: field not declared in schema"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::bad_request(format!(
                "failed to create typed patch object ({}/{name}; {}, Kind={}): {msg}",
                util::namespace_of(body),
                rt.api_version(),
                rt.kind
            )));
        }
        let list = unknown
            .iter()
            .map(|f| format!("unknown field \"{}\"", f.trim_start_matches('.')))
            .collect::<Vec<_>>()
            .join(", ");
        Err(ApiError::bad_request(format!(
            "strict decoding error: {list}"
        )))
    }

    fn selectors(&self, rt: &ResourceType) -> Result<ListOpts, ApiError> {
        let labels = LabelSelector::parse(self.q("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(self.q("fieldSelector").unwrap_or(""), rt.plural)
            .map_err(ApiError::bad_request)?;
        Ok(ListOpts {
            labels,
            fields,
            limit: self.q("limit").and_then(|l| l.parse().ok()),
            continue_token: self
                .q("continue")
                .filter(|c| !c.is_empty())
                .map(String::from),
        })
    }
}

fn store_ns(t: &Target) -> &str {
    if t.rt.namespaced { &t.ns } else { "" }
}

async fn resource(ctx: &Ctx, t: &Target) -> Result<Response<Body>, ApiError> {
    let rt = t.rt;
    // The namespace object itself: /api/v1/namespaces/{name}.
    let name = t.name.clone();
    let ns = store_ns(t).to_string();
    match (&ctx.method, name, t.sub.as_deref()) {
        (&Method::GET, None, _) if ctx.watch => watch(ctx, t).await,
        (&Method::GET, Some(name), None) if ctx.watch => {
            // Watch of a single object (old-style); treat as a name field selector.
            let mut t2 = t.clone();
            t2.name = None;
            let mut ctx2 = Ctx {
                shared: ctx.shared.clone(),
                method: ctx.method.clone(),
                query: ctx.query.clone(),
                accept: ctx.accept.clone(),
                ctype: ctx.ctype.clone(),
                body: ctx.body.clone(),
                manager: ctx.manager.clone(),
                watch: true,
            };
            ctx2.query
                .push(("fieldSelector".into(), format!("metadata.name={name}")));
            watch(&ctx2, &t2).await
        }
        (&Method::GET, None, _) => {
            if !rt.namespaced && !t.ns.is_empty() {
                return Err(ApiError::bad_request(
                    "cluster-scoped resource in a namespace",
                ));
            }
            let opts = ctx.selectors(rt)?;
            let list = {
                let store = ctx.shared.store.lock().expect("store");
                api::list(
                    &store,
                    rt,
                    if t.ns.is_empty() { None } else { Some(&t.ns) },
                    &opts,
                )?
            };
            if ctx.wants_table() {
                Ok(json_response(
                    200,
                    &table::table_of_list(rt, &list, &ctx.accept),
                ))
            } else if ctx.wants_metadata() {
                let items: Vec<Value> = list["items"]
                    .as_array()
                    .map(|a| a.iter().map(partial_metadata).collect())
                    .unwrap_or_default();
                Ok(json_response(
                    200,
                    &json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                            "metadata": list["metadata"], "items": items}),
                ))
            } else {
                Ok(json_response(200, &list))
            }
        }
        (&Method::GET, Some(name), None) => {
            let obj = {
                let store = ctx.shared.store.lock().expect("store");
                api::get(&store, rt, &ns, &name)?
            };
            if ctx.wants_table() {
                Ok(json_response(
                    200,
                    &table::table_of_object(rt, &obj, &ctx.accept),
                ))
            } else if ctx.wants_metadata() {
                Ok(json_response(200, &partial_metadata(&obj)))
            } else {
                Ok(json_response(200, &obj))
            }
        }
        (&Method::GET, Some(name), Some("status")) => {
            let store = ctx.shared.store.lock().expect("store");
            Ok(json_response(200, &api::get(&store, rt, &ns, &name)?))
        }
        (&Method::GET, Some(name), Some("scale")) => {
            let store = ctx.shared.store.lock().expect("store");
            Ok(json_response(
                200,
                &api::scale_of(&api::get(&store, rt, &ns, &name)?),
            ))
        }
        (&Method::GET, Some(name), Some("log")) => kubelet::serve_log(ctx, &ns, &name).await,
        (&Method::POST, None, None) => {
            if rt.namespaced && t.ns.is_empty() {
                return Err(ApiError::new(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ));
            }
            let body = ctx.body_json()?;
            ctx.strict(rt, &body, false)?;
            let o = ctx.write_opts();
            let mut store = ctx.shared.store.lock().expect("store");
            let created = api::create(&mut store, rt, &ns, body, &o)?;
            let w = psa_warning(&store, rt, &ns, None, &created);
            Ok(with_warning(json_response(201, &created), w))
        }
        (&Method::PUT, Some(name), sub) => {
            let body = ctx.body_json()?;
            if sub.is_none() {
                ctx.strict(rt, &body, false)?;
            }
            let mut o = ctx.write_opts();
            let mut store = ctx.shared.store.lock().expect("store");
            match sub {
                None | Some("status") => {
                    o.subresource = sub.map(String::from);
                    let before = store.get(rt, &ns, &name).cloned();
                    let v = api::update(&mut store, rt, &ns, &name, body, &o)?;
                    let w = sub
                        .is_none()
                        .then(|| psa_warning(&store, rt, &ns, before.as_ref(), &v))
                        .flatten();
                    Ok(with_warning(json_response(200, &v), w))
                }
                Some("scale") => {
                    let v = api::write_scale(&mut store, rt, &ns, &name, None, &body, &o)?;
                    Ok(json_response(200, &v))
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        (&Method::PATCH, Some(name), sub) => {
            let ptype = PatchType::from_content_type(&ctx.ctype).ok_or_else(|| {
                ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json ({})", ctx.ctype),
                )
            })?;
            let body = ctx.body_json()?;
            if sub.is_none()
                && matches!(
                    ptype,
                    PatchType::Apply | PatchType::Merge | PatchType::Strategic
                )
            {
                ctx.strict(rt, &body, ptype == PatchType::Apply)?;
            }
            let mut o = ctx.write_opts();
            if ptype == PatchType::Apply && ctx.q("fieldManager").is_none() {
                return Err(ApiError::bad_request(
                    "PATCH, application/apply-patch+yaml requests must have a fieldManager specified",
                ));
            }
            let mut store = ctx.shared.store.lock().expect("store");
            match sub {
                None | Some("status") => {
                    o.subresource = sub.map(String::from);
                    let before = store.get(rt, &ns, &name).cloned();
                    let v = api::patch(&mut store, rt, &ns, &name, ptype, &body, &o)?;
                    let w = sub
                        .is_none()
                        .then(|| psa_warning(&store, rt, &ns, before.as_ref(), &v))
                        .flatten();
                    let code = if before.is_some() { 200 } else { 201 };
                    Ok(with_warning(json_response(code, &v), w))
                }
                Some("scale") => {
                    let v = api::write_scale(&mut store, rt, &ns, &name, Some(ptype), &body, &o)?;
                    Ok(json_response(200, &v))
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        (&Method::DELETE, Some(name), None) => {
            let mut d = delete_opts(ctx)?;
            // batch/v1 Jobs keep their pods unless told otherwise, like the real server.
            let job_default = rt.plural == "jobs" && d.propagation.is_none();
            if job_default {
                d.propagation = Some("Orphan".into());
            }
            let mut store = ctx.shared.store.lock().expect("store");
            let v = api::delete(&mut store, rt, &ns, &name, &d)?;
            let mut r = json_response(200, &v);
            if job_default {
                r.headers_mut().insert(
                    "Warning",
                    hyper::header::HeaderValue::from_static(
                        "299 - \"child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning\"",
                    ),
                );
            }
            Ok(r)
        }
        (&Method::DELETE, None, None) => {
            let d = delete_opts(ctx)?;
            let opts = ctx.selectors(rt)?;
            let mut store = ctx.shared.store.lock().expect("store");
            let list = api::list(
                &store,
                rt,
                if t.ns.is_empty() { None } else { Some(&t.ns) },
                &opts,
            )?;
            let mut items = Vec::new();
            for i in list["items"].as_array().cloned().unwrap_or_default() {
                let (n, name) = (
                    util::namespace_of(&i).to_string(),
                    util::name_of(&i).to_string(),
                );
                if let Ok(v) = api::delete(&mut store, rt, &n, &name, &d) {
                    items.push(v);
                }
            }
            Ok(json_response(
                200,
                &json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(),
                        "metadata": {"resourceVersion": store.resource_version().to_string()}, "items": items}),
            ))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The `warn` Pod Security warning for a pod or workload just written (workloads only
/// when their pod template is new or changed, like the admission plugin).
fn psa_warning(
    store: &crate::store::Store,
    rt: &ResourceType,
    ns: &str,
    old: Option<&Value>,
    new: &Value,
) -> Option<String> {
    let (_, spec) = crate::podsecurity::pod_parts(rt.plural, new)?;
    if rt.plural == "pods" && old.is_some() {
        return None;
    }
    if let Some(o) = old
        && crate::podsecurity::pod_parts(rt.plural, o).map(|(_, s)| s) == Some(spec)
    {
        return None;
    }
    let nsrt = resources::by_plural("namespaces").expect("namespaces");
    crate::podsecurity::warning(store.get(nsrt, "", ns)?, rt.plural, new)
}

fn with_warning(mut r: Response<Body>, warning: Option<String>) -> Response<Body> {
    if let Some(w) = warning
        && let Ok(v) = hyper::header::HeaderValue::from_str(&crate::podsecurity::warning_header(&w))
    {
        r.headers_mut().append("Warning", v);
    }
    r
}

fn partial_metadata(v: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
           "metadata": v.get("metadata").cloned().unwrap_or(json!({}))})
}

fn delete_opts(ctx: &Ctx) -> Result<DeleteOpts, ApiError> {
    let body = ctx.body_json()?;
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    Ok(DeleteOpts {
        propagation: ctx
            .q("propagationPolicy")
            .map(String::from)
            .or_else(|| s("propagationPolicy")),
        grace_seconds: ctx
            .q("gracePeriodSeconds")
            .and_then(|g| g.parse().ok())
            .or_else(|| body.get("gracePeriodSeconds").and_then(Value::as_i64)),
        dry_run: ctx.q("dryRun") == Some("All")
            || body
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == "All")),
        precondition_uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        precondition_rv: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
    })
}

/// The object of a watch event as sent: the object itself or a Table row.
fn event_line(etype: &str, obj: &Value) -> Bytes {
    let mut s = serde_json::to_vec(&json!({"type": etype, "object": obj})).unwrap_or_default();
    s.push(b'\n');
    Bytes::from(s)
}

async fn watch(ctx: &Ctx, t: &Target) -> Result<Response<Body>, ApiError> {
    let rt = t.rt;
    let opts = ctx.selectors(rt)?;
    let ns_filter = if t.ns.is_empty() {
        None
    } else {
        Some(t.ns.clone())
    };
    let bookmarks = ctx.q("allowWatchBookmarks") == Some("true");
    let send_initial = ctx.q("sendInitialEvents") == Some("true");
    let timeout = ctx
        .q("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let rv_param = ctx.q("resourceVersion").unwrap_or("").to_string();
    let table = ctx.wants_table();
    let metadata_only = ctx.wants_metadata();
    let accept = ctx.accept.clone();

    let matches = {
        let opts_l = opts.labels.clone();
        let opts_f = opts.fields.clone();
        let nsf = ns_filter.clone();
        move |v: &Value| {
            nsf.as_deref().is_none_or(|n| util::namespace_of(v) == n)
                && opts_l.matches(&util::labels_of(v))
                && opts_f.matches(v)
        }
    };
    let render = move |v: &Value| -> Value {
        if table {
            crate::table::table_of_object(rt, v, &accept)
        } else if metadata_only {
            partial_metadata(v)
        } else {
            v.clone()
        }
    };

    // Subscribe and collect what comes before, under the store lock.
    let (initial, past, mut rx, start_rv, expired) = {
        let store = ctx.shared.store.lock().expect("store");
        let current = store.resource_version();
        let (since, initial) = match rv_param.as_str() {
            "" | "0" => {
                let mut items: Vec<Value> = store
                    .list(rt, ns_filter.as_deref())
                    .into_iter()
                    .filter(|v| matches(v))
                    .cloned()
                    .collect();
                items.sort_by_key(|v| {
                    v.pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(0)
                });
                (current, items)
            }
            s => match s.parse::<u64>() {
                Ok(n) => {
                    let initial = if send_initial {
                        store
                            .list(rt, ns_filter.as_deref())
                            .into_iter()
                            .filter(|v| matches(v))
                            .cloned()
                            .collect()
                    } else {
                        vec![]
                    };
                    (if send_initial { current } else { n }, initial)
                }
                Err(_) => {
                    return Err(ApiError::bad_request(format!(
                        "invalid resource version: {s}"
                    )));
                }
            },
        };
        match store.watch_from(since) {
            Some((past, rx)) => (initial, past, Some(rx), since, None),
            None => (
                vec![],
                vec![],
                None,
                since,
                Some(format!(
                    "too old resource version: {since} ({})",
                    store.compacted() + 1
                )),
            ),
        }
    };

    let (tx, out_rx) = mpsc::channel::<Bytes>(256);
    let (cut_events, cut_after) = ctx.shared.faults.watch_cuts();
    let bookmark_every = ctx.shared.bookmark_interval;
    let mut stop = ctx.shared.shutdown.clone();
    tokio::spawn(async move {
        if let Some(msg) = expired {
            let status = ApiError::gone(msg).to_status();
            let _ = tx.send(event_line("ERROR", &status)).await;
            return;
        }
        let started = Instant::now();
        let deadline = [timeout, cut_after]
            .into_iter()
            .flatten()
            .min()
            .map(|d| started + d);
        let mut sent = 0usize;
        let mut last_rv = start_rv;
        let cut = |sent: usize| cut_events.is_some_and(|n| sent >= n);
        for obj in &initial {
            if cut(sent) || tx.send(event_line("ADDED", &render(obj))).await.is_err() {
                return;
            }
            sent += 1;
        }
        if send_initial {
            let bm = json!({"kind": rt.kind, "apiVersion": rt.api_version(),
                "metadata": {"resourceVersion": last_rv.to_string(),
                             "annotations": {"k8s.io/initial-events-end": "true"}}});
            if tx.send(event_line("BOOKMARK", &bm)).await.is_err() {
                return;
            }
        }
        let translate = |ev: &StoredEvent| -> Option<(&'static str, Value)> {
            if ev.rt.plural != rt.plural {
                return None;
            }
            let now = matches(&ev.object);
            let before = ev.old.as_ref().is_some_and(&matches);
            match ev.etype {
                EventType::Added if now => Some(("ADDED", ev.object.clone())),
                EventType::Deleted if now => Some(("DELETED", ev.object.clone())),
                EventType::Modified if now && before => Some(("MODIFIED", ev.object.clone())),
                EventType::Modified if now => Some(("ADDED", ev.object.clone())),
                EventType::Modified if before => Some(("DELETED", ev.object.clone())),
                _ => None,
            }
        };
        for ev in past {
            last_rv = ev.rv;
            if let Some((ty, obj)) = translate(&ev) {
                if cut(sent) || tx.send(event_line(ty, &render(&obj))).await.is_err() {
                    return;
                }
                sent += 1;
            }
        }
        let Some(rx) = rx.as_mut() else { return };
        let mut tick = tokio::time::interval(bookmark_every);
        tick.tick().await;
        loop {
            if cut(sent) {
                return;
            }
            let sleep_until = deadline.map(tokio::time::Instant::from_std);
            tokio::select! {
                _ = async {
                    match sleep_until {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => return,
                _ = stop.changed() => return,
                _ = tx.closed() => return,
                _ = tick.tick(), if bookmarks => {
                    let bm = json!({"kind": rt.kind, "apiVersion": rt.api_version(),
                        "metadata": {"resourceVersion": last_rv.to_string()}});
                    if tx.send(event_line("BOOKMARK", &bm)).await.is_err() {
                        return;
                    }
                }
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= last_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        if let Some((ty, obj)) = translate(&ev) {
                            if tx.send(event_line(ty, &render(&obj))).await.is_err() {
                                return;
                            }
                            sent += 1;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let status = ApiError::gone("watch stream fell behind; too old resource version").to_status();
                        let _ = tx.send(event_line("ERROR", &status)).await;
                        return;
                    }
                    Err(_) => return,
                }
            }
        }
    });
    Ok(stream_response(out_rx, "application/json"))
}

pub(crate) fn stream_response(rx: mpsc::Receiver<Bytes>, ctype: &str) -> Response<Body> {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", ctype)
        .header("Cache-Control", "no-cache, private")
        .body(StreamBody::new(stream).boxed_unsync())
        .expect("response")
}

pub(crate) fn ok_json(v: &Value) -> Response<Body> {
    json_response(200, v)
}
pub(crate) fn text_response(code: u16, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("Content-Type", ctype)
        .body(full(body))
        .expect("response")
}
pub(crate) fn err(e: &ApiError) -> Response<Body> {
    error_response(e)
}
