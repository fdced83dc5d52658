//! The wizard of `odoo-tui new` driven by scripted answers against a fake cluster:
//! every scenario end to end (values snapshotted, loaded and rendered), going back,
//! refused answers with their reasons, existing Secrets checked live, and the
//! unreachable-cluster path.

use odoo_tui::render::{Credentials, Object, RenderInput, render};
use odoo_tui::wizard::{
    self, Answer, Cancelled, CredentialChoice, Defaults, Destination, FakeProbe, Outcome, Question,
    QuestionKind, Review, ScriptedPrompter, Step, WizardState, answers_yaml,
};

fn c(key: &str) -> Answer {
    Answer::Choice(key.to_string())
}
fn t(text: &str) -> Answer {
    Answer::Text(text.to_string())
}
/// Enter on a text question: take the default.
fn enter() -> Answer {
    Answer::Text(String::new())
}
fn yes() -> Answer {
    Answer::Confirm(true)
}

fn no_review(_: &Outcome) -> Option<Review> {
    None
}

fn run(
    probe: &FakeProbe,
    defaults: Defaults,
    answers: Vec<Answer>,
) -> (Result<Outcome, Cancelled>, ScriptedPrompter) {
    let mut p = ScriptedPrompter::new(answers);
    let r = wizard::run(&mut p, probe, defaults, &no_review);
    (r, p)
}

fn finish(probe: &FakeProbe, answers: Vec<Answer>) -> (Outcome, ScriptedPrompter) {
    let (r, p) = run(probe, Defaults::default(), answers);
    let asked: Vec<Step> = p.asked.iter().map(|q| q.step).collect();
    let o = r.unwrap_or_else(|e| {
        panic!(
            "wizard did not finish ({e}); asked {asked:?}; refused {:?}",
            p.refused
        )
    });
    assert_eq!(p.remaining(), 0, "unused answers; asked {asked:?}");
    (o, p)
}

fn steps(p: &ScriptedPrompter) -> Vec<Step> {
    p.asked.iter().map(|q| q.step).collect()
}

fn fixed_credentials() -> Credentials {
    Credentials {
        db_password: Some("fixed-db-password".into()),
        minio_root_password: Some("fixed-minio-password".into()),
        master_password: Some("fixed-master-password".into()),
        admin_password: Some("fixed-admin-password".into()),
    }
}

/// Load the outcome's layers and render them; typed credentials win over the fixed ones.
fn render_outcome(o: &Outcome) -> (odoo_tui::values::Loaded, Vec<Object>) {
    let loaded = o.load().expect("the wizard's outcome loads");
    let f = fixed_credentials();
    let creds = Credentials {
        db_password: o.typed.db_password.clone().or(f.db_password),
        minio_root_password: o
            .typed
            .minio_root_password
            .clone()
            .or(f.minio_root_password),
        master_password: o.typed.master_password.clone().or(f.master_password),
        admin_password: o.typed.admin_password.clone().or(f.admin_password),
    };
    let objects = render(&RenderInput {
        release: &o.name,
        namespace: &o.namespace,
        values: &loaded.values,
        credentials: &creds,
    })
    .expect("the wizard's outcome renders");
    (loaded, objects)
}

fn describe(o: &Outcome, p: &ScriptedPrompter) -> String {
    let answers = serde_saphyr::to_string(&o.answers.tree.to_json()).unwrap();
    format!(
        "asked: {:?}\nname: {}\ncontext: {:?}\nnamespace: {} (create: {})\npreset: {}\ncredentials: {:?}\ndestination: {:?}\nshow_credentials: {}\nsave_as: {:?}\nnotes: {:#?}\n--- answers overlay ---\n{answers}",
        steps(p),
        o.name,
        o.context,
        o.namespace,
        o.create_namespace,
        o.preset,
        o.credentials,
        o.destination,
        o.show_credentials,
        o.save_as,
        o.notes,
    )
}

fn keys(objects: &[Object]) -> Vec<String> {
    objects.iter().map(Object::key).collect()
}

#[test]
fn quick_start_into_a_new_namespace_with_an_ingress() {
    let probe = FakeProbe::reachable(&["default", "shop"]);
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("+new"),
            t("acme"),
            c("quick-start"),
            t("acme"),
            c("generate"),
            t("admin@acme.example"),
            c("ingress"),
            t("odoo.acme.example"),
            t("nginx"),
            t("acme-tls"),
            c("small"),
            c("daily"),
            enter(),
            enter(),
            c("apply"),
            yes(),
            enter(),
        ],
    );
    assert_eq!(o.namespace, "acme");
    assert!(o.create_namespace);
    assert_eq!(o.destination, Destination::Cluster);
    assert_eq!(o.credentials, CredentialChoice::Generate);
    assert_eq!(o.typed, Credentials::default());
    let (loaded, objects) = render_outcome(&o);
    let v = &loaded.values;
    assert!(v.postgresql.enabled && v.minio.enabled && !v.external_s3.enabled);
    assert_eq!(v.backend.init_db.admin_login, "admin@acme.example");
    assert_eq!(v.ingress.hosts[0].host, "odoo.acme.example");
    let k = keys(&objects);
    assert!(k.contains(&"Ingress/acme-odoo".to_string()), "{k:?}");
    assert!(k.contains(&"StatefulSet/acme-minio".to_string()), "{k:?}");
    assert!(k.contains(&"CronJob/acme-odoo-backup".to_string()), "{k:?}");
    insta::assert_snapshot!("quick-start", describe(&o, &p));
}

