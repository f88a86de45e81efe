//! Timestamp parsing: unix seconds and the common date formats of shop exports.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Parse a timestamp in one of the automatically recognised forms into unix seconds (UTC).
///
/// Recognised, in this order:
/// * a number: unix seconds (`1199145600`, `1199145600.5` is floored). Values of 10¹¹ and more
///   are taken as milliseconds and values of 10¹⁴ and more as microseconds (exports such as
///   RetailRocket write milliseconds);
/// * `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD`
///   (optionally with a fraction of a second), read as UTC;
/// * RFC 3339 (`2011-12-09T12:50:00Z`, `2011-12-09T12:50:00+08:00`);
/// * `%m/%d/%Y %H:%M` (the original UCI Online Retail export, `12/1/2010 8:26`),
///   `%m/%d/%Y %H:%M:%S`, `%m/%d/%Y`;
/// * `%d-%b-%Y` (MovieLens release dates, `01-Jan-1995`).
///
/// Returns `None` for anything else (and for the empty string).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_unix(s) {
        return Some(t);
    }
    if let Some(t) = parse_iso_fast(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp());
    }
    const DATETIME: [&str; 5] =
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S"];
    for f in DATETIME {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some(dt.and_utc().timestamp());
        }
    }
    const DATE: [&str; 3] = ["%m/%d/%Y", "%d-%b-%Y", "%Y/%m/%d"];
    for f in DATE {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
        }
    }
    None
}

/// Parse with an explicit format: `unix` (seconds), `unix_ms` (milliseconds), or a chrono
/// format string. A format without a time of day is read as midnight UTC; one with `%z` or
/// `%:z` honours the offset.
pub fn parse_with_format(s: &str, format: &str) -> Option<i64> {
    let s = s.trim();
    match format {
        "unix" | "unix_s" | "seconds" => {
            return s
                .parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
        }
        "unix_ms" | "ms" | "millis" => return s.parse::<i64>().ok().map(|ms| ms.div_euclid(1000)),
        _ => {}
    }
    if let Ok(dt) = DateTime::parse_from_str(s, format) {
        return Some(dt.timestamp());
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
        return Some(dt.and_utc().timestamp());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, format) {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    None
}

/// Integer or decimal unix time, with millisecond / microsecond detection.
fn parse_unix(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || !digits[0].is_ascii_digit() || !digits.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return None;
    }
    let n: i64 = match s.parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            let f: f64 = s.parse().ok()?;
            if !f.is_finite() || f.abs() > 9.0e18 {
                return None;
            }
            f.floor() as i64
        }
    };
    Some(if n.abs() >= 100_000_000_000_000 {
        n.div_euclid(1_000_000)
    } else if n.abs() >= 100_000_000_000 {
        n.div_euclid(1000)
    } else {
        n
    })
}

fn num(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS]]` without offset or fraction, as UTC. The hot path of CSV
/// imports, so no chrono parsing.
fn parse_iso_fast(b: &[u8]) -> Option<i64> {
    if !(b.len() == 10 || b.len() == 16 || b.len() == 19) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&b[0..4])? as i64, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = 0i64;
    if b.len() > 10 {
        if !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' {
            return None;
        }
        let (h, mi) = (num(&b[11..13])?, num(&b[14..16])?);
        let s = if b.len() == 19 {
            if b[16] != b':' {
                return None;
            }
            num(&b[17..19])?
        } else {
            0
        };
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
        secs = (h * 3600 + mi * 60 + s) as i64;
    }
    Some(days_from_civil(y, m, d) * 86_400 + secs)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Per-file timestamp parser: the configured format or auto, with a one-entry cache (exports
/// repeat the same timestamp on every line of an order).
pub struct TimeParser {
    format: Option<String>,
    last_in: String,
    last_out: Option<i64>,
    cached: bool,
}

impl TimeParser {
    pub fn new(format: Option<&str>) -> Self {
        TimeParser { format: format.map(str::to_owned), last_in: String::new(), last_out: None, cached: false }
    }

    pub fn parse(&mut self, s: &str) -> Option<i64> {
        if self.cached && self.last_in == s {
            return self.last_out;
        }
        let out = match &self.format {
            Some(f) => parse_with_format(s, f),
            None => parse_time(s),
        };
        self.last_in.clear();
        self.last_in.push_str(s);
        self.last_out = out;
        self.cached = true;
        out
    }
}
