//! The values of an instance: those recorded at its last apply, with this run's layers on
//! top, so that a re-run changes only what it changes.

use super::Error;
use crate::cluster::Kube;
use crate::cluster::record::{self, Record};
use crate::values::{self, Loaded, Source};

/// Load `layers` over what `rec` recorded.
pub fn over_record(release: &str, rec: &Record, layers: &[Source]) -> Result<Loaded, Error> {
    let origin = format!("instance record of `{release}`");
    Ok(values::load_over_record(&origin, &rec.values, layers)?)
}

/// The values for `new NAME`: the record of an existing instance first, then `user`
/// (preset, each -f, each --set); the instance name is checked against them. The record
/// is returned too (`None` for a new instance).
pub async fn for_new(
    kube: &Kube,
    name: &str,
    user: Vec<Source>,
) -> Result<(Loaded, Option<Record>), Error> {
    let first = values::load(&user)?;
    values::validate::validate_release(name, &first.values).map_err(crate::Error::Usage)?;
    // Found by the instance's labels: a fullnameOverride given once is in the record.
    match record::find(kube, name).await? {
        None => Ok((first, None)),
        Some(rec) => Ok((over_record(name, &rec, &user)?, Some(rec))),
    }
}

/// The recorded values of `release` with `sets` (`--set` syntax) on top; an error when
/// the instance has no record.
pub async fn recorded(
    kube: &Kube,
    release: &str,
    sets: &[String],
) -> Result<(Loaded, Record), Error> {
    let rec = super::record::require(kube, release).await?;
    let layers = sets
        .iter()
        .map(|s| Source::set(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((over_record(release, &rec, &layers)?, rec))
}

/// The recorded values of `release`, or the defaults when it has no record (`false`).
pub async fn recorded_or_defaults(kube: &Kube, release: &str) -> Result<(Loaded, bool), Error> {
    match super::record::find(kube, release).await? {
        Some(rec) => Ok((over_record(release, &rec, &[])?, true)),
        None => Ok((values::load(&[])?, false)),
    }
}
