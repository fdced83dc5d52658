//! The one-line "next step" shown with every reason.

use super::model::{Component, Failure, Reason};

/// The next step for a failure seen in namespace `ns`.
pub fn next_step(f: &Failure, ns: &str) -> String {
    let c = f.component;
    let image = f.image.as_deref().unwrap_or("the image");
    let prefix = c.values_prefix();
    match f.reason {
        Reason::ImagePullBackOff | Reason::ErrImagePull => {
            image_pull(c, image, &f.detail, f.terminal)
        }
        Reason::InvalidImageName => format!(
            "image reference {image} is invalid — fix {}",
            c.image_tag_key().replace(".tag", ".repository/tag")
        ),
        Reason::CrashLoopBackOff => format!(
            "the container keeps exiting — read its log: kubectl logs -n {ns} {} --previous",
            pod_name(&f.object)
        ),
        Reason::OomKilled => format!("out of memory — raise {prefix}.resources.limits.memory"),
        Reason::Error => {
            let previous = if f.restarts.unwrap_or(0) > 0 {
                " --previous"
            } else {
                ""
            };
            let log = format!("kubectl logs -n {ns} {}{previous}", pod_name(&f.object));
            match f.attempt {
                Some(a) if a.number < a.of => {
                    format!("the Job tries again; the cause is in its log ({log})")
                }
                _ => format!("read the container's log for the cause: {log}"),
            }
        }
        Reason::CreateContainerConfigError => missing_secret(&f.detail),
        Reason::Unschedulable => format!(
            "no node can run the pod — add capacity or lower {prefix}.resources.requests, check {prefix}.nodeSelector/tolerations"
        ),
        Reason::UnboundPvc => format!(
            "the volume cannot be provisioned — check {}.persistence.storageClass and the cluster's StorageClasses",
            storage_prefix(c)
        ),
        Reason::ProbeFailed => format!(
            "{} is not ready yet (normal during start-up); if it lasts, read its log: kubectl logs -n {ns} {}",
            f.object,
            pod_name(&f.object)
        ),
        Reason::BackoffLimitExceeded | Reason::JobFailed => job_failed(c, &f.object, ns),
        Reason::DeadlineExceeded => format!(
            "{} ran past its deadline — check why it hangs (kubectl logs -n {ns} {}) or raise {}",
            f.object,
            kind_name(&f.object),
            deadline_key(c)
        ),
        Reason::ProgressDeadlineExceeded => format!(
            "the rollout of {} is stuck — see its pods: kubectl describe -n {ns} {}",
            f.object,
            kind_name(&f.object)
        ),
    }
}

fn image_pull(c: Component, image: &str, detail: &str, terminal: bool) -> String {
    let d = detail.to_ascii_lowercase();
    if !terminal {
        format!(
            "registry rate limit pulling {image} — wait, or pull through a mirror / authenticated global.imagePullSecrets"
        )
    } else if d.contains("unauthorized")
        || d.contains("denied")
        || d.contains("authentication required")
    {
        format!(
            "access to image {image} denied — check {} or global.imagePullSecrets",
            c.image_tag_key().replace(".tag", ".repository")
        )
    } else {
        format!("image {image} not found — fix {}", c.image_tag_key())
    }
}

/// `CreateContainerConfigError` details name the Secret (and key) that is missing.
fn missing_secret(detail: &str) -> String {
    let base = "create the Secret/key or fix the existingSecret setting";
    match missing_secret_ref(detail) {
        Some((secret, Some(key))) => format!("{base} (Secret {secret}, key {key})"),
        Some((secret, None)) => format!("{base} (Secret {secret})"),
        None => base.to_string(),
    }
}

/// Parse `couldn't find key K in Secret NS/NAME` and `secret "NAME" not found`.
pub fn missing_secret_ref(detail: &str) -> Option<(String, Option<String>)> {
    if let Some(rest) = detail.split("couldn't find key ").nth(1) {
        let mut words = rest.split_whitespace();
        let key = words.next()?.to_string();
        let secret = rest
            .split(" in Secret ")
            .nth(1)?
            .split_whitespace()
            .next()?;
        return Some((secret.to_string(), Some(key)));
    }
    let rest = detail.split("secret \"").nth(1)?;
    let name = rest.split('"').next()?;
    Some((name.to_string(), None))
}

fn job_failed(c: Component, object: &str, ns: &str) -> String {
    let log = format!("kubectl logs -n {ns} {}", kind_name(object));
    match c {
        Component::Upgrade => format!(
            "the upgrade failed; the backend stays on its old image — read the log ({log}); the backup taken before it can be restored"
        ),
        Component::Backup => {
            format!("the backup failed, nothing was changed — read the log ({log})")
        }
        _ => format!("read the Job's log: {log}"),
    }
}

fn deadline_key(c: Component) -> &'static str {
    match c {
        Component::Upgrade => "backend.autoUpgrade.activeDeadlineSeconds",
        _ => "the Job's activeDeadlineSeconds",
    }
}

fn storage_prefix(c: Component) -> &'static str {
    match c {
        Component::Minio => "minio",
        Component::Postgresql => "postgresql",
        _ => "backend",
    }
}

/// `Pod/x` → `x`.
fn pod_name(object: &str) -> &str {
    object.split_once('/').map_or(object, |(_, n)| n)
}

/// `Job/x` → `job/x` (kubectl's spelling).
fn kind_name(object: &str) -> String {
    match object.split_once('/') {
        Some((k, n)) => format!("{}/{n}", k.to_ascii_lowercase()),
        None => object.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_missing_key_and_missing_secret() {
        assert_eq!(
            missing_secret_ref("couldn't find key db-password in Secret shop/acme-db"),
            Some(("shop/acme-db".into(), Some("db-password".into())))
        );
        assert_eq!(
            missing_secret_ref("secret \"acme-s3\" not found"),
            Some(("acme-s3".into(), None))
        );
        assert_eq!(missing_secret_ref("something else"), None);
    }

    #[test]
    fn kubectl_spelling() {
        assert_eq!(kind_name("Job/acme-upgrade"), "job/acme-upgrade");
        assert_eq!(pod_name("Pod/p-1"), "p-1");
    }
}
