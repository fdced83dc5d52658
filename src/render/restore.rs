//! Restore and clone: the Jobs that bring a backup back (see the README,
//! "Backups and restore"). Pure and deterministic: the backup, the time and the source
//! come in as inputs.
//!
//! A restore never touches the current database until the backup is fully restored
//! beside it: the dump goes into a fresh database `<db>_restoring` (and the filestore
//! archive into `<filestore>/<db>.restoring`), every attachment object the restored
//! database references is checked in the bucket (a clone copies them into its own),
//! and only then are the two swapped in one transaction, the current database kept as
//! `<db>_previous` (its files as `<db>.previous`). The `commit` step drops what was
//! kept; the `undo` step swaps it back. A restore marks the backup it reads
//! (`<id>.in-use.<instance>`) so that retention leaves it alone until it is read.
//!
//! With S3, attachments are never in the backup: fs_attachment's garbage collection is
//! off (`backend.storageInit.autovacuumGc`), so an object a dump references stays in the
//! bucket; "restoring the S3 objects" means checking they are all there, or, for a clone
//! into its own bucket, copying exactly the ones the dump references.

use k8s_openapi::api::core::v1::{
    Container, EnvVar, PersistentVolumeClaimVolumeSource, PodSpec, Volume, VolumeMount,
};

use super::Object;
use super::backend::{self, empty_dir, odoo_container, odoo_pod_spec};
use super::backup::s3_prefix;
use super::common::{Ctx, env, restricted_default, restricted_pod, secret_env};
use super::jobs::{
    MC_HOST_FN, ODOO_RC, SQL_FN, backup_stamp, backups_pvc_name, bounded_name, db_env, job,
    storage_env,
};

/// Odoo's uid and gid: the restore writes the filestore the backend reads and writes.
const ODOO_UID: i64 = 100;
const ODOO_GID: i64 = 101;
/// Where a backup fetched from the bucket is put (an `emptyDir`).
const WORK_DIR: &str = "/restore";
/// Where the backups PVC is mounted when the backups are there.
const BACKUPS_MOUNT: &str = "/backups";
/// Where the target's filestore PVC is mounted.
const FILESTORE_MOUNT: &str = "/filestore";

/// The bundled PostgreSQL's data volume, which a restore fills beside the current
/// database; `None` with an external server (odoo-tui does not know its disk).
pub fn database_claim(ctx: &Ctx<'_>) -> Option<String> {
    ctx.v
        .postgresql
        .enabled
        .then(|| format!("data-{}-0", super::postgresql::name(ctx)))
}

/// The filestore's volume, which a restore fills beside the current files; `None` when
/// the filestore is on S3.
pub fn filestore_claim(ctx: &Ctx<'_>) -> Option<String> {
    ctx.d.filestore_pvc.then(|| backend::pvc_name(ctx))
}

/// Where an instance's backups are, and where its attachment objects are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupSource {
    S3 {
        endpoint: String,
        bucket: String,
        prefix: String,
        /// (Secret, access-key key, secret-key key).
        secret: (String, String, String),
        /// The `fs.storage` directory (`bucket[/path]`) of its attachments, when its
        /// filestore is on S3.
        storage_dir: Option<String>,
    },
    /// The PVC `<fullname>-backups`.
    Pvc { claim: String },
}

impl BackupSource {
    /// Where a backup of this source is, for messages: `s3://bucket/prefix<id>` or
    /// `pvc:<claim>/<id>`.
    pub fn location(&self, id: &str) -> String {
        match self {
            BackupSource::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}{id}"),
            BackupSource::Pvc { claim } => format!("pvc:{claim}/{id}"),
        }
    }
}

/// The `fs.storage` directory of an instance's attachments when its filestore is on S3
/// (`{db_name}` filled in as fs_storage does).
fn storage_dir(ctx: &Ctx<'_>) -> Option<String> {
    if !ctx.d.s3 {
        return None;
    }
    storage_env(ctx)
        .into_iter()
        .find(|e| e.name == "FS_STORAGE_DIRECTORY")
        .and_then(|e| e.value)
        .map(|d| d.replace("{db_name}", &ctx.d.db_name))
}

/// Where the instance `ctx` renders keeps its backups.
pub fn backup_source(ctx: &Ctx<'_>) -> BackupSource {
    let d = &ctx.d;
    if d.s3_requested {
        BackupSource::S3 {
            endpoint: d.s3_endpoint.clone(),
            bucket: d.s3_bucket.clone(),
            prefix: s3_prefix(ctx),
            secret: d.s3_secret.clone(),
            storage_dir: storage_dir(ctx),
        }
    } else {
        BackupSource::Pvc {
            claim: backups_pvc_name(ctx),
        }
    }
}

