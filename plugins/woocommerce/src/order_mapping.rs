//! WooCommerce orders and refunds as the contract's store orders. Pure functions over the REST
//! v3 JSON, tested natively.
//!
//! Mapping choices:
//! - the order's `number` (its id unless a sequential-numbers plugin renames it) is its name;
//! - `_crossdock_source` is the source identifier; a line's `_crossdock_line` meta is its
//!   source line id, and where a store drops line meta, the order's `_crossdock_lines`
//!   (`[{"variant", "line"}]`, written at create) names it by variant, in line order;
//! - a line's variant is its `variation_id`, else its `product_id` (the catalog's variant ids:
//!   a variation, or a simple product); 0 means the product is gone;
//! - `cancelled` is status `cancelled`; an order in `trash` reads as gone;
//! - fulfillments come from the Shipment Tracking meta (see [`crate::tracking`]); a
//!   `completed` order's lines that no tracking covers make one fulfillment without tracking,
//!   id `{order}:completed`, because WooCommerce core has no shipments of its own;
//! - refunds are `GET /orders/{id}/refunds` (their lines name the order line in
//!   `_refunded_item_id`), else the order's `refunds[]` summary without lines.

use crate::mapping::unix_millis;
use crate::money::Amount;
use crate::tracking;
use crossdock_plugin_sdk::store_orders::{StoreFulfillment, StoreOrder, StoreOrderLine, StoreRefund};
use crossdock_plugin_sdk::types::{ConnectorError, Money};
use serde::Deserialize;
use serde_json::Value;

/// Order meta: the source identifier the order was created with.
pub const SOURCE_KEY: &str = "_crossdock_source";
/// Order meta: the create's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "_crossdock_idempotency_key";
/// Order meta: `[{"variant", "line"}]`, the source line ids by variant in line order.
pub const LINES_KEY: &str = "_crossdock_lines";
/// Line meta: the channel's line id.
pub const LINE_KEY: &str = "_crossdock_line";
/// Refund line meta: the order line refunded.
const REFUNDED_ITEM_KEY: &str = "_refunded_item_id";

/// One `meta_data` entry; `id` is WooCommerce's meta id (absent in what we send on create).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct MetaNode {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

/// The value of the first meta entry with `key`, as text.
pub fn meta_text<'a>(meta: &'a [MetaNode], key: &str) -> Option<&'a str> {
    meta.iter().find(|m| m.key == key).and_then(|m| m.value.as_str()).map(str::trim).filter(|v| !v.is_empty())
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineNode {
    pub id: u64,
    #[serde(default)]
    pub product_id: Option<u64>,
    #[serde(default)]
    pub variation_id: Option<u64>,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub sku: Option<String>,
    /// After discounts, before tax.
    #[serde(default)]
    pub total: Option<String>,
    #[serde(default)]
    pub meta_data: Vec<MetaNode>,
}

impl LineNode {
    /// The catalog's variant id: the variation, else the simple product.
    pub fn variant_id(&self) -> Option<String> {
        self.variation_id.filter(|v| *v != 0).or(self.product_id.filter(|p| *p != 0)).map(|id| id.to_string())
    }

    /// Units, as the contract counts them (a negative or absurd quantity reads as 0).
    pub fn units(&self) -> u32 {
        u32::try_from(self.quantity).unwrap_or(0)
    }
}

/// `refunds[]` on an order: the refund's id, reason and total (negative).
#[derive(Debug, Clone, Deserialize)]
pub struct RefundSummary {
    pub id: u64,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub total: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderNode {
    pub id: u64,
    #[serde(default)]
    pub number: Option<Value>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub total: Option<String>,
    #[serde(default)]
    pub date_modified_gmt: Option<String>,
    #[serde(default)]
    pub date_completed_gmt: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineNode>,
    #[serde(default)]
    pub meta_data: Vec<MetaNode>,
    #[serde(default)]
    pub refunds: Vec<RefundSummary>,
}

impl OrderNode {
    pub fn source_identifier(&self) -> Option<&str> {
        meta_text(&self.meta_data, SOURCE_KEY)
    }

