//! The real binary: exit codes, messages and files, with no cluster and no kubeconfig.

use std::path::Path;
use std::process::{Command, Output};

fn odoo_tui(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_odoo-tui"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .env("ODOO_TUI_CONFIG_DIR", dir.join("config"))
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn render_works_without_any_cluster_or_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let o = odoo_tui(&["render", "acme", "--preset", "quick-start"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("kind: Deployment") && out.contains("name: acme-odoo-backend"));
    assert!(out.contains("<redacted>"));
}

#[test]
fn render_writes_one_file_per_object() {
    let dir = tempfile::tempdir().unwrap();
    let o = odoo_tui(
        &[
            "render",
            "acme",
            "--preset",
            "local-dev",
            "--output-dir",
            "out",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files.first().map(String::as_str),
        Some("01-serviceaccount-acme-odoo.yaml")
    );
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("-deployment-acme-odoo-backend.yaml"))
    );
}

#[test]
fn include_secrets_prints_generated_credentials_once_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let a = stdout(&odoo_tui(
        &["render", "acme", "--include-secrets"],
        dir.path(),
    ));
    let b = stdout(&odoo_tui(
        &["render", "acme", "--include-secrets"],
        dir.path(),
    ));
    assert!(!a.contains("<redacted>"));
    assert_ne!(a, b, "generated passwords differ between runs");
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The Secret files of a manifests folder, with their modes, and the folder's mode.
fn secret_modes(dir: &Path) -> (u32, Vec<(String, u32)>) {
    let mut files: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().contains("-secret-"))
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                mode(&p),
            )
        })
        .collect();
    files.sort();
    (mode(dir), files)
}

#[test]
fn new_without_a_cluster_fails_and_writes_the_manifests_privately() {
    let dir = tempfile::tempdir().unwrap();
    let o = odoo_tui(
        &["new", "acme", "--preset", "quick-start", "--yes"],
        dir.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "nothing was applied: {err}");
    assert!(err.contains("nothing was applied"), "{err}");
    assert!(err.contains("--output-dir"), "{err}");
    assert!(err.contains("kubectl apply --server-side"), "{err}");
    assert!(
        err.contains("would rotate its passwords"),
        "warns that applying fresh passwords rotates them: {err}"
    );
    let (dir_mode, files) = secret_modes(&dir.path().join("acme-manifests"));
    assert_eq!(dir_mode, 0o700);
    assert!(!files.is_empty());
    assert!(files.iter().all(|(_, m)| *m == 0o600), "{files:?}");
}

#[test]
fn new_with_an_output_dir_succeeds_and_keeps_the_secrets_private() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops/acme");
    // A Secret file left world-readable by an older version is made private again.
    std::fs::create_dir_all(&out).unwrap();
    let old = out.join("02-secret-acme-odoo.yaml");
    std::fs::write(&old, "old").unwrap();
    std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = odoo_tui(
        &[
            "new",
            "acme",
            "--preset",
            "quick-start",
            "--yes",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("other users can list"),
        "{}",
        stderr(&o)
    );
    let (_, files) = secret_modes(&out);
    assert!(files.len() >= 2, "{files:?}");
    assert!(files.iter().all(|(_, m)| *m == 0o600), "{files:?}");
    // A new folder is private.
    let fresh = dir.path().join("fresh");
    let o = odoo_tui(
        &[
            "new",
            "acme",
            "--preset",
            "quick-start",
            "--yes",
            "--output-dir",
            "fresh",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(secret_modes(&fresh).0, 0o700);
    // render --include-secrets writes them the same way; without, nothing is private.
    let o = odoo_tui(
        &[
            "render",
            "acme",
            "--preset",
            "quick-start",
            "--include-secrets",
            "--output-dir",
            "r",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (dir_mode, files) = secret_modes(&dir.path().join("r"));
    assert_eq!(dir_mode, 0o700);
    assert!(files.iter().all(|(_, m)| *m == 0o600), "{files:?}");
}

/// Bad input: one short message naming the problem, a non-zero exit, never a panic.
#[test]
fn bad_input_gives_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typo.yaml"), "backend:\n  replicas: 2\n").unwrap();
    std::fs::write(
        dir.path().join("type.yaml"),
        "backend:\n  replicaCount: many\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "backend: [\n").unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["render", "-f", "typo.yaml"],
            1,
            "typo.yaml:2: unknown key `backend.replicas` — did you mean `backend.replicaCount`?",
        ),
        (
            &["render", "-f", "type.yaml"],
            1,
            "type.yaml:2: `backend.replicaCount` must be an integer",
        ),
        (&["render", "-f", "broken.yaml"], 1, "broken.yaml:"),
        (
            &["render", "-f", "missing.yaml"],
            1,
            "cannot read missing.yaml",
        ),
        (
            &["render", "Bad_Name"],
            2,
            "instance name `Bad_Name` is not valid",
        ),
        (
            &["render", "--set", "backend.replicaCount"],
            2,
            "has no `=`",
        ),
        (
            &["render", "--set", "postgresql.enabled=false"],
            1,
            "`externalDatabase.host` is required",
        ),
        (&["render", "--preset", "nope"], 2, "unknown preset `nope`"),
        (
            &["render", "--preset", "external"],
            1,
            "external database needs a password",
        ),
        (
            &["upgrade", "acme", "--modules", "sale", "--all"],
            2,
            "cannot be used with",
        ),
        (&["frobnicate"], 2, "unrecognized subcommand"),
    ];
    for (args, code, expected) in cases {
        let o = odoo_tui(args, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{args:?}: {err}"
        );
        assert!(stdout(&o).is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn warnings_go_to_stderr_and_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    let o = odoo_tui(
        &["render", "--set", "backend.resources.limits.memory=512Mi"],
        dir.path(),
    );
    assert!(o.status.success());
    assert!(stderr(&o).contains("warning: backend memory limit 512Mi is small for 2 worker(s)"));
}

#[test]
fn the_defaults_render_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["render"][..],
        &["render", "acme", "--preset", "quick-start"],
    ] {
        let o = odoo_tui(args, dir.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("warning"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn user_presets_come_from_the_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config/presets")).unwrap();
    std::fs::write(
        dir.path().join("config/presets/mine.yaml"),
        "backend:\n  replicaCount: 3\n  pdb:\n    enabled: false\n",
    )
    .unwrap();
    let o = odoo_tui(&["render", "acme", "--preset", "mine"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("replicas: 3"));
}

#[test]
fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let o = odoo_tui(&["completions", shell], dir.path());
        assert!(o.status.success());
        assert!(stdout(&o).contains("upgrade"), "{shell}");
    }
}

#[test]
fn cluster_commands_without_a_kubeconfig_say_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        &["status", "--once"][..],
        &["list"],
        &["delete", "acme"],
        &["upgrade", "--all", "--yes"],
        &["backup"],
    ] {
        let o = odoo_tui(cmd, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}: {err}");
        assert!(
            err.contains("no-such-kubeconfig") || err.contains("KUBECONFIG"),
            "{cmd:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{cmd:?}: {err}");
    }
}

#[test]
fn new_without_a_terminal_or_yes_names_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let o = odoo_tui(&["new", "acme"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--yes") && err.contains("--preset") && err.contains("--set"),
        "{err}"
    );
}
