//! What every command needs, resolved once from the global flags and the process: where
//! to connect, which of stdin/stdout/stderr are terminals, colour, `--plain`, verbosity;
//! plus the async runtime, Ctrl-C, and the yes/no questions asked on a terminal.

use std::future::Future;
use std::io::IsTerminal;

use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use super::Error;
use crate::cli::Global;
use crate::cluster::{Kube, Target};

/// The resolved global options and terminal facts.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where to connect: `--kubeconfig`, `--context`, `-n`.
    pub target: Target,
    pub stdin_tty: bool,
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    /// `NO_COLOR` is set (and not empty).
    pub no_color: bool,
    /// `--plain`: lines instead of the full-screen view.
    pub plain: bool,
    /// `-v` count.
    pub verbose: u8,
}

impl Context {
    /// Resolve the global flags and the process's terminals and environment.
    pub fn resolve(g: &Global) -> Context {
        Context {
            target: Target {
                kubeconfig: g.kubeconfig.clone(),
                context: g.context.clone(),
                namespace: g.namespace.clone(),
                non_interactive: false,
            },
            stdin_tty: std::io::stdin().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            plain: g.plain,
            verbose: g.verbose,
        }
    }

    /// Questions can be asked: stdin and stderr (where prompts go) are terminals.
    pub fn interactive(&self) -> bool {
        self.stdin_tty && self.stderr_tty
    }

    /// The namespace of commands that need no cluster: `-n`, else `default`.
    pub fn namespace_or_default(&self) -> String {
        self.target
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string())
    }

    /// Connect with the global flags.
    pub async fn connect(&self) -> Result<Kube, Error> {
        Ok(Kube::connect(&self.target).await?)
    }

    /// The async runtime of a command (two worker threads).
    pub fn runtime(&self) -> Result<Runtime, Error> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))
    }

    /// Run `work` to its end on a fresh runtime, with Ctrl-C cancelling the token it gets
    /// (see [`on_ctrl_c`]; `None` leaves Ctrl-C to end the process).
    pub fn block_on<T, F, Fut>(&self, ctrl_c: Option<&'static str>, work: F) -> Result<T, Error>
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let rt = self.runtime()?;
        let cancel = match ctrl_c {
            Some(msg) => on_ctrl_c(&rt, msg),
            None => CancellationToken::new(),
        };
        rt.block_on(work(cancel))
    }

    /// A yes/no question on the terminal (default no); no terminal means no.
    pub fn confirm(&self, question: &str) -> bool {
        self.interactive()
            && inquire::Confirm::new(question)
                .with_default(false)
                .prompt()
                .unwrap_or(false)
    }

    /// A line of text asked on the terminal; `None` without one or when the user gave up.
    pub fn ask_text(&self, question: &str, help: &str) -> Option<String> {
        if !self.interactive() {
            return None;
        }
        inquire::Text::new(question)
            .with_help_message(help)
            .prompt()
            .ok()
    }

    /// After Ctrl-C during a Job: `true` to keep waiting, `false` to abort (and without a
    /// terminal).
    pub fn keep_waiting(&self, job: &str) -> bool {
        if !self.interactive() {
            return false;
        }
        const WAIT: &str = "keep waiting";
        const ABORT: &str = "abort: delete the Job";
        inquire::Select::new(&format!("Job/{job} is still running."), vec![WAIT, ABORT])
            .prompt()
            .map(|a| a == WAIT)
            .unwrap_or(false)
    }

    /// After Ctrl-C during a Job that is never stopped midway (the upgrade's `-u`):
    /// `true` to keep following it, `false` to leave it running (and without a terminal).
    pub fn keep_following(&self, job: &str) -> bool {
        if !self.interactive() {
            return false;
        }
        const WAIT: &str = "keep following it";
        const LEAVE: &str =
            "stop following: the Job keeps running (`upgrade --resume` follows it again)";
        inquire::Select::new(&format!("Job/{job} is still running."), vec![WAIT, LEAVE])
            .prompt()
            .map(|a| a == WAIT)
            .unwrap_or(false)
    }
}

/// What the first Ctrl-C says while a command finishes its current step.
pub const FINISHING: &str = "cancelling: finishing the current step (Ctrl-C again to stop at once)";

/// A token cancelled by the first Ctrl-C (saying `msg`); a second Ctrl-C exits at once
/// (130).
pub fn on_ctrl_c(rt: &Runtime, msg: &'static str) -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\n{msg}");
            t.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    token
}
