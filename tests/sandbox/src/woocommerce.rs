//! A WooCommerce store's REST API v3 (`/wp-json/wc/v3`) over real HTTP: simple and variable
//! products with variations from a [`CatalogProduct`] catalog (a variation is also served as a
//! product of type `variation`, by id and by SKU), string prices, stock, orders whose status
//! moves stock as core WooCommerce does, with their line, shipping and fee items, merged meta
//! and the list filters a poller uses (`modified_after`, `orderby`, `created_via`…), order
//! notes, `page`/`per_page` paging with `X-WP-Total`, `X-WP-TotalPages` and `Link`, `_fields`,
//! consumer key auth, signed single-attempt webhooks for the product and order topics, order
//! refunds with restock, the batch endpoints, chaos knobs (500s, latency, malformed bodies),
//! and a control API over HTTP under `/_sandbox/` (see `control`).
//!
//! Choices where ../shared/reference is silent or marks WooCommerce unconfirmed: the store
//! currency is served at `/settings/general/woocommerce_currency` (the reference confirms the
//! settings resource; `/system_status` is much larger) and the store name by the WordPress
//! index `/wp-json/`; the default order of `GET /products` is `date` descending, as WordPress
//! lists posts; a page past the end is an empty list; stock changes (by orders or
//! [`WooSandbox::set_stock`]) send `product.updated` with the parent product.

mod auth;
mod batch;
mod control;
mod data;
mod fields;
mod meta;
mod order_data;
mod order_items;
mod order_query;
mod orders;
mod product_writes;
mod refunds;
mod rest;
mod rest_error;
mod webhooks;

pub use webhooks::{MAX_DELIVERY_FAILURES, TOPICS as WEBHOOK_TOPICS, WebhookStatus};

use crate::catalog::CatalogProduct;
pub use crate::chaos::Chaos;
use crate::chaos::{ChaosState, Fate};
use crate::server::ServerHandle;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use data::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use webhooks::Emitter;

/// Catalog product `i` was created at 2025-06-01T00:00:00Z plus `i` minutes.
const CATALOG_CREATED: i64 = 1_748_736_000;
/// Responses larger than this are not read back for the malformed-body knob.
const MAX_CHAOS_BODY: usize = 16 * 1024 * 1024;

/// What the sandbox store holds.
#[derive(Debug, Clone)]
pub struct WooConfig {
    /// The WordPress site title (`name` of `/wp-json/`).
    pub store_name: String,
    /// ISO 4217 code, `woocommerce_currency`; every price is in it.
    pub currency: String,
    /// `ck_…`, the REST API key's consumer key.
    pub consumer_key: String,
    /// `cs_…`, its consumer secret.
    pub consumer_secret: String,
    /// Products in creation order.
    pub catalog: Vec<CatalogProduct>,
}

/// A running sandbox store; dropping it stops the server.
pub struct WooSandbox {
    server: ServerHandle,
    state: Arc<AppState>,
}

impl std::fmt::Debug for WooSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooSandbox").field("base_url", &self.server.base_url()).finish_non_exhaustive()
    }
}

struct AppState {
    store_name: String,
    currency: String,
    consumer_key: String,
    consumer_secret: String,
    store: Mutex<Store>,
    base_url: OnceLock<String>,
    requests: AtomicU64,
    chaos: Arc<ChaosState>,
    webhooks: Emitter,
}

impl AppState {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("store lock is never poisoned: no code panics while holding it")
    }

    fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("http://127.0.0.1")
    }

    /// Sends `product.updated` (or another product topic) with the product as it is now.
    fn emit_product(&self, topic: &str, id: u64) {
        let payload = {
            let store = self.store();
            let Some(product) = store.products.get(&id) else {
                return;
            };
            store.product_json(product, self.base_url())
        };
        self.webhooks.emit(topic, &payload);
    }

    /// Sends `topic` for each of these products, as they are now.
    fn emit_products(&self, topic: &str, ids: &[u64]) {
        for id in ids {
            self.emit_product(topic, *id);
        }
    }

    /// Sends an order topic with the order as it is now; `order.deleted` carries only its id,
    /// as WooCommerce's does.
    fn emit_order(&self, topic: &str, id: u64) {
        let payload = if topic == "order.deleted" {
            json!({ "id": id })
        } else {
            match self.store().orders.get(&id) {
                Some(order) => order.json(),
                None => return,
            }
        };
        self.webhooks.emit(topic, &payload);
    }

    /// Sends the webhooks of a write, once the store's lock is released: each order topic
    /// once per order, then `product.updated` once per product whose stock moved.
    fn announce(&self, changes: orders::Changes) {
        let mut sent: Vec<(&str, u64)> = Vec::new();
        for (topic, id) in changes.orders {
            if !sent.contains(&(topic, id)) {
                sent.push((topic, id));
                self.emit_order(topic, id);
            }
        }
        let mut products = changes.products;
        products.sort_unstable();
        products.dedup();
        self.emit_products("product.updated", &products);
    }
}

