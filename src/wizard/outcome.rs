//! What the wizard produces: a values overlay on top of the chosen preset, where to
//! put it (cluster or folder), the credentials choice, and the saveable preset text.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value as Json, json};

use super::choices::{CredentialChoice, DbChoice, Exposure, StorageChoice};
use super::questions::credentials::{SECRET_STEPS, secret_answer};
use super::state::{Hidden, WizardState, merge_json};
use crate::render::{Credentials, RenderInput};
use crate::values::{self, Loaded, Node, Source};

/// Where the result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Apply to the cluster of [`Outcome::context`].
    Cluster,
    /// No cluster is reachable: write the manifests (Secrets included) to this folder.
    Folder(PathBuf),
}

/// A Secret to create in the outcome's namespace before anything is applied, from values
/// typed at the wizard's hidden prompts. The values go into that Secret only: never into
/// the values, a preset, the instance record or any output (`Debug` shows key names).
#[derive(Clone, PartialEq, Eq)]
pub struct NewSecret {
    pub name: String,
    /// Key → value.
    pub data: BTreeMap<String, String>,
}

impl fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSecret")
            .field("name", &self.name)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The wizard's result. `values::load(&outcome.sources())` gives the configuration.
#[derive(Clone)]
pub struct Outcome {
    /// The instance name (validated with `validate_release`).
    pub name: String,
    /// The kubeconfig context; `None` without a kubeconfig.
    pub context: Option<String>,
    pub namespace: String,
    /// The namespace does not exist yet and is to be created first.
    pub create_namespace: bool,
    /// The chosen scenario's name and its values document.
    pub preset: String,
    pub preset_source: Source,
    /// The answers as a values layer over the preset (origin "wizard answers"). It
    /// carries the *typed external* credentials (`externalDatabase.password`,
    /// `externalS3.accessKey`/`secretKey`) because validation and rendering need them
    /// there: never write it to disk or to the instance record; use [`answers_yaml`].
    pub answers: Source,
    /// Generated, typed or existing Secrets.
    pub credentials: CredentialChoice,
    /// Passwords the user typed for credentials odoo-tui creates (database password of
    /// the bundled PostgreSQL, MinIO root, master, admin); `None` where not typed.
    /// Merge them over generated ones: typed wins.
    pub typed: Credentials,
    pub destination: Destination,
    /// Print the generated passwords once at the end (asked when they are generated).
    pub show_credentials: bool,
    /// Save the answers as a user preset of this name (`presets::save(name, &answers_yaml(..))`).
    pub save_as: Option<String>,
    /// Things to tell the user (e.g. a Secret that could not be checked).
    pub notes: Vec<String>,
    /// Secrets the values name that do not exist yet, to create (after the namespace)
    /// before the apply; only with [`Destination::Cluster`].
    pub secrets: Vec<NewSecret>,
    saveable: Json,
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print credentials: the overlay and typed passwords are left out.
        f.debug_struct("Outcome")
            .field("name", &self.name)
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("create_namespace", &self.create_namespace)
            .field("preset", &self.preset)
            .field("credentials", &self.credentials)
            .field("destination", &self.destination)
            .field("show_credentials", &self.show_credentials)
            .field("save_as", &self.save_as)
            .field("notes", &self.notes)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl Outcome {
    /// The layers, in order: the preset, then the answers.
    pub fn sources(&self) -> Vec<Source> {
        vec![self.preset_source.clone(), self.answers.clone()]
    }

    /// Load the layers over the defaults and check the instance name against them.
    pub fn load(&self) -> Result<Loaded, crate::Error> {
        let loaded = values::load(&self.sources())?;
        values::validate::validate_release(&self.name, &loaded.values)
            .map_err(crate::Error::Usage)?;
        Ok(loaded)
    }

    /// The answers without typed credentials, as JSON (what [`answers_yaml`] writes over
    /// the preset).
    pub fn saveable_answers(&self) -> &Json {
        &self.saveable
    }
}

/// The answers as a saveable preset: the chosen preset's document merged with the
/// answers, without any typed password or key (Secret names are kept).
pub fn answers_yaml(o: &Outcome) -> String {
    let mut doc = o.preset_source.tree.to_json();
    merge_json(&mut doc, &o.saveable);
    let mut head = format!(
        "# odoo-tui preset written by the wizard, starting from `{}`.\n# Passwords and keys you typed are not saved",
        o.preset
    );
    let mut needs = Vec::new();
    if doc.pointer("/postgresql/enabled") == Some(&json!(false))
        && doc
            .pointer("/externalDatabase/existingSecret")
            .and_then(Json::as_str)
            .is_none_or(str::is_empty)
    {
        needs.push("--set externalDatabase.password=...");
    }
    if doc.pointer("/externalS3/enabled") == Some(&json!(true))
        && doc
            .pointer("/externalS3/existingSecret")
            .and_then(Json::as_str)
            .is_none_or(str::is_empty)
    {
        needs.push("--set externalS3.accessKey=... --set externalS3.secretKey=...");
    }
    if needs.is_empty() {
        head.push_str(".\n");
    } else {
        head.push_str(&format!(";\n# supply them with: {}\n", needs.join(" ")));
    }
    let body = serde_saphyr::to_string(&doc).expect("JSON values always serialise to YAML");
    format!("{head}{body}")
}

/// Set `path` (dotted) in a JSON object tree, creating maps on the way.
fn put(root: &mut Json, path: &str, value: Json) {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = Json::Object(Map::new());
        }
        let map = node.as_object_mut().expect("just made an object");
        if i == parts.len() - 1 {
            map.insert(part.to_string(), value);
            return;
        }
        node = map
            .entry(part.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
    }
}

