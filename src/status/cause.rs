//! The cause classifier: from what a failed container left behind (its log tail and the
//! kubelet's account of how it ended) to a plain cause, the next step, and whether
//! retrying can fix it. Pure and table-driven: [`RULES`] is read in order and the first
//! rule that matches wins; every rule has a fixture taken from the real message format in
//! `tests/fixtures/causes.yaml`.
//!
//! Two kinds of callers use it: the live view and the plain/JSON output show
//! [`Cause::summary`] and [`Cause::next_step`] with the log tail, and a Job runner stops
//! waiting at once when [`Cause::retryable`] is false (a bad password, a missing database,
//! a missing module do not heal with the next attempt). An unknown failure gives `None`:
//! the caller shows the tail as it is.
//!
//! No secret reaches a cause: the facts are names (user, database, host, bucket, module,
//! path, limit), and the log line kept as evidence has any URL password or echoed key
//! blanked and is made terminal-safe.

use serde::{Deserialize, Serialize};

use super::model::Component;
use crate::text::safe_line;

/// What the classifier reads about one failed container.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// The last lines of the container's log (oldest first).
    pub log: &'a [String],
    /// The kubelet's reason for the container's (last) termination, e.g. `OOMKilled`,
    /// `Error`, `ContainerCannotRun`.
    pub reason: Option<&'a str>,
    pub exit_code: Option<i32>,
    /// The container's memory limit as its spec gives it (e.g. `1536Mi`).
    pub memory_limit: Option<&'a str>,
    /// Odoo's worker count, where the caller knows it.
    pub workers: Option<i64>,
    /// The component the container belongs to (names the values keys of the next step).
    pub component: Option<Component>,
    /// The instance's bucket, where the caller knows it (an S3 error rarely names it).
    pub bucket: Option<&'a str>,
}

/// The known causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// The kubelet killed the container for passing its memory limit.
    OomKilled,
    /// `pg_dump` is older than the server it dumps.
    PgDumpVersionMismatch,
    /// PostgreSQL refused the user's password.
    PasswordAuthenticationFailed,
    /// The database named in the configuration does not exist on the server.
    DatabaseDoesNotExist,
    /// The server has no connection slot left.
    TooManyConnections,
    /// Odoo found the database without its tables.
    DatabaseNotInitialized,
    /// The bucket does not exist.
    S3NoSuchBucket,
    /// The S3 service does not know the access key.
    S3InvalidAccessKeyId,
    /// The secret key does not belong to the access key.
    S3SignatureDoesNotMatch,
    /// The S3 endpoint cannot be reached.
    S3EndpointUnreachable,
    /// The database server cannot be reached (refused, timed out, or its name does not resolve).
    DatabaseUnreachable,
    /// An Odoo module is not in the addons path, or not installable.
    ModuleNotFound,
    /// A Python package an addon imports is not in the image.
    PythonDependencyMissing,
    /// The container may not write where it must (uid/fsGroup of the volume).
    PermissionDenied,
    /// Something in the pod already listens on the port.
    AddressInUse,
    /// An Odoo worker passed `limit_memory_hard` (or `limit_memory_soft`).
    OdooMemoryLimit,
    /// A git source of `backend.addons` refused its credential (token, deploy key or
    /// host key).
    AddonSourceAuthFailed,
    /// A git source's repository does not exist (or the credential may not see it).
    AddonRepositoryNotFound,
    /// A git source's host cannot be reached.
    AddonSourceUnreachable,
    /// A git source has no tag or branch of its ref.
    AddonRefMissing,
    /// A git source's folder holds no module.
    AddonNoModules,
    /// Two git sources provide the same module.
    AddonModuleTwice,
    /// A Python requirement of the sources cannot be installed with pip.
    AddonPythonPackage,
}

/// The values a cause names, for its message and the next step. Never a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The `backend.addons` source a failure is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The container's memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
}

/// A known cause of a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub kind: CauseKind,
    /// The cause in plain words, e.g. `PostgreSQL refused the password of user "odoo"`.
    pub summary: String,
    /// One line telling the user what to do.
    pub next_step: String,
    /// Whether another attempt can succeed without a change (a refused connection may
    /// heal; a wrong password does not).
    pub retryable: bool,
    pub facts: Facts,
    /// The log line the cause was read from (terminal-safe, credentials blanked), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// How a rule recognises its cause.
