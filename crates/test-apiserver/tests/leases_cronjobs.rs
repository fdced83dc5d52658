//! Leases (a lock with optimistic concurrency), server-side apply preconditions and
//! CronJobs on the scaled clock, through kube-rs.

mod common;

use common::{eventually, setup};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use test_apiserver::{Config, Scenario};

fn api_err(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn lease(name: &str, holder: &str) -> Lease {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app.kubernetes.io/instance": "shop"}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 60,
            "acquireTime": "2025-01-01T10:00:00.000000Z", "renewTime": "2025-01-01T10:00:00.000000Z",
            "leaseTransitions": 0}
    }))
    .unwrap()
}

#[tokio::test]
async fn lease_is_a_lock_with_optimistic_concurrency() {
    let (_s, client) = setup(Config::default().time_scale(0.02)).await;
    let leases: Api<Lease> = Api::default_namespaced(client.clone());
    let created = leases
        .create(&PostParams::default(), &lease("shop", "host-a/1"))
        .await
        .unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    assert_eq!(
        created.spec.as_ref().unwrap().holder_identity.as_deref(),
        Some("host-a/1")
    );

    // A second holder cannot create it.
    let s = api_err(
        leases
            .create(&PostParams::default(), &lease("shop", "host-b/2"))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(
        s.message,
        "leases.coordination.k8s.io \"shop\" already exists"
    );

    // Renew with the version read: accepted.
    let mut renewed = created.clone();
    renewed.spec.as_mut().unwrap().lease_transitions = Some(1);
    let renewed = leases
        .replace("shop", &PostParams::default(), &renewed)
        .await
        .unwrap();
    assert_ne!(
        renewed.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );

    // A writer holding the old version loses.
    let mut stale = created.clone();
    stale.spec.as_mut().unwrap().holder_identity = Some("host-b/2".into());
    let s = api_err(
        leases
            .replace("shop", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"shop\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // Server-side apply with a resourceVersion in the body is a precondition too.
    let ssa = |holder: &str, rv: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "shop", "resourceVersion": rv},
            "spec": {"holderIdentity": holder}})
    };
    let pp = PatchParams::apply("odoo-tui").force();
    let s = api_err(
        leases
            .patch("shop", &pp, &Patch::Apply(ssa("host-b/2", &rv)))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    let current = renewed.metadata.resource_version.clone().unwrap();
    let taken = leases
        .patch("shop", &pp, &Patch::Apply(ssa("host-b/2", &current)))
        .await
        .unwrap();
    assert_eq!(
        taken.spec.unwrap().holder_identity.as_deref(),
        Some("host-b/2")
    );

    // Listing and deleting like any namespaced kind.
    let listed = leases
        .list(&ListParams::default().labels("app.kubernetes.io/instance=shop"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn ssa_resource_version_is_checked_for_every_kind() {
    let (_s, client) = setup(Config::default().time_scale(0.02)).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let pp = PatchParams::apply("odoo-tui");
    let first = cms
        .patch(
            "record",
            &pp,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "record"}, "data": {"state": "installing"}})),
        )
        .await
        .unwrap();
    let rv = first.metadata.resource_version.unwrap();
    let write = |state: &str, rv: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "record", "resourceVersion": rv}, "data": {"state": state}})
    };
    cms.patch("record", &pp, &Patch::Apply(write("ready", &rv)))
        .await
        .unwrap();
    let s = api_err(
        cms.patch("record", &pp, &Patch::Apply(write("failed", &rv)))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        cms.get("record").await.unwrap().data.unwrap()["state"],
        "ready"
    );
}

#[tokio::test]
async fn lease_fields_are_validated() {
    let (_s, client) = setup(Config::default().time_scale(0.02)).await;
    let leases: Api<Lease> = Api::default_namespaced(client.clone());
    let mut bad = lease("bad", "h");
    bad.spec.as_mut().unwrap().lease_duration_seconds = Some(0);
    let s = api_err(
        leases
            .create(&PostParams::default(), &bad)
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    assert_eq!(
        s.message,
        "Lease.coordination.k8s.io \"bad\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    );
    // renewTime is a MicroTime: six fractional digits.
    let raw: Api<kube::api::DynamicObject> =
        Api::default_namespaced_with(client.clone(), &kube::api::ApiResource::erase::<Lease>(&()));
    let obj: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "seconds"}, "spec": {"renewTime": "2025-01-01T10:00:00Z"}}))
    .unwrap();
    let s = api_err(raw.create(&PostParams::default(), &obj).await.unwrap_err());
    assert_eq!(s.code, 400);
    assert!(
        s.message.contains(
            "parsing time \"2025-01-01T10:00:00Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""
        ),
        "{}",
        s.message
    );
}

