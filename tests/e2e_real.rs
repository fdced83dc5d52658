//! Against a real cluster (kind, k3d, minikube): skipped unless ODOO_TUI_E2E_KUBECONFIG
//! names a kubeconfig. Installs quick-start, waits for ready, re-runs (no change),
//! deletes with its data. The README says how to run it.

use std::process::Command;

fn odoo_tui(kubeconfig: &str, ns: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-tui"))
        .args(["--kubeconfig", kubeconfig, "-n", ns])
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn quick_start_on_a_real_cluster() {
    let Ok(kubeconfig) = std::env::var("ODOO_TUI_E2E_KUBECONFIG") else {
        eprintln!(
            "skipped: set ODOO_TUI_E2E_KUBECONFIG to a kind/k3d/minikube kubeconfig to run it"
        );
        return;
    };
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