enum Match {
    /// The kubelet's termination reason.
    Reason(&'static str),
    /// A log line holding every one of these fragments.
    Line(&'static [&'static str]),
}

/// One row of the table.
struct Rule {
    kind: CauseKind,
    retryable: bool,
    /// Any of these recognises the cause.
    matches: &'static [Match],
}

/// The table, most specific first. The formats, and where each comes from:
/// - kubelet: the container status' `terminated.reason` (`OOMKilled`);
/// - pg_dump: `src/bin/pg_dump/pg_backup_db.c` (`aborting because of server version
///   mismatch`, with `server version: X; pg_dump version: Y` as its detail);
/// - PostgreSQL server messages as libpq prints them (`FATAL:  ` with two spaces) inside
///   psycopg2's `OperationalError`, which Odoo's `odoo/sql_db.py` logs:
///   `src/backend/libpq/auth.c` (password authentication failed for user "…"),
///   `src/backend/utils/init/postinit.c` (database "…" does not exist, too many
///   connections for role/database, remaining connection slots are reserved …),
///   `src/backend/storage/lmgr/proc.c` (sorry, too many clients already);
/// - libpq's own messages, `src/interfaces/libpq/fe-connect.c`: `connection to server at
///   "…" (…), port … failed: …` and `could not translate host name "…" to address: …`;
/// - Odoo 18: `odoo/modules/loading.py` (Database … not initialized, you can force it
///   with `-i base`; invalid module names, ignored: …), `odoo/modules/graph.py` (module …:
///   not installable, skipped), `odoo/tools/config.py` (…: directory is not writable),
///   `odoo/service/server.py` (Worker (…) virtual memory limit (…) reached; `MemoryError`
///   once `limit_memory_hard`, an RLIMIT_AS, is hit);
/// - botocore `botocore/exceptions.py`: `An error occurred (CODE) when calling the OP
///   operation: MESSAGE` and `Could not connect to the endpoint URL: "…"`; s3fs
///   (`s3fs/errors.py`, used through fsspec by `fs_storage`) re-raises the S3 message as
///   `FileNotFoundError`/`PermissionError`; MinIO's `mc` prints the same S3 messages after
///   `mc: <ERROR>`; the messages are the S3 API's own;
/// - Python: `ModuleNotFoundError: No module named '…'`, `OSError: [Errno 98] Address
///   already in use`, `PermissionError: [Errno 13] Permission denied: '…'`; nginx:
///   `bind() to … failed (98: Address already in use)`; the postgres image's entrypoint:
///   `chmod`/`mkdir`/`initdb` permission errors on `PGDATA`.
const RULES: &[Rule] = &[
    Rule {
        kind: CauseKind::OomKilled,
        retryable: false,
        matches: &[Match::Reason("OOMKilled")],
    },
    Rule {
        kind: CauseKind::AddonSourceAuthFailed,
        retryable: false,
        matches: &[
            Match::Line(&["fatal: Authentication failed for '"]),
            Match::Line(&["Permission denied (publickey"]),
            Match::Line(&["Host key verification failed."]),
        ],
    },
    Rule {
        kind: CauseKind::AddonRepositoryNotFound,
        retryable: false,
        matches: &[
            Match::Line(&["fatal: repository '", "' not found"]),
            Match::Line(&["fatal: remote error: ", "no such repository"]),
            Match::Line(&["fatal: remote error: ", "repository not exported"]),
        ],
    },
    Rule {
        kind: CauseKind::AddonSourceUnreachable,
        retryable: true,
        matches: &[Match::Line(&[ADDONS_PREFIX, ": cannot read "])],
    },
    Rule {
        kind: CauseKind::AddonRefMissing,
        retryable: false,
        matches: &[Match::Line(&[
            ADDONS_PREFIX,
            " has no tag or branch named ",
        ])],
    },
    Rule {
        kind: CauseKind::AddonNoModules,
        retryable: false,
        matches: &[
            Match::Line(&[ADDONS_PREFIX, ": no module in "]),
            Match::Line(&[ADDONS_PREFIX, " has no folder "]),
            Match::Line(&[ADDONS_PREFIX, " is itself a module"]),
        ],
    },
    Rule {
        kind: CauseKind::AddonModuleTwice,
        retryable: false,
        matches: &[Match::Line(&[ADDONS_PREFIX, " is also in source "])],
    },
    Rule {
        kind: CauseKind::AddonPythonPackage,
        retryable: false,
        matches: &[
            Match::Line(&["odoo-tui addons: Python package "]),
            Match::Line(&["odoo-tui addons: the sources' Python requirements"]),
        ],
    },
    Rule {
        kind: CauseKind::PgDumpVersionMismatch,
        retryable: false,
        matches: &[Match::Line(&[
            "aborting because of server version mismatch",
        ])],
    },
    Rule {
        kind: CauseKind::PasswordAuthenticationFailed,
        retryable: false,
        matches: &[Match::Line(&["password authentication failed for user \""])],
    },
    Rule {
        kind: CauseKind::DatabaseDoesNotExist,
        retryable: false,
        matches: &[Match::Line(&["database \"", "\" does not exist"])],
    },
    Rule {
        kind: CauseKind::TooManyConnections,
        retryable: true,
        matches: &[
            Match::Line(&["sorry, too many clients already"]),
            Match::Line(&["remaining connection slots are reserved"]),
            Match::Line(&["too many connections for role \""]),
            Match::Line(&["too many connections for database \""]),
        ],
    },
    Rule {
        kind: CauseKind::DatabaseNotInitialized,
        retryable: false,
        matches: &[Match::Line(&["not initialized, you can force it with"])],
    },
    Rule {
        kind: CauseKind::S3NoSuchBucket,
        retryable: false,
        matches: &[
            Match::Line(&["(NoSuchBucket)"]),
            Match::Line(&["The specified bucket does not exist"]),
        ],
    },
    Rule {
        kind: CauseKind::S3InvalidAccessKeyId,
        retryable: false,
        matches: &[
            Match::Line(&["(InvalidAccessKeyId)"]),
            Match::Line(&["Access Key Id you provided does not exist in our records"]),
        ],
    },
    Rule {
        kind: CauseKind::S3SignatureDoesNotMatch,
        retryable: false,
        matches: &[
            Match::Line(&["(SignatureDoesNotMatch)"]),
            Match::Line(&["The request signature we calculated does not match"]),
        ],
    },
    Rule {
        kind: CauseKind::S3EndpointUnreachable,
        retryable: true,
        matches: &[
            Match::Line(&["Could not connect to the endpoint URL: \""]),
            Match::Line(&["mc: <ERROR>", "connection refused"]),
            Match::Line(&["mc: <ERROR>", "no such host"]),
            Match::Line(&["mc: <ERROR>", "i/o timeout"]),
        ],
    },
    Rule {
        kind: CauseKind::DatabaseUnreachable,
        retryable: true,
        matches: &[
            Match::Line(&["could not translate host name \""]),
            Match::Line(&["connection to server at \"", "Connection refused"]),
            Match::Line(&["connection to server at \"", "timeout expired"]),
            Match::Line(&["connection to server at \"", "Connection timed out"]),
            Match::Line(&["connection to server at \"", "No route to host"]),
            Match::Line(&["could not connect to server: "]),
        ],
    },
    Rule {
        kind: CauseKind::ModuleNotFound,
        retryable: false,
        matches: &[
            Match::Line(&[": not installable, skipped"]),
            Match::Line(&["invalid module names, ignored: "]),
            Match::Line(&["No module named 'odoo.addons."]),
        ],
    },
    Rule {
        kind: CauseKind::PythonDependencyMissing,
        retryable: false,
        matches: &[Match::Line(&["No module named '"])],
    },
    Rule {
        kind: CauseKind::PermissionDenied,
        retryable: false,
        matches: &[
            Match::Line(&["Permission denied", "/"]),
            Match::Line(&[": directory is not writable"]),
            Match::Line(&["Operation not permitted", "/"]),
        ],
    },
    Rule {
        kind: CauseKind::AddressInUse,
        retryable: false,
        matches: &[Match::Line(&["Address already in use"])],
    },
    Rule {
        kind: CauseKind::OdooMemoryLimit,
        retryable: false,
        matches: &[
            Match::Line(&["MemoryError"]),
            Match::Line(&["virtual memory limit (", ") reached"]),
        ],
    },
];

