//! The API semantics on top of the store: create, get, list, update, patch, apply and
//! delete, with defaulting, validation, managed fields, generation and no-op detection.
//! The HTTP layer and the controllers both go through these, so controllers see the
//! same rules as clients.

use crate::admission;
use crate::error::ApiError;
use crate::fields::{self, FieldSet, ManagedEntry, get_path, read_managed, write_managed};
use crate::patch;
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::Store;
use crate::util::{self, get_str};
use serde_json::{Value, json};

/// Options of a write request.
#[derive(Debug, Clone, Default)]
pub struct WriteOpts {
    pub manager: String,
    pub dry_run: bool,
    pub force: bool,
    /// `Some("status")` for writes through the status subresource.
    pub subresource: Option<String>,
}

impl WriteOpts {
    pub fn manager(m: &str) -> Self {
        Self {
            manager: m.into(),
            ..Default::default()
        }
    }

    pub fn status(m: &str) -> Self {
        Self {
            manager: m.into(),
            subresource: Some("status".into()),
            ..Default::default()
        }
    }

    fn is_status(&self) -> bool {
        self.subresource.as_deref() == Some("status")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let ct = ct.split(';').next().unwrap_or("").trim();
        match ct {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeleteOpts {
    pub propagation: Option<String>,
    pub grace_seconds: Option<i64>,
    pub dry_run: bool,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
}

enum Managed {
    /// Compute Update ownership from the change.
    Update,
    /// Entries already computed (apply).
    Entries(Vec<ManagedEntry>),
}

fn check_namespace(store: &Store, rt: &ResourceType, ns: &str, name: &str) -> Result<(), ApiError> {
    if !rt.namespaced {
        return Ok(());
    }
    let nsrt = resources::by_plural("namespaces").expect("namespaces");
    match store.get(nsrt, "", ns) {
        None => Err(ApiError::not_found(nsrt, ns)),
        Some(n) if n.pointer("/metadata/deletionTimestamp").is_some() => Err(ApiError::forbidden(
            rt,
            name,
            format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ),
        )
        .with_details(json!({"name": name, "kind": rt.plural, "causes": [{
            "reason": "NamespaceTerminating",
            "message": format!("namespace {ns} is being terminated"),
            "field": "metadata.namespace"}]}))),
        Some(_) => Ok(()),
    }
}

fn admit_pod(store: &Store, ns: &str, name: &str, pod: &Value) -> Result<(), ApiError> {
    let sa = get_str(pod, &["spec", "serviceAccountName"]).unwrap_or("default");
    let sart = resources::by_plural("serviceaccounts").expect("sa");
    if store.get(sart, ns, sa).is_none() {
        let rt = resources::by_plural("pods").expect("pods");
        return Err(ApiError::forbidden(
            rt,
            name,
            format!(
                "error looking up service account {ns}/{sa}: serviceaccount \"{sa}\" not found"
            ),
        ));
    }
    Ok(())
}

/// Compare two objects ignoring resourceVersion and managedFields timestamps.
fn normalized(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        md.shift_remove("resourceVersion");
        if let Some(Value::Array(mf)) = md.get_mut("managedFields") {
            for e in mf {
                if let Some(m) = e.as_object_mut() {
                    m.shift_remove("time");
                }
            }
        }
    }
    v
}

fn spec_part(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.shift_remove("metadata");
        m.shift_remove("status");
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
    }
    v
}

