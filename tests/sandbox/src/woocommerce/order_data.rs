//! The sandbox store's orders: line, shipping and fee items with their meta, refunds and notes,
//! and their REST v3 JSON. Totals are `WC_Order::calculate_totals`'s: the lines' totals, plus
//! shipping, plus fees (a negative fee never takes the total below zero); the store has no tax
//! rates, so every tax is zero and `tax_lines` is empty (tax a marketplace collected comes in
//! as a fee line, as WooCommerce's own docs advise).
//!
//! Choices of ours: `number` is the id (no sequential-numbers plugin); `order_key` is
//! `wc_order_` and a digest of the id; dates are UTC, so the local and `_gmt` dates are equal.

use super::data::{money, wp_date};
use super::meta::Meta;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The WooCommerce version orders are "last updated by" (`version`).
const WC_VERSION: &str = "9.8.0";

#[derive(Debug, Clone)]
pub struct LineItem {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub variation_id: u64,
    /// The parent product's name, for a variation's line.
    pub parent_name: Option<String>,
    pub sku: String,
    pub quantity: i64,
    /// Before discounts.
    pub subtotal: Decimal,
    /// After discounts; what the buyer pays for the line before tax.
    pub total: Decimal,
    pub meta: Vec<Meta>,
    /// Units this line has taken from stock and not given back (`_reduced_stock`).
    pub reduced_stock: i64,
}

impl LineItem {
    /// `total / quantity`, the `price` the REST API reports.
    pub fn price(&self) -> Decimal {
        if self.quantity == 0 { Decimal::ZERO } else { self.total / Decimal::from(self.quantity) }
    }
}

#[derive(Debug, Clone)]
pub struct ShippingLine {
    pub id: u64,
    pub method_id: String,
    pub method_title: String,
    pub instance_id: String,
    pub total: Decimal,
    pub meta: Vec<Meta>,
}

#[derive(Debug, Clone)]
pub struct FeeLine {
    pub id: u64,
    pub name: String,
    pub tax_class: String,
    /// `taxable` or `none`; with no tax rates it changes nothing.
    pub tax_status: String,
    pub total: Decimal,
    pub meta: Vec<Meta>,
}

/// One line of a refund: units and money given back for an order line.
#[derive(Debug, Clone)]
pub struct RefundLine {
    pub id: u64,
    /// The order line refunded (`_refunded_item_id`).
    pub item_id: u64,
    pub quantity: i64,
    pub total: Decimal,
    pub tax: Decimal,
}

/// A refund of an order (`shop_order_refund`).
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: u64,
    pub amount: Decimal,
    pub reason: String,
    /// Whether a payment gateway refunded the money (`refunded_payment`).
    pub refunded_payment: bool,
    pub lines: Vec<RefundLine>,
    pub date_created: i64,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: u64,
    pub note: String,
    pub customer_note: bool,
    pub author: String,
    pub date_created: i64,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: u64,
    pub status: String,
    pub currency: String,
    /// Where the order came from: `rest-api` unless the create named it (`created_via`).
    pub created_via: String,
    pub line_items: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    pub fee_lines: Vec<FeeLine>,
    pub meta: Vec<Meta>,
    /// Fields echoed back as sent (`billing`, `shipping`, `payment_method`…).
    pub extra: Map<String, Value>,
    /// The "stock reduced" flag that makes reduction idempotent (reference §4).
    pub stock_reduced: bool,
    pub date_paid: Option<i64>,
    pub date_completed: Option<i64>,
    pub notes: Vec<Note>,
    /// Oldest first.
    pub refunds: Vec<Refund>,
    /// The status before the order went to the trash (`_wp_trash_meta_status`).
    pub trashed_from: Option<String>,
    pub date_created: i64,
    pub date_modified: i64,
}

impl Order {
    /// A pending order with nothing on it yet.
    pub fn new(id: u64, currency: &str, created_via: &str, now: i64) -> Self {
        Order {
            id,
            status: "pending".into(),
            currency: currency.to_string(),
            created_via: created_via.to_string(),
            line_items: Vec::new(),
            shipping_lines: Vec::new(),
            fee_lines: Vec::new(),
            meta: Vec::new(),
            extra: Map::new(),
            stock_reduced: false,
            date_paid: None,
            date_completed: None,
            notes: Vec::new(),
            refunds: Vec::new(),
            trashed_from: None,
            date_created: now,
            date_modified: now,
        }
    }

    fn lines_total(&self) -> Decimal {
        self.line_items.iter().map(|l| l.total).sum()
    }

    pub fn shipping_total(&self) -> Decimal {
        self.shipping_lines.iter().map(|s| s.total.round_dp(2)).sum()
    }

    fn fees_total(&self) -> Decimal {
        self.fee_lines.iter().map(|f| f.total).sum()
    }

    /// What the lines' discounts took off (`discount_total`).
    pub fn discount_total(&self) -> Decimal {
        self.line_items.iter().map(|l| l.subtotal - l.total).sum()
    }

