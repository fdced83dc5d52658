//! Many objects in one namespace: 50 instances' workloads and 5,000 unrelated Events.
//! Prints how long selections and a rollout take (no timing assertions: the numbers
//! depend on the machine); run with `--nocapture` to read them.

mod common;

use common::{client_for, eventually};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_apiserver::{Config, TestServer};

const NS: &str = "crowd";

fn instance(i: usize) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/instance": format!("i{i}"), "app": format!("web-i{i}")});
    let pod_spec = json!({"containers": [{"name": "odoo", "image": "odoo:18.0"}]});
    vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": format!("web-i{i}"), "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec}}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("conf-i{i}"), "labels": labels},
            "data": {"odoo.conf": "[options]\n"}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("web-i{i}"), "labels": labels},
            "spec": {"selector": labels, "ports": [{"port": 8069}]}}),
    ]
}

async fn apply_all(client: &kube::Client, objects: Vec<Value>) {
    stream::iter(objects)
        .map(|o| {
            let client = client.clone();
            async move {
                let kind = o["kind"].as_str().unwrap().to_string();
                let name = o["metadata"]["name"].as_str().unwrap().to_string();
                let pp = PatchParams::apply("scale").force();
                let patch = Patch::Apply(o);
                match kind.as_str() {
                    "Deployment" => {
                        let api: Api<Deployment> = Api::namespaced(client, NS);
                        api.patch(&name, &pp, &patch).await.map(|_| ())
                    }
                    "ConfigMap" => {
                        let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
                            Api::namespaced(client, NS);
                        api.patch(&name, &pp, &patch).await.map(|_| ())
                    }
                    _ => {
                        let api: Api<k8s_openapi::api::core::v1::Service> =
                            Api::namespaced(client, NS);
                        api.patch(&name, &pp, &patch).await.map(|_| ())
                    }
                }
            }
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
}

async fn probe_rollout(client: &kube::Client, ns: &str) -> Duration {
    let deps: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let mut d = instance(999).remove(0);
    d["metadata"]["name"] = json!("probe");
    let start = Instant::now();
    deps.patch("probe", &PatchParams::apply("scale"), &Patch::Apply(d))
        .await
        .unwrap();
    eventually(60, "probe available", || async {
        let d = deps.get("probe").await.unwrap();
        (d.status?.available_replicas == Some(1)).then_some(())
    })
    .await;
    start.elapsed()
}

async fn per_request<F, Fut>(n: u32, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for _ in 0..n {
        f().await;
    }
    start.elapsed().as_secs_f64() * 1000.0 / n as f64
}

#[tokio::test]
async fn fifty_instances_and_five_thousand_events() {
    let config = || Config::default().time_scale(0.02).history(20_000);

    // Baseline: the same rollout on an empty server.
    let empty = TestServer::start(config()).unwrap();
    let empty_client = client_for(&empty, "default").await;
    let alone = probe_rollout(&empty_client, "default").await;

    let server = TestServer::start(config()).unwrap();
    let client = client_for(&server, NS).await;
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap(),
    )
    .await
    .unwrap();

    let started = Instant::now();
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    stream::iter(0..5000)
        .map(|k| {
            let events = events.clone();
            async move {
                let e: Event = serde_json::from_value(json!({
                    "metadata": {"name": format!("other.{k:05}")},
                    "involvedObject": {"kind": "Pod", "namespace": NS, "name": format!("other-{}", k % 500), "uid": format!("u-{}", k % 500)},
                    "reason": "Pulled", "message": "Container image already present on machine", "type": "Normal",
                }))
                .unwrap();
                events.create(&PostParams::default(), &e).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    let seeded_events = started.elapsed();

    let started = Instant::now();
    apply_all(&client, (0..50).flat_map(instance).collect()).await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    eventually(120, "50 deployments available", || async {
        let all = deps.list(&ListParams::default()).await.unwrap().items;
        let ready = all
            .iter()
            .filter(|d| d.status.as_ref().and_then(|s| s.available_replicas) == Some(1))
            .count();
        (ready == 50).then_some(())
    })
    .await;
    let settled = started.elapsed();

    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let by_label = per_request(100, || async {
        let l = pods
            .list(&ListParams::default().labels("app.kubernetes.io/instance=i7"))
            .await
            .unwrap();
        assert_eq!(l.items.len(), 1);
    })
    .await;
    let by_field = per_request(100, || async {
        let l = events
            .list(&ListParams::default().fields("involvedObject.name=web-i7"))
            .await
            .unwrap();
        assert!(!l.items.is_empty());
    })
    .await;
    let unrelated = per_request(100, || async {
        let l = events
            .list(&ListParams::default().fields("involvedObject.name=other-7"))
            .await
            .unwrap();
        assert_eq!(l.items.len(), 10);
    })
    .await;

    // A watch with a field selector sees the probe's events, while the crowd is there.
    let watched = events.clone();
    let watch = tokio::spawn(async move {
        let start = Instant::now();
        let mut s = watcher(
            watched,
            watcher::Config::default().fields("involvedObject.name=probe"),
        )
        .boxed();
        while let Some(ev) = s.next().await {
            if let Ok(watcher::Event::Apply(e) | watcher::Event::InitApply(e)) = ev
                && e.reason.as_deref() == Some("ScalingReplicaSet")
            {
                return start.elapsed();
            }
        }
        start.elapsed()
    });
    let crowded = probe_rollout(&client, NS).await;
    let watch_first = tokio::time::timeout(Duration::from_secs(30), watch)
        .await
        .expect("watch saw the probe's event")
        .unwrap();

    println!("scale: 5000 events created in {:.2?}", seeded_events);
    println!("scale: 50 instances applied and available in {settled:.2?}");
    println!("scale: list pods by label: {by_label:.2} ms/request");
    println!("scale: list events by involvedObject.name (one instance): {by_field:.2} ms/request");
    println!("scale: list events by involvedObject.name (10 unrelated): {unrelated:.2} ms/request");
    println!("scale: probe rollout alone {alone:.2?}, among the crowd {crowded:.2?}");
    println!("scale: watch by field selector saw the probe's first event after {watch_first:.2?}");
}
