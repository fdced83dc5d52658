//! One operation per instance: the Lease lock, with two real `odoo-tui` processes against
//! one test API server (a second command refuses naming the holder; Ctrl-C and the end
//! give the lock back; a killed holder's lock refuses until it expires, then is taken
//! over; `--force-unlock`), and the renewal through the library.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use test_apiserver::{Config, Scenario};

mod common;
use common::{Env, NS, text};

const LEASE: &str = "acme-odoo-tui-lock";
const QUICK: &[&str] = &["new", "acme", "--preset", "quick-start", "--yes"];

/// Databases that take long to get ready: `new` waits in its third wave.
fn slow_databases() -> Env {
    let scenario = Scenario::from_yaml(
        "pods:\n  - selector: {app.kubernetes.io/component: postgresql}\n    readyAfterSeconds: 2000\n",
    )
    .unwrap();
    Env::with(Config::default().time_scale(0.05).scenario(scenario))
}

fn lease(env: &Env) -> Option<Json> {
    env.server.object("leases", NS, LEASE)
}

/// Start `args` in the background and wait until it holds the lock of `acme`.
fn start_holding(env: &Env, args: &[&str]) -> Child {
    let log = env.dir.path().join("holder.log");
    let mut child = env
        .cmd(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lease(env).is_none() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{args:?} ended before taking the lock:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(Instant::now() < deadline, "{args:?} never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        assert!(Instant::now() < deadline, "the process did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_command_refuses_at_once_naming_the_holder_and_ctrl_c_gives_the_lock_back() {
    let env = slow_databases();
    let mut first = start_holding(&env, QUICK);
    let held = lease(&env).unwrap();
    let pid = first.id().to_string();
    assert_eq!(held["spec"]["leaseDurationSeconds"], 60);
    assert!(
        held["spec"]["holderIdentity"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{pid}")),
        "{held}"
    );
    assert_eq!(
        held["metadata"]["annotations"]["odoo-tui.io/command"],
        "new acme"
    );

    for args in [
        QUICK,
        &["upgrade", "acme", "--modules", "sale", "--yes"],
        &["backup", "acme"],
        &["delete", "acme", "--delete-data", "--yes"],
    ] {
        let o = env.run(args);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {out}");
        assert!(
            out.contains(&format!(
                "instance `acme` is busy: `new acme` (pid {pid} on "
            )) && out.contains("holds its lock since")
                && out.contains("--force-unlock"),
            "{args:?}: {out}"
        );
        // It did not wait for the holder: that one is still at work.
        assert!(first.try_wait().unwrap().is_none(), "{args:?}");
    }
    // The refused commands changed nothing: no second Secret, nothing deleted.
    assert!(env.obj("secrets", "acme-odoo").is_some());
    assert!(env.obj("statefulsets", "acme-postgresql").is_some());

    // Ctrl-C: the holder finishes its step, gives the lock back and exits 130.
    signal(&first, "-INT");
    assert_eq!(wait_exit(&mut first), Some(130));
    assert!(lease(&env).is_none(), "the lock was given back");

    // Now the next command runs, and gives the lock back at its end (the slow database
    // pod is replaced by one that starts at once).
    env.server.set_scenario(Scenario::default());
    let o = env.kubectl(&["delete", "pod", "acme-postgresql-0", "--wait=false"]);
    assert!(o.status.success(), "{}", text(&o));
    env.ok(QUICK);
    assert!(lease(&env).is_none(), "released at the end");
}

#[test]
fn a_killed_holder_keeps_the_lock_until_it_expires_and_force_unlock_takes_it() {
    let env = slow_databases();
    let mut first = start_holding(&env, QUICK);
    let pid = first.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.obj("statefulsets", "acme-postgresql").is_none() {
        assert!(
            Instant::now() < deadline,
            "never reached the databases wave"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&first, "-KILL");
    wait_exit(&mut first);
    // Killed: nothing gave the lock back, and it is not expired yet.
    let o = env.run(&["delete", "acme", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("(pid {pid} on ")),
        "{}",
        text(&o)
    );
    assert!(env.obj("statefulsets", "acme-postgresql").is_some());

    let o = env.run(&["delete", "acme", "--yes", "--force-unlock"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "warning: --force-unlock took the lock of `acme` from `new acme` (pid {pid} on "
        )),
        "{}",
        text(&o)
    );
    assert!(env.obj("statefulsets", "acme-postgresql").is_none());
    assert!(lease(&env).is_none());
}

fn seed_lease(env: &Env, renewed_secs_ago: i64) {
    let _ = env
        .server
        .create_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(renewed_secs_ago);
    let micro = t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    env.server
        .create_object(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": LEASE, "namespace": NS,
                "annotations": {"odoo-tui.io/command": "upgrade acme"}},
            "spec": {"holderIdentity": "gone-host/999999", "leaseDurationSeconds": 60,
                "acquireTime": micro, "renewTime": micro, "leaseTransitions": 0}
        }))
        .unwrap();
}

#[test]
fn a_lock_no_longer_renewed_is_taken_over_once_expired() {
    let env = Env::new();
    seed_lease(&env, 30);
    let o = env.run(QUICK);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("`upgrade acme` (pid 999999 on gone-host) holds its lock since"),
        "{}",
        text(&o)
    );
    assert!(env.obj("secrets", "acme-odoo").is_none(), "nothing applied");

    let env = Env::new();
    seed_lease(&env, 61);
    let o = env.ok(QUICK);
    assert!(
        text(&o).contains(
            "note: took over the lock of `acme` left by `upgrade acme` (pid 999999 on gone-host)"
        ),
        "{}",
        text(&o)
    );
    assert!(lease(&env).is_none(), "released at the end");
}

