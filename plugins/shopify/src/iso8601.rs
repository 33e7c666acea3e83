//! ISO 8601 / RFC 3339 timestamps (`2026-01-15T10:00:00Z`, `2026-01-15T12:00:00.123+02:00`) to Unix
//! milliseconds and back, without a date-time crate: Shopify's `DateTime` scalar is all we read,
//! and its search syntax (`updated_at:>=…`) all we write.

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

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ`, the whole second at or before the instant (a
/// `>=` search from it includes the instant itself).
pub fn format_seconds(millis: i64) -> String {
    let seconds = millis.div_euclid(1_000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<u32> {
    let part = s.get(..n)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)` into Unix milliseconds.
/// A zone is required: a local time without one names no instant.
pub fn parse_millis(text: &str) -> Option<i64> {
    let s = text.trim();
    let year = i64::from(digits(s, 4)?);
    let month = digits(s.get(5..)?, 2)?;
    let day = digits(s.get(8..)?, 2)?;
    if s.as_bytes().get(4) != Some(&b'-') || s.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(s.get(11..)?, 2)?;
    let minute = digits(s.get(14..)?, 2)?;
    let second = digits(s.get(17..)?, 2)?;
    if s.as_bytes().get(13) != Some(&b':') || s.as_bytes().get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }

    let mut rest = s.get(19..)?;
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        // Milliseconds from the first three digits; finer digits are dropped.
        let mut scaled = 0i64;
        for (i, b) in fraction[..len].bytes().take(3).enumerate() {
            scaled += i64::from(b - b'0') * 10i64.pow(2 - i as u32);
        }
        millis = scaled;
        rest = &fraction[len..];
    }

    let offset_minutes: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let zone = &rest[1..];
            let (hours, minutes) = match zone.len() {
                5 if zone.as_bytes()[2] == b':' => (digits(zone, 2)?, digits(&zone[3..], 2)?),
                4 => (digits(zone, 2)?, digits(&zone[2..], 2)?),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * i64::from(hours * 60 + minutes)
        }
    };

    // A leap second (`:60`) reads as the next second, as most systems do.
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3_600
        + i64::from(minute) * 60
        + i64::from(second)
        - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

#[cfg(test)]
mod tests {
    use super::{format_seconds, parse_millis};

    #[test]
    fn millis_format_as_utc_seconds_and_parse_back() {
        assert_eq!(format_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_seconds(1_768_471_200_999), "2026-01-15T10:00:00Z");
        assert_eq!(format_seconds(951_868_799_000), "2000-02-29T23:59:59Z");
        assert_eq!(format_seconds(-1), "1969-12-31T23:59:59Z");
        for millis in [0, 86_399_000, 1_709_164_800_000, 4_102_444_800_000, -86_400_000] {
            assert_eq!(parse_millis(&format_seconds(millis)), Some(millis), "{millis}");
        }
    }

    #[test]
    fn utc_timestamps_parse_to_unix_millis() {
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_millis("2026-01-15T10:00:00Z"), Some(1_768_471_200_000));
        assert_eq!(parse_millis("2000-02-29T23:59:59Z"), Some(951_868_799_000));
        assert_eq!(parse_millis("1969-12-31T23:59:59Z"), Some(-1_000));
    }

    #[test]
    fn fractions_and_offsets_are_honoured() {
        assert_eq!(parse_millis("2026-01-15T10:00:00.123Z"), Some(1_768_471_200_123));
        assert_eq!(parse_millis("2026-01-15T10:00:00.5Z"), Some(1_768_471_200_500));
        assert_eq!(parse_millis("2026-01-15T10:00:00.123456789Z"), Some(1_768_471_200_123));
        assert_eq!(parse_millis("2026-01-15T12:00:00+02:00"), Some(1_768_471_200_000));
        assert_eq!(parse_millis("2026-01-15T05:00:00-0500"), Some(1_768_471_200_000));
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in [
            "",
            "2026-01-15",
            "2026-01-15T10:00:00",
            "2026-02-30T10:00:00Z",
            "2025-02-29T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-01-15T24:00:00Z",
            "2026-01-15T10:00:00.Z",
            "2026-01-15T10:00:00+2:00",
            "2026/01/15T10:00:00Z",
            "yesterday at noon",
        ] {
            assert_eq!(parse_millis(bad), None, "{bad:?}");
        }
    }
}
