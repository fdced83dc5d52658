//! `backups` and `restore`: the real binary against the project's Kubernetes API test
//! server on loopback. The listing Job's log (the manifests it prints) and the restore
//! Job's containers come from the scenario; the scripts themselves run for real in
//! `tests/scripts.rs`.

use serde_json::{Value as Json, json};

mod common;
use common::{Env, NS, text};
use test_apiserver::{Config, Scenario};

const CURRENT: &str = "ghcr.io/sergio-bershadsky/odoo:18.0-20260926";
const OLDER: &str = "ghcr.io/sergio-bershadsky/odoo:18.0-20260817";
const NEWER: &str = "ghcr.io/sergio-bershadsky/odoo:18.0-20261015";

fn manifest(id: &str, kind: &str, image: &str, time: &str) -> String {
    format!(
        r#"odoo-tui-manifest {{"id": "{id}", "time": "{time}", "kind": "{kind}", "contents": "database", "database": "odoo", "image": "{image}", "revision": 1, "postgresql": 18, "modules": ["base"], "sizes": {{"database": 1000, "filestore": 0}}, "files": {{"dump": {{"name": "{id}.dump", "bytes": 4096}}}}}}"#
    )
}

/// The listing Job prints three backups of `acme`, one of another instance; `extra`
/// adds scenario rules.
fn scenario(extra: &str) -> String {
    let lines = [
        manifest(
            "acme-odoo-1-2611250300",
            "scheduled",
            OLDER,
            "2026-11-25T03:00:12Z",
        ),
        manifest(
            "acme-odoo-1-2611270300",
            "manual",
            CURRENT,
            "2026-11-27T03:00:09Z",
        ),
        manifest(
            "acme-odoo-1-2611260300",
            "pre-upgrade",
            NEWER,
            "2026-11-26T03:00:10Z",
        ),
        manifest(
            "other-odoo-1-2611270300",
            "manual",
            CURRENT,
            "2026-11-27T03:00:09Z",
        ),
        "2 manifests in s3://odoo-filestore/backups/".into(),
    ];
    let logs: Vec<String> = lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap())
        .collect();
    format!(
        "pods:\n  - selector: {{app.kubernetes.io/component: backup}}\n    container: list\n    logs: [{}]\n{extra}",
        logs.join(", ")
    )
}

fn env_with(extra: &str) -> Env {
    let env =
        Env::start(Config::default().scenario(Scenario::from_yaml(&scenario(extra)).unwrap()));
    env.ok(&["new", "acme", "--preset", "quick-start", "--yes"]);
    env
}

