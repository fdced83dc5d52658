//! Controllers and the scripted kubelet, seen through kube-rs.

mod common;

use common::{eventually, setup};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use test_apiserver::{Config, Scenario};

const SCENARIO: &str = r#"
defaults: {readyAfterSeconds: 1}
node: {cpu: "4", memory: "8Gi"}
pods:
  - selector: {app.kubernetes.io/component: upgrade}
    exitCode: 1
    runSeconds: 2
    logs: ["loading module sale", "ERROR: module sale failed"]
  - selector: {app: init}
    container: first
    runSeconds: 20
images:
  "odoo:18.0-missing": {pull: fail}
  "odoo:18.0-crash": {crash: {afterSeconds: 1, exitCode: 1, logs: ["Traceback (most recent call last):", "KeyError: 'db'"]}}
  "odoo:18.0-oom": {oomKilled: true}
  "odoo:18.0-slow": {readyAfterSeconds: 20}
"#;

fn config() -> Config {
    Config::default()
        .time_scale(0.02)
        .scenario(Scenario::from_yaml(SCENARIO).unwrap())
}

fn deploy(name: &str, image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "odoo", "image": image}]}}}
    })
}

fn apply() -> PatchParams {
    PatchParams::apply("test").force()
}

async fn pods_of(pods: &Api<Pod>, app: &str) -> Vec<Pod> {
    pods.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
}

fn waiting_reason(p: &Pod) -> Option<(String, String)> {
    let cs = p.status.as_ref()?.container_statuses.as_ref()?;
    let w = cs[0].state.as_ref()?.waiting.as_ref()?;
    Some((w.reason.clone()?, w.message.clone().unwrap_or_default()))
}