fn hidden(h: &Option<Hidden>) -> String {
    h.as_ref().map(|h| h.0.clone()).unwrap_or_default()
}

/// The values overlay of the answers; `with_secrets` includes typed external credentials.
fn overlay(s: &WizardState, with_secrets: bool) -> Json {
    let a = &s.a;
    let mut o = json!({});
    let secrets = s.cred_mode() == CredentialChoice::ExistingSecrets;
    let secret = |r: &Option<super::SecretRef>| {
        r.clone().unwrap_or_else(|| super::SecretRef {
            name: String::new(),
            keys: vec![String::new(); 2],
        })
    };

    match s.db() {
        DbChoice::Bundled => {
            put(&mut o, "postgresql.enabled", json!(true));
            if secrets {
                let r = secret(&a.db_secret);
                put(&mut o, "postgresql.auth.existingSecret", json!(r.name));
                put(
                    &mut o,
                    "postgresql.auth.existingSecretPasswordKey",
                    json!(r.keys[0]),
                );
            } else {
                put(&mut o, "postgresql.auth.existingSecret", json!(""));
            }
        }
        DbChoice::External => {
            put(&mut o, "postgresql.enabled", json!(false));
            let e = &s.pv.external_database;
            put(
                &mut o,
                "externalDatabase.host",
                json!(a.db_host.clone().unwrap_or(e.host.clone())),
            );
            put(
                &mut o,
                "externalDatabase.port",
                json!(a.db_port.map(i64::from).unwrap_or(e.port)),
            );
            put(
                &mut o,
                "externalDatabase.user",
                json!(a.db_user.clone().unwrap_or(e.user.clone())),
            );
            put(
                &mut o,
                "externalDatabase.database",
                json!(a.db_name.clone().unwrap_or(e.database.clone())),
            );
            if secrets {
                let r = secret(&a.db_secret);
                put(&mut o, "externalDatabase.existingSecret", json!(r.name));
                put(
                    &mut o,
                    "externalDatabase.existingSecretPasswordKey",
                    json!(r.keys[0]),
                );
                put(&mut o, "externalDatabase.password", json!(""));
            } else {
                put(&mut o, "externalDatabase.existingSecret", json!(""));
                if with_secrets {
                    put(
                        &mut o,
                        "externalDatabase.password",
                        json!(hidden(&a.db_password)),
                    );
                }
            }
        }
    }

    match s.storage() {
        StorageChoice::Minio => {
            put(&mut o, "minio.enabled", json!(true));
            put(&mut o, "externalS3.enabled", json!(false));
            put(&mut o, "backend.persistence.enabled", json!(false));
            if secrets {
                let r = secret(&a.minio_secret);
                put(&mut o, "minio.auth.existingSecret", json!(r.name));
                put(
                    &mut o,
                    "minio.auth.existingSecretRootUserKey",
                    json!(r.keys[0]),
                );
                put(
                    &mut o,
                    "minio.auth.existingSecretRootPasswordKey",
                    json!(r.keys[1]),
                );
            } else {
                put(&mut o, "minio.auth.existingSecret", json!(""));
            }
        }
        StorageChoice::External => {
            let e = &s.pv.external_s3;
            put(&mut o, "minio.enabled", json!(false));
            put(&mut o, "externalS3.enabled", json!(true));
            put(
                &mut o,
                "externalS3.endpoint",
                json!(a.s3_endpoint.clone().unwrap_or(e.endpoint.clone())),
            );
            put(
                &mut o,
                "externalS3.bucket",
                json!(a.s3_bucket.clone().unwrap_or(e.bucket.clone())),
            );
            put(
                &mut o,
                "externalS3.region",
                json!(a.s3_region.clone().unwrap_or(e.region.clone())),
            );
            put(&mut o, "backend.persistence.enabled", json!(false));
            if secrets {
                let r = secret(&a.s3_secret);
                put(&mut o, "externalS3.existingSecret", json!(r.name));
                put(
                    &mut o,
                    "externalS3.existingSecretAccessKeyKey",
                    json!(r.keys[0]),
                );
                put(
                    &mut o,
                    "externalS3.existingSecretSecretKeyKey",
                    json!(r.keys[1]),
                );
                put(&mut o, "externalS3.accessKey", json!(""));
                put(&mut o, "externalS3.secretKey", json!(""));
            } else {
                put(&mut o, "externalS3.existingSecret", json!(""));
                if with_secrets {
                    put(
                        &mut o,
                        "externalS3.accessKey",
                        json!(hidden(&a.s3_access_key)),
                    );
                    put(
                        &mut o,
                        "externalS3.secretKey",
                        json!(hidden(&a.s3_secret_key)),
                    );
                }
            }
        }
        StorageChoice::Pvc => {
            put(&mut o, "minio.enabled", json!(false));
            put(&mut o, "externalS3.enabled", json!(false));
            put(&mut o, "backend.persistence.enabled", json!(true));
        }
    }

    if secrets {
        let r = secret(&a.master_secret);
        put(&mut o, "backend.odoo.existingSecret", json!(r.name));
        put(&mut o, "backend.odoo.existingSecretKey", json!(r.keys[0]));
        let r = secret(&a.admin_secret);
        put(&mut o, "backend.initDb.existingSecret", json!(r.name));
        put(&mut o, "backend.initDb.existingSecretKey", json!(r.keys[0]));
    } else {
        put(&mut o, "backend.odoo.existingSecret", json!(""));
        put(&mut o, "backend.initDb.existingSecret", json!(""));
    }
    if let Some(email) = &a.admin_email {
        put(&mut o, "backend.initDb.adminLogin", json!(email));
        put(&mut o, "backend.initDb.adminEmail", json!(email));
    }

    let class = a.ingress_class.clone().unwrap_or_default();
    let tls = a.tls_secret.clone().unwrap_or_default();
    let ingress = |o: &mut Json, hosts: Vec<String>| {
        put(o, "ingress.enabled", json!(true));
        put(o, "ingress.className", json!(class));
        put(
            o,
            "ingress.hosts",
            Json::Array(hosts.iter().map(|h| json!({"host": h})).collect()),
        );
        let tls_list = if tls.is_empty() {
            json!([])
        } else {
            json!([{"secretName": tls, "hosts": hosts}])
        };
        put(o, "ingress.tls", tls_list);
    };
    match s.exposure() {
        Exposure::None => {
            put(&mut o, "ingress.enabled", json!(false));
            put(&mut o, "nginx.enabled", json!(false));
        }
        Exposure::Ingress => {
            put(&mut o, "nginx.enabled", json!(false));
            ingress(&mut o, vec![a.host.clone().unwrap_or_default()]);
        }
        Exposure::Nginx => {
            let public = a.public_domain.clone().unwrap_or_default();
            let back = a.backoffice_domain.clone().unwrap_or_default();
            put(&mut o, "nginx.enabled", json!(true));
            put(&mut o, "nginx.domains.public.host", json!(public));
            put(
                &mut o,
                "nginx.domains.backoffice.enabled",
                json!(!back.is_empty()),
            );
            put(&mut o, "nginx.domains.backoffice.host", json!(back));
            // Secure cookies and HSTS only make sense over HTTPS: without a certificate
            // the browser would drop the session cookie and nobody could log in.
            put(&mut o, "nginx.cookieSecure", json!(!tls.is_empty()));
            put(&mut o, "nginx.hsts.enabled", json!(!tls.is_empty()));
            let mut hosts = vec![public];
            if !back.is_empty() {
                hosts.push(back);
            }
            ingress(&mut o, hosts);
        }
    }

    let size = s.size_spec();
    put(&mut o, "backend.replicaCount", json!(size.replicas));
    put(&mut o, "backend.odoo.workers", json!(size.workers));
    let paths = [
        "backend.resources.requests.cpu",
        "backend.resources.requests.memory",
        "backend.resources.limits.cpu",
        "backend.resources.limits.memory",
    ];
    for (path, value) in paths.iter().zip(&size.resources) {
        if let Some(v) = value {
            put(&mut o, path, json!(v));
        }
    }
    if size.replicas > 1 {
        put(&mut o, "backend.pdb.enabled", json!(true));
        put(&mut o, "backend.pdb.minAvailable", json!(1));
    } else {
        put(&mut o, "backend.pdb.enabled", json!(false));
    }

    if s.relevant(super::Step::Backups) {
        let schedule = s.backup_schedule();
        if !schedule.is_empty() {
            let k = s.backup_keep();
            put(
                &mut o,
                "backup.keep",
                json!({"last": k.last, "daily": k.daily, "weekly": k.weekly, "monthly": k.monthly}),
            );
        }
        put(&mut o, "backup.schedule", json!(schedule));
    }

    let (repo, tag) = s.image();
    let img = &s.pv.backend.image;
    if repo != img.repository || tag != img.tag {
        put(&mut o, "backend.image.repository", json!(repo));
        put(&mut o, "backend.image.tag", json!(tag));
        put(&mut o, "backend.image.digest", json!(""));
    }
    o
}