/// What the restore does with the attachment objects the restored database references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Objects {
    /// The filestore is not on S3.
    None,
    /// Same bucket: check that every one is there.
    Verify,
    /// Another bucket (a clone): copy the ones it lacks from the source's.
    Copy,
}

impl Objects {
    fn as_str(&self) -> &'static str {
        match self {
            Objects::None => "none",
            Objects::Verify => "verify",
            Objects::Copy => "copy",
        }
    }
}

/// The shared shell helpers of the PostgreSQL-side steps: which database to run
/// `CREATE`/`ALTER`/`DROP DATABASE` from (`postgres`, else `template1`), and the names.
const PG_PRELUDE: &str = r#"set -eu
DB=$DB_NAME
STAGED="${DB}_restoring"
PREVIOUS="${DB}_previous"
FAILED="${DB}_failed"
fail() {
  echo "$1" >&2
  exit 1
}
if [ ${#DB} -gt 53 ]; then
  fail "database name $DB is longer than 53 characters: there is no room for ${DB}_restoring beside it; nothing was changed"
fi
q() {
  psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2" 2>&1
}
admin_db=postgres
if ! out=$(q postgres 'SELECT 1'); then
  if q template1 'SELECT 1' >/dev/null; then
    admin_db=template1
  else
    echo "cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER; nothing was changed:" >&2
    fail "$out"
  fi
fi
admin() {
  q "$admin_db" "$1"
}
exists() {
  [ "$(admin "SELECT count(*) FROM pg_database WHERE datname = '$1'")" = 1 ]
}
fs() {
  printf '%s/%s' "${FILESTORE_ROOT:-}" "$1"
}
"#;

/// Restore the backup into `<db>_restoring` (and `<filestore>/<db>.restoring`) and check
/// the objects it references; the current database is not touched.
const RESTORE_SCRIPT: &str = r#"dir=$BACKUP_DIR
manifest="$dir/$RESTORE_ID.manifest.json"
dump="$dir/$RESTORE_ID.dump"
archive="$dir/$RESTORE_ID.filestore.tar.gz"
if [ ! -f "$manifest" ] || [ ! -f "$dump" ]; then
  fail "backup $RESTORE_ID is not at $BACKUP_LOCATION (no manifest or no dump: it does not exist or is incomplete); nothing was changed"
fi
if [ -n "${MARK_IN_USE:-}" ]; then
  marker="$dir/$RESTORE_ID.in-use.$RESTORE_CONSUMER"
  : > "$marker"
fi
if ! contents=$(pg_restore -l "$dump" 2>&1 >/dev/null); then
  fail "pg_restore $(pg_restore --version | sed -n 's/^pg_restore (PostgreSQL) \([0-9.]*\).*/\1/p') cannot read the dump of backup $RESTORE_ID ($contents): the file is damaged, or a newer pg_dump wrote it (then set backup.image to a newer postgres image); nothing was changed"
fi
if exists "$PREVIOUS"; then
  fail "database $PREVIOUS is left from a restore that did not finish: finish it (drop it) or undo it (swap it back) first; nothing was changed"
fi
if [ "$(admin "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")" != t ]; then
  fail "the database user $PGUSER may not create databases, and a restore builds the new database beside the current one: grant it CREATEDB (ALTER ROLE \"$PGUSER\" CREATEDB); nothing was changed"
fi
owner=$(admin "SELECT pg_has_role(datdba, 'MEMBER') FROM pg_database WHERE datname = '$DB'")
if [ -n "$owner" ] && [ "$owner" != t ]; then
  fail "database $DB belongs to another role than $PGUSER, which therefore cannot swap it with the restored one; nothing was changed"
fi
if [ -f "$archive" ] && [ -n "${FILESTORE_ROOT:-}" ]; then
  mkdir -p "$FILESTORE_ROOT"
  need=$(sed -n 's/.*"sizes": {"database": [0-9]*, "filestore": \([0-9]*\)}.*/\1/p' "$manifest")
  free=$(df -Pk "$FILESTORE_ROOT" | sed -n '2s/^[^ ]*  *[0-9]*  *[0-9]*  *\([0-9]*\) .*/\1/p')
  if [ -n "$need" ] && [ -n "$free" ] && [ "$need" -gt $((free * 1024)) ]; then
    fail "the filestore of backup $RESTORE_ID needs $need bytes and its volume has $((free * 1024)) free: grow backend.persistence.size; nothing was changed"
  fi
fi
locale=$(admin "SELECT 'LC_COLLATE ''' || datcollate || ''' LC_CTYPE ''' || datctype || '''' FROM pg_database WHERE datname = '$DB'")
cleanup() {
  admin "DROP DATABASE IF EXISTS \"$STAGED\"" >/dev/null || true
  if [ -n "${FILESTORE_ROOT:-}" ]; then rm -rf "$(fs "$DB.restoring")"; fi
  if [ -n "${marker:-}" ]; then rm -f "$marker"; fi
}
trap 'status=$?; if [ "$status" -ne 0 ]; then cleanup; echo "the restore failed; database $DB is untouched" >&2; fi' EXIT
admin "DROP DATABASE IF EXISTS \"$STAGED\"" >/dev/null
out=$(admin "CREATE DATABASE \"$STAGED\" TEMPLATE template0 ENCODING 'UTF8' $locale") || fail "$out"
echo "restoring backup $RESTORE_ID into a new database $STAGED"
pg_restore --no-owner --no-privileges --exit-on-error -d "$STAGED" "$dump"
if [ -n "${marker:-}" ]; then rm -f "$marker"; marker=; fi
if [ -f "$archive" ] && [ -n "${FILESTORE_ROOT:-}" ]; then
  rm -rf "$(fs "$DB.restoring")"
  mkdir -p "$(fs "$DB.restoring")"
  tar -xzf "$archive" -C "$(fs "$DB.restoring")"
  echo "filestore of backup $RESTORE_ID unpacked"
fi
if [ "$OBJECTS" != none ]; then
  if [ "$(q "$STAGED" "SELECT to_regclass('ir_attachment') IS NOT NULL")" = t ]; then
    psql -X -q -v ON_ERROR_STOP=1 -At -d "$STAGED" \
      -c "SELECT substr(store_fname, length('$FS_STORAGE_CODE') + 4) FROM ir_attachment WHERE store_fname LIKE '$FS_STORAGE_CODE://%'" \
      | sort -u > "$WORK_DIR/refs"
  else
    : > "$WORK_DIR/refs"
  fi
  sort -u "$WORK_DIR/target-objects" > "$WORK_DIR/target-sorted"
  if [ "$OBJECTS" = verify ]; then
    comm -23 "$WORK_DIR/refs" "$WORK_DIR/target-sorted" > "$WORK_DIR/missing"
    where="s3://$TGT_STORAGE_DIR"
  else
    sort -u "$WORK_DIR/source-objects" > "$WORK_DIR/source-sorted"
    comm -23 "$WORK_DIR/refs" "$WORK_DIR/source-sorted" > "$WORK_DIR/missing"
    comm -23 "$WORK_DIR/refs" "$WORK_DIR/target-sorted" > "$WORK_DIR/copy"
    where="s3://$SRC_STORAGE_DIR"
  fi
  if [ -s "$WORK_DIR/missing" ]; then
    echo "$(wc -l < "$WORK_DIR/missing") of the $(wc -l < "$WORK_DIR/refs") attachment objects backup $RESTORE_ID references are missing from $where:" >&2
    head -n 10 "$WORK_DIR/missing" | sed 's/^/  /' >&2
    fail "their files were deleted from the bucket since the backup (was fs_attachment's garbage collection turned on?); nothing was changed"
  fi
  echo "all $(wc -l < "$WORK_DIR/refs") attachment objects backup $RESTORE_ID references are in $where"
fi
echo "backup $RESTORE_ID restored into $STAGED; database $DB is untouched until the swap"
"#;

/// Swap the restored database (and filestore) in, keeping the current ones as
/// `_previous` / `.previous`: files first (reversible), then both renames in one
/// transaction.
const SWAP_SCRIPT: &str = r#"exists "$STAGED" || fail "there is no restored database $STAGED to swap in; nothing was changed"
admin "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB' AND usename = current_user AND pid <> pg_backend_pid()" >/dev/null
others=$(admin "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()")
if [ "$others" != 0 ]; then
  fail "database $DB has $others sessions of other roles: stop what uses it, then restore again; nothing was changed"
fi
swapped_files=
if [ -n "${FILESTORE_ROOT:-}" ] && [ -d "$(fs "$DB.restoring")" ]; then
  rm -rf "$(fs "$DB.previous")"
  if [ -d "$(fs "$DB")" ]; then mv "$(fs "$DB")" "$(fs "$DB.previous")"; fi
  mv "$(fs "$DB.restoring")" "$(fs "$DB")"
  swapped_files=1
fi
if exists "$DB"; then
  swap="BEGIN; ALTER DATABASE \"$DB\" RENAME TO \"$PREVIOUS\"; ALTER DATABASE \"$STAGED\" RENAME TO \"$DB\"; COMMIT;"
else
  swap="ALTER DATABASE \"$STAGED\" RENAME TO \"$DB\""
fi
if ! out=$(admin "$swap"); then
  if [ -n "$swapped_files" ]; then
    rm -rf "$(fs "$DB")"
    if [ -d "$(fs "$DB.previous")" ]; then mv "$(fs "$DB.previous")" "$(fs "$DB")"; fi
  fi
  echo "$out" >&2
  fail "could not swap the restored database in; database $DB is untouched"
fi
echo "database $DB is now backup $RESTORE_ID; the one it replaced is kept as $PREVIOUS until the restore is finished"
"#;

/// `undo`: put back what the swap replaced (whatever point the restore reached) and
/// drop what it restored. `commit`: drop what the swap replaced.
const STEP_SCRIPT: &str = r#"case "$RESTORE_STEP" in
  undo)
    if exists "$PREVIOUS"; then
      admin "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB' AND usename = current_user AND pid <> pg_backend_pid()" >/dev/null
      if exists "$DB"; then
        admin "DROP DATABASE IF EXISTS \"$FAILED\"" >/dev/null
        out=$(admin "BEGIN; ALTER DATABASE \"$DB\" RENAME TO \"$FAILED\"; ALTER DATABASE \"$PREVIOUS\" RENAME TO \"$DB\"; COMMIT;") || fail "$out"
        admin "DROP DATABASE \"$FAILED\"" >/dev/null || echo "could not drop $FAILED (the restored database): drop it by hand" >&2
      else
        out=$(admin "ALTER DATABASE \"$PREVIOUS\" RENAME TO \"$DB\"") || fail "$out"
      fi
      echo "database $DB is back as it was before the restore"
    else
      echo "database $DB was not replaced: nothing to put back"
    fi
    admin "DROP DATABASE IF EXISTS \"$STAGED\"" >/dev/null
    if [ -n "${FILESTORE_ROOT:-}" ]; then
      if [ -d "$(fs "$DB.previous")" ]; then
        rm -rf "$(fs "$DB.failed")"
        if [ -d "$(fs "$DB")" ]; then mv "$(fs "$DB")" "$(fs "$DB.failed")"; fi
        mv "$(fs "$DB.previous")" "$(fs "$DB")"
        rm -rf "$(fs "$DB.failed")"
        echo "filestore of $DB is back as it was before the restore"
      fi
      rm -rf "$(fs "$DB.restoring")"
    fi
    ;;
  commit)
    admin "DROP DATABASE IF EXISTS \"$PREVIOUS\"" >/dev/null
    if [ -n "${FILESTORE_ROOT:-}" ]; then rm -rf "$(fs "$DB.previous")"; fi
    echo "the database and files the restore replaced are dropped"
    ;;
  *) fail "unknown RESTORE_STEP '$RESTORE_STEP'" ;;
