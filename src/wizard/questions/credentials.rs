//! How passwords are provided: generated, typed (hidden), or read from Secrets that
//! exist in the namespace (checked live through the probe).

use super::{Entry, Jump};
use crate::wizard::checks::{self, SecretRef};
use crate::wizard::choices::{CredentialChoice, DbChoice, StorageChoice};
use crate::wizard::order::Step;
use crate::wizard::probe::{ClusterProbe, SecretCheck};
use crate::wizard::question::{Asked, choice, nonempty, password, select, text};
use crate::wizard::state::{Answers, Hidden, WizardState};

fn mode(s: &WizardState) -> CredentialChoice {
    s.cred_mode()
}

pub(in crate::wizard) const MODE: Entry = Entry {
    asked: |s| !s.secrets_only(),
    ask: |s| {
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
        Asked::new(
            select(
                vec![
                    choice(CredentialChoice::Generate.key(), generate_label),
                    choice(
                        CredentialChoice::Type.key(),
                        "type every password yourself (they are not saved with the answers)",
                    ),
                    choice(
                        CredentialChoice::ExistingSecrets.key(),
                        "use Secrets that already exist in the namespace (nothing secret passes through odoo-tui)",
                    ),
                ],
                s.cred_mode().key(),
            ),
            "How are passwords provided?",
            "Odoo needs a database password, a master password (protects database management), the administrator's password and, with S3, access keys. Generated ones are stored in a Kubernetes Secret and never rotated by a re-run.",
        )
    },
    take: |s, input, _| {
        s.a.cred_mode = CredentialChoice::from_key(&input);
        Ok(None)
    },
};

// Typed passwords and keys.

pub(in crate::wizard) const DB_PASSWORD: Entry = Entry {
    asked: |s| {
        mode(s) == CredentialChoice::Type
            || (mode(s) == CredentialChoice::Generate && s.db() == DbChoice::External)
    },
    ask: |s| {
        let external = s.db() == DbChoice::External;
        Asked::new(
            password(!external || s.cred_mode() == CredentialChoice::Type),
            "Database password",
            if external {
                "The password of the database user on the external server. It goes into a Kubernetes Secret, never into a file odoo-tui writes elsewhere."
            } else {
                "The password the bundled PostgreSQL gives the Odoo user: at least 8 characters. It is stored in a Kubernetes Secret."
            },
        )
    },
    take: |s, input, _| {
        let external = (s.db() == DbChoice::External).then_some("database password");
        take_password(&mut s.a.db_password, input, external)
    },
};

pub(in crate::wizard) const MINIO_PASSWORD: Entry = Entry {
    asked: |s| mode(s) == CredentialChoice::Type && s.storage() == StorageChoice::Minio,
    ask: |_| {
        Asked::new(
            password(true),
            "MinIO root password",
            "The administrator password of the bundled MinIO server (at least 8 characters; MinIO refuses shorter ones).",
        )
    },
    take: |s, input, _| take_password(&mut s.a.minio_password, input, None),
};

fn s3_keys_typed(s: &WizardState) -> bool {
    mode(s) != CredentialChoice::ExistingSecrets && s.storage() == StorageChoice::External
}

pub(in crate::wizard) const S3_ACCESS_KEY: Entry = Entry {
    asked: s3_keys_typed,
    ask: |_| {
        Asked::new(
            password(false),
            "S3 access key",
            "The access key ID your S3 provider issued for this bucket (the public half of the key pair).",
        )
    },
    take: |s, input, _| take_password(&mut s.a.s3_access_key, input, Some("S3 access key")),
};

pub(in crate::wizard) const S3_SECRET_KEY: Entry = Entry {
    asked: s3_keys_typed,
    ask: |_| {
        Asked::new(
            password(true),
            "S3 secret key",
            "The secret access key that goes with the access key.",
        )
    },
    take: |s, input, _| take_password(&mut s.a.s3_secret_key, input, Some("S3 secret key")),
};

pub(in crate::wizard) const MASTER_PASSWORD: Entry = Entry {
    asked: |s| mode(s) == CredentialChoice::Type,
    ask: |_| {
        Asked::new(
            password(true),
            "Odoo master password",
            "Odoo's master password protects creating, copying and deleting databases (at least 8 characters). The database manager is switched off, but keep it safe.",
        )
    },
    take: |s, input, _| take_password(&mut s.a.master_password, input, None),
};

pub(in crate::wizard) const ADMIN_PASSWORD: Entry = Entry {
    asked: |s| mode(s) == CredentialChoice::Type,
    ask: |_| {
        Asked::new(
            password(true),
            "Administrator password",
            "The password of Odoo's administrator user, set when the database is first created (at least 8 characters).",
        )
    },
    take: |s, input, _| take_password(&mut s.a.admin_password, input, None),
};

/// Record a typed password; empty input keeps an earlier one. `external` names a
/// credential issued elsewhere (any non-empty value), else it is one odoo-tui creates
/// (at least 8 characters).
fn take_password(
    slot: &mut Option<Hidden>,
    input: String,
    external: Option<&str>,
) -> Result<Jump, String> {
    if input.is_empty() && slot.is_some() {
        return Ok(None);
    }
    let value = match external {
        Some(what) => checks::existing_credential(&input, what)?,
        None => checks::new_password(&input)?,
    };
    *slot = Some(Hidden(value));
    Ok(None)
}

// Existing Secrets.

fn secrets(s: &WizardState) -> bool {
    mode(s) == CredentialChoice::ExistingSecrets
}

