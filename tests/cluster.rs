//! `new --yes`, re-runs, prune, ownership, credentials, `list` and `delete`: the real
//! binary against the project's Kubernetes API test server on loopback.

use base64::Engine;
use serde_json::Value as Json;

mod common;
use common::{Env, NS, text};
use test_apiserver::{Config, FaultAction, FaultRule, Scenario};

fn secret_value(secret: &Json, key: &str) -> String {
    let b = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("key {key} in {secret}"));
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
}

const QUICK: &[&str] = &["new", "acme", "--preset", "quick-start", "--yes"];

#[test]
fn quick_start_installs_and_a_rerun_changes_nothing() {
    let env = Env::new();
    let o = env.ok(QUICK);
    assert!(
        text(&o).contains("`acme` is ready in namespace `shop`"),
        "{}",
        text(&o)
    );
    for (plural, name) in [
        ("statefulsets", "acme-postgresql"),
        ("statefulsets", "acme-minio"),
        ("jobs", "acme-odoo-init"),
        ("jobs", "acme-odoo-storage-init"),
        ("deployments", "acme-odoo-backend"),
        ("configmaps", "acme-odoo-odoo-tui"),
    ] {
        assert!(env.obj(plural, name).is_some(), "{plural}/{name}");
    }
    let d = env.obj("deployments", "acme-odoo-backend").unwrap();
    assert_eq!(d["status"]["readyReplicas"], 1);
    let record = env.obj("configmaps", "acme-odoo-odoo-tui").unwrap();
    assert_eq!(record["data"]["revision"], "1");

    let before = env.server.resource_version();
    let o = env.ok(QUICK);
    assert!(text(&o).contains("0 object(s) changed"), "{}", text(&o));
    // Nothing is stored but the instance's lock, taken (1) and given back (2).
    assert_eq!(
        env.server.resource_version(),
        before + 2,
        "a re-run with unchanged inputs must not write anything else"
    );
    assert!(env.obj("leases", "acme-odoo-tui-lock").is_none());
}

#[test]
fn the_end_of_new_says_how_to_see_the_admin_password_later() {
    let env = Env::new();
    let out = text(&env.ok(QUICK));
    assert!(
        out.contains("admin password: shown again by `odoo-tui credentials acme -n shop`"),
        "{out}"
    );
}

#[test]
fn a_changed_value_updates_only_what_it_touches() {
    let env = Env::new();
    env.ok(QUICK);
    let pg = env.obj("statefulsets", "acme-postgresql").unwrap();
    let o = env.ok(&["new", "acme", "--yes", "--set", "backend.replicaCount=2"]);
    let out = text(&o);
    assert!(
        out.contains("Deployment/acme-odoo-backend configured"),
        "{out}"
    );
    assert!(
        !out.contains("StatefulSet/acme-postgresql configured"),
        "{out}"
    );
    assert_eq!(
        env.obj("statefulsets", "acme-postgresql").unwrap()["metadata"]["resourceVersion"],
        pg["metadata"]["resourceVersion"]
    );
    assert_eq!(
        env.obj("deployments", "acme-odoo-backend").unwrap()["spec"]["replicas"],
        2
    );
    // The record keeps the values: a later run without --set keeps two replicas.
    let record = env.obj("configmaps", "acme-odoo-odoo-tui").unwrap();
    assert_eq!(record["data"]["revision"], "2");
    env.ok(&["new", "acme", "--yes"]);
    assert_eq!(
        env.obj("deployments", "acme-odoo-backend").unwrap()["spec"]["replicas"],
        2
    );
}

#[test]
fn switching_nginx_off_prunes_it_and_keeps_pvcs_and_secrets() {
    let env = Env::new();
    env.ok(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "nginx.enabled=true",
    ]);
    assert!(env.obj("deployments", "acme-odoo-nginx").is_some());
    assert!(env.obj("configmaps", "acme-odoo-nginx").is_some());
    let o = env.ok(&["new", "acme", "--yes", "--set", "nginx.enabled=false"]);
    let out = text(&o);
    assert!(out.contains("Deployment/acme-odoo-nginx pruned"), "{out}");
    assert!(env.obj("deployments", "acme-odoo-nginx").is_none());
    assert!(env.obj("services", "acme-odoo-nginx").is_none());
    assert!(env.obj("configmaps", "acme-odoo-nginx").is_none());
    assert!(
        env.obj("persistentvolumeclaims", "data-acme-postgresql-0")
            .is_some()
    );
    assert!(env.obj("secrets", "acme-odoo").is_some());
    assert!(env.obj("configmaps", "acme-odoo-odoo-tui").is_some());
}

