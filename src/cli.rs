//! The command line: global flags, and one `Args` struct per subcommand that its
//! command in `cmd/` takes as is.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  odoo-tui new acme                          # the wizard: answers a few questions, deploys, shows progress
  odoo-tui new acme --preset quick-start --yes
  odoo-tui render acme --preset local-dev    # print the manifests (no cluster needed)
  odoo-tui status acme
  odoo-tui upgrade acme --modules sale,account

Presets: quick-start, external, production, local-dev (or your own, see `render --help`).
Exit codes: 0 success, 1 error, 2 usage error, 3 applied but the rollout or a Job failed, 130 cancelled.";

/// Deploy and operate Odoo 18 on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "odoo-tui", version, about, long_about = None, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Kubeconfig file (default: $KUBECONFIG, a path list, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else `default`).
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Print one line per change instead of the full-screen view.
    #[arg(long, global = true)]
    pub plain: bool,
    /// On stderr: each API request (method, path, status, time) and the apply's decisions; -vv adds the queries. Never credentials.
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Where values come from, in order: preset, then each -f, then each --set.
#[derive(Debug, Args, Clone, Default)]
pub struct ValuesArgs {
    /// Start from a preset: quick-start, external, production, local-dev, or one of yours.
    #[arg(long, value_name = "P")]
    pub preset: Option<String>,
    /// A values file (the chart's keys); repeat to layer several, later ones win.
    #[arg(short = 'f', long = "values", value_name = "values.yaml")]
    pub values: Vec<PathBuf>,
    /// Set one value with Helm's syntax: a.b=c, list={x,y}, a.b[0].c=d; repeatable, applied after -f.
    #[arg(long = "set", value_name = "k=v")]
    pub set: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlainJson {
    Plain,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Strategy {
    Online,
    Maintenance,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update an instance: the wizard, or --yes with a preset, -f and --set.
    New(NewArgs),
    /// Live dashboard of an instance (one snapshot with --once or when not on a terminal).
    Status(StatusArgs),
    /// Upgrade modules (backup first, live Job log), optionally to a new image tag.
    Upgrade(UpgradeArgs),
    /// Back up the database now (pg_dump to the bucket, or to a PVC without S3).
    Backup(BackupArgs),
    /// List an instance's backups, newest first (reads their manifests; needs no running Odoo).
    Backups(BackupsArgs),
    /// Bring a backup back: a safety backup, the backend stopped, the database and files swapped in, the backup's image, the backend started.
    Restore(RestoreArgs),
    /// A new instance from a backup of another (taken now unless --from), with its own credentials and volumes, neutralized (no mail, no crons) unless --no-neutralize.
    Clone(CloneArgs),
    /// Port-forward the backend to localhost and print the URL.
    Open(OpenArgs),
    /// Print the manifests (like `helm template`); needs no cluster.
    Render(RenderArgs),
    /// List instances in the namespace (or all namespaces).
    List(ListArgs),
    /// Remove an instance; keeps PVCs and generated Secrets unless --delete-data.
    Delete(DeleteArgs),
    /// Print the admin login and password (--all: the other passwords odoo-tui keeps);
    /// a password kept in your own Secret is only named. Asks first on a terminal.
    Credentials(CredentialsArgs),
    /// Print the logs of every pod of a component (default: backend), each line
    /// prefixed with its pod: odoo-tui logs acme init, odoo-tui logs acme upgrade -f
    Logs(LogsArgs),
    /// Print shell completions: odoo-tui completions bash > /etc/bash_completion.d/odoo-tui
    Completions(CompletionsArgs),
}

// The subcommands' flags. Their help comes from the variants above: these structs carry
// no doc comment of their own.

#[derive(Debug, Args, Clone)]
pub struct NewArgs {
    /// Instance name (a DNS label, e.g. `acme`); asked for when omitted.
    pub name: Option<String>,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Ask nothing: take every answer from --preset, -f and --set.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Apply with server-side dry run and show what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Adopt objects of the same name not managed by odoo-tui.
    #[arg(long)]
    pub force: bool,
    /// Take the instance's lock even though another odoo-tui holds it. Only for a holder
    /// that is gone for good (a lock no longer renewed expires by itself after 60 s): two
    /// operations at once can stop an upgrade mid-migration or back up a half-migrated
    /// database.
    #[arg(long)]
    pub force_unlock: bool,
    /// Write the manifests to this folder instead of applying them (GitOps).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Give up waiting for the rollout after this long (e.g. 15m, 900s).
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub timeout: String,
    /// Print the admin login and generated passwords at the end.
    #[arg(long)]
    pub show_credentials: bool,
    /// Output format of progress and result.
    #[arg(short = 'o', long, value_enum, default_value = "plain")]
    pub output: PlainJson,
}

#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// Instance name; may be omitted when the namespace holds one instance.
    pub name: Option<String>,
    /// Print one snapshot and exit (0 when ready, 3 otherwise).
    #[arg(long)]
    pub once: bool,
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: TableFormat,
}

#[derive(Debug, Args, Clone)]
pub struct UpgradeArgs {
    /// Instance name; may be omitted when the namespace holds one instance.
    pub name: Option<String>,
    /// Modules to upgrade, comma-separated (e.g. sale,account).
    #[arg(long, value_name = "LIST", conflicts_with = "all")]
    pub modules: Option<String>,
    /// Upgrade every installed module.
    #[arg(long)]
    pub all: bool,
    /// Run the upgrade with this backend image tag and keep it afterwards.
    #[arg(long, value_name = "T")]
    pub image_tag: Option<String>,
    /// No effect (kept so scripts keep working): `-u` refreshes the module list itself.
    #[arg(long)]
    pub no_update_list: bool,
    /// Skip the database backup (not recommended).
    #[arg(long)]
    pub no_backup: bool,
    /// maintenance (default): the backend stopped during the upgrade (no request, no cron), the maintenance page on with nginx; online: keeps serving (warned).
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// With --strategy online and a new --image-tag: accept that the old image serves while the new one migrates the database.
    #[arg(long)]
    pub accept_online_image_change: bool,
    /// Carry on the open upgrade from where it stopped: follow its Job, run it again after it failed, or retry the rollout.
    #[arg(long)]
    pub resume: bool,
    /// Give up the open upgrade: the previous image and replicas back, the maintenance page off (says first what it means when the database was already migrated).
    #[arg(long)]
    pub abort: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Take the instance's lock even though another odoo-tui holds it. Only for a holder
    /// that is gone for good (a lock no longer renewed expires by itself after 60 s): two
    /// operations at once can stop an upgrade mid-migration or back up a half-migrated
    /// database.
    #[arg(long)]
    pub force_unlock: bool,
    /// Stop following the backup and the upgrade Job after this long (the upgrade Job keeps running: `--resume` follows it again).
    #[arg(long, default_value = "60m", value_name = "DURATION")]
    pub timeout: String,
    /// Give the rollout on the new image this long once the modules are upgraded (its own time, whatever the Job took).
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub rollout_timeout: String,
    #[arg(short = 'o', long, value_enum, default_value = "plain")]
    pub output: PlainJson,
}

#[derive(Debug, Args, Clone)]
pub struct BackupArgs {
    pub name: Option<String>,
    /// Take the instance's lock even though another odoo-tui holds it. Only for a holder
    /// that is gone for good (a lock no longer renewed expires by itself after 60 s): two
    /// operations at once can stop an upgrade mid-migration or back up a half-migrated
    /// database.
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args, Clone)]
pub struct BackupsArgs {
    /// Instance name; may be omitted when the namespace holds one instance.
    pub name: Option<String>,
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: TableFormat,
}

