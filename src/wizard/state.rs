//! The wizard's state: what is known before the first question ([`Defaults`]), every
//! answer given so far ([`Answers`]), what the probe said about the cluster, and the
//! effective choices the answers and the chosen scenario give together (the database,
//! the storage, the size, …) — read by the questions, the step order and the outcome.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use super::checks::SecretRef;
use super::choices::{
    BackupChoice, CredentialChoice, DbChoice, Exposure, MemoryFix, SIZES, Size, SizeSpec,
    StorageChoice, memory_needed_mib, workers_fitting,
};
use super::order::Step;
use super::probe::ClusterProbe;
use crate::presets;
use crate::values::{self, Source, Values};

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
    /// "customise" at the review: ask what the scenario answered (database, storage).
    pub customise: bool,
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
    pub backup: Option<BackupChoice>,
    pub backup_schedule: Option<String>,
    pub image_repository: Option<String>,
    pub image_tag: Option<String>,
    pub output_dir: Option<String>,
    pub show_credentials: Option<bool>,
    pub save_as: Option<String>,
}

/// A Secret question named a Secret that does not exist (yet): the way on chosen in the
/// detour [`Step::SecretMissing`] → [`Step::SecretValue`].
#[derive(Debug, Clone)]
pub(super) struct Resolving {
    /// The Secret question that named it.
    pub from: Step,
    pub secret: SecretRef,
    /// Why it is missing, for the user.
    pub why: String,
    /// Values typed so far, in the order of `secret.keys`.
    pub typed: Vec<Hidden>,
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
    /// The steps asked so far, oldest first: the way back.
    pub(super) history: Vec<Step>,
    pub(super) review: Option<Review>,
    /// Back from the review to customise: questions already asked are not asked again,
    /// except what the scenario answered; ends at the review.
    pub(super) revisit: bool,
    /// The missing Secret being dealt with (only during its detour).
    pub(super) resolving: Option<Resolving>,
    /// Secrets to create before the apply, from values typed at a hidden prompt:
    /// name → key → value. Kept apart from the answers: never in the values overlay.
    pub(super) new_secrets: BTreeMap<String, BTreeMap<String, Hidden>>,
    /// Shown with the next question, then dropped.
    pub(super) notice: Vec<String>,
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

/// A quantity of a resources map, as written.
pub(super) fn quantity(
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
            revisit: false,
            resolving: None,
            new_secrets: BTreeMap::new(),
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

    pub(super) fn load_preset(&self, name: &str) -> Result<Values, String> {
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

    /// Ask the probe about `context` (none: there is no kubeconfig context).
    pub(super) fn connect(&mut self, probe: &dyn ClusterProbe, context: Option<&str>) {
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

    /// The cluster's namespaces, when they could be listed.
    pub(super) fn ns_list(&self) -> Option<&Vec<String>> {
        if self.cluster.reachable.is_ok() {
            self.cluster.namespaces.as_ref().ok()
        } else {
            None
        }
    }

    pub(super) fn default_namespace(&self) -> String {
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

    /// Whether the command line gave a valid instance name.
    pub(super) fn name_fixed(&self) -> bool {
        self.defaults
            .name
            .as_deref()
            .is_some_and(|n| values::validate::validate_release(n, &self.pv).is_ok())
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

    /// The scenario keeps the filestore on a volume (no S3 at all).
    pub(super) fn storage_fixed(&self) -> bool {
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

    /// The scenario reads every credential from existing Secrets.
    pub(super) fn secrets_only(&self) -> bool {
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

    /// The fixed size the scenario matches, else [`Size::Scenario`].
    pub(super) fn preset_size(&self) -> Size {
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

    pub(super) fn custom_workers(&self) -> i64 {
        self.a.workers.unwrap_or(self.pv.backend.odoo.workers)
    }

    pub(super) fn custom_memory(&self) -> (String, f64) {
        self.a.memory.clone().unwrap_or_else(|| {
            let q = quantity(&self.pv.backend.resources.limits, "memory")
                .unwrap_or_else(|| "1536Mi".into());
            let m = mib(&q).unwrap_or(1536.0);
            (q, m)
        })
    }

    /// (needed MiB, limit MiB) when a custom size's memory limit is small for its workers.
    pub(super) fn memory_short(&self) -> Option<(f64, f64)> {
        if self.size() != Size::Custom {
            return None;
        }
        let needed = memory_needed_mib(self.custom_workers());
        let (_, limit) = self.custom_memory();
        (limit < needed).then_some((needed, limit))
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
                            workers = workers_fitting(have).unwrap_or(workers)
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
}
