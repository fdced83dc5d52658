//! Saying why: a Job's failed attempt shown at once with its log tail and cause, events
//! and reasons scoped to the instance, and the `credentials` and `logs` commands — the
//! real binary against the project's Kubernetes API test server on loopback.

mod common;
use common::{Env, NS, text};
use test_apiserver::{Config, Scenario};

const QUICK: &[&str] = &["new", "acme", "--preset", "quick-start", "--yes"];

const PASSWORD_FAILED: &str = "psycopg2.OperationalError: connection to server at \\\"acme-postgresql\\\" (10.96.0.12), port 5432 failed: FATAL:  password authentication failed for user \\\"odoo\\\"";

/// A server slow enough (scenario time × 0.1) that a Job's back-off between attempts
/// (10 s, then 20 s of scenario time) leaves the attempts apart.
fn env_with(scenario: &str) -> Env {
    Env::with(
        Config::default()
            .time_scale(0.1)
            .scenario(Scenario::from_yaml(scenario).unwrap()),
    )
}

#[test]
fn a_failed_attempt_that_retrying_cannot_fix_stops_new_at_once_with_its_log_and_cause() {
    // Every attempt would fail the same way: a wrong password does not heal.
    let env = env_with(&format!(
        "pods:\n  - selector: {{app.kubernetes.io/component: storage-init}}\n    container: storage-init\n    exitCode: 1\n    logs: [\"2026-05-04 10:04:29,915 7 ERROR ? odoo.sql_db: Connection to the database failed\", \"{PASSWORD_FAILED}\"]\n"
    ));
    let o = env.run(QUICK);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    // Stopped at a failed attempt, not after the Job's back-off ran out.
    let job = env.obj("jobs", "acme-odoo-storage-init").unwrap();
    assert!(
        !job["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Failed"),
        "the Job had already failed: {job}\n{out}"
    );
    assert!(
        out.contains("attempt 1 of 3 failed: container storage-init exited with code 1")
            || out.contains("attempt 2 of 3 failed: container storage-init exited with code 1"),
        "{out}"
    );
    assert!(
        out.contains(
            "cause:     PostgreSQL refused the password of user \"odoo\" (retrying cannot fix it)"
        ),
        "{out}"
    );
    assert!(
        out.contains("next step: put user \"odoo\"'s password in the database Secret"),
        "{out}"
    );
    assert!(
        out.contains("password authentication failed for user \"odoo\""),
        "the log tail is shown: {out}"
    );
    // The tail was read once per failed container run, never polled.
    let reads = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.resource == "pods/log" && r.name.starts_with("acme-odoo-storage-init"))
        .count();
    let attempts = env
        .server
        .objects("pods", NS)
        .iter()
        .filter(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("acme-odoo-storage-init")
        })
        .count();
    assert!(
        reads >= 1 && reads <= attempts,
        "{reads} reads for {attempts} attempts"
    );
}

#[test]
fn a_failed_attempt_of_unknown_cause_is_shown_with_its_tail_and_the_retry_is_waited_for() {
    let env = env_with(
        "pods:\n  - selector: {app.kubernetes.io/component: storage-init}\n    container: storage-init\n    attempts:\n      - exitCode: 2\n        logs: [\"Traceback (most recent call last):\", \"KeyError: 'fs.storage'\"]\n      - runSeconds: 5\n        logs: [\"storage ready\"]\n",
    );
    let o = env.run(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "-o",
        "json",
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let failing = lines
        .iter()
        .find(|v| {
            v["component"] == "storage-init" && v["phase"] == "Failing" && v["log_tail"].is_array()
        })
        .unwrap_or_else(|| panic!("no failing line with its tail: {out}"));
    assert_eq!(failing["reason"], "Error");
    assert_eq!(failing["terminal"], false);
    assert_eq!(failing["exit_code"], 2);
    assert_eq!(failing["attempt"]["number"], 1);
    assert_eq!(failing["attempt"]["of"], 3);
    assert!(
        failing["next_step"]
            .as_str()
            .unwrap()
            .starts_with("the Job tries again")
    );
    assert_eq!(
        failing["log_tail"].as_array().unwrap().last().unwrap(),
        "KeyError: 'fs.storage'"
    );
    // Then the second attempt ran and the install completed.
    assert!(
        lines
            .iter()
            .any(|v| v["component"] == "storage-init" && v["phase"] == "Succeeded"),
        "{out}"
    );
}

#[test]
fn plain_lines_carry_the_attempt_the_cause_and_the_tail() {
    let env = env_with(
        "pods:\n  - selector: {app.kubernetes.io/component: storage-init}\n    container: storage-init\n    attempts:\n      - exitCode: 2\n        logs: [\"Traceback (most recent call last):\", \"KeyError: 'fs.storage'\"]\n      - runSeconds: 5\n",
    );
    let o = env.run(QUICK);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("storage-init       Failing     0/1  Error (transient): attempt 1 of 3 failed: container storage-init exited with code 2; the Job tries again"),
        "{out}"
    );
    assert!(out.contains("    | KeyError: 'fs.storage'"), "{out}");
}

