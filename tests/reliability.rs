//! Reliability: faults during `new` and `status`, a process killed between waves, bad
//! input of every kind, and a property test of values and `--set` into the renderer.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use test_apiserver::{Config, FaultAction, FaultRule, Scenario};

mod common;
use common::{Env, NS, text};

fn secret_of(env: &Env, name: &str) -> serde_json::Value {
    env.obj("secrets", name)
        .unwrap_or_else(|| panic!("secret {name}"))
}

const QUICK: &[&str] = &["new", "acme", "--preset", "quick-start", "--yes"];

#[test]
fn new_converges_through_500s_429s_cut_watches_and_latency() {
    let env = Env::with(Config::default().time_scale(0.02));
    let f = env.server.faults();
    f.add(FaultRule::new(Some("patch"), None, FaultAction::Status(500)).times(3));
    f.add(
        FaultRule::new(
            Some("get"),
            Some("secrets"),
            FaultAction::TooManyRequests {
                retry_after_secs: 1,
            },
        )
        .times(2),
    );
    f.add(FaultRule::new(Some("list"), None, FaultAction::Status(503)).times(2));
    f.cut_watches_after_events(Some(3));
    f.set_latency(Duration::from_millis(20));
    let o = env.run(QUICK);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        env.server
            .object("deployments", NS, "acme-odoo-backend")
            .is_some()
    );
    assert_eq!(
        env.server
            .object("configmaps", NS, "acme-odoo-odoo-tui")
            .unwrap()["data"]["revision"],
        "1"
    );
}

#[test]
fn two_seconds_of_latency_per_request_still_completes() {
    let env = Env::with(Config::default().time_scale(0.01));
    env.server.faults().set_latency(Duration::from_secs(2));
    let o = env.run(&["status", "--once", "acme"]);
    // No instance yet: a clear answer, not a hang or a panic.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    env.server.faults().set_latency(Duration::ZERO);
}

#[test]
fn a_403_on_one_resource_stops_with_the_permission_and_nothing_half_owned() {
    let env = Env::with(Config::default().time_scale(0.02));
    env.server.faults().forbid("patch", "jobs");
    let o = env.run(QUICK);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("permission to `patch` `jobs`"),
        "{}",
        text(&o)
    );
    // No record points at objects that do not exist: it is written last.
    assert!(
        env.server
            .object("configmaps", NS, "acme-odoo-odoo-tui")
            .is_none()
    );
    let db = secret_of(&env, "acme-odoo")["data"]["db-password"].clone();
    env.server.faults().clear();
    let o = env.run(QUICK);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        secret_of(&env, "acme-odoo")["data"]["db-password"],
        db,
        "no Secret rotated"
    );
    assert!(
        env.server
            .object("configmaps", NS, "acme-odoo-odoo-tui")
            .is_some()
    );
}

#[test]
fn killed_between_waves_then_rerun_converges_without_losing_anything() {
    // Slow databases: the process is killed while it waits for them (between waves).
    let scenario = Scenario::from_yaml("pods:\n  - selector: {app.kubernetes.io/component: postgresql}\n    readyAfterSeconds: 60\n").unwrap();
    let env = Env::with(Config::default().time_scale(0.05).scenario(scenario));
    let mut child = env
        .cmd(QUICK)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while env
        .server
        .object("statefulsets", NS, "acme-postgresql")
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the install never reached the databases wave"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        env.server
            .object("deployments", NS, "acme-odoo-backend")
            .is_none(),
        "later waves not applied"
    );
    assert!(
        env.server
            .object("configmaps", NS, "acme-odoo-odoo-tui")
            .is_none(),
        "no record yet"
    );
    let secret = secret_of(&env, "acme-odoo");
    let config = secret_of(&env, "acme-odoo-config");

    env.server.set_scenario(Scenario::default());
    // The killed run's lock is still there (it expires 60 s after its last renewal):
    // the re-run says so, and takes it with --force-unlock.
    let o = env.run(QUICK);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("is busy: `new acme`"), "{}", text(&o));
    let o = env.run(&[QUICK, &["--force-unlock"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        secret_of(&env, "acme-odoo")["data"],
        secret["data"],
        "credentials kept"
    );
    assert_eq!(
        secret_of(&env, "acme-odoo-config")["data"]["admin-password"],
        config["data"]["admin-password"]
    );
    assert!(
        env.server
            .object("persistentvolumeclaims", NS, "data-acme-postgresql-0")
            .is_some()
    );
    assert_eq!(
        env.server
            .object("configmaps", NS, "acme-odoo-odoo-tui")
            .unwrap()["data"]["revision"],
        "1"
    );
}

#[test]
fn status_once_survives_server_errors() {
    let env = Env::with(Config::default().time_scale(0.02));
    assert!(env.run(QUICK).status.success());
    env.server
        .faults()
        .add(FaultRule::new(Some("list"), Some("pods"), FaultAction::Status(500)).times(2));
    let o = env.run(&["status", "acme", "--once"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("READY"));
}

/// Bad kubeconfigs: one clear message and a non-zero exit each.
#[test]
fn bad_kubeconfigs_give_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("empty"), "").unwrap();
    std::fs::write(p("garbage"), "this: [is not a kubeconfig").unwrap();
    std::fs::write(
        p("unreachable"),
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        ("missing", &[], "does not exist"),
        ("empty", &[], "current context"),
        ("garbage", &[], "cannot read kubeconfig"),
        (
            "unreachable",
            &["--context", "nope"],
            "context `nope` is not in the kubeconfig",
        ),
        (
            "unreachable",
            &[],
            "cannot reach the cluster of context `c`",
        ),
    ];
    for (file, extra, expected) in cases {
        let mut args = vec!["--kubeconfig", p(file).to_str().unwrap().to_string().leak()];
        args.extend_from_slice(extra);
        args.push("list");
        let o = Command::new(env!("CARGO_BIN_EXE_odoo-tui"))
            .args(&args)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{file}: {t}");
        assert!(t.contains(expected), "{file}: {t}");
        assert!(!t.contains("panicked"), "{file}: {t}");
        assert_eq!(
            t.trim().lines().count(),
            1,
            "{file}: one message, got:\n{t}"
        );
    }
}

