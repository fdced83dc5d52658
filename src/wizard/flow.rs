//! The wizard as a pure state machine: [`current_question`] says what to ask,
//! [`next`] takes the answer and returns the new state or why the answer is refused.
//! Cluster facts come from a [`ClusterProbe`] (a fake one in tests); nothing here
//! prompts, prints or touches a terminal.

use std::fmt;
use std::sync::OnceLock;

use super::checks::{self, SecretRef};
use super::probe::{ClusterProbe, SecretCheck};
use crate::presets;
use crate::values::{self, Source, Values};

/// One question of the wizard, in the order they are asked (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Context,
    Namespace,
    NewNamespace,
    Scenario,
    Name,
    Database,
    DbHost,
    DbPort,
    DbUser,
    DbName,
    Storage,
    S3Endpoint,
    S3Bucket,
    S3Region,
    CredentialMode,
    DbPassword,
    MinioPassword,
    S3AccessKey,
    S3SecretKey,
    MasterPassword,
    AdminPassword,
    DbSecret,
    MinioSecret,
    S3Secret,
    MasterSecret,
    AdminSecret,
    AdminEmail,
    Exposure,
    IngressHost,
    PublicDomain,
    BackofficeDomain,
    IngressClass,
    TlsSecret,
    Size,
    Replicas,
    Workers,
    MemoryLimit,
    MemoryFix,
    ImageRepository,
    ImageTag,
    OutputDir,
    Review,
    ShowCredentials,
    SavePreset,
    /// Finished: [`WizardState::outcome`] gives the result.
    Done,
    /// The user answered "no" at the review: nothing is applied.
    Declined,
}

const ORDER: &[Step] = &[
    Step::Context,
    Step::Namespace,
    Step::NewNamespace,
    Step::Scenario,
    Step::Name,
    Step::Database,
    Step::DbHost,
    Step::DbPort,
    Step::DbUser,
    Step::DbName,
    Step::Storage,
    Step::S3Endpoint,
    Step::S3Bucket,
    Step::S3Region,
    Step::CredentialMode,
    Step::DbPassword,
    Step::MinioPassword,
    Step::S3AccessKey,
    Step::S3SecretKey,
    Step::MasterPassword,
    Step::AdminPassword,
    Step::DbSecret,
    Step::MinioSecret,
    Step::S3Secret,
    Step::MasterSecret,
    Step::AdminSecret,
    Step::AdminEmail,
    Step::Exposure,
    Step::IngressHost,
    Step::PublicDomain,
    Step::BackofficeDomain,
    Step::IngressClass,
    Step::TlsSecret,
    Step::Size,
    Step::Replicas,
    Step::Workers,
    Step::MemoryLimit,
    Step::MemoryFix,
    Step::ImageRepository,
    Step::ImageTag,
    Step::OutputDir,
    Step::Review,
    Step::ShowCredentials,
    Step::SavePreset,
];

/// An answer to a [`Question`].
#[derive(Clone, PartialEq, Eq)]
pub enum Answer {
    /// The key of one of a select question's [`Choice`]s.
    Choice(String),
    /// Typed text (also a password). Empty text takes the question's default.
    Text(String),
    /// Yes or no.
    Confirm(bool),
    /// Esc: back to the previous question that was asked.
    Back,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Choice(k) => write!(f, "Choice({k:?})"),
            // Text may be a password: never printed.
            Answer::Text(_) => write!(f, "Text(..)"),
            Answer::Confirm(b) => write!(f, "Confirm({b})"),
            Answer::Back => write!(f, "Back"),
        }
    }
}

/// One option of a select question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Stable key, what [`Answer::Choice`] carries.
    pub key: String,
    /// What the user reads.
    pub label: String,
}

/// How a question is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    /// Pick one option; `default` is the index the cursor starts on.
    Select {
        options: Vec<Choice>,
        default: usize,
    },
    /// Type text; `default` is taken on empty input; `optional` means empty is allowed.
    Text {
        default: Option<String>,
        optional: bool,
    },
    /// Type a secret (hidden); `confirm` asks for it twice. Empty input keeps an earlier
    /// answer when there is one.
    Password { confirm: bool },
    /// Yes or no.
    Confirm { default: bool },
}

/// What the prompter shows: notes (printed before), the question and its help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub step: Step,
    pub kind: QuestionKind,
    pub label: String,
    pub help: String,
    /// Context to print before the question (cluster unreachable, the review summary, …).
    pub notes: Vec<String>,
}

/// A refused answer, with the reason; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// A preset the scenario question offers.
#[derive(Debug, Clone)]
pub struct PresetChoice {
    pub name: String,
    pub description: String,
    pub source: Source,
}

impl PresetChoice {
    /// The four built-in presets.
    pub fn builtin() -> Vec<PresetChoice> {
        presets::BUILTIN
            .iter()
            .map(|(name, description, text)| PresetChoice {
                name: name.to_string(),
                description: description.to_string(),
                source: Source::yaml(format!("preset {name}"), text)
                    .expect("built-in presets are valid YAML"),
            })
            .collect()
    }

    /// The built-in presets followed by the user's (a user preset of a built-in's name
    /// replaces it, as `--preset` does). Presets that fail to read are left out.
    pub fn builtin_and_user() -> Vec<PresetChoice> {
        let mut out = PresetChoice::builtin();
        for name in presets::user_presets() {
            let Ok(source) = presets::load(&name) else {
                continue;
            };
            let choice = PresetChoice {
                description: format!("your preset ({})", source.origin),
                name: name.clone(),
                source,
            };
            match out.iter_mut().find(|p| p.name == name) {
                Some(slot) => *slot = choice,
                None => out.push(choice),
            }
        }
        out
    }
}

/// What is known before the first question: command-line answers and the presets.
/// A given `name`, `preset`, `context` or `namespace` skips its question.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub name: Option<String>,
    pub preset: Option<String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// The scenarios offered; empty means the built-in ones.
    pub presets: Vec<PresetChoice>,
}

/// What the cluster already has, supplied by the caller for the review: object keys
/// (`Kind/name`) and a diff text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    pub create: Vec<String>,
    pub update: Vec<String>,
    pub unchanged: Vec<String>,
    pub prune: Vec<String>,
    /// A unified diff of the objects that change (Secrets' values redacted).
    pub diff: String,
}

macro_rules! choice_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $variant),* }
        impl $name {
            /// The key used in [`Answer::Choice`].
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),* }
            }
            fn from_key(k: &str) -> Option<$name> {
                match k { $($key => Some($name::$variant),)* _ => None }
            }
        }
    };
}

choice_enum!(
    /// Where the database runs.
    DbChoice { Bundled = "bundled", External = "external" }
);
choice_enum!(
    /// Where attachments (the filestore) go.
    StorageChoice { Minio = "minio", External = "external", Pvc = "pvc" }
);
choice_enum!(
    /// How credentials are provided.
    CredentialChoice { Generate = "generate", Type = "type", ExistingSecrets = "secrets" }
);
choice_enum!(
    /// How Odoo is reached from outside the cluster.
    Exposure { None = "none", Ingress = "ingress", Nginx = "nginx" }
);
choice_enum!(
    /// The backend's size.
    Size {
        /// As the scenario sets it (offered when it matches no other size).
        Scenario = "scenario",
        Dev = "dev",
        Small = "small",
        Medium = "medium",
        Large = "large",
        Custom = "custom",
    }
);
choice_enum!(
    /// What to do when the memory limit is small for the workers.
    MemoryFix { FewerWorkers = "fewer-workers", RaiseLimit = "raise-limit", Keep = "keep" }
);

/// The select key of "create a new namespace".
pub const NEW_NAMESPACE: &str = "+new";

/// Replicas, workers and (when set) resources of a fixed size.
struct SizeRow {
    size: Size,
    replicas: i64,
    workers: i64,
    req: (&'static str, &'static str),
    lim: (&'static str, &'static str),
    what: &'static str,
}

