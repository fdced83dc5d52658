//! Runs the rendered Jobs' scripts for real: a real PostgreSQL server (Debian's package,
//! one per test binary), a real `dash` or busybox `sh`, and stand-ins on `PATH` for the
//! commands that only exist in the images (`odoo`, `mc`, see `tests/scripts/bin/`).
//!
//! A script runs as the container would run it: its command and env *as rendered*
//! (`secretKeyRef`/`configMapKeyRef` resolved from the rendered Secrets and ConfigMaps),
//! its volumes "mounted" by mapping each mount path to a directory of the case (the same
//! PVC name is the same directory in every pod, an `emptyDir` is one per pod). Three things
//! stand between the pod and this machine, and only these: mount paths in env values and
//! in `odoo.conf`'s `data_dir` are rewritten to those directories; `PGHOSTADDR` sends
//! libpq to the test server whatever host name the manifest gives; and the database's
//! host name resolves to that server for the `nc` stand-in (`STANDIN_HOSTS`), as the
//! cluster's DNS resolves a Service. A test that runs an HTTP client gives it the proxy
//! of its HTTP stand-in in `RunOpts::env` (`http_proxy`).
//!
//! Busybox images: busybox `sh` runs the script. Two applets the image's busybox has
//! (built with busybox's default configuration) are missing from Debian's busybox build:
//! `nc -z` is the `nc` stand-in, and `wget -T` is GNU wget, which takes the options the
//! scripts use (`-q -T SEC -O FILE URL`) with the same meaning.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use odoo_tui::render::{Credentials, Object, RenderInput};
use odoo_tui::values::{self, Source, Values};
use serde_json::Value as Json;

/// The newest Debian PostgreSQL server installed (`/usr/lib/postgresql/<major>/bin`).
fn pg_bin() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

/// The test binary's PostgreSQL server.
pub struct Pg {
    pub addr: String,
    pub port: u16,
    dir: PathBuf,
    socket: PathBuf,
    pid: u32,
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.pid.to_string()])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static PG: OnceLock<Result<Pg, String>> = OnceLock::new();

/// The server, started on first use; `None` (with the reason printed) when PostgreSQL
/// cannot be started on this machine.
pub fn pg() -> Option<&'static Pg> {
    match PG.get_or_init(start_pg) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!(
                "SKIPPED: PostgreSQL cannot be started here ({e}); `apt-get install -y postgresql busybox` runs these tests"
            );
            None
        }
    }
}

