//! Removing an instance: its workloads, Services, Jobs, ConfigMaps (the record too) and
//! ServiceAccount; with its data, also its generated Secrets and its own PVCs — found by
//! their exact names and odoo-tui's label, or as the volumes of its StatefulSets
//! (`plan::delete`), never by the instance label alone.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use super::{Error, Reporter};
use crate::cluster::kinds::Kind;
use crate::cluster::{Kube, managed_selector};
use crate::plan::delete::{self as plan, Claims};
use crate::render::{Credentials, Ctx, RenderInput};

/// What a deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    /// Objects deleted.
    pub objects: usize,
    /// PVCs left in place (without `with_data`).
    pub kept_claims: usize,
}

/// The data of an instance, found before anything is deleted (its StatefulSets and record
/// tell which claims are its own): shown for confirmation, then deleted as found.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub claims: Claims,
    /// The generated Secrets.
    pub secrets: Vec<String>,
}

fn names(objects: &[Json]) -> Vec<String> {
    objects
        .iter()
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

/// The names the instance's configuration (its record, else the defaults) gives its
/// claims: rendered PVCs, its StatefulSets' claim templates, the backups' PVC.
async fn expected_claims(kube: &Kube, name: &str) -> Result<BTreeSet<String>, Error> {
    let (loaded, _) = super::values::recorded_or_defaults(kube, name).await?;
    // Names only: any password renders them.
    let placeholder = Some("-".to_string());
    let creds = Credentials {
        db_password: placeholder.clone(),
        minio_root_password: placeholder.clone(),
        master_password: placeholder.clone(),
        admin_password: placeholder,
    };
    let input = RenderInput {
        release: name,
        namespace: &kube.namespace,
        values: &loaded.values,
        credentials: &creds,
    };
    let rendered: Vec<Json> = crate::render::render(&input)?
        .iter()
        .map(|o| o.to_json())
        .collect();
    let mut out: BTreeSet<String> = rendered
        .iter()
        .filter(|o| o["kind"] == "PersistentVolumeClaim")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let sts: Vec<Json> = rendered
        .into_iter()
        .filter(|o| o["kind"] == "StatefulSet")
        .collect();
    out.extend(plan::statefulset_claims(&sts));
    out.insert(crate::render::ops_parts::backups_pvc_name(&Ctx::new(
        &input,
    )?));
    Ok(out)
}

/// Every claim labelled with the instance, odoo-tui's or not: the ones that are not its
/// own are listed as left in place, with why.
fn labelled(name: &str) -> String {
    format!("{}={name}", crate::status::INSTANCE_LABEL)
}

/// Find the data of instance `name`: its own claims (and the ones carrying its label that
/// are left, with why) and its generated Secrets.
pub async fn find_data(kube: &Kube, name: &str) -> Result<Data, Error> {
    let pvc = Kind::by_name("PersistentVolumeClaim").expect("known");
    let sts = Kind::by_name("StatefulSet").expect("known");
    let secret = Kind::by_name("Secret").expect("known");
    let claims = kube.list(pvc, &labelled(name)).await?;
    let ours = kube.list(sts, &managed_selector(name)).await?;
    // A configuration that no longer renders names nothing: only the StatefulSets' own
    // claims are then recognised, the rest is left and listed.
    let expected = expected_claims(kube, name).await.unwrap_or_default();
    Ok(Data {
        claims: plan::claims(name, &claims, &ours, &expected),
        secrets: names(
            &kube
                .list_metadata(secret, &managed_selector(name), false)
                .await?,
        ),
    })
}

/// Delete the objects of instance `name`, each reported as it goes; with `data` (found
/// by [`find_data`] before) also its generated Secrets and its own PVCs.
pub async fn delete(
    kube: &Kube,
    name: &str,
    data: Option<&Data>,
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
    let Some(data) = data else {
        done.kept_claims = kube.list(pvc, &labelled(name)).await?.len();
        return Ok(done);
    };
    let secret = Kind::by_name("Secret").expect("known");
    let doomed = data
        .secrets
        .iter()
        .map(|s| (secret, s))
        .chain(data.claims.delete.iter().map(|c| (pvc, c)));
    for (kind, n) in doomed {
        if cancel.is_cancelled() {
            return Err(stop(&done));
        }
        kube.delete(kind, n, false).await?;
        report.step(&format!("{}/{n} deleted", kind.kind));
        done.objects += 1;
    }
    for (n, why) in &data.claims.left {
        report.step(&format!("PersistentVolumeClaim/{n} left in place: {why}"));
    }
    Ok(done)
}
