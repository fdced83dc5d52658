//! `odoo-tui new [NAME]`: the wizard on a terminal, or `--yes` with `--preset`, `-f` and
//! `--set`; then the apply (with the dashboard on a terminal, progress lines otherwise),
//! or the manifests written to a folder when asked or when no cluster is reachable; and
//! the final message (where Odoo is, the login, the credentials once on request).

use std::io::Write;
use std::path::PathBuf;

use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use super::{Context, Error, FINISHING, on_ctrl_c, parse_timeout, print_warnings, value_sources};
use crate::cli::{NewArgs, PlainJson, ValuesArgs};
use crate::cluster::apply::{self, Change, Options, Outcome};
use crate::cluster::kinds::Kind;
use crate::cluster::{ClusterError, Kube, Target, client};
use crate::instance::{self, Reporter};
use crate::render::{Credentials, RenderInput};
use crate::values::{self, Loaded};
use crate::wizard::{
    self, Cancelled, ClusterProbe, Defaults, Destination, InquirePrompter, Outcome as Answers,
    PresetChoice, Review, SecretCheck,
};
use crate::{credentials, output, presets};

pub fn run(ctx: &Context, a: NewArgs) -> Result<(), Error> {
    if !a.yes {
        if !ctx.interactive() {
            return Err(Error::usage(wizard::non_interactive_error()));
        }
        return with_wizard(ctx, a);
    }
    let Some(name) = a.name.clone() else {
        return Err(Error::usage(
            "name the instance: `odoo-tui new NAME --yes` (e.g. acme)",
        ));
    };
    ctx.block_on(Some(FINISHING), |cancel| with_flags(ctx, name, a, cancel))
}

// ---------------------------------------------------------------------------------------
// --yes: every answer from the flags

async fn with_flags(
    ctx: &Context,
    name: String,
    a: NewArgs,
    cancel: CancellationToken,
) -> Result<(), Error> {
    parse_timeout(&a.timeout)?;
    let namespace = ctx.namespace_or_default();
    if let Some(dir) = a.output_dir.clone() {
        to_folder(&name, &namespace, &a.values, Some(dir))?;
        return Ok(());
    }
    // The dashboard owns the terminal: an exec credential plugin may prompt (a login) on
    // the first request, before it is up, and never afterwards.
    let live = ctx.interactive() && !ctx.plain && a.output == PlainJson::Plain && !a.dry_run;
    let kube = match Kube::connect(&ctx.target).await {
        Ok(k) => match k.check().await {
            Ok(()) if live => {
                let t = Target {
                    non_interactive: true,
                    ..ctx.target.clone()
                };
                Kube::connect(&t).await?
            }
            Ok(()) => k,
            Err(e @ (ClusterError::Unreachable { .. } | ClusterError::Tls { .. })) => {
                return fallback(&name, &namespace, &a.values, &e);
            }
            Err(e) => return Err(e.into()),
        },
        Err(e @ ClusterError::NoKubeconfig(_)) => {
            return fallback(&name, &namespace, &a.values, &e);
        }
        Err(e) => return Err(e.into()),
    };
    if a.dry_run {
        // A dry run stores nothing: it needs no lock.
        return apply_flags(&kube, &name, a, live, ctx.no_color, &cancel).await;
    }
    let report = Reporter::new(a.output == PlainJson::Json);
    create_namespace(&kube, report).await?;
    let (command, force) = (format!("new {name}"), a.force_unlock);
    let work = apply_flags(&kube, &name, a, live, ctx.no_color, &cancel);
    instance::lock::with(&kube, &name, &command, force, &cancel, work).await
}

/// Apply the values of the flags as instance `name` (its lock held unless a dry run),
/// with the dashboard when `live` (then `kube` never lets an exec plugin prompt).
async fn apply_flags(
    kube: &Kube,
    name: &str,
    a: NewArgs,
    live: bool,
    no_color: bool,
    cancel: &CancellationToken,
) -> Result<(), Error> {
    let timeout = parse_timeout(&a.timeout)?;
    let (loaded, _record) =
        instance::values::for_new(kube, name, value_sources(&a.values)?).await?;
    print_warnings(&loaded);
    let opts = Options {
        force: a.force,
        dry_run: a.dry_run,
        timeout,
        typed: Default::default(),
        revision: None,
        maintenance_until_ready: false,
    };
    let outcome = if live {
        let cancel = cancel.clone();
        instance::apply::with_dashboard(kube, name, &loaded, &opts, no_color, cancel).await?
    } else {
        let report = Reporter::new(a.output == PlainJson::Json);
        instance::apply::with_lines(kube, name, &loaded, &opts, report, cancel).await?
    };
    if a.dry_run {
        let _ = write!(std::io::stdout().lock(), "{}", outcome.diff);
        eprintln!(
            "dry run: {} object(s) would change; nothing was stored",
            changed(&outcome)
        );
        return Ok(());
    }
    finish(kube, name, a.show_credentials, &loaded, &outcome);
    Ok(())
}

