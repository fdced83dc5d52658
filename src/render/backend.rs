//! The Odoo backend: Deployment, Service, filestore PVC and PDB, plus the pod pieces
//! shared with the Jobs that run the Odoo image (env, volumes, init containers).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, KeyToPath, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodAffinityTerm, PodSpec,
    PodTemplateSpec, SecretVolumeSource, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::common::{
    Ctx, env, http_probe, non_default, non_empty, non_empty_map, port_i32, restricted_default,
    secret_env,
};
use super::{Object, secrets, template};
use crate::values::Image;

pub const COMPONENT: &str = "backend";
/// Where odoo.conf is mounted.
pub const CONF_DIR: &str = "/etc/odoo";

pub fn deployment_name(ctx: &Ctx<'_>) -> String {
    format!("{}-backend", ctx.fullname())
}

pub fn pvc_name(ctx: &Ctx<'_>) -> String {
    format!("{}-backend-data", ctx.fullname())
}

/// The environment of every container running Odoo: the DB password, the session store
/// URI and the S3 settings, then `backend.env`.
pub fn odoo_env(ctx: &Ctx<'_>) -> Vec<EnvVar> {
    let d = &ctx.d;
    let mut e = vec![
        secret_env("PGPASSWORD", &d.db_secret.0, &d.db_secret.1),
        secret_env("SESSION_DB_URI", &d.session_secret.0, &d.session_secret.1),
    ];
    if d.s3 {
        e.push(env("AWS_ENDPOINT_URL", d.s3_endpoint.clone()));
        e.push(secret_env(
            "AWS_ACCESS_KEY_ID",
            &d.s3_secret.0,
            &d.s3_secret.1,
        ));
        e.push(secret_env(
            "AWS_SECRET_ACCESS_KEY",
            &d.s3_secret.0,
            &d.s3_secret.2,
        ));
        if !d.s3_region.is_empty() {
            e.push(env("AWS_DEFAULT_REGION", d.s3_region.clone()));
        }
    }
    e.extend(super::addons::odoo_env(ctx));
    e.extend(ctx.v.backend.env.iter().cloned());
    e
}

/// Volumes of an Odoo pod: odoo.conf (from the config Secret, or composed into an
/// emptyDir when the master password comes from an existing Secret) and the data dir:
/// the filestore PVC with `filestore_pvc`, else an emptyDir.
pub fn odoo_volumes(ctx: &Ctx<'_>, filestore_pvc: bool) -> Vec<Volume> {
    let mut v = vec![Volume {
        name: "config-source".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(format!("{}-config", ctx.fullname())),
            items: Some(vec![KeyToPath {
                key: "odoo.conf".into(),
                path: "odoo.conf".into(),
                mode: None,
            }]),
            default_mode: Some(0o440),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if ctx.d.master_secret.is_some() {
        v.push(empty_dir("config"));
    }
    // The root filesystem is read-only: Python's and Odoo's temporary files go here.
    v.push(empty_dir("tmp"));
    if filestore_pvc {
        v.push(Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: pvc_name(ctx),
                read_only: None,
            }),
            ..Default::default()
        });
    } else {
        v.push(empty_dir("data"));
    }
    v.extend(super::addons::volumes(ctx));
    v
}

pub fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

pub fn odoo_mounts(ctx: &Ctx<'_>) -> Vec<VolumeMount> {
    let conf_volume = if ctx.d.master_secret.is_some() {
        "config"
    } else {
        "config-source"
    };
    let mut m = vec![
        VolumeMount {
            name: conf_volume.into(),
            mount_path: format!("{CONF_DIR}/odoo.conf"),
            sub_path: Some("odoo.conf".into()),
            read_only: Some(true),
            ..Default::default()
        },
        VolumeMount {
            name: "data".into(),
            mount_path: ctx.v.backend.odoo.data_dir.clone(),
            ..Default::default()
        },
        VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..Default::default()
        },
    ];
    m.extend(super::addons::odoo_mounts(ctx));
    m
}

fn busybox<'a>(ctx: &Ctx<'a>) -> &'a Image {
    &ctx.v.backend.init_containers.wait_for_db.image
}

/// Appends the master password from its Secret to odoo.conf. A value with a line break
/// (or a carriage return) could add settings or sections to odoo.conf: it is refused, and
/// the message never prints it.
const COMPOSE_CONFIG_SCRIPT: &str = r#"set -eu
nl='
'
cr=$(printf '\r')
case "$ODOO_MASTER_PASSWORD" in
  *"$nl"* | *"$cr"*)
    echo "the master password in its Secret holds a line break: refusing to write it into odoo.conf (fix the Secret named by backend.odoo.existingSecret)" >&2
    exit 1 ;;
esac
{ cat /config-source/odoo.conf; printf 'admin_passwd = %s\n' "$ODOO_MASTER_PASSWORD"; } > /config/odoo.conf
"#;