#[test]
fn external_with_typed_keys_nginx_domains_and_a_saved_preset() {
    let probe = FakeProbe::reachable(&["default", "shop"]);
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("shop"),
            c("external"),
            t("shop"),
            t("db.example.com"),
            enter(),
            enter(),
            enter(),
            t("https://s3.eu-west-1.amazonaws.com"),
            enter(),
            t("eu-west-1"),
            c("generate"),
            t("external-db-password"),
            t("AKIAEXAMPLEKEY"),
            t("external-s3-secret"),
            t("ops@shop.example"),
            c("nginx"),
            t("shop.example.com"),
            t("erp.example.com"),
            enter(),
            t("shop-tls"),
            c("medium"),
            c("daily"),
            enter(),
            enter(),
            c("apply"),
            yes(),
            t("shop-preset"),
        ],
    );
    assert!(!o.create_namespace);
    assert_eq!(o.save_as.as_deref(), Some("shop-preset"));
    let (loaded, objects) = render_outcome(&o);
    let v = &loaded.values;
    assert_eq!(v.external_database.host, "db.example.com");
    assert_eq!(v.external_database.port, 5432);
    assert_eq!(v.external_s3.region, "eu-west-1");
    assert_eq!(v.backend.replica_count, 2);
    assert_eq!(v.backend.odoo.workers, 4);
    assert!(v.nginx.enabled && v.nginx.cookie_secure && v.nginx.domains.backoffice.enabled);
    let k = keys(&objects);
    assert!(
        k.contains(&"Deployment/shop-odoo-nginx".to_string()),
        "{k:?}"
    );
    assert!(
        k.contains(&"PodDisruptionBudget/shop-odoo-backend".to_string()),
        "{k:?}"
    );

    // The saveable preset never contains what was typed, and says how to supply it.
    let saved = answers_yaml(&o);
    for secret in [
        "external-db-password",
        "AKIAEXAMPLEKEY",
        "external-s3-secret",
    ] {
        assert!(!saved.contains(secret), "{secret} leaked into:\n{saved}");
    }
    assert!(saved.contains("--set externalDatabase.password=..."));
    // With the typed credentials given again, the saved preset loads on its own.
    let reloaded = odoo_tui::values::load(&[
        odoo_tui::values::Source::yaml("shop-preset.yaml", &saved).unwrap(),
        odoo_tui::values::Source::set("externalDatabase.password=x").unwrap(),
        odoo_tui::values::Source::set("externalS3.accessKey=x").unwrap(),
        odoo_tui::values::Source::set("externalS3.secretKey=x").unwrap(),
    ])
    .unwrap();
    assert_eq!(
        reloaded.values.nginx.domains.public.host,
        "shop.example.com"
    );
    assert_eq!(reloaded.values.backend.odoo.workers, 4);
    insta::assert_snapshot!("external", describe(&o, &p));
    insta::assert_snapshot!("external-saved-preset", saved);
}

fn production_probe() -> FakeProbe {
    FakeProbe::reachable(&["default", "prod"])
        .with_secret("prod", "odoo-db", &["password"])
        .with_secret("prod", "odoo-s3", &["access-key", "secret-key"])
        .with_secret("prod", "odoo-master", &["master-password"])
        .with_secret("prod", "odoo-admin", &["admin-password"])
}

fn production_answers() -> Vec<Answer> {
    vec![
        c("kind-dev"),
        c("prod"),
        c("production"),
        t("erp"),
        t("pg.internal"),
        enter(),
        enter(),
        enter(),
        t("https://s3.example.com"),
        enter(),
        enter(),
        enter(),
        enter(),
        enter(),
        enter(),
        t("admin@erp.example"),
        c("ingress"),
        t("erp.example.com"),
        t("nginx"),
        t("erp-tls"),
        c("medium"),
        c("daily"),
        enter(),
        enter(),
        c("apply"),
        enter(),
    ]
}