/// The namespace, created when missing (the lock of the instance lives in it).
async fn create_namespace(kube: &Kube, report: Reporter) -> Result<(), Error> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    apply::create_namespace(kube, &tx).await?;
    let mut last = None;
    while let Ok(p) = rx.try_recv() {
        report.progress(&p, &mut last);
    }
    Ok(())
}

/// No cluster to talk to: nothing is applied, which is a failure (a scheduled `new --yes`
/// must not pass); the manifests are written to a folder so that nothing is lost.
fn fallback(
    name: &str,
    namespace: &str,
    values: &ValuesArgs,
    why: &ClusterError,
) -> Result<(), Error> {
    eprintln!("no reachable cluster: {why}");
    let dir = to_folder(name, namespace, values, None)?;
    Err(Error::failure(format!(
        "nothing was applied: the cluster could not be reached; the manifests are in {} instead \
         (re-run when the cluster is up, or ask for a folder with --output-dir DIR)",
        dir.display()
    )))
}

fn changed(outcome: &Outcome) -> usize {
    outcome
        .changes
        .iter()
        .filter(|(_, c)| *c != Change::Unchanged)
        .count()
}

/// The closing lines: where Odoo is, the login, and the generated passwords on request.
fn finish(kube: &Kube, name: &str, show_credentials: bool, loaded: &Loaded, outcome: &Outcome) {
    let v = &loaded.values;
    eprintln!(
        "\n`{}` is ready in namespace `{}` ({} object(s) changed, revision {}).",
        name,
        kube.namespace,
        changed(outcome),
        outcome.revision
    );
    if v.ingress.enabled
        && let Some(h) = v.ingress.hosts.first()
    {
        let scheme = if v.ingress.tls.is_empty() {
            "http"
        } else {
            "https"
        };
        eprintln!("Odoo: {scheme}://{}/", h.host);
    } else {
        eprintln!(
            "Odoo: run `odoo-tui open {} -n {}` and browse http://localhost:8069/",
            name, kube.namespace
        );
    }
    eprintln!("login: {}", v.backend.init_db.admin_login);
    eprintln!("{}", admin_password_hint(name, &kube.namespace, loaded));
    if show_credentials {
        let g = &outcome.generated;
        let mut out = std::io::stdout().lock();
        let mut show = |label: &str, pw: &Option<String>| {
            if let Some(p) = pw {
                let _ = writeln!(out, "{label}: {p}");
            }
        };
        show("admin password", &g.admin_password);
        show("master password", &g.master_password);
        show("database password", &g.db_password);
        show("MinIO root password", &g.minio_root_password);
        if g == &Default::default() {
            let _ = writeln!(
                out,
                "no password was generated by this run (they were created earlier and are kept in Secrets)"
            );
        }
    } else if outcome.generated != Default::default() {
        eprintln!(
            "passwords were generated and stored in Secrets; --show-credentials prints them once on the run that creates them"
        );
    }
}

/// Where the admin password can be seen later: the user's own Secret when the values
/// name one, else the `credentials` command.
fn admin_password_hint(name: &str, namespace: &str, loaded: &Loaded) -> String {
    let init = &loaded.values.backend.init_db;
    if init.existing_secret.is_empty() {
        format!("admin password: shown again by `odoo-tui credentials {name} -n {namespace}`")
    } else {
        format!(
            "admin password: in your Secret `{}` (key `{}`) in namespace `{namespace}`",
            init.existing_secret, init.existing_secret_key
        )
    }
}

// ---------------------------------------------------------------------------------------
// To a folder (GitOps, or no cluster)

/// Load the flags' values for `name` and write its manifests (generated Secrets included).
fn to_folder(
    name: &str,
    namespace: &str,
    args: &ValuesArgs,
    dir: Option<PathBuf>,
) -> Result<PathBuf, Error> {
    let loaded = values::load(&value_sources(args)?)?;
    values::validate::validate_release(name, &loaded.values).map_err(crate::Error::Usage)?;
    print_warnings(&loaded);
    write_folder(name, namespace, &loaded, &Credentials::default(), dir)
}

