//! `pods/{name}/portforward` over WebSocket, the way the kubelet streams it, and a
//! stand-in HTTP server "inside" the pod answering on its declared container ports.
//!
//! Protocol (the kubelet's WebSocket port-forward, as kube-rs `Api::portforward` speaks it):
//!
//! - `GET` (or `POST`) `/api/v1/namespaces/{ns}/pods/{name}/portforward?ports=8069[,8072]`
//!   with `Upgrade: websocket`; the subprotocol is the first one the client offers out of
//!   `v4.channel.k8s.io` (binary), `v4.base64.channel.k8s.io` (text, base64) or none
//!   (binary). kube-rs offers `v5.channel.k8s.io, v4.channel.k8s.io` and gets v4, as from
//!   a real kubelet, which has no v5 for port-forward.
//! - Port `i` of the request uses channel `2i` for data and `2i+1` for errors. Every
//!   message starts with its channel byte (base64: the channel as an ASCII digit, then the
//!   payload in base64). The server opens each channel with the port number as 2 bytes
//!   little-endian.
//! - Client → server: data messages on the data channels. v4 has no half-close, so the
//!   session ends when the client closes the WebSocket or when every port is finished.
//! - A port that cannot be forwarded gets one text message on its error channel
//!   (`error forwarding port 8069 to pod <sandbox>, uid : ...`) and is finished.

use crate::error::ApiError;
use crate::server::{Body, Target};
use crate::{Shared, resources, util};
use base64::Engine;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

/// The negotiated subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    /// `v4.channel.k8s.io` (or no subprotocol): binary messages.
    Binary(&'static str),
    /// `v4.base64.channel.k8s.io`: text messages, channel digit + base64.
    Base64,
}

const V4_BINARY: &str = "v4.channel.k8s.io";
const V4_BASE64: &str = "v4.base64.channel.k8s.io";

impl Proto {
    fn header(self) -> &'static str {
        match self {
            Proto::Binary(p) => p,
            Proto::Base64 => V4_BASE64,
        }
    }

    fn frame(self, ch: u8, data: &[u8]) -> Message {
        match self {
            Proto::Binary(_) => {
                let mut v = Vec::with_capacity(data.len() + 1);
                v.push(ch);
                v.extend_from_slice(data);
                Message::binary(v)
            }
            Proto::Base64 => Message::text(format!(
                "{}{}",
                (b'0' + ch) as char,
                base64::engine::general_purpose::STANDARD.encode(data)
            )),
        }
    }

    /// (channel, payload) of a client message; `None` for anything else.
    fn parse(self, m: Message) -> Option<(u8, Bytes)> {
        match (self, m) {
            (Proto::Binary(_), Message::Binary(mut b)) if b.len() > 1 => {
                let data = b.split_off(1);
                Some((b[0], data))
            }
            (Proto::Base64, Message::Text(t)) if t.len() > 1 => {
                let s = t.as_str();
                let ch = s.as_bytes()[0].checked_sub(b'0')?;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(&s[1..])
                    .ok()?;
                Some((ch, Bytes::from(data)))
            }
            _ => None,
        }
    }
}

/// Pick the subprotocol like the kubelet's WebSocket handshake: the first one the client
/// offers that the server supports; no header means the plain binary protocol.
fn negotiate(offered: &str) -> Result<Proto, ApiError> {
    let offered: Vec<&str> = offered
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if offered.is_empty() {
        return Ok(Proto::Binary(""));
    }
    for p in &offered {
        match *p {
            V4_BINARY => return Ok(Proto::Binary(V4_BINARY)),
            V4_BASE64 => return Ok(Proto::Base64),
            _ => {}
        }
    }
    Err(ApiError::bad_request(format!(
        "unable to upgrade connection: requested protocol(s) are not supported: [{}]; supports [{V4_BINARY} {V4_BASE64}]",
        offered.join(" ")
    )))
}

