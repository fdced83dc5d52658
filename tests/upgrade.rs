//! `upgrade` and `backup` (docs/ARCHITECTURE.md, "Upgrade and backup"): the real binary against the project's Kubernetes
//! API test server on loopback. Each test installs quick-start first with `new --yes`.

use std::process::Output;

use serde_json::Value as Json;

mod common;
use common::{Env, NS, text};
use test_apiserver::{Config, Scenario};

impl Env {
    fn with_scenario(scenario: &str) -> Env {
        Env::start(Config::default().scenario(Scenario::from_yaml(scenario).unwrap()))
    }

    fn install(&self, extra: &[&str]) {
        let mut args = vec!["new", "acme", "--preset", "quick-start", "--yes"];
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    fn record(&self) -> (Json, Vec<Json>) {
        let cm = self
            .obj("configmaps", "acme-odoo-odoo-tui")
            .expect("record");
        let values: Json =
            serde_saphyr::from_str(cm["data"]["values.yaml"].as_str().unwrap()).unwrap();
        let history: Vec<Json> =
            serde_saphyr::from_str(cm["data"]["history.yaml"].as_str().unwrap()).unwrap();
        (values, history)
    }

    fn backend(&self) -> Json {
        self.obj("deployments", "acme-odoo-backend").unwrap()
    }

    fn script(&self, job: &str) -> String {
        let j = self
            .obj("jobs", job)
            .unwrap_or_else(|| panic!("Job {job} exists"));
        j["spec"]["template"]["spec"]["containers"][0]["command"][2]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Watches the instance's pods while `run` runs; returns its result and, for every
/// moment an upgrade pod was running (or starting), how many backend pods there were
/// (the most seen).
fn watching_backend_during_upgrade<T>(env: &Env, run: impl FnOnce() -> T) -> (T, Option<usize>) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut most: Option<usize> = None;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let pods = env.server.objects("pods", NS);
                let of = |c: &str| {
                    pods.iter()
                        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/component"] == c)
                        .filter(|p| {
                            !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
                        })
                        .count()
                };
                if of("upgrade") > 0 {
                    most = Some(most.unwrap_or(0).max(of("backend")));
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            most
        });
        let out = run();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (out, watcher.join().unwrap())
    })
}

