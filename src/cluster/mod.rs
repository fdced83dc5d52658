//! Talking to the cluster: connection, apply, credentials, the instance record.

pub mod apply;
pub mod client;
pub mod creds;
pub mod error;
pub mod kinds;
pub mod plan;
pub mod record;
pub mod watch;

pub use client::{Kube, Target};
pub use error::ClusterError;