pub(in crate::wizard) const DB_SECRET: Entry = Entry {
    asked: secrets,
    ask: |s| ask_secret(s, Step::DbSecret),
    take: |s, input, probe| take_secret(s, Step::DbSecret, input, probe),
};

pub(in crate::wizard) const MINIO_SECRET: Entry = Entry {
    asked: |s| secrets(s) && s.storage() == StorageChoice::Minio,
    ask: |s| ask_secret(s, Step::MinioSecret),
    take: |s, input, probe| take_secret(s, Step::MinioSecret, input, probe),
};

pub(in crate::wizard) const S3_SECRET: Entry = Entry {
    asked: |s| secrets(s) && s.storage() == StorageChoice::External,
    ask: |s| ask_secret(s, Step::S3Secret),
    take: |s, input, probe| take_secret(s, Step::S3Secret, input, probe),
};

pub(in crate::wizard) const MASTER_SECRET: Entry = Entry {
    asked: secrets,
    ask: |s| ask_secret(s, Step::MasterSecret),
    take: |s, input, probe| take_secret(s, Step::MasterSecret, input, probe),
};

pub(in crate::wizard) const ADMIN_SECRET: Entry = Entry {
    asked: secrets,
    ask: |s| ask_secret(s, Step::AdminSecret),
    take: |s, input, probe| take_secret(s, Step::AdminSecret, input, probe),
};

/// The label and what the Secret of a credential holds.
fn secret_text(step: Step) -> (&'static str, &'static str) {
    match step {
        Step::DbSecret => ("Secret with the database password", "the database password"),
        Step::MinioSecret => (
            "Secret with the MinIO root user and password",
            "MinIO's root user and root password",
        ),
        Step::S3Secret => (
            "Secret with the S3 keys",
            "the S3 access key and secret key",
        ),
        Step::MasterSecret => (
            "Secret with the Odoo master password",
            "Odoo's master password",
        ),
        _ => (
            "Secret with the administrator password",
            "the password of Odoo's administrator",
        ),
    }
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

fn secret_slot(a: &mut Answers, step: Step) -> &mut Option<SecretRef> {
    match step {
        Step::DbSecret => &mut a.db_secret,
        Step::MinioSecret => &mut a.minio_secret,
        Step::S3Secret => &mut a.s3_secret,
        Step::MasterSecret => &mut a.master_secret,
        _ => &mut a.admin_secret,
    }
}

fn ask_secret(s: &WizardState, step: Step) -> Asked {
    let (def_name, def_keys) = secret_defaults(s, step);
    let keys: Vec<&str> = def_keys.iter().map(String::as_str).collect();
    let answered = match step {
        Step::DbSecret => &s.a.db_secret,
        Step::MinioSecret => &s.a.minio_secret,
        Step::S3Secret => &s.a.s3_secret,
        Step::MasterSecret => &s.a.master_secret,
        _ => &s.a.admin_secret,
    };
    let default = match answered {
        Some(r) => r.display(&keys),
        None => def_name.clone(),
    };
    let (label, what) = secret_text(step);
    let (ns, _) = s.namespace();
    let literals: Vec<String> = keys
        .iter()
        .map(|k| format!("--from-literal={k}=..."))
        .collect();
    Asked::new(
        text(Some(default)),
        label,
        format!(
            "The name of a Secret in namespace `{ns}` holding {what} under the key(s) {}. Write NAME, or NAME:{} to use other keys. Create it with: kubectl create secret generic {def_name} -n {ns} {}",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and "),
            keys.iter().map(|_| "KEY").collect::<Vec<_>>().join(","),
            literals.join(" ")
        ),
    )
}

fn take_secret(
    s: &mut WizardState,
    step: Step,
    input: String,
    probe: &dyn ClusterProbe,
) -> Result<Jump, String> {
    let (_, def_keys) = secret_defaults(s, step);
    let keys: Vec<&str> = def_keys.iter().map(String::as_str).collect();
    let r = checks::secret_ref(&input, &keys)?;
    if let Some(note) = check_secret(s, probe, &r)? {
        s.notes.push((step, note));
    }
    *secret_slot(&mut s.a, step) = Some(r);
    Ok(None)
}

/// Check an existing Secret live; `Ok(Some(note))` when it could not be checked.
fn check_secret(
    s: &WizardState,
    probe: &dyn ClusterProbe,
    r: &SecretRef,
) -> Result<Option<String>, String> {
    let (ns, create) = s.namespace();
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
    let Some(context) = s.context().filter(|_| s.online()) else {
        return Ok(Some(format!(
            "Secret {name} was not checked (no cluster): it must exist in namespace {ns} with key(s) `{keys}` before the manifests are applied — {create_cmd}"
        )));
    };
    if create {
        let alt = if s.secrets_only() {
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

// The administrator's login.

pub(in crate::wizard) const ADMIN_EMAIL: Entry = Entry {
    asked: super::always,
    ask: |s| {
        let init = &s.pv.backend.init_db;
        let default = s.a.admin_email.clone().or_else(|| {
            nonempty(&init.admin_email)
                .or(Some(init.admin_login.clone()).filter(|l| l.contains('@')))
        });
        Asked::new(
            text(default),
            "Administrator's e-mail",
            "The login of Odoo's first user (the administrator), and the address Odoo mails them at.",
        )
    },
    take: |s, input, _| {
        s.a.admin_email = Some(checks::email(&input)?);
        Ok(None)
    },
};
