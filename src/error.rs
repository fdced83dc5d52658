//! Errors of the library. Each one names what was wrong and how to fix it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration problem: an unknown key, a bad type or an invalid value.
    #[error("{0}")]
    Config(String),
    /// Several configuration problems found at once.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A command-line usage problem (exit code 2).
    #[error("{0}")]
    Usage(String),
}
