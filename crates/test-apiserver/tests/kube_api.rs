//! kube-rs `Api`, `Patch::Apply` and `watcher` against the server.

mod common;

use common::{eventually, fast, setup};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use std::time::Duration;

fn deployment(labels: serde_json::Value, image: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "odoo", "image": image,
                    "ports": [{"containerPort": 8069}]}]}}
        }
    })
}

fn api_err(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn crud_and_string_data() {
    let (_server, client) = setup(fast()).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "conf", "labels": {"app": "odoo"}},
        "data": {"a": "1"}
    }))
    .unwrap();
    let created = cms.create(&PostParams::default(), &cm).await.unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    assert!(created.metadata.creation_timestamp.is_some());
    let again = cms.create(&PostParams::default(), &cm).await.unwrap_err();
    let s = api_err(again);
    assert_eq!(s.code, 409);
    assert_eq!(s.reason, "AlreadyExists");

    let got = cms.get("conf").await.unwrap();
    assert_eq!(got.metadata.uid.as_deref(), Some(uid.as_str()));
    let listed = cms
        .list(&ListParams::default().labels("app=odoo"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(
        cms.list(&ListParams::default().labels("app in (pg)"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let missing = api_err(cms.get("nope").await.unwrap_err());
    assert_eq!(missing.code, 404);
    assert_eq!(missing.message, "configmaps \"nope\" not found");

    // A merge patch bumps resourceVersion; the same patch again does not.
    let p = PatchParams::default();
    let v1 = cms
        .patch("conf", &p, &Patch::Merge(json!({"data": {"b": "2"}})))
        .await
        .unwrap();
    let v2 = cms
        .patch("conf", &p, &Patch::Merge(json!({"data": {"b": "2"}})))
        .await
        .unwrap();
    assert_ne!(v1.metadata.resource_version, got.metadata.resource_version);
    assert_eq!(v1.metadata.resource_version, v2.metadata.resource_version);

    // Stale resourceVersion on update: 409 Conflict.
    let mut stale = got.clone();
    stale.data = Some([("c".to_string(), "3".to_string())].into());
    let s = api_err(
        cms.replace("conf", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));

    cms.delete("conf", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_err(cms.get("conf").await.unwrap_err()).code, 404);

    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}
    }))
    .unwrap();
    let s = secrets.create(&PostParams::default(), &s).await.unwrap();
    assert!(s.string_data.is_none());
    assert_eq!(s.data.unwrap()["password"].0, b"hunter2");
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
}

