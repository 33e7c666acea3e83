//! Orders and order notes (reference §4–§5): `POST /orders`, `GET /orders[/{id}]`,
//! `PUT /orders/{id}`, `DELETE /orders/{id}` and `/orders/{id}/notes`, with core WooCommerce's
//! stock side-effects: moving to processing, completed or on-hold reduces stock once (the
//! order's "stock reduced" flag), moving to cancelled or pending restores it; `set_paid`
//! completes the payment of a pending, on-hold, failed or cancelled order, which makes it
//! processing. Each reduction or restore leaves a system note, as `wc_reduce_stock_levels`
//! does. Each line remembers the units it took (`_reduced_stock`), so a restore gives back only
//! what refunds have not restocked already. The create, update and delete cores here serve the
//! single endpoints, `POST /orders/batch` and the control API.
//!
//! A create keeps `created_via` (default `rest-api`), the items as [`super::order_items`] reads
//! them and `meta_data` merged as [`super::meta`] does; an update merges `meta_data`, `billing`
//! and `shipping` and changes the items it names. Every write moves `date_modified`.
//!
//! Order webhooks follow core's topic hooks: a create sends `order.created` and then
//! `order.updated` (core saves the new order again when it calculates its totals); an update,
//! a status change and a refund (made or deleted) send `order.updated`; moving an order to the
//! trash sends `order.deleted` with only its id; deleting it for good (`force=true`, and every
//! batch delete) sends nothing, as core hooks only the trash. Each topic is sent once per order
//! per request.
//!
//! Choices of ours: adding a note moves `date_modified` too (core leaves the order untouched;
//! the sandbox lets a `modified_after` poll see notes) and sends no webhook, as core.

use super::data::Store;
use super::meta;
use super::order_data::{Note, Order, note_json};
use super::order_items;
use super::order_query::OrderQuery;
use super::rest::{Listing, Params, object_body};
use super::rest_error::{Answer, RestError};
use super::{AppState, json_response, now_seconds};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Map, Value};
use std::sync::Arc;

const STATUSES: [&str; 7] =
    ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"];
const REDUCING: [&str; 3] = ["processing", "completed", "on-hold"];
const RESTORING: [&str; 2] = ["cancelled", "pending"];
/// Statuses from which `set_paid` completes a payment (`valid_order_statuses_for_payment_complete`).
const PAYABLE: [&str; 4] = ["on-hold", "pending", "failed", "cancelled"];

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/wp-json/wc/v3/orders", get(list_orders).post(create_order))
        .route("/wp-json/wc/v3/orders/{id}", get(get_order).put(update_order).delete(delete_order))
        .route("/wp-json/wc/v3/orders/{id}/notes", get(list_notes).post(add_note))
}

/// What a write changed, announced (webhooks) once the store's lock is released.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Order topics and order ids, in the order they happened.
    pub orders: Vec<(&'static str, u64)>,
    /// Products whose stock moved.
    pub products: Vec<u64>,
}

impl Changes {
    pub fn order(topic: &'static str, id: u64) -> Self {
        Changes { orders: vec![(topic, id)], products: Vec::new() }
    }

    pub fn extend(&mut self, other: Changes) {
        self.orders.extend(other.orders);
        self.products.extend(other.products);
    }
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

/// The requested `status`, checked; none when not asked.
fn requested_status(request: &Map<String, Value>) -> Result<Option<String>, RestError> {
    match request.get("status") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if STATUSES.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(_) => Err(invalid_status()),
    }
}

/// Fields stored as sent and echoed back (`billing` and `shipping` merge key by key).
const ECHOED: [&str; 7] = [
    "billing",
    "shipping",
    "customer_id",
    "customer_note",
    "payment_method",
    "payment_method_title",
    "transaction_id",
];