fn image(d: &Json) -> String {
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `s3://odoo-filestore/backups/acme-odoo-1-2611272305.dump` (or `pvc:...`) →
/// `acme-odoo-1-2611272305`, what `restore --from` takes.
fn backup_id(location: &str) -> String {
    let file = location.rsplit('/').next().unwrap();
    file.strip_suffix(".dump").unwrap().to_string()
}

/// `s3://odoo-filestore/backups/acme-odoo-1-2611272305.dump` (or `pvc:...`) →
/// `acme-odoo-backup-1-2611272305`.
fn backup_job_of(location: &str) -> String {
    let file = location.rsplit('/').next().unwrap();
    let stem = file.strip_suffix(".dump").unwrap();
    let rest = stem.strip_prefix("acme-odoo-").unwrap();
    format!("acme-odoo-backup-{rest}")
}

#[test]
fn upgrade_backs_up_runs_the_modules_and_rolls_the_new_image() {
    let env = Env::new();
    env.install(&[]);
    let o = env.ok(&[
        "upgrade",
        "--modules",
        "sale,account",
        "--image-tag",
        "18.0-next",
        "--yes",
    ]);
    let out = text(&o);
    assert!(
        out.contains("upgrade | "),
        "the Job log is streamed:\n{out}"
    );
    assert!(out.contains("`acme` upgraded"), "{out}");
    // No credential is ever printed.
    let secret = env.obj("secrets", "acme-odoo").unwrap();
    for key in ["db-password", "s3-secret-key"] {
        let b = secret["data"][key].as_str().unwrap();
        let plain = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).unwrap(),
        )
        .unwrap();
        assert!(!out.contains(&plain), "{key} was printed");
    }

    // The backup ran first, to the bucket, from the PostgreSQL image.
    let (values, history) = env.record();
    let last = history.last().unwrap();
    assert_eq!(last["kind"], "upgrade");
    assert_eq!(last["result"], "succeeded");
    assert_eq!(
        last["modules"],
        serde_json::json!([
            "sale",
            "account",
            "session_db",
            "fs_storage",
            "fs_attachment",
            "fs_attachment_s3"
        ])
    );
    assert_eq!(last["image"], "ghcr.io/sergio-bershadsky/odoo:18.0-next");
    assert_eq!(last["revision"], 2);
    let location = last["backup_location"].as_str().unwrap();
    assert!(
        location.starts_with("s3://odoo-filestore/backups/acme-odoo-1-"),
        "{location}"
    );
    let backup = env
        .obj("jobs", &backup_job_of(location))
        .expect("the backup Job");
    assert_eq!(
        backup["metadata"]["labels"]["app.kubernetes.io/component"],
        "backup"
    );
    assert!(
        backup["spec"]["template"]["spec"]["initContainers"][0]["image"]
            .as_str()
            .unwrap()
            .starts_with("postgres:")
    );
    // Its manifest will say what it was taken for.
    let kind = backup["spec"]["template"]["spec"]["initContainers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "BACKUP_KIND")
        .map(|e| e["value"].clone());
    assert_eq!(kind, Some("pre-upgrade".into()));
    // The upgrade Job ran exactly those modules with the target image.
    let script = env.script("acme-odoo-upgrade-2");
    // `-u` refreshes the module list itself: no separate update_list step.
    assert!(!script.contains("update_list"), "{script}");
    // A new image also upgrades the modules that came with it (odoo-tui's own).
    assert!(
        script.contains(
            "-u sale,account,session_db,fs_storage,fs_attachment,fs_attachment_s3 --stop-after-init --no-http --workers=0"
        ),
        "{script}"
    );
    let job = env.obj("jobs", "acme-odoo-upgrade-2").unwrap();
    assert_eq!(image(&job), "ghcr.io/sergio-bershadsky/odoo:18.0-next");
    // The backend rolled to the new image, the record keeps it, no extra entry.
    assert_eq!(
        image(&env.backend()),
        "ghcr.io/sergio-bershadsky/odoo:18.0-next"
    );
    assert_eq!(env.backend()["status"]["readyReplicas"], 1);
    assert_eq!(values["backend"]["image"]["tag"], "18.0-next");
    assert_eq!(
        history.iter().filter(|e| e["kind"] == "update").count(),
        0,
        "{history:?}"
    );
    // No nginx, and still the backend is stopped during the upgrade (by default).
    assert!(env.server.count("patch", "deployments/scale") >= 1);

    // A later `new` keeps the new image.
    env.ok(&["new", "acme", "--yes"]);
    assert_eq!(
        image(&env.backend()),
        "ghcr.io/sergio-bershadsky/odoo:18.0-next"
    );

    // `status` shows the upgrade in its history section.
    let s = env.run(&["status", "--once"]);
    let st = text(&s);
    assert!(st.contains("history"), "{st}");
    assert!(
        st.contains("upgrade") && st.contains("modules sale,account"),
        "{st}"
    );
}

const NGINX_MAINTENANCE: &str = "# Maintenance: everything gets the maintenance page.";

impl Env {
    fn maintenance_on(&self) -> bool {
        self.obj("configmaps", "acme-odoo-nginx")
            .and_then(|c| c["data"]["nginx.conf"].as_str().map(str::to_string))
            .is_some_and(|c| c.contains(NGINX_MAINTENANCE))
    }

    /// The last history entry.
    fn last(&self) -> Json {
        self.record().1.last().cloned().unwrap()
    }
}

