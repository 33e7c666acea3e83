//! Exact arithmetic on the contract's decimal amounts (`"12.50"`), without a decimal crate:
//! an amount becomes an integer count of `10^-scale` units, every amount of one order is
//! brought to the same scale, and results are written back with that many decimals.

/// Largest number of decimals accepted; no currency uses more than 4.
pub const MAX_SCALE: u32 = 6;

/// A decimal amount as written: `units × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    units: i128,
    scale: u32,
}

impl Amount {
    /// Reads `"12.50"`, `"-3"`, `"0.5"`; none for anything else (exponents, commas, spaces
    /// inside, more than [`MAX_SCALE`] decimals).
    pub fn parse(text: &str) -> Option<Amount> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || whole.len() > 24 {
            return None;
        }
        if digits.contains('.') && fraction.is_empty() {
            return None;
        }
        let scale = u32::try_from(fraction.len()).ok().filter(|s| *s <= MAX_SCALE)?;
        let units: i128 = format!("{whole}{fraction}").parse().ok()?;
        Some(Amount { units: if negative { -units } else { units }, scale })
    }

    /// Decimals as written.
    pub fn scale(self) -> u32 {
        self.scale
    }

    /// The amount in units of `10^-scale`; `scale` must be at least the amount's own.
    pub fn at(self, scale: u32) -> i128 {
        self.units * 10i128.pow(scale.saturating_sub(self.scale))
    }
}

/// `units × 10^-scale` written with exactly `scale` decimals (`1250, 2` → `"12.50"`).
pub fn format(units: i128, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let digits = units.unsigned_abs().to_string();
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// `numerator / denominator` rounded half up to `decimals` places, written out and trimmed of
/// trailing zeros (`0.0825`); `"0"` when the denominator is not positive.
pub fn ratio(numerator: i128, denominator: i128, decimals: u32) -> String {
    if denominator <= 0 || numerator <= 0 {
        return "0".into();
    }
    let scaled = (numerator * 10i128.pow(decimals) * 2 + denominator) / (denominator * 2);
    let text = format(scaled, decimals);
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_units_at_their_own_scale() {
        assert_eq!(Amount::parse("12.50"), Some(Amount { units: 1250, scale: 2 }));
        assert_eq!(Amount::parse(" 3 "), Some(Amount { units: 3, scale: 0 }));
        assert_eq!(Amount::parse("-0.5"), Some(Amount { units: -5, scale: 1 }));
        assert_eq!(Amount::parse("0.0825").map(|a| a.scale()), Some(4));
        for bad in ["", "-", "1.", ".5", "1,50", "1e3", "12.5.0", "abc", "1.1234567", "+1"] {
            assert_eq!(Amount::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn amounts_rescale_and_format_exactly() {
        let amount = Amount::parse("12.5").expect("parses");
        assert_eq!(amount.at(2), 1250);
        assert_eq!(format(amount.at(2), 2), "12.50");
        assert_eq!(format(5, 2), "0.05");
        assert_eq!(format(-105, 2), "-1.05");
        assert_eq!(format(1200, 0), "1200");
        assert_eq!(format(0, 2), "0.00");
    }

    #[test]
    fn ratios_round_half_up_and_trim() {
        assert_eq!(ratio(825, 10_000, 6), "0.0825");
        assert_eq!(ratio(1, 3, 4), "0.3333");
        assert_eq!(ratio(2, 3, 4), "0.6667");
        assert_eq!(ratio(10, 10, 6), "1");
        assert_eq!(ratio(5, 0, 6), "0");
        assert_eq!(ratio(0, 7, 6), "0");
    }
}
