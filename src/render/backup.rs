//! Backups: the backup Job (a command's, by name and time) and the CronJob of
//! `backup.schedule` running the same pod, retention (`backup.keep`) enforced by every
//! backup. See the README, "Backups and restore".
//!
//! A backup is three files named after its base `<fullname>-<revision>-<yymmddHHMM>`:
//! `.dump` (`pg_dump -Fc`), `.filestore.tar.gz` (when the filestore is on a PVC) and
//! `.manifest.json`, written last: a backup without a manifest is not one. They go to the
//! bucket under `backup.prefix`, or to the PVC `<fullname>-backups` without S3.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, Container, EnvVar, EnvVarSource, PersistentVolumeClaimVolumeSource,
    PodSpec, Volume, VolumeMount,
};

use super::Object;
use super::backend::{self, empty_dir};
use super::common::{Ctx, env, restricted_default, restricted_pod, secret_env};
use super::jobs::{
    BackupJob, BackupTarget, DUMP_DIR, FILESTORE_MOUNT, MC_HOST_FN, PG_UID, backup_stamp,
    backups_pvc_name, bounded_name, job,
};

/// What a backup was taken for: the manifest's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    /// `odoo-tui backup`.
    Manual,
    /// The CronJob of `backup.schedule`.
    Scheduled,
    /// Taken by `upgrade` before it changes anything.
    PreUpgrade,
    /// Taken by `restore` before it replaces the database (its safety backup).
    PreRestore,
    /// Taken by `clone` from the source instance.
    Clone,
}

impl BackupKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            BackupKind::Manual => "manual",
            BackupKind::Scheduled => "scheduled",
            BackupKind::PreUpgrade => "pre-upgrade",
            BackupKind::PreRestore => "pre-restore",
            BackupKind::Clone => "clone",
        }
    }
}

/// How a backup is named: by the command that starts it (revision and time known), or,
/// for the CronJob, by the script at run time from the clock and the revision in the
/// instance record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    Fixed { revision: u64, unix_time: i64 },
    AtRunTime,
}

/// The backup itself, in the `backup.image` (a Debian PostgreSQL image). The client
/// must be at least the server's major (checked before anything is written), then
/// `pg_dump -Fc`, the filestore as a tar archive when it is on a PVC, and a manifest
/// (nothing secret in it) written last; then retention.
const BACKUP_SCRIPT: &str = r#"set -eu
client=$(pg_dump --version | sed -n 's/^pg_dump (PostgreSQL) \([0-9][0-9]*\).*/\1/p')
if ! server=$(psql -X -At -v ON_ERROR_STOP=1 -c 'SHOW server_version_num' 2>&1); then
  echo "cannot reach PostgreSQL at $PGHOST:$PGPORT as $PGUSER; nothing was written:" >&2
  echo "$server" >&2
  exit 1
fi
server_major=$((server / 10000))
if [ -z "$client" ] || [ "$client" -lt "$server_major" ]; then
  echo "pg_dump ${client:-?} cannot dump PostgreSQL $server_major (a client at least as new as the server is needed); nothing was written — set backup.image to a postgres image of major $server_major or newer, e.g. --set backup.image.tag=$server_major" >&2
  exit 1
fi
case "${BACKUP_REVISION:-}" in ''|*[!0-9]*) BACKUP_REVISION=0 ;; esac
if [ -z "${BACKUP_NAME:-}" ]; then
  BACKUP_NAME="$BACKUP_BASE-$BACKUP_REVISION-$(date -u +%y%m%d%H%M)"
fi
if [ -e "$DUMP_DIR/$BACKUP_NAME.manifest.json" ]; then
  echo "a backup named $BACKUP_NAME exists already; nothing was written (start it again in a minute)" >&2
  exit 1
