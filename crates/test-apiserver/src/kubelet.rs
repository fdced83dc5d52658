//! The scheduler and a scripted kubelet for the one node: pods are scheduled when they
//! fit, start only when what they reference exists, and then live the life the
//! scenario gives each container. Container logs are kept here and served from
//! `pods/log`.

use crate::api::{self, WriteOpts};
use crate::error::ApiError;
use crate::resources::by_plural;
use crate::scenario::{Behavior, Pull, parse_quantity};
use crate::server::{Body, Ctx, stream_response, text_response};
use crate::store::Store;
use crate::util::{self, get_str, rfc3339};
use bytes::Bytes;
use hyper::Response;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

pub const NODE: &str = "test-node";
const HOST_IP: &str = "10.0.0.10";

// ---------------------------------------------------------------- logs

#[derive(Default)]
struct Run {
    lines: Vec<(SystemTime, String)>,
    finished: bool,
}

/// Container logs: one list of runs per (namespace, pod, container).
pub struct Logs {
    runs: Mutex<HashMap<(String, String, String), Vec<Run>>>,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for Logs {
    fn default() -> Self {
        Self {
            runs: Mutex::new(HashMap::new()),
            changed: tokio::sync::watch::channel(0).0,
        }
    }
}

impl Logs {
    fn key(ns: &str, pod: &str, c: &str) -> (String, String, String) {
        (ns.into(), pod.into(), c.into())
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    fn start_run(&self, ns: &str, pod: &str, c: &str) {
        let mut runs = self.runs.lock().expect("logs");
        let e = runs.entry(Self::key(ns, pod, c)).or_default();
        if let Some(last) = e.last_mut() {
            last.finished = true;
        }
        e.push(Run::default());
        drop(runs);
        self.bump();
    }

    fn append(&self, ns: &str, pod: &str, c: &str, line: &str) {
        let mut runs = self.runs.lock().expect("logs");
        if let Some(run) = runs
            .get_mut(&Self::key(ns, pod, c))
            .and_then(|r| r.last_mut())
        {
            run.lines.push((SystemTime::now(), line.to_string()));
        }
        drop(runs);
        self.bump();
    }

    fn finish(&self, ns: &str, pod: &str, c: &str) {
        let mut runs = self.runs.lock().expect("logs");
        if let Some(run) = runs
            .get_mut(&Self::key(ns, pod, c))
            .and_then(|r| r.last_mut())
        {
            run.finished = true;
        }
        drop(runs);
        self.bump();
    }

    fn forget_pod(&self, ns: &str, pod: &str) {
        let mut runs = self.runs.lock().expect("logs");
        runs.retain(|(n, p, _), _| !(n == ns && p == pod));
        drop(runs);
        self.bump();
    }

    /// Lines of the current (or previous) run from index `from`, and whether it ended.
    fn read(
        &self,
        ns: &str,
        pod: &str,
        c: &str,
        previous: bool,
        from: usize,
    ) -> Option<(Vec<(SystemTime, String)>, bool)> {
        let runs = self.runs.lock().expect("logs");
        let r = runs.get(&Self::key(ns, pod, c))?;
        // While a container waits to restart its last run is the one to show, for
        // `--previous` as well.
        let run = if previous {
            match r.last() {
                Some(last) if last.finished => last,
                _ => r.len().checked_sub(2).and_then(|i| r.get(i))?,
            }
        } else {
            r.last()?
        };
        Some((
            run.lines.iter().skip(from).cloned().collect(),
            run.finished || previous,
        ))
    }
}

/// GET pods/{name}/log.
pub(crate) async fn serve_log(ctx: &Ctx, ns: &str, name: &str) -> Result<Response<Body>, ApiError> {
    let q = |k: &str| {
        ctx.query
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
    };
    let pods = by_plural("pods").expect("pods");
    let pod = {
        let store = ctx.shared.store.lock().expect("store");
        api::get(&store, pods, ns, name)?
    };
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let inits: Vec<String> = pod
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let container = match q("container") {
        Some(c) => {
            if !names.contains(&c) && !inits.contains(&c) {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            c
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let previous = q("previous").as_deref() == Some("true");
    let follow = q("follow").as_deref() == Some("true") && !previous;
    let timestamps = q("timestamps").as_deref() == Some("true");
    let tail: Option<usize> = q("tailLines").and_then(|t| t.parse().ok());
    let since: Option<u64> = q("sinceSeconds").and_then(|t| t.parse().ok());
    let logs = &ctx.shared.logs;
    let Some((lines, finished)) = logs.read(ns, name, &container, previous, 0) else {
        if previous {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
        let status = ["/status/containerStatuses", "/status/initContainerStatuses"]
            .iter()
            .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
            .flatten()
            .find(|c| c["name"] == container.as_str())
            .and_then(|c| c.pointer("/state/waiting/reason"))
            .and_then(Value::as_str)
            .unwrap_or("ContainerCreating")
            .to_string();
        let why = match status.as_str() {
            "ErrImagePull" | "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {why}"
        )));
    };
    let fmt = move |(t, l): &(SystemTime, String)| -> String {
        if timestamps {
            format!("{} {l}\n", util::rfc3339_nanos(*t))
        } else {
            format!("{l}\n")
        }
    };
    let cutoff = since.map(|s| SystemTime::now() - Duration::from_secs(s));
    let mut selected: Vec<&(SystemTime, String)> = lines
        .iter()
        .filter(|(t, _)| cutoff.is_none_or(|c| *t >= c))
        .collect();
    if let Some(n) = tail {
        let skip = selected.len().saturating_sub(n);
        selected.drain(..skip);
    }
    let body: String = selected.iter().map(|l| fmt(l)).collect();
    if !follow || finished {
        return Ok(text_response(200, "text/plain", body));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let shared = ctx.shared.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    let mut seen = lines.len();
    let mut changes = shared.logs.changed.subscribe();
    let mut stop = shared.shutdown.clone();
    tokio::spawn(async move {
        if !body.is_empty() && tx.send(Bytes::from(body)).await.is_err() {
            return;
        }
        loop {
            let Some((more, finished)) = shared.logs.read(&ns, &name, &container, false, seen)
            else {
                return;
            };
            seen += more.len();
            for l in &more {
                if tx.send(Bytes::from(fmt(l))).await.is_err() {
                    return;
                }
            }
            if finished {
                return;
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                _ = stop.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(stream_response(rx, "text/plain"))
}

// ---------------------------------------------------------------- containers

#[derive(Debug, Clone)]
enum State {
    /// Not started: checks pending (config, image).
    Pending,
    PullFailing {
        since: Instant,
        backoff: bool,
        attempt: u32,
    },
    ConfigError {
        message: String,
    },
    Running {
        since: Instant,
        wall: SystemTime,
    },
    Terminated {
        code: i32,
        reason: &'static str,
        started: SystemTime,
        finished: SystemTime,
        at: Instant,
    },
    CrashBackOff {
        until: Instant,
        secs: u64,
    },
}

#[derive(Debug, Clone)]
struct Container {
    name: String,
    image: String,
    init: bool,
    /// The scenario rule, with its per-attempt lives.
    rule: Behavior,
    /// Which attempt the pod is (a Job's Nth pod; 1 otherwise).
    pod_attempt: u32,
    /// The life of the current run: `rule` for attempt `pod_attempt + restarts`.
    behavior: Behavior,
    state: State,
    restarts: u32,
    last: Option<Value>,
    id: String,
    /// Job containers and init containers run to completion by default.
    runs_to_completion: bool,
}

impl Container {
    fn ready_after(&self) -> f64 {
        self.behavior.ready_after_seconds.unwrap_or(1.0)
    }

    /// When the current run exits (seconds from start), with exit code and reason.
    fn exit_plan(&self) -> Option<(f64, i32, &'static str)> {
        let b = &self.behavior;
        if let Some(c) = &b.crash {
            let code = c.exit_code.unwrap_or(1);
            let reason = if b.oom_killed == Some(true) {
                "OOMKilled"
            } else {
                reason_of(code)
            };
            return Some((c.after_seconds.unwrap_or(1.0), code, reason));
        }
        if b.oom_killed == Some(true) {
            return Some((b.run_seconds.unwrap_or(1.0), 137, "OOMKilled"));
        }
        if b.exit_code.is_some() || self.runs_to_completion {
            let code = b.exit_code.unwrap_or(0);
            return Some((b.run_seconds.unwrap_or(1.0), code, reason_of(code)));
        }
        None
    }

    fn log_lines(&self) -> Vec<String> {
        if let Some(c) = &self.behavior.crash
            && !c.logs.is_empty()
        {
            return c.logs.clone();
        }
        match &self.behavior.logs {
            Some(l) => l.clone(),
            None if self.runs_to_completion => {
                vec![format!("{}: running {}", self.name, self.image)]
            }
            None => vec![format!("{}: started {}", self.name, self.image)],
        }
    }

    fn is_ready(&self, now: Instant, scale: &dyn Fn(f64) -> Duration) -> bool {
        match &self.state {
            State::Running { since, .. } => {
                !self.init
                    && self.behavior.never_ready != Some(true)
                    && now >= *since + scale(self.ready_after())
            }
            _ => false,
        }
    }
}

fn reason_of(code: i32) -> &'static str {
    if code == 0 { "Completed" } else { "Error" }
}

struct PodRun {
    namespace: String,
    name: String,
    containers: Vec<Container>,
    start_wall: SystemTime,
    ip: String,
    mounted: bool,
    deleting_since: Option<Instant>,
}

/// The kubelet's memory of the pods it runs, keyed by pod uid.
#[derive(Default)]
pub struct Kubelet {
    pods: HashMap<String, PodRun>,
    next_ip: u32,
    /// Job uid → pods of it started so far (a pod's attempt number).
    job_pods: HashMap<String, u32>,
}

fn secret_or_cm(
    store: &Store,
    kind: &str,
    ns: &str,
    name: &str,
    key: Option<&str>,
    optional: bool,
) -> Option<String> {
    let (plural, what, title) = if kind == "secret" {
        ("secrets", "secret", "Secret")
    } else {
        ("configmaps", "configmap", "ConfigMap")
    };
    let rt = by_plural(plural).expect("known");
    match store.get(rt, ns, name) {
        None if optional => None,
        None => Some(format!("{what} \"{name}\" not found")),
        Some(obj) => {
            let key = key?;
            let has = ["data", "binaryData"]
                .iter()
                .any(|f| obj.get(*f).and_then(|d| d.get(key)).is_some());
            (!has && !optional).then(|| format!("couldn't find key {key} in {title} {ns}/{name}"))
        }
    }
}

/// The first problem with the env of a container, as the kubelet words it.
fn config_error(store: &Store, ns: &str, c: &Value) -> Option<String> {
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        for (field, kind) in [("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")] {
            if let Some(r) = e.pointer(&format!("/valueFrom/{field}")) {
                let name = r["name"].as_str().unwrap_or("");
                let key = r["key"].as_str().unwrap_or("");
                let optional = r["optional"].as_bool().unwrap_or(false);
                if let Some(m) = secret_or_cm(store, kind, ns, name, Some(key), optional) {
                    return Some(m);
                }
            }
        }
    }
    for e in c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (field, kind) in [("secretRef", "secret"), ("configMapRef", "configmap")] {
            if let Some(r) = e.get(field) {
                let name = r["name"].as_str().unwrap_or("");
                let optional = r["optional"].as_bool().unwrap_or(false);
                if let Some(m) = secret_or_cm(store, kind, ns, name, None, optional) {
                    return Some(m);
                }
            }
        }
    }
    None
}

/// The first volume that cannot be mounted: (volume name, message).
fn mount_error(store: &Store, ns: &str, pod: &Value) -> Option<(String, String)> {
    for v in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let vname = v["name"].as_str().unwrap_or("").to_string();
        if let Some(s) = v.get("secret") {
            let name = s["secretName"].as_str().unwrap_or("");
            let optional = s["optional"].as_bool().unwrap_or(false);
            if let Some(m) = secret_or_cm(store, "secret", ns, name, None, optional) {
                return Some((vname, m));
            }
            for item in s
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = item["key"].as_str().unwrap_or("");
                if let Some(m) = secret_or_cm(store, "secret", ns, name, Some(key), optional) {
                    return Some((vname, m));
                }
            }
        }
        if let Some(s) = v.get("configMap") {
            let name = s["name"].as_str().unwrap_or("");
            let optional = s["optional"].as_bool().unwrap_or(false);
            if let Some(m) = secret_or_cm(store, "configmap", ns, name, None, optional) {
                return Some((vname, m));
            }
        }
    }
    None
}

fn requests(pod: &Value) -> (f64, f64) {
    let sum = |list: &str| -> (f64, f64) {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .fold((0.0, 0.0), |(c, m), ct| {
                let r = ct.pointer("/resources/requests");
                let g = |k: &str| {
                    r.and_then(|r| r.get(k))
                        .and_then(|q| match q {
                            Value::String(s) => parse_quantity(s),
                            Value::Number(n) => n.as_f64(),
                            _ => None,
                        })
                        .unwrap_or(0.0)
                };
                (c + g("cpu"), m + g("memory"))
            })
    };
    let (c, m) = sum("containers");
    let (ic, im) = sum("initContainers");
    (c.max(ic), m.max(im))
}

fn is_finished(p: &Value) -> bool {
    matches!(
        get_str(p, &["status", "phase"]),
        Some("Succeeded") | Some("Failed")
    )
}

fn set_condition(
    conds: &mut Vec<Value>,
    ty: &str,
    status: bool,
    reason: Option<&str>,
    msg: Option<&str>,
) {
    let s = if status { "True" } else { "False" };
    let now = util::now();
    match conds.iter_mut().find(|c| c["type"] == ty) {
        Some(c) => {
            if c["status"] != s {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(s);
            let m = c.as_object_mut().expect("object");
            match reason {
                Some(r) => m.insert("reason".into(), json!(r)),
                None => m.shift_remove("reason"),
            };
            match msg {
                Some(r) => m.insert("message".into(), json!(r)),
                None => m.shift_remove("message"),
            };
        }
        None => {
            let mut c =
                json!({"type": ty, "status": s, "lastProbeTime": null, "lastTransitionTime": now});
            if let Some(r) = reason {
                c["reason"] = json!(r);
            }
            if let Some(m) = msg {
                c["message"] = json!(m);
            }
            conds.push(c);
        }
    }
}

impl Kubelet {
    /// One pass over all pods. Returns the earliest time something is due.
    pub fn sync(&mut self, store: &mut Store, shared: &crate::Shared) -> Option<Instant> {
        let pods_rt = by_plural("pods").expect("pods");
        let (scale, scenario) = {
            let s = shared.settings.read().expect("settings");
            (s.time_scale, s.scenario.clone())
        };
        let sc = move |secs: f64| Duration::from_secs_f64((secs * scale).max(0.0));
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut due = |t: Instant| {
            next = Some(next.map_or(t, |n: Instant| n.min(t)));
        };
        self.job_pods.retain(|u, _| store.uid_exists(u));
        let pods: Vec<Value> = store.list(pods_rt, None).into_iter().cloned().collect();
        let live: std::collections::HashSet<String> =
            pods.iter().map(|p| util::uid_of(p).to_string()).collect();
        let gone: Vec<String> = self
            .pods
            .keys()
            .filter(|u| !live.contains(*u))
            .cloned()
            .collect();
        for u in gone {
            if let Some(run) = self.pods.remove(&u) {
                shared.logs.forget_pod(&run.namespace, &run.name);
            }
        }
        let node_cpu = parse_quantity(&scenario.node.cpu).unwrap_or(4.0);
        let node_mem = parse_quantity(&scenario.node.memory).unwrap_or(8.0 * 1024f64.powi(3));
        // Requests of pods already on the node.
        let (mut used_cpu, mut used_mem) = pods
            .iter()
            .filter(|p| p.pointer("/spec/nodeName").is_some() && !is_finished(p))
            .map(requests)
            .fold((0.0, 0.0), |(a, b), (c, m)| (a + c, b + m));

        for pod in pods {
            let ns = util::namespace_of(&pod).to_string();
            let name = util::name_of(&pod).to_string();
            let uid = util::uid_of(&pod).to_string();

            // Deletion: stop containers, then remove the pod.
            if pod.pointer("/metadata/deletionTimestamp").is_some() {
                let grace = pod
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(30)
                    .clamp(0, 1) as f64;
                let run = self.pods.get_mut(&uid);
                let since = match run {
                    Some(r) => *r.deleting_since.get_or_insert(now),
                    None => now,
                };
                let at = since + sc(grace);
                if now >= at || pod.pointer("/spec/nodeName").is_none() {
                    if let Some(r) = self.pods.get(&uid) {
                        for c in &r.containers {
                            shared.logs.finish(&ns, &name, &c.name);
                        }
                    }
                    store.remove(pods_rt, &ns, &name);
                    self.pods.remove(&uid);
                    shared.logs.forget_pod(&ns, &name);
                    record(
                        store,
                        &pod,
                        "Normal",
                        "Killing",
                        "Stopping container",
                        "kubelet",
                    );
                } else {
                    due(at);
                }
                continue;
            }
            if is_finished(&pod) && !self.pods.contains_key(&uid) {
                continue;
            }

            // Scheduling.
            if pod.pointer("/spec/nodeName").is_none() {
                let (cpu, mem) = requests(&pod);
                let mut problem: Option<String> = None;
                for v in pod
                    .pointer("/spec/volumes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(claim) = v
                        .pointer("/persistentVolumeClaim/claimName")
                        .and_then(Value::as_str)
                    {
                        let pvc_rt = by_plural("persistentvolumeclaims").expect("pvc");
                        match store.get(pvc_rt, &ns, claim) {
                            None => {
                                problem = Some(format!(
                                    "0/1 nodes are available: persistentvolumeclaim \"{claim}\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
                                ));
                            }
                            Some(p) if get_str(p, &["status", "phase"]) != Some("Bound") => {
                                problem = Some("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.".into());
                            }
                            _ => {}
                        }
                    }
                }
                if problem.is_none() {
                    let mut short = Vec::new();
                    if used_cpu + cpu > node_cpu + 1e-9 {
                        short.push("1 Insufficient cpu");
                    }
                    if used_mem + mem > node_mem + 1e-9 {
                        short.push("1 Insufficient memory");
                    }
                    if !short.is_empty() {
                        problem = Some(format!(
                            "0/1 nodes are available: {}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
                            short.join(", ")
                        ));
                    }
                }
                let mut new = pod.clone();
                let mut conds: Vec<Value> = new
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                match problem {
                    Some(msg) => {
                        let already = conds
                            .iter()
                            .any(|c| c["type"] == "PodScheduled" && c["message"] == msg.as_str());
                        set_condition(
                            &mut conds,
                            "PodScheduled",
                            false,
                            Some("Unschedulable"),
                            Some(&msg),
                        );
                        new["status"]["conditions"] = json!(conds);
                        let _ = api::update(
                            store,
                            pods_rt,
                            &ns,
                            &name,
                            new,
                            &WriteOpts::status("kube-scheduler"),
                        );
                        if !already {
                            record(
                                store,
                                &pod,
                                "Warning",
                                "FailedScheduling",
                                &msg,
                                "default-scheduler",
                            );
                        }
                    }
                    None => {
                        used_cpu += cpu;
                        used_mem += mem;
                        new["spec"]["nodeName"] = json!(NODE);
                        if let Ok(stored) = api::update(
                            store,
                            pods_rt,
                            &ns,
                            &name,
                            new,
                            &WriteOpts::manager("kube-scheduler"),
                        ) {
                            let mut st = stored.clone();
                            let mut conds = conds.clone();
                            set_condition(&mut conds, "PodScheduled", true, None, None);
                            st["status"]["conditions"] = json!(conds);
                            let _ = api::update(
                                store,
                                pods_rt,
                                &ns,
                                &name,
                                st,
                                &WriteOpts::status("kube-scheduler"),
                            );
                            record(
                                store,
                                &pod,
                                "Normal",
                                "Scheduled",
                                &format!("Successfully assigned {ns}/{name} to {NODE}"),
                                "default-scheduler",
                            );
                        }
                    }
                }
                continue;
            }

            // The kubelet proper.
            let labels = util::labels_of(&pod);
            let is_job = pod
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|o| o["kind"] == "Job"));
            let restart_policy = get_str(&pod, &["spec", "restartPolicy"])
                .unwrap_or("Always")
                .to_string();
            if !self.pods.contains_key(&uid) {
                self.next_ip += 1;
                let ip = format!(
                    "10.244.{}.{}",
                    (self.next_ip / 250) % 250,
                    self.next_ip % 250 + 2
                );
                let pod_attempt = match pod
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .and_then(|r| r.iter().find(|o| o["kind"] == "Job"))
                    .and_then(|o| o["uid"].as_str())
                {
                    Some(job) => {
                        let n = self.job_pods.entry(job.to_string()).or_insert(0);
                        *n += 1;
                        *n
                    }
                    None => 1,
                };
                let mut containers = Vec::new();
                for (list, init) in [("initContainers", true), ("containers", false)] {
                    for c in pod
                        .pointer(&format!("/spec/{list}"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let cname = c["name"].as_str().unwrap_or("").to_string();
                        let image = c["image"].as_str().unwrap_or("").to_string();
                        let rule = scenario.behavior_for(&labels, &cname, &image);
                        containers.push(Container {
                            behavior: rule.for_attempt(pod_attempt),
                            rule,
                            pod_attempt,
                            name: cname,
                            image,
                            init,
                            state: State::Pending,
                            restarts: 0,
                            last: None,
                            id: String::new(),
                            runs_to_completion: init || is_job,
                        });
                    }
                }
                self.pods.insert(
                    uid.clone(),
                    PodRun {
                        namespace: ns.clone(),
                        name: name.clone(),
                        containers,
                        start_wall: SystemTime::now(),
                        ip,
                        mounted: false,
                        deleting_since: None,
                    },
                );
            }
            let run = self.pods.get_mut(&uid).expect("run");
            let mut events: Vec<(&'static str, &'static str, String)> = Vec::new();

            if !run.mounted {
                match mount_error(store, &ns, &pod) {
                    Some((vol, msg)) => {
                        let text = format!("MountVolume.SetUp failed for volume \"{vol}\" : {msg}");
                        let already = store
                            .events_about(&uid)
                            .iter()
                            .any(|e| e["message"] == text.as_str());
                        if !already {
                            events.push(("Warning", "FailedMount", text));
                        }
                    }
                    None => run.mounted = true,
                }
            }

            // Advance containers: init containers in order, then the rest together.
            let mut init_ok = true;
            let n = run.containers.len();
            // Containers that cannot start yet because an init container before them
            // has not completed.
            let mut blocked = vec![false; n];
            for i in 0..n {
                if !run.mounted {
                    break;
                }
                if !init_ok {
                    blocked[i..].iter_mut().for_each(|b| *b = true);
                    break;
                }
                let c = &mut run.containers[i];
                let spec_c = pod
                    .pointer(if c.init {
                        "/spec/initContainers"
                    } else {
                        "/spec/containers"
                    })
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|x| x["name"] == c.name.as_str()))
                    .cloned()
                    .unwrap_or(Value::Null);
                // Loop to apply several due transitions at once.
                for _ in 0..8 {
                    match c.state.clone() {
                        State::Pending | State::ConfigError { .. } => {
                            if c.behavior.pull == Some(Pull::Fail) {
                                c.state = State::PullFailing {
                                    since: now,
                                    backoff: false,
                                    attempt: 0,
                                };
                                events.push((
                                    "Normal",
                                    "Pulling",
                                    format!("Pulling image \"{}\"", c.image),
                                ));
                                events.push((
                                    "Warning",
                                    "Failed",
                                    format!(
                                        "Failed to pull image \"{}\": {}",
                                        c.image,
                                        pull_error(&c.image)
                                    ),
                                ));
                                events.push(("Warning", "Failed", "Error: ErrImagePull".into()));
                                continue;
                            }
                            if let Some(msg) = config_error(store, &ns, &spec_c) {
                                if !matches!(&c.state, State::ConfigError { message } if *message == msg)
                                {
                                    events.push(("Warning", "Failed", format!("Error: {msg}")));
                                }
                                c.state = State::ConfigError { message: msg };
                                break;
                            }
                            if c.restarts == 0 && c.id.is_empty() {
                                events.push((
                                    "Normal",
                                    "Pulled",
                                    format!(
                                        "Container image \"{}\" already present on machine",
                                        c.image
                                    ),
                                ));
                            }
                            c.id = format!(
                                "containerd://{}",
                                util::hex64(&json!([uid, c.name, c.restarts]))
                            );
                            events.push((
                                "Normal",
                                "Created",
                                format!("Created container: {}", c.name),
                            ));
                            events.push((
                                "Normal",
                                "Started",
                                format!("Started container {}", c.name),
                            ));
                            c.behavior = c.rule.for_attempt(c.pod_attempt + c.restarts);
                            shared.logs.start_run(&ns, &name, &c.name);
                            for l in c.log_lines() {
                                shared.logs.append(&ns, &name, &c.name, &l);
                            }
                            c.state = State::Running {
                                since: now,
                                wall: SystemTime::now(),
                            };
                        }
                        State::PullFailing {
                            since,
                            backoff,
                            attempt,
                        } => {
                            let secs = if backoff {
                                (10u64 << attempt.min(5)).min(300) as f64
                            } else {
                                1.0
                            };
                            let at = since + sc(secs);
                            if now < at {
                                due(at);
                                break;
                            }
                            if backoff {
                                events.push((
                                    "Warning",
                                    "Failed",
                                    format!(
                                        "Failed to pull image \"{}\": {}",
                                        c.image,
                                        pull_error(&c.image)
                                    ),
                                ));
                                events.push(("Warning", "Failed", "Error: ErrImagePull".into()));
                                c.state = State::PullFailing {
                                    since: at,
                                    backoff: false,
                                    attempt: attempt + 1,
                                };
                            } else {
                                events.push((
                                    "Normal",
                                    "BackOff",
                                    format!("Back-off pulling image \"{}\"", c.image),
                                ));
                                events.push((
                                    "Warning",
                                    "Failed",
                                    "Error: ImagePullBackOff".into(),
                                ));
                                c.state = State::PullFailing {
                                    since: at,
                                    backoff: true,
                                    attempt,
                                };
                            }
                        }
                        State::Running { since, wall } => {
                            if let Some((secs, code, reason)) = c.exit_plan() {
                                let at = since + sc(secs);
                                if now < at {
                                    due(at);
                                    break;
                                }
                                shared.logs.finish(&ns, &name, &c.name);
                                c.state = State::Terminated {
                                    code,
                                    reason,
                                    started: wall,
                                    finished: SystemTime::now(),
                                    at,
                                };
                                continue;
                            }
                            if !c.init && c.behavior.never_ready != Some(true) {
                                let ready_at = since + sc(c.ready_after());
                                if now < ready_at {
                                    due(ready_at);
                                }
                            }
                            break;
                        }
                        State::Terminated {
                            code,
                            reason,
                            started,
                            finished,
                            at,
                        } => {
                            let restart = match restart_policy.as_str() {
                                "Always" => !c.init || code != 0,
                                "OnFailure" => code != 0,
                                _ => false,
                            };
                            if !restart {
                                break;
                            }
                            let secs = (10u64 << c.restarts.min(5)).min(300);
                            c.last = Some(json!({"terminated": {
                                "exitCode": code, "reason": reason,
                                "startedAt": rfc3339(started), "finishedAt": rfc3339(finished),
                                "containerID": c.id}}));
                            events.push((
                                "Warning",
                                "BackOff",
                                "Back-off restarting failed container".into(),
                            ));
                            c.state = State::CrashBackOff {
                                until: at + sc(secs as f64),
                                secs,
                            };
                        }
                        State::CrashBackOff { until, .. } => {
                            if now < until {
                                due(until);
                                break;
                            }
                            c.restarts += 1;
                            c.state = State::Pending;
                        }
                    }
                }
                if c.init {
                    init_ok &= matches!(c.state, State::Terminated { code: 0, .. });
                }
            }

            // Build the status.
            let ready_of = |c: &Container| c.is_ready(now, &sc);
            let idx_of = |c: &Container| {
                run.containers
                    .iter()
                    .position(|x| x.name == c.name && x.init == c.init)
                    .unwrap_or(0)
            };
            let status_of = |c: &Container| -> Value {
                let state = match &c.state {
                    State::Pending if !blocked[idx_of(c)] => {
                        json!({"waiting": {"reason": "ContainerCreating"}})
                    }
                    State::Pending => json!({"waiting": {"reason": "PodInitializing"}}),
                    State::PullFailing { backoff: false, .. } => {
                        json!({"waiting": {"reason": "ErrImagePull", "message": format!("rpc error: code = NotFound desc = {}", pull_error_inner(&c.image))}})
                    }
                    State::PullFailing { backoff: true, .. } => {
                        json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{}\": ErrImagePull: rpc error: code = NotFound desc = {}", c.image, pull_error_inner(&c.image))}})
                    }
                    State::ConfigError { message } => {
                        json!({"waiting": {"reason": "CreateContainerConfigError", "message": message}})
                    }
                    State::Running { wall, .. } => {
                        json!({"running": {"startedAt": rfc3339(*wall)}})
                    }
                    State::Terminated {
                        code,
                        reason,
                        started,
                        finished,
                        ..
                    } => json!({"terminated": {
                        "exitCode": code, "reason": reason, "startedAt": rfc3339(*started),
                        "finishedAt": rfc3339(*finished), "containerID": c.id}}),
                    State::CrashBackOff { secs, .. } => {
                        json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": format!("back-off {secs}s restarting failed container={} pod={name}_{ns}({uid})", c.name)}})
                    }
                };
                let mut s = json!({
                    "name": c.name,
                    "state": state,
                    "lastState": c.last.clone().unwrap_or(json!({})),
                    "ready": ready_of(c),
                    "restartCount": c.restarts,
                    "image": c.image,
                    "imageID": if c.id.is_empty() { String::new() } else { format!("docker.io/library/{}@sha256:{}", c.image.split(':').next().unwrap_or(""), util::hex64(&json!(c.image))) },
                    "started": matches!(c.state, State::Running { .. }),
                });
                if !c.id.is_empty() {
                    s["containerID"] = json!(c.id);
                }
                s
            };
            let inits: Vec<&Container> = run.containers.iter().filter(|c| c.init).collect();
            let mains: Vec<&Container> = run.containers.iter().filter(|c| !c.init).collect();
            let all_ready = mains.iter().all(|c| ready_of(c));
            let term = |c: &&Container| match c.state {
                State::Terminated { code, .. } => Some(code),
                _ => None,
            };
            let restarting = |c: &&Container| matches!(c.state, State::CrashBackOff { .. });
            let init_failed = inits
                .iter()
                .any(|c| term(c).is_some_and(|x| x != 0) && !restarting(c))
                && restart_policy == "Never";
            let mains_done = !mains.is_empty() && mains.iter().all(|c| term(c).is_some());
            let phase = if init_failed {
                "Failed"
            } else if mains_done {
                if mains.iter().all(|c| term(c) == Some(0)) {
                    "Succeeded"
                } else {
                    "Failed"
                }
            } else if init_ok
                && mains.iter().any(|c| {
                    matches!(c.state, State::Running { .. } | State::CrashBackOff { .. })
                        || term(c).is_some()
                })
            {
                "Running"
            } else {
                "Pending"
            };
            let mut new = pod.clone();
            let mut conds: Vec<Value> = pod
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            set_condition(
                &mut conds,
                "PodReadyToStartContainers",
                run.mounted && phase != "Succeeded" && phase != "Failed",
                None,
                None,
            );
            let incomplete: Vec<&str> = inits
                .iter()
                .filter(|c| term(c) != Some(0))
                .map(|c| c.name.as_str())
                .collect();
            if incomplete.is_empty() {
                set_condition(&mut conds, "Initialized", true, None, None);
            } else {
                let msg = format!(
                    "containers with incomplete status: [{}]",
                    incomplete.join(" ")
                );
                set_condition(
                    &mut conds,
                    "Initialized",
                    false,
                    Some("ContainersNotInitialized"),
                    Some(&msg),
                );
            }
            if phase == "Succeeded" || phase == "Failed" {
                set_condition(&mut conds, "Ready", false, Some("PodCompleted"), None);
                set_condition(
                    &mut conds,
                    "ContainersReady",
                    false,
                    Some("PodCompleted"),
                    None,
                );
            } else if all_ready {
                set_condition(&mut conds, "Ready", true, None, None);
                set_condition(&mut conds, "ContainersReady", true, None, None);
            } else {
                let unready: Vec<&str> = mains
                    .iter()
                    .filter(|c| !ready_of(c))
                    .map(|c| c.name.as_str())
                    .collect();
                let msg = format!("containers with unready status: [{}]", unready.join(" "));
                set_condition(
                    &mut conds,
                    "Ready",
                    false,
                    Some("ContainersNotReady"),
                    Some(&msg),
                );
                set_condition(
                    &mut conds,
                    "ContainersReady",
                    false,
                    Some("ContainersNotReady"),
                    Some(&msg),
                );
            }
            set_condition(&mut conds, "PodScheduled", true, None, None);
            let order = [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            ];
            conds.sort_by_key(|c| order.iter().position(|o| c["type"] == *o).unwrap_or(99));
            let mut status = Map::new();
            status.insert("phase".into(), json!(phase));
            status.insert("conditions".into(), json!(conds));
            status.insert("hostIP".into(), json!(HOST_IP));
            status.insert("hostIPs".into(), json!([{"ip": HOST_IP}]));
            if run.mounted {
                status.insert("podIP".into(), json!(run.ip));
                status.insert("podIPs".into(), json!([{"ip": run.ip}]));
            }
            status.insert("startTime".into(), json!(rfc3339(run.start_wall)));
            if !inits.is_empty() {
                status.insert(
                    "initContainerStatuses".into(),
                    json!(inits.iter().map(|c| status_of(c)).collect::<Vec<_>>()),
                );
            }
            status.insert(
                "containerStatuses".into(),
                json!(mains.iter().map(|c| status_of(c)).collect::<Vec<_>>()),
            );
            status.insert(
                "qosClass".into(),
                pod.pointer("/status/qosClass")
                    .cloned()
                    .unwrap_or(json!("BestEffort")),
            );
            new["status"] = Value::Object(status);
            if pod.get("status") != new.get("status") {
                let _ = api::update(
                    store,
                    pods_rt,
                    &ns,
                    &name,
                    new,
                    &WriteOpts::status("kubelet"),
                );
            }
            for (ty, reason, msg) in events {
                record(store, &pod, ty, reason, &msg, "kubelet");
            }
            if phase == "Succeeded" || phase == "Failed" {
                // Nothing more will happen to it; keep the run for its logs.
                continue;
            }
        }
        next
    }

    /// Force-remove every pod of a namespace being deleted.
    pub fn forget(&mut self, uid: &str) {
        self.pods.remove(uid);
    }
}

