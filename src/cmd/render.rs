//! `odoo-tui render [NAME]`: print the manifests (Secret values redacted unless
//! `--include-secrets`), or write one file per object. Needs no cluster.

use std::io::Write;

use super::{Context, Error, print_warnings, value_sources};
use crate::cli::RenderArgs;
use crate::render::RenderInput;
use crate::{credentials, output, values};

/// Default instance name when none is given.
pub const DEFAULT_NAME: &str = "odoo";

pub fn run(ctx: &Context, a: RenderArgs) -> Result<(), Error> {
    let name = a.name.as_deref().unwrap_or(DEFAULT_NAME);
    let namespace = ctx.namespace_or_default();
    let loaded = values::load(&value_sources(&a.values)?)?;
    values::validate::validate_release(name, &loaded.values).map_err(crate::Error::Usage)?;
    print_warnings(&loaded);
    // Fresh credentials where the values give none: shown only with --include-secrets.
    let creds = credentials::generate(&crate::render::needed_credentials(&loaded.values));
    let objects = crate::render::render(&RenderInput {
        release: name,
        namespace: &namespace,
        values: &loaded.values,
        credentials: &creds,
    })?;
    match &a.output_dir {
        Some(dir) => {
            let files = output::write_dir(dir, &objects, a.include_secrets)?;
            eprintln!("wrote {} manifests to {}", files.len(), dir.display());
        }
        None => {
            let text = output::to_yaml_stream(&objects, a.include_secrets);
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(())
}
