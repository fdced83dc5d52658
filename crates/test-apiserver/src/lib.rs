//! A Kubernetes API server stand-in for odoo-tui's tests and benchmarks.
//!
//! ```no_run
//! use test_apiserver::{Config, TestServer};
//! let server = TestServer::start(Config::default().time_scale(0.05)).unwrap();
//! let kubeconfig = std::env::temp_dir().join("kubeconfig");
//! server.write_kubeconfig(&kubeconfig, "default").unwrap();
//! println!("{}", server.url());
//! // ... point kube-rs or kubectl at it ...
//! server.stop();
//! ```
//!
//! See the crate README for what it does and does not do.

pub mod admission;
pub mod api;
mod controllers;
mod cron;
mod discovery;
pub mod error;
pub mod faults;
pub mod fields;
mod kubelet;
mod openapi;
pub mod patch;
mod podsecurity;
mod portforward;
pub mod resources;
pub mod scenario;
pub mod schema;
pub mod selectors;
mod server;
pub mod store;
mod strict;
mod table;
mod tls;
pub mod util;

pub use faults::{FaultAction, FaultRule, Faults, RequestRecord};
pub use scenario::{Behavior, Scenario};

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Added to every request.
    pub latency: Duration,
    /// Multiplies every scenario/controller delay: 0.05 makes 1 s take 50 ms.
    pub time_scale: f64,
    pub scenario: Scenario,
    /// Serve HTTPS with a generated certificate.
    pub tls: bool,
    /// Require `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// How often watches with `allowWatchBookmarks` get a BOOKMARK (real time).
    pub bookmark_interval: Duration,
    /// How many change events are kept for watches; older resourceVersions get 410 Gone.
    pub history: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            latency: Duration::ZERO,
            time_scale: 1.0,
            scenario: Scenario::default(),
            tls: false,
            token: None,
            bookmark_interval: Duration::from_secs(1),
            history: 10_000,
        }
    }
}

impl Config {
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }
    pub fn latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }
    pub fn time_scale(mut self, s: f64) -> Self {
        self.time_scale = s;
        self
    }
    pub fn scenario(mut self, s: Scenario) -> Self {
        self.scenario = s;
        self
    }
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }
    pub fn token(mut self, t: impl Into<String>) -> Self {
        self.token = Some(t.into());
        self
    }
    pub fn bookmark_interval(mut self, d: Duration) -> Self {
        self.bookmark_interval = d;
        self
    }
    pub fn history(mut self, n: usize) -> Self {
        self.history = n;
        self
    }
}

/// Settings that tests may change while the server runs.
pub(crate) struct Settings {
    pub time_scale: f64,
    pub scenario: Scenario,
    /// The scaled clock's anchor: at `real`, the scaled clock read `virt`.
    pub clock: (Instant, SystemTime),
}

impl Settings {
    /// The scaled clock (CronJob schedules): it started at the real time the server
    /// started and runs `1 / time_scale` times as fast.
    pub fn virtual_now(&self) -> SystemTime {
        let (real, virt) = self.clock;
        virt + Duration::from_secs_f64(real.elapsed().as_secs_f64() / self.time_scale.max(1e-9))
    }

    /// The real instant at which the scaled clock reads `virt_unix` (Unix seconds).
    pub fn real_instant_of(&self, virt_unix: i64) -> Instant {
        let (real, virt) = self.clock;
        let anchor = virt
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let ahead = (virt_unix as f64 - anchor) * self.time_scale;
        if ahead <= 0.0 {
            real
        } else {
            real + Duration::from_secs_f64(ahead)
        }
    }
}

