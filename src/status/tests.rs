//! The status model against YAML captured in the shape a cluster reports it
//! (`tests/fixtures/status/*.yaml`, `kind: List` as `kubectl get -o yaml` prints).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

/// The time every fixture was captured at: 2026-05-04T10:05:00Z.
pub(crate) const NOW: i64 = 1_777_889_100;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/status")
}

/// Load `tests/fixtures/status/<name>.yaml` (and `<name>.logs.yaml` when present).
pub(crate) fn fixture(name: &str) -> Snapshot {
    let yaml = std::fs::read_to_string(dir().join(format!("{name}.yaml"))).expect("fixture");
    let mut s = Snapshot::from_kubectl_list(&yaml).expect("fixture parses as k8s objects");
    if let Ok(logs) = std::fs::read_to_string(dir().join(format!("{name}.logs.yaml"))) {
        s.logs = serde_saphyr::from_str::<BTreeMap<String, Vec<String>>>(&logs).expect("logs");
    }
    s.instance = "acme".into();
    s.now = NOW;
    s
}

/// The install's components (bundled PostgreSQL and MinIO, nginx, no frontend).
pub(crate) const INSTALL: [Component; 8] = [
    Component::Postgresql,
    Component::Minio,
    Component::MinioProvisioning,
    Component::Init,
    Component::StorageInit,
    Component::Backend,
    Component::Nginx,
    Component::SmokeCheck,
];

fn status_of(name: &str) -> InstanceStatus {
    instance_status(&fixture(name))
}

fn failure_of(name: &str, c: Component) -> Failure {
    let s = status_of(name);
    s.component(c)
        .and_then(|c| c.failure.clone())
        .unwrap_or_else(|| panic!("{name}: no failure on {c}: {s:#?}"))
}

#[test]
fn now_constant_matches_the_capture_time() {
    let t: k8s_openapi::jiff::Timestamp = "2026-05-04T10:05:00Z".parse().unwrap();
    assert_eq!(t.as_second(), NOW);
}

#[test]
fn installing_is_progressing_with_later_waves_absent() {
    let mut snap = fixture("installing");
    snap.expected = INSTALL.to_vec();
    let s = instance_status(&snap);
    assert_eq!(s.overall, Overall::Progressing);
    let pg = s.component(Component::Postgresql).unwrap();
    assert_eq!(
        (pg.phase, pg.ready, pg.desired, pg.progress),
        (Phase::Ready, 1, 1, 1.0)
    );
    let minio = s.component(Component::Minio).unwrap();
    assert_eq!(minio.phase, Phase::Progressing);
    assert_eq!(minio.progress, 0.5);
    let init = s.component(Component::Init).unwrap();
    assert_eq!(
        (init.phase, init.kind),
        (Phase::Progressing, ComponentKind::Job)
    );
    assert_eq!(init.object.as_deref(), Some("Job/acme-odoo-init"));
    let backend = s.component(Component::Backend).unwrap();
    assert_eq!(
        (backend.phase, backend.ready, backend.desired),
        (Phase::Progressing, 0, 1)
    );
    assert_eq!(
        backend.pods[0].reason, None,
        "ContainerCreating is no reason"
    );
    assert_eq!(backend.pods[0].age_seconds, Some(30));
    assert_eq!(s.component(Component::Nginx).unwrap().phase, Phase::Absent);
    assert!(s.components.iter().all(|c| c.failure.is_none()));
    assert_eq!(first_terminal_failure(&s), None);
}

#[test]
fn ready_when_every_workload_is_ready_and_every_job_succeeded() {
    let mut snap = fixture("ready");
    snap.expected = INSTALL.to_vec();
    let s = instance_status(&snap);
    assert_eq!(s.overall, Overall::Ready, "{s:#?}");
    let backend = s.component(Component::Backend).unwrap();
    assert_eq!((backend.ready, backend.desired), (2, 2));
    assert_eq!(backend.image.as_deref(), Some("odoo:18.0"));
    assert_eq!(backend.pods[0].node.as_deref(), Some("worker-1"));
    let smoke = s.component(Component::SmokeCheck).unwrap();
    assert_eq!((smoke.phase, smoke.progress), (Phase::Succeeded, 1.0));
    // Expecting a component that is not there keeps the instance progressing.
    snap.expected.push(Component::Frontend);
    assert_eq!(instance_status(&snap).overall, Overall::Progressing);
}

