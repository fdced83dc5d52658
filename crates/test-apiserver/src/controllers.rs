//! The controllers: namespaces, garbage collection, PVC binding, Deployments,
//! ReplicaSets, StatefulSets and Jobs. They run as one loop woken by store changes and
//! by their own timers, and write through the same API functions clients use.

use crate::Shared;
use crate::api::{self, DeleteOpts, WriteOpts};
use crate::kubelet::{Kubelet, record};
use crate::resources::{ResourceType, by_plural};
use crate::store::Store;
use crate::util::{self, get_i64, get_str};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KCM: &str = "kube-controller-manager";

fn rt(p: &str) -> &'static ResourceType {
    by_plural(p).expect("known resource")
}

/// Objects every cluster starts with.
pub fn bootstrap(shared: &Arc<Shared>) {
    let mut store = shared.store.lock().expect("store");
    let o = WriteOpts::manager("kube-apiserver");
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let _ = api::create(
            &mut store,
            rt("namespaces"),
            "",
            json!({"metadata": {"name": n}}),
            &o,
        );
    }
    namespace_defaults(&mut store);
    let node = {
        let s = shared.settings.read().expect("settings");
        json!({
            "metadata": {"name": crate::kubelet::NODE, "labels": {
                "kubernetes.io/hostname": crate::kubelet::NODE, "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": ""}},
            "spec": {},
        })
        .tap_status(&s.scenario.node)
    };
    if let Ok(n) = api::create(&mut store, rt("nodes"), "", node.0, &o) {
        let mut n = n;
        n["status"] = node.1;
        let _ = api::update(
            &mut store,
            rt("nodes"),
            "",
            crate::kubelet::NODE,
            n,
            &WriteOpts::status("kubelet"),
        );
    }
}

trait NodeStatus {
    fn tap_status(self, size: &crate::scenario::NodeSize) -> (Value, Value);
}

impl NodeStatus for Value {
    fn tap_status(self, size: &crate::scenario::NodeSize) -> (Value, Value) {
        let res = json!({"cpu": size.cpu, "memory": size.memory, "pods": size.pods.to_string()});
        let now = util::now();
        let status = json!({
            "capacity": res, "allocatable": res,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.10"}, {"type": "Hostname", "address": crate::kubelet::NODE}],
            "nodeInfo": {"kubeletVersion": crate::discovery::GIT_VERSION, "containerRuntimeVersion": "containerd://2.0.0",
                "operatingSystem": "linux", "architecture": "amd64", "osImage": "test-apiserver", "kernelVersion": "6.0.0",
                "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""},
        });
        (self, status)
    }
}

/// Every active namespace gets its `default` ServiceAccount and root CA ConfigMap.
fn namespace_defaults(store: &mut Store) {
    let o = WriteOpts::manager(KCM);
    let names: Vec<String> = store
        .list(rt("namespaces"), None)
        .into_iter()
        .filter(|n| n.pointer("/metadata/deletionTimestamp").is_none())
        .map(|n| util::name_of(n).to_string())
        .collect();
    for n in names {
        if store.get(rt("serviceaccounts"), &n, "default").is_none() {
            let _ = api::create(
                store,
                rt("serviceaccounts"),
                &n,
                json!({"metadata": {"name": "default"}}),
                &o,
            );
        }
        if store
            .get(rt("configmaps"), &n, "kube-root-ca.crt")
            .is_none()
        {
            let _ = api::create(
                store,
                rt("configmaps"),
                &n,
                json!({"metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
                       "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}}),
                &o,
            );
        }
    }
}

/// Deleting namespaces: remove their contents, then the namespace.
fn namespace_teardown(store: &mut Store, kubelet: &mut Kubelet) {
    let terminating: Vec<String> = store
        .list(rt("namespaces"), None)
        .into_iter()
        .filter(|n| n.pointer("/metadata/deletionTimestamp").is_some())
        .map(|n| util::name_of(n).to_string())
        .collect();
    for ns in terminating {
        let contents: Vec<(&'static str, String, String)> = store
            .all()
            .filter(|(_, v)| util::namespace_of(v) == ns)
            .map(|(p, v)| (p, util::name_of(v).to_string(), util::uid_of(v).to_string()))
            .collect();
        for (plural, name, uid) in contents {
            kubelet.forget(&uid);
            store.remove(rt(plural), &ns, &name);
        }
        store.remove(rt("namespaces"), "", &ns);
    }
}

/// Background garbage collection: dependents whose owners are all gone are deleted.
fn garbage_collect(store: &mut Store) {
    let mut orphans: Vec<(&'static str, String, String)> = Vec::new();
    for owner in store.missing_owners() {
        for (p, v) in store.dependents(&owner) {
            let all_gone = v
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    refs.iter()
                        .all(|r| !store.uid_exists(r["uid"].as_str().unwrap_or("")))
                });
            if v.pointer("/metadata/deletionTimestamp").is_none() && all_gone {
                orphans.push((
                    p,
                    util::namespace_of(v).to_string(),
                    util::name_of(v).to_string(),
                ));
            }
        }
    }
    orphans.sort();
    orphans.dedup();
    for (plural, ns, name) in orphans {
        let _ = api::delete(store, rt(plural), &ns, &name, &DeleteOpts::default());
    }
}

/// Claims are bound as soon as they exist (a dynamic provisioner that always works).
fn bind_pvcs(store: &mut Store) {
    let pending: Vec<Value> = store
        .list(rt("persistentvolumeclaims"), None)
        .into_iter()
        .filter(|p| get_str(p, &["status", "phase"]) != Some("Bound"))
        .cloned()
        .collect();
    for p in pending {
        let (ns, name) = (
            util::namespace_of(&p).to_string(),
            util::name_of(&p).to_string(),
        );
        let mut new = p.clone();
        let vol = format!("pvc-{}", util::uid_of(&p));
        new["spec"]["volumeName"] = json!(vol);
        let Ok(stored) = api::update(
            store,
            rt("persistentvolumeclaims"),
            &ns,
            &name,
            new,
            &WriteOpts::manager(KCM),
        ) else {
            continue;
        };
        let mut st = stored.clone();
        st["status"] = json!({
            "phase": "Bound",
            "accessModes": p.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
            "capacity": {"storage": p.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi"))},
        });
        let _ = api::update(
            store,
            rt("persistentvolumeclaims"),
            &ns,
            &name,
            st,
            &WriteOpts::status(KCM),
        );
    }
}

fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"], "kind": owner["kind"],
        "name": util::name_of(owner), "uid": util::uid_of(owner),
        "controller": true, "blockOwnerDeletion": true,
    })
}

fn owned_by(v: &Value, uid: &str) -> bool {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|o| o["uid"] == uid && o["controller"] == true))
}

