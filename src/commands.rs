//! Command implementations that need no cluster: `render`, `new --output-dir`,
//! `completions`; and the plain message for commands this version does not have yet.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ValuesArgs;
use crate::render::{Credentials, Object, RenderInput};
use crate::values::{self, Loaded, Source};
use crate::{Error, credentials, output, presets};

/// Default instance name when none is given to `render`.
pub const DEFAULT_NAME: &str = "odoo";

/// Build the layers: preset, then each -f file, then each --set.
pub fn sources(args: &ValuesArgs) -> Result<Vec<Source>, Error> {
    let mut out = Vec::new();
    if let Some(p) = &args.preset {
        out.push(presets::load(p)?);
    }
    for path in &args.values {
        out.push(read_values_file(path)?);
    }
    for s in &args.set {
        out.push(Source::set(s)?);
    }
    Ok(out)
}

fn read_values_file(path: &Path) -> Result<Source, Error> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|source| {
            Error::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?
    };
    Source::yaml(path.display().to_string(), &text)
}

/// Load values and validate the instance name against them.
pub fn load(name: &str, args: &ValuesArgs) -> Result<Loaded, Error> {
    let loaded = values::load(&sources(args)?)?;
    values::validate::validate_release(name, &loaded.values).map_err(Error::Usage)?;
    Ok(loaded)
}

/// Render with freshly generated credentials where values give none.
pub fn render_objects(
    name: &str,
    namespace: &str,
    loaded: &Loaded,
) -> Result<(Vec<Object>, Credentials), Error> {
    let creds = credentials::generate(&crate::render::needed_credentials(&loaded.values));
    let objects = crate::render::render(&RenderInput {
        release: name,
        namespace,
        values: &loaded.values,
        credentials: &creds,
    })?;
    Ok((objects, creds))
}

fn print_warnings(loaded: &Loaded) {
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
}

/// `odoo-tui render`.
pub fn render(
    name: Option<&str>,
    namespace: &str,
    args: &ValuesArgs,
    output_dir: Option<&Path>,
    include_secrets: bool,
) -> Result<(), Error> {
    let name = name.unwrap_or(DEFAULT_NAME);
    let loaded = load(name, args)?;
    print_warnings(&loaded);
    let (objects, _) = render_objects(name, namespace, &loaded)?;
    match output_dir {
        Some(dir) => {
            let files = output::write_dir(dir, &objects, include_secrets)?;
            eprintln!("wrote {} manifests to {}", files.len(), dir.display());
        }
        None => {
            let text = output::to_yaml_stream(&objects, include_secrets);
            let mut out = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(())
}

/// `odoo-tui new` without a cluster: write the manifests (with generated Secrets) to a folder.
pub fn new_to_folder(
    name: &str,
    namespace: &str,
    args: &ValuesArgs,
    dir: Option<PathBuf>,
) -> Result<PathBuf, Error> {
    let loaded = load(name, args)?;
    print_warnings(&loaded);
    write_loaded(name, namespace, &loaded, &Credentials::default(), dir)
}

/// Write loaded values as manifests, with `typed` credentials where given and generated
/// ones elsewhere.
pub fn write_loaded(
    name: &str,
    namespace: &str,
    loaded: &Loaded,
    typed: &Credentials,
    dir: Option<PathBuf>,
) -> Result<PathBuf, Error> {
    let needed = crate::render::needed_credentials(&loaded.values);
    let fresh = credentials::generate(&needed);
    let pick = |t: &Option<String>, f: &Option<String>| {
        t.clone().filter(|s| !s.is_empty()).or_else(|| f.clone())
    };
    let creds = Credentials {
        db_password: pick(&typed.db_password, &fresh.db_password),
        minio_root_password: pick(&typed.minio_root_password, &fresh.minio_root_password),
        master_password: pick(&typed.master_password, &fresh.master_password),
        admin_password: pick(&typed.admin_password, &fresh.admin_password),
    };
    let objects = crate::render::render(&RenderInput {
        release: name,
        namespace,
        values: &loaded.values,
        credentials: &creds,
    })?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(format!("{name}-manifests")));
    let files = output::write_dir(&dir, &objects, true)?;
    eprintln!(
        "wrote {} manifests for `{name}` to {} (Secrets included: keep this folder private)\napply them with: kubectl apply --server-side -n {namespace} -f {}",
        files.len(),
        dir.display(),
        dir.display()
    );
    Ok(dir)
}
