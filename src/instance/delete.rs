//! Removing an instance: its workloads, Services, Jobs, ConfigMaps (the record too) and
//! ServiceAccount; with its data, also its PVCs and Secrets.

use tokio_util::sync::CancellationToken;

use super::{Error, Reporter};
use crate::cluster::kinds::Kind;
use crate::cluster::{Kube, instance_selector, managed_selector};

/// What a deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    /// Objects deleted.
    pub objects: usize,
    /// PVCs left in place (without `with_data`).
    pub kept_claims: usize,
}

/// Delete the objects of instance `name`, each reported as it goes; with `with_data`
/// also its generated Secrets and its PVCs (the database and the filestore).
pub async fn delete(
    kube: &Kube,
    name: &str,
    with_data: bool,
    report: Reporter,
    cancel: &CancellationToken,
) -> Result<Deleted, Error> {
    let stop = |done: &Deleted| {
        Error::Cancelled(format!(
            "cancelled after {} object(s) deleted: run the same command again to finish",
            done.objects
        ))
    };
    let sel = managed_selector(name);
    let mut kinds: Vec<&Kind> = Kind::prunable().collect();
    kinds.push(Kind::by_name("ServiceAccount").expect("known"));
    if with_data {
        kinds.push(Kind::by_name("Secret").expect("known"));
    }
    let mut done = Deleted::default();
    for kind in kinds {
        for obj in kube.list(kind, &sel).await? {
            if cancel.is_cancelled() {
                return Err(stop(&done));
            }
            let n = obj["metadata"]["name"].as_str().unwrap_or_default();
            kube.delete(kind, n, false).await?;
            report.step(&format!("{}/{n} deleted", kind.kind));
            done.objects += 1;
        }
    }
    let pvc = Kind::by_name("PersistentVolumeClaim").expect("known");
    let claims = kube.list(pvc, &instance_selector(name)).await?;
    if with_data {
        for obj in &claims {
            if cancel.is_cancelled() {
                return Err(stop(&done));
            }
            let n = obj["metadata"]["name"].as_str().unwrap_or_default();
            kube.delete(pvc, n, false).await?;
            report.step(&format!("PersistentVolumeClaim/{n} deleted"));
            done.objects += 1;
        }
    } else {
        done.kept_claims = claims.len();
    }
    Ok(done)
}