    /// The grand total: lines, shipping and fees (taxes are zero).
    pub fn total(&self) -> Decimal {
        (self.lines_total() + self.fees_total() + self.shipping_total()).round_dp(2)
    }

    /// `calculate_totals`' one change to the items: a negative fee is cut so that it takes
    /// at most what the lines, shipping and earlier fees add up to.
    pub fn calculate_totals(&mut self) {
        let base = self.lines_total() + self.shipping_total();
        let mut fees = Decimal::ZERO;
        for fee in &mut self.fee_lines {
            if fee.total < Decimal::ZERO {
                let max_discount = -(base + fees).round_dp(2);
                if fee.total < max_discount && max_discount < Decimal::ZERO {
                    fee.total = max_discount;
                }
            }
            fees += fee.total;
        }
    }

    /// What can still be refunded (`get_remaining_refund_amount`).
    pub fn remaining_refund(&self) -> Decimal {
        self.total() - self.refunds.iter().map(|r| r.amount).sum::<Decimal>()
    }

    /// Units of the line already refunded.
    pub fn refunded_quantity(&self, item_id: u64) -> i64 {
        self.refunds.iter().flat_map(|r| &r.lines).filter(|l| l.item_id == item_id).map(|l| l.quantity).sum()
    }

    fn order_key(&self) -> String {
        let digest = Sha256::digest(format!("order{}", self.id).as_bytes());
        format!("wc_order_{}", &hex::encode(&digest[..7])[..13])
    }

    /// The REST v3 representation (also every order webhook's payload).
    pub fn json(&self) -> Value {
        let mut object = self.extra.clone();
        let zero = money(Decimal::ZERO);
        let date = |t: Option<i64>| t.map(wp_date);
        for (field, value) in [
            ("id", json!(self.id)),
            ("parent_id", json!(0)),
            ("number", json!(self.id.to_string())),
            ("order_key", json!(self.order_key())),
            ("created_via", json!(self.created_via)),
            ("version", json!(WC_VERSION)),
            ("status", json!(self.status)),
            ("currency", json!(self.currency)),
            ("date_created", json!(wp_date(self.date_created))),
            ("date_created_gmt", json!(wp_date(self.date_created))),
            ("date_modified", json!(wp_date(self.date_modified))),
            ("date_modified_gmt", json!(wp_date(self.date_modified))),
            ("discount_total", json!(money(self.discount_total()))),
            ("discount_tax", json!(zero)),
            ("shipping_total", json!(money(self.shipping_total()))),
            ("shipping_tax", json!(zero)),
            ("cart_tax", json!(zero)),
            ("total", json!(money(self.total()))),
            ("total_tax", json!(zero)),
            ("prices_include_tax", json!(false)),
            ("date_paid", json!(date(self.date_paid))),
            ("date_paid_gmt", json!(date(self.date_paid))),
            ("date_completed", json!(date(self.date_completed))),
            ("date_completed_gmt", json!(date(self.date_completed))),
            ("meta_data", Value::Array(self.meta.iter().map(Meta::json).collect())),
            ("line_items", Value::Array(self.line_items.iter().map(line_json).collect())),
            ("tax_lines", json!([])),
            ("shipping_lines", Value::Array(self.shipping_lines.iter().map(shipping_json).collect())),
            ("fee_lines", Value::Array(self.fee_lines.iter().map(fee_json).collect())),
            ("coupon_lines", json!([])),
            ("refunds", Value::Array(self.refunds.iter().map(refund_summary).collect())),
            ("needs_payment", json!(self.status == "pending" && self.total() > Decimal::ZERO)),
            ("needs_processing", json!(!self.line_items.is_empty())),
            ("is_editable", json!(matches!(self.status.as_str(), "pending" | "on-hold" | "auto-draft"))),
        ] {
            object.insert(field.into(), value);
        }
        object.entry("customer_id").or_insert(json!(0));
        object.entry("customer_note").or_insert(json!(""));
        object.entry("payment_method").or_insert(json!(""));
        object.entry("payment_method_title").or_insert(json!(""));
        object.entry("transaction_id").or_insert(json!(""));
        Value::Object(object)
    }
}

/// An order item's `price`: a JSON number, as PHP's division makes it.
fn number(amount: Decimal) -> Value {
    amount.to_f64().map(|f| json!(f)).unwrap_or(json!(0))
}

fn line_json(line: &LineItem) -> Value {
    json!({
        "id": line.id, "name": line.name, "product_id": line.product_id,
        "variation_id": line.variation_id, "quantity": line.quantity, "tax_class": "",
        "subtotal": money(line.subtotal), "subtotal_tax": money(Decimal::ZERO),
        "total": money(line.total), "total_tax": money(Decimal::ZERO), "taxes": [],
        "meta_data": line.meta.iter().map(Meta::item_json).collect::<Vec<_>>(),
        "sku": line.sku, "price": number(line.price()),
        "image": {"id": "", "src": ""}, "parent_name": line.parent_name,
    })
}

