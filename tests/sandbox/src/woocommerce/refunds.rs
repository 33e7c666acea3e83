//! Order refunds (reference §6): `POST|GET /orders/{id}/refunds`, `GET|DELETE
//! /orders/{id}/refunds/{refund_id}`, as `wc_create_refund` behaves behind them: an explicit
//! `amount` wins over the line totals; more than the order's remaining total is refused
//! (`woocommerce_rest_cannot_create_order_refund`, "Invalid refund amount.", HTTP 500 as core
//! answers); `api_restock` (default true) gives the refunded units back to stock, as far as the
//! line took them, with a note per line; a refund that leaves nothing to refund makes the order
//! `refunded`. The order lists its refunds in `refunds[]`; making or deleting a refund moves the
//! order's `date_modified` and sends `order.updated` (`woocommerce_order_refunded`,
//! `woocommerce_delete_order_refund`).
//!
//! `api_refund` defaults to true, as in core, and asks the order's payment gateway for the
//! money. The sandbox has no gateway, so such a refund is refused the way core refuses an order
//! whose gateway does not exist (HTTP 500, `woocommerce_rest_cannot_create_order_refund`, "The
//! payment gateway for this order does not exist.") and nothing changes; a connector recording
//! a marketplace refund sends `api_refund: false` (a manual refund, `refunded_payment: false`).
//!
//! Choices of ours: an amount of zero is refused like a negative one (400
//! `woocommerce_rest_invalid_order_refund`); so is refunding more units of a line than remain
//! unrefunded (core does not check); line ids that are not the order's are skipped, as core
//! skips them; deleting a refund (only with `force=true`; refunds cannot be trashed) moves no
//! stock and leaves the order's status as it is.

use super::data::Store;
use super::order_data::{Note, Order, Refund, RefundLine, refund_json};
use super::orders::{Changes, order_not_found, path_order, path_order_mut, transition};
use super::rest::{Listing, Params, object_body};
use super::rest_error::{Answer, RestError};
use super::{AppState, json_response, now_seconds};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/wp-json/wc/v3/orders/{id}/refunds", get(list).post(create))
        .route("/wp-json/wc/v3/orders/{id}/refunds/{refund_id}", get(read).delete(delete))
}

fn cannot_create(message: &str) -> RestError {
    RestError::new(StatusCode::INTERNAL_SERVER_ERROR, "woocommerce_rest_cannot_create_order_refund", message)
}

fn invalid_refund(message: &str) -> RestError {
    RestError::new(StatusCode::BAD_REQUEST, "woocommerce_rest_invalid_order_refund", message)
}

fn refund_not_found() -> RestError {
    RestError::new(StatusCode::NOT_FOUND, "woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.")
}

/// A money field sent as a string (WooCommerce's way) or a number.
fn decimal(value: Option<&Value>, field: &str) -> Result<Option<Decimal>, RestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|_| RestError::invalid_param(field, format!("{field} is not a number."))),
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
            .map(Some)
            .map_err(|_| RestError::invalid_param(field, format!("{field} is not a number."))),
        Some(_) => Err(RestError::invalid_param(field, format!("{field} is not of type string."))),
    }
}

/// `refund_tax` as a total, or as core's `[{id, refund_total}]`.
fn tax(value: Option<&Value>) -> Result<Decimal, RestError> {
    match value {
        Some(Value::Array(taxes)) => taxes.iter().try_fold(Decimal::ZERO, |sum, t| {
            Ok(sum + decimal(t.get("refund_total"), "refund_tax")?.unwrap_or_default())
        }),
        other => Ok(decimal(other, "refund_tax")?.unwrap_or_default()),
    }
}

fn flag(request: &Map<String, Value>, field: &str) -> Result<bool, RestError> {
    match request.get(field) {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RestError::invalid_param(field, format!("{field} is not of type boolean."))),
    }
}

/// The refund's lines from `line_items[{id, quantity, refund_total, refund_tax}]`.
fn refund_lines(
    store: &mut Store,
    order_id: u64,
    request: &Map<String, Value>,
) -> Result<Vec<RefundLine>, RestError> {
    let mut lines = Vec::new();
    for item in request.get("line_items").and_then(Value::as_array).into_iter().flatten() {
        let Some(item_id) = item.get("id").and_then(Value::as_u64) else {
            return Err(RestError::invalid_param("line_items", "line_items[].id is required."));
        };
        let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(0);
        let total = decimal(item.get("refund_total"), "refund_total")?.unwrap_or_default();
        let tax = tax(item.get("refund_tax"))?;
        let Some(order) = store.orders.get(&order_id) else { return Err(order_not_found()) };
        let Some(line) = order.line_items.iter().find(|l| l.id == item_id) else { continue };
        if quantity < 0 || quantity > line.quantity - order.refunded_quantity(item_id) {
            return Err(invalid_refund("Invalid refund quantity."));
        }
        if quantity == 0 && total.is_zero() && tax.is_zero() {
            continue;
        }
        lines.push(RefundLine { id: store.next_id(), item_id, quantity, total, tax });
    }
    Ok(lines)
}

