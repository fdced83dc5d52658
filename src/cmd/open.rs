//! `odoo-tui open [NAME] [--port 8069]`: forward a local port to the backend and print
//! the URL, so Odoo can be used without an ingress.
//!
//! Like `kubectl port-forward svc/<fullname>-backend`: the Service's `http` port resolves
//! to a ready backend pod and its container port (`instance::backend`), and every local
//! connection gets a port-forward stream of its own to that pod. A pod that goes away is
//! replaced by another ready one for the next connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Context, Error};
use crate::cli::OpenArgs;
use crate::cluster::Kube;
use crate::cluster::error::Op;
use crate::instance::{self, backend::Backend};

/// How long a chosen pod is used before checking again that it is still ready.
const RECHECK: Duration = Duration::from_secs(5);
/// After the local side stops sending (a half-close; port-forward streams cannot pass it
/// on), how long to wait for the answer to start, and then for more of it.
const DRAIN_FIRST: Duration = Duration::from_secs(60);
const DRAIN_IDLE: Duration = Duration::from_secs(2);

/// Listen on 127.0.0.1:`port`; a busy port says how to pick another.
async fn bind(port: u16, release: &str) -> Result<TcpListener, Error> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("port {port} on 127.0.0.1 is already in use")
        } else {
            format!("cannot listen on 127.0.0.1:{port}: {e}")
        };
        Error::failure(format!(
            "{why} — pick another with --port, e.g. `odoo-tui open {release} --port {}`",
            port.checked_add(1).filter(|p| *p > 1024).unwrap_or(18069)
        ))
    })
}

/// The pod new connections go to; re-checked after [`RECHECK`] or a failure.
struct Chooser {
    kube: Kube,
    backend: Backend,
    current: Option<(String, u16, Instant)>,
    /// The pod last used, to say when connections move to another.
    last: Option<String>,
}

impl Chooser {
    async fn pick(&mut self) -> Result<(String, u16), instance::Error> {
        if let Some((pod, port, at)) = &self.current
            && at.elapsed() < RECHECK
        {
            return Ok((pod.clone(), *port));
        }
        let (pod, port) = instance::backend::ready_pod(&self.kube, &self.backend).await?;
        if self.last.as_ref().is_some_and(|old| *old != pod) {
            eprintln!("forwarding new connections to pod {pod}");
        }
        self.last = Some(pod.clone());
        self.current = Some((pod.clone(), port, Instant::now()));
        Ok((pod, port))
    }

    fn forget(&mut self, pod: &str) {
        if self.current.as_ref().is_some_and(|(p, _, _)| p == pod) {
            self.current = None;
        }
    }
}

pub fn run(ctx: &Context, a: OpenArgs) -> Result<(), Error> {
    ctx.block_on(Some("stopping the port-forward"), |cancel| {
        open(ctx, a, cancel)
    })
}

/// Runs until `cancel` (Ctrl-C), then returns Ok.
async fn open(ctx: &Context, a: OpenArgs, cancel: CancellationToken) -> Result<(), Error> {
    let port = a.port;
    let kube = ctx.connect().await?;
    let release = instance::resolve_name(&kube, a.name).await?;
    let backend = instance::backend::locate(&kube, &release).await?;
    let mut chooser = Chooser {
        kube: kube.clone(),
        backend,
        current: None,
        last: None,
    };
    chooser.pick().await?;
    let chooser = Arc::new(Mutex::new(chooser));
    let listener = bind(port, &release).await?;
    let local = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    eprintln!("Odoo is at http://localhost:{local}/ (Ctrl-C to stop)");

    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((conn, _)) => {
                let _ = conn.set_nodelay(true);
                conns.spawn(connection(kube.clone(), chooser.clone(), conn));
            }
            Err(e) => {
                eprintln!("cannot accept a connection on 127.0.0.1:{local}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // Stopping the tasks closes the open connections and their streams.
    conns.shutdown().await;
    Ok(())
}

/// One local connection: a port-forward stream to a ready pod (another one once if the
/// chosen pod refuses), then bytes both ways.
async fn connection(kube: Kube, chooser: Arc<Mutex<Chooser>>, conn: TcpStream) {
    let pods = kube.typed::<Pod>();
    let mut attempt = 0;
    let (pf, pod, pod_port) = loop {
        attempt += 1;
        let picked = chooser.lock().await.pick().await;
        let (pod, pod_port) = match picked {
            Ok(p) => p,
            Err(e) => {
                // The browser sees the connection close; the terminal says why.
                eprintln!("cannot forward a connection: {e}");
                return;
            }
        };
        let op = Op::new(
            "create",
            format!("pods/{pod}/portforward"),
            Some(&kube.namespace),
        );
        let ports = [pod_port];
        match kube.retry(&op, || pods.portforward(&pod, &ports)).await {
            Ok(pf) => break (pf, pod, pod_port),
            Err(_) if attempt < 2 => chooser.lock().await.forget(&pod),
            Err(e) => {
                chooser.lock().await.forget(&pod);
                eprintln!("cannot forward a connection: {e}");
                return;
            }
        }
    };
    if let Err(msg) = forward(conn, pf, pod_port).await {
        eprintln!("connection to pod {pod} failed: {msg}");
        chooser.lock().await.forget(&pod);
    }
}

/// Copy bytes both ways between a local connection and a port-forward stream.
async fn forward(
    conn: TcpStream,
    mut pf: kube::api::Portforwarder,
    port: u16,
) -> Result<(), String> {
    let upstream = pf
        .take_stream(port)
        .ok_or("the port-forward has no stream")?;
    let errors = pf
        .take_error(port)
        .ok_or("the port-forward has no error channel")?;
    let (mut local_r, mut local_w) = conn.into_split();
    let (mut up_r, mut up_w) = tokio::io::split(upstream);

    let result = {
        // Local → pod. The channel protocol cannot half-close one direction (closing it would
        // end the stream before the answer), so the local side's end is only noted.
        let to_pod = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match local_r.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if up_w.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        };
        // Pod → local, until the pod side ends (or, once the local side has stopped
        // sending, until the pod has been quiet for DRAIN_FIRST before its first bytes or
        // DRAIN_IDLE after them).
        let local_done = tokio::sync::Notify::new();
        let from_pod = async {
            let mut buf = vec![0u8; 16 * 1024];
            let mut draining = false;
            let mut answered = false;
            loop {
                let read = if draining {
                    let wait = if answered { DRAIN_IDLE } else { DRAIN_FIRST };
                    match tokio::time::timeout(wait, up_r.read(&mut buf)).await {
                        Ok(r) => r,
                        Err(_) => break,
                    }
                } else {
                    tokio::select! {
                        r = up_r.read(&mut buf) => r,
                        _ = local_done.notified() => {
                            draining = true;
                            continue;
                        }
                    }
                };
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        answered |= draining;
                        if local_w.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = local_w.shutdown().await;
        };
        let to_pod_then_wait = async {
            to_pod.await;
            local_done.notify_one();
            std::future::pending::<()>().await
        };
        let copy = async {
            tokio::select! {
                _ = from_pod => {}
                _ = to_pod_then_wait => {}
            }
        };
        tokio::pin!(copy);
        tokio::select! {
            _ = &mut copy => Ok(()),
            e = errors => match e {
                Some(msg) => Err(msg),
                // The error channel closed without a message: the stream is ending normally.
                None => {
                    copy.await;
                    Ok(())
                }
            },
        }
    };
    // Ending our side closes the WebSocket; give it a moment to say goodbye.
    drop((up_r, up_w));
    let _ = tokio::time::timeout(Duration::from_secs(1), pf.join()).await;
    result
}