fn apply_fields(order: &mut Order, request: &Map<String, Value>) {
    for field in ECHOED {
        let Some(value) = request.get(field).filter(|v| !v.is_null()) else { continue };
        match (order.extra.get_mut(field), value) {
            (Some(Value::Object(current)), Value::Object(posted)) => {
                current.extend(posted.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => {
                order.extra.insert(field.into(), value.clone());
            }
        }
    }
}

fn apply_meta(store: &mut Store, order: &mut Order, request: &Map<String, Value>) {
    if let Some(Value::Array(entries)) = request.get("meta_data") {
        meta::apply(&mut order.meta, entries, || store.next_meta_id());
    }
}

/// `payment_complete`: a payable order becomes processing (completed with nothing to ship)
/// and gets its paid date.
fn complete_payment(store: &mut Store, order: &mut Order, now: i64) -> Vec<u64> {
    if !PAYABLE.contains(&order.status.as_str()) {
        return Vec::new();
    }
    order.date_paid.get_or_insert(now);
    let status = if order.line_items.is_empty() { "completed" } else { "processing" };
    transition(store, order, status, now)
}

async fn create_order(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let (answer, changes) = create_in(&mut state.store(), &request, &state.currency, now_seconds())?;
    state.announce(changes);
    Ok(json_response(StatusCode::CREATED, answer))
}

/// `POST /orders` on the locked store: the new order's JSON and what changed.
pub fn create_in(
    store: &mut Store,
    request: &Map<String, Value>,
    currency: &str,
    now: i64,
) -> Result<(Value, Changes), RestError> {
    let status = requested_status(request)?;
    let created_via = request
        .get("created_via")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("rest-api");
    let currency = request.get("currency").and_then(Value::as_str).unwrap_or(currency);
    let mut order = Order::new(0, currency, created_via, now);
    apply_fields(&mut order, request);
    apply_meta(store, &mut order, request);
    order_items::apply(store, &mut order, request, now)?;
    order.calculate_totals();
    order.id = store.next_id();
    let mut touched = match status {
        Some(status) => transition(store, &mut order, &status, now),
        None => Vec::new(),
    };
    if request.get("set_paid").and_then(Value::as_bool) == Some(true) {
        touched.extend(complete_payment(store, &mut order, now));
    }
    let answer = order.json();
    let id = order.id;
    store.orders.insert(id, order);
    let changes = Changes { orders: vec![("order.created", id), ("order.updated", id)], products: touched };
    Ok((answer, changes))
}

/// Moves `order` to `status` with core's side-effects (stock, paid and completed dates);
/// returns the products whose stock changed.
pub fn transition(store: &mut Store, order: &mut Order, status: &str, now: i64) -> Vec<u64> {
    order.status = status.to_string();
    order.date_modified = now;
    if matches!(status, "processing" | "completed") {
        order.date_paid.get_or_insert(now);
    }
    if status == "completed" {
        order.date_completed = Some(now);
    }
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
    Ok(json_response(StatusCode::OK, path_order(&state.store(), &id)?.json()))
}

async fn list_orders(State(state): State<Arc<AppState>>, list: Listing) -> Answer {
    let query = OrderQuery::parse(&list.params)?;
    let items = query.select(state.store().orders.values()).into_iter().map(Order::json).collect();
    Ok(list.respond(items, state.base_url()))
}

async fn update_order(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let id = id.parse::<u64>().map_err(|_| order_not_found())?;
    let (answer, changes) = update_in(&mut state.store(), id, &request, now_seconds())?;
    state.announce(changes);
    Ok(json_response(StatusCode::OK, answer))
}

/// `PUT /orders/{id}` on the locked store: the order's JSON and what changed. Nothing changes
/// when any part of the request is refused.
pub fn update_in(
    store: &mut Store,
    id: u64,
    request: &Map<String, Value>,
    now: i64,
) -> Result<(Value, Changes), RestError> {
    let status = requested_status(request)?;
    // Changes go to a copy, stored only when the whole request is taken.
    let mut order = store.orders.get(&id).cloned().ok_or_else(order_not_found)?;
    apply_fields(&mut order, request);
    apply_meta(store, &mut order, request);
    let mut touched = order_items::apply(store, &mut order, request, now)?;
    let items = ["billing", "shipping", "line_items", "shipping_lines", "fee_lines", "coupon_lines"];
    if items.iter().any(|k| request.contains_key(*k)) {
        order.calculate_totals();
    }
    if let Some(status) = status {
        touched.extend(transition(store, &mut order, &status, now));
    }
    let needs_payment =
        matches!(order.status.as_str(), "pending" | "failed") && order.total() > rust_decimal::Decimal::ZERO;
    if request.get("set_paid").and_then(Value::as_bool) == Some(true) && needs_payment {
        touched.extend(complete_payment(store, &mut order, now));
    }
    order.date_modified = now;
    let answer = order.json();
    store.orders.insert(id, order);
    Ok((answer, Changes { orders: vec![("order.updated", id)], products: touched }))
}

/// `DELETE /orders/{id}?force=true` on the locked store: the order as it was. Deleting moves
/// no stock and sends no webhook, as in core.
pub fn delete_in(store: &mut Store, id: u64) -> Result<Value, RestError> {
    store.orders.remove(&id).map(|order| order.json()).ok_or_else(order_not_found)
}

/// Moves an order to the trash (`wp_trash_post`): the order as it is then.
pub fn trash_in(store: &mut Store, id: u64, now: i64) -> Result<(Value, Changes), RestError> {
    let order = store.orders.get_mut(&id).ok_or_else(order_not_found)?;
    if order.status == "trash" {
        return Err(RestError::new(
            StatusCode::GONE,
            "woocommerce_rest_already_trashed",
            "The order has already been deleted.",
        ));
    }
    order.trashed_from = Some(std::mem::replace(&mut order.status, "trash".into()));
    order.date_modified = now;
    Ok((order.json(), Changes::order("order.deleted", id)))
}

/// Takes an order out of the trash, back to the status it had (`wp_untrash_post`).
pub fn restore_in(store: &mut Store, id: u64, now: i64) -> Result<(Value, Changes), RestError> {
    let order = store.orders.get_mut(&id).ok_or_else(order_not_found)?;
    let Some(previous) = order.trashed_from.take().filter(|_| order.status == "trash") else {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_not_trashed",
            "The order is not in the trash.",
        ));
    };
    order.status = previous;
    order.date_modified = now;
    Ok((order.json(), Changes::order("order.restored", id)))
}

