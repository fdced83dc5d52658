//! Jobs: MinIO bucket provisioning, database initialisation, filestore storage init,
//! and the smoke check run after the rollout.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, VolumeMount};

use super::Object;
use super::backend::{self, empty_dir, odoo_container, odoo_pod_spec, small_resources};
use super::common::{
    Ctx, env, restricted_container, restricted_default, restricted_pod, secret_env,
};

/// Shell helpers shared by the Odoo Jobs: `sql` runs one statement with `psql` against
/// the instance's database and prints the rows (or, on failure, the error).
pub(super) const SQL_FN: &str = r#"sql() {
  psql -X -q -v ON_ERROR_STOP=1 -At -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -c "$1" 2>&1
}
"#;

/// The first-boot script (see docs/ARCHITECTURE.md, "First boot"). Completion is explicit:
/// every first-boot module `installed` and the marker `odoo_tui.initialised` that the admin
/// step writes in the same transaction as the admin's password. Anything else resumes:
/// `-i` continues modules Odoo left `to install`. A database that does not exist yet is
/// the only error read as "not initialised"; every other `psql` error stops the Job
/// before anything is changed. Every value comes from the environment.
const INIT_SCRIPT_HEAD: &str = r#"set -eu
case "$INIT_MODULES" in
  ''|*[!a-z0-9_,]*) echo "INIT_MODULES must be module names separated by commas, not '$INIT_MODULES'" >&2; exit 2 ;;
esac
if ! command -v psql >/dev/null 2>&1; then
  echo "psql is not in the image: cannot tell whether database $DB_NAME is initialised, so nothing is changed" >&2
  exit 1
fi
"#;

const INIT_SCRIPT_STATE: &str = r#"installed=""
marker=""
if probe=$(sql "SELECT to_regclass('ir_module_module') IS NOT NULL, to_regclass('ir_config_parameter') IS NOT NULL"); then
  if [ "${probe%%|*}" = "t" ]; then
    installed=$(sql "SELECT name FROM ir_module_module WHERE state = 'installed'") || { echo "$installed" >&2; exit 1; }
  fi
  if [ "${probe##*|}" = "t" ]; then
    marker=$(sql "SELECT value FROM ir_config_parameter WHERE key = 'odoo_tui.initialised'") || { echo "$marker" >&2; exit 1; }
  fi
else
  case "$probe" in
    *"database \"$DB_NAME\" does not exist"*)
      echo "database $DB_NAME does not exist yet: Odoo creates it" ;;
    *)
      echo "cannot read database $DB_NAME at $DB_HOST:$DB_PORT as $DB_USER; nothing was changed:" >&2
      echo "$probe" >&2
      exit 1 ;;
  esac
fi
missing=""
for m in $(echo "$INIT_MODULES" | tr ',' ' '); do
  if ! printf '%s\n' "$installed" | grep -qx "$m"; then
    missing="${missing:+$missing,}$m"
  fi
done
if [ -n "$marker" ] && [ -z "$missing" ]; then
  echo "database $DB_NAME is initialised (since $marker): nothing to do"
  exit 0
fi
"#;

const INIT_SCRIPT_INSTALL: &str = r#"if [ -n "$missing" ]; then
  if [ -z "$marker" ]; then
    echo "initialising database $DB_NAME: installing $missing"
    odoo -c "$ODOO_RC" -d "$DB_NAME" -i "$missing" $DEMO_FLAG --load-language="$INIT_LANG" --stop-after-init --no-http --workers=0
  else
    echo "database $DB_NAME is initialised; installing the first-boot modules it lacks: $missing"
    odoo -c "$ODOO_RC" -d "$DB_NAME" -i "$missing" $DEMO_FLAG --stop-after-init --no-http --workers=0
  fi
fi
"#;

const INIT_SCRIPT_ADMIN: &str = r#"if [ -z "$marker" ]; then
  echo "setting the admin user's login, password and language"
  odoo shell -c "$ODOO_RC" -d "$DB_NAME" --no-http --workers=0 <<'PY'
# odoo-tui step: admin
import os
from odoo import fields
admin = env.ref("base.user_admin")
vals = {"password": os.environ["ODOO_ADMIN_PASSWORD"], "login": os.environ["ODOO_ADMIN_LOGIN"]}
if os.environ.get("ODOO_ADMIN_EMAIL"):
    vals["email"] = os.environ["ODOO_ADMIN_EMAIL"]
lang = os.environ.get("INIT_LANG", "")
if lang and env["res.lang"].search([("code", "=", lang), ("active", "=", True)]):
    vals["lang"] = lang
    env.ref("base.main_company").partner_id.write({"lang": lang})
