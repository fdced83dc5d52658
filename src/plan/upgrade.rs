//! The decisions of `odoo-tui upgrade`, without IO: which modules, which strategy, which
//! image, what to set to roll the backend there, and what to say when it fails. The
//! orchestration is `cmd/upgrade.rs`; the Job itself comes from the renderer
//! (`render::ops_parts::upgrade_job`).

use crate::render::ops_parts::UpgradeModules;
use crate::values::{self, Derived, Image, Values};

/// How many log lines a failure shows.
pub const FAILURE_LINES: usize = 20;

/// How the instance keeps (or stops) serving during the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Keep the backend running on the old image while the Job runs.
    Online,
    /// The backend scaled to zero (no request and no cron touches the database during
    /// `-u`), with the maintenance page on when nginx serves it.
    Maintenance,
}

impl Strategy {
    /// The strategy as announced before the upgrade starts.
    pub fn describe(self, nginx: bool) -> &'static str {
        match (self, nginx) {
            (Strategy::Maintenance, true) => "maintenance (backend stopped, maintenance page on)",
            (Strategy::Maintenance, false) => "maintenance (backend stopped)",
            (Strategy::Online, _) => "online (keeps serving)",
        }
    }

    /// As kept in the history.
    pub fn label(self) -> &'static str {
        match self {
            Strategy::Maintenance => "maintenance",
            Strategy::Online => "online",
        }
    }

    /// From its label; maintenance for anything else.
    pub fn from_label(s: &str) -> Strategy {
        if s == "online" {
            Strategy::Online
        } else {
            Strategy::Maintenance
        }
    }
}

/// The flag that accepts serving the old image while a new one migrates the database.
pub const ACCEPT_ONLINE_IMAGE_CHANGE: &str = "--accept-online-image-change";

/// What the online strategy means, said before an online upgrade starts.
pub const ONLINE_WARNING: &str = "warning: --strategy online keeps the backend serving during `-u`: requests and cron jobs run against a database whose modules are being upgraded, and can fail or write data the new code does not expect";

/// The module list from the flags, or "ask" when neither is given on a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleChoice {
    Given(UpgradeModules),
    Ask,
}

/// `--modules a,b` / `--all` / neither (a terminal asks; otherwise a usage error, whose
/// message is the `Err`).
pub fn module_choice(
    modules: Option<&str>,
    all: bool,
    interactive: bool,
) -> Result<ModuleChoice, String> {
    match (modules, all) {
        (Some(_), true) => Err("--modules and --all exclude each other: give one".into()),
        (Some(list), false) => parse_module_list(list).map(ModuleChoice::Given),
        (None, true) => Ok(ModuleChoice::Given(UpgradeModules::All)),
        (None, false) if interactive => Ok(ModuleChoice::Ask),
        (None, false) => Err(
            "say which modules to upgrade: --modules sale,account, or --all for every installed module"
                .into(),
        ),
    }
}

/// A comma list of module names (or `all`, as typed at the prompt); a usage error's
/// message otherwise.
pub fn parse_module_list(list: &str) -> Result<UpgradeModules, String> {
    if list.trim() == "all" {
        return Ok(UpgradeModules::All);
    }
    values::validate::parse_modules(list)
        .map(UpgradeModules::List)
        .map_err(|e| format!("--modules: {e}"))
}

/// `--strategy`, else maintenance: the backend is stopped during every upgrade, whatever
/// the exposure (the maintenance page is an extra when nginx is on).
pub fn pick_strategy(explicit: Option<Strategy>) -> Strategy {
    explicit.unwrap_or(Strategy::Maintenance)
}

/// `--strategy online` with a new image: the old code keeps serving while the new code
/// migrates the schema under it. Refused (a usage error's message) unless
/// [`ACCEPT_ONLINE_IMAGE_CHANGE`] was given; `--yes` does not count.
pub fn check_online(strategy: Strategy, image_changes: bool, accepted: bool) -> Result<(), String> {
    if strategy == Strategy::Online && image_changes && !accepted {
        return Err(format!(
            "--strategy online with a new --image-tag keeps the old image serving while the new one migrates the database under it (old code on a new schema, cron jobs included) — leave --strategy out to stop the backend during the upgrade (the default), or pass {ACCEPT_ONLINE_IMAGE_CHANGE} to accept it (--yes does not)"
        ));
    }
    Ok(())
}

