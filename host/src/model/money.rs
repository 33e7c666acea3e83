//! Money as a decimal amount plus an ISO 4217 currency; never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An upper-case ISO 4217 code, checked once at the edge.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

/// Why a money value could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code (three letters, e.g. USD)")]
    Currency(String),
    #[error("`{0}` is not a decimal amount")]
    Amount(String),
    #[error("amount `{0}` is out of range (at most 10^15 either way)")]
    OutOfRange(String),
}

impl Currency {
    pub fn new(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(upper))
        } else {
            Err(MoneyError::Currency(code.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::new(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(with = "String")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// Parses a decimal string such as `"19.90"`.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        let value = Decimal::from_str(amount.trim()).map_err(|_| MoneyError::Amount(amount.to_string()))?;
        // Bounded at the edge so that sums and conversions of amounts can never overflow.
        if value.abs() > super::limits::MAX_AMOUNT {
            return Err(MoneyError::OutOfRange(amount.to_string()));
        }
        Ok(Money { amount: value, currency: Currency::new(currency)? })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_decimal_strings_exactly() {
        let m = Money::parse("19.90", "usd").expect("valid");
        assert_eq!(m.amount.to_string(), "19.90");
        assert_eq!(m.currency.as_str(), "USD");
    }

    #[test]
    fn bad_currency_and_amount_are_refused_with_the_value() {
        assert_eq!(Money::parse("1", "US"), Err(MoneyError::Currency("US".into())));
        assert_eq!(Money::parse("1,5", "EUR"), Err(MoneyError::Amount("1,5".into())));
        let huge = "79228162514264337593543950335";
        assert_eq!(Money::parse(huge, "EUR"), Err(MoneyError::OutOfRange(huge.into())));
    }
}
