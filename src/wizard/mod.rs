//! The interactive wizard of `odoo-tui new` (SPEC §4).
//!
//! - [`flow`]: a pure state machine over answers — [`current_question`] and [`next`].
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

mod checks;
pub mod flow;
mod outcome;
mod probe;
mod prompt;

pub use checks::SecretRef;
pub use flow::{
    Answer, Choice, CredentialChoice, DbChoice, Defaults, Exposure, Invalid, MemoryFix,
    PresetChoice, Question, QuestionKind, Review, Size, Step, StorageChoice, WizardState,
    current_question, memory_needed_mib, next,
};
pub use outcome::{Destination, Outcome, answers_yaml, planned_objects};
pub use probe::{ClusterProbe, FakeProbe, NoCluster, SecretCheck};
pub use prompt::{Cancelled, InquirePrompter, Prompter, ScriptedPrompter};

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
