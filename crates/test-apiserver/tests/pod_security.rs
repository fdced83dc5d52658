//! Pod Security admission by namespace labels, and how controllers fail under it.

mod common;

use common::{eventually, setup};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod, ServiceAccount};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use test_apiserver::Config;

fn namespace(name: &str, labels: Value) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
}

fn plain_pod(name: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "odoo:18.0"}]}}))
    .unwrap()
}

fn hardened_spec() -> Value {
    json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 101, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "image": "odoo:18.0", "securityContext": {
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]}}}],
        "volumes": [{"name": "tmp", "emptyDir": {}}]})
}

/// Create a namespace and wait for its `default` ServiceAccount (pods need it, as on a
/// cluster).
async fn make_namespace(client: &kube::Client, name: &str, labels: Value) {
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(&PostParams::default(), &namespace(name, labels))
        .await
        .unwrap();
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
    eventually(5, "the default ServiceAccount", || async {
        sas.get_opt("default").await.unwrap().map(|_| ())
    })
    .await;
}

const RESTRICTED_PLAIN: &str = "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";

#[tokio::test]
async fn restricted_namespaces_refuse_weak_pods() {
    let (_s, client) = setup(Config::default().time_scale(0.02)).await;
    make_namespace(
        &client,
        "secure",
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "secure");
    let err = pods
        .create(&PostParams::default(), &plain_pod("p"))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("expected 403, got {err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        format!("pods \"p\" is forbidden: {RESTRICTED_PLAIN}")
    );

    // Root, privileged, host namespaces: each named.
    let worse: Pod = serde_json::from_value(json!({"metadata": {"name": "root"},
        "spec": {"hostPID": true, "securityContext": {"runAsUser": 0},
            "containers": [{"name": "c", "image": "odoo:18.0", "securityContext": {"privileged": true,
                "capabilities": {"add": ["NET_ADMIN"]}}}]}}))
    .unwrap();
    let kube::Error::Api(s) = pods
        .create(&PostParams::default(), &worse)
        .await
        .unwrap_err()
    else {
        panic!()
    };
    for part in [
        "host namespaces (hostPID=true)",
        "privileged (container \"c\" must not set securityContext.privileged=true)",
        "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"c\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)",
        "runAsUser=0 (pod must not set runAsUser=0)",
    ] {
        assert!(s.message.contains(part), "{part} in {}", s.message);
    }

    // A hardened pod is admitted and runs.
    let good: Pod =
        serde_json::from_value(json!({"metadata": {"name": "good"}, "spec": hardened_spec()}))
            .unwrap();
    pods.create(&PostParams::default(), &good).await.unwrap();
    eventually(5, "hardened pod running", || async {
        let p = pods.get("good").await.unwrap();
        (p.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await;

    // Controllers fail the way they do on a cluster.
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "secure");
    deps.patch(
        "web",
        &PatchParams::apply("odoo-tui"),
        &Patch::Apply(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "odoo:18.0"}]}}}}),
        ),
    )
    .await
    .unwrap();
    let cond = eventually(5, "ReplicaFailure on the deployment", || async {
        let d = deps.get("web").await.unwrap();
        d.status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "ReplicaFailure")
    })
    .await;
    assert_eq!(cond.reason.as_deref(), Some("FailedCreate"));
    let msg = cond.message.unwrap();
    assert!(
        msg.starts_with("pods \"web-")
            && msg.ends_with(&format!("\" is forbidden: {RESTRICTED_PLAIN}")),
        "{msg}"
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), "secure");
    jobs.patch(
        "init",
        &PatchParams::apply("odoo-tui"),
        &Patch::Apply(
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "init"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "odoo:18.0"}]}}}}),
        ),
    )
    .await
    .unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), "secure");
    let failed = eventually(5, "FailedCreate on the job", || async {
        events
            .list(&ListParams::default().fields("involvedObject.name=init,reason=FailedCreate"))
            .await
            .unwrap()
            .items
            .into_iter()
            .next()
    })
    .await;
    let m = failed.message.unwrap();
    assert!(m.starts_with("Error creating: pods \"init-"), "{m}");
    assert!(m.contains(RESTRICTED_PLAIN), "{m}");
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
}

#[tokio::test]
async fn baseline_allows_what_restricted_refuses() {
    let (_s, client) = setup(Config::default().time_scale(0.02)).await;
    make_namespace(
        &client,
        "base",
        json!({"pod-security.kubernetes.io/enforce": "baseline",
               "pod-security.kubernetes.io/enforce-version": "v1.33"}),
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "base");
    pods.create(&PostParams::default(), &plain_pod("plain"))
        .await
        .unwrap();
    let host: Pod = serde_json::from_value(json!({"metadata": {"name": "host"},
        "spec": {"containers": [{"name": "c", "image": "odoo:18.0", "ports": [{"containerPort": 80, "hostPort": 80}]}],
            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]}}))
    .unwrap();
    let kube::Error::Api(s) = pods
        .create(&PostParams::default(), &host)
        .await
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        s.message,
        "pods \"host\" is forbidden: violates PodSecurity \"baseline:v1.33\": hostPort (container \"c\" uses hostPort 80), hostPath volumes (volume \"logs\")"
    );
}