#[tokio::test]
async fn deployment_rolls_out_and_updates() {
    let (_s, client) = setup(config()).await;
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let rss: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    deps.patch(
        "web",
        &apply(),
        &Patch::Apply(deploy("web", "odoo:18.0", 2)),
    )
    .await
    .unwrap();
    let d = eventually(5, "deployment available", || async {
        let d = deps.get("web").await.unwrap();
        let st = d.status.clone()?;
        (st.available_replicas == Some(2) && st.updated_replicas == Some(2)).then_some(d)
    })
    .await;
    let st = d.status.unwrap();
    assert_eq!(st.observed_generation, Some(1));
    let progressing = st
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Progressing")
        .unwrap();
    assert_eq!(
        progressing.reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    let ps = pods_of(&pods, "web").await;
    assert_eq!(ps.len(), 2);
    for p in &ps {
        let st = p.status.as_ref().unwrap();
        assert_eq!(st.phase.as_deref(), Some("Running"));
        let ready = st
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "True");
        assert!(
            p.metadata
                .labels
                .as_ref()
                .unwrap()
                .contains_key("pod-template-hash")
        );
    }

    // New image: a second ReplicaSet takes over, the old one drops to 0.
    deps.patch(
        "web",
        &apply(),
        &Patch::Apply(deploy("web", "odoo:18.1", 2)),
    )
    .await
    .unwrap();
    eventually(5, "rollout of the new template", || async {
        let d = deps.get("web").await.unwrap();
        let st = d.status.clone()?;
        let done = d.metadata.generation == st.observed_generation
            && st.updated_replicas == Some(2)
            && st.replicas == Some(2)
            && st.available_replicas == Some(2);
        done.then_some(())
    })
    .await;
    let all = rss.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(all.len(), 2);
    let annotations = deps.get("web").await.unwrap().metadata.annotations.unwrap();
    assert_eq!(annotations["deployment.kubernetes.io/revision"], "2");
    let zero = all
        .iter()
        .filter(|r| r.spec.as_ref().unwrap().replicas == Some(0))
        .count();
    assert_eq!(zero, 1);

    // A disruption budget over the two ready pods allows one disruption.
    let pdbs: Api<k8s_openapi::api::policy::v1::PodDisruptionBudget> =
        Api::default_namespaced(client.clone());
    pdbs.patch(
        "web",
        &apply(),
        &Patch::Apply(
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        ),
    )
    .await
    .unwrap();
    let st = eventually(5, "pdb status", || async {
        let b = pdbs.get("web").await.unwrap();
        b.status.filter(|s| s.expected_pods == 2)
    })
    .await;
    assert_eq!(
        (
            st.current_healthy,
            st.desired_healthy,
            st.disruptions_allowed
        ),
        (2, 1, 1)
    );

    // Scale through the scale subresource.
    deps.patch_scale(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    eventually(5, "three ready pods", || async {
        let d = deps.get("web").await.unwrap();
        (d.status?.ready_replicas == Some(3)).then_some(())
    })
    .await;

    // Deleting the deployment garbage-collects its replica sets and pods.
    deps.delete("web", &DeleteParams::default()).await.unwrap();
    eventually(5, "garbage collection", || async {
        let left = rss.list(&ListParams::default()).await.unwrap().items.len()
            + pods.list(&ListParams::default()).await.unwrap().items.len();
        (left == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn image_pull_failure_and_crash_loop() {
    let (_s, client) = setup(config()).await;
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    deps.patch(
        "missing",
        &apply(),
        &Patch::Apply(deploy("missing", "odoo:18.0-missing", 1)),
    )
    .await
    .unwrap();
    deps.patch(
        "crash",
        &apply(),
        &Patch::Apply(deploy("crash", "odoo:18.0-crash", 1)),
    )
    .await
    .unwrap();
    let (reason, msg) = eventually(5, "ImagePullBackOff", || async {
        let ps = pods_of(&pods, "missing").await;
        waiting_reason(ps.first()?).filter(|(r, _)| r == "ImagePullBackOff")
    })
    .await;
    assert_eq!(reason, "ImagePullBackOff");
    assert!(msg.contains("odoo:18.0-missing"), "{msg}");

    let p = eventually(5, "CrashLoopBackOff", || async {
        let ps = pods_of(&pods, "crash").await;
        let p = ps.first()?.clone();
        waiting_reason(&p)
            .filter(|(r, _)| r == "CrashLoopBackOff")
            .map(|_| p)
    })
    .await;
    let cs = &p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    assert!(!cs.ready);
    let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(last.exit_code, 1);
    assert_eq!(last.reason.as_deref(), Some("Error"));
    let name = p.metadata.name.unwrap();
    let logs = pods
        .logs(
            &name,
            &LogParams {
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(logs.contains("KeyError: 'db'"), "{logs}");
    let d = deps.get("crash").await.unwrap();
    assert_eq!(d.status.unwrap().available_replicas, None);

    // Events tell the story, as `kubectl describe` would show.
    let events: Api<Event> = Api::default_namespaced(client.clone());
    let evs = events.list(&ListParams::default()).await.unwrap().items;
    assert!(evs.iter().any(|e| e.reason.as_deref() == Some("BackOff")
        && e.message.as_deref() == Some("Back-off pulling image \"odoo:18.0-missing\"")));
    assert!(
        evs.iter()
            .any(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
    );
}

#[tokio::test]
async fn jobs_complete_or_fail() {
    let (_s, client) = setup(config()).await;
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let job = |name: &str, labels: Value| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 1, "template": {"metadata": {"labels": labels},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "odoo:18.0"}]}}}})
    };
    jobs.patch("ok", &apply(), &Patch::Apply(job("ok", json!({"x": "y"}))))
        .await
        .unwrap();
    jobs.patch(
        "upgrade",
        &apply(),
        &Patch::Apply(job(
            "upgrade",
            json!({"app.kubernetes.io/component": "upgrade"}),
        )),
    )
    .await
    .unwrap();
    let cond = |j: &Job, ty: &str| {
        j.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| {
                c.iter()
                    .find(|c| c.type_ == ty && c.status == "True")
                    .cloned()
            })
    };
    let ok = eventually(5, "job complete", || async {
        let j = jobs.get("ok").await.unwrap();
        cond(&j, "Complete").map(|_| j)
    })
    .await;
    assert_eq!(ok.status.as_ref().unwrap().succeeded, Some(1));
    let failed = eventually(10, "job failed", || async {
        let j = jobs.get("upgrade").await.unwrap();
        cond(&j, "Failed")
    })
    .await;
    assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
    let j = jobs.get("upgrade").await.unwrap();
    assert_eq!(j.status.unwrap().failed, Some(2));
    let ps = pods
        .list(&ListParams::default().labels("job-name=upgrade"))
        .await
        .unwrap()
        .items;
    assert_eq!(ps.len(), 2);
    let p = &ps[0];
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Failed"));
    let logs = pods
        .logs(p.metadata.name.as_ref().unwrap(), &LogParams::default())
        .await
        .unwrap();
    assert_eq!(logs, "loading module sale\nERROR: module sale failed\n");
}

