//! The decisions of `odoo-tui upgrade`, without IO: which modules, which strategy, which
//! image, what to set to roll the backend there, and what to say when it fails. The
//! orchestration is `cmd/upgrade.rs`; the Job itself comes from the renderer
//! (`render::ops_parts::upgrade_job`).

use crate::render::ops_parts::UpgradeModules;
use crate::status::{HistoryEntry, HistoryKind, HistoryResult, UpgradePhase, UpgradeState};
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

/// What `upgrade` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A new upgrade.
    Start,
    /// `--resume`: carry the open upgrade on from where it stopped.
    Resume,
    /// `--abort`: put the previous image and replicas back and close it.
    Abort,
}

/// `--resume` / `--abort` (each excludes the other and the flags of a new upgrade); a
/// usage error's message otherwise.
pub fn mode(resume: bool, abort: bool, start_flags: &[&str]) -> Result<Mode, String> {
    match (resume, abort) {
        (true, true) => Err("--resume and --abort exclude each other: give one".into()),
        (false, false) => Ok(Mode::Start),
        (resume, _) => {
            let flag = if resume { "--resume" } else { "--abort" };
            if let Some(f) = start_flags.first() {
                return Err(format!(
                    "{flag} carries on the open upgrade as it was started: {f} belongs to a new upgrade — leave it out"
                ));
            }
            Ok(if resume { Mode::Resume } else { Mode::Abort })
        }
    }
}

/// The open upgrade of a history (result `running`): its index, if any.
pub fn open_upgrade(history: &[HistoryEntry]) -> Option<usize> {
    history.iter().rposition(|e| {
        e.kind == HistoryKind::Upgrade && e.result == HistoryResult::Running && e.upgrade.is_some()
    })
}

impl UpgradePhase {
    /// As people read it.
    pub fn describe(self) -> &'static str {
        match self {
            UpgradePhase::Started => "started (backup and stopping the backend; nothing migrated)",
            UpgradePhase::Migrating => "the upgrade Job is migrating the database",
            UpgradePhase::JobFailed => {
                "the upgrade Job failed (the database may be partly migrated)"
            }
            UpgradePhase::Migrated => "the database is migrated; the backend is not rolled out yet",
            UpgradePhase::RolloutFailed => {
                "the database is migrated; the rollout on the new image failed"
            }
        }
    }

    /// Whether the database may already be (partly) migrated.
    pub fn touched_database(self) -> bool {
        self >= UpgradePhase::Migrating
    }
}

/// Why `new` or a new `upgrade` refuses while an upgrade is open, with the ways out.
pub fn open_refusal(command: &str, release: &str, e: &HistoryEntry) -> String {
    let Some(u) = &e.upgrade else {
        return String::new();
    };
    let image = e.image.as_deref().unwrap_or("?");
    let mut m = format!(
        "an upgrade of `{release}` to {image} is open ({}), started {}: `odoo-tui {command}` would act on an instance in the middle of it",
        u.phase.describe(),
        crate::time::rfc3339(e.time)
    );
    if command.starts_with("new") && u.phase.touched_database() {
        m.push_str(&format!(
            " (it would put {} back onto a database the upgrade has migrated)",
            u.previous_image
        ));
    }
    m.push_str(&format!(
        " — finish it with `odoo-tui upgrade {release} --resume`, or give it up with `odoo-tui upgrade {release} --abort` (the previous image {} with {} replica(s))",
        u.previous_image, u.previous_replicas
    ));
    m
}

/// Why `command` refuses while the open upgrade's Job `job` still runs `-u`: it would
/// race the migration, and odoo-tui never stops that Job midway.
pub fn job_running_refusal(command: &str, release: &str, namespace: &str, job: &str) -> String {
    format!(
        "Job/{job} of the open upgrade of `{release}` is still running `-u`: `odoo-tui {command}` would act on a database being migrated, and odoo-tui never stops that Job midway — wait for it with `odoo-tui upgrade {release} --resume`, or stop it yourself (kubectl -n {namespace} delete job/{job}) and run again"
    )
}

/// What a restore says it does to the open upgrade `e`: it replaces the database the
/// upgrade left and closes the upgrade.
pub fn restore_closes(release: &str, e: &HistoryEntry) -> String {
    let phase = e
        .upgrade
        .as_ref()
        .map(|u| u.phase.describe())
        .unwrap_or("?");
    format!(
        "an upgrade of `{release}` to {} is open ({phase}): this restore replaces the database it left and, once done, closes it",
        e.image.as_deref().unwrap_or("?")
    )
}

/// The detail an open upgrade is closed with by a successful restore.
pub fn closed_by_restore(backup: &str, image: &str) -> String {
    format!("closed by the restore of backup {backup}: the backend runs {image}")
}