impl WizardState {
    /// The outcome of the answers so far.
    pub(super) fn build(&self) -> Result<Outcome, String> {
        let preset = self
            .preset_choice()
            .ok_or("no scenario has been chosen yet")?;
        let full = overlay(self, true);
        let saveable = overlay(self, false);
        let (namespace, create_namespace) = self.namespace();
        let typed_mode = self.cred_mode() == CredentialChoice::Type;
        let t = |h: &Option<Hidden>| {
            if typed_mode {
                h.as_ref().map(|h| h.0.clone())
            } else {
                None
            }
        };
        let typed = Credentials {
            db_password: if self.db() == DbChoice::Bundled {
                t(&self.a.db_password)
            } else {
                None
            },
            minio_root_password: if self.storage() == StorageChoice::Minio {
                t(&self.a.minio_password)
            } else {
                None
            },
            master_password: t(&self.a.master_password),
            admin_password: t(&self.a.admin_password),
        };
        let relevant_notes: Vec<String> = self
            .notes
            .iter()
            .filter(|(step, _)| self.asked().contains(step) || *step == self.step)
            .map(|(_, n)| n.clone())
            .collect();
        Ok(Outcome {
            name: self.name(),
            context: self.context().map(str::to_string),
            namespace,
            create_namespace: create_namespace && self.online(),
            preset: preset.name.clone(),
            preset_source: preset.source.clone(),
            answers: Source {
                origin: "wizard answers".into(),
                has_lines: false,
                tree: Node::from_json(&full),
            },
            credentials: self.cred_mode(),
            typed,
            destination: if self.online() {
                Destination::Cluster
            } else {
                Destination::Folder(PathBuf::from(self.output_dir()))
            },
            show_credentials: self.cred_mode() == CredentialChoice::Generate
                && self.a.show_credentials.unwrap_or(true),
            save_as: self.a.save_as.clone().filter(|n| !n.is_empty()),
            notes: relevant_notes,
            secrets: if self.online() {
                self.secrets_to_create()
            } else {
                Vec::new()
            },
            saveable,
        })
    }