#[test]
fn a_failing_upgrade_job_keeps_the_backend_stopped_until_abort() {
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 1\n    runSeconds: 1\n    logs: [\"loading module sale\", \"ERROR: column sale_order.x does not exist\"]\n",
    );
    env.install(&[
        "--set",
        "nginx.enabled=true",
        "--set",
        "backend.replicaCount=2",
    ]);
    let conf_before = env.obj("configmaps", "acme-odoo-nginx").unwrap()["data"].clone();
    let o = env.run(&[
        "upgrade",
        "acme",
        "--modules",
        "sale",
        "--image-tag",
        "18.0-next",
        "--yes",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("ERROR: column sale_order.x does not exist"),
        "{out}"
    );
    assert!(out.contains("loading module sale"), "{out}");
    assert!(out.contains("maintenance page on"), "{out}");
    // The database may be partly migrated: the backend stays stopped, the page stays on,
    // and the ways out are named: run it again, or restore the backup then abort.
    assert!(out.contains("the backend stays stopped"), "{out}");
    assert!(out.contains("odoo-tui upgrade acme --resume"), "{out}");
    assert!(out.contains("odoo-tui upgrade acme --abort"), "{out}");
    let id = backup_id(env.last()["backup_location"].as_str().unwrap());
    assert!(
        out.contains(&format!("`odoo-tui restore acme --from {id}`")),
        "{out}"
    );
    let d = env.backend();
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(image(&d), "ghcr.io/sergio-bershadsky/odoo:18.0-20260926");
    assert!(env.maintenance_on());
    let last = env.last();
    assert_eq!(last["kind"], "upgrade");
    assert_eq!(last["result"], "running");
    assert_eq!(last["upgrade"]["phase"], "job-failed");
    assert_eq!(last["upgrade"]["previous_replicas"], 2);
    assert_eq!(
        last["upgrade"]["previous_image"],
        "ghcr.io/sergio-bershadsky/odoo:18.0-20260926"
    );
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("BackoffLimitExceeded")
    );
    assert!(last["backup_location"].is_string());

    // While it is open, neither `new` nor another upgrade touches the instance.
    for args in [
        &["new", "acme", "--yes"][..],
        &["upgrade", "acme", "--modules", "sale", "--yes"][..],
    ] {
        let o = env.run(args);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {out}");
        assert!(out.contains("an upgrade of `acme`"), "{out}");
        assert!(out.contains("--resume") && out.contains("--abort"), "{out}");
    }
    assert_eq!(env.backend()["spec"]["replicas"], 0);

    // --abort: says what putting the old image back means, then does it.
    let o = env.run(&["upgrade", "acme", "--abort", "--yes"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("the database may already be migrated"),
        "{out}"
    );
    assert!(
        out.contains(&format!("`odoo-tui restore acme --from {id}`")),
        "{out}"
    );
    let d = env.backend();
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["status"]["readyReplicas"], 2);
    assert_eq!(image(&d), "ghcr.io/sergio-bershadsky/odoo:18.0-20260926");
    assert_eq!(
        env.obj("configmaps", "acme-odoo-nginx").unwrap()["data"],
        conf_before
    );
    let last = env.last();
    assert_eq!(last["result"], "failed");
    assert!(
        last["detail"].as_str().unwrap().contains("aborted"),
        "{last}"
    );
    // Closed: the instance is usable again.
    env.ok(&["new", "acme", "--yes"]);
    let o = env.run(&["upgrade", "acme", "--abort", "--yes"]);
    assert!(
        text(&o).contains("no upgrade of `acme` is open"),
        "{}",
        text(&o)
    );
}

/// The listing Job of `restore` prints the manifest of the pre-upgrade backup `id`
/// (taken with the previous image); `extra` adds scenario rules.
fn listing_scenario(id: &str, extra: &str) -> Scenario {
    let manifest = format!(
        r#"odoo-tui-manifest {{"id": "{id}", "time": "2026-11-27T03:00:09Z", "kind": "pre-upgrade", "contents": "database", "database": "odoo", "image": "ghcr.io/sergio-bershadsky/odoo:18.0-20260926", "revision": 1, "postgresql": 18, "modules": ["base"], "sizes": {{"database": 1000, "filestore": 0}}, "files": {{"dump": {{"name": "{id}.dump", "bytes": 4096}}}}}}"#
    );
    Scenario::from_yaml(&format!(
        "pods:\n  - selector: {{app.kubernetes.io/component: backup}}\n    container: list\n    logs: [{}]\n{extra}",
        serde_json::to_string(&manifest).unwrap()
    ))
    .unwrap()
}