/// Write loaded values as manifests into `dir` (default `./NAME-manifests`), with `typed`
/// credentials where given and generated ones elsewhere.
fn write_folder(
    name: &str,
    namespace: &str,
    loaded: &Loaded,
    typed: &Credentials,
    dir: Option<PathBuf>,
) -> Result<PathBuf, Error> {
    let needed = crate::render::needed_credentials(&loaded.values);
    let creds = credentials::typed_or_generated(&needed, typed);
    let objects = crate::render::render(&RenderInput {
        release: name,
        namespace,
        values: &loaded.values,
        credentials: &creds,
    })?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(format!("{name}-manifests")));
    let existed = dir.is_dir();
    let files = output::write_dir(&dir, &objects, true)?;
    eprintln!(
        "wrote {} manifests for `{name}` to {} (Secrets included: the Secret files are readable by you alone; keep this folder private)\napply them with: kubectl apply --server-side -n {namespace} -f {}",
        files.len(),
        dir.display(),
        dir.display()
    );
    if existed && output::readable_by_others(&dir) {
        eprintln!(
            "warning: other users can list {}: keep it private (chmod 700)",
            dir.display()
        );
    }
    let typed_or_none = |need: &Option<String>, t: &Option<String>| {
        need.is_none() || t.as_ref().is_some_and(|t| !t.is_empty())
    };
    let generated = !(typed_or_none(&needed.db_password, &typed.db_password)
        && typed_or_none(&needed.minio_root_password, &typed.minio_root_password)
        && typed_or_none(&needed.master_password, &typed.master_password)
        && typed_or_none(&needed.admin_password, &typed.admin_password));
    if generated {
        eprintln!(
            "warning: these manifests hold freshly generated passwords: applied over an existing instance `{name}` they would rotate its passwords, and its database would no longer accept them (for an existing instance use `odoo-tui new {name} --yes` against its cluster)"
        );
    }
    Ok(dir)
}

// ---------------------------------------------------------------------------------------
// The wizard

/// The wizard's view of the cluster, through the kubeconfig of the global flags.
struct KubeProbe<'a> {
    target: &'a Target,
    rt: &'a Runtime,
}

impl KubeProbe<'_> {
    fn kube(&self, context: &str, namespace: Option<&str>) -> Result<Kube, String> {
        let t = Target {
            context: Some(context.to_string()),
            namespace: namespace
                .map(str::to_string)
                .or_else(|| self.target.namespace.clone()),
            ..self.target.clone()
        };
        self.rt
            .block_on(Kube::connect(&t))
            .map_err(|e| e.to_string())
    }
}

impl ClusterProbe for KubeProbe<'_> {
    fn contexts(&self) -> Vec<String> {
        client::contexts(self.target)
            .map(|(c, _)| c)
            .unwrap_or_default()
    }
    fn current_context(&self) -> Option<String> {
        self.target
            .context
            .clone()
            .or_else(|| client::contexts(self.target).ok().and_then(|(_, cur)| cur))
    }
    fn context_namespace(&self, context: &str) -> Option<String> {
        let k = self.kube(context, None).ok()?;
        Some(k.namespace)
    }
    fn reachable(&self, context: &str) -> Result<(), String> {
        let k = self.kube(context, None)?;
        self.rt.block_on(k.check()).map_err(|e| e.to_string())
    }
    fn namespaces(&self, context: &str) -> Result<Vec<String>, String> {
        let k = self.kube(context, None)?;
        let ns = Kind::by_name("Namespace").expect("known");
        let list = self
            .rt
            .block_on(k.list(ns, ""))
            .map_err(|e| e.to_string())?;
        Ok(list
            .iter()
            .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
            .collect())
    }
    fn secret(&self, context: &str, namespace: &str, name: &str) -> Result<SecretCheck, String> {
        let k = self.kube(context, Some(namespace))?;
        let secret = Kind::by_name("Secret").expect("known");
        match self
            .rt
            .block_on(k.get(secret, name))
            .map_err(|e| e.to_string())?
        {
            None => Ok(SecretCheck::Missing),
            Some(s) => Ok(SecretCheck::Keys(crate::cluster::creds::secret_keys(&s))),
        }
    }
}

/// Where the wizard's answers point: its context and namespace over the global flags.
fn target_for(target: &Target, o: &Answers) -> Target {
    Target {
        context: o.context.clone().or_else(|| target.context.clone()),
        namespace: Some(o.namespace.clone()),
        non_interactive: true,
        ..target.clone()
    }
}

/// The review: a server-side dry run of the draft against the chosen context/namespace.
fn review(target: &Target, rt: &Runtime, draft: &Answers) -> Option<Review> {
    if !matches!(draft.destination, Destination::Cluster) {
        return None;
    }
    let loaded = draft.load().ok()?;
    let kube = rt
        .block_on(Kube::connect(&target_for(target, draft)))
        .ok()?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = Options {
        force: false,
        dry_run: true,
        timeout: std::time::Duration::from_secs(60),
        typed: draft.typed.clone(),
        revision: None,
        maintenance_until_ready: false,
    };
    let out = rt
        .block_on(apply::run(
            &kube,
            &draft.name,
            &loaded,
            &opts,
            &tx,
            &CancellationToken::new(),
        ))
        .ok()?;
    let pick = |c: Change| {
        out.changes
            .iter()
            .filter(|(_, ch)| *ch == c)
            .map(|(k, _)| k.clone())
            .collect()
    };
    Some(Review {
        create: pick(Change::Created),
        update: pick(Change::Configured),
        unchanged: pick(Change::Unchanged),
        prune: vec![],
        diff: out.diff,
    })
}

