//! The decisions around a backup, without IO: what to say when the backup Job fails
//! (`odoo-tui restore` brings a backup back: `plan::backups`). The Job comes from the renderer
//! (`render::ops_parts::backup_job`); running it is `instance::backup`.

/// The message of a failed backup Job: the reason, the log tail, the next step.
pub fn failure_message(reason: &str, lines: &[String], next: &str) -> String {
    let mut message = super::upgrade::with_log_tail(format!("the backup failed: {reason}"), lines);
    message.push_str(&format!("\nnext step: {next}"));
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_backup_says_why_and_what_next() {
        let m = failure_message("Job/b failed: x", &["pg_dump: error".into()], "fix it");
        assert_eq!(
            m,
            "the backup failed: Job/b failed: x\nlast log lines:\n  pg_dump: error\nnext step: fix it"
        );
    }
}
