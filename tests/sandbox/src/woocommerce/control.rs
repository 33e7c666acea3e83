//! The control API: what a test, the demo or a plugin author does to the store from outside
//! the REST API (add, rename and delete products, set stock, change orders as the shop manager
//! does in wp-admin, subscribe webhooks, read counters). Each control is one `AppState` method
//! that both `WooSandbox` and the HTTP routes call; order changes send the webhooks the same
//! change through the REST API sends.
//!
//! Over HTTP it is unauthenticated JSON under `/_sandbox/`, mounted outside the REST API's auth
//! and chaos layers. Errors are `{"error": "..."}`: 404 for an unknown SKU, slug, order or
//! webhook, 400 for a body that does not parse or a value that cannot be used.
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `POST /_sandbox/products` | a `CatalogProduct` | `{id}` |
//! | `PUT /_sandbox/stock` | `{sku, quantity}` | `{sku, quantity}` |
//! | `PUT /_sandbox/products/{slug}/name` | `{name}` | `{slug, name}` |
//! | `DELETE /_sandbox/products/{slug}` | | `{slug, deleted: true}` |
//! | `POST /_sandbox/webhooks` | `{topic, delivery_url, secret}` | `{id}` |
//! | `GET /_sandbox/webhooks/{id}` | | `{id, status, failure_count}` |
//! | `GET /_sandbox/orders` | | the orders as `GET /orders/{id}` reads them, oldest first |
//! | `PUT /_sandbox/orders/{id}/status` | `{status}` | the order |
//! | `PUT /_sandbox/orders/{id}/meta` | `{key, value}` (`null` deletes) | the order |
//! | `DELETE /_sandbox/orders/{id}` | | the order, in the trash |
//! | `POST /_sandbox/orders/{id}/restore` | | the order, out of the trash |
//! | `GET /_sandbox/stats` | | `{requests, webhook_deliveries, products, orders}` |

use super::orders::{self, Changes};
use super::rest_error::RestError;
use super::{AppState, WebhookStatus, bump, now_seconds};
use crate::catalog::CatalogProduct;
use crate::control::{control_error, json_body};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl AppState {
    /// Sets the stock of the product or variation with this SKU and sends `product.updated`;
    /// false when no product has the SKU.
    pub(super) fn set_stock(&self, sku: &str, quantity: i64) -> bool {
        let changed = {
            let mut store = self.store();
            let now = now_seconds();
            let Some(product) = store.products.values_mut().find(|p| p.has_sku(sku)) else {
                return false;
            };
            if product.is_variable() {
                for variation in product.variations.iter_mut().filter(|v| v.stocked.sku == sku) {
                    variation.stocked.manage_stock = true;
                    variation.stocked.stock_quantity = Some(quantity);
                    variation.date_modified = bump(variation.date_modified, now);
                }
            } else {
                product.stocked.manage_stock = true;
                product.stocked.stock_quantity = Some(quantity);
            }
            product.date_modified = bump(product.date_modified, now);
            product.id
        };
        self.emit_product("product.updated", changed);
        true
    }

    /// Renames the product with this slug and sends `product.updated`; false when unknown.
    pub(super) fn set_product_name(&self, slug: &str, name: &str) -> bool {
        let changed = {
            let mut store = self.store();
            let Some(product) = store.products.values_mut().find(|p| p.slug == slug) else {
                return false;
            };
            product.name = name.to_string();
            product.date_modified = bump(product.date_modified, now_seconds());
            product.id
        };
        self.emit_product("product.updated", changed);
        true
    }

    /// Adds a product created now and sends `product.created`; returns its id.
    pub(super) fn add_product(&self, product: CatalogProduct) -> u64 {
        let id = self.store().insert(product, now_seconds());
        self.emit_product("product.created", id);
        id
    }

    /// Deletes the product with this slug and sends `product.deleted` with only its id; false
    /// when unknown.
    pub(super) fn delete_product(&self, slug: &str) -> bool {
        let removed = {
            let mut store = self.store();
            let id = store.products.values().find(|p| p.slug == slug).map(|p| p.id);
            id.and_then(|id| store.products.remove(&id))
        };
        let Some(product) = removed else {
            return false;
        };
        self.webhooks.emit("product.deleted", &json!({"id": product.id}));
        true
    }

    /// Runs an order write on the locked store, then sends its webhooks.
    fn change_order(
        &self,
        write: impl FnOnce(&mut super::data::Store, i64) -> Result<(Value, Changes), RestError>,
    ) -> Result<Value, RestError> {
        let (order, changes) = write(&mut self.store(), now_seconds())?;
        self.announce(changes);
        Ok(order)
    }

    /// Moves an order to `status` as the shop manager does: the same stock side-effects and
    /// `order.updated` as `PUT /orders/{id}`.
    pub(super) fn set_order_status(&self, id: u64, status: &str) -> Result<Value, RestError> {
        let mut request = Map::new();
        request.insert("status".into(), json!(status));
        self.change_order(|store, now| orders::update_in(store, id, &request, now))
    }

    /// Sets (or, with `null`, deletes) the order meta `key` as `update_meta_data` does (the
    /// Shipment Tracking extension stores its items this way) and sends `order.updated`.
    pub(super) fn set_order_meta(&self, id: u64, key: &str, value: Value) -> Result<Value, RestError> {
        let mut request = Map::new();
        request.insert("meta_data".into(), json!([{ "key": key, "value": value }]));
        self.change_order(|store, now| orders::update_in(store, id, &request, now))
    }

    /// Moves an order to the trash and sends `order.deleted` with only its id.
    pub(super) fn trash_order(&self, id: u64) -> Result<Value, RestError> {
        self.change_order(|store, now| orders::trash_in(store, id, now))
    }

    /// Takes an order out of the trash and sends `order.restored`.
    pub(super) fn restore_order(&self, id: u64) -> Result<Value, RestError> {
        self.change_order(|store, now| orders::restore_in(store, id, now))
    }

    /// Every order, trashed ones too, oldest first, as `GET /orders/{id}` reads them.
    pub(super) fn orders(&self) -> Vec<Value> {
        self.store().orders.values().map(super::order_data::Order::json).collect()
    }
}

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_sandbox/products", post(add_product))
        .route("/_sandbox/stock", put(set_stock))
        .route("/_sandbox/products/{slug}/name", put(rename))
        .route("/_sandbox/products/{slug}", delete(remove))
        .route("/_sandbox/webhooks", post(subscribe))
        .route("/_sandbox/webhooks/{id}", get(webhook))
        .route("/_sandbox/orders", get(list_orders))
        .route("/_sandbox/orders/{id}/status", put(order_status))
        .route("/_sandbox/orders/{id}/meta", put(order_meta))
        .route("/_sandbox/orders/{id}", delete(trash_order))
        .route("/_sandbox/orders/{id}/restore", post(restore_order))
        .route("/_sandbox/stats", get(stats))
        .with_state(state)
}