fi
echo "dumping database $PGDATABASE from $PGHOST:$PGPORT (PostgreSQL $server_major, pg_dump $client) as $BACKUP_KIND backup $BACKUP_NAME"
pg_dump -Fc --no-password -f "$DUMP_DIR/$BACKUP_NAME.dump"
dump_size=$(wc -c < "$DUMP_DIR/$BACKUP_NAME.dump")
db_size=$(psql -X -At -v ON_ERROR_STOP=1 -c 'SELECT pg_database_size(current_database())')
files="{\"dump\": {\"name\": \"$BACKUP_NAME.dump\", \"bytes\": $dump_size}"
contents=database
fs_size=0
if [ -n "${FILESTORE_DIR:-}" ]; then
  if [ -d "$FILESTORE_DIR" ]; then
    tar -C "$FILESTORE_DIR" -czf "$DUMP_DIR/$BACKUP_NAME.filestore.tar.gz" .
    fs_size=$(($(du -sk "$FILESTORE_DIR" | cut -f1) * 1024))
  else
    mkdir -p "$DUMP_DIR/.empty" && tar -C "$DUMP_DIR/.empty" -czf "$DUMP_DIR/$BACKUP_NAME.filestore.tar.gz" . && rmdir "$DUMP_DIR/.empty"
  fi
  archive_size=$(wc -c < "$DUMP_DIR/$BACKUP_NAME.filestore.tar.gz")
  files="$files, \"filestore\": {\"name\": \"$BACKUP_NAME.filestore.tar.gz\", \"bytes\": $archive_size}"
  contents=database+filestore
fi
modules=$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT string_agg(name, ',' ORDER BY name) FROM ir_module_module WHERE state = 'installed'")
modules_json=$(printf '%s' "$modules" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')
printf '{"id": "%s", "time": "%s", "kind": "%s", "contents": "%s", "database": "%s", "image": "%s", "revision": %s, "postgresql": %s, "modules": [%s], "sizes": {"database": %s, "filestore": %s}, "files": %s}}\n' \
  "$BACKUP_NAME" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BACKUP_KIND" "$contents" "$PGDATABASE" "$BACKUP_IMAGE" "$BACKUP_REVISION" "$server_major" "$modules_json" "$db_size" "$fs_size" "$files" \
  > "$DUMP_DIR/$BACKUP_NAME.manifest.json"
echo "backup written: $BACKUP_NAME ($contents, dump $dump_size bytes)"
"#;

/// Retention (`backup.keep`), in the backup image: `expired` reads the names in the
/// backup location and prints the bases to delete. Only this instance's backups count
/// (`<fullname>-<revision>-<yymmddHHMM>`, a bucket may hold others') and only complete
/// ones (a manifest). Newest first, a backup is kept when it is the newest, among the
/// `last` newest, or the newest of one of the `daily` newest days, `weekly` ISO weeks or
/// `monthly` months that have one; and whatever the policy, when a restore marked it in
/// use (`<base>.in-use.<instance>`, removed once the restore has read it).
const RETENTION_FN: &str = r#"expired() {
  listing=$(cat)
  printf '%s\n' "$listing" | sed -n "s/^\($BACKUP_BASE-[0-9][0-9]*-\([0-9]\{10\}\)\)\.manifest\.json\$/\2 \1/p" | sort -r | {
    n=0 d=0 w=0 m=0 last_day= last_week= last_month=
    while read -r stamp base; do
      n=$((n + 1))
      keep=
      [ "$n" -eq 1 ] && keep=newest
      [ "$n" -le "$KEEP_LAST" ] && keep=last
      day=${stamp%????}
      month=${stamp%??????}
      week=$(date -u -d "20$(printf '%s' "$day" | sed 's/\(..\)\(..\)\(..\)/\1-\2-\3/')" +%G%V)
      if [ "$day" != "$last_day" ]; then
        d=$((d + 1)); last_day=$day
        [ "$d" -le "$KEEP_DAILY" ] && keep=daily
      fi
      if [ "$week" != "$last_week" ]; then
        w=$((w + 1)); last_week=$week
        [ "$w" -le "$KEEP_WEEKLY" ] && keep=weekly
      fi
      if [ "$month" != "$last_month" ]; then
        m=$((m + 1)); last_month=$month
        [ "$m" -le "$KEEP_MONTHLY" ] && keep=monthly
      fi
      if printf '%s\n' "$listing" | grep -q "^$base\.in-use\."; then
        keep=in-use
      fi
      if [ -z "$keep" ]; then
        echo "$base"
      fi
    done
  }
}
"#;