#[test]
fn image_not_found_is_terminal_with_image_and_next_step() {
    let f = failure_of("image-pull-backoff", Component::Backend);
    assert_eq!(f.reason, Reason::ImagePullBackOff);
    assert_eq!(f.image.as_deref(), Some("odoo:18.O"));
    assert!(f.terminal);
    assert!(f.detail.contains("not found"), "{}", f.detail);
    assert_eq!(
        f.next_step,
        "image odoo:18.O not found — fix backend.image.tag"
    );
    assert_eq!(f.object, "Pod/acme-odoo-backend-6c9f7d8b5-h4k8s");
    let s = status_of("image-pull-backoff");
    assert_eq!(first_terminal_failure(&s), Some(&f));
    assert!(matches!(s.overall, Overall::Failed { .. }));
    assert_eq!(
        s.component(Component::Backend).unwrap().phase,
        Phase::Failed
    );
}

#[test]
fn registry_rate_limit_is_transient() {
    let f = failure_of("image-pull-rate-limit", Component::Postgresql);
    assert_eq!(f.reason, Reason::ErrImagePull);
    assert!(!f.terminal);
    assert!(f.detail.contains("toomanyrequests"));
    assert!(
        f.next_step
            .starts_with("registry rate limit pulling postgres:17"),
        "{}",
        f.next_step
    );
    let s = status_of("image-pull-rate-limit");
    assert_eq!(s.overall, Overall::Progressing);
    assert_eq!(first_terminal_failure(&s), None);
}

#[test]
fn invalid_image_name_is_terminal() {
    let f = failure_of("invalid-image-name", Component::Backend);
    assert_eq!(f.reason, Reason::InvalidImageName);
    assert!(f.terminal);
    assert_eq!(f.image.as_deref(), Some("odoo:18.0:latest"));
    assert!(f.detail.contains("invalid reference format"));
    assert!(
        f.next_step.contains("backend.image.repository/tag"),
        "{}",
        f.next_step
    );
}

#[test]
fn crash_loop_has_exit_code_logs_and_is_terminal_after_three_restarts() {
    let f = failure_of("crash-loop", Component::Backend);
    assert_eq!(f.reason, Reason::CrashLoopBackOff);
    assert_eq!(
        (f.exit_code, f.restarts, f.terminal),
        (Some(1), Some(4), true)
    );
    assert_eq!(
        f.detail,
        "container odoo exited with code 1, restarted 4 times"
    );
    assert_eq!(f.log_lines.len(), 6);
    assert!(f.log_lines[5].contains("password authentication failed"));
    // The log names the cause, and the cause the fix: retrying cannot help.
    let cause = f.cause.as_ref().expect("a known cause");
    assert_eq!(cause.kind, CauseKind::PasswordAuthenticationFailed);
    assert!(!cause.retryable);
    assert_eq!(cause.facts.user.as_deref(), Some("odoo"));
    assert_eq!(f.next_step, cause.next_step);
    assert!(f.next_step.contains("existingSecret"), "{}", f.next_step);
    let s = status_of("crash-loop");
    let pod = &s.component(Component::Backend).unwrap().pods[0];
    assert_eq!(
        (pod.restarts, pod.reason.as_deref()),
        (4, Some("CrashLoopBackOff"))
    );
}

#[test]
fn crash_loop_below_three_restarts_is_transient() {
    let mut snap = fixture("crash-loop");
    let pod = snap
        .pods
        .iter_mut()
        .find(|p| pods::name(p).contains("backend"))
        .unwrap();
    let cs = &mut pod
        .status
        .as_mut()
        .unwrap()
        .container_statuses
        .as_mut()
        .unwrap()[0];
    cs.restart_count = 2;
    let s = instance_status(&snap);
    let f = s
        .component(Component::Backend)
        .unwrap()
        .failure
        .as_ref()
        .unwrap();
    assert_eq!((f.reason, f.terminal), (Reason::CrashLoopBackOff, false));
    assert_eq!(s.overall, Overall::Progressing);
}