    pub fn modified_millis(&self) -> i64 {
        self.date_modified_gmt.as_deref().and_then(unix_millis).unwrap_or(0)
    }

    pub fn line(&self, id: &str) -> Option<&LineNode> {
        self.line_items.iter().find(|l| l.id.to_string() == id.trim())
    }

    /// The order's total minus what its refunds gave back.
    pub fn remaining_refundable(&self) -> Result<Amount, ConnectorError> {
        let total = parse_amount(self.total.as_deref().unwrap_or("0"), self.id, "total")?;
        let mut refunded = Amount::ZERO;
        for refund in &self.refunds {
            refunded = refunded + parse_amount(&refund.total, self.id, "refunds.total")?.abs();
        }
        Ok(total - refunded)
    }
}

/// `GET /orders/{id}/refunds`.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundNode {
    pub id: u64,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub line_items: Vec<RefundLineNode>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundLineNode {
    /// Negative: units given back.
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub meta_data: Vec<MetaNode>,
}

fn parse_amount(text: &str, order: u64, field: &str) -> Result<Amount, ConnectorError> {
    Amount::parse(text).ok_or_else(|| {
        ConnectorError::Transient(format!(
            "WooCommerce order {order} has a {field} that is not a decimal: `{text}`"
        ))
    })
}

/// The order as the contract's store order; `refunds` are the full refunds when they were
/// read, else the order's summary is used.
pub fn store_order(order: &OrderNode, refunds: Option<&[RefundNode]>) -> Result<StoreOrder, ConnectorError> {
    let source_lines = source_line_ids(order);
    let lines = order
        .line_items
        .iter()
        .zip(source_lines)
        .map(|(line, source_line_id)| StoreOrderLine {
            id: line.id.to_string(),
            variant_id: line.variant_id(),
            sku: line.sku.clone().filter(|s| !s.trim().is_empty()),
            quantity: line.units(),
            source_line_id,
        })
        .collect();
    let refunds = match refunds {
        Some(full) => full.iter().map(|r| refund(order, r)).collect::<Result<Vec<_>, _>>()?,
        None => order
            .refunds
            .iter()
            .map(|r| {
                let amount = parse_amount(&r.total, order.id, "refunds.total")?.abs();
                Ok(StoreRefund {
                    id: r.id.to_string(),
                    amount: Money::new(amount.to_string(), &order.currency),
                    lines: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, ConnectorError>>()?,
    };
    Ok(StoreOrder {
        id: order.id.to_string(),
        name: format!("#{}", number(order)),
        source_identifier: order.source_identifier().map(str::to_string),
        lines,
        cancelled: order.status == "cancelled",
        fulfillments: fulfillments(order),
        refunds,
        updated_at: order.modified_millis(),
    })
}

fn number(order: &OrderNode) -> String {
    match &order.number {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => order.id.to_string(),
    }
}

/// Each line's source line id: its own `_crossdock_line`, else the next unused entry of the
/// order's `_crossdock_lines` for the same variant.
fn source_line_ids(order: &OrderNode) -> Vec<Option<String>> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        variant: String,
        #[serde(default)]
        line: String,
    }
    let entries: Vec<Entry> = order
        .meta_data
        .iter()
        .find(|m| m.key == LINES_KEY)
        .and_then(|m| match &m.value {
            Value::String(s) => serde_json::from_str(s).ok(),
            other => serde_json::from_value(other.clone()).ok(),
        })
        .unwrap_or_default();
    let mut used = vec![false; entries.len()];
    order
        .line_items
        .iter()
        .map(|line| {
            if let Some(own) = meta_text(&line.meta_data, LINE_KEY) {
                return Some(own.to_string());
            }
            let variant = line.variant_id()?;
            let position = entries.iter().enumerate().position(|(i, e)| !used[i] && e.variant == variant)?;
            used[position] = true;
            Some(entries[position].line.clone()).filter(|l| !l.is_empty())
        })
        .collect()
}

/// Shipment Tracking items as fulfillments, plus the rest of a `completed` order.
fn fulfillments(order: &OrderNode) -> Vec<StoreFulfillment> {
    let items = tracking::items(&order.meta_data);
    let modified = order.modified_millis();
    let all_lines: Vec<(String, u32)> =
        order.line_items.iter().map(|l| (l.id.to_string(), l.units())).collect();
    let mut fulfillments: Vec<StoreFulfillment> = items
        .iter()
        .map(|item| StoreFulfillment {
            id: item.id(),
            lines: item.lines.clone().unwrap_or_else(|| all_lines.clone()),
            tracking: item.tracking(),
            cancelled: false,
            updated_at: item.shipped_millis().unwrap_or(modified),
        })
        .collect();
    if order.status == "completed" {
        let rest = tracking::unshipped(&all_lines, &items);
        if !rest.is_empty() {
            let completed = order.date_completed_gmt.as_deref().and_then(unix_millis).unwrap_or(modified);
            fulfillments.push(StoreFulfillment {
                id: format!("{}:completed", order.id),
                lines: rest,
                tracking: None,
                cancelled: false,
                updated_at: completed,
            });
        }
    }
    fulfillments
}

fn refund(order: &OrderNode, node: &RefundNode) -> Result<StoreRefund, ConnectorError> {
    let amount = parse_amount(&node.amount, order.id, "refund amount")?.abs();
    let lines = node
        .line_items
        .iter()
        .filter_map(|line| {
            let item =
                line.meta_data.iter().find(|m| m.key == REFUNDED_ITEM_KEY).and_then(|m| match &m.value {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })?;
            let units = u32::try_from(line.quantity.unsigned_abs()).ok().filter(|u| *u > 0)?;
            Some((item, units))
        })
        .collect();
    Ok(StoreRefund {
        id: node.id.to_string(),
        amount: Money::new(amount.to_string(), &order.currency),
        lines,
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::mapping::decode;
    use serde_json::json;

    /// A paid order in the sandbox's response shape: two lines (a variation and a simple
    /// product), created by Crossdock.
    pub fn order_json() -> Value {
        json!({
            "id": 812, "parent_id": 0, "number": "812", "status": "processing", "currency": "USD",
            "date_created_gmt": "2025-06-01T10:00:00", "date_modified_gmt": "2025-06-01T10:05:00",
            "date_paid_gmt": "2025-06-01T10:00:00", "total": "47.00", "customer_id": 0,
            "line_items": [
                {"id": 813, "name": "Tee - M", "product_id": 101, "variation_id": 201, "quantity": 2,
                 "subtotal": "40.00", "total": "36.00", "sku": "TEE-M", "price": "18.00",
                 "meta_data": [{"id": 9001, "key": "_crossdock_line", "value": "577000000000000001"}]},
                {"id": 814, "name": "Mug", "product_id": 102, "variation_id": 0, "quantity": 1,
                 "subtotal": "11.00", "total": "11.00", "sku": "MUG-1", "price": "11.00", "meta_data": []}
            ],
            "meta_data": [
                {"id": 9100, "key": "_crossdock_source", "value": "tiktok-shop:7000:576000000000000001"},
                {"id": 9101, "key": "_crossdock_lines",
                 "value": "[{\"variant\":\"201\",\"line\":\"577000000000000001\"},{\"variant\":\"102\",\"line\":\"577000000000000002\"}]"}
            ],
            "refunds": []
        })
    }

    pub fn order() -> OrderNode {
        decode(order_json()).expect("decodes")
    }

    #[test]
    fn an_order_maps_its_lines_variants_and_source() {
        let o = store_order(&order(), None).expect("maps");
        assert_eq!((o.id.as_str(), o.name.as_str()), ("812", "#812"));
        assert_eq!(o.source_identifier.as_deref(), Some("tiktok-shop:7000:576000000000000001"));
        assert!(!o.cancelled);
        assert_eq!(o.updated_at, 1_748_772_300_000);
        let first = &o.lines[0];
        assert_eq!((first.id.as_str(), first.variant_id.as_deref(), first.quantity), ("813", Some("201"), 2));
        assert_eq!(first.sku.as_deref(), Some("TEE-M"));
        assert_eq!(first.source_line_id.as_deref(), Some("577000000000000001"));
        let second = &o.lines[1];
        assert_eq!(second.variant_id.as_deref(), Some("102"), "a simple product is its own variant");
        assert_eq!(
            second.source_line_id.as_deref(),
            Some("577000000000000002"),
            "without line meta, the order's line map names it"
        );
        assert!(o.fulfillments.is_empty() && o.refunds.is_empty());
    }

    #[test]
    fn a_line_whose_product_is_gone_has_no_variant() {
        let mut json = order_json();
        json["line_items"][1]["product_id"] = json!(0);
        json["line_items"][1]["sku"] = Value::Null;
        let o = store_order(&decode(json).expect("decodes"), None).expect("maps");
        assert_eq!(o.lines[1].variant_id, None);
        assert_eq!(o.lines[1].sku, None);
        assert_eq!(o.lines[1].source_line_id, None, "the line map matches by variant");
    }

    #[test]
    fn cancelled_orders_read_as_cancelled() {
        let mut json = order_json();
        json["status"] = json!("cancelled");
        assert!(store_order(&decode(json).expect("decodes"), None).expect("maps").cancelled);
    }

    #[test]
    fn a_completed_order_without_tracking_is_one_fulfillment_of_every_line() {
        let mut json = order_json();
        json["status"] = json!("completed");
        json["date_completed_gmt"] = json!("2025-06-02T00:00:00");
        let o = store_order(&decode(json).expect("decodes"), None).expect("maps");
        assert_eq!(o.fulfillments.len(), 1);
        let f = &o.fulfillments[0];
        assert_eq!(f.id, "812:completed");
        assert_eq!(f.lines, vec![("813".to_string(), 2), ("814".to_string(), 1)]);
        assert!(f.tracking.is_none() && !f.cancelled);
        assert_eq!(f.updated_at, 1_748_822_400_000);
    }

    #[test]
    fn full_refunds_carry_their_lines_and_summaries_only_amounts() {
        let mut json = order_json();
        json["refunds"] = json!([{"id": 900, "reason": "Returned [crossdock:k1]", "total": "-18.00"}]);
        let node: OrderNode = decode(json).expect("decodes");
        let summary = store_order(&node, None).expect("maps");
        assert_eq!(summary.refunds[0].id, "900");
        let amount = &summary.refunds[0].amount;
        assert_eq!((amount.amount.as_str(), amount.currency.as_str()), ("18.00", "USD"));
        assert!(summary.refunds[0].lines.is_empty());
        let full: Vec<RefundNode> = decode(json!([{
            "id": 900, "amount": "18.00", "reason": "Returned [crossdock:k1]", "refunded_payment": false,
            "line_items": [{"id": 901, "quantity": -1, "total": "-18.00",
                            "meta_data": [{"key": "_refunded_item_id", "value": "813"}]}]
        }]))
        .expect("decodes");
        let detailed = store_order(&node, Some(&full)).expect("maps");
        assert_eq!(detailed.refunds[0].lines, vec![("813".to_string(), 1)]);
        assert_eq!(detailed.refunds[0].amount.amount, "18.00");
    }

    #[test]
    fn the_remaining_refundable_total_subtracts_refunds() {
        let mut json = order_json();
        json["refunds"] = json!([{"id": 900, "reason": "", "total": "-18.00"}, {"id": 902, "reason": "", "total": "-4.50"}]);
        let node: OrderNode = decode(json).expect("decodes");
        assert_eq!(node.remaining_refundable().expect("decimal"), Amount::parse("24.50").expect("decimal"));
    }

    #[test]
    fn a_malformed_total_is_not_guessed() {
        let mut json = order_json();
        json["refunds"] = json!([{"id": 900, "reason": "", "total": "-18,00"}]);
        let node: OrderNode = decode(json).expect("decodes");
        assert!(matches!(store_order(&node, None), Err(ConnectorError::Transient(m)) if m.contains("812")));
    }
}
