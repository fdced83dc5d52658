//! `test-apiserver`: run the Kubernetes API test server by hand.

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;
use test_apiserver::{Config, Scenario, TestServer};

/// A Kubernetes API server stand-in for odoo-tui's tests (dev only). Serves on
/// 127.0.0.1 until killed.
#[derive(Parser, Debug)]
#[command(name = "test-apiserver", version)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Scenario file (YAML) for the scripted kubelet.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Write a kubeconfig for this server to PATH.
    #[arg(long, value_name = "PATH")]
    kubeconfig_out: Option<PathBuf>,
    /// Namespace of the kubeconfig's context.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Serve HTTPS with a generated self-signed CA and certificate.
    #[arg(long)]
    tls: bool,
    /// Require this bearer token (401 without it).
    #[arg(long, value_name = "T")]
    token: Option<String>,
    /// Time scale for scenario and controller delays (0.1: ten times faster).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
}

fn main() {
    let args = Args::parse();
    let scenario = match &args.scenario {
        Some(p) => match Scenario::from_file(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("test-apiserver: scenario: {e}");
                std::process::exit(2);
            }
        },
        None => Scenario::default(),
    };
    let mut config = Config::default()
        .port(args.port)
        .latency(Duration::from_millis(args.latency_ms))
        .time_scale(args.time_scale)
        .scenario(scenario)
        .tls(args.tls);
    if let Some(t) = &args.token {
        config = config.token(t.clone());
    }
    let server = match TestServer::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("test-apiserver: cannot start: {e}");
            std::process::exit(1);
        }
    };
    if let Some(p) = &args.kubeconfig_out
        && let Err(e) = server.write_kubeconfig(p, &args.namespace)
    {
        eprintln!("test-apiserver: writing {}: {e}", p.display());
        std::process::exit(1);
    }
    println!("test-apiserver listening on {}", server.url());
    if let Some(p) = &args.kubeconfig_out {
        println!("kubeconfig written to {}", p.display());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    });
    server.stop();
}
