//! The history of an instance as people read it: the lines `status` prints about the
//! last upgrades and backups. The entries themselves are kept in the instance record.

use crate::status::{HistoryEntry, HistoryKind, HistoryResult};

/// How many upgrades and backups `status` shows.
pub const SHOWN: usize = 5;

/// The last upgrades and backups, newest first, one line each.
pub fn history_lines(history: &[HistoryEntry], max: usize) -> Vec<String> {
    history
        .iter()
        .rev()
        .filter(|e| {
            matches!(
                e.kind,
                HistoryKind::Upgrade | HistoryKind::Backup | HistoryKind::Restore
            )
        })
        .take(max)
        .map(|e| {
            let open = e.result == HistoryResult::Running && e.upgrade.is_some();
            let result = match e.result {
                HistoryResult::Succeeded => "succeeded",
                HistoryResult::Failed => "FAILED",
                HistoryResult::Running if open => "OPEN",
                HistoryResult::Running => "running",
            };
            let mut s = format!(
                "  {} {:<7} {:<9} rev {}",
                crate::time::rfc3339(e.time),
                e.kind,
                result,
                e.revision
            );
            if !e.modules.is_empty() {
                s.push_str(&format!("  modules {}", e.modules.join(",")));
            }
            if let Some(i) = &e.image {
                s.push_str(&format!("  image {i}"));
            }
            if let Some(b) = &e.backup_location {
                s.push_str(&format!("  backup {b}"));
            }
            if let Some(d) = &e.detail {
                s.push_str(&format!("  ({d})"));
            }
            if let Some(u) = e.upgrade.as_ref().filter(|_| open) {
                s.push_str(&format!(
                    "  — {}: `odoo-tui upgrade --resume` or `--abort`",
                    u.phase.describe()
                ));
            }
            s
        })
        .collect()
}

/// The "history" section of `status`, with its title; empty when there is none.
pub fn history_section(history: &[HistoryEntry]) -> Vec<String> {
    let lines = history_lines(history, SHOWN);
    if lines.is_empty() {
        return lines;
    }
    let mut out = vec!["history (upgrades and backups, newest first):".to_string()];
    out.extend(lines);
    out
}

/// The line `status` prints about backups: the age of the last successful one (from the
/// history, or the scheduled backups' CronJob), and a warning when it is older than twice
/// the interval of `schedule` (or there is none while one is scheduled). `None` when
/// there is nothing to say.
pub fn last_backup_line(
    history: &[HistoryEntry],
    scheduled_success: Option<i64>,
    schedule: &str,
    now: i64,
) -> Option<String> {
    let from_history = history
        .iter()
        .filter(|e| e.result == HistoryResult::Succeeded && e.backup_location.is_some())
        .filter(|e| matches!(e.kind, HistoryKind::Backup | HistoryKind::Upgrade))
        .map(|e| e.time)
        .max();
    let last = from_history.into_iter().chain(scheduled_success).max();
    let interval = crate::values::cron::Schedule::parse(schedule)
        .ok()
        .and_then(|s| s.interval(now));
    match (last, interval) {
        (None, None) => None,
        (None, Some(_)) => Some(format!(
            "last backup: none yet — WARNING: backups are scheduled ({schedule}) but none has succeeded; see `odoo-tui logs` for the backup Jobs"
        )),
        (Some(t), None) => Some(format!("last backup: {} ago", crate::time::age(now - t))),
        (Some(t), Some(i)) if now - t > 2 * i => Some(format!(
            "last backup: {} ago — WARNING: older than twice the schedule's interval ({schedule}, every {}): the scheduled backups are failing or not running",
            crate::time::age(now - t),
            crate::time::age(i)
        )),
        (Some(t), Some(_)) => Some(format!(
            "last backup: {} ago (scheduled: {schedule})",
            crate::time::age(now - t)
        )),
    }
}