/// The shared tail of every write: normalise, default, validate, track ownership,
/// detect no-ops, store.
fn commit(
    store: &mut Store,
    rt: &'static ResourceType,
    old: Option<&Value>,
    mut new: Value,
    o: &WriteOpts,
    managed: Managed,
) -> Result<Value, ApiError> {
    let name = util::name_of(&new).to_string();
    let ns = util::namespace_of(&new).to_string();
    new["apiVersion"] = json!(rt.api_version());
    new["kind"] = json!(rt.kind);
    if rt.plural == "secrets" {
        admission::fold_string_data(&mut new);
    }
    {
        let md = util::ensure_obj(&mut new, &["metadata"]);
        md.shift_remove("resourceVersion");
        md.shift_remove("selfLink");
        match old {
            Some(old) => {
                for k in [
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                ] {
                    match old.pointer(&format!("/metadata/{k}")) {
                        Some(v) => md.insert(k.into(), v.clone()),
                        None => md.shift_remove(k),
                    };
                }
            }
            None => {
                md.insert("uid".into(), json!(util::new_uid()));
                md.insert("creationTimestamp".into(), json!(util::now()));
                md.shift_remove("deletionTimestamp");
                md.shift_remove("generation");
            }
        }
    }
    admission::apply_defaults(rt, &mut new, old);
    admission::validate(rt, &new, old)?;
    if rt.plural == "pods" && old.is_none() {
        admit_pod(store, &ns, &name, &new)?;
        // Pod Security admission, after the mutating plugins and validation.
        let nsrt = resources::by_plural("namespaces").expect("namespaces");
        if let Some(nso) = store.get(nsrt, "", &ns)
            && let Some(msg) = crate::podsecurity::enforce(nso, &new)
        {
            return Err(ApiError::forbidden(rt, &name, msg));
        }
    }
    if rt.generation {
        let g = match old {
            None => 1,
            Some(old) => {
                let g = old
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                if spec_part(old) != spec_part(&new) {
                    g + 1
                } else {
                    g
                }
            }
        };
        new["metadata"]["generation"] = json!(g);
    }

    // Managed fields.
    let old_entries = old.map(read_managed).unwrap_or_default();
    let mut entries = match managed {
        Managed::Entries(e) => e,
        Managed::Update => {
            let mut entries = old_entries.clone();
            let empty = Value::Null;
            let before = old.unwrap_or(&empty);
            let new_set = FieldSet::from_object(&new);
            let mut changed = FieldSet::default();
            for p in new_set.owned_paths() {
                let is_item = p.last().is_some_and(|e| !e.starts_with("f:"));
                let (a, b) = (get_path(before, &p), get_path(&new, &p));
                let differs = if is_item { a.is_none() } else { a != b };
                let leaf = get_path(&new, &p).is_none_or(|v| !v.is_object() || is_item);
                if differs && leaf {
                    changed.insert_path(&p);
                }
            }
            let sub = o.subresource.as_deref();
            for e in entries.iter_mut() {
                if !e.same_owner(&o.manager, "Update", sub) {
                    e.fields = e.fields.difference(&changed);
                }
            }
            if !changed.is_empty() {
                match entries
                    .iter_mut()
                    .find(|e| e.same_owner(&o.manager, "Update", sub))
                {
                    Some(e) => e.fields.union(&changed),
                    None => entries.push(ManagedEntry {
                        manager: o.manager.clone(),
                        operation: "Update".into(),
                        api_version: rt.api_version(),
                        time: String::new(),
                        subresource: sub.map(String::from),
                        fields: changed,
                    }),
                }
            }
            entries
        }
    };
    for e in entries.iter_mut() {
        e.fields.retain_existing(&new);
        let before = old_entries
            .iter()
            .find(|x| x.same_owner(&e.manager, &e.operation, e.subresource.as_deref()));
        if before.is_none_or(|b| b.fields != e.fields) || e.time.is_empty() {
            e.time = util::now();
            e.api_version = rt.api_version();
        }
    }
    entries.retain(|e| !e.fields.is_empty());
    write_managed(&mut new, &entries);

    if let Some(old) = old
        && normalized(old) == normalized(&new)
    {
        return Ok(old.clone());
    }
    if o.dry_run {
        if let Some(old) = old
            && let Some(rv) = old.pointer("/metadata/resourceVersion")
        {
            new["metadata"]["resourceVersion"] = rv.clone();
        }
        return Ok(new);
    }
    // An object being deleted whose finalizers are all gone disappears.
    let finalizers_done = new
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if new.pointer("/metadata/deletionTimestamp").is_some()
        && finalizers_done
        && !matches!(rt.plural, "pods" | "namespaces")
    {
        return Ok(store.remove(rt, &ns, &name).unwrap_or(new));
    }
    Ok(store.put(rt, new))
}

