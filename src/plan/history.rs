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
        .filter(|e| matches!(e.kind, HistoryKind::Upgrade | HistoryKind::Backup))
        .take(max)
        .map(|e| {
            let result = match e.result {
                HistoryResult::Succeeded => "succeeded",
                HistoryResult::Failed => "FAILED",
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