#[test]
fn oom_killed_from_last_state() {
    let f = failure_of("oom-killed", Component::Backend);
    assert_eq!(f.reason, Reason::OomKilled);
    assert_eq!(
        (f.exit_code, f.restarts, f.terminal),
        (Some(137), Some(3), true)
    );
    assert_eq!(f.next_step, "raise backend.resources.limits.memory");
    let cause = f.cause.as_ref().expect("a known cause");
    assert_eq!(cause.kind, CauseKind::OomKilled);
    assert_eq!(cause.facts.limit.as_deref(), Some("2Gi"));
    assert!(
        cause.summary.contains("memory limit of 2Gi"),
        "{}",
        cause.summary
    );
    assert_eq!(f.log_lines.len(), 2);
    // With the worker count known, the limit to set is named.
    let mut snap = fixture("oom-killed");
    snap.workers = Some(4);
    let f = instance_status(&snap)
        .component(Component::Backend)
        .and_then(|c| c.failure.clone())
        .unwrap();
    assert_eq!(
        f.next_step,
        "raise backend.resources.limits.memory (about 1700Mi for 4 worker(s): 300Mi per worker + 500Mi) or lower backend.odoo.workers"
    );
}

#[test]
fn a_failed_job_carries_the_cause_of_its_last_pod() {
    let mut snap = fixture("job-backoff-limit");
    // The upgrade's own failure (a NOT NULL violation) is not a known cause.
    let f = instance_status(&snap)
        .component(Component::Upgrade)
        .and_then(|c| c.failure.clone())
        .unwrap();
    assert!(f.cause.is_none(), "{:?}", f.cause);
    assert!(f.next_step.starts_with("the upgrade failed"));
    // The same Job failing on a module the image lacks is named, and not retryable.
    for lines in snap.logs.values_mut() {
        lines.push("2026-05-04 10:04:02,020 1 WARNING acme odoo.modules.graph: module sale_subscription: not installable, skipped".into());
    }
    let f = instance_status(&snap)
        .component(Component::Upgrade)
        .and_then(|c| c.failure.clone())
        .unwrap();
    let cause = f.cause.expect("a known cause");
    assert_eq!(cause.kind, CauseKind::ModuleNotFound);
    assert_eq!(cause.facts.module.as_deref(), Some("sale_subscription"));
    assert!(!cause.retryable);
}

#[test]
fn missing_secret_key_names_secret_and_key() {
    let f = failure_of("missing-secret-key", Component::Init);
    assert_eq!(f.reason, Reason::CreateContainerConfigError);
    assert!(f.terminal);
    assert_eq!(
        f.detail,
        "couldn't find key db-password in Secret shop/acme-db"
    );
    assert_eq!(
        f.next_step,
        "create the Secret/key or fix the existingSecret setting (Secret shop/acme-db, key db-password)"
    );
}

#[test]
fn unschedulable_is_transient_with_scheduler_message() {
    let s = status_of("unschedulable");
    let backend = s.component(Component::Backend).unwrap();
    let f = backend.failure.as_ref().unwrap();
    assert_eq!((f.reason, f.terminal), (Reason::Unschedulable, false));
    assert!(f.detail.starts_with("0/3 nodes are available"));
    assert!(f.detail.contains("2 Insufficient memory"));
    assert_eq!(f.object, "Pod/acme-odoo-backend-6c9f7d8b5-p7r2d");
    assert_eq!(
        (backend.ready, backend.desired, backend.phase),
        (1, 2, Phase::Progressing)
    );
    assert_eq!(backend.progress, 0.5);
    assert_eq!(s.overall, Overall::Progressing);
}

#[test]
fn unbound_pvc_wins_over_the_pod_it_blocks() {
    let f = failure_of("unbound-pvc", Component::Postgresql);
    assert_eq!(f.reason, Reason::UnboundPvc);
    assert!(!f.terminal);
    assert_eq!(
        f.object,
        "PersistentVolumeClaim/data-acme-odoo-postgresql-0"
    );
    assert_eq!(
        f.detail,
        "storageclass.storage.k8s.io \"fast-ssd\" not found"
    );
    assert!(f.next_step.contains("postgresql.persistence.storageClass"));
}

