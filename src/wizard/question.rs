//! What a prompter shows and what it gives back: [`Question`] and [`Answer`].

use std::fmt;

use super::order::Step;

/// An answer to a [`Question`].
#[derive(Clone, PartialEq, Eq)]
pub enum Answer {
    /// The key of one of a select question's [`Choice`]s.
    Choice(String),
    /// Typed text (also a password). Empty text takes the question's default.
    Text(String),
    /// Yes or no.
    Confirm(bool),
    /// Esc: back to the previous question that was asked.
    Back,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Choice(k) => write!(f, "Choice({k:?})"),
            // Text may be a password: never printed.
            Answer::Text(_) => write!(f, "Text(..)"),
            Answer::Confirm(b) => write!(f, "Confirm({b})"),
            Answer::Back => write!(f, "Back"),
        }
    }
}

/// One option of a select question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Stable key, what [`Answer::Choice`] carries.
    pub key: String,
    /// What the user reads.
    pub label: String,
}

/// How a question is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    /// Pick one option; `default` is the index the cursor starts on.
    Select {
        options: Vec<Choice>,
        default: usize,
    },
    /// Type text; `default` is taken on empty input; `optional` means empty is allowed.
    Text {
        default: Option<String>,
        optional: bool,
    },
    /// Type a secret (hidden); `confirm` asks for it twice. Empty input keeps an earlier
    /// answer when there is one.
    Password { confirm: bool },
    /// Yes or no.
    Confirm { default: bool },
}

/// What the prompter shows: notes (printed before), the question and its help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub step: Step,
    pub kind: QuestionKind,
    pub label: String,
    pub help: String,
    /// Context to print before the question (cluster unreachable, the review summary, …).
    pub notes: Vec<String>,
}

/// A refused answer, with the reason; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// A question before it is placed: what one entry of the table shows for the current
/// answers. The step and the notices of the state are added by
/// [`super::current_question`].
pub(super) struct Asked {
    pub kind: QuestionKind,
    pub label: String,
    pub help: String,
    pub notes: Vec<String>,
}

impl Asked {
    pub fn new(kind: QuestionKind, label: impl Into<String>, help: impl Into<String>) -> Asked {
        Asked {
            kind,
            label: label.into(),
            help: help.into(),
            notes: Vec::new(),
        }
    }

    /// Add notes printed before the question.
    pub fn with_notes(mut self, notes: Vec<String>) -> Asked {
        self.notes = notes;
        self
    }
}

/// A select question whose cursor starts on `default_key` (else the first option).
pub(super) fn select(options: Vec<Choice>, default_key: &str) -> QuestionKind {
    let default = options
        .iter()
        .position(|o| o.key == default_key)
        .unwrap_or(0);
    QuestionKind::Select { options, default }
}

pub(super) fn choice(key: &str, label: impl Into<String>) -> Choice {
    Choice {
        key: key.to_string(),
        label: label.into(),
    }
}

/// A required text question; an empty default is no default.
pub(super) fn text(default: Option<String>) -> QuestionKind {
    QuestionKind::Text {
        default: default.filter(|d| !d.is_empty()),
        optional: false,
    }
}

/// A text question that may be left empty.
pub(super) fn optional_text(default: Option<String>) -> QuestionKind {
    QuestionKind::Text {
        default: default.filter(|d| !d.is_empty()),
        optional: true,
    }
}

/// A hidden question; `confirm` asks twice.
pub(super) fn password(confirm: bool) -> QuestionKind {
    QuestionKind::Password { confirm }
}

pub(super) fn nonempty(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.is_empty())
}
