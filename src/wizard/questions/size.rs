//! How big: a fixed size from the table, the scenario's own, or replicas, workers and the
//! memory limit chosen one by one (with a way out when the limit is small for the workers).

use super::{Entry, always};
use crate::wizard::checks;
use crate::wizard::choices::{
    MemoryFix, SIZES, Size, StorageChoice, memory_needed_mib, workers_fitting,
};
use crate::wizard::question::{Asked, choice, select, text};
use crate::wizard::state::{WizardState, quantity};

fn custom(s: &WizardState) -> bool {
    s.size() == Size::Custom
}

pub(in crate::wizard) const SIZE: Entry = Entry {
    asked: always,
    ask: |s| {
        let pvc = s.storage() == StorageChoice::Pvc;
        let mut options = Vec::new();
        if s.preset_size() == Size::Scenario {
            let b = &s.pv.backend;
            options.push(choice(
                Size::Scenario.key(),
                format!(
                    "as the scenario sets it — {} replica(s), {} worker(s), memory limit {}",
                    if pvc { 1 } else { b.replica_count },
                    b.odoo.workers,
                    quantity(&b.resources.limits, "memory").unwrap_or_else(|| "none".into())
                ),
            ));
        }
        for r in SIZES {
            let replicas = if pvc { 1 } else { r.replicas };
            let pvc_note = if pvc && r.replicas > 1 {
                " (1 replica: attachments are on a volume)"
            } else {
                ""
            };
            options.push(choice(
                r.size.key(),
                format!(
                    "{} — {replicas} replica(s), {} worker(s), {} CPU / {} memory limit: {}{pvc_note}",
                    r.size.key(),
                    r.workers,
                    r.lim.0,
                    r.lim.1,
                    r.what
                ),
            ));
        }
        options.push(choice(
            Size::Custom.key(),
            "custom — choose replicas, workers and the memory limit",
        ));
        Asked::new(
            select(options, s.size().key()),
            "How big?",
            "Replicas are copies of Odoo behind one Service (more survive a node failure); workers are Odoo processes per replica, each serving one request at a time and needing about 300Mi of memory (plus 500Mi per replica).",
        )
    },
    take: |s, input, _| {
        s.a.size = Size::from_key(&input);
        Ok(None)
    },
};

pub(in crate::wizard) const REPLICAS: Entry = Entry {
    asked: |s| custom(s) && s.storage() != StorageChoice::Pvc,
    ask: |s| {
        Asked::new(
            text(Some(
                s.a.replicas
                    .unwrap_or(i64::from(s.pv.backend.replica_count))
                    .to_string(),
            )),
            "Replicas",
            "How many copies of Odoo run (1–20). Two or more keep Odoo up while a node is drained.",
        )
    },
    take: |s, input, _| {
        s.a.replicas = Some(checks::number(&input, "replica count", 1, 20)?);
        Ok(None)
    },
};

pub(in crate::wizard) const WORKERS: Entry = Entry {
    asked: custom,
    ask: |s| {
        Asked::new(
            text(Some(s.custom_workers().to_string())),
            "Workers per replica",
            "Odoo processes per replica (0–64), each needing about 300Mi. 0 runs Odoo threaded (for development: live chat then polls instead of using websockets).",
        )
    },
    take: |s, input, _| {
        s.a.workers = Some(checks::number(&input, "worker count", 0, 64)?);
        Ok(None)
    },
};

pub(in crate::wizard) const MEMORY_LIMIT: Entry = Entry {
    asked: custom,
    ask: |s| {
        Asked::new(
            text(Some(s.custom_memory().0)),
            "Memory limit per replica",
            format!(
                "The most memory one Odoo replica may use before Kubernetes restarts it, as a Kubernetes quantity (e.g. 2Gi, 1536Mi). {} worker(s) need about {:.0}Mi.",
                s.custom_workers(),
                memory_needed_mib(s.custom_workers())
            ),
        )
    },
    take: |s, input, _| {
        s.a.memory = Some(checks::memory(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const MEMORY_FIX: Entry = Entry {
    asked: |s| s.memory_short().is_some(),
    ask: |s| {
        let workers = s.custom_workers();
        let (limit_q, _) = s.custom_memory();
        let (needed, have) = s.memory_short().unwrap_or((0.0, 0.0));
        let mut options = Vec::new();
        if let Some(n) = workers_fitting(have).filter(|n| *n < workers) {
            let what = if n == 0 { " (threaded mode)" } else { "" };
            options.push(choice(
                MemoryFix::FewerWorkers.key(),
                format!("use {n} worker(s){what} — fits in {limit_q}"),
            ));
        }
        options.push(choice(
            MemoryFix::RaiseLimit.key(),
            format!("raise the memory limit to {needed:.0}Mi"),
        ));
        options.push(choice(
            MemoryFix::Keep.key(),
            format!(
                "keep {workers} worker(s) and {limit_q} (Odoo may be killed for lack of memory under load)"
            ),
        ));
        let default =
            s.a.memory_fix
                .map(|f| f.key())
                .unwrap_or(options[0].key.as_str())
                .to_string();
        Asked::new(
            select(options, &default),
            "The memory limit is small for the workers",
            "Each Odoo worker needs about 300Mi and the replica another 500Mi; a container over its limit is killed (OOMKilled) and restarted.",
        )
        .with_notes(vec![format!(
            "Memory limit {limit_q} is small for {workers} worker(s): about {needed:.0}Mi needed (300Mi per worker + 500Mi)."
        )])
    },
    take: |s, input, _| {
        s.a.memory_fix = MemoryFix::from_key(&input);
        Ok(None)
    },
};
