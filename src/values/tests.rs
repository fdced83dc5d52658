use super::*;

fn yaml(text: &str) -> Source {
    Source::yaml("values.yaml", text).unwrap()
}

fn set(arg: &str) -> Source {
    Source::set(arg).unwrap()
}

fn errors(sources: &[Source]) -> String {
    load(sources).unwrap_err().to_string()
}

#[test]
fn defaults_load_and_match_the_documented_corrections() {
    let v = defaults();
    assert_eq!(v.backend.image.repository, "ghcr.io/sergio-bershadsky/odoo");
    assert_eq!(v.backend.odoo.workers, 2);
    assert_eq!(v.postgresql.auth.database, "odoo");
    assert_eq!(v.backend.container_security_context.run_as_user, Some(100));
    assert_eq!(v.backend.pod_security_context.fs_group, Some(101));
    assert!(!v.minio.image.digest.is_empty());
}

/// The image `ghcr.io/sergio-bershadsky/odoo` is built by the repository
/// `sergio-bershadsky/docker` (folder `odoo/`) and tagged `<branch>-<Odoo nightly date>`;
/// the newest 18.0 tags of its published list (2026-09-29). The default must be one of
/// them: a tag that was never published fails every pull.
const PUBLISHED_18_TAGS: &[&str] = &["18.0-20260926", "18.0-20260908", "18.0-20260817"];

#[test]
fn the_default_backend_image_tag_is_a_published_one() {
    let v = defaults();
    assert!(
        PUBLISHED_18_TAGS.contains(&v.backend.image.tag.as_str()),
        "{}",
        v.backend.image.tag
    );
}

#[test]
fn the_charts_own_values_file_loads_unchanged() {
    // The values.yaml of the Helm chart odoo-tui grows out of (version 0.6.0), kept as is.
    let text = include_str!("../../tests/fixtures/chart-values-0.6.0.yaml");
    let loaded = load(&[yaml(text)]).unwrap();
    // The chart's floating tags and wrong uid are replaced, with a warning for each.
    assert_eq!(
        loaded.values.minio.image.tag,
        "RELEASE.2025-09-07T16-13-09Z"
    );
    assert_eq!(
        loaded.values.backend.container_security_context.run_as_user,
        Some(100)
    );
    assert_eq!(
        loaded.values.backend.image.repository,
        "ghcr.io/sergio-bershadsky/odoo"
    );
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("minio.image.tag"))
    );
    // Everything else means what the chart means.
    assert_eq!(loaded.values.postgresql.auth.database, "postgres");
    assert_eq!(loaded.values.backend.odoo.log_level, "error");
}

#[test]
fn later_layers_override_earlier_ones() {
    let v = load(&[
        yaml("backend:\n  replicaCount: 2\n  odoo:\n    workers: 3\n"),
        set("backend.replicaCount=4"),
    ])
    .unwrap()
    .values;
    assert_eq!(v.backend.replica_count, 4);
    assert_eq!(v.backend.odoo.workers, 3);
    // Untouched siblings keep their defaults (deep merge).
    assert!(v.backend.odoo.proxy_mode);
}

#[test]
fn set_merges_into_resources_like_helm() {
    let v = load(&[set("backend.resources.limits.memory=512Mi")])
        .unwrap()
        .values;
    let r = &v.backend.resources;
    assert_eq!(r.limits.as_ref().unwrap()["memory"].0, "512Mi");
    assert_eq!(r.limits.as_ref().unwrap()["cpu"].0, "1");
    assert_eq!(r.requests.as_ref().unwrap()["memory"].0, "512Mi");
}

#[test]
fn numeric_quantities_become_strings() {
    let v = load(&[yaml("backend:\n  resources:\n    limits:\n      cpu: 2\n")])
        .unwrap()
        .values;
    assert_eq!(v.backend.resources.limits.as_ref().unwrap()["cpu"].0, "2");
}

#[test]
fn unknown_key_names_the_file_line_and_closest_key() {
    let e = errors(&[yaml("backend:\n  image:\n    tag: x\n  replicas: 2\n")]);
    assert_eq!(
        e,
        "values.yaml:4: unknown key `backend.replicas` — did you mean `backend.replicaCount`?"
    );
}

#[test]
fn unknown_key_from_set_names_the_argument() {
    // The value of an unknown key is never echoed: it may be a mistyped credential.
    let e = errors(&[set("postgresql.auth.passwd=x")]);
    assert!(
        e.starts_with("--set postgresql.auth.passwd=…: unknown key `postgresql.auth.passwd`"),
        "{e}"
    );
    assert!(
        e.contains("did you mean `postgresql.auth.password`?"),
        "{e}"
    );
}

