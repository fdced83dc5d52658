//! An instance opened for work: its record and the values it holds. What Job-running
//! commands (`backup`, `upgrade`) start from: the render context of its values, a watch
//! on its objects, a Job runner, its history.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::job::JobRunner;
use super::{Error, Reporter};
use crate::cluster::Kube;
use crate::cluster::record::{HistoryEntry, Record};
use crate::cluster::watch::InstanceWatch;
use crate::render::{Credentials, Ctx, RenderInput};
use crate::status::Component;
use crate::values::Loaded;

/// No credential: the Jobs and pieces rendered for operations name Secrets, never hold
/// their values.
static NO_CREDENTIALS: Credentials = Credentials {
    db_password: None,
    minio_root_password: None,
    master_password: None,
    admin_password: None,
};

/// One instance, its record, and the values recorded at its last apply.
pub struct Instance {
    pub kube: Kube,
    pub name: String,
    pub record: Record,
    pub loaded: Loaded,
}

impl Instance {
    /// The instance `name` (see [`super::resolve_name`]) with its record and values; an
    /// error naming the fix when there is none. Commands that change it open it with its
    /// lock held (`instance::lock::with`), so that what they read stays true.
    pub async fn open(kube: Kube, name: String) -> Result<Instance, Error> {
        let (loaded, record) = super::values::recorded(&kube, &name, &[]).await?;
        Ok(Instance {
            kube,
            name,
            record,
            loaded,
        })
    }

    /// The render context of the recorded values, without credentials.
    pub fn render_ctx(&self) -> Result<Ctx<'_>, Error> {
        Ok(Ctx::new(&RenderInput {
            release: &self.name,
            namespace: &self.kube.namespace,
            values: &self.loaded.values,
            credentials: &NO_CREDENTIALS,
        })?)
    }

    /// A watch on the instance's objects, with its first lists done.
    pub async fn watch(&self) -> InstanceWatch {
        let w = InstanceWatch::start(&self.kube, &self.name);
        w.ready().await;
        w
    }

    /// A runner for the instance's Jobs of `component`, giving up at `deadline`.
    pub fn job_runner<'a>(
        &'a self,
        component: Component,
        deadline: Instant,
        cancel: &'a CancellationToken,
        keep_waiting: &'a dyn Fn(&str) -> bool,
        report: Reporter,
    ) -> JobRunner<'a> {
        JobRunner {
            kube: &self.kube,
            release: &self.name,
            component,
            deadline,
            cancel,
            keep_waiting,
            report,
            leave_running: false,
        }
    }

    /// Append `entry` to the history (see [`super::record::append_history`]).
    pub async fn append_history(
        &self,
        entry: HistoryEntry,
        revision: Option<u64>,
    ) -> Result<(), Error> {
        super::record::append_history(&self.kube, &self.name, &self.loaded, entry, revision).await
    }
}