const SCENARIO: &str = r#"
pods:
  - selector: {task: slow}
    exitCode: 0
    runSeconds: 100000
images: {}
"#;

fn cronjob(name: &str, schedule: &str, policy: &str, task: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
        "spec": {"schedule": schedule, "concurrencyPolicy": policy,
            "successfulJobsHistoryLimit": 2, "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {"labels": {"app.kubernetes.io/component": "backup"}},
                "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": {"task": task}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "backup", "image": "odoo:18.0"}]}}}}}})
}

fn events_of(evs: &[Event], name: &str, reason: &str) -> Vec<String> {
    evs.iter()
        .filter(|e| {
            e.involved_object.name.as_deref() == Some(name) && e.reason.as_deref() == Some(reason)
        })
        .map(|e| e.message.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn cronjobs_run_on_the_scaled_clock() {
    let config = Config::default()
        .time_scale(0.01)
        .scenario(Scenario::from_yaml(SCENARIO).unwrap());
    let (server, client) = setup(config).await;
    let cjs: Api<CronJob> = Api::default_namespaced(client.clone());
    let jobs: Api<Job> = Api::default_namespaced(client.clone());
    let events: Api<Event> = Api::default_namespaced(client.clone());
    let pp = PatchParams::apply("odoo-tui");

    cjs.patch(
        "backup",
        &pp,
        &Patch::Apply(cronjob("backup", "*/1 * * * *", "Forbid", "quick")),
    )
    .await
    .unwrap();
    let created = cjs.get("backup").await.unwrap();
    assert_eq!(
        created.spec.as_ref().unwrap().suspend,
        Some(false),
        "defaults"
    );

    // A job within a second (a scheduled minute is 0.6 s), named after its minute.
    let first = eventually(3, "first scheduled job", || async {
        jobs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .next()
    })
    .await;
    let name = first.metadata.name.clone().unwrap();
    let owner = &first.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("CronJob", "backup")
    );
    assert_eq!(owner.controller, Some(true));
    let stamp = &first.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/cronjob-scheduled-timestamp"];
    let minutes: i64 = name.strip_prefix("backup-").unwrap().parse().unwrap();
    let scheduled = chrono_free_unix(stamp);
    assert_eq!(scheduled % 60, 0);
    assert_eq!(minutes, scheduled / 60);
    assert_eq!(
        first.metadata.labels.as_ref().unwrap()["app.kubernetes.io/component"],
        "backup"
    );

    // Jobs complete; history keeps the two newest successful ones.
    eventually(15, "older jobs pruned by the history limit", || async {
        let evs = events.list(&ListParams::default()).await.unwrap().items;
        (!events_of(&evs, "backup", "SuccessfulDelete").is_empty()).then_some(())
    })
    .await;
    let cj = eventually(5, "status with lastSuccessfulTime", || async {
        let cj = cjs.get("backup").await.unwrap();
        cj.status
            .as_ref()?
            .last_successful_time
            .as_ref()
            .map(|_| cj.clone())
    })
    .await;
    assert!(cj.status.unwrap().last_schedule_time.is_some());
    let evs = events.list(&ListParams::default()).await.unwrap().items;
    assert!(
        events_of(&evs, "backup", "SuccessfulCreate")
            .iter()
            .any(|m| m.starts_with("Created job backup-"))
    );
    assert!(
        events_of(&evs, "backup", "SawCompletedJob")
            .iter()
            .any(|m| m.ends_with(", condition: Complete"))
    );
    eventually(5, "at most two finished jobs kept", || async {
        let left = jobs.list(&ListParams::default()).await.unwrap().items;
        (left.len() <= 3).then_some(())
    })
    .await;

    // Forbid: a job that runs long blocks the next ones.
    cjs.patch(
        "slow",
        &pp,
        &Patch::Apply(cronjob("slow", "*/1 * * * *", "Forbid", "slow")),
    )
    .await
    .unwrap();
    let msg = eventually(5, "JobAlreadyActive", || async {
        let evs = events.list(&ListParams::default()).await.unwrap().items;
        events_of(&evs, "slow", "JobAlreadyActive")
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        msg,
        "Not starting job because prior execution is running and concurrency policy is Forbid"
    );
    let slow_jobs = jobs
        .list(&ListParams::default().labels("app.kubernetes.io/component=backup"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|j| j.metadata.name.as_deref().unwrap().starts_with("slow-"))
        .count();
    assert_eq!(slow_jobs, 1);
    let active = cjs
        .get("slow")
        .await
        .unwrap()
        .status
        .unwrap()
        .active
        .unwrap();
    assert_eq!(active.len(), 1);

    // Replace: the running job is deleted for the next one.
    cjs.patch(
        "swap",
        &pp,
        &Patch::Apply(cronjob("swap", "*/1 * * * *", "Replace", "slow")),
    )
    .await
    .unwrap();
    eventually(5, "a replaced job", || async {
        let evs = events.list(&ListParams::default()).await.unwrap().items;
        let deleted = events_of(&evs, "swap", "SuccessfulDelete");
        let created = events_of(&evs, "swap", "SuccessfulCreate");
        (!deleted.is_empty() && created.len() >= 2).then_some(())
    })
    .await;

    // Suspended: nothing runs.
    let mut suspended = cronjob("paused", "*/1 * * * *", "Allow", "quick");
    suspended["spec"]["suspend"] = json!(true);
    cjs.patch("paused", &pp, &Patch::Apply(suspended))
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        jobs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .all(|j| !j.metadata.name.as_deref().unwrap().starts_with("paused-"))
    );
    assert!(server.object("cronjobs", "default", "paused").is_some());
}

/// Unix seconds of an RFC 3339 timestamp ending in `Z` (the zone here is UTC).
fn chrono_free_unix(s: &str) -> i64 {
    let t: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time =
        serde_json::from_value(json!(s)).unwrap();
    t.0.as_second()
}

#[tokio::test]
async fn cronjob_schedules_are_validated() {
    let (_s, client) = setup(Config::default().time_scale(0.02)).await;
    let cjs: Api<CronJob> = Api::default_namespaced(client.clone());
    let pp = PatchParams::apply("odoo-tui");
    let err = |s: kube::Error| api_err(s);
    let s = err(cjs
        .patch(
            "bad",
            &pp,
            &Patch::Apply(cronjob("bad", "61 * * * *", "Allow", "q")),
        )
        .await
        .unwrap_err());
    assert_eq!(s.code, 422);
    assert_eq!(
        s.message,
        "CronJob.batch \"bad\" is invalid: spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
    );
    let s = err(cjs
        .patch(
            "tz",
            &pp,
            &Patch::Apply(cronjob("tz", "CRON_TZ=UTC 0 3 * * *", "Allow", "q")),
        )
        .await
        .unwrap_err());
    assert_eq!(
        s.message,
        "CronJob.batch \"tz\" is invalid: spec.schedule: Invalid value: \"CRON_TZ=UTC 0 3 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    );
    let mut zoned = cronjob("zoned", "0 3 * * *", "Allow", "q");
    zoned["spec"]["timeZone"] = json!("Europe/Pariss");
    let s = err(cjs
        .patch("zoned", &pp, &Patch::Apply(zoned.clone()))
        .await
        .unwrap_err());
    assert_eq!(
        s.message,
        "CronJob.batch \"zoned\" is invalid: spec.timeZone: Invalid value: \"Europe/Pariss\": unknown time zone Europe/Pariss"
    );
    zoned["spec"]["timeZone"] = json!("Etc/UTC");
    cjs.patch("zoned", &pp, &Patch::Apply(zoned)).await.unwrap();
    for ok in ["@hourly", "@daily", "0 3 * * 1-5", "*/15 * * * *"] {
        cjs.patch("ok", &pp, &Patch::Apply(cronjob("ok", ok, "Forbid", "q")))
            .await
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}
