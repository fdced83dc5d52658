//! The decisions around a backup, without IO: how to restore a dump, and what to say
//! when the backup Job fails. The Job comes from the renderer
//! (`render::ops_parts::backup_job`); running it is `instance::backup`.

use crate::render::ops_parts::BackupTarget;
use crate::values::Derived;

/// How to restore a dump, as commands to copy (no credential in them).
pub fn restore_hint(
    target: &BackupTarget,
    namespace: &str,
    release: &str,
    d: &Derived,
    bundled_pg: bool,
    pg_image: &str,
) -> Vec<String> {
    let backend = format!("{}-backend", d.fullname);
    let mut out = vec![format!(
        "to restore the backup {} (stop the backend first: kubectl -n {namespace} scale deployment/{backend} --replicas=0):",
        target.location()
    )];
    let restore = format!(
        "pg_restore --clean --if-exists --no-owner -U {} -d {}",
        d.db_user, d.db_name
    );
    match target {
        BackupTarget::S3 { bucket, key } => {
            let file = key.rsplit('/').next().unwrap_or(key);
            out.push(format!(
                "  mc cp <alias>/{bucket}/{key} ./{file}    # or any S3 client"
            ));
            if bundled_pg {
                out.push(format!(
                    "  kubectl -n {namespace} exec -i {release}-postgresql-0 -- {restore} < ./{file}"
                ));
            } else {
                out.push(format!(
                    "  PGPASSWORD=<from Secret {} key {}> {restore} -h {} -p {} ./{file}",
                    d.db_secret.0, d.db_secret.1, d.db_host, d.db_port
                ));
            }
        }
        BackupTarget::Pvc { claim, file } => {
            out.push(format!(
                "  in a pod of image {pg_image} with PVC {claim} mounted at /backups and PGPASSWORD from Secret {} key {}:",
                d.db_secret.0, d.db_secret.1
            ));
            out.push(format!(
                "  {restore} -h {} -p {} /backups/{file}",
                d.db_host, d.db_port
            ));
        }
    }
    out
}

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

    #[test]
    fn restore_hints_name_the_dump_and_no_password() {
        let loaded = crate::values::load(&[]).unwrap();
        let d = Derived::new("acme", &loaded.values);
        let s3 = BackupTarget::S3 {
            bucket: "odoo-filestore".into(),
            key: "backups/acme-odoo-1-2611272305.dump".into(),
        };
        let h = restore_hint(&s3, "shop", "acme", &d, true, "postgres:17.6").join("\n");
        assert!(
            h.contains("s3://odoo-filestore/backups/acme-odoo-1-2611272305.dump"),
            "{h}"
        );
        assert!(h.contains(
            "kubectl -n shop exec -i acme-postgresql-0 -- pg_restore --clean --if-exists --no-owner -U odoo -d odoo < ./acme-odoo-1-2611272305.dump"
        ), "{h}");
        let pvc = BackupTarget::Pvc {
            claim: "acme-odoo-backups".into(),
            file: "f.dump".into(),
        };
        let h = restore_hint(&pvc, "shop", "acme", &d, true, "postgres:17.6").join("\n");
        assert!(
            h.contains("pvc:acme-odoo-backups/f.dump") && h.contains("/backups/f.dump"),
            "{h}"
        );
        assert!(h.contains("Secret acme-odoo key db-password"), "{h}");
    }
}
