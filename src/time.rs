//! Time, on `jiff`: the clock read once per use, RFC 3339 in and out, durations such as
//! `15m`, and short ages. Everything but [`now`] is pure.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Seconds since the Unix epoch, from the system clock.
pub fn now() -> i64 {
    Timestamp::now().as_second()
}

/// A unix time as RFC 3339 UTC, e.g. `2026-11-27T23:05:00Z`.
pub fn rfc3339(unix: i64) -> String {
    match Timestamp::from_second(unix) {
        Ok(t) => t.to_string(),
        Err(_) => format!("@{unix}"),
    }
}

/// `2026-11-27T23:05:00Z` (any RFC 3339 offset) as unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    s.trim().parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// A unix time formatted with `strftime` directives, in UTC (e.g. `%y%m%d%H%M`).
pub fn format_utc(unix: i64, format: &str) -> String {
    match Timestamp::from_second(unix) {
        Ok(t) => t.strftime(format).to_string(),
        Err(_) => unix.to_string(),
    }
}

/// A positive duration: a number of seconds (`90`), or a span such as `15m`, `900s`,
/// `1h`, `1h30m`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let signed = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        SignedDuration::from_secs(s.parse().ok()?)
    } else {
        s.parse::<SignedDuration>().ok()?
    };
    Duration::try_from(signed).ok().filter(|d| !d.is_zero())
}

/// How long ago, in one unit: `42s`, `5m`, `3h`, `2d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_820_700), "2026-11-27T23:05:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        for t in [0, 951_782_400, 1_795_820_700] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2026-11-27T23:05:00+01:00"),
            Some(1_795_817_100)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn utc_formats() {
        assert_eq!(format_utc(1_795_820_700, "%y%m%d%H%M"), "2611272305");
    }

    #[test]
    fn durations() {
        let secs = |n| Some(Duration::from_secs(n));
        assert_eq!(parse_duration("15m"), secs(900));
        assert_eq!(parse_duration("900s"), secs(900));
        assert_eq!(parse_duration("90"), secs(90));
        assert_eq!(parse_duration("1h"), secs(3600));
        assert_eq!(parse_duration(" 1h30m "), secs(5400));
        for bad in ["soon", "0s", "0", "", "-5m", "m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages_use_one_unit() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(300), "5m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(3 * 86_400), "3d");
    }
}