#[test]
fn unknown_top_level_key_lists_the_known_ones_when_nothing_is_close() {
    let e = errors(&[yaml("zzzz: 1\n")]);
    assert!(
        e.contains("unknown key `zzzz`") && e.contains("known top-level keys"),
        "{e}"
    );
}

#[test]
fn wrong_types_name_key_file_and_line() {
    let e = errors(&[yaml("postgresql:\n  enabled: \"yes\"\n")]);
    assert_eq!(
        e,
        "values.yaml:2: `postgresql.enabled` must be a boolean, not a string (write true or false)"
    );
    let e = errors(&[yaml("backend:\n  replicaCount: two\n")]);
    assert!(
        e.starts_with("values.yaml:2: `backend.replicaCount` must be an integer"),
        "{e}"
    );
    let e = errors(&[yaml("backend:\n  env: {A: b}\n")]);
    assert!(e.contains("`backend.env` must be a list"), "{e}");
}

#[test]
fn typos_inside_kubernetes_blocks_are_found() {
    let e = errors(&[yaml(
        "backend:\n  containerSecurityContext:\n    runAsUsr: 5\n",
    )]);
    assert_eq!(
        e,
        "values.yaml:3: unknown key `backend.containerSecurityContext.runAsUsr` — not a field of this Kubernetes object; check its spelling"
    );
}

#[test]
fn bad_kubernetes_block_types_name_the_path() {
    let e = errors(&[yaml(
        "backend:\n  tolerations:\n    - key: a\n      tolerationSeconds: soon\n",
    )]);
    assert!(
        e.starts_with("values.yaml:4: `backend.tolerations[0].tolerationSeconds`")
            || e.contains("tolerationSeconds"),
        "{e}"
    );
}

#[test]
fn chart_0_3_0_keys_are_read_with_a_note() {
    let loaded = load(&[yaml(
        "postgresql:\n  primary:\n    persistence:\n      size: 20Gi\n",
    )])
    .unwrap();
    assert_eq!(loaded.values.postgresql.persistence.size, "20Gi");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("postgresql.primary.persistence"))
    );
}

#[test]
fn invalid_values_are_refused_before_anything_else() {
    let cases: &[(&str, &str)] = &[
        (
            "externalDatabase.port=0",
            "`externalDatabase.port` is 0; a port is 1–65535",
        ),
        ("backend.service.ports.http=70000", "a port is 1–65535"),
        (
            "postgresql.persistence.size=lots",
            "not a Kubernetes quantity",
        ),
        (
            "backend.resources.limits.memory=1Gb",
            "not a Kubernetes quantity",
        ),
        (
            "postgresql.auth.username=postgres",
            "Odoo refuses to run as the PostgreSQL superuser",
        ),
        (
            "backend.autoUpgrade.modules={sale,Account}",
            "`Account` is not a module name",
        ),
        (
            "backend.odoo.logLevel=loud",
            "`backend.odoo.logLevel` `loud` is not one of",
        ),
    ];
    for (arg, expected) in cases {
        let e = errors(&[set(arg)]);
        assert!(e.contains(expected), "{arg}: {e}");
        assert!(e.starts_with(&format!("--set {arg}")), "{arg}: {e}");
    }
}

#[test]
fn external_services_need_their_required_keys() {
    let e = errors(&[set("postgresql.enabled=false")]);
    assert!(e.contains("`externalDatabase.host` is required"), "{e}");
    assert!(e.contains("external database needs a password"), "{e}");
    let e = errors(&[set(
        "minio.enabled=false,externalS3.enabled=true,externalS3.endpoint=ftp://x",
    )]);
    assert!(e.contains("scheme `ftp` is not http or https"), "{e}");
    assert!(e.contains("external S3 needs credentials"), "{e}");
    let e = errors(&[set("externalS3.enabled=true")]);
    assert!(e.contains("choose one"), "{e}");
}

#[test]
fn warnings_never_fail() {
    let loaded = load(&[set("backend.resources.limits.memory=512Mi")]).unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("memory limit 512Mi is small for 2 worker(s)")),
        "{:?}",
        loaded.warnings
    );
    let loaded = load(&[set(
        "backend.image.repository=odoo,backend.image.tag=18.0-20250101",
    )])
    .unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("lacks the S3 filestore modules")),
        "{:?}",
        loaded.warnings
    );
    let loaded = load(&[set(
        "backend.replicaCount=1,backend.pdb.enabled=true,backend.pdb.minAvailable=1",
    )])
    .unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("would block every node drain"))
    );
    let loaded = load(&[set("nginx.enabled=true,nginx.image.tag=latest")]).unwrap();
    assert!(loaded.warnings.iter().any(|w| w.contains("floats")));
}

