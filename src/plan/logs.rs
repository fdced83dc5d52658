//! What `odoo-tui logs` reads: which instance and component the arguments mean, and
//! which containers of which pods (a Job component's newest Job only), in order.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use crate::status::{Component, ComponentKind};

/// The instance (None: the namespace's only one) and the component the arguments mean.
/// One argument that names a component and no instance is the component.
pub fn split_args(
    first: Option<&str>,
    second: Option<&str>,
    instances: &[String],
) -> Result<(Option<String>, Component), String> {
    let component = |s: &str| {
        Component::from_label(s).ok_or_else(|| {
            let known: Vec<&str> = Component::ALL.iter().map(|c| c.label()).collect();
            format!(
                "`{s}` is not a component of an instance — one of: {}",
                known.join(", ")
            )
        })
    };
    match (first, second) {
        (None, _) => Ok((None, Component::Backend)),
        (Some(n), Some(c)) => Ok((Some(n.to_string()), component(c)?)),
        (Some(x), None) if !instances.iter().any(|i| i == x) => match Component::from_label(x) {
            Some(c) => Ok((None, c)),
            None => Ok((Some(x.to_string()), Component::Backend)),
        },
        (Some(n), None) => Ok((Some(n.to_string()), Component::Backend)),
    }
}

/// The Job a pod belongs to, by its `job-name` label or owner.
pub fn job_of(p: &Pod) -> Option<&str> {
    let labels = p.metadata.labels.as_ref();
    labels
        .and_then(|l| {
            l.get("batch.kubernetes.io/job-name")
                .or_else(|| l.get("job-name"))
        })
        .map(String::as_str)
        .or_else(|| {
            p.metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.kind == "Job")
                .map(|o| o.name.as_str())
        })
}

/// The newest of a component's Jobs (upgrades and backups leave one per run).
pub fn newest_job(jobs: &[Job]) -> Option<&str> {
    jobs.iter()
        .max_by_key(|j| {
            (
                j.metadata.creation_timestamp.as_ref().map(|t| t.0),
                j.metadata.name.clone(),
            )
        })
        .and_then(|j| j.metadata.name.as_deref())
}

/// The pods to read, oldest first: every pod of a workload; the newest Job's pods for a
/// Job component (each attempt).
pub fn pods_to_read<'a>(component: Component, pods: &'a [Pod], jobs: &[Job]) -> Vec<&'a Pod> {
    let job = newest_job(jobs);
    let mut out: Vec<&Pod> = pods
        .iter()
        .filter(|p| component.kind() == ComponentKind::Workload || job_of(p) == job)
        .collect();
    out.sort_by_key(|p| {
        (
            p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            p.metadata.name.clone(),
        )
    });
    out
}

fn statuses(p: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let s = p.status.as_ref();
    s.and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default()
        .iter()
        .chain(
            s.and_then(|s| s.container_statuses.as_deref())
                .unwrap_or_default(),
        )
}

/// The containers of a pod whose log can be read: started (running or ended), or with
/// `previous` restarted at least once. Init containers first.
pub fn readable_containers(p: &Pod, previous: bool) -> Vec<String> {
    statuses(p)
        .filter(|c| {
            if previous {
                c.last_state
                    .as_ref()
                    .is_some_and(|s| s.terminated.is_some())
            } else {
                c.state
                    .as_ref()
                    .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
            }
        })
        .map(|c| c.name.clone())
        .collect()
}

/// A pod that has not finished yet.
pub fn active(p: &Pod) -> bool {
    !matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// The prefix of a line of `pod`'s container.
pub fn prefix(pod: &str, container: &str) -> String {
    format!("[{pod}/{container}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_argument_is_a_component_unless_an_instance_has_its_name() {
        let none: Vec<String> = vec![];
        assert_eq!(
            split_args(Some("init"), None, &none).unwrap(),
            (None, Component::Init)
        );
        assert_eq!(
            split_args(Some("acme"), None, &none).unwrap(),
            (Some("acme".into()), Component::Backend)
        );
        let named_init = vec!["init".to_string()];
        assert_eq!(
            split_args(Some("init"), None, &named_init).unwrap(),
            (Some("init".into()), Component::Backend)
        );
        assert_eq!(
            split_args(Some("acme"), Some("upgrade"), &none).unwrap(),
            (Some("acme".into()), Component::Upgrade)
        );
        let e = split_args(Some("acme"), Some("odoo"), &none).unwrap_err();
        assert!(e.starts_with("`odoo` is not a component"), "{e}");
        assert!(e.contains("storage-init"), "{e}");
        assert_eq!(
            split_args(None, None, &none).unwrap(),
            (None, Component::Backend)
        );
    }

    #[test]
    fn a_job_component_reads_its_newest_job_in_attempt_order() {
        let yaml = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/status/job-attempt-failed.yaml"
        ))
        .unwrap();
        let snap = crate::status::Snapshot::from_kubectl_list(&yaml).unwrap();
        let mut old = snap.jobs[0].clone();
        old.metadata.name = Some("acme-odoo-storage-init-old".into());
        old.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-05-01T00:00:00Z".parse().unwrap(),
            ));
        let jobs = vec![old, snap.jobs[0].clone()];
        let pods = pods_to_read(Component::StorageInit, &snap.pods, &jobs);
        assert_eq!(pods.len(), 1);
        assert_eq!(readable_containers(pods[0], false), ["storage-init"]);
        assert!(readable_containers(pods[0], true).is_empty());
        assert!(!active(pods[0]));
        // A newer Job without pods yet: nothing of the old one is read.
        let mut newer = jobs[1].clone();
        newer.metadata.name = Some("acme-odoo-storage-init-new".into());
        newer.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-05-05T00:00:00Z".parse().unwrap(),
            ));
        assert!(pods_to_read(Component::StorageInit, &snap.pods, &[newer]).is_empty());
    }
}
