//! What the backups of an instance are, from their manifests (read by a listing Job's
//! log): the list newest first, which one `--from` means, and what stops a restore
//! before it changes anything. Pure.

use serde::Serialize;
use serde_json::Value as Json;

pub use crate::render::backup::MANIFEST_LINE;

/// One backup, as its manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupInfo {
    /// `<fullname>-<revision>-<yymmddHHMM>`: the base of its files.
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// manual, scheduled, pre-upgrade, pre-restore, clone.
    pub kind: String,
    /// database, or database+filestore.
    pub contents: String,
    pub image: String,
    pub revision: u64,
    pub database: String,
    /// The PostgreSQL server's major version.
    pub postgresql: u64,
    /// Bytes of its files (dump, archive).
    pub bytes: u64,
    /// Size of the database and of the filestore when taken.
    pub database_bytes: u64,
    pub filestore_bytes: u64,
    /// Where it is: `s3://bucket/prefix<id>` or `pvc:<claim>/<id>`.
    pub location: String,
}

/// Whether `id` is a backup id of the instance `fullname`: `<fullname>-<rev>-<10 digits>`.
pub fn is_id_of(fullname: &str, id: &str) -> bool {
    let Some(rest) = id.strip_prefix(fullname).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let Some((rev, stamp)) = rest.split_once('-') else {
        return false;
    };
    !rev.is_empty()
        && rev.bytes().all(|b| b.is_ascii_digit())
        && stamp.len() == 10
        && stamp.bytes().all(|b| b.is_ascii_digit())
}