fn run_ok(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn start_pg() -> Result<Pg, String> {
    let bin = pg_bin().ok_or("no /usr/lib/postgresql/<major>/bin/postgres")?;
    let bin = bin.display();
    let base = tempfile::Builder::new()
        .prefix("odoo-tui-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    let data = base.join("data");
    let socket = base.join("socket");
    std::fs::create_dir_all(&socket).map_err(|e| e.to_string())?;
    run_ok(
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&base),
    )?;
    run_ok(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{bin}/initdb"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ]),
    )?;
    // A loopback address of its own, so that the manifests' port 5432 is used as is.
    let test_pid = std::process::id();
    let mut last = String::new();
    for attempt in 0..5u32 {
        let n = test_pid.wrapping_mul(7919).wrapping_add(attempt * 104_729);
        let addr = format!(
            "127.{}.{}.{}",
            1 + n % 250,
            (n / 250) % 250,
            2 + (n / 62_500) % 250
        );
        // The server stops when the test process is gone (statics are never dropped),
        // and removes its directory.
        let watchdog = format!(
            "{bin}/postgres -D '{data}' -k '{socket}' -p 5432 -c listen_addresses={addr} -c fsync=off -c max_connections=200 &
pg=$!
while [ -d /proc/{test_pid} ] && kill -0 $pg 2>/dev/null; do sleep 0.5; done
kill -INT $pg 2>/dev/null; wait $pg; rm -rf '{base}'",
            data = data.display(),
            socket = socket.display(),
            base = base.display(),
        );
        let log = std::fs::File::create(base.join(format!("server-{attempt}.log")))
            .map_err(|e| e.to_string())?;
        let child = Command::new("runuser")
            .args(["-u", "postgres", "--", "sh", "-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| e.to_string())?;
        for _ in 0..100 {
            let ready = Command::new(format!("{bin}/pg_isready"))
                .args(["-h", socket.to_str().unwrap(), "-p", "5432", "-q"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(Pg {
                    addr,
                    port: 5432,
                    dir: base,
                    socket,
                    pid: child.id(),
                });
            }
            if !Path::new(&format!("/proc/{}", child.id())).exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        last =
            std::fs::read_to_string(base.join(format!("server-{attempt}.log"))).unwrap_or_default();
    }
    Err(format!("postgres did not start: {last}"))
}

impl Pg {
    /// Run SQL as the superuser over the server's own socket; the rows, `|`-separated.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket)
            .args(["-p", "5432", "-U", "postgres", "-d", db, "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A login role (allowed to create databases, as Odoo's user usually is) and,
    /// unless `create_db` is false, an empty database it owns.
    pub fn role_and_db(&self, user: &str, password: &str, db: &str, create_db: bool) {
        let pw = password.replace('\'', "''");
        self.sql(
            "postgres",
            &format!("CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{pw}'"),
        );
        if create_db {
            self.sql(
                "postgres",
                &format!("CREATE DATABASE \"{db}\" OWNER \"{user}\""),
            );
        }
    }

    pub fn db_exists(&self, db: &str) -> bool {
        self.sql(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{db}'"),
        ) == "1"
    }
}

static CASES: AtomicUsize = AtomicUsize::new(0);

/// One test case: its own role, database, directories and credentials.
pub struct Case {
    pub n: usize,
    pub dir: tempfile::TempDir,
    pub values: Values,
    pub creds: Credentials,
    /// Secrets that exist before odoo-tui runs (`existingSecret`): name → key → value.
    pub existing: BTreeMap<String, BTreeMap<String, String>>,
    pub objects: Vec<Object>,
    pub release: String,
    /// Another case's S3 directory, when both talk to one S3 server.
    pub s3_root: Option<PathBuf>,
}

/// What one script run did.
#[derive(Debug)]
pub struct Run {
    /// The exit code; -1 when it was stopped at [`RunOpts::timeout`].
    pub code: i32,
    /// Stopped at [`RunOpts::timeout`], still running.
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    /// The stand-ins' calls, one line each (`odoo -c ... -i base`, `mc cp ...`).
    pub calls: Vec<String>,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
    pub fn called(&self, prefix: &str) -> bool {
        self.calls.iter().any(|c| c.starts_with(prefix))
    }
}

/// What a pod's containers did, in the order they ran.
#[derive(Debug)]
pub struct Pod {
    pub runs: Vec<(String, Run)>,
}

impl Pod {
    /// Every container ran and succeeded.
    pub fn ok(&self) -> bool {
        self.runs.iter().all(|(_, r)| r.ok())
    }
    /// The container that failed, if one did.
    pub fn failed(&self) -> Option<&str> {
        self.runs
            .iter()
            .find(|(_, r)| !r.ok())
            .map(|(n, _)| n.as_str())
    }
    /// The containers that ran.
    pub fn ran(&self) -> Vec<&str> {
        self.runs.iter().map(|(n, _)| n.as_str()).collect()
    }
    pub fn stdout(&self) -> String {
        self.runs.iter().map(|(_, r)| r.stdout.as_str()).collect()
    }
    pub fn stderr(&self) -> String {
        self.runs.iter().map(|(_, r)| r.stderr.as_str()).collect()
    }
    pub fn calls(&self) -> Vec<String> {
        self.runs
            .iter()
            .flat_map(|(_, r)| r.calls.clone())
            .collect()
    }
}

impl std::fmt::Display for Pod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, r) in &self.runs {
            writeln!(f, "=== container {n}\n{r}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}{}\n--- stdout\n{}--- stderr\n{}--- calls\n{}",
            self.code,
            if self.timed_out {
                " (stopped: timed out)"
            } else {
                ""
            },
            self.stdout,
            self.stderr,
            self.calls.join("\n")
        )
    }
}

pub fn load(preset: &str, sets: &[String]) -> Values {
    let mut sources = vec![odoo_tui::presets::load(preset).unwrap()];
    for s in sets {
        sources.push(Source::set(s).unwrap());
    }
    values::load(&sources).unwrap().values
}

impl Case {
    /// A case rendering `preset` with `sets`, with the generated credentials given
    /// (as `--include-secrets` would print them). The database user and name are the
    /// case's own so that cases run side by side on one server.
    pub fn new(preset: &str, sets: &[&str], creds: Credentials) -> Case {
        let n = CASES.fetch_add(1, Ordering::SeqCst);
        let user = format!("u{n}_{}", std::process::id());
        let db = format!("d{n}_{}", std::process::id());
        let mut all: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let bundled = !all.iter().any(|s| s == "postgresql.enabled=false")
            && !matches!(preset, "external" | "production");
        if bundled {
            all.push(format!("postgresql.auth.username={user}"));
            all.push(format!("postgresql.auth.database={db}"));
        } else {
            all.push(format!("externalDatabase.user={user}"));
            all.push(format!("externalDatabase.database={db}"));
        }
        let values = load(preset, &all);
        let dir = tempfile::Builder::new()
            .prefix("odoo-tui-case-")
            .tempdir()
            .unwrap();
        let mut c = Case {
            n,
            dir,
            values,
            creds,
            existing: BTreeMap::new(),
            objects: Vec::new(),
            release: "acme".into(),
            s3_root: None,
        };
        c.render();
        c
    }

    pub fn render(&mut self) {
        self.render_with(Default::default());
    }

    /// Render as the apply engine does during a transition (e.g. the filestore's move
    /// to S3).
    pub fn render_with(&mut self, transition: odoo_tui::render::Transition) {
        self.objects = odoo_tui::render::render_with(
            &RenderInput {
                release: &self.release,
                namespace: "shop",
                values: &self.values,
                credentials: &self.creds,
            },
            transition,
        )
        .unwrap();
    }

    pub fn ctx_input(&self) -> RenderInput<'_> {
        RenderInput {
            release: &self.release,
            namespace: "shop",
            values: &self.values,
            credentials: &self.creds,
        }
    }

    pub fn derived(&self) -> odoo_tui::render::Derived {
        odoo_tui::render::Derived::new(&self.release, &self.values)
    }

    pub fn db_user(&self) -> String {
        self.derived().db_user
    }
    pub fn db_name(&self) -> String {
        self.derived().db_name
    }

    /// The value of a Secret key as the cluster would hold it.
    pub fn secret(&self, name: &str, key: &str) -> Option<String> {
        if let Some(v) = self.existing.get(name).and_then(|m| m.get(key)) {
            return Some(v.clone());
        }
        self.objects.iter().find_map(|o| match o {
            Object::Secret(s) if s.metadata.name.as_deref() == Some(name) => s
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|b| String::from_utf8(b.0.clone()).unwrap()),
            _ => None,
        })
    }

    fn config_map(&self, name: &str, key: &str) -> Option<String> {
        self.objects.iter().find_map(|o| match o {
            Object::ConfigMap(c) if c.metadata.name.as_deref() == Some(name) => {
                c.data.as_ref().and_then(|d| d.get(key)).cloned()
            }
            _ => None,
        })
    }

    /// The database password as the Secrets give it.
    pub fn db_password(&self) -> String {
        let d = self.derived();
        self.secret(&d.db_secret.0, &d.db_secret.1)
            .expect("the DB password is in a Secret")
    }

    /// Create the case's role (with the rendered DB password) and, if `create_db`,
    /// its empty database: what the bundled PostgreSQL image does on first start.
    pub fn provision_db(&self, pg: &Pg, create_db: bool) {
        pg.role_and_db(
            &self.db_user(),
            &self.db_password(),
            &self.db_name(),
            create_db,
        );
    }

    pub fn job(&self, component: &str) -> Object {
        self.objects
            .iter()
            .find(|o| o.kind() == "Job" && o.component() == Some(component))
            .unwrap_or_else(|| panic!("no {component} Job rendered"))
            .clone()
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Where the stand-in `mc` and `fs.storage` keep their objects: `<dir>/<bucket>/<key>`.
    pub fn s3_dir(&self) -> PathBuf {
        let p = self.s3_root.clone().unwrap_or_else(|| self.path("s3"));
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// Talk to the same S3 server as `other` (its buckets are this case's too).
    pub fn s3_dir_shared_with(&mut self, other: &Case) {
        self.s3_root = Some(other.s3_dir());
    }

    /// The directory a PVC's content lives in (shared by every pod of the case).
    pub fn pvc_dir(&self, claim: &str) -> PathBuf {
        let p = self.path(&format!("pvc/{claim}"));
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// Run the container `container` of `job` (a rendered Job) with `extra` env for the
    /// stand-ins (e.g. `STANDIN_FAIL`), `path_first` directories put before the usual
    /// `PATH`, and `hide` commands removed from `PATH`.
    pub fn run(&self, job: &Object, container: &str, opts: &RunOpts) -> Run {
        let pg = pg().expect("PostgreSQL is running");
        let j = job.to_json();
        let pod = &j["spec"]["template"]["spec"];
        let c = pod["containers"]
            .as_array()
            .into_iter()
            .chain(pod["initContainers"].as_array())
            .flatten()
            .find(|c| c["name"] == container)
            .unwrap_or_else(|| panic!("no container {container} in {}", job.name()))
            .clone();
        let cmd: Vec<String> = c["command"]
            .as_array()
            .expect("the container has a command")
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        assert_eq!(&cmd[..2], ["sh", "-c"], "{}: {cmd:?}", job.name());
        let image = c["image"].as_str().unwrap_or_default();
        let pod_dir = self.path(&format!("pods/{}", job.name()));
        let mounts = self.mount(pod, &c, &pod_dir);

        // Env as rendered, references resolved.
        let mut env: Vec<(String, String)> = Vec::new();
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap().to_string();
            let value = if let Some(v) = e["value"].as_str() {
                v.to_string()
            } else if let Some(r) = e["valueFrom"]["secretKeyRef"].as_object() {
                let (s, k) = (r["name"].as_str().unwrap(), r["key"].as_str().unwrap());
                self.secret(s, k)
                    .unwrap_or_else(|| panic!("{name}: no Secret {s} key {k}"))
            } else if let Some(r) = e["valueFrom"]["configMapKeyRef"].as_object() {
                let (s, k) = (r["name"].as_str().unwrap(), r["key"].as_str().unwrap());
                match self.config_map(s, k) {
                    Some(v) => v,
                    // An optional reference to what does not exist: no variable.
                    None if r.get("optional") == Some(&Json::Bool(true)) => continue,
                    None => panic!("{name}: no ConfigMap {s} key {k}"),
                }
            } else {
                String::new()
            };
            env.push((name, remap(&value, &mounts)));
        }

        let log = self.path(&format!("calls-{}.log", job.name()));
        let _ = std::fs::remove_file(&log);
        let bin = standins();
        let mut path: Vec<String> = opts
            .path_first
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        path.push(bin.display().to_string());
        // mc's image has a shell and mc, nothing else: its scripts get the stand-ins only,
        // so a command the image lacks fails here as it would there.
        let mc_image = image.contains("minio/mc");
        if !mc_image && opts.hide.is_empty() {
            path.push("/usr/local/bin:/usr/bin:/bin".into());
        } else if !mc_image {
            path.push(self.bin_without(&opts.hide).display().to_string());
        }
        let shell: Vec<&str> = if image.contains("busybox") {
            vec!["/usr/bin/busybox", "sh", "-c"]
        } else {
            vec!["/usr/bin/dash", "-c"]
        };
        let mut command = Command::new(shell[0]);
        command
            .args(&shell[1..])
            .arg(&cmd[2])
            .env_clear()
            .current_dir(&pod_dir)
            .env("PATH", path.join(":"))
            .env("HOME", &pod_dir)
            .env("PGHOSTADDR", &pg.addr)
            .env("STANDIN_LOG", &log)
            .env("STANDIN_PSQL", which("psql"))
            .env("STANDIN_S3_DIR", self.s3_dir())
            .env(
                "STANDIN_HOSTS",
                format!("{}={}", self.derived().db_host, pg.addr),
            )
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null());
        // The S3 server (MinIO or external) accepts the keys the Secrets hold.
        let d = self.derived();
        if d.s3_requested
            && let (Some(ak), Some(sk)) = (
                self.secret(&d.s3_secret.0, &d.s3_secret.1),
                self.secret(&d.s3_secret.0, &d.s3_secret.2),
            )
        {
            command.env("STANDIN_S3_KEYS", format!("{ak}:{sk}"));
        }
        let (out, timed_out) = match opts.timeout {
            None => (command.output().expect("the shell runs"), false),
            Some(limit) => {
                let mut child = command
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("the shell runs");
                let start = std::time::Instant::now();
                let mut timed_out = false;
                while child.try_wait().expect("wait").is_none() {
                    if start.elapsed() > limit {
                        let _ = child.kill();
                        timed_out = true;
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                (child.wait_with_output().expect("the shell ends"), timed_out)
            }
        };
        let calls = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        Run {
            code: out.status.code().unwrap_or(-1),
            timed_out,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            calls,
        }
    }

    /// Run a Job's pod as the kubelet would: its init containers in order, then its
    /// container, stopping at the first that fails. The runs, named by container.
    pub fn run_pod(&self, job: &Object, opts: &RunOpts) -> Pod {
        let j = job.to_json();
        let spec = &j["spec"]["template"]["spec"];
        let names: Vec<String> = spec["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(spec["containers"].as_array().into_iter().flatten())
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        let mut runs = Vec::new();
        for n in names {
            let r = self.run(job, &n, opts);
            let ok = r.ok();
            runs.push((n, r));
            if !ok {
                break;
            }
        }
        Pod { runs }
    }

    /// The case's directories for the container's volume mounts: mount path → host path.
    fn mount(&self, pod: &Json, c: &Json, pod_dir: &Path) -> Vec<(String, PathBuf)> {
        std::fs::create_dir_all(pod_dir).unwrap();
        let mut out = Vec::new();
        let data_dir_mount = c["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == "data")
            .and_then(|m| m["mountPath"].as_str())
            .map(str::to_string);
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let name = m["name"].as_str().unwrap();
            let mount_path = m["mountPath"].as_str().unwrap().to_string();
            let vol = pod["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("no volume {name}"));
            let dir = if let Some(claim) = vol["persistentVolumeClaim"]["claimName"].as_str() {
                self.pvc_dir(claim)
            } else if vol["secret"].is_object() {
                let d = pod_dir.join(format!("vol-{name}"));
                std::fs::create_dir_all(&d).unwrap();
                let secret = vol["secret"]["secretName"].as_str().unwrap();
                for item in vol["secret"]["items"].as_array().into_iter().flatten() {
                    let key = item["key"].as_str().unwrap();
                    let mut text = self
                        .secret(secret, key)
                        .unwrap_or_else(|| panic!("no Secret {secret} key {key}"));
                    if key == "odoo.conf"
                        && let Some(dd) = &data_dir_mount
                    {
                        // data_dir is where the data volume is mounted: point it at the
                        // case's directory for that volume (computed below).
                        text =
                            text.replace(&format!("data_dir = {dd}\n"), "data_dir = @DATA_DIR@\n");
                    }
                    std::fs::write(d.join(item["path"].as_str().unwrap()), text).unwrap();
                }
                d
            } else if let Some(sources) = vol["projected"]["sources"].as_array() {
                // Secrets projected item by item (a missing key: the pod would not start).
                let d = pod_dir.join(format!("vol-{name}"));
                std::fs::create_dir_all(&d).unwrap();
                for s in sources {
                    let secret = s["secret"]["name"].as_str().expect("a Secret projection");
                    for item in s["secret"]["items"].as_array().into_iter().flatten() {
                        let key = item["key"].as_str().unwrap();
                        let text = self
                            .secret(secret, key)
                            .unwrap_or_else(|| panic!("no Secret {secret} key {key}"));
                        let file = d.join(item["path"].as_str().unwrap());
                        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                        std::fs::write(file, text).unwrap();
                    }
                }
                d
            } else {
                let d = pod_dir.join(format!("vol-{name}"));
                std::fs::create_dir_all(&d).unwrap();
                d
            };
            let host = match m["subPath"].as_str() {
                Some(sub) => dir.join(sub),
                None => dir,
            };
            out.push((mount_path, host));
        }
        // Fill in data_dir now that every volume has its directory.
        if let Some(dd) = &data_dir_mount {
            let data_host = out.iter().find(|(p, _)| p == dd).map(|(_, h)| h.clone());
            for (_, host) in &out {
                if host.is_file()
                    && let (Ok(t), Some(data)) = (std::fs::read_to_string(host), &data_host)
                    && t.contains("@DATA_DIR@")
                {
                    std::fs::write(host, t.replace("@DATA_DIR@", &data.display().to_string()))
                        .unwrap();
                }
            }
        }
        // Longest mount path first, so nested mounts win.
        out.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        out
    }

    /// A directory with every command of /usr/bin and /bin except `hide`.
    fn bin_without(&self, hide: &[&str]) -> PathBuf {
        let d = self.path("bin-without");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for src in ["/usr/bin", "/bin", "/usr/local/bin"] {
            for e in std::fs::read_dir(src).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if hide.contains(&name.as_str()) || d.join(&name).exists() {
                    continue;
                }
                let _ = std::os::unix::fs::symlink(e.path(), d.join(&name));
            }
        }
        d
    }

    /// Rows of a query on the case's database.
    pub fn sql(&self, sql: &str) -> String {
        pg().unwrap().sql(&self.db_name(), sql)
    }
}

/// The test server's socket directory (for clients run by the tests themselves).
pub fn socket_dir() -> PathBuf {
    pg().expect("PostgreSQL is running").socket.clone()
}

/// Rewrite a value that is a mount path (or under one) to the case's directory.
fn remap(value: &str, mounts: &[(String, PathBuf)]) -> String {
    for (mount, host) in mounts {
        if value == mount {
            return host.display().to_string();
        }
        if let Some(rest) = value.strip_prefix(&format!("{mount}/")) {
            return host.join(rest).display().to_string();
        }
    }
    value.to_string()
}

fn which(cmd: &str) -> String {
    for d in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(d).join(cmd);
        if p.exists() {
            return p.display().to_string();
        }
    }
    panic!("{cmd} is not installed")
}

/// The stand-ins' directory.
pub fn standins() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/bin")
}

/// Options of one run.
#[derive(Default)]
pub struct RunOpts {
    pub env: Vec<(String, String)>,
    pub path_first: Vec<PathBuf>,
    pub hide: Vec<&'static str>,
    /// Stop the script after this long (for scripts that wait forever by design).
    pub timeout: Option<std::time::Duration>,
}

impl RunOpts {
    pub fn fail(points: &str) -> RunOpts {
        RunOpts {
            env: vec![("STANDIN_FAIL".into(), points.into())],
            ..Default::default()
        }
    }
}

/// Generated credentials as `odoo-tui` makes them (`--include-secrets` shows them).
pub fn generated(v: &Values) -> Credentials {
    odoo_tui::credentials::generate(&odoo_tui::render::needed_credentials(v))
}

/// Base64 of a string (for comparing with Secret data when needed).
pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}