admin.write(vals)
# The marker goes in the same transaction: completion is never recorded without the admin.
env["ir.config_parameter"].sudo().set_param("odoo_tui.initialised", str(fields.Datetime.now()))
env.cr.commit()
print("admin user updated")
PY
fi
"#;

const INIT_SCRIPT_VERIFY: &str = r#"installed=$(sql "SELECT name FROM ir_module_module WHERE state = 'installed'") || { echo "$installed" >&2; exit 1; }
for m in $(echo "$INIT_MODULES" | tr ',' ' '); do
  if ! printf '%s\n' "$installed" | grep -qx "$m"; then
    echo "module $m is not installed after odoo finished: first boot is not complete" >&2
    exit 1
  fi
done
marker=$(sql "SELECT value FROM ir_config_parameter WHERE key = 'odoo_tui.initialised'") || { echo "$marker" >&2; exit 1; }
if [ -z "$marker" ]; then
  echo "the admin step left no marker: first boot is not complete" >&2
  exit 1
fi
echo "database $DB_NAME initialised"
"#;

/// Upsert the `fs.storage` record, then move every attachment that is not in it yet
/// (the files first boot wrote to the local filestore) into it with fs_attachment's
/// `force_storage`; the S3 keys stay in the environment (`eval_options_from_env`
/// resolves `$VAR` at run time).
const STORAGE_STEP: &str = r#"echo "configuring the S3 filestore and moving attachments into it"
odoo shell -c "$ODOO_RC" -d "$DB_NAME" --no-http --workers=0 <<'PY'
# odoo-tui step: storage
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
# fs_attachment caches the default storage per registry: drop it so the move sees the new one.
env.registry.clear_cache()
env["ir.attachment"].with_context(storage_location=code).force_storage()
env.cr.commit()
print("attachments moved to fs.storage " + code)
PY
"#;

/// Fails unless every attachment's file exists (local filestore or fs.storage).
pub(super) const CHECK_FILES_STEP: &str = r#"echo "checking that every attachment's file exists"
odoo shell -c "$ODOO_RC" -d "$DB_NAME" --no-http --workers=0 <<'PY'
# odoo-tui step: check-files
import os
Attachment = env["ir.attachment"].sudo().with_context(active_test=False)
# res_field on both sides: ir.attachment's _search otherwise hides field attachments.
domain = [("store_fname", "!=", False), "|", ("res_field", "=", False), ("res_field", "!=", False)]
missing = []
for att in Attachment.search(domain):
    fname = att.store_fname
    if "://" in fname and hasattr(att, "_fs_parse_store_fname"):
        fs, _code, path = att._fs_parse_store_fname(fname)
        found = fs.exists(path)
    else:
        found = os.path.exists(att._full_path(fname))
    if not found:
        missing.append(fname)
print("attachments whose file is missing: %d" % len(missing))
if missing:
    raise SystemExit("attachments point at missing files: " + ", ".join(missing[:20]))
PY
"#;

/// The init Job's script: with S3 the storage step runs in the same pod, so the files
/// `-i` wrote to the local filestore still exist when they are moved to the bucket.
pub fn init_script(s3: bool) -> String {
    let mut s = String::from(INIT_SCRIPT_HEAD);
    s.push_str(SQL_FN);
    s.push_str(INIT_SCRIPT_STATE);
    s.push_str(INIT_SCRIPT_INSTALL);
    if s3 {
        s.push_str(STORAGE_STEP);
    }
    s.push_str(CHECK_FILES_STEP);
    s.push_str(INIT_SCRIPT_ADMIN);
    s.push_str(INIT_SCRIPT_VERIFY);
    s
}

/// The storage-init Job's script: installs the S3 modules an existing database lacks,
/// then the storage step and the files check.
pub fn storage_script() -> String {
    let mut s = String::from("set -eu\n");
    s.push_str(SQL_FN);
    s.push_str(
        r#"installed=$(sql "SELECT name FROM ir_module_module WHERE state = 'installed'") || {
  echo "cannot read the modules of database $DB_NAME; nothing was changed:" >&2
  echo "$installed" >&2
  exit 1
}
if ! printf '%s\n' "$installed" | grep -qx fs_attachment_s3; then
  echo "installing fs_attachment_s3 on database $DB_NAME"
  odoo -c "$ODOO_RC" -d "$DB_NAME" -i fs_attachment_s3 --stop-after-init --no-http --workers=0
fi
"#,
    );
    s.push_str(STORAGE_STEP);
    s.push_str(CHECK_FILES_STEP);
    s
}

pub fn render(ctx: &Ctx<'_>) -> Vec<Object> {
    let mut out = Vec::new();
    out.extend(minio_provisioning(ctx));
    out.extend(init(ctx));
    out.extend(storage_init(ctx));
    out
}

