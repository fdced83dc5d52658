//! CronJob schedules: the standard 5-field cron syntax and the `@hourly`-style
//! descriptors, parsed as the Kubernetes API server and cronjob controller parse them
//! (robfig/cron v3's standard parser, with its error texts), and time zones read from
//! the system's zoneinfo files.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const STAR: u64 = 1 << 63;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Spec {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
    },
    /// `@every <duration>`, in whole seconds (at least 1).
    Every(i64),
}

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    kind: Kind,
    /// From a `TZ=`/`CRON_TZ=` prefix.
    pub zone: Option<String>,
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value of `names[0]`.
    first_name: u32,
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
    first_name: 0,
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
    first_name: 0,
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
    first_name: 0,
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    first_name: 1,
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    first_name: 0,
};

fn bits(min: u32, max: u32, step: u32) -> u64 {
    let mut b = 0u64;
    let mut i = min;
    while i <= max {
        b |= 1 << i;
        i += step;
    }
    b
}

/// Go's `strconv.Atoi` error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax"
        ));
    }
    s.parse::<i64>().map_err(|_| {
        format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: value out of range")
    })
}

fn must_parse_int(s: &str) -> Result<u32, String> {
    let n = atoi(s)?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {s}"));
    }
    Ok(n.min(u32::MAX as i64) as u32)
}

fn int_or_name(s: &str, b: &Bounds) -> Result<u32, String> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = b.names.iter().position(|n| *n == lower) {
        return Ok(i as u32 + b.first_name);
    }
    must_parse_int(s)
}

fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end, mut extra) = if low_high[0] == "*" || low_high[0] == "?" {
        (b.min, b.max, STAR)
    } else {
        let start = int_or_name(low_high[0], b)?;
        let end = match low_high.len() {
            1 => start,
            2 => int_or_name(low_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end, 0)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            if single {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(bits(start, end, step) | extra)
}

fn field(f: &str, b: &Bounds) -> Result<u64, String> {
    let mut out = 0;
    for r in f.split(',').filter(|r| !r.is_empty()) {
        out |= range(r, b)?;
    }
    Ok(out)
}

/// Go's `time.ParseDuration` for the units a schedule uses, in whole seconds.
fn go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration {s:?}");
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration {s:?}"))?;
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("time: unknown unit {unit:?} in duration {s:?}")),
        };
        total += value * mult;
        rest = &rest[u..];
    }
    Ok(total.floor() as i64)
}