/// Init containers of every Odoo pod: fetch the modules of `backend.addons` and their
/// Python requirements; wait for the database; compose odoo.conf with the master
/// password from its Secret when one is named.
pub fn odoo_init_containers(ctx: &Ctx<'_>) -> Vec<Container> {
    let mut out = super::addons::init_containers(ctx);
    let d = &ctx.d;
    if ctx.v.backend.init_containers.wait_for_db.enabled {
        out.push(Container {
            name: "wait-for-db".into(),
            image: Some(busybox(ctx).reference()),
            image_pull_policy: Some(busybox(ctx).pull_policy.clone()),
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                format!(
                    "until nc -z -w 2 {host} {port}; do echo \"waiting for PostgreSQL at {host}:{port}\"; sleep 2; done",
                    host = d.db_host,
                    port = d.db_port
                ),
            ]),
            security_context: Some(restricted_default(100, 101)),
            resources: Some(small_resources()),
            ..Default::default()
        });
    }
    if let Some((secret, key)) = &d.master_secret {
        out.push(Container {
            name: "compose-config".into(),
            image: Some(busybox(ctx).reference()),
            image_pull_policy: Some(busybox(ctx).pull_policy.clone()),
            command: Some(vec!["sh".into(), "-c".into(), COMPOSE_CONFIG_SCRIPT.into()]),
            env: Some(vec![secret_env("ODOO_MASTER_PASSWORD", secret, key)]),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: "config-source".into(),
                    mount_path: "/config-source".into(),
                    read_only: Some(true),
                    ..Default::default()
                },
                VolumeMount {
                    name: "config".into(),
                    mount_path: "/config".into(),
                    ..Default::default()
                },
            ]),
            security_context: Some(restricted_default(100, 101)),
            resources: Some(small_resources()),
            ..Default::default()
        });
    }
    out
}

/// Requests and limits of the small helper containers.
pub fn small_resources() -> k8s_openapi::api::core::v1::ResourceRequirements {
    let q = |s: &str| Quantity(s.to_string());
    k8s_openapi::api::core::v1::ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), q("10m")),
            ("memory".to_string(), q("16Mi")),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), q("100m")),
            ("memory".to_string(), q("64Mi")),
        ])),
        ..Default::default()
    }
}

/// A pod spec running the Odoo image with the backend's identity and security, with the
/// filestore PVC as data dir when `filestore_pvc`.
pub fn odoo_pod_spec(
    ctx: &Ctx<'_>,
    container: Container,
    restart_policy: Option<&str>,
    filestore_pvc: bool,
) -> PodSpec {
    let b = &ctx.v.backend;
    PodSpec {
        service_account_name: Some(ctx.d.service_account.clone()),
        automount_service_account_token: Some(false),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(ctx.pod_security(&b.pod_security_context, 100, 101)),
        init_containers: non_empty(odoo_init_containers(ctx)),
        containers: vec![container],
        volumes: Some(odoo_volumes(ctx, filestore_pvc)),
        restart_policy: restart_policy.map(str::to_string),
        node_selector: non_empty_map(&b.node_selector),
        tolerations: non_empty(b.tolerations.clone()),
        affinity: non_default(&b.affinity),
        ..Default::default()
    }
}

/// Put a pod on the node of a running backend pod: the filestore PVC is ReadWriteOnce, so
/// while the backend holds it only pods on that same node can mount it (a pod elsewhere
/// would wait for the volume forever). Only for pods that run while the backend does.
pub fn beside_backend(ctx: &Ctx<'_>, spec: &mut PodSpec) {
    let term = PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some(ctx.selector(Some(COMPONENT))),
            ..Default::default()
        }),
        topology_key: "kubernetes.io/hostname".into(),
        ..Default::default()
    };
    spec.affinity
        .get_or_insert_with(Default::default)
        .pod_affinity
        .get_or_insert_with(Default::default)
        .required_during_scheduling_ignored_during_execution
        .get_or_insert_with(Vec::new)
        .push(term);
}

/// A container running `odoo` with the backend's env, mounts and security.
pub fn odoo_container(ctx: &Ctx<'_>, name: &str, image: &Image) -> Container {
    Container {
        name: name.into(),
        image: Some(image.reference()),
        image_pull_policy: Some(image.pull_policy.clone()),
        env: Some(odoo_env(ctx)),
        volume_mounts: Some(odoo_mounts(ctx)),
        security_context: Some(ctx.container_security(&ctx.v.backend.container_security_context)),
        ..Default::default()
    }
}