fn backend_image(env: &Env) -> String {
    env.obj("deployments", "acme-odoo-backend").unwrap()["spec"]["template"]["spec"]["containers"]
        [0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

fn history(env: &Env) -> Vec<Json> {
    let cm = env.obj("configmaps", "acme-odoo-odoo-tui").expect("record");
    serde_saphyr::from_str(cm["data"]["history.yaml"].as_str().unwrap()).unwrap()
}

fn jobs(env: &Env, component: &str) -> Vec<Json> {
    env.server
        .objects("jobs", NS)
        .into_iter()
        .filter(|j| j["metadata"]["labels"]["app.kubernetes.io/component"] == component)
        .collect()
}

fn containers(job: &Json) -> Vec<String> {
    let spec = &job["spec"]["template"]["spec"];
    spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["containers"].as_array().into_iter().flatten())
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn backups_lists_the_manifests_newest_first() {
    let env = env_with("");
    let leases = |env: &Env| {
        env.server
            .requests()
            .iter()
            .filter(|r| r.resource == "leases")
            .count()
    };
    let leases_before = leases(&env);
    let o = env.ok(&["backups", "acme"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ID"), "{out}");
    assert!(lines[1].starts_with("acme-odoo-1-2611270300"), "{out}");
    assert!(lines[2].starts_with("acme-odoo-1-2611260300"), "{out}");
    assert!(lines[3].starts_with("acme-odoo-1-2611250300"), "{out}");
    assert_eq!(
        lines.len(),
        4,
        "another instance's backup is not listed:\n{out}"
    );
    assert!(
        lines[2].contains("pre-upgrade") && lines[2].contains("4.0 KiB"),
        "{out}"
    );
    assert!(
        lines[1].contains("s3://odoo-filestore/backups/acme-odoo-1-2611270300"),
        "{out}"
    );
    // Nothing but the table on stdout, no progress noise on stderr.
    assert!(
        String::from_utf8_lossy(&o.stderr).trim().is_empty(),
        "{}",
        text(&o)
    );

    let o = env.ok(&["backups", "-o", "json"]);
    let list: Vec<Json> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["kind"], "manual");
    assert_eq!(list[0]["image"], CURRENT);
    // The listing Job is gone once read; no lock was taken.
    assert!(env.server.objects("jobs", NS).iter().all(|j| {
        !j["metadata"]["name"]
            .as_str()
            .unwrap()
            .contains("-backups-")
    }),);
    assert_eq!(leases(&env), leases_before, "backups takes no lock");
}

#[test]
fn restore_takes_a_safety_backup_stops_the_backend_swaps_and_starts_on_the_backups_image() {
    let env = env_with("");
    let scale_before = env.server.count("patch", "deployments/scale");
    let o = env.ok(&["restore", "acme", "--from", "2611250300", "--yes"]);
    let out = text(&o);
    assert!(
        out.contains("`acme` restored from backup acme-odoo-1-2611250300"),
        "{out}"
    );
    // A safety backup first (kind pre-restore), then the restore Job, then the commit.
    let backups = jobs(&env, "backup");
    assert_eq!(backups.len(), 1, "{backups:?}");
    let kind = backups[0]["spec"]["template"]["spec"]["initContainers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "BACKUP_KIND")
        .unwrap()["value"]
        .clone();
    assert_eq!(kind, "pre-restore");
    let restores = jobs(&env, "restore");
    let names: Vec<String> = restores
        .iter()
        .map(|j| j["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("acme-odoo-restore-")
            && !n.contains("commit")
            && !n.contains("undo")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("-restore-commit-")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("-restore-undo-")),
        "{names:?}"
    );
    let main = restores
        .iter()
        .find(|j| containers(j).contains(&"swap".to_string()))
        .unwrap();
    assert_eq!(containers(main), ["fetch", "restore", "swap"]);
    // The backend was stopped through the scale subresource, and runs the backup's image.
    assert!(env.server.count("patch", "deployments/scale") > scale_before);
    assert_eq!(backend_image(&env), OLDER);
    assert_eq!(
        env.obj("deployments", "acme-odoo-backend").unwrap()["status"]["readyReplicas"],
        1
    );
    let h = history(&env);
    let last = h.last().unwrap();
    assert_eq!(last["kind"], "restore");
    assert_eq!(last["result"], "succeeded");
    assert_eq!(last["image"], OLDER);
    assert!(
        last["backup_location"]
            .as_str()
            .unwrap()
            .ends_with("acme-odoo-1-2611250300"),
        "{last:?}"
    );
    assert!(
        env.obj("leases", "acme-odoo-tui-lock").is_none(),
        "the lock is given back"
    );
}

#[test]
fn a_restore_that_fails_in_the_middle_leaves_the_instance_as_before() {
    let env = env_with(
        "  - selector: {app.kubernetes.io/component: restore}\n    container: swap\n    exitCode: 1\n    logs: [\"database odoo has 1 sessions of other roles\"]\n",
    );
    let o = env.run(&[
        "restore",
        "acme",
        "--from",
        "latest",
        "--keep-image",
        "--yes",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("the restore failed"), "{out}");
    assert!(out.contains("sessions of other roles"), "{out}");
    assert!(out.contains("as it was before the command"), "{out}");
    // The undo ran, no commit; the backend is back on its image and replicas.
    let names: Vec<String> = jobs(&env, "restore")
        .iter()
        .map(|j| j["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("-restore-undo-")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("-restore-commit-")),
        "{names:?}"
    );
    assert_eq!(backend_image(&env), CURRENT);
    let d = env.obj("deployments", "acme-odoo-backend").unwrap();
    assert_eq!(d["spec"]["replicas"], 1);
    let last = history(&env).pop().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["result"].as_str()),
        (Some("restore"), Some("failed"))
    );
    assert!(env.obj("leases", "acme-odoo-tui-lock").is_none());
}

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let env = env_with("");
    let scale_before = env.server.count("patch", "deployments/scale");
    // An unknown id: the nearest ones.
    let o = env.run(&["restore", "acme", "--from", "1-2611270301", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("has no backup `1-2611270301`; the nearest:"),
        "{out}"
    );
    assert!(out.contains("acme-odoo-1-2611270300"), "{out}");
    // A backup from a newer image with the current image kept.
    let o = env.run(&[
        "restore",
        "acme",
        "--from",
        "2611260300",
        "--keep-image",
        "--yes",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("newer than the instance's"), "{out}");
    // No terminal and no --yes.
    let o = env.run(&["restore", "acme"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Nothing happened: no backup, no restore, the backend untouched.
    assert!(jobs(&env, "backup").is_empty());
    assert!(jobs(&env, "restore").is_empty());
    assert_eq!(env.server.count("patch", "deployments/scale"), scale_before);
    assert_eq!(backend_image(&env), CURRENT);
}

#[test]
fn a_restore_refuses_while_another_command_holds_the_lock() {
    let env = env_with("");
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    env.server
        .create_object(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "acme-odoo-tui-lock", "namespace": NS,
                "annotations": {"odoo-tui.io/command": "upgrade acme"}},
            "spec": {"holderIdentity": "other-host/4242", "leaseDurationSeconds": 60,
                "acquireTime": now, "renewTime": now, "leaseTransitions": 0}
        }))
        .unwrap();
    let o = env.run(&["restore", "acme", "--yes"]);
    let out = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("`upgrade acme` (pid 4242 on other-host) holds its lock"),
        "{out}"
    );
    assert!(jobs(&env, "restore").is_empty());
    assert!(jobs(&env, "backup").is_empty());
}

fn env_value(job: &Json, container: &str, name: &str) -> Option<String> {
    let spec = &job["spec"]["template"]["spec"];
    spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["containers"].as_array().into_iter().flatten())
        .find(|c| c["name"] == container)?["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
        .map(str::to_string)
}

fn rv(o: &Json) -> u64 {
    o["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn clone_makes_a_new_neutralized_instance_from_a_backup_taken_now() {
    let env = env_with("");
    let src_backend = env.obj("deployments", "acme-odoo-backend").unwrap()["spec"].clone();
    let o = env.ok(&["clone", "acme", "staging", "--yes"]);
    let out = text(&o);
    assert!(out.contains("`staging` is a clone of `acme`"), "{out}");
    assert!(out.contains("neutralized"), "{out}");
    // A backup of the source, taken now, says what for.
    let taken: Vec<Json> = jobs(&env, "backup")
        .into_iter()
        .filter(|j| j["metadata"]["labels"]["app.kubernetes.io/instance"] == "acme")
        .collect();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(
        env_value(&taken[0], "backup", "BACKUP_KIND").as_deref(),
        Some("clone")
    );
    // The clone has its own datastores and credentials.
    assert!(env.obj("statefulsets", "staging-postgresql").is_some());
    assert!(env.obj("statefulsets", "staging-minio").is_some());
    let pw = |s: &str| env.obj("secrets", s).unwrap()["data"]["db-password"].clone();
    assert_ne!(pw("staging-odoo"), pw("acme-odoo"));
    // Restored from the source's bucket, the objects copied to its own MinIO.
    let restore = jobs(&env, "restore")
        .into_iter()
        .find(|j| j["metadata"]["labels"]["app.kubernetes.io/instance"] == "staging")
        .expect("the clone's restore Job");
    assert_eq!(
        containers(&restore),
        ["fetch", "restore", "objects", "swap"]
    );
    assert_eq!(
        env_value(&restore, "fetch", "SRC_S3_ENDPOINT").as_deref(),
        Some("http://acme-minio:9000")
    );
    assert_eq!(
        env_value(&restore, "fetch", "TGT_S3_ENDPOINT").as_deref(),
        Some("http://staging-minio:9000")
    );
    let identity = jobs(&env, "clone").pop().expect("the clone's identity Job");
    assert_eq!(
        env_value(&identity, "clone", "NEUTRALIZE").as_deref(),
        Some("1")
    );
    // The order: the datastores, the restore, the identity, then first boot and the backend.
    let init = env.obj("jobs", "staging-odoo-init").unwrap();
    let backend = env.obj("deployments", "staging-odoo-backend").unwrap();
    assert!(rv(&restore) < rv(&identity), "restore before identity");
    assert!(rv(&identity) < rv(&init), "identity before first boot");
    assert!(rv(&identity) < rv(&backend), "identity before the backend");
    assert!(rv(&env.obj("statefulsets", "staging-postgresql").unwrap()) < rv(&restore));
    // No Ingress of its own (the hosts are the source's); the source is untouched.
    assert!(env.obj("ingresses", "staging-odoo").is_none());
    assert_eq!(
        env.obj("deployments", "acme-odoo-backend").unwrap()["spec"],
        src_backend
    );
    let cm = env
        .obj("configmaps", "staging-odoo-odoo-tui")
        .expect("the clone's record");
    let h: Vec<Json> =
        serde_saphyr::from_str(cm["data"]["history.yaml"].as_str().unwrap()).unwrap();
    assert!(
        h.iter()
            .any(|e| e["detail"] == "clone of `acme`, neutralized"),
        "{h:?}"
    );

    let s = text(&env.run(&["status", "staging", "--once"]));
    assert!(s.contains("NEUTRALIZED: a clone of `acme`"), "{s}");
    // `list` says so too, in its table and its JSON; the source is not marked.
    let l = text(&env.ok(&["list"]));
    let line = |name: &str| {
        l.lines()
            .find(|line| line.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{l}"))
            .to_string()
    };
    assert!(line("staging").contains(", neutralized"), "{l}");
    assert!(!line("acme").contains("neutralized"), "{l}");
    let rows: Vec<Json> = serde_json::from_slice(&env.ok(&["list", "-o", "json"]).stdout).unwrap();
    let neutralized = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .map(|r| r["neutralized"].clone())
    };
    assert_eq!(neutralized("staging"), Some(json!(true)), "{rows:?}");
    assert_eq!(neutralized("acme"), Some(json!(false)), "{rows:?}");

    // Cloning into a name that exists is refused, and changes nothing.
    let before = jobs(&env, "restore").len();
    let o = env.run(&["clone", "acme", "staging", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    assert_eq!(jobs(&env, "restore").len(), before);
}

#[test]
fn a_clone_whose_neutralization_fails_never_starts_its_backend() {
    let env = env_with(
        "  - selector: {app.kubernetes.io/component: clone}\n    exitCode: 1\n    logs: [\"odoo neutralize finished but database.is_neutralized is '', not true: the clone is NOT neutralized\"]\n",
    );
    let o = env.run(&["clone", "acme", "staging", "--from", "latest", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("the neutralization failed"), "{out}");
    assert!(out.contains("is NOT neutralized"), "{out}");
    assert!(
        out.contains("odoo-tui delete staging --delete-data"),
        "{out}"
    );
    assert!(env.obj("deployments", "staging-odoo-backend").is_none());
    assert!(env.obj("jobs", "staging-odoo-init").is_none());
    // --from: no backup of the source was taken.
    assert!(jobs(&env, "backup").iter().all(|j| {
        !j["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("acme-odoo-backup-")
    }));
}

#[test]
fn a_clone_into_a_name_whose_data_was_kept_is_refused() {
    let env = env_with("");
    // `staging` was installed, then deleted with its data kept: no record, but its
    // Secrets and volumes are there, and a clone must not take them over.
    env.ok(&["new", "staging", "--preset", "quick-start", "--yes"]);
    env.ok(&["delete", "staging", "--yes"]);
    assert!(env.obj("configmaps", "staging-odoo-odoo-tui").is_none());
    let restores = jobs(&env, "restore").len();
    let o = env.run(&["clone", "acme", "staging", "--from", "latest", "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("`staging` is not a new name"), "{out}");
    assert!(out.contains("PersistentVolumeClaim/"), "{out}");
    assert!(
        out.contains("odoo-tui delete staging --delete-data"),
        "{out}"
    );
    assert_eq!(
        jobs(&env, "restore").len(),
        restores,
        "nothing was restored"
    );
    assert!(env.obj("deployments", "staging-odoo-backend").is_none());
    // The way out the message gives works.
    env.ok(&["delete", "staging", "--delete-data", "--yes"]);
    env.ok(&["clone", "acme", "staging", "--from", "latest", "--yes"]);
}

/// A backup whose database and filestore measured `database` and `filestore` bytes.
fn sized_manifest(id: &str, database: u64, filestore: u64) -> String {
    let line = format!(
        r#"odoo-tui-manifest {{"id": "{id}", "time": "2026-11-27T03:00:09Z", "kind": "manual", "contents": "database+filestore", "database": "odoo", "image": "{CURRENT}", "revision": 1, "postgresql": 18, "modules": ["base"], "sizes": {{"database": {database}, "filestore": {filestore}}}, "files": {{"dump": {{"name": "{id}.dump", "bytes": 4096}}}}}}"#
    );
    serde_json::to_string(&line).unwrap()
}

#[test]
fn a_backup_bigger_than_the_room_on_its_volumes_is_refused_before_any_change() {
    const GIB: u64 = 1024 * 1024 * 1024;
    let logs = [
        sized_manifest("acme-odoo-1-2611270300", GIB / 2, 3 * GIB),
        sized_manifest("acme-odoo-1-2611260300", 40 * GIB, GIB / 2),
        sized_manifest("acme-odoo-1-2611250300", GIB / 2, GIB / 2),
    ];
    let scenario = format!(
        "pods:\n  - selector: {{app.kubernetes.io/component: backup}}\n    container: list\n    logs: [{}]\n",
        logs.join(", ")
    );
    let env = Env::start(Config::default().scenario(Scenario::from_yaml(&scenario).unwrap()));
    // Attachments on a 2Gi volume, the database on a 10Gi one.
    env.ok(&[
        "new",
        "acme",
        "--preset",
        "quick-start",
        "--set",
        "backend.persistence.enabled=true",
        "--set",
        "backend.persistence.size=2Gi",
        "--set",
        "postgresql.persistence.size=10Gi",
        "--yes",
    ]);
    let scale_before = env.server.count("patch", "deployments/scale");
    let refused = |from: &str| {
        let o = env.run(&["restore", "acme", "--from", from, "--yes"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        out
    };
    // The filestore: 3 GiB beside the current 0.5 GiB on a 2Gi volume.
    let out = refused("2611270300");
    assert!(
        out.contains("needs 3.0 GiB for its filestore")
            && out.contains("PersistentVolumeClaim/acme-odoo-backend-data")
            && out.contains("grow backend.persistence.size first; nothing was changed"),
        "{out}"
    );
    // The database: 40 GiB on a 10Gi volume.
    let out = refused("2611260300");
    assert!(
        out.contains("needs 40.0 GiB for its database")
            && out.contains("PersistentVolumeClaim/data-acme-postgresql-0")
            && out.contains("grow postgresql.persistence.size first"),
        "{out}"
    );
    // Nothing happened: no backup, no restore, the backend untouched, the lock given back.
    assert!(jobs(&env, "backup").is_empty());
    assert!(jobs(&env, "restore").is_empty());
    assert_eq!(env.server.count("patch", "deployments/scale"), scale_before);
    assert!(env.obj("leases", "acme-odoo-tui-lock").is_none());
}
