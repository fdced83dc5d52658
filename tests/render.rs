//! The renderer end to end: presets and the seed README's scenarios, snapshotted and
//! checked for the facts the README's "How odoo-tui differs from the chart" states.

use odoo_tui::output;
use odoo_tui::render::{Credentials, Object, RenderInput, render};
use odoo_tui::values::{self, Source, Values};

fn fixed_credentials() -> Credentials {
    Credentials {
        db_password: Some("generated-db-password".into()),
        minio_root_password: Some("generated-minio-password".into()),
        master_password: Some("generated-master-password".into()),
        admin_password: Some("generated-admin-password".into()),
    }
}

fn load(preset: Option<&str>, sets: &[&str]) -> Values {
    let mut sources = Vec::new();
    if let Some(p) = preset {
        sources.push(odoo_tui::presets::load(p).unwrap());
    }
    for s in sets {
        sources.push(Source::set(s).unwrap());
    }
    values::load(&sources).unwrap().values
}

fn objects(v: &Values, release: &str) -> Vec<Object> {
    render(&RenderInput {
        release,
        namespace: "odoo",
        values: v,
        credentials: &fixed_credentials(),
    })
    .unwrap()
}

fn keys(objs: &[Object]) -> Vec<String> {
    objs.iter().map(Object::key).collect()
}

const PRESET_REQUIRED: &[(&str, &[&str])] = &[
    ("quick-start", &[]),
    ("local-dev", &[]),
    (
        "external",
        &[
            "externalDatabase.host=db.example.com",
            "externalDatabase.password=dbpass",
            "externalS3.endpoint=https://s3.example.com",
            "externalS3.accessKey=AKIAEXAMPLE",
            "externalS3.secretKey=s3secret",
        ],
    ),
    (
        "production",
        &[
            "externalDatabase.host=db.example.com",
            "externalS3.endpoint=https://s3.example.com",
        ],
    ),
];

/// The four usage scenarios of the chart's README, with their exact --set lines.
const SEED_SCENARIOS: &[(&str, &str, &[&str])] = &[
    (
        "quick-start",
        "my-odoo",
        &[
            "postgresql.auth.password=changeme",
            "minio.auth.rootPassword=changeme",
        ],
    ),
    (
        "external",
        "my-odoo",
        &[
            "postgresql.enabled=false",
            "externalDatabase.host=my-db.example.com",
            "externalDatabase.password=dbpass",
            "minio.enabled=false",
            "externalS3.enabled=true",
            "externalS3.endpoint=https://s3.amazonaws.com",
            "externalS3.accessKey=AKIA...",
            "externalS3.secretKey=secret",
        ],
    ),
    (
        "production",
        "my-odoo",
        &[
            "postgresql.enabled=false",
            "externalDatabase.host=prod-db",
            "externalDatabase.existingSecret=my-db-secret",
            "minio.enabled=false",
            "externalS3.enabled=true",
            "externalS3.endpoint=https://s3.amazonaws.com",
            "externalS3.existingSecret=my-s3-secret",
            "sessionDb.existingSecret=my-session-secret",
        ],
    ),
    (
        "local-development",
        "odoo",
        &[
            "postgresql.auth.password=dev",
            "minio.auth.rootPassword=dev",
            "backend.resources.limits.memory=512Mi",
        ],
    ),
];

#[test]
fn presets_render_and_match_their_snapshots() {
    for (preset, sets) in PRESET_REQUIRED {
        let v = load(Some(preset), sets);
        let objs = objects(&v, "acme");
        insta::assert_snapshot!(
            format!("preset-{preset}"),
            output::to_yaml_stream(&objs, true)
        );
    }
}

#[test]
fn seed_readme_scenarios_render_and_match_their_snapshots() {
    for (name, release, sets) in SEED_SCENARIOS {
        let v = load(None, sets);
        let objs = objects(&v, release);
        insta::assert_snapshot!(
            format!("scenario-{name}"),
            output::to_yaml_stream(&objs, true)
        );
    }
}

