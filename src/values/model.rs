//! The typed configuration model. Field names are the chart's keys in snake_case;
//! every field is always present because the defaults document is the first layer
//! of every merge (see `assets/defaults.yaml`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DeploymentStrategy;
use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, LocalObjectReference, PodSecurityContext, ResourceRequirements,
    SecurityContext, Toleration,
};
use k8s_openapi::api::networking::v1::IngressTLS;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::{Deserialize, Serialize};

pub type StringMap = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub global: Global,
    pub name_override: String,
    pub fullname_override: String,
    pub service_account: ServiceAccount,
    pub postgresql: Postgresql,
    pub external_database: ExternalDatabase,
    pub minio: Minio,
    #[serde(rename = "externalS3")]
    pub external_s3: ExternalS3,
    pub session_db: SessionDb,
    pub backend: Backend,
    pub frontend: Frontend,
    pub nginx: Nginx,
    pub ingress: Ingress,
    pub backup: Backup,
    pub network_policy: NetworkPolicy,
    pub security: Security,
}

/// odoo-tui's opt-outs of its own hardening (see `assets/defaults.yaml`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Security {
    /// Let security-context values weaken Pod Security "restricted" or turn off the
    /// read-only root filesystem.
    pub allow_unrestricted: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Global {
    pub image_pull_secrets: Vec<LocalObjectReference>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    pub create: bool,
    pub name: String,
    pub annotations: StringMap,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub repository: String,
    pub tag: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default = "if_not_present")]
    pub pull_policy: String,
    /// Only meaningful for `backend.image`: `auto`, `true` or `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_modules: Option<String>,
}

fn if_not_present() -> String {
    "IfNotPresent".into()
}

