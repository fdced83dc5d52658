//! The interactive wizard of `odoo-tui new` (see the README's "The two commands").
//!
//! A pure state machine over answers, split by what it is:
//! - `state`: what is known before the first question ([`Defaults`]), the answers so far
//!   and the effective choices they give ([`WizardState`]);
//! - `order`: the steps in the order they are asked ([`Step`]);
//! - `questions`: one entry per step — when it is asked, its text and choices
//!   ([`current_question`]), how an answer is checked (`checks`) and recorded;
//! - `answer`: applying an answer and moving on, or going back ([`next`]);
//! - `outcome` and `review`: what the answers give ([`Outcome`]) and the review of it.
//!
//! Around it:
//! - [`ClusterProbe`]: the cluster facts it needs (contexts, namespaces, reachability,
//!   Secret keys), implemented by the cluster layer; [`FakeProbe`] in tests.
//! - [`Prompter`]: who asks — [`InquirePrompter`] on a terminal, [`ScriptedPrompter`]
//!   in tests.
//! - [`run`]: the loop ask → validate → next, returning an [`Outcome`]: a values
//!   overlay over the chosen preset, where it goes, and the credentials choice.
//!
//! Calling it from `new` (sketch):
//!
//! ```no_run
//! use odoo_tui::wizard::{self, Defaults, InquirePrompter, NoCluster, PresetChoice};
//! if !wizard::interactive() {
//!     eprintln!("{}", wizard::non_interactive_error());
//! }
//! let defaults = Defaults { name: None, presets: PresetChoice::builtin_and_user(), ..Default::default() };
//! let probe = NoCluster { reason: "no kubeconfig".into() }; // the cluster layer's probe
//! let outcome = wizard::run(&mut InquirePrompter, &probe, defaults, &|_draft: &wizard::Outcome| None);
//! ```

mod answer;
mod checks;
mod choices;
mod order;
mod outcome;
mod probe;
mod prompt;
mod question;
mod questions;
mod review;
mod state;
#[cfg(test)]
mod tests;

pub use answer::next;
pub use checks::SecretRef;
pub use choices::{
    BackupChoice, CredentialChoice, DbChoice, Exposure, MemoryFix, NEW_NAMESPACE, Size,
    StorageChoice, memory_needed_mib,
};
pub use order::Step;
pub use outcome::{Destination, NewSecret, Outcome, answers_yaml, planned_objects};
pub use probe::{ClusterProbe, FakeProbe, NoCluster, SecretCheck};
pub use prompt::{Cancelled, InquirePrompter, Prompter, ScriptedPrompter};
pub use question::{Answer, Choice, Invalid, Question, QuestionKind};
pub use questions::current_question;
pub use state::{Defaults, PresetChoice, Review, WizardState};

/// Supplies the review: what the cluster already has compared with the draft outcome
/// (created/updated/unchanged/pruned objects and a diff). `None` when unknown (no
/// cluster): the wizard then lists the objects it renders.
pub trait Reviewer {
    fn review(&self, draft: &Outcome) -> Option<Review>;
}

impl<F: Fn(&Outcome) -> Option<Review>> Reviewer for F {
    fn review(&self, draft: &Outcome) -> Option<Review> {
        self(draft)
    }
}

/// Run the wizard: ask until the review is confirmed (→ `Ok(Outcome)`), declined
/// (`Cancelled::Declined`) or interrupted (`Cancelled::Interrupted`, exit 130). A
/// refused answer is reported with [`Prompter::invalid`] and the question asked again.
pub fn run(
    prompter: &mut dyn Prompter,
    probe: &dyn ClusterProbe,
    defaults: Defaults,
    reviewer: &dyn Reviewer,
) -> Result<Outcome, Cancelled> {
    let mut state = WizardState::new(defaults, probe);
    loop {
        match state.step() {
            Step::Done => {
                return state
                    .outcome()
                    .ok_or_else(|| Cancelled::Terminal("the answers are incomplete".into()));
            }
            Step::Declined => return Err(Cancelled::Declined),
            Step::Review => {
                let review = state.draft().ok().and_then(|d| reviewer.review(&d));
                state = state.with_review(review);
            }
            _ => {}
        }
        let q = current_question(&state);
        let current = &state;
        let check = |a: &Answer| next(current, a.clone(), probe).map(|_| ()).map_err(|e| e.0);
        let answer = prompter.ask(&q, &check)?;
        match next(&state, answer, probe) {
            Ok(s) => state = s,
            Err(Invalid(reason)) => prompter.invalid(&q, &reason),
        }
    }
}

/// Whether the wizard can run: stdin and stderr are terminals.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The message for `odoo-tui new` without a terminal and without `--yes` (a usage
/// error, exit 2).
pub fn non_interactive_error() -> String {
    "`odoo-tui new` asks its questions on a terminal, and there is none (stdin or stderr is not a terminal). \
Without one, pass --yes and give every answer as flags: NAME, --preset P (quick-start, external, production, local-dev, or one of yours), \
-f values.yaml and --set key=value (e.g. --set externalDatabase.host=db.example.com); \
add --output-dir DIR to write the manifests instead of applying them. \
Example: odoo-tui new acme --preset quick-start --yes"
        .to_string()
}