#[test]
fn generated_credentials_live_only_in_secrets_and_are_never_rotated() {
    let env = Env::new();
    let o = env.ok(&["new", "acme", "--preset", "quick-start", "--yes", "-v"]);
    let secret = env.obj("secrets", "acme-odoo").unwrap();
    let config = env.obj("secrets", "acme-odoo-config").unwrap();
    let db = secret_value(&secret, "db-password");
    let minio = secret_value(&secret, "s3-secret-key");
    let admin = secret_value(&config, "admin-password");
    assert!(db.len() >= 32 && minio.len() >= 32 && admin.len() >= 32);
    let master = secret_value(&config, "odoo.conf")
        .lines()
        .find_map(|l| l.strip_prefix("admin_passwd = ").map(str::to_string))
        .unwrap();
    let creds = [db.clone(), minio.clone(), admin.clone(), master.clone()];
    // Not in terminal output (also with -v)…
    for c in &creds {
        assert!(!text(&o).contains(c.as_str()), "a credential was printed");
    }
    // …nor in any object but the two Secrets, nor in Events or the record.
    let all = env.kubectl(&[
        "get",
        "all,configmaps,events,serviceaccounts,persistentvolumeclaims",
        "-o",
        "json",
    ]);
    assert!(all.status.success(), "{}", text(&all));
    let dump = String::from_utf8_lossy(&all.stdout);
    for c in &creds {
        assert!(
            !dump.contains(c.as_str()),
            "a credential is stored outside Secrets"
        );
    }
    // A re-run (and an update) reads them back instead of generating new ones.
    env.ok(&["new", "acme", "--yes", "--set", "backend.odoo.workers=3"]);
    let secret = env.obj("secrets", "acme-odoo").unwrap();
    assert_eq!(secret_value(&secret, "db-password"), db);
    assert_eq!(
        secret_value(
            &env.obj("secrets", "acme-odoo-config").unwrap(),
            "admin-password"
        ),
        admin
    );
    assert!(
        secret_value(
            &env.obj("secrets", "acme-odoo-config").unwrap(),
            "odoo.conf"
        )
        .contains(&format!("admin_passwd = {master}"))
    );
}

#[test]
fn show_credentials_prints_them_once_on_request() {
    let env = Env::new();
    let o = env.ok(&[
        "new",
        "acme",
        "--preset",
        "local-dev",
        "--yes",
        "--show-credentials",
    ]);
    let admin = secret_value(
        &env.obj("secrets", "acme-odoo-config").unwrap(),
        "admin-password",
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("admin password: {admin}")));
    let o = env.ok(&["new", "acme", "--yes", "--show-credentials"]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains(&admin),
        "shown once only"
    );
}

