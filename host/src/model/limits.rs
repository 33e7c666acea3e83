//! The bounds every number entering at the edge (API bodies, `crossdock.toml`, platform
//! amounts) is checked against, so that arithmetic on them (stock shares, exchange rates,
//! money) can never overflow. One place, so docs/api.md's "Bad input" table has one source.

use rust_decimal::Decimal;
use std::fmt::Display;

/// Most stock units a channel may hold back.
pub const MAX_STOCK_BUFFER: i64 = 1_000_000_000;
/// Largest stock share of one channel (shares are relative: 1, 2, 3… usually).
pub const MAX_STOCK_SHARE: i64 = 1_000_000;
/// Largest and smallest exchange rates (channel currency per unit of store currency): the
/// widest real pair (IRR per KWD) is about 10^5.
pub const MAX_EXCHANGE_RATE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
pub const MIN_EXCHANGE_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 6);
/// Largest amount of money in absolute value (10^15), so sums, quantities times prices and
/// conversions at any allowed rate stay far inside `Decimal`'s range (about 7.9 × 10^28).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// A value outside its allowed range, named by its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {value} is out of range; allowed {allowed}")]
pub struct FieldError {
    /// The field as the caller wrote it (`stock_share`, `rate`, `channels[0].stock-share`).
    pub field: String,
    pub value: String,
    /// The range in words (`0 to 1000000`).
    pub allowed: String,
}

/// Checks `min <= value <= max`.
pub fn check_range<T: PartialOrd + Display>(field: &str, value: T, min: T, max: T) -> Result<T, FieldError> {
    if value < min || value > max {
        return Err(FieldError {
            field: field.to_string(),
            value: value.to_string(),
            allowed: format!("{min} to {max}"),
        });
    }
    Ok(value)
}

/// Checks an exchange rate: above zero, within [`MIN_EXCHANGE_RATE`, `MAX_EXCHANGE_RATE`].
pub fn check_exchange_rate(field: &str, rate: Decimal) -> Result<Decimal, FieldError> {
    check_range(field, rate, MIN_EXCHANGE_RATE, MAX_EXCHANGE_RATE)
}

/// Checks a channel's stock buffer and share.
pub fn check_stock(prefix: &str, buffer: i64, share: i64) -> Result<(), FieldError> {
    check_range(&format!("{prefix}stock_buffer"), buffer, 0, MAX_STOCK_BUFFER)?;
    check_range(&format!("{prefix}stock_share"), share, 0, MAX_STOCK_SHARE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_say_what_their_names_say() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000_i64));
        assert_eq!(MIN_EXCHANGE_RATE.to_string(), "0.000001");
        assert_eq!(MAX_EXCHANGE_RATE, Decimal::from(1_000_000));
    }

    #[test]
    fn values_out_of_range_are_refused_with_their_field_and_the_range() {
        let e = check_stock("", 0, i64::MAX).expect_err("refused");
        assert_eq!(e.field, "stock_share");
        assert_eq!(e.to_string(), "stock_share: 9223372036854775807 is out of range; allowed 0 to 1000000");
        assert_eq!(check_stock("", -1, 1).expect_err("refused").field, "stock_buffer");
        let huge: Decimal = "1000000000000000000000000000".parse().expect("decimal");
        assert_eq!(check_exchange_rate("rate", huge).expect_err("refused").field, "rate");
        assert!(check_exchange_rate("rate", Decimal::ZERO).is_err());
        assert!(check_exchange_rate("rate", "0.79".parse().expect("decimal")).is_ok());
        assert!(check_stock("", MAX_STOCK_BUFFER, MAX_STOCK_SHARE).is_ok());
    }

    #[test]
    fn the_worst_allowed_values_cannot_overflow_the_arithmetic_done_on_them() {
        // The largest amount times the largest quantity; a conversion at the smallest rate of
        // the largest amount, and a sum of 10,000 of them.
        assert!(MAX_AMOUNT.checked_mul(Decimal::from(u32::MAX)).is_some());
        let converted = MAX_AMOUNT.checked_div(MIN_EXCHANGE_RATE).expect("fits");
        assert!(converted.checked_mul(Decimal::from(10_000)).is_some());
        // All shares of 10,000 channels added up.
        assert!(MAX_STOCK_SHARE.checked_mul(10_000).is_some());
    }
}