type Answer = Result<Json<Value>, Response>;

fn not_found(what: String) -> Response {
    control_error(StatusCode::NOT_FOUND, what)
}

async fn add_product(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let product: CatalogProduct = json_body(&body, "bad body")?;
    Ok(Json(json!({ "id": state.add_product(product) })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockBody {
    sku: String,
    quantity: i64,
}

async fn set_stock(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body: StockBody = json_body(&body, "bad body")?;
    if !state.set_stock(&body.sku, body.quantity) {
        return Err(not_found(format!("no product or variation has the SKU {:?}", body.sku)));
    }
    Ok(Json(json!({ "sku": body.sku, "quantity": body.quantity })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
}

async fn rename(State(state): State<Arc<AppState>>, Path(slug): Path<String>, body: Bytes) -> Answer {
    let body: NameBody = json_body(&body, "bad body")?;
    if !state.set_product_name(&slug, &body.name) {
        return Err(not_found(format!("no product has the slug {slug:?}")));
    }
    Ok(Json(json!({ "slug": slug, "name": body.name })))
}

async fn remove(State(state): State<Arc<AppState>>, Path(slug): Path<String>) -> Answer {
    if !state.delete_product(&slug) {
        return Err(not_found(format!("no product has the slug {slug:?}")));
    }
    Ok(Json(json!({ "slug": slug, "deleted": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    topic: String,
    delivery_url: String,
    secret: String,
}

async fn subscribe(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body: WebhookBody = json_body(&body, "bad body")?;
    let id = state
        .webhooks
        .subscribe(&body.topic, &body.delivery_url, &body.secret)
        .map_err(|why| control_error(StatusCode::BAD_REQUEST, why))?;
    Ok(Json(json!({ "id": id })))
}

async fn webhook(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let known = id.parse::<u64>().ok().and_then(|id| Some((id, state.webhooks.status(id)?)));
    let Some((id, status)) = known else {
        return Err(not_found(format!("no webhook has the id {id:?}")));
    };
    let status = match status {
        WebhookStatus::Active => "active",
        WebhookStatus::Paused => "paused",
        WebhookStatus::Disabled => "disabled",
    };
    let failures = state.webhooks.failure_count(id).unwrap_or_default();
    Ok(Json(json!({ "id": id, "status": status, "failure_count": failures })))
}

/// A refused order change: 404 for an unknown order, 400 with core's reason otherwise.
fn order_refused(id: u64, refused: RestError) -> Response {
    if refused.status == StatusCode::NOT_FOUND {
        return not_found(format!("no order has the id {id}"));
    }
    let reason = match &refused.params {
        Some(params) => format!("{} ({}): {params}", refused.message, refused.code),
        None => format!("{} ({})", refused.message, refused.code),
    };
    control_error(StatusCode::BAD_REQUEST, format!("order {id}: {reason}"))
}

/// The order id in a control path.
fn order_id(id: &str) -> Option<u64> {
    id.trim().parse::<u64>().ok()
}

fn unknown_order(id: &str) -> Response {
    not_found(format!("no order has the id {id:?}"))
}

async fn list_orders(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(Value::Array(state.orders()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderStatusBody {
    status: String,
}

async fn order_status(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let body: OrderStatusBody = json_body(&body, "bad body")?;
    let id = order_id(&id).ok_or_else(|| unknown_order(&id))?;
    state.set_order_status(id, &body.status).map(Json).map_err(|e| order_refused(id, e))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderMetaBody {
    key: String,
    value: Value,
}

async fn order_meta(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let body: OrderMetaBody = json_body(&body, "bad body")?;
    let id = order_id(&id).ok_or_else(|| unknown_order(&id))?;
    state.set_order_meta(id, &body.key, body.value).map(Json).map_err(|e| order_refused(id, e))
}

async fn trash_order(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let id = order_id(&id).ok_or_else(|| unknown_order(&id))?;
    state.trash_order(id).map(Json).map_err(|e| order_refused(id, e))
}

async fn restore_order(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let id = order_id(&id).ok_or_else(|| unknown_order(&id))?;
    state.restore_order(id).map(Json).map_err(|e| order_refused(id, e))
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    let (products, orders) = {
        let store = state.store();
        (store.products.len(), store.orders.len())
    };
    Json(json!({
        "requests": state.requests.load(Ordering::Relaxed),
        "webhook_deliveries": state.webhooks.delivered(),
        "products": products,
        "orders": orders,
    }))
}