/// `ports=8069&ports=8072` or `ports=8069,8072`, checked like the kubelet does.
fn parse_ports(query: &[(String, String)]) -> Result<Vec<u16>, ApiError> {
    let raw: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "ports" || k == "port")
        .map(|(_, v)| v.as_str())
        .collect();
    if raw.is_empty() {
        return Err(ApiError::bad_request(
            "unable to upgrade connection: query parameter \"port\" is required",
        ));
    }
    let mut ports = Vec::new();
    for s in raw {
        if s.is_empty() {
            return Err(ApiError::bad_request(
                "unable to upgrade connection: query parameter \"port\" cannot be empty",
            ));
        }
        for p in s.split(',') {
            let port: u16 = p.trim().parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "unable to upgrade connection: unable to parse \"{s}\" as a port: strconv.ParseUint: parsing \"{p}\": invalid syntax"
                ))
            })?;
            if port == 0 {
                return Err(ApiError::bad_request(format!(
                    "unable to upgrade connection: port \"{s}\" must be > 0"
                )));
            }
            if ports.contains(&port) {
                return Err(ApiError::bad_request(format!(
                    "unable to upgrade connection: port {port} is requested more than once"
                )));
            }
            ports.push(port);
        }
    }
    Ok(ports)
}

/// Answer `pods/{name}/portforward`: checks, then `101 Switching Protocols` and a task
/// serving the WebSocket session.
pub(crate) async fn serve(
    shared: &Arc<Shared>,
    t: &Target,
    query: &[(String, String)],
    mut req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return Err(ApiError::method_not_allowed());
    }
    let Some(name) = t.name.clone() else {
        return Err(ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    };
    let ns = t.ns.clone();
    let uid = {
        let store = shared.store.lock().expect("store");
        let pod = crate::api::get(&store, t.rt, &ns, &name)?;
        if pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(ApiError::bad_request(format!(
                "pod {name} does not have a host assigned"
            )));
        }
        util::uid_of(&pod).to_string()
    };
    let ports = parse_ports(query)?;

    let header = |k: &str| {
        req.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let upgrade = header("upgrade");
    if !upgrade.eq_ignore_ascii_case("websocket") {
        if upgrade.to_ascii_lowercase().starts_with("spdy") {
            return Err(ApiError::bad_request(
                "unable to upgrade connection: the test API server serves port-forward over WebSocket (v4.channel.k8s.io) only, not SPDY",
            ));
        }
        return Err(ApiError::bad_request("Upgrade request required"));
    }
    let connection_upgrade = header("connection")
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let key = header("sec-websocket-key");
    if !connection_upgrade || key.is_empty() || header("sec-websocket-version") != "13" {
        return Err(ApiError::bad_request(
            "unable to upgrade connection: not a valid WebSocket handshake (Connection: Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version: 13 are required)",
        ));
    }
    let proto = negotiate(&header("sec-websocket-protocol"))?;

    let on_upgrade = hyper::upgrade::on(&mut req);
    let session = Session {
        shared: shared.clone(),
        pod: PodRef { ns, name, uid },
        ports,
        proto,
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let io = hyper_util::rt::TokioIo::new(upgraded);
            let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
            session.run(ws).await;
        }
    });

    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut resp = Response::builder()
        .status(101)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept);
    if !proto.header().is_empty() {
        resp = resp.header("Sec-WebSocket-Protocol", proto.header());
    }
    Ok(resp
        .body(Empty::<Bytes>::new().boxed_unsync())
        .expect("response"))
}

/// The pod a session forwards to (the uid tells a re-created pod of the same name apart).
#[derive(Debug, Clone)]
struct PodRef {
    ns: String,
    name: String,
    uid: String,
}

impl PodRef {
    /// The pod sandbox ID the kubelet would name in its errors.
    fn sandbox(&self) -> String {
        util::hex64(&json!(["sandbox", self.uid]))
    }

    fn error(&self, port: u16, cause: &str) -> String {
        format!(
            "error forwarding port {port} to pod {}, uid : {cause}",
            self.sandbox()
        )
    }