fn children(store: &Store, plural: &str, owner: &Value) -> Vec<Value> {
    let uid = util::uid_of(owner);
    store
        .dependents(uid)
        .into_iter()
        .filter(|(p, v)| *p == plural && owned_by(v, uid))
        .map(|(_, v)| v.clone())
        .collect()
}

fn pod_ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn terminating(v: &Value) -> bool {
    v.pointer("/metadata/deletionTimestamp").is_some()
}

fn pod_phase(p: &Value) -> &str {
    get_str(p, &["status", "phase"]).unwrap_or("Pending")
}

/// Set a condition in `conds`, keeping timestamps when nothing changed.
fn condition(
    conds: &mut Vec<Value>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    update_time: bool,
) {
    let now = util::now();
    match conds.iter_mut().find(|c| c["type"] == ty) {
        Some(c) => {
            if c["status"] == status && c["reason"] == reason && c["message"] == message {
                return;
            }
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
            if update_time {
                c["lastUpdateTime"] = json!(now);
            }
        }
        None => {
            let mut c = json!({"type": ty, "status": status, "reason": reason, "message": message});
            if update_time {
                c["lastUpdateTime"] = json!(now);
            }
            c["lastTransitionTime"] = json!(now);
            conds.push(c);
        }
    }
}

fn conditions_of(v: &Value) -> Vec<Value> {
    v.pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn write_status(store: &mut Store, r: &'static ResourceType, obj: &Value, status: Value) {
    // Nothing to write: skip the whole write path (most passes change nothing).
    if obj.get("status") == Some(&status) {
        return;
    }
    let mut new = obj.clone();
    new["status"] = status;
    let _ = api::update(
        store,
        r,
        util::namespace_of(obj),
        util::name_of(obj),
        new,
        &WriteOpts::status(KCM),
    );
}

fn pod_from_template(template: &Value, name: &str, owner: &Value) -> Value {
    let mut meta = template.get("metadata").cloned().unwrap_or(json!({}));
    meta["name"] = json!(name);
    if owner["kind"] != "StatefulSet" {
        meta["generateName"] = json!(format!("{}-", util::name_of(owner)));
    }
    meta["ownerReferences"] = json!([owner_ref(owner)]);
    if let Some(m) = meta.as_object_mut() {
        m.shift_remove("creationTimestamp");
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
           "spec": template.get("spec").cloned().unwrap_or(json!({}))})
}

/// Per-object memory the controllers keep between passes.
#[derive(Default)]
struct Memory {
    /// Deployment uid → (progress snapshot, when it last changed).
    progress: HashMap<String, (Value, Instant)>,
    /// Owner uid → (when pod creation may be retried, failures so far).
    create_retry: HashMap<String, (Instant, u32)>,
    /// Job uid → (start, time of the last pod failure seen, failures seen).
    jobs: HashMap<String, (Instant, Option<Instant>, i64)>,
    /// CronJob uid → the scaled-clock second it was first seen (its schedule starts
    /// there until it has a lastScheduleTime).
    cron_seen: HashMap<String, i64>,
    /// CronJob uid → the scheduled time a skip (JobAlreadyActive, MissSchedule) was
    /// last reported for, so each is reported once.
    cron_noted: HashMap<String, i64>,
}

struct Pass<'a> {
    store: &'a mut Store,
    shared: &'a Shared,
    mem: &'a mut Memory,
    now: Instant,
    next: Option<Instant>,
}

impl Pass<'_> {
    fn due(&mut self, t: Instant) {
        self.next = Some(self.next.map_or(t, |n| n.min(t)));
    }

    fn scaled(&self, secs: f64) -> Duration {
        self.shared.scaled(secs)
    }

    /// Create a pod, recording SuccessfulCreate or FailedCreate on the owner.
    fn create_pod(&mut self, owner: &Value, pod: Value) -> bool {
        let ns = util::namespace_of(owner).to_string();
        let uid = util::uid_of(owner).to_string();
        if let Some((t, _)) = self.mem.create_retry.get(&uid).copied()
            && t > self.now
        {
            self.due(t);
            return false;
        }
        let name = util::name_of(&pod).to_string();
        match api::create(self.store, rt("pods"), &ns, pod, &WriteOpts::manager(KCM)) {
            Ok(_) => {
                self.mem.create_retry.remove(&uid);
                let msg = if owner["kind"] == "StatefulSet" {
                    format!(
                        "create Pod {name} in StatefulSet {} successful",
                        util::name_of(owner)
                    )
                } else {
                    format!("Created pod: {name}")
                };
                record(
                    self.store,
                    owner,
                    "Normal",
                    "SuccessfulCreate",
                    &msg,
                    controller_name(owner),
                );
                true
            }
            Err(e) => {
                // Exponential back-off like the controllers' rate-limited queues.
                let failures = self.mem.create_retry.get(&uid).map_or(0, |(_, n)| *n);
                let secs = (1u64 << failures.min(9)).min(300) as f64;
                let t = self.now + self.scaled(secs).max(Duration::from_millis(50));
                self.mem.create_retry.insert(uid, (t, failures + 1));
                self.due(t);
                let msg = if owner["kind"] == "StatefulSet" {
                    format!(
                        "create Pod {name} in StatefulSet {} failed error: {}",
                        util::name_of(owner),
                        e.message
                    )
                } else {
                    format!("Error creating: {}", e.message)
                };
                record(
                    self.store,
                    owner,
                    "Warning",
                    "FailedCreate",
                    &msg,
                    controller_name(owner),
                );
                false
            }
        }
    }
}

fn controller_name(owner: &Value) -> &'static str {
    match owner["kind"].as_str() {
        Some("ReplicaSet") => "replicaset-controller",
        Some("Deployment") => "deployment-controller",
        Some("StatefulSet") => "statefulset-controller",
        Some("Job") => "job-controller",
        Some("CronJob") => "cronjob-controller",
        _ => "controller-manager",
    }
}

fn pct(v: Option<&Value>, total: i64, round_up: bool) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) if s.ends_with('%') => {
            let p: f64 = s.trim_end_matches('%').parse().unwrap_or(25.0);
            let x = p * total as f64 / 100.0;
            if round_up {
                x.ceil() as i64
            } else {
                x.floor() as i64
            }
        }
        _ => {
            if round_up {
                (total as f64 * 0.25).ceil() as i64
            } else {
                (total as f64 * 0.25).floor() as i64
            }
        }
    }
}

