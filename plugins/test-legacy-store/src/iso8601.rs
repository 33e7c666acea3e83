//! Shopify's `DateTime` scalar (`2026-01-15T10:00:00Z`, `2026-01-15T12:00:00.123+02:00`) to Unix
//! milliseconds, without a date-time crate.

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

/// Exactly the ASCII digits of `s[from..from + len]`.
fn number(s: &str, from: usize, len: usize) -> Option<u32> {
    let part = s.get(from..from + len)?;
    part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok()).flatten()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into Unix milliseconds. A zone is
/// required: a local time without one names no instant.
pub fn parse_millis(text: &str) -> Option<i64> {
    let s = text.trim();
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, c)| s.as_bytes().get(at) != Some(&c))
        || !matches!(s.as_bytes().get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let (year, month, day) = (number(s, 0, 4)?, number(s, 5, 2)?, number(s, 8, 2)?);
    let (hour, minute, second) = (number(s, 11, 2)?, number(s, 14, 2)?, number(s, 17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        // Milliseconds from the first three digits; finer ones are dropped.
        millis = fraction[..len]
            .bytes()
            .take(3)
            .enumerate()
            .map(|(i, b)| i64::from(b - b'0') * 10i64.pow(2 - i as u32))
            .sum();
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if zone.len() != 6 || zone.as_bytes().get(3) != Some(&b':') {
                return None;
            }
            let (hours, minutes) = (number(zone, 1, 2)?, number(zone, 4, 2)?);
            sign * i64::from(hours * 60 + minutes)
        }
    };
    let seconds = days_from_civil(i64::from(year), month, day) * 86_400
        + i64::from(hour * 3_600 + minute * 60 + second)
        - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_times_read_as_unix_milliseconds() {
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_millis("2026-01-15T10:00:00Z"), Some(1_768_471_200_000));
        assert_eq!(parse_millis("2026-01-15T12:00:00.123456+02:00"), Some(1_768_471_200_123));
        assert_eq!(parse_millis("2026-01-15T05:00:00-05:00"), Some(1_768_471_200_000));
        assert_eq!(parse_millis("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_millis("1970-01-01T00:00:00.5+00:00"), Some(500), "a short fraction");
    }

    #[test]
    fn times_without_a_zone_or_malformed_are_refused() {
        for bad in [
            "2026-01-15T10:00:00",
            "2026-01-15",
            "2026-13-01T00:00:00Z",
            "2026-01-15T10:00:00.Z",
            "2026-01-15T10:00:00+0200",
            "2026/01/15T10:00:00Z",
            "soon",
            "",
        ] {
            assert_eq!(parse_millis(bad), None, "{bad}");
        }
    }
}
