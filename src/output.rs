//! Writing rendered objects: multi-document YAML, or one file per object.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::Error;
use crate::render::Object;

/// What a redacted Secret value reads as.
pub const REDACTED: &str = "<redacted>";

/// An object as JSON, with Secret values replaced unless `include_secrets`.
pub fn object_json(o: &Object, include_secrets: bool) -> Json {
    let mut v = o.to_json();
    if !include_secrets && o.kind() == "Secret" {
        for field in ["data", "stringData"] {
            if let Some(Json::Object(map)) = v.get_mut(field) {
                for val in map.values_mut() {
                    *val = Json::String(REDACTED.into());
                }
            }
        }
    }
    v
}

/// One YAML document.
pub fn to_yaml(v: &Json) -> String {
    serde_saphyr::to_string(v).expect("JSON values always serialise to YAML")
}

/// All objects as one multi-document YAML stream.
pub fn to_yaml_stream(objects: &[Object], include_secrets: bool) -> String {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        let doc = to_yaml(&object_json(o, include_secrets));
        out.push_str(&doc);
        if !doc.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Write one file per object (`NN-kind-name.yaml`, numbered in apply order) into `dir`.
/// With Secret values included, a folder it creates is private (0700) and every Secret's
/// file is readable by its owner alone (0600), also when it replaces an older file.
pub fn write_dir(
    dir: &Path,
    objects: &[Object],
    include_secrets: bool,
) -> Result<Vec<PathBuf>, Error> {
    let private = include_secrets && objects.iter().any(|o| o.kind() == "Secret");
    create_dir(dir, private).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let file = dir.join(format!(
            "{:02}-{}-{}.yaml",
            i + 1,
            o.kind().to_lowercase(),
            o.name()
        ));
        let text = to_yaml(&object_json(o, include_secrets));
        let secret = include_secrets && o.kind() == "Secret";
        write_file(&file, &text, secret).map_err(|source| Error::Write {
            path: file.clone(),
            source,
        })?;
        written.push(file);
    }
    Ok(written)
}

/// Whether others than the owner may enter or read `dir` (a folder the user gave that
/// existed before): Secret files in it are still private, but their names are not.
pub fn readable_by_others(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

fn create_dir(dir: &Path, private: bool) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

fn write_file(file: &Path, text: &str, private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        o.mode(0o600);
        // An older file keeps its mode when opened: make it private before writing.
        if file.exists() {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    o.open(file)?.write_all(text.as_bytes())
}