/// An Event about an object of another instance, as a controller records it.
fn event_about(env: &Env, i: usize, kind: &str, name: &str) {
    env.server
        .create_object(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{name}.{i:08x}"), "namespace": NS},
            "involvedObject": {"apiVersion": "batch/v1", "kind": kind, "name": name, "namespace": NS, "uid": format!("0000-other-{i}")},
            "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit",
            "type": "Warning",
            "source": {"component": "job-controller"},
            "count": 1,
        }))
        .unwrap();
}

#[test]
fn status_reads_only_the_events_of_its_own_objects_in_trouble() {
    let scenario = Scenario::from_yaml(
        "images:\n  \"ghcr.io/sergio-bershadsky/odoo:18.0-gone\": {pull: fail}\n",
    )
    .unwrap();
    let env = Env::start(Config::default().scenario(scenario));
    env.ok(&["new", "acme", "--preset", "local-dev", "--yes"]);
    let o = env.run(&[
        "new",
        "other",
        "--preset",
        "local-dev",
        "--yes",
        "--set",
        "backend.image.tag=18.0-gone",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    for i in 0..500 {
        event_about(&env, i, "Job", &format!("other-odoo-backup-{i}"));
    }

    // A ready instance needs no Event at all.
    env.server.reset_requests();
    let o = env.run(&["status", "acme", "--once", "-o", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let events: Vec<_> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.resource == "events")
        .collect();
    assert!(events.is_empty(), "{events:?}");

    // One in trouble reads the Events of the objects in trouble, by uid.
    env.server.reset_requests();
    let o = env.run(&["status", "other", "--once", "-o", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        ["ErrImagePull", "ImagePullBackOff"].contains(&st["failure"]["reason"].as_str().unwrap()),
        "{st}"
    );
    let failing = st["failure"]["object"].as_str().unwrap();
    let pod = env
        .obj("pods", failing.strip_prefix("Pod/").unwrap())
        .unwrap_or_else(|| panic!("{failing}"));
    let selector = format!(
        "involvedObject.uid={}",
        pod["metadata"]["uid"].as_str().unwrap()
    );
    let events: Vec<_> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.resource == "events")
        .collect();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|r| r.field_selector == selector),
        "{events:?}"
    );
}

fn secret_value(env: &Env, name: &str, key: &str) -> String {
    use base64::Engine;
    let s = env.obj("secrets", name).expect("the Secret exists");
    let b = s["data"][key].as_str().expect("the key is there");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
}

#[test]
fn credentials_prints_the_generated_passwords_on_request_only() {
    let env = Env::new();
    env.ok(QUICK);
    let admin = secret_value(&env, "acme-odoo-config", "admin-password");
    // No terminal to confirm on, and JSON for programs: both need --yes.
    for args in [
        &["credentials", "acme"][..],
        &["credentials", "acme", "-o", "json"][..],
    ] {
        let o = env.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("--yes"), "{}", text(&o));
        assert!(!text(&o).contains(&admin));
    }
    let o = env.ok(&["credentials", "--yes"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out, format!("login: admin\nadmin password: {admin}\n"));

    let o = env.ok(&["credentials", "acme", "--all", "--yes", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["login"], "admin");
    assert_eq!(v["admin_password"], admin.as_str());
    assert_eq!(
        v["database_password"],
        secret_value(&env, "acme-odoo", "db-password").as_str()
    );
    assert_eq!(
        v["minio_root_password"],
        secret_value(&env, "acme-odoo", "s3-secret-key").as_str()
    );
    let conf = secret_value(&env, "acme-odoo-config", "odoo.conf");
    let master = conf
        .lines()
        .find_map(|l| l.strip_prefix("admin_passwd = "))
        .unwrap();
    assert_eq!(v["master_password"], master);
}

#[test]
fn credentials_names_the_users_own_secret_and_never_reads_it() {
    let env = Env::new();
    env.server
        .create_object(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS},
        }))
        .unwrap();
    env.server
        .create_object(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "my-admin", "namespace": NS},
            "stringData": {"admin-password": "Users-Own-Value-1"},
        }))
        .unwrap();
    env.ok(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "backend.initDb.existingSecret=my-admin",
    ]);
    env.server.reset_requests();
    let o = env.ok(&["credentials", "acme", "--yes"]);
    let out = text(&o);
    assert!(!out.contains("Users-Own-Value-1"), "{out}");
    assert!(
        out.contains("admin password: in your Secret `my-admin` (key `admin-password`, named by backend.initDb.existingSecret) in namespace `shop` — odoo-tui does not print it"),
        "{out}"
    );
    assert!(
        !env.server
            .requests()
            .iter()
            .any(|r| r.resource == "secrets" && r.name == "my-admin"),
        "the user's Secret was read"
    );
    let o = env.ok(&["credentials", "acme", "--yes", "--all", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["admin_password"],
        serde_json::json!({"secret": "my-admin", "key": "admin-password"})
    );
    assert!(v["master_password"].is_string());
}

