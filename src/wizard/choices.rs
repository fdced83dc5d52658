//! The closed choices of the wizard's select questions, and the table of fixed sizes.

macro_rules! choice_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $variant),* }
        impl $name {
            /// The key used in [`super::Answer::Choice`].
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),* }
            }
            pub(super) fn from_key(k: &str) -> Option<$name> {
                match k { $($key => Some($name::$variant),)* _ => None }
            }
        }
    };
}

choice_enum!(
    /// Where the database runs.
    DbChoice { Bundled = "bundled", External = "external" }
);
choice_enum!(
    /// Where attachments (the filestore) go.
    StorageChoice { Minio = "minio", External = "external", Pvc = "pvc" }
);
choice_enum!(
    /// How credentials are provided.
    CredentialChoice { Generate = "generate", Type = "type", ExistingSecrets = "secrets" }
);
choice_enum!(
    /// How Odoo is reached from outside the cluster.
    Exposure { None = "none", Ingress = "ingress", Nginx = "nginx" }
);
choice_enum!(
    /// The backend's size.
    Size {
        /// As the scenario sets it (offered when it matches no other size).
        Scenario = "scenario",
        Dev = "dev",
        Small = "small",
        Medium = "medium",
        Large = "large",
        Custom = "custom",
    }
);
choice_enum!(
    /// What to do when the memory limit is small for the workers.
    MemoryFix { FewerWorkers = "fewer-workers", RaiseLimit = "raise-limit", Keep = "keep" }
);

choice_enum!(
    /// Scheduled backups.
    BackupChoice { Daily = "daily", Custom = "custom", None = "none" }
);

/// The select key of "create a new namespace".
pub const NEW_NAMESPACE: &str = "+new";

/// Replicas, workers and resources of a fixed size.
pub(super) struct SizeRow {
    pub size: Size,
    pub replicas: i64,
    pub workers: i64,
    /// requests: (cpu, memory)
    pub req: (&'static str, &'static str),
    /// limits: (cpu, memory)
    pub lim: (&'static str, &'static str),
    pub what: &'static str,
}

pub(super) const SIZES: &[SizeRow] = &[
    SizeRow {
        size: Size::Dev,
        replicas: 1,
        workers: 0,
        req: ("100m", "256Mi"),
        lim: ("2", "1Gi"),
        what: "for a laptop cluster (kind, k3s, minikube); threaded Odoo, live chat polls instead of using websockets",
    },
    SizeRow {
        size: Size::Small,
        replicas: 1,
        workers: 2,
        req: ("250m", "512Mi"),
        lim: ("1", "1536Mi"),
        what: "a handful of users",
    },
    SizeRow {
        size: Size::Medium,
        replicas: 2,
        workers: 4,
        req: ("500m", "1Gi"),
        lim: ("2", "2Gi"),
        what: "a company of a few dozen users, survives a node drain",
    },
    SizeRow {
        size: Size::Large,
        replicas: 3,
        workers: 8,
        req: ("1", "2Gi"),
        lim: ("4", "4Gi"),
        what: "a hundred users or more",
    },
];

/// The backend's effective size.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SizeSpec {
    pub replicas: i64,
    pub workers: i64,
    /// requests.cpu, requests.memory, limits.cpu, limits.memory (None: keep the preset's).
    pub resources: [Option<String>; 4],
}

/// Memory Odoo needs for `workers` (about 300 MiB per worker + 500 MiB), in MiB.
pub fn memory_needed_mib(workers: i64) -> f64 {
    workers.max(0) as f64 * 300.0 + 500.0
}

/// The most workers that fit in `limit` MiB.
pub(super) fn workers_fitting(limit: f64) -> Option<i64> {
    if limit < memory_needed_mib(0) {
        return None;
    }
    Some(((limit - 500.0) / 300.0).floor() as i64)
}