/// The backups of `fullname` in a listing Job's log lines, newest first; `location`
/// turns an id into where the backup is. Lines that are not manifests are skipped, and
/// so are manifests of other instances and ones that do not parse (older odoo-tui
/// manifests without `id`, `contents` or `sizes` are read as far as they go).
pub fn parse(
    lines: &[String],
    fullname: &str,
    location: impl Fn(&str) -> String,
) -> Vec<BackupInfo> {
    let mut out: Vec<BackupInfo> = lines
        .iter()
        .filter_map(|l| {
            let text = &l[l.find(MANIFEST_LINE)? + MANIFEST_LINE.len()..];
            let m: Json = serde_json::from_str(text.trim()).ok()?;
            let dump = m["files"]["dump"]["name"].as_str().unwrap_or_default();
            let id = m["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| dump.trim_end_matches(".dump").to_string());
            if !is_id_of(fullname, &id) {
                return None;
            }
            let kind = m["kind"].as_str().unwrap_or_default();
            // Manifests written before the kind was what the backup was for.
            let (kind, contents) = match m["contents"].as_str() {
                Some(c) => (kind.to_string(), c.to_string()),
                None => ("manual".to_string(), kind.to_string()),
            };
            let n = |v: &Json| v.as_u64().unwrap_or(0);
            Some(BackupInfo {
                location: location(&id),
                id,
                time: m["time"].as_str().unwrap_or_default().to_string(),
                kind,
                contents,
                image: m["image"].as_str().unwrap_or_default().to_string(),
                revision: n(&m["revision"]),
                database: m["database"].as_str().unwrap_or_default().to_string(),
                postgresql: n(&m["postgresql"]),
                bytes: n(&m["files"]["dump"]["bytes"]) + n(&m["files"]["filestore"]["bytes"]),
                database_bytes: n(&m["sizes"]["database"]),
                filestore_bytes: n(&m["sizes"]["filestore"]),
            })
        })
        .collect();
    out.sort_by(|a, b| stamp(&b.id).cmp(stamp(&a.id)).then(b.id.cmp(&a.id)));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

fn stamp(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or_default()
}

/// The backup `from` names: `latest`, an id, or the end of one (`7-2611272305`,
/// `2611272305`) that only one backup has. An unknown one lists the nearest ids.
pub fn pick<'a>(
    backups: &'a [BackupInfo],
    from: &str,
    name: &str,
) -> Result<&'a BackupInfo, String> {
    if backups.is_empty() {
        return Err(format!(
            "`{name}` has no backup yet: take one with `odoo-tui backup {name}`"
        ));
    }
    if from == "latest" {
        return Ok(&backups[0]);
    }
    if let Some(b) = backups.iter().find(|b| b.id == from) {
        return Ok(b);
    }
    let ends: Vec<_> = backups
        .iter()
        .filter(|b| b.id.ends_with(&format!("-{from}")))
        .collect();
    match ends.as_slice() {
        [one] => return Ok(one),
        [] => {}
        many => {
            return Err(format!(
                "`{from}` names {} backups of `{name}`: give the whole id ({})",
                many.len(),
                many.iter()
                    .map(|b| b.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let mut near: Vec<_> = backups
        .iter()
        .map(|b| {
            let short = b.id.split_once('-').map(|_| tail(&b.id)).unwrap_or(&b.id);
            let score = strsim::jaro_winkler(from, &b.id).max(strsim::jaro_winkler(from, short));
            (score, b)
        })
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    let list: Vec<String> = near
        .iter()
        .take(3)
        .map(|(_, b)| format!("  {}  {} {}", b.id, b.time, b.kind))
        .collect();
    Err(format!(
        "`{name}` has no backup `{from}`; the nearest:\n{}\n(`odoo-tui backups {name}` lists them all)",
        list.join("\n")
    ))
}

/// `<revision>-<stamp>`: the end of an id.
fn tail(id: &str) -> &str {
    let mut parts = id.rsplitn(3, '-');
    let stamp = parts.next().unwrap_or_default();
    let rev = parts.next().unwrap_or_default();
    &id[id.len() - stamp.len() - rev.len() - 1..]
}

/// `<series>-<date>` of an image tag such as `18.0-20260926`.
fn series_and_date(image: &str) -> Option<(&str, &str)> {
    let tag = image.rsplit_once(':')?.1;
    let tag = tag.split('@').next()?;
    let (series, date) = tag.split_once('-')?;
    (date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit())).then_some((series, date))
}

/// What stops restoring `b` into an instance running `current`: a backup of another
/// Odoo series than odoo-tui runs (18.0), or, when the current image is kept, a backup
/// taken with a newer build than it (its modules may be newer than that code).
pub fn image_check(b: &BackupInfo, current: &str, keep_image: bool) -> Result<(), String> {
    let backup = series_and_date(&b.image);
    if let Some((series, _)) = backup
        && series != "18.0"
    {
        return Err(format!(
            "backup {} was taken with {} (Odoo {series}); odoo-tui runs Odoo 18.0 only: nothing was changed",
            b.id, b.image
        ));
    }
    if keep_image
        && let (Some((bs, bd)), Some((cs, cd))) = (backup, series_and_date(current))
        && (bs, bd) > (cs, cd)
    {
        return Err(format!(
            "backup {} was taken with {}, newer than the instance's {current}: its modules may be newer than that code. Restore without --keep-image (the backup's image comes back with it), or upgrade to {} first; nothing was changed",
            b.id, b.image, b.image
        ));
    }
    Ok(())
}

/// A volume a restore writes the backup into, beside what it holds until the restore is
/// final: the bundled PostgreSQL's (the database) or the filestore's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// `database` or `filestore`.
    pub what: &'static str,
    /// The claim's name.
    pub claim: String,
    /// Its capacity as the cluster reports it (else as configured), a quantity.
    pub capacity: String,
    /// The setting that sizes it.
    pub setting: &'static str,
}

/// Whether `room` holds `need` bytes (what the backup's manifest says its database or
/// filestore measured) beside the `used` bytes of the current one (the newest backup's
/// measure): a restore keeps both until it is final.
pub fn room_check(room: &Room, used: u64, need: u64, id: &str) -> Result<(), String> {
    if need == 0 {
        return Ok(());
    }
    let Some(capacity) = crate::values::validate::parse_quantity(&room.capacity) else {
        return Ok(());
    };
    if (used + need) as f64 > capacity {
        return Err(format!(
            "backup {id} needs {} for its {what} beside the current one ({}), and the {what} volume (PersistentVolumeClaim/{}) holds {}: grow {} first; nothing was changed",
            human(need),
            human(used),
            room.claim,
            room.capacity,
            room.setting,
            what = room.what,
        ));
    }
    Ok(())
}

/// The `--set`s that put the backend on `image` (a reference `repo:tag[@digest]`) from
/// `current`.
pub fn image_sets(current: &crate::values::Image, image: &str) -> Vec<String> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, d),
        None => (image, ""),
    };
    let (repo, tag) = match rest.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (rest, ""),
    };
    let mut sets = Vec::new();
    if repo != current.repository {
        sets.push(format!("backend.image.repository={repo}"));
    }
    if tag != current.tag {
        sets.push(format!("backend.image.tag={tag}"));
    }
    if digest != current.digest {
        sets.push(format!("backend.image.digest={digest}"));
    }
    sets
}