    fn refused(&self, port: u16) -> String {
        let sb = self.sandbox();
        let netns = format!(
            "/var/run/netns/cni-{}-{}-{}-{}-{}",
            &sb[0..8],
            &sb[8..12],
            &sb[12..16],
            &sb[16..20],
            &sb[20..32]
        );
        self.error(
            port,
            &format!(
                "failed to execute portforward in network namespace \"{netns}\": failed to connect to localhost:{port} inside namespace \"{sb}\", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6: address localhost: no suitable address found "
            ),
        )
    }

    /// Whether something listens on `port` now: the container declaring it is running.
    fn listener(&self, shared: &Shared, port: u16) -> Result<Listener, String> {
        let pod = {
            let store = shared.store.lock().expect("store");
            let rt = resources::by_plural("pods").expect("pods");
            store.get(rt, &self.ns, &self.name).cloned()
        };
        let sb = self.sandbox();
        let Some(pod) = pod.filter(|p| util::uid_of(p) == self.uid) else {
            return Err(self.error(
                port,
                &format!("failed to find sandbox \"{sb}\" in store: not found"),
            ));
        };
        if matches!(
            util::get_str(&pod, &["status", "phase"]),
            Some("Succeeded" | "Failed")
        ) {
            return Err(self.error(
                port,
                &format!("failed to find sandbox \"{sb}\" in store: not found"),
            ));
        }
        let declares = |c: &&Value| {
            c["ports"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["containerPort"].as_i64() == Some(port as i64)
                        && p["protocol"].as_str().unwrap_or("TCP") == "TCP"
                })
            })
        };
        let Some(container) = util::get(&pod, &["spec", "containers"])
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(declares))
            .and_then(|c| c["name"].as_str())
        else {
            return Err(self.refused(port));
        };
        let status = util::get(&pod, &["status", "containerStatuses"])
            .and_then(Value::as_array)
            .and_then(|ss| ss.iter().find(|s| s["name"] == container));
        match status {
            Some(s) if s.pointer("/state/running").is_some() => Ok(Listener {
                container: container.to_string(),
                ready: s["ready"].as_bool().unwrap_or(false),
            }),
            _ => Err(self.refused(port)),
        }
    }
}

/// What answers on a port.
struct Listener {
    container: String,
    ready: bool,
}

/// From the per-port tasks to the WebSocket writer.
enum Out {
    /// A message on a channel.
    Frame(u8, Bytes),
    /// Port index finished.
    Done(usize),
}

struct Session {
    shared: Arc<Shared>,
    pod: PodRef,
    ports: Vec<u16>,
    proto: Proto,
}