fn deployments(p: &mut Pass) {
    let list: Vec<Value> = p
        .store
        .list(rt("deployments"), None)
        .into_iter()
        .cloned()
        .collect();
    for d in list {
        if terminating(&d) {
            continue;
        }
        let ns = util::namespace_of(&d).to_string();
        let dname = util::name_of(&d).to_string();
        let uid = util::uid_of(&d).to_string();
        let desired = get_i64(&d, &["spec", "replicas"]).unwrap_or(1);
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = util::hash_value(&template);
        let mut rss = children(p.store, "replicasets", &d);
        let max_rev = rss
            .iter()
            .filter_map(|r| {
                r.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<i64>().ok())
            })
            .max()
            .unwrap_or(0);
        let new_idx = rss.iter().position(|r| {
            r.pointer("/metadata/labels/pod-template-hash")
                .and_then(Value::as_str)
                == Some(hash.as_str())
        });
        let recreate = get_str(&d, &["spec", "strategy", "type"]) == Some("Recreate");
        let old_active: i64 = rss
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != new_idx)
            .map(|(_, r)| {
                get_i64(r, &["spec", "replicas"]).unwrap_or(0)
                    + get_i64(r, &["status", "replicas"]).unwrap_or(0)
            })
            .sum();
        let mut created_new = None;
        let new_rs = match new_idx {
            Some(i) => {
                let r = rss[i].clone();
                let rev = r
                    .pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0);
                if rev < max_rev {
                    let mut nr = r.clone();
                    nr["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                        json!((max_rev + 1).to_string());
                    let _ = api::update(
                        p.store,
                        rt("replicasets"),
                        &ns,
                        util::name_of(&r),
                        nr,
                        &WriteOpts::manager(KCM),
                    );
                }
                r
            }
            None => {
                let rs_name = format!("{dname}-{hash}");
                let mut labels = template
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or(json!({}));
                labels["pod-template-hash"] = json!(hash);
                let mut sel = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
                util::ensure_obj(&mut sel, &["matchLabels"])
                    .insert("pod-template-hash".into(), json!(hash));
                let mut tmpl = template.clone();
                util::ensure_obj(&mut tmpl, &["metadata", "labels"])
                    .insert("pod-template-hash".into(), json!(hash));
                let initial = if recreate && old_active > 0 {
                    0
                } else {
                    desired
                };
                let rs = json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": rs_name, "labels": labels,
                        "annotations": {"deployment.kubernetes.io/revision": (max_rev + 1).to_string(),
                            "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                            "deployment.kubernetes.io/max-replicas": (desired + pct(d.pointer("/spec/strategy/rollingUpdate/maxSurge"), desired, true)).to_string()},
                        "ownerReferences": [owner_ref(&d)]},
                    "spec": {"replicas": initial, "minReadySeconds": d.pointer("/spec/minReadySeconds").cloned().unwrap_or(json!(0)),
                        "selector": sel, "template": tmpl},
                });
                match api::create(
                    p.store,
                    rt("replicasets"),
                    &ns,
                    rs,
                    &WriteOpts::manager(KCM),
                ) {
                    Ok(r) => {
                        record(
                            p.store,
                            &d,
                            "Normal",
                            "ScalingReplicaSet",
                            &format!("Scaled up replica set {rs_name} from 0 to {initial}"),
                            "deployment-controller",
                        );
                        created_new = Some(rs_name);
                        rss.push(r.clone());
                        r
                    }
                    Err(_) => continue,
                }
            }
        };
        let new_name = util::name_of(&new_rs).to_string();
        let new_avail = get_i64(&new_rs, &["status", "availableReplicas"]).unwrap_or(0);
        let scale = |p: &mut Pass, r: &Value, to: i64| {
            let from = get_i64(r, &["spec", "replicas"]).unwrap_or(0);
            if from == to {
                return;
            }
            let mut nr = r.clone();
            nr["spec"]["replicas"] = json!(to);
            nr["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                json!(desired.to_string());
            if api::update(
                p.store,
                rt("replicasets"),
                util::namespace_of(r),
                util::name_of(r),
                nr,
                &WriteOpts::manager(KCM),
            )
            .is_ok()
            {
                let verb = if to > from { "up" } else { "down" };
                record(
                    p.store,
                    &d,
                    "Normal",
                    "ScalingReplicaSet",
                    &format!(
                        "Scaled {verb} replica set {} from {from} to {to}",
                        util::name_of(r)
                    ),
                    "deployment-controller",
                );
            }
        };
        let olds: Vec<Value> = rss
            .iter()
            .filter(|r| util::name_of(r) != new_name)
            .cloned()
            .collect();
        if recreate {
            for r in &olds {
                scale(p, r, 0);
            }
            let old_pods = olds
                .iter()
                .map(|r| get_i64(r, &["status", "replicas"]).unwrap_or(0))
                .sum::<i64>();
            if old_pods == 0 {
                scale(p, &new_rs, desired);
            }
        } else {
            scale(p, &new_rs, desired);
            if new_avail >= desired {
                for r in &olds {
                    scale(p, r, 0);
                }
            }
        }
        // Old replica sets beyond the history limit go.
        let limit = get_i64(&d, &["spec", "revisionHistoryLimit"]).unwrap_or(10);
        let mut idle: Vec<&Value> = olds
            .iter()
            .filter(|r| {
                get_i64(r, &["spec", "replicas"]) == Some(0)
                    && get_i64(r, &["status", "replicas"]).unwrap_or(0) == 0
            })
            .collect();
        if idle.len() as i64 > limit {
            idle.sort_by_key(|r| {
                r.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0)
            });
            let n = idle.len() - limit as usize;
            let names: Vec<String> = idle[..n]
                .iter()
                .map(|r| util::name_of(r).to_string())
                .collect();
            for n in names {
                let _ = api::delete(p.store, rt("replicasets"), &ns, &n, &DeleteOpts::default());
            }
        }

        // The deployment carries the revision of its newest replica set.
        if let Some(fresh_rs) = get(p.store, "replicasets", &ns, &new_name)
            && let Some(rev) = fresh_rs
                .pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                .cloned()
            && let Some(cur) = get(p.store, "deployments", &ns, &dname)
            && cur.pointer("/metadata/annotations/deployment.kubernetes.io~1revision") != Some(&rev)
        {
            let mut nd = cur.clone();
            util::ensure_obj(&mut nd, &["metadata", "annotations"])
                .insert("deployment.kubernetes.io/revision".into(), rev);
            let _ = api::update(
                p.store,
                rt("deployments"),
                &ns,
                &dname,
                nd,
                &WriteOpts::manager(KCM),
            );
        }
        // Status from the (fresh) replica sets.
        let rss = children(p.store, "replicasets", &d);
        let sum = |f: &str| {
            rss.iter()
                .map(|r| get_i64(r, &["status", f]).unwrap_or(0))
                .sum::<i64>()
        };
        let replicas = sum("replicas");
        let ready = sum("readyReplicas");
        let available = sum("availableReplicas");
        let updated = rss
            .iter()
            .find(|r| util::name_of(r) == new_name)
            .and_then(|r| get_i64(r, &["status", "replicas"]))
            .unwrap_or(0);
        let max_unavailable = pct(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
        );
        let mut conds = conditions_of(&d);
        if available >= desired - if recreate { 0 } else { max_unavailable } {
            condition(
                &mut conds,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                true,
            );
        } else {
            condition(
                &mut conds,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                true,
            );
        }
        let complete = updated == desired && replicas == desired && available == desired;
        let snapshot = json!([
            replicas,
            ready,
            available,
            updated,
            new_name,
            d.pointer("/metadata/generation")
        ]);
        let deadline = get_i64(&d, &["spec", "progressDeadlineSeconds"]).unwrap_or(600) as f64;
        let entry = p
            .mem
            .progress
            .entry(uid.clone())
            .or_insert((Value::Null, p.now));
        let progressed = entry.0 != snapshot;
        if progressed {
            *entry = (snapshot, p.now);
        }
        let last_progress = entry.1;
        if let Some(n) = &created_new {
            condition(
                &mut conds,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{n}\""),
                true,
            );
        } else if complete {
            condition(
                &mut conds,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                true,
            );
        } else if progressed {
            condition(
                &mut conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
                true,
            );
        } else {
            let at = last_progress + p.scaled(deadline);
            if p.now >= at {
                let already = conds
                    .iter()
                    .any(|c| c["reason"] == "ProgressDeadlineExceeded");
                condition(
                    &mut conds,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                    true,
                );
                if !already {
                    record(
                        p.store,
                        &d,
                        "Warning",
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                        "deployment-controller",
                    );
                }
            } else {
                p.due(at);
            }
        }
        // A replica set that cannot create pods shows through, as in the real controller.
        let failure = rss.iter().find_map(|r| {
            conditions_of(r)
                .into_iter()
                .find(|c| c["type"] == "ReplicaFailure" && c["status"] == "True")
        });
        match failure {
            Some(f) => condition(
                &mut conds,
                "ReplicaFailure",
                "True",
                f["reason"].as_str().unwrap_or("FailedCreate"),
                f["message"].as_str().unwrap_or(""),
                true,
            ),
            None => conds.retain(|c| c["type"] != "ReplicaFailure"),
        }
        let order = ["Available", "Progressing", "ReplicaFailure"];
        conds.sort_by_key(|c| order.iter().position(|o| c["type"] == *o).unwrap_or(9));
        let mut status = json!({
            "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready,
            "availableReplicas": available, "conditions": conds,
        });
        let spec_total: i64 = rss
            .iter()
            .map(|r| get_i64(r, &["spec", "replicas"]).unwrap_or(0))
            .sum();
        if spec_total - available > 0 {
            status["unavailableReplicas"] = json!(spec_total - available);
        }
        for k in [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
        ] {
            if status[k] == 0 {
                status.as_object_mut().map(|m| m.shift_remove(k));
            }
        }
        let current = get(p.store, "deployments", &ns, &dname);
        if let Some(cur) = current {
            write_status(p.store, rt("deployments"), &cur, status);
        }
    }
}