#[derive(Debug, Args, Clone)]
pub struct RestoreArgs {
    /// Instance name; may be omitted when the namespace holds one instance.
    pub name: Option<String>,
    /// The backup: `latest`, an id from `odoo-tui backups`, or the end of one (e.g. 7-2611272305).
    #[arg(long, default_value = "latest", value_name = "ID")]
    pub from: String,
    /// Keep the backend's current image instead of the one the backup was taken with
    /// (refused when the backup's image is newer).
    #[arg(long)]
    pub keep_image: bool,
    /// Do not back up the current database first (it is then lost once the restore is final).
    #[arg(long)]
    pub no_safety_backup: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Take the instance's lock even though another odoo-tui holds it. Only for a holder
    /// that is gone for good (a lock no longer renewed expires by itself after 60 s).
    #[arg(long)]
    pub force_unlock: bool,
    #[arg(long, default_value = "60m", value_name = "DURATION")]
    pub timeout: String,
    #[arg(short = 'o', long, value_enum, default_value = "plain")]
    pub output: PlainJson,
}

#[derive(Debug, Args, Clone)]
pub struct CloneArgs {
    /// The instance to copy.
    pub src: String,
    /// The new instance's name (must not exist).
    pub new: String,
    /// A backup of SRC (`latest`, an id, or its end); default: one taken now.
    #[arg(long, value_name = "ID")]
    pub from: Option<String>,
    /// Keep outgoing mail, crons and payment providers on (the clone then acts like production).
    #[arg(long)]
    pub no_neutralize: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Take NEW's lock even though another odoo-tui holds it.
    #[arg(long)]
    pub force_unlock: bool,
    #[arg(long, default_value = "60m", value_name = "DURATION")]
    pub timeout: String,
    #[arg(short = 'o', long, value_enum, default_value = "plain")]
    pub output: PlainJson,
}

