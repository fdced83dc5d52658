//! End-to-end in a pseudo-terminal: the real binary's full-screen views, read back
//! through a terminal emulator, against the test API server.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use test_apiserver::{Config, Scenario, ServerHandle, TestServer};

const NS: &str = "shop";

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    /// Set once the terminal has no more output: the program's last words are on screen.
    drained: Arc<AtomicBool>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Screen {
    fn spawn(dir: &std::path::Path, args: &[&str], cols: u16, rows: u16) -> Screen {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_odoo-tui"));
        cmd.args(args);
        cmd.cwd(dir);
        cmd.env("KUBECONFIG", dir.join("kubeconfig"));
        cmd.env("HOME", dir);
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let p = parser.clone();
        let drained = Arc::new(AtomicBool::new(false));
        let d = drained.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
            // The program exited and its side of the terminal closed (EOF or EIO).
            d.store(true, Ordering::SeqCst);
        });
        let writer = pair.master.take_writer().unwrap();
        // Keep the master alive as long as the child runs.
        std::mem::forget(pair.master);
        Screen {
            parser,
            drained,
            writer,
            child,
        }
    }

    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.text();
            if t.contains(needle) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "`{needle}` never appeared; screen:\n{t}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, k: &str) {
        self.writer.write_all(k.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Wait for the program to exit and for everything it wrote to reach the screen
    /// (the exit can be seen before the reader has taken its last output).
    fn exit_code(&mut self, secs: u64) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.exit_code();
            }
            assert!(
                Instant::now() < deadline,
                "the program did not exit; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        while !self.drained.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "the terminal was not closed after the exit; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        code
    }
}

