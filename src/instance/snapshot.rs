//! One status snapshot of an instance, listed (not watched): for `status --once` and
//! whatever reads the state once. The live views watch instead (`instance::live`).

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube::api::ListParams;

use super::Error;
use crate::cluster::error::Op;
use crate::cluster::{Kube, instance_selector};
use crate::status;

/// The objects of `release` as they are now.
pub async fn snapshot(kube: &Kube, release: &str) -> Result<status::Snapshot, Error> {
    let lp = ListParams::default().labels(&instance_selector(release));
    let all = ListParams::default();
    let op = |what: &str| Op::new("list", what.to_string(), Some(&kube.namespace));
    let (pods, deployments, statefulsets, jobs, pvcs, events) = (
        kube.typed::<Pod>(),
        kube.typed::<Deployment>(),
        kube.typed::<StatefulSet>(),
        kube.typed::<Job>(),
        kube.typed::<PersistentVolumeClaim>(),
        kube.typed::<Event>(),
    );
    Ok(status::Snapshot {
        instance: release.to_string(),
        pods: kube.retry(&op("pods"), || pods.list(&lp)).await?.items,
        deployments: kube
            .retry(&op("deployments"), || deployments.list(&lp))
            .await?
            .items,
        statefulsets: kube
            .retry(&op("statefulsets"), || statefulsets.list(&lp))
            .await?
            .items,
        jobs: kube.retry(&op("jobs"), || jobs.list(&lp)).await?.items,
        pvcs: kube
            .retry(&op("persistentvolumeclaims"), || pvcs.list(&lp))
            .await?
            .items,
        events: kube.retry(&op("events"), || events.list(&all)).await?.items,
        now: crate::time::now(),
        ..Default::default()
    })
}
