//! Cluster errors with one clear message: the context, the object or resource, and the fix.

use std::fmt;

/// What odoo-tui was doing when the cluster answered, for messages.
#[derive(Debug, Clone)]
pub struct Op {
    pub verb: &'static str,
    pub resource: String,
    pub namespace: Option<String>,
}

impl Op {
    pub fn new(verb: &'static str, resource: impl Into<String>, namespace: Option<&str>) -> Op {
        Op {
            verb,
            resource: resource.into(),
            namespace: namespace.map(str::to_string),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {} in namespace `{ns}`", self.verb, self.resource),
            None => write!(f, "{} {}", self.verb, self.resource),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("no kubeconfig: {0}")]
    NoKubeconfig(String),
    #[error("{0}")]
    Kubeconfig(String),
    #[error(
        "cannot reach the cluster of context `{context}` at {url}: {cause} — check that the cluster is running and the kubeconfig points at it"
    )]
    Unreachable {
        context: String,
        url: String,
        cause: String,
    },
    #[error(
        "TLS with the cluster of context `{context}` at {url} failed: {cause} — check certificate-authority-data in the kubeconfig"
    )]
    Tls {
        context: String,
        url: String,
        cause: String,
    },
    #[error(
        "the cluster of context `{context}` refused the credentials (401 Unauthorized) while trying to {op} — log in again or fix the user of this context in the kubeconfig"
    )]
    Unauthorized { context: String, op: String },
    #[error(
        "context `{context}` may not {op} (403 Forbidden): ask your cluster admin for RBAC permission to `{verb}` `{resource}`{ns}"
    )]
    Forbidden {
        context: String,
        op: String,
        verb: String,
        resource: String,
        ns: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Refused(String),
    #[error("the cluster answered {code} while trying to {op}: {message}")]
    Api {
        op: String,
        code: u16,
        message: String,
    },
    #[error("{op}: {cause}")]
    Other { op: String, cause: String },
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Timeout(String),
}

impl ClusterError {
    /// Translate a kube error for `op` on the cluster of `context` at `url`.
    pub fn from_kube(e: kube::Error, op: &Op, context: &str, url: &str) -> ClusterError {
        match e {
            kube::Error::Api(status) => match status.code {
                401 => ClusterError::Unauthorized {
                    context: context.into(),
                    op: op.to_string(),
                },
                403 => ClusterError::Forbidden {
                    context: context.into(),
                    op: op.to_string(),
                    verb: op.verb.into(),
                    resource: op
                        .resource
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    ns: op
                        .namespace
                        .as_ref()
                        .map(|n| format!(" in namespace `{n}`"))
                        .unwrap_or_default(),
                },
                code => ClusterError::Api {
                    op: op.to_string(),
                    code,
                    message: status.message.clone(),
                },
            },
            other => {
                let cause = error_chain(&other);
                let lower = cause.to_lowercase();
                if lower.contains("certificate")
                    || lower.contains("tls")
                    || lower.contains("handshake")
                {
                    ClusterError::Tls {
                        context: context.into(),
                        url: url.into(),
                        cause,
                    }
                } else if lower.contains("connect")
                    || lower.contains("dns")
                    || lower.contains("timed out")
                    || lower.contains("refused")
                    || lower.contains("unreachable")
                {
                    ClusterError::Unreachable {
                        context: context.into(),
                        url: url.into(),
                        cause,
                    }
                } else {
                    ClusterError::Other {
                        op: op.to_string(),
                        cause,
                    }
                }
            }
        }
    }

    /// The API status code, when the cluster answered one.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            ClusterError::Unauthorized { .. } => Some(401),
            ClusterError::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    /// Worth retrying: rate limits, server errors, a connection that dropped.
    pub fn is_transient(&self) -> bool {
        matches!(self.code(), Some(429 | 500 | 502 | 503 | 504))
            || matches!(self, ClusterError::Unreachable { .. })
    }
}

/// The whole chain of causes on one line, without repeating text (multi-line causes,
/// such as a YAML parser's snippet, keep their first line). A failed exec credential
/// plugin is told by its exit status and what it wrote on stderr: never by its command
/// line, environment or standard output, which hold secrets.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    if let Some(text) = exec_plugin_failure(e) {
        return text;
    }
    let first = |t: String| t.lines().next().unwrap_or_default().trim().to_string();
    let mut parts: Vec<String> = vec![first(e.to_string())];
    let mut src = e.source();
    while let Some(s) = src {
        let t = first(s.to_string());
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

/// The message of a failed exec credential plugin anywhere in the chain of `e`.
fn exec_plugin_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use kube::client::AuthError;
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        match s.downcast_ref::<AuthError>() {
            Some(AuthError::AuthExecRun { out, .. }) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let said: Vec<String> = stderr
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .take(3)
                    .map(crate::text::safe_line)
                    .collect();
                let status = out
                    .status
                    .code()
                    .map_or("was killed".to_string(), |c| format!("exited with {c}"));
                return Some(if said.is_empty() {
                    format!("the exec credential plugin of the kubeconfig's user {status}")
                } else {
                    format!(
                        "the exec credential plugin of the kubeconfig's user {status}: {}",
                        said.join(" / ")
                    )
                });
            }
            Some(AuthError::AuthExec(m)) if m.starts_with("Executing ") => {
                return Some("the credential command of the kubeconfig's user failed".into());
            }
            Some(AuthError::AuthExecStart(io)) => {
                return Some(format!(
                    "the exec credential plugin of the kubeconfig's user could not be started: {io} — check `command` under `users[].user.exec`"
                ));
            }
            _ => {}
        }
        src = s.source();
    }
    None
}