#[test]
fn production_reads_every_credential_from_checked_secrets() {
    let (o, p) = finish(&production_probe(), production_answers());
    let asked = steps(&p);
    assert!(!asked.contains(&Step::CredentialMode), "{asked:?}");
    assert!(!asked.contains(&Step::ShowCredentials), "{asked:?}");
    assert_eq!(o.credentials, CredentialChoice::ExistingSecrets);
    assert!(o.notes.is_empty(), "{:?}", o.notes);
    let (loaded, objects) = render_outcome(&o);
    let v = &loaded.values;
    assert_eq!(v.external_database.existing_secret, "odoo-db");
    assert_eq!(v.external_s3.existing_secret, "odoo-s3");
    assert_eq!(v.backend.odoo.existing_secret, "odoo-master");
    assert_eq!(v.backend.init_db.existing_secret, "odoo-admin");
    assert!(v.network_policy.enabled);
    assert!(!keys(&objects).iter().any(|k| k.contains("postgresql")));
    insta::assert_snapshot!("production", describe(&o, &p));
}

#[test]
fn local_dev_without_a_cluster_writes_a_folder_with_typed_passwords() {
    let probe = FakeProbe {
        contexts: vec!["kind-dev".into()],
        unreachable: Some("connection refused (127.0.0.1:6443)".into()),
        ..Default::default()
    };
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            enter(),
            c("local-dev"),
            t("dev"),
            c("type"),
            t("dev-db-password"),
            t("dev-master-password"),
            t("dev-admin-password"),
            t("me@dev.example"),
            c("none"),
            c("dev"),
            c("none"),
            enter(),
            enter(),
            enter(),
            c("apply"),
            enter(),
        ],
    );
    let asked = steps(&p);
    assert!(
        !asked.contains(&Step::Storage),
        "local-dev has no storage question"
    );
    assert_eq!(p.asked[1].step, Step::Namespace);
    assert!(matches!(p.asked[1].kind, QuestionKind::Text { .. }));
    assert!(
        p.asked[1].notes.iter().any(|n| n
            .contains("cannot be reached: connection refused (127.0.0.1:6443)")
            && n.contains("writes the manifests to a folder")),
        "{:?}",
        p.asked[1].notes
    );
    assert_eq!(o.namespace, "default");
    assert!(!o.create_namespace);
    assert_eq!(o.destination, Destination::Folder("./dev-manifests".into()));
    assert_eq!(o.credentials, CredentialChoice::Type);
    assert_eq!(o.typed.db_password.as_deref(), Some("dev-db-password"));
    assert_eq!(
        o.typed.master_password.as_deref(),
        Some("dev-master-password")
    );
    assert_eq!(
        o.typed.admin_password.as_deref(),
        Some("dev-admin-password")
    );
    assert_eq!(o.typed.minio_root_password, None);
    // Typed passwords never reach the values, the saveable preset or Debug output.
    let overlay = serde_saphyr::to_string(&o.answers.tree.to_json()).unwrap();
    let saved = answers_yaml(&o);
    let debug = format!("{o:?}");
    for text in [&overlay, &saved, &debug] {
        assert!(!text.contains("dev-db-password") && !text.contains("dev-admin-password"));
    }
    let (loaded, objects) = render_outcome(&o);
    assert_eq!(loaded.values.backend.odoo.workers, 0);
    assert!(loaded.values.backend.persistence.enabled);
    assert!(keys(&objects).contains(&"PersistentVolumeClaim/dev-odoo-backend-data".to_string()));
    insta::assert_snapshot!("local-dev-offline", describe(&o, &p));
}

#[test]
fn esc_goes_back_to_the_previous_asked_question_and_keeps_answers() {
    let probe = FakeProbe::reachable(&["shop"]);
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("shop"),
            c("external"),
            t("shop"),
            t("db.example.com"),
            t("6543"),
            Answer::Back, // at DbUser: back to DbPort
            Answer::Back, // back to DbHost
            enter(),      // keeps db.example.com
            enter(),      // keeps 6543
            t("odoo_shop"),
            enter(),
            t("https://s3.example.com"),
            enter(),
            enter(),
            c("generate"),
            t("external-db-password"),
            t("AKIAEXAMPLEKEY"),
            t("external-s3-secret"),
            t("ops@shop.example"),
            c("none"),
            c("small"),
            c("daily"),
            enter(),
            enter(),
            c("apply"),
            yes(),
            enter(),
        ],
    );
    let asked = steps(&p);
    assert_eq!(
        &asked[4..11],
        &[
            Step::DbHost,
            Step::DbPort,
            Step::DbUser,
            Step::DbPort,
            Step::DbHost,
            Step::DbPort,
            Step::DbUser
        ]
    );
    // Going back shows the earlier answers as defaults.
    let QuestionKind::Text { default, .. } = &p.asked[8].kind else {
        panic!("DbHost is a text question")
    };
    assert_eq!(default.as_deref(), Some("db.example.com"));
    let QuestionKind::Text { default, .. } = &p.asked[9].kind else {
        panic!("DbPort is a text question")
    };
    assert_eq!(default.as_deref(), Some("6543"));
    let (loaded, _) = render_outcome(&o);
    assert_eq!(loaded.values.external_database.host, "db.example.com");
    assert_eq!(loaded.values.external_database.port, 6543);
    assert_eq!(loaded.values.external_database.user, "odoo_shop");
    assert_eq!(loaded.values.backend.replica_count, 1);
    assert!(!loaded.values.minio.enabled && loaded.values.external_s3.enabled);
}