async fn delete_order(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Answer {
    let id = id.parse::<u64>().map_err(|_| order_not_found())?;
    let force = params.get("force").is_some_and(|f| f == "true" || f == "1");
    if force {
        let answer = delete_in(&mut state.store(), id)?;
        return Ok(json_response(StatusCode::OK, answer));
    }
    let (answer, changes) = trash_in(&mut state.store(), id, now_seconds())?;
    state.announce(changes);
    Ok(json_response(StatusCode::OK, answer))
}

async fn list_notes(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let store = state.store();
    let order = path_order(&store, &id)?;
    // Newest first.
    Ok(json_response(StatusCode::OK, Value::Array(order.notes.iter().rev().map(note_json).collect())))
}

async fn add_note(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let request = object_body(&body)?;
    let Some(text) = request.get("note").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) else {
        let message = "Missing parameter(s): note";
        return Err(RestError::new(StatusCode::BAD_REQUEST, "rest_missing_callback_param", message));
    };
    let now = now_seconds();
    let mut store = state.store();
    let note_id = store.next_id();
    let order = path_order_mut(&mut store, &id)?;
    let note = Note {
        id: note_id,
        note: text.to_string(),
        customer_note: request.get("customer_note").and_then(Value::as_bool).unwrap_or(false),
        author: "WooCommerce".into(),
        date_created: now,
    };
    let answer = note_json(&note);
    order.notes.push(note);
    order.date_modified = now;
    Ok(json_response(StatusCode::CREATED, answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::generated_catalog;
    use serde_json::json;

    const NOW: i64 = 1_750_000_000;

    fn store() -> Store {
        Store::new(generated_catalog(1, 2, 3), 1_748_736_000)
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn created(store: &mut Store, body: Value) -> (Value, Changes) {
        create_in(store, &object(body), "USD", NOW).expect("created")
    }

    #[test]
    fn given_line_amounts_shipping_and_fees_make_the_total() {
        let mut store = store();
        let (order, changes) = created(
            &mut store,
            json!({"status": "processing", "set_paid": true, "created_via": "crossdock",
                   "line_items": [{"sku": "GEN-000000-01", "quantity": 2,
                                   "subtotal": "40.00", "total": "36.00",
                                   "meta_data": [{"key": "_crossdock_line", "value": "577"}]}],
                   "shipping_lines": [{"method_id": "crossdock", "method_title": "TikTok", "total": "5.00"}],
                   "fee_lines": [{"name": "Tax", "tax_status": "none", "total": "3.24"}],
                   "tax_lines": [{"rate_code": "US-TAX", "tax_total": "9.99"}]}),
        );
        assert_eq!(order["total"], "44.24");
        assert_eq!(order["line_items"][0]["subtotal"], "40.00");
        assert_eq!(order["line_items"][0]["total"], "36.00");
        assert_eq!(order["line_items"][0]["meta_data"][0]["value"], "577");
        assert!(order["line_items"][0]["meta_data"][0]["id"].as_u64().is_some());
        assert_eq!(order["created_via"], "crossdock");
        assert_eq!(order["tax_lines"], json!([]), "tax lines are read-only");
        assert_eq!(order["status"], "processing");
        let id = order["id"].as_u64().expect("id");
        assert_eq!(changes.orders, vec![("order.created", id), ("order.updated", id)]);
        assert_eq!(changes.products.len(), 1, "the paid order took stock");
    }

    #[test]
    fn a_line_without_amounts_is_priced_from_the_catalog_and_created_via_defaults() {
        let mut store = store();
        let price = store.product_with_sku("GEN-000000-00").map(|p| p.variations[0].stocked.price());
        let (order, _) =
            created(&mut store, json!({"line_items": [{"sku": "GEN-000000-00", "quantity": 3}]}));
        let expected = price.map(|p| super::super::data::money(p * rust_decimal::Decimal::from(3)));
        assert_eq!(order["line_items"][0]["total"].as_str(), expected.as_deref());
        assert_eq!(order["created_via"], "rest-api");
        assert_eq!(order["status"], "pending");
    }

    #[test]
    fn an_update_merges_meta_and_moves_the_modified_date() {
        let mut store = store();
        let (order, _) = created(
            &mut store,
            json!({"meta_data": [{"key": "_crossdock_source", "value": "tiktok-shop:1:2"},
                                 {"key": "_wc_shipment_tracking_items", "value": []}]}),
        );
        let id = order["id"].as_u64().expect("id");
        let tracking = order["meta_data"][1]["id"].clone();
        let update = json!({"meta_data": [{"id": tracking, "key": "_wc_shipment_tracking_items",
                                           "value": [{"tracking_number": "1Z"}]},
                                          {"key": "extra", "value": 7}]});
        let (updated, changes) = update_in(&mut store, id, &object(update), NOW + 60).expect("updated");
        assert_eq!(updated["meta_data"].as_array().map(Vec::len), Some(3));
        assert_eq!(updated["meta_data"][0]["value"], "tiktok-shop:1:2", "untouched entries stay");
        assert_eq!(updated["meta_data"][1]["id"], tracking);
        assert_eq!(updated["meta_data"][1]["value"][0]["tracking_number"], "1Z");
        assert_eq!(updated["meta_data"][2]["value"], "7");
        assert_eq!(updated["date_modified_gmt"], super::super::data::wp_date(NOW + 60));
        assert_eq!(changes, Changes::order("order.updated", id));
    }

    #[test]
    fn a_refused_update_changes_nothing() {
        let mut store = store();
        let (order, _) = created(&mut store, json!({"meta_data": [{"key": "a", "value": "1"}]}));
        let id = order["id"].as_u64().expect("id");
        let bad = json!({"meta_data": [{"key": "a", "value": "2"}], "fee_lines": [{"total": "1.00"}]});
        let refused = update_in(&mut store, id, &object(bad), NOW + 60).expect_err("a fee needs a name");
        assert_eq!(refused.code, "woocommerce_rest_invalid_fee_item");
        let kept = store.orders.get(&id).map(Order::json).expect("the order");
        assert_eq!(kept, order);
    }

    fn stock(store: &Store, sku: &str) -> Option<i64> {
        let product = store.product_with_sku(sku)?;
        product.variations.iter().find(|v| v.stocked.sku == sku).and_then(|v| v.stocked.stock_quantity)
    }

    #[test]
    fn items_are_changed_by_id_added_without_and_removed_with_quantity_zero() {
        let mut store = store();
        let before = stock(&store, "GEN-000000-00").expect("stock");
        let (order, _) = created(
            &mut store,
            json!({"status": "processing",
                   "line_items": [{"sku": "GEN-000000-00", "quantity": 2, "total": "20.00"}],
                   "fee_lines": [{"name": "Tax", "total": "1.00"}]}),
        );
        let id = order["id"].as_u64().expect("id");
        let line = order["line_items"][0]["id"].clone();
        let fee = order["fee_lines"][0]["id"].clone();
        assert_eq!(stock(&store, "GEN-000000-00"), Some(before - 2));

        let more = json!({"line_items": [{"id": line, "quantity": 3, "total": "30.00"}],
                          "fee_lines": [{"id": fee, "quantity": 0}, {"name": "Adjustment", "total": "-2.00"}],
                          "shipping_lines": [{"method_id": "flat_rate", "total": "4.00"}]});
        let (updated, changes) = update_in(&mut store, id, &object(more), NOW + 1).expect("updated");
        assert_eq!(stock(&store, "GEN-000000-00"), Some(before - 3), "one more unit taken");
        assert_eq!(changes.products.len(), 1);
        assert_eq!(updated["fee_lines"].as_array().map(Vec::len), Some(1));
        assert_eq!(updated["fee_lines"][0]["name"], "Adjustment");
        assert_eq!(updated["total"], "32.00", "30 + 4 shipping - 2");

        let gone = json!({"line_items": [{"id": line, "quantity": 0}]});
        let (emptied, _) = update_in(&mut store, id, &object(gone), NOW + 2).expect("removed");
        assert_eq!(emptied["line_items"], json!([]));
        assert_eq!(stock(&store, "GEN-000000-00"), Some(before), "a removed line gives its units back");

        let stranger = json!({"line_items": [{"id": 1, "quantity": 1}]});
        let refused = update_in(&mut store, id, &object(stranger), NOW + 3).expect_err("not the order's");
        assert_eq!(refused.code, "woocommerce_rest_invalid_item_id");
        let nothing = json!({"line_items": [{"quantity": 1}]});
        let refused = create_in(&mut store, &object(nothing), "USD", NOW).expect_err("no product");
        assert_eq!(refused.code, "woocommerce_rest_required_product_reference");
        let text = json!({"line_items": [{"sku": "GEN-000000-00", "total": 5}]});
        let refused = create_in(&mut store, &object(text), "USD", NOW).expect_err("a number");
        assert_eq!(refused.code, "rest_invalid_param");
    }

    #[test]
    fn trash_and_restore_keep_the_status_and_announce_deleted_and_restored() {
        let mut store = store();
        let (order, _) = created(&mut store, json!({"status": "on-hold"}));
        let id = order["id"].as_u64().expect("id");
        let (trashed, changes) = trash_in(&mut store, id, NOW + 1).expect("trashed");
        assert_eq!(
            (trashed["status"].as_str(), changes),
            (Some("trash"), Changes::order("order.deleted", id))
        );
        assert_eq!(trash_in(&mut store, id, NOW + 2).expect_err("twice").status, StatusCode::GONE);
        let (restored, changes) = restore_in(&mut store, id, NOW + 3).expect("restored");
        assert_eq!(restored["status"], "on-hold");
        assert_eq!(changes, Changes::order("order.restored", id));
    }
}
