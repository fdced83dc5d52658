//! The lock of one instance: a `coordination.k8s.io/v1` Lease named after it, taken by
//! every command that changes the instance, renewed by a background task while the
//! command runs, and deleted at its end (also after Ctrl-C). A lock whose holder stopped
//! renewing it expires and is taken over; `--force-unlock` takes a live one. Every write
//! carries the `resourceVersion` read, so two commands racing for it cannot both win.
//! The decisions and messages are `plan::lock`.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{DeleteParams, PostParams, Preconditions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Error;
use crate::cluster::Kube;
use crate::cluster::error::Op;
use crate::plan::lock::{self as plan, Decision, Held, Holder};

/// How long a lock lives and how often it is renewed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// `leaseDurationSeconds`.
    pub lease_seconds: i64,
    pub renew_every: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            lease_seconds: plan::LEASE_SECONDS,
            renew_every: Duration::from_secs(plan::RENEW_SECONDS),
        }
    }
}

/// This process as the holder of a lock for `command` (e.g. `upgrade acme`).
pub fn this_process(command: &str) -> Holder {
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    Holder {
        host,
        pid: std::process::id(),
        command: command.to_string(),
    }
}

/// A lock held by this process. [`Lock::release`] gives it back; dropping it only stops
/// the renewals (the lock then expires).
pub struct Lock {
    kube: Kube,
    name: String,
    identity: String,
    renewer: JoinHandle<()>,
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// The clock now, as the Lease's times are written (microseconds).
fn stamp() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    let micros = now.as_microsecond();
    jiff::Timestamp::from_microsecond(micros).unwrap_or(now)
}

/// The lock as found in a Lease.
pub fn held(lease: &Lease) -> Held {
    let spec = lease.spec.clone().unwrap_or_default();
    Held {
        identity: spec.holder_identity.unwrap_or_default(),
        command: lease
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(plan::COMMAND_ANNOTATION))
            .cloned(),
        acquired: spec.acquire_time.map(|t| t.0.as_second()),
        renewed: spec.renew_time.map(|t| t.0.as_second()),
        duration: spec
            .lease_duration_seconds
            .map(i64::from)
            .unwrap_or(plan::LEASE_SECONDS),
    }
}

/// The Lease of `release` held by `holder` from `now`, over `base` (the Lease read,
/// whose `resourceVersion` makes the write conditional) or new.
fn lease_for(
    release: &str,
    holder: &Holder,
    timing: Timing,
    now: jiff::Timestamp,
    base: Option<&Lease>,
) -> Lease {
    let mut lease = base.cloned().unwrap_or_default();
    let meta = &mut lease.metadata;
    meta.name = Some(plan::lease_name(release));
    meta.managed_fields = None;
    let labels = meta.labels.get_or_insert_with(Default::default);
    labels.insert("app.kubernetes.io/instance".into(), release.to_string());
    labels.insert("app.kubernetes.io/managed-by".into(), "odoo-tui".into());
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(plan::COMMAND_ANNOTATION.into(), holder.command.clone());
    let transitions = base
        .and_then(|l| l.spec.as_ref())
        .and_then(|s| s.lease_transitions)
        .map(|t| t + 1)
        .unwrap_or(0);
    lease.spec = Some(LeaseSpec {
        holder_identity: Some(holder.identity()),
        lease_duration_seconds: i32::try_from(timing.lease_seconds).ok(),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..Default::default()
    });
    lease
}

/// Take the lock of `release` for `command`, or refuse naming its holder. `force` is
/// `--force-unlock`. When the lock is lost while held (taken with `--force-unlock`
/// elsewhere, or not renewable for its whole life), `on_lost` is cancelled: the command
/// stops as after Ctrl-C.
pub async fn acquire(
    kube: &Kube,
    release: &str,
    command: &str,
    force: bool,
    on_lost: &CancellationToken,
) -> Result<Lock, Error> {
    acquire_as(
        kube,
        release,
        this_process(command),
        force,
        Timing::default(),
        on_lost,
    )
    .await
}