#[test]
fn failing_readiness_probe_is_transient_and_takes_the_latest_event() {
    let f = failure_of("probe-failing", Component::Backend);
    assert_eq!((f.reason, f.terminal), (Reason::ProbeFailed, false));
    assert!(
        f.detail.starts_with("Readiness probe failed: Get"),
        "{}",
        f.detail
    );
    assert_eq!(f.log_lines.len(), 1);
}

#[test]
fn probe_events_of_a_ready_pod_are_history_not_a_reason() {
    let mut snap = fixture("probe-failing");
    snap.events.extend(fixture("ready").events);
    let ready = fixture("ready");
    let mut snap2 = ready.clone();
    // The ready backend pod with an old Unhealthy event about it.
    let mut ev = snap
        .events
        .iter()
        .find(|e| e.reason.as_deref() == Some("Unhealthy"))
        .unwrap()
        .clone();
    ev.involved_object.name = Some("acme-odoo-backend-6c9f7d8b5-h4k8s".into());
    snap2.events.push(ev);
    let s = instance_status(&snap2);
    assert!(s.component(Component::Backend).unwrap().failure.is_none());
}

#[test]
fn upgrade_job_backoff_limit_carries_pod_exit_code_and_logs() {
    let s = status_of("job-backoff-limit");
    let up = s.component(Component::Upgrade).unwrap();
    assert_eq!(up.phase, Phase::Failed);
    assert_eq!(
        up.object.as_deref(),
        Some("Job/acme-odoo-upgrade-20260504100300")
    );
    let f = up.failure.as_ref().unwrap();
    assert_eq!(
        (f.reason, f.terminal, f.exit_code),
        (Reason::BackoffLimitExceeded, true, Some(1))
    );
    assert_eq!(
        f.detail,
        "Job has reached the specified backoff limit (pod acme-odoo-upgrade-20260504100300-k2p8w: Error, exit code 1)"
    );
    assert!(f.log_lines.last().unwrap().contains("NotNullViolation"));
    assert!(f.next_step.contains("backend stays on its old image"));
    assert_eq!(
        s.component(Component::Backend).unwrap().phase,
        Phase::ScaledDown
    );
    assert_eq!(
        s.component(Component::Backup).unwrap().phase,
        Phase::Succeeded
    );
    assert!(matches!(first_terminal_failure(&s), Some(f) if f.component == Component::Upgrade));
}

#[test]
fn job_deadline_exceeded_is_terminal() {
    let f = failure_of("job-deadline-exceeded", Component::Init);
    assert_eq!((f.reason, f.terminal), (Reason::DeadlineExceeded, true));
    assert_eq!(f.detail, "Job was active longer than specified deadline");
    assert!(f.next_step.contains("activeDeadlineSeconds"));
}

#[test]
fn deployment_progress_deadline_is_terminal() {
    let f = failure_of("progress-deadline", Component::Backend);
    assert_eq!(
        (f.reason, f.terminal),
        (Reason::ProgressDeadlineExceeded, true)
    );
    assert_eq!(f.object, "Deployment/acme-odoo-backend");
    assert!(f.detail.contains("has timed out progressing"));
}

#[test]
fn upgrade_running_shows_the_active_job() {
    let s = status_of("upgrade-running");
    let up = s.component(Component::Upgrade).unwrap();
    assert_eq!((up.phase, up.progress), (Phase::Progressing, 0.25));
    assert_eq!(up.image.as_deref(), Some("odoo:18.0-20260501"));
    assert_eq!(s.overall, Overall::Progressing);
}

#[test]
fn other_instances_are_ignored() {
    let mut snap = fixture("crash-loop");
    snap.instance = "other".into();
    let s = instance_status(&snap);
    assert!(s.components.is_empty());
    assert_eq!(s.overall, Overall::Progressing);
}

#[test]
fn serialises_to_json_and_yaml_and_back() {
    let s = status_of("image-pull-backoff");
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["state"], "Failed");
    assert_eq!(json["failure"]["reason"], "ImagePullBackOff");
    assert_eq!(json["components"][0]["component"], "postgresql");
    let back: InstanceStatus = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
    let yaml = serde_saphyr::to_string(&s).unwrap();
    assert!(yaml.contains("state: Failed"), "{yaml}");
    let back: InstanceStatus = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back, s);
}