#[test]
fn esc_on_a_select_returns_to_the_skipped_over_steps_previous_question() {
    // local-dev answers the database and storage questions itself: Esc at the
    // credentials question goes back to the instance name, the last one asked.
    let probe = FakeProbe::reachable(&["default"]);
    let (r, p) = run(
        &probe,
        Defaults::default(),
        vec![
            c("kind-dev"),
            c("default"),
            c("local-dev"),
            t("dev"),
            Answer::Back,
        ],
    );
    assert_eq!(r.unwrap_err(), Cancelled::Interrupted);
    let asked = steps(&p);
    assert_eq!(asked[4], Step::CredentialMode);
    assert_eq!(asked[5], Step::Name);
}

#[test]
fn invalid_answers_are_refused_with_the_reason_and_asked_again() {
    let probe = FakeProbe::reachable(&["shop"]);
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("shop"),
            c("external"),
            t("Acme!"),
            t("shop"),
            t("https://db.example.com"),
            t("db.example.com"),
            t("0"),
            t("5432"),
            t("postgres"),
            t("odoo"),
            enter(),
            t("s3.example.com"),
            t("https://s3.example.com"),
            t("Bad_Bucket"),
            t("odoo-files"),
            enter(),
            c("generate"),
            t(""),
            t("external-db-password"),
            t("AKIAEXAMPLEKEY"),
            t("external-s3-secret"),
            t("not-an-email"),
            t("ops@shop.example"),
            c("none"),
            c("small"),
            c("daily"),
            enter(),
            t("latest"),
            t("18.0-20260926"),
            c("apply"),
            yes(),
            t("quick-start"),
            enter(),
        ],
    );
    assert_eq!(
        p.refused,
        vec![
            "instance name `Acme!` is not valid: use lowercase letters, digits and '-', starting with a letter and not ending with '-' (e.g. `acme-prod`)",
            "`https://db.example.com` is a URL — write just the host, without scheme, port or path",
            "port 0 is out of range: a port is 1–65535",
            "`postgres` is the PostgreSQL superuser: Odoo refuses to run as it — use a dedicated user such as `odoo`",
            "`s3.example.com` is not a usable URL: it has no scheme — write https://host",
            "`Bad_Bucket` is not a valid bucket name: 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
            "the database password is required",
            "`not-an-email` is not an e-mail address — write e.g. you@example.com",
            "`latest` floats: a restart may run a different Odoo than the one you tested — pin a version tag such as 18.0-20260926",
            "`quick-start` is a built-in preset: choose another name so that the built-in stays available",
        ]
    );
    // Each refused question was asked again, right after.
    let asked = steps(&p);
    for (step, times) in [
        (Step::Name, 2),
        (Step::DbPort, 2),
        (Step::DbUser, 2),
        (Step::S3Endpoint, 2),
    ] {
        assert_eq!(
            asked.iter().filter(|s| **s == step).count(),
            times,
            "{step:?}"
        );
    }
    let (loaded, _) = render_outcome(&o);
    assert_eq!(loaded.values.external_s3.bucket, "odoo-files");
    assert_eq!(o.save_as, None);
}

#[test]
fn a_too_long_instance_name_says_by_how_much() {
    let probe = FakeProbe::reachable(&["shop"]);
    let long = "a".repeat(45);
    let (_, p) = run(
        &probe,
        Defaults::default(),
        vec![c("kind-dev"), c("shop"), c("quick-start"), t(&long)],
    );
    assert_eq!(p.refused.len(), 1);
    assert!(
        p.refused[0].contains("is too long") && p.refused[0].contains("shorten the name by 4"),
        "{}",
        p.refused[0]
    );
}

