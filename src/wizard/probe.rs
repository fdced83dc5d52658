//! What the wizard needs to know about the cluster, behind a small trait so that the
//! flow is testable without one. The cluster layer implements it with kube; tests use
//! [`FakeProbe`].

use std::collections::BTreeMap;

/// What a Secret holds, as far as the wizard may know: its key names, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretCheck {
    /// There is no Secret of that name in the namespace.
    Missing,
    /// The Secret exists with these keys (names only).
    Keys(Vec<String>),
}

/// The cluster questions of the wizard. All methods may block (the wizard is a
/// synchronous, terminal-bound loop); an async implementation can call
/// `tokio::runtime::Handle::block_on` when the wizard runs on a blocking thread
/// (`tokio::task::spawn_blocking`). Errors are one-line reasons shown to the user.
pub trait ClusterProbe {
    /// Context names of the kubeconfig, in its order (empty without a kubeconfig).
    fn contexts(&self) -> Vec<String>;
    /// The kubeconfig's current context, if any.
    fn current_context(&self) -> Option<String>;
    /// The namespace a context names in the kubeconfig, if any.
    fn context_namespace(&self, _context: &str) -> Option<String> {
        None
    }
    /// Whether the API server of `context` answers (e.g. `GET /version`); the error
    /// is the reason it does not ("connection refused", "certificate expired", …).
    fn reachable(&self, context: &str) -> Result<(), String>;
    /// The namespaces of the cluster; an error (e.g. forbidden) makes the wizard ask
    /// for the namespace as text.
    fn namespaces(&self, context: &str) -> Result<Vec<String>, String>;
    /// The key names of the Secret `name` in `namespace` (values are never read).
    fn secret(&self, context: &str, namespace: &str, name: &str) -> Result<SecretCheck, String>;
}

/// A probe for when there is no kubeconfig or no cluster: nothing is reachable.
#[derive(Debug, Clone, Default)]
pub struct NoCluster {
    /// Why there is no cluster, shown to the user.
    pub reason: String,
}

impl ClusterProbe for NoCluster {
    fn contexts(&self) -> Vec<String> {
        Vec::new()
    }
    fn current_context(&self) -> Option<String> {
        None
    }
    fn reachable(&self, _context: &str) -> Result<(), String> {
        Err(self.reason.clone())
    }
    fn namespaces(&self, _context: &str) -> Result<Vec<String>, String> {
        Err(self.reason.clone())
    }
    fn secret(&self, _c: &str, _n: &str, _s: &str) -> Result<SecretCheck, String> {
        Err(self.reason.clone())
    }
}

/// An in-memory cluster for tests and demos: contexts, namespaces and Secrets' keys.
#[derive(Debug, Clone, Default)]
pub struct FakeProbe {
    /// Context names; the first is the current one.
    pub contexts: Vec<String>,
    /// `Some(reason)` makes every context unreachable.
    pub unreachable: Option<String>,
    /// Existing namespaces.
    pub namespaces: Vec<String>,
    /// The namespace the kubeconfig's contexts name, if any (it may not exist).
    pub context_namespace: Option<String>,
    /// `(namespace, name)` → key names.
    pub secrets: BTreeMap<(String, String), Vec<String>>,
}

impl FakeProbe {
    /// A reachable cluster with one context `kind-dev` and the given namespaces.
    pub fn reachable(namespaces: &[&str]) -> FakeProbe {
        FakeProbe {
            contexts: vec!["kind-dev".into()],
            unreachable: None,
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
            context_namespace: None,
            secrets: BTreeMap::new(),
        }
    }

    /// The contexts name this namespace (which may not exist).
    pub fn with_context_namespace(mut self, namespace: &str) -> FakeProbe {
        self.context_namespace = Some(namespace.to_string());
        self
    }

    /// Add a Secret with these keys.
    pub fn with_secret(mut self, namespace: &str, name: &str, keys: &[&str]) -> FakeProbe {
        self.secrets.insert(
            (namespace.to_string(), name.to_string()),
            keys.iter().map(|k| k.to_string()).collect(),
        );
        self
    }
}

impl ClusterProbe for FakeProbe {
    fn contexts(&self) -> Vec<String> {
        self.contexts.clone()
    }
    fn current_context(&self) -> Option<String> {
        self.contexts.first().cloned()
    }
    fn context_namespace(&self, _context: &str) -> Option<String> {
        self.context_namespace.clone()
    }
    fn reachable(&self, _context: &str) -> Result<(), String> {
        match &self.unreachable {
            Some(r) => Err(r.clone()),
            None => Ok(()),
        }
    }
    fn namespaces(&self, context: &str) -> Result<Vec<String>, String> {
        self.reachable(context)?;
        Ok(self.namespaces.clone())
    }
    fn secret(&self, context: &str, namespace: &str, name: &str) -> Result<SecretCheck, String> {
        self.reachable(context)?;
        Ok(
            match self.secrets.get(&(namespace.to_string(), name.to_string())) {
                Some(keys) => SecretCheck::Keys(keys.clone()),
                None => SecretCheck::Missing,
            },
        )
    }
}