#[test]
fn event_lines_are_sorted_oldest_first() {
    let lines = event_lines(&fixture("image-pull-backoff").events);
    assert_eq!(lines.len(), 5);
    assert!(lines.windows(2).all(|w| w[0].time <= w[1].time));
    assert_eq!(lines[0].reason, "Pulling");
    assert_eq!(lines[0].object, "Pod/acme-odoo-backend-6c9f7d8b5-h4k8s");
    assert_eq!(lines.last().unwrap().count, 6);
}

#[test]
fn a_failed_job_outside_the_expected_set_does_not_fail_the_instance() {
    let mut snap = fixture("job-backoff-limit");
    snap.expected = vec![Component::Postgresql, Component::Minio, Component::Nginx];
    let s = instance_status(&snap);
    assert_eq!(s.overall, Overall::Ready);
    assert_eq!(first_terminal_failure(&s), None);
    // Still listed, with its reason, for the dashboard.
    let up = s.component(Component::Upgrade).unwrap();
    assert_eq!(
        up.failure.as_ref().unwrap().reason,
        Reason::BackoffLimitExceeded
    );
}

#[test]
fn a_failed_attempt_that_retrying_cannot_fix_is_terminal_at_once() {
    let s = status_of("job-attempt-failed");
    let si = s.component(Component::StorageInit).unwrap();
    assert_eq!(si.phase, Phase::Failed);
    let f = si.failure.as_ref().unwrap();
    assert_eq!((f.reason, f.terminal), (Reason::Error, true));
    assert_eq!(f.attempt, Some(Attempt { number: 1, of: 3 }));
    assert_eq!(
        f.detail,
        "attempt 1 of 3 failed: container storage-init exited with code 1"
    );
    assert_eq!(f.object, "Pod/acme-odoo-storage-init-x7k2p");
    assert_eq!(f.exit_code, Some(1));
    let cause = f.cause.as_ref().expect("a known cause");
    assert_eq!(cause.kind, CauseKind::PasswordAuthenticationFailed);
    assert_eq!(f.next_step, cause.next_step);
    assert_eq!(f.log_lines.len(), 6);
    assert!(f.log_lines[5].contains("password authentication failed"));
    assert!(matches!(first_terminal_failure(&s), Some(x) if x == f));
}

#[test]
fn a_failed_attempt_of_unknown_cause_is_failing_and_waits_for_the_retry() {
    let mut snap = fixture("job-attempt-failed");
    for lines in snap.logs.values_mut() {
        lines.truncate(4);
        lines.push("KeyError: 'fs.storage'".into());
    }
    let s = instance_status(&snap);
    let si = s.component(Component::StorageInit).unwrap();
    assert_eq!(si.phase, Phase::Failing);
    let f = si.failure.as_ref().unwrap();
    assert_eq!(
        (f.reason, f.terminal, f.cause.as_ref()),
        (Reason::Error, false, None)
    );
    assert_eq!(
        f.next_step,
        "the Job tries again; the cause is in its log (kubectl logs -n shop acme-odoo-storage-init-x7k2p)"
    );
    assert_eq!(f.log_lines.last().unwrap(), "KeyError: 'fs.storage'");
    assert_eq!(s.overall, Overall::Progressing);
    // Without its log (not read yet) it is failing too, with the exit code.
    snap.logs.clear();
    let s = instance_status(&snap);
    let si = s.component(Component::StorageInit).unwrap();
    assert_eq!(si.phase, Phase::Failing);
    assert!(si.failure.as_ref().unwrap().log_lines.is_empty());
}

