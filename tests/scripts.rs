//! Every script the product renders, run for real: a real `dash` (busybox `sh` for the
//! busybox image) against a real PostgreSQL server, with stand-ins for `odoo`, `mc` and
//! busybox's `nc -z` (see `tests/scripts/harness.rs` and `tests/scripts/bin/`), and an
//! HTTP server standing in for the backend Service (the smoke check). The odoo.conf
//! composition of the busybox init container runs in `render::backend`'s unit tests.

#[path = "scripts/harness.rs"]
mod harness;

use harness::{Case, RunOpts, generated, load, pg};
use odoo_tui::render::backup::{BackupKind, backup_job_of};
use odoo_tui::render::restore::{
    BackupSource, RestoreSpec, RestoreStep, backup_source, clone_job, restore_job, restore_step_job,
};
use odoo_tui::render::{Credentials, Ctx, Object};

/// Skip (with the reason printed once) when PostgreSQL cannot be started here.
macro_rules! need_pg {
    () => {
        match pg() {
            Some(p) => p,
            None => return,
        }
    };
}

fn case(preset: &str, sets: &[&str]) -> Case {
    let v = load(
        preset,
        &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    Case::new(preset, sets, generated(&v))
}

fn admin(c: &Case) -> String {
    c.sql("SELECT login || '|' || password FROM res_users WHERE id = 2")
}

fn admin_password(c: &Case) -> String {
    let d = c.derived();
    c.secret(&d.admin_secret.0, &d.admin_secret.1).unwrap()
}

fn marker(c: &Case) -> String {
    c.sql("SELECT count(*) FROM ir_config_parameter WHERE key = 'odoo_tui.initialised'")
}

// ---------------------------------------------------------------------------------------
// First boot (the init Job)

#[test]
fn first_boot_initialises_sets_the_admin_and_then_does_nothing() {
    let pg = need_pg!();
    let c = case("local-dev", &["backend.initDb.adminLogin=boss"]);
    c.provision_db(pg, true);
    let init = c.job("init");
    let r = c.run(&init, "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(
        r.called("odoo -c ") && r.calls[0].contains(" -i base "),
        "{r}"
    );
    assert_eq!(admin(&c), format!("boss|{}", admin_password(&c)));
    assert_eq!(marker(&c), "1");
    // The company logo `-i base` wrote is on the backend's filestore PVC.
    let pvc = c.pvc_dir("acme-odoo-backend-data");
    assert!(
        pvc.join(format!("filestore/{}/4a/4a1b2c3d4e5f", c.db_name()))
            .exists(),
        "{r}"
    );

    // Again: nothing to do, and odoo is not started at all.
    let again = c.run(&init, "init", &RunOpts::default());
    assert!(again.ok(), "{again}");
    assert!(again.calls.is_empty(), "{again}");
    assert!(again.stdout.contains("nothing to do"), "{again}");
    assert_eq!(admin(&c), format!("boss|{}", admin_password(&c)));
}

#[test]
fn a_first_boot_that_crashed_before_the_admin_step_is_finished_by_the_next_run() {
    let pg = need_pg!();
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    let init = c.job("init");
    let crashed = c.run(&init, "init", &RunOpts::fail("shell:admin"));
    assert!(!crashed.ok(), "{crashed}");
    assert_eq!(
        c.sql("SELECT state FROM ir_module_module WHERE name = 'base'"),
        "installed"
    );
    assert_eq!(admin(&c), "admin|admin");
    assert_eq!(marker(&c), "0");

    let r = c.run(&init, "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    // base is installed: no second `-i` (it would reset the admin), only the admin step.
    assert!(!r.calls.iter().any(|l| l.contains(" -i ")), "{r}");
    assert_eq!(admin(&c), format!("admin|{}", admin_password(&c)));
    assert_eq!(marker(&c), "1");
}

#[test]
fn a_first_boot_that_crashed_between_modules_resumes_them() {
    let pg = need_pg!();
    let c = case("local-dev", &["backend.initDb.modules={contacts,sale}"]);
    c.provision_db(pg, true);
    let init = c.job("init");
    let crashed = c.run(&init, "init", &RunOpts::fail("install:sale"));
    assert!(!crashed.ok(), "{crashed}");
    assert_eq!(
        c.sql("SELECT state FROM ir_module_module WHERE name IN ('base', 'contacts', 'sale') ORDER BY name"),
        "installed\ninstalled\nto install"
    );

    let r = c.run(&init, "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    let install: Vec<_> = r.calls.iter().filter(|l| l.contains(" -i ")).collect();
    assert_eq!(install.len(), 1, "{r}");
    assert!(install[0].contains(" -i sale "), "{r}");
    assert_eq!(
        c.sql("SELECT state FROM ir_module_module WHERE name = 'sale'"),
        "installed"
    );
    assert_eq!(admin(&c), format!("admin|{}", admin_password(&c)));
}

#[test]
fn first_boot_creates_a_database_that_does_not_exist() {
    let pg = need_pg!();
    let c = case(
        "external",
        &[
            "externalDatabase.host=db.example.com",
            "externalDatabase.password=dbpass",
            "externalS3.endpoint=https://s3.example.com",
            "externalS3.accessKey=AK",
            "externalS3.secretKey=SK",
            "externalS3.bucket=files",
        ],
    );
    c.provision_db(pg, false);
    std::fs::create_dir_all(c.s3_dir().join("files")).unwrap();
    let r = c.run(&c.job("init"), "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(pg.db_exists(&c.db_name()));
    assert!(r.stdout.contains("does not exist yet"), "{r}");
    assert_eq!(marker(&c), "1");
}

/// Connection refused, authentication failure, no `psql` in the image: the Job fails
/// with the error and never starts `odoo`, whatever state the database is in.
#[test]
fn first_boot_fails_closed_on_any_other_database_error() {
    let pg = need_pg!();
    // An initialised database first.
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    let init = c.job("init");
    assert!(c.run(&init, "init", &RunOpts::default()).ok());
    let before = admin(&c);

    // No psql in a custom image.
    let r = c.run(
        &init,
        "init",
        &RunOpts {
            hide: vec!["psql"],
            ..Default::default()
        },
    );
    assert!(!r.ok(), "{r}");
    assert!(r.calls.is_empty(), "{r}");
    assert!(r.stderr.contains("psql is not in the image"), "{r}");

    // Authentication failure: the role's password is no longer the Secret's.
    pg.sql(
        "postgres",
        &format!("ALTER ROLE \"{}\" PASSWORD 'something else'", c.db_user()),
    );
    let r = c.run(&init, "init", &RunOpts::default());
    assert!(!r.ok(), "{r}");
    assert!(r.calls.is_empty(), "{r}");
    assert!(r.stderr.contains("password authentication failed"), "{r}");
    assert!(r.stderr.contains("nothing was changed"), "{r}");
    assert_eq!(admin(&c), before);

    // Connection refused: nothing listens on that port.
    let ext = case(
        "external",
        &[
            "externalDatabase.host=db.example.com",
            "externalDatabase.port=1",
            "externalDatabase.password=dbpass",
            "externalS3.endpoint=https://s3.example.com",
            "externalS3.accessKey=AK",
            "externalS3.secretKey=SK",
        ],
    );
    let r = ext.run(&ext.job("init"), "init", &RunOpts::default());
    assert!(!r.ok(), "{r}");
    assert!(r.calls.is_empty(), "{r}");
    assert!(r.stderr.contains("Connection refused"), "{r}");
}

#[test]
fn passwords_with_dashes_quotes_dollars_and_spaces_reach_postgres_and_odoo_intact() {
    let pg = need_pg!();
    let nasty = "-a 'b' \"c\" $HOME `d` \\e f";
    let c = Case::new(
        "local-dev",
        &[],
        Credentials {
            db_password: Some(nasty.into()),
            admin_password: Some(format!("{nasty} admin")),
            master_password: Some(nasty.into()),
            minio_root_password: None,
        },
    );
    c.provision_db(pg, true);
    let r = c.run(&c.job("init"), "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(admin(&c), format!("admin|{nasty} admin"));
    // No credential on any command line.
    for call in &r.calls {
        assert!(!call.contains("'b'") && !call.contains("$HOME"), "{call}");
    }
}

#[test]
fn the_language_becomes_the_admins_and_the_companys() {
    let pg = need_pg!();
    let c = case("local-dev", &["backend.initDb.language=fr_FR"]);
    c.provision_db(pg, true);
    let r = c.run(&c.job("init"), "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(r.calls[0].contains("--load-language=fr_FR"), "{r}");
    assert_eq!(c.sql("SELECT lang FROM res_users WHERE id = 2"), "fr_FR");
    assert_eq!(c.sql("SELECT lang FROM res_partner WHERE id = 1"), "fr_FR");
}

// ---------------------------------------------------------------------------------------
// Object storage: bucket provisioning, the S3 filestore

fn quick_start(creds: Option<Credentials>) -> Case {
    match creds {
        Some(c) => Case::new("quick-start", &[], c),
        None => case("quick-start", &[]),
    }
}

#[test]
fn with_s3_first_boot_moves_its_files_into_the_bucket() {
    let pg = need_pg!();
    let c = quick_start(None);
    c.provision_db(pg, true);
    let prov = c.run(&c.job("minio-provisioning"), "mc", &RunOpts::default());
    assert!(prov.ok(), "{prov}");
    assert!(c.s3_dir().join("odoo-filestore").is_dir());

    let r = c.run(&c.job("init"), "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(r.calls[0].contains(" -i base,fs_attachment_s3 "), "{r}");
    // The logo `-i base` wrote is in the bucket, its row points there, no file is missing.
    assert_eq!(
        c.sql("SELECT store_fname FROM ir_attachment"),
        "s3://4a/4a1b2c3d4e5f"
    );
    assert!(c.s3_dir().join("odoo-filestore/4a/4a1b2c3d4e5f").exists());
    assert!(
        r.stdout.contains("attachments whose file is missing: 0"),
        "{r}"
    );
    // fs_attachment's garbage collection is off: a retained dump never points at an
    // object it deleted.
    assert_eq!(c.sql("SELECT autovacuum_gc FROM fs_storage"), "f");

    let s = c.run(&c.job("storage-init"), "storage-init", &RunOpts::default());
    assert!(s.ok(), "{s}");
    assert!(!s.calls.iter().any(|l| l.contains(" -i ")), "{s}");
}

#[test]
fn storage_init_installs_the_s3_modules_an_existing_database_lacks() {
    let pg = need_pg!();
    // A database initialised without S3 ...
    let mut c = case("local-dev", &[]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    // ... whose configuration now has MinIO.
    c.values = load(
        "local-dev",
        &[
            "minio.enabled=true".to_string(),
            format!("postgresql.auth.username={}", c.db_user()),
            format!("postgresql.auth.database={}", c.db_name()),
        ],
    );
    c.creds.minio_root_password = Some("minio-secret".into());
    c.render();
    std::fs::create_dir_all(c.s3_dir().join("odoo-filestore")).unwrap();
    let r = c.run(&c.job("storage-init"), "storage-init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(r.calls[0].contains(" -i fs_attachment_s3 "), "{r}");
    assert_eq!(
        c.sql("SELECT state FROM ir_module_module WHERE name = 'fs_attachment_s3'"),
        "installed"
    );
}

/// Turning S3 on for an instance whose files are on the backend's PVC: the Jobs of that
/// apply mount the PVC (the engine's transition), install the S3 modules on the existing
/// database and move the files that are on it into the bucket; none is missing after.
#[test]
fn turning_s3_on_moves_the_files_on_the_pvc_into_the_bucket() {
    let pg = need_pg!();
    let mut c = case("quick-start", &["minio.enabled=false"]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let logo = c
        .pvc_dir("acme-odoo-backend-data")
        .join(format!("filestore/{}/4a/4a1b2c3d4e5f", c.db_name()));
    assert!(logo.exists());

    c.values = load(
        "quick-start",
        &[
            format!("postgresql.auth.username={}", c.db_user()),
            format!("postgresql.auth.database={}", c.db_name()),
        ],
    );
    c.creds.minio_root_password = Some("minio-secret".into());
    c.render_with(odoo_tui::render::Transition {
        filestore_to_s3: true,
        ..Default::default()
    });
    let prov = c.run(&c.job("minio-provisioning"), "mc", &RunOpts::default());
    assert!(prov.ok(), "{prov}");
    let r = c.run(&c.job("init"), "init", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(r.calls[0].contains(" -i fs_attachment_s3 "), "{r}");
    assert!(
        r.stdout.contains("attachments whose file is missing: 0"),
        "{r}"
    );
    assert_eq!(
        c.sql("SELECT store_fname FROM ir_attachment"),
        "s3://4a/4a1b2c3d4e5f"
    );
    assert!(c.s3_dir().join("odoo-filestore/4a/4a1b2c3d4e5f").exists());
    let s = c.run(&c.job("storage-init"), "storage-init", &RunOpts::default());
    assert!(s.ok(), "{s}");
    assert!(
        s.stdout.contains("attachments whose file is missing: 0"),
        "{s}"
    );
}

/// S3 keys reach mc through MC_HOST_<alias>, never its command line, whatever they hold.
#[test]
fn s3_keys_with_dashes_quotes_dollars_and_spaces_reach_mc_through_the_environment() {
    let pg = need_pg!();
    let nasty = "-a 'b' \"c\" $HOME `d` \\e f@g";
    let c = quick_start(Some(Credentials {
        db_password: Some(nasty.into()),
        minio_root_password: Some(nasty.into()),
        master_password: Some("master".into()),
        admin_password: Some("admin-pw".into()),
    }));
    c.provision_db(pg, true);
    let prov = c.run(&c.job("minio-provisioning"), "mc", &RunOpts::default());
    assert!(prov.ok(), "{prov}");
    assert!(c.s3_dir().join("odoo-filestore").is_dir());
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let b = backup(&c);
    let r = c.run(&b.job, "backup", &RunOpts::default());
    assert!(r.ok(), "{r}");
    let u = c.run(&b.job, "upload", &RunOpts::default());
    assert!(u.ok(), "{u}");
    for call in prov.calls.iter().chain(&u.calls) {
        assert!(!call.contains("'b'") && !call.contains("$HOME"), "{call}");
    }
    assert!(
        c.s3_dir()
            .join(format!("odoo-filestore/backups/{}", b.file))
            .exists()
    );
}

// ---------------------------------------------------------------------------------------
// Backups

fn backup(c: &Case) -> odoo_tui::render::ops_parts::BackupJob {
    let input = c.ctx_input();
    let ctx = odoo_tui::render::Ctx::new(&input).unwrap();
    odoo_tui::render::ops_parts::backup_job(&ctx, 7, 1_795_820_700)
}

#[test]
fn a_backup_restores_into_a_fresh_database_with_the_same_rows_and_files() {
    let pg = need_pg!();
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let b = backup(&c);
    let r = c.run(&b.job, "backup", &RunOpts::default());
    assert!(r.ok(), "{r}");
    let dir = c.pvc_dir("acme-odoo-backups");
    let base = b.file.trim_end_matches(".dump");
    let dump = dir.join(&b.file);
    assert!(dump.exists(), "{r}");

    // pg_restore into a fresh database: the same rows.
    let fresh = format!("{}_restored", c.db_name());
    pg.sql("postgres", &format!("CREATE DATABASE \"{fresh}\""));
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "-h"])
        .arg(pg_socket(pg))
        .args(["-p", "5432", "-U", "postgres", "-d", &fresh])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for table in [
        "ir_module_module",
        "res_users",
        "ir_attachment",
        "ir_config_parameter",
    ] {
        let q = format!("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t");
        assert_eq!(pg.sql(&fresh, &q), c.sql(&q), "{table}");
    }

    // The filestore archive holds the logo; the manifest says what the backup is.
    let list = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(dir.join(format!("{base}.filestore.tar.gz")))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("4a/4a1b2c3d4e5f"));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{base}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["kind"], "manual");
    assert_eq!(manifest["contents"], "database+filestore");
    assert_eq!(manifest["id"], base);
    assert!(manifest["sizes"]["database"].as_u64().unwrap() > 0);
    assert!(manifest["sizes"]["filestore"].as_u64().unwrap() > 0);
    assert_eq!(manifest["revision"], 7);
    assert_eq!(manifest["database"], c.db_name());
    assert!(
        manifest["image"]
            .as_str()
            .unwrap()
            .starts_with("ghcr.io/sergio-bershadsky/odoo:")
    );
    assert!(
        manifest["modules"]
            .as_array()
            .unwrap()
            .contains(&"base".into())
    );
    assert_eq!(
        manifest["files"]["dump"]["bytes"].as_u64().unwrap(),
        std::fs::metadata(&dump).unwrap().len()
    );
    let text = manifest.to_string();
    assert!(!text.contains(&c.db_password()), "{text}");
}

#[test]
fn a_pg_dump_older_than_the_server_fails_before_writing_anything() {
    let pg = need_pg!();
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let old = c.path("old-pg-dump");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(
        old.join("pg_dump"),
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 13.16'; exit 0; fi\necho \"$0 $*\" >> \"$STANDIN_LOG\"\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(
        old.join("pg_dump"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let b = backup(&c);
    let r = c.run(
        &b.job,
        "backup",
        &RunOpts {
            path_first: vec![old],
            ..Default::default()
        },
    );
    assert!(!r.ok(), "{r}");
    assert!(r.calls.is_empty(), "{r}");
    assert!(r.stderr.contains("backup.image"), "{r}");
    assert!(r.stderr.contains("pg_dump 13"), "{r}");
    let dir = c.pvc_dir("acme-odoo-backups");
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
}

fn pg_socket(_pg: &harness::Pg) -> std::path::PathBuf {
    harness::socket_dir()
}

// ---------------------------------------------------------------------------------------
// Waiting for the database, the upgrade, the smoke check

#[test]
fn wait_for_db_passes_once_postgres_listens_and_keeps_waiting_while_nothing_does() {
    let pg = need_pg!();
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    let r = c.run(&c.job("init"), "wait-for-db", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(r.calls, ["nc -z -w 2 acme-postgresql 5432"], "{r}");

    // Nothing listens on that port: it keeps trying, and says what it waits for.
    let ext = case(
        "external",
        &[
            "externalDatabase.host=db.example.com",
            "externalDatabase.port=1",
            "externalDatabase.password=dbpass",
            "externalS3.endpoint=https://s3.example.com",
            "externalS3.accessKey=AK",
            "externalS3.secretKey=SK",
        ],
    );
    let r = ext.run(
        &ext.job("init"),
        "wait-for-db",
        &RunOpts {
            timeout: Some(std::time::Duration::from_secs(5)),
            ..Default::default()
        },
    );
    assert!(r.timed_out, "{r}");
    assert!(
        r.stdout
            .contains("waiting for PostgreSQL at db.example.com:1"),
        "{r}"
    );
    assert!(r.calls.len() >= 2, "{r}");
}

fn upgrade_job(c: &Case, modules: &[&str]) -> odoo_tui::render::Object {
    use odoo_tui::render::ops_parts::{UpgradeModules, UpgradeSpec, upgrade_job};
    let input = c.ctx_input();
    let ctx = odoo_tui::render::Ctx::new(&input).unwrap();
    upgrade_job(
        &ctx,
        &UpgradeSpec {
            modules: UpgradeModules::List(modules.iter().map(|m| m.to_string()).collect()),
            image: c.values.backend.image.clone(),
            revision: 2,
            beside_backend: false,
        },
    )
}

#[test]
fn the_upgrade_job_runs_u_on_the_installed_modules_and_fails_with_odoo() {
    let pg = need_pg!();
    let c = case("local-dev", &["backend.initDb.modules={sale}"]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let job = upgrade_job(&c, &["sale", "session_db"]);
    let wait = c.run(&job, "wait-for-db", &RunOpts::default());
    assert!(wait.ok(), "{wait}");

    let r = c.run(&job, "upgrade", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(r.calls.len(), 1, "{r}");
    assert!(
        r.calls[0].contains(" -u sale,session_db --stop-after-init --no-http --workers=0"),
        "{r}"
    );
    assert!(
        r.stdout.contains("upgrading modules: sale,session_db"),
        "{r}"
    );
    // sale upgraded; session_db, not installed, left alone as Odoo does.
    assert_eq!(
        c.sql("SELECT latest_version FROM ir_module_module WHERE name = 'sale'"),
        "18.0.1.0+u"
    );
    assert_eq!(
        c.sql("SELECT state FROM ir_module_module WHERE name = 'session_db'"),
        "uninstalled"
    );
    // The password reached odoo through the environment only.
    assert!(!r.calls[0].contains(&c.db_password()), "{r}");

    // Odoo failing makes the Job fail, with its message.
    let r = c.run(&job, "upgrade", &RunOpts::fail("update:sale"));
    assert!(!r.ok(), "{r}");
    assert!(r.stderr.contains("failing at update:sale"), "{r}");
}

/// An HTTP server standing in for the backend Service: reached as the client's proxy
/// (what the cluster's DNS and Service do), it answers each request with the next
/// status of its list (the last one repeats) and records the request lines.
struct HttpStandIn {
    addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl HttpStandIn {
    fn start(statuses: &[u16]) -> HttpStandIn {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        let statuses = statuses.to_vec();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = std::io::BufReader::new(&stream);
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let n = {
                    let mut r = seen.lock().unwrap();
                    r.push(first.trim_end().to_string());
                    r.len()
                };
                let status = statuses[(n - 1).min(statuses.len() - 1)];
                let body = if status == 200 {
                    "<html>login</html>"
                } else {
                    ""
                };
                let _ = write!(
                    &stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        HttpStandIn { addr, requests }
    }

    fn proxy(&self) -> RunOpts {
        RunOpts {
            env: vec![("http_proxy".into(), format!("http://{}/", self.addr))],
            ..Default::default()
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

#[test]
fn the_smoke_check_retries_until_the_login_page_answers() {
    let _pg = need_pg!();
    let c = case("local-dev", &[]);
    let http = HttpStandIn::start(&[503, 200]);
    let r = c.run(&c.job("smoke-check"), "smoke-check", &http.proxy());
    assert!(r.ok(), "{r}");
    assert!(
        r.stdout
            .contains("http://acme-odoo-backend:8069/web/login not answering yet (1)"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("http://acme-odoo-backend:8069/web/login answered"),
        "{r}"
    );
    assert_eq!(
        http.requests(),
        ["GET http://acme-odoo-backend:8069/web/login HTTP/1.1"; 2]
    );
}

#[test]
fn the_smoke_check_fails_when_the_login_page_never_answers() {
    let _pg = need_pg!();
    let c = case("local-dev", &[]);
    let http = HttpStandIn::start(&[404]);
    let r = c.run(&c.job("smoke-check"), "smoke-check", &http.proxy());
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .contains("http://acme-odoo-backend:8069/web/login did not answer"),
        "{r}"
    );
    assert_eq!(http.requests().len(), 10, "{r}");
}

// ---------------------------------------------------------------------------------------
// Restore, clone and retention

/// Unix time of the backups the tests take: 2026-11-27T23:05:00Z, a Friday.
const T: i64 = 1_795_820_700;

fn with_ctx<R>(c: &Case, f: impl FnOnce(&Ctx<'_>) -> R) -> R {
    let input = c.ctx_input();
    let ctx = Ctx::new(&input).unwrap();
    f(&ctx)
}

fn restore_of(c: &Case, id: &str, source: Option<BackupSource>) -> Object {
    with_ctx(c, |ctx| {
        let source = source.unwrap_or_else(|| backup_source(ctx));
        restore_job(
            ctx,
            &RestoreSpec {
                id: id.to_string(),
                source,
            },
            T + 600,
        )
    })
}

fn step_of(c: &Case, step: RestoreStep) -> Object {
    with_ctx(c, |ctx| restore_step_job(ctx, step, T + 900))
}

fn partners(c: &Case) -> String {
    c.sql("SELECT string_agg(name, ',' ORDER BY name) FROM res_partner")
}

/// A first boot, a customer and an invoice file on the filestore PVC; then a backup.
fn local_dev_with_a_backup(pg: &harness::Pg) -> (Case, String) {
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    c.sql("INSERT INTO res_partner (name) VALUES ('Azure Interior')");
    let fs = filestore(&c);
    std::fs::create_dir_all(fs.join("ab")).unwrap();
    std::fs::write(fs.join("ab/abcdef"), "invoice v1").unwrap();
    c.sql("INSERT INTO ir_attachment (name, store_fname) VALUES ('invoice', 'ab/abcdef')");
    let b = backup(&c);
    let r = c.run_pod(&b.job, &RunOpts::default());
    assert!(r.ok(), "{r}");
    let id = b.file.trim_end_matches(".dump").to_string();
    (c, id)
}

fn filestore(c: &Case) -> std::path::PathBuf {
    c.pvc_dir("acme-odoo-backend-data")
        .join(format!("filestore/{}", c.db_name()))
}

/// What changes after the backup: a renamed customer, a new one, an invoice file
/// rewritten, the logo deleted, a new file.
fn change_after_backup(c: &Case) {
    c.sql("UPDATE res_partner SET name = 'Azure Renamed' WHERE name = 'Azure Interior'");
    c.sql("INSERT INTO res_partner (name) VALUES ('Added Later')");
    let fs = filestore(c);
    std::fs::write(fs.join("ab/abcdef"), "invoice v2").unwrap();
    std::fs::remove_file(fs.join("4a/4a1b2c3d4e5f")).unwrap();
    std::fs::write(fs.join("ab/new"), "new").unwrap();
}

const BEFORE: &str = "Administrator,Azure Interior,My Company";
const AFTER: &str = "Added Later,Administrator,Azure Renamed,My Company";

#[test]
fn a_restore_brings_back_the_rows_and_files_and_keeps_what_it_replaced_until_commit() {
    let pg = need_pg!();
    let (c, id) = local_dev_with_a_backup(pg);
    change_after_backup(&c);
    assert_eq!(partners(&c), AFTER);

    let r = c.run_pod(&restore_of(&c, &id, None), &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(r.ran(), ["restore", "swap"]);
    assert_eq!(partners(&c), BEFORE);
    let fs = filestore(&c);
    assert_eq!(
        std::fs::read_to_string(fs.join("ab/abcdef")).unwrap(),
        "invoice v1"
    );
    assert!(fs.join("4a/4a1b2c3d4e5f").exists());
    assert!(!fs.join("ab/new").exists());
    // Odoo's own files check agrees.
    let check = c.run(&c.job("init"), "init", &RunOpts::default());
    assert!(check.ok(), "{check}");
    // The replaced database and files are kept until the restore is final.
    let previous = format!("{}_previous", c.db_name());
    assert!(pg.db_exists(&previous));
    assert_eq!(
        pg.sql(
            &previous,
            "SELECT count(*) FROM res_partner WHERE name = 'Added Later'"
        ),
        "1"
    );
    let kept = fs.with_extension("previous");
    assert_eq!(
        std::fs::read_to_string(kept.join("ab/abcdef")).unwrap(),
        "invoice v2"
    );
    // The backup was marked in use while it was read, and is not any more.
    let backups = c.pvc_dir("acme-odoo-backups");
    assert!(
        !std::fs::read_dir(&backups)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".in-use.")),
    );

    let commit = c.run_pod(&step_of(&c, RestoreStep::Commit), &RunOpts::default());
    assert!(commit.ok(), "{commit}");
    assert!(!pg.db_exists(&previous));
    assert!(!kept.exists());
    assert_eq!(partners(&c), BEFORE);
}

#[test]
fn undo_puts_back_what_the_restore_replaced() {
    let pg = need_pg!();
    let (c, id) = local_dev_with_a_backup(pg);
    change_after_backup(&c);
    let r = c.run_pod(&restore_of(&c, &id, None), &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(partners(&c), BEFORE);

    let undo = c.run_pod(&step_of(&c, RestoreStep::Undo), &RunOpts::default());
    assert!(undo.ok(), "{undo}");
    assert_eq!(partners(&c), AFTER);
    let fs = filestore(&c);
    assert_eq!(
        std::fs::read_to_string(fs.join("ab/abcdef")).unwrap(),
        "invoice v2"
    );
    assert!(fs.join("ab/new").exists());
    for suffix in ["_previous", "_restoring", "_failed"] {
        assert!(
            !pg.db_exists(&format!("{}{suffix}", c.db_name())),
            "{suffix}"
        );
    }
    assert!(!fs.with_extension("previous").exists());
    // Undo again: nothing left to put back, nothing changes.
    let again = c.run_pod(&step_of(&c, RestoreStep::Undo), &RunOpts::default());
    assert!(again.ok(), "{again}");
    assert_eq!(partners(&c), AFTER);
}

#[test]
fn a_restore_that_fails_leaves_the_current_database_and_files_untouched() {
    let pg = need_pg!();
    let (c, id) = local_dev_with_a_backup(pg);
    change_after_backup(&c);
    // pg_restore dies once it has restored (as when the pod is OOM-killed midway).
    let dying = c.path("dying-pg-restore");
    std::fs::create_dir_all(&dying).unwrap();
    std::fs::write(
        dying.join("pg_restore"),
        "#!/bin/sh\ncase \"$1\" in -l|--version) exec /usr/bin/pg_restore \"$@\" ;; esac\n/usr/bin/pg_restore \"$@\"\necho 'pg_restore: killed' >&2\nexit 137\n",
    )
    .unwrap();
    std::fs::set_permissions(
        dying.join("pg_restore"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let dies = RunOpts {
        path_first: vec![dying],
        ..Default::default()
    };
    let r = c.run_pod(&restore_of(&c, &id, None), &dies);
    assert!(!r.ok(), "{r}");
    assert_eq!(r.failed(), Some("restore"), "{r}");
    assert!(r.stderr().contains("untouched"), "{r}");
    assert!(r.stdout().contains("into a new database"), "{r}");
    assert_eq!(partners(&c), AFTER);
    assert!(!pg.db_exists(&format!("{}_restoring", c.db_name())));
    let fs = filestore(&c);
    assert!(!fs.with_extension("restoring").exists());
    assert!(fs.join("ab/new").exists());
    assert!(
        !std::fs::read_dir(c.pvc_dir("acme-odoo-backups"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".in-use.")),
    );

    // A dump whose table of contents is lost: refused before anything is created.
    let dump = c.pvc_dir("acme-odoo-backups").join(format!("{id}.dump"));
    std::fs::write(&dump, &std::fs::read(&dump).unwrap()[..64]).unwrap();
    let r = c.run_pod(&restore_of(&c, &id, None), &RunOpts::default());
    assert!(!r.ok(), "{r}");
    assert!(r.stderr().contains("the file is damaged"), "{r}");
    assert!(!r.stdout().contains("into a new database"), "{r}");
    assert_eq!(partners(&c), AFTER);

    // An unknown backup: the same, said so.
    let r = c.run_pod(
        &restore_of(&c, "acme-odoo-7-2001010000", None),
        &RunOpts::default(),
    );
    assert!(!r.ok(), "{r}");
    assert!(
        r.stderr().contains("does not exist or is incomplete"),
        "{r}"
    );
    assert_eq!(partners(&c), AFTER);
}

#[test]
fn a_restore_refuses_to_start_while_an_earlier_one_is_not_finished() {
    let pg = need_pg!();
    let (c, id) = local_dev_with_a_backup(pg);
    assert!(
        c.run_pod(&restore_of(&c, &id, None), &RunOpts::default())
            .ok()
    );
    c.sql("INSERT INTO res_partner (name) VALUES ('After The First Restore')");
    let r = c.run_pod(&restore_of(&c, &id, None), &RunOpts::default());
    assert!(!r.ok(), "{r}");
    assert!(r.stderr().contains("did not finish"), "{r}");
    assert_eq!(
        c.sql("SELECT count(*) FROM res_partner WHERE name = 'After The First Restore'"),
        "1"
    );
}

/// Quick start: MinIO provisioned, first boot moved the logo to the bucket; one more
/// attachment object; a customer; a backup uploaded.
fn quick_start_with_a_backup(pg: &harness::Pg) -> (Case, String) {
    let c = quick_start(None);
    c.provision_db(pg, true);
    assert!(
        c.run(&c.job("minio-provisioning"), "mc", &RunOpts::default())
            .ok()
    );
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let bucket = c.s3_dir().join("odoo-filestore");
    std::fs::create_dir_all(bucket.join("cd")).unwrap();
    std::fs::write(bucket.join("cd/cdef01"), "contract").unwrap();
    c.sql("INSERT INTO ir_attachment (name, store_fname) VALUES ('contract', 's3://cd/cdef01')");
    c.sql("INSERT INTO res_partner (name) VALUES ('Azure Interior')");
    let b = backup(&c);
    let r = c.run_pod(&b.job, &RunOpts::default());
    assert!(r.ok(), "{r}");
    (c, b.file.trim_end_matches(".dump").to_string())
}

#[test]
fn with_s3_a_restore_fetches_the_backup_and_checks_every_object_it_references() {
    let pg = need_pg!();
    let (c, id) = quick_start_with_a_backup(pg);
    c.sql("UPDATE res_partner SET name = 'Azure Renamed' WHERE name = 'Azure Interior'");
    c.sql("INSERT INTO res_partner (name) VALUES ('Added Later')");

    let r = c.run_pod(&restore_of(&c, &id, None), &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(r.ran(), ["fetch", "restore", "swap"]);
    assert_eq!(partners(&c), BEFORE);
    assert!(
        r.stdout().contains("all 2 attachment objects backup")
            && r.stdout().contains("are in s3://odoo-filestore"),
        "{r}"
    );
    // The in-use marker was there while the backup was read, and is gone.
    assert!(
        r.calls()
            .iter()
            .any(|l| l.starts_with("mc cp") && l.contains(".in-use.acme"))
    );
    let backups = c.s3_dir().join("odoo-filestore/backups");
    assert!(
        !std::fs::read_dir(&backups)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".in-use.")),
    );
    // No S3 key on any command line.
    let keys = c.secret("acme-minio", "root-password").unwrap_or_default();
    for call in r.calls() {
        assert!(keys.is_empty() || !call.contains(&keys), "{call}");
    }
    assert!(
        c.run_pod(&step_of(&c, RestoreStep::Commit), &RunOpts::default())
            .ok()
    );
}

#[test]
fn with_s3_a_restore_whose_objects_were_deleted_stops_before_the_swap() {
    let pg = need_pg!();
    let (c, id) = quick_start_with_a_backup(pg);
    c.sql("INSERT INTO res_partner (name) VALUES ('Added Later')");
    std::fs::remove_file(c.s3_dir().join("odoo-filestore/cd/cdef01")).unwrap();
    let r = c.run_pod(&restore_of(&c, &id, None), &RunOpts::default());
    assert!(!r.ok(), "{r}");
    assert_eq!(r.failed(), Some("restore"), "{r}");
    assert!(
        r.stderr().contains("1 of the 2 attachment objects backup"),
        "{r}"
    );
    assert!(r.stderr().contains("cd/cdef01"), "{r}");
    assert!(
        c.sql("SELECT count(*) FROM res_partner WHERE name = 'Added Later'") == "1",
        "{r}"
    );
    assert!(!pg.db_exists(&format!("{}_restoring", c.db_name())));
}

/// An instance on external S3 (one endpoint, keys AK/SK) with its own bucket.
fn external(release: &str, bucket: &str) -> Case {
    let mut c = case(
        "external",
        &[
            "externalDatabase.host=db.example.com",
            "externalDatabase.password=dbpass",
            "externalS3.endpoint=https://s3.example.com",
            "externalS3.accessKey=AK",
            "externalS3.secretKey=SK",
            &format!("externalS3.bucket={bucket}"),
        ],
    );
    c.release = release.into();
    c.render();
    std::fs::create_dir_all(c.s3_dir().join(bucket)).unwrap();
    c
}

#[test]
fn a_clone_gets_the_rows_its_own_objects_a_new_uuid_and_is_neutralized() {
    let pg = need_pg!();
    let src = external("acme", "prod-files");
    src.provision_db(pg, true);
    assert!(src.run(&src.job("init"), "init", &RunOpts::default()).ok());
    src.sql("INSERT INTO res_partner (name) VALUES ('Azure Interior')");
    src.sql("INSERT INTO ir_cron (name, active) VALUES ('Mail: send queue', true)");
    src.sql(
        "INSERT INTO ir_mail_server (name, smtp_host, smtp_port, active) VALUES ('production', 'smtp.example.com', 587, true)",
    );
    let b = backup(&src);
    let up = src.run_pod(&b.job, &RunOpts::default());
    assert!(up.ok(), "{up}");
    let id = b.file.trim_end_matches(".dump").to_string();
    let src_uuid = src.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'");
    assert!(!src_uuid.is_empty());

    // The new instance: its own database and bucket, the same S3 account; the source's
    // Secrets exist in the namespace.
    let mut new = external("staging", "staging-files");
    new.s3_dir_shared_with(&src);
    std::fs::create_dir_all(new.s3_dir().join("staging-files")).unwrap();
    new.provision_db(pg, true);
    for o in &src.objects {
        if let Object::Secret(s) = o {
            let data = s
                .data
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), String::from_utf8(v.0.clone()).unwrap()))
                .collect();
            new.existing.insert(s.metadata.name.clone().unwrap(), data);
        }
    }
    let source = with_ctx(&src, backup_source);
    let r = new.run_pod(&restore_of(&new, &id, Some(source)), &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(r.ran(), ["fetch", "restore", "objects", "swap"]);
    assert_eq!(partners(&new), BEFORE);
    // The logo the dump references was copied to the clone's own bucket.
    assert!(
        new.s3_dir().join("staging-files/4a/4a1b2c3d4e5f").exists(),
        "{r}"
    );
    assert!(r.stdout().contains("copied 1 attachment objects"), "{r}");

    let clone = with_ctx(&new, |ctx| clone_job(ctx, true, T + 1200));
    let n = new.run(&clone, "clone", &RunOpts::default());
    assert!(n.ok(), "{n}");
    assert!(n.called("odoo neutralize -c "), "{n}");
    assert_eq!(
        new.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'"),
        "true"
    );
    let new_uuid = new.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'");
    assert!(!new_uuid.is_empty() && new_uuid != src_uuid);
    assert_ne!(
        new.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.secret'"),
        src.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.secret'")
    );
    // Odoo's neutralization: no cron but the autovacuum, no mail server but the dummy one.
    assert_eq!(
        new.sql("SELECT string_agg(name, ',' ORDER BY name) FROM ir_cron WHERE active"),
        "Base: Auto-vacuum internal data"
    );
    assert_eq!(
        new.sql("SELECT string_agg(name, ',') FROM ir_mail_server WHERE active"),
        "neutralization - disable emails"
    );
    // The clone's admin password is its own; the source is untouched.
    assert_eq!(admin(&new), format!("admin|{}", admin_password(&new)));
    assert_eq!(admin(&src), format!("admin|{}", admin_password(&src)));
    assert_eq!(
        src.sql("SELECT count(*) FROM ir_config_parameter WHERE key = 'database.is_neutralized'"),
        "0"
    );

    // Its storage-init points fs.storage at its own bucket and finds every file there.
    let s = new.run(
        &new.job("storage-init"),
        "storage-init",
        &RunOpts::default(),
    );
    assert!(s.ok(), "{s}");
    assert!(
        s.stdout.contains("attachments whose file is missing: 0"),
        "{s}"
    );
    assert_eq!(
        new.sql("SELECT directory_path FROM fs_storage"),
        "staging-files"
    );
}

#[test]
fn a_clone_without_neutralization_still_gets_a_new_uuid() {
    let pg = need_pg!();
    let (c, _) = local_dev_with_a_backup(pg);
    let before = c.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'");
    let clone = with_ctx(&c, |ctx| clone_job(ctx, false, T));
    let r = c.run(&clone, "clone", &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(!r.called("odoo neutralize"), "{r}");
    assert!(r.stdout.contains("NOT neutralized"), "{r}");
    assert_ne!(
        c.sql("SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'"),
        before
    );
    // A neutralization that fails fails the Job.
    let clone = with_ctx(&c, |ctx| clone_job(ctx, true, T));
    let r = c.run(&clone, "clone", &RunOpts::fail("neutralize"));
    assert!(!r.ok(), "{r}");
}

/// Backups that were there before: `(base, with a manifest)`.
const EXISTING: &[(&str, bool)] = &[
    ("acme-odoo-6-2611270300", true),
    ("acme-odoo-6-2611260300", true),
    ("acme-odoo-5-2611251500", true),
    ("acme-odoo-5-2611250300", true),
    ("acme-odoo-4-2611240300", false),
    ("acme-odoo-4-2611200300", true),
    ("acme-odoo-3-2611100300", true),
    ("acme-odoo-2-2610150300", true),
    ("acme-odoo-2-2609010300", true),
    ("acme-odoo-1-2608010300", true),
    // Another instance's, in the same place.
    ("acme-odoo-2-odoo-1-2601010300", true),
    ("other-odoo-1-2601010300", true),
];

/// Kept by `{daily: 3, weekly: 2, monthly: 2}` with the new backup of Friday 27th 23:05:
/// the new one (newest, its day, week and month), the 26th and 25th 15:00 (days 2 and
/// 3), the 20th (week 2), 15 October (month 2), the 10th (a restore reads it), the
/// incomplete one and the other instances'.
const KEPT: &[&str] = &[
    "acme-odoo-7-2611272305",
    "acme-odoo-6-2611260300",
    "acme-odoo-5-2611251500",
    "acme-odoo-4-2611240300",
    "acme-odoo-4-2611200300",
    "acme-odoo-3-2611100300",
    "acme-odoo-2-2610150300",
    "acme-odoo-2-odoo-1-2601010300",
    "other-odoo-1-2601010300",
];

fn seed_backups(dir: &std::path::Path) {
    for (base, complete) in EXISTING {
        std::fs::write(dir.join(format!("{base}.dump")), "dump").unwrap();
        if *complete {
            std::fs::write(dir.join(format!("{base}.manifest.json")), "{}\n").unwrap();
        }
    }
    std::fs::write(
        dir.join("acme-odoo-3-2611100300.in-use.staging"),
        "staging\n",
    )
    .unwrap();
}

fn remaining(dir: &std::path::Path) -> Vec<String> {
    let mut bases: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.contains(".in-use."))
        .map(|n| n.split('.').next().unwrap().to_string())
        .collect();
    bases.sort();
    bases.dedup();
    bases
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const KEEP: &[&str] = &[
    "backup.keep.daily=3",
    "backup.keep.weekly=2",
    "backup.keep.monthly=2",
];

#[test]
fn retention_on_the_backups_pvc_deletes_exactly_what_the_policy_lets_go() {
    let pg = need_pg!();
    let c = case("local-dev", KEEP);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let dir = c.pvc_dir("acme-odoo-backups");
    seed_backups(&dir);
    let b = backup(&c);
    let r = c.run_pod(&b.job, &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(remaining(&dir), sorted(KEPT), "{r}");
    // Whole backups go: no file of a deleted one is left, no manifest without its dump.
    assert!(!dir.join("acme-odoo-6-2611270300.dump").exists());
    assert!(
        r.stdout()
            .contains("retention: deleted backup acme-odoo-1-2608010300"),
        "{r}"
    );
}

#[test]
fn retention_in_the_bucket_deletes_exactly_what_the_policy_lets_go() {
    let pg = need_pg!();
    let c = case("quick-start", KEEP);
    c.provision_db(pg, true);
    assert!(
        c.run(&c.job("minio-provisioning"), "mc", &RunOpts::default())
            .ok()
    );
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let dir = c.s3_dir().join("odoo-filestore/backups");
    std::fs::create_dir_all(&dir).unwrap();
    seed_backups(&dir);
    let b = backup(&c);
    let r = c.run_pod(&b.job, &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert_eq!(r.ran(), ["list", "backup", "upload"]);
    assert_eq!(remaining(&dir), sorted(KEPT), "{r}");
    // Deleted with mc, the manifest first.
    let rm: Vec<_> = r
        .calls()
        .into_iter()
        .filter(|l| l.starts_with("mc rm") && l.contains("acme-odoo-1-2608010300"))
        .collect();
    assert_eq!(rm.len(), 2, "{r}");
    assert!(rm[0].ends_with(".manifest.json"), "{r}");
}

#[test]
fn a_backup_marked_in_use_after_the_listing_is_not_deleted() {
    let pg = need_pg!();
    let c = case("quick-start", &["backup.keep.last=1"]);
    c.provision_db(pg, true);
    assert!(
        c.run(&c.job("minio-provisioning"), "mc", &RunOpts::default())
            .ok()
    );
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let dir = c.s3_dir().join("odoo-filestore/backups");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("acme-odoo-1-2601010000.manifest.json"), "{}\n").unwrap();
    std::fs::write(dir.join("acme-odoo-1-2601010000.dump"), "d").unwrap();
    let b = backup(&c);
    for container in ["list", "backup"] {
        assert!(c.run(&b.job, container, &RunOpts::default()).ok());
    }
    // A restore starts reading the old backup between the listing and the upload.
    std::fs::write(dir.join("acme-odoo-1-2601010000.in-use.acme"), "acme\n").unwrap();
    let u = c.run(&b.job, "upload", &RunOpts::default());
    assert!(u.ok(), "{u}");
    assert!(dir.join("acme-odoo-1-2601010000.dump").exists(), "{u}");
    assert!(u.stdout.contains("a restore is reading it"), "{u}");
}

#[test]
fn the_scheduled_backup_names_itself_from_the_clock_and_the_records_revision() {
    let pg = need_pg!();
    let mut c = case("local-dev", &["backup.schedule=0 3 * * *"]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    // The CronJob's Job, as the controller creates it from the template.
    let cron = c
        .objects
        .iter()
        .find(|o| o.kind() == "CronJob")
        .expect("a CronJob")
        .to_json();
    let job = Object::from_json(serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "acme-odoo-backup-29401234"},
        "spec": cron["spec"]["jobTemplate"]["spec"],
    }))
    .unwrap();
    // Without a record yet: revision 0.
    let r = c.run_pod(&job, &RunOpts::default());
    assert!(r.ok(), "{r}");
    let dir = c.pvc_dir("acme-odoo-backups");
    let names = remaining(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("acme-odoo-0-"), "{names:?}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{}.manifest.json", names[0]))).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["kind"], "scheduled");
    assert_eq!(manifest["revision"], 0);
    // With the record: its revision.
    c.objects.push(
        Object::from_json(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "acme-odoo-odoo-tui"},
            "data": {"revision": "9"},
        }))
        .unwrap(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let r = c.run_pod(&job, &RunOpts::default());
    assert!(r.ok(), "{r}");
    let names = remaining(&c.pvc_dir("acme-odoo-backups"));
    assert!(names[0].starts_with("acme-odoo-9-"), "{names:?}");
}

#[test]
fn a_pre_upgrade_backup_says_so_in_its_manifest() {
    let pg = need_pg!();
    let c = case("local-dev", &[]);
    c.provision_db(pg, true);
    assert!(c.run(&c.job("init"), "init", &RunOpts::default()).ok());
    let b = with_ctx(&c, |ctx| backup_job_of(ctx, BackupKind::PreUpgrade, 3, T));
    assert!(c.run_pod(&b.job, &RunOpts::default()).ok());
    let base = b.file.trim_end_matches(".dump");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            c.pvc_dir("acme-odoo-backups")
                .join(format!("{base}.manifest.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["kind"], "pre-upgrade");
    assert_eq!(manifest["contents"], "database+filestore");
}
