//! The order Crossdock creates in WooCommerce, and the checks made before sending it. Pure
//! functions, tested natively.
//!
//! - A new order is `POST /orders` with `status: processing`, `set_paid: true` and
//!   `created_via: crossdock`; each line names its product (and variation) with `subtotal` (list
//!   price × units) and `total` (after every discount); shipping is one shipping line titled
//!   with the source name; tax the buyer paid is a fee line `Tax` (WooCommerce's tax lines are
//!   computed, never written), and what still differs from what the buyer paid is a fee line
//!   `Adjustment`, so the order's total is what the buyer paid. The shipping address is the
//!   billing address too (marketplaces share no other).
//! - Order meta: `_crossdock_source`, `_crossdock_idempotency_key`, `_crossdock_lines`,
//!   `_crossdock_platform_discount`, `_crossdock_buyer_paid`, `_crossdock_tags` (WooCommerce
//!   orders have no tags) and every attribute under its own key.

use crate::money::Amount;
use crate::order_mapping::{IDEMPOTENCY_KEY, LINE_KEY, LINES_KEY, OrderNode, SOURCE_KEY};
use crossdock_plugin_sdk::store_orders::NewOrder;
use crossdock_plugin_sdk::types::{Address, ConnectorError, Money};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `created_via` of the orders Crossdock creates.
pub const CREATED_VIA: &str = "crossdock";

/// `GET /products/{id}` for a variant id: a simple product or (on stores that serve it
/// there) a variation.
#[derive(Debug, Clone, Deserialize)]
pub struct VariantNode {
    pub id: u64,
    #[serde(default)]
    pub parent_id: Option<u64>,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    /// `true`, `false`, or `"parent"` on a variation that inherits.
    #[serde(default)]
    pub manage_stock: Value,
    #[serde(default)]
    pub stock_quantity: Option<i64>,
    /// `no`, `notify` or `yes`.
    #[serde(default)]
    pub backorders: Option<String>,
}

/// How a line names its product in `POST /orders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineRef {
    /// A simple product.
    Product(u64),
    /// A variation of a variable product.
    Variation { product: u64, variation: u64 },
    /// A variation whose parent the store would not tell: WooCommerce resolves its SKU (it
    /// takes the SKU before any id), and the created line is checked against the variant.
    Sku { variation: u64, sku: String },
}

/// What the store says about a variant's stock, when it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockRule {
    pub managed: bool,
    pub quantity: Option<i64>,
    pub backorders: bool,
}

/// A line's product reference and its stock rule (unknown for [`LineRef::Sku`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub line: LineRef,
    pub stock: Option<StockRule>,
}

/// A variant id as the catalog builds them: a variation id or a simple product id.
pub fn variant_number(variant_id: &str) -> Result<u64, ConnectorError> {
    variant_id.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ConnectorError::invalid(
            "variant-id",
            format!("`{variant_id}` is not a WooCommerce product or variation id; relink the SKU"),
        )
    })
}

pub fn variant_gone(variant_id: &str, sku: &str, why: &str) -> ConnectorError {
    ConnectorError::NotFound(format!(
        "variant {variant_id} (SKU {sku}): {why}; relink the SKU to a product WooCommerce still sells"
    ))
}

/// The line reference for a product read at `GET /products/{variant}`.
pub fn resolve(variant_id: &str, sku: &str, node: &VariantNode) -> Result<Resolved, ConnectorError> {
    if node.status == "trash" {
        return Err(variant_gone(variant_id, sku, "the product is in the WooCommerce trash"));
    }
    if matches!(node.kind.as_str(), "variable" | "grouped" | "external") {
        return Err(variant_gone(
            variant_id,
            sku,
            &format!("this is a {} product, which cannot be ordered itself", node.kind),
        ));
    }
    let line = match node.parent_id.filter(|p| *p != 0) {
        Some(parent) => LineRef::Variation { product: parent, variation: node.id },
        None => LineRef::Product(node.id),
    };
    let managed = node.manage_stock.as_bool() == Some(true) || node.manage_stock.as_str() == Some("parent");
    let backorders = node.backorders.as_deref().is_some_and(|b| b != "no");
    Ok(Resolved { line, stock: Some(StockRule { managed, quantity: node.stock_quantity, backorders }) })
}

