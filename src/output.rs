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
pub fn write_dir(
    dir: &Path,
    objects: &[Object],
    include_secrets: bool,
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
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
        std::fs::write(&file, text).map_err(|source| Error::Write {
            path: file.clone(),
            source,
        })?;
        written.push(file);
    }
    Ok(written)
}
