//! Orders and order notes (reference §4–§5): `POST /orders`, `GET /orders[/{id}]`,
//! `PUT /orders/{id}` and `/orders/{id}/notes`, with core WooCommerce's stock side-effects:
//! moving to processing, completed or on-hold reduces stock once (the order's "stock
//! reduced" flag), moving to cancelled or pending restores it; `set_paid` marks a pending
//! order paid, which makes it processing. Each reduction or restore leaves a system note, as
//! `wc_reduce_stock_levels` does. Each line remembers the units it took (`_reduced_stock`), so
//! a restore gives back only what refunds have not restocked already. The create, update and
//! delete cores here serve both the single endpoints and `POST /orders/batch`.

use super::data::{LineItem, Note, Order, Store};
use super::rest::{Listing, object_body};
use super::rest_error::{Answer, RestError};
use super::{AppState, json_response, now_seconds};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;
use std::sync::Arc;

const STATUSES: [&str; 7] =
    ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"];
const REDUCING: [&str; 3] = ["processing", "completed", "on-hold"];
const RESTORING: [&str; 2] = ["cancelled", "pending"];

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/wp-json/wc/v3/orders", get(list_orders).post(create_order))
        .route("/wp-json/wc/v3/orders/{id}", get(get_order).put(update_order))
        .route("/wp-json/wc/v3/orders/{id}/notes", get(list_notes).post(add_note))
}

pub fn order_not_found() -> RestError {
    RestError::new(StatusCode::NOT_FOUND, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

/// The order a path's `{id}` names.
pub fn path_order<'s>(store: &'s Store, id: &str) -> Result<&'s Order, RestError> {
    id.parse::<u64>().ok().and_then(|id| store.orders.get(&id)).ok_or_else(order_not_found)
}

/// [`path_order`], to change.
pub fn path_order_mut<'s>(store: &'s mut Store, id: &str) -> Result<&'s mut Order, RestError> {
    id.parse::<u64>().ok().and_then(|id| store.orders.get_mut(&id)).ok_or_else(order_not_found)
}

fn invalid_status() -> RestError {
    RestError::invalid_param("status", format!("status is not one of {}.", STATUSES.join(", ")))
}

/// Fields stored as sent and echoed back.
const ECHOED: [&str; 9] = [
    "billing",
    "shipping",
    "customer_id",
    "customer_note",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "shipping_lines",
    "meta_data",
];

async fn create_order(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let (answer, touched) = create_in(&mut state.store(), &request, &state.currency, now_seconds())?;
    state.emit_products("product.updated", &touched);
    Ok(json_response(StatusCode::CREATED, answer))
}

/// `POST /orders` on the locked store: the new order's JSON and the products whose stock
/// moved (their `product.updated` is the caller's to send once the lock is released).
pub fn create_in(
    store: &mut Store,
    request: &serde_json::Map<String, Value>,
    currency: &str,
    now: i64,
) -> Result<(Value, Vec<u64>), RestError> {
    let mut status = request.get("status").and_then(Value::as_str).unwrap_or("pending").to_string();
    if !STATUSES.contains(&status.as_str()) {
        return Err(invalid_status());
    }
    let set_paid = request.get("set_paid").and_then(Value::as_bool).unwrap_or(false);
    let mut lines = Vec::new();
    for line in request.get("line_items").and_then(Value::as_array).into_iter().flatten() {
        lines.push(resolve_line(store, line)?);
    }
    let mut extra = serde_json::Map::new();
    for field in ECHOED {
        if let Some(value) = request.get(field) {
            extra.insert(field.into(), value.clone());
        }
    }
    let id = store.next_id();
    let mut order = Order {
        id,
        status: "pending".into(),
        currency: request.get("currency").and_then(Value::as_str).unwrap_or(currency).to_string(),
        line_items: lines,
        extra,
        stock_reduced: false,
        date_paid: None,
        notes: Vec::new(),
        refunds: Vec::new(),
        date_created: now,
        date_modified: now,
    };
    if set_paid {
        order.date_paid = Some(now);
        if status == "pending" {
            status = "processing".into();
        }
    }
    let touched = transition(store, &mut order, &status, now);
    let answer = Store::order_json(&order);
    store.orders.insert(id, order);
    Ok((answer, touched))
}

/// A line item from `{product_id, variation_id, quantity}` or `{sku, quantity}`, priced now.
fn resolve_line(store: &mut Store, line: &Value) -> Result<LineItem, RestError> {
    let invalid = || {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_product_id",
            "Product ID provided is invalid.",
        )
    };
    let quantity = line.get("quantity").and_then(Value::as_i64).unwrap_or(1);
    if quantity < 1 {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_quantity",
            "Product quantity must be a positive value.",
        ));
    }
    let product_id = line.get("product_id").and_then(Value::as_u64).unwrap_or(0);
    let variation_id = line.get("variation_id").and_then(Value::as_u64).unwrap_or(0);
    let sku = line.get("sku").and_then(Value::as_str).unwrap_or_default();
    let product = if product_id != 0 {
        store.products.get(&product_id)
    } else if !sku.is_empty() {
        store.product_with_sku(sku)
    } else {
        None
    };
    let Some(product) = product else {
        return Err(invalid());
    };
    let variation = if variation_id != 0 {
        Some(product.variations.iter().find(|v| v.id == variation_id).ok_or_else(invalid)?)
    } else if product.is_variable() {
        Some(product.variations.iter().find(|v| v.stocked.sku == sku).ok_or_else(invalid)?)
    } else {
        None
    };
    let (stocked, name, variation_id) = match variation {
        Some(v) => {
            let options: Vec<&str> = v.attributes.iter().map(|(_, o)| o.as_str()).collect();
            (&v.stocked, format!("{} - {}", product.name, options.join(", ")), v.id)
        }
        None => (&product.stocked, product.name.clone(), 0),
    };
    let (price, sku, product_id) = (stocked.price(), stocked.sku.clone(), product.id);
    Ok(LineItem {
        id: store.next_id(),
        name,
        product_id,
        variation_id,
        sku,
        quantity,
        price,
        reduced_stock: 0,
    })
}