/// Whether the upgrade's backup runs after the backend is stopped: a filestore on the
/// backend's ReadWriteOnce PVC is free then (the backup pod mounts it), and the backup
/// is exactly the state `-u` starts from. With S3 the backend serves during the backup.
pub fn backup_after_stop(strategy: Strategy, filestore_pvc: bool) -> bool {
    strategy == Strategy::Maintenance && filestore_pvc
}

/// The ways out an open upgrade leaves, one per line. `backup`: the id of the backup
/// taken first (none with `--no-backup`).
fn ways_out(release: &str, u: &UpgradeState, backup: Option<&str>, retry: &str) -> String {
    let mut m = format!("\nways out:\n  - {retry}: `odoo-tui upgrade {release} --resume`");
    match backup {
        Some(id) => m.push_str(&format!(
            "\n  - or go back to before the upgrade with the pre-upgrade backup {id}: `odoo-tui restore {release} --from {id}` (its database and files, on the image it was taken with, {}; this closes the upgrade)",
            u.previous_image
        )),
        None => m.push_str(
            "\n  - no backup was taken (--no-backup): there is no copy of the database from before the upgrade",
        ),
    }
    m.push_str(&format!(
        "\n  - or put the previous image {} back with {} replica(s) on the database as it is now: `odoo-tui upgrade {release} --abort`",
        u.previous_image, u.previous_replicas
    ));
    if u.phase.touched_database() {
        m.push_str(" (it may fail on a migrated database)");
    }
    m
}

/// The message of a failed upgrade Job: the reason, the log tail, why the backend stays
/// stopped (the database may be partly migrated), the next step, and the ways out.
pub fn failure_message(
    release: &str,
    reason: &str,
    lines: &[String],
    next: &str,
    u: &UpgradeState,
    backup: Option<&str>,
) -> String {
    let mut message = with_log_tail(format!("the upgrade failed: {reason}"), lines);
    if Strategy::from_label(&u.strategy) == Strategy::Online {
        message.push_str(&format!(
            "\nthe database may be partly migrated; the backend kept serving on {} (online)",
            u.previous_image
        ));
    } else {
        message.push_str(
            "\nthe database may be partly migrated: the backend stays stopped (nothing runs the previous image on it)",
        );
    }
    message.push_str(&format!("\nnext step: {next}"));
    message.push_str(&ways_out(
        release,
        u,
        backup,
        "fix the cause, then run the upgrade Job again",
    ));
    message
}

/// The message of a rollout that failed after a successful migration: odoo-tui does not
/// put the previous image back on the migrated database by itself.
pub fn rollout_failure_message(
    release: &str,
    image: &str,
    error: &str,
    u: &UpgradeState,
    backup: Option<&str>,
) -> String {
    let mut m = format!(
        "the modules were upgraded with {image}, but the backend did not become ready on it: {error}\nthe database is migrated: odoo-tui does not put {} back on it by itself; the backend stays stopped",
        u.previous_image
    );
    m.push_str(&ways_out(
        release,
        u,
        backup,
        "fix the cause, then retry the rollout",
    ));
    m
}

/// The message when odoo-tui stops following an upgrade Job that keeps running (the
/// deadline of `--timeout`, or the user leaving): the Job is never stopped midway.
pub fn still_running_message(release: &str, job: &str, why: &str) -> String {
    format!(
        "{why}: Job/{job} keeps running in the cluster (odoo-tui never stops `-u` midway) — `odoo-tui upgrade {release} --resume` follows it and finishes the upgrade"
    )
}

