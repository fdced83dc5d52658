//! The harness the cluster suites share: a test API server on loopback, a kubeconfig for
//! it in a temporary folder, and the real binary (and the versioned kubectl) pointed at it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use test_apiserver::{Config, ServerHandle, TestServer};

pub const NS: &str = "shop";

pub struct Env {
    pub server: ServerHandle,
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A server started with `config` exactly as given.
    pub fn with(config: Config) -> Env {
        let server = TestServer::start(config).expect("test API server starts");
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(dir.path().join("kubeconfig"), NS)
            .unwrap();
        Env { server, dir }
    }

    /// A fast server (scenario time × 0.02) with `config`'s other settings.
    pub fn start(config: Config) -> Env {
        Env::with(config.time_scale(0.02))
    }

    pub fn new() -> Env {
        Env::start(Config::default())
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// The binary with the kubeconfig, a private HOME and config directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_odoo-tui"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.dir.path())
            .env("ODOO_TUI_CONFIG_DIR", self.dir.path().join("config"))
            .env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the binary runs")
    }

    /// Run and require success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} failed ({:?}):\n{}",
            o.status.code(),
            text(&o)
        );
        o
    }

    pub fn obj(&self, plural: &str, name: &str) -> Option<serde_json::Value> {
        self.server.object(plural, NS, name)
    }

    /// The versioned kubectl (beside the machine's `kubectl`), with a fresh cache dir.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        let dir = std::fs::canonicalize("/usr/bin/kubectl")
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("/usr/bin"));
        Command::new(dir.join("kubectl.1.32"))
            .args(["--kubeconfig", self.kubeconfig().to_str().unwrap()])
            .args([
                "--cache-dir",
                self.dir.path().join("kcache").to_str().unwrap(),
                "-n",
                NS,
            ])
            .args(args)
            .output()
            .expect("kubectl.1.32 runs")
    }
}

/// Everything a command printed.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