/// The modules odoo-tui installed itself and whose code comes with the image: the `fs_*`
/// modules of the S3 filestore (`fs_attachment_s3` and what it depends on) when S3 is in
/// use, and `session_db` when it is loaded server-wide. `-u` on one that is not installed
/// is ignored by Odoo (`odoo/modules/loading.py` upgrades only `installed` modules).
pub fn own_modules(d: &Derived, v: &Values) -> Vec<String> {
    let mut out = Vec::new();
    if d.server_wide_modules(v)
        .split(',')
        .any(|m| m == "session_db")
    {
        out.push("session_db".to_string());
    }
    if d.s3 {
        for m in ["fs_storage", "fs_attachment", "fs_attachment_s3"] {
            out.push(m.to_string());
        }
    }
    out
}

/// Whether the upgrade runs another image than the backend's.
pub fn image_changes(current: &Image, target: &Image) -> bool {
    current.reference() != target.reference()
}

/// The modules the upgrade Job updates: the chosen ones, and with a new image also
/// odoo-tui's own modules (a new image brings their new code).
pub fn job_modules(chosen: &UpgradeModules, image_changes: bool, own: &[String]) -> UpgradeModules {
    match chosen {
        UpgradeModules::All => UpgradeModules::All,
        UpgradeModules::List(l) if image_changes => {
            let mut all = l.clone();
            for m in own {
                if !all.contains(m) {
                    all.push(m.clone());
                }
            }
            UpgradeModules::List(all)
        }
        UpgradeModules::List(l) => UpgradeModules::List(l.clone()),
    }
}

/// The backend image an upgrade runs: the recorded one, with `--image-tag` when given (a
/// pinned digest belongs to the old tag, so a new tag drops it).
pub fn target_image(current: &Image, tag: Option<&str>) -> Image {
    let mut image = current.clone();
    if let Some(t) = tag
        && t != current.tag
    {
        image.tag = t.to_string();
        image.digest.clear();
    }
    image
}

/// The `--set` layers that move the recorded values from `current` to `target` once the
/// modules are upgraded (none when the image stays).
pub fn image_sets(current: &Image, target: &Image) -> Vec<String> {
    let mut sets = Vec::new();
    if target.tag != current.tag {
        sets.push(format!("backend.image.tag={}", target.tag));
        if !current.digest.is_empty() {
            sets.push("backend.image.digest=".to_string());
        }
    }
    sets
}

/// An image tag as Docker accepts it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a usage
/// error's message otherwise.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--image-tag `{tag}` is not an image tag (letters, digits, `_`, `.`, `-`; e.g. 18.0-20261201)"
        ))
    }
}

