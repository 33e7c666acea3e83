//! Shopify's custom scalars as the sandbox reads and writes them: `Money`, `Decimal`,
//! `DateTime`, `URL`, `UnsignedInt64`, and the `CurrencyCode` and `CountryCode` enums (served
//! as scalars that accept both an enum literal, `USD`, and a string from variables, `"USD"`).

use super::timestamp;
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Shopify's `Money`: a decimal string without currency (`"19.99"`).
#[derive(Debug, Clone, Copy)]
pub struct Money(pub Decimal);

#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                Decimal::from_str(s).map(Money).map_err(|_| InputValueError::expected_type(value))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }
    fn to_value(&self) -> Value {
        let mut amount = self.0;
        if amount.scale() < 2 {
            amount.rescale(2);
        }
        Value::String(amount.to_string())
    }
}

/// Shopify's `DateTime`: ISO 8601 in UTC (`2026-01-15T10:00:00Z`).
#[derive(Debug, Clone, Copy)]
pub struct DateTime(pub i64);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                timestamp::parse(s).map(DateTime).ok_or_else(|| InputValueError::expected_type(value))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }
    fn to_value(&self) -> Value {
        Value::String(timestamp::format(self.0))
    }
}

/// Shopify's `URL`.
#[derive(Debug, Clone)]
pub struct Url(pub String);

#[Scalar(name = "URL")]
impl ScalarType for Url {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Url(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }
    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// Shopify's `UnsignedInt64`: a count written as a decimal string (`"10000"`), so clients
/// whose JSON numbers are doubles read it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsignedInt64(pub u64);

#[Scalar(name = "UnsignedInt64")]
impl ScalarType for UnsignedInt64 {
    fn parse(value: Value) -> InputValueResult<Self> {
        let parsed = match &value {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        parsed.map(UnsignedInt64).ok_or_else(|| InputValueError::expected_type(value))
    }
    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// Shopify's `Decimal` input: a decimal string (`"19.99"`); a JSON number is accepted too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecimalValue(pub Decimal);

#[Scalar(name = "Decimal")]
impl ScalarType for DecimalValue {
    fn parse(value: Value) -> InputValueResult<Self> {
        let parsed = match &value {
            Value::String(s) => Decimal::from_str(s).ok(),
            Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
            _ => None,
        };
        parsed.map(DecimalValue).ok_or_else(|| InputValueError::expected_type(value))
    }
    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An ISO code Shopify models as an enum (`CurrencyCode`, `CountryCode`): upper-case letters.
fn code(value: &Value, length: usize) -> Result<String, String> {
    let text = match value {
        Value::Enum(name) => name.as_str().to_string(),
        Value::String(s) => s.clone(),
        other => return Err(format!("expected a code, found {other}")),
    };
    if text.len() == length && text.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(text)
    } else {
        Err(format!("{text} is not a valid code"))
    }
}

/// Shopify's `CurrencyCode` enum (`USD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyCode(pub String);

#[Scalar(name = "CurrencyCode")]
impl ScalarType for CurrencyCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        code(&value, 3).map(CurrencyCode).map_err(InputValueError::custom)
    }
    fn to_value(&self) -> Value {
        Value::Enum(async_graphql::Name::new(&self.0))
    }
}

/// Shopify's `CountryCode` enum (`US`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(pub String);

#[Scalar(name = "CountryCode")]
impl ScalarType for CountryCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        code(&value, 2).map(CountryCode).map_err(InputValueError::custom)
    }
    fn to_value(&self) -> Value {
        Value::Enum(async_graphql::Name::new(&self.0))
    }
}