    /// The Secrets typed in the wizard that the current answers name, with the keys
    /// they use.
    pub(super) fn secrets_to_create(&self) -> Vec<NewSecret> {
        let mut out: Vec<NewSecret> = Vec::new();
        for step in SECRET_STEPS {
            let Some(r) = secret_answer(&self.a, step)
                .as_ref()
                .filter(|_| self.relevant(step))
            else {
                continue;
            };
            let Some(typed) = self.new_secrets.get(&r.name) else {
                continue;
            };
            let i = match out.iter().position(|n| n.name == r.name) {
                Some(i) => i,
                None => {
                    out.push(NewSecret {
                        name: r.name.clone(),
                        data: BTreeMap::new(),
                    });
                    out.len() - 1
                }
            };
            for k in &r.keys {
                if let Some(v) = typed.get(k) {
                    out[i].data.insert(k.clone(), v.0.clone());
                }
            }
        }
        out
    }
}

/// `Kind/name` of every object the outcome renders (with placeholder credentials).
pub fn planned_objects(o: &Outcome) -> Result<Vec<String>, crate::Error> {
    let loaded = o.load()?;
    let placeholder = Some("placeholder".to_string());
    let creds = Credentials {
        db_password: placeholder.clone(),
        minio_root_password: placeholder.clone(),
        master_password: placeholder.clone(),
        admin_password: placeholder,
    };
    let objects = crate::render::render(&RenderInput {
        release: &o.name,
        namespace: &o.namespace,
        values: &loaded.values,
        credentials: &creds,
    })?;
    Ok(objects.iter().map(|o| o.key()).collect())
}