pub fn get(store: &Store, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
    store
        .get(rt, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(rt, name))
}

/// Create; the body's namespace must agree with the request's.
pub fn create(
    store: &mut Store,
    rt: &'static ResourceType,
    ns: &str,
    mut body: Value,
    o: &WriteOpts,
) -> Result<Value, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was not an object",
        ));
    }
    check_kind(rt, &body)?;
    let body_ns = util::namespace_of(&body);
    if rt.namespaced && !body_ns.is_empty() && body_ns != ns {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let mut name = util::name_of(&body).to_string();
    if name.is_empty() {
        match get_str(&body, &["metadata", "generateName"]) {
            Some(g) => name = format!("{g}{}", util::random_suffix(5)),
            None => {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    &[(
                        "metadata.name".into(),
                        "Required value: name or generateName is required".into(),
                    )],
                ));
            }
        }
    }
    check_namespace(store, rt, ns, &name)?;
    if store
        .get(rt, if rt.namespaced { ns } else { "" }, &name)
        .is_some()
    {
        return Err(ApiError::already_exists(rt, &name));
    }
    {
        let md = util::ensure_obj(&mut body, &["metadata"]);
        md.insert("name".into(), json!(name));
        if rt.namespaced {
            md.insert("namespace".into(), json!(ns));
        } else {
            md.shift_remove("namespace");
        }
        md.shift_remove("managedFields");
    }
    initial_status(rt, &mut body);
    commit(store, rt, None, body, o, Managed::Update)
}

fn initial_status(rt: &ResourceType, body: &mut Value) {
    if rt.has_status()
        && rt.plural != "namespaces"
        && let Some(m) = body.as_object_mut()
    {
        m.shift_remove("status");
    }
    match rt.plural {
        "pods" => body["status"] = json!({"phase": "Pending", "qosClass": qos_class(body)}),
        "persistentvolumeclaims" => body["status"] = json!({"phase": "Pending"}),
        "services" | "ingresses" => body["status"] = json!({"loadBalancer": {}}),
        "cronjobs" => body["status"] = json!({}),
        _ => {}
    }
}

fn qos_class(pod: &Value) -> &'static str {
    let cs = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut any = false;
    let mut all_guaranteed = !cs.is_empty();
    for c in &cs {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        if req.is_some_and(|r| !r.is_empty()) || lim.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        let g = lim.is_some_and(|l| {
            ["cpu", "memory"].iter().all(|k| {
                l.get(*k).is_some()
                    && req.is_none_or(|r| r.get(*k).is_none_or(|v| Some(v) == l.get(*k)))
            })
        });
        all_guaranteed &= g;
    }
    if all_guaranteed {
        "Guaranteed"
    } else if any {
        "Burstable"
    } else {
        "BestEffort"
    }
}

fn check_kind(rt: &ResourceType, body: &Value) -> Result<(), ApiError> {
    let kind = get_str(body, &["kind"]).unwrap_or(rt.kind);
    let av = get_str(body, &["apiVersion"]).unwrap_or("");
    if kind != rt.kind || (!av.is_empty() && av != rt.api_version()) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    Ok(())
}

fn check_rv(rt: &ResourceType, name: &str, body: &Value, old: &Value) -> Result<(), ApiError> {
    if let Some(rv) = get_str(body, &["metadata", "resourceVersion"])
        && !rv.is_empty()
        && Some(rv) != get_str(old, &["metadata", "resourceVersion"])
    {
        return Err(ApiError::conflict(rt, name));
    }
    Ok(())
}

