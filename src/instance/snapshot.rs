//! One status snapshot of an instance, listed (not watched): for `status --once` and
//! whatever reads the state once. The live views watch instead (`instance::live`).
//!
//! Like the watch, it reads only what the reasons need besides the instance's objects:
//! the Events of the objects in trouble (by `involvedObject.uid`) and the log tail of
//! each failed container run — nothing namespace-wide. Pods or Events the cluster forbids
//! listing (403) are done without, and named in [`status::Snapshot::forbidden`].

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube::api::{ListParams, LogParams};

use super::Error;
use crate::cluster::error::Op;
use crate::cluster::{ClusterError, Kube, instance_selector};
use crate::status;

/// The objects of `release` as they are now.
pub async fn snapshot(kube: &Kube, release: &str) -> Result<status::Snapshot, Error> {
    let lp = ListParams::default().labels(&instance_selector(release));
    let op = |what: &str| Op::new("list", what.to_string(), Some(&kube.namespace));
    let (pods, deployments, statefulsets, jobs, pvcs) = (
        kube.typed::<Pod>(),
        kube.typed::<Deployment>(),
        kube.typed::<StatefulSet>(),
        kube.typed::<Job>(),
        kube.typed::<PersistentVolumeClaim>(),
    );
    let ops = [
        op("pods"),
        op("deployments"),
        op("statefulsets"),
        op("jobs"),
        op("persistentvolumeclaims"),
    ];
    let (p, d, s, j, c) = futures::join!(
        kube.retry(&ops[0], || pods.list(&lp)),
        kube.retry(&ops[1], || deployments.list(&lp)),
        kube.retry(&ops[2], || statefulsets.list(&lp)),
        kube.retry(&ops[3], || jobs.list(&lp)),
        kube.retry(&ops[4], || pvcs.list(&lp)),
    );
    let mut forbidden = Vec::new();
    let pods_listed = match p {
        Err(ClusterError::Forbidden { .. }) => {
            forbidden.push(status::PODS.to_string());
            Vec::new()
        }
        p => p?.items,
    };
    let mut snap = status::Snapshot {
        instance: release.to_string(),
        pods: pods_listed,
        deployments: d?.items,
        statefulsets: s?.items,
        jobs: j?.items,
        pvcs: c?.items,
        now: crate::time::now(),
        ..Default::default()
    };
    let events = kube.typed::<Event>();
    let subjects = status::trouble_subjects(&snap);
    let lists = join_all(subjects.iter().map(|s| {
        let lp = ListParams::default().fields(&s.field_selector());
        let events = events.clone();
        let op = op("events");
        async move { kube.retry(&op, || events.list(&lp)).await.map(|l| l.items) }
    }))
    .await;
    for l in lists {
        match l {
            Err(ClusterError::Forbidden { .. }) => {
                if !forbidden.iter().any(|f| f == status::EVENTS) {
                    forbidden.push(status::EVENTS.to_string());
                }
            }
            l => snap.events.extend(l?),
        }
    }
    snap.forbidden = forbidden;
    let tails = join_all(
        snap.pods
            .iter()
            .filter_map(status::tail_request)
            .map(|req| {
                let pods = pods.clone();
                async move {
                    let lp = LogParams {
                        container: Some(req.container.clone()),
                        previous: req.previous,
                        tail_lines: Some(status::LOG_LINES as i64),
                        ..Default::default()
                    };
                    // A tail that cannot be read leaves the reason without it, not the status.
                    let text = pods.logs(&req.pod, &lp).await.ok()?;
                    Some((req.pod, text.lines().map(str::to_string).collect()))
                }
            }),
    )
    .await;
    snap.logs = tails.into_iter().flatten().collect();
    Ok(snap)
}
