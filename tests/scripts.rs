//! Every script the product renders, run for real: a real `dash` (busybox `sh` for the
//! busybox image) against a real PostgreSQL server, with stand-ins for `odoo`, `mc` and
//! busybox's `nc -z` (see `tests/scripts/harness.rs` and `tests/scripts/bin/`), and an
//! HTTP server standing in for the backend Service (the smoke check). The odoo.conf
//! composition of the busybox init container runs in `render::backend`'s unit tests.

#[path = "scripts/harness.rs"]
mod harness;

use harness::{Case, RunOpts, generated, load, pg};
use odoo_tui::render::Credentials;

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
    assert_eq!(manifest["kind"], "database+filestore");
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