esac
"#;

/// With S3, before the restore: mark the backup in use, fetch it, unmark it; list the
/// objects under the attachment directories (mc's image: a shell and mc, builtins only).
const FETCH_SCRIPT: &str = r#"mc_host src "$SRC_S3_ENDPOINT" "$SRC_ACCESS_KEY" "$SRC_SECRET_KEY"
at="src/$SRC_S3_BUCKET/$SRC_S3_PREFIX$RESTORE_ID"
marker="$at.in-use.$RESTORE_CONSUMER"
printf '%s\n' "$RESTORE_CONSUMER" > "$TMPDIR"/in-use
mc cp --quiet "$TMPDIR"/in-use "$marker" > /dev/null
unmark() {
  mc rm --quiet "$marker" > /dev/null 2>&1 || echo "could not remove the in-use marker $marker: delete it so that retention may delete that backup" >&2
}
trap unmark EXIT
if ! mc cp --quiet "$at.manifest.json" "$WORK_DIR/$RESTORE_ID.manifest.json" > /dev/null 2> "$TMPDIR"/err; then
  while read -r line; do echo "  $line" >&2; done < "$TMPDIR"/err
  echo "backup $RESTORE_ID is not in s3://$SRC_S3_BUCKET/$SRC_S3_PREFIX (no manifest: it does not exist or is incomplete); nothing was changed" >&2
  exit 1