#[test]
fn existing_secrets_are_checked_live() {
    let probe = FakeProbe::reachable(&["prod"])
        .with_secret("prod", "odoo-db", &["pass", "user"])
        .with_secret("prod", "odoo-master", &["master-password"])
        .with_secret("prod", "odoo-admin", &["admin-password"]);
    let (r, p) = run(
        &probe,
        Defaults::default(),
        vec![
            c("kind-dev"),
            c("prod"),
            c("production"),
            t("erp"),
            t("pg.internal"),
            enter(),
            enter(),
            enter(),
            t("https://s3.example.com"),
            enter(),
            enter(),
            enter(),           // odoo-db: has no key `password`
            t("odoo-db:pass"), // accepted
            enter(),           // odoo-s3: missing
        ],
    );
    assert_eq!(r.unwrap_err(), Cancelled::Interrupted);
    assert_eq!(
        p.refused,
        vec![
            "Secret odoo-db has no key `password` (keys: pass, user) — write odoo-db:KEY to use other keys",
        ]
    );
    // A missing Secret is no dead end: it can be created here, checked again, or
    // another named (the production scenario has no other way to give passwords).
    let last = p.asked.last().unwrap();
    assert_eq!(last.step, Step::SecretMissing);
    assert_eq!(last.label, "Secret odoo-s3 is missing: what now?");
    assert_eq!(
        last.notes,
        vec!["Secret odoo-s3 does not exist in namespace prod."]
    );
    assert_eq!(keys_of(last), vec!["create", "recheck", "other"]);
    assert!(
        last.help.contains(
            "kubectl create secret generic odoo-s3 -n prod --from-file=access-key=./access-key --from-file=secret-key=./secret-key"
        ),
        "{}",
        last.help
    );
}

fn keys_of(q: &Question) -> Vec<&str> {
    let QuestionKind::Select { options, .. } = &q.kind else {
        panic!("{:?} is not a select", q.step)
    };
    options.iter().map(|o| o.key.as_str()).collect()
}

/// A new namespace, then the production scenario: none of its Secrets can exist yet.
/// Each is created from hidden prompts and carried in the outcome, never in the values.
#[test]
fn secrets_missing_in_a_new_namespace_are_created_from_hidden_prompts() {
    let probe = production_probe();
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("+new"),
            t("fresh"),
            c("production"),
            t("erp"),
            t("pg.internal"),
            enter(),
            enter(),
            enter(),
            t("https://s3.example.com"),
            enter(),
            enter(),
            enter(), // odoo-db: missing
            c("create"),
            t("db-secret-value"),
            enter(), // odoo-s3: missing
            c("create"),
            t("AKIA-typed-key"),
            t("s3-secret-value"),
            enter(), // odoo-master
            c("create"),
            t("master-secret-value"),
            enter(), // odoo-admin
            c("create"),
            t("admin-secret-value"),
            t("admin@erp.example"),
            c("none"),
            c("medium"),
            c("daily"),
            enter(),
            enter(),
            c("apply"),
            enter(),
        ],
    );
    assert!(p.refused.is_empty(), "{:?}", p.refused);
    assert_eq!(o.namespace, "fresh");
    assert!(o.create_namespace);
    let created: Vec<(&str, Vec<(&str, &str)>)> = o
        .secrets
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.data
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        created,
        vec![
            ("odoo-db", vec![("password", "db-secret-value")]),
            (
                "odoo-s3",
                vec![
                    ("access-key", "AKIA-typed-key"),
                    ("secret-key", "s3-secret-value")
                ]
            ),
            (
                "odoo-master",
                vec![("master-password", "master-secret-value")]
            ),
            ("odoo-admin", vec![("admin-password", "admin-secret-value")]),
        ]
    );
    // Hidden prompts, typed twice except the access key ID.
    let values: Vec<&QuestionKind> = p
        .asked
        .iter()
        .filter(|q| q.step == Step::SecretValue)
        .map(|q| &q.kind)
        .collect();
    assert_eq!(
        values,
        vec![
            &QuestionKind::Password { confirm: true },
            &QuestionKind::Password { confirm: false },
            &QuestionKind::Password { confirm: true },
            &QuestionKind::Password { confirm: true },
            &QuestionKind::Password { confirm: true },
        ]
    );
    // The values reference the Secrets by name; what was typed is nowhere else.
    let (loaded, _) = render_outcome(&o);
    assert_eq!(loaded.values.external_database.existing_secret, "odoo-db");
    assert_eq!(loaded.values.backend.init_db.existing_secret, "odoo-admin");
    let review = p.asked.iter().find(|q| q.step == Step::Review).unwrap();
    let shown: Vec<String> = p
        .asked
        .iter()
        .flat_map(|q| [q.label.clone(), q.help.clone(), q.notes.join("\n")])
        .collect();
    for text in [
        describe(&o, &p),
        answers_yaml(&o),
        format!("{o:?}"),
        shown.join("\n"),
    ] {
        for typed in [
            "db-secret-value",
            "AKIA-typed-key",
            "s3-secret-value",
            "master-secret-value",
            "admin-secret-value",
        ] {
            assert!(!text.contains(typed), "{typed} leaked into:\n{text}");
        }
    }
    assert!(
        review.notes.join("\n").contains(
            "created first from the values you typed (not shown): odoo-db, odoo-s3, odoo-master, odoo-admin"
        ),
        "{:?}",
        review.notes
    );
}

