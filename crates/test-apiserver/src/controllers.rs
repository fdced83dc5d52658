//! Controllers (placeholder while the store is brought up).
use crate::Shared;
use crate::api::{self, WriteOpts};
use crate::resources::by_plural;
use serde_json::json;
use std::sync::Arc;

pub fn bootstrap(shared: &Arc<Shared>) {
    let mut store = shared.store.lock().expect("store");
    let o = WriteOpts::manager("kube-apiserver");
    let ns = by_plural("namespaces").expect("ns");
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let _ = api::create(&mut store, ns, "", json!({"metadata": {"name": n}}), &o);
        let _ = api::create(
            &mut store,
            by_plural("serviceaccounts").expect("sa"),
            n,
            json!({"metadata": {"name": "default"}}),
            &o,
        );
    }
}

pub async fn run(_shared: Arc<Shared>) {}