#[tokio::test]
async fn server_side_apply_semantics() {
    let (_server, client) = setup(fast()).await;
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let pp = PatchParams::apply("odoo-tui");
    let first = deps
        .patch(
            "web",
            &pp,
            &Patch::Apply(deployment(
                json!({"app": "web", "tier": "front"}),
                "odoo:18.0",
            )),
        )
        .await
        .unwrap();
    assert_eq!(first.metadata.generation, Some(1));
    let mf = first.metadata.managed_fields.clone().unwrap();
    assert_eq!(mf.len(), 1);
    assert_eq!(mf[0].manager.as_deref(), Some("odoo-tui"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_value(&mf[0].fields_v1).unwrap();
    assert!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"odoo\"}"]["f:image"]
            .is_object(),
        "{fields}"
    );
    // Defaults are stored.
    assert_eq!(
        first.spec.as_ref().unwrap().progress_deadline_seconds,
        Some(600)
    );

    // Same manifest again: nothing changes. (Wait for the controllers to settle first:
    // their status writes are changes too.)
    let settled = eventually(5, "deployment available", || async {
        let d = deps.get("web").await.unwrap();
        (d.status.as_ref()?.available_replicas == Some(1)).then_some(d)
    })
    .await;
    let second = deps
        .patch(
            "web",
            &pp,
            &Patch::Apply(deployment(
                json!({"app": "web", "tier": "front"}),
                "odoo:18.0",
            )),
        )
        .await
        .unwrap();
    assert_eq!(
        second.metadata.resource_version,
        settled.metadata.resource_version
    );
    assert_eq!(second.metadata.generation, Some(1));

    // Dropping a label removes it on the server; metadata-only change keeps generation.
    let third = deps
        .patch(
            "web",
            &pp,
            &Patch::Apply(deployment(json!({"app": "web"}), "odoo:18.0")),
        )
        .await
        .unwrap();
    let labels = third.metadata.labels.clone().unwrap();
    assert!(!labels.contains_key("tier"), "{labels:?}");
    assert_ne!(
        third.metadata.resource_version,
        second.metadata.resource_version
    );
    assert_eq!(third.metadata.generation, Some(1));

    // Dropping an item of an associative list (env by name) removes just that item.
    let mut with_env = deployment(json!({"app": "web"}), "odoo:18.0");
    with_env["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]);
    deps.patch("web", &pp, &Patch::Apply(with_env.clone()))
        .await
        .unwrap();
    with_env["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}]);
    let fewer = deps
        .patch("web", &pp, &Patch::Apply(with_env))
        .await
        .unwrap();
    let env = fewer.spec.unwrap().template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap();
    assert_eq!(env.len(), 1);
    assert_eq!(env[0].name, "A");
    deps.patch(
        "web",
        &pp,
        &Patch::Apply(deployment(json!({"app": "web"}), "odoo:18.0")),
    )
    .await
    .unwrap();
    // Let the rollouts these template changes caused finish.
    let third = eventually(5, "rollout settled", || async {
        let d = deps.get("web").await.unwrap();
        let st = d.status.as_ref()?;
        let done = st.observed_generation == d.metadata.generation
            && st.updated_replicas == Some(1)
            && st.replicas == Some(1)
            && st.available_replicas == Some(1);
        done.then_some(d)
    })
    .await;

    // Another manager setting the image differently conflicts...
    let other = PatchParams::apply("someone-else");
    let e = api_err(
        deps.patch(
            "web",
            &other,
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "odoo", "image": "odoo:17.0"}]}}}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    assert!(
        e.message.contains("conflict with \"odoo-tui\""),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains(".spec.template.spec.containers[name=\"odoo\"].image"),
        "{}",
        e.message
    );

    // ... a dry run stores nothing ...
    let dry = deps
        .patch(
            "web",
            &PatchParams::apply("someone-else").force().dry_run(),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "odoo", "image": "odoo:17.0"}]}}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        dry.spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
            .image
            .as_deref(),
        Some("odoo:17.0")
    );
    let stored = deps.get("web").await.unwrap();
    assert_eq!(
        stored.metadata.resource_version,
        third.metadata.resource_version
    );

    // ... and force takes ownership; the spec change bumps generation.
    let forced = deps
        .patch(
            "web",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "odoo", "image": "odoo:17.0"}]}}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        forced.metadata.generation,
        third.metadata.generation.map(|g| g + 1)
    );
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.contains(&"someone-else".to_string()));

    // Immutable selector: 422.
    let mut bad = deployment(json!({"app": "web"}), "odoo:17.0");
    bad["spec"]["selector"]["matchLabels"]["app"] = json!("other");
    bad["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
    let e = api_err(
        deps.patch(
            "web",
            &PatchParams::apply("odoo-tui").force(),
            &Patch::Apply(bad),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    assert!(e.message.contains("field is immutable"), "{}", e.message);
}

#[tokio::test]
async fn watcher_sees_changes_and_namespace_lifecycle() {
    let (_server, client) = setup(fast()).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let stream = watcher(cms.clone(), watcher::Config::default().labels("app=w"))
        .default_backoff()
        .applied_objects();
    let mut stream = Box::pin(stream);
    let creator = cms.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for i in 0..3 {
            let cm: ConfigMap = serde_json::from_value(json!({
                "metadata": {"name": format!("w{i}"), "labels": {"app": "w"}}
            }))
            .unwrap();
            creator.create(&PostParams::default(), &cm).await.unwrap();
        }
    });
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let next = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("watch event in time")
            .expect("no watch error")
            .expect("stream open");
        seen.push(next.metadata.name.unwrap());
    }
    seen.sort();
    assert_eq!(seen, vec!["w0", "w1", "w2"]);

    // Namespace creation and deletion: contents go with it.
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "scratch"}})).unwrap();
    nss.create(&PostParams::default(), &ns).await.unwrap();
    let in_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "scratch");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    in_ns.create(&PostParams::default(), &cm).await.unwrap();
    nss.delete("scratch", &DeleteParams::default())
        .await
        .unwrap();
    eventually(5, "namespace removal", || async {
        nss.get_opt("scratch")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(in_ns.get_opt("x").await.unwrap().is_none());
    let missing_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "nowhere");
    let e = api_err(
        missing_ns
            .create(&PostParams::default(), &cm)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
    assert_eq!(e.message, "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn watch_from_old_version_is_gone() {
    let server = test_apiserver::TestServer::start(fast().history(5)).unwrap();
    let client = common::client_for(&server, "default").await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let start = cms.list(&ListParams::default()).await.unwrap();
    let rv = start.metadata.resource_version.unwrap();
    for i in 0..10 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    let mut events = cms
        .watch(&kube::api::WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap();
    match first {
        Ok(kube::api::WatchEvent::Error(e)) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 410),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}

#[tokio::test]
async fn paging_and_streaming_list_watcher() {
    let (_server, client) = setup(fast()).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    for i in 0..5 {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": format!("p{i}"), "labels": {"page": "yes"}}
        }))
        .unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    let mut names = Vec::new();
    let mut lp = ListParams::default().labels("page=yes").limit(2);
    loop {
        let page = cms.list(&lp).await.unwrap();
        assert!(page.items.len() <= 2);
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    assert_eq!(names, vec!["p0", "p1", "p2", "p3", "p4"]);

    // Metadata-only lists (PartialObjectMetadata).
    let meta = cms
        .list_metadata(&ListParams::default().labels("page=yes"))
        .await
        .unwrap();
    assert_eq!(meta.items.len(), 5);
    assert_eq!(
        meta.items[0].types.as_ref().unwrap().kind,
        "PartialObjectMetadata"
    );
    let one = cms.get_metadata("p1").await.unwrap();
    assert_eq!(one.metadata.labels.unwrap()["page"], "yes");

    // kube's streaming-list watcher (sendInitialEvents + the initial-events-end bookmark).
    let cfg = watcher::Config::default()
        .labels("page=yes")
        .streaming_lists();
    let mut stream = Box::pin(watcher(cms.clone(), cfg));
    let mut seen = 0;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("event in time")
            .expect("no error")
            .expect("open");
        match ev {
            watcher::Event::InitApply(_) => seen += 1,
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(seen, 5);
}