impl Image {
    /// `repository:tag[@digest]`.
    pub fn reference(&self) -> String {
        let mut s = format!("{}:{}", self.repository, self.tag);
        if !self.digest.is_empty() {
            s.push('@');
            s.push_str(&self.digest);
        }
        s
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Persistence {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub size: String,
    pub storage_class: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Postgresql {
    pub enabled: bool,
    pub image: Image,
    pub auth: PostgresqlAuth,
    pub persistence: Persistence,
    pub resources: ResourceRequirements,
    pub container_security_context: SecurityContext,
    pub node_selector: StringMap,
    pub tolerations: Vec<Toleration>,
    pub affinity: Affinity,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PostgresqlAuth {
    pub username: String,
    pub password: String,
    pub database: String,
    pub existing_secret: String,
    pub existing_secret_password_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDatabase {
    pub host: String,
    pub port: i64,
    pub user: String,
    pub database: String,
    pub password: String,
    pub existing_secret: String,
    pub existing_secret_password_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Minio {
    pub enabled: bool,
    pub image: Image,
    pub auth: MinioAuth,
    pub persistence: Persistence,
    pub provisioning: MinioProvisioning,
    pub resources: ResourceRequirements,
    pub container_security_context: SecurityContext,
    pub node_selector: StringMap,
    pub tolerations: Vec<Toleration>,
    pub affinity: Affinity,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MinioAuth {
    pub root_user: String,
    pub root_password: String,
    pub existing_secret: String,
    pub existing_secret_root_user_key: String,
    pub existing_secret_root_password_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MinioProvisioning {
    pub enabled: bool,
    pub image: Image,
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bucket {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalS3 {
    pub enabled: bool,
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub existing_secret: String,
    pub existing_secret_access_key_key: String,
    pub existing_secret_secret_key_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionDb {
    pub uri: String,
    pub existing_secret: String,
    pub existing_secret_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    pub replica_count: i32,
    pub image: Image,
    pub odoo: OdooSettings,
    pub env: Vec<EnvVar>,
    pub service: BackendService,
    pub startup_probe: Probe,
    pub liveness_probe: Probe,
    pub readiness_probe: Probe,
    pub resources: ResourceRequirements,
    pub pod_security_context: PodSecurityContext,
    pub container_security_context: SecurityContext,
    pub update_strategy: DeploymentStrategy,
    pub init_containers: BackendInitContainers,
    pub pdb: Pdb,
    pub addons: Vec<AddonSource>,
    pub addons_fetch: AddonsFetch,
    pub auto_upgrade: AutoUpgrade,
    pub init_db: InitDb,
    pub storage_init: StorageInit,
    pub smoke_check: SmokeCheck,
    pub persistence: Persistence,
    pub node_selector: StringMap,
    pub tolerations: Vec<Toleration>,
    pub affinity: Affinity,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OdooSettings {
    pub log_level: String,
    pub addons_path: String,
    pub proxy_mode: bool,
    pub server_wide_modules: String,
    pub workers: i64,
    pub max_cron_threads: i64,
    pub list_db: bool,
    pub db_filter: String,
    pub limit_memory_soft: i64,
    pub limit_memory_hard: i64,
    pub limit_time_cpu: i64,
    pub limit_time_real: i64,
    pub data_dir: String,
    pub master_password: String,
    pub existing_secret: String,
    pub existing_secret_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackendService {
    #[serde(rename = "type")]
    pub type_: String,
    pub ports: BackendPorts,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackendPorts {
    pub http: i64,
    pub websocket: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub enabled: bool,
    pub path: String,
    pub port: String,
    #[serde(default)]
    pub initial_delay_seconds: Option<i32>,
    #[serde(default)]
    pub period_seconds: Option<i32>,
    #[serde(default)]
    pub timeout_seconds: Option<i32>,
    #[serde(default)]
    pub failure_threshold: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackendInitContainers {
    pub wait_for_db: WaitForDb,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WaitForDb {
    pub enabled: bool,
    pub image: Image,
}

/// One git source of modules (`backend.addons`, README "Your own modules").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddonSource {
    pub name: String,
    pub repo: String,
    #[serde(rename = "ref")]
    pub ref_: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub secret: String,
}

/// How a source is reached, read from its `repo` URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// `https://…`: a Secret holds `username` and `password` (a token).
    Https,
    /// `ssh://…` or `user@host:path`: a Secret holds `ssh-privatekey` and `known_hosts`.
    Ssh,
    /// `git://…`: public, unauthenticated.
    Git,
}

impl AddonSource {
    pub fn kind(&self) -> Option<RepoKind> {
        let r = self.repo.as_str();
        if r.starts_with("https://") {
            Some(RepoKind::Https)
        } else if r.starts_with("ssh://") {
            Some(RepoKind::Ssh)
        } else if r.starts_with("git://") {
            Some(RepoKind::Git)
        } else if !r.contains("://")
            && let Some((user_host, path)) = r.split_once(':')
            && user_host.contains('@')
            && !path.is_empty()
        {
            Some(RepoKind::Ssh)
        } else {
            None
        }
    }

    /// A full commit id (SHA-1 or SHA-256): the only ref that can never move.
    pub fn ref_is_commit(&self) -> bool {
        matches!(self.ref_.len(), 40 | 64) && self.ref_.chars().all(|c| c.is_ascii_hexdigit())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AddonsFetch {
    pub image: Image,
    pub pip_only_binary: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pdb {
    pub enabled: bool,
    pub min_available: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AutoUpgrade {
    pub enabled: bool,
    pub modules: Vec<String>,
    pub update_module_list: bool,
    pub hook_delete_policy: String,
    pub resources: ResourceRequirements,
    pub backoff_limit: i32,
    pub active_deadline_seconds: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InitDb {
    pub enabled: bool,
    pub admin_login: String,
    pub admin_email: String,
    pub admin_password: String,
    pub existing_secret: String,
    pub existing_secret_key: String,
    pub language: String,
    pub demo_data: bool,
    pub modules: Vec<String>,
    pub backoff_limit: i32,
    pub active_deadline_seconds: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorageInit {
    pub enabled: bool,
    pub code: String,
    pub name: String,
    pub directory_path: String,
    pub use_as_default: bool,
    pub optimize_directory_path: bool,
    pub autovacuum_gc: bool,
    pub backoff_limit: i32,
    pub active_deadline_seconds: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SmokeCheck {
    pub enabled: bool,
    pub path: String,
    pub active_deadline_seconds: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Frontend {
    pub enabled: bool,
    pub replica_count: i32,
    pub image: Image,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    pub service: FrontendService,
    pub startup_probe: Probe,
    pub liveness_probe: Probe,
    pub readiness_probe: Probe,
    pub resources: ResourceRequirements,
    pub pod_security_context: PodSecurityContext,
    pub container_security_context: SecurityContext,
    pub update_strategy: DeploymentStrategy,
    pub pdb: Pdb,
    pub node_selector: StringMap,
    pub tolerations: Vec<Toleration>,
    pub affinity: Affinity,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FrontendService {
    #[serde(rename = "type")]
    pub type_: String,
    pub port: i64,
    pub session_affinity: SessionAffinity,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionAffinity {
    pub enabled: bool,
    pub timeout_seconds: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Nginx {
    pub enabled: bool,
    pub image: Image,
    pub replica_count: i32,
    pub service: NginxService,
    pub timeouts: NginxTimeouts,
    pub client_max_body_size: String,
    pub cookie_secure: bool,
    pub hsts: Hsts,
    pub cors: Cors,
    pub maintenance_page: MaintenancePage,
    pub gzip: Toggle,
    pub domains: Domains,
    pub resources: ResourceRequirements,
    pub pod_security_context: PodSecurityContext,
    pub container_security_context: SecurityContext,
    pub pdb: Pdb,
    pub node_selector: StringMap,
    pub tolerations: Vec<Toleration>,
    pub affinity: Affinity,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NginxService {
    #[serde(rename = "type")]
    pub type_: String,
    pub port: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct NginxTimeouts {
    pub proxy_read: String,
    pub proxy_connect: String,
    pub proxy_send: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Hsts {
    pub enabled: bool,
    pub max_age: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    pub enabled: bool,
    pub origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MaintenancePage {
    pub enabled: bool,
    pub content: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Toggle {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Domains {
    pub public: PublicDomain,
    pub backoffice: BackofficeDomain,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct PublicDomain {
    pub host: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct BackofficeDomain {
    pub enabled: bool,
    pub host: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Ingress {
    pub enabled: bool,
    pub class_name: String,
    pub annotations: StringMap,
    pub hosts: Vec<IngressHost>,
    pub tls: Vec<IngressTLS>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressHost {
    pub host: String,
    #[serde(default)]
    pub paths: Vec<IngressPath>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressPath {
    #[serde(default = "slash")]
    pub path: String,
    #[serde(default = "prefix")]
    pub path_type: String,
    /// `backend`, `frontend`, or the name of another Service.
    #[serde(default = "backend_service")]
    pub service: String,
    /// Service port; defaults to the chosen Service's HTTP port.
    #[serde(default)]
    pub port: Option<i64>,
}

fn slash() -> String {
    "/".into()
}
fn prefix() -> String {
    "Prefix".into()
}
fn backend_service() -> String {
    "backend".into()
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub enabled: bool,
    pub prefix: String,
    /// The PostgreSQL client image: its `pg_dump` must be at least the server's major.
    pub image: Image,
    pub mc_image: Image,
    pub persistence: Persistence,
    pub resources: ResourceRequirements,
    pub backoff_limit: i32,
    pub active_deadline_seconds: i64,
    /// Cron schedule of the scheduled backups (a CronJob); empty: none.
    #[serde(default)]
    pub schedule: String,
    /// Retention, enforced by every backup; all zero keeps every backup.
    #[serde(default)]
    pub keep: Keep,
}

/// How many backups retention keeps: the newest `last`, and the newest of each of the
/// last `daily` days, `weekly` ISO weeks and `monthly` months that have one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keep {
    #[serde(default)]
    pub last: u32,
    #[serde(default)]
    pub daily: u32,
    #[serde(default)]
    pub weekly: u32,
    #[serde(default)]
    pub monthly: u32,
}

impl Keep {
    /// Whether retention deletes anything at all.
    pub fn is_set(&self) -> bool {
        self.last + self.daily + self.weekly + self.monthly > 0
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    pub enabled: bool,
    pub ingress_namespace_selector: LabelSelector,
}