/// Refuses an order the store's stock cannot take: a variant that manages stock, allows no
/// backorders and has fewer units than the order's lines take together.
pub fn check_stock(order: &NewOrder, resolved: &[Resolved]) -> Result<(), ConnectorError> {
    let mut checked: Vec<&str> = Vec::new();
    for (line, r) in order.lines.iter().zip(resolved) {
        let variant = line.variant_id.trim();
        if checked.contains(&variant) {
            continue;
        }
        checked.push(variant);
        let Some(StockRule { managed: true, quantity: Some(available), backorders: false }) = r.stock else {
            continue;
        };
        let wanted: i64 = order
            .lines
            .iter()
            .filter(|l| l.variant_id.trim() == variant)
            .map(|l| i64::from(l.quantity))
            .sum();
        if wanted > available {
            return Err(ConnectorError::invalid(
                "stock",
                format!(
                    "variant {variant} (SKU {}) has {available} in stock in WooCommerce and allows no backorders; the order takes {wanted}. Restock it or allow backorders, then import the order again",
                    line.sku
                ),
            ));
        }
    }
    Ok(())
}

/// WooCommerce takes stock for every paid order of a product that manages stock (the status
/// hooks of `wc_maybe_reduce_stock_levels`), and its REST API has no switch to skip it; such
/// an order cannot be created without taking stock.
pub fn check_no_decrement(order: &NewOrder, resolved: &[Resolved]) -> Result<(), ConnectorError> {
    let taking: Vec<&str> = order
        .lines
        .iter()
        .zip(resolved)
        .filter(|(_, r)| r.stock.is_none_or(|s| s.managed))
        .map(|(l, _)| l.sku.as_str())
        .collect();
    if taking.is_empty() {
        return Ok(());
    }
    Err(ConnectorError::invalid(
        "decrement-stock",
        format!(
            "WooCommerce takes stock for every paid order of a product that manages stock and cannot create this order without it ({}); turn off \"Manage stock\" for these products or import the order with stock taken",
            taking.join(", ")
        ),
    ))
}

/// An amount of the order, checked for its currency and decimal form; `field` names it.
pub fn amount(money: &Money, field: &str, currency: &str) -> Result<Amount, ConnectorError> {
    if !money.currency.trim().eq_ignore_ascii_case(currency) {
        return Err(ConnectorError::invalid(
            field,
            format!(
                "{field} is in {}, the order in {currency}; every amount of one order is in its currency",
                money.currency
            ),
        ));
    }
    Amount::parse(&money.amount)
        .ok_or_else(|| ConnectorError::invalid(field, format!("`{}` is not a decimal amount", money.amount)))
}

/// `first_name` and `last_name` from one name: the last word is the family name.
fn split_name(name: &str) -> (String, String) {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    match name.rsplit_once(' ') {
        Some((first, last)) => (first.to_string(), last.to_string()),
        None => (name, String::new()),
    }
}

fn address_json(address: &Address) -> Map<String, Value> {
    let (first, last) = split_name(&address.name);
    let mut object = Map::new();
    for (key, value) in [
        ("first_name", first),
        ("last_name", last),
        ("address_1", address.line1.trim().to_string()),
        ("address_2", address.line2.as_deref().unwrap_or_default().trim().to_string()),
        ("city", address.city.trim().to_string()),
        ("state", address.region.as_deref().unwrap_or_default().trim().to_string()),
        ("postcode", address.postal_code.trim().to_string()),
        ("country", address.country_code.trim().to_ascii_uppercase()),
        ("phone", address.phone.as_deref().unwrap_or_default().trim().to_string()),
    ] {
        object.insert(key.into(), Value::String(value));
    }
    object
}

/// WooCommerce refuses the whole order for a billing email `is_email` rejects; one that is
/// not an address is left out (the channel's relay addresses pass).
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c == ',')
}

fn meta(key: &str, value: impl Into<Value>) -> Value {
    json!({"key": key, "value": value.into()})
}