/// How the `fetch-addons` init container's failure line starts (`render/addons.rs`).
const ADDONS_PREFIX: &str = "odoo-tui addons: source ";

/// The source named by the fetch script's failure line, if the log has one.
fn addon_source(log: &[String]) -> Option<String> {
    log.iter().rev().find_map(|l| {
        let rest = after(l, ADDONS_PREFIX)?;
        let name = rest.split(':').next()?.trim();
        (!name.is_empty() && !name.contains(' ')).then(|| name.to_string())
    })
}

/// The cause of a failure, when a rule of the table recognises it.
pub fn classify(e: &Evidence<'_>) -> Option<Cause> {
    RULES.iter().find_map(|rule| {
        let line = rule.matches.iter().find_map(|m| found(m, e))?;
        Some(describe(rule, e, line))
    })
}

/// What a match found: `Some(None)` for a status match, `Some(Some(line))` for a log line.
fn found<'a>(m: &Match, e: &Evidence<'a>) -> Option<Option<&'a str>> {
    match m {
        Match::Reason(r) => (e.reason == Some(*r)).then_some(None),
        Match::Line(parts) => e
            .log
            .iter()
            .rev()
            .find(|l| parts.iter().all(|p| l.contains(p)))
            .map(|l| Some(l.as_str())),
    }
}