impl Session {
    async fn run<S>(self, ws: WebSocketStream<S>)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let (mut sink, mut stream) = ws.split();
        let proto = self.proto;
        // Each channel opens with its port, 2 bytes little-endian.
        for (i, port) in self.ports.iter().enumerate() {
            for ch in [2 * i as u8, 2 * i as u8 + 1] {
                if sink
                    .send(proto.frame(ch, &port.to_le_bytes()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        let (out_tx, mut out_rx) = mpsc::channel::<Out>(16);
        let mut inputs: Vec<Option<mpsc::UnboundedSender<Bytes>>> = Vec::new();
        let mut live = 0usize;
        for (i, &port) in self.ports.iter().enumerate() {
            match self.pod.listener(&self.shared, port) {
                Ok(_) => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    inputs.push(Some(tx));
                    live += 1;
                    tokio::spawn(responder(
                        self.shared.clone(),
                        self.pod.clone(),
                        port,
                        i,
                        rx,
                        out_tx.clone(),
                    ));
                }
                Err(msg) => {
                    inputs.push(None);
                    let _ = sink
                        .send(proto.frame(2 * i as u8 + 1, msg.as_bytes()))
                        .await;
                }
            }
        }
        drop(out_tx);
        let mut stop = self.shared.shutdown.clone();
        while live > 0 {
            tokio::select! {
                m = stream.next() => match m {
                    Some(Ok(m)) if m.is_close() => break,
                    Some(Ok(m)) => {
                        if let Some((ch, data)) = proto.parse(m)
                            && ch % 2 == 0
                            && let Some(Some(tx)) = inputs.get(ch as usize / 2)
                        {
                            let _ = tx.send(data);
                        }
                    }
                    Some(Err(_)) | None => break,
                },
                o = out_rx.recv() => match o {
                    Some(Out::Frame(ch, data)) => {
                        if sink.send(proto.frame(ch, &data)).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Done(i)) => {
                        if let Some(slot) = inputs.get_mut(i) && slot.take().is_some() {
                            live -= 1;
                        }
                    }
                    None => break,
                },
                _ = stop.changed() => break,
            }
        }
        // Every port is finished (or the client left): close the connection, as the
        // kubelet does once all its port-forward goroutines have returned.
        drop(inputs);
        let _ = sink.close().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
}

// ---------------------------------------------------------------------------------------
// The stand-in HTTP server of the pod

struct HttpRequest {
    method: String,
    path: String,
    keep_alive: bool,
}

/// Bytes of one port's stream, as they arrive from the client.
struct PortInput {
    rx: mpsc::UnboundedReceiver<Bytes>,
    buf: Vec<u8>,
}

const MAX_HEAD: usize = 64 * 1024;

impl PortInput {
    async fn more(&mut self) -> bool {
        match self.rx.recv().await {
            Some(b) => {
                self.buf.extend_from_slice(&b);
                true
            }
            None => false,
        }
    }

    /// The next request (its body read and dropped); `Ok(None)` at the end of the stream.
    async fn request(&mut self) -> Result<Option<HttpRequest>, &'static str> {
        let head_end = loop {
            let skip = self
                .buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            self.buf.drain(..skip);
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if self.buf.len() > MAX_HEAD {
                return Err("431 Request Header Fields Too Large");
            }
            if !self.more().await {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err("400 Bad Request")
                };
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (first.next(), first.next(), first.next(), first.next())
        else {
            return Err("400 Bad Request");
        };
        if !version.starts_with("HTTP/1.") {
            return Err("505 HTTP Version Not Supported");
        }
        let mut length = 0usize;
        let mut connection = String::new();
        for line in lines {
            let Some((k, v)) = line.split_once(':') else {
                return Err("400 Bad Request");
            };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse().map_err(|_| "400 Bad Request")?,
                "transfer-encoding" => return Err("501 Not Implemented"),
                "connection" => connection = v.to_ascii_lowercase(),
                _ => {}
            }
        }
        while self.buf.len() < length {
            if !self.more().await {
                return Err("400 Bad Request");
            }
        }
        self.buf.drain(..length);
        let keep_alive = if version == "HTTP/1.0" {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };
        Ok(Some(HttpRequest {
            method: method.to_string(),
            path: target.split(['?', '#']).next().unwrap_or("/").to_string(),
            keep_alive,
        }))
    }
}

fn http_response(
    status: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &str,
    head_only: bool,
    pod: &str,
    close: bool,
) -> Bytes {
    let mut s = format!(
        "HTTP/1.1 {status}\r\nServer: test-apiserver pod stand-in\r\nX-Pod-Name: {pod}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    if close {
        s.push_str("Connection: close\r\n");
    }
    s.push_str("\r\n");
    if !head_only {
        s.push_str(body);
    }
    Bytes::from(s)
}

/// The answer of the stand-in Odoo to one request.
fn answer(req: &HttpRequest, pod: &PodRef, port: u16, l: &Listener, close: bool) -> Bytes {
    let head = req.method == "HEAD";
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    let html = "text/html; charset=utf-8";
    let r = |status: &str, ctype: &str, extra: &[(&str, &str)], body: &str| {
        http_response(status, ctype, extra, body, head, &pod.name, close)
    };
    match req.path.as_str() {
        "/web/login" if get || req.method == "POST" => {
            let page = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Login | Odoo</title></head>\n<body><main class=\"oe_login_form\">\n<h1>Odoo</h1>\n<p>Served by pod <code>{}/{}</code>, container <code>{}</code>, port {port} (test-apiserver stand-in).</p>\n<form method=\"post\" action=\"/web/login\"><input type=\"text\" name=\"login\"/><input type=\"password\" name=\"password\"/><button type=\"submit\">Log in</button></form>\n</main></body></html>\n",
                pod.ns, pod.name, l.container
            );
            r("200 OK", html, &[], &page)
        }
        "/web/health" if get => {
            if l.ready {
                r("200 OK", "application/json", &[], "{\"status\": \"pass\"}")
            } else {
                r(
                    "503 Service Unavailable",
                    "application/json",
                    &[],
                    "{\"status\": \"fail\"}",
                )
            }
        }
        "/" | "/web" | "/odoo" if get => r(
            "303 See Other",
            html,
            &[("Location", "/web/login")],
            "<a href=\"/web/login\">/web/login</a>\n",
        ),
        _ => r(
            "404 Not Found",
            html,
            &[],
            "<!DOCTYPE html>\n<html><body><h1>Not Found</h1></body></html>\n",
        ),
    }
}

/// Serve HTTP/1.1 on one forwarded port until the stream ends, the client asks to close,
/// or the container stops listening (then the error channel says so).
async fn responder(
    shared: Arc<Shared>,
    pod: PodRef,
    port: u16,
    idx: usize,
    rx: mpsc::UnboundedReceiver<Bytes>,
    out: mpsc::Sender<Out>,
) {
    let data = 2 * idx as u8;
    let mut input = PortInput {
        rx,
        buf: Vec::new(),
    };
    loop {
        let req = match input.request().await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(status) => {
                let b = http_response(status, "text/plain", &[], "", false, &pod.name, true);
                let _ = out.send(Out::Frame(data, b)).await;
                break;
            }
        };
        let listener = match pod.listener(&shared, port) {
            Ok(l) => l,
            Err(msg) => {
                let _ = out.send(Out::Frame(data + 1, Bytes::from(msg))).await;
                break;
            }
        };
        let close = !req.keep_alive;
        let b = answer(&req, &pod, port, &listener, close);
        if out.send(Out::Frame(data, b)).await.is_err() {
            return;
        }
        if close {
            break;
        }
    }
    let _ = out.send(Out::Done(idx)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn subprotocols_are_picked_in_the_client_order() {
        let kube = negotiate("v5.channel.k8s.io, v4.channel.k8s.io").unwrap();
        assert_eq!(kube, Proto::Binary(V4_BINARY));
        assert_eq!(
            negotiate("v4.base64.channel.k8s.io,v4.channel.k8s.io").unwrap(),
            Proto::Base64
        );
        assert_eq!(negotiate("").unwrap(), Proto::Binary(""));
        let e = negotiate("SPDY/3.1+portforward.k8s.io").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message
                .contains("requested protocol(s) are not supported")
        );
    }

