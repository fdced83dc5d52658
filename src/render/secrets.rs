//! The chart-managed credentials Secret `<fullname>` and the config Secret
//! `<fullname>-config` (odoo.conf + the admin password). Both use `data`, not
//! `stringData`, so that server-side apply can remove keys.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use super::common::Ctx;
use super::template;
use super::{Credentials, Object};
use crate::Error;

pub const ODOO_CONF_TEMPLATE: &str = include_str!("../../assets/odoo.conf.tmpl");

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<Object>, Error> {
    let mut out = Vec::new();
    if let Some(s) = credentials_secret(ctx)? {
        out.push(Object::Secret(s));
    }
    out.push(Object::Secret(config_secret(ctx)?));
    Ok(out)
}

fn missing(what: &str, key: &str) -> Error {
    Error::Config(format!(
        "no {what}: set `{key}`, name an existing Secret, or let odoo-tui generate one"
    ))
}

fn bytes(s: &str) -> ByteString {
    ByteString(s.as_bytes().to_vec())
}

/// The database password the chart-managed Secret carries.
fn db_password(ctx: &Ctx<'_>) -> Result<String, Error> {
    let v = ctx.v;
    let given = if v.postgresql.enabled {
        &v.postgresql.auth.password
    } else {
        &v.external_database.password
    };
    if !given.is_empty() {
        return Ok(given.clone());
    }
    let key = if v.postgresql.enabled {
        "postgresql.auth.password"
    } else {
        "externalDatabase.password"
    };
    ctx.creds
        .db_password
        .clone()
        .ok_or_else(|| missing("database password", key))
}

fn s3_keys(ctx: &Ctx<'_>) -> Result<(String, String), Error> {
    let v = ctx.v;
    if v.minio.enabled {
        let pw = if v.minio.auth.root_password.is_empty() {
            ctx.creds
                .minio_root_password
                .clone()
                .ok_or_else(|| missing("MinIO root password", "minio.auth.rootPassword"))?
        } else {
            v.minio.auth.root_password.clone()
        };
        Ok((v.minio.auth.root_user.clone(), pw))
    } else {
        Ok((
            v.external_s3.access_key.clone(),
            v.external_s3.secret_key.clone(),
        ))
    }
}

/// The session store URI: `sessionDb.uri`, else built without the password (libpq
/// reads it from PGPASSWORD).
pub fn session_uri(ctx: &Ctx<'_>) -> String {
    if !ctx.v.session_db.uri.is_empty() {
        return ctx.v.session_db.uri.clone();
    }
    let d = &ctx.d;
    format!(
        "postgres://{}@{}:{}/{}",
        d.db_user, d.db_host, d.db_port, d.db_name
    )
}

fn credentials_secret(ctx: &Ctx<'_>) -> Result<Option<Secret>, Error> {
    let d = &ctx.d;
    if !(d.needs_db_password || d.needs_session_uri || d.needs_s3_keys) {
        return Ok(None);
    }
    let mut data = BTreeMap::new();
    if d.needs_db_password {
        data.insert("db-password".to_string(), bytes(&db_password(ctx)?));
    }
    if d.needs_session_uri {
        data.insert("session-db-uri".to_string(), bytes(&session_uri(ctx)));
    }
    if d.needs_s3_keys {
        let (ak, sk) = s3_keys(ctx)?;
        data.insert("s3-access-key".to_string(), bytes(&ak));
        data.insert("s3-secret-key".to_string(), bytes(&sk));
    }
    Ok(Some(Secret {
        metadata: ctx.meta(ctx.fullname(), None),
        type_: Some("Opaque".to_string()),
        data: Some(data),
        ..Default::default()
    }))
}

/// The master password written into odoo.conf, unless it comes from an existing Secret.
fn master_password(ctx: &Ctx<'_>) -> Result<Option<String>, Error> {
    if ctx.d.master_secret.is_some() {
        return Ok(None);
    }
    let o = &ctx.v.backend.odoo;
    if !o.master_password.is_empty() {
        return Ok(Some(o.master_password.clone()));
    }
    ctx.creds
        .master_password
        .clone()
        .map(Some)
        .ok_or_else(|| missing("master password", "backend.odoo.masterPassword"))
}

/// odoo.conf without `admin_passwd` (added by [`config_secret`] or by the backend's
/// compose-config init container).
pub fn odoo_conf(ctx: &Ctx<'_>) -> String {
    let v = ctx.v;
    let o = &v.backend.odoo;
    let d = &ctx.d;
    let py_bool = |b: bool| if b { "True" } else { "False" }.to_string();
    template::fill(
        ODOO_CONF_TEMPLATE,
        &[
            ("db_host", d.db_host.clone()),
            ("db_port", d.db_port.to_string()),
            ("db_user", d.db_user.clone()),
            ("db_name", d.db_name.clone()),
            ("dbfilter", d.db_filter(v)),
            ("list_db", py_bool(o.list_db)),
            ("proxy_mode", py_bool(o.proxy_mode)),
            ("http_port", v.backend.service.ports.http.to_string()),
            ("gevent_port", v.backend.service.ports.websocket.to_string()),
            ("workers", o.workers.to_string()),
            ("max_cron_threads", o.max_cron_threads.to_string()),
            ("limit_memory_soft", o.limit_memory_soft.to_string()),
            ("limit_memory_hard", o.limit_memory_hard.to_string()),
            ("limit_time_cpu", o.limit_time_cpu.to_string()),
            ("limit_time_real", o.limit_time_real.to_string()),
            ("addons_path", super::addons::addons_path(ctx)),
            ("data_dir", o.data_dir.clone()),
            ("server_wide_modules", d.server_wide_modules(v)),
            ("log_level", o.log_level.clone()),
        ],
    )
}

fn config_secret(ctx: &Ctx<'_>) -> Result<Secret, Error> {
    let mut conf = odoo_conf(ctx);
    if let Some(pw) = master_password(ctx)? {
        conf.push_str(&format!("admin_passwd = {pw}\n"));
    }
    let mut data = BTreeMap::new();
    data.insert("odoo.conf".to_string(), bytes(&conf));
    if ctx.v.backend.init_db.existing_secret.is_empty() {
        let admin = if ctx.v.backend.init_db.admin_password.is_empty() {
            ctx.creds
                .admin_password
                .clone()
                .ok_or_else(|| missing("admin password", "backend.initDb.adminPassword"))?
        } else {
            ctx.v.backend.init_db.admin_password.clone()
        };
        data.insert("admin-password".to_string(), bytes(&admin));
    }
    Ok(Secret {
        metadata: ctx.meta(format!("{}-config", ctx.fullname()), Some("backend")),
        type_: Some("Opaque".to_string()),
        data: Some(data),
        ..Default::default()
    })
}

/// Which generated credentials this configuration needs (the rest are given or come
/// from existing Secrets). Used to generate or read back exactly those.
pub fn needed_credentials(v: &crate::values::Values) -> Credentials {
    let d = super::Derived::new("x", v);
    let want = |b: bool| if b { Some(String::new()) } else { None };
    Credentials {
        db_password: want(
            d.needs_db_password && v.postgresql.enabled && v.postgresql.auth.password.is_empty(),
        ),
        minio_root_password: want(
            v.minio.enabled
                && v.minio.auth.existing_secret.is_empty()
                && v.minio.auth.root_password.is_empty(),
        ),
        master_password: want(
            d.master_secret.is_none() && v.backend.odoo.master_password.is_empty(),
        ),
        admin_password: want(
            v.backend.init_db.existing_secret.is_empty()
                && v.backend.init_db.admin_password.is_empty(),
        ),
    }
}
