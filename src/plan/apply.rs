//! The pure half of applying: waves, ownership, Job re-creation, prune selection and
//! readable diffs. No IO here; `cluster/apply.rs` does the calls.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::render::{Object, template};
use crate::values::Derived;

/// What to wait for after a wave is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    Nothing,
    /// StatefulSets or Deployments with every replica ready and updated.
    Ready,
    /// Jobs that succeeded.
    Complete,
}

/// Objects applied together, concurrently, before the next wave starts.
#[derive(Debug, Clone)]
pub struct Wave {
    pub name: &'static str,
    pub objects: Vec<Object>,
    pub wait: WaitFor,
}

fn wave_index(o: &Object) -> usize {
    match (o.kind(), o.component()) {
        ("ServiceAccount" | "Secret" | "ConfigMap", _) => 0,
        ("Service" | "PersistentVolumeClaim", _) => 1,
        ("StatefulSet", _) => 2,
        ("Job", Some("minio-provisioning")) => 3,
        ("Job", Some("storage-init")) => 5,
        ("Job", Some("smoke-check")) => 7,
        ("Job", _) => 4,
        ("Deployment", _) => 6,
        _ => 8,
    }
}

/// The waves in order. Bucket provisioning has a wave of its own: init's storage step
/// writes into the bucket, so the bucket must exist before init starts.
const WAVES: [(&str, WaitFor); 9] = [
    ("credentials and configuration", WaitFor::Nothing),
    ("services and volumes", WaitFor::Nothing),
    ("databases and object storage", WaitFor::Ready),
    ("object storage buckets", WaitFor::Complete),
    ("database initialisation", WaitFor::Complete),
    ("filestore storage", WaitFor::Complete),
    ("Odoo", WaitFor::Ready),
    ("smoke check", WaitFor::Complete),
    (
        "disruption budgets, ingress and network policies",
        WaitFor::Nothing,
    ),
];

/// Split rendered objects into waves (see docs/ARCHITECTURE.md, "The apply engine"),
/// dropping empty ones.
pub fn waves(objects: &[Object]) -> Vec<Wave> {
    let mut out: Vec<Wave> = WAVES
        .iter()
        .map(|(name, wait)| Wave {
            name,
            objects: Vec::new(),
            wait: *wait,
        })
        .collect();
    for o in objects {
        out[wave_index(o)].objects.push(o.clone());
    }
    out.retain(|w| !w.objects.is_empty());
    out
}

/// Where the filestore goes compared with the last apply (the instance record's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilestoreChange {
    /// Where it was (or a new instance).
    Stays,
    /// From the backend's PVC to S3: the files on the PVC are copied to the bucket with
    /// the backend stopped, before the backend runs without the PVC (which is kept).
    ToS3,
}

/// How the filestore moves from what was applied last (`before`, `None` for a new
/// instance) to what is applied now; the `Err` is the message refusing to turn S3 off
/// (the attachments are in the bucket, and nothing moves them back).
pub fn filestore_change(
    before: Option<&Derived>,
    after: &Derived,
    release: &str,
) -> Result<FilestoreChange, String> {
    let Some(before) = before else {
        return Ok(FilestoreChange::Stays);
    };
    match (before.s3, after.s3) {
        (false, true) => Ok(FilestoreChange::ToS3),
        (true, false) => {
            let why = if after.s3_requested {
                "the new backend image lacks the S3 filestore modules (set backend.image.s3Modules=true if it has them, or keep an image that has them)"
            } else {
                "minio.enabled and externalS3.enabled would both be false"
            };
            Err(format!(
                "refusing to turn the S3 filestore of `{release}` off: {why}. Its attachments are in the bucket `{}` and odoo-tui does not move them back to a volume, so Odoo would lose them — keep S3 on (re-run without that change), or, to leave S3, back up (`odoo-tui backup {release}`) and restore the database and the bucket's files into a new instance yourself",
                before.s3_bucket
            ))
        }
        _ => Ok(FilestoreChange::Stays),
    }
}

