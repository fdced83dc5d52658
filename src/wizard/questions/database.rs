//! Where the database runs, and the external server's address and names.

use super::Entry;
use crate::wizard::checks;
use crate::wizard::choices::DbChoice;
use crate::wizard::question::{Asked, choice, nonempty, select, text};
use crate::wizard::state::WizardState;

fn external(s: &WizardState) -> bool {
    s.db() == DbChoice::External
}

/// The scenario answers it; asked to customise it from the review.
pub(in crate::wizard) const DATABASE: Entry = Entry {
    asked: |s| s.a.customise,
    ask: |s| {
        Asked::new(
            select(
                vec![
                    choice(
                        DbChoice::Bundled.key(),
                        "bundled — a PostgreSQL server runs next to Odoo, on its own volume",
                    ),
                    choice(
                        DbChoice::External.key(),
                        "external — an existing PostgreSQL server (a managed database, or one you run)",
                    ),
                ],
                s.db().key(),
            ),
            "Where does the database run?",
            "Odoo keeps everything but attachments in PostgreSQL. Bundled is simplest; an external (managed) server brings backups and high availability.",
        )
    },
    take: |s, input, _| {
        s.a.db = DbChoice::from_key(&input);
        Ok(None)
    },
};

pub(in crate::wizard) const HOST: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            text(
                s.a.db_host
                    .clone()
                    .or(nonempty(&s.pv.external_database.host)),
            ),
            "Database host",
            "Host name or IP address of the PostgreSQL server, as seen from inside the cluster (e.g. db.example.com, or postgres.databases.svc.cluster.local). No scheme, no port.",
        )
    },
    take: |s, input, _| {
        s.a.db_host = Some(checks::host(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const PORT: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            text(Some(
                s.a.db_port
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| s.pv.external_database.port.to_string()),
            )),
            "Database port",
            "The PostgreSQL server's TCP port (1–65535); PostgreSQL's default is 5432.",
        )
    },
    take: |s, input, _| {
        s.a.db_port = Some(checks::port(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const USER: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            text(
                s.a.db_user
                    .clone()
                    .or(nonempty(&s.pv.external_database.user)),
            ),
            "Database user",
            "The PostgreSQL role Odoo logs in as. It must not be `postgres` (Odoo refuses to run as the superuser) and needs the right to create databases, or an existing database below.",
        )
    },
    take: |s, input, _| {
        s.a.db_user = Some(checks::db_user(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const NAME: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            text(
                s.a.db_name
                    .clone()
                    .or(nonempty(&s.pv.external_database.database)),
            ),
            "Database name",
            "The database Odoo uses; it is initialised on first start when empty. A dedicated one such as `odoo`, not `postgres`.",
        )
    },
    take: |s, input, _| {
        s.a.db_name = Some(checks::db_name(&input)?);
        Ok(None)
    },
};
