//! Taking an instance out of service and back: the maintenance page (nginx) and the
//! backend scaled to zero through the scale subresource, then both undone (the page goes
//! off once a backend pod is ready). Used by `upgrade` with the maintenance strategy.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Error, Reporter};
use crate::cluster::Kube;
use crate::cluster::kinds::Kind;
use crate::cluster::watch::InstanceWatch;
use crate::render::Ctx;
use crate::render::ops_parts::{backend_deployment_name, nginx_config_maps, nginx_render};
use crate::status;

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

fn is_backend(p: &k8s_openapi::api::core::v1::Pod) -> bool {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(status::COMPONENT_LABEL))
        .is_some_and(|c| c == "backend")
}

fn is_ready(p: &k8s_openapi::api::core::v1::Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// Whether a backend pod runs (and so holds the filestore PVC), as the watch sees it.
pub fn backend_running(watch: &InstanceWatch) -> bool {
    watch
        .snapshot(crate::time::now())
        .pods
        .iter()
        .any(|p| is_backend(p) && p.metadata.deletion_timestamp.is_none())
}

/// The backend Deployment's replicas as set now (`None` without a Deployment).
pub async fn replicas(kube: &Kube, ctx: &Ctx<'_>) -> Result<Option<i32>, Error> {
    let kind = Kind::by_name("Deployment").expect("known");
    Ok(kube
        .get(kind, &backend_deployment_name(ctx))
        .await?
        .map(|d| d["spec"]["replicas"].as_i64().unwrap_or(1) as i32))
}

/// The backend Deployment's image as set now (`None` without a Deployment).
pub async fn image(kube: &Kube, ctx: &Ctx<'_>) -> Result<Option<String>, Error> {
    let kind = Kind::by_name("Deployment").expect("known");
    Ok(kube
        .get(kind, &backend_deployment_name(ctx))
        .await?
        .and_then(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .map(str::to_string)
        }))
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

/// Put the backend back as it was: `replicas` through the scale subresource, then, once
/// a pod is ready (bounded by `deadline`), the maintenance page off.
pub async fn leave(
    kube: &Kube,
    ctx: &Ctx<'_>,
    replicas: i32,
    watch: &mut InstanceWatch,
    deadline: Instant,
    report: Reporter,
) -> Result<(), Error> {
    let backend = backend_deployment_name(ctx);
    kube.scale_deployment(&backend, replicas).await?;
    report.step(&format!(
        "Deployment/{backend} scaled back to {replicas} replica(s)"
    ));
    if replicas > 0 {
        loop {
            let snap = watch.snapshot(crate::time::now());
            if snap.pods.iter().any(|p| is_backend(p) && is_ready(p)) {
                break;
            }
            let Some(rest) = deadline.checked_duration_since(Instant::now()) else {
                return Err(Error::Timeout(format!(
                    "Deployment/{backend} has no ready pod yet — see `odoo-tui status {}`; the maintenance page stays on until it has",
                    ctx.release
                )));
            };
            tokio::select! {
                _ = watch.changed() => {}
                _ = tokio::time::sleep(rest.min(Duration::from_secs(1))) => {}
            }
        }
    }
    if ctx.v.nginx.enabled {
        set_page(kube, ctx, false).await?;
        report.step("maintenance page off");
    }
    Ok(())
}