/// The `POST /orders` body; `refs` are the lines' product references, in line order.
pub fn create_body(order: &NewOrder, refs: &[LineRef]) -> Result<Value, ConnectorError> {
    let currency = order.buyer_paid.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 {
        return Err(ConnectorError::invalid("buyer-paid", format!("`{currency}` is not a currency code")));
    }
    if order.lines.is_empty() {
        return Err(ConnectorError::invalid("lines", "an order needs at least one line"));
    }
    let mut lines = Vec::with_capacity(order.lines.len());
    let mut line_map = Vec::with_capacity(order.lines.len());
    let mut goods = Amount::ZERO;
    for (i, (line, line_ref)) in order.lines.iter().zip(refs).enumerate() {
        if line.quantity == 0 {
            return Err(ConnectorError::invalid(
                format!("lines[{i}].quantity"),
                "a line needs at least one unit",
            ));
        }
        let unit = amount(&line.unit_price, &format!("lines[{i}].unit-price"), &currency)?;
        let discount = amount(&line.discount, &format!("lines[{i}].discount"), &currency)?;
        let subtotal = unit * line.quantity;
        let total = subtotal - discount;
        if unit.is_negative() || discount.is_negative() || total.is_negative() {
            return Err(ConnectorError::invalid(
                format!("lines[{i}].discount"),
                format!(
                    "line {} (SKU {}) has a price of {subtotal} and a discount of {discount}",
                    line.source_line_id, line.sku
                ),
            ));
        }
        goods = goods + total;
        let mut object = Map::new();
        match line_ref {
            LineRef::Product(id) => {
                object.insert("product_id".into(), json!(id));
            }
            LineRef::Variation { product, variation } => {
                object.insert("product_id".into(), json!(product));
                object.insert("variation_id".into(), json!(variation));
            }
            LineRef::Sku { variation, sku } => {
                object.insert("variation_id".into(), json!(variation));
                object.insert("sku".into(), json!(sku));
            }
        }
        object.insert("quantity".into(), json!(line.quantity));
        object.insert("subtotal".into(), json!(subtotal.to_string()));
        object.insert("total".into(), json!(total.to_string()));
        object.insert("meta_data".into(), json!([meta(LINE_KEY, line.source_line_id.clone())]));
        lines.push(Value::Object(object));
        line_map.push(json!({"variant": line.variant_id.trim(), "line": line.source_line_id}));
    }
    let shipping = amount(&order.shipping, "shipping", &currency)?;
    let tax = amount(&order.tax, "tax", &currency)?;
    let buyer_paid = amount(&order.buyer_paid, "buyer-paid", &currency)?;
    let platform_discount = amount(&order.platform_discount, "platform-discount", &currency)?;
    let mut fees = Vec::new();
    if !tax.is_zero() {
        fees.push(json!({"name": "Tax", "tax_status": "none", "total": tax.to_string()}));
    }
    let adjustment = buyer_paid - (goods + shipping + tax);
    if !adjustment.is_zero() {
        fees.push(json!({"name": "Adjustment", "tax_status": "none", "total": adjustment.to_string()}));
    }

    let mut meta_data: Vec<Value> = order
        .attributes
        .iter()
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| meta(k.trim(), v.clone()))
        .collect();
    meta_data.push(meta(SOURCE_KEY, order.source_identifier.clone()));
    meta_data.push(meta(IDEMPOTENCY_KEY, order.idempotency_key.clone()));
    meta_data.push(meta(LINES_KEY, Value::Array(line_map).to_string()));
    meta_data.push(meta("_crossdock_platform_discount", platform_discount.to_string()));
    meta_data.push(meta("_crossdock_buyer_paid", buyer_paid.to_string()));
    if !order.tags.is_empty() {
        meta_data.push(meta("_crossdock_tags", order.tags.join(", ")));
    }

    let mut body = Map::new();
    body.insert("status".into(), json!("processing"));
    body.insert("set_paid".into(), json!(true));
    body.insert("created_via".into(), json!(CREATED_VIA));
    body.insert("currency".into(), json!(currency));
    body.insert("payment_method".into(), json!(CREATED_VIA));
    body.insert("payment_method_title".into(), json!(order.source_name));
    let mut billing = order.shipping_address.as_ref().map(address_json).unwrap_or_default();
    if let Some(email) = order.email.as_deref().map(str::trim).filter(|e| plausible_email(e)) {
        billing.insert("email".into(), json!(email));
    }
    if !billing.is_empty() {
        body.insert("billing".into(), Value::Object(billing));
    }
    if let Some(address) = &order.shipping_address {
        body.insert("shipping".into(), Value::Object(address_json(address)));
    }
    if let Some(note) = order.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        body.insert("customer_note".into(), json!(note));
    }
    body.insert("line_items".into(), Value::Array(lines));
    body.insert(
        "shipping_lines".into(),
        json!([{"method_id": CREATED_VIA, "method_title": order.source_name, "total": shipping.to_string()}]),
    );
    if !fees.is_empty() {
        body.insert("fee_lines".into(), Value::Array(fees));
    }
    body.insert("meta_data".into(), Value::Array(meta_data));
    Ok(Value::Object(body))
}

