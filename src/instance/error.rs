//! What can go wrong when acting on one instance: the layers' errors, and the few the
//! instance layer finds itself (no such instance, several to choose from).

use crate::cluster::ClusterError;
use crate::cluster::apply::ApplyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Values(#[from] crate::Error),
    /// No instance of that name in the namespace.
    #[error(
        "no odoo-tui instance `{name}` in namespace `{namespace}` — create it with `odoo-tui new {name}`, or pick the namespace with -n"
    )]
    NotFound { name: String, namespace: String },
    /// No name given and no instance in the namespace.
    #[error(
        "no odoo-tui instance in namespace `{namespace}` — name one, or pick the namespace with -n"
    )]
    NoneInNamespace { namespace: String },
    /// The instance is there but cannot serve what was asked (e.g. no ready backend pod).
    #[error("{0}")]
    Unavailable(String),
    /// Waiting for the instance took longer than allowed.
    #[error("{0}")]
    Timeout(String),
    /// Another command holds the instance's lock (the message names it and the way out).
    #[error("{0}")]
    Locked(String),
    /// Stopped by Ctrl-C (or a lost lock) between two steps.
    #[error("{0}")]
    Cancelled(String),
    /// No name given and several instances to choose from (a usage error).
    #[error(
        "namespace `{namespace}` holds {} instances ({}): name the one you mean",
        names.len(),
        names.join(", ")
    )]
    Ambiguous {
        namespace: String,
        names: Vec<String>,
    },
}
