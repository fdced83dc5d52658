//! Connecting: kubeconfig (`--kubeconfig`, else `KUBECONFIG` path list, else
//! `~/.kube/config`), context, namespace; and the few API calls odoo-tui makes, each
//! retried on transient failures and translated into one clear error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::client::ClientBuilder;
use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use super::error::{ClusterError, Op};
use super::kinds::Kind;

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "odoo-tui";

/// Where to connect, from the global flags.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// Exec credential plugins may not prompt (set while a full-screen view is up).
    pub non_interactive: bool,
}

/// A connected client with the context and namespace it uses.
#[derive(Clone)]
pub struct Kube {
    pub client: Client,
    pub context: String,
    pub url: String,
    pub namespace: String,
    /// Exec credential plugins may not prompt: required where a full-screen view runs.
    pub non_interactive: bool,
}

fn read_kubeconfig(target: &Target) -> Result<Kubeconfig, ClusterError> {
    let read = |p: &Path| {
        Kubeconfig::read_from(p).map_err(|e| {
            ClusterError::Kubeconfig(format!(
                "cannot read kubeconfig {}: {}",
                p.display(),
                super::error::error_chain(&e)
            ))
        })
    };
    if let Some(p) = &target.kubeconfig {
        if !p.exists() {
            return Err(ClusterError::NoKubeconfig(format!(
                "{} does not exist (given with --kubeconfig)",
                p.display()
            )));
        }
        return read(p);
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let mut merged: Option<Kubeconfig> = None;
        for p in std::env::split_paths(&list).filter(|p| p.exists()) {
            let k = read(&p)?;
            merged = Some(match merged {
                None => k,
                Some(m) => m
                    .merge(k)
                    .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?,
            });
        }
        return merged.ok_or_else(|| {
            ClusterError::NoKubeconfig(format!(
                "none of the files in KUBECONFIG ({}) exists",
                list.to_string_lossy()
            ))
        });
    }
    let home = directories::BaseDirs::new().map(|b| b.home_dir().join(".kube").join("config"));
    match home {
        Some(p) if p.exists() => read(&p),
        Some(p) => Err(ClusterError::NoKubeconfig(format!(
            "{} does not exist and KUBECONFIG is not set — pass --kubeconfig PATH",
            p.display()
        ))),
        None => Err(ClusterError::NoKubeconfig(
            "no home directory — pass --kubeconfig PATH".into(),
        )),
    }
}

/// Say once per run that a context does not verify the cluster's certificate.
fn warn_insecure(context: &str) {
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said.iter().any(|c| c == context) {
        return;
    }
    said.push(context.to_string());
    super::log::say(0, || {
        format!(
            "warning: context `{context}` skips TLS verification (insecure-skip-tls-verify): anyone on the way to the cluster could read or change what odoo-tui sends, credentials included — set certificate-authority-data instead"
        )
    });
}

/// The contexts of the kubeconfig and the current one (for the wizard).
pub fn contexts(target: &Target) -> Result<(Vec<String>, Option<String>), ClusterError> {
    let k = read_kubeconfig(target)?;
    Ok((
        k.contexts.iter().map(|c| c.name.clone()).collect(),
        k.current_context.clone(),
    ))
}