/// Retention on the backups PVC: delete what `expired` says, the manifest first so that
/// a listed backup always has its files.
const RETENTION_PVC: &str = r#"ls -1A "$DUMP_DIR" | expired | while read -r base; do
  rm -f "$DUMP_DIR/$base.manifest.json"
  rm -f "$DUMP_DIR/$base.dump" "$DUMP_DIR/$base.filestore.tar.gz"
  echo "retention: deleted backup $base"
done
"#;

/// Retention with S3, decided in the backup image from the listing the `list` container
/// took before the dump (the new backup added); the `upload` container deletes.
const RETENTION_S3: &str = r#"if [ -f "$DUMP_DIR/.listing" ]; then
  { cat "$DUMP_DIR/.listing"; echo "$BACKUP_NAME.manifest.json"; } | expired > "$DUMP_DIR/.expired"
  echo "retention: $(wc -l < "$DUMP_DIR/.expired") backups to delete once this one is uploaded"
else
  echo "retention skipped: the bucket could not be listed before the backup" >&2
fi
"#;

/// Before the dump, with S3 and retention: the names in the bucket under the prefix
/// (mc's image has a shell and mc, nothing else: builtins only).
const LIST_SCRIPT: &str = r#"mc_host target "$S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
if mc ls "target/$S3_BUCKET/$S3_PREFIX" > "$TMPDIR"/listing 2> "$TMPDIR"/listing.err; then
  while read -r line; do
    printf '%s\n' "${line##* }"
  done < "$TMPDIR"/listing > "$DUMP_DIR/.listing"
else
  echo "cannot list s3://$S3_BUCKET/$S3_PREFIX; retention is skipped for this backup:" >&2
  while read -r line; do echo "  $line" >&2; done < "$TMPDIR"/listing.err
fi
"#;

/// Upload to the bucket: the dump and the filestore archive, then the manifest, so that a
/// listed manifest always has its files; then delete what retention let go (manifest
/// first), except a backup a restore marked in use since the listing.
const UPLOAD_SCRIPT: &str = r#"mc_host target "$S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
name=
for f in "$DUMP_DIR"/*.manifest.json; do
  [ -f "$f" ] || continue
  name=${f##*/}
  name=${name%.manifest.json}
done
if [ -z "$name" ]; then
  echo "no backup to upload in $DUMP_DIR" >&2
  exit 1
fi
for f in dump filestore.tar.gz manifest.json; do
  if [ -f "$DUMP_DIR/$name.$f" ]; then
    mc cp --quiet "$DUMP_DIR/$name.$f" "target/$S3_BUCKET/$S3_PREFIX$name.$f"
  fi
done
echo "uploaded to s3://$S3_BUCKET/$S3_PREFIX$name.dump"
if [ -s "$DUMP_DIR/.expired" ]; then
  if ! mc ls "target/$S3_BUCKET/$S3_PREFIX" > "$TMPDIR"/now 2> "$TMPDIR"/now.err; then
    echo "cannot list s3://$S3_BUCKET/$S3_PREFIX again; retention deletes nothing this time" >&2
    exit 0
  fi
  present=" "
  in_use=" "
  while read -r line; do
    object=${line##* }
    present="$present$object "
    case "$object" in
      *.in-use.*) in_use="$in_use${object%%.in-use.*} " ;;
    esac
  done < "$TMPDIR"/now
  while read -r base; do
    case "$in_use" in
      *" $base "*) echo "retention: keeping $base, a restore is reading it"; continue ;;
    esac
    for f in manifest.json dump filestore.tar.gz; do
      case "$present" in
        *" $base.$f "*) mc rm --quiet "target/$S3_BUCKET/$S3_PREFIX$base.$f" || echo "retention: could not delete $base.$f" >&2 ;;
      esac
    done
    echo "retention: deleted backup $base"
  done < "$DUMP_DIR/.expired"
fi
"#;

/// The backup container's script: the backup, then retention where it applies.
fn backup_script(ctx: &Ctx<'_>) -> String {
    let mut s = String::from(BACKUP_SCRIPT);
    if ctx.v.backup.keep.is_set() {
        s.push_str(RETENTION_FN);
        s.push_str(if ctx.d.s3_requested {
            RETENTION_S3
        } else {
            RETENTION_PVC
        });
    }
    s
}

