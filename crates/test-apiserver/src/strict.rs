//! `fieldValidation=Strict`: unknown fields are rejected for the parts of the schema
//! this server knows (top level, metadata, workload specs, pod specs, containers).
//! Deeper structures are not checked.

use serde_json::Value;

const META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
const POD_SPEC: &[&str] = &[
    "volumes",
    "initContainers",
    "containers",
    "ephemeralContainers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "dnsPolicy",
    "nodeSelector",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "nodeName",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "shareProcessNamespace",
    "securityContext",
    "imagePullSecrets",
    "hostname",
    "subdomain",
    "affinity",
    "schedulerName",
    "tolerations",
    "hostAliases",
    "priorityClassName",
    "priority",
    "dnsConfig",
    "readinessGates",
    "runtimeClassName",
    "enableServiceLinks",
    "preemptionPolicy",
    "overhead",
    "topologySpreadConstraints",
    "setHostnameAsFQDN",
    "os",
    "hostUsers",
    "schedulingGates",
    "resourceClaims",
    "resources",
];
const CONTAINER: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "volumeMounts",
    "volumeDevices",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
];

fn top_level(kind: &str) -> &'static [&'static str] {
    match kind {
        "Secret" => &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "stringData",
            "type",
            "immutable",
        ],
        "ConfigMap" => &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "binaryData",
            "immutable",
        ],
        "ServiceAccount" => &[
            "apiVersion",
            "kind",
            "metadata",
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        _ => &["apiVersion", "kind", "metadata", "spec", "status"],
    }
}

fn spec_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Deployment" => &[
            "replicas",
            "selector",
            "template",
            "strategy",
            "minReadySeconds",
            "revisionHistoryLimit",
            "paused",
            "progressDeadlineSeconds",
        ],
        "ReplicaSet" => &["replicas", "minReadySeconds", "selector", "template"],
        "StatefulSet" => &[
            "replicas",
            "selector",
            "template",
            "volumeClaimTemplates",
            "serviceName",
            "podManagementPolicy",
            "updateStrategy",
            "revisionHistoryLimit",
            "minReadySeconds",
            "persistentVolumeClaimRetentionPolicy",
            "ordinals",
        ],
        "Job" => &[
            "parallelism",
            "completions",
            "activeDeadlineSeconds",
            "podFailurePolicy",
            "successPolicy",
            "backoffLimit",
            "backoffLimitPerIndex",
            "maxFailedIndexes",
            "selector",
            "manualSelector",
            "template",
            "ttlSecondsAfterFinished",
            "completionMode",
            "suspend",
            "podReplacementPolicy",
            "managedBy",
        ],
        "Service" => &[
            "ports",
            "selector",
            "clusterIP",
            "clusterIPs",
            "type",
            "externalIPs",
            "sessionAffinity",
            "loadBalancerIP",
            "loadBalancerSourceRanges",
            "externalName",
            "externalTrafficPolicy",
            "healthCheckNodePort",
            "publishNotReadyAddresses",
            "sessionAffinityConfig",
            "ipFamilies",
            "ipFamilyPolicy",
            "allocateLoadBalancerNodePorts",
            "loadBalancerClass",
            "internalTrafficPolicy",
            "trafficDistribution",
        ],
        "PersistentVolumeClaim" => &[
            "accessModes",
            "selector",
            "resources",
            "volumeName",
            "storageClassName",
            "volumeMode",
            "dataSource",
            "dataSourceRef",
            "volumeAttributesClassName",
        ],
        "Pod" => POD_SPEC,
        "Lease" => &[
            "holderIdentity",
            "leaseDurationSeconds",
            "acquireTime",
            "renewTime",
            "leaseTransitions",
            "strategy",
            "preferredHolder",
        ],
        "CronJob" => &[
            "schedule",
            "timeZone",
            "startingDeadlineSeconds",
            "concurrencyPolicy",
            "suspend",
            "jobTemplate",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        ],
        _ => return None,
    })
}

fn check(obj: Option<&Value>, allowed: &[&str], path: &str, out: &mut Vec<String>) {
    if let Some(m) = obj.and_then(Value::as_object) {
        for k in m.keys() {
            if !k.starts_with('$') && !allowed.contains(&k.as_str()) {
                out.push(format!("{path}{k}"));
            }
        }
    }
}

fn check_pod_spec(spec: Option<&Value>, path: &str, out: &mut Vec<String>) {
    check(spec, POD_SPEC, &format!("{path}."), out);
    for list in ["initContainers", "containers"] {
        for (i, c) in spec
            .and_then(|s| s.get(list))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            check(Some(c), CONTAINER, &format!("{path}.{list}[{i}]."), out);
        }
    }
}

/// The unknown fields of `obj`, as `.spec.foo` paths.
pub fn unknown_fields(kind: &str, obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if kind == "Event" {
        return out;
    }
    check(Some(obj), top_level(kind), ".", &mut out);
    check(obj.get("metadata"), META, ".metadata.", &mut out);
    if let Some(keys) = spec_keys(kind) {
        check(obj.get("spec"), keys, ".spec.", &mut out);
    }
    if kind == "Pod" {
        check_pod_spec(obj.get("spec"), ".spec", &mut out);
    } else if let Some(t) = obj.pointer("/spec/template") {
        check(
            t.get("metadata"),
            META,
            ".spec.template.metadata.",
            &mut out,
        );
        check_pod_spec(t.get("spec"), ".spec.template.spec", &mut out);
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_typos() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "lables": {}},
            "spec": {"replica": 1, "template": {"spec": {"containers": [{"name": "c", "image": "i", "envFrom": [], "imagePullPolicyy": "x"}]}}}});
        assert_eq!(
            unknown_fields("Deployment", &d),
            vec![
                ".metadata.lables",
                ".spec.replica",
                ".spec.template.spec.containers[0].imagePullPolicyy"
            ]
        );
        let ok = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "b"}, "type": "Opaque"});
        assert!(unknown_fields("Secret", &ok).is_empty());
    }
}