/// Drive the state machine by hand: the probe changes between answers, as the cluster
/// does when the user creates the Secret in another terminal.
fn answer(s: &WizardState, a: Answer, probe: &FakeProbe) -> WizardState {
    wizard::next(s, a, probe).unwrap_or_else(|e| panic!("refused at {:?}: {e}", s.step()))
}

fn at_the_db_secret(probe: &FakeProbe) -> WizardState {
    let mut s = WizardState::new(Defaults::default(), probe);
    for a in [
        c("kind-dev"),
        c("prod"),
        c("production"),
        t("erp"),
        t("pg.internal"),
        enter(),
        enter(),
        enter(),
        t("https://s3.example.com"),
        enter(),
        enter(),
    ] {
        s = answer(&s, a, probe);
    }
    assert_eq!(s.step(), Step::DbSecret);
    s
}

#[test]
fn a_missing_secret_can_be_checked_again_after_creating_it_elsewhere() {
    let before = FakeProbe::reachable(&["prod"]);
    let s = at_the_db_secret(&before);
    let s = answer(&s, enter(), &before);
    assert_eq!(s.step(), Step::SecretMissing);
    // Not there yet: refused with the way to create it, and still at the same choice.
    let e = wizard::next(&s, c("recheck"), &before).unwrap_err();
    assert_eq!(
        e.0,
        "Secret odoo-db is still not in namespace prod — put the value in a file `./password`, not on a command line, then: kubectl create secret generic odoo-db -n prod --from-file=password=./password; or choose to create it here"
    );
    // Created with the wrong key: refused, naming the keys it has.
    let wrong = before.clone().with_secret("prod", "odoo-db", &["pass"]);
    let e = wizard::next(&s, c("recheck"), &wrong).unwrap_err();
    assert!(e.0.contains("has no key `password` (keys: pass)"), "{e}");
    // Created: the wizard goes on, and creates nothing itself.
    let after = before.with_secret("prod", "odoo-db", &["password"]);
    let s = answer(&s, c("recheck"), &after);
    assert_eq!(s.step(), Step::S3Secret);
    assert!(s.draft().unwrap().secrets.is_empty());
    // Esc from the next question goes back to the Secret's name, not into the detour.
    let back = answer(&s, Answer::Back, &after);
    assert_eq!(back.step(), Step::DbSecret);
}

#[test]
fn every_way_out_of_a_missing_secret() {
    let probe = FakeProbe::reachable(&["prod"]);
    let s = at_the_db_secret(&probe);
    let missing = answer(&s, enter(), &probe);
    assert_eq!(missing.step(), Step::SecretMissing);

    // Esc, or "name another Secret": back to the Secret question, the way back intact.
    for way in [Answer::Back, c("other")] {
        let s = answer(&missing, way, &probe);
        assert_eq!(s.step(), Step::DbSecret);
        assert_eq!(s.asked().last(), Some(&Step::S3Region));
    }

    // Esc while typing a value: back to the choice, nothing kept.
    let typing = answer(&missing, c("create"), &probe);
    assert_eq!(typing.step(), Step::SecretValue);
    let s = answer(&typing, Answer::Back, &probe);
    assert_eq!(s.step(), Step::SecretMissing);
    // The value is checked like a typed one: the external database's password may
    // not be empty.
    let e = wizard::next(&typing, t(""), &probe).unwrap_err();
    assert_eq!(e.0, "the database password is required");

    // Typed once, then the Secret question again with the same name: keep the value.
    let s = answer(&typing, t("db-secret-value"), &probe);
    assert_eq!(s.step(), Step::S3Secret);
    let s = answer(&s, Answer::Back, &probe);
    assert_eq!(s.step(), Step::DbSecret);
    let s = answer(&s, enter(), &probe);
    assert_eq!(s.step(), Step::SecretMissing);
    let q = wizard::current_question(&s);
    assert_eq!(keys_of(&q)[0], "keep");
    let s = answer(&s, c("keep"), &probe);
    assert_eq!(s.step(), Step::S3Secret);
    let o = s.draft().unwrap();
    assert_eq!(o.secrets.len(), 1);
    assert_eq!(o.secrets[0].data["password"], "db-secret-value");
}

#[test]
fn a_missing_secret_can_be_left_for_generated_passwords() {
    // The external scenario with Secrets chosen: the passwords question is a way out.
    let probe = FakeProbe::reachable(&["shop"]);
    let mut s = WizardState::new(Defaults::default(), &probe);
    for a in [
        c("kind-dev"),
        c("shop"),
        c("external"),
        t("shop"),
        t("db.example.com"),
        enter(),
        enter(),
        enter(),
        t("https://s3.example.com"),
        enter(),
        enter(),
        c("secrets"),
        enter(),
    ] {
        s = answer(&s, a, &probe);
    }
    assert_eq!(s.step(), Step::SecretMissing);
    let q = wizard::current_question(&s);
    assert_eq!(keys_of(&q), vec!["create", "recheck", "other", "passwords"]);
    let s = answer(&s, c("passwords"), &probe);
    assert_eq!(s.step(), Step::CredentialMode);
    assert_eq!(s.asked().last(), Some(&Step::S3Region));
    let s = answer(&s, c("generate"), &probe);
    assert_eq!(s.step(), Step::DbPassword);
}

