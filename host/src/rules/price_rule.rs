//! The price rule: a variant's price on a channel, usually the store price converted with
//! the channel's exchange rate, marked up and rounded. Decimal throughout, never float.

use super::engine::RuleEngine;
use super::error::RuleError;
use super::product_rule::{ChannelFacts, product_map};
use super::script::{CompiledRule, RuleKind};
use super::verdict::Verdict;
use crate::model::{Currency, Money, Product, Variant};
use rhai::{Dynamic, Map, Scope};
use rust_decimal::Decimal;

/// Everything a price rule sees for one variant.
#[derive(Debug, Clone, Copy)]
pub struct PriceInput<'a> {
    pub product: &'a Product,
    pub variant: &'a Variant,
    /// Units of channel currency per unit of store currency.
    pub rate: Decimal,
    pub channel: &'a ChannelFacts,
    pub channel_currency: &'a Currency,
}

/// The price decided for one variant on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceOutcome {
    Price { price: Money, compare_at: Option<Money> },
    Skip(String),
}

/// A compiled price rule.
#[derive(Debug, Clone)]
pub struct PriceRule(pub CompiledRule);

impl PriceRule {
    pub fn compile(engine: &RuleEngine, label: &str, version: i64, source: &str) -> Result<Self, RuleError> {
        CompiledRule::compile(engine, RuleKind::Price, label, version, source).map(PriceRule)
    }

    pub fn apply(&self, engine: &RuleEngine, input: PriceInput<'_>) -> Result<PriceOutcome, RuleError> {
        let v = input.variant;
        let record = format!("product {} / SKU {}", input.product.external_id, v.sku);
        let mut scope = Scope::new();
        scope.push_dynamic("price", Dynamic::from_decimal(v.price.amount));
        scope.push_dynamic(
            "compare_at",
            v.compare_at_price.as_ref().map(|c| Dynamic::from_decimal(c.amount)).unwrap_or(Dynamic::UNIT),
        );
        scope.push_dynamic("rate", Dynamic::from_decimal(input.rate));
        scope.push("currency", input.channel_currency.to_string());
        scope.push("store_currency", v.price.currency.to_string());
        scope.push("sku", v.sku.clone());
        scope.push_dynamic("product", product_map(input.product));
        scope.push_dynamic("channel", input.channel.to_dynamic());
        let result = self.0.eval(engine, &mut scope, &record)?;
        let fail = |m: String| RuleError::result(&self.0.label, &record, m);
        let money = |d: Decimal, what: &str| {
            if d <= Decimal::ZERO {
                Err(fail(format!("{what} must be above zero, got {d}")))
            } else if d > crate::model::limits::MAX_AMOUNT {
                Err(fail(format!("{what} {d} is out of range (at most 10^15)")))
            } else {
                Ok(Money::new(d, input.channel_currency.clone()))
            }
        };
        if let Some(verdict) = result.clone().try_cast::<Verdict>() {
            return match verdict {
                Verdict::Skip(reason) | Verdict::Hold(reason) => Ok(PriceOutcome::Skip(reason)),
                Verdict::Keep => Err(fail("a price rule returns a price, not keep()".into())),
            };
        }
        if let Some(map) = result.clone().try_cast::<Map>() {
            let price = map
                .get("price")
                .and_then(as_decimal)
                .ok_or_else(|| fail("the returned map needs a decimal `price`".into()))?;
            let compare_at = match map.get("compare_at") {
                None => None,
                Some(d) if d.is_unit() => None,
                Some(d) => Some(as_decimal(d).ok_or_else(|| fail("`compare_at` must be a decimal".into()))?),
            };
            return Ok(PriceOutcome::Price {
                price: money(price, "price")?,
                compare_at: compare_at.map(|c| money(c, "compare_at")).transpose()?,
            });
        }
        match as_decimal(&result) {
            Some(price) => Ok(PriceOutcome::Price { price: money(price, "price")?, compare_at: None }),
            None => Err(fail(format!(
                "a price rule must return a decimal price, a map #{{price, compare_at}} or skip(reason); it returned {}",
                result.type_name()
            ))),
        }
    }
}

fn as_decimal(d: &Dynamic) -> Option<Decimal> {
    if let Some(x) = d.clone().try_cast::<Decimal>() {
        return Some(x);
    }
    d.as_int().ok().map(Decimal::from)
}
