//! The renderer: `Values` (+ release name, namespace and credentials) to typed
//! Kubernetes objects. Pure: no IO, no clock, no randomness.

pub mod addons;
mod backend;
pub mod backup;
mod common;
mod frontend;
mod ingress;
mod jobs;
mod minio;
mod network_policy;
mod nginx;
mod object;
mod postgresql;
pub mod restore;
mod secrets;
mod stateful;
pub mod template;

pub use common::{Ctx, Derived, names};
pub use object::Object;
pub use secrets::{needed_credentials, odoo_conf, session_uri};

/// The pieces `upgrade` and `backup` use (docs/ARCHITECTURE.md, "Upgrade and backup").
pub mod ops_parts {
    pub use super::backend::deployment_name as backend_deployment_name;
    pub use super::backend::pvc_name as filestore_pvc_name;
    pub use super::backup::{BackupKind, backup_job, backup_job_of};
    pub use super::jobs::{
        BackupJob, BackupTarget, UpgradeModules, UpgradeSpec, backup_stamp, backups_pvc_name,
        upgrade_job, upgrade_job_name, upgrade_script,
    };
    pub use super::nginx::{config_maps_with as nginx_config_maps, render_with as nginx_render};
}

use crate::values::Values;

/// Annotation holding the identity of a Job: Jobs are immutable, so the apply engine
/// deletes and re-creates a finished Job whose identity changed. The renderer sets it
/// where only part of the spec matters (init, storage-init); otherwise it is a hash of
/// the whole spec.
pub const JOB_SPEC_HASH: &str = "odoo-tui/spec-hash";

/// Credentials the renderer writes into chart-managed Secrets. Generated ones are
/// produced outside the renderer (random) or read back from the cluster.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Password of the database user (bundled PostgreSQL, or external without existingSecret).
    pub db_password: Option<String>,
    /// MinIO root password (bundled MinIO without existingSecret).
    pub minio_root_password: Option<String>,
    /// Odoo's master password (`admin_passwd` in odoo.conf).
    pub master_password: Option<String>,
    /// Password set for Odoo's `admin` user by the init Job.
    pub admin_password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    /// Never prints a credential: only which ones are present.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |o: &Option<String>| if o.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("Credentials")
            .field("db_password", &shown(&self.db_password))
            .field("minio_root_password", &shown(&self.minio_root_password))
            .field("master_password", &shown(&self.master_password))
            .field("admin_password", &shown(&self.admin_password))
            .finish()
    }
}

/// What one render needs.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    pub values: &'a Values,
    pub credentials: &'a Credentials,
}

/// What an operation in progress asks of one render beyond the values; the apply engine
/// sets it for the run that needs it (see docs/ARCHITECTURE.md, "The apply engine").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transition {
    /// The maintenance page is on (with nginx), whatever `nginx.maintenancePage.enabled`
    /// says: the backend is stopped or not ready yet.
    pub maintenance: bool,
    /// The filestore moves from the backend's PVC to S3 in this run: the Jobs that move
    /// the files (init, storage-init) mount the PVC, which the backend no longer does
    /// (unless `backend.persistence.enabled` keeps it).
    pub filestore_to_s3: bool,
}

/// Render every object of the instance, in apply order (docs/ARCHITECTURE.md, "The apply
/// engine").
pub fn render(input: &RenderInput<'_>) -> Result<Vec<Object>, crate::Error> {
    render_with(input, Transition::default())
}

/// [`render`] for a run with a [`Transition`] under way.
pub fn render_with(
    input: &RenderInput<'_>,
    transition: Transition,
) -> Result<Vec<Object>, crate::Error> {
    let mut ctx = Ctx::new(input)?;
    ctx.transition = transition;
    let mut out = Vec::new();
    if let Some(sa) = common::service_account(&ctx) {
        out.push(sa);
    }
    out.extend(secrets::render(&ctx)?);
    out.extend(nginx::config_maps(&ctx));
    out.extend(postgresql::render(&ctx));
    out.extend(minio::render(&ctx));
    out.extend(backend::pvc(&ctx));
    out.extend(jobs::render(&ctx));
    out.extend(backend::render(&ctx));
    out.extend(frontend::render(&ctx));
    out.extend(nginx::render(&ctx));
    out.extend(jobs::smoke_check(&ctx));
    out.extend(backend::pdb(&ctx));
    out.extend(ingress::render(&ctx));
    out.extend(network_policy::render(&ctx));
    out.extend(backup::render(&ctx));
    Ok(out)
}
