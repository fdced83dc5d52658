//! The bundled PostgreSQL: StatefulSet + Service `<release>-postgresql`.

use k8s_openapi::api::core::v1::{Container, ContainerPort, ExecAction, Probe, VolumeMount};

use super::Object;
use super::common::{Ctx, env, secret_env};
use super::stateful::{Stateful, stateful_set};

pub const COMPONENT: &str = "postgresql";

pub fn name(ctx: &Ctx<'_>) -> String {
    format!("{}-postgresql", ctx.release)
}

fn pg_isready(period: i32, failures: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                "pg_isready -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"".into(),
            ]),
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(5),
        ..Default::default()
    }
}

pub fn render(ctx: &Ctx<'_>) -> Vec<Object> {
    let pg = &ctx.v.postgresql;
    if !pg.enabled {
        return vec![];
    }
    let d = &ctx.d;
    let container = Container {
        name: "postgresql".into(),
        image: Some(pg.image.reference()),
        image_pull_policy: Some(pg.image.pull_policy.clone()),
        env: Some(vec![
            env("POSTGRES_USER", pg.auth.username.clone()),
            env("POSTGRES_DB", pg.auth.database.clone()),
            secret_env("POSTGRES_PASSWORD", &d.db_secret.0, &d.db_secret.1),
            env("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("tcp-postgresql".into()),
            container_port: 5432,
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        startup_probe: Some(pg_isready(10, 30)),
        liveness_probe: Some(pg_isready(30, 6)),
        readiness_probe: Some(pg_isready(10, 3)),
        resources: Some(pg.resources.clone()),
        security_context: Some(ctx.container_security(&pg.container_security_context)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "data".into(),
                mount_path: "/var/lib/postgresql/data".into(),
                ..Default::default()
            },
            // The root filesystem is read-only: the image's entrypoint and the server
            // write their socket and lock files here, and temporary files to /tmp.
            VolumeMount {
                name: "run".into(),
                mount_path: "/var/run/postgresql".into(),
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
            uid: 999,
            persistence: &pg.persistence,
            extra_empty_dirs: &["run", "tmp"],
            ports: vec![("tcp-postgresql", 5432)],
            node_selector: &pg.node_selector,
            tolerations: &pg.tolerations,
            affinity: &pg.affinity,
        },
    )
}
