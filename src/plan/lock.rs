//! The lock of an instance, decided without IO: one operation at a time per instance
//! (`new`, `upgrade`, `backup`, `delete`, …), held as a `coordination.k8s.io/v1` Lease
//! named after the instance. Who holds it, whether it is free, expired or held, and what
//! to tell the user. `instance::lock` reads and writes the Lease.

/// How long a lock lives after its last renewal: a holder that stops renewing (killed,
/// cut off) leaves a lock that the next command takes over once this has passed.
pub const LEASE_SECONDS: i64 = 60;

/// How often a holder renews its lock (a quarter of its life: three renewals can be lost
/// before it expires).
pub const RENEW_SECONDS: u64 = 15;

/// Annotation on the Lease naming the command that holds it.
pub const COMMAND_ANNOTATION: &str = "odoo-tui.io/command";

/// The Lease of instance `release`. Named after the instance itself (not its fullname,
/// which the values can change), so that every command on it finds the same lock.
pub fn lease_name(release: &str) -> String {
    format!("{release}-odoo-tui-lock")
}

/// This process as a lock holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// The command, e.g. `upgrade acme`.
    pub command: String,
}

impl Holder {
    /// The Lease's `holderIdentity`: `host/pid`.
    pub fn identity(&self) -> String {
        format!("{}/{}", self.host, self.pid)
    }
}

/// A lock as found on the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Held {
    /// `holderIdentity`; empty when nobody holds it.
    pub identity: String,
    /// The command that holds it, when the holder said.
    pub command: Option<String>,
    /// `acquireTime`, unix seconds.
    pub acquired: Option<i64>,
    /// `renewTime`, unix seconds.
    pub renewed: Option<i64>,
    /// `leaseDurationSeconds` (the default when absent).
    pub duration: i64,
}

impl Held {
    /// When the lock expires: its last renewal (else its acquisition) plus its duration;
    /// `None` when it carries neither time (it is then taken as expired).
    pub fn expires(&self) -> Option<i64> {
        self.renewed
            .or(self.acquired)
            .map(|t| t + self.duration.max(1))
    }

    /// Expired at unix time `now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expires().is_none_or(|e| now >= e)
    }

    /// The holder in words: `` `upgrade acme` (pid 4242 on host-a)``.
    pub fn describe(&self) -> String {
        let who = match self.identity.rsplit_once('/') {
            Some((host, pid)) if pid.parse::<u32>().is_ok() => format!("pid {pid} on {host}"),
            _ => format!("holder `{}`", self.identity),
        };
        match &self.command {
            Some(c) => format!("`{c}` ({who})"),
            None => format!("another odoo-tui ({who})"),
        }
    }
}

/// What to do with the lock as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nobody holds it: take it.
    Take,
    /// Someone held it but stopped renewing it: take it over (and say so).
    TakeOver(Held),
    /// Taken from a live holder because the user said `--force-unlock`.
    Force(Held),
    /// Someone holds it: refuse, naming them.
    Refuse(Held),
}

/// Decide from the lock found (`None`: no Lease) at unix time `now`.
pub fn decide(found: Option<&Held>, now: i64, force: bool) -> Decision {
    match found {
        None => Decision::Take,
        Some(h) if h.identity.is_empty() => Decision::Take,
        Some(h) if h.expired(now) => Decision::TakeOver(h.clone()),
        Some(h) if force => Decision::Force(h.clone()),
        Some(h) => Decision::Refuse(h.clone()),
    }
}

fn since(t: Option<i64>, now: i64) -> String {
    match t {
        Some(t) => format!(
            "{} ({} ago)",
            crate::time::rfc3339(t),
            crate::time::age(now - t)
        ),
        None => "an unknown time".to_string(),
    }
}