impl Kube {
    /// Connect as the kubeconfig says, without contacting the cluster yet.
    pub async fn connect(target: &Target) -> Result<Kube, ClusterError> {
        let mut kubeconfig = read_kubeconfig(target)?;
        let context = match &target.context {
            Some(c) => {
                if !kubeconfig.contexts.iter().any(|n| &n.name == c) {
                    let known: Vec<_> = kubeconfig
                        .contexts
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect();
                    return Err(ClusterError::Kubeconfig(format!(
                        "context `{c}` is not in the kubeconfig — known contexts: {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
                c.clone()
            }
            None => kubeconfig.current_context.clone().ok_or_else(|| {
                ClusterError::Kubeconfig(
                    "the kubeconfig has no current context — pass --context NAME".into(),
                )
            })?,
        };
        if target.non_interactive {
            for auth in kubeconfig.auth_infos.iter_mut() {
                if let Some(exec) = auth.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
                    exec.interactive_mode = Some(ExecInteractiveMode::Never);
                }
            }
        }
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        };
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| {
                ClusterError::Kubeconfig(format!(
                    "context `{context}`: {}",
                    super::error::error_chain(&e)
                ))
            })?;
        if config.accept_invalid_certs {
            warn_insecure(&context);
        }
        let url = config.cluster_url.to_string();
        let namespace = target
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = ClientBuilder::try_from(config)
            .map_err(|e| {
                ClusterError::Kubeconfig(format!(
                    "context `{context}`: {}",
                    super::error::error_chain(&e)
                ))
            })?
            .with_layer(&super::log::RequestLog)
            .build();
        Ok(Kube {
            client,
            context,
            url: url.trim_end_matches('/').to_string(),
            namespace,
            non_interactive: target.non_interactive,
        })
    }

    fn err(&self, e: kube::Error, op: &Op) -> ClusterError {
        ClusterError::from_kube(e, op, &self.context, &self.url)
    }

    fn api(&self, kind: &Kind) -> Api<DynamicObject> {
        let ar = kind.api_resource();
        if kind.namespaced {
            Api::namespaced_with(self.client.clone(), &self.namespace, &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        }
    }

    fn ns_for(&self, kind: &Kind) -> Option<&str> {
        kind.namespaced.then_some(self.namespace.as_str())
    }

    /// Run `f` with retries on 429, 5xx and dropped connections (exponential backoff).
    pub async fn retry<T, F, Fut>(&self, op: &Op, mut f: F) -> Result<T, ClusterError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let e = self.err(e, op);
                    // A refused connection is retried once (a blip); rate limits and
                    // server errors up to six times, about 6 s in all.
                    let limit = if matches!(e, ClusterError::Unreachable { .. }) {
                        2
                    } else {
                        6
                    };
                    if !e.is_transient() || attempt >= limit {
                        return Err(e);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// GET one object; `None` when it does not exist.
    pub async fn get(&self, kind: &Kind, name: &str) -> Result<Option<Json>, ClusterError> {
        let op = Op::new("get", format!("{}/{name}", kind.plural), self.ns_for(kind));
        let api = self.api(kind);
        let got = self.retry(&op, || api.get_opt(name)).await?;
        Ok(got.map(|o| serde_json::to_value(o).unwrap_or(Json::Null)))
    }

    /// LIST objects of a kind in the namespace with a label selector.
    pub async fn list(&self, kind: &Kind, selector: &str) -> Result<Vec<Json>, ClusterError> {
        let op = Op::new("list", kind.plural, self.ns_for(kind));
        self.list_with(&self.api(kind), &op, selector).await
    }

    /// LIST across all namespaces.
    pub async fn list_all(&self, kind: &Kind, selector: &str) -> Result<Vec<Json>, ClusterError> {
        let op = Op::new("list", kind.plural, None);
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &kind.api_resource());
        self.list_with(&api, &op, selector).await
    }

    async fn list_with(
        &self,
        api: &Api<DynamicObject>,
        op: &Op,
        selector: &str,
    ) -> Result<Vec<Json>, ClusterError> {
        let lp = ListParams::default().labels(selector);
        let list = self.retry(op, || api.list(&lp)).await?;
        Ok(list
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Json::Null))
            .collect())
    }