fn get(store: &Store, plural: &str, ns: &str, name: &str) -> Option<Value> {
    store.get(rt(plural), ns, name).cloned()
}

fn replicasets(p: &mut Pass) {
    let list: Vec<Value> = p
        .store
        .list(rt("replicasets"), None)
        .into_iter()
        .cloned()
        .collect();
    for rs in list {
        if terminating(&rs) {
            continue;
        }
        let ns = util::namespace_of(&rs).to_string();
        let desired = get_i64(&rs, &["spec", "replicas"]).unwrap_or(1);
        let pods: Vec<Value> = children(p.store, "pods", &rs)
            .into_iter()
            .filter(|x| !terminating(x) && !matches!(pod_phase(x), "Succeeded" | "Failed"))
            .collect();
        let count = pods.len() as i64;
        let mut failure: Option<String> = None;
        if count < desired {
            for _ in count..desired {
                let name = format!("{}-{}", util::name_of(&rs), util::random_suffix(5));
                let tmpl = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
                let pod = pod_from_template(&tmpl, &name, &rs);
                if !p.create_pod(&rs, pod) {
                    failure = p
                        .store
                        .events_about(util::uid_of(&rs))
                        .into_iter()
                        .filter(|e| e["reason"] == "FailedCreate")
                        // The condition carries the error itself, without the event's prefix.
                        .map(|e| {
                            let m = e["message"].as_str().unwrap_or("");
                            m.strip_prefix("Error creating: ").unwrap_or(m).to_string()
                        })
                        .next_back();
                    break;
                }
            }
        } else if count > desired {
            let mut victims = pods.clone();
            victims.sort_by_key(|x| {
                (
                    pod_ready(x),
                    std::cmp::Reverse(
                        get_str(x, &["metadata", "creationTimestamp"])
                            .unwrap_or("")
                            .to_string(),
                    ),
                )
            });
            for v in victims.iter().take((count - desired) as usize) {
                let name = util::name_of(v).to_string();
                if api::delete(p.store, rt("pods"), &ns, &name, &DeleteOpts::default()).is_ok() {
                    record(
                        p.store,
                        &rs,
                        "Normal",
                        "SuccessfulDelete",
                        &format!("Deleted pod: {name}"),
                        "replicaset-controller",
                    );
                }
            }
        }
        // Failed pods of a ReplicaSet are replaced.
        for f in children(p.store, "pods", &rs)
            .into_iter()
            .filter(|x| pod_phase(x) == "Failed" && !terminating(x))
        {
            let _ = api::delete(
                p.store,
                rt("pods"),
                &ns,
                util::name_of(&f),
                &DeleteOpts::default(),
            );
        }
        let pods: Vec<Value> = children(p.store, "pods", &rs)
            .into_iter()
            .filter(|x| !terminating(x) && !matches!(pod_phase(x), "Succeeded" | "Failed"))
            .collect();
        let ready = pods.iter().filter(|x| pod_ready(x)).count();
        let mut conds = conditions_of(&rs);
        match &failure {
            Some(msg) => condition(
                &mut conds,
                "ReplicaFailure",
                "True",
                "FailedCreate",
                msg,
                false,
            ),
            None => conds.retain(|c| c["type"] != "ReplicaFailure"),
        }
        let mut status = json!({
            "replicas": pods.len(), "fullyLabeledReplicas": pods.len(), "readyReplicas": ready,
            "availableReplicas": ready, "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        });
        if !conds.is_empty() {
            status["conditions"] = json!(conds);
        }
        for k in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
            if status[k] == 0 {
                status.as_object_mut().map(|m| m.shift_remove(k));
            }
        }
        if let Some(cur) = get(p.store, "replicasets", &ns, util::name_of(&rs)) {
            write_status(p.store, rt("replicasets"), &cur, status);
        }
    }
}

fn statefulsets(p: &mut Pass) {
    let list: Vec<Value> = p
        .store
        .list(rt("statefulsets"), None)
        .into_iter()
        .cloned()
        .collect();
    for s in list {
        if terminating(&s) {
            continue;
        }
        let ns = util::namespace_of(&s).to_string();
        let sname = util::name_of(&s).to_string();
        let replicas = get_i64(&s, &["spec", "replicas"]).unwrap_or(1);
        let template = s.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let revision = format!("{sname}-{}", util::hash_value(&template));
        let parallel = get_str(&s, &["spec", "podManagementPolicy"]) == Some("Parallel");
        let sel_labels = s
            .pointer("/spec/selector/matchLabels")
            .cloned()
            .unwrap_or(json!({}));
        let pod_rev = |x: &Value| {
            x.pointer("/metadata/labels/controller-revision-hash")
                .and_then(Value::as_str)
                .map(String::from)
        };
        let all_pods = children(p.store, "pods", &s);
        let by_ord = |i: i64| {
            all_pods
                .iter()
                .find(|x| util::name_of(x) == format!("{sname}-{i}"))
                .cloned()
        };
        let mut busy = false;
        for i in 0..replicas {
            let pname = format!("{sname}-{i}");
            match by_ord(i) {
                None => {
                    // Claims first, labelled from the selector like the real controller.
                    let mut volumes: Vec<Value> = template
                        .pointer("/spec/volumes")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for t in s
                        .pointer("/spec/volumeClaimTemplates")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                    {
                        let tname = t
                            .pointer("/metadata/name")
                            .and_then(Value::as_str)
                            .unwrap_or("data")
                            .to_string();
                        let claim = format!("{tname}-{sname}-{i}");
                        if get(p.store, "persistentvolumeclaims", &ns, &claim).is_none() {
                            let mut labels =
                                t.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
                            if let (Some(l), Some(sl)) =
                                (labels.as_object_mut(), sel_labels.as_object())
                            {
                                for (k, v) in sl {
                                    l.insert(k.clone(), v.clone());
                                }
                            }
                            let mut meta = t.get("metadata").cloned().unwrap_or(json!({}));
                            meta["name"] = json!(claim);
                            meta["labels"] = labels;
                            let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                                "spec": t.get("spec").cloned().unwrap_or(json!({}))});
                            match api::create(
                                p.store,
                                rt("persistentvolumeclaims"),
                                &ns,
                                pvc,
                                &WriteOpts::manager(KCM),
                            ) {
                                Ok(_) => record(
                                    p.store,
                                    &s,
                                    "Normal",
                                    "SuccessfulCreate",
                                    &format!(
                                        "create Claim {claim} Pod {pname} in StatefulSet {sname} success"
                                    ),
                                    "statefulset-controller",
                                ),
                                Err(e) => record(
                                    p.store,
                                    &s,
                                    "Warning",
                                    "FailedCreate",
                                    &format!(
                                        "create Claim {claim} for Pod {pname} in StatefulSet {sname} failed error: {}",
                                        e.message
                                    ),
                                    "statefulset-controller",
                                ),
                            }
                        }
                        volumes.retain(|v| v["name"] != tname.as_str());
                        volumes.push(
                            json!({"name": tname, "persistentVolumeClaim": {"claimName": claim}}),
                        );
                    }
                    let mut pod = pod_from_template(&template, &pname, &s);
                    let labels = util::ensure_obj(&mut pod, &["metadata", "labels"]);
                    labels.insert("controller-revision-hash".into(), json!(revision));
                    labels.insert("statefulset.kubernetes.io/pod-name".into(), json!(pname));
                    labels.insert("apps.kubernetes.io/pod-index".into(), json!(i.to_string()));
                    if !volumes.is_empty() {
                        pod["spec"]["volumes"] = json!(volumes);
                    }
                    pod["spec"]["hostname"] = json!(pname);
                    if let Some(svc) = s
                        .pointer("/spec/serviceName")
                        .and_then(Value::as_str)
                        .filter(|x| !x.is_empty())
                    {
                        pod["spec"]["subdomain"] = json!(svc);
                    }
                    p.create_pod(&s, pod);
                    busy = true;
                    if !parallel {
                        break;
                    }
                }
                Some(x) => {
                    if terminating(&x) {
                        busy = true;
                        if !parallel {
                            break;
                        }
                        continue;
                    }
                    if pod_phase(&x) == "Failed" || pod_phase(&x) == "Succeeded" {
                        let _ =
                            api::delete(p.store, rt("pods"), &ns, &pname, &DeleteOpts::default());
                        busy = true;
                        if !parallel {
                            break;
                        }
                        continue;
                    }
                    if !(pod_phase(&x) == "Running" && pod_ready(&x)) {
                        busy = true;
                        if !parallel {
                            break;
                        }
                    }
                }
            }
        }
        // Scale down, highest ordinal first, one at a time.
        let extra: Vec<Value> = all_pods
            .iter()
            .filter(|x| {
                util::name_of(x)
                    .rsplit('-')
                    .next()
                    .and_then(|o| o.parse::<i64>().ok())
                    .is_some_and(|o| o >= replicas)
            })
            .cloned()
            .collect();
        if !extra.is_empty() && !busy {
            let mut e = extra.clone();
            e.sort_by_key(|x| {
                std::cmp::Reverse(
                    util::name_of(x)
                        .rsplit('-')
                        .next()
                        .and_then(|o| o.parse::<i64>().ok())
                        .unwrap_or(0),
                )
            });
            if let Some(top) = e.first()
                && !terminating(top)
            {
                let n = util::name_of(top).to_string();
                if api::delete(p.store, rt("pods"), &ns, &n, &DeleteOpts::default()).is_ok() {
                    record(
                        p.store,
                        &s,
                        "Normal",
                        "SuccessfulDelete",
                        &format!("delete Pod {n} in StatefulSet {sname} successful"),
                        "statefulset-controller",
                    );
                }
            }
            busy = true;
        }
        // Rolling update: replace the highest-ordinal pod on an old revision.
        let rolling = get_str(&s, &["spec", "updateStrategy", "type"]) != Some("OnDelete");
        let partition = get_i64(
            &s,
            &["spec", "updateStrategy", "rollingUpdate", "partition"],
        )
        .unwrap_or(0);
        if rolling && !busy {
            let mut stale: Vec<Value> = children(p.store, "pods", &s)
                .into_iter()
                .filter(|x| pod_rev(x).as_deref() != Some(revision.as_str()))
                .filter(|x| {
                    util::name_of(x)
                        .rsplit('-')
                        .next()
                        .and_then(|o| o.parse::<i64>().ok())
                        .is_some_and(|o| o >= partition && o < replicas)
                })
                .collect();
            stale.sort_by_key(|x| {
                std::cmp::Reverse(
                    util::name_of(x)
                        .rsplit('-')
                        .next()
                        .and_then(|o| o.parse::<i64>().ok())
                        .unwrap_or(0),
                )
            });
            if let Some(top) = stale.first()
                && !terminating(top)
            {
                let n = util::name_of(top).to_string();
                let _ = api::delete(p.store, rt("pods"), &ns, &n, &DeleteOpts::default());
            }
        }
        let pods: Vec<Value> = children(p.store, "pods", &s)
            .into_iter()
            .filter(|x| !terminating(x))
            .collect();
        let ready = pods.iter().filter(|x| pod_ready(x)).count() as i64;
        let updated = pods
            .iter()
            .filter(|x| pod_rev(x).as_deref() == Some(revision.as_str()))
            .count() as i64;
        let prev_current = get_str(&s, &["status", "currentRevision"])
            .unwrap_or(&revision)
            .to_string();
        let current_rev = if updated == replicas && ready == replicas {
            revision.clone()
        } else {
            prev_current
        };
        let current = pods
            .iter()
            .filter(|x| pod_rev(x).as_deref() == Some(current_rev.as_str()))
            .count() as i64;
        let mut status = json!({
            "observedGeneration": s.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": pods.len(), "readyReplicas": ready, "currentReplicas": current,
            "updatedReplicas": updated, "availableReplicas": ready,
            "currentRevision": current_rev, "updateRevision": revision, "collisionCount": 0,
        });
        for k in ["readyReplicas", "currentReplicas", "updatedReplicas"] {
            if status[k] == 0 {
                status.as_object_mut().map(|m| m.shift_remove(k));
            }
        }
        if let Some(cur) = get(p.store, "statefulsets", &ns, &sname) {
            write_status(p.store, rt("statefulsets"), &cur, status);
        }
    }
}

