//! Decimal amounts as TikTok writes them (`"12.50"`, reference §0), added exactly: a line's
//! discounts are summed over its units and money never passes through a float.

use std::fmt;

/// Fraction digits kept at most; TikTok's currencies use 0 to 2.
const MAX_SCALE: usize = 9;
/// Integer digits accepted at most, so sums of many amounts stay far inside `i128`.
const MAX_INTEGER_DIGITS: usize = 18;

/// `units / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amount {
    units: i128,
    scale: u32,
}

impl Amount {
    pub const ZERO: Amount = Amount { units: 0, scale: 0 };

    /// `"12.5"`, `"-3"`, `"0.00"`; none for anything else (empty, exponent, `1,5`).
    pub fn parse(text: &str) -> Option<Amount> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if integer.is_empty()
            || integer.len() > MAX_INTEGER_DIGITS
            || fraction.len() > MAX_SCALE
            || !all_digits(integer)
            || !all_digits(fraction)
            || (digits.contains('.') && fraction.is_empty())
        {
            return None;
        }
        let units: i128 = format!("{integer}{fraction}").parse().ok()?;
        let scale = u32::try_from(fraction.len()).ok()?;
        Some(Amount { units: if negative { -units } else { units }, scale })
    }

    /// The exact sum, at the larger of the two scales.
    pub fn add(self, other: Amount) -> Amount {
        let scale = self.scale.max(other.scale);
        Amount { units: self.rescaled(scale).saturating_add(other.rescaled(scale)), scale }
    }

    fn rescaled(self, scale: u32) -> i128 {
        self.units.saturating_mul(10i128.pow(scale - self.scale))
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Amount::add)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let digits = self.units.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (integer, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Amount {
        Amount::parse(text).unwrap_or_else(|| panic!("{text:?} parses"))
    }

    #[test]
    fn amounts_keep_their_written_scale() {
        for text in ["12.50", "0.05", "5000", "0", "-3.20", "0.000000001"] {
            assert_eq!(amount(text).to_string(), text);
        }
        assert_eq!(amount("+7").to_string(), "7");
    }

    #[test]
    fn sums_are_exact_at_the_larger_scale() {
        assert_eq!(amount("0.1").add(amount("0.2")).to_string(), "0.3");
        assert_eq!(amount("10").add(amount("5.55")).to_string(), "15.55");
        let total: Amount = ["19.99", "19.99", "19.99"].into_iter().map(amount).sum();
        assert_eq!(total.to_string(), "59.97");
        assert_eq!(amount("-0.50").add(amount("0.25")).to_string(), "-0.25");
        let empty: Amount = std::iter::empty().sum();
        assert_eq!(empty.to_string(), "0");
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for text in ["", " ", "1e3", "1,50", "1.", ".5", "--1", "12.3.4", "NaN", "0.0000000001"] {
            assert_eq!(Amount::parse(text), None, "{text:?}");
        }
    }
}