/// Keep the half of the object the request may not touch: status for the main
/// resource, everything but status for the status subresource.
fn split_status(rt: &ResourceType, old: &Value, mut new: Value, o: &WriteOpts) -> Value {
    if o.is_status() {
        let mut out = old.clone();
        match new.as_object_mut().and_then(|m| m.shift_remove("status")) {
            Some(s) => out["status"] = s,
            None => {
                out.as_object_mut().map(|m| m.shift_remove("status"));
            }
        }
        out
    } else if rt.has_status() {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                new.as_object_mut().map(|m| m.shift_remove("status"));
            }
        }
        new
    } else {
        new
    }
}

/// PUT.
pub fn update(
    store: &mut Store,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    mut body: Value,
    o: &WriteOpts,
) -> Result<Value, ApiError> {
    check_kind(rt, &body)?;
    let old = get(store, rt, ns, name)?;
    if util::name_of(&body) != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            util::name_of(&body)
        )));
    }
    check_rv(rt, name, &body, &old)?;
    if rt.namespaced {
        util::set(&mut body, &["metadata", "namespace"], json!(ns));
    }
    if let Some(mf) = old.pointer("/metadata/managedFields") {
        util::set(&mut body, &["metadata", "managedFields"], mf.clone());
    }
    let new = split_status(rt, &old, body, o);
    commit(store, rt, Some(&old), new, o, Managed::Update)
}

/// PATCH (merge, JSON, strategic or apply).
pub fn patch(
    store: &mut Store,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    ptype: PatchType,
    body: &Value,
    o: &WriteOpts,
) -> Result<Value, ApiError> {
    if ptype == PatchType::Apply {
        return apply(store, rt, ns, name, body, o);
    }
    let old = get(store, rt, ns, name)?;
    let mut new = old.clone();
    match ptype {
        PatchType::Merge => patch::merge_patch(&mut new, body),
        PatchType::Strategic => patch::strategic_merge(&mut new, body),
        PatchType::Json => patch::json_patch(&mut new, body).map_err(|e| {
            ApiError::new(
                422,
                "Invalid",
                format!("the server rejected our request due to an error in our request: {e}"),
            )
        })?,
        PatchType::Apply => unreachable!(),
    }
    if body.pointer("/metadata/resourceVersion").is_some() {
        check_rv(rt, name, &new, &old)?;
    }
    if util::name_of(&new) != name || (rt.namespaced && util::namespace_of(&new) != ns) {
        return Err(ApiError::bad_request(
            "metadata.name and metadata.namespace may not be changed by a patch",
        ));
    }
    if let Some(mf) = old.pointer("/metadata/managedFields") {
        util::set(&mut new, &["metadata", "managedFields"], mf.clone());
    }
    let new = split_status(rt, &old, new, o);
    commit(store, rt, Some(&old), new, o, Managed::Update)
}

fn conflict_error(rt: &ResourceType, conflicts: &[(String, String, String)]) -> ApiError {
    let n = conflicts.len();
    let mut by_mgr: Vec<(String, String, Vec<String>)> = Vec::new();
    for (m, av, p) in conflicts {
        match by_mgr.iter_mut().find(|(x, _, _)| x == m) {
            Some(e) => e.2.push(p.clone()),
            None => by_mgr.push((m.clone(), av.clone(), vec![p.clone()])),
        }
    }
    let mut msg = format!(
        "Apply failed with {n} conflict{}: ",
        if n == 1 { "" } else { "s" }
    );
    let parts: Vec<String> = by_mgr
        .iter()
        .map(|(m, av, ps)| {
            if ps.len() == 1 {
                format!("conflict with \"{m}\" using {av}: {}", ps[0])
            } else {
                format!("conflicts with \"{m}\" using {av}:\n- {}", ps.join("\n- "))
            }
        })
        .collect();
    msg.push_str(&parts.join("\n"));
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, av, p)| {
            json!({"reason": "FieldManagerConflict",
                   "message": format!("conflict with \"{m}\" using {av}"),
                   "field": p})
        })
        .collect();
    let _ = rt;
    ApiError::new(409, "Conflict", msg).with_details(json!({"causes": causes}))
}