fi
mc cp --quiet "$at.dump" "$WORK_DIR/$RESTORE_ID.dump" > /dev/null
read -r manifest < "$WORK_DIR/$RESTORE_ID.manifest.json"
case "$manifest" in
  *'"filestore": {"name"'*) mc cp --quiet "$at.filestore.tar.gz" "$WORK_DIR/$RESTORE_ID.filestore.tar.gz" > /dev/null ;;
esac
echo "backup $RESTORE_ID fetched from s3://$SRC_S3_BUCKET/$SRC_S3_PREFIX"
listing() {
  mc ls --recursive "$1/" > "$TMPDIR"/ls 2> "$TMPDIR"/err || {
    while read -r line; do echo "  $line" >&2; done < "$TMPDIR"/err
    echo "cannot list the attachment objects in $1; nothing was changed" >&2
    exit 1
  }
  while read -r line; do printf '%s\n' "${line##* }"; done < "$TMPDIR"/ls > "$2"
}
if [ "$OBJECTS" != none ]; then
  mc_host tgt "$TGT_S3_ENDPOINT" "$TGT_ACCESS_KEY" "$TGT_SECRET_KEY"
  listing "tgt/$TGT_STORAGE_DIR" "$WORK_DIR/target-objects"
fi
if [ "$OBJECTS" = copy ]; then
  listing "src/$SRC_STORAGE_DIR" "$WORK_DIR/source-objects"
