//! An order's items from a request's `line_items`, `shipping_lines` and `fee_lines`, as the
//! orders controller's `set_item` treats them: an item without an `id` is added, one with an
//! `id` of the order's is changed (another id is refused, `woocommerce_rest_invalid_item_id`),
//! and one with `quantity: 0` or a null `product_id`, `method_id`, `method_title` or `name` is
//! removed. `tax_lines` and `coupon_lines` are not written here: tax lines are computed (and the
//! store has no tax rates), coupons are not modelled.
//!
//! A new line names its product by `sku` first, then `product_id`, then `variation_id`, as
//! `get_product_id` does; its `subtotal` and `total` are the catalog price times the quantity
//! unless the request gives them, and its `name` and `meta_data` are kept as sent.
//!
//! Choices of ours: a product reference that names nothing is refused
//! (`woocommerce_rest_invalid_product_id`), as is a variable product without a variation; an
//! amount that is not a decimal string is refused (`rest_invalid_param`); changing a line's
//! quantity, or removing it, on an order that holds stock takes or gives back the difference,
//! with a note (core's `wc_maybe_adjust_line_item_product_stock`, without its refund cases).

use super::data::{Stocked, Store};
use super::meta;
use super::order_data::{FeeLine, LineItem, Note, Order, ShippingLine};
use super::rest_error::RestError;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// Statuses in which an order holds the stock its lines took.
const HOLDING: [&str; 3] = ["processing", "completed", "on-hold"];

fn invalid_product() -> RestError {
    RestError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_invalid_product_id",
        "Product ID provided is invalid.",
    )
}

fn invalid_item() -> RestError {
    RestError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_invalid_item_id",
        "Order item ID provided is not associated with order.",
    )
}

/// A money field of an item (`line_items[0][total]`): a decimal string, or absent.
fn amount(
    item: &Map<String, Value>,
    field: &str,
    list: &str,
    i: usize,
) -> Result<Option<Decimal>, RestError> {
    let param = format!("{list}[{i}][{field}]");
    match item.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(Decimal::ZERO)),
        Some(Value::String(s)) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|_| RestError::invalid_param(&param, format!("{param} is not a decimal number."))),
        Some(_) => Err(RestError::invalid_param(&param, format!("{param} is not of type string."))),
    }
}

fn text(item: &Map<String, Value>, field: &str) -> Option<String> {
    item.get(field).and_then(Value::as_str).map(str::to_string)
}

fn id_of(item: &Map<String, Value>) -> u64 {
    item.get("id")
        .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
        .unwrap_or(0)
}

/// `item_is_null` or `quantity: 0`: the item is to be removed.
fn removes(item: &Map<String, Value>) -> bool {
    let null = ["product_id", "method_id", "method_title", "name", "code"]
        .iter()
        .any(|k| item.get(*k).is_some_and(Value::is_null));
    null || item.get("quantity").and_then(Value::as_i64) == Some(0)
}

/// The product a line names, by `sku`, then `product_id`, then `variation_id`: its product id,
/// variation id, name, parent name, SKU and catalog price. None when the request names none.
fn product_of(store: &Store, item: &Map<String, Value>) -> Result<Option<Resolved>, RestError> {
    let number = |k: &str| item.get(k).and_then(Value::as_u64).filter(|n| *n != 0);
    let sku = item.get("sku").and_then(Value::as_str).filter(|s| !s.is_empty());
    let wanted = if let Some(sku) = sku {
        Wanted::Sku(sku)
    } else if let (Some(product), None) = (number("product_id"), number("variation_id")) {
        Wanted::Id(product)
    } else if let Some(variation) = number("variation_id") {
        Wanted::Id(variation)
    } else {
        return Ok(None);
    };
    let variation_name = |product: &super::data::Product, v: &super::data::Variation| {
        let options: Vec<&str> = v.attributes.iter().map(|(_, o)| o.as_str()).collect();
        format!("{} - {}", product.name, options.join(", "))
    };
    let resolved = match wanted {
        Wanted::Sku(sku) => {
            let product = store.product_with_sku(sku).ok_or_else(invalid_product)?;
            match product.variations.iter().find(|v| v.stocked.sku == sku) {
                Some(v) => Resolved::variation(product, v, variation_name(product, v)),
                None if product.is_variable() => return Err(invalid_product()),
                None => Resolved::simple(product),
            }
        }
        Wanted::Id(id) => match (store.products.get(&id), store.variation(id)) {
            (Some(product), _) if !product.is_variable() => Resolved::simple(product),
            (_, Some((product, v))) => Resolved::variation(product, v, variation_name(product, v)),
            _ => return Err(invalid_product()),
        },
    };
    Ok(Some(resolved))
}

