//! `upgrade --changed`: which installed modules of the git sources to upgrade. A module
//! is upgraded when the content of its folder differs from what was recorded after its
//! last successful `-i`/`-u` (a hash per module folder, written by the fetch script into
//! `.hashes`, see `render/addons.rs`), when nothing was recorded for it, or when its
//! manifest's version is newer than the installed one. Pure: the caller reads the
//! hashes, the record and the installed versions.

use std::collections::BTreeMap;

/// The series of Odoo this product deploys, which Odoo puts before a short version.
const SERIES: &str = "18.0";

/// One module as the fetched sources have it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub name: String,
    /// The content hash of its folder.
    pub hash: String,
    /// Its manifest's version as written, if it has one.
    pub version: Option<String>,
}

/// Why a module is upgraded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Its code changed since the hash recorded at its last `-i`/`-u`.
    CodeChanged,
    /// No hash was recorded for it (installed before, or by hand).
    NotRecorded,
    /// Its manifest's version is newer than the installed one.
    NewerVersion { installed: String, manifest: String },
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::CodeChanged => write!(f, "its code changed since its last upgrade"),
            Why::NotRecorded => write!(f, "no record of the code it was last upgraded with"),
            Why::NewerVersion {
                installed,
                manifest,
            } => write!(
                f,
                "version {manifest} is newer than the installed {installed}"
            ),
        }
    }
}

/// Read the fetch script's `.hashes` (`module hash version`, `-` for no version).
pub fn parse_hashes(text: &str) -> Vec<Fetched> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let hash = w.next()?.to_string();
            let version = w.next().filter(|v| *v != "-").map(str::to_string);
            Some(Fetched {
                name,
                hash,
                version,
            })
        })
        .collect()
}

/// A version as Odoo 18 stores it (`odoo/modules/module.py`, `adapt_version`): up to three
/// parts without the series get the series in front.
pub fn adapt_version(v: &str) -> String {
    let parts = v.split('.').count();
    if parts <= 3 && v != SERIES && !v.starts_with(&format!("{SERIES}.")) {
        format!("{SERIES}.{v}")
    } else {
        v.to_string()
    }
}

fn numbers(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Whether the manifest's version is newer than the installed one.
pub fn is_newer(manifest: &str, installed: &str) -> bool {
    let (mut a, mut b) = (
        numbers(&adapt_version(manifest)),
        numbers(&adapt_version(installed)),
    );
    let n = a.len().max(b.len());
    a.resize(n, 0);
    b.resize(n, 0);
    a > b
}

/// The modules to upgrade, in the order the sources give them: among the installed ones
/// (`installed`: name → installed version), those whose hash differs from the recorded one
/// (`recorded`: name → hash), that have none recorded, or whose version is newer.
pub fn changed(
    fetched: &[Fetched],
    installed: &BTreeMap<String, String>,
    recorded: &BTreeMap<String, String>,
) -> Vec<(String, Why)> {
    let mut out = Vec::new();
    for m in fetched {
        let Some(installed_version) = installed.get(&m.name) else {
            continue;
        };
        if let Some(v) = &m.version
            && is_newer(v, installed_version)
        {
            out.push((
                m.name.clone(),
                Why::NewerVersion {
                    installed: installed_version.clone(),
                    manifest: adapt_version(v),
                },
            ));
            continue;
        }
        match recorded.get(&m.name) {
            None => out.push((m.name.clone(), Why::NotRecorded)),
            Some(h) if *h != m.hash => out.push((m.name.clone(), Why::CodeChanged)),
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn versions_compare_as_odoo_stores_them() {
        assert_eq!(adapt_version("1.2"), "18.0.1.2");
        assert_eq!(adapt_version("1.0.1"), "18.0.1.0.1");
        assert_eq!(adapt_version("18.0.1.0.0"), "18.0.1.0.0");
        assert_eq!(adapt_version("18.0"), "18.0");
        assert!(is_newer("1.0.1", "18.0.1.0.0"));
        assert!(is_newer("18.0.1.10.0", "18.0.1.9.0"));
        assert!(!is_newer("18.0.1.0.0", "18.0.1.0.0"));
        assert!(!is_newer("1.0", "18.0.1.0.0"));
        assert!(!is_newer("18.0.0.9.0", "18.0.1.0.0"));
    }

    #[test]
    fn only_installed_modules_whose_code_or_version_moved_are_upgraded() {
        let fetched = parse_hashes(
            "same aaa 18.0.1.0.0\nedited bbb2 18.0.1.0.0\nbumped ccc 18.0.1.1.0\nfresh ddd -\nnew_one eee 1.0\n",
        );
        let installed = map(&[
            ("same", "18.0.1.0.0"),
            ("edited", "18.0.1.0.0"),
            ("bumped", "18.0.1.0.0"),
            ("fresh", "18.0.1.0"),
            ("sale", "18.0.1.2"),
        ]);
        let recorded = map(&[
            ("same", "aaa"),
            ("edited", "bbb1"),
            ("bumped", "ccc"),
            ("sale", "zzz"),
        ]);
        let got = changed(&fetched, &installed, &recorded);
        assert_eq!(
            got,
            [
                ("edited".to_string(), Why::CodeChanged),
                (
                    "bumped".to_string(),
                    Why::NewerVersion {
                        installed: "18.0.1.0.0".into(),
                        manifest: "18.0.1.1.0".into()
                    }
                ),
                ("fresh".to_string(), Why::NotRecorded),
            ]
        );
    }
}