mod library {
    use super::*;
    use k8s_openapi::api::coordination::v1::Lease;
    use odoo_tui::cluster::{Kube, Target};
    use odoo_tui::instance::lock::{Timing, acquire_as};
    use odoo_tui::plan::lock::Holder;
    use tokio_util::sync::CancellationToken;

    fn holder(pid: u32) -> Holder {
        Holder {
            host: "test".into(),
            pid,
            command: "backup acme".into(),
        }
    }

    async fn renew_time(kube: &Kube) -> jiff::Timestamp {
        let l: Lease = kube.typed().get(LEASE).await.unwrap();
        l.spec.unwrap().renew_time.unwrap().0
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_holder_renews_its_lock_and_stops_when_it_is_taken() {
        let env = Env::new();
        let _ = env.server.create_object(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
        );
        let kube = Kube::connect(&Target {
            kubeconfig: Some(env.kubeconfig()),
            ..Default::default()
        })
        .await
        .unwrap();
        let timing = Timing {
            lease_seconds: 3,
            renew_every: Duration::from_millis(200),
        };
        let lost = CancellationToken::new();
        let lock = acquire_as(&kube, "acme", holder(1), false, timing, &lost)
            .await
            .unwrap();
        let first = renew_time(&kube).await;
        // Past its 3 s life, renewed all along: still held.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(renew_time(&kube).await > first, "renewed");
        let other = CancellationToken::new();
        let refused = acquire_as(&kube, "acme", holder(2), false, timing, &other).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("pid 1 on test")),
            "held"
        );
        assert!(!lost.is_cancelled());

        // Taken with --force-unlock: the first holder sees it at its next renewal.
        let second = acquire_as(&kube, "acme", holder(2), true, timing, &other)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), lost.cancelled())
            .await
            .expect("the first holder learns that its lock was taken");
        // Its release leaves the new holder's lock alone.
        lock.release().await;
        let l: Lease = kube.typed().get(LEASE).await.unwrap();
        assert_eq!(l.spec.unwrap().holder_identity.as_deref(), Some("test/2"));
        second.release().await;
        assert!(
            kube.typed::<Lease>()
                .get_opt(LEASE)
                .await
                .unwrap()
                .is_none()
        );
    }
}