/// [`acquire`] with a given holder and timing.
pub async fn acquire_as(
    kube: &Kube,
    release: &str,
    holder: Holder,
    force: bool,
    timing: Timing,
    on_lost: &CancellationToken,
) -> Result<Lock, Error> {
    let api = kube.typed::<Lease>();
    let name = plan::lease_name(release);
    let op = |verb| Op::new(verb, format!("leases/{name}"), Some(&kube.namespace));
    let pp = PostParams::default();
    // A few rounds: each lost race re-reads the Lease and decides again.
    for _ in 0..5 {
        let found = kube.retry(&op("get"), || api.get_opt(&name)).await?;
        let at = stamp();
        let now = at.as_second();
        let decision = plan::decide(found.as_ref().map(held).as_ref(), now, force);
        let note = match &decision {
            Decision::Refuse(h) => return Err(Error::Locked(plan::refusal(release, h, now))),
            Decision::Take => None,
            Decision::TakeOver(h) => Some(plan::took_over(release, h, now)),
            Decision::Force(h) => Some(plan::forced(release, h, now)),
        };
        let lease = lease_for(release, &holder, timing, at, found.as_ref());
        let written = match &found {
            None => kube.retry(&op("create"), || api.create(&pp, &lease)).await,
            Some(_) => {
                kube.retry(&op("update"), || api.replace(&name, &pp, &lease))
                    .await
            }
        };
        match written {
            Ok(_) => {
                if let Some(n) = note {
                    eprintln!("{n}");
                }
                let renewer = tokio::spawn(renew(
                    kube.clone(),
                    release.to_string(),
                    holder.identity(),
                    timing,
                    on_lost.clone(),
                ));
                return Ok(Lock {
                    kube: kube.clone(),
                    name,
                    identity: holder.identity(),
                    renewer,
                });
            }
            // Another command wrote the Lease between our read and our write.
            Err(e) if e.code() == Some(409) => continue,
            // No namespace: no instance either.
            Err(e) if e.code() == Some(404) => {
                return Err(Error::NotFound {
                    name: release.to_string(),
                    namespace: kube.namespace.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Locked(format!(
        "could not take the lock of `{release}`: other commands keep changing Lease/{name} — try again"
    )))
}

/// Renew the lock every `timing.renew_every` until aborted; cancel `on_lost` when it is
/// no longer ours (or could not be renewed for its whole life).
async fn renew(
    kube: Kube,
    release: String,
    identity: String,
    timing: Timing,
    on_lost: CancellationToken,
) {
    let api = kube.typed::<Lease>();
    let name = plan::lease_name(&release);
    let mut last_renewed = crate::time::now();
    loop {
        tokio::time::sleep(timing.renew_every).await;
        let lost = |by: Option<&Held>| {
            eprintln!("\n{}", plan::lost(&release, by));
            on_lost.cancel();
        };
        let at = stamp();
        let now = at.as_second();
        let current = match api.get_opt(&name).await {
            Ok(c) => c,
            Err(_) if now < last_renewed + timing.lease_seconds => continue,
            Err(_) => return lost(None),
        };
        let Some(mut lease) = current else {
            return lost(None);
        };
        let h = held(&lease);
        if h.identity != identity {
            return lost(Some(&h));
        }
        if let Some(spec) = lease.spec.as_mut() {
            spec.renew_time = Some(MicroTime(at));
        }
        lease.metadata.managed_fields = None;
        // A conflict is a write by someone else: the next round reads who.
        if api
            .replace(&name, &PostParams::default(), &lease)
            .await
            .is_ok()
        {
            last_renewed = now;
        } else if now >= last_renewed + timing.lease_seconds {
            return lost(None);
        }
    }
}

impl Lock {
    /// Give the lock back: stop renewing, then delete the Lease if it is still ours
    /// (conditionally on the version read, so that a lock someone took meanwhile stays).
    pub async fn release(self) {
        self.renewer.abort();
        let api = self.kube.typed::<Lease>();
        let Ok(Some(lease)) = api.get_opt(&self.name).await else {
            return;
        };
        if held(&lease).identity != self.identity {
            return;
        }
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: lease.metadata.uid.clone(),
                resource_version: lease.metadata.resource_version.clone(),
            }),
            ..Default::default()
        };
        let _ = api.delete(&self.name, &dp).await;
    }
}

/// Run `work` holding the lock of `release` (see [`acquire`]), and give the lock back
/// whatever `work` ends with.
pub async fn with<T, E, F>(
    kube: &Kube,
    release: &str,
    command: &str,
    force: bool,
    cancel: &CancellationToken,
    work: F,
) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
    E: From<Error>,
{
    let lock = acquire(kube, release, command, force, cancel).await?;
    let result = work.await;
    lock.release().await;
    result
}