impl WooSandbox {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(config: WooConfig) -> std::io::Result<Self> {
        Self::start_on(config, 0).await
    }

    /// Starts on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_on(config: WooConfig, port: u16) -> std::io::Result<Self> {
        let state = Arc::new(AppState {
            store_name: config.store_name,
            currency: config.currency,
            consumer_key: config.consumer_key,
            consumer_secret: config.consumer_secret,
            store: Mutex::new(Store::new(config.catalog, CATALOG_CREATED)),
            base_url: OnceLock::new(),
            requests: AtomicU64::new(0),
            chaos: Arc::default(),
            webhooks: Emitter::new(tokio::runtime::Handle::current()),
        });
        let server = ServerHandle::start(router(Arc::clone(&state)), port).await?;
        let _ = state.base_url.set(server.base_url());
        state.webhooks.set_source(server.base_url());
        tracing::info!(base_url = %server.base_url(), "woocommerce sandbox started");
        Ok(WooSandbox { server, state })
    }

    /// `http://127.0.0.1:PORT`; the REST API is at `/wp-json/wc/v3` below it.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The product id of a slug (the catalog handle).
    pub fn product_id(&self, slug: &str) -> Option<u64> {
        self.state.store().products.values().find(|p| p.slug == slug).map(|p| p.id)
    }

    /// Stock of the product or variation with this SKU.
    pub fn stock(&self, sku: &str) -> Option<i64> {
        let store = self.state.store();
        let product = store.product_with_sku(sku)?;
        if product.stocked.sku == sku && !product.is_variable() {
            return product.stocked.stock_quantity;
        }
        product.variations.iter().find(|v| v.stocked.sku == sku).and_then(|v| v.stocked.stock_quantity)
    }

    /// Sets the stock of the product or variation with this SKU (SKUs are unique in
    /// WooCommerce) and sends `product.updated`. Returns whether the SKU exists.
    pub fn set_stock(&self, sku: &str, quantity: i64) -> bool {
        self.state.set_stock(sku, quantity)
    }

    /// Renames the product with this slug and sends `product.updated`.
    pub fn set_product_name(&self, slug: &str, name: &str) -> bool {
        self.state.set_product_name(slug, name)
    }

    /// Adds a product created now and sends `product.created`; returns its id.
    pub fn add_product(&self, product: CatalogProduct) -> u64 {
        self.state.add_product(product)
    }

    /// Deletes the product with this slug for good (`force=true`) and sends `product.deleted`
    /// with only its id, as WooCommerce does.
    pub fn delete_product(&self, slug: &str) -> bool {
        self.state.delete_product(slug)
    }

    /// Every order, trashed ones too, oldest first, as `GET /orders/{id}` reads them.
    pub fn orders(&self) -> Vec<serde_json::Value> {
        self.state.orders()
    }

    /// Moves an order to `status` as the shop manager does in wp-admin: stock moves as core
    /// moves it and `order.updated` is sent. The order's JSON, or why it was refused.
    pub fn set_order_status(&self, id: u64, status: &str) -> Result<serde_json::Value, String> {
        self.state.set_order_status(id, status).map_err(|e| refusal(id, &e))
    }

    /// Sets the order meta `key` (a `null` value deletes it) as `update_meta_data` does, the
    /// way an extension such as Shipment Tracking stores its items, and sends `order.updated`.
    pub fn set_order_meta(
        &self,
        id: u64,
        key: &str,
        value: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        self.state.set_order_meta(id, key, value).map_err(|e| refusal(id, &e))
    }

    /// Moves an order to the trash and sends `order.deleted` with only its id.
    pub fn trash_order(&self, id: u64) -> Result<serde_json::Value, String> {
        self.state.trash_order(id).map_err(|e| refusal(id, &e))
    }

    /// Takes an order out of the trash, back to its status, and sends `order.restored`.
    pub fn restore_order(&self, id: u64) -> Result<serde_json::Value, String> {
        self.state.restore_order(id).map_err(|e| refusal(id, &e))
    }

    /// Creates an active webhook for `topic` (one of [`WEBHOOK_TOPICS`]) delivering to
    /// `delivery_url` (`http://…`), signed with `secret`; WooCommerce pings the URL first.
    /// Returns the webhook id, or `None` when the topic or URL is refused (logged).
    pub fn subscribe_webhook(&self, topic: &str, delivery_url: &str, secret: &str) -> Option<u64> {
        self.state
            .webhooks
            .subscribe(topic, delivery_url, secret)
            .map_err(|error| tracing::error!(%error, "webhook refused"))
            .ok()
    }

    /// A webhook's status; `Disabled` once deliveries failed more than
    /// [`MAX_DELIVERY_FAILURES`] times in a row.
    pub fn webhook_status(&self, id: u64) -> Option<WebhookStatus> {
        self.state.webhooks.status(id)
    }

    /// Consecutive failed deliveries of a webhook.
    pub fn webhook_failure_count(&self, id: u64) -> Option<u32> {
        self.state.webhooks.failure_count(id)
    }

    /// Sets a webhook's status as the admin would (`Active` again resets its failures).
    pub fn set_webhook_status(&self, id: u64, status: WebhookStatus) -> bool {
        self.state.webhooks.set_status(id, status)
    }

    /// Deliveries a receiver accepted (2xx, 301, 302); pings are not counted.
    pub fn webhook_deliveries(&self) -> u64 {
        self.state.webhooks.delivered()
    }

    /// Waits until no webhook delivery or ping is in flight.
    pub async fn wait_for_webhooks(&self) {
        self.state.webhooks.settled().await;
    }

    /// HTTP requests received so far, refused ones included.
    pub fn request_count(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Number of products in the store.
    pub fn product_count(&self) -> usize {
        self.state.store().products.len()
    }

    /// Replaces the chaos knobs; `Chaos::default()` turns them off. Throttled calls answer
    /// 429 with `Retry-After` (WooCommerce core has no REST rate limit; hosts and security
    /// plugins answer this way, so it is our choice of shape), failed ones 500, timed-out
    /// ones 504 after the hang, malformed ones a body cut in half after the call took effect.
    pub fn set_chaos(&self, chaos: Chaos) {
        self.state.chaos.set(chaos);
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

fn router(state: Arc<AppState>) -> Router {
    let api = rest::routes()
        .merge(orders::routes())
        .merge(refunds::routes())
        .merge(batch::routes())
        .route_layer(middleware::from_fn(fields::only_asked))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&state), authenticate));
    Router::new()
        .route("/wp-json", get(rest::index))
        .route("/wp-json/", get(rest::index))
        .merge(api)
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), chaos))
        .with_state(Arc::clone(&state))
        .merge(crate::chaos::routes(Arc::clone(&state.chaos)))
        .merge(control::routes(Arc::clone(&state)))
}