fn server(scenario: Scenario) -> (ServerHandle, tempfile::TempDir) {
    let server = TestServer::start(Config::default().time_scale(0.02).scenario(scenario)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    server
        .write_kubeconfig(dir.path().join("kubeconfig"), NS)
        .unwrap();
    (server, dir)
}

fn install(dir: &std::path::Path, args: &[&str]) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_odoo-tui"))
        .args(args)
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// What the dashboard of a ready instance watches (no Events: nothing is in trouble).
const WATCHED: &[&str] = &[
    "pods",
    "deployments",
    "statefulsets",
    "jobs",
    "persistentvolumeclaims",
];

/// Wait until the server has seen a watch request for each of `resources`.
fn wait_for_watches(server: &ServerHandle, resources: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !resources.iter().all(|r| server.count("watch", r) > 0) {
        assert!(
            Instant::now() < deadline,
            "the dashboard never watched all of {resources:?}: {:?}",
            server.counters()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn status_dashboard_shows_every_component_reacts_to_keys_and_is_idle() {
    let (server, dir) = server(Scenario::default());
    install(
        dir.path(),
        &[
            "new",
            "acme",
            "--preset",
            "quick-start",
            "--yes",
            "--set",
            "nginx.enabled=true",
        ],
    );
    for (cols, rows) in [(120, 40), (80, 24)] {
        server.reset_requests();
        let mut s = Screen::spawn(dir.path(), &["status", "acme"], cols, rows);
        s.wait_for("State: READY", 20);
        // A frame can be read half drawn: wait for each row rather than read it once.
        for c in [
            "postgresql",
            "minio",
            "init",
            "backend",
            "nginx",
            "smoke-check",
        ] {
            s.wait_for(c, 20);
        }
        // Idle: once every watch is open (READY can be drawn from the first lists, before
        // the watches that follow them reach the server), no request reaches the server.
        wait_for_watches(&server, WATCHED);
        server.reset_requests();
        std::thread::sleep(Duration::from_secs(2));
        let requests = server.requests();
        assert!(
            requests.is_empty(),
            "an idle dashboard made requests: {requests:?}"
        );
        // Select the backend and open its logs, then the events, then quit.
        s.keys("jjjjj");
        s.wait_for("> backend", 20);
        s.keys("\r");
        s.wait_for("Logs · pod/acme-odoo-backend", 20);
        s.keys("\x1b");
        s.wait_for("Components", 20);
        s.keys("e");
        s.wait_for("Events (", 20);
        s.keys("q");
        assert_eq!(s.exit_code(20), 0);
    }
}

#[test]
fn the_events_view_shows_the_instances_own_events_only() {
    let (server, dir) = server(Scenario::default());
    for name in ["acme", "shop2"] {
        install(dir.path(), &["new", name, "--preset", "local-dev", "--yes"]);
    }
    // Another instance's backup failed in the same namespace.
    server
        .create_object(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "shop2-odoo-backup-1.17a0", "namespace": NS},
            "involvedObject": {"apiVersion": "batch/v1", "kind": "Job", "name": "shop2-odoo-backup-1", "namespace": NS, "uid": "4c1d0e7a-0000-0000-0000-000000000001"},
            "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit",
            "type": "Warning",
            "source": {"component": "job-controller"},
            "count": 1,
        }))
        .unwrap();
    let mut s = Screen::spawn(dir.path(), &["status", "acme"], 150, 50);
    s.wait_for("State: READY", 20);
    s.keys("e");
    let t = s.wait_for("Pod/acme-odoo-backend", 20);
    assert!(!t.contains("shop2"), "another instance's events:\n{t}");
    assert!(!t.contains("BackoffLimitExceeded"), "{t}");
    s.keys("q");
    assert_eq!(s.exit_code(20), 0);
}

#[test]
fn credentials_asks_on_a_terminal_before_printing_the_password() {
    let (server, dir) = server(Scenario::default());
    install(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
    );
    let secret = server
        .object("secrets", NS, "acme-odoo-config")
        .expect("the config Secret");
    let admin = secret_value(&secret, "admin-password");
    // Declined: nothing printed, exit 130.
    let mut s = Screen::spawn(dir.path(), &["credentials", "acme"], 120, 30);
    s.wait_for("Print the admin password of `acme`", 20);
    s.keys("n\r");
    assert_eq!(s.exit_code(20), 130, "{}", s.text());
    assert!(!s.text().contains(&admin));
    // Confirmed: the login and the password.
    let mut s = Screen::spawn(dir.path(), &["credentials", "acme"], 120, 30);
    s.wait_for("Print the admin password of `acme`", 20);
    s.keys("y\r");
    assert_eq!(s.exit_code(20), 0, "{}", s.text());
    let t = s.text();
    assert!(t.contains("login: admin"), "{t}");
    assert!(t.contains(&format!("admin password: {admin}")), "{t}");
}

#[test]
fn new_in_a_terminal_follows_the_work_and_shows_the_running_jobs_log() {
    let scenario = Scenario::from_yaml(
        "pods:\n  - selector: {app.kubernetes.io/component: init}\n    container: init\n    runSeconds: 150\n    logs: [\"odoo.modules.loading: loading 1 modules...\"]\n",
    )
    .unwrap();
    let (_server, dir) = server(scenario);
    let mut s = Screen::spawn(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
        120,
        40,
    );
    // The header names the image and the revision from the first frame.
    let t = s.wait_for("odoo-tui · acme", 20);
    let head = t.lines().find(|l| l.contains("odoo-tui · acme")).unwrap();
    assert!(
        head.contains("image ghcr.io/sergio-bershadsky/odoo:") && head.contains("rev 1"),
        "{head}"
    );
    // The selection moved to the init Job by itself, and its log shows as it comes.
    s.wait_for("> init", 30);
    s.wait_for("init · job/acme-odoo-init · following", 30);
    s.wait_for("odoo.modules.loading: loading 1 modules...", 30);
    assert!(s.text().contains("following the work"));
    // Moving the selection takes it over.
    s.keys("k");
    s.wait_for("> postgresql", 20);
    s.wait_for("↑/↓ j/k select", 20);
    assert_eq!(s.exit_code(60), 0, "{}", s.text());
}

#[test]
fn new_in_a_terminal_stops_on_a_pull_failure_and_names_the_image() {
    let scenario = Scenario::from_yaml(
        "images:\n  \"ghcr.io/sergio-bershadsky/odoo:18.0-typo\": {pull: fail}\n",
    )
    .unwrap();
    let (_server, dir) = server(scenario);
    let mut s = Screen::spawn(
        dir.path(),
        &[
            "new",
            "acme",
            "--preset",
            "local-dev",
            "--yes",
            "--set",
            "backend.image.tag=18.0-typo",
        ],
        100,
        30,
    );
    assert_eq!(s.exit_code(30), 3, "screen:\n{}", s.text());
    let t = s.text();
    assert!(
        t.contains("ghcr.io/sergio-bershadsky/odoo:18.0-typo"),
        "{t}"
    );
    assert!(t.contains("backend.image.tag"), "{t}");
}

#[test]
fn a_tiny_terminal_gets_a_message_not_a_panic() {
    let (_server, dir) = server(Scenario::default());
    install(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
    );
    let mut s = Screen::spawn(dir.path(), &["status", "acme"], 40, 10);
    s.wait_for("too small", 20);
    s.keys("q");
    assert_eq!(s.exit_code(10), 0);
}

/// The wizard typed by hand, as a person would: every question answered at its prompt,
/// the review confirmed, and the instance comes up ready.
#[test]
fn the_wizard_answered_in_a_terminal_deploys_a_ready_instance() {
    let (server, dir) = server(Scenario::default());
    let mut s = Screen::spawn(
        dir.path(),
        &["new", "wiz", "--preset", "quick-start", "-n", NS],
        120,
        40,
    );
    let answers: &[(&str, &str)] = &[
        ("Which cluster?", "\r"),
        ("Which namespace?", "\r"),
        ("Name of the new namespace", "\r"),
        ("Which scenario?", "\r"),
        ("Instance name", "\r"),
        ("Where does the database run?", "\r"),
        ("Where do attachments go?", "\r"),
        ("How are passwords provided?", "\r"),
        ("Administrator's e-mail", "admin@wiz.example\r"),
        ("How do people reach Odoo?", "\r"),
        ("How big?", "\r"),
        ("Scheduled backups?", "\r"),
        ("Odoo image repository", "\r"),
        ("Image tag", "\r"),
        ("Apply to context", "\r"),
        ("Show the generated passwords", "n\r"),
        ("Save these answers", "\r"),
    ];
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut asked = Vec::new();
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert_eq!(
                status.exit_code(),
                0,
                "questions asked: {asked:?}; screen:\n{}",
                s.text()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stuck; questions asked: {asked:?}; screen:\n{}",
            s.text()
        );
        let text = s.text();
        let prompt = text
            .lines()
            .rev()
            .find(|l| l.starts_with("? "))
            .map(str::to_string);
        match prompt.and_then(|p| {
            answers
                .iter()
                .find(|(label, _)| p[2..].starts_with(label))
                .map(|a| (p, a))
        }) {
            Some((_, (label, keys))) => {
                s.keys(keys);
                asked.push(*label);
                // Wait until that question is answered (its line turns into `> …`); the
                // echo of typed text changes the line before that, so compare the label.
                let asking = format!("? {label}");
                let until = Instant::now() + Duration::from_secs(20);
                while s
                    .text()
                    .lines()
                    .rev()
                    .find(|l| l.starts_with("? "))
                    .is_some_and(|l| l.starts_with(&asking))
                    && Instant::now() < until
                {
                    std::thread::sleep(Duration::from_millis(30));
                }
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    assert!(
        asked.contains(&"Administrator's e-mail") && asked.contains(&"Apply to context"),
        "{asked:?}"
    );
    let d = server
        .object("deployments", NS, "wiz-odoo-backend")
        .expect("the backend was applied");
    assert_eq!(d["status"]["readyReplicas"], 1);
    let record = server
        .object("configmaps", NS, "wiz-odoo-odoo-tui")
        .expect("the record was written");
    assert!(
        record["data"]["values.yaml"]
            .as_str()
            .unwrap()
            .contains("admin@wiz.example")
    );
}

#[test]
fn ctrl_c_at_a_wizard_prompt_exits_130_with_nothing_applied() {
    let (server, dir) = server(Scenario::default());
    let mut s = Screen::spawn(dir.path(), &["new", "-n", NS], 100, 30);
    s.wait_for("? ", 20);
    s.keys("\x03");
    assert_eq!(s.exit_code(10), 130, "screen:\n{}", s.text());
    assert!(
        server.objects("secrets", NS).is_empty() && server.objects("deployments", NS).is_empty()
    );
}

/// Answer the wizard's prompts by their labels until the program exits; returns the
/// labels answered, in order. `Confirmation:` (a password asked twice) gets the value
/// typed just before it.
fn drive_wizard(s: &mut Screen, answers: &[(&str, &str)], secs: u64) -> (u32, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut asked: Vec<String> = Vec::new();
    let mut last_typed = String::new();
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            return (status.exit_code(), asked);
        }
        assert!(
            Instant::now() < deadline,
            "stuck; questions answered: {asked:?}; screen:\n{}",
            s.text()
        );
        let prompt = s
            .text()
            .lines()
            .rev()
            .find(|l| l.starts_with("? "))
            .map(str::to_string);
        let found = prompt.and_then(|p| {
            if p[2..].starts_with("Confirmation:") {
                return Some(("Confirmation:".to_string(), format!("{last_typed}\r")));
            }
            answers
                .iter()
                .find(|(label, _)| p[2..].starts_with(label))
                .map(|(label, keys)| (label.to_string(), keys.to_string()))
        });
        match found {
            Some((label, keys)) => {
                s.keys(&keys);
                last_typed = keys.trim_end_matches('\r').to_string();
                asked.push(label.clone());
                let asking = format!("? {label}");
                let until = Instant::now() + Duration::from_secs(20);
                while s
                    .text()
                    .lines()
                    .rev()
                    .find(|l| l.starts_with("? "))
                    .is_some_and(|l| l.starts_with(&asking))
                    && Instant::now() < until
                {
                    std::thread::sleep(Duration::from_millis(30));
                }
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn secret_value(secret: &serde_json::Value, key: &str) -> String {
    use base64::Engine;
    let b = secret["data"][key].as_str().expect("the key is there");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
}

/// "Create a new namespace", then the production scenario: none of its Secrets can
/// exist yet. Each is created from hidden prompts, typed twice, and the apply finds
/// them on the server; what was typed is in the Secrets only.
#[test]
fn the_wizard_creates_missing_secrets_from_hidden_prompts_and_the_apply_finds_them() {
    let (server, dir) = server(Scenario::default());
    let mut s = Screen::spawn(
        dir.path(),
        &["new", "erp", "--preset", "production"],
        120,
        40,
    );
    let answers: &[(&str, &str)] = &[
        ("Which cluster?", "\r"),
        // Filter the namespaces down to "create a new namespace…".
        ("Which namespace?", "create a new\r"),
        ("Name of the new namespace", "fresh\r"),
        ("Database host", "pg.internal\r"),
        ("Database port", "\r"),
        ("Database user", "\r"),
        ("Database name", "\r"),
        ("S3 endpoint URL", "https://s3.example.com\r"),
        ("S3 bucket", "\r"),
        ("S3 region", "\r"),
        ("Secret with the database password", "\r"),
        ("Secret odoo-db is missing", "\r"),
        (
            "Value of `password` for the new Secret odoo-db",
            "db-typed-value\r",
        ),
        ("Secret with the S3 keys", "\r"),
        ("Secret odoo-s3 is missing", "\r"),
        (
            "Value of `access-key` for the new Secret odoo-s3",
            "AKIATYPEDVALUE\r",
        ),
        (
            "Value of `secret-key` for the new Secret odoo-s3",
            "s3-typed-value\r",
        ),
        ("Secret with the Odoo master password", "\r"),
        ("Secret odoo-master is missing", "\r"),
        (
            "Value of `master-password` for the new Secret odoo-master",
            "master-typed-value\r",
        ),
        ("Secret with the administrator password", "\r"),
        ("Secret odoo-admin is missing", "\r"),
        (
            "Value of `admin-password` for the new Secret odoo-admin",
            "admin-typed-value\r",
        ),
        ("Administrator's e-mail", "admin@erp.example\r"),
        ("How do people reach Odoo?", "\r"),
        ("How big?", "\r"),
        ("Scheduled backups?", "\r"),
        ("Odoo image repository", "\r"),
        ("Image tag", "\r"),
        ("Apply to context", "\r"),
        ("Save these answers", "\r"),
    ];
    let (code, asked) = drive_wizard(&mut s, answers, 120);
    let screen = s.text();
    assert_eq!(code, 0, "answered: {asked:?}; screen:\n{screen}");
    // Typed twice, except the access key ID.
    assert_eq!(
        asked.iter().filter(|a| *a == "Confirmation:").count(),
        4,
        "{asked:?}"
    );

    let ns = server
        .object("namespaces", "", "fresh")
        .expect("the new namespace was created");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let typed = [
        ("odoo-db", "password", "db-typed-value"),
        ("odoo-s3", "access-key", "AKIATYPEDVALUE"),
        ("odoo-s3", "secret-key", "s3-typed-value"),
        ("odoo-master", "master-password", "master-typed-value"),
        ("odoo-admin", "admin-password", "admin-typed-value"),
    ];
    for (name, key, value) in typed {
        let secret = server
            .object("secrets", "fresh", name)
            .unwrap_or_else(|| panic!("Secret {name} was created"));
        assert_eq!(secret_value(&secret, key), value, "{name}/{key}");
    }
    let d = server
        .object("deployments", "fresh", "erp-odoo-backend")
        .expect("the backend was applied");
    assert_eq!(d["status"]["readyReplicas"], 2);
    let record = server
        .object("configmaps", "fresh", "erp-odoo-odoo-tui")
        .expect("the record was written");
    let record = record.to_string();
    for (_, _, value) in typed {
        assert!(!record.contains(value), "{value} is in the record");
        assert!(!screen.contains(value), "{value} was shown:\n{screen}");
    }
    assert!(record.contains("odoo-admin"), "the values name the Secret");
    assert!(
        screen
            .contains("created Secret `odoo-db` in namespace `fresh` from the value(s) you typed"),
        "{screen}"
    );
    assert!(
        screen.contains("admin password: in your Secret `odoo-admin` (key `admin-password`)"),
        "{screen}"
    );
}

/// While `new` shows its dashboard, Enter on a component follows its pod's log.
#[test]
fn new_in_a_terminal_follows_a_pods_log_on_enter() {
    // PostgreSQL takes a minute to become ready (scenario time × 0.02), and says so.
    let scenario = Scenario::from_yaml(
        "pods:\n  - selector: {app.kubernetes.io/component: postgresql}\n    readyAfterSeconds: 3000\n    logs: [\"waiting for the checkpoint to finish\"]\n",
    )
    .unwrap();
    let (_server, dir) = server(scenario);
    let mut s = Screen::spawn(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
        100,
        30,
    );
    s.wait_for("> postgresql", 30);
    s.wait_for("acme-postgresql-0", 30);
    s.keys("\r");
    s.wait_for("Logs · pod/acme-postgresql-0", 5);
    s.wait_for("waiting for the checkpoint to finish", 10);
    // q leaves the view and cancels the rollout: nothing more is applied.
    s.keys("q");
    assert_eq!(s.exit_code(30), 130, "screen:\n{}", s.text());
}

/// `status --plain -o json` on a terminal prints JSON lines, as it does in a pipe.
#[test]
fn the_dashboard_says_what_it_may_not_list_instead_of_waiting() {
    let (server, dir) = server(Scenario::default());
    install(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
    );
    for verb in ["list", "watch"] {
        server.faults().forbid(verb, "pods");
        server.faults().forbid(verb, "events");
    }
    let mut s = Screen::spawn(dir.path(), &["status", "acme"], 150, 50);
    s.wait_for("State: READY", 20);
    s.wait_for("listing pods is forbidden (403)", 20);
    s.keys("e");
    s.wait_for("Events (forbidden)", 20);
    s.wait_for("listing events is forbidden (403)", 20);
    s.keys("q");
    assert_eq!(s.exit_code(20), 0);

    // The lines of `status --plain` too.
    let mut s = Screen::spawn(dir.path(), &["status", "acme", "--plain"], 200, 30);
    s.wait_for("instance acme: READY", 20);
    let t = s.wait_for("note: listing pods is forbidden (403)", 20);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        s.text().matches("note: listing pods").count(),
        t.matches("note: listing pods").count(),
        "said once, not again at every retry:\n{}",
        s.text()
    );
    s.keys("\x03");
    assert_eq!(s.exit_code(10), 0, "screen:\n{}", s.text());
}

/// An exec credential plugin that says in `log` whether it was allowed to prompt; its
/// token expires at once, so that it runs again for every request.
fn exec_plugin_kubeconfig(server: &ServerHandle, dir: &std::path::Path, log: &std::path::Path) {
    let plugin = dir.join("corp-login");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\ncase \"$KUBERNETES_EXEC_INFO\" in\n  *'\"interactive\":true'*) echo interactive >> {log}; printf 'Password: ' >&2 ;;\n  *) echo non-interactive >> {log} ;;\nesac\nexp=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t\",\"expirationTimestamp\":\"%s\"}}}}\\n' \"$exp\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let kc = server.kubeconfig(NS).replace(
        "    username: test\n",
        &format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: IfAvailable\n",
            plugin.display()
        ),
    );
    std::fs::write(dir.join("kubeconfig"), kc).unwrap();
}

#[test]
fn exec_plugins_never_prompt_under_the_dashboard() {
    let (server, dir) = server(Scenario::default());
    let log = dir.path().join("plugin.log");
    exec_plugin_kubeconfig(&server, dir.path(), &log);
    let mut s = Screen::spawn(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
        150,
        50,
    );
    assert_eq!(s.exit_code(60), 0, "screen:\n{}", s.text());
    let runs = std::fs::read_to_string(&log).unwrap();
    let runs: Vec<&str> = runs.lines().collect();
    // A login may be asked for while connecting, before the dashboard is up; never
    // afterwards.
    let first_quiet = runs
        .iter()
        .position(|r| *r == "non-interactive")
        .unwrap_or_else(|| panic!("the dashboard's requests ran the plugin: {runs:?}"));
    assert!(
        runs[first_quiet..].iter().all(|r| *r == "non-interactive"),
        "{runs:?}"
    );

    std::fs::remove_file(&log).unwrap();
    let mut s = Screen::spawn(dir.path(), &["status", "acme"], 150, 50);
    s.wait_for("State: READY", 20);
    s.keys("q");
    assert_eq!(s.exit_code(20), 0);
    let runs = std::fs::read_to_string(&log).unwrap();
    assert!(runs.lines().all(|r| r == "non-interactive"), "{runs}");
}

#[test]
fn status_plain_json_on_a_terminal_prints_json_lines() {
    let (_server, dir) = server(Scenario::default());
    install(
        dir.path(),
        &["new", "acme", "--preset", "local-dev", "--yes"],
    );
    let mut s = Screen::spawn(
        dir.path(),
        &["status", "acme", "--plain", "-o", "json"],
        160,
        30,
    );
    let t = s.wait_for("\"state\":\"ready\"", 20);
    let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "not a JSON line: {l}\n{t}"
        );
    }
    s.keys("\x03");
    assert_eq!(s.exit_code(10), 0, "screen:\n{}", s.text());
}