fn jobs(p: &mut Pass) {
    let list: Vec<Value> = p
        .store
        .list(rt("jobs"), None)
        .into_iter()
        .cloned()
        .collect();
    for j in list {
        if terminating(&j) {
            continue;
        }
        let ns = util::namespace_of(&j).to_string();
        let jname = util::name_of(&j).to_string();
        let uid = util::uid_of(&j).to_string();
        let mut conds = conditions_of(&j);
        let finished = conds
            .iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True");
        let pods = children(p.store, "pods", &j);
        let active: Vec<&Value> = pods
            .iter()
            .filter(|x| !terminating(x) && !matches!(pod_phase(x), "Succeeded" | "Failed"))
            .collect();
        if finished {
            for a in &active {
                let _ = api::delete(
                    p.store,
                    rt("pods"),
                    &ns,
                    util::name_of(a),
                    &DeleteOpts::default(),
                );
            }
            continue;
        }
        if j.pointer("/spec/suspend") == Some(&json!(true)) {
            continue;
        }
        let completions = get_i64(&j, &["spec", "completions"]).unwrap_or(1);
        let parallelism = get_i64(&j, &["spec", "parallelism"]).unwrap_or(1);
        let backoff_limit = get_i64(&j, &["spec", "backoffLimit"]).unwrap_or(6);
        let succeeded = pods.iter().filter(|x| pod_phase(x) == "Succeeded").count() as i64;
        let restarts: i64 = pods
            .iter()
            .flat_map(|x| {
                x.pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|c| c["restartCount"].as_i64().unwrap_or(0))
            .sum();
        let failed = pods.iter().filter(|x| pod_phase(x) == "Failed").count() as i64;
        let failures = failed + restarts;
        let now = p.now;
        let mem = p.mem.jobs.entry(uid.clone()).or_insert((now, None, 0));
        if failures > mem.2 {
            mem.1 = Some(now);
            mem.2 = failures;
        }
        let (started, last_failure) = (mem.0, mem.1);
        let start_time = get_str(&j, &["status", "startTime"])
            .map(String::from)
            .unwrap_or_else(util::now);
        let mut outcome: Option<(&str, &str, &str)> = None;
        if let Some(deadline) = get_i64(&j, &["spec", "activeDeadlineSeconds"]) {
            let at = started + p.scaled(deadline as f64);
            if now >= at {
                outcome = Some((
                    "Failed",
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                ));
            } else {
                p.due(at);
            }
        }
        if outcome.is_none() && failures > backoff_limit {
            outcome = Some((
                "Failed",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            ));
        }
        if outcome.is_none() && succeeded >= completions {
            outcome = Some((
                "Complete",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            ));
        }
        let mut status = json!({
            "startTime": start_time,
            "active": active.len(),
            "ready": active.iter().filter(|x| pod_ready(x)).count(),
            "succeeded": succeeded,
            "failed": failed,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        });
        match outcome {
            Some((ty, reason, msg)) => {
                let pre = if ty == "Complete" {
                    "SuccessCriteriaMet"
                } else {
                    "FailureTarget"
                };
                condition(&mut conds, pre, "True", reason, msg, false);
                condition(&mut conds, ty, "True", reason, msg, false);
                for c in conds.iter_mut() {
                    c["lastProbeTime"] = c["lastTransitionTime"].clone();
                }
                status["conditions"] = json!(conds);
                status["active"] = json!(0);
                status["ready"] = json!(0);
                if ty == "Complete" {
                    status["completionTime"] = json!(util::now());
                    record(
                        p.store,
                        &j,
                        "Normal",
                        "Completed",
                        "Job completed",
                        "job-controller",
                    );
                } else {
                    record(p.store, &j, "Warning", reason, msg, "job-controller");
                }
                for a in &active {
                    let _ = api::delete(
                        p.store,
                        rt("pods"),
                        &ns,
                        util::name_of(a),
                        &DeleteOpts::default(),
                    );
                }
            }
            None => {
                let want = parallelism.min(completions - succeeded) - active.len() as i64;
                // Exponential back-off after failures: 10s, 20s, 40s ... (scaled).
                let ready_at = last_failure.map(|t| {
                    let secs = (10u64 << (failed.max(1) - 1).min(5) as u32).min(360);
                    t + p.scaled(secs as f64)
                });
                let may_create = ready_at.is_none_or(|t| now >= t) || failed == 0;
                if want > 0 && may_create {
                    for _ in 0..want {
                        let name = format!("{jname}-{}", util::random_suffix(5));
                        let tmpl = j.pointer("/spec/template").cloned().unwrap_or(json!({}));
                        let pod = pod_from_template(&tmpl, &name, &j);
                        if !p.create_pod(&j, pod) {
                            break;
                        }
                    }
                } else if want > 0
                    && let Some(t) = ready_at
                {
                    p.due(t);
                }
                let pods = children(p.store, "pods", &j);
                status["active"] = json!(
                    pods.iter()
                        .filter(
                            |x| !terminating(x) && !matches!(pod_phase(x), "Succeeded" | "Failed")
                        )
                        .count()
                );
                if !conds.is_empty() {
                    status["conditions"] = json!(conds);
                }
            }
        }
        for k in ["active", "succeeded", "failed"] {
            if status[k] == 0 {
                status.as_object_mut().map(|m| m.shift_remove(k));
            }
        }
        if let Some(cur) = get(p.store, "jobs", &ns, &jname) {
            write_status(p.store, rt("jobs"), &cur, status);
        }
    }
}

fn job_finished(j: &Value) -> Option<&'static str> {
    conditions_of(j).iter().find_map(|c| {
        if c["status"] != "True" {
            return None;
        }
        match c["type"].as_str() {
            Some("Complete") => Some("Complete"),
            Some("Failed") => Some("Failed"),
            _ => None,
        }
    })
}