/// What `--abort` says before putting the previous image back on a database the upgrade
/// may have migrated; `backup` is the pre-upgrade backup's id.
pub fn abort_warning(release: &str, u: &UpgradeState, image: &str, backup: Option<&str>) -> String {
    let mut m = format!(
        "the database may already be migrated by {image} ({}): {} may fail on it or write data the new schema does not expect",
        u.phase.describe(),
        u.previous_image
    );
    match backup {
        Some(id) => m.push_str(&format!(
            "; to have the database from before the upgrade back too, restore the pre-upgrade backup (instead of --abort, or after it): `odoo-tui restore {release} --from {id}`"
        )),
        None => m.push_str(" (no backup was taken: --no-backup)"),
    }
    m
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

    fn state(phase: UpgradePhase, strategy: Strategy) -> UpgradeState {
        UpgradeState {
            phase,
            strategy: strategy.label().into(),
            previous_image: "odoo:1".into(),
            previous_replicas: 2,
            backup: true,
            job: None,
            job_uid: None,
        }
    }

    #[test]
    fn a_failure_shows_the_tail_keeps_the_backend_stopped_and_names_the_ways_out() {
        let lines: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let u = state(UpgradePhase::JobFailed, Strategy::Maintenance);
        let m = failure_message(
            "acme",
            "Job/x failed: BackoffLimitExceeded — ",
            &lines,
            "read the log lines above for the cause",
            &u,
            None,
        );
        assert!(!m.contains("line 10\n") && m.contains("line 11") && m.contains("line 30"));
        assert!(m.contains("the backend stays stopped"), "{m}");
        assert!(m.contains("odoo-tui upgrade acme --resume"), "{m}");
        assert!(m.contains("odoo-tui upgrade acme --abort"), "{m}");
        assert!(m.contains("no backup was taken"), "{m}");
        let m = failure_message("acme", "r", &[], "n", &u, Some("acme-odoo-1-2611272305"));
        assert!(!m.contains("last log lines"), "{m}");
        assert!(
            m.contains("`odoo-tui restore acme --from acme-odoo-1-2611272305`"),
            "{m}"
        );
        assert!(m.contains("it may fail on a migrated database"), "{m}");
        let online = state(UpgradePhase::JobFailed, Strategy::Online);
        let m = failure_message("acme", "r", &[], "n", &online, None);
        assert!(m.contains("kept serving on odoo:1"), "{m}");
    }

    #[test]
    fn a_failed_rollout_never_puts_the_old_image_back_by_itself() {
        let u = state(UpgradePhase::RolloutFailed, Strategy::Maintenance);
        let m = rollout_failure_message(
            "acme",
            "odoo:2",
            "timed out",
            &u,
            Some("acme-odoo-1-2611272305"),
        );
        assert!(
            m.contains("does not put odoo:1 back on it by itself"),
            "{m}"
        );
        assert!(
            m.contains("retry the rollout: `odoo-tui upgrade acme --resume`"),
            "{m}"
        );
        assert!(
            m.contains("go back to before the upgrade with the pre-upgrade backup acme-odoo-1-2611272305: `odoo-tui restore acme --from acme-odoo-1-2611272305` (its database and files, on the image it was taken with, odoo:1"),
            "{m}"
        );
        assert!(m.contains("`odoo-tui upgrade acme --abort`"), "{m}");
    }

    #[test]
    fn resume_and_abort_exclude_each_other_and_a_new_upgrades_flags() {
        assert_eq!(mode(false, false, &["--all"]), Ok(Mode::Start));
        assert_eq!(mode(true, false, &[]), Ok(Mode::Resume));
        assert_eq!(mode(false, true, &[]), Ok(Mode::Abort));
        assert!(mode(true, true, &[]).is_err());
        let e = mode(true, false, &["--image-tag"]).unwrap_err();
        assert!(e.contains("--resume") && e.contains("--image-tag"), "{e}");
    }

    #[test]
    fn an_open_upgrade_is_found_and_refuses_new_with_the_ways_out() {
        let entry = |result, upgrade: Option<UpgradeState>| HistoryEntry {
            time: 0,
            kind: HistoryKind::Upgrade,
            modules: vec!["sale".into()],
            image: Some("odoo:2".into()),
            backup_location: None,
            result,
            revision: 2,
            detail: None,
            upgrade,
        };
        let u = state(UpgradePhase::Migrated, Strategy::Maintenance);
        let closed = entry(HistoryResult::Failed, Some(u.clone()));
        let open = entry(HistoryResult::Running, Some(u.clone()));
        assert_eq!(open_upgrade(std::slice::from_ref(&closed)), None);
        assert_eq!(open_upgrade(&[closed.clone(), open.clone()]), Some(1));
        let m = open_refusal("new acme", "acme", &open);
        assert!(
            m.contains("would put odoo:1 back onto a database the upgrade has migrated"),
            "{m}"
        );
        assert!(m.contains("--resume") && m.contains("--abort"), "{m}");
        assert!(m.contains("2 replica(s)"), "{m}");
        let started = entry(
            HistoryResult::Running,
            Some(state(UpgradePhase::Started, Strategy::Maintenance)),
        );
        assert!(!open_refusal("new acme", "acme", &started).contains("has migrated"));
        assert!(!UpgradePhase::Started.touched_database());
        assert!(UpgradePhase::JobFailed.touched_database());
    }

    #[test]
    fn the_backup_waits_for_the_stopped_backend_when_the_filestore_is_on_its_pvc() {
        assert!(backup_after_stop(Strategy::Maintenance, true));
        assert!(!backup_after_stop(Strategy::Maintenance, false));
        assert!(!backup_after_stop(Strategy::Online, true));
    }
}