/// Create an object with `kubectl create -f` (as a user would, outside odoo-tui).
fn kubectl_create(env: &Env, manifest: &Json) {
    let file = env.dir.path().join(format!(
        "{}.json",
        manifest["metadata"]["name"].as_str().unwrap()
    ));
    std::fs::write(&file, manifest.to_string()).unwrap();
    let o = env.kubectl(&["create", "-f", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

fn create_secret(env: &Env, name: &str, pairs: &[(&str, &str)]) {
    let data: serde_json::Map<String, Json> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
        .collect();
    kubectl_create(
        env,
        &serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}),
    );
}

const PROD: &[&str] = &[
    "new",
    "acme",
    "--preset",
    "production",
    "--yes",
    "--set",
    "externalDatabase.host=db.example.com",
    "--set",
    "externalS3.endpoint=https://s3.example.com",
];

#[test]
fn production_refuses_before_creating_anything_when_a_secret_or_key_is_missing() {
    let env = Env::new();
    kubectl_create(
        &env,
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    );
    let o = env.run(PROD);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("Secret `odoo-db` not found in namespace `shop` (named by externalDatabase.existingSecret)"), "{out}");
    // The suggested command reads the password from a file, never from its command line.
    assert!(
        out.contains(
            "kubectl create secret generic odoo-db -n shop --from-file=password=./password"
        ),
        "{out}"
    );
    assert!(!out.contains("--from-literal"), "{out}");
    assert!(
        env.obj("secrets", "acme-odoo-config").is_none(),
        "nothing may be created"
    );
    assert!(env.obj("serviceaccounts", "acme-odoo").is_none());

    create_secret(&env, "odoo-db", &[("pass", "x")]);
    create_secret(&env, "odoo-s3", &[("access-key", "a"), ("secret-key", "s")]);
    create_secret(&env, "odoo-master", &[("master-password", "m")]);
    create_secret(&env, "odoo-admin", &[("admin-password", "p")]);
    let o = env.run(PROD);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("Secret `odoo-db` in namespace `shop` has no key `password`"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("its keys: pass"), "{}", text(&o));

    env.kubectl(&["delete", "secret", "odoo-db"]);
    create_secret(&env, "odoo-db", &[("password", "x")]);
    let out = text(&env.ok(PROD));
    let d = env.obj("deployments", "acme-odoo-backend").unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    // The admin password is the user's: the end names their Secret.
    assert!(
        out.contains(
            "admin password: in your Secret `odoo-admin` (key `admin-password`) in namespace `shop`"
        ),
        "{out}"
    );
}

#[test]
fn a_foreign_object_of_the_same_name_stops_the_apply_and_force_adopts_it() {
    let env = Env::new();
    kubectl_create(
        &env,
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    );
    kubectl_create(
        &env,
        &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "acme-odoo-nginx"}, "data": {"x": "y"}}),
    );
    let args = [
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "nginx.enabled=true",
    ];
    let o = env.run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("ConfigMap/acme-odoo-nginx already exists in namespace `shop` and it is managed by kubectl-create"), "{out}");
    assert!(env.obj("secrets", "acme-odoo").is_none(), "nothing applied");
    let mut forced = args.to_vec();
    forced.push("--force");
    env.ok(&forced);
    let cm = env.obj("configmaps", "acme-odoo-nginx").unwrap();
    assert!(cm["data"]["nginx.conf"].is_string());
    assert_eq!(
        cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "odoo-tui"
    );
}

#[test]
fn kubectl_scale_is_undone_by_a_rerun() {
    let env = Env::new();
    env.ok(QUICK);
    let o = env.kubectl(&["scale", "deployment/acme-odoo-backend", "--replicas=3"]);
    assert!(o.status.success(), "{}", text(&o));
    env.ok(QUICK);
    assert_eq!(
        env.obj("deployments", "acme-odoo-backend").unwrap()["spec"]["replicas"],
        1
    );
}

#[test]
fn transient_server_errors_and_rate_limits_are_retried() {
    let env = Env::new();
    env.server
        .faults()
        .add(FaultRule::new(Some("patch"), Some("secrets"), FaultAction::Status(500)).times(2));
    env.server.faults().add(
        FaultRule::new(
            Some("patch"),
            Some("deployments"),
            FaultAction::TooManyRequests {
                retry_after_secs: 1,
            },
        )
        .times(2),
    );
    env.ok(QUICK);
    assert!(env.obj("deployments", "acme-odoo-backend").is_some());
}

#[test]
fn forbidden_names_the_context_resource_and_permission() {
    let env = Env::new();
    env.server.faults().forbid("patch", "statefulsets");
    let o = env.run(QUICK);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(
        out.contains(
            "may not patch statefulsets/acme-postgresql in namespace `shop` (403 Forbidden)"
        ),
        "{out}"
    );
    assert!(
        out.contains("permission to `patch` `statefulsets`"),
        "{out}"
    );
}