#[derive(Debug, Args, Clone)]
pub struct OpenArgs {
    pub name: Option<String>,
    /// Local port.
    #[arg(long, default_value_t = 8069)]
    pub port: u16,
}

#[derive(Debug, Args, Clone)]
pub struct RenderArgs {
    /// Instance name (default: odoo).
    pub name: Option<String>,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Write one file per object into this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print Secret values (freshly generated ones where not given) instead of <redacted>.
    #[arg(long)]
    pub include_secrets: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: TableFormat,
}

#[derive(Debug, Args, Clone)]
pub struct DeleteArgs {
    pub name: String,
    /// Also delete PVCs and generated Secrets (asks you to type the name).
    #[arg(long)]
    pub delete_data: bool,
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Take the instance's lock even though another odoo-tui holds it. Only for a holder
    /// that is gone for good (a lock no longer renewed expires by itself after 60 s): two
    /// operations at once can stop an upgrade mid-migration or back up a half-migrated
    /// database.
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args, Clone)]
pub struct CredentialsArgs {
    /// Instance name; may be omitted when the namespace holds one instance.
    pub name: Option<String>,
    /// Also the master password and the bundled PostgreSQL's and MinIO's passwords.
    #[arg(long)]
    pub all: bool,
    /// Do not ask before printing (needed without a terminal, and with -o json).
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[arg(short = 'o', long, value_enum, default_value = "plain")]
    pub output: PlainJson,
}

#[derive(Debug, Args, Clone)]
pub struct LogsArgs {
    /// Instance name, then the component; with one argument that names a component, the
    /// namespace's only instance is meant.
    #[arg(value_name = "NAME")]
    pub first: Option<String>,
    /// backend (default), postgresql, minio, minio-provisioning, init, storage-init,
    /// frontend, nginx, smoke-check, backup, upgrade. For Jobs (init, upgrade, backup…),
    /// the newest Job's pods.
    #[arg(value_name = "COMPONENT")]
    pub second: Option<String>,
    /// Keep printing new lines, also of pods that start later, until Ctrl-C (or until a
    /// Job's pods are done).
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// The previous run of each restarted container.
    #[arg(long)]
    pub previous: bool,
    /// Only lines newer than this (e.g. 10m, 1h).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