const SIZES: &[SizeRow] = &[
    SizeRow {
        size: Size::Dev,
        replicas: 1,
        workers: 0,
        req: ("100m", "256Mi"),
        lim: ("2", "1Gi"),
        what: "for a laptop cluster (kind, k3s, minikube); threaded Odoo, live chat polls instead of using websockets",
    },
    SizeRow {
        size: Size::Small,
        replicas: 1,
        workers: 2,
        req: ("250m", "512Mi"),
        lim: ("1", "1536Mi"),
        what: "a handful of users",
    },
    SizeRow {
        size: Size::Medium,
        replicas: 2,
        workers: 4,
        req: ("500m", "1Gi"),
        lim: ("2", "2Gi"),
        what: "a company of a few dozen users, survives a node drain",
    },
    SizeRow {
        size: Size::Large,
        replicas: 3,
        workers: 8,
        req: ("1", "2Gi"),
        lim: ("4", "4Gi"),
        what: "a hundred users or more",
    },
];

/// A password or key typed by the user: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Hidden(pub String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Every answer given so far (kept when going back).
#[derive(Debug, Clone, Default)]
pub(super) struct Answers {
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub namespace_new: bool,
    pub new_namespace: Option<String>,
    pub preset: Option<String>,
    pub name: Option<String>,
    pub db: Option<DbChoice>,
    pub db_host: Option<String>,
    pub db_port: Option<u16>,
    pub db_user: Option<String>,
    pub db_name: Option<String>,
    pub storage: Option<StorageChoice>,
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: Option<String>,
    pub cred_mode: Option<CredentialChoice>,
    pub db_password: Option<Hidden>,
    pub minio_password: Option<Hidden>,
    pub s3_access_key: Option<Hidden>,
    pub s3_secret_key: Option<Hidden>,
    pub master_password: Option<Hidden>,
    pub admin_password: Option<Hidden>,
    pub db_secret: Option<SecretRef>,
    pub minio_secret: Option<SecretRef>,
    pub s3_secret: Option<SecretRef>,
    pub master_secret: Option<SecretRef>,
    pub admin_secret: Option<SecretRef>,
    pub admin_email: Option<String>,
    pub exposure: Option<Exposure>,
    pub host: Option<String>,
    pub public_domain: Option<String>,
    pub backoffice_domain: Option<String>,
    pub ingress_class: Option<String>,
    pub tls_secret: Option<String>,
    pub size: Option<Size>,
    pub replicas: Option<i64>,
    pub workers: Option<i64>,
    pub memory: Option<(String, f64)>,
    pub memory_fix: Option<MemoryFix>,
    pub image_repository: Option<String>,
    pub image_tag: Option<String>,
    pub output_dir: Option<String>,
    pub show_credentials: Option<bool>,
    pub save_as: Option<String>,
}

/// What the probe said about the chosen context.
#[derive(Debug, Clone)]
pub(super) struct Cluster {
    pub contexts: Vec<String>,
    pub current: Option<String>,
    /// `Err(reason)` when the API server does not answer (or there is no context).
    pub reachable: Result<(), String>,
    pub namespaces: Result<Vec<String>, String>,
    pub context_namespace: Option<String>,
}

/// The wizard's state: answers, the current question and the way back.
#[derive(Debug, Clone)]
pub struct WizardState {
    pub(super) defaults: Defaults,
    pub(super) presets: Vec<PresetChoice>,
    pub(super) cluster: Cluster,
    pub(super) a: Answers,
    /// The chosen preset's values (the defaults before a scenario is chosen).
    pub(super) pv: Values,
    pub(super) step: Step,
    history: Vec<Step>,
    pub(super) review: Option<Review>,
    /// Shown with the next question, then dropped.
    notice: Vec<String>,
    /// Notes per step that end up in the outcome (e.g. a Secret that could not be checked).
    pub(super) notes: Vec<(Step, String)>,
}

fn defaults_values() -> &'static Values {
    static V: OnceLock<Values> = OnceLock::new();
    V.get_or_init(values::defaults)
}

/// The values of a preset, used for the questions' defaults. A preset may leave out
/// what the wizard asks for (`external` has no database host): when loading it alone
/// fails validation, its document is merged over the defaults without validation (the
/// complete answers are validated at the review).
fn preset_values(source: &Source) -> Result<Values, String> {
    let err = match values::load(std::slice::from_ref(source)) {
        Ok(l) => return Ok(l.values),
        Err(e) => e.to_string(),
    };
    let mut json = values::load(&[]).map_err(|e| e.to_string())?.merged;
    merge_json(&mut json, &source.tree.to_json());
    values::validate::quantities_as_strings(&mut json);
    serde_json::from_value(json).map_err(|_| err)
}