/// The pod of a backup (a command's Job or the CronJob's) and, without S3, the PVC the
/// backups go to.
fn backup_pod(ctx: &Ctx<'_>, kind: BackupKind, naming: Naming) -> (PodSpec, Option<Object>) {
    let b = &ctx.v.backup;
    let d = &ctx.d;
    let mut pg_env = vec![
        secret_env("PGPASSWORD", &d.db_secret.0, &d.db_secret.1),
        env("PGHOST", d.db_host.clone()),
        env("PGPORT", d.db_port.to_string()),
        env("PGUSER", d.db_user.clone()),
        env("PGDATABASE", d.db_name.clone()),
        env("BACKUP_BASE", ctx.fullname()),
        env("BACKUP_KIND", kind.as_str()),
        env("BACKUP_IMAGE", ctx.v.backend.image.reference()),
    ];
    match naming {
        Naming::Fixed {
            revision,
            unix_time,
        } => {
            pg_env.push(env(
                "BACKUP_NAME",
                format!("{}-{revision}-{}", ctx.fullname(), backup_stamp(unix_time)),
            ));
            pg_env.push(env("BACKUP_REVISION", revision.to_string()));
        }
        Naming::AtRunTime => pg_env.push(EnvVar {
            name: "BACKUP_REVISION".into(),
            value_from: Some(EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: format!("{}-odoo-tui", ctx.fullname()),
                    key: "revision".into(),
                    optional: Some(true),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
    pg_env.push(env("DUMP_DIR", DUMP_DIR));
    let keep = &b.keep;
    if keep.is_set() {
        pg_env.push(env("KEEP_LAST", keep.last.to_string()));
        pg_env.push(env("KEEP_DAILY", keep.daily.to_string()));
        pg_env.push(env("KEEP_WEEKLY", keep.weekly.to_string()));
        pg_env.push(env("KEEP_MONTHLY", keep.monthly.to_string()));
    }
    let mut mounts = vec![VolumeMount {
        name: "dump".into(),
        mount_path: DUMP_DIR.into(),
        ..Default::default()
    }];
    let mut volumes = Vec::new();
    if d.filestore_pvc {
        pg_env.push(env(
            "FILESTORE_DIR",
            format!("{FILESTORE_MOUNT}/filestore/{}", d.db_name),
        ));
        mounts.push(VolumeMount {
            name: "filestore".into(),
            mount_path: FILESTORE_MOUNT.into(),
            read_only: Some(true),
            ..Default::default()
        });
        volumes.push(Volume {
            name: "filestore".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: backend::pvc_name(ctx),
                read_only: Some(true),
            }),
            ..Default::default()
        });
    }
    let pg_image = &b.image;
    let dump = Container {
        name: "backup".into(),
        image: Some(pg_image.reference()),
        image_pull_policy: Some(pg_image.pull_policy.clone()),
        command: Some(vec!["sh".into(), "-c".into(), backup_script(ctx)]),
        env: Some(pg_env),
        volume_mounts: Some(mounts),
        security_context: Some(restricted_default(PG_UID, PG_UID)),
        resources: Some(b.resources.clone()),
        ..Default::default()
    };
    if d.s3_requested {
        let prefix = s3_prefix(ctx);
        let mc = |name: &str, script: &str, dump_read_only: bool| {
            let (secret, access, secret_key) = &d.s3_secret;
            Container {
                name: name.into(),
                image: Some(b.mc_image.reference()),
                image_pull_policy: Some(b.mc_image.pull_policy.clone()),
                command: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    format!("set -eu\n{MC_HOST_FN}{script}"),
                ]),
                env: Some(vec![
                    env("S3_ENDPOINT", d.s3_endpoint.clone()),
                    env("S3_BUCKET", d.s3_bucket.clone()),
                    env("S3_PREFIX", prefix.clone()),
                    env("DUMP_DIR", DUMP_DIR),
                    secret_env("AWS_ACCESS_KEY_ID", secret, access),
                    secret_env("AWS_SECRET_ACCESS_KEY", secret, secret_key),
                    env("MC_CONFIG_DIR", "/tmp/mc"),
                    env("TMPDIR", "/tmp"),
                ]),
                volume_mounts: Some(vec![
                    VolumeMount {
                        name: "dump".into(),
                        mount_path: DUMP_DIR.into(),
                        read_only: dump_read_only.then_some(true),
                        ..Default::default()
                    },
                    VolumeMount {
                        name: "tmp".into(),
                        mount_path: "/tmp".into(),
                        ..Default::default()
                    },
                ]),
                security_context: Some(restricted_default(PG_UID, PG_UID)),
                resources: Some(b.resources.clone()),
                ..Default::default()
            }
        };
        let mut init = Vec::new();
        if b.keep.is_set() {
            init.push(mc("list", LIST_SCRIPT, false));
        }
        init.push(dump);
        volumes.push(empty_dir("dump"));
        volumes.push(empty_dir("tmp"));
        let spec = PodSpec {
            restart_policy: Some("Never".into()),
            automount_service_account_token: Some(false),
            image_pull_secrets: ctx.image_pull_secrets(),
            security_context: Some(restricted_pod(&Default::default(), PG_UID, PG_UID)),
            init_containers: Some(init),
            containers: vec![mc("upload", UPLOAD_SCRIPT, true)],
            volumes: Some(volumes),
            ..Default::default()
        };
        (spec, None)
    } else {
        let claim_name = backups_pvc_name(ctx);
        volumes.insert(
            0,
            Volume {
                name: "dump".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim_name.clone(),
                    read_only: None,
                }),
                ..Default::default()
            },
        );
        let spec = PodSpec {
            restart_policy: Some("Never".into()),
            automount_service_account_token: Some(false),
            image_pull_secrets: ctx.image_pull_secrets(),
            security_context: Some(restricted_pod(&Default::default(), PG_UID, PG_UID)),
            containers: vec![dump],
            volumes: Some(volumes),
            ..Default::default()
        };
        (spec, Some(backups_pvc(ctx)))
    }
}

