//! Scheduled backups: daily (the default, but for local development), a cron schedule
//! of the user's, or none. What a backup holds and how retention works is the README's
//! "Backups and restore".

use crate::values::Keep;
use crate::values::cron::Schedule;
use crate::wizard::choices::BackupChoice;
use crate::wizard::question::{Asked, choice, select, text};
use crate::wizard::state::WizardState;

use super::Entry;

/// The schedule of "daily": every day at 03:00 in the cluster's time zone.
pub(in crate::wizard) const DAILY: &str = "0 3 * * *";

/// The scenarios whose default is no scheduled backup (a throw-away instance).
const UNSCHEDULED_SCENARIOS: &[&str] = &["local-dev"];

/// The retention a schedule chosen here gets when the scenario sets none: the newest
/// backup of each of the last 7 days and 4 weeks.
pub(in crate::wizard) fn default_keep() -> Keep {
    Keep {
        daily: 7,
        weekly: 4,
        ..Keep::default()
    }
}

/// Retention in words, e.g. "7 daily and 4 weekly".
pub(in crate::wizard) fn keep_text(k: &Keep) -> String {
    let parts: Vec<String> = [
        (k.last, "newest"),
        (k.daily, "daily"),
        (k.weekly, "weekly"),
        (k.monthly, "monthly"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    match parts.as_slice() {
        [] => "every backup".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl WizardState {
    /// Asked when the scenario takes backups at all (`backup.enabled`).
    pub(in crate::wizard) fn backups_on(&self) -> bool {
        self.pv.backup.enabled
    }

    /// The choice: the answer, else what the scenario says (its own schedule, none for
    /// local development, else daily).
    pub(in crate::wizard) fn backup_choice(&self) -> BackupChoice {
        if let Some(c) = self.a.backup {
            return c;
        }
        let own = self.pv.backup.schedule.trim();
        if own == DAILY {
            BackupChoice::Daily
        } else if !own.is_empty() {
            BackupChoice::Custom
        } else if self
            .a
            .preset
            .as_deref()
            .is_some_and(|p| UNSCHEDULED_SCENARIOS.contains(&p))
        {
            BackupChoice::None
        } else {
            BackupChoice::Daily
        }
    }

    /// The schedule the answers give; empty: none.
    pub(in crate::wizard) fn backup_schedule(&self) -> String {
        match self.backup_choice() {
            BackupChoice::Daily => DAILY.into(),
            BackupChoice::Custom => self.custom_schedule(),
            BackupChoice::None => String::new(),
        }
    }

    fn custom_schedule(&self) -> String {
        self.a
            .backup_schedule
            .clone()
            .or_else(|| Some(self.pv.backup.schedule.trim().to_string()).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DAILY.into())
    }

    /// The retention of a scheduled backup: the scenario's, else [`default_keep`].
    pub(in crate::wizard) fn backup_keep(&self) -> Keep {
        if self.pv.backup.keep == Keep::default() {
            default_keep()
        } else {
            self.pv.backup.keep.clone()
        }
    }
}

pub(in crate::wizard) const SCHEDULE: Entry = Entry {
    asked: WizardState::backups_on,
    ask: |s| {
        let keep = keep_text(&s.backup_keep());
        Asked::new(
            select(
                vec![
                    choice(
                        BackupChoice::Daily.key(),
                        format!(
                            "daily — every day at 03:00 (cluster time, usually UTC), keeping {keep}"
                        ),
                    ),
                    choice(
                        BackupChoice::Custom.key(),
                        format!("another schedule — a cron expression of yours, keeping {keep}"),
                    ),
                    choice(
                        BackupChoice::None.key(),
                        "none — only the backups you ask for (`odoo-tui backup`) and those upgrade and restore take",
                    ),
                ],
                s.backup_choice().key(),
            ),
            "Scheduled backups?",
            "A CronJob in the cluster backs up the database (and the attachments on a volume) to the instance's bucket or backup volume; each backup deletes the ones retention no longer keeps, never the newest. `odoo-tui backups` lists them and `odoo-tui restore` brings one back.",
        )
    },
    take: |s, input, _| {
        s.a.backup = BackupChoice::from_key(&input);
        Ok(None)
    },
};

pub(in crate::wizard) const CRON: Entry = Entry {
    asked: |s| s.backups_on() && s.backup_choice() == BackupChoice::Custom,
    ask: |s| {
        Asked::new(
            text(Some(s.custom_schedule())),
            "Backup schedule (cron)",
            "Five fields — minute hour day-of-month month day-of-week — in the cluster's time zone (usually UTC), as a Kubernetes CronJob reads them: `30 2 * * *` every day at 02:30, `0 */6 * * *` every 6 hours, `0 4 * * 0` Sundays at 04:00; or @daily, @weekly.",
        )
    },
    take: |s, input, _| {
        Schedule::parse(&input)?;
        s.a.backup_schedule = Some(input);
        Ok(None)
    },
};