async fn no_route() -> Response {
    error(StatusCode::NOT_FOUND, "rest_no_route", "No route was found matching the URL and request method.")
}

async fn authenticate(
    State(state): State<Arc<AppState>>,
    Query(query): Query<BTreeMap<String, String>>,
    request: Request,
    next: Next,
) -> Response {
    let checked =
        auth::check(request.headers(), &query, request.method(), &state.consumer_key, &state.consumer_secret);
    match checked {
        Ok(()) => next.run(request).await,
        Err(refusal) => error(refusal.status, refusal.code, refusal.message),
    }
}

/// Counts the request, then applies the chaos knobs around the real answer.
async fn chaos(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let fate = state.chaos.fate().await;
    match fate {
        Fate::Throttle => {
            let mut response =
                error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many requests, retry later.");
            response.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
            return response;
        }
        Fate::Fail => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "There has been a critical error on this website.",
            );
        }
        Fate::Timeout => {
            return error(StatusCode::GATEWAY_TIMEOUT, "gateway_timeout", "The upstream server timed out.");
        }
        Fate::Serve | Fate::Malform => {}
    }
    let malformed = fate == Fate::Malform;
    let response = next.run(request).await;
    if !malformed || !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_CHAOS_BODY).await.unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    let mut response = Response::from_parts(parts, Body::from(cut));
    response.headers_mut().remove("content-length");
    response
}

/// WooCommerce's error body: `{code, message, data: {status}}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, json!({"code": code, "message": message, "data": {"status": status.as_u16()}}))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json; charset=UTF-8"));
    response
}

/// Why an order control was refused, naming the order and core's error code.
fn refusal(id: u64, refused: &rest_error::RestError) -> String {
    format!("order {id}: {} ({})", refused.message, refused.code)
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// `now`, but at least a second past `previous`, so `modified_after` pollers see every change.
fn bump(previous: i64, now: i64) -> i64 {
    now.max(previous + 1)
}

#[cfg(test)]
mod tests;