pub(super) fn job(
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
        "set -eu\n{MC_HOST_FN}mc_host local \"$S3_ENDPOINT\" \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\"\nuntil mc ls local >/dev/null; do\n  echo \"waiting for MinIO\"\n  sleep 2\ndone\n"
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
            env("S3_ENDPOINT", ctx.d.s3_endpoint.clone()),
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

/// Where odoo.conf is mounted in every Odoo container (the image's `ODOO_RC` too).
pub(super) const ODOO_RC: &str = "/etc/odoo/odoo.conf";

pub(super) fn db_env(ctx: &Ctx<'_>) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    let d = &ctx.d;
    vec![
        env("DB_HOST", d.db_host.clone()),
        env("DB_PORT", d.db_port.to_string()),
        env("DB_USER", d.db_user.clone()),
        env("DB_NAME", d.db_name.clone()),
    ]
}

/// Names of the env vars that decide what a first boot does: the init Job is re-run
/// (deleted and re-created) only when one of them, or the script, changes. The image tag,
/// resources and `backend.env` are left out: a new image does not make an initialised
/// database need a first boot again.
const INIT_IDENTITY_ENV: &[&str] = &[
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_NAME",
    "INIT_MODULES",
    "INIT_LANG",
    "DEMO_FLAG",
    "ODOO_ADMIN_LOGIN",
    "ODOO_ADMIN_EMAIL",
    "ODOO_ADMIN_PASSWORD",
    "FS_STORAGE_CODE",
    "FS_STORAGE_DIRECTORY",
    "AWS_ENDPOINT_URL",
];

/// Same for storage-init: the storage settings and the database, not the image.
const STORAGE_IDENTITY_ENV: &[&str] = &[
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_NAME",
    "FS_STORAGE_CODE",
    "FS_STORAGE_NAME",
    "FS_STORAGE_DIRECTORY",
    "FS_STORAGE_DEFAULT",
    "FS_STORAGE_OPTIMIZE_DIR",
    "FS_STORAGE_AUTOVACUUM",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
];

/// A hash of the container's command and of the named env vars (values or the Secret
/// keys they come from), put on the Job as [`super::JOB_SPEC_HASH`]: the apply engine
/// re-creates a finished Job only when this changes.
fn identity(c: &Container, names: &[&str]) -> String {
    let env: Vec<_> = c
        .env
        .iter()
        .flatten()
        .filter(|e| names.contains(&e.name.as_str()))
        .collect();
    let text = serde_json::to_string(&(&c.command, env)).unwrap_or_default();
    super::template::checksum(&text)
}

fn with_identity(mut job: Object, hash: String) -> Object {
    if let Object::Job(j) = &mut job {
        j.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(super::JOB_SPEC_HASH.to_string(), hash);
    }
    job
}

/// The env of the storage step: which `fs.storage` record to upsert.
pub(super) fn storage_env(ctx: &Ctx<'_>) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    let s = &ctx.v.backend.storage_init;
    let flag = |b: bool| if b { "1" } else { "0" };
    let dir = if s.directory_path.is_empty() {
        ctx.d.s3_bucket.clone()
    } else {
        s.directory_path.clone()
    };
    vec![
        env("FS_STORAGE_CODE", s.code.clone()),
        env("FS_STORAGE_NAME", s.name.clone()),
        env("FS_STORAGE_DIRECTORY", dir),
        env("FS_STORAGE_DEFAULT", flag(s.use_as_default)),
        env("FS_STORAGE_OPTIMIZE_DIR", flag(s.optimize_directory_path)),
        env("FS_STORAGE_AUTOVACUUM", flag(s.autovacuum_gc)),
    ]
}

/// Whether init and storage-init mount the backend's filestore PVC: where the backend
/// has one, and while the filestore moves to S3 (the files to move are on it).
fn mounts_filestore_pvc(ctx: &Ctx<'_>) -> bool {
    ctx.d.filestore_pvc || ctx.transition.filestore_to_s3
}

fn init(ctx: &Ctx<'_>) -> Vec<Object> {
    let i = &ctx.v.backend.init_db;
    if !i.enabled {
        return vec![];
    }
    let mut c = odoo_container(ctx, "init", &ctx.v.backend.image);
    c.command = Some(vec!["sh".into(), "-c".into(), init_script(ctx.d.s3)]);
    let e = c.env.get_or_insert_with(Vec::new);
    e.push(env("ODOO_RC", ODOO_RC));
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
    if ctx.d.s3 {
        e.extend(storage_env(ctx));
    }
    c.resources = Some(ctx.v.backend.auto_upgrade.resources.clone());
    let hash = identity(&c, INIT_IDENTITY_ENV);
    // The backend's filestore, where it has one: what `-i` writes must outlive the pod.
    let spec = odoo_pod_spec(ctx, c, Some("Never"), mounts_filestore_pvc(ctx));
    vec![with_identity(
        job(
            ctx,
            format!("{}-init", ctx.fullname()),
            "init",
            i.backoff_limit,
            i.active_deadline_seconds,
            spec,
        ),
        hash,
    )]
}

fn storage_init(ctx: &Ctx<'_>) -> Vec<Object> {
    let s = &ctx.v.backend.storage_init;
    if !(ctx.d.s3 && s.enabled) {
        return vec![];
    }
    let mut c = odoo_container(ctx, "storage-init", &ctx.v.backend.image);
    c.command = Some(vec!["sh".into(), "-c".into(), storage_script()]);
    let e = c.env.get_or_insert_with(Vec::new);
    e.push(env("ODOO_RC", ODOO_RC));
    e.extend(db_env(ctx));
    e.extend(storage_env(ctx));
    c.resources = Some(ctx.v.backend.resources.clone());
    let hash = identity(&c, STORAGE_IDENTITY_ENV);
    let spec = odoo_pod_spec(ctx, c, Some("Never"), mounts_filestore_pvc(ctx));
    vec![with_identity(
        job(
            ctx,
            format!("{}-storage-init", ctx.fullname()),
            "storage-init",
            s.backoff_limit,
            s.active_deadline_seconds,
            spec,
        ),
        hash,
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

// ---------------------------------------------------------------------------------------
// Backup and upgrade Jobs (docs/ARCHITECTURE.md, "Upgrade and backup"). Pure and deterministic: the revision and the time
// come in as inputs.

/// Kubernetes object names (and the `job-name` label) are at most 63 characters.
const MAX_NAME: usize = 63;

/// `<prefix><suffix>`, the prefix shortened (never the suffix) so the whole fits 63
/// characters; a prefix cut short loses trailing dashes so the name stays a DNS label.
pub(super) fn bounded_name(prefix: &str, suffix: &str) -> String {
    let room = MAX_NAME.saturating_sub(suffix.len());
    let cut: String = prefix.chars().take(room).collect();
    format!("{}{suffix}", cut.trim_end_matches('-'))
}

/// `%y%m%d%H%M` in UTC of a unix time (e.g. `2611272305`).
pub fn backup_stamp(unix: i64) -> String {
    crate::time::format_utc(unix, "%y%m%d%H%M")
}

/// Where a backup Job puts its dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupTarget {
    /// The instance's bucket: `s3://<bucket>/<key>`.
    S3 { bucket: String, key: String },
    /// The PVC `<fullname>-backups`.
    Pvc { claim: String, file: String },
}

impl BackupTarget {
    /// `s3://<bucket>/backups/<file>` or `pvc:<name>/<file>`.
    pub fn location(&self) -> String {
        match self {
            BackupTarget::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
            BackupTarget::Pvc { claim, file } => format!("pvc:{claim}/{file}"),
        }
    }

    /// The backup's id, `<fullname>-<revision>-<stamp>`: its dump's name without
    /// `.dump`, what `odoo-tui restore --from` takes.
    pub fn id(&self) -> String {
        let file = match self {
            BackupTarget::S3 { key, .. } => key.rsplit('/').next().unwrap_or(key),
            BackupTarget::Pvc { file, .. } => file,
        };
        file.strip_suffix(".dump").unwrap_or(file).to_string()
    }

    /// The target a [`BackupTarget::location`] names.
    pub fn from_location(location: &str) -> Option<BackupTarget> {
        if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/')?;
            return Some(BackupTarget::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
        let (claim, file) = location.strip_prefix("pvc:")?.split_once('/')?;
        Some(BackupTarget::Pvc {
            claim: claim.to_string(),
            file: file.to_string(),
        })
    }
}

/// A rendered backup: the Job, the PVC it needs (without S3), and where the dump goes.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupJob {
    pub job: Object,
    pub pvc: Option<Object>,
    pub file: String,
    pub target: BackupTarget,
}

impl BackupJob {
    /// The backup of a running backend: with the filestore on the backend's
    /// ReadWriteOnce PVC, the backup pod (which mounts it) runs on the node of a backend
    /// pod, where the volume is attached. Nothing changes without a filestore PVC.
    pub fn beside_backend(mut self, ctx: &Ctx<'_>) -> BackupJob {
        if ctx.d.filestore_pvc
            && let Object::Job(j) = &mut self.job
            && let Some(spec) = j.spec.as_mut().and_then(|s| s.template.spec.as_mut())
        {
            backend::beside_backend(ctx, spec);
        }
        self
    }
}

/// Name of the PVC holding dumps when the instance has no S3.
pub fn backups_pvc_name(ctx: &Ctx<'_>) -> String {
    bounded_name(ctx.fullname(), "-backups")
}

/// The PostgreSQL image's `postgres` user.
pub(super) const PG_UID: i64 = 999;
/// Where the backup's files are written inside the backup pod.
pub(super) const DUMP_DIR: &str = "/backup";
/// Where the backend's filestore PVC is mounted (read-only) in the backup pod.
pub(super) const FILESTORE_MOUNT: &str = "/filestore";

/// `MC_HOST_<alias>` from an endpoint and two keys, in the environment only: mc takes the
/// keys verbatim from `<scheme>://<access>:<secret>@<host>` (a `:` in a key would be read
/// as the start of a session token, so such keys are refused).
pub(super) const MC_HOST_FN: &str = r#"mc_host() {
  case "$3$4" in
    *:*) echo "an S3 key contains ':', which mc cannot take from MC_HOST_$1: use keys without ':'" >&2; exit 1 ;;
  esac
  export "MC_HOST_$1=${2%%://*}://$3:$4@${2#*://}"
}
"#;

/// Which modules an upgrade updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeModules {
    All,
    List(Vec<String>),
}