#[test]
fn logs_prints_every_pod_of_a_component_prefixed_and_terminal_safe() {
    let env = env_with(
        "pods:\n  - selector: {app.kubernetes.io/component: backend}\n    container: backend\n    logs: [\"odoo.service.server: HTTP service (werkzeug) running on 0.0.0.0:8069\", \"\\e]0;owned\\a\\e[2Jcleared\"]\n  - selector: {app.kubernetes.io/component: init}\n    container: init\n    logs: [\"odoo.modules.loading: 12 modules loaded\"]\n",
    );
    env.ok(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--yes",
        "--set",
        "backend.replicaCount=2",
    ]);
    let o = env.ok(&["logs", "acme"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let backend_pods: Vec<String> = env
        .server
        .objects("pods", NS)
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .filter(|n| n.starts_with("acme-odoo-backend-"))
        .collect();
    assert_eq!(backend_pods.len(), 2);
    for p in &backend_pods {
        assert!(
            out.contains(&format!(
                "[{p}/backend] odoo.service.server: HTTP service (werkzeug) running on 0.0.0.0:8069"
            )),
            "{out}"
        );
    }
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("cleared"), "{out}");
    // A Job component by its name alone (the namespace's only instance).
    let o = env.ok(&["logs", "init"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.lines().any(|l| l.starts_with("[acme-odoo-init-")
            && l.ends_with("/init] odoo.modules.loading: 12 modules loaded")),
        "{out}"
    );
    let o = env.run(&["logs", "acme", "odoo"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("one of: postgresql, minio"),
        "{}",
        text(&o)
    );
}

#[test]
fn logs_follows_a_job_until_it_is_done_and_reads_previous_runs() {
    let env = env_with(
        "pods:\n  - selector: {app.kubernetes.io/component: smoke-check}\n    logs: [\"GET /web/login 200\"]\n    runSeconds: 3\n  - selector: {app.kubernetes.io/component: backend}\n    container: backend\n    attempts:\n      - crash: {afterSeconds: 0.5, exitCode: 1, logs: [\"first run: Traceback\"]}\n      - logs: [\"second run\"]\n",
    );
    env.ok(&["new", "acme", "--preset", "quick-start", "--yes"]);
    // The smoke check is done: -f prints its lines and ends with the Job.
    let o = env.ok(&["logs", "acme", "smoke-check", "-f"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("GET /web/login 200"), "{out}");
    let o = env.ok(&["logs", "acme", "--previous"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("/backend] first run: Traceback"), "{out}");
    assert!(!out.contains("second run"), "{out}");
    let o = env.run(&["logs", "acme", "-f", "--previous"]);
    assert_eq!(o.status.code(), Some(2));
}
