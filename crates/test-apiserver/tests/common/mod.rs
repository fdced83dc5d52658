#![allow(dead_code)]

use std::time::{Duration, Instant};
use test_apiserver::{Config, ServerHandle, TestServer};

/// A server with a small time scale, plus a kube client for it.
pub async fn setup(config: Config) -> (ServerHandle, kube::Client) {
    let server = TestServer::start(config).expect("start server");
    let client = client_for(&server, "default").await;
    (server, client)
}

pub async fn client_for(server: &ServerHandle, ns: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&server.kubeconfig(ns)).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .expect("client config");
    kube::Client::try_from(cfg).expect("client")
}

pub fn fast() -> Config {
    Config::default().time_scale(0.02)
}

/// Poll `f` until it returns Some, failing after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