/// The module named by an Odoo "loading module X" log line, for progress.
pub fn module_progress(line: &str) -> Option<&str> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("loading module ")? + "loading module ".len();
    let rest = &line[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The last [`FAILURE_LINES`] lines of a Job's log.
pub fn last_lines(lines: &[String]) -> &[String] {
    &lines[lines.len().saturating_sub(FAILURE_LINES)..]
}

/// `what`, then the last log lines (when there are any), as a failure message.
pub fn with_log_tail(what: String, lines: &[String]) -> String {
    let mut message = what;
    let shown = last_lines(lines);
    if !shown.is_empty() {
        message.push_str("\nlast log lines:\n  ");
        message.push_str(&shown.join("\n  "));
    }
    message
}

/// The message of a failed upgrade Job: the reason, the log tail, where the backend
/// stays, the next step, and how to restore the backup (or that none was taken).
pub fn failure_message(
    reason: &str,
    lines: &[String],
    current_image: &str,
    next: &str,
    restore: Option<&[String]>,
) -> String {
    let mut message = with_log_tail(format!("the upgrade failed: {reason}"), lines);
    message.push_str(&format!(
        "\nthe backend stays on {current_image} with its replicas; next step: {next}"
    ));
    match restore {
        Some(h) => {
            message.push('\n');
            message.push_str(&h.join("\n"));
        }
        None => message.push_str("\nno backup was taken (--no-backup)"),
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(l: &[&str]) -> UpgradeModules {
        UpgradeModules::List(l.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn module_flags() {
        assert_eq!(
            module_choice(Some("sale,account"), false, false).unwrap(),
            ModuleChoice::Given(list(&["sale", "account"]))
        );
        assert_eq!(
            module_choice(None, true, false).unwrap(),
            ModuleChoice::Given(UpgradeModules::All)
        );
        assert_eq!(module_choice(None, false, true).unwrap(), ModuleChoice::Ask);
        let e = module_choice(None, false, false).unwrap_err();
        assert!(e.contains("--modules") && e.contains("--all"));
        for bad in ["sale,,account", "Sale", "sale;rm -rf", ""] {
            assert!(module_choice(Some(bad), false, false).is_err(), "{bad}");
        }
        assert!(module_choice(Some("a"), true, false).is_err());
        assert_eq!(parse_module_list(" all ").unwrap(), UpgradeModules::All);
    }

    #[test]
    fn the_backend_is_stopped_by_default_whatever_the_exposure() {
        assert_eq!(pick_strategy(None), Strategy::Maintenance);
        assert_eq!(pick_strategy(Some(Strategy::Online)), Strategy::Online);
        assert_eq!(
            Strategy::from_label(Strategy::Online.label()),
            Strategy::Online
        );
    }

    #[test]
    fn online_with_a_new_image_needs_its_own_flag() {
        assert!(check_online(Strategy::Online, false, false).is_ok());
        assert!(check_online(Strategy::Maintenance, true, false).is_ok());
        assert!(check_online(Strategy::Online, true, true).is_ok());
        let e = check_online(Strategy::Online, true, false).unwrap_err();
        assert!(e.contains(ACCEPT_ONLINE_IMAGE_CHANGE) && e.contains("--yes does not"));
    }

    fn derived(sets: &[&str]) -> (Derived, Values) {
        let sources: Vec<_> = sets
            .iter()
            .map(|s| crate::values::Source::set(s).unwrap())
            .collect();
        let v = crate::values::load(&sources).unwrap().values;
        (Derived::new("acme", &v), v)
    }

    #[test]
    fn a_new_image_also_upgrades_odoo_tuis_own_modules() {
        let (d, v) = derived(&[]);
        let own = own_modules(&d, &v);
        assert_eq!(
            own,
            [
                "session_db",
                "fs_storage",
                "fs_attachment",
                "fs_attachment_s3"
            ]
        );
        let chosen = list(&["sale"]);
        assert_eq!(
            job_modules(&chosen, true, &own),
            list(&[
                "sale",
                "session_db",
                "fs_storage",
                "fs_attachment",
                "fs_attachment_s3"
            ])
        );
        assert_eq!(job_modules(&chosen, false, &own), chosen);
        assert_eq!(
            job_modules(&UpgradeModules::All, true, &own),
            UpgradeModules::All
        );
        // No S3: no fs_* module; an image without session_db: not that one either.
        let (d, v) = derived(&["minio.enabled=false"]);
        assert_eq!(own_modules(&d, &v), ["session_db"]);
        let (d, v) = derived(&["backend.image.repository=odoo", "backend.image.tag=18.0"]);
        assert!(own_modules(&d, &v).is_empty());
    }

    #[test]
    fn a_new_tag_drops_the_old_digest() {
        let img = Image {
            repository: "ghcr.io/x/odoo".into(),
            tag: "18.0-1".into(),
            digest: "sha256:abc".into(),
            pull_policy: "IfNotPresent".into(),
            s3_modules: None,
        };
        assert_eq!(target_image(&img, None), img);
        assert_eq!(target_image(&img, Some("18.0-1")), img);
        let t = target_image(&img, Some("18.0-2"));
        assert_eq!(t.reference(), "ghcr.io/x/odoo:18.0-2");
        assert_eq!(
            image_sets(&img, &t),
            ["backend.image.tag=18.0-2", "backend.image.digest="]
        );
        assert!(image_sets(&img, &img).is_empty());
        assert!(check_tag("18.0-2").is_ok());
        for bad in ["", "a b", "x:y", "-x", "a@sha256"] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loading_module_lines_are_progress() {
        assert_eq!(
            module_progress(
                "2026-11-27 23:05:00,1 1 INFO odoo odoo.modules.loading: Loading module sale (12/45)"
            ),
            Some("sale")
        );
        assert_eq!(
            module_progress("loading module account_edi"),
            Some("account_edi")
        );
        assert_eq!(module_progress("loading 45 modules..."), None);
    }

    #[test]
    fn a_failure_shows_the_tail_and_the_way_back() {
        let lines: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let m = failure_message(
            "Job/x failed: BackoffLimitExceeded — ",
            &lines,
            "odoo:1",
            "read the log lines above for the cause",
            None,
        );
        assert!(!m.contains("line 10\n") && m.contains("line 11") && m.contains("line 30"));
        assert!(m.contains("the backend stays on odoo:1 with its replicas"));
        assert!(m.ends_with("no backup was taken (--no-backup)"), "{m}");
        let hint = vec!["to restore: ...".to_string()];
        let m = failure_message("r", &[], "odoo:1", "n", Some(&hint));
        assert!(!m.contains("last log lines") && m.ends_with("to restore: ..."));
    }
}
