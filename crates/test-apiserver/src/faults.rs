//! Fault injection and the request log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a matching request gets instead of its answer.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Answer with this status code (e.g. 500, 503) and a `Status` body.
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooManyRequests { retry_after_secs: u64 },
    /// 403 Forbidden, as RBAC would answer.
    Forbidden,
    /// Serve it normally after this extra delay.
    Delay(Duration),
}

/// Which requests a fault hits: verb (`get`, `list`, `watch`, `create`, `update`,
/// `patch`, `delete`, `deletecollection`) and resource (`pods`, `pods/log`,
/// `deployments/scale`...); `None` matches all. `times` limits how often it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub verb: Option<String>,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub action: FaultAction,
    pub times: Option<u32>,
}

impl FaultRule {
    pub fn new(verb: Option<&str>, resource: Option<&str>, action: FaultAction) -> Self {
        Self {
            verb: verb.map(String::from),
            resource: resource.map(String::from),
            namespace: None,
            name: None,
            action,
            times: None,
        }
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn name(mut self, n: &str) -> Self {
        self.name = Some(n.into());
        self
    }

    pub fn namespace(mut self, n: &str) -> Self {
        self.namespace = Some(n.into());
        self
    }

    fn matches(&self, r: &RequestRecord) -> bool {
        self.verb.as_deref().is_none_or(|v| v == r.verb)
            && self.resource.as_deref().is_none_or(|v| v == r.resource)
            && self.namespace.as_deref().is_none_or(|v| v == r.namespace)
            && self.name.as_deref().is_none_or(|v| v == r.name)
    }
}

/// One served request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Kubernetes verb (`get`, `list`, `watch`, ...), or the lower-case method for
    /// non-resource paths.
    pub verb: String,
    /// `pods`, `pods/log`, `deployments/scale`, or a non-resource path like `version`.
    pub resource: String,
    pub namespace: String,
    pub name: String,
    pub status: u16,
    pub user_agent: String,
    pub field_manager: String,
    /// The `fieldSelector` of a list or watch (empty without one).
    pub field_selector: String,
}

#[derive(Default)]
struct Inner {
    latency: Duration,
    rules: Vec<FaultRule>,
    cut_watch_events: Option<usize>,
    cut_watch_after: Option<Duration>,
    log: Vec<RequestRecord>,
    counters: BTreeMap<(String, String), u64>,
}

/// Runtime-settable faults plus the request log. Cloning shares the state.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<Inner>>);

impl Faults {
    pub(crate) fn new(latency: Duration) -> Self {
        let f = Self::default();
        f.set_latency(latency);
        f
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().expect("faults"))
    }

    /// Latency added to every request.
    pub fn set_latency(&self, d: Duration) {
        self.with(|i| i.latency = d)
    }

    pub fn latency(&self) -> Duration {
        self.with(|i| i.latency)
    }

    pub fn add(&self, rule: FaultRule) {
        self.with(|i| i.rules.push(rule))
    }

    /// Answer `code` (5xx) to matching requests.
    pub fn fail(&self, verb: Option<&str>, resource: Option<&str>, code: u16) {
        self.add(FaultRule::new(verb, resource, FaultAction::Status(code)))
    }

    /// 429 with Retry-After to matching requests.
    pub fn throttle(&self, verb: Option<&str>, resource: Option<&str>, retry_after_secs: u64) {
        self.add(FaultRule::new(
            verb,
            resource,
            FaultAction::TooManyRequests { retry_after_secs },
        ))
    }

    /// 403 for a verb on a resource.
    pub fn forbid(&self, verb: &str, resource: &str) {
        self.add(FaultRule::new(
            Some(verb),
            Some(resource),
            FaultAction::Forbidden,
        ))
    }

    /// End every watch stream after `n` events (None: never).
    pub fn cut_watches_after_events(&self, n: Option<usize>) {
        self.with(|i| i.cut_watch_events = n)
    }

    /// End every watch stream after this long (None: never).
    pub fn cut_watches_after(&self, d: Option<Duration>) {
        self.with(|i| i.cut_watch_after = d)
    }

    /// Remove all faults and the latency.
    pub fn clear(&self) {
        self.with(|i| {
            i.rules.clear();
            i.latency = Duration::ZERO;
            i.cut_watch_events = None;
            i.cut_watch_after = None;
        })
    }

    pub(crate) fn watch_cuts(&self) -> (Option<usize>, Option<Duration>) {
        self.with(|i| (i.cut_watch_events, i.cut_watch_after))
    }

    /// The fault for this request, if any (consuming one of its `times`).
    pub(crate) fn take(&self, r: &RequestRecord) -> Option<FaultAction> {
        self.with(|i| {
            let idx = i.rules.iter().position(|f| f.matches(r))?;
            let action = i.rules[idx].action.clone();
            if let Some(t) = i.rules[idx].times.as_mut() {
                *t = t.saturating_sub(1);
                if *t == 0 {
                    i.rules.remove(idx);
                }
            }
            Some(action)
        })
    }

    pub(crate) fn record(&self, r: RequestRecord) {
        self.with(|i| {
            *i.counters
                .entry((r.verb.clone(), r.resource.clone()))
                .or_default() += 1;
            if i.log.len() < 200_000 {
                i.log.push(r);
            }
        })
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.with(|i| i.log.clone())
    }

    pub fn counters(&self) -> BTreeMap<(String, String), u64> {
        self.with(|i| i.counters.clone())
    }

    pub fn reset_requests(&self) {
        self.with(|i| {
            i.log.clear();
            i.counters.clear();
        })
    }
}
