//! Pure decisions of the operations on an instance: how to apply (waves, ownership, Job
//! re-creation, prune, diffs), how to upgrade, how to restore a backup, and how the
//! history reads. No IO: the cluster and instance layers act on what these decide.

pub mod addons;
pub mod apply;
pub mod backup;
pub mod backups;
pub mod credentials;
pub mod delete;
pub mod history;
pub mod lock;
pub mod logs;
pub mod upgrade;
