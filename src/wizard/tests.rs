//! Unit tests of the state machine: the first questions, going back, refusals.
use super::choices::workers_fitting;
use super::state::Hidden;
use super::*;

fn start() -> (WizardState, FakeProbe) {
    let probe = FakeProbe::reachable(&["default", "shop"]);
    (WizardState::new(Defaults::default(), &probe), probe)
}

#[test]
fn starts_with_the_context_and_lists_kubeconfig_contexts() {
    let (s, _) = start();
    assert_eq!(s.step(), Step::Context);
    let q = current_question(&s);
    let QuestionKind::Select { options, default } = q.kind else {
        panic!("a select")
    };
    assert_eq!(options[0].label, "kind-dev (current)");
    assert_eq!(default, 0);
    assert!(!q.help.is_empty());
}

#[test]
fn back_on_the_first_question_is_refused_and_keeps_the_state() {
    let (s, probe) = start();
    let e = next(&s, Answer::Back, &probe).unwrap_err();
    assert_eq!(
        e.0,
        "this is the first question — press Ctrl-C to leave the wizard"
    );
}

#[test]
fn unknown_choices_and_wrong_answer_kinds_are_refused() {
    let (s, probe) = start();
    let e = next(&s, Answer::Choice("prod".into()), &probe).unwrap_err();
    assert_eq!(e.0, "`prod` is not one of the choices: kind-dev");
    let e = next(&s, Answer::Confirm(true), &probe).unwrap_err();
    assert!(e.0.starts_with("this question expects one of the choices"));
}

#[test]
fn the_namespace_list_offers_a_new_one_and_back_keeps_the_choice() {
    let (s, probe) = start();
    let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
    assert_eq!(s.step(), Step::Namespace);
    let s = next(&s, Answer::Choice(NEW_NAMESPACE.into()), &probe).unwrap();
    assert_eq!(s.step(), Step::NewNamespace);
    let s = next(&s, Answer::Text("acme".into()), &probe).unwrap();
    assert_eq!(s.namespace(), ("acme".to_string(), true));
    let back = next(&s, Answer::Back, &probe).unwrap();
    assert_eq!(back.step(), Step::NewNamespace);
    let QuestionKind::Text { default, .. } = current_question(&back).kind else {
        panic!("text")
    };
    assert_eq!(default.as_deref(), Some("acme"));
    assert_eq!(back.asked(), &[Step::Context, Step::Namespace]);
}

#[test]
fn presets_that_need_answers_still_give_defaults() {
    let (s, probe) = start();
    let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
    let s = next(&s, Answer::Choice("shop".into()), &probe).unwrap();
    let s = next(&s, Answer::Choice("production".into()), &probe).unwrap();
    assert_eq!(s.db(), DbChoice::External);
    assert_eq!(s.storage(), StorageChoice::External);
    assert_eq!(s.cred_mode(), CredentialChoice::ExistingSecrets);
    assert_eq!(s.size(), Size::Medium);
    assert!(!s.relevant(Step::CredentialMode));
}

#[test]
fn local_dev_fixes_the_filestore_on_a_volume() {
    let (s, probe) = start();
    let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
    let s = next(&s, Answer::Choice("shop".into()), &probe).unwrap();
    let s = next(&s, Answer::Choice("local-dev".into()), &probe).unwrap();
    assert!(!s.relevant(Step::Storage));
    assert_eq!(s.storage(), StorageChoice::Pvc);
    assert_eq!(s.size(), Size::Dev);
}

#[test]
fn debug_output_never_shows_typed_text() {
    assert_eq!(format!("{:?}", Answer::Text("hunter22".into())), "Text(..)");
    assert_eq!(format!("{:?}", Hidden("hunter22".into())), "<hidden>");
}

#[test]
fn memory_needed_follows_the_workers() {
    assert_eq!(memory_needed_mib(0), 500.0);
    assert_eq!(memory_needed_mib(4), 1700.0);
    assert_eq!(workers_fitting(1024.0), Some(1));
    assert_eq!(workers_fitting(400.0), None);
}

fn options(q: &Question) -> (Vec<String>, usize) {
    let QuestionKind::Select { options, default } = &q.kind else {
        panic!("{:?} is not a select", q.step)
    };
    (options.iter().map(|o| o.key.clone()).collect(), *default)
}

#[test]
fn the_contexts_namespace_comes_first_and_is_created_when_missing() {
    let probe = FakeProbe::reachable(&["default", "shop"]).with_context_namespace("acme");
    let s = WizardState::new(Defaults::default(), &probe);
    let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
    let q = current_question(&s);
    assert_eq!(
        options(&q),
        (
            vec![
                "acme".into(),
                "default".into(),
                "shop".into(),
                NEW_NAMESPACE.into()
            ],
            0
        )
    );
    let QuestionKind::Select { options: o, .. } = &q.kind else {
        unreachable!()
    };
    assert!(o[0].label.contains("does not exist yet"), "{}", o[0].label);
    let s = next(&s, Answer::Choice("acme".into()), &probe).unwrap();
    assert_eq!(s.step(), Step::Scenario);
    assert_eq!(s.namespace(), ("acme".to_string(), true));

    // An existing context namespace moves to the front and is not created.
    let probe = FakeProbe::reachable(&["default", "shop"]).with_context_namespace("shop");
    let s = WizardState::new(Defaults::default(), &probe);
    let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
    assert_eq!(
        options(&current_question(&s)).0,
        vec!["shop", "default", NEW_NAMESPACE]
    );
    let s = next(&s, Answer::Choice("shop".into()), &probe).unwrap();
    assert_eq!(s.namespace(), ("shop".to_string(), false));
}

