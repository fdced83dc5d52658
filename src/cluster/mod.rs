//! Talking to the cluster: connection, apply, credentials, the instance record, watches.
//! IO only; the decisions it acts on are in `plan`.

pub mod apply;
pub mod client;
pub mod creds;
pub mod error;
pub mod kinds;
pub mod log;
pub mod record;
pub mod watch;

pub use client::{Kube, Target};
pub use error::ClusterError;
pub use watch::instance_selector;

/// Label selector of every object odoo-tui manages.
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=odoo-tui";

/// Label selector of the objects odoo-tui manages for the instance `release`.
pub fn managed_selector(release: &str) -> String {
    format!("app.kubernetes.io/instance={release},{MANAGED_SELECTOR}")
}
