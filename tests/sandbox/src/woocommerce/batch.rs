//! The batch endpoints (reference §3): `POST /products/batch`, `/products/{id}/variations/batch`
//! and `/orders/batch` with `{create: [], update: [], delete: []}`. Each item goes through the
//! single-object write, with its stock side effects and webhooks (each topic once per record
//! per request, as core's webhooks skip what the request already queued); its result or its error
//! (`{id, error: {code, message, data: {status}}}`) is reported in place, so one bad item does
//! not fail the others. Deletes are forced, as core's batch deletes are. More than 100 objects in
//! all is refused before anything is written: HTTP 413
//! `woocommerce_rest_request_entity_too_large` (`check_batch_limit`).

use super::data::Store;
use super::product_writes::{self, product_not_found, variation_not_found};
use super::rest::object_body;
use super::rest_error::{Answer, RestError};
use super::{AppState, json_response, now_seconds, orders};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::sync::Arc;

/// `woocommerce_rest_batch_items_limit`'s default.
pub const MAX_ITEMS: usize = 100;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/wp-json/wc/v3/products/batch", post(products))
        .route("/wp-json/wc/v3/products/{id}/variations/batch", post(variations))
        .route("/wp-json/wc/v3/orders/batch", post(orders_batch))
}

/// The three lists of a batch request; a list left out is not answered either.
struct Batch {
    create: Option<Vec<Value>>,
    update: Option<Vec<Value>>,
    delete: Option<Vec<Value>>,
}

impl Batch {
    fn parse(body: &Bytes) -> Result<Batch, RestError> {
        let request = object_body(body)?;
        let list = |name: &str| match request.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.clone())),
            Some(_) => Err(RestError::invalid_param(name, format!("{name} is not of type array."))),
        };
        let batch = Batch { create: list("create")?, update: list("update")?, delete: list("delete")? };
        let total: usize = [&batch.create, &batch.update, &batch.delete]
            .iter()
            .map(|l| l.as_ref().map_or(0, Vec::len))
            .sum();
        if total > MAX_ITEMS {
            return Err(RestError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "woocommerce_rest_request_entity_too_large",
                format!("Unable to accept more than {MAX_ITEMS} items for this request."),
            ));
        }
        Ok(batch)
    }
}

/// An item's id, as a number or a numeric string; 0 when missing.
fn item_id(value: &Value) -> u64 {
    let id = value.get("id").unwrap_or(value);
    id.as_u64().or_else(|| id.as_str().and_then(|s| s.trim().parse().ok())).unwrap_or(0)
}

fn in_place(id: u64, error: &RestError) -> Value {
    json!({ "id": id, "error": error.body() })
}

fn object(item: &Value) -> Result<&Map<String, Value>, RestError> {
    item.as_object().ok_or_else(RestError::invalid_json)
}

/// Runs each list through its write and collects the answers in request order.
fn run(
    batch: Batch,
    store: &mut Store,
    mut create: impl FnMut(&mut Store, &Map<String, Value>) -> Result<Value, RestError>,
    mut update: impl FnMut(&mut Store, u64, &Map<String, Value>) -> Result<Value, RestError>,
    mut delete: impl FnMut(&mut Store, u64) -> Result<Value, RestError>,
) -> Value {
    let mut answer = Map::new();
    if let Some(items) = batch.create {
        let results = items.iter().map(|item| {
            object(item).and_then(|fields| create(store, fields)).unwrap_or_else(|e| in_place(0, &e))
        });
        answer.insert("create".into(), Value::Array(results.collect()));
    }
    if let Some(items) = batch.update {
        let results = items.iter().map(|item| {
            let id = item_id(item);
            object(item).and_then(|fields| update(store, id, fields)).unwrap_or_else(|e| in_place(id, &e))
        });
        answer.insert("update".into(), Value::Array(results.collect()));
    }
    if let Some(items) = batch.delete {
        let results = items.iter().map(|item| {
            let id = item_id(item);
            delete(store, id).unwrap_or_else(|e| in_place(id, &e))
        });
        answer.insert("delete".into(), Value::Array(results.collect()));
    }
    Value::Object(answer)
}

async fn products(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let batch = Batch::parse(&body)?;
    let now = now_seconds();
    let base_url = state.base_url().to_string();
    let events: RefCell<Vec<(&str, Value)>> = RefCell::new(Vec::new());
    let answer = run(
        batch,
        &mut state.store(),
        |store, fields| {
            let product = product_writes::create_product(store, fields, &base_url, now)?;
            events.borrow_mut().push(("product.created", product.clone()));
            Ok(product)
        },
        |store, id, fields| {
            let product = product_writes::update_product(store, id, fields, &base_url, now)?;
            events.borrow_mut().push(("product.updated", product.clone()));
            Ok(product)
        },
        |store, id| {
            let product = product_writes::delete_product(store, id, &base_url)?;
            events.borrow_mut().push(("product.deleted", json!({ "id": id })));
            Ok(product)
        },
    );
    for (topic, payload) in events.into_inner() {
        state.webhooks.emit(topic, &payload);
    }
    Ok(json_response(StatusCode::OK, answer))
}

async fn variations(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let parent = id.parse::<u64>().ok().filter(|id| state.store().products.contains_key(id));
    let parent = parent.ok_or_else(product_not_found)?;
    let batch = Batch::parse(&body)?;
    let now = now_seconds();
    let base_url = state.base_url().to_string();
    let answer = {
        let mut store = state.store();
        run(
            batch,
            &mut store,
            |store, fields| product_writes::create_variation(store, parent, fields, &base_url, now),
            |store, vid, fields| {
                if vid == 0 {
                    return Err(variation_not_found());
                }
                product_writes::update_variation(store, parent, vid, fields, &base_url, now)
            },
            |store, vid| product_writes::delete_variation(store, parent, vid, &base_url, now),
        )
    };
    let changed = ["create", "update", "delete"]
        .iter()
        .filter_map(|list| answer.get(list).and_then(Value::as_array))
        .flatten()
        .any(|item| item.get("error").is_none());
    if changed {
        state.emit_product("product.updated", parent);
    }
    Ok(json_response(StatusCode::OK, answer))
}

async fn orders_batch(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let batch = Batch::parse(&body)?;
    let now = now_seconds();
    let currency = state.currency.clone();
    let changes = RefCell::new(orders::Changes::default());
    let answer = {
        let mut store = state.store();
        run(
            batch,
            &mut store,
            |store, fields| {
                let (order, changed) = orders::create_in(store, fields, &currency, now)?;
                changes.borrow_mut().extend(changed);
                Ok(order)
            },
            |store, id, fields| {
                let (order, changed) = orders::update_in(store, id, fields, now)?;
                changes.borrow_mut().extend(changed);
                Ok(order)
            },
            orders::delete_in,
        )
    };
    state.announce(changes.into_inner());
    Ok(json_response(StatusCode::OK, answer))
}