/// Parse like robfig/cron v3's `ParseStandard` (what the API server validates with).
pub fn parse_standard(spec: &str) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    let mut zone = None;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let sp = spec.find(' ').unwrap_or(spec.len());
        let name = &spec[eq + 1..sp];
        if let Err(e) = Zone::load(name) {
            return Err(format!("provided bad location {name}: {e}"));
        }
        zone = Some(name.to_string());
        spec = spec[sp..].trim();
    }
    if let Some(d) = spec.strip_prefix('@') {
        let d = format!("@{d}");
        let spec_of = |minute, hour, dom, month, dow| Kind::Spec {
            minute,
            hour,
            dom,
            month,
            dow,
        };
        let all = |b: &Bounds| bits(b.min, b.max, 1) | STAR;
        let kind = match d.as_str() {
            "@yearly" | "@annually" => spec_of(1, 1, 1 << 1, 1 << 1, all(&DOW)),
            "@monthly" => spec_of(1, 1, 1 << 1, all(&MONTHS), all(&DOW)),
            "@weekly" => spec_of(1, 1, all(&DOM), all(&MONTHS), 1),
            "@daily" | "@midnight" => spec_of(1, 1, all(&DOM), all(&MONTHS), all(&DOW)),
            "@hourly" => spec_of(1, all(&HOURS), all(&DOM), all(&MONTHS), all(&DOW)),
            other => match other.strip_prefix("@every ") {
                Some(dur) => {
                    let secs = go_duration(dur)
                        .map_err(|e| format!("failed to parse duration {other}: {e}"))?;
                    Kind::Every(secs.max(1))
                }
                None => return Err(format!("unrecognized descriptor: {other}")),
            },
        };
        return Ok(Schedule { kind, zone });
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    Ok(Schedule {
        kind: Kind::Spec {
            minute: field(fields[0], &MINUTES)?,
            hour: field(fields[1], &HOURS)?,
            dom: field(fields[2], &DOM)?,
            month: field(fields[3], &MONTHS)?,
            dow: field(fields[4], &DOW)?,
        },
        zone,
    })
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `t` (Unix seconds) as RFC 3339 in a zone with UTC offset `offset` seconds.
pub fn rfc3339_in(t: i64, offset: i64) -> String {
    let local = t + offset;
    let (y, m, d) = civil(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let zone = if offset == 0 {
        "Z".to_string()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.abs();
        format!("{sign}{:02}:{:02}", o / 3600, (o % 3600) / 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

impl Schedule {
    /// The first activation strictly after `after` (Unix seconds), with local time
    /// given by `zone`.
    pub fn next(&self, after: i64, zone: &Zone) -> Option<i64> {
        let (minute, hour, dom, month, dow) = match &self.kind {
            Kind::Every(secs) => return Some(after + secs),
            Kind::Spec {
                minute,
                hour,
                dom,
                month,
                dow,
            } => (*minute, *hour, *dom, *month, *dow),
        };
        let has = |set: u64, v: u32| set & (1 << v) != 0;
        let mut t = after.div_euclid(60) * 60 + 60;
        // Five years of minutes at most, skipping whole days and hours that cannot match.
        let limit = t + 5 * 366 * 86_400;
        while t < limit {
            let off = zone.offset_at(t);
            let local = t + off;
            let days = local.div_euclid(86_400);
            let secs = local.rem_euclid(86_400);
            let (_, m, d) = civil(days);
            let wd = (days + 4).rem_euclid(7) as u32;
            let (h, mi) = ((secs / 3600) as u32, ((secs % 3600) / 60) as u32);
            let day_ok = if dom & STAR != 0 || dow & STAR != 0 {
                has(dom, d) && has(dow, wd)
            } else {
                has(dom, d) || has(dow, wd)
            };
            if !has(month, m) || !day_ok {
                t += 86_400 - secs;
                continue;
            }
            if !has(hour, h) {
                t += 3600 - secs % 3600;
                continue;
            }
            if !has(minute, mi) {
                t += 60;
                continue;
            }
            return Some(t);
        }
        None
    }
}

/// A time zone: UTC offsets by transition time, from a TZif file.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    transitions: Vec<(i64, i64)>,
    initial: i64,
}

const ZONEINFO: &str = "/usr/share/zoneinfo";

fn zone_cache() -> &'static Mutex<HashMap<String, Result<Zone, String>>> {
    static C: OnceLock<Mutex<HashMap<String, Result<Zone, String>>>> = OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Zone {
    pub fn utc() -> Self {
        Self::default()
    }

    /// Load a zone by IANA name like Go's `time.LoadLocation` ("" and "UTC" are UTC);
    /// the error is Go's (`unknown time zone X`).
    pub fn load(name: &str) -> Result<Zone, String> {
        if name.is_empty() || name == "UTC" {
            return Ok(Zone::utc());
        }
        if let Some(z) = zone_cache().lock().expect("zones").get(name) {
            return z.clone();
        }
        let unknown = || format!("unknown time zone {name}");
        let ok_name = !name.starts_with('/')
            && name
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != "..");
        let z = if !ok_name || name == "Local" {
            if name == "Local" {
                Ok(Zone::utc())
            } else {
                Err(unknown())
            }
        } else {
            std::fs::read(format!("{ZONEINFO}/{name}"))
                .ok()
                .and_then(|b| parse_tzif(&b))
                .ok_or_else(unknown)
        };
        zone_cache()
            .lock()
            .expect("zones")
            .insert(name.to_string(), z.clone());
        z
    }

    /// The UTC offset in seconds at `t` (Unix seconds).
    pub fn offset_at(&self, t: i64) -> i64 {
        match self.transitions.partition_point(|(at, _)| *at <= t) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }
}

fn be(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    Some(match n {
        4 => i32::from_be_bytes(s.try_into().ok()?) as i64,
        8 => i64::from_be_bytes(s.try_into().ok()?),
        _ => return None,
    })
}

/// Parse a TZif file (RFC 8536), using the 64-bit block when there is one.
fn parse_tzif(b: &[u8]) -> Option<Zone> {
    let header = |at: usize| -> Option<[usize; 6]> {
        if b.get(at..at + 4)? != b"TZif" {
            return None;
        }
        let mut c = [0usize; 6];
        for (i, v) in c.iter_mut().enumerate() {
            *v = be(b, at + 20 + 4 * i, 4)? as usize;
        }
        Some(c)
    };
    let [isut, isstd, leap, time, typ, chars] = header(0)?;
    let version = *b.get(4)?;
    let (base, tsize, counts) = if version >= b'2' {
        let v1_len = time * 4 + time + typ * 6 + chars + leap * 8 + isstd + isut;
        let at = 44 + v1_len;
        (at + 44, 8, header(at)?)
    } else {
        (44, 4, [isut, isstd, leap, time, typ, chars])
    };
    let [_, _, _, time, typ, _] = counts;
    let idx_at = base + time * tsize;
    let types_at = idx_at + time;
    let ttinfo = |i: usize| -> Option<(i64, bool)> {
        let at = types_at + i * 6;
        Some((be(b, at, 4)?, *b.get(at + 4)? != 0))
    };
    let mut transitions = Vec::with_capacity(time);
    for i in 0..time {
        let at = be(b, base + i * tsize, tsize)?;
        let ty = *b.get(idx_at + i)? as usize;
        transitions.push((at, ttinfo(ty)?.0));
    }
    let initial = (0..typ)
        .filter_map(ttinfo)
        .find(|(_, dst)| !dst)
        .map(|(o, _)| o)
        .or_else(|| ttinfo(0).map(|t| t.0))
        .unwrap_or(0);
    Some(Zone {
        transitions,
        initial,
    })
}

/// The characters and parts the API server allows in `spec.timeZone` (before it tries
/// to load the zone).
pub fn valid_zone_name(name: &str) -> bool {
    name.split('/').all(|p| {
        !p.is_empty()
            && p.len() <= 14
            && p != "."
            && p != ".."
            && !p.starts_with('-')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_utc(spec: &str, after: i64) -> i64 {
        parse_standard(spec)
            .unwrap()
            .next(after, &Zone::utc())
            .unwrap()
    }

    #[test]
    fn errors_read_like_the_api_server() {
        let e = |s: &str| parse_standard(s).unwrap_err();
        assert_eq!(e("61 * * * *"), "end of range (61) above maximum (59): 61");
        assert_eq!(
            e("* * * *"),
            "expected exactly 5 fields, found 4: [* * * *]"
        );
        assert_eq!(
            e("x * * * *"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(e("@fortnightly"), "unrecognized descriptor: @fortnightly");
        assert_eq!(
            e("5-1 * * * *"),
            "beginning of range (5) beyond end of range (1): 5-1"
        );
        assert_eq!(
            e("* * 0 * *"),
            "beginning of range (0) below minimum (1): 0"
        );
        assert_eq!(
            e("*/0 * * * *"),
            "step of range should be a positive number: */0"
        );
        assert_eq!(e(""), "empty spec string");
        assert_eq!(
            e("TZ=Mars/Olympus * * * * *"),
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"
        );
        for ok in [
            "*/1 * * * *",
            "0 3 * * *",
            "@hourly",
            "@daily",
            "@every 90m",
            "0 0 * jan,jul mon-fri",
            "TZ=UTC 0 * * * *",
            "*/61 * * * *",
        ] {
            parse_standard(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn next_activation() {
        // 2024-03-01T10:17:30Z
        let t = 1_709_288_250;
        assert_eq!(next_utc("*/1 * * * *", t), 1_709_288_280);
        assert_eq!(next_utc("*/15 * * * *", t), 1_709_288_100 + 900);
        assert_eq!(next_utc("@hourly", t), 1_709_290_800);
        assert_eq!(next_utc("0 3 * * *", t), 1_709_348_400);
        // Strictly after: a time on the minute gives the next minute.
        assert_eq!(next_utc("* * * * *", 1_709_288_280), 1_709_288_340);
        // 2024-03-01 is a Friday: the next Monday 00:00 is 2024-03-04.
        assert_eq!(next_utc("0 0 * * mon", t), 1_709_510_400);
        // Day of month and day of week both restricted: either matches.
        assert_eq!(next_utc("0 0 15 * mon", t), 1_709_510_400);
        assert_eq!(next_utc("@every 90s", t), t + 90);
    }

    #[test]
    fn zones_shift_local_time() {
        let Ok(paris) = Zone::load("Europe/Paris") else {
            return; // no zoneinfo on this machine
        };
        // 2024-03-01T10:17:30Z; Paris is UTC+1 in March before the switch.
        let t = 1_709_288_250;
        let s = parse_standard("0 3 * * *").unwrap();
        assert_eq!(s.next(t, &paris).unwrap(), 1_709_348_400 - 3600);
        assert_eq!(paris.offset_at(1_719_792_000), 7200); // July: summer time
        assert!(Zone::load("Europe/Pariss").is_err());
        assert!(!valid_zone_name("../etc/passwd"));
    }
}