/// Annotation holding a Job's identity (see [`crate::render::JOB_SPEC_HASH`]).
pub const SPEC_HASH: &str = crate::render::JOB_SPEC_HASH;

/// Add [`SPEC_HASH`] to a Job's metadata: a hash of its whole spec, unless the
/// renderer already gave the Job a narrower identity.
pub fn annotate(o: &mut Object) {
    if let Object::Job(job) = o {
        let spec = serde_json::to_string(&job.spec).unwrap_or_default();
        job.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .entry(SPEC_HASH.to_string())
            .or_insert_with(|| template::checksum(&spec));
    }
}

/// How an object of that name on the server relates to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Nothing there: create.
    Absent,
    /// Ours (labelled for this instance and managed by odoo-tui): apply with force.
    Ours,
    /// Someone else's: refuse unless `--force`; names the field managers.
    Foreign {
        managers: Vec<String>,
        instance: Option<String>,
    },
}

pub fn ownership(existing: Option<&Json>, release: &str) -> Ownership {
    let Some(obj) = existing else {
        return Ownership::Absent;
    };
    let labels = &obj["metadata"]["labels"];
    let managed = labels["app.kubernetes.io/managed-by"].as_str() == Some("odoo-tui");
    let instance = labels["app.kubernetes.io/instance"]
        .as_str()
        .map(str::to_string);
    if managed && instance.as_deref() == Some(release) {
        return Ownership::Ours;
    }
    let mut managers: Vec<String> = obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str().map(str::to_string))
        .collect();
    managers.dedup();
    Ownership::Foreign {
        managers,
        instance: if managed { instance } else { None },
    }
}

/// What to do with a Job that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// Same spec, not failed: applying changes nothing.
    Keep,
    /// Changed spec or failed, and finished: delete it, then create it again.
    Recreate,
    /// Changed spec but still running: wait for it to finish first.
    WaitThenRecreate,
}

/// Whether a Job has ended (its `Complete` or `Failed` condition is true).
pub fn job_ended(job: &Json) -> bool {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
}

pub fn job_action(existing: &Json, desired_hash: &str) -> JobAction {
    let hash = existing["metadata"]["annotations"][SPEC_HASH].as_str();
    let conditions = existing["status"]["conditions"].as_array();
    let has = |t: &str| {
        conditions
            .into_iter()
            .flatten()
            .any(|c| c["type"] == t && c["status"] == "True")
    };
    let failed = has("Failed");
    let finished = failed || has("Complete");
    if hash == Some(desired_hash) && !failed {
        JobAction::Keep
    } else if finished {
        JobAction::Recreate
    } else {
        JobAction::WaitThenRecreate
    }
}

/// How one volume claim template of a StatefulSet changes between the live object and
/// the rendered one. Claim templates are immutable: any change re-creates the StatefulSet
/// (its pods and claims orphaned and adopted again); only some keep the data where it is.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateChange {
    /// New (persistence turned on).
    Added,
    /// Gone (persistence turned off): the data would move to a volume that dies with its pod.
    Removed,
    /// Asks for more storage: the claims are expanded first.
    Grown { from: String, to: String },
    /// Only labels differ (e.g. `managed-by` added).
    Relabelled,
    /// Anything else a claim cannot follow (a smaller size, another storage class or
    /// access mode): what changes.
    Other(String),
}

impl TemplateChange {
    /// Whether the change must be refused while the claims exist.
    pub fn moves_data(&self) -> bool {
        matches!(self, TemplateChange::Removed | TemplateChange::Other(_))
    }
}

fn templates(sts: &Json) -> Vec<(String, Json)> {
    sts["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                t.clone(),
            )
        })
        .collect()
}