#[test]
fn quick_start_has_the_charts_objects_plus_ours() {
    let v = load(Some("quick-start"), &[]);
    assert_eq!(
        keys(&objects(&v, "acme")),
        [
            "ServiceAccount/acme-odoo",
            "Secret/acme-odoo",
            "Secret/acme-odoo-config",
            "Service/acme-postgresql",
            "StatefulSet/acme-postgresql",
            "Service/acme-minio",
            "StatefulSet/acme-minio",
            "Job/acme-minio-provisioning",
            "Job/acme-odoo-init",
            "Job/acme-odoo-storage-init",
            "Service/acme-odoo-backend",
            "Deployment/acme-odoo-backend",
            "Job/acme-odoo-smoke-check",
        ]
    );
    // A release already containing the chart name is the fullname itself.
    let objs = objects(&v, "odoo");
    assert!(keys(&objs).contains(&"Deployment/odoo-backend".to_string()));
    assert!(keys(&objs).contains(&"StatefulSet/odoo-postgresql".to_string()));
}

fn json_of(objs: &[Object], key: &str) -> serde_json::Value {
    objs.iter()
        .find(|o| o.key() == key)
        .unwrap_or_else(|| panic!("{key} not rendered"))
        .to_json()
}

fn env_refs(container: &serde_json::Value) -> Vec<(String, String, String)> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let r = e.get("valueFrom")?.get("secretKeyRef")?;
            Some((
                e["name"].as_str()?.to_string(),
                r["name"].as_str()?.to_string(),
                r["key"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn backend_container(objs: &[Object], release: &str) -> serde_json::Value {
    let fullname = odoo_tui::render::names::fullname(release, "", "");
    let d = json_of(objs, &format!("Deployment/{fullname}-backend"));
    d["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn backend_secret_wiring_is_the_charts_for_every_existing_secret_combination() {
    let r = |n: &str, s: &str, k: &str| (n.to_string(), s.to_string(), k.to_string());
    // Everything chart-managed.
    let objs = objects(&load(Some("quick-start"), &[]), "acme");
    assert_eq!(
        env_refs(&backend_container(&objs, "acme")),
        [
            r("PGPASSWORD", "acme-odoo", "db-password"),
            r("SESSION_DB_URI", "acme-odoo", "session-db-uri"),
            r("AWS_ACCESS_KEY_ID", "acme-odoo", "s3-access-key"),
            r("AWS_SECRET_ACCESS_KEY", "acme-odoo", "s3-secret-key"),
        ]
    );
    // Bundled services with their own existing Secrets.
    let objs = objects(
        &load(
            Some("quick-start"),
            &[
                "postgresql.auth.existingSecret=pg",
                "minio.auth.existingSecret=mio",
            ],
        ),
        "acme",
    );
    assert_eq!(
        env_refs(&backend_container(&objs, "acme")),
        [
            r("PGPASSWORD", "pg", "password"),
            r("SESSION_DB_URI", "acme-odoo", "session-db-uri"),
            r("AWS_ACCESS_KEY_ID", "mio", "root-user"),
            r("AWS_SECRET_ACCESS_KEY", "mio", "root-password"),
        ]
    );
    let secret = json_of(&objs, "Secret/acme-odoo");
    assert_eq!(
        secret["data"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["session-db-uri"]
    );
    // Production: every credential from existing Secrets; the DB existingSecret renders without a
    // session Secret (the chart fails here).
    let objs = objects(&load(Some("production"), PRESET_REQUIRED[3].1), "acme");
    assert_eq!(
        env_refs(&backend_container(&objs, "acme")),
        [
            r("PGPASSWORD", "odoo-db", "password"),
            r("SESSION_DB_URI", "acme-odoo", "session-db-uri"),
            r("AWS_ACCESS_KEY_ID", "odoo-s3", "access-key"),
            r("AWS_SECRET_ACCESS_KEY", "odoo-s3", "secret-key"),
        ]
    );
    // With a session Secret too, no chart-managed Secret is needed at all.
    let objs = objects(
        &load(
            Some("production"),
            &[PRESET_REQUIRED[3].1, &["sessionDb.existingSecret=sess"]].concat(),
        ),
        "acme",
    );
    assert!(!keys(&objs).contains(&"Secret/acme-odoo".to_string()));
    assert!(env_refs(&backend_container(&objs, "acme")).contains(&r(
        "SESSION_DB_URI",
        "sess",
        "session-db-uri"
    )));
}

#[test]
fn s3_settings_are_the_charts() {
    let objs = objects(&load(None, SEED_SCENARIOS[1].2), "my-odoo");
    let c = backend_container(&objs, "my-odoo");
    let plain: Vec<(String, String)> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e.get("value")?.as_str()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(
        plain,
        [(
            "AWS_ENDPOINT_URL".to_string(),
            "https://s3.amazonaws.com".to_string()
        )]
    );
    let objs = objects(
        &load(Some("quick-start"), &["externalS3.region=eu-west-1"]),
        "acme",
    );
    let c = backend_container(&objs, "acme");
    let env = c["env"].as_array().unwrap();
    assert!(
        env.iter()
            .any(|e| e["name"] == "AWS_ENDPOINT_URL" && e["value"] == "http://acme-minio:9000")
    );
    assert!(
        env.iter()
            .any(|e| e["name"] == "AWS_DEFAULT_REGION" && e["value"] == "eu-west-1")
    );
}

fn odoo_conf(objs: &[Object], fullname: &str) -> String {
    let s = json_of(objs, &format!("Secret/{fullname}-config"));
    let b64 = s["data"]["odoo.conf"].as_str().unwrap();
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn odoo_facts_hold() {
    let objs = objects(&load(Some("quick-start"), &[]), "acme");
    let conf = odoo_conf(&objs, "acme-odoo");
    for line in [
        "db_host = acme-postgresql",
        "db_port = 5432",
        "db_user = odoo",
        "db_name = odoo",
        "dbfilter = ^odoo$",
        "list_db = False",
        "admin_passwd = generated-master-password",
        "proxy_mode = True",
        "workers = 2",
        "gevent_port = 8072",
        "limit_memory_soft = 2147483648",
        "limit_memory_hard = 2684354560",
        "server_wide_modules = base,web,session_db",
    ] {
        assert!(
            conf.lines().any(|l| l == line),
            "odoo.conf lacks `{line}`:\n{conf}"
        );
    }
    assert!(
        !conf.contains("generated-db-password"),
        "the DB password must not be in odoo.conf"
    );
    let c = backend_container(&objs, "acme");
    assert_eq!(c["command"], serde_json::json!(["odoo"]));
    assert_eq!(c["args"], serde_json::json!(["-c", "/etc/odoo/odoo.conf"]));
    assert_eq!(c["securityContext"]["runAsUser"], 100);
    let d = json_of(&objs, "Deployment/acme-odoo-backend");
    assert_eq!(
        d["spec"]["template"]["spec"]["securityContext"]["fsGroup"],
        101
    );
    // First boot: idempotent init with base + the S3 module, no demo data, admin password set.
    let job = json_of(&objs, "Job/acme-odoo-init");
    let jc = &job["spec"]["template"]["spec"]["containers"][0];
    let script = jc["command"][2].as_str().unwrap();
    assert!(script.contains("psql") && script.contains("ir_module_module"));
    assert!(script.contains("--stop-after-init") && script.contains("base.user_admin"));
    let env = jc["env"].as_array().unwrap();
    assert!(
        env.iter()
            .any(|e| e["name"] == "INIT_MODULES" && e["value"] == "base,fs_attachment_s3")
    );
    assert!(
        env.iter()
            .any(|e| e["name"] == "DEMO_FLAG" && e["value"] == "--without-demo=all")
    );
    // Storage init keeps the keys in the environment.
    let job = json_of(&objs, "Job/acme-odoo-storage-init");
    let script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap();
    assert!(script.contains("eval_options_from_env") && script.contains("$AWS_SECRET_ACCESS_KEY"));
}

#[test]
fn local_dev_runs_threaded_with_a_filestore_pvc() {
    let objs = objects(&load(Some("local-dev"), &[]), "acme");
    let conf = odoo_conf(&objs, "acme-odoo");
    assert!(conf.contains("workers = 0\n"));
    assert!(keys(&objs).contains(&"PersistentVolumeClaim/acme-odoo-backend-data".to_string()));
    assert!(
        !keys(&objs)
            .iter()
            .any(|k| k.contains("minio") || k.contains("storage-init"))
    );
}

#[test]
fn an_image_without_the_s3_modules_drops_session_db_and_uses_a_pvc() {
    let v = load(
        Some("quick-start"),
        &[
            "backend.image.repository=odoo",
            "backend.image.tag=18.0-20251008",
        ],
    );
    let objs = objects(&v, "acme");
    let conf = odoo_conf(&objs, "acme-odoo");
    assert!(conf.contains("server_wide_modules = base,web\n"), "{conf}");
    assert!(keys(&objs).contains(&"PersistentVolumeClaim/acme-odoo-backend-data".to_string()));
    assert!(!keys(&objs).contains(&"Job/acme-odoo-storage-init".to_string()));
    let c = backend_container(&objs, "acme");
    assert!(
        !c["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"].as_str().unwrap().starts_with("AWS_"))
    );
}

#[test]
fn a_master_password_from_a_secret_is_composed_at_start_not_rendered() {
    let v = load(
        Some("quick-start"),
        &[
            "backend.odoo.existingSecret=master",
            "backend.odoo.masterPassword=",
        ],
    );
    let objs = objects(&v, "acme");
    let conf = odoo_conf(&objs, "acme-odoo");
    assert!(!conf.contains("admin_passwd"));
    let d = json_of(&objs, "Deployment/acme-odoo-backend");
    let inits = d["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap();
    let compose = inits
        .iter()
        .find(|c| c["name"] == "compose-config")
        .unwrap();
    assert_eq!(
        compose["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "master"
    );
}

#[test]
fn pdbs_never_block_every_drain() {
    let objs = objects(
        &load(Some("quick-start"), &["backend.pdb.enabled=true"]),
        "acme",
    );
    assert!(
        !keys(&objs)
            .iter()
            .any(|k| k.starts_with("PodDisruptionBudget/"))
    );
    let objs = objects(
        &load(
            Some("quick-start"),
            &["backend.pdb.enabled=true", "backend.replicaCount=2"],
        ),
        "acme",
    );
    assert!(keys(&objs).contains(&"PodDisruptionBudget/acme-odoo-backend".to_string()));
}

fn all_pod_specs(objs: &[Object]) -> Vec<(String, serde_json::Value)> {
    objs.iter()
        .filter_map(|o| {
            let j = o.to_json();
            let mut spec = j["spec"]["template"]["spec"].clone();
            if spec.is_null() {
                // A CronJob's pod.
                spec = j["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone();
            }
            (!spec.is_null()).then(|| (o.key(), spec))
        })
        .collect()
}

/// The Jobs commands render besides `render`'s objects: backup, restore and its steps,
/// a clone's identity Job.
fn command_jobs(v: &Values, release: &str) -> Vec<Object> {
    use odoo_tui::render::Ctx;
    use odoo_tui::render::backup::{BackupKind, backup_job_of};
    use odoo_tui::render::ops_parts::{UpgradeModules, UpgradeSpec, upgrade_job};
    use odoo_tui::render::restore::{
        RestoreSpec, RestoreStep, backup_source, clone_job, restore_job, restore_step_job,
    };
    let creds = fixed_credentials();
    let input = RenderInput {
        release,
        namespace: "odoo",
        values: v,
        credentials: &creds,
    };
    let ctx = Ctx::new(&input).unwrap();
    let t = 1_795_820_700;
    let b = backup_job_of(&ctx, BackupKind::PreRestore, 3, t);
    let spec = RestoreSpec {
        id: "acme-odoo-3-2611272305".into(),
        source: backup_source(&ctx),
    };
    let mut out = vec![b.job];
    out.push(upgrade_job(
        &ctx,
        &UpgradeSpec {
            modules: UpgradeModules::All,
            image: v.backend.image.clone(),
            revision: 4,
            beside_backend: false,
        },
    ));
    out.push(restore_job(&ctx, &spec, t));
    out.push(restore_step_job(&ctx, RestoreStep::Commit, t));
    out.push(restore_step_job(&ctx, RestoreStep::Undo, t));
    out.push(clone_job(&ctx, true, t));
    out
}

/// One source of each kind: public over HTTPS at a tag, private over HTTPS with a token,
/// private over SSH with a deploy key (at a commit, with a folder), public over git://.
const ADDONS_SETS: &[&str] = &[
    "backend.addons[0].name=oca-web,backend.addons[0].repo=https://github.com/OCA/web.git,backend.addons[0].ref=v18.0.1.0.0,backend.addons[1].name=acme,backend.addons[1].repo=https://git.example.com/acme/odoo-modules.git,backend.addons[1].ref=v2.3.0,backend.addons[1].secret=acme-git-token,backend.addons[2].name=partner,backend.addons[2].repo=git@github.com:partner/odoo.git,backend.addons[2].ref=3f1c0d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d,backend.addons[2].path=addons,backend.addons[2].secret=partner-deploy-key,backend.addons[3].name=mirror,backend.addons[3].repo=git://git.example.com/mirror.git,backend.addons[3].ref=v1.0",
];

/// The pods that run Odoo's code: they all see the same sources.
fn odoo_pods(objs: &[Object]) -> Vec<(String, serde_json::Value)> {
    all_pod_specs(objs)
        .into_iter()
        .filter(|(_, spec)| {
            spec["containers"][0]["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("ghcr.io/sergio-bershadsky/odoo"))
        })
        .collect()
}

#[test]
fn addon_sources_render_and_match_their_snapshot() {
    let v = load(Some("quick-start"), ADDONS_SETS);
    let objs = objects(&v, "acme");
    let deployment = json_of(&objs, "Deployment/acme-odoo-backend");
    insta::assert_snapshot!(
        "addons-backend-pod",
        serde_saphyr::to_string(&deployment["spec"]["template"]["spec"]).unwrap()
    );
}

#[test]
fn every_odoo_pod_fetches_the_same_sources_onto_addons_path() {
    let v = load(Some("quick-start"), ADDONS_SETS);
    let mut objs = objects(&v, "acme");
    objs.extend(command_jobs(&v, "acme"));
    let pods = odoo_pods(&objs);
    let names: Vec<&str> = pods.iter().map(|(k, _)| k.as_str()).collect();
    for want in [
        "Deployment/acme-odoo-backend",
        "Job/acme-odoo-init",
        "Job/acme-odoo-storage-init",
        "Job/acme-odoo-upgrade-4",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    let (_, first) = &pods[0];
    for (key, spec) in &pods {
        let init = spec["initContainers"].as_array().unwrap();
        assert_eq!(init[0]["name"], "fetch-addons", "{key}");
        assert_eq!(init[1]["name"], "addons-python", "{key}");
        assert_eq!(init[0], first["initContainers"][0], "{key}");
        assert_eq!(init[1], first["initContainers"][1], "{key}");
        // ssh needs its uid in the git image's /etc/passwd: nobody is there.
        assert_eq!(init[0]["securityContext"]["runAsUser"], 65534, "{key}");
        assert_eq!(
            init[0]["image"],
            "alpine/git:v2.49.1@sha256:c0280cf9572316299b08544065d3bf35db65043d5e3963982ec50647d2746e26"
        );
        let c = &spec["containers"][0];
        let mounts = c["volumeMounts"].as_array().unwrap();
        for (name, path) in [
            ("addons", "/mnt/odoo-tui/addons"),
            ("addons-python", "/mnt/odoo-tui/python"),
        ] {
            let m = mounts.iter().find(|m| m["name"] == name);
            assert_eq!(
                m.map(|m| (&m["mountPath"], &m["readOnly"])),
                Some((&serde_json::json!(path), &serde_json::json!(true))),
                "{key}: {name}"
            );
        }
        let env = c["env"].as_array().unwrap();
        assert!(
            env.iter()
                .any(|e| e["name"] == "PYTHONPATH" && e["value"] == "/mnt/odoo-tui/python"),
            "{key}"
        );
        // The Odoo container never sees the credentials.
        assert!(
            !mounts.iter().any(|m| m["name"] == "addons-secrets"),
            "{key}"
        );
    }
    let conf = odoo_conf(&objs, "acme-odoo");
    assert!(
        conf.contains(
            "addons_path = /mnt/extra-addons,/mnt/odoo-tui/addons/oca-web,/mnt/odoo-tui/addons/acme,/mnt/odoo-tui/addons/partner/addons,/mnt/odoo-tui/addons/mirror\n"
        ),
        "{conf}"
    );
}

#[test]
fn a_private_sources_secret_reaches_only_the_fetch_container_as_files() {
    let v = load(Some("quick-start"), ADDONS_SETS);
    let objs = objects(&v, "acme");
    let spec = json_of(&objs, "Deployment/acme-odoo-backend")["spec"]["template"]["spec"].clone();
    let vol = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "addons-secrets")
        .expect("the Secrets are projected")
        .clone();
    assert_eq!(
        vol["projected"]["sources"],
        serde_json::json!([
            {"secret": {"name": "acme-git-token", "items": [
                {"key": "username", "path": "acme/username"},
                {"key": "password", "path": "acme/password"},
            ]}},
            {"secret": {"name": "partner-deploy-key", "items": [
                {"key": "ssh-privatekey", "path": "partner/ssh-privatekey"},
                {"key": "known_hosts", "path": "partner/known_hosts"},
            ]}},
        ])
    );
    for c in spec["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(spec["containers"].as_array().unwrap())
    {
        let has = c["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == "addons-secrets");
        assert_eq!(has, c["name"] == "fetch-addons", "{}", c["name"]);
        // No credential in an env var of any container: files only.
        for e in c["env"].as_array().into_iter().flatten() {
            let r = &e["valueFrom"]["secretKeyRef"]["name"];
            assert!(
                r != "acme-git-token" && r != "partner-deploy-key",
                "{} {}",
                c["name"],
                e["name"]
            );
        }
    }
}

#[test]
fn without_sources_nothing_changes() {
    let v = load(Some("quick-start"), &[]);
    let objs = objects(&v, "acme");
    let text = output::to_yaml_stream(&objs, true);
    assert!(!text.contains("addons-python") && !text.contains("fetch-addons"));
    assert!(odoo_conf(&objs, "acme-odoo").contains("addons_path = /mnt/extra-addons\n"));
}

fn all_scenarios() -> Vec<Vec<Object>> {
    let mut out = Vec::new();
    for (preset, sets) in PRESET_REQUIRED {
        out.push(objects(&load(Some(preset), sets), "acme"));
    }
    for (_, release, sets) in SEED_SCENARIOS {
        out.push(objects(&load(None, sets), release));
    }
    let everything = load(
        Some("quick-start"),
        &[
            "nginx.enabled=true",
            "frontend.enabled=true",
            "frontend.image.repository=example/shop",
            "frontend.image.tag=1.2.3",
            "ingress.enabled=true",
            "ingress.hosts[0].host=odoo.example.com",
            "networkPolicy.enabled=true",
            "backend.replicaCount=2",
            "backend.pdb.enabled=true",
            "backup.schedule=0 3 * * *",
            "backup.keep.daily=7",
            "backup.keep.weekly=4",
        ],
    );
    let mut all = objects(&everything, "acme");
    all.extend(command_jobs(&everything, "acme"));
    out.push(all);
    let addons = load(Some("quick-start"), ADDONS_SETS);
    let mut all = objects(&addons, "acme");
    all.extend(command_jobs(&addons, "acme"));
    out.push(all);
    let local = load(
        Some("local-dev"),
        &["backup.schedule=@daily", "backup.keep.last=3"],
    );
    let mut all = objects(&local, "acme");
    all.extend(command_jobs(&local, "acme"));
    out.push(all);
    out
}

#[test]
fn every_pod_meets_pod_security_standard_restricted() {
    for objs in all_scenarios() {
        for (key, spec) in all_pod_specs(&objs) {
            let psc = &spec["securityContext"];
            assert_eq!(psc["runAsNonRoot"], true, "{key}");
            assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{key}");
            let containers = spec["containers"].as_array().unwrap().iter().chain(
                spec.get("initContainers")
                    .and_then(|i| i.as_array())
                    .into_iter()
                    .flatten(),
            );
            for c in containers {
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{key} {}", c["name"]);
                assert_eq!(
                    sc["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{key} {}",
                    c["name"]
                );
                assert_ne!(sc["privileged"], true, "{key}");
                assert_ne!(sc["runAsUser"], 0, "{key}");
                let image = c["image"].as_str().unwrap();
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
                assert!(
                    !image.ends_with(":latest") && !tag.is_empty(),
                    "{key}: floating image {image}"
                );
            }
            for v in spec
                .get("volumes")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                assert!(v.get("hostPath").is_none(), "{key}");
            }
        }
    }
}

#[test]
fn no_credential_appears_without_include_secrets() {
    let secrets = [
        "generated-db-password",
        "generated-minio-password",
        "generated-master-password",
        "generated-admin-password",
    ];
    use base64::Engine;
    for objs in all_scenarios() {
        let text = output::to_yaml_stream(&objs, false);
        for s in secrets
            .iter()
            .copied()
            .chain(["changeme", "dbpass", "s3secret"])
        {
            let b64 = base64::engine::general_purpose::STANDARD.encode(s);
            assert!(
                !text.contains(s) && !text.contains(&b64),
                "credential {s} leaked"
            );
        }
        // Credentials only ever live in Secrets.
        for o in objs.iter().filter(|o| o.kind() != "Secret") {
            let j = o.to_json().to_string();
            for s in secrets {
                assert!(!j.contains(s), "{} carries a credential", o.key());
            }
        }
    }
}

#[test]
fn rendered_yaml_parses_back_into_the_same_typed_objects() {
    for objs in all_scenarios() {
        let text = output::to_yaml_stream(&objs, true);
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
        assert_eq!(docs.len(), objs.len());
        for (doc, obj) in docs.into_iter().zip(&objs) {
            let typed = Object::from_json(doc.clone()).unwrap();
            assert_eq!(&typed, obj, "{} changed through YAML", obj.key());
            assert_eq!(typed.to_json(), doc, "{} lost fields", obj.key());
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let v = load(Some("quick-start"), &[]);
    assert_eq!(objects(&v, "acme"), objects(&v, "acme"));
}

#[test]
fn every_object_carries_the_instance_labels() {
    for objs in all_scenarios() {
        for o in &objs {
            let l = o.metadata().labels.as_ref().unwrap();
            assert_eq!(l["app.kubernetes.io/managed-by"], "odoo-tui", "{}", o.key());
            assert_eq!(l["app.kubernetes.io/name"], "odoo", "{}", o.key());
            assert!(l.contains_key("app.kubernetes.io/instance"), "{}", o.key());
            assert!(l.contains_key("app.kubernetes.io/version"), "{}", o.key());
        }
    }
}

/// Every manifest validates strictly (no unknown fields) against the Kubernetes OpenAPI
/// schemas of 1.26 through the newest release, using the `kubernetes-validate` tool
/// (`pip install kubernetes-validate`; `.ci/run` installs it).
#[test]
fn manifests_validate_strictly_against_kubernetes_1_26_to_newest() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, objs) in all_scenarios().iter().enumerate() {
        let sub = dir.path().join(format!("s{i}"));
        files.extend(output::write_dir(&sub, objs, true).unwrap());
    }
    let versions = [
        "1.26.0", "1.27.0", "1.28.0", "1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0", "1.34.0",
        "1.35.0", "1.36.0", "1.37.0",
    ];
    for k in versions {
        let out = std::process::Command::new("kubernetes-validate")
            .args(["--strict", "--quiet", "-k", k])
            .args(&files)
            .output()
            .expect("kubernetes-validate is installed (pip install kubernetes-validate)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && !text.contains("ERROR"),
            "Kubernetes {k}:\n{text}"
        );
    }
}