/// Malformed values files and `--set` strings: a clean error or a valid render, never a panic.
#[test]
fn malformed_values_never_panic() {
    let docs = [
        "backend: 3",
        "backend:\n  image: [a, b]",
        "[1, 2, 3]",
        "key: &a [*a]",
        "backend:\n  replicaCount: 99999999999999999999999",
        "backend:\n  resources:\n    limits: {memory: -1}",
        "ingress:\n  enabled: true\n  hosts: [{host: 'a b'}]",
        "ingress:\n  enabled: true\n  hosts: [{nope: 1}]",
        "backend:\n  env: [{name: X, valueFrom: {secretKeyRef: 3}}]",
        "\t\tbad indent",
        "backend:\n  odoo:\n    workers: -5",
        "nginx: {enabled: true, cors: {enabled: true, origins: ['not a url']}}",
    ];
    for doc in docs {
        let r = odoo_tui::values::Source::yaml("f.yaml", doc)
            .and_then(|s| odoo_tui::values::load(&[s]));
        if let Err(e) = r {
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains("panicked"), "{doc}: {msg}");
        }
    }
}

fn set_string() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "backend.replicaCount",
        "backend.odoo.workers",
        "backend.image.tag",
        "backend.service.ports.http",
        "postgresql.enabled",
        "postgresql.persistence.size",
        "minio.enabled",
        "nginx.enabled",
        "nginx.domains.public.host",
        "ingress.enabled",
        "ingress.hosts[0].host",
        "backend.resources.limits.memory",
        "backend.autoUpgrade.modules",
        "networkPolicy.enabled",
        "frontend.enabled",
        "nameOverride",
        "fullnameOverride",
        "backend.pdb.minAvailable",
    ]);
    let values = prop::sample::select(vec![
        "true",
        "false",
        "0",
        "1",
        "2",
        "-1",
        "70000",
        "512Mi",
        "1Gi",
        "x",
        "",
        "{a,b}",
        "{}",
        "odoo.example.com",
        "18.0-1",
        "latest",
        "null",
        "a.b",
        "Ünïcode",
    ]);
    (keys, values).prop_map(|(k, v)| format!("{k}={v}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any combination of --set strings either is refused with a message or renders
    /// objects that round-trip through their Kubernetes types.
    #[test]
    fn set_strings_into_the_renderer(sets in prop::collection::vec(set_string(), 0..6), raw in "[a-z.\\[\\]0-9={},]{0,30}") {
        let mut sources = Vec::new();
        for s in sets.iter().chain(std::iter::once(&raw)) {
            match odoo_tui::values::Source::set(s) {
                Ok(src) => sources.push(src),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
        if let Ok(loaded) = odoo_tui::values::load(&sources)
            && odoo_tui::values::validate::validate_release("acme", &loaded.values).is_ok()
        {
            let creds = odoo_tui::credentials::generate(&odoo_tui::render::needed_credentials(&loaded.values));
            let input = odoo_tui::render::RenderInput { release: "acme", namespace: "ns", values: &loaded.values, credentials: &creds };
            let objs = odoo_tui::render::render(&input).expect("a validated configuration renders");
            for o in objs {
                let back = odoo_tui::render::Object::from_json(o.to_json()).unwrap();
                prop_assert_eq!(back, o);
            }
        }
    }
}