/// The fixture's Job with a second attempt created after the first failed.
fn with_second_attempt(snap: &mut Snapshot, phase: &str) {
    let mut second = snap.pods[0].clone();
    second.metadata.name = Some("acme-odoo-storage-init-m3q9z".into());
    second.metadata.uid = Some("5d0c8e31-7f2a-4b6e-9c1d-0a3e7b5f2c48".into());
    second.metadata.creation_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-05-04T10:04:41Z".parse().unwrap(),
        ));
    let st = second.status.as_mut().unwrap();
    st.phase = Some(phase.into());
    let cs = &mut st.container_statuses.as_mut().unwrap()[0];
    cs.state = Some(match phase {
        "Succeeded" => k8s_openapi::api::core::v1::ContainerState {
            terminated: Some(k8s_openapi::api::core::v1::ContainerStateTerminated {
                exit_code: 0,
                reason: Some("Completed".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        _ => k8s_openapi::api::core::v1::ContainerState {
            running: Some(Default::default()),
            ..Default::default()
        },
    });
    snap.pods.push(second);
}

#[test]
fn the_next_attempt_runs_with_the_failed_one_shown_and_a_success_clears_it() {
    let mut snap = fixture("job-attempt-failed");
    for lines in snap.logs.values_mut() {
        lines.truncate(4);
    }
    with_second_attempt(&mut snap, "Running");
    let s = instance_status(&snap);
    let si = s.component(Component::StorageInit).unwrap();
    assert_eq!(si.phase, Phase::Progressing);
    assert_eq!(si.pods.len(), 2);
    let f = si.failure.as_ref().unwrap();
    assert_eq!(f.attempt, Some(Attempt { number: 1, of: 3 }));
    assert!(!f.terminal);

    // The second attempt ended well before the Job controller counted it.
    let mut snap = fixture("job-attempt-failed");
    for lines in snap.logs.values_mut() {
        lines.truncate(4);
    }
    with_second_attempt(&mut snap, "Succeeded");
    let si = instance_status(&snap);
    assert_eq!(
        si.component(Component::StorageInit).unwrap().phase,
        Phase::Progressing
    );
    snap.jobs[0].status.as_mut().unwrap().succeeded = Some(1);
    let s = instance_status(&snap);
    let si = s.component(Component::StorageInit).unwrap();
    assert_eq!((si.phase, si.failure.as_ref()), (Phase::Succeeded, None));
}

#[test]
fn a_restarted_container_is_failing_at_once_with_its_previous_run() {
    let mut snap = fixture("crash-loop");
    let pod = snap
        .pods
        .iter_mut()
        .find(|p| pods::name(p).contains("backend"))
        .unwrap();
    let cs = &mut pod
        .status
        .as_mut()
        .unwrap()
        .container_statuses
        .as_mut()
        .unwrap()[0];
    cs.restart_count = 1;
    cs.ready = false;
    cs.state = Some(k8s_openapi::api::core::v1::ContainerState {
        running: Some(Default::default()),
        ..Default::default()
    });
    let req = tail_request(pod).expect("a tail to read");
    assert_eq!(
        (req.container.as_str(), req.previous, req.restarts),
        ("odoo", true, 1)
    );
    let s = instance_status(&snap);
    let backend = s.component(Component::Backend).unwrap();
    assert_eq!(backend.phase, Phase::Failing);
    let f = backend.failure.as_ref().unwrap();
    assert_eq!(
        (f.reason, f.terminal, f.attempt),
        (Reason::Error, false, None)
    );
    assert_eq!(
        f.detail,
        "container odoo exited with code 1, restarted once"
    );
    assert!(
        f.log_lines
            .last()
            .unwrap()
            .contains("password authentication failed")
    );
    assert_eq!(
        f.cause.as_ref().map(|c| c.kind),
        Some(CauseKind::PasswordAuthenticationFailed)
    );
    assert_eq!(s.overall, Overall::Progressing);
}

#[test]
fn tail_requests_name_the_failed_run_once() {
    let snap = fixture("job-attempt-failed");
    let req = tail_request(&snap.pods[0]).unwrap();
    assert_eq!(
        req,
        TailRequest {
            pod: "acme-odoo-storage-init-x7k2p".into(),
            uid: "9c1e5d27-0a4b-4f3e-8d6c-2b7a1f0e9d34".into(),
            container: "storage-init".into(),
            previous: false,
            restarts: 0,
        }
    );
    // A healthy pod needs no tail.
    let ready = fixture("ready");
    assert!(ready.pods.iter().all(|p| tail_request(p).is_none()));
}
