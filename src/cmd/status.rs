//! `odoo-tui status [NAME]`: the full-screen dashboard on a terminal; `--plain` prints a
//! line per change; `--once`, `-o json|yaml` or no terminal print one snapshot (exit 0
//! when ready, 3 otherwise) with the last upgrades and backups.

use std::io::Write;

use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING, print_structured};
use crate::cli::{StatusArgs, TableFormat};
use crate::cluster::{Kube, Target};
use crate::instance::{self, live};
use crate::{plain, status};

pub fn run(ctx: &Context, a: StatusArgs) -> Result<(), Error> {
    let terminal = ctx.stdout_tty && ctx.stdin_tty;
    // Lines follow the changes as text, or as JSON lines with -o json; YAML has no lines.
    let lines = ctx.plain && a.output != TableFormat::Yaml;
    if a.once || !terminal || (a.output != TableFormat::Table && !lines) {
        ctx.block_on(None, |_| once(ctx, a))
    } else {
        ctx.block_on(Some(FINISHING), |cancel| follow(ctx, a, cancel))
    }
}

/// One snapshot, listed: the components and the history, or JSON/YAML.
async fn once(ctx: &Context, a: StatusArgs) -> Result<(), Error> {
    let kube = ctx.connect().await?;
    let name = instance::resolve_name(&kube, a.name).await?;
    let snap = instance::snapshot(&kube, &name).await?;
    let st = status::instance_status(&snap);
    if !print_structured(&st, a.output) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{} in {} ({}): {}",
            name,
            kube.namespace,
            kube.context,
            st.overall.label()
        );
        for n in &st.notes {
            let _ = writeln!(out, "note: {n}");
        }
        for c in &st.components {
            let _ = writeln!(out, "{}", plain::component_line(c));
        }
        for l in instance::record::history_section(&kube, &name).await {
            let _ = writeln!(out, "{l}");
        }
    }
    if matches!(st.overall, status::Overall::Ready) {
        Ok(())
    } else {
        Err(Error::not_ready(format!(
            "`{name}` is not ready ({})",
            st.overall.label().to_lowercase()
        )))
    }
}

/// On a terminal: the dashboard until q, or a line per change with `--plain`.
async fn follow(ctx: &Context, a: StatusArgs, cancel: CancellationToken) -> Result<(), Error> {
    let target = Target {
        non_interactive: !ctx.plain,
        ..ctx.target.clone()
    };
    let kube = Kube::connect(&target).await?;
    let name = instance::resolve_name(&kube, a.name).await?;
    if ctx.plain {
        live::follow_lines(&kube, &name, a.output == TableFormat::Json, cancel).await;
        return Ok(());
    }
    let record = instance::record::find(&kube, &name).await?;
    live::dashboard(&kube, &name, record, ctx.no_color)
        .await
        .map_err(|e| Error::failure(format!("terminal: {e}")))
}
