//! Applying an answer: [`next`] takes an answer to the current question and returns the
//! new state (or why the answer is refused, with the state unchanged). Esc goes back to
//! the previous question asked; every other answer is first read as the question's kind
//! says (a choice among the options, trimmed text or its default, a password as typed,
//! yes or no), then checked and recorded by the question's entry, and the wizard moves
//! to the next question of the order that is asked.

use super::order::Step;
use super::probe::ClusterProbe;
use super::question::{Answer, Invalid, QuestionKind};
use super::questions::current_question;
use super::state::WizardState;

/// Take `answer` to the current question. Returns the new state, or why the answer is
/// refused (the state is then unchanged). `Answer::Back` returns to the previous
/// question that was asked, keeping every answer.
pub fn next(
    state: &WizardState,
    answer: Answer,
    probe: &dyn ClusterProbe,
) -> Result<WizardState, Invalid> {
    let mut s = state.clone();
    if answer == Answer::Back {
        // Inside the missing-Secret detour: from a value back to the choice (typed
        // values dropped), from the choice back to the Secret question.
        if s.step == Step::SecretValue
            && let Some(r) = &mut s.resolving
        {
            r.typed.clear();
            s.step = Step::SecretMissing;
            return Ok(s);
        }
        s.resolving = None;
        let Some(prev) = s.history.pop() else {
            return Err(Invalid(
                "this is the first question — press Ctrl-C to leave the wizard".into(),
            ));
        };
        s.step = prev;
        s.review = None;
        s.notice.clear();
        s.revisit &= s.step != Step::Review;
        return Ok(s);
    }
    let Some(entry) = state.step.entry() else {
        return Err(Invalid("the wizard has finished".into()));
    };
    let step = state.step;
    let input = read(state, answer)?;
    s.notes.retain(|(st, _)| *st != step);
    s.notice.clear();
    let jump = (entry.take)(&mut s, input, probe).map_err(Invalid)?;
    if !step.is_detour() {
        s.history.push(step);
    }
    s.step = jump.unwrap_or_else(|| s.following(Some(step)));
    if s.step == Step::Review {
        s.revisit = false;
    } else {
        s.review = None;
    }
    Ok(s)
}

/// The answer as the current question's kind reads it, as text for its entry.
fn read(state: &WizardState, answer: Answer) -> Result<String, Invalid> {
    let q = current_question(state);
    match (&q.kind, answer) {
        (QuestionKind::Select { options, .. }, Answer::Choice(k)) => {
            if !options.iter().any(|o| o.key == k) {
                let keys: Vec<&str> = options.iter().map(|o| o.key.as_str()).collect();
                return Err(Invalid(format!(
                    "`{k}` is not one of the choices: {}",
                    keys.join(", ")
                )));
            }
            Ok(k)
        }
        (QuestionKind::Text { default, optional }, Answer::Text(t)) => {
            let t = t.trim().to_string();
            match (t.is_empty(), default) {
                (false, _) => Ok(t),
                (true, Some(d)) => Ok(d.clone()),
                (true, None) if *optional => Ok(String::new()),
                (true, None) => Err(Invalid(format!("an answer is required: {}", q.help))),
            }
        }
        (QuestionKind::Password { .. }, Answer::Text(t)) => Ok(t),
        (QuestionKind::Confirm { .. }, Answer::Confirm(b)) => Ok(b.to_string()),
        (kind, other) => {
            let want = match kind {
                QuestionKind::Select { .. } => "one of the choices",
                QuestionKind::Text { .. } | QuestionKind::Password { .. } => "text",
                QuestionKind::Confirm { .. } => "yes or no",
            };
            Err(Invalid(format!(
                "this question expects {want}, not {other:?}"
            )))
        }
    }
}
