//! `backup.schedule`: the cron syntax a Kubernetes CronJob accepts (five fields —
//! minute, hour, day of month, month, day of week — with lists, ranges, steps and
//! names, or one of the `@` macros), parsed to refuse a bad schedule before anything is
//! applied and to know how often a backup is due (`status` warns past twice that).
//! Pure: no clock; times are unix seconds in UTC.

/// A parsed schedule: the minutes, hours, days, months and weekdays it fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Day of month and day of week both restricted: either one matching fires (as
    /// cron and Kubernetes do).
    day_or_weekday: bool,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const WEEKDAY: Field = Field {
    name: "day of week",
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

impl Field {
    fn value(&self, s: &str) -> Result<u32, String> {
        if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + self.min);
        }
        let n: u32 = s.parse().map_err(|_| {
            format!(
                "`{s}` is not a {} (a number {}–{}{})",
                self.name,
                self.min,
                self.max,
                if self.names.is_empty() {
                    String::new()
                } else {
                    format!(" or a name such as {}", self.names[0].to_uppercase())
                }
            )
        })?;
        if n < self.min || n > self.max {
            let hint = if self.name == "day of week" && n == 7 {
                " (Sunday is 0 here)"
            } else {
                ""
            };
            return Err(format!(
                "{} {n} is out of range {}–{}{hint}",
                self.name, self.min, self.max
            ));
        }
        Ok(n)
    }

    /// The set of values the field matches, as a bit mask; and whether it is `*`/`?`.
    fn parse(&self, text: &str) -> Result<(u64, bool), String> {
        let mut mask = 0u64;
        let star = text == "*" || text == "?";
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s
                        .parse()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or_else(|| format!("`{s}` is not a step (a number above 0)"))?;
                    (r, step)
                }
                None => (part, 1),
            };
            let (lo, hi) = if range == "*" || range == "?" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a > b {
                    return Err(format!("the range {range} of {} runs backwards", self.name));
                }
                (a, b)
            } else {
                let a = self.value(range)?;
                // `5/15` means from 5 to the end, every 15.
                (a, if step > 1 { self.max } else { a })
            };
            let mut v = lo;
            while v <= hi {
                mask |= 1 << v;
                v += step;
            }
        }
        Ok((mask, star))
    }
}

impl Schedule {
    /// Parse a schedule; the error says what is wrong in words.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let t = text.trim();
        let expanded = match t.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
            "@monthly" => "0 0 1 * *".to_string(),
            "@weekly" => "0 0 * * 0".to_string(),
            "@daily" | "@midnight" => "0 0 * * *".to_string(),
            "@hourly" => "0 * * * *".to_string(),
            other if other.starts_with('@') => {
                return Err(format!(
                    "`{t}` is not a schedule Kubernetes takes: use five fields (e.g. `0 3 * * *`) or @hourly, @daily, @weekly, @monthly, @yearly"
                ));
            }
            _ => t.to_string(),
        };
        if expanded.starts_with("TZ=") || expanded.starts_with("CRON_TZ=") {
            return Err("Kubernetes refuses a time zone in the schedule: give the times in the cluster's time zone (usually UTC)".into());
        }
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "`{t}` has {} fields; a schedule has five: minute hour day-of-month month day-of-week (e.g. `0 3 * * *` is every day at 03:00)",
                fields.len()
            ));
        }
        let (minutes, _) = MINUTE.parse(fields[0])?;
        let (hours, _) = HOUR.parse(fields[1])?;
        let (days, day_star) = DAY.parse(fields[2])?;
        let (months, _) = MONTH.parse(fields[3])?;
        let (weekdays, weekday_star) = WEEKDAY.parse(fields[4])?;
        Ok(Schedule {
            minutes,
            hours: hours as u32,
            days: days as u32,
            months: months as u16,
            weekdays: weekdays as u8,
            day_or_weekday: !day_star && !weekday_star,
        })
    }

    fn fires_on(&self, day: &Civil) -> bool {
        if self.months & (1 << day.month) == 0 {
            return false;
        }
        let d = self.days & (1 << day.day) != 0;
        let w = self.weekdays & (1 << day.weekday) != 0;
        if self.day_or_weekday { d || w } else { d && w }
    }

    /// The firing times (unix seconds) from `from` (inclusive) to `to` (exclusive).
    fn firings(&self, from: i64, to: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut day = from.div_euclid(86_400);
        while day * 86_400 < to {
            let c = civil(day);
            if self.fires_on(&c) {
                for h in 0..24 {
                    if self.hours & (1 << h) == 0 {
                        continue;
                    }
                    for m in 0..60 {
                        if self.minutes & (1 << m) == 0 {
                            continue;
                        }
                        let t = day * 86_400 + h * 3600 + m * 60;
                        if t >= from && t < to {
                            out.push(t);
                        }
                    }
                }
            }
            day += 1;
        }
        out
    }

    /// The longest time between two backups, in seconds, over the next four years from
    /// `now` (so that `0 3 29 2 *` counts its leap years); `None` when it never fires.
    pub fn interval(&self, now: i64) -> Option<i64> {
        let f = self.firings(now, now + 4 * 366 * 86_400 + 86_400);
        match f.len() {
            0 => None,
            1 => Some(4 * 366 * 86_400),
            _ => f.windows(2).map(|w| w[1] - w[0]).max(),
        }
    }
}