fn pull_error_inner(image: &str) -> String {
    let full = if image.contains('/') {
        image.to_string()
    } else {
        format!("docker.io/library/{image}")
    };
    format!(
        "failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
    )
}

fn pull_error(image: &str) -> String {
    format!(
        "rpc error: code = NotFound desc = {}",
        pull_error_inner(image)
    )
}

/// Record a core/v1 Event about `obj`, counting repeats like the real recorder.
pub fn record(
    store: &mut Store,
    obj: &Value,
    ty: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ev_rt = by_plural("events").expect("events");
    let ns = {
        let n = util::namespace_of(obj);
        if n.is_empty() { "default" } else { n }
    }
    .to_string();
    let uid = util::uid_of(obj).to_string();
    let now = util::now();
    let existing = store
        .events_about(&uid)
        .into_iter()
        .find(|e| util::namespace_of(e) == ns && e["reason"] == reason && e["message"] == message)
        .cloned();
    match existing {
        Some(mut e) => {
            let count = e["count"].as_i64().unwrap_or(1) + 1;
            e["count"] = json!(count);
            e["lastTimestamp"] = json!(now);
            store.put(ev_rt, e);
        }
        None => {
            let name = format!(
                "{}.{:016x}",
                util::name_of(obj),
                util::fnv(util::new_uid().as_bytes())
            );
            let involved = json!({
                "kind": obj["kind"], "namespace": util::namespace_of(obj), "name": util::name_of(obj),
                "uid": uid, "apiVersion": obj["apiVersion"],
                "resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!("")),
            });
            let ev = json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved,
                "reason": reason, "message": message, "type": ty,
                "source": {"component": component, "host": if component == "kubelet" { NODE } else { "" }},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": component, "reportingInstance": if component == "kubelet" { NODE } else { "" },
                "eventTime": null,
            });
            let _ = api::create(store, ev_rt, &ns, ev, &WriteOpts::manager(component));
        }
    }
}