#[test]
fn delete_data_lists_the_claims_by_name_before_asking() {
    let (server, dir) = server(Scenario::default());
    install(
        dir.path(),
        &["new", "acme", "--preset", "quick-start", "--yes"],
    );
    let mut s = Screen::spawn(dir.path(), &["delete", "acme", "--delete-data"], 120, 30);
    let t = s.wait_for("Type the instance name to confirm", 20);
    for claim in [
        "PersistentVolumeClaim/data-acme-minio-0",
        "PersistentVolumeClaim/data-acme-postgresql-0",
        "Secret/acme-odoo-config",
    ] {
        assert!(t.contains(claim), "{t}");
    }
    s.keys("acme\r");
    assert_eq!(s.exit_code(20), 0, "screen:\n{}", s.text());
    assert!(
        server
            .object("persistentvolumeclaims", NS, "data-acme-postgresql-0")
            .is_none()
    );
}

/// The listing Job prints one backup of `acme`; the restore Job's last container runs a
/// while and says what it does.
fn restore_scenario() -> Scenario {
    let manifest = r#"odoo-tui-manifest {"id": "acme-odoo-1-2611270300", "time": "2026-11-27T03:00:09Z", "kind": "manual", "contents": "database", "database": "odoo", "image": "ghcr.io/sergio-bershadsky/odoo:18.0-20260926", "revision": 1, "postgresql": 18, "modules": ["base"], "sizes": {"database": 1000, "filestore": 0}, "files": {"dump": {"name": "acme-odoo-1-2611270300.dump", "bytes": 4096}}}"#;
    Scenario::from_yaml(&format!(
        "pods:\n  - selector: {{app.kubernetes.io/component: backup}}\n    container: list\n    logs: [{}]\n  - selector: {{app.kubernetes.io/component: restore}}\n    container: swap\n    runSeconds: 200\n    logs: [\"swap: the restored database takes the place of the current one\"]\n  - selector: {{app.kubernetes.io/component: clone}}\n    runSeconds: 200\n    logs: [\"clone: odoo neutralize done, database.is_neutralized is true\"]\n",
        serde_json::to_string(manifest).unwrap()
    ))
    .unwrap()
}

