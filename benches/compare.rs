//! `cargo bench --bench compare`: odoo-tui side by side with the plain kubectl workflow,
//! against the project's Kubernetes API test server with a fixed latency per request.
//! Prints a Markdown table. `-- --idle-secs N` shortens the idle measurement (default 30).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use test_apiserver::{Config, Scenario, ServerHandle, TestServer};

const NS: &str = "shop";
const BIN: &str = env!("CARGO_BIN_EXE_odoo-tui");
const LATENCY: Duration = Duration::from_millis(10);
/// Scenario delays: readyAfterSeconds 1 → 250 ms, so a run takes seconds, not minutes.
const TIME_SCALE: f64 = 0.25;

fn kubectl_bin() -> PathBuf {
    let real = std::fs::canonicalize("/usr/bin/kubectl")
        .or_else(|_| which("kubectl"))
        .expect("kubectl is installed");
    real.parent().unwrap().join("kubectl.1.32")
}

fn which(name: &str) -> std::io::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .map(|p| std::fs::canonicalize(p).unwrap())
        .ok_or_else(|| std::io::Error::other("not found"))
}

struct Env {
    server: ServerHandle,
    dir: tempfile::TempDir,
}

impl Env {
    fn start(scenario: Scenario) -> Env {
        let server = TestServer::start(
            Config::default()
                .time_scale(TIME_SCALE)
                .latency(LATENCY)
                .scenario(scenario),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(dir.path().join("kubeconfig"), NS)
            .unwrap();
        Env { server, dir }
    }
    fn kc(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }
    fn odoo(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("KUBECONFIG", self.kc())
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path());
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut c = Command::new(kubectl_bin());
        c.args([
            "--kubeconfig",
            self.kc().to_str().unwrap(),
            "--cache-dir",
            self.dir.path().join("kcache").to_str().unwrap(),
            "-n",
            NS,
        ]);
        c.args(args);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }
}

fn run_ok(mut c: Command) -> bool {
    c.status().map(|s| s.success()).unwrap_or(false)
}