/// Moves `order` to `status` with core's stock side-effects; returns the products whose
/// stock changed.
pub fn transition(store: &mut Store, order: &mut Order, status: &str, now: i64) -> Vec<u64> {
    order.status = status.to_string();
    order.date_modified = now;
    let reduce = REDUCING.contains(&status) && !order.stock_reduced;
    let restore = RESTORING.contains(&status) && order.stock_reduced;
    if !reduce && !restore {
        return Vec::new();
    }
    let mut touched = Vec::new();
    let mut changes = Vec::new();
    for line in &mut order.line_items {
        let Some(product) = store.products.get_mut(&line.product_id) else {
            continue;
        };
        let stocked = if line.variation_id != 0 {
            match product.variations.iter_mut().find(|v| v.id == line.variation_id) {
                Some(v) => {
                    v.date_modified = super::bump(v.date_modified, now);
                    &mut v.stocked
                }
                None => continue,
            }
        } else {
            &mut product.stocked
        };
        let Some(before) = stocked.stock_quantity.filter(|_| stocked.manage_stock) else {
            continue;
        };
        // Reduce takes the whole line; restore gives back what refunds have not.
        let change = if reduce { -line.quantity } else { line.reduced_stock };
        if change == 0 {
            continue;
        }
        line.reduced_stock -= change;
        let after = before + change;
        stocked.stock_quantity = Some(after);
        changes.push(format!("{} ({}) {before}&rarr;{after}", line.name, line.sku));
        product.date_modified = super::bump(product.date_modified, now);
        if !touched.contains(&product.id) {
            touched.push(product.id);
        }
    }
    order.stock_reduced = reduce;
    if !changes.is_empty() {
        let verb = if reduce { "reduced" } else { "increased" };
        let note = Note {
            id: store.next_id(),
            note: format!("Stock levels {verb}: {}", changes.join(", ")),
            customer_note: false,
            author: "system".into(),
            date_created: now,
        };
        order.notes.push(note);
    }
    touched
}

async fn get_order(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    Ok(json_response(StatusCode::OK, Store::order_json(path_order(&state.store(), &id)?)))
}

async fn list_orders(State(state): State<Arc<AppState>>, list: Listing) -> Response {
    let status = list.params.get("status").map(String::as_str).unwrap_or("any");
    let store = state.store();
    // Newest first, as WordPress lists posts by date.
    let items = store
        .orders
        .values()
        .rev()
        .filter(|o| status == "any" || o.status == status)
        .map(Store::order_json)
        .collect();
    list.respond(items, state.base_url())
}

async fn update_order(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let id = id.parse::<u64>().map_err(|_| order_not_found())?;
    let (answer, touched) = update_in(&mut state.store(), id, &request, now_seconds())?;
    state.emit_products("product.updated", &touched);
    Ok(json_response(StatusCode::OK, answer))
}

/// `PUT /orders/{id}` on the locked store: the order's JSON and the products whose stock moved.
pub fn update_in(
    store: &mut Store,
    id: u64,
    request: &serde_json::Map<String, Value>,
    now: i64,
) -> Result<(Value, Vec<u64>), RestError> {
    let Some(mut order) = store.orders.remove(&id) else {
        return Err(order_not_found());
    };
    let mut status = order.status.clone();
    if let Some(requested) = request.get("status").and_then(Value::as_str) {
        if !STATUSES.contains(&requested) {
            store.orders.insert(order.id, order);
            return Err(invalid_status());
        }
        status = requested.to_string();
    }
    if request.get("set_paid").and_then(Value::as_bool) == Some(true) && order.date_paid.is_none() {
        order.date_paid = Some(now);
        if status == "pending" {
            status = "processing".into();
        }
    }
    for field in ECHOED {
        if let Some(value) = request.get(field) {
            order.extra.insert(field.into(), value.clone());
        }
    }
    let touched = transition(store, &mut order, &status, now);
    let answer = Store::order_json(&order);
    store.orders.insert(order.id, order);
    Ok((answer, touched))
}

/// `DELETE /orders/{id}?force=true` on the locked store: the order as it was. Deleting moves
/// no stock, as in core.
pub fn delete_in(store: &mut Store, id: u64) -> Result<Value, RestError> {
    store.orders.remove(&id).map(|order| Store::order_json(&order)).ok_or_else(order_not_found)
}

async fn list_notes(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let store = state.store();
    let order = path_order(&store, &id)?;
    // Newest first.
    Ok(json_response(StatusCode::OK, Value::Array(order.notes.iter().rev().map(Store::note_json).collect())))
}

async fn add_note(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let Some(text) = request.get("note").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) else {
        let message = "Missing parameter(s): note";
        return Err(RestError::new(StatusCode::BAD_REQUEST, "rest_missing_callback_param", message));
    };
    let mut store = state.store();
    let note_id = store.next_id();
    let order = path_order_mut(&mut store, &id)?;
    let note = Note {
        id: note_id,
        note: text.to_string(),
        customer_note: request.get("customer_note").and_then(Value::as_bool).unwrap_or(false),
        author: "WooCommerce".into(),
        date_created: now_seconds(),
    };
    let answer = Store::note_json(&note);
    order.notes.push(note);
    Ok(json_response(StatusCode::CREATED, answer))
}
