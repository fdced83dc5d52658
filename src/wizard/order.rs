//! The step order: every question of the wizard, in the order it is asked, each with its
//! entry in [`super::questions`]. A question is skipped when its entry says it is not
//! asked for the answers so far; the wizard then moves to the next one in this list.

use super::questions::{self, Entry};
use super::state::WizardState;

macro_rules! steps {
    ($($step:ident => $entry:path),* $(,)?) => {
        /// One question of the wizard, in the order they are asked.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Step {
            $($step,)*
            /// Finished: [`WizardState::outcome`] gives the result.
            Done,
            /// The user answered "no" at the review: nothing is applied.
            Declined,
        }

        /// The questions in the order they are asked.
        const ORDER: &[(Step, &Entry)] = &[$((Step::$step, &$entry)),*];
    };
}

steps! {
    Context => questions::cluster::CONTEXT,
    Namespace => questions::cluster::NAMESPACE,
    NewNamespace => questions::cluster::NEW_NAMESPACE_NAME,
    Scenario => questions::scenario::SCENARIO,
    Name => questions::scenario::NAME,
    Database => questions::database::DATABASE,
    DbHost => questions::database::HOST,
    DbPort => questions::database::PORT,
    DbUser => questions::database::USER,
    DbName => questions::database::NAME,
    Storage => questions::storage::STORAGE,
    S3Endpoint => questions::storage::ENDPOINT,
    S3Bucket => questions::storage::BUCKET,
    S3Region => questions::storage::REGION,
    CredentialMode => questions::credentials::MODE,
    DbPassword => questions::credentials::DB_PASSWORD,
    MinioPassword => questions::credentials::MINIO_PASSWORD,
    S3AccessKey => questions::credentials::S3_ACCESS_KEY,
    S3SecretKey => questions::credentials::S3_SECRET_KEY,
    MasterPassword => questions::credentials::MASTER_PASSWORD,
    AdminPassword => questions::credentials::ADMIN_PASSWORD,
    DbSecret => questions::credentials::DB_SECRET,
    MinioSecret => questions::credentials::MINIO_SECRET,
    S3Secret => questions::credentials::S3_SECRET,
    MasterSecret => questions::credentials::MASTER_SECRET,
    AdminSecret => questions::credentials::ADMIN_SECRET,
    SecretMissing => questions::credentials::SECRET_MISSING,
    SecretValue => questions::credentials::SECRET_VALUE,
    AdminEmail => questions::credentials::ADMIN_EMAIL,
    Exposure => questions::exposure::EXPOSURE,
    IngressHost => questions::exposure::INGRESS_HOST,
    PublicDomain => questions::exposure::PUBLIC_DOMAIN,
    BackofficeDomain => questions::exposure::BACKOFFICE_DOMAIN,
    IngressClass => questions::exposure::INGRESS_CLASS,
    TlsSecret => questions::exposure::TLS_SECRET,
    Size => questions::size::SIZE,
    Replicas => questions::size::REPLICAS,
    Workers => questions::size::WORKERS,
    MemoryLimit => questions::size::MEMORY_LIMIT,
    MemoryFix => questions::size::MEMORY_FIX,
    Backups => questions::backups::SCHEDULE,
    BackupSchedule => questions::backups::CRON,
    ImageRepository => questions::finish::IMAGE_REPOSITORY,
    ImageTag => questions::finish::IMAGE_TAG,
    OutputDir => questions::finish::OUTPUT_DIR,
    Review => questions::finish::REVIEW,
    ShowCredentials => questions::finish::SHOW_CREDENTIALS,
    SavePreset => questions::finish::SAVE_PRESET,
}

impl Step {
    /// The questions a scenario answers by itself, asked only to customise it (from the
    /// review): where the database runs, where attachments go, and what they lead to.
    pub(super) fn scenario_choice(self) -> bool {
        use Step::*;
        matches!(
            self,
            Database
                | DbHost
                | DbPort
                | DbUser
                | DbName
                | Storage
                | S3Endpoint
                | S3Bucket
                | S3Region
        )
    }

    /// A detour: reached only by a jump from another question (never in the order's
    /// walk) and not kept on the way back; Esc from it returns to where it started.
    pub(super) fn is_detour(self) -> bool {
        matches!(self, Step::SecretMissing | Step::SecretValue)
    }

    /// The table entry of this step (`None` for [`Step::Done`] and [`Step::Declined`]).
    pub(super) fn entry(self) -> Option<&'static Entry> {
        ORDER.iter().find(|(s, _)| *s == self).map(|(_, e)| *e)
    }
}

impl WizardState {
    /// Whether `step` is asked, given the answers so far.
    pub(super) fn relevant(&self, step: Step) -> bool {
        step.entry().is_some_and(|e| (e.asked)(self))
    }

    /// The first relevant step after `after` (from the start with `None`). While
    /// customising from the review, a question asked before is skipped unless the
    /// scenario answered it: only what the change opens is asked, then the review again.
    pub(super) fn following(&self, after: Option<Step>) -> Step {
        let start = match after {
            None => 0,
            Some(s) => ORDER
                .iter()
                .position(|(o, _)| *o == s)
                .map_or(ORDER.len(), |i| i + 1),
        };
        ORDER[start..]
            .iter()
            .map(|(s, _)| *s)
            .find(|s| self.relevant(*s) && !self.asked_before(*s))
            .unwrap_or(Step::Done)
    }

    fn asked_before(&self, step: Step) -> bool {
        self.revisit
            && !step.scenario_choice()
            && step != Step::Review
            && self.history.contains(&step)
    }
}
