//! No lost data, no rotated credential: the record written with optimistic concurrency
//! and found by the instance, generated credentials created only where absent and never
//! regenerated while data uses them, persistence changes refused, deletion of exactly the
//! instance's own claims, exact selectors, lists the cluster forbids done without, `list`
//! with every instance's state. The real binary (and, for races, the library) against
//! the test API server.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value as Json, json};
use test_apiserver::Config;

mod common;
use common::{Env, NS, text};

const QUICK: &[&str] = &["new", "acme", "--preset", "quick-start", "--yes"];
const LOCAL: &[&str] = &["new", "acme", "--preset", "local-dev", "--yes"];

fn secret_value(env: &Env, secret: &str, key: &str) -> Option<String> {
    let s = env.obj("secrets", secret)?;
    let b = s["data"][key].as_str()?;
    Some(String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap())
}

fn create(env: &Env, obj: Json) {
    let _ = env
        .server
        .create_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    env.server.create_object(obj).unwrap();
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

// ---------------------------------------------------------------------------------------
// The record

#[test]
fn a_fullname_override_not_repeated_finds_the_same_instance() {
    let env = Env::new();
    env.ok(&[QUICK, &["--set", "fullnameOverride=shopfront"]].concat());
    let db = secret_value(&env, "shopfront", "db-password").unwrap();
    let o = env.ok(&["new", "acme", "--yes"]);
    assert!(text(&o).contains("0 object(s) changed"), "{}", text(&o));
    assert!(
        env.obj("secrets", "acme-odoo").is_none(),
        "no second instance with new passwords"
    );
    assert!(env.obj("configmaps", "acme-odoo-odoo-tui").is_none());
    assert_eq!(secret_value(&env, "shopfront", "db-password").unwrap(), db);
    assert_eq!(
        env.obj("configmaps", "shopfront-odoo-tui").unwrap()["data"]["revision"],
        "1"
    );
}

#[test]
fn shop_and_shop_odoo_never_read_each_others_record_or_secrets() {
    // `shop` and `shop-odoo` have the same fullname (`shop-odoo`).
    let env = Env::new();
    env.ok(&["new", "shop", "--preset", "local-dev", "--yes"]);
    let db = secret_value(&env, "shop-odoo", "db-password").unwrap();
    let record = env.obj("configmaps", "shop-odoo-odoo-tui").unwrap();
    let o = env.run(&["new", "shop-odoo", "--preset", "local-dev", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "Secret/shop-odoo already exists in namespace `shop` and it belongs to the odoo-tui instance `shop`"
        ),
        "{out}"
    );
    assert!(!out.contains(&db), "no credential of `shop` in the output");
    assert_eq!(secret_value(&env, "shop-odoo", "db-password").unwrap(), db);
    assert_eq!(
        env.obj("configmaps", "shop-odoo-odoo-tui").unwrap(),
        record,
        "the record of `shop` is untouched"
    );
    for args in [
        &["backup", "shop-odoo"][..],
        &["upgrade", "shop-odoo", "--modules", "sale", "--yes"],
    ] {
        let o = env.run(args);
        assert!(
            text(&o).contains("no odoo-tui instance `shop-odoo`"),
            "{args:?}: {}",
            text(&o)
        );
    }
}

mod library {
    use super::*;
    use odoo_tui::cluster::apply::{self, Options};
    use odoo_tui::cluster::record::{HistoryEntry, HistoryKind, HistoryResult};
    use odoo_tui::cluster::{Kube, Target};
    use odoo_tui::values;
    use tokio_util::sync::CancellationToken;

    async fn kube(env: &Env) -> Kube {
        Kube::connect(&Target {
            kubeconfig: Some(env.kubeconfig()),
            ..Default::default()
        })
        .await
        .unwrap()
    }

    fn quick_start() -> values::Loaded {
        values::load(&[odoo_tui::presets::load("quick-start").unwrap()]).unwrap()
    }

    fn entry(time: i64) -> HistoryEntry {
        HistoryEntry {
            time,
            kind: HistoryKind::Backup,
            revision: 1,
            modules: vec![],
            image: None,
            backup_location: Some(format!("s3://b/{time}.dump")),
            result: HistoryResult::Succeeded,
            detail: None,
            upgrade: None,
        }
    }

    /// Two writers of the record at once (the lock aside): each reads, changes and writes
    /// it back conditionally on the version it read, so neither change is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_writers_of_the_record_lose_nothing() {
        let env = Env::new();
        env.ok(QUICK);
        let kube = kube(&env).await;
        let loaded = quick_start();
        // Both read before either writes.
        env.server.faults().set_latency(Duration::from_millis(150));
        let (a, b) = tokio::join!(
            odoo_tui::instance::record::append_history(&kube, "acme", &loaded, entry(1), None),
            odoo_tui::instance::record::append_history(&kube, "acme", &loaded, entry(2), None),
        );
        env.server.faults().set_latency(Duration::ZERO);
        a.unwrap();
        b.unwrap();
        let rec = env.obj("configmaps", "acme-odoo-odoo-tui").unwrap();
        let history = rec["data"]["history.yaml"].as_str().unwrap();
        assert!(
            history.contains("s3://b/1.dump") && history.contains("s3://b/2.dump"),
            "{history}"
        );
    }

    /// Two first installs at once (the lock aside): the credentials each stores are
    /// created only where absent, so both end up with one set of passwords everywhere.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_first_installs_at_once_end_with_one_set_of_passwords() {
        let env = Env::start(Config::default());
        let kube = kube(&env).await;
        let loaded = values::load(&[odoo_tui::presets::load("local-dev").unwrap()]).unwrap();
        let opts = Options {
            force: false,
            dry_run: false,
            timeout: Duration::from_secs(60),
            typed: Default::default(),
            revision: None,
            maintenance_until_ready: false,
        };
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        // Both read the (absent) Secrets before either writes them.
        env.server.faults().set_latency(Duration::from_millis(100));
        let (a, b) = tokio::join!(
            apply::run(&kube, "acme", &loaded, &opts, &tx, &cancel),
            apply::run(&kube, "acme", &loaded, &opts, &tx, &cancel),
        );
        env.server.faults().set_latency(Duration::ZERO);
        let (a, b) = (a.unwrap(), b.unwrap());
        let db = secret_value(&env, "acme-odoo", "db-password").unwrap();
        let admin = secret_value(&env, "acme-odoo-config", "admin-password").unwrap();
        let conf = secret_value(&env, "acme-odoo-config", "odoo.conf").unwrap();
        for run in [&a, &b] {
            let g = &run.generated;
            for (mine, stored) in [(&g.db_password, &db), (&g.admin_password, &admin)] {
                if let Some(p) = mine {
                    assert_eq!(p, stored, "a run reports a password that is not stored");
                }
            }
            if let Some(m) = &g.master_password {
                assert!(conf.contains(&format!("admin_passwd = {m}")));
            }
        }
        assert!(
            a.generated.db_password.is_some() != b.generated.db_password.is_some(),
            "exactly one run generated the database password"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Credentials

#[test]
fn switching_to_an_existing_secret_keeps_the_generated_password() {
    let env = Env::new();
    env.ok(LOCAL);
    let db = secret_value(&env, "acme-odoo", "db-password").unwrap();
    create(
        &env,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "acme-db", "namespace": NS},
            "data": {"password": b64(&db)}}),
    );
    env.ok(&[
        "new",
        "acme",
        "--yes",
        "--set",
        "postgresql.auth.existingSecret=acme-db",
    ]);
    assert_eq!(
        secret_value(&env, "acme-odoo", "db-password").as_deref(),
        Some(db.as_str()),
        "the generated password stays in its Secret"
    );
    // And switching back finds it, unchanged.
    env.ok(&[
        "new",
        "acme",
        "--yes",
        "--set",
        "postgresql.auth.existingSecret=",
    ]);
    assert_eq!(secret_value(&env, "acme-odoo", "db-password").unwrap(), db);
}