/// Server-side apply (create-or-update).
pub fn apply(
    store: &mut Store,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    cfg: &Value,
    o: &WriteOpts,
) -> Result<Value, ApiError> {
    if o.manager.is_empty() {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml requests must have a fieldManager specified",
        ));
    }
    if !cfg.is_object() {
        return Err(ApiError::bad_request(
            "the applied configuration is not an object",
        ));
    }
    if get_str(cfg, &["apiVersion"]).is_none() || get_str(cfg, &["kind"]).is_none() {
        return Err(ApiError::bad_request(
            "invalid object type: apiVersion and kind must be set",
        ));
    }
    check_kind(rt, cfg)?;
    // A resourceVersion in the applied configuration is a precondition, as on the
    // real server (checked against the stored object below).
    let precondition_rv = get_str(cfg, &["metadata", "resourceVersion"])
        .filter(|rv| !rv.is_empty())
        .map(String::from);
    let cfg_name = util::name_of(cfg);
    if !cfg_name.is_empty() && cfg_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({cfg_name}) does not match the name on the URL ({name})"
        )));
    }
    let cfg_ns = util::namespace_of(cfg);
    if rt.namespaced && !cfg_ns.is_empty() && cfg_ns != ns {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    // The part of the configuration this request may set.
    let mut cfg = cfg.clone();
    if let Some(m) = cfg.as_object_mut() {
        if o.is_status() {
            m.retain(|k, _| k == "status" || k == "apiVersion" || k == "kind");
        } else if rt.has_status() {
            m.shift_remove("status");
        }
    }
    if rt.plural == "secrets" {
        // stringData is folded before ownership is computed, like the real decoder.
        admission::fold_string_data(&mut cfg);
    }
    if let Some(md) = cfg.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "managedFields",
            "generation",
        ] {
            md.shift_remove(k);
        }
    }
    let applied = FieldSet::from_object(&cfg);
    let sub = o.subresource.as_deref();
    let own = |e: &ManagedEntry| e.same_owner(&o.manager, "Apply", sub);
    let new_entry = || ManagedEntry {
        manager: o.manager.clone(),
        operation: "Apply".into(),
        api_version: rt.api_version(),
        time: String::new(),
        subresource: sub.map(String::from),
        fields: applied.clone(),
    };

    let Some(old) = store
        .get(rt, if rt.namespaced { ns } else { "" }, name)
        .cloned()
    else {
        if o.is_status() {
            return Err(ApiError::not_found(rt, name));
        }
        check_namespace(store, rt, ns, name)?;
        let mut body = cfg.clone();
        {
            let md = util::ensure_obj(&mut body, &["metadata"]);
            md.insert("name".into(), json!(name));
            if rt.namespaced {
                md.insert("namespace".into(), json!(ns));
            }
        }
        initial_status(rt, &mut body);
        return commit(
            store,
            rt,
            None,
            body,
            o,
            Managed::Entries(vec![new_entry()]),
        );
    };

    if let Some(rv) = &precondition_rv
        && Some(rv.as_str()) != get_str(&old, &["metadata", "resourceVersion"])
    {
        return Err(ApiError::conflict(rt, name));
    }
    let mut entries = read_managed(&old);
    // Conflicts: fields another manager owns that this config sets differently.
    let mut conflicts: Vec<(String, String, String)> = Vec::new();
    let mut conflict_paths: Vec<(usize, fields::Path)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if own(e) {
            continue;
        }
        for p in e.fields.owned_paths() {
            let is_item = p.last().is_some_and(|x| !x.starts_with("f:"));
            if is_item || !applied.contains(&p) {
                continue;
            }
            if get_path(&old, &p) != get_path(&cfg, &p) {
                conflicts.push((
                    e.manager.clone(),
                    e.api_version.clone(),
                    fields::path_string(&p),
                ));
                conflict_paths.push((i, p));
            }
        }
    }
    if !conflicts.is_empty() {
        if !o.force {
            return Err(conflict_error(rt, &conflicts));
        }
        for (i, p) in conflict_paths {
            entries[i].fields.remove_path(&p);
        }
    }
    let prev = entries
        .iter()
        .find(|e| own(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut others = FieldSet::default();
    for e in entries.iter().filter(|e| !own(e)) {
        others.union(&e.fields);
    }

    let mut new = old.clone();
    let mut merge_cfg = cfg.clone();
    if let Some(m) = merge_cfg.as_object_mut() {
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
        if let Some(md) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            md.shift_remove("name");
            md.shift_remove("namespace");
        }
    }
    fields::apply_merge(&mut new, &merge_cfg, "");
    // Fields this manager applied before, does not apply now, and nobody else owns.
    let removed = prev.difference(&applied);
    let mut keep = others.clone();
    keep.union(&applied);
    for p in removed.owned_paths() {
        if !others.contains(&p) {
            fields::remove_path(&mut new, &p, &|q: &[String]| keep.contains(q));
        }
    }
    match entries.iter_mut().find(|e| own(e)) {
        Some(e) => e.fields = applied.clone(),
        None => entries.push(new_entry()),
    }
    let new = split_status(rt, &old, new, o);
    commit(store, rt, Some(&old), new, o, Managed::Entries(entries))
}