/// A scenario answers where the database runs and where attachments go; "customise" at
/// the review asks them, then only what the change opens, then the review again.
#[test]
fn the_scenario_answers_its_own_questions_and_customise_revisits_them() {
    let probe = FakeProbe::reachable(&["shop"]);
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("shop"),
            c("quick-start"),
            t("acme"),
            c("generate"),
            t("me@acme.example"),
            c("none"),
            c("small"),
            c("daily"),
            enter(),
            enter(),
            c("customise"),
            c("external"),
            t("db.example.com"),
            enter(),
            enter(),
            enter(),
            c("pvc"),
            t("external-db-password"),
            c("apply"),
            yes(),
            enter(),
        ],
    );
    let asked = steps(&p);
    assert_eq!(
        asked,
        vec![
            Step::Context,
            Step::Namespace,
            Step::Scenario,
            Step::Name,
            Step::CredentialMode,
            Step::AdminEmail,
            Step::Exposure,
            Step::Size,
            Step::Backups,
            Step::ImageRepository,
            Step::ImageTag,
            Step::Review,
            Step::Database,
            Step::DbHost,
            Step::DbPort,
            Step::DbUser,
            Step::DbName,
            Step::Storage,
            Step::DbPassword,
            Step::Review,
            Step::ShowCredentials,
            Step::SavePreset,
        ]
    );
    let first_review = p.asked.iter().find(|q| q.step == Step::Review).unwrap();
    let QuestionKind::Select { options, default } = &first_review.kind else {
        panic!("the review is a select")
    };
    assert_eq!(options[*default].key, "apply");
    assert_eq!(
        options[1].label,
        "customise — choose where the database runs and where attachments go (now: a bundled PostgreSQL; attachments in a bundled MinIO)"
    );
    let (loaded, _) = render_outcome(&o);
    let v = &loaded.values;
    assert!(!v.postgresql.enabled && v.backend.persistence.enabled && !v.minio.enabled);
    assert_eq!(v.external_database.host, "db.example.com");
    assert_eq!(v.backend.replica_count, 1);
}

#[test]
fn without_a_cluster_secrets_are_accepted_with_a_note() {
    let probe = FakeProbe {
        contexts: vec!["kind-dev".into()],
        unreachable: Some("dial tcp: i/o timeout".into()),
        ..Default::default()
    };
    let mut answers = production_answers();
    answers[1] = t("prod"); // the namespace is typed: it cannot be listed
    answers.insert(answers.len() - 2, t("/tmp/erp-manifests"));
    let (o, p) = finish(&probe, answers);
    assert_eq!(
        o.destination,
        Destination::Folder("/tmp/erp-manifests".into())
    );
    assert_eq!(o.notes.len(), 4, "{:?}", o.notes);
    assert!(o.notes[0].starts_with("Secret odoo-db was not checked (no cluster)"));
    let review = p.asked.iter().find(|q| q.step == Step::Review).unwrap();
    assert!(
        review
            .label
            .contains("Write the manifests to `/tmp/erp-manifests`")
    );
    assert!(review.notes.iter().any(|n| n.contains("Will write (")));
    render_outcome(&o);
}

#[test]
fn without_any_kubeconfig_context_the_context_question_is_skipped() {
    let probe = FakeProbe::default();
    let (o, p) = finish(
        &probe,
        vec![
            t("apps"),
            c("quick-start"),
            t("acme"),
            c("generate"),
            t("me@acme.example"),
            c("none"),
            c("small"),
            c("daily"),
            enter(),
            enter(),
            enter(),
            c("apply"),
            Answer::Confirm(false),
            enter(),
        ],
    );
    assert_eq!(steps(&p)[0], Step::Namespace);
    assert!(p.asked[0].notes[0].contains("no Kubernetes context found"));
    assert_eq!(o.context, None);
    assert_eq!(o.namespace, "apps");
    assert!(!o.show_credentials);
    render_outcome(&o);
}