#[test]
fn a_wrong_token_and_an_unreachable_server_are_clear() {
    let env = Env::start(Config::default().token("right"));
    let kc = std::fs::read_to_string(env.kubeconfig())
        .unwrap()
        .replace("right", "wrong");
    std::fs::write(env.kubeconfig(), kc).unwrap();
    let o = env.run(&["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("refused the credentials (401 Unauthorized)"),
        "{}",
        text(&o)
    );

    env.server.stop();
    let o = env.run(&["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("cannot reach the cluster of context"),
        "{}",
        text(&o)
    );
    // `new` without a reachable cluster fails, and writes the manifests instead.
    let o = env.run(QUICK);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("no reachable cluster"), "{}", text(&o));
    assert!(env.dir.path().join("acme-manifests").is_dir());
}

#[test]
fn works_over_tls_with_the_kubeconfig_ca() {
    let env = Env::start(Config::default().tls(true));
    env.ok(&["new", "acme", "--preset", "local-dev", "--yes"]);
    let o = env.ok(&["list", "-o", "json"]);
    let rows: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["name"], "acme");
}

#[test]
fn list_delete_and_new_reattach_to_the_same_data() {
    let env = Env::new();
    env.ok(QUICK);
    env.ok(&["new", "shop2", "--preset", "local-dev", "--yes"]);
    let o = env.ok(&["list", "-A", "-o", "json"]);
    let rows: Json = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "shop2"]);
    assert_eq!(rows[0]["ready"], "1/1");
    assert_eq!(rows[0]["revision"], 1);

    let db = secret_value(&env.obj("secrets", "acme-odoo").unwrap(), "db-password");
    let o = env.ok(&["delete", "acme"]);
    assert!(text(&o).contains("kept"), "{}", text(&o));
    assert!(env.obj("deployments", "acme-odoo-backend").is_none());
    assert!(env.obj("configmaps", "acme-odoo-odoo-tui").is_none());
    assert!(
        env.obj("persistentvolumeclaims", "data-acme-postgresql-0")
            .is_some()
    );
    assert!(env.obj("secrets", "acme-odoo").is_some());
    env.ok(QUICK);
    assert_eq!(
        secret_value(&env.obj("secrets", "acme-odoo").unwrap(), "db-password"),
        db,
        "the same credentials"
    );

    let o = env.run(&["delete", "acme", "--delete-data"]);
    assert_eq!(o.status.code(), Some(2), "no terminal: needs --yes");
    env.ok(&["delete", "acme", "--delete-data", "--yes"]);
    assert!(
        env.obj("persistentvolumeclaims", "data-acme-postgresql-0")
            .is_none()
    );
    assert!(env.obj("secrets", "acme-odoo").is_none());
    assert!(
        env.obj("deployments", "shop2-odoo-backend").is_some(),
        "other instances are untouched"
    );
}