/// The variants of `refs` the created order does not carry (WooCommerce resolved a SKU to
/// another product, or dropped a line).
pub fn missing_variants(created: &OrderNode, order: &NewOrder) -> Vec<String> {
    let carried: Vec<String> = created
        .line_items
        .iter()
        .flat_map(|l| [l.variation_id, l.product_id])
        .flatten()
        .filter(|id| *id != 0)
        .map(|id| id.to_string())
        .collect();
    order.lines.iter().map(|l| l.variant_id.trim().to_string()).filter(|v| !carried.contains(v)).collect()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::decode;
    use crate::order_mapping::tests::{order, order_json};
    use crossdock_plugin_sdk::store_orders::NewOrderLine;

    fn usd(amount: &str) -> Money {
        Money::new(amount, "USD")
    }

    fn new_order() -> NewOrder {
        NewOrder {
            source_identifier: "tiktok-shop:7000:576000000000000001".into(),
            source_name: "TikTok Shop — Acme US".into(),
            idempotency_key: "create-576000000000000001".into(),
            lines: vec![
                NewOrderLine {
                    variant_id: "201".into(),
                    sku: "TEE-M".into(),
                    title: "Tee — M".into(),
                    quantity: 2,
                    unit_price: usd("20.00"),
                    discount: usd("4.00"),
                    source_line_id: "577000000000000001".into(),
                },
                NewOrderLine {
                    variant_id: "102".into(),
                    sku: "MUG-1".into(),
                    title: "Mug".into(),
                    quantity: 1,
                    unit_price: usd("11.00"),
                    discount: usd("0"),
                    source_line_id: "577000000000000002".into(),
                },
            ],
            shipping: usd("5.00"),
            tax: usd("3.50"),
            buyer_paid: usd("55.50"),
            platform_discount: usd("1.00"),
            shipping_address: Some(Address {
                name: "Jane Q Doe".into(),
                phone: Some("+1 555 0100".into()),
                line1: "1 Main St".into(),
                line2: None,
                city: "Springfield".into(),
                region: Some("IL".into()),
                postal_code: "62701".into(),
                country_code: "us".into(),
            }),
            email: Some("buyer@relay.tiktok.example".into()),
            note: Some("Gift wrap please".into()),
            tags: vec!["Acme US".into(), "tiktok".into()],
            attributes: vec![("tiktok_order_id".into(), "576000000000000001".into())],
            decrement_stock: true,
        }
    }

    fn refs() -> Vec<LineRef> {
        vec![LineRef::Variation { product: 101, variation: 201 }, LineRef::Product(102)]
    }

    fn meta_value<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
        body["meta_data"].as_array()?.iter().find(|m| m["key"] == key).map(|m| &m["value"])
    }

    #[test]
    fn a_new_order_is_paid_processing_and_created_via_crossdock() {
        let body = create_body(&new_order(), &refs()).expect("builds");
        assert_eq!(body["status"], "processing");
        assert_eq!(body["set_paid"], true);
        assert_eq!(body["created_via"], "crossdock");
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["payment_method_title"], "TikTok Shop — Acme US");
        assert_eq!(body["customer_note"], "Gift wrap please");
    }

    #[test]
    fn lines_carry_their_product_prices_and_source_line() {
        let body = create_body(&new_order(), &refs()).expect("builds");
        let tee = &body["line_items"][0];
        assert_eq!((tee["product_id"].as_u64(), tee["variation_id"].as_u64()), (Some(101), Some(201)));
        assert_eq!(
            (tee["quantity"].as_u64(), tee["subtotal"].as_str(), tee["total"].as_str()),
            (Some(2), Some("40.00"), Some("36.00"))
        );
        assert_eq!(tee["meta_data"], json!([{"key": "_crossdock_line", "value": "577000000000000001"}]));
        let mug = &body["line_items"][1];
        assert_eq!(mug["product_id"], 102);
        assert!(mug.get("variation_id").is_none());
        let by_sku = create_body(
            &new_order(),
            &[LineRef::Sku { variation: 201, sku: "TEE-M".into() }, LineRef::Product(102)],
        )
        .expect("builds");
        assert_eq!(by_sku["line_items"][0]["sku"], "TEE-M");
        assert_eq!(by_sku["line_items"][0]["variation_id"], 201);
        assert!(by_sku["line_items"][0].get("product_id").is_none());
    }

    #[test]
    fn shipping_tax_and_the_order_meta_are_recorded() {
        let body = create_body(&new_order(), &refs()).expect("builds");
        assert_eq!(
            body["shipping_lines"],
            json!([{"method_id": "crossdock", "method_title": "TikTok Shop — Acme US", "total": "5.00"}])
        );
        assert_eq!(body["fee_lines"], json!([{"name": "Tax", "tax_status": "none", "total": "3.50"}]));
        assert_eq!(
            meta_value(&body, "_crossdock_source"),
            Some(&json!("tiktok-shop:7000:576000000000000001"))
        );
        assert_eq!(
            meta_value(&body, "_crossdock_idempotency_key"),
            Some(&json!("create-576000000000000001"))
        );
        assert_eq!(meta_value(&body, "tiktok_order_id"), Some(&json!("576000000000000001")));
        assert_eq!(meta_value(&body, "_crossdock_platform_discount"), Some(&json!("1.00")));
        assert_eq!(meta_value(&body, "_crossdock_tags"), Some(&json!("Acme US, tiktok")));
        let lines: Value = serde_json::from_str(
            meta_value(&body, "_crossdock_lines").and_then(Value::as_str).expect("text"),
        )
        .expect("JSON");
        assert_eq!(lines[1], json!({"variant": "102", "line": "577000000000000002"}));
    }

    #[test]
    fn the_address_is_shipping_and_billing_with_the_email() {
        let body = create_body(&new_order(), &refs()).expect("builds");
        let shipping = &body["shipping"];
        assert_eq!(
            (shipping["first_name"].as_str(), shipping["last_name"].as_str()),
            (Some("Jane Q"), Some("Doe"))
        );
        assert_eq!((shipping["country"].as_str(), shipping["state"].as_str()), (Some("US"), Some("IL")));
        assert_eq!(shipping["address_2"], "");
        assert_eq!(body["billing"]["email"], "buyer@relay.tiktok.example");
        assert_eq!(body["billing"]["address_1"], "1 Main St");
        let mut hidden = new_order();
        hidden.shipping_address = None;
        hidden.email = Some("not an email".into());
        let body = create_body(&hidden, &refs()).expect("builds");
        assert!(body.get("shipping").is_none() && body.get("billing").is_none());
    }

    #[test]
    fn a_total_that_differs_from_what_the_buyer_paid_is_adjusted() {
        let mut order = new_order();
        order.buyer_paid = usd("55.00");
        let body = create_body(&order, &refs()).expect("builds");
        assert_eq!(
            body["fee_lines"][1],
            json!({"name": "Adjustment", "tax_status": "none", "total": "-0.50"})
        );
    }

    #[test]
    fn bad_amounts_name_their_field() {
        let mut order = new_order();
        order.lines[0].unit_price = Money::new("20.00", "EUR");
        assert!(
            matches!(create_body(&order, &refs()), Err(ConnectorError::Invalid(f)) if f.field == "lines[0].unit-price")
        );
        let mut order = new_order();
        order.lines[1].discount = usd("12.00");
        assert!(
            matches!(create_body(&order, &refs()), Err(ConnectorError::Invalid(f)) if f.field == "lines[1].discount")
        );
        let mut order = new_order();
        order.tax = usd("3,50");
        assert!(matches!(create_body(&order, &refs()), Err(ConnectorError::Invalid(f)) if f.field == "tax"));
        let mut order = new_order();
        order.lines[0].quantity = 0;
        assert!(
            matches!(create_body(&order, &refs()), Err(ConnectorError::Invalid(f)) if f.field == "lines[0].quantity")
        );
    }

    fn variant(json: Value) -> VariantNode {
        decode(json).expect("decodes")
    }

    #[test]
    fn variants_resolve_to_products_or_variations() {
        let simple = variant(json!({"id": 102, "type": "simple", "status": "publish", "manage_stock": true,
                                    "stock_quantity": 4, "backorders": "no", "parent_id": 0}));
        let r = resolve("102", "MUG-1", &simple).expect("resolves");
        assert_eq!(r.line, LineRef::Product(102));
        assert_eq!(r.stock, Some(StockRule { managed: true, quantity: Some(4), backorders: false }));
        let variation = variant(
            json!({"id": 201, "type": "variation", "parent_id": 101, "status": "publish",
                                       "manage_stock": "parent", "stock_quantity": 9, "backorders": "notify"}),
        );
        let r = resolve("201", "TEE-M", &variation).expect("resolves");
        assert_eq!(r.line, LineRef::Variation { product: 101, variation: 201 });
        assert_eq!(r.stock, Some(StockRule { managed: true, quantity: Some(9), backorders: true }));
        let variable = variant(json!({"id": 101, "type": "variable", "status": "publish"}));
        assert!(
            matches!(resolve("101", "TEE", &variable), Err(ConnectorError::NotFound(m)) if m.contains("variant 101"))
        );
        let trashed = variant(json!({"id": 102, "type": "simple", "status": "trash"}));
        assert!(matches!(resolve("102", "MUG-1", &trashed), Err(ConnectorError::NotFound(_))));
        assert!(
            matches!(variant_number("gid://x"), Err(ConnectorError::Invalid(f)) if f.field == "variant-id")
        );
    }

    fn managed(quantity: i64, backorders: bool) -> Resolved {
        Resolved {
            line: LineRef::Product(1),
            stock: Some(StockRule { managed: true, quantity: Some(quantity), backorders }),
        }
    }

    #[test]
    fn stock_the_store_cannot_take_is_refused_over_all_lines_of_a_variant() {
        let mut order = new_order();
        order.lines[1].variant_id = "201".into();
        order.lines[1].sku = "TEE-M".into();
        let low = [managed(2, false), managed(2, false)];
        assert!(
            matches!(check_stock(&order, &low), Err(ConnectorError::Invalid(f)) if f.field == "stock" && f.message.contains("takes 3"))
        );
        assert!(check_stock(&order, &[managed(3, false), managed(3, false)]).is_ok());
        assert!(check_stock(&order, &[managed(0, true), managed(0, true)]).is_ok(), "backorders allowed");
        let unmanaged = Resolved {
            line: LineRef::Product(1),
            stock: Some(StockRule { managed: false, quantity: None, backorders: false }),
        };
        assert!(check_stock(&order, &[unmanaged.clone(), unmanaged]).is_ok());
    }

    #[test]
    fn keeping_stock_is_refused_for_products_that_manage_it() {
        let order = new_order();
        let unmanaged = Resolved {
            line: LineRef::Product(1),
            stock: Some(StockRule { managed: false, quantity: None, backorders: false }),
        };
        assert!(check_no_decrement(&order, &[unmanaged.clone(), unmanaged.clone()]).is_ok());
        let unknown = Resolved { line: LineRef::Sku { variation: 201, sku: "TEE-M".into() }, stock: None };
        let err = check_no_decrement(&order, &[unknown, unmanaged]).expect_err("refused");
        assert!(
            matches!(err, ConnectorError::Invalid(f) if f.field == "decrement-stock" && f.message.contains("TEE-M"))
        );
    }

    #[test]
    fn a_created_order_missing_a_variant_is_noticed() {
        assert!(missing_variants(&order(), &new_order()).is_empty());
        let mut json = order_json();
        json["line_items"][0]["variation_id"] = json!(202);
        assert_eq!(missing_variants(&decode(json).expect("decodes"), &new_order()), vec!["201".to_string()]);
    }
}
