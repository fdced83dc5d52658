//! The versioned kubectl against the server: get, apply --server-side, get -w,
//! rollout status, wait, logs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use test_apiserver::{Config, Scenario, ServerHandle, TestServer};

/// The versioned kubectl next to the machine's dispatcher (`kubectl.1.32` by default,
/// `TEST_KUBECTL_VERSION` to choose another).
fn kubectl_path() -> PathBuf {
    let version = std::env::var("TEST_KUBECTL_VERSION").unwrap_or_else(|_| "1.32".into());
    let which = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v kubectl)\""])
        .output()
        .expect("run sh");
    let dispatcher = String::from_utf8_lossy(&which.stdout).trim().to_string();
    assert!(
        !dispatcher.is_empty(),
        "kubectl is not installed: these tests need the versioned kubectl binaries (kubectl.{version}) next to `kubectl`"
    );
    let p = Path::new(&dispatcher)
        .parent()
        .expect("dir")
        .join(format!("kubectl.{version}"));
    assert!(
        p.exists(),
        "{} is missing: these tests need the versioned kubectl binaries",
        p.display()
    );
    p
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    cache: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(server: &ServerHandle) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig, "default").unwrap();
        Self {
            bin: kubectl_path(),
            kubeconfig,
            cache: tempfile::tempdir().unwrap(),
            _dir: dir,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run kubectl")
    }

    /// Run and require success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn apply(&self, manifest: &str, extra: &[&str]) -> Output {
        let f = self._dir.path().join(format!("m{}.yaml", manifest.len()));
        std::fs::write(&f, manifest).unwrap();
        let mut args = vec!["apply", "--server-side", "-f", f.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Poll `kubectl args` until its output contains `needle`.
    fn until(&self, args: &[&str], needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let o = self.run(args);
            let s = String::from_utf8_lossy(&o.stdout).into_owned();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "kubectl {args:?} never showed {needle:?}; last output:\n{s}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

const MANIFEST: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
  labels: {app: web, tier: front}
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: odoo
        image: odoo:18.0
        ports:
        - containerPort: 8069
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: run
        image: odoo:18.0
"#;

fn rv(server: &ServerHandle, plural: &str, name: &str) -> String {
    server.object(plural, "default", name).unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn get_apply_rollout_and_wait() {
    let server = TestServer::start(Config::default().time_scale(0.02)).unwrap();
    let k = Kubectl::new(&server);
    let out = k.run(&["get", "pods"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No resources found in default namespace.")
    );

    let o = k.apply(MANIFEST, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("deployment.apps/web serverside-applied"), "{s}");
    assert!(s.contains("job.batch/migrate serverside-applied"), "{s}");

    let rollout = k.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    assert!(rollout.contains("successfully rolled out"), "{rollout}");
    let wait = k.ok(&[
        "wait",
        "--for=condition=complete",
        "job/migrate",
        "--timeout=20s",
    ]);
    assert!(wait.contains("condition met"), "{wait}");
    let pods = k.ok(&["get", "pods", "-l", "app=web"]);
    assert_eq!(pods.matches("Running").count(), 2, "{pods}");

    // The same manifest again changes nothing.
    let before = (
        rv(&server, "configmaps", "conf"),
        rv(&server, "deployments", "web"),
    );
    let o = k.apply(MANIFEST, &[]);
    assert!(o.status.success());
    let after = (
        rv(&server, "configmaps", "conf"),
        rv(&server, "deployments", "web"),
    );
    assert_eq!(before, after);

    // A field dropped from the manifest is removed on the server.
    let fewer = MANIFEST.replace("labels: {app: web, tier: front}", "labels: {app: web}");
    let o = k.apply(&fewer, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cm = server.object("configmaps", "default", "conf").unwrap();
    assert!(cm["metadata"]["labels"].get("tier").is_none(), "{cm}");
    let d = server.object("deployments", "default", "web").unwrap();
    assert!(d["metadata"]["labels"].get("tier").is_none());
    assert_eq!(d["metadata"]["labels"]["app"], "web");

    // Another manager's conflicting apply is refused (409) unless forced.
    let other = fewer.replace("replicas: 2", "replicas: 3");
    let o = k.apply(&other, &["--field-manager=someone-else"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("conflict"), "{err}");
    assert!(err.contains(".spec.replicas"), "{err}");
    assert_eq!(
        server.object("deployments", "default", "web").unwrap()["spec"]["replicas"],
        2
    );
    let o = k.apply(
        &other,
        &["--field-manager=someone-else", "--force-conflicts"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        server.object("deployments", "default", "web").unwrap()["spec"]["replicas"],
        3
    );
    assert!(server.count("patch", "deployments") >= 4);
}

#[test]
fn get_watch_streams_pod_changes() {
    let server = TestServer::start(Config::default().time_scale(0.02)).unwrap();
    let k = Kubectl::new(&server);
    let mut child = k
        .cmd(&["get", "pods", "-w", "--request-timeout=20s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait until the watch is open, then create a pod.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.count("watch", "pods") == 0 {
        assert!(Instant::now() < deadline, "kubectl never watched pods");
        std::thread::sleep(Duration::from_millis(20));
    }
    k.ok(&["run", "solo", "--image=odoo:18.0", "--restart=Never"]);
    let mut seen = Vec::new();
    let mut running = false;
    while Instant::now() < deadline && !running {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            running |= line.starts_with("solo") && line.contains("Running");
            seen.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(running, "watch output: {seen:#?}");
    assert!(
        seen.iter()
            .any(|l| l.starts_with("solo") && l.contains("Pending")),
        "{seen:#?}"
    );
}

const SCENARIO: &str = r#"
defaults: {readyAfterSeconds: 1}
node: {cpu: "4", memory: "8Gi"}
pods:
  - selector: {app.kubernetes.io/component: upgrade}
    exitCode: 1
    runSeconds: 2
    logs: ["loading module sale", "ERROR: module sale failed"]
images:
  "odoo:18.0-missing": {pull: fail}
  "odoo:18.0-crash": {crash: {afterSeconds: 1, exitCode: 1, logs: ["Traceback (most recent call last):", "KeyError: 'db'"]}}
"#;

#[test]
fn scenario_failures_as_kubectl_shows_them() {
    let server = TestServer::start(
        Config::default()
            .time_scale(0.02)
            .scenario(Scenario::from_yaml(SCENARIO).unwrap()),
    )
    .unwrap();
    let k = Kubectl::new(&server);
    // kubectl 1.32+ sends protobuf from `create deployment`; apply sends JSON/YAML.
    for (name, image) in [
        ("missing", "odoo:18.0-missing"),
        ("crash", "odoo:18.0-crash"),
    ] {
        let d = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: odoo, image: \"{image}\"}}]}}\n"
        );
        let o = k.apply(&d, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    k.until(
        &["get", "pods", "-l", "app=missing"],
        "ImagePullBackOff",
        10,
    );
    let o = k.run(&["rollout", "status", "deployment/missing", "--timeout=1s"]);
    assert!(!o.status.success());
    k.until(&["get", "pods", "-l", "app=crash"], "CrashLoopBackOff", 10);
    let logs = k.ok(&["logs", "deployment/crash"]);
    assert!(logs.contains("KeyError: 'db'"), "{logs}");

    let job = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: upgrade
spec:
  backoffLimit: 1
  template:
    metadata:
      labels: {app.kubernetes.io/component: upgrade}
    spec:
      restartPolicy: Never
      containers:
      - name: upgrade
        image: odoo:18.0
"#;
    let o = k.apply(job, &[]);
    assert!(o.status.success());
    k.ok(&[
        "wait",
        "--for=condition=failed",
        "job/upgrade",
        "--timeout=20s",
    ]);
    let reason = k.ok(&[
        "get",
        "job",
        "upgrade",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
    ]);
    assert_eq!(reason, "BackoffLimitExceeded");

    let pod = r#"apiVersion: v1
kind: Pod
metadata:
  name: needs-secret
spec:
  containers:
  - name: odoo
    image: odoo:18.0
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {name: db, key: password}
"#;
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {user: odoo}\n";
    assert!(k.apply(secret, &[]).status.success());
    assert!(k.apply(pod, &[]).status.success());
    k.until(
        &["get", "pod", "needs-secret"],
        "CreateContainerConfigError",
        10,
    );
    let msg = k.ok(&[
        "get",
        "pod",
        "needs-secret",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.waiting.message}",
    ]);
    assert_eq!(msg, "couldn't find key password in Secret default/db");
}

const LOCK_AND_SCHEDULE: &str = r#"apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: shop
spec:
  holderIdentity: host-a/1234/upgrade
  leaseDurationSeconds: 60
  renewTime: "2025-01-01T10:00:00.000000Z"
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-backup
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: backup
            image: odoo:18.0
"#;

#[test]
fn leases_cronjobs_and_pod_security_warnings() {
    let server = TestServer::start(Config::default().time_scale(0.01)).unwrap();
    let k = Kubectl::new(&server);
    let o = k.apply(LOCK_AND_SCHEDULE, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("lease.coordination.k8s.io/shop serverside-applied"),
        "{s}"
    );
    assert!(
        s.contains("cronjob.batch/shop-backup serverside-applied"),
        "{s}"
    );
    let leases = k.ok(&["get", "leases"]);
    assert!(leases.contains("HOLDER"), "{leases}");
    assert!(leases.contains("host-a/1234/upgrade"), "{leases}");
    let cjs = k.until(&["get", "cronjobs"], "*/1 * * * *", 5);
    assert!(cjs.contains("SCHEDULE"), "{cjs}");
    k.until(&["get", "jobs"], "shop-backup-", 5);

    // A namespace that warns: kubectl prints the server's Warning header.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: warned\n  labels:\n    pod-security.kubernetes.io/warn: restricted\n";
    let o = k.apply(ns, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let deploy = MANIFEST.split("---").nth(1).unwrap();
    let o = k.apply(deploy, &["-n", "warned"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Warning: would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"odoo\" must set securityContext.allowPrivilegeEscalation=false)"),
        "{err}"
    );
    // The same template again: no new warning.
    let o = k.apply(deploy, &["-n", "warned"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("PodSecurity"));
}