#[test]
fn a_failing_image_pull_stops_new_with_the_image_and_exit_3() {
    let scenario = Scenario::from_yaml(
        "images:\n  \"ghcr.io/sergio-bershadsky/odoo:18.0-broken\": {pull: fail}\n",
    )
    .unwrap();
    let env = Env::start(Config::default().scenario(scenario));
    let started = std::time::Instant::now();
    let o = env.run(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "backend.image.tag=18.0-broken",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("ghcr.io/sergio-bershadsky/odoo:18.0-broken"),
        "{out}"
    );
    assert!(out.contains("backend.image.tag"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn several_contexts_and_namespaces_in_one_kubeconfig() {
    let env = Env::new();
    let text_kc = std::fs::read_to_string(env.kubeconfig()).unwrap();
    let mut kc: Json = serde_saphyr::from_str(&text_kc).unwrap();
    let mut ctx2 = kc["contexts"][0].clone();
    ctx2["name"] = "other".into();
    ctx2["context"]["namespace"] = "team-b".into();
    kc["contexts"].as_array_mut().unwrap().push(ctx2);
    std::fs::write(env.kubeconfig(), serde_saphyr::to_string(&kc).unwrap()).unwrap();
    env.ok(&[
        "--context",
        "other",
        "new",
        "acme",
        "--preset",
        "local-dev",
        "--yes",
    ]);
    assert!(
        env.server
            .object("deployments", "team-b", "acme-odoo-backend")
            .is_some()
    );
    env.ok(&[
        "-n",
        "team-c",
        "new",
        "acme",
        "--preset",
        "local-dev",
        "--yes",
    ]);
    assert!(
        env.server
            .object("deployments", "team-c", "acme-odoo-backend")
            .is_some()
    );
    let o = env.run(&["--context", "nope", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("context `nope` is not in the kubeconfig"),
        "{}",
        text(&o)
    );
}

#[test]
fn dry_run_stores_nothing_and_shows_what_would_change() {
    let env = Env::new();
    let o = env.ok(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--dry-run",
    ]);
    assert!(text(&o).contains("nothing was stored"), "{}", text(&o));
    assert!(env.obj("deployments", "acme-odoo-backend").is_none());
    assert!(env.obj("secrets", "acme-odoo").is_none());
    env.ok(QUICK);
    let before = env.server.resource_version();
    let o = env.ok(&[
        "new",
        "acme",
        "--yes",
        "--dry-run",
        "--set",
        "backend.replicaCount=3",
    ]);
    let diff = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        diff.contains("# Deployment/acme-odoo-backend (configured)"),
        "{diff}"
    );
    assert!(
        diff.contains("-  replicas: 1") && diff.contains("+  replicas: 3"),
        "{diff}"
    );
    assert!(
        !diff.contains("db-password: c"),
        "no Secret value in a diff"
    );
    assert_eq!(
        env.server.resource_version(),
        before,
        "a dry run writes nothing"
    );
}

#[test]
fn verbose_prints_every_request_and_the_decisions_never_a_secret() {
    const TOKEN: &str = "t0ken-never-printed";
    let env = Env::start(Config::default().token(TOKEN));
    env.ok(&["new", "acme", "--preset", "quick-start", "--yes"]);
    let secrets: Vec<String> = ["db-password", "s3-secret-key"]
        .iter()
        .map(|k| secret_value(&env.obj("secrets", "acme-odoo").unwrap(), k))
        .collect();

    // -v: one line per request the server saw, with method, path, status and time.
    env.server.reset_requests();
    let o = env.ok(&["-v", "list"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let mut logged: Vec<String> = err
        .lines()
        .filter_map(|l| l.strip_prefix("api: "))
        .map(|l| {
            let (rest, ms) = l.rsplit_once(' ').unwrap();
            assert!(
                ms.ends_with("ms") && ms[..ms.len() - 2].parse::<u64>().is_ok(),
                "{l}"
            );
            rest.to_string()
        })
        .collect();
    let mut seen: Vec<String> = env
        .server
        .requests()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    logged.sort();
    seen.sort();
    assert!(!seen.is_empty());
    assert_eq!(logged, seen, "{err}");
    // Without -v, none of it.
    let quiet = env.ok(&["list"]);
    assert!(!text(&quiet).contains("api: "));

    // The decisions of a re-run: waves, Jobs skipped, a changed Job recreated.
    let o = env.ok(&[
        "-vv",
        "new",
        "acme",
        "--yes",
        "--set",
        "backend.smokeCheck.activeDeadlineSeconds=121",
    ]);
    let out = text(&o);
    assert!(out.contains("apply: wave 1/"), "{out}");
    assert!(
        out.contains("apply: Job/acme-odoo-init skipped: same spec, not failed"),
        "{out}"
    );
    assert!(
        out.contains("apply: Job/acme-odoo-smoke-check recreated: its spec changed"),
        "{out}"
    );
    assert!(out.contains("labelSelector="), "-vv shows queries:\n{out}");
    for secret in secrets.iter().map(String::as_str).chain([TOKEN]) {
        assert!(!out.contains(secret), "a credential was printed:\n{out}");
    }
}

/// Samples the server every 10 ms while `run` runs: `sample` of each moment.
fn sampling<T: Send, O>(
    env: &Env,
    sample: impl Fn(&Env) -> T + Sync,
    run: impl FnOnce() -> O,
) -> (O, Vec<T>) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut out = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                out.push(sample(env));
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            out
        });
        let o = run();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (o, sampler.join().unwrap())
    })
}

/// Pods of a component that have not ended.
fn live_pods(env: &Env, component: &str) -> usize {
    env.server
        .objects("pods", NS)
        .iter()
        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/component"] == component)
        .filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        .count()
}

fn maintenance_on(env: &Env) -> bool {
    env.obj("configmaps", "acme-odoo-nginx")
        .and_then(|c| c["data"]["nginx.conf"].as_str().map(str::to_string))
        .is_some_and(|c| c.contains("# Maintenance: everything gets the maintenance page."))
}

