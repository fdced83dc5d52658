//! `pods/{name}/portforward` through kube-rs `Api::<Pod>::portforward`, and the stand-in
//! HTTP server of the pod behind it.

mod common;

use common::{eventually, fast, setup};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::json;
use std::io::{Read, Write};
use test_apiserver::{Config, Scenario};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pod(name: &str, image: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "odoo"}},
        "spec": {"containers": [
            {"name": "odoo", "image": image, "ports": [
                {"name": "http", "containerPort": 8069},
                {"name": "websocket", "containerPort": 8072}]},
            {"name": "sidecar", "image": "busybox:1.36"}
        ]}
    }))
    .unwrap()
}

/// Create a pod and wait until its containers are ready.
async fn ready_pod(pods: &Api<Pod>, name: &str) {
    pods.create(&PostParams::default(), &pod(name, "odoo:18.0"))
        .await
        .unwrap();
    eventually(10, "the pod to be ready", || async {
        let p = pods.get(name).await.ok()?;
        let ready = p
            .status?
            .conditions?
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ready.then_some(())
    })
    .await;
}

/// Send `request` on a forwarded stream and read until the stream ends.
async fn exchange(stream: &mut tokio::io::DuplexStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut out),
    )
    .await
    .expect("the stream ends")
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// Wait for the port-forward's task. The server closes the WebSocket once the ports are
/// done, as the kubelet does, so kube-rs may find it closed when it sends its own Close.
async fn finish(pf: kube::api::Portforwarder) {
    let r = tokio::time::timeout(std::time::Duration::from_secs(10), pf.join())
        .await
        .expect("the port-forward task ends");
    if let Err(e) = r {
        assert!(
            e.to_string()
                .starts_with("failed to send a WebSocket message"),
            "{e}"
        );
    }
}

const LOGIN: &str = "GET /web/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn fetches_the_login_page_through_a_port_forward() {
    let (server, client) = setup(fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    ready_pod(&pods, "odoo-0").await;
    server.reset_requests();

    let mut pf = pods.portforward("odoo-0", &[8069]).await.unwrap();
    let mut stream = pf.take_stream(8069).unwrap();
    let errors = pf.take_error(8069).unwrap();
    let resp = exchange(&mut stream, LOGIN).await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("Content-Type: text/html"), "{resp}");
    assert!(resp.contains("Connection: close\r\n"), "{resp}");
    assert!(
        resp.contains(
            "Served by pod <code>default/odoo-0</code>, container <code>odoo</code>, port 8069"
        ),
        "{resp}"
    );
    let body = resp.split("\r\n\r\n").nth(1).unwrap();
    let length: usize = resp
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body.len(), length);
    drop(stream);
    // No error on the error channel: it closes without a message.
    assert_eq!(errors.await, None);
    finish(pf).await;

    assert_eq!(server.count("create", "pods/portforward"), 1);
    let rec = server
        .requests()
        .into_iter()
        .find(|r| r.resource == "pods/portforward")
        .unwrap();
    assert_eq!(rec.status, 101);
    assert_eq!(rec.method, "GET");
    assert_eq!(rec.name, "odoo-0");
    assert_eq!(rec.namespace, "default");
}

#[tokio::test]
async fn keep_alive_health_redirect_and_not_found_on_one_stream() {
    let (_server, client) = setup(fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    ready_pod(&pods, "odoo-0").await;

    let mut pf = pods.portforward("odoo-0", &[8069]).await.unwrap();
    let mut stream = pf.take_stream(8069).unwrap();
    // Pipelined requests; a POST body is read and skipped; the last asks to close.
    let resp = exchange(
        &mut stream,
        "GET /web/health HTTP/1.1\r\nHost: x\r\n\r\n\
         POST /web/login HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nlogin=admin\
         GET / HTTP/1.1\r\nHost: x\r\n\r\n\
         HEAD /web/login?redirect=%2Fodoo HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    // Status lines (a body without a newline runs into the next one).
    let statuses: Vec<&str> = resp
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| resp[i..].split("\r\n").next().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 303 See Other",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found"
        ],
        "{resp}"
    );
    assert!(
        resp.contains("\r\n\r\n{\"status\": \"pass\"}HTTP/1.1 200 OK"),
        "{resp}"
    );
    assert!(resp.contains("Location: /web/login\r\n"), "{resp}");
    drop(stream);
    finish(pf).await;
}