fn unix_of(s: &str) -> Option<i64> {
    util::parse_rfc3339(s)?
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

fn job_ref(j: &Value) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "name": util::name_of(j),
        "namespace": util::namespace_of(j), "uid": util::uid_of(j),
        "resourceVersion": j.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))})
}

/// CronJobs: Jobs from `jobTemplate` on schedule (on the scaled clock), named
/// `<cronjob>-<scheduled minutes since the epoch>`, with concurrency policy, suspend,
/// starting deadline, history limits, status and the controller's Events.
fn cronjobs(p: &mut Pass) {
    let list: Vec<Value> = p
        .store
        .list(rt("cronjobs"), None)
        .into_iter()
        .cloned()
        .collect();
    if list.is_empty() {
        return;
    }
    let now_v = {
        let s = p.shared.settings.read().expect("settings");
        s.virtual_now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    };
    const CTL: &str = "cronjob-controller";
    for cj in list {
        let ns = util::namespace_of(&cj).to_string();
        let cname = util::name_of(&cj).to_string();
        let uid = util::uid_of(&cj).to_string();
        let mut status = cj.get("status").cloned().unwrap_or(json!({}));
        if !status.is_object() {
            status = json!({});
        }
        let mut active: Vec<Value> = status["active"].as_array().cloned().unwrap_or_default();
        let jobs = children(p.store, "jobs", &cj);
        for j in &jobs {
            let juid = util::uid_of(j);
            let Some(cond) = job_finished(j) else {
                continue;
            };
            if active.iter().any(|a| a["uid"] == juid) {
                active.retain(|a| a["uid"] != juid);
                record(
                    p.store,
                    &cj,
                    "Normal",
                    "SawCompletedJob",
                    &format!("Saw completed job: {}, condition: {cond}", util::name_of(j)),
                    CTL,
                );
            }
            if cond == "Complete"
                && let Some(ct) = get_str(j, &["status", "completionTime"])
            {
                let newer = get_str(&status, &["lastSuccessfulTime"])
                    .is_none_or(|cur| unix_of(ct) > unix_of(cur));
                if newer {
                    status["lastSuccessfulTime"] = json!(ct);
                }
            }
        }
        let gone: Vec<Value> = active
            .iter()
            .filter(|a| !jobs.iter().any(|j| a["uid"] == util::uid_of(j)))
            .cloned()
            .collect();
        for a in gone {
            active.retain(|x| x["uid"] != a["uid"]);
            record(
                p.store,
                &cj,
                "Normal",
                "MissingJob",
                &format!(
                    "Active job went missing: {}",
                    a["name"].as_str().unwrap_or("")
                ),
                CTL,
            );
        }
        let spec = cj.get("spec").cloned().unwrap_or(json!({}));
        let suspended = spec["suspend"] == true;
        let schedule = spec["schedule"].as_str().unwrap_or("");
        let parsed = crate::cron::parse_standard(schedule);
        if !terminating(&cj)
            && !suspended
            && let Ok(sched) = parsed
        {
            let zone_name = spec["timeZone"]
                .as_str()
                .map(String::from)
                .or_else(|| sched.zone.clone());
            let zone = zone_name
                .as_deref()
                .map(crate::cron::Zone::load)
                .unwrap_or_else(|| Ok(crate::cron::Zone::utc()))
                .unwrap_or_default();
            let seen = *p.mem.cron_seen.entry(uid.clone()).or_insert(now_v);
            let mut earliest = get_str(&status, &["lastScheduleTime"])
                .and_then(unix_of)
                .unwrap_or(seen);
            let deadline = spec["startingDeadlineSeconds"].as_i64();
            if let Some(d) = deadline {
                earliest = earliest.max(now_v - d);
            }
            let mut most_recent = None;
            let mut next = sched.next(earliest, &zone);
            let mut missed = 0;
            while let Some(t) = next
                && t <= now_v
                && missed < 1000
            {
                most_recent = Some(t);
                missed += 1;
                next = sched.next(t, &zone);
            }
            if let Some(t) = next {
                let at = p
                    .shared
                    .settings
                    .read()
                    .expect("settings")
                    .real_instant_of(t);
                p.due(at);
            }
            if let Some(t) = most_recent {
                let job_name = format!("{cname}-{}", t.div_euclid(60));
                let noted = p.mem.cron_noted.get(&uid) == Some(&t);
                let done = active.iter().any(|a| a["name"] == job_name.as_str())
                    || get_str(&status, &["lastScheduleTime"]).and_then(unix_of) == Some(t);
                let policy = spec["concurrencyPolicy"].as_str().unwrap_or("Allow");
                if deadline.is_some_and(|d| t + d < now_v) {
                    if !noted {
                        p.mem.cron_noted.insert(uid.clone(), t);
                        let when = crate::cron::rfc3339_in(t, 0);
                        record(
                            p.store,
                            &cj,
                            "Warning",
                            "MissSchedule",
                            &format!("Missed scheduled time to start a job: {when}"),
                            CTL,
                        );
                    }
                } else if done {
                } else if policy == "Forbid" && !active.is_empty() {
                    if !noted {
                        p.mem.cron_noted.insert(uid.clone(), t);
                        record(
                            p.store,
                            &cj,
                            "Normal",
                            "JobAlreadyActive",
                            "Not starting job because prior execution is running and concurrency policy is Forbid",
                            CTL,
                        );
                    }
                } else {
                    if policy == "Replace" {
                        for a in std::mem::take(&mut active) {
                            let n = a["name"].as_str().unwrap_or("").to_string();
                            let d = DeleteOpts {
                                propagation: Some("Background".into()),
                                ..Default::default()
                            };
                            if api::delete(p.store, rt("jobs"), &ns, &n, &d).is_ok() {
                                record(
                                    p.store,
                                    &cj,
                                    "Normal",
                                    "SuccessfulDelete",
                                    &format!("Deleted job {n}"),
                                    CTL,
                                );
                            } else {
                                active.push(a);
                            }
                        }
                    }
                    let tmpl = spec.get("jobTemplate").cloned().unwrap_or(json!({}));
                    let mut meta = json!({"name": job_name,
                        "labels": tmpl.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                        "annotations": tmpl.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
                        "ownerReferences": [owner_ref(&cj)]});
                    meta["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] =
                        json!(crate::cron::rfc3339_in(t, zone.offset_at(t)));
                    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                        "spec": tmpl.get("spec").cloned().unwrap_or(json!({}))});
                    match api::create(p.store, rt("jobs"), &ns, job, &WriteOpts::manager(KCM)) {
                        Ok(created) => {
                            record(
                                p.store,
                                &cj,
                                "Normal",
                                "SuccessfulCreate",
                                &format!("Created job {job_name}"),
                                CTL,
                            );
                            active.push(job_ref(&created));
                            status["lastScheduleTime"] = json!(crate::cron::rfc3339_in(t, 0));
                        }
                        Err(e) if e.reason == "AlreadyExists" => {
                            if let Some(j) = get(p.store, "jobs", &ns, &job_name)
                                && owned_by(&j, &uid)
                                && !active.iter().any(|a| a["uid"] == util::uid_of(&j))
                            {
                                active.push(job_ref(&j));
                                status["lastScheduleTime"] = json!(crate::cron::rfc3339_in(t, 0));
                            }
                        }
                        Err(e) => {
                            if !noted {
                                p.mem.cron_noted.insert(uid.clone(), t);
                                record(
                                    p.store,
                                    &cj,
                                    "Warning",
                                    "FailedCreate",
                                    &format!("Error creating job: {}", e.message),
                                    CTL,
                                );
                            }
                        }
                    }
                }
            }
        }
        // History limits: the oldest finished Jobs beyond them are deleted.
        for (cond, key) in [
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ] {
            let Some(limit) = spec[key].as_i64() else {
                continue;
            };
            let mut done: Vec<&Value> = jobs
                .iter()
                .filter(|j| job_finished(j) == Some(cond) && !terminating(j))
                .collect();
            if done.len() as i64 <= limit {
                continue;
            }
            done.sort_by_key(|j| {
                (
                    get_str(j, &["status", "startTime"])
                        .unwrap_or("")
                        .to_string(),
                    util::name_of(j).to_string(),
                )
            });
            let n = done.len() - limit.max(0) as usize;
            let names: Vec<String> = done[..n]
                .iter()
                .map(|j| util::name_of(j).to_string())
                .collect();
            for jn in names {
                let d = DeleteOpts {
                    propagation: Some("Background".into()),
                    ..Default::default()
                };
                if api::delete(p.store, rt("jobs"), &ns, &jn, &d).is_ok() {
                    record(
                        p.store,
                        &cj,
                        "Normal",
                        "SuccessfulDelete",
                        &format!("Deleted job {jn}"),
                        CTL,
                    );
                }
            }
        }
        if active.is_empty() {
            status.as_object_mut().map(|m| m.shift_remove("active"));
        } else {
            status["active"] = json!(active);
        }
        if let Some(cur) = get(p.store, "cronjobs", &ns, &cname) {
            write_status(p.store, rt("cronjobs"), &cur, status);
        }
    }
}

