//! Where the backend of an instance is: its Deployment, the HTTP port of its Service, and
//! a ready pod to talk to (as `kubectl port-forward svc/<fullname>-backend` resolves it).

use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;

use super::Error;
use crate::cluster::Kube;
use crate::cluster::error::Op;
use crate::values::Derived;

/// The Service port when the instance record does not say (`backend.service.ports.http`).
pub const DEFAULT_HTTP_PORT: u16 = 8069;

/// The backend of one instance.
#[derive(Debug, Clone)]
pub struct Backend {
    pub release: String,
    pub namespace: String,
    /// `<fullname>-backend`.
    pub deployment: String,
    /// The Service's `http` port (the container port named `http` unless the pod says otherwise).
    pub http_port: u16,
    /// Whether an instance record was found.
    pub recorded: bool,
}

impl Backend {
    pub fn selector(&self) -> String {
        format!(
            "{},app.kubernetes.io/component=backend",
            crate::cluster::managed_selector(&self.release)
        )
    }
}

/// Where the backend of `release` is: names and the HTTP port from the recorded values
/// (defaults when there is no record).
pub async fn locate(kube: &Kube, release: &str) -> Result<Backend, Error> {
    let (loaded, recorded) = super::values::recorded_or_defaults(kube, release).await?;
    let d = Derived::new(release, &loaded.values);
    let http_port = u16::try_from(loaded.values.backend.service.ports.http)
        .ok()
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_HTTP_PORT);
    Ok(Backend {
        release: release.to_string(),
        namespace: kube.namespace.clone(),
        deployment: format!("{}-backend", d.fullname),
        http_port,
        recorded,
    })
}

fn is_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status.as_ref().is_some_and(|s| {
            s.phase.as_deref() == Some("Running")
                && s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// The container port a Service's `targetPort: http` resolves to on this pod, else `port`.
fn pod_port(p: &Pod, port: u16) -> u16 {
    p.spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|cp| cp.name.as_deref() == Some("http"))
        .and_then(|cp| u16::try_from(cp.container_port).ok())
        .unwrap_or(port)
}

/// A ready backend pod and the port to forward to, or an error naming the Deployment.
pub async fn ready_pod(kube: &Kube, b: &Backend) -> Result<(String, u16), Error> {
    let op = Op::new("list", "pods", Some(&kube.namespace));
    let lp = ListParams::default().labels(&b.selector());
    let api = kube.typed::<Pod>();
    let mut pods: Vec<Pod> = kube.retry(&op, || api.list(&lp)).await?.items;
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    if let Some(p) = pods.iter().find(|p| is_ready(p)) {
        let name = p.metadata.name.clone().unwrap_or_default();
        return Ok((name, pod_port(p, b.http_port)));
    }
    if pods.is_empty() && !b.recorded {
        return Err(Error::NotFound {
            name: b.release.clone(),
            namespace: b.namespace.clone(),
        });
    }
    Err(Error::Unavailable(if pods.is_empty() {
        format!(
            "Deployment/{} in namespace `{}` has no pods — see `odoo-tui status {}`",
            b.deployment, b.namespace, b.release
        )
    } else {
        format!(
            "no pod of Deployment/{} in namespace `{}` is ready ({} not ready) — see `odoo-tui status {}`",
            b.deployment,
            b.namespace,
            pods.len(),
            b.release
        )
    }))
}
