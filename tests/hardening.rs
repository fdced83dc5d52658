//! Values and manifests that cannot be turned against the user: injection through values,
//! credentials in messages and records, Pod Security opt-outs, read-only root
//! filesystems, tight NetworkPolicies, labelled claims, restricted namespaces.

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use odoo_tui::render::{Credentials, Ctx, Object, RenderInput, render};
use odoo_tui::values::{self, Source, Values};
use serde_json::{Value as Json, json};

fn creds() -> Credentials {
    Credentials {
        db_password: Some("generated-db-password".into()),
        minio_root_password: Some("generated-minio-password".into()),
        master_password: Some("generated-master-password".into()),
        admin_password: Some("generated-admin-password".into()),
    }
}

fn preset(name: &str) -> Source {
    odoo_tui::presets::load(name).unwrap()
}

fn sets(list: &[&str]) -> Vec<Source> {
    list.iter().map(|s| Source::set(s).unwrap()).collect()
}

/// A values document setting `path` (dotted, numbers index lists) to `value`.
fn doc(path: &str, value: Json) -> Source {
    fn build(segs: &[&str], value: Json) -> Json {
        match segs.split_first() {
            None => value,
            Some((s, rest)) => match s.parse::<usize>() {
                Ok(_) => Json::Array(vec![build(rest, value)]),
                Err(_) => json!({ *s: build(rest, value) }),
            },
        }
    }
    let segs: Vec<&str> = path.split('.').collect();
    let yaml = serde_saphyr::to_string(&build(&segs, value)).unwrap();
    Source::yaml("hostile.yaml", &yaml).unwrap()
}

fn load(sources: Vec<Source>) -> Result<Values, String> {
    values::load(&sources)
        .map(|l| l.values)
        .map_err(|e| e.to_string())
}

fn objects(v: &Values) -> Vec<Object> {
    render(&RenderInput {
        release: "acme",
        namespace: "odoo",
        values: v,
        credentials: &creds(),
    })
    .unwrap()
}