#[test]
fn a_missing_generated_secret_while_the_database_volume_exists_stops_the_run() {
    let env = Env::new();
    env.ok(LOCAL);
    let o = env.kubectl(&["delete", "secret", "acme-odoo"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = env.run(LOCAL);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("Secret `acme-odoo` has no `db-password`, but the database volume PersistentVolumeClaim/data-acme-postgresql-0 exists"),
        "{out}"
    );
    assert!(
        env.obj("secrets", "acme-odoo").is_none(),
        "no new password generated"
    );
}

// ---------------------------------------------------------------------------------------
// list

fn list_states(env: &Env) -> Vec<(String, String)> {
    let o = env.ok(&["list", "-o", "json"]);
    let rows: Json = serde_json::from_slice(&o.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(name: &str, state: &str) -> (String, String) {
    (name.to_string(), state.to_string())
}

#[test]
fn list_shows_every_instance_with_its_state_also_a_failed_install() {
    let scenario = test_apiserver::Scenario::from_yaml(
        "pods:\n  - selector: {app.kubernetes.io/instance: broken, app.kubernetes.io/component: init}\n    exitCode: 1\n    logs: [\"psycopg2.OperationalError: could not connect to server\"]\n",
    )
    .unwrap();
    let env = Env::start(Config::default().scenario(scenario));
    env.ok(LOCAL);
    let o = env.run(&["new", "broken", "--preset", "local-dev", "--yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(env.obj("configmaps", "broken-odoo-odoo-tui").is_none());
    assert_eq!(
        list_states(&env),
        [pair("acme", "ready"), pair("broken", "failed")]
    );
    let o = env.ok(&["list"]);
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(table.contains("STATE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("broken") && l.contains("failed")),
        "{table}"
    );

    let o = env.kubectl(&["scale", "deployment/acme-odoo-backend", "--replicas=0"]);
    assert!(o.status.success(), "{}", text(&o));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while list_states(&env)[0] != pair("acme", "stopped") {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            list_states(&env)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Deleted with its data kept: no longer an instance.
    env.ok(&["delete", "broken"]);
    assert_eq!(list_states(&env), [pair("acme", "stopped")]);
}

#[test]
fn list_shows_an_install_in_progress() {
    let scenario = test_apiserver::Scenario::from_yaml(
        "pods:\n  - selector: {app.kubernetes.io/component: postgresql}\n    readyAfterSeconds: 2000\n",
    )
    .unwrap();
    let env = Env::with(Config::default().time_scale(0.05).scenario(scenario));
    let mut child = env
        .cmd(LOCAL)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while env.obj("statefulsets", "acme-postgresql").is_none() {
        assert!(std::time::Instant::now() < deadline, "no install started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let states = list_states(&env);
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(states, [pair("acme", "installing")]);
}

// ---------------------------------------------------------------------------------------
// delete --delete-data

fn pvc_names(env: &Env) -> Vec<String> {
    env.server
        .objects("persistentvolumeclaims", NS)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn foreign_claim(env: &Env, name: &str) {
    create(
        env,
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": NS, "labels": {
                "app.kubernetes.io/instance": "acme", "app.kubernetes.io/managed-by": "Helm",
                "app.kubernetes.io/name": "redis"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    );
}

#[test]
fn delete_data_deletes_only_the_instances_own_claims() {
    let env = Env::new();
    env.ok(QUICK);
    // A Helm release of the same name labels its claims with the instance too.
    foreign_claim(&env, "redis-data-acme-redis-master-0");
    let o = env.ok(&["delete", "acme", "--delete-data", "--yes"]);
    let out = text(&o);
    assert!(
        out.contains("PersistentVolumeClaim/data-acme-postgresql-0 deleted")
            && out.contains("PersistentVolumeClaim/data-acme-minio-0 deleted"),
        "{out}"
    );
    assert!(
        out.contains("PersistentVolumeClaim/redis-data-acme-redis-master-0 left in place"),
        "{out}"
    );
    assert_eq!(pvc_names(&env), ["redis-data-acme-redis-master-0"]);
}

#[test]
fn claims_of_an_older_install_without_the_label_are_recognised_by_their_statefulset() {
    let env = Env::new();
    env.ok(LOCAL);
    // Claim templates got `managed-by` only recently: older installs' claims lack it.
    let o = env.kubectl(&[
        "label",
        "pvc",
        "data-acme-postgresql-0",
        "app.kubernetes.io/managed-by-",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    env.ok(&["delete", "acme", "--delete-data", "--yes"]);
    assert!(
        !pvc_names(&env).contains(&"data-acme-postgresql-0".to_string()),
        "used by the instance's StatefulSet: its own"
    );

    // Once the StatefulSet is gone (deleted without its data first), such a claim can no
    // longer be told from another tool's: it is left, and said so.
    env.ok(LOCAL);
    env.ok(&["delete", "acme"]);
    let o = env.kubectl(&[
        "label",
        "pvc",
        "data-acme-postgresql-0",
        "app.kubernetes.io/managed-by-",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = env.ok(&["delete", "acme", "--delete-data", "--yes"]);
    assert!(
        text(&o)
            .contains("PersistentVolumeClaim/data-acme-postgresql-0 left in place: not labelled"),
        "{}",
        text(&o)
    );
    assert!(pvc_names(&env).contains(&"data-acme-postgresql-0".to_string()));
    assert!(env.obj("secrets", "acme-odoo").is_none());
}

// ---------------------------------------------------------------------------------------
// Persistence changes

#[test]
fn turning_persistence_off_or_changing_a_claim_is_refused_while_the_claim_exists() {
    let env = Env::new();
    env.ok(LOCAL);
    let sts = env.obj("statefulsets", "acme-postgresql").unwrap();
    for (set, says) in [
        (
            "postgresql.persistence.enabled=false",
            "`postgresql.persistence.enabled: false` would put the data of StatefulSet/acme-postgresql on a volume that is deleted with its pod, while PersistentVolumeClaim/data-acme-postgresql-0 holds it",
        ),
        (
            "postgresql.persistence.storageClass=fast",
            "the claim template `data` of StatefulSet/acme-postgresql would change storageClassName",
        ),
        ("postgresql.persistence.size=1Gi", "(a claim cannot shrink)"),
    ] {
        let o = env.run(&["new", "acme", "--yes", "--set", set]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{set}: {out}");
        assert!(out.contains(says), "{set}: {out}");
        assert!(out.contains("odoo-tui backup acme"), "{set}: {out}");
        assert_eq!(
            env.obj("statefulsets", "acme-postgresql").unwrap()["metadata"]["uid"],
            sts["metadata"]["uid"],
            "{set}: not re-created"
        );
    }
    assert!(
        env.obj("persistentvolumeclaims", "data-acme-postgresql-0")
            .is_some()
    );
}

#[test]
fn equal_sizes_written_differently_do_not_recreate_the_statefulset() {
    let env = Env::new();
    env.ok(&[LOCAL, &["--set", "postgresql.persistence.size=2048Mi"]].concat());
    let uid = env.obj("statefulsets", "acme-postgresql").unwrap()["metadata"]["uid"].clone();
    let o = env.ok(&[
        "new",
        "acme",
        "--yes",
        "--set",
        "postgresql.persistence.size=2Gi",
    ]);
    assert!(
        !text(&o).contains("StatefulSet/acme-postgresql recreated"),
        "{}",
        text(&o)
    );
    assert_eq!(
        env.obj("statefulsets", "acme-postgresql").unwrap()["metadata"]["uid"],
        uid
    );
}

// ---------------------------------------------------------------------------------------
// Exact selectors

/// A pod of another tool carrying the instance's name and a component of odoo-tui's
/// (a Helm release `acme` with an `odoo` chart does), crash-looping.
fn foreign_pod(env: &Env, name: &str, component: &str) {
    if env.obj("serviceaccounts", "foreign").is_none() {
        create(
            env,
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "foreign", "namespace": NS}}),
        );
    }
    create(
        env,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {
                "app": "foreign", "app.kubernetes.io/instance": "acme",
                "app.kubernetes.io/component": component, "app.kubernetes.io/managed-by": "Helm"}},
            "spec": {"restartPolicy": "Always", "serviceAccountName": "foreign",
                "containers": [{"name": component, "image": "example/foreign:1"}]}}),
    );
}

#[test]
fn foreign_crash_looping_pods_with_the_instance_label_never_fail_new_or_stall_an_upgrade() {
    let scenario = test_apiserver::Scenario::from_yaml(
        "pods:\n  - selector: {app: foreign}\n    crash: {afterSeconds: 0.2, exitCode: 1, logs: [\"Traceback: not ours\"]}\n",
    )
    .unwrap();
    let env = Env::start(Config::default().scenario(scenario));
    for (name, component) in [
        ("acme-web", "backend"),
        ("acme-db", "postgresql"),
        ("acme-migrate", "upgrade"),
    ] {
        foreign_pod(&env, name, component);
    }
    // Long enough for the foreign pods to be in CrashLoopBackOff (their third restart).
    std::thread::sleep(Duration::from_secs(2));
    let o = env.ok(&[QUICK, &["--timeout", "60s"]].concat());
    assert!(!text(&o).contains("not ours"), "{}", text(&o));
    let started = std::time::Instant::now();
    let o = env.ok(&[
        "upgrade",
        "acme",
        "--modules",
        "sale",
        "--timeout",
        "60s",
        "--yes",
    ]);
    assert!(text(&o).contains("`acme` upgraded"), "{}", text(&o));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the upgrade did not wait for the foreign backend pod to go: {:?}",
        started.elapsed()
    );
    let o = env.run(&["status", "acme", "--once"]);
    assert!(!text(&o).contains("not ours"), "{}", text(&o));
    assert!(env.obj("pods", "acme-web").is_some(), "never touched");
}

// ---------------------------------------------------------------------------------------
// Forbidden lists

/// Run the binary for at most `secs`: its exit code (None when it had to be killed) and
/// everything it printed.
fn run_for(env: &Env, args: &[&str], secs: u64) -> (Option<i32>, String) {
    use std::process::Stdio;
    let mut child = env
        .cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut code = None;
    while std::time::Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            code = st.code();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if code.is_none() {
        let _ = child.kill();
    }
    let o = child.wait_with_output().unwrap();
    (code, text(&o))
}

#[test]
fn forbidden_pods_are_said_and_done_without_instead_of_waiting_forever() {
    let env = Env::new();
    for verb in ["list", "watch"] {
        env.server.faults().forbid(verb, "pods");
    }
    let (code, out) = run_for(&env, &[LOCAL, &["--timeout", "60s"]].concat(), 30);
    assert_eq!(code, Some(0), "new finishes: {out}");
    assert_eq!(
        out.matches("note: listing pods is forbidden (403)").count(),
        1,
        "said once: {out}"
    );

    let o = env.run(&["status", "acme", "--once"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("note: listing pods is forbidden (403)"),
        "{}",
        text(&o)
    );
    let o = env.run(&["status", "acme", "--once", "-o", "json"]);
    let st: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert!(st["notes"][0].as_str().unwrap().contains("pods"), "{st}");
}

#[test]
fn forbidden_events_are_said_and_done_without() {
    let scenario = test_apiserver::Scenario::from_yaml(
        "images:\n  \"ghcr.io/sergio-bershadsky/odoo:18.0-gone\": {pull: fail}\n",
    )
    .unwrap();
    let env = Env::start(Config::default().scenario(scenario));
    for verb in ["list", "watch"] {
        env.server.faults().forbid(verb, "events");
    }
    let o = env.run(&[LOCAL, &["--set", "backend.image.tag=18.0-gone"]].concat());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("ErrImagePull") || text(&o).contains("ImagePullBackOff"));

    // Its reason needs the pod's Events, which may not be listed: said, not an error.
    let o = env.run(&["status", "acme", "--once"]);
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        Some(3),
        "not ready, but not an error: {out}"
    );
    assert!(
        out.contains("note: listing events is forbidden (403)"),
        "{out}"
    );
    assert!(out.contains("backend"), "{out}");
}