/// `POST /orders/{id}/refunds` on the locked store: the refund's JSON and what changed (the
/// order, `order.updated`, and the products restocked).
pub fn create_in(
    store: &mut Store,
    order_id: u64,
    request: &Map<String, Value>,
    now: i64,
) -> Result<(Value, Changes), RestError> {
    if !store.orders.contains_key(&order_id) {
        return Err(order_not_found());
    }
    let api_refund = flag(request, "api_refund")?;
    let api_restock = flag(request, "api_restock")?;
    let lines = refund_lines(store, order_id, request)?;
    let amount = match decimal(request.get("amount"), "amount")? {
        Some(amount) => amount,
        None => lines.iter().map(|l| l.total + l.tax).sum(),
    };
    if amount <= Decimal::ZERO {
        return Err(invalid_refund("Refund amount must be greater than zero."));
    }
    let Some(mut order) = store.orders.remove(&order_id) else { return Err(order_not_found()) };
    if amount > order.remaining_refund() {
        store.orders.insert(order_id, order);
        return Err(cannot_create("Invalid refund amount."));
    }
    if api_refund {
        store.orders.insert(order_id, order);
        return Err(cannot_create("The payment gateway for this order does not exist."));
    }
    let refund = Refund {
        id: store.next_id(),
        amount,
        reason: request.get("reason").and_then(Value::as_str).unwrap_or_default().to_string(),
        refunded_payment: false,
        lines,
        date_created: now,
    };
    let mut touched = Vec::new();
    if api_restock {
        touched = restock(store, &mut order, &refund, now);
    }
    order.refunds.push(refund);
    if order.remaining_refund() <= Decimal::ZERO {
        touched.extend(transition(store, &mut order, "refunded", now));
    }
    order.date_modified = now;
    let answer = order.refunds.last().map(|r| refund_json(&order, r)).unwrap_or_default();
    store.orders.insert(order_id, order);
    Ok((answer, Changes { orders: vec![("order.updated", order_id)], products: touched }))
}

/// Gives the refund's units back to stock, as far as each line took them
/// (`wc_restock_refunded_items`); returns the products whose stock changed.
fn restock(store: &mut Store, order: &mut Order, refund: &Refund, now: i64) -> Vec<u64> {
    let mut touched = Vec::new();
    for refunded in &refund.lines {
        let Some(line) = order.line_items.iter_mut().find(|l| l.id == refunded.item_id) else { continue };
        let units = refunded.quantity.min(line.reduced_stock);
        if units <= 0 {
            continue;
        }
        let Some(product) = store.products.get_mut(&line.product_id) else { continue };
        let (stock_id, stocked) = if line.variation_id != 0 {
            match product.variations.iter_mut().find(|v| v.id == line.variation_id) {
                Some(v) => {
                    v.date_modified = super::bump(v.date_modified, now);
                    (v.id, &mut v.stocked)
                }
                None => continue,
            }
        } else {
            (product.id, &mut product.stocked)
        };
        let Some(before) = stocked.stock_quantity.filter(|_| stocked.manage_stock) else { continue };
        stocked.stock_quantity = Some(before + units);
        line.reduced_stock -= units;
        product.date_modified = super::bump(product.date_modified, now);
        if !touched.contains(&product.id) {
            touched.push(product.id);
        }
        let note = Note {
            id: store.next_id(),
            note: format!("Item #{stock_id} stock increased from {before} to {}.", before + units),
            customer_note: false,
            author: "system".into(),
            date_created: now,
        };
        order.notes.push(note);
    }
    touched
}

async fn create(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let order_id = id.parse::<u64>().map_err(|_| order_not_found())?;
    let (answer, changes) = create_in(&mut state.store(), order_id, &request, now_seconds())?;
    state.announce(changes);
    Ok(json_response(StatusCode::CREATED, answer))
}

async fn list(State(state): State<Arc<AppState>>, Path(id): Path<String>, list: Listing) -> Answer {
    let store = state.store();
    let order = path_order(&store, &id)?;
    // Newest first.
    let items = order.refunds.iter().rev().map(|r| refund_json(order, r)).collect();
    Ok(list.respond(items, state.base_url()))
}

async fn read(State(state): State<Arc<AppState>>, Path((id, refund_id)): Path<(String, String)>) -> Answer {
    let store = state.store();
    let order = path_order(&store, &id)?;
    let refund = refund_id.parse::<u64>().ok().and_then(|rid| order.refunds.iter().find(|r| r.id == rid));
    let refund = refund.ok_or_else(refund_not_found)?;
    Ok(json_response(StatusCode::OK, refund_json(order, refund)))
}

async fn delete(
    State(state): State<Arc<AppState>>,
    Path((id, refund_id)): Path<(String, String)>,
    Query(params): Params,
) -> Answer {
    if !params.get("force").is_some_and(|f| f == "true" || f == "1") {
        return Err(RestError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "The shop_order_refund does not support trashing.",
        ));
    }
    let (answer, order_id) = {
        let mut store = state.store();
        let order = path_order_mut(&mut store, &id)?;
        let position =
            refund_id.parse::<u64>().ok().and_then(|rid| order.refunds.iter().position(|r| r.id == rid));
        let position = position.ok_or_else(refund_not_found)?;
        let refund = order.refunds.remove(position);
        order.date_modified = now_seconds();
        (refund_json(order, &refund), order.id)
    };
    // Core sends `order.updated` for a deleted refund (`woocommerce_delete_order_refund`).
    state.announce(Changes::order("order.updated", order_id));
    Ok(json_response(StatusCode::OK, answer))
}