/// `backup.prefix` as a key prefix: no leading `/`, a trailing one unless empty.
pub fn s3_prefix(ctx: &Ctx<'_>) -> String {
    let mut prefix = ctx.v.backup.prefix.trim_start_matches('/').to_string();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    prefix
}

/// The PVC `<fullname>-backups` that holds the backups when the instance has no S3.
pub fn backups_pvc(ctx: &Ctx<'_>) -> Object {
    let b = &ctx.v.backup;
    Object::PersistentVolumeClaim(backend::claim(
        ctx,
        backups_pvc_name(ctx),
        &b.persistence.size,
        &b.persistence.storage_class,
        "backup",
    ))
}

/// The Job `<fullname>-backup-<revision>-<yymmddHHMM>` of `odoo-tui backup` (a manual
/// backup): see [`backup_job_of`].
pub fn backup_job(ctx: &Ctx<'_>, revision: u64, unix_time: i64) -> BackupJob {
    backup_job_of(ctx, BackupKind::Manual, revision, unix_time)
}

/// The Job `<fullname>-backup-<revision>-<yymmddHHMM>`: the dump (`pg_dump -Fc` from
/// `backup.image`), the filestore when it is on a PVC (a tar archive next to the dump) and
/// a manifest, uploaded with `mc` to the bucket under `backup.prefix`, or, without S3,
/// written to the PVC `<fullname>-backups`; then retention. The password comes from the
/// DB Secret through `PGPASSWORD`; the S3 keys reach `mc` through `MC_HOST_<alias>`,
/// never its arguments.
pub fn backup_job_of(ctx: &Ctx<'_>, kind: BackupKind, revision: u64, unix_time: i64) -> BackupJob {
    let b = &ctx.v.backup;
    let stamp = backup_stamp(unix_time);
    let name = bounded_name(ctx.fullname(), &format!("-backup-{revision}-{stamp}"));
    let base = format!("{}-{revision}-{stamp}", ctx.fullname());
    let file = format!("{base}.dump");
    let (spec, pvc) = backup_pod(
        ctx,
        kind,
        Naming::Fixed {
            revision,
            unix_time,
        },
    );
    let target = match &pvc {
        None => BackupTarget::S3 {
            bucket: ctx.d.s3_bucket.clone(),
            key: format!("{}{file}", s3_prefix(ctx)),
        },
        Some(p) => BackupTarget::Pvc {
            claim: p.name().to_string(),
            file: file.clone(),
        },
    };
    BackupJob {
        job: job(
            ctx,
            name,
            "backup",
            b.backoff_limit,
            b.active_deadline_seconds,
            spec,
        ),
        pvc,
        file,
        target,
    }
}