/// The Secrets whose values were typed in the wizard, created (with the namespace when
/// it is new) before the apply, which then finds them like any Secret the values name.
async fn create_secrets(kube: &Kube, answers: &Answers) -> Result<(), Error> {
    let secrets: Vec<_> = answers
        .secrets
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    for name in apply::create_secrets(kube, &secrets, &tx).await? {
        eprintln!(
            "created Secret `{name}` in namespace `{}` from the value(s) you typed",
            answers.namespace
        );
    }
    Ok(())
}

/// Run the wizard, then apply (or write the manifests) as it decided. During the
/// questions Ctrl-C is the prompt's (exit 130, nothing applied); the handler that
/// finishes the current step is installed once they are over.
fn with_wizard(ctx: &Context, a: NewArgs) -> Result<(), Error> {
    let rt = ctx.runtime()?;
    let target = Target {
        non_interactive: true,
        ..ctx.target.clone()
    };
    let probe = KubeProbe {
        target: &target,
        rt: &rt,
    };
    let defaults = Defaults {
        name: a.name.clone(),
        preset: a.values.preset.clone(),
        context: target.context.clone(),
        namespace: target.namespace.clone(),
        presets: PresetChoice::builtin_and_user(),
    };
    // -v lines would land between the prompts: they are printed once the questions end.
    let held = crate::cluster::log::hold();
    let asked = wizard::run(&mut InquirePrompter, &probe, defaults, &|d: &Answers| {
        review(&target, &rt, d)
    });
    drop(held);
    let answers = match asked {
        Ok(o) => o,
        Err(Cancelled::Interrupted) => {
            return Err(Error::cancelled("cancelled: nothing was applied"));
        }
        Err(Cancelled::Declined) => {
            return Err(Error::failure("not applied: the review was declined"));
        }
        Err(Cancelled::Terminal(e)) => return Err(Error::failure(format!("terminal: {e}"))),
    };
    for n in &answers.notes {
        eprintln!("note: {n}");
    }
    if let Some(p) = &answers.save_as {
        let path = presets::save(p, &wizard::answers_yaml(&answers))?;
        eprintln!(
            "saved your answers as preset `{p}` ({}); reuse with --preset {p}",
            path.display()
        );
    }
    // -f and --set given on the command line still apply on top of the answers.
    let mut sources = answers.sources();
    sources.extend(value_sources(&ValuesArgs {
        preset: None,
        ..a.values.clone()
    })?);
    let loaded = values::load(&sources)?;
    match &answers.destination {
        Destination::Folder(dir) => {
            write_folder(
                &answers.name,
                &answers.namespace,
                &loaded,
                &answers.typed,
                Some(PathBuf::from(dir)),
            )?;
            Ok(())
        }
        Destination::Cluster => {
            let timeout = parse_timeout(&a.timeout)?;
            let cancel = on_ctrl_c(&rt, FINISHING);
            let t = target_for(&target, &answers);
            rt.block_on(async {
                let kube = Kube::connect(&t).await?;
                create_namespace(&kube, Reporter::default()).await?;
                let command = format!("new {}", answers.name);
                let lock = instance::lock::acquire(
                    &kube,
                    &answers.name,
                    &command,
                    a.force_unlock,
                    &cancel,
                )
                .await?;
                let result = apply_answers(ctx, &kube, &answers, &loaded, timeout, cancel).await;
                lock.release().await;
                result
            })
        }
    }
}

/// Apply the wizard's answers (its Secrets first), the instance's lock held.
async fn apply_answers(
    ctx: &Context,
    kube: &Kube,
    answers: &Answers,
    loaded: &Loaded,
    timeout: std::time::Duration,
    cancel: CancellationToken,
) -> Result<(), Error> {
    if !answers.secrets.is_empty() {
        create_secrets(kube, answers).await?;
    }
    print_warnings(loaded);
    let opts = Options {
        force: false,
        dry_run: false,
        timeout,
        typed: answers.typed.clone(),
        revision: None,
        maintenance_until_ready: false,
    };
    let outcome =
        instance::apply::with_dashboard(kube, &answers.name, loaded, &opts, ctx.no_color, cancel)
            .await?;
    finish(
        kube,
        &answers.name,
        answers.show_credentials,
        loaded,
        &outcome,
    );
    Ok(())
}