/// Helm's merge: maps key by key, lists and scalars replace, null keeps.
pub(super) fn merge_json(base: &mut serde_json::Value, over: &serde_json::Value) {
    use serde_json::Value as J;
    match (base, over) {
        (_, J::Null) => {}
        (J::Object(b), J::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge_json(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn quantity(
    map: &Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
    key: &str,
) -> Option<String> {
    map.as_ref().and_then(|m| m.get(key)).map(|q| q.0.clone())
}

fn mib(q: &str) -> Option<f64> {
    values::validate::parse_quantity(q).map(|b| b / (1024.0 * 1024.0))
}

/// Memory Odoo needs for `workers` (about 300 MiB per worker + 500 MiB), in MiB.
pub fn memory_needed_mib(workers: i64) -> f64 {
    workers.max(0) as f64 * 300.0 + 500.0
}

impl WizardState {
    /// The state before the first question. Asks the probe for the kubeconfig's
    /// contexts (and, when the context is given, whether it answers).
    pub fn new(defaults: Defaults, probe: &dyn ClusterProbe) -> WizardState {
        let presets = if defaults.presets.is_empty() {
            PresetChoice::builtin()
        } else {
            defaults.presets.clone()
        };
        let mut s = WizardState {
            cluster: Cluster {
                contexts: probe.contexts(),
                current: probe.current_context(),
                reachable: Err(String::new()),
                namespaces: Err(String::new()),
                context_namespace: None,
            },
            presets,
            a: Answers::default(),
            pv: defaults_values().clone(),
            step: Step::Context,
            history: Vec::new(),
            review: None,
            notice: Vec::new(),
            notes: Vec::new(),
            defaults,
        };
        if let Some(p) = s.defaults.preset.clone() {
            match s.load_preset(&p) {
                Ok(v) => {
                    s.pv = v;
                    s.a.preset = Some(p);
                }
                Err(e) => {
                    s.notice.push(e);
                    s.defaults.preset = None;
                }
            }
        }
        if let Some(c) = s.defaults.context.clone() {
            s.a.context = Some(c.clone());
            s.connect(probe, Some(&c));
        } else if s.cluster.contexts.is_empty() {
            s.connect(probe, None);
        }
        s.step = s.following(None);
        s
    }

    /// The question being asked.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Whether the wizard has finished (confirmed or declined).
    pub fn is_finished(&self) -> bool {
        matches!(self.step, Step::Done | Step::Declined)
    }

    /// Store the caller's review (what the cluster has); asked for at [`Step::Review`].
    pub fn with_review(mut self, review: Option<Review>) -> WizardState {
        self.review = review;
        self
    }

    /// The steps asked so far, oldest first (the way back).
    pub fn asked(&self) -> &[Step] {
        &self.history
    }

    fn load_preset(&self, name: &str) -> Result<Values, String> {
        let p = self
            .presets
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.presets.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "unknown preset `{name}` — choose one of: {}",
                    known.join(", ")
                )
            })?;
        preset_values(&p.source).map_err(|e| format!("preset `{name}` does not load: {e}"))
    }

    pub(super) fn preset_choice(&self) -> Option<&PresetChoice> {
        let name = self.a.preset.as_deref()?;
        self.presets.iter().find(|p| p.name == name)
    }

    fn connect(&mut self, probe: &dyn ClusterProbe, context: Option<&str>) {
        let Some(c) = context else {
            let reason =
                "no Kubernetes context found (no kubeconfig, or it names no context)".to_string();
            self.cluster.reachable = Err(reason.clone());
            self.cluster.namespaces = Err(reason.clone());
            self.notice.push(format!(
                "{reason}. The wizard goes on; at the end it writes the manifests to a folder that you can apply later with `kubectl apply --server-side -f DIR`."
            ));
            return;
        };
        self.cluster.context_namespace = probe.context_namespace(c);
        self.cluster.reachable = probe.reachable(c);
        match &self.cluster.reachable {
            Ok(()) => {
                self.cluster.namespaces = probe.namespaces(c);
                if let Err(e) = &self.cluster.namespaces {
                    self.notice.push(format!(
                        "Cannot list the namespaces of context `{c}` ({e}): type the namespace's name."
                    ));
                }
            }
            Err(e) => {
                self.cluster.namespaces = Err(e.clone());
                self.notice.push(format!(
                    "The cluster of context `{c}` cannot be reached: {e}. The wizard goes on; at the end it writes the manifests to a folder that you can apply later with `kubectl apply --server-side -f DIR`."
                ));
            }
        }
    }

    /// Whether the wizard will apply to a cluster (else it writes a folder).
    pub fn online(&self) -> bool {
        self.context().is_some() && self.cluster.reachable.is_ok()
    }

    pub(super) fn context(&self) -> Option<&str> {
        self.defaults
            .context
            .as_deref()
            .or(self.a.context.as_deref())
    }

    fn ns_list(&self) -> Option<&Vec<String>> {
        if self.cluster.reachable.is_ok() {
            self.cluster.namespaces.as_ref().ok()
        } else {
            None
        }
    }

    fn default_namespace(&self) -> String {
        self.cluster
            .context_namespace
            .clone()
            .unwrap_or_else(|| "default".to_string())
    }

    /// The namespace and whether it has to be created.
    pub(super) fn namespace(&self) -> (String, bool) {
        let ns = if let Some(n) = &self.defaults.namespace {
            n.clone()
        } else if self.ns_list().is_some() && self.a.namespace_new {
            self.a.new_namespace.clone().unwrap_or_default()
        } else {
            self.a
                .namespace
                .clone()
                .unwrap_or_else(|| self.default_namespace())
        };
        let create = self.ns_list().is_some_and(|l| !l.contains(&ns));
        (ns, create)
    }

    pub(super) fn name(&self) -> String {
        if !self.relevant(Step::Name)
            && let Some(n) = &self.defaults.name
        {
            return n.clone();
        }
        self.a.name.clone().unwrap_or_default()
    }

    pub(super) fn db(&self) -> DbChoice {
        self.a.db.unwrap_or(if self.pv.postgresql.enabled {
            DbChoice::Bundled
        } else {
            DbChoice::External
        })
    }

    fn storage_fixed(&self) -> bool {
        !self.pv.minio.enabled
            && !self.pv.external_s3.enabled
            && self.pv.backend.persistence.enabled
    }

    pub(super) fn storage(&self) -> StorageChoice {
        if self.storage_fixed() {
            return StorageChoice::Pvc;
        }
        self.a.storage.unwrap_or(if self.pv.external_s3.enabled {
            StorageChoice::External
        } else if self.pv.minio.enabled {
            StorageChoice::Minio
        } else {
            StorageChoice::Pvc
        })
    }

    fn secrets_only(&self) -> bool {
        !self.pv.backend.odoo.existing_secret.is_empty()
    }

    pub(super) fn cred_mode(&self) -> CredentialChoice {
        if self.secrets_only() {
            return CredentialChoice::ExistingSecrets;
        }
        self.a.cred_mode.unwrap_or(CredentialChoice::Generate)
    }

    pub(super) fn exposure(&self) -> Exposure {
        self.a.exposure.unwrap_or(if self.pv.nginx.enabled {
            Exposure::Nginx
        } else if self.pv.ingress.enabled {
            Exposure::Ingress
        } else {
            Exposure::None
        })
    }

    fn preset_size(&self) -> Size {
        let b = &self.pv.backend;
        let lim = quantity(&b.resources.limits, "memory").unwrap_or_default();
        SIZES
            .iter()
            .find(|r| {
                r.replicas == i64::from(b.replica_count)
                    && r.workers == b.odoo.workers
                    && r.lim.1 == lim
            })
            .map(|r| r.size)
            .unwrap_or(Size::Scenario)
    }

    pub(super) fn size(&self) -> Size {
        self.a.size.unwrap_or_else(|| self.preset_size())
    }

    fn custom_workers(&self) -> i64 {
        self.a.workers.unwrap_or(self.pv.backend.odoo.workers)
    }

    fn custom_memory(&self) -> (String, f64) {
        self.a.memory.clone().unwrap_or_else(|| {
            let q = quantity(&self.pv.backend.resources.limits, "memory")
                .unwrap_or_else(|| "1536Mi".into());
            let m = mib(&q).unwrap_or(1536.0);
            (q, m)
        })
    }

    /// (needed MiB, limit MiB) when a custom size's memory limit is small for its workers.
    fn memory_short(&self) -> Option<(f64, f64)> {
        if self.size() != Size::Custom {
            return None;
        }
        let needed = memory_needed_mib(self.custom_workers());
        let (_, limit) = self.custom_memory();
        (limit < needed).then_some((needed, limit))
    }

    /// The most workers that fit in `limit` MiB.
    fn workers_fitting(limit: f64) -> Option<i64> {
        if limit < memory_needed_mib(0) {
            return None;
        }
        Some(((limit - 500.0) / 300.0).floor() as i64)
    }

    /// The effective size: (replicas, workers, [req cpu, req mem, lim cpu, lim mem]).
    pub(super) fn size_spec(&self) -> SizeSpec {
        let b = &self.pv.backend;
        let pvc = self.storage() == StorageChoice::Pvc;
        let mut spec = match self.size() {
            Size::Scenario => SizeSpec {
                replicas: i64::from(b.replica_count),
                workers: b.odoo.workers,
                resources: [None, None, None, None],
            },
            Size::Custom => {
                let (mem, mem_mib) = self.custom_memory();
                let mut workers = self.custom_workers();
                let mut limit = mem;
                let mut limit_mib = mem_mib;
                if let Some((needed, have)) = self.memory_short() {
                    match self.a.memory_fix.unwrap_or(MemoryFix::Keep) {
                        MemoryFix::FewerWorkers => {
                            workers = Self::workers_fitting(have).unwrap_or(workers)
                        }
                        MemoryFix::RaiseLimit => {
                            limit = format!("{needed:.0}Mi");
                            limit_mib = needed;
                        }
                        MemoryFix::Keep => {}
                    }
                }
                let req_mem = quantity(&b.resources.requests, "memory")
                    .filter(|q| mib(q).is_some_and(|m| m > limit_mib))
                    .map(|_| limit.clone());
                SizeSpec {
                    replicas: self.a.replicas.unwrap_or(i64::from(b.replica_count)),
                    workers,
                    resources: [None, req_mem, None, Some(limit)],
                }
            }
            size => {
                let r = SIZES
                    .iter()
                    .find(|r| r.size == size)
                    .expect("fixed sizes are in the table");
                SizeSpec {
                    replicas: r.replicas,
                    workers: r.workers,
                    resources: [
                        Some(r.req.0.into()),
                        Some(r.req.1.into()),
                        Some(r.lim.0.into()),
                        Some(r.lim.1.into()),
                    ],
                }
            }
        };
        if pvc {
            spec.replicas = 1;
        }
        spec
    }

    pub(super) fn image(&self) -> (String, String) {
        (
            self.a
                .image_repository
                .clone()
                .unwrap_or_else(|| self.pv.backend.image.repository.clone()),
            self.a
                .image_tag
                .clone()
                .unwrap_or_else(|| self.pv.backend.image.tag.clone()),
        )
    }

    pub(super) fn output_dir(&self) -> String {
        self.a
            .output_dir
            .clone()
            .unwrap_or_else(|| format!("./{}-manifests", self.name()))
    }

    fn name_fixed(&self) -> bool {
        self.defaults
            .name
            .as_deref()
            .is_some_and(|n| values::validate::validate_release(n, &self.pv).is_ok())
    }

    /// Whether `step` is asked, given the answers so far.
    fn relevant(&self, step: Step) -> bool {
        use Step::*;
        let mode = self.cred_mode();
        let storage = self.storage();
        match step {
            Context => self.defaults.context.is_none() && !self.cluster.contexts.is_empty(),
            Namespace => self.defaults.namespace.is_none(),
            NewNamespace => {
                self.defaults.namespace.is_none()
                    && self.ns_list().is_some()
                    && self.a.namespace_new
            }
            Scenario => self.defaults.preset.is_none(),
            Name => !self.name_fixed(),
            Database => true,
            DbHost | DbPort | DbUser | DbName => self.db() == DbChoice::External,
            Storage => !self.storage_fixed(),
            S3Endpoint | S3Bucket | S3Region => storage == StorageChoice::External,
            CredentialMode => !self.secrets_only(),
            DbPassword => {
                mode == CredentialChoice::Type
                    || (mode == CredentialChoice::Generate && self.db() == DbChoice::External)
            }
            MinioPassword => mode == CredentialChoice::Type && storage == StorageChoice::Minio,
            S3AccessKey | S3SecretKey => {
                mode != CredentialChoice::ExistingSecrets && storage == StorageChoice::External
            }
            MasterPassword | AdminPassword => mode == CredentialChoice::Type,
            DbSecret | MasterSecret | AdminSecret => mode == CredentialChoice::ExistingSecrets,
            MinioSecret => {
                mode == CredentialChoice::ExistingSecrets && storage == StorageChoice::Minio
            }
            S3Secret => {
                mode == CredentialChoice::ExistingSecrets && storage == StorageChoice::External
            }
            AdminEmail | Exposure | Size | ImageRepository | ImageTag | Review | SavePreset => true,
            IngressHost => self.exposure() == self::Exposure::Ingress,
            PublicDomain | BackofficeDomain => self.exposure() == self::Exposure::Nginx,
            IngressClass | TlsSecret => self.exposure() != self::Exposure::None,
            Replicas => self.size() == self::Size::Custom && storage != StorageChoice::Pvc,
            Workers | MemoryLimit => self.size() == self::Size::Custom,
            MemoryFix => self.memory_short().is_some(),
            OutputDir => !self.online(),
            ShowCredentials => mode == CredentialChoice::Generate,
            Done | Declined => false,
        }
    }

    /// The first relevant step after `after` (from the start with `None`).
    fn following(&self, after: Option<Step>) -> Step {
        let start = match after {
            None => 0,
            Some(s) => ORDER
                .iter()
                .position(|o| *o == s)
                .map_or(ORDER.len(), |i| i + 1),
        };
        ORDER[start..]
            .iter()
            .copied()
            .find(|s| self.relevant(*s))
            .unwrap_or(Step::Done)
    }

    /// The result, once [`Step::Done`] is reached.
    pub fn outcome(&self) -> Option<super::Outcome> {
        if self.step != Step::Done {
            return None;
        }
        self.build().ok()
    }

    /// The outcome the current answers give (for the review, before confirming).
    pub fn draft(&self) -> Result<super::Outcome, String> {
        self.build()
    }
}

/// The backend's effective size.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SizeSpec {
    pub replicas: i64,
    pub workers: i64,
    /// requests.cpu, requests.memory, limits.cpu, limits.memory (None: keep the preset's).
    pub resources: [Option<String>; 4],
}

