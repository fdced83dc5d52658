//! Against a real cluster (kind, k3d, minikube): ignored by `cargo test`, run with
//! `--ignored` and ODOO_TUI_E2E_KUBECONFIG naming a kubeconfig. Installs quick-start,
//! waits for ready, re-runs (no change), deletes with its data. The README says how.

use std::process::Command;

fn odoo_tui(kubeconfig: &str, ns: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-tui"))
        .args(["--kubeconfig", kubeconfig, "-n", ns])
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
#[ignore = "needs a real cluster: ODOO_TUI_E2E_KUBECONFIG=... cargo test --test e2e_real -- --ignored"]
fn quick_start_on_a_real_cluster() {
    // Asked for with --ignored: without a cluster this is a failure, not a pass.
    let kubeconfig = std::env::var("ODOO_TUI_E2E_KUBECONFIG")
        .expect("set ODOO_TUI_E2E_KUBECONFIG to the kubeconfig of a kind/k3d/minikube cluster");
    let ns = std::env::var("ODOO_TUI_E2E_NAMESPACE").unwrap_or_else(|_| "odoo-tui-e2e".into());
    let show = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let o = odoo_tui(
        &kubeconfig,
        &ns,
        &[
            "new",
            "e2e",
            "--preset",
            "quick-start",
            "--yes",
            "--timeout",
            "20m",
        ],
    );
    assert!(o.status.success(), "install failed:\n{}", show(&o));
    let o = odoo_tui(&kubeconfig, &ns, &["status", "e2e", "--once"]);
    assert!(o.status.success(), "not ready:\n{}", show(&o));
    let o = odoo_tui(&kubeconfig, &ns, &["new", "e2e", "--yes"]);
    assert!(
        o.status.success() && show(&o).contains("0 object(s) changed"),
        "re-run changed something:\n{}",
        show(&o)
    );
    let o = odoo_tui(
        &kubeconfig,
        &ns,
        &["delete", "e2e", "--delete-data", "--yes"],
    );
    assert!(o.status.success(), "delete failed:\n{}", show(&o));
}