/// A template's spec with its storage request taken out (compared as a quantity) and
/// the defaults the server fills in removed.
fn template_spec(t: &Json) -> (Option<f64>, String, Json) {
    let mut spec = t["spec"].clone();
    let size = spec["resources"]["requests"]["storage"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(req) = spec
        .pointer_mut("/resources/requests")
        .and_then(Json::as_object_mut)
    {
        req.remove("storage");
    }
    if let Some(o) = spec.as_object_mut() {
        for (k, default) in [("volumeMode", "Filesystem")] {
            if o.get(k).and_then(Json::as_str) == Some(default) {
                o.remove(k);
            }
        }
        if spec["resources"]["requests"]
            .as_object()
            .is_some_and(|r| r.is_empty())
        {
            spec["resources"]
                .as_object_mut()
                .map(|r| r.remove("requests"));
        }
        if spec["resources"].as_object().is_some_and(|r| r.is_empty()) {
            spec.as_object_mut().map(|o| o.remove("resources"));
        }
    }
    (crate::values::validate::parse_quantity(&size), size, spec)
}

/// How the claim templates of a StatefulSet change from `live` to `desired` (both as
/// JSON), by template name; empty when nothing does. Sizes are compared as quantities
/// (`2048Mi` is `2Gi`).
pub fn claim_template_changes(live: &Json, desired: &Json) -> Vec<(String, TemplateChange)> {
    let (old, new) = (templates(live), templates(desired));
    let mut out = Vec::new();
    for (name, t) in &old {
        let Some((_, d)) = new.iter().find(|(n, _)| n == name) else {
            out.push((name.clone(), TemplateChange::Removed));
            continue;
        };
        let (old_q, old_size, old_spec) = template_spec(t);
        let (new_q, new_size, new_spec) = template_spec(d);
        let mut other = Vec::new();
        if old_spec != new_spec {
            for key in ["storageClassName", "accessModes", "volumeMode", "selector"] {
                if old_spec[key] != new_spec[key] {
                    other.push(format!("{key} {} → {}", old_spec[key], new_spec[key]));
                }
            }
            if other.is_empty() {
                other.push("its spec".to_string());
            }
        }
        let grown = match (old_q, new_q) {
            (Some(a), Some(b)) if b < a => {
                other.push(format!(
                    "size {old_size} → {new_size} (a claim cannot shrink)"
                ));
                false
            }
            (Some(a), Some(b)) => b > a,
            _ => old_size != new_size,
        };
        let change = if !other.is_empty() {
            TemplateChange::Other(other.join(", "))
        } else if grown {
            TemplateChange::Grown {
                from: old_size,
                to: new_size,
            }
        } else if t["metadata"]["labels"] != d["metadata"]["labels"] {
            TemplateChange::Relabelled
        } else {
            continue;
        };
        out.push((name.clone(), change));
    }
    for (name, _) in &new {
        if !old.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), TemplateChange::Added));
        }
    }
    out
}

/// Write in `desired` the storage size of each claim template as `live` writes it when
/// both are the same quantity (`2048Mi` and `2Gi`): claim templates are immutable, so an
/// equal size written differently must not reach the server as a change.
pub fn keep_equal_sizes(live: &Json, desired: &mut Json) {
    let old = templates(live);
    let Some(new) = desired
        .pointer_mut("/spec/volumeClaimTemplates")
        .and_then(Json::as_array_mut)
    else {
        return;
    };
    for t in new {
        let name = t["metadata"]["name"].as_str().unwrap_or_default();
        let Some((_, l)) = old.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let (live_q, live_size, _) = template_spec(l);
        let (q, _, _) = template_spec(t);
        if live_q.is_some() && live_q == q {
            t["spec"]["resources"]["requests"]["storage"] = Json::String(live_size);
        }
    }
}

