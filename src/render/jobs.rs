//! Jobs: MinIO bucket provisioning, database initialisation, filestore storage init,
//! and the smoke check run after the rollout.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, VolumeMount};

use super::Object;
use super::backend::{self, empty_dir, odoo_container, odoo_pod_spec, small_resources};
use super::common::{
    Ctx, env, restricted_container, restricted_default, restricted_pod, secret_env,
};

/// The first-boot script: initialise only an empty database, then set the admin
/// user's password (a fresh Odoo's is `admin`). Every value comes from the environment.
const INIT_SCRIPT: &str = r#"set -eu
conf=/etc/odoo/odoo.conf
initialised=$(psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -tAc \
  "SELECT 1 FROM information_schema.tables WHERE table_name = 'ir_module_module'" 2>/dev/null || true)
if [ "$initialised" = "1" ]; then
  echo "database $DB_NAME is already initialised: nothing to do"
  exit 0
fi
echo "initialising database $DB_NAME with modules $INIT_MODULES"
odoo -c "$conf" -d "$DB_NAME" -i "$INIT_MODULES" $DEMO_FLAG --load-language="$INIT_LANG" --stop-after-init --no-http --workers=0
echo "setting the password of the admin user"
odoo shell -c "$conf" -d "$DB_NAME" --no-http --workers=0 <<'PY'
import os
admin = env.ref("base.user_admin")
vals = {"password": os.environ["ODOO_ADMIN_PASSWORD"], "login": os.environ["ODOO_ADMIN_LOGIN"]}
if os.environ.get("ODOO_ADMIN_EMAIL"):
    vals["email"] = os.environ["ODOO_ADMIN_EMAIL"]
admin.write(vals)
env.cr.commit()
print("admin user updated")
PY
echo "database $DB_NAME initialised"
"#;

/// Upsert the `fs.storage` record; the S3 keys stay in the environment
/// (`eval_options_from_env` resolves `$VAR` at run time).
const STORAGE_SCRIPT: &str = r#"set -eu
odoo shell -c /etc/odoo/odoo.conf -d "$DB_NAME" --no-http --workers=0 <<'PY'
import json, os
Storage = env["fs.storage"]
code = os.environ["FS_STORAGE_CODE"]
vals = {
    "name": os.environ["FS_STORAGE_NAME"],
    "code": code,
    "protocol": "s3",
    "options": json.dumps({
        "endpoint_url": "$AWS_ENDPOINT_URL",
        "key": "$AWS_ACCESS_KEY_ID",
        "secret": "$AWS_SECRET_ACCESS_KEY",
    }),
    "eval_options_from_env": True,
    "directory_path": os.environ["FS_STORAGE_DIRECTORY"],
    "use_as_default_for_attachments": os.environ["FS_STORAGE_DEFAULT"] == "1",
    "optimizes_directory_path": os.environ["FS_STORAGE_OPTIMIZE_DIR"] == "1",
    "autovacuum_gc": os.environ["FS_STORAGE_AUTOVACUUM"] == "1",
}
existing = Storage.search([("code", "=", code)], limit=1)
if existing:
    existing.write(vals)
    print("updated fs.storage " + code)
else:
    Storage.create(vals)
    print("created fs.storage " + code)
env.cr.commit()
PY
"#;

pub fn render(ctx: &Ctx<'_>) -> Vec<Object> {
    let mut out = Vec::new();
    out.extend(minio_provisioning(ctx));
    out.extend(init(ctx));
    out.extend(storage_init(ctx));
    out
}

