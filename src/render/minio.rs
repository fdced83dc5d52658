//! The bundled MinIO: StatefulSet + Service `<release>-minio` (api 9000, console 9001).

use k8s_openapi::api::core::v1::{Container, ContainerPort, HTTPGetAction, Probe, VolumeMount};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Object;
use super::common::{Ctx, secret_env};
use super::stateful::{Stateful, stateful_set};

pub const COMPONENT: &str = "minio";

pub fn name(ctx: &Ctx<'_>) -> String {
    format!("{}-minio", ctx.release)
}

fn http_probe(path: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("api".into()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

pub fn render(ctx: &Ctx<'_>) -> Vec<Object> {
    let m = &ctx.v.minio;
    if !m.enabled {
        return vec![];
    }
    let (secret, user_key, password_key) = &ctx.d.s3_secret;
    let port = |name: &str, n: i32| ContainerPort {
        name: Some(name.into()),
        container_port: n,
        protocol: Some("TCP".into()),
        ..Default::default()
    };
    let container = Container {
        name: "minio".into(),
        image: Some(m.image.reference()),
        image_pull_policy: Some(m.image.pull_policy.clone()),
        command: Some(vec![
            "minio".into(),
            "server".into(),
            "/data".into(),
            "--console-address".into(),
            ":9001".into(),
            // The default certs directory is under $HOME, on the read-only root
            // filesystem: MinIO stops when it cannot create it.
            "--certs-dir".into(),
            "/tmp/certs".into(),
        ]),
        env: Some(vec![
            secret_env("MINIO_ROOT_USER", secret, user_key),
            secret_env("MINIO_ROOT_PASSWORD", secret, password_key),
        ]),
        ports: Some(vec![port("api", 9000), port("console", 9001)]),
        startup_probe: Some(http_probe("/minio/health/live", 5, 24)),
        liveness_probe: Some(http_probe("/minio/health/live", 30, 3)),
        readiness_probe: Some(http_probe("/minio/health/ready", 10, 3)),
        resources: Some(m.resources.clone()),
        security_context: Some(ctx.container_security(&m.container_security_context)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                ..Default::default()
            },
            VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    stateful_set(
        ctx,
        Stateful {
            name: name(ctx),
            component: COMPONENT,
            container,
            uid: 1000,
            persistence: &m.persistence,
            extra_empty_dirs: &["tmp"],
            ports: vec![("api", 9000), ("console", 9001)],
            node_selector: &m.node_selector,
            tolerations: &m.tolerations,
            affinity: &m.affinity,
        },
    )
}