    #[test]
    fn ports_like_the_kubelet() {
        assert_eq!(
            parse_ports(&q(&[("ports", "8069,8072")])).unwrap(),
            [8069, 8072]
        );
        assert_eq!(
            parse_ports(&q(&[("ports", "8069"), ("ports", "8072")])).unwrap(),
            [8069, 8072]
        );
        for bad in ["", "x", "0", "70000", "8069,8069"] {
            assert_eq!(parse_ports(&q(&[("ports", bad)])).unwrap_err().code, 400);
        }
        assert!(
            parse_ports(&[])
                .unwrap_err()
                .message
                .contains("query parameter \"port\" is required")
        );
    }

    #[tokio::test]
    async fn requests_are_split_and_keep_alive_follows_the_version() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut input = PortInput {
            rx,
            buf: Vec::new(),
        };
        // Split across messages, with a body, then HTTP/1.0.
        tx.send(Bytes::from_static(
            b"POST /web/login HTTP/1.1\r\nContent-Le",
        ))
        .unwrap();
        tx.send(Bytes::from_static(b"ngth: 3\r\n\r\nabc")).unwrap();
        tx.send(Bytes::from_static(b"GET /x?y=1 HTTP/1.0\r\n\r\n"))
            .unwrap();
        drop(tx);
        let r = input.request().await.unwrap().unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/web/login"));
        assert!(r.keep_alive);
        let r = input.request().await.unwrap().unwrap();
        assert_eq!(r.path, "/x");
        assert!(!r.keep_alive);
        assert!(input.request().await.unwrap().is_none());
    }
}