fi
"#;

/// A clone into its own bucket: copy the objects the restored database references and
/// the bucket lacks.
const COPY_SCRIPT: &str = r#"mc_host src "$SRC_S3_ENDPOINT" "$SRC_ACCESS_KEY" "$SRC_SECRET_KEY"
mc_host tgt "$TGT_S3_ENDPOINT" "$TGT_ACCESS_KEY" "$TGT_SECRET_KEY"
n=0
while read -r key; do
  mc cp --quiet "src/$SRC_STORAGE_DIR/$key" "tgt/$TGT_STORAGE_DIR/$key" > /dev/null
  n=$((n + 1))
done < "$WORK_DIR/copy"
echo "copied $n attachment objects from s3://$SRC_STORAGE_DIR to s3://$TGT_STORAGE_DIR"
"#;

/// What to restore: a backup (its id, the base of its files) from a source, into the
/// instance being rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSpec {
    pub id: String,
    pub source: BackupSource,
}

/// The steps around a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreStep {
    /// Drop the database and files the swap replaced: the restore is final.
    Commit,
    /// Put back what the swap replaced (or drop what was restored before the swap).
    Undo,
}

impl RestoreStep {
    fn as_str(&self) -> &'static str {
        match self {
            RestoreStep::Commit => "commit",
            RestoreStep::Undo => "undo",
        }
    }
}

/// Name of the restore Job of a time.
pub fn restore_job_name(ctx: &Ctx<'_>, unix_time: i64) -> String {
    bounded_name(
        ctx.fullname(),
        &format!("-restore-{}", backup_stamp(unix_time)),
    )
}

fn pg_env(ctx: &Ctx<'_>) -> Vec<EnvVar> {
    let d = &ctx.d;
    let mut e = vec![
        secret_env("PGPASSWORD", &d.db_secret.0, &d.db_secret.1),
        env("PGHOST", d.db_host.clone()),
        env("PGPORT", d.db_port.to_string()),
        env("PGUSER", d.db_user.clone()),
        env("DB_NAME", d.db_name.clone()),
    ];
    if d.filestore_pvc {
        e.push(env(
            "FILESTORE_ROOT",
            format!("{FILESTORE_MOUNT}/filestore"),
        ));
    }
    e
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..Default::default()
    }
}

fn pvc_volume(name: &str, claim: String) -> Volume {
    Volume {
        name: name.into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim,
            read_only: None,
        }),
        ..Default::default()
    }
}