fn select(options: Vec<Choice>, default_key: &str) -> QuestionKind {
    let default = options
        .iter()
        .position(|o| o.key == default_key)
        .unwrap_or(0);
    QuestionKind::Select { options, default }
}

fn choice(key: &str, label: impl Into<String>) -> Choice {
    Choice {
        key: key.to_string(),
        label: label.into(),
    }
}

fn text(default: Option<String>) -> QuestionKind {
    QuestionKind::Text {
        default: default.filter(|d| !d.is_empty()),
        optional: false,
    }
}

fn optional_text(default: Option<String>) -> QuestionKind {
    QuestionKind::Text {
        default: default.filter(|d| !d.is_empty()),
        optional: true,
    }
}

fn nonempty(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.is_empty())
}

/// The default Secret reference of a credential and its default key names.
fn secret_defaults(s: &WizardState, step: Step) -> (String, Vec<String>) {
    let v = &s.pv;
    let (name, keys, fallback): (&str, Vec<&str>, &str) = match step {
        Step::DbSecret if s.db() == DbChoice::External => (
            &v.external_database.existing_secret,
            vec![&v.external_database.existing_secret_password_key],
            "odoo-db",
        ),
        Step::DbSecret => (
            &v.postgresql.auth.existing_secret,
            vec![&v.postgresql.auth.existing_secret_password_key],
            "odoo-db",
        ),
        Step::MinioSecret => (
            &v.minio.auth.existing_secret,
            vec![
                &v.minio.auth.existing_secret_root_user_key,
                &v.minio.auth.existing_secret_root_password_key,
            ],
            "odoo-minio",
        ),
        Step::S3Secret => (
            &v.external_s3.existing_secret,
            vec![
                &v.external_s3.existing_secret_access_key_key,
                &v.external_s3.existing_secret_secret_key_key,
            ],
            "odoo-s3",
        ),
        Step::MasterSecret => (
            &v.backend.odoo.existing_secret,
            vec![&v.backend.odoo.existing_secret_key],
            "odoo-master",
        ),
        _ => (
            &v.backend.init_db.existing_secret,
            vec![&v.backend.init_db.existing_secret_key],
            "odoo-admin",
        ),
    };
    let name = if name.is_empty() { fallback } else { name };
    (
        name.to_string(),
        keys.into_iter().map(str::to_string).collect(),
    )
}

fn secret_slot(a: &Answers, step: Step) -> &Option<SecretRef> {
    match step {
        Step::DbSecret => &a.db_secret,
        Step::MinioSecret => &a.minio_secret,
        Step::S3Secret => &a.s3_secret,
        Step::MasterSecret => &a.master_secret,
        _ => &a.admin_secret,
    }
}

fn secret_slot_mut(a: &mut Answers, step: Step) -> &mut Option<SecretRef> {
    match step {
        Step::DbSecret => &mut a.db_secret,
        Step::MinioSecret => &mut a.minio_secret,
        Step::S3Secret => &mut a.s3_secret,
        Step::MasterSecret => &mut a.master_secret,
        _ => &mut a.admin_secret,
    }
}

fn password_slot_mut(a: &mut Answers, step: Step) -> &mut Option<Hidden> {
    match step {
        Step::DbPassword => &mut a.db_password,
        Step::MinioPassword => &mut a.minio_password,
        Step::S3AccessKey => &mut a.s3_access_key,
        Step::S3SecretKey => &mut a.s3_secret_key,
        Step::MasterPassword => &mut a.master_password,
        _ => &mut a.admin_password,
    }
}

const OPEN_HINT: &str =
    "reach it with `odoo-tui open NAME` (a port-forward to http://localhost:8069)";