#[test]
fn a_small_memory_limit_is_explained_and_fewer_workers_offered() {
    let probe = FakeProbe::reachable(&["shop"]);
    let (o, p) = finish(
        &probe,
        vec![
            c("kind-dev"),
            c("shop"),
            c("quick-start"),
            t("acme"),
            c("generate"),
            t("me@acme.example"),
            c("none"),
            c("custom"),
            t("2"),
            t("4"),
            t("1Gi"),
            c("fewer-workers"),
            c("daily"),
            enter(),
            enter(),
            c("apply"),
            yes(),
            enter(),
        ],
    );
    let fix = p.asked.iter().find(|q| q.step == Step::MemoryFix).unwrap();
    assert_eq!(
        fix.notes,
        vec![
            "Memory limit 1Gi is small for 4 worker(s): about 1700Mi needed (300Mi per worker + 500Mi)."
        ]
    );
    let QuestionKind::Select { options, .. } = &fix.kind else {
        panic!("a select")
    };
    assert_eq!(options[0].label, "use 1 worker(s) — fits in 1Gi");
    let (loaded, _) = render_outcome(&o);
    assert_eq!(loaded.values.backend.odoo.workers, 1);
    assert_eq!(loaded.values.backend.replica_count, 2);
    assert!(
        !loaded.warnings.iter().any(|w| w.contains("memory limit")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn the_review_shows_the_callers_plan_and_no_at_the_review_applies_nothing() {
    let probe = FakeProbe::reachable(&["shop"]);
    let mut p = ScriptedPrompter::new(vec![
        c("kind-dev"),
        c("shop"),
        c("quick-start"),
        t("acme"),
        c("type"),
        t("db-password-1"),
        t("minio-password-1"),
        t("master-password-1"),
        t("admin-password-1"),
        t("me@acme.example"),
        c("none"),
        c("small"),
        c("daily"),
        enter(),
        enter(),
        c("cancel"),
    ]);
    let reviewer = |draft: &Outcome| {
        assert_eq!(draft.name, "acme");
        Some(Review {
            create: vec!["Job/acme-odoo-init".into()],
            update: vec!["Deployment/acme-odoo-backend".into()],
            unchanged: vec![],
            prune: vec!["Ingress/acme-odoo".into()],
            diff: "-  replicas: 2\n+  replicas: 1\n".into(),
        })
    };
    let r = wizard::run(&mut p, &probe, Defaults::default(), &reviewer);
    assert_eq!(r.unwrap_err(), Cancelled::Declined);
    let review = p.asked.last().unwrap();
    assert_eq!(review.step, Step::Review);
    assert_eq!(
        review.label,
        "Apply to context `kind-dev`, namespace `shop`?"
    );
    let all = review.notes.join("\n");
    assert!(
        all.contains("Will update (1):\n  Deployment/acme-odoo-backend"),
        "{all}"
    );
    assert!(all.contains(
        "Will prune (deleted after the new objects are ready) (1):\n  Ingress/acme-odoo"
    ));
    assert!(all.contains("+  replicas: 1"));
    assert!(all.contains("Passwords    typed by you (not shown)"));
    for secret in [
        "db-password-1",
        "minio-password-1",
        "master-password-1",
        "admin-password-1",
    ] {
        assert!(!all.contains(secret));
    }
}

#[test]
fn command_line_answers_skip_their_questions() {
    let probe = FakeProbe::reachable(&["shop"]);
    let defaults = Defaults {
        name: Some("acme".into()),
        preset: Some("local-dev".into()),
        context: Some("kind-dev".into()),
        namespace: Some("shop".into()),
        presets: Vec::new(),
    };
    let (r, p) = run(
        &probe,
        defaults,
        vec![
            c("generate"),
            t("me@acme.example"),
            c("none"),
            c("dev"),
            c("daily"),
            enter(),
            enter(),
            c("apply"),
            yes(),
            enter(),
        ],
    );
    let o = r.unwrap();
    assert_eq!(steps(&p)[0], Step::CredentialMode);
    assert_eq!(
        (o.name.as_str(), o.namespace.as_str(), o.preset.as_str()),
        ("acme", "shop", "local-dev")
    );
    assert_eq!(o.context.as_deref(), Some("kind-dev"));
    render_outcome(&o);
}

#[test]
fn every_question_has_help_and_no_default_is_a_secret() {
    let (_, p) = finish(&production_probe(), production_answers());
    let (_, p2) = run(
        &FakeProbe::reachable(&["shop"]),
        Defaults::default(),
        vec![
            c("kind-dev"),
            c("shop"),
            c("quick-start"),
            t("acme"),
            c("type"),
            t("db-password-1"),
        ],
    );
    for q in p.asked.iter().chain(&p2.asked) {
        assert!(
            q.help.len() > 30,
            "{:?} has too little help: {}",
            q.step,
            q.help
        );
        if let QuestionKind::Text {
            default: Some(d), ..
        } = &q.kind
        {
            assert!(!d.contains("password-1"));
        }
    }
    assert!(
        p2.asked
            .iter()
            .any(|q| matches!(q.kind, QuestionKind::Password { confirm: true }))
    );
}

#[test]
fn the_non_interactive_error_names_the_flags() {
    let m = wizard::non_interactive_error();
    for flag in ["--yes", "--preset", "-f", "--set", "NAME", "--output-dir"] {
        assert!(m.contains(flag), "{flag} missing from: {m}");
    }
}
