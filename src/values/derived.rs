//! Facts derived once from the values and the instance name: the chart's names, where
//! the database and the object storage are, which Secrets hold what. Shared by the
//! renderer, the validation and the commands.

use super::Values;

/// The chart's name, used in `app.kubernetes.io/name`.
pub const CHART_NAME: &str = "odoo";

pub mod names {
    /// Truncate to `max` characters and drop a trailing `-`, as the chart's `trunc | trimSuffix` does.
    pub fn trunc(s: &str, max: usize) -> String {
        let t: String = s.chars().take(max).collect();
        t.trim_end_matches('-').to_string()
    }

    /// `nameOverride` or the chart name.
    pub fn chart_name(name_override: &str) -> String {
        if name_override.is_empty() {
            super::CHART_NAME.to_string()
        } else {
            trunc(name_override, 63)
        }
    }

    /// The chart's `odoo.fullname`.
    pub fn fullname(release: &str, name_override: &str, fullname_override: &str) -> String {
        if !fullname_override.is_empty() {
            return trunc(fullname_override, 63);
        }
        let name = chart_name(name_override);
        if release.contains(&name) {
            trunc(release, 63)
        } else {
            trunc(&format!("{release}-{name}"), 63)
        }
    }
}

/// Facts derived once from the values, shared by every component.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub name: String,
    pub fullname: String,
    pub service_account: String,
    pub db_host: String,
    pub db_port: i64,
    pub db_user: String,
    pub db_name: String,
    /// (Secret name, key) holding the database password.
    pub db_secret: (String, String),
    /// Whether the chart-managed Secret must carry `db-password`.
    pub needs_db_password: bool,
    /// (Secret name, key) holding the session store URI.
    pub session_secret: (String, String),
    pub needs_session_uri: bool,
    /// S3 asked for (bundled MinIO or external S3).
    pub s3_requested: bool,
    /// S3 asked for and the image can use it.
    pub s3: bool,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    /// (Secret name, access-key key, secret-key key).
    pub s3_secret: (String, String, String),
    pub needs_s3_keys: bool,
    /// The backend image ships `session_db` and the `fs_*` S3 modules.
    pub image_has_s3_modules: bool,
    /// Whether the filestore lives on a PVC (`<fullname>-backend-data`).
    pub filestore_pvc: bool,
    pub workers: i64,
    /// (Secret name, key) of the master password when it comes from an existing Secret.
    pub master_secret: Option<(String, String)>,
    /// (Secret name, key) of the admin user's password.
    pub admin_secret: (String, String),
}

impl Derived {
    pub fn new(release: &str, v: &Values) -> Derived {
        let name = names::chart_name(&v.name_override);
        let fullname = names::fullname(release, &v.name_override, &v.fullname_override);
        let service_account = if v.service_account.create {
            if v.service_account.name.is_empty() {
                fullname.clone()
            } else {
                v.service_account.name.clone()
            }
        } else if v.service_account.name.is_empty() {
            "default".to_string()
        } else {
            v.service_account.name.clone()
        };
        let pg = &v.postgresql;
        let ext = &v.external_database;
        let (db_host, db_port, db_user, db_name) = if pg.enabled {
            (
                format!("{release}-postgresql"),
                5432,
                pg.auth.username.clone(),
                pg.auth.database.clone(),
            )
        } else {
            (
                ext.host.clone(),
                ext.port,
                ext.user.clone(),
                ext.database.clone(),
            )
        };
        let (db_secret, needs_db_password) = if !pg.enabled && !ext.existing_secret.is_empty() {
            (
                (
                    ext.existing_secret.clone(),
                    ext.existing_secret_password_key.clone(),
                ),
                false,
            )
        } else if pg.enabled && !pg.auth.existing_secret.is_empty() {
            (
                (
                    pg.auth.existing_secret.clone(),
                    pg.auth.existing_secret_password_key.clone(),
                ),
                false,
            )
        } else {
            ((fullname.clone(), "db-password".to_string()), true)
        };
        let (session_secret, needs_session_uri) = if !v.session_db.existing_secret.is_empty() {
            (
                (
                    v.session_db.existing_secret.clone(),
                    v.session_db.existing_secret_key.clone(),
                ),
                false,
            )
        } else {
            ((fullname.clone(), "session-db-uri".to_string()), true)
        };
        let s3_requested = v.minio.enabled || v.external_s3.enabled;
        let image_has_s3_modules = match v.backend.image.s3_modules.as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => v
                .backend
                .image
                .repository
                .contains("sergio-bershadsky/odoo"),
        };
        let s3 = s3_requested && image_has_s3_modules;
        let (s3_endpoint, s3_bucket, s3_region) = if v.minio.enabled {
            (
                format!("http://{release}-minio:9000"),
                v.minio
                    .provisioning
                    .buckets
                    .first()
                    .map(|b| b.name.clone())
                    .unwrap_or_else(|| "odoo-filestore".to_string()),
                v.external_s3.region.clone(),
            )
        } else {
            (
                v.external_s3.endpoint.clone(),
                v.external_s3.bucket.clone(),
                v.external_s3.region.clone(),
            )
        };
        let (s3_secret, needs_s3_keys) =
            if v.external_s3.enabled && !v.external_s3.existing_secret.is_empty() {
                (
                    (
                        v.external_s3.existing_secret.clone(),
                        v.external_s3.existing_secret_access_key_key.clone(),
                        v.external_s3.existing_secret_secret_key_key.clone(),
                    ),
                    false,
                )
            } else if v.minio.enabled && !v.minio.auth.existing_secret.is_empty() {
                (
                    (
                        v.minio.auth.existing_secret.clone(),
                        v.minio.auth.existing_secret_root_user_key.clone(),
                        v.minio.auth.existing_secret_root_password_key.clone(),
                    ),
                    false,
                )
            } else {
                (
                    (
                        fullname.clone(),
                        "s3-access-key".to_string(),
                        "s3-secret-key".to_string(),
                    ),
                    s3_requested,
                )
            };
        let filestore_pvc = v.backend.persistence.enabled || !s3;
        let master_secret = if v.backend.odoo.existing_secret.is_empty() {
            None
        } else {
            Some((
                v.backend.odoo.existing_secret.clone(),
                v.backend.odoo.existing_secret_key.clone(),
            ))
        };
        let admin_secret = if v.backend.init_db.existing_secret.is_empty() {
            (format!("{fullname}-config"), "admin-password".to_string())
        } else {
            (
                v.backend.init_db.existing_secret.clone(),
                v.backend.init_db.existing_secret_key.clone(),
            )
        };
        Derived {
            name,
            fullname,
            service_account,
            db_host,
            db_port,
            db_user,
            db_name,
            db_secret,
            needs_db_password,
            session_secret,
            needs_session_uri,
            s3_requested,
            s3,
            s3_endpoint,
            s3_bucket,
            s3_region,
            s3_secret,
            needs_s3_keys,
            image_has_s3_modules,
            filestore_pvc,
            workers: v.backend.odoo.workers,
            master_secret,
            admin_secret,
        }
    }

    /// `--load` modules: the configured list, without `session_db` when the image lacks it.
    pub fn server_wide_modules(&self, v: &Values) -> String {
        v.backend
            .odoo
            .server_wide_modules
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .filter(|m| self.image_has_s3_modules || *m != "session_db")
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The database filter: the configured one, else exactly the instance's database.
    pub fn db_filter(&self, v: &Values) -> String {
        if v.backend.odoo.db_filter.is_empty() {
            format!("^{}$", regex_escape(&self.db_name))
        } else {
            v.backend.odoo.db_filter.clone()
        }
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
