//! `odoo-tui open`: the real binary forwarding a local port to the backend through the
//! test API server's port-forward (whose stand-in pod answers HTTP).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use test_apiserver::{Config, Scenario, ServerHandle, TestServer};

const NS: &str = "shop";

struct Env {
    server: ServerHandle,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let server =
            TestServer::start(Config::default().time_scale(0.02)).expect("test API server starts");
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(dir.path().join("kubeconfig"), NS)
            .unwrap();
        Env { server, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_odoo-tui"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.dir.path())
            .env("ODOO_TUI_CONFIG_DIR", self.dir.path().join("config"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }

    fn install(&self) {
        let o = self.run(&["new", "acme", "--preset", "local-dev", "--yes"]);
        assert!(o.status.success(), "new failed:\n{}", text(&o));
    }

    /// Delete a pod through the API (as `kubectl delete pod` would).
    fn delete_pod(&self, name: &str) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let kc = kube::config::Kubeconfig::from_yaml(&self.server.kubeconfig(NS)).unwrap();
            let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .unwrap();
            let pods: kube::Api<Pod> =
                kube::Api::namespaced(kube::Client::try_from(cfg).unwrap(), NS);
            pods.delete(name, &Default::default()).await.unwrap();
        });
    }

    /// The backend pods not being deleted (`<deployment>-<hash>-<suffix>`).
    fn backend_pods(&self) -> Vec<String> {
        self.list_pods()
            .into_iter()
            .filter(|p| p.starts_with("acme-odoo-backend-"))
            .collect()
    }

    fn list_pods(&self) -> Vec<String> {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let kc = kube::config::Kubeconfig::from_yaml(&self.server.kubeconfig(NS)).unwrap();
            let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .unwrap();
            let pods: kube::Api<Pod> =
                kube::Api::namespaced(kube::Client::try_from(cfg).unwrap(), NS);
            pods.list(&Default::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter_map(|p| p.metadata.name)
                .collect()
        })
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `odoo-tui open` with its stderr lines.
struct Open {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Open {
    fn start(env: &Env, args: &[&str]) -> Open {
        let mut child = env
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("odoo-tui open starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Open {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait for a stderr line containing `what`.
    fn wait_for(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(l) => {
                    let hit = l.contains(what);
                    self.seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        self.drain();
                        panic!(
                            "open exited ({status}) before `{what}`:\n{}",
                            self.seen.join("\n")
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        self.drain();
        panic!("no `{what}` on stderr:\n{}", self.seen.join("\n"));
    }

    fn drain(&mut self) {
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(50)) {
            self.seen.push(l);
        }
    }

    /// SIGINT (Ctrl-C) and the exit status.
    fn interrupt(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("open did not stop on SIGINT:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.drain();
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny HTTP/1.1 client: status code and the whole response (0 when the connection
/// closes without an answer).
fn fetch(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects to the local port");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nUser-Agent: open-test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

fn serving_pod(page: &str) -> &str {
    let start = page
        .find("Served by pod <code>shop/")
        .expect("the page names the pod")
        + "Served by pod <code>shop/".len();
    let end = page[start..].find("</code>").unwrap();
    &page[start..start + end]
}

#[test]
fn open_forwards_the_backend_and_stops_on_ctrl_c() {
    let env = Env::new();
    env.install();
    env.server.reset_requests();
    let port = free_port();
    let mut open = Open::start(&env, &["open", "acme", "--port", &port.to_string()]);
    open.wait_for(&format!(
        "Odoo is at http://localhost:{port}/ (Ctrl-C to stop)"
    ));

    let (status, page) = fetch(port, "/web/login");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<title>Login | Odoo</title>"), "{page}");
    let pod = serving_pod(&page).to_string();
    assert!(pod.starts_with("acme-odoo-backend-"), "{pod}");
    assert!(
        page.contains("container <code>backend</code>, port 8069"),
        "{page}"
    );

    let (status, health) = fetch(port, "/web/health");
    assert_eq!(status, 200, "{health}");
    assert!(health.ends_with("{\"status\": \"pass\"}"), "{health}");
    let (status, _) = fetch(port, "/nope");
    assert_eq!(status, 404);

    // Several connections at once, each with a stream of its own.
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || fetch(port, "/web/login").0))
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    assert_eq!(env.server.count("create", "pods/portforward"), 7);

    let (status, lines) = open.interrupt();
    assert_eq!(status.code(), Some(0), "{}", lines.join("\n"));
}

#[test]
fn open_without_name_follows_the_pods() {
    let env = Env::new();
    env.install();
    let port = free_port();
    // NAME may be left out: the namespace holds one instance.
    let mut open = Open::start(&env, &["open", "--port", &port.to_string()]);
    open.wait_for(&format!("http://localhost:{port}/"));
    let (status, page) = fetch(port, "/web/login");
    assert_eq!(status, 200, "{page}");
    let first = serving_pod(&page).to_string();
    assert_eq!(env.backend_pods(), vec![first.clone()]);

    // The pod goes away; the ReplicaSet makes another and new connections go there.
    env.delete_pod(&first);
    let deadline = Instant::now() + Duration::from_secs(30);
    let second = loop {
        let (status, page) = fetch(port, "/web/login");
        if status == 200 && serving_pod(&page) != first {
            break serving_pod(&page).to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no answer from a new pod (last: {status}):\n{page}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(second.starts_with("acme-odoo-backend-"), "{second}");
    let (status, lines) = open.interrupt();
    assert_eq!(status.code(), Some(0), "{}", lines.join("\n"));
    assert!(
        lines.contains(&format!("forwarding new connections to pod {second}")),
        "{}",
        lines.join("\n")
    );
}

#[test]
fn no_instance_is_an_error() {
    let env = Env::new();
    let port = free_port().to_string();
    let o = env.run(&["open", "--port", &port]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no odoo-tui instance in namespace `shop`"),
        "{}",
        text(&o)
    );
    let o = env.run(&["open", "ghost", "--port", &port]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(
            "no odoo-tui instance `ghost` in namespace `shop` — create it with `odoo-tui new ghost`"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn busy_port_and_unready_backend_are_errors() {
    let env = Env::new();
    env.install();

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let o = env.run(&["open", "acme", "--port", &port.to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "port {port} on 127.0.0.1 is already in use — pick another with --port"
        )),
        "{}",
        text(&o)
    );
    drop(busy);

    // A backend pod that never gets ready: open names the Deployment and `status`.
    env.server.set_scenario(
        Scenario::from_yaml(
            "pods:\n  - selector: {app.kubernetes.io/component: backend}\n    neverReady: true\n",
        )
        .unwrap(),
    );
    let old = env.backend_pods();
    env.delete_pod(&old[0]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.backend_pods() == old || env.backend_pods().is_empty() {
        assert!(Instant::now() < deadline, "no replacement pod");
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = env.run(&["open", "acme", "--port", &free_port().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(
            "no pod of Deployment/acme-odoo-backend in namespace `shop` is ready (1 not ready) — see `odoo-tui status acme`"
        ),
        "{}",
        text(&o)
    );
}