fn describe(rule: &Rule, e: &Evidence<'_>, line: Option<&str>) -> Cause {
    let text = line.unwrap_or_default();
    let prefix = e.component.map_or("backend", Component::values_prefix);
    let mut f = Facts::default();
    let (summary, next_step) = match rule.kind {
        CauseKind::OomKilled => {
            f.limit = e.memory_limit.map(str::to_string);
            f.workers = e.workers;
            oom(prefix, &f)
        }
        CauseKind::PgDumpVersionMismatch => {
            let detail = e
                .log
                .iter()
                .find_map(|l| after(l, "server version: "))
                .unwrap_or_default();
            f.server_version = detail.split(';').next().map(|s| s.trim().to_string());
            f.client_version = detail
                .split("pg_dump version: ")
                .nth(1)
                .map(|s| s.trim().to_string());
            let server = f.server_version.clone().unwrap_or_else(|| "newer".into());
            let client = f.client_version.clone().unwrap_or_else(|| "older".into());
            (
                format!("pg_dump {client} cannot dump a PostgreSQL {server} server"),
                format!(
                    "the backup runs postgresql.image: set postgresql.image.tag to a release at least as new as the server ({server})"
                ),
            )
        }
        CauseKind::PasswordAuthenticationFailed => {
            f.user = quoted_after(text, "for user \"");
            f.host = quoted_after(text, "connection to server at \"");
            let user = f.user.clone().unwrap_or_default();
            (
                format!("PostgreSQL refused the password of user \"{user}\""),
                format!(
                    "put user \"{user}\"'s password in the database Secret (externalDatabase.existingSecret or postgresql.auth.existingSecret) or change it on the server; retrying cannot help"
                ),
            )
        }
        CauseKind::DatabaseDoesNotExist => {
            f.database = quoted_after(text, "database \"");
            let db = f.database.clone().unwrap_or_default();
            (
                format!("database \"{db}\" does not exist on the server"),
                format!(
                    "create it (CREATE DATABASE \"{db}\" OWNER <user>) or fix externalDatabase.database"
                ),
            )
        }
        CauseKind::TooManyConnections => {
            f.user = quoted_after(text, "too many connections for role \"");
            f.database = quoted_after(text, "too many connections for database \"");
            (
                "PostgreSQL has no connection slot left".to_string(),
                "raise max_connections on the server, or lower backend.replicaCount / backend.odoo.workers (each worker holds connections); it may pass once others disconnect".to_string(),
            )
        }
        CauseKind::DatabaseNotInitialized => {
            f.database = between(text, "Database ", " not initialized");
            let db = f.database.clone().unwrap_or_default();
            (
                format!("database \"{db}\" exists but Odoo's tables are not in it"),
                "let the init Job initialise it (backend.initDb.enabled: true, then re-run `odoo-tui new`); the backend cannot start on an empty database".to_string(),
            )
        }
        CauseKind::S3NoSuchBucket => {
            f.bucket = e.bucket.map(str::to_string);
            let bucket = f.bucket.as_deref().unwrap_or("the configured bucket");
            (
                format!("the S3 bucket {bucket} does not exist"),
                format!("create the bucket {bucket} on the S3 service, or fix externalS3.bucket"),
            )
        }
        CauseKind::S3InvalidAccessKeyId => (
            "the S3 service does not know the access key".to_string(),
            "put a valid access key in the Secret named by externalS3.existingSecret (or externalS3.accessKey); retrying cannot help".to_string(),
        ),
        CauseKind::S3SignatureDoesNotMatch => (
            "the S3 secret key does not belong to the access key".to_string(),
            "put the matching secret key in the Secret named by externalS3.existingSecret (or externalS3.secretKey); retrying cannot help".to_string(),
        ),
        CauseKind::S3EndpointUnreachable => {
            let url = quoted_after(text, "endpoint URL: \"")
                .or_else(|| quoted_after(text, "Get \""))
                .map(|u| u.split('?').next().unwrap_or_default().to_string());
            f.host = url.as_deref().and_then(url_host);
            f.endpoint = url.map(|u| strip_userinfo(&u));
            let host = f.host.clone().unwrap_or_else(|| "the endpoint".into());
            (
                format!("the S3 endpoint {host} cannot be reached"),
                "check externalS3.endpoint and that the cluster can reach it (DNS, firewall, NetworkPolicy egress); it may pass once the service is up".to_string(),
            )
        }
        CauseKind::DatabaseUnreachable => {
            f.host = quoted_after(text, "connection to server at \"")
                .or_else(|| quoted_after(text, "could not translate host name \""))
                .or_else(|| quoted_after(text, "on host \""));
            f.port = after(text, "), port ")
                .or_else(|| after(text, "\", port "))
                .and_then(|p| p.split_whitespace().next())
                .map(str::to_string);
            let host = f.host.clone().unwrap_or_else(|| "the database server".into());
            let why = if text.contains("could not translate host name") {
                format!("the name {host} does not resolve")
            } else if text.contains("Connection refused") {
                format!("{host} refused the connection")
            } else {
                format!("{host} did not answer")
            };
            (
                format!("cannot reach PostgreSQL: {why}"),
                "check externalDatabase.host and externalDatabase.port, and that the server accepts connections from the cluster (pg_hba.conf, firewall, NetworkPolicy); it may pass once the server is up".to_string(),
            )
        }
        CauseKind::ModuleNotFound => {
            f.module = between(text, "module ", ": not installable")
                .or_else(|| after(text, "invalid module names, ignored: ").map(str::to_string))
                .or_else(|| quoted_after(text, "No module named 'odoo.addons.").map(|m| {
                    m.split('.').next().unwrap_or_default().to_string()
                }))
                .map(|m| m.trim().to_string());
            let module = f.module.clone().unwrap_or_default();
            (
                format!("Odoo module {module} is not in the image's addons path, or not installable"),
                "fix the module list (--modules, backend.initDb.modules) or use an image that ships the module for Odoo 18; retrying cannot help".to_string(),
            )
        }
        CauseKind::PythonDependencyMissing => {
            f.module = quoted_after(text, "No module named '");
            let module = f.module.clone().unwrap_or_default();
            (
                format!("the Python package providing `{module}` is not in the image"),
                "use an image that has it (a Dockerfile FROM the backend image that pip-installs it, then backend.image.repository/tag); retrying cannot help".to_string(),
            )
        }
        CauseKind::PermissionDenied => {
            f.path = first_path(text);
            let path = f.path.clone().unwrap_or_else(|| "its data directory".into());
            let owner = match e.component {
                Some(Component::Postgresql) => {
                    "the pod's fsGroup (999, the postgres image's user)".to_string()
                }
                Some(Component::Minio) => "the pod's fsGroup (1000)".to_string(),
                Some(c @ (Component::Nginx | Component::Frontend)) => {
                    format!("the pod's fsGroup ({}.podSecurityContext.fsGroup)", c.values_prefix())
                }
                _ => "the pod's fsGroup (backend.podSecurityContext.fsGroup; the Odoo image runs as uid 100, group 101)".to_string(),
            };
            (
                format!("the container may not write to {path}"),
                format!(
                    "the volume must be writable by {owner}: on storage that ignores fsGroup (hostPath, some NFS) give the directory to that uid/gid; retrying cannot help"
                ),
            )
        }
        CauseKind::AddressInUse => {
            f.port = after(text, "bind() to ")
                .and_then(|a| a.split_whitespace().next())
                .and_then(|a| a.rsplit(':').next())
                .map(str::to_string);
            (
                "the port is already in use inside the pod".to_string(),
                format!(
                    "another process of the pod listens on it: check {prefix}.service.ports and any sidecar or extra container"
                ),
            )
        }
        CauseKind::AddonSourceAuthFailed => {
            f.source = addon_source(e.log);
            let s = f.source.clone().unwrap_or_default();
            let what = if text.contains("Host key verification failed") {
                "the SSH host key is not the one in known_hosts"
            } else if text.contains("Permission denied (publickey") {
                "the repository refused the SSH deploy key"
            } else {
                "the repository refused the user name and token"
            };
            (
                format!("git source {s}: {what}"),
                format!(
                    "fix the Secret of source {s} (backend.addons[].secret): `username` and `password` (a token that may read the repository) for HTTPS, or `ssh-privatekey` (a deploy key of the repository) and the host's line in `known_hosts` for SSH; retrying cannot help"
                ),
            )
        }
        CauseKind::AddonRepositoryNotFound => {
            f.source = addon_source(e.log);
            let s = f.source.clone().unwrap_or_default();
            (
                format!("git source {s}: the repository does not exist"),
                format!(
                    "fix the repo of source {s} in backend.addons (a forge also says \"not found\" to a token that may not read a private repository: check its Secret); retrying cannot help"
                ),
            )
        }
        CauseKind::AddonSourceUnreachable => {
            f.source = addon_source(e.log);
            let s = f.source.clone().unwrap_or_default();
            (
                format!("git source {s}: the repository cannot be reached"),
                format!(
                    "check the repo URL of source {s} in backend.addons and that the cluster can reach its host (DNS, firewall, proxy); it may pass once the host answers"
                ),
            )
        }
        CauseKind::AddonRefMissing => {
            f.source = addon_source(e.log);
            let s = f.source.clone().unwrap_or_default();
            let r = between(text, " has no tag or branch named ", " (")
                .unwrap_or_default();
            (
                format!("git source {s}: no tag or branch {r} in the repository"),
                format!(
                    "set the ref of source {s} in backend.addons to a tag that exists or a full 40-character commit id; retrying cannot help"
                ),
            )
        }
        CauseKind::AddonNoModules => {
            f.source = addon_source(e.log);
            let s = f.source.clone().unwrap_or_default();
            (
                format!("git source {s}: its folder holds no module"),
                format!(
                    "set the path of source {s} in backend.addons to the folder of the repository that holds the module folders (each with a __manifest__.py); retrying cannot help"
                ),
            )
        }
        CauseKind::AddonModuleTwice => {
            f.source = addon_source(e.log);
            f.module = between(text, ": module ", " is also in source ");
            let s = f.source.clone().unwrap_or_default();
            let m = f.module.clone().unwrap_or_default();
            (
                format!("module {m} comes from two git sources"),
                format!(
                    "remove {m} from one of them (or set the path of source {s} to a folder without it); retrying cannot help"
                ),
            )
        }
        CauseKind::AddonPythonPackage => {
            f.module = between(text, "Python package ", " cannot be installed");
            let m = f
                .module
                .clone()
                .unwrap_or_else(|| "a requirement".to_string());
            (
                format!("the Python package {m} of the git sources cannot be installed with pip"),
                "build a custom image FROM the backend image that installs it and set backend.image.repository/tag (README, \"Your own modules\"), or let pip build it from source with backend.addonsFetch.pipOnlyBinary=false; retrying cannot help".to_string(),
            )
        }
        CauseKind::OdooMemoryLimit => {
            f.workers = e.workers;
            (
                "an Odoo worker reached its memory limit (limit_memory_hard)".to_string(),
                "raise backend.odoo.limitMemoryHard (and limitMemorySoft) for this work, with backend.resources.limits.memory to match; retrying the same work fails the same way".to_string(),
            )
        }
    };
    Cause {
        kind: rule.kind,
        summary: safe_line(&summary),
        next_step: safe_line(&next_step),
        retryable: rule.retryable,
        facts: f,
        evidence: line.map(|l| safe_line(&blank_credentials(l.trim()))),
    }
}