fn odoo_conf(objs: &[Object]) -> String {
    let s = objs
        .iter()
        .find(|o| o.kind() == "Secret" && o.name().ends_with("-config"))
        .unwrap()
        .to_json();
    let b64 = s["data"]["odoo.conf"].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

/// Every shell script and argument of every container.
fn scripts(objs: &[Object]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objs {
        let j = o.to_json();
        let spec = &j["spec"]["template"]["spec"];
        for list in ["containers", "initContainers"] {
            for c in spec[list].as_array().into_iter().flatten() {
                for field in ["command", "args"] {
                    for s in c[field].as_array().into_iter().flatten() {
                        out.push(s.as_str().unwrap_or_default().to_string());
                    }
                }
            }
        }
    }
    out
}

const HOSTILE: &[&str] = &[
    "x\n[options]\nlist_db = True",
    "a\nb",
    "x;y",
    "$(id)",
    "`id`",
    "'quoted'",
    "\"quoted\"",
    "{",
    "}",
    "[section]",
    "a\u{1b}[2Jb",
    "/var/lib/odoo/../../etc",
];

/// Every value that lands in odoo.conf, nginx.conf or a script, with the other values it
/// needs to be rendered at all.
fn written_keys() -> Vec<(String, Vec<&'static str>)> {
    let defaults = values::defaults();
    let mut keys: Vec<(String, Vec<&'static str>)> = values::safety::written_values(&defaults)
        .into_iter()
        .map(|(k, _, _)| (k, vec![]))
        .collect();
    let nginx = vec!["nginx.enabled=true", "nginx.cors.enabled=true"];
    keys.push(("nginx.cors.origins.0".into(), nginx.clone()));
    let external_db = vec![
        "postgresql.enabled=false",
        "externalDatabase.host=db.example.com",
        "externalDatabase.password=pw",
    ];
    let external_s3 = vec![
        "minio.enabled=false",
        "externalS3.enabled=true",
        "externalS3.endpoint=https://s3.example.com",
        "externalS3.accessKey=ak",
        "externalS3.secretKey=sk",
    ];
    for (k, ctx) in [
        ("externalDatabase.host", external_db.clone()),
        ("externalDatabase.user", external_db.clone()),
        ("externalDatabase.database", external_db),
        ("postgresql.auth.username", vec![]),
        ("postgresql.auth.database", vec![]),
        ("backend.odoo.serverWideModules", vec![]),
        ("backend.odoo.logLevel", vec![]),
        ("backend.initDb.language", vec![]),
        ("minio.provisioning.buckets.0.name", vec![]),
        ("externalS3.endpoint", external_s3.clone()),
        ("externalS3.bucket", external_s3),
        ("nginx.domains.public.host", nginx.clone()),
        ("nginx.clientMaxBodySize", nginx.clone()),
        ("nginx.timeouts.proxy_read", nginx),
    ] {
        keys.push((k.to_string(), ctx));
    }
    keys
}

#[test]
fn hostile_values_are_refused_or_stay_inert() {
    let mut failures = Vec::new();
    for (key, context) in written_keys() {
        for hostile in HOSTILE {
            let mut sources = sets(&context);
            sources.push(doc(&key, Json::String(hostile.to_string())));
            match load(sources) {
                Err(msg) => {
                    let shown_key = key.clone();
                    if !msg.contains(&format!("`{shown_key}")) {
                        failures.push(format!(
                            "{key} = {hostile:?}: the error does not name the key:\n{msg}"
                        ));
                    }
                    let credential = values::CREDENTIAL_KEYS.contains(&key.as_str());
                    if credential && hostile.len() > 2 && msg.contains(hostile) {
                        failures.push(format!(
                            "{key} = {hostile:?}: the error repeats a credential"
                        ));
                    }
                    if msg.lines().any(|l| l.chars().any(char::is_control)) {
                        failures.push(format!(
                            "{key} = {hostile:?}: the error holds a control character: {msg:?}"
                        ));
                    }
                }
                Ok(v) => {
                    // Accepted only where the key's rule allows it: then it must change
                    // nothing but its own line.
                    let objs = objects(&v);
                    let conf = odoo_conf(&objs);
                    let sections = conf.lines().filter(|l| l.starts_with('[')).count();
                    let list_db = conf.lines().filter(|l| l.starts_with("list_db")).count();
                    if sections != 1 || list_db != 1 || !conf.contains("list_db = False\n") {
                        failures.push(format!("{key} = {hostile:?} changed odoo.conf:\n{conf}"));
                    }
                    if hostile.len() > 2 && scripts(&objs).iter().any(|s| s.contains(hostile)) {
                        failures.push(format!("{key} = {hostile:?} reached a script"));
                    }
                    for o in &objs {
                        if o.kind() == "ConfigMap"
                            && o.name().ends_with("-nginx")
                            && hostile.len() > 2
                            && o.to_json().to_string().contains(hostile)
                        {
                            failures.push(format!("{key} = {hostile:?} reached nginx.conf"));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_newline_in_dbfilter_cannot_move_list_db_out_of_options() {
    let err = load(vec![doc(
        "backend.odoo.dbFilter",
        json!("^odoo$\nlist_db = True\n[other]"),
    )])
    .unwrap_err();
    assert!(err.contains("`backend.odoo.dbFilter`"), "{err}");
    assert!(err.contains("control character"), "{err}");
    let err = load(sets(&["backend.smokeCheck.path=/web/login;reboot"])).unwrap_err();
    assert!(
        err.contains("`backend.smokeCheck.path` must be a URL path"),
        "{err}"
    );
    // Ordinary values still load.
    let v = load(sets(&[
        "backend.odoo.dbFilter=^(odoo|test)[0-9]{0,2}$",
        "backend.odoo.addonsPath=/mnt/extra-addons\\,/mnt/oca",
        "backend.smokeCheck.path=/web/login",
        "backup.prefix=backups/acme/",
    ]))
    .unwrap();
    assert!(odoo_conf(&objects(&v)).contains("dbfilter = ^(odoo|test)[0-9]{0,2}$\n"));
}

#[test]
fn a_mistyped_credential_key_never_prints_its_value() {
    let err = load(sets(&["externalDatabase.pasword=S3cr3t"])).unwrap_err();
    assert!(
        err.contains("unknown key `externalDatabase.pasword`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean `externalDatabase.password`"),
        "{err}"
    );
    assert!(!err.contains("S3cr3t"), "{err}");
    // A credential key next to a mistake: its value is not echoed either.
    let err = load(sets(&[
        "postgresql.auth.password=S3cr3t,backend.replicas=2",
    ]))
    .unwrap_err();
    assert!(err.contains("backend.replicas"), "{err}");
    assert!(!err.contains("S3cr3t"), "{err}");
    // A known, harmless key keeps its value in the message.
    let err = load(sets(&["externalDatabase.port=0"])).unwrap_err();
    assert!(err.contains("--set externalDatabase.port=0"), "{err}");
    // A syntax error in a --set with a password does not echo it.
    let e = Source::set("externalS3.secretKey=S3cr3t,{")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("S3cr3t"), "{e}");
}

#[test]
fn the_binary_never_prints_a_mistyped_credential() {
    let env = common::Env::new();
    for args in [
        &["render", "acme", "--set", "externalDatabase.pasword=S3cr3t"][..],
        &[
            "render",
            "acme",
            "-v",
            "--set",
            "minio.auth.rootPasword=S3cr3t",
        ][..],
        &[
            "new",
            "acme",
            "--yes",
            "--dry-run",
            "--set",
            "backend.odoo.masterPasword=S3cr3t",
        ][..],
    ] {
        let o = env.run(args);
        let out = common::text(&o);
        assert!(!o.status.success(), "{args:?}: {out}");
        assert!(out.contains("unknown key"), "{args:?}: {out}");
        assert!(!out.contains("S3cr3t"), "{args:?}: {out}");
    }
}

#[test]
fn plain_env_values_that_look_like_credentials_are_refused() {
    let err = load(vec![doc(
        "backend.env",
        json!([{"name": "SMTP_PASSWORD", "value": "hunter2"}]),
    )])
    .unwrap_err();
    assert!(err.contains("`backend.env.0` (`SMTP_PASSWORD`)"), "{err}");
    assert!(err.contains("valueFrom.secretKeyRef"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let err = load(vec![doc(
        "frontend.env",
        json!([{"name": "DATABASE_URL", "value": "postgres://shop:hunter2@db/shop"}]),
    )])
    .unwrap_err();
    assert!(err.contains("`frontend.env.0`"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    // From a Secret, or not a credential: fine.
    load(vec![doc(
        "backend.env",
        json!([
            {"name": "SMTP_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "smtp", "key": "password"}}},
            {"name": "LOG_FORMAT", "value": "json"}
        ]),
    )])
    .unwrap();
}

/// (key, value as --set writes it) pairs that weaken Pod Security "restricted".
const WEAKENINGS: &[(&str, &str)] = &[
    ("backend.containerSecurityContext.privileged", "true"),
    (
        "postgresql.containerSecurityContext.allowPrivilegeEscalation",
        "true",
    ),
    ("minio.containerSecurityContext.runAsUser", "0"),
    ("backend.containerSecurityContext.runAsNonRoot", "false"),
    (
        "nginx.containerSecurityContext.seccompProfile.type",
        "Unconfined",
    ),
    (
        "backend.podSecurityContext.seccompProfile.type",
        "Unconfined",
    ),
    ("backend.podSecurityContext.runAsUser", "0"),
    (
        "frontend.containerSecurityContext.capabilities.add",
        "{SYS_ADMIN}",
    ),
    (
        "backend.containerSecurityContext.readOnlyRootFilesystem",
        "false",
    ),
    ("nginx.containerSecurityContext.procMount", "Unmasked"),
];

#[test]
fn weakening_a_security_context_needs_the_opt_out() {
    for (key, value) in WEAKENINGS {
        let set = format!("{key}={value}");
        let err = load(sets(&[&set])).unwrap_err();
        assert!(err.contains(&format!("`{key}")), "{set}: {err}");
        assert!(
            err.contains("security.allowUnrestricted: true"),
            "{set}: {err}"
        );
        load(sets(&[&set, "security.allowUnrestricted=true"]))
            .unwrap_or_else(|e| panic!("{set} with the opt-out: {e}"));
    }
    // With the opt-out the value is rendered as written.
    let v = load(sets(&[
        "backend.containerSecurityContext.privileged=true",
        "backend.containerSecurityContext.readOnlyRootFilesystem=false",
        "security.allowUnrestricted=true",
    ]))
    .unwrap();
    let objs = objects(&v);
    let d = objs
        .iter()
        .find(|o| o.key() == "Deployment/acme-odoo-backend")
        .unwrap()
        .to_json();
    let sc = &d["spec"]["template"]["spec"]["containers"][0]["securityContext"];
    assert_eq!(sc["privileged"], true);
    assert_eq!(sc["readOnlyRootFilesystem"], false);
}

fn pod_specs(objs: &[Object]) -> Vec<(String, Json)> {
    objs.iter()
        .filter_map(|o| {
            let j = o.to_json();
            let spec = j["spec"]["template"]["spec"].clone();
            (!spec.is_null()).then(|| (o.key(), spec))
        })
        .collect()
}

/// Claim template names of a StatefulSet, by object key.
type Templates = Vec<(String, Vec<String>)>;

/// Every pod odoo-tui renders: each preset with nginx and the frontend, plus the backup
/// (with and without S3) and upgrade Jobs; and the StatefulSets' claim templates.
fn every_pod() -> (Vec<(String, Json)>, Templates) {
    let mut out = Vec::new();
    let mut templates = Vec::new();
    let everything = [
        "nginx.enabled=true",
        "frontend.enabled=true",
        "frontend.image.repository=example/shop",
        "frontend.image.tag=1.2.3",
        "networkPolicy.enabled=true",
    ];
    for (p, extra) in [
        ("quick-start", &everything[..]),
        ("local-dev", &[][..]),
        (
            "production",
            &[
                "externalDatabase.host=db.example.com",
                "externalS3.endpoint=https://s3.example.com",
            ][..],
        ),
    ] {
        let mut sources = vec![preset(p)];
        sources.extend(sets(extra));
        let v = load(sources).unwrap();
        let objs = objects(&v);
        for o in &objs {
            let names = o.to_json()["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| t["metadata"]["name"].as_str().unwrap().to_string())
                .collect();
            templates.push((o.key(), names));
        }
        out.extend(pod_specs(&objs));
        let input = RenderInput {
            release: "acme",
            namespace: "odoo",
            values: &v,
            credentials: &creds(),
        };
        let ctx = Ctx::new(&input).unwrap();
        let backup = odoo_tui::render::ops_parts::backup_job(&ctx, 3, 1_795_820_700);
        out.extend(pod_specs(&[backup.job]));
        let upgrade = odoo_tui::render::ops_parts::upgrade_job(
            &ctx,
            &odoo_tui::render::ops_parts::UpgradeSpec {
                modules: odoo_tui::render::ops_parts::UpgradeModules::All,
                image: v.backend.image.clone(),
                revision: 4,
                beside_backend: true,
            },
        );
        out.extend(pod_specs(&[upgrade]));
    }
    (out, templates)
}

fn mounts(c: &Json) -> Vec<String> {
    c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["mountPath"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_container_has_a_read_only_root_and_writable_dirs_where_it_writes() {
    let (pods, templates) = every_pod();
    for (key, spec) in pods {
        let mut volumes: BTreeMap<String, Json> = spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| (v["name"].as_str().unwrap().to_string(), v.clone()))
            .collect();
        for (k, claims) in &templates {
            if k == &key {
                for c in claims {
                    volumes.insert(c.clone(), json!({"persistentVolumeClaim": {}}));
                }
            }
        }
        let containers = spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(spec["initContainers"].as_array().into_iter().flatten());
        for c in containers {
            let name = c["name"].as_str().unwrap();
            assert_eq!(
                c["securityContext"]["readOnlyRootFilesystem"], true,
                "{key} {name}"
            );
            // Every mount refers to a volume of the pod; writable ones are emptyDirs or claims.
            for m in c["volumeMounts"].as_array().into_iter().flatten() {
                let v = volumes
                    .get(m["name"].as_str().unwrap())
                    .unwrap_or_else(|| panic!("{key} {name}: no volume for {m}"));
                assert!(!v["hostPath"].is_object(), "{key} {name}");
            }
            let image = c["image"].as_str().unwrap();
            let paths = mounts(c);
            let needs: &[&str] = if image.contains("sergio-bershadsky/odoo") {
                &["/tmp", "/var/lib/odoo"]
            } else if image.starts_with("postgres:") && name == "postgresql" {
                &["/tmp", "/var/run/postgresql", "/var/lib/postgresql/data"]
            } else if image.starts_with("minio/minio") {
                &["/tmp", "/data"]
            } else if image.starts_with("minio/mc") {
                &["/tmp"]
            } else if image.starts_with("nginx") {
                &["/tmp/nginx"]
            } else if image.starts_with("example/shop") {
                &["/tmp"]
            } else {
                &[]
            };
            for n in needs {
                assert!(
                    paths.iter().any(|p| p == n),
                    "{key} {name} lacks {n}: {paths:?}"
                );
            }
            if image.starts_with("minio/minio") {
                let cmd = c["command"].to_string();
                assert!(cmd.contains("\"--certs-dir\",\"/tmp/certs\""), "{cmd}");
            }
            if let Some(mc_dir) = c["env"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["name"] == "MC_CONFIG_DIR")
            {
                let dir = mc_dir["value"].as_str().unwrap();
                assert!(
                    paths.iter().any(|p| dir.starts_with(p.as_str())),
                    "{key} {name}"
                );
            }
        }
    }
}

#[test]
fn datastores_admit_only_their_clients_by_component() {
    let mut sources = vec![preset("quick-start")];
    sources.extend(sets(&["networkPolicy.enabled=true"]));
    let objs = objects(&load(sources).unwrap());
    let policy = |name: &str| {
        objs.iter()
            .find(|o| o.key() == format!("NetworkPolicy/{name}"))
            .unwrap()
            .to_json()
    };
    for (name, clients) in [
        (
            "acme-odoo-postgresql",
            &["backend", "init", "storage-init", "upgrade", "backup"][..],
        ),
        (
            "acme-odoo-minio",
            &[
                "backend",
                "init",
                "storage-init",
                "upgrade",
                "backup",
                "minio-provisioning",
            ][..],
        ),
    ] {
        let from = policy(name)["spec"]["ingress"][0]["from"].clone();
        let comps: Vec<&str> = from
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let l = &p["podSelector"]["matchLabels"];
                assert_eq!(l["app.kubernetes.io/instance"], "acme");
                l["app.kubernetes.io/component"].as_str().unwrap()
            })
            .collect();
        assert_eq!(comps, clients, "{name}");
    }
}

#[test]
fn production_turns_network_policies_on_with_open_egress() {
    let mut sources = vec![preset("production")];
    sources.extend(sets(&[
        "externalDatabase.host=db.example.com",
        "externalS3.endpoint=https://s3.example.com",
    ]));
    let objs = objects(&load(sources).unwrap());
    let policies: Vec<Json> = objs
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(Object::to_json)
        .collect();
    assert!(!policies.is_empty());
    for p in policies {
        assert_eq!(p["spec"]["policyTypes"], json!(["Ingress"]), "{p}");
        assert!(p["spec"]["egress"].is_null(), "{p}");
    }
}

#[test]
fn claims_and_claim_templates_carry_managed_by() {
    for p in ["quick-start", "local-dev"] {
        let objs = objects(&load(vec![preset(p)]).unwrap());
        let mut seen = 0;
        for o in &objs {
            let j = o.to_json();
            for t in j["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert_eq!(
                    t["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                    "odoo-tui",
                    "{} {t}",
                    o.key()
                );
                seen += 1;
            }
            if o.kind() == "PersistentVolumeClaim" {
                assert_eq!(
                    j["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                    "odoo-tui"
                );
                seen += 1;
            }
        }
        assert!(seen > 0, "{p}");
    }
}

#[test]
fn a_namespace_odoo_tui_creates_enforces_restricted() {
    let env = common::Env::new();
    env.ok(&[
        "-n",
        "fresh",
        "new",
        "acme",
        "--preset",
        "local-dev",
        "--yes",
    ]);
    let ns = env
        .server
        .object("namespaces", "", "fresh")
        .expect("created");
    let labels = &ns["metadata"]["labels"];
    for mode in ["enforce", "warn", "audit"] {
        assert_eq!(
            labels[format!("pod-security.kubernetes.io/{mode}")],
            "restricted",
            "{ns}"
        );
        assert_eq!(
            labels[format!("pod-security.kubernetes.io/{mode}-version")],
            "latest",
            "{ns}"
        );
    }
}