/// Why a command refuses: who holds the lock, since when, and the ways on.
pub fn refusal(release: &str, held: &Held, now: i64) -> String {
    let renewed = held
        .renewed
        .map(|r| format!(", last renewed {} ago", crate::time::age(now - r)))
        .unwrap_or_default();
    format!(
        "instance `{release}` is busy: {} holds its lock since {}{renewed}.\n\
         Wait for it to finish, then run this again. A lock that is no longer renewed expires {} s \
         after its last renewal and is then taken over by the next command. If that process is \
         gone for good and you cannot wait, --force-unlock takes the lock now (two operations at \
         once can stop an upgrade mid-migration or back up a half-migrated database).",
        held.describe(),
        since(held.acquired, now),
        held.duration.max(1),
    )
}

/// What a command says when it takes over an expired lock.
pub fn took_over(release: &str, held: &Held, now: i64) -> String {
    format!(
        "note: took over the lock of `{release}` left by {} (not renewed since {}): that run \
         was interrupted — check `odoo-tui status {release}`",
        held.describe(),
        since(held.renewed.or(held.acquired), now)
    )
}

/// What a command says when `--force-unlock` takes a live lock.
pub fn forced(release: &str, held: &Held, now: i64) -> String {
    format!(
        "warning: --force-unlock took the lock of `{release}` from {} (held since {}); if that \
         process is still running, both now act on the instance",
        held.describe(),
        since(held.acquired, now)
    )
}

/// What a holder says when its lock was taken from it while it ran.
pub fn lost(release: &str, by: Option<&Held>) -> String {
    match by {
        Some(h) if !h.identity.is_empty() => format!(
            "the lock of `{release}` was taken by {} (--force-unlock, or this process could not renew it for {} s): stopping here",
            h.describe(),
            h.duration.max(1)
        ),
        _ => format!("the lock of `{release}` was removed while this command ran: stopping here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(renewed: Option<i64>) -> Held {
        Held {
            identity: "host-a/4242".into(),
            command: Some("upgrade acme".into()),
            acquired: Some(1_000),
            renewed,
            duration: LEASE_SECONDS,
        }
    }

    #[test]
    fn a_free_lock_is_taken_a_live_one_refused_an_expired_one_taken_over() {
        assert_eq!(decide(None, 2_000, false), Decision::Take);
        let released = Held::default();
        assert_eq!(decide(Some(&released), 2_000, false), Decision::Take);
        let live = held(Some(1_050));
        assert_eq!(
            decide(Some(&live), 1_100, false),
            Decision::Refuse(live.clone())
        );
        // Expired exactly 60 s after the last renewal.
        assert_eq!(
            decide(Some(&live), 1_109, false),
            Decision::Refuse(live.clone())
        );
        assert_eq!(
            decide(Some(&live), 1_110, false),
            Decision::TakeOver(live.clone())
        );
        assert_eq!(decide(Some(&live), 1_100, true), Decision::Force(live));
        // Without any time it cannot be live.
        let timeless = Held {
            acquired: None,
            ..held(None)
        };
        assert!(matches!(
            decide(Some(&timeless), 0, false),
            Decision::TakeOver(_)
        ));
    }

    #[test]
    fn the_refusal_names_the_holder_since_when_and_the_way_out() {
        let m = refusal("acme", &held(Some(1_170)), 1_180);
        assert!(
            m.starts_with(
                "instance `acme` is busy: `upgrade acme` (pid 4242 on host-a) holds its lock since 1970-01-01T00:16:40Z (3m ago), last renewed 10s ago."
            ),
            "{m}"
        );
        assert!(m.contains("expires 60 s after its last renewal"), "{m}");
        assert!(m.contains("--force-unlock"), "{m}");
        let foreign = Held {
            identity: "leader-xyz".into(),
            command: None,
            ..held(None)
        };
        assert_eq!(foreign.describe(), "another odoo-tui (holder `leader-xyz`)");
    }

    #[test]
    fn the_lease_is_named_after_the_instance() {
        assert_eq!(lease_name("acme"), "acme-odoo-tui-lock");
        assert_ne!(lease_name("shop"), lease_name("shop-odoo"));
        let me = Holder {
            host: "h".into(),
            pid: 7,
            command: "new acme".into(),
        };
        assert_eq!(me.identity(), "h/7");
    }
}