#[test]
fn the_pre_upgrade_backup_named_after_a_failure_restores_the_instance_and_closes_the_upgrade() {
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 1\n    runSeconds: 1\n    logs: [\"ERROR: column sale_order.x does not exist\"]\n",
    );
    env.install(&[
        "--set",
        "nginx.enabled=true",
        "--set",
        "backend.replicaCount=2",
    ]);
    let o = env.run(&[
        "upgrade",
        "acme",
        "--modules",
        "sale",
        "--image-tag",
        "18.0-next",
        "--yes",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    let id = backup_id(env.last()["backup_location"].as_str().unwrap());
    let restore = format!("odoo-tui restore acme --from {id}");
    assert!(out.contains(&restore), "{out}");

    // A restore that fails puts the migrated database back and never starts the
    // previous image on it: the backend stays stopped and the upgrade open.
    env.server.set_scenario(listing_scenario(
        &id,
        "  - selector: {app.kubernetes.io/component: restore}\n    container: swap\n    exitCode: 1\n    logs: [\"database odoo has 1 sessions of other roles\"]\n",
    ));
    let o = env.run(&["restore", "acme", "--from", &id, "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("an upgrade of `acme` to ghcr.io/sergio-bershadsky/odoo:18.0-next is open"),
        "{out}"
    );
    assert!(
        out.contains("the backend stays stopped as the open upgrade left it"),
        "{out}"
    );
    assert_eq!(env.backend()["spec"]["replicas"], 0);
    assert!(env.maintenance_on());
    let upgrade = |env: &Env| {
        env.record()
            .1
            .into_iter()
            .rev()
            .find(|e| e["kind"] == "upgrade")
            .unwrap()
    };
    assert_eq!(upgrade(&env)["result"], "running");

    // The restore as printed: the database, the previous image and the replicas back,
    // the page off, the upgrade closed; the instance is usable again.
    env.server.set_scenario(listing_scenario(&id, ""));
    let o = env.run(&["restore", "acme", "--from", &id, "--yes"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("the open upgrade is closed"), "{out}");
    let d = env.backend();
    assert_eq!(image(&d), "ghcr.io/sergio-bershadsky/odoo:18.0-20260926");
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["status"]["readyReplicas"], 2);
    assert!(!env.maintenance_on());
    let closed = upgrade(&env);
    assert_eq!(closed["result"], "failed");
    assert!(
        closed["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("closed by the restore of backup {id}")),
        "{closed}"
    );
    assert_eq!(env.last()["kind"], "restore");
    assert_eq!(env.last()["result"], "succeeded");
    env.ok(&["new", "acme", "--yes"]);
    let o = env.run(&["upgrade", "acme", "--resume"]);
    assert!(
        text(&o).contains("no upgrade of `acme` is open"),
        "{}",
        text(&o)
    );
}

#[test]
fn an_upgrade_past_its_deadline_fails_with_exit_3() {
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 0\n    runSeconds: 600\n",
    );
    env.install(&["--set", "backend.autoUpgrade.activeDeadlineSeconds=2"]);
    let started = std::time::Instant::now();
    let o = env.run(&["upgrade", "--modules", "sale", "--no-backup", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("DeadlineExceeded"), "{out}");
    assert!(
        out.contains("backend.autoUpgrade.activeDeadlineSeconds"),
        "{out}"
    );
    assert!(out.contains("no backup was taken"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(env.backend()["spec"]["replicas"], 0);
    assert_eq!(env.last()["upgrade"]["phase"], "job-failed");
}

#[test]
fn an_interrupted_upgrade_is_resumed_without_touching_its_running_job() {
    // The Job outlives odoo-tui's --timeout: it is left running, never deleted.
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 0\n    runSeconds: 250\n",
    );
    env.install(&[]);
    let o = env.run(&[
        "upgrade",
        "--modules",
        "sale",
        "--no-backup",
        "--yes",
        "--timeout",
        "1s",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("keeps running"), "{out}");
    assert!(out.contains("odoo-tui upgrade acme --resume"), "{out}");
    let job = env
        .obj("jobs", "acme-odoo-upgrade-2")
        .expect("left running");
    let uid = job["metadata"]["uid"].as_str().unwrap().to_string();
    let last = env.last();
    assert_eq!(last["result"], "running");
    assert_eq!(last["upgrade"]["phase"], "migrating");
    assert_eq!(last["upgrade"]["job"], "acme-odoo-upgrade-2");
    assert_eq!(last["upgrade"]["job_uid"], uid.as_str());
    assert_eq!(env.backend()["spec"]["replicas"], 0);

    // Nothing stops -u midway: `new` refuses, and so does --abort while it runs.
    let o = env.run(&["new", "acme", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = env.run(&["upgrade", "--abort", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("still running"), "{out}");
    assert!(out.contains("--resume"), "{out}");
    // Nor does a restore: it would replace the database under `-u`.
    let o = env.run(&["restore", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("Job/acme-odoo-upgrade-2 of the open upgrade of `acme` is still running"),
        "{out}"
    );
    let backup_jobs = env
        .server
        .objects("jobs", NS)
        .into_iter()
        .filter(|j| j["metadata"]["labels"]["app.kubernetes.io/component"] == "backup")
        .count();
    assert_eq!(backup_jobs, 0, "{out}");

    // --resume follows the same Job to its end, then rolls out.
    let o = env.run(&["upgrade", "--resume"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("resuming the upgrade of `acme`"), "{out}");
    assert!(out.contains("`acme` upgraded"), "{out}");
    let job = env.obj("jobs", "acme-odoo-upgrade-2").unwrap();
    assert_eq!(job["metadata"]["uid"], uid.as_str(), "the Job was replaced");
    assert_eq!(env.server.count("delete", "jobs"), 0);
    let last = env.last();
    assert_eq!(last["result"], "succeeded");
    assert_eq!(last["revision"], 2);
    assert_eq!(env.backend()["status"]["readyReplicas"], 1);
    let o = env.run(&["upgrade", "--resume"]);
    assert!(text(&o).contains("nothing to resume"), "{}", text(&o));
}

#[test]
fn a_rollout_that_fails_after_the_migration_never_puts_the_old_image_back_by_itself() {
    let env = Env::new();
    env.install(&["--set", "nginx.enabled=true"]);
    // The new image's backend crashes.
    env.server.set_scenario(
        Scenario::from_yaml(
            "pods:\n  - selector: {app.kubernetes.io/component: backend}\n    crash: {afterSeconds: 1, exitCode: 1, logs: [\"ImportError: cannot import name 'x'\"]}\n",
        )
        .unwrap(),
    );
    let o = env.run(&[
        "upgrade",
        "--modules",
        "sale",
        "--image-tag",
        "18.0-next",
        "--yes",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("the modules were upgraded with"), "{out}");
    assert!(out.contains("does not put"), "{out}");
    assert!(
        out.contains("retry the rollout: `odoo-tui upgrade acme --resume`"),
        "{out}"
    );
    assert!(out.contains("--abort"), "{out}");
    let id = backup_id(env.last()["backup_location"].as_str().unwrap());
    assert!(
        out.contains(&format!("`odoo-tui restore acme --from {id}`")),
        "{out}"
    );
    // The backend stays stopped on the new image, behind the maintenance page.
    let d = env.backend();
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(image(&d), "ghcr.io/sergio-bershadsky/odoo:18.0-next");
    assert!(env.maintenance_on());
    let last = env.last();
    assert_eq!(last["result"], "running");
    assert_eq!(last["upgrade"]["phase"], "rollout-failed");
    // The record still names the image the instance ran before.
    assert_eq!(env.record().0["backend"]["image"]["tag"], "18.0-20260926");

    // Fixed (here: the crash is gone), --resume retries the rollout only.
    env.server.set_scenario(Scenario::default());
    let jobs_before = env.server.count("patch", "jobs");
    let o = env.run(&["upgrade", "--resume"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(env.server.count("patch", "jobs"), jobs_before, "{out}");
    let d = env.backend();
    assert_eq!(image(&d), "ghcr.io/sergio-bershadsky/odoo:18.0-next");
    assert_eq!(d["status"]["readyReplicas"], 1);
    assert!(!env.maintenance_on());
    assert_eq!(env.last()["result"], "succeeded");
    assert_eq!(env.record().0["backend"]["image"]["tag"], "18.0-next");
}

#[test]
fn the_rollout_has_its_own_time_and_the_page_stays_on_until_the_backend_is_ready() {
    let env = Env::new();
    env.install(&["--set", "nginx.enabled=true"]);
    // The Job takes part of --timeout, the new backend longer than all of it.
    env.server.set_scenario(
        Scenario::from_yaml(
            "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 0\n    runSeconds: 50\n  - selector: {app.kubernetes.io/component: backend}\n    readyAfterSeconds: 500\n",
        )
        .unwrap(),
    );
    let (o, samples) = {
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let sampler = s.spawn(|| {
                let mut out = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let ready = env
                        .server
                        .objects("pods", NS)
                        .iter()
                        .filter(|p| {
                            p["metadata"]["labels"]["app.kubernetes.io/component"] == "backend"
                        })
                        .filter(|p| {
                            p["status"]["conditions"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
                        .count();
                    out.push((env.maintenance_on(), ready));
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                out
            });
            let o = env.run(&[
                "upgrade",
                "--modules",
                "sale",
                "--image-tag",
                "18.0-next",
                "--no-backup",
                "--yes",
                "--timeout",
                "6s",
            ]);
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            (o, sampler.join().unwrap())
        })
    };
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("maintenance page off"), "{out}");
    // Never without both: the page goes off only once a new backend pod is ready.
    assert!(
        samples.iter().all(|(page, ready)| *page || *ready > 0),
        "the page was off with no ready backend: {samples:?}\n{out}"
    );
    assert!(samples.iter().any(|(page, _)| *page), "{out}");
    assert!(!env.maintenance_on());
}

#[test]
fn a_failing_backup_stops_everything() {
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: backup}\n    exitCode: 1\n    runSeconds: 1\n    logs: [\"pg_dump: error: connection to server failed\"]\n",
    );
    env.install(&["--set", "nginx.enabled=true"]);
    let o = env.run(&["upgrade", "--modules", "sale", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("the backup failed"), "{out}");
    assert!(
        out.contains("pg_dump: error: connection to server failed"),
        "{out}"
    );
    assert!(out.contains("nothing was upgraded"), "{out}");
    assert!(env.obj("jobs", "acme-odoo-upgrade-2").is_none());
    assert_eq!(env.server.count("patch", "deployments/scale"), 0);
    assert_eq!(env.backend()["spec"]["replicas"], 1);
    let (_, history) = env.record();
    assert_eq!(history.last().unwrap()["result"], "failed");
}

#[test]
fn all_modules_without_update_list_or_backup() {
    let env = Env::new();
    env.install(&[]);
    env.ok(&[
        "upgrade",
        "acme",
        "--all",
        "--no-update-list",
        "--no-backup",
        "--yes",
        "-o",
        "json",
    ]);
    let script = env.script("acme-odoo-upgrade-2");
    assert!(!script.contains("update_list"), "{script}");
    assert!(script.contains(" -u all --stop-after-init"), "{script}");
    let (_, history) = env.record();
    let last = history.last().unwrap();
    assert_eq!(last["modules"], serde_json::json!(["all"]));
    assert!(last.get("backup_location").is_none(), "{last}");
    // Same image: the record keeps the tag it had.
    assert_eq!(
        image(&env.backend()),
        "ghcr.io/sergio-bershadsky/odoo:18.0-20260926"
    );
}

/// The revisions an output names, as text (`revision 2`) or JSON (`"revision":2`).
fn revisions(out: &str) -> Vec<u64> {
    let mut found = Vec::new();
    for marker in ["revision ", "\"revision\":"] {
        for (i, _) in out.match_indices(marker) {
            let digits: String = out[i + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                found.push(n);
            }
        }
    }
    found
}

#[test]
fn one_upgrade_run_names_one_revision() {
    let env = Env::new();
    env.install(&[]);
    for output in ["plain", "json"] {
        let o = env.ok(&[
            "upgrade",
            "--modules",
            "sale",
            "--no-backup",
            "--yes",
            "-o",
            output,
        ]);
        let out = text(&o);
        let (_, history) = env.record();
        let recorded = history.last().unwrap()["revision"].as_u64().unwrap();
        let named = revisions(&out);
        assert!(!named.is_empty(), "{out}");
        assert!(
            named.iter().all(|r| *r == recorded),
            "{output}: revisions {named:?}, recorded {recorded}:\n{out}"
        );
    }
}

#[test]
fn backup_without_s3_goes_to_a_pvc_and_is_recorded() {
    let env = Env::new();
    env.install(&["--set", "minio.enabled=false"]);
    let o = env.ok(&["backup", "acme"]);
    let stdout = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        stdout.starts_with("pvc:acme-odoo-backups/acme-odoo-1-"),
        "{stdout}"
    );
    // The running backend holds the ReadWriteOnce filestore PVC that the backup reads:
    // the backup pod goes to a backend pod's node, and says so.
    assert!(
        text(&o).contains("ReadWriteOnce PVC acme-odoo-backend-data"),
        "{}",
        text(&o)
    );
    let job = env.obj("jobs", &backup_job_of(&stdout)).unwrap();
    let term = &job["spec"]["template"]["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(term["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(
        term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"],
        "backend"
    );
    let pvc = env
        .obj("persistentvolumeclaims", "acme-odoo-backups")
        .unwrap();
    assert_eq!(
        pvc["metadata"]["labels"]["app.kubernetes.io/component"],
        "backup"
    );
    let (_, history) = env.record();
    let last = history.last().unwrap();
    assert_eq!(last["kind"], "backup");
    assert_eq!(last["backup_location"], stdout.as_str());
    // A later `new` keeps the PVC (never pruned).
    env.ok(&["new", "acme", "--yes"]);
    assert!(
        env.obj("persistentvolumeclaims", "acme-odoo-backups")
            .is_some()
    );
}

#[test]
fn usage_errors_exit_2_and_name_the_fix() {
    let env = Env::new();
    let o = env.run(&["upgrade", "acme", "--modules", "sale,,account", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("empty item"), "{}", text(&o));
    let o = env.run(&["upgrade", "acme", "--modules", "Sale", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = env.run(&["upgrade", "acme", "--yes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--modules") && text(&o).contains("--all"));
    let o = env.run(&["upgrade", "acme", "--modules", "sale"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--yes"), "{}", text(&o));
    let o = env.run(&["upgrade", "acme", "--modules", "sale", "--all", "--yes"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn two_instances_without_a_name_is_a_clear_error() {
    let env = Env::new();
    let ns = env.dir.path().join("ns.json");
    std::fs::write(
        &ns,
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
            .to_string(),
    )
    .unwrap();
    let k = env.run_kubectl_apply(&ns);
    assert!(k.status.success(), "{}", text(&k));
    for name in ["acme", "beta"] {
        let cm = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("{name}-odoo-odoo-tui"), "namespace": NS,
                "labels": {"app.kubernetes.io/managed-by": "odoo-tui", "app.kubernetes.io/instance": name}},
            "data": {"release": name, "revision": "1", "values.yaml": "{}\n", "history.yaml": "[]\n"}
        });
        let path = env.dir.path().join(format!("{name}.json"));
        std::fs::write(&path, cm.to_string()).unwrap();
        let k = env.run_kubectl_apply(&path);
        assert!(k.status.success(), "{}", text(&k));
    }
    let o = env.run(&["upgrade", "--modules", "sale", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("acme, beta"), "{}", text(&o));
    let o = env.run(&["backup"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

impl Env {
    fn run_kubectl_apply(&self, path: &std::path::Path) -> Output {
        self.kubectl(&["apply", "--server-side", "-f", path.to_str().unwrap()])
    }
}

#[test]
fn the_backend_is_stopped_during_every_upgrade_by_default() {
    // quick-start has no nginx: no maintenance page, but no request and no cron either.
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 0\n    runSeconds: 20\n",
    );
    env.install(&[]);
    let (o, backend_pods) = watching_backend_during_upgrade(&env, || {
        env.run(&["upgrade", "--modules", "sale", "--no-backup", "--yes"])
    });
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("backend stopped"), "{out}");
    assert_eq!(
        backend_pods,
        Some(0),
        "a backend pod ran while the upgrade Job did:\n{out}"
    );
    // Same image: only the chosen modules.
    let script = env.script("acme-odoo-upgrade-2");
    assert!(script.contains(" -u sale --stop-after-init"), "{script}");
    // Serving again afterwards.
    assert_eq!(env.backend()["status"]["readyReplicas"], 1);
}

#[test]
fn online_is_an_explicit_warned_choice_and_a_new_image_needs_its_own_flag() {
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: upgrade}\n    exitCode: 0\n    runSeconds: 20\n",
    );
    env.install(&["--set", "minio.enabled=false"]);
    let o = env.run(&[
        "upgrade",
        "--modules",
        "sale",
        "--image-tag",
        "18.0-next",
        "--strategy",
        "online",
        "--yes",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("--accept-online-image-change"), "{out}");
    assert!(out.contains("--yes does not"), "{out}");
    assert!(env.obj("jobs", "acme-odoo-upgrade-2").is_none());
    assert_eq!(env.server.count("patch", "deployments/scale"), 0);

    let (o, backend_pods) = watching_backend_during_upgrade(&env, || {
        env.run(&[
            "upgrade",
            "--modules",
            "sale",
            "--image-tag",
            "18.0-next",
            "--strategy",
            "online",
            "--accept-online-image-change",
            "--no-backup",
            "--yes",
        ])
    });
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("warning: --strategy online"), "{out}");
    assert_eq!(env.server.count("patch", "deployments/scale"), 0);
    assert!(backend_pods.is_some_and(|n| n >= 1), "{out}");
    // local filestore on a ReadWriteOnce PVC held by the running backend: the Job runs
    // on that pod's node, and says why.
    assert!(out.contains("ReadWriteOnce"), "{out}");
    let job = env.obj("jobs", "acme-odoo-upgrade-2").unwrap();
    let term = &job["spec"]["template"]["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(term["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(
        term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"],
        "backend"
    );
    assert_eq!(
        image(&env.backend()),
        "ghcr.io/sergio-bershadsky/odoo:18.0-next"
    );
}

#[test]
fn with_the_filestore_on_its_pvc_the_backup_runs_once_the_backend_is_stopped() {
    let env = Env::with_scenario(
        "pods:\n  - selector: {app.kubernetes.io/component: backup}\n    exitCode: 0\n    runSeconds: 20\n",
    );
    env.install(&["--set", "minio.enabled=false"]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (o, most) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut most: Option<usize> = None;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let pods = env.server.objects("pods", NS);
                let live = |c: &str| {
                    pods.iter()
                        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/component"] == c)
                        .filter(|p| {
                            !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
                        })
                        .count()
                };
                if live("backup") > 0 {
                    most = Some(most.unwrap_or(0).max(live("backend")));
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            most
        });
        let o = env.run(&["upgrade", "--modules", "sale", "--yes"]);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (o, watcher.join().unwrap())
    });
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("the backup runs now that the backend is stopped"),
        "{out}"
    );
    assert_eq!(
        most,
        Some(0),
        "a backend pod held the filestore during the backup:\n{out}"
    );
    let location = env.last()["backup_location"].as_str().unwrap().to_string();
    assert!(location.starts_with("pvc:acme-odoo-backups/"), "{location}");
    let job = env.obj("jobs", &backup_job_of(&location)).unwrap();
    assert!(job["spec"]["template"]["spec"]["affinity"].is_null());
}