/// The question asked in `state` (at Done/Declined: a closing note without options).
pub fn current_question(state: &WizardState) -> Question {
    let s = state;
    let a = &s.a;
    let pv = &s.pv;
    let name = s.name();
    let (kind, label, help, mut notes): (QuestionKind, String, String, Vec<String>) = match s.step
    {
        Step::Context => {
            let current = s.cluster.current.clone().unwrap_or_default();
            let default = a.context.clone().unwrap_or(current.clone());
            let options = s
                .cluster
                .contexts
                .iter()
                .map(|c| {
                    let mark = if *c == current { " (current)" } else { "" };
                    choice(c, format!("{c}{mark}"))
                })
                .collect();
            (
                select(options, &default),
                "Which cluster?".into(),
                "The Kubernetes cluster to install into, by its context name in your kubeconfig (as `kubectl config get-contexts` lists them).".into(),
                vec![],
            )
        }
        Step::Namespace => match s.ns_list() {
            Some(list) => {
                let default = a.namespace.clone().unwrap_or_else(|| {
                    if a.namespace_new {
                        NEW_NAMESPACE.into()
                    } else {
                        s.default_namespace()
                    }
                });
                let mut options: Vec<Choice> = list.iter().map(|n| choice(n, n.clone())).collect();
                options.push(choice(NEW_NAMESPACE, "create a new namespace…"));
                (
                    select(options, &default),
                    "Which namespace?".into(),
                    "The namespace (a folder of the cluster) that holds this instance's objects. A namespace of its own keeps instances apart; other applications' objects in it are left alone.".into(),
                    vec![],
                )
            }
            None => (
                text(Some(a.namespace.clone().unwrap_or_else(|| s.default_namespace()))),
                "Namespace".into(),
                "The namespace (a folder of the cluster) for this instance's objects; it is created when it does not exist yet. Lowercase letters, digits and '-'.".into(),
                vec![],
            ),
        },
        Step::NewNamespace => (
            text(Some(a.new_namespace.clone().unwrap_or_else(|| "odoo".into()))),
            "Name of the new namespace".into(),
            "It is created before anything else. Lowercase letters, digits and '-', e.g. acme or odoo-prod.".into(),
            vec![],
        ),
        Step::Scenario => {
            let options = s
                .presets
                .iter()
                .map(|p| choice(&p.name, format!("{} — {}", p.name, p.description)))
                .collect();
            let default = a.preset.clone().unwrap_or_else(|| "quick-start".into());
            (
                select(options, &default),
                "Which scenario?".into(),
                "A starting point; the next questions fill in the details. quick-start runs everything inside the cluster; external uses your PostgreSQL server and S3 bucket; production also reads every password from Secrets you created beforehand; local-dev is the smallest footprint for a laptop cluster.".into(),
                vec![],
            )
        }
        Step::Name => (
            text(a.name.clone().or_else(|| s.defaults.name.clone()).or(Some("odoo".into()))),
            "Instance name".into(),
            "A short name for this Odoo installation; every object's name starts with it (acme → acme-odoo-backend, acme-postgresql). Lowercase letters, digits and '-', starting with a letter, at most about 40 characters.".into(),
            vec![],
        ),
        Step::Database => (
            select(
                vec![
                    choice(DbChoice::Bundled.key(), "bundled — a PostgreSQL server runs next to Odoo, on its own volume"),
                    choice(DbChoice::External.key(), "external — an existing PostgreSQL server (a managed database, or one you run)"),
                ],
                s.db().key(),
            ),
            "Where does the database run?".into(),
            "Odoo keeps everything but attachments in PostgreSQL. Bundled is simplest; an external (managed) server brings backups and high availability.".into(),
            vec![],
        ),
        Step::DbHost => (
            text(a.db_host.clone().or(nonempty(&pv.external_database.host))),
            "Database host".into(),
            "Host name or IP address of the PostgreSQL server, as seen from inside the cluster (e.g. db.example.com, or postgres.databases.svc.cluster.local). No scheme, no port.".into(),
            vec![],
        ),
        Step::DbPort => (
            text(Some(a.db_port.map(|p| p.to_string()).unwrap_or_else(|| pv.external_database.port.to_string()))),
            "Database port".into(),
            "The PostgreSQL server's TCP port (1–65535); PostgreSQL's default is 5432.".into(),
            vec![],
        ),
        Step::DbUser => (
            text(a.db_user.clone().or(nonempty(&pv.external_database.user))),
            "Database user".into(),
            "The PostgreSQL role Odoo logs in as. It must not be `postgres` (Odoo refuses to run as the superuser) and needs the right to create databases, or an existing database below.".into(),
            vec![],
        ),
        Step::DbName => (
            text(a.db_name.clone().or(nonempty(&pv.external_database.database))),
            "Database name".into(),
            "The database Odoo uses; it is initialised on first start when empty. A dedicated one such as `odoo`, not `postgres`.".into(),
            vec![],
        ),
        Step::Storage => (
            select(
                vec![
                    choice(StorageChoice::Minio.key(), "bundled MinIO — an S3 server next to Odoo (for trying out; production should use external S3)"),
                    choice(StorageChoice::External.key(), "external S3 — an existing bucket (AWS S3, Cloudflare R2, Wasabi, MinIO elsewhere, …)"),
                    choice(StorageChoice::Pvc.key(), "none — keep attachments on a volume (PVC); limits Odoo to one replica"),
                ],
                s.storage().key(),
            ),
            "Where do attachments go?".into(),
            "Odoo stores uploaded files and attachments (the filestore) outside the database. On S3, any number of Odoo replicas share them; on a volume, only one replica can mount it.".into(),
            vec![],
        ),
        Step::S3Endpoint => (
            text(a.s3_endpoint.clone().or(nonempty(&pv.external_s3.endpoint))),
            "S3 endpoint URL".into(),
            "The S3 API's URL, with scheme: e.g. https://s3.amazonaws.com, https://s3.eu-west-1.amazonaws.com, https://<account>.r2.cloudflarestorage.com.".into(),
            vec![],
        ),
        Step::S3Bucket => (
            text(a.s3_bucket.clone().or(nonempty(&pv.external_s3.bucket))),
            "S3 bucket".into(),
            "The bucket that holds Odoo's files. It must exist already; odoo-tui does not create buckets on external S3. 3–63 lowercase letters, digits, '.' and '-'.".into(),
            vec![],
        ),
        Step::S3Region => (
            optional_text(a.s3_region.clone().or(nonempty(&pv.external_s3.region))),
            "S3 region (optional)".into(),
            "The bucket's region, e.g. eu-west-1. Leave it empty when the provider needs none (MinIO, R2).".into(),
            vec![],
        ),
        Step::CredentialMode => {
            let mut external = Vec::new();
            if s.db() == DbChoice::External {
                external.push("the external database's password");
            }
            if s.storage() == StorageChoice::External {
                external.push("the S3 keys");
            }
            let generate_label = if external.is_empty() {
                "generate strong random passwords (created once, kept in a Secret, shown once at the end on request)".to_string()
            } else {
                format!(
                    "generate the passwords odoo-tui creates; you type {} (issued by their provider)",
                    external.join(" and ")
                )
            };
            (
                select(
                    vec![
                        choice(CredentialChoice::Generate.key(), generate_label),
                        choice(CredentialChoice::Type.key(), "type every password yourself (they are not saved with the answers)"),
                        choice(CredentialChoice::ExistingSecrets.key(), "use Secrets that already exist in the namespace (nothing secret passes through odoo-tui)"),
                    ],
                    s.cred_mode().key(),
                ),
                "How are passwords provided?".into(),
                "Odoo needs a database password, a master password (protects database management), the administrator's password and, with S3, access keys. Generated ones are stored in a Kubernetes Secret and never rotated by a re-run.".into(),
                vec![],
            )
        }
        Step::DbPassword => {
            let external = s.db() == DbChoice::External;
            (
                QuestionKind::Password { confirm: !external || s.cred_mode() == CredentialChoice::Type },
                "Database password".into(),
                if external {
                    "The password of the database user on the external server. It goes into a Kubernetes Secret, never into a file odoo-tui writes elsewhere.".into()
                } else {
                    "The password the bundled PostgreSQL gives the Odoo user: at least 8 characters. It is stored in a Kubernetes Secret.".into()
                },
                vec![],
            )
        }
        Step::MinioPassword => (
            QuestionKind::Password { confirm: true },
            "MinIO root password".into(),
            "The administrator password of the bundled MinIO server (at least 8 characters; MinIO refuses shorter ones).".into(),
            vec![],
        ),
        Step::S3AccessKey => (
            QuestionKind::Password { confirm: false },
            "S3 access key".into(),
            "The access key ID your S3 provider issued for this bucket (the public half of the key pair).".into(),
            vec![],
        ),
        Step::S3SecretKey => (
            QuestionKind::Password { confirm: true },
            "S3 secret key".into(),
            "The secret access key that goes with the access key.".into(),
            vec![],
        ),
        Step::MasterPassword => (
            QuestionKind::Password { confirm: true },
            "Odoo master password".into(),
            "Odoo's master password protects creating, copying and deleting databases (at least 8 characters). The database manager is switched off, but keep it safe.".into(),
            vec![],
        ),
        Step::AdminPassword => (
            QuestionKind::Password { confirm: true },
            "Administrator password".into(),
            "The password of Odoo's administrator user, set when the database is first created (at least 8 characters).".into(),
            vec![],
        ),
        step @ (Step::DbSecret | Step::MinioSecret | Step::S3Secret | Step::MasterSecret | Step::AdminSecret) => {
            let (def_name, def_keys) = secret_defaults(s, step);
            let keys: Vec<&str> = def_keys.iter().map(String::as_str).collect();
            let default = match secret_slot(a, step) {
                Some(r) => r.display(&keys),
                None => def_name.clone(),
            };
            let (label, what) = match step {
                Step::DbSecret => ("Secret with the database password", "the database password"),
                Step::MinioSecret => ("Secret with the MinIO root user and password", "MinIO's root user and root password"),
                Step::S3Secret => ("Secret with the S3 keys", "the S3 access key and secret key"),
                Step::MasterSecret => ("Secret with the Odoo master password", "Odoo's master password"),
                _ => ("Secret with the administrator password", "the password of Odoo's administrator"),
            };
            let (ns, _) = s.namespace();
            let literals: Vec<String> = keys.iter().map(|k| format!("--from-literal={k}=...")).collect();
            (
                text(Some(default)),
                label.into(),
                format!(
                    "The name of a Secret in namespace `{ns}` holding {what} under the key(s) {}. Write NAME, or NAME:{} to use other keys. Create it with: kubectl create secret generic {def_name} -n {ns} {}",
                    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and "),
                    keys.iter().map(|_| "KEY").collect::<Vec<_>>().join(","),
                    literals.join(" ")
                ),
                vec![],
            )
        }
        Step::AdminEmail => (
            text(a.admin_email.clone().or_else(|| {
                let l = &pv.backend.init_db.admin_login;
                nonempty(&pv.backend.init_db.admin_email).or(Some(l.clone()).filter(|l| l.contains('@')))
            })),
            "Administrator's e-mail".into(),
            "The login of Odoo's first user (the administrator), and the address Odoo mails them at.".into(),
            vec![],
        ),
        Step::Exposure => (
            select(
                vec![
                    choice(self::Exposure::None.key(), format!("none — only inside the cluster; {}", OPEN_HINT.replace("NAME", &name))),
                    choice(self::Exposure::Ingress.key(), "ingress — a public host name through the cluster's ingress controller"),
                    choice(self::Exposure::Nginx.key(), "nginx domains — an nginx in front of Odoo (maintenance page, caching headers), with a public and an optional back-office domain"),
                ],
                s.exposure().key(),
            ),
            "How do people reach Odoo?".into(),
            "An Ingress needs an ingress controller in the cluster (ingress-nginx, Traefik on k3s, …) and a DNS name pointing at it. Without one, `odoo-tui open` forwards a local port to Odoo.".into(),
            vec![],
        ),
        Step::IngressHost => (
            text(a.host.clone().or_else(|| pv.ingress.hosts.first().map(|h| h.host.clone()))),
            "Host name".into(),
            "The DNS name people type to reach Odoo, e.g. odoo.example.com; its DNS record must point at your ingress controller.".into(),
            vec![],
        ),
        Step::PublicDomain => (
            text(a.public_domain.clone().or(nonempty(&pv.nginx.domains.public.host))),
            "Public domain".into(),
            "The domain of the website and shop, e.g. shop.example.com (DNS pointing at your ingress controller).".into(),
            vec![],
        ),
        Step::BackofficeDomain => (
            optional_text(a.backoffice_domain.clone().or(nonempty(&pv.nginx.domains.backoffice.host))),
            "Back-office domain (optional)".into(),
            "A second domain for employees (the /web back office), e.g. erp.example.com. Leave it empty to serve everything on the public domain.".into(),
            vec![],
        ),
        Step::IngressClass => (
            optional_text(a.ingress_class.clone().or(nonempty(&pv.ingress.class_name))),
            "Ingress class (optional)".into(),
            "The IngressClass of your ingress controller, e.g. nginx, or traefik on k3s (`kubectl get ingressclass` lists them). Leave it empty for the cluster's default class.".into(),
            vec![],
        ),
        Step::TlsSecret => (
            optional_text(a.tls_secret.clone().or_else(|| pv.ingress.tls.first().and_then(|t| t.secret_name.clone()))),
            "TLS certificate Secret (optional)".into(),
            "The name of a Secret of type kubernetes.io/tls with the certificate for the host name(s), e.g. one cert-manager maintains. Leave it empty for plain HTTP or the ingress controller's default certificate.".into(),
            vec![],
        ),
        Step::Size => {
            let pvc = s.storage() == StorageChoice::Pvc;
            let mut options = Vec::new();
            if s.preset_size() == Size::Scenario {
                let b = &pv.backend;
                options.push(choice(
                    Size::Scenario.key(),
                    format!(
                        "as the scenario sets it — {} replica(s), {} worker(s), memory limit {}",
                        if pvc { 1 } else { b.replica_count },
                        b.odoo.workers,
                        quantity(&b.resources.limits, "memory").unwrap_or_else(|| "none".into())
                    ),
                ));
            }
            for r in SIZES {
                let replicas = if pvc { 1 } else { r.replicas };
                let pvc_note = if pvc && r.replicas > 1 { " (1 replica: attachments are on a volume)" } else { "" };
                options.push(choice(
                    r.size.key(),
                    format!(
                        "{} — {replicas} replica(s), {} worker(s), {} CPU / {} memory limit: {}{pvc_note}",
                        r.size.key(), r.workers, r.lim.0, r.lim.1, r.what
                    ),
                ));
            }
            options.push(choice(Size::Custom.key(), "custom — choose replicas, workers and the memory limit"));
            (
                select(options, s.size().key()),
                "How big?".into(),
                "Replicas are copies of Odoo behind one Service (more survive a node failure); workers are Odoo processes per replica, each serving one request at a time and needing about 300Mi of memory (plus 500Mi per replica).".into(),
                vec![],
            )
        }
        Step::Replicas => (
            text(Some(a.replicas.unwrap_or(i64::from(pv.backend.replica_count)).to_string())),
            "Replicas".into(),
            "How many copies of Odoo run (1–20). Two or more keep Odoo up while a node is drained.".into(),
            vec![],
        ),
        Step::Workers => (
            text(Some(s.custom_workers().to_string())),
            "Workers per replica".into(),
            "Odoo processes per replica (0–64), each needing about 300Mi. 0 runs Odoo threaded (for development: live chat then polls instead of using websockets).".into(),
            vec![],
        ),
        Step::MemoryLimit => (
            text(Some(s.custom_memory().0)),
            "Memory limit per replica".into(),
            format!(
                "The most memory one Odoo replica may use before Kubernetes restarts it, as a Kubernetes quantity (e.g. 2Gi, 1536Mi). {} worker(s) need about {:.0}Mi.",
                s.custom_workers(),
                memory_needed_mib(s.custom_workers())
            ),
            vec![],
        ),
        Step::MemoryFix => {
            let workers = s.custom_workers();
            let (limit_q, _) = s.custom_memory();
            let (needed, have) = s.memory_short().unwrap_or((0.0, 0.0));
            let mut options = Vec::new();
            if let Some(n) = WizardState::workers_fitting(have).filter(|n| *n < workers) {
                let what = if n == 0 { " (threaded mode)" } else { "" };
                options.push(choice(MemoryFix::FewerWorkers.key(), format!("use {n} worker(s){what} — fits in {limit_q}")));
            }
            options.push(choice(MemoryFix::RaiseLimit.key(), format!("raise the memory limit to {needed:.0}Mi")));
            options.push(choice(MemoryFix::Keep.key(), format!("keep {workers} worker(s) and {limit_q} (Odoo may be killed for lack of memory under load)")));
            let default = a.memory_fix.map(|f| f.key()).unwrap_or(options[0].key.as_str()).to_string();
            (
                select(options, &default),
                "The memory limit is small for the workers".into(),
                "Each Odoo worker needs about 300Mi and the replica another 500Mi; a container over its limit is killed (OOMKilled) and restarted.".into(),
                vec![format!(
                    "Memory limit {limit_q} is small for {workers} worker(s): about {needed:.0}Mi needed (300Mi per worker + 500Mi)."
                )],
            )
        }
        Step::ImageRepository => (
            text(Some(s.image().0)),
            "Odoo image repository".into(),
            "The container image to run, without tag. The default carries the S3 filestore modules and session_db; the official `odoo` image lacks them (attachments then go to a volume).".into(),
            vec![],
        ),
        Step::ImageTag => (
            text(Some(s.image().1)),
            "Image tag".into(),
            "A pinned version tag of that image (not `latest`, which changes under you), e.g. 18.0-20261101.".into(),
            vec![],
        ),
        Step::OutputDir => (
            text(Some(s.output_dir())),
            "Folder for the manifests".into(),
            "No cluster is reachable, so the manifests (Secrets included: keep the folder private) are written here. Apply them later with `kubectl apply --server-side -f FOLDER`.".into(),
            vec![],
        ),
        Step::Review => {
            let (ns, _) = s.namespace();
            let label = if s.online() {
                format!(
                    "Apply to context `{}`, namespace `{ns}`?",
                    s.context().unwrap_or_default()
                )
            } else {
                format!("Write the manifests to `{}`?", s.output_dir())
            };
            (
                QuestionKind::Confirm { default: true },
                label,
                "Yes goes ahead. No cancels without changing anything. Esc goes back to change an answer.".into(),
                super::outcome::review_notes(s),
            )
        }
        Step::ShowCredentials => (
            QuestionKind::Confirm { default: a.show_credentials.unwrap_or(true) },
            "Show the generated passwords once at the end?".into(),
            "The administrator password is needed for the first login. They are kept in a Kubernetes Secret either way, and never shown again by odoo-tui.".into(),
            vec![],
        ),
        Step::SavePreset => (
            optional_text(a.save_as.clone()),
            "Save these answers as a preset? (name, or empty to skip)".into(),
            "Saved presets appear in the scenario list next time and work with `--preset NAME`. Passwords you typed are not saved; Secret names are.".into(),
            vec![],
        ),
        Step::Done | Step::Declined => (
            QuestionKind::Confirm { default: true },
            "Done".into(),
            String::new(),
            vec![],
        ),
    };
    let mut all = s.notice.clone();
    all.append(&mut notes);
    Question {
        step: s.step,
        kind,
        label,
        help,
        notes: all,
    }
}