    /// LIST only the metadata of a kind's objects (in the namespace, or in all with
    /// `all`) with a label selector: names and labels without the data (Secrets).
    pub async fn list_metadata(
        &self,
        kind: &Kind,
        selector: &str,
        all: bool,
    ) -> Result<Vec<Json>, ClusterError> {
        let op = Op::new(
            "list",
            kind.plural,
            (!all).then_some(self.namespace.as_str()),
        );
        let api: Api<DynamicObject> = if all {
            Api::all_with(self.client.clone(), &kind.api_resource())
        } else {
            self.api(kind)
        };
        let lp = ListParams::default().labels(selector);
        let list = self.retry(&op, || api.list_metadata(&lp)).await?;
        Ok(list
            .items
            .into_iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Json::Null))
            .collect())
    }

    /// Server-side apply with our field manager.
    pub async fn apply(
        &self,
        kind: &Kind,
        name: &str,
        body: &Json,
        force: bool,
        dry_run: bool,
    ) -> Result<Json, ClusterError> {
        let op = Op::new(
            "patch",
            format!("{}/{name}", kind.plural),
            self.ns_for(kind),
        );
        let api = self.api(kind);
        let mut pp = PatchParams::apply(FIELD_MANAGER);
        if force {
            pp = pp.force();
        }
        if dry_run {
            pp = pp.dry_run();
        }
        let patch = Patch::Apply(body);
        let out = self.retry(&op, || api.patch(name, &pp, &patch)).await?;
        Ok(serde_json::to_value(out).unwrap_or(Json::Null))
    }

    /// Create (used for the namespace).
    pub async fn create(&self, kind: &Kind, body: &Json) -> Result<Json, ClusterError> {
        let name = body["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let op = Op::new(
            "create",
            format!("{}/{name}", kind.plural),
            self.ns_for(kind),
        );
        let api = self.api(kind);
        let obj: DynamicObject =
            serde_json::from_value(body.clone()).map_err(|e| ClusterError::Other {
                op: op.to_string(),
                cause: e.to_string(),
            })?;
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let out = self.retry(&op, || api.create(&pp, &obj)).await?;
        Ok(serde_json::to_value(out).unwrap_or(Json::Null))
    }

    /// Replace (PUT) an object as read and changed: conditional on the `resourceVersion`
    /// it carries (409 when someone wrote it meanwhile).
    pub async fn replace(
        &self,
        kind: &Kind,
        name: &str,
        body: &Json,
    ) -> Result<Json, ClusterError> {
        let op = Op::new(
            "update",
            format!("{}/{name}", kind.plural),
            self.ns_for(kind),
        );
        let api = self.api(kind);
        let obj: DynamicObject =
            serde_json::from_value(body.clone()).map_err(|e| ClusterError::Other {
                op: op.to_string(),
                cause: e.to_string(),
            })?;
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let out = self.retry(&op, || api.replace(name, &pp, &obj)).await?;
        Ok(serde_json::to_value(out).unwrap_or(Json::Null))
    }

    /// Delete; `orphan` keeps dependents (StatefulSet re-creation), else they go too.
    /// A missing object is not an error.
    pub async fn delete(&self, kind: &Kind, name: &str, orphan: bool) -> Result<(), ClusterError> {
        let op = Op::new(
            "delete",
            format!("{}/{name}", kind.plural),
            self.ns_for(kind),
        );
        let api = self.api(kind);
        let dp = if orphan {
            DeleteParams::orphan()
        } else {
            DeleteParams::background()
        };
        match self.retry(&op, || api.delete(name, &dp)).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Delete the object of that name only if it is still the one with `uid` (a
    /// precondition the server checks): `false` when it is gone or another object took
    /// its name, which is then left alone.
    pub async fn delete_uid(
        &self,
        kind: &Kind,
        name: &str,
        uid: &str,
    ) -> Result<bool, ClusterError> {
        let op = Op::new(
            "delete",
            format!("{}/{name}", kind.plural),
            self.ns_for(kind),
        );
        let api = self.api(kind);
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match self.retry(&op, || api.delete(name, &dp)).await {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.code(), Some(404 | 409)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// [`Kube::delete_uid`], then wait until no object of that uid is left.
    pub async fn delete_uid_and_wait(
        &self,
        kind: &Kind,
        name: &str,
        uid: &str,
        cancel: &CancellationToken,
    ) -> Result<(), ClusterError> {
        self.delete_uid(kind, name, uid).await?;
        for _ in 0..300 {
            let still = self
                .get(kind, name)
                .await?
                .is_some_and(|o| o["metadata"]["uid"].as_str() == Some(uid));
            if !still {
                return Ok(());
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
        Err(ClusterError::Timeout(format!(
            "{}/{name} was deleted but is still there after 60 s — delete it with kubectl and run again",
            kind.kind
        )))
    }

    /// Delete, then wait until the object is gone (its finalizers and, unless `orphan`,
    /// its dependents done). [`ClusterError::Cancelled`] on `cancel`,
    /// [`ClusterError::Timeout`] after a minute.
    pub async fn delete_and_wait(
        &self,
        kind: &Kind,
        name: &str,
        orphan: bool,
        cancel: &CancellationToken,
    ) -> Result<(), ClusterError> {
        self.delete(kind, name, orphan).await?;
        for _ in 0..300 {
            if self.get(kind, name).await?.is_none() {
                return Ok(());
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
        Err(ClusterError::Timeout(format!(
            "{}/{name} was deleted but is still there after 60 s — delete it with kubectl and run again",
            kind.kind
        )))
    }

    /// Set a Deployment's replicas through its scale subresource (a transient change: the
    /// next apply sets them back).
    pub async fn scale_deployment(&self, name: &str, replicas: i32) -> Result<(), ClusterError> {
        let op = Op::new(
            "patch",
            format!("deployments/{name}/scale"),
            Some(&self.namespace),
        );
        let api: Api<k8s_openapi::api::apps::v1::Deployment> = self.typed();
        let patch = serde_json::json!({ "spec": { "replicas": replicas } });
        let (pp, patch) = (PatchParams::default(), Patch::Merge(&patch));
        self.retry(&op, || api.patch_scale(name, &pp, &patch))
            .await
            .map(|_| ())
    }

    /// A typed API in our namespace.
    pub fn typed<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Probe the server (GET /version): fails with a clear message when unreachable.
    pub async fn check(&self) -> Result<(), ClusterError> {
        let op = Op::new("get", "/version", None);
        self.retry(&op, || self.client.apiserver_version())
            .await
            .map(|_| ())
    }
}