fn job(
    ctx: &Ctx<'_>,
    name: String,
    component: &str,
    backoff: i32,
    deadline: i64,
    spec: PodSpec,
) -> Object {
    Object::Job(Job {
        metadata: ctx.meta(name, Some(component)),
        spec: Some(JobSpec {
            backoff_limit: Some(backoff),
            active_deadline_seconds: Some(deadline),
            template: PodTemplateSpec {
                metadata: Some(ctx.pod_meta(component)),
                spec: Some(spec),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn minio_provisioning(ctx: &Ctx<'_>) -> Vec<Object> {
    let m = &ctx.v.minio;
    if !(m.enabled && m.provisioning.enabled && !m.provisioning.buckets.is_empty()) {
        return vec![];
    }
    let (secret, user_key, password_key) = &ctx.d.s3_secret;
    let mut script = format!(
        "set -eu\nuntil mc alias set local {} \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\" --api S3v4 >/dev/null; do\n  echo \"waiting for MinIO\"\n  sleep 2\ndone\n",
        ctx.d.s3_endpoint
    );
    for b in &m.provisioning.buckets {
        script.push_str(&format!("mc mb --ignore-existing local/{}\n", b.name));
    }
    let img = &m.provisioning.image;
    let container = Container {
        name: "mc".into(),
        image: Some(img.reference()),
        image_pull_policy: Some(img.pull_policy.clone()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        env: Some(vec![
            secret_env("MINIO_ROOT_USER", secret, user_key),
            secret_env("MINIO_ROOT_PASSWORD", secret, password_key),
            env("MC_CONFIG_DIR", "/tmp/mc"),
        ]),
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..Default::default()
        }]),
        security_context: Some(restricted_container(&m.container_security_context)),
        resources: Some(small_resources()),
        ..Default::default()
    };
    let spec = PodSpec {
        restart_policy: Some("OnFailure".into()),
        automount_service_account_token: Some(false),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(restricted_pod(&Default::default(), 1000, 1000)),
        containers: vec![container],
        volumes: Some(vec![empty_dir("tmp")]),
        ..Default::default()
    };
    vec![job(
        ctx,
        format!("{}-minio-provisioning", ctx.release),
        "minio-provisioning",
        3,
        600,
        spec,
    )]
}

/// The modules installed on first boot: base, the S3 attachment module when S3 is in
/// use, and `backend.initDb.modules`.
pub fn init_modules(ctx: &Ctx<'_>) -> Vec<String> {
    let mut mods = vec!["base".to_string()];
    if ctx.d.s3 {
        mods.push("fs_attachment_s3".into());
    }
    for m in &ctx.v.backend.init_db.modules {
        if !mods.contains(m) {
            mods.push(m.clone());
        }
    }
    mods
}

fn db_env(ctx: &Ctx<'_>) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    let d = &ctx.d;
    vec![
        env("DB_HOST", d.db_host.clone()),
        env("DB_PORT", d.db_port.to_string()),
        env("DB_USER", d.db_user.clone()),
        env("DB_NAME", d.db_name.clone()),
    ]
}

fn init(ctx: &Ctx<'_>) -> Vec<Object> {
    let i = &ctx.v.backend.init_db;
    if !i.enabled {
        return vec![];
    }
    let mut c = odoo_container(ctx, "init", &ctx.v.backend.image);
    c.command = Some(vec!["sh".into(), "-c".into(), INIT_SCRIPT.into()]);
    let e = c.env.get_or_insert_with(Vec::new);
    e.extend(db_env(ctx));
    e.push(env("INIT_MODULES", init_modules(ctx).join(",")));
    e.push(env("INIT_LANG", i.language.clone()));
    e.push(env(
        "DEMO_FLAG",
        if i.demo_data {
            ""
        } else {
            "--without-demo=all"
        },
    ));
    e.push(env("ODOO_ADMIN_LOGIN", i.admin_login.clone()));
    e.push(env("ODOO_ADMIN_EMAIL", i.admin_email.clone()));
    e.push(secret_env(
        "ODOO_ADMIN_PASSWORD",
        &ctx.d.admin_secret.0,
        &ctx.d.admin_secret.1,
    ));
    c.resources = Some(ctx.v.backend.auto_upgrade.resources.clone());
    let spec = odoo_pod_spec(ctx, c, Some("Never"), false);
    vec![job(
        ctx,
        format!("{}-init", ctx.fullname()),
        "init",
        i.backoff_limit,
        i.active_deadline_seconds,
        spec,
    )]
}

fn storage_init(ctx: &Ctx<'_>) -> Vec<Object> {
    let s = &ctx.v.backend.storage_init;
    if !(ctx.d.s3 && s.enabled) {
        return vec![];
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    let mut c = odoo_container(ctx, "storage-init", &ctx.v.backend.image);
    c.command = Some(vec!["sh".into(), "-c".into(), STORAGE_SCRIPT.into()]);
    let dir = if s.directory_path.is_empty() {
        ctx.d.s3_bucket.clone()
    } else {
        s.directory_path.clone()
    };
    let e = c.env.get_or_insert_with(Vec::new);
    e.extend(db_env(ctx));
    e.push(env("FS_STORAGE_CODE", s.code.clone()));
    e.push(env("FS_STORAGE_NAME", s.name.clone()));
    e.push(env("FS_STORAGE_DIRECTORY", dir));
    e.push(env("FS_STORAGE_DEFAULT", flag(s.use_as_default)));
    e.push(env(
        "FS_STORAGE_OPTIMIZE_DIR",
        flag(s.optimize_directory_path),
    ));
    e.push(env("FS_STORAGE_AUTOVACUUM", flag(s.autovacuum_gc)));
    c.resources = Some(ctx.v.backend.resources.clone());
    let spec = odoo_pod_spec(ctx, c, Some("Never"), false);
    vec![job(
        ctx,
        format!("{}-storage-init", ctx.fullname()),
        "storage-init",
        s.backoff_limit,
        s.active_deadline_seconds,
        spec,
    )]
}

/// A short Job fetching the login page through the backend Service.
pub fn smoke_check(ctx: &Ctx<'_>) -> Vec<Object> {
    let s = &ctx.v.backend.smoke_check;
    if !s.enabled {
        return vec![];
    }
    let url = format!(
        "http://{}:{}{}",
        backend::deployment_name(ctx),
        ctx.v.backend.service.ports.http,
        s.path
    );
    let script = format!(
        "for i in 1 2 3 4 5 6 7 8 9 10; do\n  if wget -q -T 10 -O /dev/null {url}; then echo \"{url} answered\"; exit 0; fi\n  echo \"{url} not answering yet ($i)\"; sleep 3\ndone\necho \"{url} did not answer\"; exit 1\n"
    );
    let img = &ctx.v.backend.init_containers.wait_for_db.image;
    let container = Container {
        name: "smoke-check".into(),
        image: Some(img.reference()),
        image_pull_policy: Some(img.pull_policy.clone()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        security_context: Some(restricted_default(65534, 65534)),
        resources: Some(small_resources()),
        ..Default::default()
    };
    let spec = PodSpec {
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(restricted_pod(&Default::default(), 65534, 65534)),
        containers: vec![container],
        ..Default::default()
    };
    vec![job(
        ctx,
        format!("{}-smoke-check", ctx.fullname()),
        "smoke-check",
        0,
        s.active_deadline_seconds,
        spec,
    )]
}
