//! The review shown before confirming: a summary of the answers, warnings, and what will
//! be created, updated and pruned.

use super::choices::{CredentialChoice, DbChoice, Exposure, StorageChoice};
use super::outcome::{Destination, planned_objects};
use super::questions::backups::{DAILY, keep_text};
use super::state::WizardState;

fn list(title: &str, items: &[String]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    Some(format!(
        "{title} ({}):\n  {}",
        items.len(),
        items.join("\n  ")
    ))
}

/// The review shown before confirming: a summary of the answers, warnings, and what
/// will be created, updated and pruned (from the caller's [`super::Review`], else the
/// rendered objects).
pub(super) fn review_notes(s: &WizardState) -> Vec<String> {
    let o = match s.build() {
        Ok(o) => o,
        Err(e) => return vec![format!("Review unavailable: {e}")],
    };
    let mut lines = Vec::new();
    let place = match &o.destination {
        Destination::Cluster => format!(
            "namespace {}{} of context {}",
            o.namespace,
            if o.create_namespace { " (new)" } else { "" },
            o.context.clone().unwrap_or_default()
        ),
        Destination::Folder(d) => format!(
            "manifests for namespace {} written to {} (no cluster reachable)",
            o.namespace,
            d.display()
        ),
    };
    lines.push(format!("Instance     {} — {place}", o.name));
    lines.push(format!("Scenario     {}", o.preset));
    let a = &s.a;
    let e = &s.pv.external_database;
    lines.push(match s.db() {
        DbChoice::Bundled => format!("Database     bundled PostgreSQL ({}-postgresql)", o.name),
        DbChoice::External => format!(
            "Database     external {}:{}, user {}, database {}",
            a.db_host.clone().unwrap_or(e.host.clone()),
            a.db_port.map(i64::from).unwrap_or(e.port),
            a.db_user.clone().unwrap_or(e.user.clone()),
            a.db_name.clone().unwrap_or(e.database.clone())
        ),
    });
    let e3 = &s.pv.external_s3;
    lines.push(match s.storage() {
        StorageChoice::Minio => format!("Attachments  bundled MinIO ({}-minio)", o.name),
        StorageChoice::External => {
            let region = a.s3_region.clone().unwrap_or(e3.region.clone());
            format!(
                "Attachments  S3 bucket {} at {}{}",
                a.s3_bucket.clone().unwrap_or(e3.bucket.clone()),
                a.s3_endpoint.clone().unwrap_or(e3.endpoint.clone()),
                if region.is_empty() {
                    String::new()
                } else {
                    format!(" ({region})")
                }
            )
        }
        StorageChoice::Pvc => "Attachments  a volume (PVC), one replica".to_string(),
    });
    lines.push(match s.cred_mode() {
        CredentialChoice::Generate => {
            "Passwords    generated once and kept in a Secret (typed external ones are not shown)"
                .to_string()
        }
        CredentialChoice::Type => "Passwords    typed by you (not shown)".to_string(),
        CredentialChoice::ExistingSecrets => {
            let mut refs = Vec::new();
            for (what, r, relevant) in [
                ("database", &a.db_secret, true),
                (
                    "MinIO",
                    &a.minio_secret,
                    s.storage() == StorageChoice::Minio,
                ),
                ("S3", &a.s3_secret, s.storage() == StorageChoice::External),
                ("master", &a.master_secret, true),
                ("admin", &a.admin_secret, true),
            ] {
                if let (Some(r), true) = (r, relevant) {
                    refs.push(format!("{what} {} ({})", r.name, r.keys.join(", ")));
                }
            }
            let mut line = format!("Passwords    from existing Secrets: {}", refs.join("; "));
            if !o.secrets.is_empty() {
                let names: Vec<&str> = o.secrets.iter().map(|n| n.name.as_str()).collect();
                line.push_str(&format!(
                    "\n             created first from the values you typed (not shown): {}",
                    names.join(", ")
                ));
            }
            line
        }
    });
    if let Some(email) = &a.admin_email {
        lines.push(format!("Admin login  {email}"));
    }
    let tls = a.tls_secret.clone().unwrap_or_default();
    let scheme = if tls.is_empty() { "http" } else { "https" };
    lines.push(match s.exposure() {
        Exposure::None => format!(
            "Reached by   nothing outside the cluster — use `odoo-tui open {}`",
            o.name
        ),
        Exposure::Ingress => format!(
            "Reached by   {scheme}://{} (Ingress)",
            a.host.clone().unwrap_or_default()
        ),
        Exposure::Nginx => {
            let back = a.backoffice_domain.clone().unwrap_or_default();
            format!(
                "Reached by   {scheme}://{} through nginx{}",
                a.public_domain.clone().unwrap_or_default(),
                if back.is_empty() {
                    String::new()
                } else {
                    format!(", back office {scheme}://{back}")
                }
            )
        }
    });
    let size = s.size_spec();
    let memory = size.resources[3].clone().unwrap_or_else(|| {
        s.pv.backend
            .resources
            .limits
            .as_ref()
            .and_then(|l| l.get("memory"))
            .map(|q| q.0.clone())
            .unwrap_or_else(|| "none".into())
    });
    lines.push(format!(
        "Size         {} — {} replica(s), {} worker(s), memory limit {memory}",
        s.size().key(),
        size.replicas,
        size.workers
    ));
    let (repo, tag) = s.image();
    lines.push(format!("Image        {repo}:{tag}"));
    if s.relevant(super::Step::Backups) {
        let schedule = s.backup_schedule();
        lines.push(if schedule.is_empty() {
            "Backups      none scheduled (`odoo-tui backup` takes one when asked)".to_string()
        } else {
            let when = if schedule == DAILY {
                "daily at 03:00".to_string()
            } else {
                format!("on schedule `{schedule}`")
            };
            format!(
                "Backups      {when} (a CronJob), keeping {}",
                keep_text(&s.backup_keep())
            )
        });
    }
    let mut out = vec![lines.join("\n")];

    match o.load() {
        Ok(loaded) => {
            let mut warnings: Vec<String> = loaded
                .warnings
                .iter()
                .map(|w| format!("warning: {w}"))
                .collect();
            warnings.extend(o.notes.iter().map(|n| format!("note: {n}")));
            if !warnings.is_empty() {
                out.push(warnings.join("\n"));
            }
        }
        Err(e) => out.push(format!("These answers do not load:\n{e}")),
    }

    match &s.review {
        Some(r) => {
            let parts: Vec<String> = [
                list("Will create", &r.create),
                list("Will update", &r.update),
                list("Unchanged", &r.unchanged),
                list(
                    "Will prune (deleted after the new objects are ready)",
                    &r.prune,
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !parts.is_empty() {
                out.push(parts.join("\n"));
            }
            if !r.diff.trim().is_empty() {
                out.push(format!("Changes:\n{}", r.diff.trim_end()));
            }
        }
        None => {
            if let Ok(objects) = planned_objects(&o) {
                let title = match o.destination {
                    Destination::Cluster => "Will apply (not compared with the cluster)",
                    Destination::Folder(_) => "Will write",
                };
                if let Some(l) = list(title, &objects) {
                    out.push(l);
                }
            }
        }
    }
    out
}