/// Take `answer` to the current question. Returns the new state, or why the answer is
/// refused (the state is then unchanged). `Answer::Back` returns to the previous
/// question that was asked, keeping every answer.
pub fn next(
    state: &WizardState,
    answer: Answer,
    probe: &dyn ClusterProbe,
) -> Result<WizardState, Invalid> {
    let mut s = state.clone();
    if answer == Answer::Back {
        let Some(prev) = s.history.pop() else {
            return Err(Invalid(
                "this is the first question — press Ctrl-C to leave the wizard".into(),
            ));
        };
        s.step = prev;
        s.review = None;
        s.notice.clear();
        return Ok(s);
    }
    if state.is_finished() {
        return Err(Invalid("the wizard has finished".into()));
    }
    let step = state.step;
    let q = current_question(state);
    let input = match (&q.kind, answer) {
        (QuestionKind::Select { options, .. }, Answer::Choice(k)) => {
            if !options.iter().any(|o| o.key == k) {
                let keys: Vec<&str> = options.iter().map(|o| o.key.as_str()).collect();
                return Err(Invalid(format!(
                    "`{k}` is not one of the choices: {}",
                    keys.join(", ")
                )));
            }
            k
        }
        (QuestionKind::Text { default, optional }, Answer::Text(t)) => {
            let t = t.trim().to_string();
            match (t.is_empty(), default) {
                (false, _) => t,
                (true, Some(d)) => d.clone(),
                (true, None) if *optional => String::new(),
                (true, None) => {
                    return Err(Invalid(format!("an answer is required: {}", q.help)));
                }
            }
        }
        (QuestionKind::Password { .. }, Answer::Text(t)) => t,
        (QuestionKind::Confirm { .. }, Answer::Confirm(b)) => b.to_string(),
        (kind, other) => {
            let want = match kind {
                QuestionKind::Select { .. } => "one of the choices",
                QuestionKind::Text { .. } | QuestionKind::Password { .. } => "text",
                QuestionKind::Confirm { .. } => "yes or no",
            };
            return Err(Invalid(format!(
                "this question expects {want}, not {other:?}"
            )));
        }
    };
    s.notes.retain(|(st, _)| *st != step);
    s.notice.clear();
    let jump = s.apply(step, input, probe).map_err(Invalid)?;
    s.history.push(step);
    s.step = jump.unwrap_or_else(|| s.following(Some(step)));
    if s.step != Step::Review {
        s.review = None;
    }
    Ok(s)
}