fn pg_container(ctx: &Ctx<'_>, name: &str, script: String, extra: Vec<EnvVar>) -> Container {
    let b = &ctx.v.backup;
    let mut e = pg_env(ctx);
    e.extend(extra);
    let mut mounts = vec![mount("work", WORK_DIR), mount("tmp", "/tmp")];
    if ctx.d.filestore_pvc {
        mounts.push(mount("filestore", FILESTORE_MOUNT));
    }
    Container {
        name: name.into(),
        image: Some(b.image.reference()),
        image_pull_policy: Some(b.image.pull_policy.clone()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        env: Some(e),
        volume_mounts: Some(mounts),
        security_context: Some(restricted_default(ODOO_UID, ODOO_GID)),
        resources: Some(b.resources.clone()),
        ..Default::default()
    }
}

fn pod(ctx: &Ctx<'_>, init: Vec<Container>, main: Container, mut volumes: Vec<Volume>) -> PodSpec {
    volumes.push(empty_dir("work"));
    volumes.push(empty_dir("tmp"));
    if ctx.d.filestore_pvc {
        volumes.push(pvc_volume("filestore", backend::pvc_name(ctx)));
    }
    PodSpec {
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(restricted_pod(&Default::default(), ODOO_UID, ODOO_GID)),
        init_containers: (!init.is_empty()).then_some(init),
        containers: vec![main],
        volumes: Some(volumes),
        ..Default::default()
    }
}

/// The Job `<fullname>-restore-<yymmddHHMM>` restoring `spec` into the instance `ctx`
/// renders, up to and including the swap (see the module's description). Its
/// containers: with the backup in a bucket, `fetch` (mc); `restore` (the backup image);
/// for a clone into another bucket, `objects` (mc); `swap`. Every credential comes from
/// the Secrets through the environment.
pub fn restore_job(ctx: &Ctx<'_>, spec: &RestoreSpec, unix_time: i64) -> Object {
    let b = &ctx.v.backup;
    let d = &ctx.d;
    let target_dir = storage_dir(ctx);
    let objects = match (&spec.source, &target_dir) {
        (_, None) => Objects::None,
        (
            BackupSource::S3 {
                endpoint,
                storage_dir: Some(src_dir),
                ..
            },
            Some(dir),
        ) if endpoint == &d.s3_endpoint && src_dir == dir => Objects::Verify,
        (
            BackupSource::S3 {
                storage_dir: Some(_),
                ..
            },
            Some(_),
        ) => Objects::Copy,
        (_, Some(_)) => Objects::Verify,
    };
    let mut common = vec![
        env("RESTORE_ID", spec.id.clone()),
        env("RESTORE_CONSUMER", ctx.release),
        env("WORK_DIR", WORK_DIR),
        env("OBJECTS", objects.as_str()),
    ];
    let tgt_keys = |common: &mut Vec<EnvVar>| {
        let (secret, ak, sk) = &d.s3_secret;
        common.push(env("TGT_S3_ENDPOINT", d.s3_endpoint.clone()));
        common.push(secret_env("TGT_ACCESS_KEY", secret, ak));
        common.push(secret_env("TGT_SECRET_KEY", secret, sk));
    };
    if let Some(dir) = &target_dir {
        common.push(env("TGT_STORAGE_DIR", dir.clone()));
        common.push(env(
            "FS_STORAGE_CODE",
            ctx.v.backend.storage_init.code.clone(),
        ));
    }
    let mut volumes = Vec::new();
    let mut init = Vec::new();
    let mut restore_env = common.clone();
    restore_env.push(env("BACKUP_LOCATION", spec.source.location(&spec.id)));
    match &spec.source {
        BackupSource::S3 {
            endpoint,
            bucket,
            prefix,
            secret,
            storage_dir,
        } => {
            let mut mc_env = common.clone();
            mc_env.push(env("SRC_S3_ENDPOINT", endpoint.clone()));
            mc_env.push(env("SRC_S3_BUCKET", bucket.clone()));
            mc_env.push(env("SRC_S3_PREFIX", prefix.clone()));
            mc_env.push(secret_env("SRC_ACCESS_KEY", &secret.0, &secret.1));
            mc_env.push(secret_env("SRC_SECRET_KEY", &secret.0, &secret.2));
            if let Some(dir) = storage_dir {
                mc_env.push(env("SRC_STORAGE_DIR", dir.clone()));
                restore_env.push(env("SRC_STORAGE_DIR", dir.clone()));
            }
            if objects != Objects::None {
                tgt_keys(&mut mc_env);
            }
            mc_env.push(env("MC_CONFIG_DIR", "/tmp/mc"));
            mc_env.push(env("TMPDIR", "/tmp"));
            let mc = |name: &str, script: &str| Container {
                name: name.into(),
                image: Some(b.mc_image.reference()),
                image_pull_policy: Some(b.mc_image.pull_policy.clone()),
                command: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    format!("set -eu\n{MC_HOST_FN}{script}"),
                ]),
                env: Some(mc_env.clone()),
                volume_mounts: Some(vec![mount("work", WORK_DIR), mount("tmp", "/tmp")]),
                security_context: Some(restricted_default(ODOO_UID, ODOO_GID)),
                resources: Some(b.resources.clone()),
                ..Default::default()
            };
            restore_env.push(env("BACKUP_DIR", WORK_DIR));
            init.push(mc("fetch", FETCH_SCRIPT));
            init.push(pg_container(
                ctx,
                "restore",
                format!("{PG_PRELUDE}{RESTORE_SCRIPT}"),
                restore_env,
            ));
            if objects == Objects::Copy {
                init.push(mc("objects", COPY_SCRIPT));
            }
        }
        BackupSource::Pvc { claim } => {
            restore_env.push(env("BACKUP_DIR", BACKUPS_MOUNT));
            restore_env.push(env("MARK_IN_USE", "1"));
            let mut c = pg_container(
                ctx,
                "restore",
                format!("{PG_PRELUDE}{RESTORE_SCRIPT}"),
                restore_env,
            );
            c.volume_mounts
                .get_or_insert_with(Vec::new)
                .push(mount("backups", BACKUPS_MOUNT));
            volumes.push(pvc_volume("backups", claim.clone()));
            init.push(c);
        }
    }
    let swap = pg_container(ctx, "swap", format!("{PG_PRELUDE}{SWAP_SCRIPT}"), common);
    job(
        ctx,
        restore_job_name(ctx, unix_time),
        "restore",
        0,
        b.active_deadline_seconds,
        pod(ctx, init, swap, volumes),
    )
}

