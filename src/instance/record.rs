//! The instance record as commands use it: find it, require it, append to its history.
//! Its format and the calls that read and write it are `cluster::record`.

use super::Error;
use crate::cluster::Kube;
use crate::cluster::record::{self, HistoryEntry, Record};
use crate::values::Loaded;

/// The record of `release` in the namespace, if there is one.
pub async fn find(kube: &Kube, release: &str) -> Result<Option<Record>, Error> {
    Ok(record::find(kube, release).await?)
}

/// The record of `release`; an error naming the fix when there is none.
pub async fn require(kube: &Kube, release: &str) -> Result<Record, Error> {
    find(kube, release).await?.ok_or_else(|| Error::NotFound {
        name: release.to_string(),
        namespace: kube.namespace.clone(),
    })
}

/// Append `entry` to the record of `release`; `revision` raises the record's revision.
/// Nothing happens when the instance has no record.
pub async fn append_history(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    entry: HistoryEntry,
    revision: Option<u64>,
) -> Result<(), Error> {
    record::update(kube, release, loaded, |rec, existed| {
        if !existed {
            return false;
        }
        if let Some(r) = revision {
            rec.revision = rec.revision.max(r);
        }
        rec.history.push(entry.clone());
        true
    })
    .await?;
    Ok(())
}

/// The "history" section `status` prints (empty when there is none or the record cannot
/// be read: the status itself matters more).
pub async fn history_section(kube: &Kube, release: &str) -> Vec<String> {
    let Ok(Some(rec)) = find(kube, release).await else {
        return vec![];
    };
    let mut out: Vec<String> = crate::plan::history::neutralized_line(&rec.history)
        .into_iter()
        .collect();
    let schedule = rec.values["backup"]["schedule"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The scheduled backups' last success, from their CronJob (found by its labels).
    let mut scheduled = None;
    if !schedule.is_empty()
        && let Some(kind) = crate::cluster::kinds::Kind::by_name("CronJob")
        && let Ok(crons) = kube
            .list(
                kind,
                &format!(
                    "{},app.kubernetes.io/component=backup",
                    crate::cluster::instance_selector(release)
                ),
            )
            .await
    {
        scheduled = crons
            .iter()
            .filter_map(|c| c["status"]["lastSuccessfulTime"].as_str())
            .filter_map(crate::time::parse_rfc3339)
            .max();
    }
    out.extend(crate::plan::history::last_backup_line(
        &rec.history,
        scheduled,
        &schedule,
        crate::time::now(),
    ));
    out.extend(crate::plan::history::history_section(&rec.history));
    out
}

/// Write `entry` over the history entry of the same kind that started at the same time
/// (an open upgrade as it moves on), or append it; `revision` raises the record's.
/// Nothing happens when the instance has no record.
pub async fn put_entry(
    kube: &Kube,
    release: &str,
    loaded: &Loaded,
    entry: HistoryEntry,
    revision: Option<u64>,
) -> Result<(), Error> {
    record::update(kube, release, loaded, |rec, existed| {
        if !existed {
            return false;
        }
        match rec
            .history
            .iter_mut()
            .rev()
            .find(|e| e.kind == entry.kind && e.time == entry.time)
        {
            Some(slot) => *slot = entry.clone(),
            None => rec.history.push(entry.clone()),
        }
        if let Some(r) = revision {
            rec.revision = rec.revision.max(r);
        }
        true
    })
    .await?;
    Ok(())
}
