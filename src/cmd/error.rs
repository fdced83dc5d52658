//! The one error a command ends with, and the exit code it means. Built from the layers'
//! errors by `From`; the commands add their own with [`Error::failure`], [`Error::usage`],
//! [`Error::not_ready`] and [`Error::cancelled`].

use crate::cluster::ClusterError;
use crate::cluster::apply::ApplyError;
use crate::instance;

/// The exit codes of odoo-tui (also in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: something went wrong.
    Failure,
    /// 2: the command line or the configuration is wrong.
    Usage,
    /// 3: applied, but the rollout or a Job failed or timed out (or the instance is not
    /// ready, for `status`).
    NotReady,
    /// 130: cancelled (Ctrl-C, or a question answered no).
    Cancelled,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::NotReady => 3,
            Exit::Cancelled => 130,
        }
    }
}

/// A command's failure. The layers' errors are boxed: they are large, and rare.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A message with its exit code, from the command itself.
    #[error("{message}")]
    Message { exit: Exit, message: String },
    #[error(transparent)]
    Values(Box<crate::Error>),
    #[error(transparent)]
    Cluster(Box<ClusterError>),
    #[error(transparent)]
    Apply(Box<ApplyError>),
    #[error(transparent)]
    Instance(Box<instance::Error>),
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Error {
        Error::Values(Box::new(e))
    }
}

impl From<ClusterError> for Error {
    fn from(e: ClusterError) -> Error {
        Error::Cluster(Box::new(e))
    }
}

impl From<ApplyError> for Error {
    fn from(e: ApplyError) -> Error {
        Error::Apply(Box::new(e))
    }
}

impl From<instance::Error> for Error {
    fn from(e: instance::Error) -> Error {
        Error::Instance(Box::new(e))
    }
}

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Error {
        Error::Message {
            exit,
            message: message.into(),
        }
    }

    /// Exit 1.
    pub fn failure(message: impl Into<String>) -> Error {
        Error::new(Exit::Failure, message)
    }

    /// Exit 2.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Exit::Usage, message)
    }

    /// Exit 3.
    pub fn not_ready(message: impl Into<String>) -> Error {
        Error::new(Exit::NotReady, message)
    }

    /// Exit 130.
    pub fn cancelled(message: impl Into<String>) -> Error {
        Error::new(Exit::Cancelled, message)
    }

    /// The same exit code with `note` on a line of its own after the message.
    pub fn with_note(self, note: &str) -> Error {
        Error::new(self.exit(), format!("{self}\n{note}"))
    }

    /// The exit code this error means.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Message { exit, .. } => *exit,
            Error::Values(e) => values_exit(e),
            Error::Cluster(_) => Exit::Failure,
            Error::Apply(e) => apply_exit(e),
            Error::Instance(e) => match &**e {
                instance::Error::Values(e) => values_exit(e),
                instance::Error::Apply(e) => apply_exit(e),
                instance::Error::Ambiguous { .. } => Exit::Usage,
                instance::Error::Timeout(_) => Exit::NotReady,
                instance::Error::Cancelled(_) => Exit::Cancelled,
                instance::Error::Cluster(_)
                | instance::Error::NotFound { .. }
                | instance::Error::NoneInNamespace { .. }
                | instance::Error::Locked(_)
                | instance::Error::Unavailable(_) => Exit::Failure,
            },
        }
    }
}

fn values_exit(e: &crate::Error) -> Exit {
    match e {
        crate::Error::Usage(_) => Exit::Usage,
        _ => Exit::Failure,
    }
}

fn apply_exit(e: &ApplyError) -> Exit {
    match e {
        ApplyError::Failed(_) | ApplyError::Timeout(_) => Exit::NotReady,
        ApplyError::Cancelled => Exit::Cancelled,
        ApplyError::Config(e) => values_exit(e),
        ApplyError::Cluster(_) | ApplyError::Foreign(_) | ApplyError::Refused(_) => Exit::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_errors_keep_their_exit_codes() {
        let usage = crate::Error::Usage("bad flag".into());
        assert_eq!(Error::from(usage).exit(), Exit::Usage);
        let invalid = crate::Error::Invalid(vec!["x".into()]);
        assert_eq!(Error::from(invalid).exit(), Exit::Failure);
        assert_eq!(Error::from(ApplyError::Cancelled).exit().code(), 130);
        assert_eq!(
            Error::from(ApplyError::Timeout("t".into())).exit().code(),
            3
        );
        let ambiguous = instance::Error::Ambiguous {
            namespace: "shop".into(),
            names: vec!["a".into(), "b".into()],
        };
        let e = Error::from(ambiguous);
        assert_eq!(e.exit(), Exit::Usage);
        assert_eq!(
            e.to_string(),
            "namespace `shop` holds 2 instances (a, b): name the one you mean"
        );
        let from_apply = instance::Error::Apply(ApplyError::Timeout("t".into()));
        assert_eq!(Error::from(from_apply).exit(), Exit::NotReady);
    }

    #[test]
    fn a_note_keeps_the_exit_code() {
        let e = Error::not_ready("the backup failed").with_note("nothing was upgraded");
        assert_eq!(e.exit(), Exit::NotReady);
        assert_eq!(e.to_string(), "the backup failed\nnothing was upgraded");
    }
}