/// DELETE.
pub fn delete(
    store: &mut Store,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    d: &DeleteOpts,
) -> Result<Value, ApiError> {
    let old = get(store, rt, ns, name)?;
    if let Some(uid) = &d.precondition_uid
        && uid != util::uid_of(&old)
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                util::uid_of(&old)
            ),
        ));
    }
    if let Some(rv) = &d.precondition_rv
        && Some(rv.as_str()) != get_str(&old, &["metadata", "resourceVersion"])
    {
        return Err(ApiError::conflict(rt, name));
    }
    if d.dry_run {
        return Ok(old);
    }
    let terminating = old.pointer("/metadata/deletionTimestamp").is_some();
    let has_finalizers = old
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let graceful_pod = rt.plural == "pods"
        && old.pointer("/spec/nodeName").is_some()
        && d.grace_seconds != Some(0)
        && !matches!(
            get_str(&old, &["status", "phase"]),
            Some("Succeeded") | Some("Failed")
        );
    if d.propagation.as_deref() == Some("Orphan") {
        orphan_dependents(store, util::uid_of(&old));
    }
    if rt.plural == "namespaces" || has_finalizers || graceful_pod {
        if terminating {
            return Ok(old);
        }
        let mut new = old.clone();
        let grace = d.grace_seconds.unwrap_or_else(|| {
            old.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(30)
        });
        let when = std::time::SystemTime::now()
            + std::time::Duration::from_secs(if rt.plural == "pods" {
                grace.max(0) as u64
            } else {
                0
            });
        new["metadata"]["deletionTimestamp"] = json!(util::rfc3339(when));
        if rt.plural == "pods" {
            new["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        } else {
            new["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        if rt.plural == "namespaces" {
            new["status"]["phase"] = json!("Terminating");
        }
        return Ok(store.put(rt, new));
    }
    Ok(store
        .remove(rt, util::namespace_of(&old), name)
        .unwrap_or(old))
}

fn orphan_dependents(store: &mut Store, uid: &str) {
    let deps: Vec<(&'static str, Value)> = store
        .dependents(uid)
        .into_iter()
        .map(|(p, v)| (p, v.clone()))
        .collect();
    for (plural, mut v) in deps {
        let rt = resources::by_plural(plural).expect("known");
        if let Some(refs) = v
            .pointer_mut("/metadata/ownerReferences")
            .and_then(Value::as_array_mut)
        {
            refs.retain(|o| o["uid"] != uid);
        }
        store.put(rt, v);
    }
}

/// List objects matching selectors, with optional `limit`/`continue` paging.
pub struct ListOpts {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

pub fn list(
    store: &Store,
    rt: &ResourceType,
    ns: Option<&str>,
    opts: &ListOpts,
) -> Result<Value, ApiError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let rv = store.resource_version();
    // Narrow the candidates with an index where the selector allows it.
    let candidates: Vec<&Value> = match (ns, opts.fields.name()) {
        (Some(ns), Some(name)) => store
            .get(rt, if rt.namespaced { ns } else { "" }, name)
            .into_iter()
            .collect(),
        _ => match (rt.plural, ns, opts.fields.equals("involvedObject.uid")) {
            ("events", _, Some(uid)) => store.events_about(uid),
            _ => match (rt.plural, ns, opts.fields.equals("involvedObject.name")) {
                ("events", Some(ns), Some(name)) => store.events_naming(ns, name),
                _ => store.list(rt, ns),
            },
        },
    };
    let mut items: Vec<&Value> = candidates
        .into_iter()
        .filter(|v| ns.is_none_or(|n| !rt.namespaced || util::namespace_of(v) == n))
        .filter(|v| opts.labels.matches(&util::labels_of(v)) && opts.fields.matches(v))
        .collect();
    items.sort_by(|a, b| {
        (util::namespace_of(a), util::name_of(a)).cmp(&(util::namespace_of(b), util::name_of(b)))
    });
    if let Some(tok) = &opts.continue_token {
        let decoded = b64
            .decode(tok)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .ok_or_else(|| ApiError::bad_request("invalid continue token"))?;
        let start_rv = decoded["rv"].as_u64().unwrap_or(0);
        if start_rv < store.compacted() {
            return Err(ApiError::gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
            ));
        }
        let after = (
            decoded["ns"].as_str().unwrap_or("").to_string(),
            decoded["name"].as_str().unwrap_or("").to_string(),
        );
        items.retain(|v| {
            (
                util::namespace_of(v).to_string(),
                util::name_of(v).to_string(),
            ) > after
        });
    }
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = opts.limit.filter(|l| *l > 0 && *l < items.len()) {
        let last = items[limit - 1];
        let tok = json!({"rv": rv, "ns": util::namespace_of(last), "name": util::name_of(last)});
        meta["continue"] = json!(b64.encode(tok.to_string()));
        meta["remainingItemCount"] = json!(items.len() - limit);
        items.truncate(limit);
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|v| {
            let mut v = v.clone();
            if let Some(m) = v.as_object_mut() {
                m.shift_remove("apiVersion");
                m.shift_remove("kind");
            }
            v
        })
        .collect();
    Ok(json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": meta,
        "items": items,
    }))
}