#[tokio::test]
async fn two_ports_on_one_connection() {
    let (server, client) = setup(fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    ready_pod(&pods, "odoo-0").await;
    server.reset_requests();

    let mut pf = pods.portforward("odoo-0", &[8072, 8069]).await.unwrap();
    let mut a = pf.take_stream(8069).unwrap();
    let mut b = pf.take_stream(8072).unwrap();
    let (ra, rb) = tokio::join!(exchange(&mut a, LOGIN), exchange(&mut b, LOGIN));
    assert!(ra.contains("port 8069"), "{ra}");
    assert!(rb.contains("port 8072"), "{rb}");
    drop((a, b));
    finish(pf).await;
    assert_eq!(server.count("create", "pods/portforward"), 1);
}

#[tokio::test]
async fn an_undeclared_port_gets_the_kubelet_error() {
    let (_server, client) = setup(fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    ready_pod(&pods, "odoo-0").await;

    let mut pf = pods.portforward("odoo-0", &[5432]).await.unwrap();
    let mut stream = pf.take_stream(5432).unwrap();
    let err = pf
        .take_error(5432)
        .unwrap()
        .await
        .expect("an error message");
    assert!(
        err.starts_with("error forwarding port 5432 to pod "),
        "{err}"
    );
    assert!(
        err.contains("dial tcp4 127.0.0.1:5432: connect: connection refused"),
        "{err}"
    );
    // The stream ends without data.
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    assert!(out.is_empty());
    drop(stream);
    finish(pf).await;
}

#[tokio::test]
async fn a_pod_whose_container_does_not_run_gets_the_kubelet_error() {
    let scenario = Scenario::from_yaml("images:\n  \"odoo:18.0-missing\": {pull: fail}\n").unwrap();
    let (_server, client) = setup(fast().scenario(scenario)).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    pods.create(&PostParams::default(), &pod("broken", "odoo:18.0-missing"))
        .await
        .unwrap();
    eventually(10, "the pull to fail", || async {
        let p = pods.get("broken").await.ok()?;
        let waiting = p.status?.container_statuses?.into_iter().any(|s| {
            s.state
                .and_then(|st| st.waiting)
                .and_then(|w| w.reason)
                .is_some_and(|r| r.contains("ImagePull"))
        });
        waiting.then_some(())
    })
    .await;

    let mut pf = pods.portforward("broken", &[8069]).await.unwrap();
    let err = pf
        .take_error(8069)
        .unwrap()
        .await
        .expect("an error message");
    assert!(
        err.starts_with("error forwarding port 8069 to pod "),
        "{err}"
    );
    assert!(err.contains("connection refused"), "{err}");
    finish(pf).await;
}

#[tokio::test]
async fn a_deleted_pod_ends_the_stream_with_an_error() {
    let (_server, client) = setup(fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    ready_pod(&pods, "odoo-0").await;

    let mut pf = pods.portforward("odoo-0", &[8069]).await.unwrap();
    let mut stream = pf.take_stream(8069).unwrap();
    let errors = pf.take_error(8069).unwrap();
    stream
        .write_all(b"GET /web/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));

    pods.delete("odoo-0", &Default::default()).await.unwrap();
    eventually(10, "the pod to be gone", || async {
        pods.get_opt("odoo-0").await.ok()?.is_none().then_some(())
    })
    .await;
    stream
        .write_all(b"GET /web/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let err = errors.await.expect("an error message");
    assert!(
        err.starts_with("error forwarding port 8069 to pod "),
        "{err}"
    );
    assert!(err.contains("not found"), "{err}");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    drop(stream);
    finish(pf).await;
}

#[tokio::test]
async fn missing_or_unscheduled_pods_are_refused_before_the_upgrade() {
    // A node too small for the pod keeps it Pending without a node.
    let scenario = Scenario::from_yaml("node: {cpu: \"1\", memory: \"1Gi\"}\n").unwrap();
    let (_server, client) = setup(fast().scenario(scenario)).await;
    let pods: Api<Pod> = Api::default_namespaced(client);

    let err = pods.portforward("ghost", &[8069]).await.err().unwrap();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 404);
            assert_eq!(s.message, "pods \"ghost\" not found");
        }
        other => panic!("expected 404, got {other:?}"),
    }

    let mut big = serde_json::to_value(pod("big", "odoo:18.0")).unwrap();
    big["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "8"}});
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(big).unwrap(),
    )
    .await
    .unwrap();
    let err = pods.portforward("big", &[8069]).await.err().unwrap();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 400);
            assert_eq!(s.message, "pod big does not have a host assigned");
        }
        other => panic!("expected 400, got {other:?}"),
    }
}

#[test]
fn plain_requests_without_an_upgrade_get_400() {
    let server = test_apiserver::TestServer::start(Config::default().time_scale(0.02)).unwrap();
    let get = |path: &str, extra: &str| {
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = common::client_for(&server, "default").await;
        let pods: Api<Pod> = Api::default_namespaced(client);
        ready_pod(&pods, "odoo-0").await;
    });
    let path = "/api/v1/namespaces/default/pods/odoo-0/portforward?ports=8069";
    let out = get(path, "Connection: close\r\n");
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("Upgrade request required"), "{out}");
    let out = get(
        path,
        "Connection: Upgrade, close\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("not SPDY"), "{out}");
    let out = get(
        "/api/v1/namespaces/default/pods/odoo-0/portforward",
        "Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    let out = get(
        "/api/v1/namespaces/default/pods/odoo-0/portforward?ports=8069",
        "Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(
        out.contains("requested protocol(s) are not supported"),
        "{out}"
    );
}

#[tokio::test]
async fn base64_subprotocol_with_a_plain_websocket_client() {
    use base64::Engine;
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let b64 = base64::engine::general_purpose::STANDARD;

    let (server, client) = setup(fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    ready_pod(&pods, "odoo-0").await;

    let url = format!(
        "ws://{}/api/v1/namespaces/default/pods/odoo-0/portforward?ports=8069",
        server.addr()
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v4.base64.channel.k8s.io".parse().unwrap(),
    );
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut ws, resp) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
    assert_eq!(
        resp.headers()["Sec-WebSocket-Protocol"],
        "v4.base64.channel.k8s.io"
    );
    ws.send(Message::text(format!("0{}", b64.encode(LOGIN))))
        .await
        .unwrap();
    let mut frames = Vec::new();
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Text(t) => frames.push(t.to_string()),
            Message::Close(_) => break,
            _ => {}
        }
    }
    // Each channel opens with the port, little-endian: 8069 = 0x1f85.
    let port = b64.encode([0x85, 0x1f]);
    assert_eq!(frames[..2], [format!("0{port}"), format!("1{port}")]);
    let data: Vec<u8> = frames[2..]
        .iter()
        .filter_map(|f| f.strip_prefix('0'))
        .flat_map(|f| b64.decode(f).unwrap())
        .collect();
    let resp = String::from_utf8(data).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("default/odoo-0"), "{resp}");
    assert!(
        frames
            .iter()
            .all(|f| !f.starts_with('1') || *f == format!("1{port}"))
    );
}
