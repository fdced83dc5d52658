//! What every command does to one instance, written once: find it, read its record and
//! values, lock it, append to its history, take a status snapshot, apply it with progress, run a
//! Job and follow its log, take a backup, put it in and out of maintenance, locate its
//! backend, delete it, and show it live.
//!
//! This layer sits between the cores (`values`, `render`, `status`, `plan`) with the
//! cluster client, and the commands (`cmd`): it imports neither `cmd` nor `cli`. See
//! docs/ARCHITECTURE.md.

pub mod apply;
pub mod backend;
pub mod backup;
pub mod backups;
pub mod delete;
mod error;
pub mod find;
pub mod job;
pub mod live;
pub mod lock;
pub mod maintenance;
mod open;
pub mod progress;
pub mod record;
pub mod snapshot;
pub mod values;

pub use error::Error;
pub use find::resolve_name;
pub use open::Instance;
pub use progress::Reporter;
pub use snapshot::snapshot;
