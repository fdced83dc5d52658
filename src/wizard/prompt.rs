//! Prompting behind a trait: [`InquirePrompter`] on a terminal (prompts on stderr),
//! [`ScriptedPrompter`] in tests.

use std::collections::VecDeque;

use inquire::validator::Validation;
use inquire::{Confirm, InquireError, Password, PasswordDisplayMode, Select, Text};

use super::question::{Answer, Question, QuestionKind};

/// Why the wizard stopped without an outcome. Nothing has been applied in any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// Ctrl-C: exit 130.
    Interrupted,
    /// "No" at the review.
    Declined,
    /// The terminal failed (not a terminal, I/O error): the reason.
    Terminal(String),
}

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cancelled::Interrupted => f.write_str("cancelled (Ctrl-C): nothing was applied"),
            Cancelled::Declined => f.write_str("not applied: nothing was changed"),
            Cancelled::Terminal(e) => write!(f, "the wizard stopped: {e}; nothing was applied"),
        }
    }
}

impl std::error::Error for Cancelled {}

/// Something that asks questions. `check` validates an answer as the state machine
/// would (without changing anything): a prompter may use it to refuse answers inline,
/// as they are typed. The driver validates again and reports refusals with
/// [`Prompter::invalid`], then asks the same question again.
pub trait Prompter {
    /// Ask `q`; Esc is `Ok(Answer::Back)`, Ctrl-C is `Err(Cancelled::Interrupted)`.
    fn ask(
        &mut self,
        q: &Question,
        check: &dyn Fn(&Answer) -> Result<(), String>,
    ) -> Result<Answer, Cancelled>;
    /// The last answer to `q` was refused for `reason`.
    fn invalid(&mut self, q: &Question, reason: &str);
}

/// Answers from a list, for tests. Records every question asked and every refusal.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    answers: VecDeque<Answer>,
    /// The questions asked, in order (a refused answer makes the same question appear twice).
    pub asked: Vec<Question>,
    /// The reasons answers were refused, in order.
    pub refused: Vec<String>,
}

impl ScriptedPrompter {
    /// A prompter that gives these answers in order, then Ctrl-C.
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> ScriptedPrompter {
        ScriptedPrompter {
            answers: answers.into_iter().collect(),
            ..Default::default()
        }
    }

    /// Answers not used.
    pub fn remaining(&self) -> usize {
        self.answers.len()
    }
}

impl Prompter for ScriptedPrompter {
    fn ask(
        &mut self,
        q: &Question,
        _check: &dyn Fn(&Answer) -> Result<(), String>,
    ) -> Result<Answer, Cancelled> {
        self.asked.push(q.clone());
        self.answers.pop_front().ok_or(Cancelled::Interrupted)
    }

    fn invalid(&mut self, _q: &Question, reason: &str) {
        self.refused.push(reason.to_string());
    }
}

/// The terminal prompter (inquire, on stderr). Text answers are checked inline as they
/// are submitted; passwords after entry. Esc goes back, Ctrl-C cancels.
#[derive(Debug, Default)]
pub struct InquirePrompter;

fn validator(
    check: &dyn Fn(&Answer) -> Result<(), String>,
) -> impl Fn(&str) -> Result<Validation, inquire::CustomUserError> + Clone + '_ {
    move |s: &str| {
        Ok(match check(&Answer::Text(s.to_string())) {
            Ok(()) => Validation::Valid,
            Err(reason) => Validation::Invalid(reason.into()),
        })
    }
}

impl Prompter for InquirePrompter {
    fn ask(
        &mut self,
        q: &Question,
        check: &dyn Fn(&Answer) -> Result<(), String>,
    ) -> Result<Answer, Cancelled> {
        for note in &q.notes {
            eprintln!("\n{note}");
        }
        let result = match &q.kind {
            QuestionKind::Select { options, default } => {
                let labels: Vec<String> = options.iter().map(|o| o.label.clone()).collect();
                Select::new(&q.label, labels)
                    .with_help_message(&q.help)
                    .with_starting_cursor(*default)
                    .with_page_size(10)
                    .raw_prompt()
                    .map(|o| Answer::Choice(options[o.index].key.clone()))
            }
            QuestionKind::Text { default, .. } => {
                let mut t = Text::new(&q.label)
                    .with_help_message(&q.help)
                    .with_validator(validator(check));
                if let Some(d) = default {
                    t = t.with_default(d);
                }
                t.prompt().map(Answer::Text)
            }
            QuestionKind::Password { confirm } => {
                let mut p = Password::new(&q.label)
                    .with_help_message(&q.help)
                    .with_display_mode(PasswordDisplayMode::Masked)
                    .with_display_toggle_enabled();
                // inquire's password validators must be 'static: a refused password is
                // reported by the driver after both entries, and asked again.
                if !confirm {
                    p = p.without_confirmation();
                }
                p.prompt().map(Answer::Text)
            }
            QuestionKind::Confirm { default } => Confirm::new(&q.label)
                .with_help_message(&q.help)
                .with_default(*default)
                .prompt()
                .map(Answer::Confirm),
        };
        match result {
            Ok(a) => Ok(a),
            Err(InquireError::OperationCanceled) => Ok(Answer::Back),
            Err(InquireError::OperationInterrupted) => Err(Cancelled::Interrupted),
            Err(e) => Err(Cancelled::Terminal(e.to_string())),
        }
    }

    fn invalid(&mut self, _q: &Question, reason: &str) {
        eprintln!("invalid: {reason}");
    }
}
