//! ISO 8601 timestamps as Shopify writes them (`2026-01-15T10:00:00Z`, UTC, whole seconds),
//! and the parser the search syntax needs for `updated_at:>'…'`.

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds for a UTC date and time.
pub fn unix_seconds(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second)
}

/// `2026-01-15T10:00:00Z`.
pub fn format(unix_seconds: i64) -> String {
    let (year, month, day) = civil_from_days(unix_seconds.div_euclid(86_400));
    let secs = unix_seconds.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` or the same without a zone
/// (read as UTC) into Unix seconds; fractions are dropped.
pub fn parse(text: &str) -> Option<i64> {
    let text = text.trim();
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year = i64::from(num(parts.next()?)?);
    let month = num(parts.next()?)?;
    let day = num(parts.next()?)?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let Some(rest) = rest else {
        return Some(unix_seconds(year, month, day, 0, 0, 0));
    };
    let (clock, offset_secs) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (clock, zone) = rest.split_at(i);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = zone[1..].replace(':', "");
        if zone.len() != 4 {
            return None;
        }
        let hours = num(&zone[..2])?;
        let minutes = num(&zone[2..])?;
        (clock, sign * i64::from(hours * 3600 + minutes * 60))
    } else {
        (rest, 0)
    };
    let clock = clock.split('.').next()?;
    let mut fields = clock.split(':');
    let hour = num(fields.next()?)?;
    let minute = num(fields.next()?)?;
    let second = match fields.next() {
        Some(s) => num(s)?,
        None => 0,
    };
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(unix_seconds(year, month, day, hour, minute, second) - offset_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for secs in [0, 951_782_400, 1_768_471_200, 4_102_444_799] {
            assert_eq!(parse(&format(secs)), Some(secs), "{}", format(secs));
        }
        assert_eq!(format(1_768_471_200), "2026-01-15T10:00:00Z");
    }

    #[test]
    fn parses_offsets_fractions_and_dates() {
        assert_eq!(parse("2026-01-15T12:00:00+02:00"), Some(1_768_471_200));
        assert_eq!(parse("2026-01-15T10:00:00.123Z"), Some(1_768_471_200));
        assert_eq!(parse("2026-01-15"), Some(1_768_435_200));
        assert_eq!(parse("2026-13-01"), None);
        assert_eq!(parse("yesterday"), None);
    }
}