fn oom(prefix: &str, f: &Facts) -> (String, String) {
    let limit = f
        .limit
        .as_deref()
        .map_or(String::new(), |l| format!(" of {l}"));
    let summary = match f.workers {
        Some(w) => format!(
            "the container used more than its memory limit{limit} with {w} Odoo worker(s) and was killed"
        ),
        None => format!("the container used more than its memory limit{limit} and was killed"),
    };
    let next = match f.workers {
        Some(w) => format!(
            "raise {prefix}.resources.limits.memory (about {}Mi for {w} worker(s): 300Mi per worker + 500Mi) or lower backend.odoo.workers",
            w.max(0) * 300 + 500
        ),
        None => format!("raise {prefix}.resources.limits.memory"),
    };
    (summary, next)
}

/// The text after `marker`, if the line has it.
fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// The text after `marker` up to the next `"` or `'` (whichever the marker opened).
fn quoted_after(line: &str, marker: &str) -> Option<String> {
    let rest = after(line, marker)?;
    let close = if marker.ends_with('\'') { '\'' } else { '"' };
    let end = rest.find(close)?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// The text between `start` and `end` on the line.
fn between(line: &str, start: &str, end: &str) -> Option<String> {
    let e = line.find(end)?;
    let head = &line[..e];
    let s = head.rfind(start)? + start.len();
    Some(head[s..].trim().to_string()).filter(|s| !s.is_empty())
}

/// The first absolute path on the line, quoted (`'…'`, `"…"`) or before `: directory`.
fn first_path(line: &str) -> Option<String> {
    for q in ['\'', '"'] {
        let mut rest = line;
        while let Some(i) = rest.find(q) {
            let tail = &rest[i + 1..];
            let Some(end) = tail.find(q) else { break };
            let candidate = &tail[..end];
            if candidate.starts_with('/') {
                return Some(candidate.to_string());
            }
            rest = &tail[end + 1..];
        }
    }
    let head = line.split(": directory is not writable").next()?;
    head.split_whitespace()
        .last()
        .filter(|p| p.starts_with('/'))
        .map(str::to_string)
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.to_string()).filter(|h| !h.is_empty())
}

fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) if !rest.split('/').next().unwrap_or_default().is_empty() => {
                format!("{scheme}://{host}")
            }
            _ => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Blank what could be a credential in a log line: a password in a URL
/// (`scheme://user:PASSWORD@`), `password=…` pairs, and the secret key `mc` echoes
/// (`Invalid secret key \`…\``).
pub fn blank_credentials(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    // URL userinfo.
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        let tail = &rest[i + 3..];
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                if userinfo.contains(':') {
                    out.push_str(&format!("{user}:***@{host}"));
                } else {
                    out.push_str(authority);
                }
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    let mut text = out;
    for key in [
        "password=",
        "PASSWORD=",
        "secret_key=",
        "Invalid secret key `",
    ] {
        let mut pos = 0;
        while let Some(i) = text[pos..].find(key) {
            let start = pos + i + key.len();
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || c == '`' || c == '\'' || c == '"' || c == '&')
                .map_or(text.len(), |e| start + e);
            if end > start {
                text.replace_range(start..end, "***");
            }
            pos = start + 3;
            if pos >= text.len() {
                break;
            }
        }
    }
    text
}

#[cfg(test)]
mod tests;
