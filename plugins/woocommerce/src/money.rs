//! Exact decimal amounts for order arithmetic (line totals, refund splits, the remaining
//! refundable total): WooCommerce sends and takes money as decimal strings, and a float would
//! round a cent away. Six decimal places cover every currency and WooCommerce's own
//! `woocommerce_price_num_decimals` settings.

use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// Decimal places kept.
const SCALE: u32 = 6;
const ONE: i128 = 10i128.pow(SCALE);

/// An amount in millionths of a currency unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Amount(i128);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// Parses `"12"`, `"12.5"`, `"-3.00"`; none for anything else (thousands separators,
    /// exponents, more than six decimals).
    pub fn parse(text: &str) -> Option<Amount> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty()
            || !numeric(whole)
            || !numeric(fraction)
            || fraction.len() > SCALE as usize
            || whole.len() > 20
        {
            return None;
        }
        let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let padded = format!("{fraction:0<width$}", width = SCALE as usize);
        let fraction: i128 = padded.parse().ok()?;
        let value = whole * ONE + fraction;
        Some(Amount(if negative { -value } else { value }))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Amount {
        Amount(self.0.abs())
    }

    /// `self × numerator ÷ denominator`, rounded half away from zero to cents. None when the
    /// denominator is zero.
    pub fn share(self, numerator: u32, denominator: u32) -> Option<Amount> {
        if denominator == 0 {
            return None;
        }
        let exact = self.0 * i128::from(numerator);
        let cent = ONE / 100;
        let step = cent * i128::from(denominator);
        let cents = (exact.abs() + step / 2) / step;
        Some(Amount(exact.signum() * cents * cent))
    }
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        Amount(self.0 + other.0)
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, other: Amount) -> Amount {
        Amount(self.0 - other.0)
    }
}

impl Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl Mul<u32> for Amount {
    type Output = Amount;
    fn mul(self, n: u32) -> Amount {
        Amount(self.0 * i128::from(n))
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Add::add)
    }
}

/// At least two decimals, trailing zeros past them dropped: `12.50`, `0.125`, `-3.00`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let whole = self.0.abs() / ONE;
        let fraction = format!("{:0width$}", self.0.abs() % ONE, width = SCALE as usize);
        let trimmed = fraction.trim_end_matches('0');
        let fraction = if trimmed.len() < 2 { &fraction[..2] } else { trimmed };
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Amount {
        Amount::parse(text).expect("a decimal")
    }

    #[test]
    fn decimals_parse_and_print_with_at_least_cents() {
        assert_eq!(a("12.5").to_string(), "12.50");
        assert_eq!(a("12").to_string(), "12.00");
        assert_eq!(a("-3.00").to_string(), "-3.00");
        assert_eq!(a("0.125").to_string(), "0.125");
        assert_eq!(a(".5").to_string(), "0.50");
        assert_eq!(a(" 7.10 ").to_string(), "7.10");
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in ["", "-", ".", "1,000.00", "1e3", "12.3456789", "abc", "1.2.3", "--1"] {
            assert_eq!(Amount::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!((a("0.10") + a("0.20")).to_string(), "0.30");
        assert_eq!((a("19.99") * 3).to_string(), "59.97");
        assert_eq!((a("10") - a("12.5")).to_string(), "-2.50");
        assert_eq!([a("1.10"), a("2.20")].into_iter().sum::<Amount>(), a("3.3"));
    }

    #[test]
    fn shares_round_to_cents_half_away_from_zero() {
        assert_eq!(a("10.00").share(1, 3), Some(a("3.33")));
        assert_eq!(a("10.00").share(2, 3), Some(a("6.67")));
        assert_eq!(a("0.05").share(1, 2), Some(a("0.03")));
        assert_eq!(a("-0.05").share(1, 2), Some(a("-0.03")));
        assert_eq!(a("10.00").share(1, 0), None);
    }
}