impl UpgradeModules {
    /// The `-u` argument: `all` or `a,b`.
    pub fn arg(&self) -> String {
        match self {
            UpgradeModules::All => "all".into(),
            UpgradeModules::List(l) => l.join(","),
        }
    }

    /// As kept in the history: `["all"]` or the names.
    pub fn names(&self) -> Vec<String> {
        match self {
            UpgradeModules::All => vec!["all".into()],
            UpgradeModules::List(l) => l.clone(),
        }
    }
}

/// What an upgrade Job runs.
#[derive(Debug, Clone, PartialEq)]
pub struct UpgradeSpec {
    pub modules: UpgradeModules,
    /// The backend image to run (the target image of the upgrade).
    pub image: crate::values::Image,
    /// The revision the upgrade produces (names the Job).
    pub revision: u64,
    /// The backend keeps running (online strategy): with the filestore on its
    /// ReadWriteOnce PVC, the Job runs on the node of a backend pod, where the volume is.
    pub beside_backend: bool,
}

/// Name of the upgrade Job of a revision.
pub fn upgrade_job_name(ctx: &Ctx<'_>, revision: u64) -> String {
    bounded_name(ctx.fullname(), &format!("-upgrade-{revision}"))
}

/// The shell script of an upgrade Job (module names are validated `[a-z0-9_]+`, so they
/// are safe to write into it; no credential is: Odoo's driver reads `PGPASSWORD`). No
/// separate `update_list` step: `-u` refreshes the module list itself (Odoo's
/// `odoo/modules/loading.py`, `load_modules`, step 2 calls `update_list()` whenever
/// modules are updated).
pub fn upgrade_script(modules: &UpgradeModules) -> String {
    let mut s = String::from("set -eu\n");
    let m = modules.arg();
    s.push_str(&format!("echo \"upgrading modules: {m}\"\n"));
    s.push_str(&format!(
        "exec odoo -c \"$ODOO_RC\" -d \"$DB_NAME\" -u {m} --stop-after-init --no-http --workers=0\n"
    ));
    s
}