/// Name of the CronJob of scheduled backups.
pub fn cron_job_name(ctx: &Ctx<'_>) -> String {
    // The CronJob controller appends `-<minutes since epoch>` (up to 11 characters)
    // to name its Jobs, which must stay within 63: CronJob names are capped at 52.
    let mut n = bounded_name(ctx.fullname(), "-backup");
    if n.len() > 52 {
        n = bounded_name(ctx.fullname(), "-bk");
        n.truncate(52);
        n = n.trim_end_matches('-').to_string();
    }
    n
}

/// `backup.schedule`: a CronJob running the same backup pod (kind `scheduled`, named at
/// run time), never two at once, and the PVC the backups go to without S3 (a scheduled
/// backup finds it there; a command's backup creates it on demand otherwise).
pub fn render(ctx: &Ctx<'_>) -> Vec<Object> {
    let b = &ctx.v.backup;
    if !b.enabled || b.schedule.trim().is_empty() {
        return vec![];
    }
    let (spec, pvc) = backup_pod(ctx, BackupKind::Scheduled, Naming::AtRunTime);
    let Object::Job(template) = job(
        ctx,
        cron_job_name(ctx),
        "backup",
        b.backoff_limit,
        b.active_deadline_seconds,
        spec,
    ) else {
        unreachable!("job() renders a Job")
    };
    let cron = CronJob {
        metadata: ctx.meta(cron_job_name(ctx), Some("backup")),
        spec: Some(CronJobSpec {
            schedule: b.schedule.trim().to_string(),
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(3600),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(ctx.pod_meta("backup")),
                spec: template.spec,
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut out = Vec::new();
    out.extend(pvc);
    out.push(Object::CronJob(cron));
    out
}

/// The marker a listing Job puts before each manifest it prints.
pub const MANIFEST_LINE: &str = "odoo-tui-manifest ";

/// The listing Job's script with S3 (mc's image: builtins and mc): each manifest of this
/// instance under the prefix, on one line after the marker.
const LIST_MANIFESTS_S3: &str = r#"mc_host target "$S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
mc ls "target/$S3_BUCKET/$S3_PREFIX" > "$TMPDIR"/ls
n=0
while read -r line; do
  name=${line##* }
  case "$name" in
    "$BACKUP_BASE"-*.manifest.json)
      printf '%s' "$MANIFEST_LINE"
      mc cat "target/$S3_BUCKET/$S3_PREFIX$name"
      n=$((n + 1)) ;;
  esac
done < "$TMPDIR"/ls
echo "$n manifests in s3://$S3_BUCKET/$S3_PREFIX"
"#;

/// The same on the backups PVC.
const LIST_MANIFESTS_PVC: &str = r#"set -eu
n=0
for f in "$DUMP_DIR"/"$BACKUP_BASE"-*.manifest.json; do
  [ -f "$f" ] || continue
  printf '%s' "$MANIFEST_LINE"
  cat "$f"
  n=$((n + 1))
done
echo "$n manifests in $DUMP_DIR"
"#;

/// Name of the Job listing an instance's backups at a time.
pub fn list_job_name(ctx: &Ctx<'_>, unix_time: i64) -> String {
    bounded_name(
        ctx.fullname(),
        &format!("-backups-{}", backup_stamp(unix_time)),
    )
}

/// The Job printing the manifests of the instance's backups to its log (`odoo-tui
/// backups`, `restore`, `clone`): no Odoo, only mc (or a shell on the backups PVC).
pub fn list_job(ctx: &Ctx<'_>, unix_time: i64) -> Object {
    let b = &ctx.v.backup;
    let d = &ctx.d;
    let common = vec![
        env("BACKUP_BASE", ctx.fullname()),
        env("MANIFEST_LINE", MANIFEST_LINE),
    ];
    let (container, volumes) = if d.s3_requested {
        let (secret, access, secret_key) = &d.s3_secret;
        let mut e = common;
        e.extend([
            env("S3_ENDPOINT", d.s3_endpoint.clone()),
            env("S3_BUCKET", d.s3_bucket.clone()),
            env("S3_PREFIX", s3_prefix(ctx)),
            secret_env("AWS_ACCESS_KEY_ID", secret, access),
            secret_env("AWS_SECRET_ACCESS_KEY", secret, secret_key),
            env("MC_CONFIG_DIR", "/tmp/mc"),
            env("TMPDIR", "/tmp"),
        ]);
        (
            Container {
                name: "list".into(),
                image: Some(b.mc_image.reference()),
                image_pull_policy: Some(b.mc_image.pull_policy.clone()),
                command: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    format!("set -eu\n{MC_HOST_FN}{LIST_MANIFESTS_S3}"),
                ]),
                env: Some(e),
                volume_mounts: Some(vec![VolumeMount {
                    name: "tmp".into(),
                    mount_path: "/tmp".into(),
                    ..Default::default()
                }]),
                security_context: Some(restricted_default(PG_UID, PG_UID)),
                resources: Some(b.resources.clone()),
                ..Default::default()
            },
            vec![empty_dir("tmp")],
        )
    } else {
        let mut e = common;
        e.push(env("DUMP_DIR", DUMP_DIR));
        (
            Container {
                name: "list".into(),
                image: Some(b.image.reference()),
                image_pull_policy: Some(b.image.pull_policy.clone()),
                command: Some(vec!["sh".into(), "-c".into(), LIST_MANIFESTS_PVC.into()]),
                env: Some(e),
                volume_mounts: Some(vec![VolumeMount {
                    name: "dump".into(),
                    mount_path: DUMP_DIR.into(),
                    read_only: Some(true),
                    ..Default::default()
                }]),
                security_context: Some(restricted_default(PG_UID, PG_UID)),
                resources: Some(b.resources.clone()),
                ..Default::default()
            },
            vec![Volume {
                name: "dump".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: backups_pvc_name(ctx),
                    read_only: Some(true),
                }),
                ..Default::default()
            }],
        )
    };
    let spec = PodSpec {
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        image_pull_secrets: ctx.image_pull_secrets(),
        security_context: Some(restricted_pod(&Default::default(), PG_UID, PG_UID)),
        containers: vec![container],
        volumes: Some(volumes),
        ..Default::default()
    };
    job(ctx, list_job_name(ctx, unix_time), "backup", 0, 300, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Credentials, RenderInput};

    fn with<T>(sets: &[&str], f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        let sources: Vec<_> = sets
            .iter()
            .map(|s| crate::values::Source::set(s).unwrap())
            .collect();
        let loaded = crate::values::load(&sources).unwrap();
        let creds = Credentials::default();
        let input = RenderInput {
            release: "acme",
            namespace: "shop",
            values: &loaded.values,
            credentials: &creds,
        };
        f(&Ctx::new(&input).unwrap())
    }

    fn cron(objs: &[Object]) -> &CronJob {
        objs.iter()
            .find_map(|o| match o {
                Object::CronJob(c) => Some(c),
                _ => None,
            })
            .expect("a CronJob")
    }

    fn env_of(c: &Container) -> Vec<(String, Option<String>)> {
        c.env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect()
    }

    #[test]
    fn no_schedule_no_cron_job() {
        assert!(with(&[], render).is_empty());
        assert!(
            with(
                &["backup.schedule=0 3 * * *", "backup.enabled=false"],
                render
            )
            .is_empty()
        );
    }

    #[test]
    fn a_schedule_runs_the_same_backup_pod_never_two_at_once() {
        let objs = with(&["backup.schedule=0 3 * * *"], render);
        // S3: no PVC for the backups.
        assert_eq!(objs.len(), 1);
        let c = cron(&objs);
        assert_eq!(c.metadata.name.as_deref(), Some("acme-odoo-backup"));
        let spec = c.spec.as_ref().unwrap();
        assert_eq!(spec.schedule, "0 3 * * *");
        assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
        assert_eq!(spec.successful_jobs_history_limit, Some(3));
        assert_eq!(spec.failed_jobs_history_limit, Some(3));
        let job = spec.job_template.spec.as_ref().unwrap();
        assert_eq!(job.backoff_limit, Some(0));
        assert_eq!(job.active_deadline_seconds, Some(3600));
        let pod = job.template.spec.as_ref().unwrap();
        // The same pod as a command's backup, but kind `scheduled` and named at run time.
        let manual = with(&["backup.schedule=0 3 * * *"], |ctx| backup_job(ctx, 3, 0));
        let Object::Job(m) = &manual.job else {
            panic!()
        };
        let mpod = m.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(pod.containers[0].command, mpod.containers[0].command);
        let dump = &pod.init_containers.as_ref().unwrap()[0];
        let e = env_of(dump);
        assert!(e.contains(&("BACKUP_KIND".into(), Some("scheduled".into()))));
        assert!(!e.iter().any(|(n, _)| n == "BACKUP_NAME"));
        let rev = dump
            .env
            .iter()
            .flatten()
            .find(|e| e.name == "BACKUP_REVISION")
            .unwrap();
        let r = rev
            .value_from
            .as_ref()
            .unwrap()
            .config_map_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (r.name.as_str(), r.key.as_str(), r.optional),
            ("acme-odoo-odoo-tui", "revision", Some(true))
        );
        let me = env_of(&mpod.init_containers.as_ref().unwrap()[0]);
        assert!(me.contains(&("BACKUP_KIND".into(), Some("manual".into()))));
        assert!(me.contains(&("BACKUP_NAME".into(), Some("acme-odoo-3-7001010000".into()))));
    }

    #[test]
    fn without_s3_the_cron_job_comes_with_its_pvc() {
        let objs = with(&["minio.enabled=false", "backup.schedule=@daily"], render);
        assert_eq!(objs[0].kind(), "PersistentVolumeClaim");
        assert_eq!(objs[0].name(), "acme-odoo-backups");
        let pod = cron(&objs)
            .spec
            .as_ref()
            .unwrap()
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .clone()
            .unwrap();
        assert!(pod.init_containers.is_none());
        assert_eq!(
            pod.volumes.unwrap()[0]
                .persistent_volume_claim
                .as_ref()
                .unwrap()
                .claim_name,
            "acme-odoo-backups"
        );
    }

    #[test]
    fn retention_lists_the_bucket_first_and_only_when_set() {
        let pod = |sets: &[&str]| {
            with(sets, |ctx| {
                let Object::Job(j) = backup_job(ctx, 1, 0).job else {
                    panic!()
                };
                j.spec.unwrap().template.spec.unwrap()
            })
        };
        let names = |p: &PodSpec| -> Vec<String> {
            p.init_containers
                .iter()
                .flatten()
                .chain(&p.containers)
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names(&pod(&[])), ["backup", "upload"]);
        let p = pod(&["backup.keep.daily=7", "backup.keep.weekly=4"]);
        assert_eq!(names(&p), ["list", "backup", "upload"]);
        let e = env_of(&p.init_containers.as_ref().unwrap()[1]);
        for (k, v) in [
            ("KEEP_LAST", "0"),
            ("KEEP_DAILY", "7"),
            ("KEEP_WEEKLY", "4"),
            ("KEEP_MONTHLY", "0"),
        ] {
            assert!(e.contains(&(k.into(), Some(v.into()))), "{k}");
        }
        let script = &p.init_containers.as_ref().unwrap()[1]
            .command
            .as_ref()
            .unwrap()[2];
        assert!(script.contains("expired()"), "{script}");
    }

    #[test]
    fn cron_job_names_leave_room_for_the_controllers_suffix() {
        let long = "a".repeat(41);
        let sources = [crate::values::Source::set("backup.schedule=@daily").unwrap()];
        let loaded = crate::values::load(&sources).unwrap();
        let creds = Credentials::default();
        let input = RenderInput {
            release: &long,
            namespace: "shop",
            values: &loaded.values,
            credentials: &creds,
        };
        let ctx = Ctx::new(&input).unwrap();
        let n = cron_job_name(&ctx);
        assert!(n.len() <= 52, "{n}");
        assert!(!n.ends_with('-'));
    }
}