fn shipping_json(line: &ShippingLine) -> Value {
    json!({
        "id": line.id, "method_title": line.method_title, "method_id": line.method_id,
        "instance_id": line.instance_id, "total": money(line.total), "total_tax": money(Decimal::ZERO),
        "taxes": [], "meta_data": line.meta.iter().map(Meta::item_json).collect::<Vec<_>>(),
    })
}

fn fee_json(line: &FeeLine) -> Value {
    json!({
        "id": line.id, "name": line.name, "tax_class": line.tax_class, "tax_status": line.tax_status,
        "amount": money(line.total), "total": money(line.total), "total_tax": money(Decimal::ZERO),
        "taxes": [], "meta_data": line.meta.iter().map(Meta::item_json).collect::<Vec<_>>(),
    })
}

/// `refunds[]` on an order: id, reason and the amount as a negative total.
fn refund_summary(refund: &Refund) -> Value {
    json!({"id": refund.id, "reason": refund.reason, "total": money(-refund.amount)})
}

/// The REST v3 representation of a refund: amounts given back are negative on its lines.
pub fn refund_json(order: &Order, refund: &Refund) -> Value {
    let lines: Vec<Value> = refund
        .lines
        .iter()
        .map(|l| {
            let item = order.line_items.iter().find(|i| i.id == l.item_id);
            let price = if l.quantity == 0 { Decimal::ZERO } else { l.total / Decimal::from(l.quantity) };
            json!({
                "id": l.id,
                "name": item.map(|i| i.name.clone()).unwrap_or_default(),
                "product_id": item.map_or(0, |i| i.product_id),
                "variation_id": item.map_or(0, |i| i.variation_id),
                "quantity": -l.quantity,
                "tax_class": "",
                "subtotal": money(-l.total),
                "subtotal_tax": money(-l.tax),
                "total": money(-l.total),
                "total_tax": money(-l.tax),
                "taxes": [],
                "meta_data": [{"key": "_refunded_item_id", "value": l.item_id.to_string()}],
                "sku": item.map(|i| i.sku.clone()).unwrap_or_default(),
                "price": number(price),
            })
        })
        .collect();
    json!({
        "id": refund.id,
        "date_created": wp_date(refund.date_created),
        "date_created_gmt": wp_date(refund.date_created),
        "amount": money(refund.amount),
        "reason": refund.reason,
        "refunded_by": 1,
        "refunded_payment": refund.refunded_payment,
        "meta_data": [],
        "line_items": lines,
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
    })
}

pub fn note_json(note: &Note) -> Value {
    json!({
        "id": note.id, "author": note.author, "date_created": wp_date(note.date_created),
        "date_created_gmt": wp_date(note.date_created), "note": note.note,
        "customer_note": note.customer_note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn sample() -> Order {
        let mut order = Order::new(812, "USD", "crossdock", 1_748_736_000);
        order.line_items.push(LineItem {
            id: 813,
            name: "Tee - M".into(),
            product_id: 200,
            variation_id: 201,
            parent_name: Some("Tee".into()),
            sku: "TEE-M".into(),
            quantity: 2,
            subtotal: dec("40.00"),
            total: dec("36.00"),
            meta: vec![Meta { id: 1, key: "_crossdock_line".into(), value: json!("577") }],
            reduced_stock: 0,
        });
        order.shipping_lines.push(ShippingLine {
            id: 814,
            method_id: "crossdock".into(),
            method_title: "TikTok Shop".into(),
            instance_id: String::new(),
            total: dec("5.00"),
            meta: Vec::new(),
        });
        order.fee_lines.push(FeeLine {
            id: 815,
            name: "Tax".into(),
            tax_class: String::new(),
            tax_status: "none".into(),
            total: dec("3.24"),
            meta: Vec::new(),
        });
        order
    }

    #[test]
    fn the_total_is_lines_plus_shipping_plus_fees_and_discounts_come_from_the_lines() {
        let json = sample().json();
        assert_eq!(json["total"], "44.24");
        assert_eq!(json["discount_total"], "4.00");
        assert_eq!(json["shipping_total"], "5.00");
        assert_eq!(json["total_tax"], "0.00");
        assert_eq!(json["tax_lines"], json!([]));
        assert_eq!(json["fee_lines"][0]["name"], "Tax");
        assert_eq!(json["line_items"][0]["subtotal"], "40.00");
        assert_eq!(json["line_items"][0]["price"], json!(18.0), "total / quantity, a number");
        assert_eq!(json["line_items"][0]["meta_data"][0]["display_key"], "_crossdock_line");
        assert_eq!(json["created_via"], "crossdock");
        assert_eq!(json["number"], "812");
    }

    #[test]
    fn a_negative_fee_is_cut_to_what_the_order_adds_up_to() {
        let mut order = sample();
        order.fee_lines[0].total = dec("-100.00");
        order.calculate_totals();
        assert_eq!(order.fee_lines[0].total, dec("-41.00"));
        assert_eq!(order.total(), Decimal::ZERO);
        let mut small = sample();
        small.fee_lines[0].total = dec("-1.10");
        small.calculate_totals();
        assert_eq!(small.total(), dec("39.90"), "a fee within the total is kept");
    }
}