/// Answer every question with its default (`name` for the instance name, an e-mail for
/// the admin) until `target` is asked.
fn walk_to(scenario: &str, target: Step) -> (WizardState, FakeProbe) {
    let probe = FakeProbe::reachable(&["default", "shop"]);
    let defaults = Defaults {
        preset: Some(scenario.into()),
        name: Some("acme".into()),
        namespace: Some("shop".into()),
        ..Defaults::default()
    };
    let mut s = WizardState::new(defaults, &probe);
    for _ in 0..60 {
        if s.step() == target {
            return (s, probe);
        }
        let q = current_question(&s);
        let answer = match (&q.step, &q.kind) {
            (Step::AdminEmail, _) => Answer::Text("admin@acme.example".into()),
            (_, QuestionKind::Select { options, default }) => {
                Answer::Choice(options[*default].key.clone())
            }
            (_, QuestionKind::Confirm { default }) => Answer::Confirm(*default),
            _ => Answer::Text(String::new()),
        };
        s = next(&s, answer, &probe)
            .unwrap_or_else(|e| panic!("{:?} refused the default: {e}", q.step));
    }
    panic!("{target:?} was never asked; at {:?}", s.step())
}

fn loaded_backup(s: &WizardState) -> crate::values::Backup {
    s.draft().unwrap().load().unwrap().values.backup
}

#[test]
fn backups_are_daily_by_default_with_a_week_and_a_month_kept() {
    let (s, probe) = walk_to("quick-start", Step::Backups);
    let q = current_question(&s);
    assert_eq!(q.label, "Scheduled backups?");
    let (keys, default) = options(&q);
    assert_eq!(keys, ["daily", "custom", "none"]);
    assert_eq!(keys[default], "daily");
    let s = next(&s, Answer::Choice("daily".into()), &probe).unwrap();
    assert_ne!(s.step(), Step::BackupSchedule, "daily asks no schedule");
    let b = loaded_backup(&s);
    assert_eq!(b.schedule, "0 3 * * *");
    assert_eq!(
        (b.keep.last, b.keep.daily, b.keep.weekly, b.keep.monthly),
        (0, 7, 4, 0)
    );
}

#[test]
fn local_dev_schedules_no_backup_unless_asked() {
    let (s, probe) = walk_to("local-dev", Step::Backups);
    let (keys, default) = options(&current_question(&s));
    assert_eq!(keys[default], "none");
    let none = next(&s, Answer::Choice("none".into()), &probe).unwrap();
    assert_eq!(loaded_backup(&none).schedule, "");
    let daily = next(&s, Answer::Choice("daily".into()), &probe).unwrap();
    assert_eq!(loaded_backup(&daily).schedule, "0 3 * * *");
}

#[test]
fn another_schedule_is_checked_as_backup_schedule_is() {
    let (s, probe) = walk_to("quick-start", Step::Backups);
    let s = next(&s, Answer::Choice("custom".into()), &probe).unwrap();
    assert_eq!(s.step(), Step::BackupSchedule);
    let e = next(&s, Answer::Text("0 3 * *".into()), &probe).unwrap_err();
    assert!(e.0.contains("has 4 fields; a schedule has five"), "{e}");
    let e = next(
        &s,
        Answer::Text("CRON_TZ=Europe/Paris 0 3 * * *".into()),
        &probe,
    )
    .unwrap_err();
    assert!(e.0.contains("time zone"), "{e}");
    let s = next(&s, Answer::Text("30 2 * * 1-5".into()), &probe).unwrap();
    let b = loaded_backup(&s);
    assert_eq!(b.schedule, "30 2 * * 1-5");
    assert_eq!((b.keep.daily, b.keep.weekly), (7, 4));
    // Back on the schedule question, the typed schedule is the default.
    let back = next(&s, Answer::Back, &probe).unwrap();
    assert_eq!(back.step(), Step::BackupSchedule);
    let QuestionKind::Text { default, .. } = current_question(&back).kind else {
        panic!("text")
    };
    assert_eq!(default.as_deref(), Some("30 2 * * 1-5"));
}

#[test]
fn the_review_shows_the_backup_choice() {
    let review = |scenario: &str| {
        let (s, _) = walk_to(scenario, Step::Review);
        current_question(&s)
            .notes
            .join("\n")
            .lines()
            .find(|l| l.starts_with("Backups"))
            .map(str::to_string)
    };
    assert_eq!(
        review("quick-start").as_deref(),
        Some("Backups      daily at 03:00 (a CronJob), keeping 7 daily and 4 weekly")
    );
    assert_eq!(
        review("local-dev").as_deref(),
        Some("Backups      none scheduled (`odoo-tui backup` takes one when asked)")
    );
}
