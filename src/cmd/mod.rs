//! The commands: one file per subcommand, each with `run(&Context, Args)`. A command
//! reads its flags, asks the instance layer to act, and says what happened; the exit code
//! comes from its [`Error`]. See docs/ARCHITECTURE.md for the table command → file.

pub mod backup;
pub mod backups;
pub mod clone;
pub mod completions;
mod context;
pub mod credentials;
pub mod delete;
mod error;
pub mod list;
pub mod logs;
pub mod new;
pub mod open;
pub mod render;
pub mod restore;
pub mod status;
pub mod upgrade;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

pub use context::{Context, FINISHING, on_ctrl_c};
pub use error::{Error, Exit};

use crate::cli::{Cli, Command, TableFormat, ValuesArgs};
use crate::values::{Loaded, Source};

/// Run the command the command line names.
pub fn run(cli: Cli) -> Result<(), Error> {
    let ctx = Context::resolve(&cli.global);
    crate::cluster::log::set_level(ctx.verbose);
    match cli.command {
        Command::New(a) => new::run(&ctx, a),
        Command::Status(a) => status::run(&ctx, a),
        Command::Upgrade(a) => upgrade::run(&ctx, a),
        Command::Backup(a) => backup::run(&ctx, a),
        Command::Backups(a) => backups::run(&ctx, a),
        Command::Restore(a) => restore::run(&ctx, a),
        Command::Clone(a) => clone::run(&ctx, a),
        Command::Open(a) => open::run(&ctx, a),
        Command::Render(a) => render::run(&ctx, a),
        Command::List(a) => list::run(&ctx, a),
        Command::Delete(a) => delete::run(&ctx, a),
        Command::Credentials(a) => credentials::run(&ctx, a),
        Command::Logs(a) => logs::run(&ctx, a),
        Command::Completions(a) => completions::run(&ctx, a),
    }
}

/// The value layers of the flags, in order: the preset, each `-f` file (`-` is stdin),
/// each `--set`.
pub fn value_sources(args: &ValuesArgs) -> Result<Vec<Source>, crate::Error> {
    let mut out = Vec::new();
    if let Some(p) = &args.preset {
        out.push(crate::presets::load(p)?);
    }
    for path in &args.values {
        out.push(read_values_file(path)?);
    }
    for s in &args.set {
        out.push(Source::set(s)?);
    }
    Ok(out)
}

fn read_values_file(path: &Path) -> Result<Source, crate::Error> {
    let read = |source| crate::Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(read)?;
        s
    } else {
        std::fs::read_to_string(path).map_err(read)?
    };
    Source::yaml(path.display().to_string(), &text)
}

/// `--timeout` as a duration; a usage error otherwise.
pub fn parse_timeout(s: &str) -> Result<Duration, Error> {
    crate::time::parse_duration(s).ok_or_else(|| {
        Error::usage(format!(
            "--timeout `{}` is not a duration such as 15m, 900s or 1h",
            s.trim()
        ))
    })
}

/// The warnings of loading values, on stderr.
pub fn print_warnings(loaded: &Loaded) {
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
}

/// Print `value` as pretty JSON or YAML to stdout; `false` for the table format (the
/// caller prints its table).
pub fn print_structured<T: serde::Serialize>(value: &T, format: TableFormat) -> bool {
    let json = serde_json::to_value(value).unwrap_or_default();
    let text = match format {
        TableFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ),
        TableFormat::Yaml => crate::output::to_yaml(&json),
        TableFormat::Table => return false,
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    true
}
