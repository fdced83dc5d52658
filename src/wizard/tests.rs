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