/// The Job `<fullname>-restore-<step>-<yymmddHHMM>`: `commit` or `undo` of a restore.
pub fn restore_step_job(ctx: &Ctx<'_>, step: RestoreStep, unix_time: i64) -> Object {
    let b = &ctx.v.backup;
    let c = pg_container(
        ctx,
        step.as_str(),
        format!("{PG_PRELUDE}{STEP_SCRIPT}"),
        vec![env("RESTORE_STEP", step.as_str())],
    );
    job(
        ctx,
        bounded_name(
            ctx.fullname(),
            &format!("-restore-{}-{}", step.as_str(), backup_stamp(unix_time)),
        ),
        "restore",
        0,
        b.active_deadline_seconds,
        pod(ctx, vec![], c, vec![]),
    )
}

/// A clone's own identity, then Odoo's neutralization, verified.
const CLONE_SCRIPT: &str = r#"set -eu
before=$(sql "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'") || { echo "$before" >&2; exit 1; }
echo "giving database $DB_NAME its own identity: a new database.uuid and database.secret, and this instance's admin password"
odoo shell -c "$ODOO_RC" -d "$DB_NAME" --no-http --workers=0 <<'PY'
# odoo-tui step: clone-identity
import os
# What Odoo itself does to a copied database (odoo/service/db.py, exp_duplicate_database).
env["ir.config_parameter"].sudo().init(force=True)
env.ref("base.user_admin").write({"password": os.environ["ODOO_ADMIN_PASSWORD"]})
env.cr.commit()
print("database.uuid renewed")
PY
after=$(sql "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'") || { echo "$after" >&2; exit 1; }
if [ -z "$after" ] || [ "$after" = "$before" ]; then
  echo "database.uuid is still the source's: the clone would speak to Odoo's services as the source instance" >&2
  exit 1
fi
if [ "$NEUTRALIZE" = 1 ]; then
  echo "neutralizing database $DB_NAME with odoo neutralize: outgoing mail servers, crons, payment providers and the like turned off"
  odoo neutralize -c "$ODOO_RC" -d "$DB_NAME"
  flag=$(sql "SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'") || { echo "$flag" >&2; exit 1; }
  if [ "$flag" != true ]; then
    echo "odoo neutralize finished but database.is_neutralized is '$flag', not true: the clone is NOT neutralized" >&2
    exit 1
  fi
  echo "database $DB_NAME is neutralized (database.is_neutralized = true)"
else
  echo "database $DB_NAME is NOT neutralized (--no-neutralize): it may send mail and run crons like its source"
fi
"#;

/// Name of a clone's identity Job.
pub fn clone_job_name(ctx: &Ctx<'_>, unix_time: i64) -> String {
    bounded_name(
        ctx.fullname(),
        &format!("-clone-{}", backup_stamp(unix_time)),
    )
}

