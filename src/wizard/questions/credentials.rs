//! How passwords are provided: generated, typed (hidden), or read from Secrets that
//! exist in the namespace (checked live through the probe).

use super::{Entry, Jump};
use crate::wizard::checks::{self, SecretRef};
use crate::wizard::choices::{CredentialChoice, DbChoice, StorageChoice};
use crate::wizard::order::Step;
use crate::wizard::probe::{ClusterProbe, SecretCheck};
use crate::wizard::question::{Asked, choice, nonempty, password, select, text};
use crate::wizard::state::{Answers, Hidden, Resolving, WizardState};

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

/// The Secret questions, in the order they are asked.
pub(in crate::wizard) const SECRET_STEPS: [Step; 5] = [
    Step::DbSecret,
    Step::MinioSecret,
    Step::S3Secret,
    Step::MasterSecret,
    Step::AdminSecret,
];

/// The label of a Secret question, and what its Secret holds under each key.
fn secret_text(s: &WizardState, step: Step) -> (&'static str, &'static [&'static str]) {
    match step {
        Step::DbSecret if s.db() == DbChoice::External => (
            "Secret with the database password",
            &["the password of the database user on the external server"],
        ),
        Step::DbSecret => (
            "Secret with the database password",
            &["the password the bundled PostgreSQL gives the Odoo user"],
        ),
        Step::MinioSecret => (
            "Secret with the MinIO root user and password",
            &["MinIO's root user", "MinIO's root password"],
        ),
        Step::S3Secret => (
            "Secret with the S3 keys",
            &["the S3 access key", "the S3 secret key"],
        ),
        Step::MasterSecret => (
            "Secret with the Odoo master password",
            &["Odoo's master password"],
        ),
        _ => (
            "Secret with the administrator password",
            &["the password of Odoo's administrator"],
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

/// The answer of a Secret question.
pub(in crate::wizard) fn secret_answer(a: &Answers, step: Step) -> &Option<SecretRef> {
    match step {
        Step::DbSecret => &a.db_secret,
        Step::MinioSecret => &a.minio_secret,
        Step::S3Secret => &a.s3_secret,
        Step::MasterSecret => &a.master_secret,
        _ => &a.admin_secret,
    }
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

/// A `kubectl` command that creates the Secret without a value on its command line:
/// each value is read from a file of the key's name.
pub(in crate::wizard) fn create_command(
    name: &str,
    namespace: &str,
    keys: &[String],
    new_namespace: bool,
) -> String {
    let files: Vec<String> = keys
        .iter()
        .map(|k| format!("--from-file={k}=./{k}"))
        .collect();
    let secret = format!(
        "kubectl create secret generic {name} -n {namespace} {}",
        files.join(" ")
    );
    let what = if keys.len() == 1 {
        format!("the value in a file `./{}`", keys[0])
    } else {
        let list: Vec<String> = keys.iter().map(|k| format!("`./{k}`")).collect();
        format!("each value in a file ({})", list.join(", "))
    };
    let ns = if new_namespace {
        format!("kubectl create namespace {namespace}; ")
    } else {
        String::new()
    };
    format!("put {what}, not on a command line, then: {ns}{secret}")
}

fn ask_secret(s: &WizardState, step: Step) -> Asked {
    let (def_name, def_keys) = secret_defaults(s, step);
    let keys: Vec<&str> = def_keys.iter().map(String::as_str).collect();
    let default = match secret_answer(&s.a, step) {
        Some(r) => r.display(&keys),
        None => def_name.clone(),
    };
    let (label, holds) = secret_text(s, step);
    let (ns, create) = s.namespace();
    let under: Vec<String> = keys
        .iter()
        .zip(holds)
        .map(|(k, what)| format!("{what} under the key `{k}`"))
        .collect();
    let creatable = if s.online() {
        " When it does not exist yet, the wizard offers to create it from values you type."
    } else {
        ""
    };
    Asked::new(
        text(Some(default)),
        label,
        format!(
            "The name of a Secret in namespace `{ns}` holding {}. Write NAME, or NAME:{} to use other keys.{creatable} To create it yourself: {}",
            under.join(" and "),
            keys.iter().map(|_| "KEY").collect::<Vec<_>>().join(","),
            create_command(&def_name, &ns, &def_keys, create)
        ),
    )
}

/// What the cluster says about a Secret a question named.
enum Found {
    /// It is there with every key.
    Yes,
    /// It could not be checked: the note says what must be true before the apply.
    Unchecked(String),
    /// It does not exist (yet): why.
    Missing(String),
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
    let found = check_secret(s, probe, &r)?;
    *secret_slot(&mut s.a, step) = Some(r.clone());
    match found {
        Found::Yes => {
            s.new_secrets.remove(&r.name);
            Ok(None)
        }
        Found::Unchecked(note) => {
            s.notes.push((step, note));
            Ok(None)
        }
        Found::Missing(why) => {
            s.resolving = Some(Resolving {
                from: step,
                secret: r,
                why,
                typed: Vec::new(),
            });
            Ok(Some(Step::SecretMissing))
        }
    }
}

/// Check a Secret live. A Secret that lacks a key is refused (the answer can name other
/// keys); one that does not exist leads to the detour that offers to create it.
fn check_secret(s: &WizardState, probe: &dyn ClusterProbe, r: &SecretRef) -> Result<Found, String> {
    let (ns, create) = s.namespace();
    let name = &r.name;
    let keys = r.keys.join("`, `");
    let Some(context) = s.context().filter(|_| s.online()) else {
        return Ok(Found::Unchecked(format!(
            "Secret {name} was not checked (no cluster): it must exist in namespace {ns} with key(s) `{keys}` before the manifests are applied — {}",
            create_command(name, &ns, &r.keys, false)
        )));
    };
    if create {
        return Ok(Found::Missing(format!(
            "Namespace {ns} does not exist yet, so it has no Secret {name}."
        )));
    }
    match probe.secret(context, &ns, name) {
        Ok(SecretCheck::Missing) => Ok(Found::Missing(format!(
            "Secret {name} does not exist in namespace {ns}."
        ))),
        Ok(SecretCheck::Keys(have)) => {
            lacks_key(r, &have)?;
            Ok(Found::Yes)
        }
        Err(e) => Ok(Found::Unchecked(format!(
            "Secret {name} could not be checked ({e}): it must exist in namespace {ns} with key(s) `{keys}` before anything is applied"
        ))),
    }
}

/// Refuse a Secret that lacks one of the keys of `r`.
fn lacks_key(r: &SecretRef, have: &[String]) -> Result<(), String> {
    let name = &r.name;
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
    Ok(())
}

// The detour when a named Secret does not exist: create it from hidden prompts, check
// again, name another, or (when the scenario allows) provide passwords another way.

const CREATE: &str = "create";
const KEEP: &str = "keep";
const RECHECK: &str = "recheck";
const OTHER: &str = "other";
const PASSWORDS: &str = "passwords";

/// Whether every key of the Secret being dealt with already has a typed value.
fn typed_before(s: &WizardState, r: &SecretRef) -> bool {
    s.new_secrets
        .get(&r.name)
        .is_some_and(|m| r.keys.iter().all(|k| m.contains_key(k)))
}

pub(in crate::wizard) const SECRET_MISSING: Entry = Entry {
    asked: |_| false,
    ask: |s| {
        let Some(r) = &s.resolving else {
            return Asked::new(
                select(vec![choice(OTHER, "name another Secret")], OTHER),
                "Which Secret?",
                "Go back to the Secret question.",
            );
        };
        let (ns, create) = s.namespace();
        let name = &r.secret.name;
        let keys = r.secret.keys.join("`, `");
        let mut options = Vec::new();
        if typed_before(s, &r.secret) {
            options.push(choice(
                KEEP,
                format!("keep the value(s) typed earlier: Secret {name} is created just before the install"),
            ));
        }
        options.push(choice(
            CREATE,
            format!(
                "create it now — type the value of `{keys}` here (hidden); it goes only into Secret {name}, created in namespace {ns} just before the install"
            ),
        ));
        options.push(choice(
            RECHECK,
            "check again — I have created it myself in the meantime",
        ));
        options.push(choice(OTHER, "name another Secret"));
        if !s.secrets_only() {
            options.push(choice(
                PASSWORDS,
                "use passwords odoo-tui generates, or that you type, instead of Secrets",
            ));
        }
        let default = options[0].key.clone();
        Asked::new(
            select(options, &default),
            format!("Secret {name} is missing: what now?"),
            format!(
                "Odoo cannot start without it. Esc goes back to the Secret's name. To create it yourself: {}",
                create_command(name, &ns, &r.secret.keys, create)
            ),
        )
        .with_notes(vec![r.why.clone()])
    },
    take: |s, input, probe| {
        let Some(r) = s.resolving.clone() else {
            return Ok(Some(s.following(None)));
        };
        match input.as_str() {
            CREATE => {
                if let Some(r) = &mut s.resolving {
                    r.typed.clear();
                }
                Ok(Some(Step::SecretValue))
            }
            KEEP => {
                s.resolving = None;
                Ok(Some(s.following(Some(r.from))))
            }
            RECHECK => recheck(s, &r, probe),
            PASSWORDS => {
                // Back to the passwords question as Esc would lead there: the way back
                // keeps what was asked before it.
                s.resolving = None;
                if let Some(i) = s.history.iter().rposition(|p| *p == Step::CredentialMode) {
                    s.history.truncate(i);
                }
                Ok(Some(Step::CredentialMode))
            }
            _ => {
                s.resolving = None;
                if s.history.last() == Some(&r.from) {
                    s.history.pop();
                }
                Ok(Some(r.from))
            }
        }
    },
};

/// Look for the Secret again (the user created it elsewhere).
fn recheck(s: &mut WizardState, r: &Resolving, probe: &dyn ClusterProbe) -> Result<Jump, String> {
    let (ns, create) = s.namespace();
    let name = &r.secret.name;
    let context = s.context().unwrap_or_default().to_string();
    match probe.secret(&context, &ns, name) {
        Ok(SecretCheck::Keys(have)) => {
            lacks_key(&r.secret, &have)?;
            s.new_secrets.remove(name);
        }
        Ok(SecretCheck::Missing) => {
            return Err(format!(
                "Secret {name} is still not in namespace {ns} — {}; or choose to create it here",
                create_command(name, &ns, &r.secret.keys, create)
            ));
        }
        Err(e) => s.notes.push((
            r.from,
            format!(
                "Secret {name} could not be checked ({e}): it must exist in namespace {ns} with key(s) `{}` before anything is applied",
                r.secret.keys.join("`, `")
            ),
        )),
    }
    s.resolving = None;
    Ok(Some(s.following(Some(r.from))))
}

/// How a value of a new Secret is asked and checked: its name in messages, whether it
/// is typed twice (not for names that are not secret: MinIO's root user, an S3 access
/// key ID), and whether odoo-tui's password rules apply (to credentials it sets up, not
/// to ones issued elsewhere).
fn value_rules(s: &WizardState, from: Step, index: usize) -> (&'static str, bool, bool) {
    match (from, index) {
        (Step::DbSecret, _) if s.db() == DbChoice::External => ("database password", true, false),
        (Step::MinioSecret, 0) => ("MinIO root user", false, false),
        (Step::S3Secret, 0) => ("S3 access key", false, false),
        (Step::S3Secret, _) => ("S3 secret key", true, false),
        _ => ("password", true, true),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub(in crate::wizard) const SECRET_VALUE: Entry = Entry {
    asked: |_| false,
    ask: |s| {
        let Some(r) = &s.resolving else {
            return Asked::new(password(false), "Value", "Esc goes back.");
        };
        let index = r.typed.len();
        let key = r.secret.keys.get(index).cloned().unwrap_or_default();
        let (_, twice, ours) = value_rules(s, r.from, index);
        let (_, holds) = secret_text(s, r.from);
        let what = holds.get(index).copied().unwrap_or("the value");
        let rules = if ours { " (at least 8 characters)" } else { "" };
        let (ns, _) = s.namespace();
        let name = &r.secret.name;
        Asked::new(
            password(twice),
            format!("Value of `{key}` for the new Secret {name}"),
            format!(
                "{}{rules}, hidden as you type{}. It goes only into Secret {name} in namespace {ns}, created just before the install: not into the answers, a preset, the instance record or any output.",
                capitalise(what),
                if twice { " and asked twice" } else { "" }
            ),
        )
    },
    take: |s, input, _| {
        let Some(r) = s.resolving.clone() else {
            return Ok(Some(s.following(None)));
        };
        let index = r.typed.len();
        let (what, _, ours) = value_rules(s, r.from, index);
        let value = if ours {
            checks::new_password(&input)?
        } else {
            checks::existing_credential(&input, what)?
        };
        let mut typed = r.typed.clone();
        typed.push(Hidden(value));
        if typed.len() < r.secret.keys.len() {
            if let Some(res) = &mut s.resolving {
                res.typed = typed;
            }
            return Ok(Some(Step::SecretValue));
        }
        let secret = s.new_secrets.entry(r.secret.name.clone()).or_default();
        for (k, v) in r.secret.keys.iter().zip(typed) {
            secret.insert(k.clone(), v);
        }
        s.resolving = None;
        Ok(Some(s.following(Some(r.from))))
    },
};

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