/// `restore` on a terminal: the dashboard of `new`, following the restore Job and its
/// log, the step on the header; once done, the steps and the result are printed.
#[test]
fn restore_in_a_terminal_shows_the_dashboard_following_the_restore_job() {
    let (_server, dir) = server(restore_scenario());
    install(
        dir.path(),
        &["new", "acme", "--preset", "quick-start", "--yes"],
    );
    let mut s = Screen::spawn(
        dir.path(),
        &["restore", "acme", "--from", "latest", "--yes"],
        120,
        40,
    );
    s.wait_for("odoo-tui · acme", 30);
    s.wait_for("restore acme from backup acme-odoo-1-2611270300", 30);
    // The selection follows the restore Job, and its log shows as it comes.
    s.wait_for("> restore", 30);
    s.wait_for("swap: the restored database takes the place", 30);
    assert!(s.text().contains("following the work"));
    assert_eq!(s.exit_code(60), 0, "screen:\n{}", s.text());
    // The dashboard closed with the work; the steps and the result are on the terminal.
    let t = s.text();
    assert!(
        t.contains("`acme` restored from backup acme-odoo-1-2611270300"),
        "{t}"
    );
    assert!(t.contains("restoring backup acme-odoo-1-2611270300"), "{t}");
}

/// `clone` on a terminal: the new instance's dashboard, following its restore and then
/// its neutralization Job, until the clone is done.
#[test]
fn clone_in_a_terminal_shows_the_new_instances_dashboard() {
    let (_server, dir) = server(restore_scenario());
    install(
        dir.path(),
        &["new", "acme", "--preset", "quick-start", "--yes"],
    );
    let mut s = Screen::spawn(
        dir.path(),
        &["clone", "acme", "staging", "--from", "latest", "--yes"],
        120,
        40,
    );
    s.wait_for("odoo-tui · staging", 30);
    s.wait_for(
        "clone acme as staging from backup acme-odoo-1-2611270300",
        30,
    );
    s.wait_for("> restore", 60);
    s.wait_for("> clone", 60);
    s.wait_for("clone: odoo neutralize done", 30);
    assert_eq!(s.exit_code(90), 0, "screen:\n{}", s.text());
    let t = s.text();
    assert!(t.contains("`staging` is a clone of `acme`"), "{t}");
}