/// PodDisruptionBudget status from the pods its selector picks.
fn disruption_budgets(p: &mut Pass) {
    let list: Vec<Value> = p
        .store
        .list(rt("poddisruptionbudgets"), None)
        .into_iter()
        .cloned()
        .collect();
    for b in list {
        let ns = util::namespace_of(&b).to_string();
        let sel = crate::selectors::LabelSelector::from_object(b.pointer("/spec/selector"))
            .unwrap_or_default();
        let pods: Vec<Value> = p
            .store
            .list(rt("pods"), Some(&ns))
            .into_iter()
            .filter(|x| !terminating(x) && !matches!(pod_phase(x), "Succeeded" | "Failed"))
            .filter(|x| sel.matches(&util::labels_of(x)))
            .cloned()
            .collect();
        let expected = pods.len() as i64;
        let healthy = pods.iter().filter(|x| pod_ready(x)).count() as i64;
        let desired = match (
            b.pointer("/spec/minAvailable"),
            b.pointer("/spec/maxUnavailable"),
        ) {
            (Some(m), _) => pct(Some(m), expected, true),
            (None, Some(m)) => (expected - pct(Some(m), expected, true)).max(0),
            (None, None) => expected,
        };
        let allowed = (healthy - desired).max(0);
        let mut conds = conditions_of(&b);
        let (status, reason, msg) = if allowed > 0 {
            ("True", "SufficientPods", "")
        } else {
            ("False", "InsufficientPods", "")
        };
        condition(&mut conds, "DisruptionAllowed", status, reason, msg, false);
        for c in conds.iter_mut() {
            c["observedGeneration"] = b
                .pointer("/metadata/generation")
                .cloned()
                .unwrap_or(json!(1));
        }
        let st = json!({
            "observedGeneration": b.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "disruptionsAllowed": allowed, "currentHealthy": healthy,
            "desiredHealthy": desired, "expectedPods": expected, "conditions": conds,
        });
        write_status(p.store, rt("poddisruptionbudgets"), &b, st);
    }
}