/// The Scale object for a workload.
pub fn scale_of(obj: &Value) -> Value {
    let sel = LabelSelector::from_object(obj.pointer("/spec/selector"))
        .map(|s| s.to_string_form())
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": util::name_of(obj),
            "namespace": util::namespace_of(obj),
            "uid": util::uid_of(obj),
            "resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!("")),
            "creationTimestamp": obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)},
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": sel,
        },
    })
}

/// Write the scale subresource: body is a Scale (PUT) or a patch of one.
pub fn write_scale(
    store: &mut Store,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    ptype: Option<PatchType>,
    body: &Value,
    o: &WriteOpts,
) -> Result<Value, ApiError> {
    let old = get(store, rt, ns, name)?;
    let mut scale = scale_of(&old);
    match ptype {
        None => {
            check_rv(rt, name, body, &old)?;
            scale = body.clone();
        }
        Some(PatchType::Merge) => patch::merge_patch(&mut scale, body),
        Some(PatchType::Strategic) => patch::strategic_merge(&mut scale, body),
        Some(PatchType::Json) => {
            patch::json_patch(&mut scale, body).map_err(ApiError::bad_request)?
        }
        Some(PatchType::Apply) => {
            if let Some(r) = body.pointer("/spec/replicas") {
                scale["spec"]["replicas"] = r.clone();
            }
        }
    }
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::bad_request("spec.replicas is required"))?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            rt,
            name,
            &[(
                "spec.replicas".into(),
                format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(replicas);
    let o = WriteOpts {
        subresource: Some("scale".into()),
        ..o.clone()
    };
    let stored = commit(store, rt, Some(&old), new, &o, Managed::Update)?;
    Ok(scale_of(&stored))
}
