//! The kinds odoo-tui reads and writes, with their API coordinates.

use kube::core::ApiResource;

/// One kind: where it lives in the API and whether `odoo-tui` may prune it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// Only these kinds are pruned (docs/ARCHITECTURE.md, "The apply engine"); PVCs and
    /// Secrets never are.
    pub prunable: bool,
}

pub const KINDS: &[Kind] = &[
    Kind {
        kind: "Namespace",
        group: "",
        version: "v1",
        plural: "namespaces",
        namespaced: false,
        prunable: false,
    },
    Kind {
        kind: "ServiceAccount",
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        namespaced: true,
        prunable: false,
    },
    Kind {
        kind: "Secret",
        group: "",
        version: "v1",
        plural: "secrets",
        namespaced: true,
        prunable: false,
    },
    Kind {
        kind: "ConfigMap",
        group: "",
        version: "v1",
        plural: "configmaps",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "Service",
        group: "",
        version: "v1",
        plural: "services",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "PersistentVolumeClaim",
        group: "",
        version: "v1",
        plural: "persistentvolumeclaims",
        namespaced: true,
        prunable: false,
    },
    Kind {
        kind: "StatefulSet",
        group: "apps",
        version: "v1",
        plural: "statefulsets",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "Deployment",
        group: "apps",
        version: "v1",
        plural: "deployments",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "Job",
        group: "batch",
        version: "v1",
        plural: "jobs",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "CronJob",
        group: "batch",
        version: "v1",
        plural: "cronjobs",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "PodDisruptionBudget",
        group: "policy",
        version: "v1",
        plural: "poddisruptionbudgets",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "Ingress",
        group: "networking.k8s.io",
        version: "v1",
        plural: "ingresses",
        namespaced: true,
        prunable: true,
    },
    Kind {
        kind: "Lease",
        group: "coordination.k8s.io",
        version: "v1",
        plural: "leases",
        namespaced: true,
        prunable: false,
    },
    Kind {
        kind: "NetworkPolicy",
        group: "networking.k8s.io",
        version: "v1",
        plural: "networkpolicies",
        namespaced: true,
        prunable: true,
    },
];

impl Kind {
    pub fn by_name(kind: &str) -> Option<&'static Kind> {
        KINDS.iter().find(|k| k.kind == kind)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.to_string(),
            version: self.version.to_string(),
            api_version: self.api_version(),
            kind: self.kind.to_string(),
            plural: self.plural.to_string(),
        }
    }

    /// Kinds `odoo-tui` may prune, in deletion order (front-ends first).
    pub fn prunable() -> impl Iterator<Item = &'static Kind> {
        [
            "Ingress",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Deployment",
            "CronJob",
            "Job",
            "StatefulSet",
            "Service",
            "ConfigMap",
        ]
        .into_iter()
        .filter_map(Kind::by_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvcs_and_secrets_are_never_prunable() {
        let names: Vec<_> = Kind::prunable().map(|k| k.kind).collect();
        assert!(!names.contains(&"PersistentVolumeClaim") && !names.contains(&"Secret"));
        assert_eq!(names.len(), KINDS.iter().filter(|k| k.prunable).count());
    }

    #[test]
    fn every_rendered_kind_is_known() {
        for kind in [
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "Service",
            "PersistentVolumeClaim",
            "StatefulSet",
            "Job",
            "CronJob",
            "Deployment",
            "PodDisruptionBudget",
            "Ingress",
            "NetworkPolicy",
        ] {
            assert!(Kind::by_name(kind).is_some(), "{kind}");
        }
        assert_eq!(
            Kind::by_name("Ingress").unwrap().api_version(),
            "networking.k8s.io/v1"
        );
    }
}
