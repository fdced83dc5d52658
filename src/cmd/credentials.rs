//! `odoo-tui credentials [NAME] [--all] [--yes] [-o plain|json]`: the admin login and
//! password (with `--all` the master, database and MinIO root passwords odoo-tui keeps),
//! read from the Secrets odoo-tui manages, after a confirmation on a terminal. A password
//! the user keeps in a Secret of their own is named, never read. `-o json` needs `--yes`.
//! What is shown and where it lives is decided by `plan::credentials`.

use std::io::Write;

use serde_json::{Value as Json, json};

use super::{Context, Error};
use crate::cli::{CredentialsArgs, PlainJson};
use crate::cluster::creds::decode;
use crate::cluster::kinds::Kind;
use crate::cluster::{ClusterError, Kube};
use crate::instance;
use crate::plan::credentials::{self as plan, Entry, Place};
use crate::values::Derived;

pub fn run(ctx: &Context, a: CredentialsArgs) -> Result<(), Error> {
    let json = a.output == PlainJson::Json;
    if json && !a.yes {
        return Err(Error::usage(
            "`-o json` prints passwords for a program to read: confirm with --yes",
        ));
    }
    if !a.yes && !ctx.interactive() {
        return Err(Error::usage(
            "`odoo-tui credentials` asks before printing passwords, but there is no terminal: pass --yes",
        ));
    }
    ctx.block_on(None, |_| credentials(ctx, a))
}

/// The value of one credential from the Secrets read, or why it is missing.
fn value_of(place: &Place, get: &dyn Fn(&str) -> Option<Json>) -> Result<String, String> {
    let (secret, found) = match place {
        Place::Managed { secret, key } => (secret, get(secret).map(|s| decode(&s, key))),
        Place::OdooConf { secret } => (
            secret,
            get(secret).map(|s| {
                decode(&s, "odoo.conf").and_then(|c| plan::admin_passwd(&c).map(str::to_string))
            }),
        ),
        Place::UserSecret { .. } => return Err(String::new()),
    };
    match found {
        Some(Some(v)) => Ok(v),
        Some(None) => Err(format!("Secret `{secret}` does not hold it")),
        None => Err(format!("Secret `{secret}` does not exist")),
    }
}

async fn credentials(ctx: &Context, a: CredentialsArgs) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name).await?;
    let (loaded, _) = instance::values::recorded(&kube, &name, &[]).await?;
    let v = &loaded.values;
    let d = Derived::new(&name, v);
    let entries = plan::entries(v, &d, a.all);
    let shown: Vec<&Entry> = entries.iter().filter(|e| e.shown()).collect();
    if !shown.is_empty() && !a.yes {
        let what = if a.all {
            "the passwords"
        } else {
            "the admin password"
        };
        let question = format!(
            "Print {what} of `{name}` (namespace `{}`) on this terminal?",
            kube.namespace
        );
        if !ctx.confirm(&question) {
            return Err(Error::cancelled("cancelled: nothing was printed"));
        }
    }
    let secrets = read_secrets(&kube, &shown).await?;
    let get = |s: &str| {
        secrets
            .iter()
            .find(|(n, _)| n == s)
            .and_then(|(_, j)| j.clone())
    };
    let login = v.backend.init_db.admin_login.clone();
    let mut problems = Vec::new();
    let mut out = std::io::stdout().lock();
    if a.output == PlainJson::Json {
        let mut doc = json!({"instance": name, "namespace": kube.namespace, "login": login});
        for e in &entries {
            doc[e.id] = match (&e.place, value_of(&e.place, &get)) {
                (Place::UserSecret { secret, key, .. }, _) => {
                    json!({"secret": secret, "key": key})
                }
                (_, Ok(v)) => json!(v),
                (_, Err(why)) => {
                    problems.push(format!("{}: {why}", e.label));
                    Json::Null
                }
            };
        }
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        );
    } else {
        let _ = writeln!(out, "login: {login}");
        for e in &entries {
            if let Some(line) = plan::user_secret_line(e.label, &e.place, &kube.namespace) {
                let _ = writeln!(out, "{line}");
                continue;
            }
            match value_of(&e.place, &get) {
                Ok(v) => {
                    let _ = writeln!(out, "{}: {v}", e.label);
                }
                Err(why) => problems.push(format!("{}: {why}", e.label)),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::failure(format!(
            "{}\n(the install may not have created it yet: run `odoo-tui new {name}` again)",
            problems.join("\n")
        )))
    }
}

/// The Secrets the shown entries live in, each read once.
async fn read_secrets(
    kube: &Kube,
    shown: &[&Entry],
) -> Result<Vec<(String, Option<Json>)>, ClusterError> {
    let kind = Kind::by_name("Secret").expect("known");
    let mut names: Vec<&str> = shown
        .iter()
        .filter_map(|e| match &e.place {
            Place::Managed { secret, .. } | Place::OdooConf { secret } => Some(secret.as_str()),
            Place::UserSecret { .. } => None,
        })
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names {
        out.push((n.to_string(), kube.get(kind, n).await?));
    }
    Ok(out)
}