/// The Job `<fullname>-upgrade-<revision>`: the target image with the backend's
/// credentials, environment, mounts and security context; resources, back-off and
/// deadline from `backend.autoUpgrade`.
pub fn upgrade_job(ctx: &Ctx<'_>, spec: &UpgradeSpec) -> Object {
    let au = &ctx.v.backend.auto_upgrade;
    let mut c = odoo_container(ctx, "upgrade", &spec.image);
    c.command = Some(vec![
        "sh".into(),
        "-c".into(),
        upgrade_script(&spec.modules),
    ]);
    let e = c.env.get_or_insert_with(Vec::new);
    e.push(env("ODOO_RC", ODOO_RC));
    e.extend(db_env(ctx));
    c.resources = Some(au.resources.clone());
    let mut pod = odoo_pod_spec(ctx, c, Some("Never"), ctx.d.filestore_pvc);
    if spec.beside_backend && ctx.d.filestore_pvc {
        backend::beside_backend(ctx, &mut pod);
    }
    job(
        ctx,
        upgrade_job_name(ctx, spec.revision),
        "upgrade",
        au.backoff_limit,
        au.active_deadline_seconds,
        pod,
    )
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;
    use crate::render::backup::backup_job;
    use crate::render::{Credentials, RenderInput};

    fn with<T>(sets: &[&str], f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        with_release("acme", sets, f)
    }

    fn with_release<T>(release: &str, sets: &[&str], f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        let sources: Vec<_> = sets
            .iter()
            .map(|s| crate::values::Source::set(s).unwrap())
            .collect();
        let loaded = crate::values::load(&sources).unwrap();
        let creds = Credentials::default();
        let input = RenderInput {
            release,
            namespace: "shop",
            values: &loaded.values,
            credentials: &creds,
        };
        let ctx = Ctx::new(&input).unwrap();
        f(&ctx)
    }

    fn job_of(o: &Object) -> &Job {
        match o {
            Object::Job(j) => j,
            other => panic!("not a Job: {}", other.kind()),
        }
    }

    fn pod(o: &Object) -> &PodSpec {
        job_of(o)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
    }

    fn env_names(c: &Container) -> Vec<String> {
        c.env
            .iter()
            .flatten()
            .map(|e| e.name.clone())
            .collect::<Vec<_>>()
    }

    fn assert_restricted(p: &PodSpec) {
        let psc = p.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert!(psc.seccomp_profile.is_some());
        for c in p
            .containers
            .iter()
            .chain(p.init_containers.iter().flatten())
        {
            let sc = c.security_context.as_ref().unwrap();
            assert_eq!(sc.allow_privilege_escalation, Some(false), "{}", c.name);
            assert_eq!(
                sc.capabilities.as_ref().unwrap().drop.as_deref(),
                Some(&["ALL".to_string()][..])
            );
        }
    }

    fn init_identity(sets: &[&str]) -> String {
        with(sets, |ctx| {
            init(ctx)[0].metadata().annotations.as_ref().unwrap()[crate::render::JOB_SPEC_HASH]
                .clone()
        })
    }

    #[test]
    fn the_init_jobs_identity_ignores_the_image_and_unrelated_env() {
        let base = init_identity(&[]);
        assert_eq!(
            base,
            init_identity(&[
                "backend.image.tag=18.0-20260908",
                "backend.env[0].name=FEATURE",
                "backend.env[0].value=on",
                "backend.autoUpgrade.resources.limits.memory=5Gi",
            ])
        );
        assert_ne!(base, init_identity(&["backend.initDb.modules={sale}"]));
        assert_ne!(base, init_identity(&["postgresql.auth.database=other"]));
        assert_ne!(base, init_identity(&["backend.initDb.language=fr_FR"]));
    }

    #[test]
    fn init_and_storage_init_mount_the_backends_filestore_pvc() {
        with(&["minio.enabled=false"], |ctx| {
            let p = pod(&init(ctx)[0]).clone();
            let data = p
                .volumes
                .iter()
                .flatten()
                .find(|v| v.name == "data")
                .unwrap();
            assert_eq!(
                data.persistent_volume_claim.as_ref().unwrap().claim_name,
                "acme-odoo-backend-data"
            );
        });
        with(&["backend.persistence.enabled=true"], |ctx| {
            for job in [&init(ctx)[0], &storage_init(ctx)[0]] {
                let p = pod(job);
                let data = p
                    .volumes
                    .iter()
                    .flatten()
                    .find(|v| v.name == "data")
                    .unwrap();
                assert!(data.persistent_volume_claim.is_some(), "{}", job.name());
            }
        });
    }

    #[test]
    fn while_the_filestore_moves_to_s3_the_jobs_mount_its_pvc_and_the_backend_does_not() {
        let claim = |p: &PodSpec| {
            p.volumes
                .iter()
                .flatten()
                .find(|v| v.name == "data")
                .and_then(|v| v.persistent_volume_claim.as_ref())
                .map(|c| c.claim_name.clone())
        };
        let objects = |transition| {
            with(&[], |ctx| {
                let pw = || Some("pw".to_string());
                let creds = Credentials {
                    db_password: pw(),
                    minio_root_password: pw(),
                    master_password: pw(),
                    admin_password: pw(),
                };
                let input = crate::render::RenderInput {
                    release: ctx.release,
                    namespace: ctx.namespace,
                    values: ctx.v,
                    credentials: &creds,
                };
                crate::render::render_with(&input, transition).unwrap()
            })
        };
        let switch = crate::render::Transition {
            filestore_to_s3: true,
            ..Default::default()
        };
        for (transition, jobs_claim) in [
            (switch, Some("acme-odoo-backend-data".to_string())),
            (Default::default(), None),
        ] {
            let all = objects(transition);
            for name in ["acme-odoo-init", "acme-odoo-storage-init"] {
                let job = all.iter().find(|o| o.name() == name).unwrap();
                assert_eq!(claim(pod(job)), jobs_claim, "{name}");
            }
            let backend = all
                .iter()
                .find(|o| o.name() == "acme-odoo-backend" && o.kind() == "Deployment")
                .unwrap();
            let Object::Deployment(d) = backend else {
                unreachable!()
            };
            let spec = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
            assert_eq!(claim(spec), None);
            // The PVC itself is not rendered (and never pruned): it stays.
            assert!(!all.iter().any(|o| o.kind() == "PersistentVolumeClaim"));
        }
    }

    #[test]
    fn a_backup_location_names_its_target_again() {
        for t in [
            BackupTarget::S3 {
                bucket: "b".into(),
                key: "backups/acme-odoo-1-2611272305.dump".into(),
            },
            BackupTarget::Pvc {
                claim: "acme-odoo-backups".into(),
                file: "acme-odoo-1-2611272305.dump".into(),
            },
        ] {
            assert_eq!(BackupTarget::from_location(&t.location()), Some(t));
        }
        assert_eq!(BackupTarget::from_location("ftp://x"), None);
    }

    #[test]
    fn stamps_are_utc_minutes() {
        assert_eq!(backup_stamp(1_795_820_700), "2611272305");
        assert_eq!(backup_stamp(0), "7001010000");
    }

    #[test]
    fn backup_with_s3_dumps_then_uploads_to_the_bucket() {
        let b = with(&[], |ctx| backup_job(ctx, 3, 1_795_820_700));
        assert_eq!(b.job.name(), "acme-odoo-backup-3-2611272305");
        assert_eq!(b.job.component(), Some("backup"));
        assert_eq!(b.file, "acme-odoo-3-2611272305.dump");
        assert_eq!(
            b.target.location(),
            "s3://odoo-filestore/backups/acme-odoo-3-2611272305.dump"
        );
        assert!(b.pvc.is_none());
        let p = pod(&b.job);
        assert_restricted(p);
        let dump = &p.init_containers.as_ref().unwrap()[0];
        assert_eq!(dump.image.as_deref(), Some("postgres:18.4"));
        let script = &dump.command.as_ref().unwrap()[2];
        assert!(script.contains("pg_dump -Fc"), "{script}");
        let pw = dump
            .env
            .iter()
            .flatten()
            .find(|e| e.name == "PGPASSWORD")
            .unwrap();
        let key = pw
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (key.name.as_str(), key.key.as_str()),
            ("acme-odoo", "db-password")
        );
        let upload = &p.containers[0];
        assert!(upload.image.as_deref().unwrap().starts_with("minio/mc:"));
        assert!(env_names(upload).contains(&"MC_CONFIG_DIR".to_string()));
        assert!(env_names(upload).contains(&"AWS_SECRET_ACCESS_KEY".to_string()));
        let j = job_of(&b.job).spec.as_ref().unwrap();
        assert_eq!(j.backoff_limit, Some(0));
        assert_eq!(j.active_deadline_seconds, Some(3600));
        // No credential is written into the Job itself.
        let text = serde_json::to_string(&b.job.to_json()).unwrap();
        assert!(!text.contains("password="), "{text}");
    }

    #[test]
    fn backup_without_s3_goes_to_a_pvc() {
        let b = with(
            &["minio.enabled=false", "backup.persistence.size=5Gi"],
            |ctx| backup_job(ctx, 1, 1_795_820_700),
        );
        assert_eq!(
            b.target.location(),
            "pvc:acme-odoo-backups/acme-odoo-1-2611272305.dump"
        );
        let pvc = b.pvc.as_ref().unwrap();
        assert_eq!(pvc.name(), "acme-odoo-backups");
        assert_eq!(pvc.component(), Some("backup"));
        assert!(
            serde_json::to_string(&pvc.to_json())
                .unwrap()
                .contains("5Gi")
        );
        let p = pod(&b.job);
        assert_restricted(p);
        assert!(p.init_containers.is_none());
        assert_eq!(p.containers[0].name, "backup");
        assert_eq!(
            p.volumes.as_ref().unwrap()[0]
                .persistent_volume_claim
                .as_ref()
                .unwrap()
                .claim_name,
            "acme-odoo-backups"
        );
    }

    #[test]
    fn a_backup_of_a_running_backend_runs_beside_it_when_it_mounts_the_filestore_pvc() {
        let affinity = |sets: &[&str]| {
            with(sets, |ctx| {
                let b = backup_job(ctx, 1, 1_795_820_700).beside_backend(ctx);
                pod(&b.job).affinity.clone()
            })
        };
        let a = affinity(&["minio.enabled=false"]).unwrap();
        let term = &a
            .pod_affinity
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .unwrap()[0];
        assert_eq!(term.topology_key, "kubernetes.io/hostname");
        // With S3 the backup pod mounts no filestore: it may run anywhere.
        assert!(affinity(&[]).is_none());
    }

    #[test]
    fn long_names_keep_their_suffix_and_fit_63() {
        let release = "a".repeat(50);
        let (backup, upgrade) = with_release(&release, &[], |ctx| {
            (
                backup_job(ctx, 12, 1_795_820_700).job.name().to_string(),
                upgrade_job_name(ctx, 12),
            )
        });
        assert!(backup.len() <= 63, "{backup}");
        assert!(backup.ends_with("-backup-12-2611272305"), "{backup}");
        assert!(upgrade.len() <= 63, "{upgrade}");
        assert!(upgrade.ends_with("-upgrade-12"), "{upgrade}");
        assert!(!backup.contains("--"));
        // Deterministic.
        let again = with_release(&release, &[], |ctx| {
            backup_job(ctx, 12, 1_795_820_700).job.name().to_string()
        });
        assert_eq!(backup, again);
    }

    fn spec(modules: UpgradeModules, tag: &str) -> impl Fn(&Ctx<'_>) -> Object {
        let tag = tag.to_string();
        move |ctx| {
            let mut image = ctx.v.backend.image.clone();
            if !tag.is_empty() {
                image.tag = tag.clone();
            }
            upgrade_job(
                ctx,
                &UpgradeSpec {
                    modules: modules.clone(),
                    image,
                    revision: 4,
                    beside_backend: false,
                },
            )
        }
    }

    #[test]
    fn upgrade_job_runs_the_modules_without_a_separate_update_list() {
        let j = with(
            &[],
            spec(
                UpgradeModules::List(vec!["sale".into(), "account".into()]),
                "18.0-new",
            ),
        );
        assert_eq!(j.name(), "acme-odoo-upgrade-4");
        assert_eq!(j.component(), Some("upgrade"));
        let p = pod(&j);
        assert_restricted(p);
        let c = &p.containers[0];
        assert!(c.image.as_deref().unwrap().ends_with(":18.0-new"));
        let script = &c.command.as_ref().unwrap()[2];
        // `-u` refreshes the module list itself.
        assert!(!script.contains("update_list"), "{script}");
        assert!(
            script.contains(
                "odoo -c \"$ODOO_RC\" -d \"$DB_NAME\" -u sale,account --stop-after-init --no-http --workers=0"
            ),
            "{script}"
        );
        assert!(env_names(c).contains(&"PGPASSWORD".to_string()));
        assert!(!script.to_lowercase().contains("password"), "{script}");
        let js = job_of(&j).spec.as_ref().unwrap();
        assert_eq!(js.backoff_limit, Some(0));
        assert_eq!(js.active_deadline_seconds, Some(3600));
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["memory"].0, "3Gi");
    }

    #[test]
    fn an_online_upgrade_on_a_filestore_pvc_runs_beside_the_backend() {
        let job = |sets: &[&str], beside: bool| {
            with(sets, |ctx| {
                upgrade_job(
                    ctx,
                    &UpgradeSpec {
                        modules: UpgradeModules::All,
                        image: ctx.v.backend.image.clone(),
                        revision: 2,
                        beside_backend: beside,
                    },
                )
            })
        };
        let p = pod(&job(&["minio.enabled=false"], true)).clone();
        let terms = p
            .affinity
            .unwrap()
            .pod_affinity
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .unwrap();
        assert_eq!(terms[0].topology_key, "kubernetes.io/hostname");
        let sel = terms[0]
            .label_selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap();
        assert_eq!(sel["app.kubernetes.io/component"], "backend");
        assert_eq!(sel["app.kubernetes.io/instance"], "acme");
        // The backend stopped, or the filestore on S3: nothing to be near.
        assert!(
            pod(&job(&["minio.enabled=false"], false))
                .affinity
                .is_none()
        );
        assert!(pod(&job(&[], true)).affinity.is_none());
    }

    #[test]
    fn upgrade_all() {
        let j = with(
            &["backend.autoUpgrade.activeDeadlineSeconds=60"],
            spec(UpgradeModules::All, ""),
        );
        let script = &pod(&j).containers[0].command.as_ref().unwrap()[2];
        assert!(!script.contains("update_list"), "{script}");
        assert!(script.contains(" -u all "), "{script}");
        assert_eq!(
            job_of(&j).spec.as_ref().unwrap().active_deadline_seconds,
            Some(60)
        );
        // Same inputs, same Job.
        let again = with(
            &["backend.autoUpgrade.activeDeadlineSeconds=60"],
            spec(UpgradeModules::All, ""),
        );
        assert_eq!(j, again);
    }

    #[test]
    fn a_backup_id_is_its_dump_without_the_extension() {
        let s3 =
            BackupTarget::from_location("s3://odoo-filestore/backups/acme-odoo-1-2611272305.dump")
                .unwrap();
        assert_eq!(s3.id(), "acme-odoo-1-2611272305");
        let pvc = BackupTarget::from_location("pvc:acme-odoo-backups/acme-odoo-3-2612010400.dump")
            .unwrap();
        assert_eq!(pvc.id(), "acme-odoo-3-2612010400");
    }
}