/// Peak resident memory (VmHWM, KiB) of a process, read while it runs.
fn vm_hwm(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

/// CPU time (user + system) of a process so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Run to completion, sampling peak memory.
fn timed(mut c: Command) -> (Duration, bool, u64) {
    let start = Instant::now();
    let mut child = c.spawn().unwrap();
    let mut peak = 0;
    let status = loop {
        if let Some(p) = vm_hwm(child.id()) {
            peak = peak.max(p);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (start.elapsed(), status.success(), peak)
}

const QUICK: &[&str] = &["new", "acme", "--preset", "quick-start", "--yes"];
const WORKLOADS: &[(&str, &str)] = &[
    ("rollout", "statefulset/acme-postgresql"),
    ("rollout", "statefulset/acme-minio"),
    ("wait", "job/acme-minio-provisioning"),
    ("wait", "job/acme-odoo-init"),
    ("wait", "job/acme-odoo-storage-init"),
    ("rollout", "deployment/acme-odoo-backend"),
    ("wait", "job/acme-odoo-smoke-check"),
];

fn kubectl_install(env: &Env, timeout: &str) -> bool {
    let file = env.dir.path().join("all.yaml");
    let out = Command::new(BIN)
        .args([
            "render",
            "acme",
            "--preset",
            "quick-start",
            "--include-secrets",
            "-n",
            NS,
        ])
        .output()
        .unwrap();
    std::fs::write(&file, out.stdout).unwrap();
    let mut ok = ensure_namespace(env);
    ok &= run_ok(env.kubectl(&["apply", "--server-side", "-f", file.to_str().unwrap()]));
    for (how, what) in WORKLOADS {
        let t = format!("--timeout={timeout}");
        ok &= match *how {
            "rollout" => run_ok(env.kubectl(&["rollout", "status", what, &t])),
            _ => run_ok(env.kubectl(&["wait", "--for=condition=complete", what, &t])),
        };
    }
    ok
}

/// kubectl 1.32 sends protobuf for `create namespace`, which the test server does not
/// read: create it from a JSON manifest instead.
fn ensure_namespace(env: &Env) -> bool {
    let file = env.dir.path().join("ns.json");
    std::fs::write(
        &file,
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{{\"name\":\"{NS}\"}}}}"
        ),
    )
    .unwrap();
    run_ok(env.kubectl(&["apply", "-f", file.to_str().unwrap()]))
}

struct Row(String, String, String, String);

fn install_rows(rows: &mut Vec<Row>) {
    // The chain of readiness the waves wait for, in scenario seconds: databases (1), the
    // init Job (wait-for-db 1 + run 1), storage init (1 + 1), the backend (wait-for-db 1 +
    // ready 1), the smoke check (1): the floor any dependency-respecting order must pay.
    let floor = Duration::from_secs_f64(8.0 * TIME_SCALE);
    let env = Env::start(Scenario::default());
    let (t_odoo, ok_odoo, peak_new) = timed(env.odoo(QUICK));
    let req_odoo = env.server.requests().len();
    let env2 = Env::start(Scenario::default());
    let start = Instant::now();
    let ok_k = kubectl_install(&env2, "60s");
    let t_k = start.elapsed();
    let req_k = env2.server.requests().len();
    rows.push(Row(
        "time to ready (quick-start)".into(),
        format!(
            "{:.2} s{}",
            t_odoo.as_secs_f64(),
            if ok_odoo { "" } else { " (FAILED)" }
        ),
        format!(
            "{:.2} s{}",
            t_k.as_secs_f64(),
            if ok_k { "" } else { " (FAILED)" }
        ),
        format!(
            "ordered chain floor {:.2} s; odoo-tui overhead {:.0}%",
            floor.as_secs_f64(),
            (t_odoo.as_secs_f64() / floor.as_secs_f64() - 1.0) * 100.0
        ),
    ));
    rows.push(Row(
        "API requests to ready".into(),
        req_odoo.to_string(),
        req_k.to_string(),
        format!("ratio {:.2}", req_odoo as f64 / req_k.max(1) as f64),
    ));
    rows.push(Row(
        "peak memory of `new`".into(),
        format!("{:.1} MiB", peak_new as f64 / 1024.0),
        "-".into(),
        String::new(),
    ));
    // A re-run changes nothing (but the instance's lock: taken, then given back).
    let before = env.server.resource_version();
    env.server.reset_requests();
    let (t_re, _, _) = timed(env.odoo(QUICK));
    let lock_writes = env
        .server
        .requests()
        .iter()
        .filter(|r| r.resource == "leases" && r.verb != "get" && r.status < 300)
        .count() as u64;
    let writes = env.server.resource_version() - before - lock_writes;
    rows.push(Row(
        "re-run, unchanged inputs".into(),
        format!(
            "{:.2} s, {} requests, {} writes",
            t_re.as_secs_f64(),
            env.server.requests().len(),
            writes
        ),
        "-".into(),
        String::new(),
    ));
}

/// The instant a pod of the instance first reports one of `reasons` with at least
/// `min_restarts` restarts (polled from the server's store every 2 ms).
fn first_seen(
    server: &ServerHandle,
    reasons: &[&str],
    min_restarts: i64,
    deadline: Instant,
) -> Option<Instant> {
    while Instant::now() < deadline {
        for p in server.objects("pods", NS) {
            let statuses = p["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let terminal = |c: &serde_json::Value| {
                reasons
                    .iter()
                    .any(|r| c["state"]["waiting"]["reason"] == *r)
                    && c["restartCount"].as_i64().unwrap_or(0) >= min_restarts
            };
            if statuses.iter().any(terminal) {
                return Some(Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn fault_rows(rows: &mut Vec<Row>) {
    // A pull failure is terminal at once; a crash loop from its third restart
    // (docs/ARCHITECTURE.md, "Status and fail-fast").
    let cases = [
        (
            "pull failure → reason",
            "images:\n  \"ghcr.io/sergio-bershadsky/odoo:18.0-bad\": {pull: fail}\n",
            &["ErrImagePull", "ImagePullBackOff"][..],
            0,
        ),
        (
            "crash loop (3rd restart) → reason",
            "images:\n  \"ghcr.io/sergio-bershadsky/odoo:18.0-bad\": {crash: {afterSeconds: 0.2, exitCode: 1, logs: [\"Traceback\"]}}\n",
            &["CrashLoopBackOff"][..],
            3,
        ),
    ];
    for (label, yaml, reasons, restarts) in cases {
        let env = Env::start(Scenario::from_yaml(yaml).unwrap());
        let mut child = env
            .odoo(&[
                "new",
                "acme",
                "--preset",
                "local-dev",
                "--yes",
                "--set",
                "backend.image.tag=18.0-bad",
                "--set",
                "backend.initDb.enabled=false",
                "--set",
                "backend.smokeCheck.enabled=false",
            ])
            .spawn()
            .unwrap();
        // The exit is timed on its own thread, so that polling for the fault does not delay it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = child.wait();
            let _ = tx.send(Instant::now());
        });
        let seen = first_seen(
            &env.server,
            reasons,
            restarts,
            Instant::now() + Duration::from_secs(90),
        );
        let exited = rx.recv().unwrap();
        let odoo = match seen {
            Some(s) if exited <= s => "exited before the 2 ms poll saw the fault".into(),
            Some(s) => format!(
                "{:.2} s after the pod reported it",
                (exited - s).as_secs_f64()
            ),
            None => "fault not seen".into(),
        };
        let env2 = Env::start(Scenario::from_yaml(yaml).unwrap());
        let file = env2.dir.path().join("all.yaml");
        let out = Command::new(BIN)
            .args([
                "render",
                "acme",
                "--preset",
                "local-dev",
                "--include-secrets",
                "-n",
                NS,
                "--set",
                "backend.image.tag=18.0-bad",
                "--set",
                "backend.initDb.enabled=false",
                "--set",
                "backend.smokeCheck.enabled=false",
            ])
            .output()
            .unwrap();
        std::fs::write(&file, out.stdout).unwrap();
        ensure_namespace(&env2);
        run_ok(env2.kubectl(&["apply", "--server-side", "-f", file.to_str().unwrap()]));
        let start = Instant::now();
        let ok = run_ok(env2.kubectl(&[
            "rollout",
            "status",
            "deployment/acme-odoo-backend",
            "--timeout=10s",
        ]));
        let k = format!(
            "{} after {:.1} s, no reason given",
            if ok { "ready?" } else { "timed out" },
            start.elapsed().as_secs_f64()
        );
        rows.push(Row(
            label.into(),
            odoo,
            k,
            "kubectl waits for its --timeout (10 s here)".into(),
        ));
    }
}

fn idle_rows(rows: &mut Vec<Row>, idle: Duration) {
    let env = Env::start(Scenario::default());
    assert!(run_ok(env.odoo(QUICK)), "install for the idle measurement");
    // odoo-tui status, full screen in a pseudo-terminal.
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(["status", "acme"]);
    cmd.env("KUBECONFIG", env.kc());
    cmd.env("HOME", env.dir.path());
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    let mut reader = pair.master.try_clone_reader().unwrap();
    let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let s2 = screen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            s2.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !screen.lock().unwrap().contains("READY") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.process_id().unwrap();
    let cpu0 = cpu_time(pid).unwrap_or_default();
    env.server.reset_requests();
    std::thread::sleep(idle);
    let req = env.server.requests().len();
    let cpu = cpu_time(pid).unwrap_or_default().saturating_sub(cpu0);
    let mem = vm_hwm(pid).unwrap_or(0);
    let _ = child.kill();

    let mut k = env.kubectl(&["get", "pods", "-w"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let kcpu0 = cpu_time(k.id()).unwrap_or_default();
    env.server.reset_requests();
    std::thread::sleep(idle);
    let kreq = env.server.requests().len();
    let kcpu = cpu_time(k.id()).unwrap_or_default().saturating_sub(kcpu0);
    let _ = k.kill();
    let _ = k.wait();
    let pct = |d: Duration| d.as_secs_f64() / idle.as_secs_f64() * 100.0;
    rows.push(Row(
        format!("idle status, {} s: requests", idle.as_secs()),
        req.to_string(),
        format!("{kreq} (`kubectl get pods -w`)"),
        "watch renewals aside".into(),
    ));
    rows.push(Row(
        format!("idle status, {} s: CPU", idle.as_secs()),
        format!("{:.2} s ({:.2}% of a core)", cpu.as_secs_f64(), pct(cpu)),
        format!("{:.2} s ({:.2}% of a core)", kcpu.as_secs_f64(), pct(kcpu)),
        "the dashboard redraws once a second".into(),
    ));
    rows.push(Row(
        "peak memory of `status`".into(),
        format!("{:.1} MiB", mem as f64 / 1024.0),
        "-".into(),
        "target < 30 MiB".into(),
    ));
}

fn render_rows(rows: &mut Vec<Row>) {
    for preset in ["quick-start", "local-dev"] {
        let mut times: Vec<Duration> = (0..40)
            .map(|_| {
                let s = Instant::now();
                let ok = Command::new(BIN)
                    .args(["render", "acme", "--preset", preset])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .unwrap()
                    .success();
                assert!(ok);
                s.elapsed()
            })
            .collect();
        times.sort();
        rows.push(Row(
            format!("render {preset} (median of 40, process included)"),
            format!("{:.1} ms", times[20].as_secs_f64() * 1000.0),
            "-".into(),
            "target < 20 ms".into(),
        ));
    }
}

fn scale_rows(rows: &mut Vec<Row>) {
    let node = Scenario::from_yaml("node: {cpu: \"1000\", memory: 4Ti, pods: 5000}\n").unwrap();
    let env = Env::start(node);
    env.server.faults().set_latency(Duration::ZERO);
    for i in 0..50 {
        let name = format!("shop{i:02}");
        assert!(
            run_ok(env.odoo(&[
                "new",
                &name,
                "--preset",
                "local-dev",
                "--yes",
                "--set",
                "backend.smokeCheck.enabled=false"
            ])),
            "install {name}"
        );
    }
    env.server.faults().set_latency(LATENCY);
    env.server.reset_requests();
    let (t, ok, _) = timed(env.odoo(&["list"]));
    rows.push(Row(
        "`list` with 50 instances".into(),
        format!(
            "{:.2} s, {} requests{}",
            t.as_secs_f64(),
            env.server.requests().len(),
            if ok { "" } else { " (FAILED)" }
        ),
        "-".into(),
        String::new(),
    ));
    env.server.faults().set_latency(Duration::ZERO);
    assert!(
        run_ok(env.odoo(&[
            "new",
            "big",
            "--preset",
            "local-dev",
            "--yes",
            "--set",
            "backend.replicaCount=200",
            "--set",
            "backend.persistence.enabled=false",
            "--set",
            "backend.image.s3Modules=true",
            "--set",
            "minio.enabled=true",
            "--set",
            "backend.smokeCheck.enabled=false",
            "--timeout",
            "5m"
        ])),
        "install 200 pods"
    );
    env.server.faults().set_latency(LATENCY);
    env.server.reset_requests();
    let (t, ok, peak) = timed(env.odoo(&["status", "big", "--once", "-o", "json"]));
    rows.push(Row(
        "`status --once` with 200 pods".into(),
        format!(
            "{:.2} s, {} requests, {:.1} MiB{}",
            t.as_secs_f64(),
            env.server.requests().len(),
            peak as f64 / 1024.0,
            if ok { "" } else { " (not ready)" }
        ),
        "-".into(),
        String::new(),
    ));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / `cargo test --benches` probe
    }
    let idle = args
        .iter()
        .position(|a| a == "--idle-secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30));
    let mut rows = Vec::new();
    eprintln!("install…");
    install_rows(&mut rows);
    eprintln!("faults…");
    fault_rows(&mut rows);
    eprintln!("idle ({} s each)…", idle.as_secs());
    idle_rows(&mut rows, idle);
    eprintln!("render…");
    render_rows(&mut rows);
    eprintln!("scale…");
    scale_rows(&mut rows);
    println!(
        "Measured {} against the test API server ({} ms per request, time scale {TIME_SCALE}), kubectl {}:\n",
        chrono_free_date(),
        LATENCY.as_millis(),
        kubectl_bin().file_name().unwrap().to_string_lossy()
    );
    println!("| measure | odoo-tui | kubectl workflow | note |\n|---|---|---|---|");
    for Row(a, b, c, d) in rows {
        println!("| {a} | {b} | {c} | {d} |");
    }
}

fn chrono_free_date() -> String {
    let out = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .ok();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