impl WizardState {
    /// Record one validated-as-typed answer; `Ok(Some(step))` jumps elsewhere than the
    /// next relevant step.
    fn apply(
        &mut self,
        step: Step,
        input: String,
        probe: &dyn ClusterProbe,
    ) -> Result<Option<Step>, String> {
        let a = &mut self.a;
        match step {
            Step::Context => {
                a.context = Some(input.clone());
                self.connect(probe, Some(&input));
            }
            Step::Namespace => {
                if self.ns_list().is_some() {
                    let new = input == NEW_NAMESPACE;
                    self.a.namespace_new = new;
                    if !new {
                        self.a.namespace = Some(input);
                    }
                } else {
                    self.a.namespace = Some(checks::namespace(&input)?);
                }
            }
            Step::NewNamespace => a.new_namespace = Some(checks::namespace(&input)?),
            Step::Scenario => {
                self.pv = self.load_preset(&input)?;
                self.a.preset = Some(input);
            }
            Step::Name => {
                values::validate::validate_release(&input, &self.pv)?;
                a.name = Some(input);
            }
            Step::Database => a.db = DbChoice::from_key(&input),
            Step::DbHost => a.db_host = Some(checks::host(&input)?),
            Step::DbPort => a.db_port = Some(checks::port(&input)?),
            Step::DbUser => a.db_user = Some(checks::db_user(&input)?),
            Step::DbName => a.db_name = Some(checks::db_name(&input)?),
            Step::Storage => a.storage = StorageChoice::from_key(&input),
            Step::S3Endpoint => a.s3_endpoint = Some(checks::url(&input)?),
            Step::S3Bucket => a.s3_bucket = Some(checks::bucket(&input)?),
            Step::S3Region => a.s3_region = Some(checks::region(&input)?),
            Step::CredentialMode => a.cred_mode = CredentialChoice::from_key(&input),
            Step::DbPassword
            | Step::MinioPassword
            | Step::S3AccessKey
            | Step::S3SecretKey
            | Step::MasterPassword
            | Step::AdminPassword => {
                let external = match step {
                    Step::DbPassword if self.db() == DbChoice::External => {
                        Some("database password")
                    }
                    Step::S3AccessKey => Some("S3 access key"),
                    Step::S3SecretKey => Some("S3 secret key"),
                    _ => None,
                };
                let slot = password_slot_mut(&mut self.a, step);
                if input.is_empty() && slot.is_some() {
                    return Ok(None);
                }
                let value = match external {
                    Some(what) => checks::existing_credential(&input, what)?,
                    None => checks::new_password(&input)?,
                };
                *slot = Some(Hidden(value));
            }
            Step::DbSecret
            | Step::MinioSecret
            | Step::S3Secret
            | Step::MasterSecret
            | Step::AdminSecret => {
                let (_, def_keys) = secret_defaults(self, step);
                let keys: Vec<&str> = def_keys.iter().map(String::as_str).collect();
                let r = checks::secret_ref(&input, &keys)?;
                if let Some(note) = self.check_secret(probe, &r)? {
                    self.notes.push((step, note));
                }
                *secret_slot_mut(&mut self.a, step) = Some(r);
            }
            Step::AdminEmail => a.admin_email = Some(checks::email(&input)?),
            Step::Exposure => a.exposure = Exposure::from_key(&input),
            Step::IngressHost => a.host = Some(checks::domain(&input)?),
            Step::PublicDomain => a.public_domain = Some(checks::domain(&input)?),
            Step::BackofficeDomain => {
                let d = if input.is_empty() {
                    String::new()
                } else {
                    checks::domain(&input)?
                };
                if !d.is_empty() && Some(&d) == a.public_domain.as_ref() {
                    return Err(format!(
                        "`{d}` is already the public domain — give the back office another one, or leave it empty"
                    ));
                }
                a.backoffice_domain = Some(d);
            }
            Step::IngressClass => {
                a.ingress_class = Some(if input.is_empty() {
                    input
                } else {
                    checks::object_name(&input, "IngressClass")?
                })
            }
            Step::TlsSecret => {
                a.tls_secret = Some(if input.is_empty() {
                    input
                } else {
                    checks::object_name(&input, "Secret")?
                })
            }
            Step::Size => a.size = Size::from_key(&input),
            Step::Replicas => a.replicas = Some(checks::number(&input, "replica count", 1, 20)?),
            Step::Workers => a.workers = Some(checks::number(&input, "worker count", 0, 64)?),
            Step::MemoryLimit => a.memory = Some(checks::memory(&input)?),
            Step::MemoryFix => a.memory_fix = MemoryFix::from_key(&input),
            Step::ImageRepository => a.image_repository = Some(checks::image_repository(&input)?),
            Step::ImageTag => a.image_tag = Some(checks::image_tag(&input)?),
            Step::OutputDir => a.output_dir = Some(input),
            Step::Review => {
                if input == "false" {
                    return Ok(Some(Step::Declined));
                }
                let draft = self.build()?;
                draft.load().map_err(|e| {
                    format!("these answers do not make a valid configuration — press Esc to change them:\n{e}")
                })?;
            }
            Step::ShowCredentials => a.show_credentials = Some(input == "true"),
            Step::SavePreset => {
                let builtin: Vec<&str> = presets::BUILTIN.iter().map(|(n, _, _)| *n).collect();
                a.save_as = Some(if input.is_empty() {
                    input
                } else {
                    checks::preset_name(&input, &builtin)?
                });
            }
            Step::Done | Step::Declined => {}
        }
        Ok(None)
    }

