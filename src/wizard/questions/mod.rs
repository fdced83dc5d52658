//! The questions: one table entry per step, grouped by topic. An entry says when its
//! question is asked, what it shows (text, choices, default) and how an answer is checked
//! and recorded. The order they are asked in is [`super::order`].
//!
//! Adding a question: a variant and its place in `order.rs`, an [`Entry`] in the topic's
//! file here, a field in [`super::state::Answers`] when the answer is kept, and its effect
//! on the values in `outcome.rs`.

pub(super) mod backups;
pub(super) mod cluster;
pub(super) mod credentials;
pub(super) mod database;
pub(super) mod exposure;
pub(super) mod finish;
pub(super) mod scenario;
pub(super) mod size;
pub(super) mod storage;

use super::order::Step;
use super::probe::ClusterProbe;
use super::question::{Asked, Question, QuestionKind};
use super::state::WizardState;

/// What recording an answer leads to: `Some(step)` jumps elsewhere than the next
/// question of the order.
pub(super) type Jump = Option<Step>;

/// One question of the wizard.
pub(super) struct Entry {
    /// Whether it is asked, given the answers so far; skipped otherwise.
    pub asked: fn(&WizardState) -> bool,
    /// What the prompter shows for the answers so far.
    pub ask: fn(&WizardState) -> Asked,
    /// Check the answer and record it, or say why it is refused. A select's answer is
    /// one of its keys; a text's is trimmed, with the default taken for empty input; a
    /// password's is as typed; a confirm's is `true` or `false`.
    pub take: fn(&mut WizardState, String, &dyn ClusterProbe) -> Result<Jump, String>,
}

/// Asked whatever the answers.
pub(super) fn always(_: &WizardState) -> bool {
    true
}

/// The question asked in `state` (at Done/Declined: a closing note without options).
pub fn current_question(state: &WizardState) -> Question {
    let asked = match state.step.entry() {
        Some(e) => (e.ask)(state),
        None => Asked::new(QuestionKind::Confirm { default: true }, "Done", ""),
    };
    let mut notes = state.notice.clone();
    notes.extend(asked.notes);
    Question {
        step: state.step,
        kind: asked.kind,
        label: asked.label,
        help: asked.help,
        notes,
    }
}
