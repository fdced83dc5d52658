//! Fault injection, request counters, TLS, bearer tokens, bookmarks, log follow and
//! the binary.

mod common;

use common::{client_for, eventually, fast, setup};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use test_apiserver::{Config, FaultAction, FaultRule, Scenario, TestServer};

fn status_of(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A plain HTTP/1.1 request; returns the raw response head and body.
fn raw_get(addr: std::net::SocketAddr, path: &str, headers: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn injected_errors_throttling_and_forbidden() {
    let (server, client) = setup(fast()).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());

    // One 503: kube's client retries it, the server saw both.
    server
        .faults()
        .add(FaultRule::new(Some("list"), Some("configmaps"), FaultAction::Status(503)).times(1));
    cms.list(&ListParams::default())
        .await
        .expect("retried after the 503");
    let statuses: Vec<u16> = server
        .requests()
        .iter()
        .filter(|r| r.verb == "list" && r.resource == "configmaps")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![503, 200]);
    server.faults().fail(Some("list"), Some("configmaps"), 500);
    let e = status_of(cms.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (500, "InternalError"));
    server.faults().clear();

    server.faults().forbid("create", "configmaps");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    let e = status_of(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
    assert!(
        e.message.contains("cannot create resource \"configmaps\""),
        "{}",
        e.message
    );

    server.faults().throttle(Some("get"), Some("configmaps"), 2);
    let raw = raw_get(server.addr(), "/api/v1/namespaces/default/configmaps/x", "");
    assert!(raw.starts_with("HTTP/1.1 429"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("retry-after: 2"), "{raw}");

    server.faults().clear();
    cms.create(&PostParams::default(), &cm).await.unwrap();

    // Latency applies to every request.
    server.faults().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    cms.get("x").await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    server.faults().set_latency(Duration::ZERO);

    // Counters by verb and resource.
    assert_eq!(server.count("list", "configmaps"), 3);
    assert_eq!(server.count("create", "configmaps"), 2);
    assert!(server.count("get", "configmaps") >= 2);
    let r = server.requests();
    assert!(r.iter().any(|r| r.verb == "create" && r.status == 403));
    server.reset_requests();
    assert_eq!(server.count("list", "configmaps"), 0);
}

#[tokio::test]
async fn watch_cuts_and_bookmarks() {
    let (server, client) = setup(fast().bookmark_interval(Duration::from_millis(50))).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    for i in 0..5 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    server.faults().cut_watches_after_events(Some(2));
    let events: Vec<_> = cms
        .watch(&WatchParams::default().timeout(5), "0")
        .await
        .unwrap()
        .collect()
        .await;
    // kube-root-ca.crt plus five config maps exist; the stream stops after two.
    assert_eq!(events.len(), 2);
    server.faults().cut_watches_after_events(None);

    let rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let ev = tokio::time::timeout(Duration::from_secs(3), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match ev {
        WatchEvent::Bookmark(b) => assert_eq!(b.metadata.resource_version, rv),
        other => panic!("expected a bookmark, got {other:?}"),
    }

    // A watch with a time limit ends by itself.
    server
        .faults()
        .cut_watches_after(Some(Duration::from_millis(100)));
    let t = Instant::now();
    let evs: Vec<_> = cms
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .collect()
        .await;
    assert!(
        evs.iter().all(|e| matches!(e, Ok(WatchEvent::Bookmark(_)))),
        "{evs:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn tls_and_token() {
    let server = TestServer::start(fast().tls(true).token("s3cret")).unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let client = client_for(&server, "default").await;
    let v = client.apiserver_version().await.unwrap();
    assert_eq!(v.major, "1");
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    cms.list(&ListParams::default()).await.unwrap();

    let without = server
        .kubeconfig("default")
        .replace("    token: s3cret\n", "");
    let kc = kube::config::Kubeconfig::from_yaml(&without).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let anon: Api<ConfigMap> = Api::default_namespaced(kube::Client::try_from(cfg).unwrap());
    let e = status_of(anon.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(e.code, 401);
    assert_eq!(server.count("list", "configmaps"), 2);
}

#[tokio::test]
async fn logs_follow_until_the_container_exits() {
    let scenario = Scenario::from_yaml(
        r#"images:
  "busybox:job": {exitCode: 0, runSeconds: 10, logs: ["step 1", "step 2"]}
"#,
    )
    .unwrap();
    let (_server, client) = setup(Config::default().time_scale(0.05).scenario(scenario)).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "runner"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:job"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    eventually(5, "running", || async {
        let p = pods.get("runner").await.unwrap();
        (p.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await;
    let t = Instant::now();
    let lines: Vec<String> = pods
        .log_stream(
            "runner",
            &LogParams {
                follow: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lines()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(lines, vec!["step 1", "step 2"]);
    // The stream stayed open until the container exited (10 s scaled to 0.5 s).
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    let p = pods.get("runner").await.unwrap();
    let st = p.status.unwrap();
    assert_eq!(st.phase.as_deref(), Some("Succeeded"));
    let term = st.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (term.exit_code, term.reason.as_deref()),
        (0, Some("Completed"))
    );
}

#[test]
fn binary_serves_until_killed() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_test-apiserver"))
        .args(["--port", "0", "--latency-ms", "1", "--kubeconfig-out"])
        .arg(&kc)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert!(
        line.starts_with("test-apiserver listening on http://127.0.0.1:"),
        "{line}"
    );
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !kc.exists() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let written = std::fs::read_to_string(&kc).unwrap();
    assert!(written.contains(&format!("server: {url}")), "{written}");
    let raw = raw_get(addr, "/version", "");
    assert!(raw.contains("\"gitVersion\""), "{raw}");
    child.kill().unwrap();
    child.wait().unwrap();
}