#[test]
fn the_defaults_alone_never_warn() {
    assert_eq!(load(&[]).unwrap().warnings, Vec::<String>::new());
    // A re-run reads the record, which holds every key: the defaults in it do not warn,
    // what the user set earlier does.
    let recorded = load(&[]).unwrap().merged;
    let again = load_over_record("instance record", &recorded, &[]).unwrap();
    assert_eq!(again.warnings, Vec::<String>::new());
    let small = load(&[set("backend.resources.limits.memory=512Mi")])
        .unwrap()
        .merged;
    let again = load_over_record("instance record", &small, &[]).unwrap();
    assert!(
        again
            .warnings
            .iter()
            .any(|w| w.contains("memory limit 512Mi")),
        "{:?}",
        again.warnings
    );
    // One replica set by the user, with the default PDB: the user is told.
    let one = load(&[set("backend.replicaCount=1")]).unwrap();
    assert!(
        one.warnings
            .iter()
            .any(|w| w.contains("would block every node drain")),
        "{:?}",
        one.warnings
    );
}

#[test]
fn invalid_yaml_names_the_line() {
    let e = Source::yaml("bad.yaml", "a:\n  b: [1,\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bad.yaml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
    let e = Source::yaml("list.yaml", "- a\n- b\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("must be a map"), "{e}");
}

#[test]
fn quantities_parse_like_kubernetes() {
    use validate::parse_quantity as q;
    assert_eq!(q("1Gi"), Some(1024.0 * 1024.0 * 1024.0));
    assert_eq!(q("500m"), Some(0.5));
    assert_eq!(q("1.5"), Some(1.5));
    assert_eq!(q("2e3"), Some(2000.0));
    for bad in ["", "Gi", "1GB", "-1", "abc", "1 Gi"] {
        assert_eq!(q(bad), None, "{bad}");
    }
}

#[test]
fn module_lists() {
    assert_eq!(
        validate::parse_modules("sale, account,sale").unwrap(),
        vec!["sale", "account"]
    );
    assert!(
        validate::parse_modules("sale,,account")
            .unwrap_err()
            .contains("empty item")
    );
    assert!(
        validate::parse_modules("Sale")
            .unwrap_err()
            .contains("not an Odoo module name")
    );
}

#[test]
fn release_names_fit_every_derived_name() {
    let v = defaults();
    assert!(validate::validate_release("acme", &v).is_ok());
    assert!(
        validate::validate_release("Acme", &v)
            .unwrap_err()
            .contains("lowercase")
    );
    assert!(validate::validate_release("9acme", &v).is_err());
    assert!(validate::validate_release("acme-", &v).is_err());
    // <release>-postgresql caps the release at 41 characters.
    let ok = "a".repeat(41);
    let too_long = "a".repeat(42);
    assert!(
        validate::validate_release(&ok, &v).is_ok(),
        "{:?}",
        validate::validate_release(&ok, &v)
    );
    let e = validate::validate_release(&too_long, &v).unwrap_err();
    assert!(
        e.contains("-postgresql` would be 53 characters, the limit is 52"),
        "{e}"
    );
    // Without the bundled services, the Job names set the limit (63).
    let mut ext = v.clone();
    ext.postgresql.enabled = false;
    ext.minio.enabled = false;
    assert!(validate::validate_release(&too_long, &ext).is_ok());
    let e = validate::validate_release(&"a".repeat(50), &ext).unwrap_err();
    assert!(
        e.contains("-odoo-frontend` would be 64 characters, the limit is 63"),
        "{e}"
    );
}

#[test]
fn a_bad_backup_schedule_is_refused_with_the_reason() {
    let e = errors(&[set("backup.schedule=0 3 * *")]);
    assert!(e.contains("backup.schedule"), "{e}");
    assert!(e.contains("has 4 fields"), "{e}");
    let e = errors(&[set("backup.keep.daly=7")]);
    assert!(e.contains("backup.keep.daily"), "{e}");
    let v = load(&[set("backup.schedule=@daily"), set("backup.keep.weekly=4")])
        .unwrap()
        .values;
    assert_eq!(v.backup.schedule, "@daily");
    assert_eq!(v.backup.keep.weekly, 4);
    assert!(v.backup.keep.is_set());
    assert!(!defaults().backup.keep.is_set());
}
