//! What `odoo-tui credentials` shows and where each value lives: the admin's password
//! (and with `--all` the master, database and MinIO root passwords odoo-tui keeps) in
//! the Secrets odoo-tui manages, or — for a credential the user keeps in a Secret of
//! their own (`existingSecret`) — only that Secret's name and key, never its value.

use serde::Serialize;

use crate::values::{Derived, Values};

/// Where a credential's value is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "in")]
pub enum Place {
    /// A key of a Secret odoo-tui manages: the value is shown.
    Managed { secret: String, key: String },
    /// The `admin_passwd` line of `odoo.conf` in the config Secret odoo-tui manages.
    OdooConf { secret: String },
    /// A Secret the user manages, named by `setting`: named, never read.
    UserSecret {
        secret: String,
        key: String,
        setting: &'static str,
    },
}

/// One credential of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// JSON key, e.g. `admin_password`.
    pub id: &'static str,
    /// Label, e.g. `admin password`.
    pub label: &'static str,
    pub place: Place,
}

impl Entry {
    /// Whether its value is read and shown.
    pub fn shown(&self) -> bool {
        !matches!(self.place, Place::UserSecret { .. })
    }
}

fn managed(secret: &str, key: &str) -> Place {
    Place::Managed {
        secret: secret.to_string(),
        key: key.to_string(),
    }
}

fn user(secret: &str, key: &str, setting: &'static str) -> Place {
    Place::UserSecret {
        secret: secret.to_string(),
        key: key.to_string(),
        setting,
    }
}

/// The credentials to show for an instance with values `v`: the admin's, and with `all`
/// the master password, the bundled PostgreSQL's and the bundled MinIO's. External
/// databases and S3 services are the user's own: their keys are not listed.
pub fn entries(v: &Values, d: &Derived, all: bool) -> Vec<Entry> {
    let mut out = vec![Entry {
        id: "admin_password",
        label: "admin password",
        place: if v.backend.init_db.existing_secret.is_empty() {
            managed(&d.admin_secret.0, &d.admin_secret.1)
        } else {
            user(
                &d.admin_secret.0,
                &d.admin_secret.1,
                "backend.initDb.existingSecret",
            )
        },
    }];
    if !all {
        return out;
    }
    out.push(Entry {
        id: "master_password",
        label: "master password",
        place: match &d.master_secret {
            Some((s, k)) => user(s, k, "backend.odoo.existingSecret"),
            None => Place::OdooConf {
                secret: format!("{}-config", d.fullname),
            },
        },
    });
    if v.postgresql.enabled {
        out.push(Entry {
            id: "database_password",
            label: "database password",
            place: if d.needs_db_password {
                managed(&d.db_secret.0, &d.db_secret.1)
            } else {
                user(
                    &d.db_secret.0,
                    &d.db_secret.1,
                    "postgresql.auth.existingSecret",
                )
            },
        });
    }
    if v.minio.enabled {
        out.push(Entry {
            id: "minio_root_password",
            label: "MinIO root password",
            place: if v.minio.auth.existing_secret.is_empty() {
                managed(&d.s3_secret.0, &d.s3_secret.2)
            } else {
                user(&d.s3_secret.0, &d.s3_secret.2, "minio.auth.existingSecret")
            },
        });
    }
    out
}

/// The master password in an `odoo.conf`.
pub fn admin_passwd(odoo_conf: &str) -> Option<&str> {
    odoo_conf
        .lines()
        .find_map(|l| l.strip_prefix("admin_passwd = "))
        .map(str::trim_end)
        .filter(|s| !s.is_empty())
}

/// The line for a credential kept in the user's own Secret.
pub fn user_secret_line(label: &str, place: &Place, namespace: &str) -> Option<String> {
    match place {
        Place::UserSecret {
            secret,
            key,
            setting,
        } => Some(format!(
            "{label}: in your Secret `{secret}` (key `{key}`, named by {setting}) in namespace `{namespace}` — odoo-tui does not print it"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Source, load};

    fn values(preset: &str, sets: &str) -> (Values, Derived) {
        let mut layers = vec![crate::presets::load(preset).unwrap()];
        if !sets.is_empty() {
            layers.push(Source::set(sets).unwrap());
        }
        let v = load(&layers).unwrap().values;
        let d = Derived::new("acme", &v);
        (v, d)
    }

    #[test]
    fn quick_start_keeps_every_password_in_its_own_secrets() {
        let (v, d) = values("quick-start", "");
        let e = entries(&v, &d, false);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].place, managed("acme-odoo-config", "admin-password"));
        let e = entries(&v, &d, true);
        let ids: Vec<&str> = e.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            [
                "admin_password",
                "master_password",
                "database_password",
                "minio_root_password"
            ]
        );
        assert!(e.iter().all(Entry::shown));
        assert_eq!(e[2].place, managed("acme-odoo", "db-password"));
        assert_eq!(e[3].place, managed("acme-odoo", "s3-secret-key"));
    }

    #[test]
    fn the_users_own_secrets_are_named_not_read() {
        let (v, d) = values(
            "production",
            "externalDatabase.host=db,externalS3.endpoint=https://s3.example.com",
        );
        let e = entries(&v, &d, true);
        assert_eq!(
            e.len(),
            2,
            "external database and S3 are the user's own: {e:?}"
        );
        assert!(e.iter().all(|e| !e.shown()));
        assert_eq!(
            user_secret_line("admin password", &e[0].place, "prod").unwrap(),
            "admin password: in your Secret `odoo-admin` (key `admin-password`, named by backend.initDb.existingSecret) in namespace `prod` — odoo-tui does not print it"
        );
    }

    #[test]
    fn reads_the_master_password_line() {
        assert_eq!(
            admin_passwd("[options]\nadmin_passwd = s3cr3t\nworkers = 2\n"),
            Some("s3cr3t")
        );
        assert_eq!(admin_passwd("[options]\n"), None);
    }
}