    /// Check an existing Secret live; `Ok(Some(note))` when it could not be checked.
    fn check_secret(
        &self,
        probe: &dyn ClusterProbe,
        r: &SecretRef,
    ) -> Result<Option<String>, String> {
        let (ns, create) = self.namespace();
        let name = &r.name;
        let keys = r.keys.join("`, `");
        let literals: Vec<String> = r
            .keys
            .iter()
            .map(|k| format!("--from-literal={k}=..."))
            .collect();
        let create_cmd = format!(
            "kubectl create secret generic {name} -n {ns} {}",
            literals.join(" ")
        );
        let Some(context) = self.context().filter(|_| self.online()) else {
            return Ok(Some(format!(
                "Secret {name} was not checked (no cluster): it must exist in namespace {ns} with key(s) `{keys}` before the manifests are applied — {create_cmd}"
            )));
        };
        if create {
            let alt = if self.secrets_only() {
                ""
            } else {
                ", or press Esc and choose generated or typed passwords"
            };
            return Err(format!(
                "namespace {ns} does not exist yet, so it has no Secret {name} — create both first (kubectl create namespace {ns}; {create_cmd}){alt}"
            ));
        }
        match probe.secret(context, &ns, name) {
            Ok(SecretCheck::Missing) => Err(format!(
                "Secret {name} does not exist in namespace {ns} — create it first: {create_cmd}"
            )),
            Ok(SecretCheck::Keys(have)) => {
                for k in &r.keys {
                    if !have.contains(k) {
                        let list = if have.is_empty() {
                            "it has no keys".to_string()
                        } else {
                            format!("keys: {}", have.join(", "))
                        };
                        let pattern = vec!["KEY"; r.keys.len()].join(",");
                        return Err(format!(
                            "Secret {name} has no key `{k}` ({list}) — write {name}:{pattern} to use other keys"
                        ));
                    }
                }
                Ok(None)
            }
            Err(e) => Ok(Some(format!(
                "Secret {name} could not be checked ({e}): it must exist in namespace {ns} with key(s) `{keys}` before anything is applied"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::FakeProbe;

    fn start() -> (WizardState, FakeProbe) {
        let probe = FakeProbe::reachable(&["default", "shop"]);
        (WizardState::new(Defaults::default(), &probe), probe)
    }

    #[test]
    fn starts_with_the_context_and_lists_kubeconfig_contexts() {
        let (s, _) = start();
        assert_eq!(s.step(), Step::Context);
        let q = current_question(&s);
        let QuestionKind::Select { options, default } = q.kind else {
            panic!("a select")
        };
        assert_eq!(options[0].label, "kind-dev (current)");
        assert_eq!(default, 0);
        assert!(!q.help.is_empty());
    }

    #[test]
    fn back_on_the_first_question_is_refused_and_keeps_the_state() {
        let (s, probe) = start();
        let e = next(&s, Answer::Back, &probe).unwrap_err();
        assert_eq!(
            e.0,
            "this is the first question — press Ctrl-C to leave the wizard"
        );
    }

    #[test]
    fn unknown_choices_and_wrong_answer_kinds_are_refused() {
        let (s, probe) = start();
        let e = next(&s, Answer::Choice("prod".into()), &probe).unwrap_err();
        assert_eq!(e.0, "`prod` is not one of the choices: kind-dev");
        let e = next(&s, Answer::Confirm(true), &probe).unwrap_err();
        assert!(e.0.starts_with("this question expects one of the choices"));
    }

    #[test]
    fn the_namespace_list_offers_a_new_one_and_back_keeps_the_choice() {
        let (s, probe) = start();
        let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
        assert_eq!(s.step(), Step::Namespace);
        let s = next(&s, Answer::Choice(NEW_NAMESPACE.into()), &probe).unwrap();
        assert_eq!(s.step(), Step::NewNamespace);
        let s = next(&s, Answer::Text("acme".into()), &probe).unwrap();
        assert_eq!(s.namespace(), ("acme".to_string(), true));
        let back = next(&s, Answer::Back, &probe).unwrap();
        assert_eq!(back.step(), Step::NewNamespace);
        let QuestionKind::Text { default, .. } = current_question(&back).kind else {
            panic!("text")
        };
        assert_eq!(default.as_deref(), Some("acme"));
        assert_eq!(back.asked(), &[Step::Context, Step::Namespace]);
    }

    #[test]
    fn presets_that_need_answers_still_give_defaults() {
        let (s, probe) = start();
        let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
        let s = next(&s, Answer::Choice("shop".into()), &probe).unwrap();
        let s = next(&s, Answer::Choice("production".into()), &probe).unwrap();
        assert_eq!(s.db(), DbChoice::External);
        assert_eq!(s.storage(), StorageChoice::External);
        assert_eq!(s.cred_mode(), CredentialChoice::ExistingSecrets);
        assert_eq!(s.size(), Size::Medium);
        assert!(!s.relevant(Step::CredentialMode));
    }

    #[test]
    fn local_dev_fixes_the_filestore_on_a_volume() {
        let (s, probe) = start();
        let s = next(&s, Answer::Choice("kind-dev".into()), &probe).unwrap();
        let s = next(&s, Answer::Choice("shop".into()), &probe).unwrap();
        let s = next(&s, Answer::Choice("local-dev".into()), &probe).unwrap();
        assert!(!s.relevant(Step::Storage));
        assert_eq!(s.storage(), StorageChoice::Pvc);
        assert_eq!(s.size(), Size::Dev);
    }

    #[test]
    fn debug_output_never_shows_typed_text() {
        assert_eq!(format!("{:?}", Answer::Text("hunter22".into())), "Text(..)");
        assert_eq!(format!("{:?}", Hidden("hunter22".into())), "<hidden>");
    }

    #[test]
    fn memory_needed_follows_the_workers() {
        assert_eq!(memory_needed_mib(0), 500.0);
        assert_eq!(memory_needed_mib(4), 1700.0);
        assert_eq!(WizardState::workers_fitting(1024.0), Some(1));
        assert_eq!(WizardState::workers_fitting(400.0), None);
    }
}