pub fn render(ctx: &Ctx<'_>) -> Vec<Object> {
    let b = &ctx.v.backend;
    let mut c = odoo_container(ctx, COMPONENT, &b.image);
    c.command = Some(vec!["odoo".into()]);
    c.args = Some(vec!["-c".into(), format!("{CONF_DIR}/odoo.conf")]);
    c.ports = Some(vec![
        ContainerPort {
            name: Some("http".into()),
            container_port: port_i32(b.service.ports.http),
            protocol: Some("TCP".into()),
            ..Default::default()
        },
        ContainerPort {
            name: Some("websocket".into()),
            container_port: port_i32(b.service.ports.websocket),
            protocol: Some("TCP".into()),
            ..Default::default()
        },
    ]);
    c.startup_probe = http_probe(&b.startup_probe);
    c.liveness_probe = http_probe(&b.liveness_probe);
    c.readiness_probe = http_probe(&b.readiness_probe);
    c.resources = Some(b.resources.clone());

    let mut pod_meta = ctx.pod_meta(COMPONENT);
    pod_meta.annotations = Some(BTreeMap::from([(
        "odoo-tui/config-hash".to_string(),
        template::checksum(&secrets::odoo_conf(ctx)),
    )]));
    let deployment = Deployment {
        metadata: ctx.meta(deployment_name(ctx), Some(COMPONENT)),
        spec: Some(DeploymentSpec {
            replicas: Some(b.replica_count),
            strategy: Some(b.update_strategy.clone()),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(Some(COMPONENT))),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(pod_meta),
                spec: Some(odoo_pod_spec(ctx, c, None, ctx.d.filestore_pvc)),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = Service {
        metadata: ctx.meta(deployment_name(ctx), Some(COMPONENT)),
        spec: Some(ServiceSpec {
            type_: Some(b.service.type_.clone()),
            selector: Some(ctx.selector(Some(COMPONENT))),
            ports: Some(vec![
                service_port("http", b.service.ports.http, "http"),
                service_port("websocket", b.service.ports.websocket, "websocket"),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    };
    vec![Object::Service(service), Object::Deployment(deployment)]
}

pub fn service_port(name: &str, port: i64, target: &str) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port: port_i32(port),
        target_port: Some(IntOrString::String(target.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// The filestore PVC, when the filestore is not on S3 or persistence is asked for.
pub fn pvc(ctx: &Ctx<'_>) -> Vec<Object> {
    if !ctx.d.filestore_pvc {
        return vec![];
    }
    let p = &ctx.v.backend.persistence;
    vec![Object::PersistentVolumeClaim(claim(
        ctx,
        pvc_name(ctx),
        &p.size,
        &p.storage_class,
        COMPONENT,
    ))]
}

/// A ReadWriteOnce claim of this instance.
pub fn claim(
    ctx: &Ctx<'_>,
    name: String,
    size: &str,
    storage_class: &str,
    component: &str,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ctx.meta(name, Some(component)),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: (!storage_class.is_empty()).then(|| storage_class.to_string()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(size.to_string()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The backend PDB, only when it cannot block every eviction.
pub fn pdb(ctx: &Ctx<'_>) -> Vec<Object> {
    let b = &ctx.v.backend;
    pdb_for(
        ctx,
        COMPONENT,
        &deployment_name(ctx),
        b.pdb.enabled,
        b.pdb.min_available,
        b.replica_count,
    )
}

/// A PDB for `component`, rendered only when replicas > minAvailable.
pub fn pdb_for(
    ctx: &Ctx<'_>,
    component: &str,
    name: &str,
    enabled: bool,
    min_available: i32,
    replicas: i32,
) -> Vec<Object> {
    if !enabled || replicas <= min_available {
        return vec![];
    }
    vec![Object::PodDisruptionBudget(PodDisruptionBudget {
        metadata: ctx.meta(name.to_string(), Some(component)),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(min_available)),
            selector: Some(LabelSelector {
                match_labels: Some(ctx.selector(Some(component))),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })]
}

#[cfg(test)]
mod tests {
    use super::COMPOSE_CONFIG_SCRIPT;

    /// Run the compose-config script under a real shell, its paths moved to a temporary
    /// directory.
    fn compose(shell: &[&str], password: &str) -> (bool, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("config-source");
        let dst = dir.path().join("config");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::write(src.join("odoo.conf"), "[options]\nlist_db = False\n").unwrap();
        let script = COMPOSE_CONFIG_SCRIPT
            .replace("/config-source", src.to_str().unwrap())
            .replace("/config/", &format!("{}/", dst.to_str().unwrap()));
        let out = std::process::Command::new(shell[0])
            .args(&shell[1..])
            .args(["-c", &script])
            .env("ODOO_MASTER_PASSWORD", password)
            .output()
            .expect("the shell runs");
        let conf = std::fs::read_to_string(dst.join("odoo.conf")).unwrap_or_default();
        (
            out.status.success(),
            conf,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    #[test]
    fn a_master_password_with_a_line_break_never_reaches_odoo_conf() {
        for shell in [&["dash"][..], &["busybox", "sh"][..]] {
            let (ok, conf, _) = compose(shell, "s3cr3t; $(x) `y` [z]");
            assert!(ok, "{shell:?}");
            assert_eq!(
                conf,
                "[options]\nlist_db = False\nadmin_passwd = s3cr3t; $(x) `y` [z]\n"
            );
            for hostile in ["pw\nlist_db = True", "pw\n[other]", "pw\r\nlist_db = True"] {
                let (ok, conf, err) = compose(shell, hostile);
                assert!(!ok, "{shell:?} {hostile:?}");
                assert!(!conf.contains("list_db = True") && !conf.contains("[other]"));
                assert!(err.contains("holds a line break"), "{err}");
                assert!(!err.contains("pw"), "{err}");
            }
        }
    }
}