/// A byte count for people: `512 B`, `1.5 KiB`, `20.0 MiB`, `3.2 GiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// The `backups` table: newest first.
pub fn table(backups: &[BackupInfo]) -> Vec<String> {
    let mut rows = vec![[
        "ID".to_string(),
        "TIME".into(),
        "KIND".into(),
        "SIZE".into(),
        "IMAGE".into(),
        "REVISION".into(),
        "WHERE".into(),
    ]];
    for b in backups {
        rows.push([
            b.id.clone(),
            b.time.clone(),
            b.kind.clone(),
            human(b.bytes),
            b.image.clone(),
            b.revision.to_string(),
            b.location.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (i, cell) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, kind: &str, image: &str) -> String {
        format!(
            r#"{MANIFEST_LINE}{{"id": "{id}", "time": "2026-11-27T23:05:00Z", "kind": "{kind}", "contents": "database", "database": "odoo", "image": "{image}", "revision": 7, "postgresql": 18, "modules": ["base"], "sizes": {{"database": 9000, "filestore": 0}}, "files": {{"dump": {{"name": "{id}.dump", "bytes": 2048}}}}}}"#
        )
    }

    const IMG: &str = "ghcr.io/sergio-bershadsky/odoo:18.0-20260926";

    fn listing() -> Vec<BackupInfo> {
        let lines = vec![
            "fetching manifests".to_string(),
            line("acme-odoo-7-2611272305", "manual", IMG),
            line("acme-odoo-12-2612010300", "scheduled", IMG),
            line("acme-odoo-3-2610010300", "pre-upgrade", IMG),
            // Another instance's, and an old manifest without id/contents.
            line("acme-odoo-2-odoo-1-2612020300", "manual", IMG),
            format!(
                r#"{MANIFEST_LINE}{{"time": "2026-09-01T03:00:00Z", "kind": "database+filestore", "image": "{IMG}", "revision": 1, "files": {{"dump": {{"name": "acme-odoo-1-2609010300.dump", "bytes": 10}}, "filestore": {{"name": "x", "bytes": 5}}}}}}"#
            ),
            format!("{MANIFEST_LINE}not json"),
        ];
        parse(&lines, "acme-odoo", |id| format!("s3://b/backups/{id}"))
    }

    #[test]
    fn manifests_list_newest_first_and_only_this_instances() {
        let b = listing();
        let ids: Vec<_> = b.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "acme-odoo-12-2612010300",
                "acme-odoo-7-2611272305",
                "acme-odoo-3-2610010300",
                "acme-odoo-1-2609010300"
            ]
        );
        assert_eq!(b[0].kind, "scheduled");
        assert_eq!(b[0].bytes, 2048);
        assert_eq!(b[0].database_bytes, 9000);
        assert_eq!(b[0].location, "s3://b/backups/acme-odoo-12-2612010300");
        // The old manifest: its kind was the contents.
        assert_eq!(
            (b[3].kind.as_str(), b[3].contents.as_str()),
            ("manual", "database+filestore")
        );
        assert_eq!(b[3].bytes, 15);
    }

    #[test]
    fn from_takes_latest_an_id_or_its_unique_end() {
        let b = listing();
        assert_eq!(
            pick(&b, "latest", "acme").unwrap().id,
            "acme-odoo-12-2612010300"
        );
        assert_eq!(
            pick(&b, "acme-odoo-3-2610010300", "acme").unwrap().id,
            "acme-odoo-3-2610010300"
        );
        assert_eq!(
            pick(&b, "7-2611272305", "acme").unwrap().id,
            "acme-odoo-7-2611272305"
        );
        assert_eq!(
            pick(&b, "2610010300", "acme").unwrap().id,
            "acme-odoo-3-2610010300"
        );
    }

    #[test]
    fn an_unknown_id_lists_the_nearest() {
        let b = listing();
        let e = pick(&b, "7-2611272306", "acme").unwrap_err();
        assert!(e.contains("has no backup `7-2611272306`"), "{e}");
        let first = e.lines().nth(1).unwrap();
        assert!(first.contains("acme-odoo-7-2611272305"), "{e}");
        assert!(e.contains("odoo-tui backups acme"), "{e}");
        let e = pick(&[], "latest", "acme").unwrap_err();
        assert!(e.contains("odoo-tui backup acme"), "{e}");
    }

    #[test]
    fn a_backup_from_a_newer_image_is_refused_when_the_image_is_kept() {
        let mut b = listing().remove(0);
        b.image = "ghcr.io/sergio-bershadsky/odoo:18.0-20261015".into();
        let e = image_check(&b, IMG, true).unwrap_err();
        assert!(e.contains("newer than the instance's"), "{e}");
        // Without --keep-image the backup's image comes back: fine.
        assert!(image_check(&b, IMG, false).is_ok());
        // An older backup with the current image kept: fine.
        b.image = "ghcr.io/sergio-bershadsky/odoo:18.0-20260817".into();
        assert!(image_check(&b, IMG, true).is_ok());
        // Another series: never.
        b.image = "ghcr.io/sergio-bershadsky/odoo:19.0-20261015".into();
        assert!(
            image_check(&b, IMG, false)
                .unwrap_err()
                .contains("Odoo 18.0 only")
        );
    }

    #[test]
    fn the_backups_image_comes_back_with_sets() {
        let loaded = crate::values::load(&[]).unwrap();
        let cur = &loaded.values.backend.image;
        assert!(image_sets(cur, &cur.reference()).is_empty());
        assert_eq!(
            image_sets(cur, "ghcr.io/sergio-bershadsky/odoo:18.0-20260817"),
            ["backend.image.tag=18.0-20260817"]
        );
        assert_eq!(
            image_sets(cur, "registry.example:5000/odoo:18.0-x@sha256:ab"),
            [
                "backend.image.repository=registry.example:5000/odoo",
                "backend.image.tag=18.0-x",
                "backend.image.digest=sha256:ab"
            ]
        );
    }

    #[test]
    fn a_database_bigger_than_the_volumes_room_is_refused() {
        const GIB: u64 = 1024 * 1024 * 1024;
        let room = |capacity: &str| Room {
            what: "database",
            claim: "data-acme-postgresql-0".into(),
            capacity: capacity.into(),
            setting: "postgresql.persistence.size",
        };
        let e = room_check(&room("10Gi"), 5 * GIB, 6 * GIB, "acme-odoo-1-2611270300").unwrap_err();
        assert!(
            e.contains("6.0 GiB") && e.contains("5.0 GiB") && e.contains("10Gi"),
            "{e}"
        );
        assert!(
            e.contains("PersistentVolumeClaim/data-acme-postgresql-0")
                && e.contains("grow postgresql.persistence.size first; nothing was changed"),
            "{e}"
        );
        assert!(room_check(&room("20Gi"), 5 * GIB, 6 * GIB, "x").is_ok());
        // A manifest without the size, or a capacity that does not read: no refusal.
        assert!(room_check(&room("10Gi"), 5 * GIB, 0, "x").is_ok());
        assert!(room_check(&room(""), 5 * GIB, 6 * GIB, "x").is_ok());
    }

    #[test]
    fn sizes_read_for_people_and_the_table_lines_up() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(20 * 1024 * 1024), "20.0 MiB");
        let t = table(&listing());
        assert!(t[0].starts_with("ID"));
        let col = t[0].find("TIME").unwrap();
        assert_eq!(&t[1][col..col + 20], "2026-11-27T23:05:00Z");
    }
}