enum Wanted<'r> {
    Sku(&'r str),
    Id(u64),
}

struct Resolved {
    product_id: u64,
    variation_id: u64,
    name: String,
    parent_name: Option<String>,
    sku: String,
    price: Decimal,
}

impl Resolved {
    fn simple(product: &super::data::Product) -> Self {
        Resolved::of(product.id, 0, product.name.clone(), None, &product.stocked)
    }

    fn variation(product: &super::data::Product, v: &super::data::Variation, name: String) -> Self {
        Resolved::of(product.id, v.id, name, Some(product.name.clone()), &v.stocked)
    }

    fn of(
        product_id: u64,
        variation_id: u64,
        name: String,
        parent: Option<String>,
        stocked: &Stocked,
    ) -> Self {
        Resolved {
            product_id,
            variation_id,
            name,
            parent_name: parent,
            sku: stocked.sku.clone(),
            price: stocked.price(),
        }
    }
}

/// Applies the request's item lists to `order`; returns the products whose stock moved.
pub fn apply(
    store: &mut Store,
    order: &mut Order,
    request: &Map<String, Value>,
    now: i64,
) -> Result<Vec<u64>, RestError> {
    let mut touched = Vec::new();
    for (i, item) in list(request, "line_items")?.iter().enumerate() {
        touched.extend(line_item(store, order, item, i, now)?);
    }
    for (i, item) in list(request, "shipping_lines")?.iter().enumerate() {
        shipping_line(store, order, item, i)?;
    }
    for (i, item) in list(request, "fee_lines")?.iter().enumerate() {
        fee_line(store, order, item, i)?;
    }
    touched.sort_unstable();
    touched.dedup();
    Ok(touched)
}

/// The objects of a request's item list (entries that are not objects are skipped, as core
/// skips what is not an array).
fn list(request: &Map<String, Value>, name: &str) -> Result<Vec<Map<String, Value>>, RestError> {
    match request.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().filter_map(|i| i.as_object().cloned()).collect()),
        Some(_) => Err(RestError::invalid_param(name, format!("{name} is not of type array."))),
    }
}

fn item_meta(store: &mut Store, list: &mut Vec<meta::Meta>, item: &Map<String, Value>) {
    if let Some(Value::Array(entries)) = item.get("meta_data") {
        meta::apply(list, entries, || store.next_meta_id());
    }
}

fn line_item(
    store: &mut Store,
    order: &mut Order,
    item: &Map<String, Value>,
    i: usize,
    now: i64,
) -> Result<Vec<u64>, RestError> {
    let id = id_of(item);
    if removes(item) {
        let position = order.line_items.iter().position(|l| l.id == id).ok_or_else(invalid_item)?;
        let mut line = order.line_items.remove(position);
        return Ok(adjust_stock(store, order, &mut line, 0, now).into_iter().collect());
    }
    let quantity = match item.get("quantity") {
        None | Some(Value::Null) => None,
        Some(q) => match q.as_i64() {
            Some(q) if q > 0 => Some(q),
            _ => {
                return Err(RestError::new(
                    StatusCode::BAD_REQUEST,
                    "woocommerce_rest_invalid_quantity",
                    "Product quantity must be a positive value.",
                ));
            }
        },
    };
    let subtotal = amount(item, "subtotal", "line_items", i)?;
    let total = amount(item, "total", "line_items", i)?;
    let product = product_of(store, item)?;
    if id == 0 {
        let Some(product) = product else {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_required_product_reference",
                "Product ID or SKU is required.",
            ));
        };
        let quantity = quantity.unwrap_or(1);
        let catalog = product.price * Decimal::from(quantity);
        let mut line = LineItem {
            id: store.next_id(),
            name: text(item, "name").unwrap_or(product.name),
            product_id: product.product_id,
            variation_id: product.variation_id,
            parent_name: product.parent_name,
            sku: product.sku,
            quantity,
            subtotal: subtotal.unwrap_or(catalog),
            total: total.unwrap_or(catalog),
            meta: Vec::new(),
            reduced_stock: 0,
        };
        item_meta(store, &mut line.meta, item);
        order.line_items.push(line);
        return Ok(Vec::new());
    }
    let position = order.line_items.iter().position(|l| l.id == id).ok_or_else(invalid_item)?;
    let mut line = order.line_items.remove(position);
    if let Some(p) =
        product.filter(|p| (p.product_id, p.variation_id) != (line.product_id, line.variation_id))
    {
        (line.product_id, line.variation_id, line.parent_name, line.sku) =
            (p.product_id, p.variation_id, p.parent_name, p.sku);
        line.name = p.name;
    }
    if let Some(name) = text(item, "name") {
        line.name = name;
    }
    line.subtotal = subtotal.unwrap_or(line.subtotal);
    line.total = total.unwrap_or(line.total);
    item_meta(store, &mut line.meta, item);
    let moved = match quantity {
        Some(q) if q != line.quantity => adjust_stock(store, order, &mut line, q, now),
        _ => None,
    };
    line.quantity = quantity.unwrap_or(line.quantity);
    order.line_items.insert(position, line);
    Ok(moved.into_iter().collect())
}