/// The Job `<fullname>-clone-<yymmddHHMM>` run on a clone's restored database before its
/// backend starts: a new `database.uuid` (and secret) as Odoo gives a copied database,
/// this instance's admin password, then `odoo neutralize` unless `neutralize` is false,
/// verified by `database.is_neutralized`.
pub fn clone_job(ctx: &Ctx<'_>, neutralize: bool, unix_time: i64) -> Object {
    let mut c = odoo_container(ctx, "clone", &ctx.v.backend.image);
    c.command = Some(vec![
        "sh".into(),
        "-c".into(),
        format!("{SQL_FN}{CLONE_SCRIPT}"),
    ]);
    let e = c.env.get_or_insert_with(Vec::new);
    e.push(env("ODOO_RC", ODOO_RC));
    e.extend(db_env(ctx));
    e.push(secret_env(
        "ODOO_ADMIN_PASSWORD",
        &ctx.d.admin_secret.0,
        &ctx.d.admin_secret.1,
    ));
    e.push(env("NEUTRALIZE", if neutralize { "1" } else { "0" }));
    c.resources = Some(ctx.v.backend.auto_upgrade.resources.clone());
    let spec = odoo_pod_spec(ctx, c, Some("Never"), ctx.d.filestore_pvc);
    job(
        ctx,
        clone_job_name(ctx, unix_time),
        "clone",
        0,
        ctx.v.backend.auto_upgrade.active_deadline_seconds,
        spec,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Credentials, RenderInput};

    fn with<T>(release: &str, sets: &[&str], f: impl FnOnce(&Ctx<'_>) -> T) -> T {
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
        f(&Ctx::new(&input).unwrap())
    }

    fn pod(o: &Object) -> PodSpec {
        let Object::Job(j) = o else { panic!() };
        j.spec.clone().unwrap().template.spec.unwrap()
    }

    fn names(p: &PodSpec) -> Vec<String> {
        p.init_containers
            .iter()
            .flatten()
            .chain(&p.containers)
            .map(|c| c.name.clone())
            .collect()
    }

    fn own(ctx: &Ctx<'_>) -> Object {
        restore_job(
            ctx,
            &RestoreSpec {
                id: "acme-odoo-3-2611272305".into(),
                source: backup_source(ctx),
            },
            1_795_820_700,
        )
    }

    #[test]
    fn a_restore_from_the_backups_pvc_restores_then_swaps() {
        let j = with("acme", &["minio.enabled=false"], own);
        assert_eq!(j.name(), "acme-odoo-restore-2611272305");
        assert_eq!(j.component(), Some("restore"));
        let p = pod(&j);
        assert_eq!(names(&p), ["restore", "swap"]);
        let claims: Vec<_> = p
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .map(|c| c.claim_name.clone())
            .collect();
        assert_eq!(claims, ["acme-odoo-backups", "acme-odoo-backend-data"]);
        let psc = p.security_context.unwrap();
        assert_eq!(
            (psc.run_as_user, psc.fs_group, psc.run_as_non_root),
            (Some(100), Some(101), Some(true))
        );
    }

    #[test]
    fn with_s3_a_restore_fetches_and_checks_its_objects_in_place() {
        let j = with("acme", &[], own);
        let p = pod(&j);
        assert_eq!(names(&p), ["fetch", "restore", "swap"]);
        let text = serde_json::to_string(&j.to_json()).unwrap();
        assert!(text.contains("\"OBJECTS\",\"value\":\"verify\""), "{text}");
        // Keys only by reference.
        assert!(text.contains("secretKeyRef"));
        assert!(!text.contains("rootPassword"));
    }

    #[test]
    fn a_clone_into_its_own_bucket_copies_the_objects() {
        let source = with("acme", &[], backup_source);
        let j = with("staging", &[], |ctx| {
            restore_job(
                ctx,
                &RestoreSpec {
                    id: "acme-odoo-3-2611272305".into(),
                    source: source.clone(),
                },
                0,
            )
        });
        assert_eq!(names(&pod(&j)), ["fetch", "restore", "objects", "swap"]);
        let text = serde_json::to_string(&j.to_json()).unwrap();
        assert!(text.contains("http://acme-minio:9000"), "{text}");
        assert!(text.contains("http://staging-minio:9000"), "{text}");
    }

    #[test]
    fn the_clone_job_neutralizes_unless_told_not_to() {
        let on = with("staging", &[], |ctx| clone_job(ctx, true, 0));
        let off = with("staging", &[], |ctx| clone_job(ctx, false, 0));
        let env = |o: &Object| {
            pod(o).containers[0]
                .env
                .iter()
                .flatten()
                .find(|e| e.name == "NEUTRALIZE")
                .and_then(|e| e.value.clone())
        };
        assert_eq!(env(&on).as_deref(), Some("1"));
        assert_eq!(env(&off).as_deref(), Some("0"));
        assert_eq!(on.component(), Some("clone"));
    }
}
