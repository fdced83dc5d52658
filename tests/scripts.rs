//! Every script the product renders, run for real: a real `dash` (busybox `sh` for the
//! busybox image) against a real PostgreSQL server, with stand-ins for `odoo` and `mc`
//! (see `tests/scripts/harness.rs` and `tests/scripts/bin/`).

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