fn data_claim(workload: &Json) -> Option<String> {
    workload["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == "data")
        .and_then(|v| v["persistentVolumeClaim"]["claimName"].as_str())
        .map(str::to_string)
}

#[test]
fn turning_s3_on_copies_the_files_with_the_backend_stopped_then_drops_the_pvc() {
    let env = Env::start(Config::default().scenario(
        Scenario::from_yaml(
            "pods:\n  - selector: {app.kubernetes.io/component: storage-init}\n    exitCode: 0\n    runSeconds: 20\n",
        )
        .unwrap(),
    ));
    env.ok(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "minio.enabled=false",
        "--set",
        "nginx.enabled=true",
    ]);
    let backend = env.obj("deployments", "acme-odoo-backend").unwrap();
    assert_eq!(
        data_claim(&backend).as_deref(),
        Some("acme-odoo-backend-data")
    );

    // While a Job that moves the files runs: how many backend pods, and the page.
    let (o, samples) = sampling(
        &env,
        |env| {
            let moving = live_pods(env, "init") + live_pods(env, "storage-init") > 0;
            (moving, live_pods(env, "backend"), maintenance_on(env))
        },
        || env.run(&["new", "acme", "--yes", "--set", "minio.enabled=true"]),
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("the filestore moves to S3"), "{out}");
    let during: Vec<_> = samples.iter().filter(|(moving, _, _)| *moving).collect();
    assert!(
        !during.is_empty(),
        "storage-init was never seen running:\n{out}"
    );
    assert!(
        during
            .iter()
            .all(|(_, backend, page)| *backend == 0 && *page),
        "a backend pod ran, or the page was off, while the files moved: {during:?}\n{out}"
    );
    // The Jobs that move the files mounted the PVC; the backend now runs without it.
    for job in ["acme-odoo-init", "acme-odoo-storage-init"] {
        let j = env.obj("jobs", job).unwrap();
        assert_eq!(
            data_claim(&j).as_deref(),
            Some("acme-odoo-backend-data"),
            "{job}"
        );
    }
    let backend = env.obj("deployments", "acme-odoo-backend").unwrap();
    assert_eq!(data_claim(&backend), None);
    assert_eq!(backend["status"]["readyReplicas"], 1);
    assert!(!maintenance_on(&env));
    // The PVC itself is kept.
    assert!(
        env.obj("persistentvolumeclaims", "acme-odoo-backend-data")
            .is_some()
    );

    // Done once: a re-run does not stop the backend again.
    let scaled = env.server.count("patch", "deployments/scale");
    let again = text(&env.ok(&["new", "acme", "--yes"]));
    assert!(!again.contains("the filestore moves to S3"), "{again}");
    assert_eq!(env.server.count("patch", "deployments/scale"), scaled);

    // Turning S3 off again is refused, before anything changes (but the lock).
    let before = env.server.counters();
    let o = env.run(&["new", "acme", "--yes", "--set", "minio.enabled=false"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("refusing to turn the S3 filestore of `acme` off"),
        "{out}"
    );
    assert!(out.contains("keep S3 on"), "{out}");
    let writes: Vec<_> = env
        .server
        .counters()
        .into_iter()
        .filter(|((verb, resource), n)| {
            matches!(verb.as_str(), "create" | "patch" | "update" | "delete")
                && resource != "leases"
                && before.get(&(verb.clone(), resource.clone())) != Some(n)
        })
        .collect();
    assert!(writes.is_empty(), "{writes:?}\n{out}");
}

// ---------------------------------------------------------------------------------------
// Kubeconfig hygiene

/// The test server's kubeconfig with its user's credentials from `user` (YAML lines
/// under `user:`) and the cluster's TLS settings from `cluster` when given.
fn kubeconfig_with(env: &Env, user: &str, cluster: Option<&str>) {
    let base = env.server.kubeconfig(NS);
    let mut out = String::new();
    let mut lines = base.lines().peekable();
    while let Some(l) = lines.next() {
        out.push_str(l);
        out.push('\n');
        if l == "  user:" {
            // Replace the user's fields.
            while lines.peek().is_some_and(|n| n.starts_with("    ")) {
                lines.next();
            }
            out.push_str(user);
        }
        if l == "  cluster:"
            && let Some(c) = cluster
        {
            while lines.peek().is_some_and(|n| n.starts_with("    ")) {
                let n = lines.next().unwrap();
                if n.starts_with("    server:") {
                    out.push_str(n);
                    out.push('\n');
                }
            }
            out.push_str(c);
        }
    }
    std::fs::write(env.kubeconfig(), out).unwrap();
}

#[test]
fn a_failing_exec_plugin_is_named_without_its_arguments_env_or_output() {
    let env = Env::new();
    let plugin = env.dir.path().join("get-token");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"partial\": \"STDOUT-S3CRET\"}'\necho 'error: your session expired, run: corp-login' >&2\nexit 7\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    kubeconfig_with(
        &env,
        &format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args: [\"--client-secret\", \"ARG-S3CRET\"]\n      env: [{{name: CORP_TOKEN, value: ENV-S3CRET}}]\n      interactiveMode: Never\n",
            plugin.display()
        ),
        None,
    );
    for args in [
        &["status", "acme", "--once"][..],
        &["-vv", "list"],
        &["new", "acme", "--preset", "local-dev", "--yes"],
    ] {
        let o = env.run(args);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {out}");
        for secret in [
            "ARG-S3CRET",
            "ENV-S3CRET",
            "STDOUT-S3CRET",
            "--client-secret",
        ] {
            assert!(!out.contains(secret), "{args:?} printed {secret}: {out}");
        }
        assert!(
            out.contains("exec credential plugin of the kubeconfig's user exited with 7")
                && out.contains("error: your session expired, run: corp-login"),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn a_kubeconfig_skipping_tls_verification_gets_one_warning() {
    let env = Env::start(Config::default().tls(true));
    kubeconfig_with(
        &env,
        "    username: test\n",
        Some("    insecure-skip-tls-verify: true\n"),
    );
    let o = env.ok(&["new", "acme", "--preset", "local-dev", "--yes"]);
    let warning =
        "warning: context `test-apiserver` skips TLS verification (insecure-skip-tls-verify)";
    assert_eq!(text(&o).matches(warning).count(), 1, "{}", text(&o));
    let o = env.ok(&["list"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).matches(warning).count(),
        1
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains(warning),
        "stderr only"
    );
    // With the CA, no warning.
    env.server.write_kubeconfig(env.kubeconfig(), NS).unwrap();
    let o = env.ok(&["list"]);
    assert!(!text(&o).contains("skips TLS verification"), "{}", text(&o));
}

#[test]
fn prune_never_deletes_a_running_job_and_deletes_an_ended_one_by_uid() {
    let env = Env::start(
        Config::default().scenario(
            Scenario::from_yaml(
                "pods:\n  - selector: {app.kubernetes.io/component: smoke-check}\n    exitCode: 0\n    runSeconds: 600\n",
            )
            .unwrap(),
        ),
    );
    // The smoke check outlives the install's --timeout: its Job still runs.
    let o = env.run(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "backend.smokeCheck.activeDeadlineSeconds=3600",
        "--timeout",
        "6s",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let job = |env: &Env| env.obj("jobs", "acme-odoo-smoke-check");
    let uid = job(&env).expect("the smoke check Job")["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let deletes = |env: &Env| env.server.count("delete", "jobs");
    let before = deletes(&env);

    // Turned off while it runs: prune leaves it alone and says so.
    let off = [
        "new",
        "acme",
        "--yes",
        "--set",
        "backend.smokeCheck.enabled=false",
    ];
    let o = env.ok(&off);
    let out = text(&o);
    assert!(
        out.contains("Job/acme-odoo-smoke-check is no longer configured but still running"),
        "{out}"
    );
    assert_eq!(job(&env).unwrap()["metadata"]["uid"], uid.as_str());
    assert_eq!(deletes(&env), before, "{out}");

    // Once it has ended, the next apply prunes it.
    let ended = |j: &Json| {
        j["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Complete" && c["status"] == "True")
    };
    let t = std::time::Instant::now();
    while !job(&env).as_ref().is_some_and(ended) {
        assert!(t.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let o = env.ok(&off);
    assert!(job(&env).is_none(), "{}", text(&o));
    assert_eq!(deletes(&env), before + 1);
}