/// The claims a StatefulSet (as JSON) holds for template `template`.
pub fn template_claims(sts: &Json, template: &str) -> Vec<String> {
    let name = sts["metadata"]["name"].as_str().unwrap_or_default();
    let replicas = sts["spec"]["replicas"].as_i64().unwrap_or(1).max(1);
    (0..replicas)
        .map(|i| format!("{template}-{name}-{i}"))
        .collect()
}

/// Why a claim template change is refused: the StatefulSet `sts`, its component's
/// persistence key, the claims that hold the data and how to move it.
pub fn claim_refusal(
    release: &str,
    sts: &str,
    component: &str,
    template: &str,
    change: &TemplateChange,
    claims: &[String],
) -> String {
    let key = format!("{component}.persistence");
    let held = claims
        .iter()
        .map(|c| format!("PersistentVolumeClaim/{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let what = match change {
        TemplateChange::Removed => format!(
            "`{key}.enabled: false` would put the data of StatefulSet/{sts} on a volume that is deleted with its pod, while {held} holds it"
        ),
        TemplateChange::Other(d) => format!(
            "the claim template `{template}` of StatefulSet/{sts} would change {d}, while {held} holds the data: a claim cannot follow, and re-creating it would start empty"
        ),
        _ => String::new(),
    };
    format!(
        "{what} — nothing was applied. Keep `{key}` as it is (only a larger `{key}.size` is applied in place); to move the data, back it up (`odoo-tui backup {release}`), delete the instance with its data, create it with the new settings and restore the backup"
    )
}

/// Components whose Jobs are history, not configuration: never pruned by `new`.
const KEPT_COMPONENTS: &[&str] = &["upgrade", "backup", "restore", "clone"];

/// Objects of this instance on the server that the configuration no longer contains.
pub fn prune_candidates(
    live: &[(String, Json)],
    rendered: &[Object],
    record_name: &str,
) -> Vec<(String, String)> {
    let wanted: BTreeSet<(String, String)> = rendered
        .iter()
        .map(|o| (o.kind().to_string(), o.name().to_string()))
        .collect();
    live.iter()
        .filter_map(|(kind, obj)| {
            let name = obj["metadata"]["name"].as_str()?.to_string();
            let component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
                .as_str()
                .unwrap_or("");
            let keep = wanted.contains(&(kind.clone(), name.clone()))
                || KEPT_COMPONENTS.contains(&component)
                || (kind == "ConfigMap" && name == record_name)
                || obj["metadata"]["deletionTimestamp"].is_string()
                || !obj["metadata"]["ownerReferences"].is_null();
            (!keep).then_some((kind.clone(), name))
        })
        .collect()
}

/// Server-set fields removed before comparing or showing an object.
pub fn comparable(obj: &Json) -> Json {
    let mut v = obj.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Json::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            m.remove(k);
        }
        if let Some(Json::Object(a)) = m.get_mut("annotations") {
            a.remove("deployment.kubernetes.io/revision");
            if a.is_empty() {
                m.remove("annotations");
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// A unified diff of two objects as YAML, with Secret values hidden.
pub fn diff(before: Option<&Json>, after: &Json) -> String {
    let show = |j: &Json, before: Option<&Json>| {
        crate::output::to_yaml(&hide_secret_values(&comparable(j), before))
    };
    let old = before.map(|b| show(b, None)).unwrap_or_default();
    let new = show(after, Some(before.unwrap_or(&Json::Null)));
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("live", "new")
        .to_string()
}

/// A Secret with every value replaced by a marker. The live side (`before: None`) reads
/// `<redacted>`; the new side reads `<redacted>` where the live object holds the same
/// value and `<redacted, changed>` where it differs or is new. The diff shows that a value
/// changed, never any part or hash of it (a short hash of a weak password can be reversed
/// by trying candidates).
fn hide_secret_values(obj: &Json, before: Option<&Json>) -> Json {
    let mut v = obj.clone();
    if v["kind"] == "Secret" {
        for field in ["data", "stringData"] {
            let live = before.and_then(|o| o.get(field));
            if let Some(Json::Object(map)) = v.get_mut(field) {
                for (key, val) in map.iter_mut() {
                    let same = live.and_then(|t| t.get(key)) == Some(&*val);
                    *val = Json::String(
                        if before.is_none() || same {
                            "<redacted>"
                        } else {
                            "<redacted, changed>"
                        }
                        .to_string(),
                    );
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render_quick_start() -> Vec<Object> {
        let v = crate::values::load(&[crate::presets::load("quick-start").unwrap()])
            .unwrap()
            .values;
        let creds = crate::credentials::generate(&crate::render::needed_credentials(&v));
        crate::render::render(&crate::render::RenderInput {
            release: "acme",
            namespace: "ns",
            values: &v,
            credentials: &creds,
        })
        .unwrap()
    }

    #[test]
    fn waves_follow_the_dependency_order() {
        let w = waves(&render_quick_start());
        let names: Vec<Vec<String>> = w
            .iter()
            .map(|w| w.objects.iter().map(Object::key).collect())
            .collect();
        assert_eq!(
            names[0],
            [
                "ServiceAccount/acme-odoo",
                "Secret/acme-odoo",
                "Secret/acme-odoo-config"
            ]
        );
        assert_eq!(
            names[1],
            [
                "Service/acme-postgresql",
                "Service/acme-minio",
                "Service/acme-odoo-backend"
            ]
        );
        assert_eq!(
            names[2],
            ["StatefulSet/acme-postgresql", "StatefulSet/acme-minio"]
        );
        // The bucket exists before init's storage step writes into it.
        assert_eq!(names[3], ["Job/acme-minio-provisioning"]);
        assert_eq!(names[4], ["Job/acme-odoo-init"]);
        assert_eq!(names[5], ["Job/acme-odoo-storage-init"]);
        assert_eq!(names[6], ["Deployment/acme-odoo-backend"]);
        assert_eq!(names[7], ["Job/acme-odoo-smoke-check"]);
        assert_eq!(w[2].wait, WaitFor::Ready);
        assert_eq!(w[3].wait, WaitFor::Complete);
        assert_eq!(w[4].wait, WaitFor::Complete);
    }

    #[test]
    fn turning_s3_on_moves_the_filestore_and_turning_it_off_is_refused() {
        let d = |sets: &[&str]| {
            let sources: Vec<_> = sets
                .iter()
                .map(|s| crate::values::Source::set(s).unwrap())
                .collect();
            let v = crate::values::load(&sources).unwrap().values;
            Derived::new("acme", &v)
        };
        let (pvc, s3) = (d(&["minio.enabled=false"]), d(&[]));
        assert_eq!(
            filestore_change(Some(&pvc), &s3, "acme"),
            Ok(FilestoreChange::ToS3)
        );
        assert_eq!(
            filestore_change(None, &s3, "acme"),
            Ok(FilestoreChange::Stays)
        );
        assert_eq!(
            filestore_change(Some(&s3), &s3, "acme"),
            Ok(FilestoreChange::Stays)
        );
        assert_eq!(
            filestore_change(Some(&pvc), &pvc, "acme"),
            Ok(FilestoreChange::Stays)
        );
        let e = filestore_change(Some(&s3), &pvc, "acme").unwrap_err();
        assert!(
            e.contains("refusing to turn the S3 filestore of `acme` off"),
            "{e}"
        );
        assert!(
            e.contains("minio.enabled") && e.contains("odoo-filestore"),
            "{e}"
        );
        assert!(e.contains("keep S3 on"), "{e}");
        // An image without the S3 modules would turn it off just the same.
        let lacking = d(&["backend.image.repository=odoo", "backend.image.tag=18.0"]);
        let e = filestore_change(Some(&s3), &lacking, "acme").unwrap_err();
        assert!(e.contains("backend.image.s3Modules"), "{e}");
    }

    #[test]
    fn a_jobs_own_identity_is_kept_others_get_their_specs_hash() {
        let objects = render_quick_start();
        let hash = |o: &Object| o.metadata().annotations.as_ref().unwrap()[SPEC_HASH].clone();
        let init = objects
            .iter()
            .find(|o| o.name() == "acme-odoo-init")
            .unwrap();
        let rendered = hash(init);
        let mut annotated = init.clone();
        annotate(&mut annotated);
        assert_eq!(hash(&annotated), rendered);
        let mut smoke = objects
            .iter()
            .find(|o| o.name() == "acme-odoo-smoke-check")
            .unwrap()
            .clone();
        assert!(smoke.metadata().annotations.is_none());
        annotate(&mut smoke);
        assert_eq!(hash(&smoke).len(), rendered.len());
    }

    #[test]
    fn ownership_needs_both_labels() {
        let ours = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "odoo-tui", "app.kubernetes.io/instance": "acme"}}});
        assert_eq!(ownership(Some(&ours), "acme"), Ownership::Ours);
        assert_eq!(ownership(None, "acme"), Ownership::Absent);
        let other_instance = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "odoo-tui", "app.kubernetes.io/instance": "shop"}, "managedFields": [{"manager": "odoo-tui"}]}});
        assert_eq!(
            ownership(Some(&other_instance), "acme"),
            Ownership::Foreign {
                managers: vec!["odoo-tui".into()],
                instance: Some("shop".into())
            }
        );
        let helm = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm"}, "managedFields": [{"manager": "helm"}, {"manager": "kubectl-edit"}]}});
        assert_eq!(
            ownership(Some(&helm), "acme"),
            Ownership::Foreign {
                managers: vec!["helm".into(), "kubectl-edit".into()],
                instance: None
            }
        );
    }

    #[test]
    fn jobs_are_recreated_only_when_changed_or_failed() {
        let job = |hash: &str, cond: Option<&str>| {
            let conditions = cond
                .map(|c| json!([{"type": c, "status": "True"}]))
                .unwrap_or(json!([]));
            json!({"metadata": {"annotations": {SPEC_HASH: hash}}, "status": {"conditions": conditions}})
        };
        assert_eq!(
            job_action(&job("a", Some("Complete")), "a"),
            JobAction::Keep
        );
        assert_eq!(job_action(&job("a", None), "a"), JobAction::Keep);
        assert_eq!(
            job_action(&job("a", Some("Complete")), "b"),
            JobAction::Recreate
        );
        assert_eq!(
            job_action(&job("a", Some("Failed")), "a"),
            JobAction::Recreate
        );
        assert_eq!(
            job_action(&job("a", None), "b"),
            JobAction::WaitThenRecreate
        );
    }

    #[test]
    fn prune_keeps_what_is_rendered_history_and_the_record() {
        let rendered = render_quick_start();
        let obj = |name: &str, component: &str| json!({"metadata": {"name": name, "labels": {"app.kubernetes.io/component": component}}});
        let live = vec![
            (
                "Deployment".to_string(),
                obj("acme-odoo-backend", "backend"),
            ),
            ("Deployment".to_string(), obj("acme-odoo-nginx", "nginx")),
            ("ConfigMap".to_string(), obj("acme-odoo-nginx", "nginx")),
            ("ConfigMap".to_string(), obj("acme-odoo-odoo-tui", "")),
            ("Job".to_string(), obj("acme-odoo-upgrade-3", "upgrade")),
            (
                "Job".to_string(),
                obj("acme-odoo-backup-3-2611271200", "backup"),
            ),
            (
                "Job".to_string(),
                obj("acme-odoo-restore-2611271200", "restore"),
            ),
        ];
        assert_eq!(
            prune_candidates(&live, &rendered, "acme-odoo-odoo-tui"),
            [
                ("Deployment".to_string(), "acme-odoo-nginx".to_string()),
                ("ConfigMap".to_string(), "acme-odoo-nginx".to_string())
            ]
        );
    }

    #[test]
    fn claim_templates_compare_sizes_as_quantities_and_tell_growth_from_moves() {
        let sts = |size: &str, class: Option<&str>, managed: bool| {
            let mut labels = json!({"app.kubernetes.io/component": "postgresql"});
            if managed {
                labels["app.kubernetes.io/managed-by"] = json!("odoo-tui");
            }
            let mut spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}});
            if let Some(c) = class {
                spec["storageClassName"] = json!(c);
            }
            json!({"metadata": {"name": "acme-postgresql"}, "spec": {"replicas": 1,
                "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": labels}, "spec": spec}]}})
        };
        let mut defaulted = sts("2Gi", None, true);
        defaulted["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] = json!("Filesystem");
        assert_eq!(
            claim_template_changes(&defaulted, &sts("2048Mi", None, true)),
            []
        );
        assert_eq!(
            claim_template_changes(&sts("2Gi", None, true), &sts("3Gi", None, true)),
            [(
                "data".to_string(),
                TemplateChange::Grown {
                    from: "2Gi".into(),
                    to: "3Gi".into()
                }
            )]
        );
        assert_eq!(
            claim_template_changes(&sts("2Gi", None, false), &sts("2Gi", None, true)),
            [("data".to_string(), TemplateChange::Relabelled)]
        );
        let shrink = claim_template_changes(&sts("2Gi", None, true), &sts("1Gi", None, true));
        assert!(
            matches!(&shrink[..], [(_, TemplateChange::Other(d))] if d.contains("cannot shrink")),
            "{shrink:?}"
        );
        let class = claim_template_changes(
            &sts("2Gi", Some("standard"), true),
            &sts("2Gi", Some("fast"), true),
        );
        assert!(
            matches!(&class[..], [(_, TemplateChange::Other(d))] if d.contains("storageClassName")),
            "{class:?}"
        );
        let off = json!({"metadata": {"name": "acme-postgresql"}, "spec": {"replicas": 1}});
        let removed = claim_template_changes(&sts("2Gi", None, true), &off);
        assert_eq!(removed, [("data".to_string(), TemplateChange::Removed)]);
        assert!(removed[0].1.moves_data());
        assert_eq!(
            claim_template_changes(&off, &sts("2Gi", None, true)),
            [("data".to_string(), TemplateChange::Added)]
        );
        assert_eq!(
            template_claims(&sts("2Gi", None, true), "data"),
            ["data-acme-postgresql-0"]
        );
    }

    #[test]
    fn diffs_hide_secret_values_but_show_that_they_changed() {
        let a = json!({"kind": "Secret", "metadata": {"name": "s", "resourceVersion": "5"}, "data": {"k": "c2VjcmV0"}});
        let b = json!({"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "b3RoZXI="}});
        let d = diff(Some(&a), &b);
        assert!(
            d.contains("-  k: <redacted>") && d.contains("+  k: <redacted, changed>"),
            "{d}"
        );
        assert!(!d.contains("c2VjcmV0") && !d.contains("b3RoZXI="));
        assert_eq!(diff(Some(&a), &a), "");
        // No hash or part of a value: the markers are the same whatever the values are.
        let c = json!({"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "eWV0IGFub3RoZXI=", "same": "eA=="}});
        let d2 = json!({"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "Zm9vYmFy", "same": "eA=="}});
        let text = diff(Some(&c), &d2);
        assert_eq!(text.replace("eWV0IGFub3RoZXI=", "").len(), text.len());
        for line in text
            .lines()
            .filter(|l| l.contains("k:") || l.contains("same:"))
        {
            let marker = line.split_once(": ").map(|(_, m)| m).unwrap_or_default();
            assert!(
                marker == "<redacted>" || marker == "<redacted, changed>",
                "{line}"
            );
        }
        assert!(text.contains("   same: <redacted>"), "{text}");
    }
}