/// State shared by the HTTP layer, the controllers and the kubelet.
pub(crate) struct Shared {
    pub store: Mutex<store::Store>,
    pub settings: RwLock<Settings>,
    pub faults: Faults,
    pub logs: kubelet::Logs,
    pub token: Option<String>,
    pub bookmark_interval: Duration,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Shared {
    /// A scenario duration in real time.
    pub fn scaled(&self, secs: f64) -> Duration {
        let s = self.settings.read().expect("settings").time_scale;
        Duration::from_secs_f64((secs * s).max(0.0))
    }
}

/// Starts servers.
pub struct TestServer;

impl TestServer {
    /// Bind 127.0.0.1 (a free port unless one is given) and serve on a thread of its own
    /// with its own runtime, so it works from sync code and from any async runtime.
    pub fn start(config: Config) -> std::io::Result<ServerHandle> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let tls = if config.tls {
            Some(tls::generate().map_err(std::io::Error::other)?)
        } else {
            None
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let faults = Faults::new(config.latency);
        let shared = Arc::new(Shared {
            store: Mutex::new(store::Store::new(config.history)),
            settings: RwLock::new(Settings {
                time_scale: config.time_scale,
                scenario: config.scenario.clone(),
                clock: (Instant::now(), SystemTime::now()),
            }),
            faults: faults.clone(),
            logs: kubelet::Logs::default(),
            token: config.token.clone(),
            bookmark_interval: config.bookmark_interval,
            shutdown: stop_rx,
        });
        controllers::bootstrap(&shared);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-apiserver")
            .enable_all()
            .build()?;
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("test-apiserver".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let ctl = tokio::spawn(controllers::run(s2.clone()));
                    server::serve(s2.clone(), listener, acceptor).await;
                    ctl.abort();
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(ServerHandle {
            addr,
            tls_ca: tls.map(|t| t.ca_pem),
            token: config.token,
            shared,
            stop: stop_tx,
            thread: Mutex::new(Some(thread)),
        })
    }
}

/// A running server; stops when dropped.
pub struct ServerHandle {
    addr: SocketAddr,
    tls_ca: Option<String>,
    token: Option<String>,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl ServerHandle {
    /// `http://127.0.0.1:PORT` or `https://...`.
    pub fn url(&self) -> String {
        let scheme = if self.tls_ca.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the CA clients must trust (TLS only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls_ca.as_deref()
    }

    /// A kubeconfig for this server, its context using `namespace`.
    pub fn kubeconfig(&self, namespace: &str) -> String {
        use base64::Engine;
        let mut cluster = format!("    server: {}\n", self.url());
        if let Some(ca) = &self.tls_ca {
            let b64 = base64::engine::general_purpose::STANDARD.encode(ca);
            cluster.push_str(&format!("    certificate-authority-data: {b64}\n"));
        }
        let user = match &self.token {
            Some(t) => format!("    token: {t}\n"),
            None => "    username: test\n".to_string(),
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test-apiserver\n  cluster:\n{cluster}contexts:\n- name: test-apiserver\n  context:\n    cluster: test-apiserver\n    user: test-user\n    namespace: {namespace}\ncurrent-context: test-apiserver\nusers:\n- name: test-user\n  user:\n{user}preferences: {{}}\n"
        )
    }

    /// Write [`Self::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>, namespace: &str) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig(namespace))
    }

    /// Fault injection, changeable at runtime.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request served so far (oldest first).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.faults.requests()
    }

    /// Requests counted by (verb, resource), e.g. `("list", "pods")`,
    /// `("get", "pods/log")`, `("get", "version")`.
    pub fn counters(&self) -> std::collections::BTreeMap<(String, String), u64> {
        self.shared.faults.counters()
    }

    /// How many requests had this verb and resource.
    pub fn count(&self, verb: &str, resource: &str) -> u64 {
        self.counters()
            .get(&(verb.to_string(), resource.to_string()))
            .copied()
            .unwrap_or(0)
    }

    pub fn reset_requests(&self) {
        self.shared.faults.reset_requests()
    }

    /// Replace the scenario; containers that start afterwards follow it.
    pub fn set_scenario(&self, s: Scenario) {
        self.shared.settings.write().expect("settings").scenario = s;
    }

    /// Change the time scale; the scaled clock of CronJob schedules goes on from where
    /// it is at the new pace.
    pub fn set_time_scale(&self, s: f64) {
        let mut settings = self.shared.settings.write().expect("settings");
        settings.clock = (Instant::now(), settings.virtual_now());
        settings.time_scale = s;
    }

    /// The scaled clock CronJob schedules follow: real time when the server started,
    /// then `1 / time_scale` seconds per real second.
    pub fn scaled_now(&self) -> SystemTime {
        self.shared.settings.read().expect("settings").virtual_now()
    }

    /// Create an object (any served kind, given by its `apiVersion` and `kind`) through
    /// the same path as a POST, without HTTP: for seeding large fixtures quickly.
    pub fn create_object(
        &self,
        obj: serde_json::Value,
    ) -> Result<serde_json::Value, error::ApiError> {
        let av = obj["apiVersion"].as_str().unwrap_or("");
        let kind = obj["kind"].as_str().unwrap_or("");
        let rt = resources::by_kind(av, kind).ok_or_else(|| {
            error::ApiError::bad_request(format!(
                "no kind {kind:?} is registered for version {av:?}"
            ))
        })?;
        let ns = if rt.namespaced {
            obj.pointer("/metadata/namespace")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let mut store = self.shared.store.lock().expect("store");
        api::create(&mut store, rt, &ns, obj, &api::WriteOpts::manager("test"))
    }

    /// A snapshot of one stored object (`plural` as in URLs), for assertions.
    pub fn object(&self, plural: &str, namespace: &str, name: &str) -> Option<serde_json::Value> {
        let rt = resources::by_plural(plural)?;
        let ns = if rt.namespaced { namespace } else { "" };
        self.shared.store.lock().ok()?.get(rt, ns, name).cloned()
    }

    /// Snapshots of every stored object of a kind in a namespace, for assertions and
    /// benchmarks.
    pub fn objects(&self, plural: &str, namespace: &str) -> Vec<serde_json::Value> {
        let Some(rt) = resources::by_plural(plural) else {
            return vec![];
        };
        let ns = rt.namespaced.then_some(namespace);
        match self.shared.store.lock() {
            Ok(store) => store.list(rt, ns).into_iter().cloned().collect(),
            Err(_) => vec![],
        }
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.store.lock().expect("store").resource_version()
    }

    /// Stop serving and wait for the server thread.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.lock().expect("thread").take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