struct Civil {
    month: u32,
    day: u32,
    /// 0 = Sunday.
    weekday: u32,
}

/// Month, day and weekday of a day number (days since 1970-01-01).
fn civil(days: i64) -> Civil {
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    // 1970-01-01 was a Thursday.
    let weekday = (days + 4).rem_euclid(7) as u32;
    Civil {
        month,
        day,
        weekday,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    // 2026-11-27T00:00:00Z, a Friday.
    const NOW: i64 = 1_795_737_600;

    fn interval(s: &str) -> i64 {
        Schedule::parse(s).unwrap().interval(NOW).unwrap()
    }

    #[test]
    fn common_schedules_have_their_interval() {
        assert_eq!(interval("0 3 * * *"), DAY);
        assert_eq!(interval("@daily"), DAY);
        assert_eq!(interval("@hourly"), 3600);
        assert_eq!(interval("*/15 * * * *"), 900);
        assert_eq!(interval("30 */6 * * *"), 6 * 3600);
        assert_eq!(interval("0 2 * * sun"), 7 * DAY);
        assert_eq!(interval("@weekly"), 7 * DAY);
        // Weekdays only: the weekend makes the longest gap.
        assert_eq!(interval("0 1 * * MON-FRI"), 3 * DAY);
        // Monthly: the longest month.
        assert_eq!(interval("0 0 1 * *"), 31 * DAY);
        assert_eq!(interval("0 4 1,15 * *"), 17 * DAY);
    }

    #[test]
    fn day_of_month_and_weekday_together_fire_on_either() {
        // The 1st of the month or any Monday.
        let s = Schedule::parse("0 0 1 * 1").unwrap();
        let f = s.firings(NOW, NOW + 40 * DAY);
        // 2026-11-30 (Monday), 2026-12-01 (the 1st), then Mondays.
        assert_eq!(f[0], NOW + 3 * DAY);
        assert_eq!(f[1], NOW + 4 * DAY);
        assert_eq!(f[2], NOW + 10 * DAY);
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let e = |s: &str| Schedule::parse(s).unwrap_err();
        assert!(e("0 3 * *").contains("has 4 fields"), "{}", e("0 3 * *"));
        assert!(e("61 3 * * *").contains("minute 61 is out of range 0–59"));
        assert!(e("0 3 * * 7").contains("Sunday is 0"));
        assert!(e("0 25 * * *").contains("hour 25"));
        assert!(e("0 3 * foo *").contains("not a month"));
        assert!(e("0 3 5-1 * *").contains("runs backwards"));
        assert!(e("*/0 * * * *").contains("not a step"));
        assert!(e("@every 1h").contains("not a schedule Kubernetes takes"));
        assert!(e("TZ=UTC 0 3 * * *").contains("time zone"));
    }

    #[test]
    fn a_schedule_that_never_fires_has_no_interval() {
        assert_eq!(Schedule::parse("0 0 31 2 *").unwrap().interval(NOW), None);
        // February 29th: once in four years.
        assert!(interval("0 0 29 2 *") >= 365 * DAY);
    }

    #[test]
    fn civil_dates() {
        let c = civil(NOW / DAY);
        assert_eq!((c.month, c.day, c.weekday), (11, 27, 5));
        let c = civil(0);
        assert_eq!((c.month, c.day, c.weekday), (1, 1, 4));
    }
}