/// Moves stock for a line going from its quantity to `quantity` (0: removed) on an order that
/// holds stock; returns the product whose stock moved.
fn adjust_stock(
    store: &mut Store,
    order: &mut Order,
    line: &mut LineItem,
    quantity: i64,
    now: i64,
) -> Option<u64> {
    if !order.stock_reduced || !HOLDING.contains(&order.status.as_str()) {
        return None;
    }
    let change = if quantity >= line.quantity {
        -(quantity - line.quantity)
    } else {
        (line.quantity - quantity).min(line.reduced_stock)
    };
    if change == 0 {
        return None;
    }
    let product = store.products.get_mut(&line.product_id)?;
    let stocked = if line.variation_id != 0 {
        let variation = product.variations.iter_mut().find(|v| v.id == line.variation_id)?;
        variation.date_modified = super::bump(variation.date_modified, now);
        &mut variation.stocked
    } else {
        &mut product.stocked
    };
    let before = stocked.stock_quantity.filter(|_| stocked.manage_stock)?;
    let after = before + change;
    stocked.stock_quantity = Some(after);
    product.date_modified = super::bump(product.date_modified, now);
    line.reduced_stock -= change;
    let product_id = product.id;
    let note = Note {
        id: store.next_id(),
        note: format!("Adjusted stock: {} ({}) {before}&rarr;{after}", line.name, line.sku),
        customer_note: false,
        author: "system".into(),
        date_created: now,
    };
    order.notes.push(note);
    Some(product_id)
}

fn shipping_line(
    store: &mut Store,
    order: &mut Order,
    item: &Map<String, Value>,
    i: usize,
) -> Result<(), RestError> {
    let id = id_of(item);
    if removes(item) {
        let position = order.shipping_lines.iter().position(|l| l.id == id).ok_or_else(invalid_item)?;
        order.shipping_lines.remove(position);
        return Ok(());
    }
    let total = amount(item, "total", "shipping_lines", i)?;
    let position = if id == 0 {
        let Some(method_id) = text(item, "method_id").filter(|m| !m.is_empty()) else {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_invalid_shipping_item",
                "Shipping method ID is required.",
            ));
        };
        order.shipping_lines.push(ShippingLine {
            id: store.next_id(),
            method_id,
            method_title: String::new(),
            instance_id: String::new(),
            total: Decimal::ZERO,
            meta: Vec::new(),
        });
        order.shipping_lines.len() - 1
    } else {
        order.shipping_lines.iter().position(|l| l.id == id).ok_or_else(invalid_item)?
    };
    let line = &mut order.shipping_lines[position];
    for (field, target) in [
        ("method_id", &mut line.method_id),
        ("method_title", &mut line.method_title),
        ("instance_id", &mut line.instance_id),
    ] {
        if let Some(value) = text(item, field) {
            *target = value;
        }
    }
    line.total = total.unwrap_or(line.total);
    item_meta(store, &mut line.meta, item);
    Ok(())
}

fn fee_line(
    store: &mut Store,
    order: &mut Order,
    item: &Map<String, Value>,
    i: usize,
) -> Result<(), RestError> {
    let id = id_of(item);
    if removes(item) {
        let position = order.fee_lines.iter().position(|l| l.id == id).ok_or_else(invalid_item)?;
        order.fee_lines.remove(position);
        return Ok(());
    }
    let total = amount(item, "total", "fee_lines", i)?;
    let position = if id == 0 {
        let Some(name) = text(item, "name").filter(|n| !n.is_empty()) else {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_invalid_fee_item",
                "Fee name is required.",
            ));
        };
        order.fee_lines.push(FeeLine {
            id: store.next_id(),
            name,
            tax_class: String::new(),
            tax_status: "taxable".into(),
            total: Decimal::ZERO,
            meta: Vec::new(),
        });
        order.fee_lines.len() - 1
    } else {
        order.fee_lines.iter().position(|l| l.id == id).ok_or_else(invalid_item)?
    };
    let line = &mut order.fee_lines[position];
    for (field, target) in
        [("name", &mut line.name), ("tax_class", &mut line.tax_class), ("tax_status", &mut line.tax_status)]
    {
        if let Some(value) = text(item, field) {
            *target = value;
        }
    }
    line.total = total.unwrap_or(line.total);
    item_meta(store, &mut line.meta, item);
    Ok(())
}