#[tokio::test]
async fn missing_secret_key_blocks_start_until_fixed() {
    let (_s, client) = setup(config()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let s: Secret =
        serde_json::from_value(json!({"metadata": {"name": "db"}, "stringData": {"user": "odoo"}}))
            .unwrap();
    secrets.create(&PostParams::default(), &s).await.unwrap();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "odoo", "labels": {"app": "odoo"}},
        "spec": {"containers": [{"name": "odoo", "image": "odoo:18.0",
            "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let (reason, msg) = eventually(5, "CreateContainerConfigError", || async {
        waiting_reason(&pods.get("odoo").await.unwrap())
            .filter(|(r, _)| r == "CreateContainerConfigError")
    })
    .await;
    assert_eq!(reason, "CreateContainerConfigError");
    assert_eq!(msg, "couldn't find key password in Secret default/db");
    assert_eq!(
        pods.get("odoo")
            .await
            .unwrap()
            .status
            .unwrap()
            .phase
            .as_deref(),
        Some("Pending")
    );
    secrets
        .patch(
            "db",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"password": "x"}})),
        )
        .await
        .unwrap();
    eventually(5, "pod running once the key exists", || async {
        let p = pods.get("odoo").await.unwrap();
        (p.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await;

    // A deployment whose ServiceAccount is missing cannot create pods.
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let mut d = deploy("nosa", "odoo:18.0", 1);
    d["spec"]["template"]["spec"]["serviceAccountName"] = json!("ghost");
    deps.patch("nosa", &apply(), &Patch::Apply(d))
        .await
        .unwrap();
    let c = eventually(5, "ReplicaFailure", || async {
        let d = deps.get("nosa").await.unwrap();
        d.status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "ReplicaFailure")
    })
    .await;
    assert_eq!(c.reason.as_deref(), Some("FailedCreate"));
    assert!(
        c.message
            .unwrap()
            .contains("serviceaccount \"ghost\" not found")
    );

    // A ServiceAccount that does not exist: the pod is refused at admission.
    let bad: Pod = serde_json::from_value(json!({
        "metadata": {"name": "nosa"},
        "spec": {"serviceAccountName": "ghost", "containers": [{"name": "c", "image": "odoo:18.0"}]}
    }))
    .unwrap();
    match pods.create(&PostParams::default(), &bad).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message.contains("serviceaccount \"ghost\" not found"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test]
async fn statefulset_pods_and_claims() {
    let (_s, client) = setup(config()).await;
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "pg"},
        "spec": {"replicas": 2, "serviceName": "pg",
            "selector": {"matchLabels": {"app": "pg"}},
            "template": {"metadata": {"labels": {"app": "pg"}},
                "spec": {"containers": [{"name": "pg", "image": "postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}
    });
    sts.patch("pg", &apply(), &Patch::Apply(manifest.clone()))
        .await
        .unwrap();
    eventually(5, "statefulset ready", || async {
        let s = sts.get("pg").await.unwrap();
        (s.status?.ready_replicas == Some(2)).then_some(())
    })
    .await;
    let claims = pvcs
        .list(&ListParams::default().labels("app=pg"))
        .await
        .unwrap()
        .items;
    let mut names: Vec<String> = claims
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["data-pg-0", "data-pg-1"]);
    for c in &claims {
        assert_eq!(c.status.as_ref().unwrap().phase.as_deref(), Some("Bound"));
    }
    let p0 = pods.get("pg-0").await.unwrap();
    let p1 = pods.get("pg-1").await.unwrap();
    assert!(p0.metadata.creation_timestamp <= p1.metadata.creation_timestamp);
    let vols = p0.spec.unwrap().volumes.unwrap();
    assert_eq!(
        vols[0].persistent_volume_claim.as_ref().unwrap().claim_name,
        "data-pg-0"
    );
    // serviceName is immutable.
    let mut changed = manifest.clone();
    changed["spec"]["serviceName"] = json!("other");
    match sts.patch("pg", &apply(), &Patch::Apply(changed)).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 422);
            assert!(
                s.message.contains("Forbidden: updates to statefulset spec"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }
}

#[tokio::test]
async fn unschedulable_when_requests_exceed_node() {
    let (_s, client) = setup(config()).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "big"},
        "spec": {"containers": [{"name": "c", "image": "odoo:18.0",
            "resources": {"requests": {"cpu": "8", "memory": "1Gi"}}}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let c = eventually(5, "Unschedulable", || async {
        let p = pods.get("big").await.unwrap();
        p.status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    })
    .await;
    assert_eq!(c.reason.as_deref(), Some("Unschedulable"));
    assert!(
        c.message
            .unwrap()
            .starts_with("0/1 nodes are available: 1 Insufficient cpu.")
    );
}

#[tokio::test]
async fn progress_deadline_init_containers_and_oom() {
    let (_s, client) = setup(config()).await;
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let mut d = deploy("stuck", "odoo:18.0-missing", 1);
    d["spec"]["progressDeadlineSeconds"] = json!(10);
    deps.patch("stuck", &apply(), &Patch::Apply(d))
        .await
        .unwrap();
    let c = eventually(5, "ProgressDeadlineExceeded", || async {
        let d = deps.get("stuck").await.unwrap();
        d.status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "Progressing" && c.status == "False")
    })
    .await;
    assert_eq!(c.reason.as_deref(), Some("ProgressDeadlineExceeded"));

    // Init containers run first, in order; the main container waits.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "init", "labels": {"app": "init"}},
        "spec": {
            "initContainers": [
                {"name": "first", "image": "odoo:18.0"},
                {"name": "second", "image": "odoo:18.0"}],
            "containers": [{"name": "main", "image": "odoo:18.0"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let early = eventually(5, "first init container running", || async {
        let p = pods.get("init").await.unwrap();
        let st = p.status.clone()?;
        let inits = st.init_container_statuses.clone()?;
        inits[0].state.as_ref()?.running.as_ref()?;
        Some(p)
    })
    .await;
    let st = early.status.unwrap();
    let inits = st.init_container_statuses.unwrap();
    assert!(inits[1].state.as_ref().unwrap().waiting.is_some());
    let main = &st.container_statuses.unwrap()[0];
    assert_eq!(
        main.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("PodInitializing")
    );
    let initialized = st
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Initialized")
        .unwrap();
    assert_eq!(initialized.status, "False");
    let done = eventually(5, "pod ready after its init containers", || async {
        let p = pods.get("init").await.unwrap();
        let st = p.status.clone()?;
        (st.phase.as_deref() == Some("Running") && st.container_statuses.as_ref()?[0].ready)
            .then_some(p)
    })
    .await;
    for s in done.status.unwrap().init_container_statuses.unwrap() {
        let t = s.state.unwrap().terminated.unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
    }

    let oom: Pod = serde_json::from_value(json!({
        "metadata": {"name": "oom"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "odoo:18.0-oom"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &oom).await.unwrap();
    let t = eventually(5, "OOMKilled", || async {
        let p = pods.get("oom").await.unwrap();
        p.status?.container_statuses?[0].state.clone()?.terminated
    })
    .await;
    assert_eq!((t.exit_code, t.reason.as_deref()), (137, Some("OOMKilled")));
    assert_eq!(
        pods.get("oom")
            .await
            .unwrap()
            .status
            .unwrap()
            .phase
            .as_deref(),
        Some("Failed")
    );
}

const ATTEMPTS: &str = r#"
pods:
  - selector: {app.kubernetes.io/component: storage-init}
    attempts:
      - exitCode: 3
        logs: ["connecting to db", "psycopg2.OperationalError: FATAL:  password authentication failed for user \"odoo\""]
      - logs: ["storage ready"]
  - selector: {app.kubernetes.io/component: oom-once}
    attempts:
      - {oomKilled: true, logs: ["loading registry"]}
  - selector: {app: flaky}
    attempts:
      - crash: {afterSeconds: 1, exitCode: 1, logs: ["Traceback (most recent call last):", "KeyError: 'db'"]}
    logs: ["HTTP service (werkzeug) running on 0.0.0.0:8069"]
"#;

#[tokio::test]
async fn each_attempt_lives_its_own_life() {
    let config = Config::default()
        .time_scale(0.02)
        .scenario(Scenario::from_yaml(ATTEMPTS).unwrap());
    let (_s, client) = setup(config).await;
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let job = |name: &str, component: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 2, "template": {"metadata": {"labels": {"app.kubernetes.io/component": component}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "init", "image": "odoo:18.0"}]}}}})
    };
    jobs.patch(
        "storage-init",
        &apply(),
        &Patch::Apply(job("storage-init", "storage-init")),
    )
    .await
    .unwrap();
    jobs.patch(
        "oom-once",
        &apply(),
        &Patch::Apply(job("oom-once", "oom-once")),
    )
    .await
    .unwrap();
    for name in ["storage-init", "oom-once"] {
        eventually(10, "job complete after a failed attempt", || async {
            let j = jobs.get(name).await.unwrap();
            let st = j.status?;
            (st.succeeded == Some(1) && st.failed == Some(1)).then_some(())
        })
        .await;
    }
    let attempts = |name: &'static str| {
        let pods = pods.clone();
        async move {
            let mut ps = pods
                .list(&ListParams::default().labels(&format!("job-name={name}")))
                .await
                .unwrap()
                .items;
            ps.sort_by_key(|p| p.metadata.creation_timestamp.clone().map(|t| t.0));
            ps
        }
    };
    let ps = attempts("storage-init").await;
    assert_eq!(ps.len(), 2);
    let phases: Vec<_> = ps
        .iter()
        .map(|p| p.status.as_ref().unwrap().phase.clone().unwrap())
        .collect();
    let failed = ps
        .iter()
        .find(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Failed"))
        .unwrap();
    let ok = ps
        .iter()
        .find(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Succeeded"))
        .unwrap();
    assert!(phases.contains(&"Failed".to_string()), "{phases:?}");
    let t = failed
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((t.exit_code, t.reason.as_deref()), (3, Some("Error")));
    let tail = pods
        .logs(
            failed.metadata.name.as_ref().unwrap(),
            &LogParams {
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        tail,
        "psycopg2.OperationalError: FATAL:  password authentication failed for user \"odoo\"\n"
    );
    let logs = pods
        .logs(ok.metadata.name.as_ref().unwrap(), &LogParams::default())
        .await
        .unwrap();
    assert_eq!(logs, "storage ready\n");

    let ps = attempts("oom-once").await;
    let oom = ps
        .iter()
        .find(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Failed"))
        .unwrap();
    let t = oom
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((t.exit_code, t.reason.as_deref()), (137, Some("OOMKilled")));

    // A Deployment container: its first run crashes, the restart serves; the crash's
    // log stays readable with previous=true.
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    deps.patch(
        "flaky",
        &apply(),
        &Patch::Apply(deploy("flaky", "odoo:18.0", 1)),
    )
    .await
    .unwrap();
    let p = eventually(10, "ready after one restart", || async {
        let p = pods_of(&pods, "flaky").await.into_iter().next()?;
        let cs = p.status.as_ref()?.container_statuses.as_ref()?[0].clone();
        (cs.ready && cs.restart_count == 1).then_some(p)
    })
    .await;
    let name = p.metadata.name.unwrap();
    let previous = pods
        .logs(
            &name,
            &LogParams {
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        previous,
        "Traceback (most recent call last):\nKeyError: 'db'\n"
    );
    let current = pods.logs(&name, &LogParams::default()).await.unwrap();
    assert_eq!(current, "HTTP service (werkzeug) running on 0.0.0.0:8069\n");
}
