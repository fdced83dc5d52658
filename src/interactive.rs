//! `odoo-tui new` on a terminal: the wizard, with the cluster behind its probe, a
//! server-side dry run for the review, then the same apply as `new --yes`.

use std::path::PathBuf;

use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::cli::ValuesArgs;
use crate::cluster::apply::{self, Change, Options};
use crate::cluster::kinds::Kind;
use crate::cluster::{Kube, Target, client};
use crate::ops::{self, Failed};
use crate::wizard::{
    self, Cancelled, ClusterProbe, Defaults, Destination, InquirePrompter, Outcome, PresetChoice,
    Review, SecretCheck,
};
use crate::{commands, presets};

/// The wizard's view of the cluster, through the kubeconfig of the global flags.
pub struct KubeProbe<'a> {
    pub target: &'a Target,
    pub rt: &'a Runtime,
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

fn target_for(target: &Target, o: &Outcome) -> Target {
    Target {
        context: o.context.clone().or_else(|| target.context.clone()),
        namespace: Some(o.namespace.clone()),
        non_interactive: true,
        ..target.clone()
    }
}

/// The review: a server-side dry run of the draft against the chosen context/namespace.
fn review(target: &Target, rt: &Runtime, draft: &Outcome) -> Option<Review> {
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
fn create_secrets(target: &Target, rt: &Runtime, outcome: &Outcome) -> Result<(), Failed> {
    let secrets: Vec<_> = outcome
        .secrets
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let created = rt.block_on(async {
        let kube = Kube::connect(target).await?;
        apply::create_secrets(&kube, &secrets, &tx).await
    })?;
    for name in created {
        eprintln!(
            "created Secret `{name}` in namespace `{}` from the value(s) you typed",
            outcome.namespace
        );
    }
    Ok(())
}

/// Run the wizard, then apply (or write the manifests) as it decided.
/// `on_apply` installs the Ctrl-C handler once the questions are over (during them,
/// Ctrl-C is the prompt's: exit 130 with nothing applied).
pub fn new(
    target: &Target,
    rt: &Runtime,
    name: Option<String>,
    values: &ValuesArgs,
    timeout: String,
    on_apply: impl FnOnce() -> CancellationToken,
) -> Result<(), Failed> {
    let probe = KubeProbe { target, rt };
    let defaults = Defaults {
        name,
        preset: values.preset.clone(),
        context: target.context.clone(),
        namespace: target.namespace.clone(),
        presets: PresetChoice::builtin_and_user(),
    };
    let outcome = match wizard::run(&mut InquirePrompter, &probe, defaults, &|d: &Outcome| {
        review(target, rt, d)
    }) {
        Ok(o) => o,
        Err(Cancelled::Interrupted) => {
            return Err(Failed {
                code: 130,
                message: "cancelled: nothing was applied".into(),
            });
        }
        Err(Cancelled::Declined) => {
            return Err(Failed {
                code: 1,
                message: "not applied: the review was declined".into(),
            });
        }
        Err(Cancelled::Terminal(e)) => {
            return Err(Failed {
                code: 1,
                message: format!("terminal: {e}"),
            });
        }
    };
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    if let Some(p) = &outcome.save_as {
        let path = presets::save(p, &wizard::answers_yaml(&outcome))?;
        eprintln!(
            "saved your answers as preset `{p}` ({}); reuse with --preset {p}",
            path.display()
        );
    }
    // -f and --set given on the command line still apply on top of the answers.
    let mut sources = outcome.sources();
    sources.extend(commands::sources(&ValuesArgs {
        preset: None,
        ..values.clone()
    })?);
    let loaded = crate::values::load(&sources)?;
    match &outcome.destination {
        Destination::Folder(dir) => {
            commands::write_loaded(
                &outcome.name,
                &outcome.namespace,
                &loaded,
                &outcome.typed,
                Some(PathBuf::from(dir)),
            )?;
            Ok(())
        }
        Destination::Cluster => {
            let t = target_for(target, &outcome);
            let cancel = on_apply();
            if !outcome.secrets.is_empty() {
                create_secrets(&t, rt, &outcome)?;
            }
            rt.block_on(ops::apply_outcome(
                &t,
                &outcome.name,
                loaded,
                outcome.typed.clone(),
                outcome.show_credentials,
                &timeout,
                cancel,
            ))
        }
    }
}
