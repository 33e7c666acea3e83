//! The order rule: does a channel order come into the store, held for a person, or not at
//! all, and with which tags and note. The script sees `order` and `channel` and ends with a
//! verdict; it may change `order.tags` (an array of strings) and `order.note` (a string).

use super::engine::RuleEngine;
use super::error::RuleError;
use super::product_rule::ChannelFacts;
use super::script::{CompiledRule, RuleKind};
use super::verdict::Verdict;
use crate::model::order::ChannelOrder;
use rhai::{Array, Dynamic, Map, Scope};

/// The rule a channel starts with: every order comes in as it is.
pub const DEFAULT_ORDER_RULE: &str = include_str!("../../../rules/order-default.rhai");

/// The decision about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderOutcome {
    /// Create it in the store with these tags and note.
    Keep { tags: Vec<String>, note: Option<String> },
    /// Do not import it.
    Skip(String),
    /// Wait for the merchant (retrying the order releases it through the rule again).
    Hold(String),
}

/// A compiled order rule.
#[derive(Debug, Clone)]
pub struct OrderRule(pub CompiledRule);

impl OrderRule {
    pub fn compile(engine: &RuleEngine, label: &str, version: i64, source: &str) -> Result<Self, RuleError> {
        CompiledRule::compile(engine, RuleKind::Order, label, version, source).map(OrderRule)
    }

    /// Runs the rule on an order; `tags` and `note` are what the order would carry without it.
    pub fn apply(
        &self,
        engine: &RuleEngine,
        order: &ChannelOrder,
        channel: &ChannelFacts,
        tags: &[String],
        note: Option<&str>,
    ) -> Result<OrderOutcome, RuleError> {
        let record = format!("order {}", order.id);
        let mut scope = Scope::new();
        scope.push("order", order_map(order, tags, note));
        scope.push("channel", channel.to_dynamic());
        let result = self.0.eval(engine, &mut scope, &record)?;
        let verdict = result.try_cast::<Verdict>().ok_or_else(|| {
            RuleError::result(
                &self.0.label,
                &record,
                "an order rule must end with keep(), skip(reason) or hold(reason)".into(),
            )
        })?;
        match verdict {
            Verdict::Skip(reason) => Ok(OrderOutcome::Skip(reason)),
            Verdict::Hold(reason) => Ok(OrderOutcome::Hold(reason)),
            Verdict::Keep => {
                let changed = scope.get_value::<Map>("order").ok_or_else(|| {
                    RuleError::result(&self.0.label, &record, "`order` must stay a map".into())
                })?;
                read_back(&changed).map_err(|m| RuleError::result(&self.0.label, &record, m))
            }
        }
    }
}

/// The order as a script sees it. Money is decimal; absent values are `()`.
fn order_map(o: &ChannelOrder, tags: &[String], note: Option<&str>) -> Dynamic {
    let mut m = Map::new();
    m.insert("id".into(), o.id.clone().into());
    m.insert("status".into(), o.status.clone().into());
    m.insert("stage".into(), o.stage.as_str().into());
    m.insert("currency".into(), o.totals.buyer_paid.currency.to_string().into());
    m.insert("buyer_paid".into(), Dynamic::from_decimal(o.totals.buyer_paid.amount));
    m.insert("subtotal".into(), Dynamic::from_decimal(o.totals.subtotal.amount));
    m.insert("shipping".into(), Dynamic::from_decimal(o.totals.shipping.amount));
    m.insert("tax".into(), Dynamic::from_decimal(o.totals.tax.amount));
    m.insert("seller_discount".into(), Dynamic::from_decimal(o.totals.seller_discount.amount));
    m.insert("platform_discount".into(), Dynamic::from_decimal(o.totals.platform_discount.amount));
    m.insert("shipped_by_platform".into(), (o.shipped_by == crate::model::order::ShippedBy::Platform).into());
    m.insert("buyer_email".into(), o.buyer_email.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    m.insert("buyer_message".into(), o.buyer_message.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT));
    m.insert(
        "country".into(),
        o.shipping_address.as_ref().map(|a| Dynamic::from(a.country_code.clone())).unwrap_or(Dynamic::UNIT),
    );
    let lines: Array = o
        .lines
        .iter()
        .map(|l| {
            let mut line = Map::new();
            line.insert("sku".into(), l.seller_sku.clone().into());
            line.insert("title".into(), l.title.clone().into());
            line.insert("quantity".into(), i64::from(l.quantity).into());
            line.insert("unit_price".into(), Dynamic::from_decimal(l.unit_price.amount));
            Dynamic::from(line)
        })
        .collect();
    m.insert("lines".into(), lines.into());
    m.insert("tags".into(), tags.iter().cloned().map(Dynamic::from).collect::<Array>().into());
    m.insert("note".into(), note.map(|n| Dynamic::from(n.to_string())).unwrap_or(Dynamic::UNIT));
    m.into()
}

fn read_back(m: &Map) -> Result<OrderOutcome, String> {
    let tags = match m.get("tags") {
        Some(tags) => tags
            .clone()
            .into_array()
            .map_err(|t| format!("order.tags must be an array, not {t}"))?
            .into_iter()
            .map(|t| t.into_string().map_err(|t| format!("order.tags must hold strings, not {t}")))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let note = match m.get("note") {
        Some(n) if n.is_unit() => None,
        Some(n) => {
            Some(n.clone().into_string().map_err(|t| format!("order.note must be a string, not {t}"))?)
        }
        None => None,
    };
    Ok(OrderOutcome::Keep { tags, note })
}
