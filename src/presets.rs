//! Presets: values documents for the four scenarios, embedded in the binary, plus
//! the user's own presets in the config directory.

use std::path::PathBuf;

use crate::Error;
use crate::values::Source;

/// The built-in presets, in the order the wizard offers them.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "quick-start",
        "bundled PostgreSQL + MinIO, everything generated",
        include_str!("../presets/quick-start.yaml"),
    ),
    (
        "external",
        "external PostgreSQL + external S3",
        include_str!("../presets/external.yaml"),
    ),
    (
        "production",
        "external PostgreSQL + S3, credentials from existing Secrets",
        include_str!("../presets/production.yaml"),
    ),
    (
        "local-dev",
        "small footprint: 1 replica, workers 0, filestore on a PVC",
        include_str!("../presets/local-dev.yaml"),
    ),
];

/// The config directory: `ODOO_TUI_CONFIG_DIR`, else the platform's (e.g. ~/.config/odoo-tui).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ODOO_TUI_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "odoo-tui").map(|p| p.config_dir().to_path_buf())
}

/// Where user presets live.
pub fn user_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("presets"))
}

/// Names of the user's presets.
pub fn user_presets() -> Vec<String> {
    let Some(dir) = user_dir() else { return vec![] };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            let ext = p.extension()?.to_str()?;
            if ext == "yaml" || ext == "yml" {
                p.file_stem()?.to_str().map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    names.sort();
    names
}

/// Load a preset by name: a user preset of that name wins over a built-in one.
pub fn load(name: &str) -> Result<Source, Error> {
    if let Some(dir) = user_dir() {
        for ext in ["yaml", "yml"] {
            let path = dir.join(format!("{name}.{ext}"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                return Source::yaml(path.display().to_string(), &text);
            }
        }
    }
    match BUILTIN.iter().find(|(n, _, _)| *n == name) {
        Some((n, _, text)) => Source::yaml(format!("preset {n}"), text),
        None => {
            let mut known: Vec<String> = BUILTIN.iter().map(|(n, _, _)| n.to_string()).collect();
            known.extend(user_presets());
            Err(Error::Usage(format!(
                "unknown preset `{name}` — choose one of: {}",
                known.join(", ")
            )))
        }
    }
}

/// Save values as a user preset; returns the file written.
pub fn save(name: &str, yaml: &str) -> Result<PathBuf, Error> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Error::Usage(format!(
            "preset name `{name}` may only use letters, digits, - and _"
        )));
    }
    let dir = user_dir()
        .ok_or_else(|| Error::Config("no config directory: set ODOO_TUI_CONFIG_DIR".into()))?;
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, yaml).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
