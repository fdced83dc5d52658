//! Taking an instance out of service and back: the maintenance page (nginx) and the
//! backend scaled to zero through the scale subresource, then both undone. Used by
//! `upgrade` with the maintenance strategy.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::{Error, Reporter};
use crate::cluster::Kube;
use crate::cluster::kinds::Kind;
use crate::cluster::watch::InstanceWatch;
use crate::plan::upgrade::Strategy;
use crate::render::Ctx;
use crate::render::ops_parts::{backend_deployment_name, nginx_config_maps, nginx_render};

/// Maintenance page on or off: re-apply the nginx ConfigMaps and Deployment.
pub async fn set_page(kube: &Kube, ctx: &Ctx<'_>, on: bool) -> Result<(), Error> {
    let objects = nginx_config_maps(ctx, on)
        .into_iter()
        .chain(nginx_render(ctx, on))
        .filter(|o| matches!(o.kind(), "ConfigMap" | "Deployment"));
    for o in objects {
        let kind = Kind::by_name(o.kind()).expect("known");
        kube.apply(kind, o.name(), &o.to_json(), true, false)
            .await?;
    }
    Ok(())
}

/// Stop serving: the maintenance page on (with nginx), the backend scaled to zero, and
/// its pods gone (bounded by `deadline`).
pub async fn enter(
    kube: &Kube,
    ctx: &Ctx<'_>,
    watch: &mut InstanceWatch,
    deadline: Instant,
    report: Reporter,
) -> Result<(), Error> {
    if ctx.v.nginx.enabled {
        set_page(kube, ctx, true).await?;
        report.step("maintenance page on");
    }
    let backend = backend_deployment_name(ctx);
    kube.scale_deployment(&backend, 0).await?;
    report.step(&format!("Deployment/{backend} scaled to 0"));
    wait_backend_gone(watch, deadline).await
}

/// Wait until the backend has no pod left (bounded by `deadline`).
pub async fn wait_backend_gone(watch: &mut InstanceWatch, deadline: Instant) -> Result<(), Error> {
    if watch
        .wait_pods_gone("backend", deadline, &CancellationToken::new())
        .await?
    {
        Ok(())
    } else {
        Err(Error::Timeout(
            "timed out waiting for the backend pods to stop — raise --timeout".into(),
        ))
    }
}

/// Put traffic back after a failed or aborted upgrade: replicas, then maintenance off
/// (nothing to do with the online strategy).
pub async fn leave(
    kube: &Kube,
    ctx: &Ctx<'_>,
    strategy: Strategy,
    report: Reporter,
) -> Result<(), Error> {
    if strategy != Strategy::Maintenance {
        return Ok(());
    }
    let backend = backend_deployment_name(ctx);
    let replicas = ctx.v.backend.replica_count;
    kube.scale_deployment(&backend, replicas).await?;
    report.step(&format!(
        "Deployment/{backend} scaled back to {replicas} replica(s) on its previous image"
    ));
    if ctx.v.nginx.enabled {
        set_page(kube, ctx, false).await?;
        report.step("maintenance page off");
    }
    Ok(())
}
