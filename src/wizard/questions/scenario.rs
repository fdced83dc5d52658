//! The scenario (a preset the next questions start from) and the instance name.

use super::Entry;
use crate::values;
use crate::wizard::question::{Asked, choice, select, text};

pub(in crate::wizard) const SCENARIO: Entry = Entry {
    asked: |s| s.defaults.preset.is_none(),
    ask: |s| {
        let options = s
            .presets
            .iter()
            .map(|p| choice(&p.name, format!("{} — {}", p.name, p.description)))
            .collect();
        let default = s.a.preset.clone().unwrap_or_else(|| "quick-start".into());
        Asked::new(
            select(options, &default),
            "Which scenario?",
            "A starting point; the next questions fill in the details. quick-start runs everything inside the cluster; external uses your PostgreSQL server and S3 bucket; production also reads every password from Secrets you created beforehand; local-dev is the smallest footprint for a laptop cluster.",
        )
    },
    take: |s, input, _| {
        s.pv = s.load_preset(&input)?;
        s.a.preset = Some(input);
        Ok(None)
    },
};

pub(in crate::wizard) const NAME: Entry = Entry {
    asked: |s| !s.name_fixed(),
    ask: |s| {
        Asked::new(
            text(
                s.a.name
                    .clone()
                    .or_else(|| s.defaults.name.clone())
                    .or(Some("odoo".into())),
            ),
            "Instance name",
            "A short name for this Odoo installation; every object's name starts with it (acme → acme-odoo-backend, acme-postgresql). Lowercase letters, digits and '-', starting with a letter, at most about 40 characters.",
        )
    },
    take: |s, input, _| {
        values::validate::validate_release(&input, &s.pv)?;
        s.a.name = Some(input);
        Ok(None)
    },
};