/// The line `status` prints for a neutralized clone (its history says so).
pub fn neutralized_line(history: &[HistoryEntry]) -> Option<String> {
    history
        .iter()
        .rev()
        .find(|e| e.kind == HistoryKind::Restore && e.result == HistoryResult::Succeeded)
        .and_then(|e| e.detail.as_deref())
        .and_then(|d| d.strip_suffix(", neutralized"))
        .map(|of| {
            format!("NEUTRALIZED: a {of} (outgoing mail servers, crons and payment providers off)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neutralized_clone_says_so() {
        let e = |detail: &str| HistoryEntry {
            time: 0,
            kind: HistoryKind::Restore,
            modules: vec![],
            image: None,
            backup_location: None,
            result: HistoryResult::Succeeded,
            revision: 1,
            detail: Some(detail.into()),
            upgrade: None,
        };
        assert_eq!(
            neutralized_line(&[e("clone of `acme`, neutralized")]).unwrap(),
            "NEUTRALIZED: a clone of `acme` (outgoing mail servers, crons and payment providers off)"
        );
        assert_eq!(neutralized_line(&[e("clone of `acme`")]), None);
        // A later restore of a production backup replaces the neutralized database.
        assert_eq!(
            neutralized_line(&[e("clone of `acme`, neutralized"), e("safety backup x")]),
            None
        );
        let mut plain = e("");
        plain.detail = None;
        assert_eq!(
            neutralized_line(&[e("clone of `acme`, neutralized"), plain]),
            None
        );
    }

    #[test]
    fn the_last_backups_age_warns_past_twice_the_interval() {
        let now = 1_795_820_700;
        let entry = |time, result| HistoryEntry {
            time,
            kind: HistoryKind::Backup,
            modules: vec![],
            image: None,
            backup_location: Some("s3://b/backups/x.dump".into()),
            result,
            revision: 2,
            detail: None,
            upgrade: None,
        };
        let h = vec![
            entry(now - 3 * 86_400, HistoryResult::Succeeded),
            entry(now - 3600, HistoryResult::Failed),
        ];
        // Daily, the last success 3 days ago: warned.
        let l = last_backup_line(&h, None, "0 3 * * *", now).unwrap();
        assert!(l.contains("3d ago") && l.contains("WARNING"), "{l}");
        // The CronJob succeeded 5 hours ago: fine.
        let l = last_backup_line(&h, Some(now - 5 * 3600), "0 3 * * *", now).unwrap();
        assert_eq!(l, "last backup: 5h ago (scheduled: 0 3 * * *)");
        // Weekly: 3 days is fine.
        let l = last_backup_line(&h, None, "@weekly", now).unwrap();
        assert!(!l.contains("WARNING"), "{l}");
        // No schedule: the age only; nothing at all without a backup.
        assert_eq!(
            last_backup_line(&h, None, "", now).unwrap(),
            "last backup: 3d ago"
        );
        assert_eq!(last_backup_line(&[], None, "", now), None);
        assert!(
            last_backup_line(&[], None, "@daily", now)
                .unwrap()
                .contains("none yet")
        );
    }

    #[test]
    fn history_shows_upgrades_and_backups_newest_first() {
        let e = |time, kind, result| HistoryEntry {
            time,
            kind,
            modules: if kind == HistoryKind::Upgrade {
                vec!["sale".into()]
            } else {
                vec![]
            },
            image: None,
            backup_location: Some("s3://b/backups/x.dump".into()),
            result,
            revision: 2,
            detail: None,
            upgrade: None,
        };
        let h = vec![
            e(0, HistoryKind::Install, HistoryResult::Succeeded),
            e(60, HistoryKind::Backup, HistoryResult::Succeeded),
            e(120, HistoryKind::Upgrade, HistoryResult::Failed),
        ];
        let lines = history_lines(&h, 5);
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].contains("upgrade")
                && lines[0].contains("FAILED")
                && lines[0].contains("modules sale")
        );
        assert!(lines[1].contains("backup") && lines[1].contains("s3://b/backups/x.dump"));
        assert_eq!(history_lines(&h, 1).len(), 1);
        let section = history_section(&h);
        assert_eq!(section[0], "history (upgrades and backups, newest first):");
        assert_eq!(section.len(), 3);
        assert!(history_section(&h[..1]).is_empty());
    }

    #[test]
    fn an_open_upgrade_says_where_it_stands_and_the_ways_out() {
        let open = HistoryEntry {
            time: 0,
            kind: HistoryKind::Upgrade,
            modules: vec!["sale".into()],
            image: Some("odoo:2".into()),
            backup_location: None,
            result: HistoryResult::Running,
            revision: 2,
            detail: None,
            upgrade: Some(crate::status::UpgradeState {
                phase: crate::status::UpgradePhase::RolloutFailed,
                strategy: "maintenance".into(),
                previous_image: "odoo:1".into(),
                previous_replicas: 1,
                backup: false,
                job: None,
                job_uid: None,
            }),
        };
        let line = &history_lines(&[open], 5)[0];
        assert!(line.contains("OPEN"), "{line}");
        assert!(
            line.contains("the rollout on the new image failed"),
            "{line}"
        );
        assert!(
            line.contains("--resume") && line.contains("--abort"),
            "{line}"
        );
    }
}