/// The controller loop.
pub async fn run(shared: Arc<Shared>) {
    let changed = shared.store.lock().expect("store").changed.clone();
    let mut stop = shared.shutdown.clone();
    let mut kubelet = Kubelet::default();
    let mut mem = Memory::default();
    loop {
        let next = {
            let mut store = shared.store.lock().expect("store");
            let mut next: Option<Instant> = None;
            for _ in 0..10 {
                let before = store.resource_version();
                let mut pass = Pass {
                    store: &mut store,
                    shared: &shared,
                    mem: &mut mem,
                    now: Instant::now(),
                    next: None,
                };
                namespace_defaults(pass.store);
                garbage_collect(pass.store);
                bind_pvcs(pass.store);
                deployments(&mut pass);
                replicasets(&mut pass);
                statefulsets(&mut pass);
                cronjobs(&mut pass);
                jobs(&mut pass);
                disruption_budgets(&mut pass);
                let pn = pass.next;
                namespace_teardown(&mut store, &mut kubelet);
                let kn = kubelet.sync(&mut store, &shared);
                for t in [pn, kn].into_iter().flatten() {
                    next = Some(next.map_or(t, |n: Instant| n.min(t)));
                }
                if store.resource_version() == before {
                    break;
                }
            }
            // Forget what belongs to deleted objects.
            mem.progress.retain(|u, _| store.uid_exists(u));
            mem.jobs.retain(|u, _| store.uid_exists(u));
            mem.create_retry.retain(|u, _| store.uid_exists(u));
            mem.cron_seen.retain(|u, _| store.uid_exists(u));
            mem.cron_noted.retain(|u, _| store.uid_exists(u));
            next
        };
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = changed.notified() => {}
            _ = sleep => {}
            _ = stop.changed() => return,
        }
    }
}
