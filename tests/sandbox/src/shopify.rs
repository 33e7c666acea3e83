//! A Shopify store's Admin GraphQL API (version 2026-01) over real HTTP: products and
//! variants from a [`CatalogProduct`] catalog, `X-Shopify-Access-Token` auth, calculated query
//! cost with a leaky bucket and `THROTTLED` errors, Relay cursors, and signed webhooks for the
//! catalog topics. Control methods change the catalog as a merchant would, and emit the
//! webhooks Shopify would, for propagation tests.
//!
//! Choices where ../shared/reference marks Shopify's behaviour unconfirmed: throttling answers
//! HTTP 200 (Shopify is reported to use 200 and sometimes 429); the message for a page size over
//! 250 is ours; a stock change bumps the product's `updatedAt` and sends only
//! `inventory_levels/update`; the shop's domain is its name made a `*.myshopify.com` handle.

mod cost;
mod data;
mod rest;
mod schema;
mod search;
mod timestamp;
mod webhooks;

pub use cost::CostLimits;
pub use webhooks::TOPICS as WEBHOOK_TOPICS;

use crate::catalog::{CatalogProduct, ProductStatus};
use crate::server::ServerHandle;
use async_graphql::parser::parse_query;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cost::Bucket;
use data::ShopData;
use schema::{ShopInfo, ShopSchema};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use webhooks::Emitter;

/// The one Admin API version the sandbox speaks.
pub const API_VERSION: &str = "2026-01";

/// Shopify's body for a missing or wrong access token.
const INVALID_TOKEN_BODY: &str =
    r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;

/// What the sandbox shop holds.
#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    /// `shop { name }`.
    pub shop_name: String,
    /// ISO 4217 code, `shop { currencyCode }`; every price is in it.
    pub currency: String,
    /// The token clients must send as `X-Shopify-Access-Token`.
    pub access_token: String,
    /// Products in id order (`sortKey: ID` returns them in this order).
    pub catalog: Vec<CatalogProduct>,
}

/// A running sandbox shop; dropping it stops the server.
pub struct ShopifySandbox {
    server: ServerHandle,
    state: Arc<AppState>,
}

impl std::fmt::Debug for ShopifySandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifySandbox").field("base_url", &self.server.base_url()).finish_non_exhaustive()
    }
}

struct AppState {
    schema: ShopSchema,
    access_token: String,
    data: ShopData,
    bucket: Mutex<Bucket>,
    requests: AtomicU64,
    webhooks: Emitter,
}

impl ShopifySandbox {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(config: ShopifyConfig) -> std::io::Result<Self> {
        Self::start_on(config, 0).await
    }

    /// Starts on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_on(config: ShopifyConfig, port: u16) -> std::io::Result<Self> {
        let webhooks = Emitter::new(tokio::runtime::Handle::current(), shop_domain(&config.shop_name));
        let state = Arc::new(AppState {
            schema: schema::build(ShopInfo { name: config.shop_name, currency: config.currency }),
            access_token: config.access_token,
            data: ShopData::new(config.catalog),
            bucket: Mutex::new(Bucket::new(CostLimits::default())),
            requests: AtomicU64::new(0),
            webhooks,
        });
        let server = ServerHandle::start(router(Arc::clone(&state)), port).await?;
        tracing::info!(base_url = %server.base_url(), version = API_VERSION, "shopify sandbox started");
        Ok(ShopifySandbox { server, state })
    }

    /// `http://127.0.0.1:PORT`; the Admin API is at `/admin/api/2026-01/graphql.json` below it.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The Admin API version the sandbox serves.
    pub fn api_version(&self) -> &'static str {
        API_VERSION
    }

    /// Sets the stock of every variant with this SKU (Shopify does not keep SKUs unique) and
    /// sends `inventory_levels/update` for each. Returns whether any variant had it.
    pub fn set_variant_stock(&self, sku: &str, quantity: i64) -> bool {
        let changed = self.state.data.update(
            now_seconds(),
            |p| p.variants.iter().any(|v| v.sku == sku),
            |p, stamp| {
                for variant in p.variants.iter_mut().filter(|v| v.sku == sku) {
                    variant.inventory_quantity = quantity;
                    variant.updated_at = stamp;
                }
            },
        );
        for variant in changed.iter().flat_map(|p| &p.variants) {
            if variant.sku == sku {
                self.state.webhooks.emit("inventory_levels/update", &rest::inventory_level(variant));
            }
        }
        !changed.is_empty()
    }

    /// Renames the product with this handle, bumps its `updatedAt` and sends
    /// `products/update`. Returns whether it exists.
    pub fn set_product_title(&self, handle: &str, title: &str) -> bool {
        self.update_product(handle, |p| p.title = title.to_string())
    }

    /// Sets the status of the product with this handle, bumps its `updatedAt` and sends
    /// `products/update`. Returns whether it exists.
    pub fn set_product_status(&self, handle: &str, status: ProductStatus) -> bool {
        self.update_product(handle, |p| p.status = status)
    }

    fn update_product(&self, handle: &str, change: impl Fn(&mut data::ProductRecord)) -> bool {
        let changed = self.state.data.update(now_seconds(), |p| p.handle == handle, |p, _| change(p));
        for product in &changed {
            self.state.webhooks.emit("products/update", &rest::product(product));
        }
        !changed.is_empty()
    }

    /// Adds a product, created now with fresh ids, and sends `products/create`. Returns its
    /// GID. A handle already taken gets `-1`, `-2`… appended, as Shopify does.
    pub fn add_product(&self, product: CatalogProduct) -> String {
        let created = self.state.data.insert(product, now_seconds());
        self.state.webhooks.emit("products/create", &rest::product(&created));
        created.gid()
    }

    /// Deletes the product with this handle and sends `products/delete`. Returns whether it
    /// existed.
    pub fn delete_product(&self, handle: &str) -> bool {
        let Some(deleted) = self.state.data.remove(|p| p.handle == handle) else {
            return false;
        };
        self.state.webhooks.emit("products/delete", &rest::deleted_product(&deleted));
        true
    }

    /// Subscribes `address` (`http://host:port/path`) to [`WEBHOOK_TOPICS`], signing each
    /// delivery with `secret`. Subscribing an address again replaces its secret; an address
    /// that is not `http://` is refused and logged.
    pub fn subscribe_webhooks(&self, address: &str, secret: &str) {
        self.state.webhooks.subscribe(address, secret);
    }

    /// Webhook subscriptions; one is deleted when a delivery to it fails every retry.
    pub fn webhook_subscription_count(&self) -> usize {
        self.state.webhooks.subscription_count()
    }

    /// Retries after a failed delivery (Shopify: 8) and the wait before the first, doubling
    /// after (default 1 s; Shopify spreads its 8 over 4 hours). Applies to later events.
    pub fn set_webhook_retry(&self, attempts: u32, base: Duration) {
        self.state.webhooks.set_retry(attempts, base);
    }

    /// While paused, changes send no webhook, ever: a missed webhook, for reconciliation tests.
    pub fn set_webhooks_paused(&self, paused: bool) {
        self.state.webhooks.set_paused(paused);
    }

    /// Webhook deliveries a receiver answered with 2xx.
    pub fn webhook_deliveries(&self) -> u64 {
        self.state.webhooks.delivered()
    }

    /// Waits until no webhook delivery is in flight: each succeeded or used up its retries.
    pub async fn wait_for_webhooks(&self) {
        self.state.webhooks.settled().await;
    }

    /// `crossdock-demo-outfitters.myshopify.com`: the `X-Shopify-Shop-Domain` of webhooks.
    pub fn shop_domain(&self) -> &str {
        self.state.webhooks.shop_domain()
    }

    /// Number of products in the shop.
    pub fn product_count(&self) -> usize {
        self.state.data.len()
    }

    /// HTTP requests received so far, refused ones included.
    pub fn request_count(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Replaces the rate limits and refills the bucket (tests use a tiny bucket to see
    /// `THROTTLED`; benchmarks a huge one).
    pub fn set_cost_limits(&self, limits: CostLimits) {
        self.state
            .bucket
            .lock()
            .expect("bucket lock is never poisoned: no code panics while holding it")
            .reset(limits);
    }

    /// The current rate limits.
    pub fn cost_limits(&self) -> CostLimits {
        self.state
            .bucket
            .lock()
            .expect("bucket lock is never poisoned: no code panics while holding it")
            .limits()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// The shop's name as a `*.myshopify.com` domain (`Crossdock Demo` → `crossdock-demo`).
fn shop_domain(name: &str) -> String {
    let mut handle = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            handle.push(c.to_ascii_lowercase());
        } else if !handle.is_empty() && !handle.ends_with('-') {
            handle.push('-');
        }
    }
    let handle = handle.trim_end_matches('-');
    let handle = if handle.is_empty() { "sandbox" } else { handle };
    format!("{handle}.myshopify.com")
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(State(state): State<Arc<AppState>>) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    json_response(StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_string())
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert("x-shopify-api-version", HeaderValue::from_static(API_VERSION));
    response
}

#[tracing::instrument(skip_all, fields(version = %version))]
async fn graphql(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    request: async_graphql_axum::GraphQLRequest,
) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    if version != API_VERSION {
        return json_response(StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_string());
    }
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok());
    if token != Some(state.access_token.as_str()) {
        return json_response(StatusCode::UNAUTHORIZED, INVALID_TOKEN_BODY.to_string());
    }
    let request = request.into_inner();

    // A query that does not parse costs nothing; execution reports the syntax error.
    let requested = parse_query(&request.query)
        .ok()
        .and_then(|doc| cost::requested_cost(&doc, request.operation_name.as_deref(), &request.variables));
    let Some(requested) = requested else {
        let response = state.schema.execute(request).await;
        return json_response(StatusCode::OK, serde_json::to_string(&response).unwrap_or_default());
    };

    let limits =
        state.bucket.lock().expect("bucket lock is never poisoned: no code panics while holding it").limits();
    if requested > limits.single_query_max {
        let body = json!({
            "errors": [{
                "message": format!(
                    "Query cost is {requested}, which exceeds the single query max cost limit ({}).",
                    limits.single_query_max
                ),
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limits.single_query_max},
            }],
        });
        return json_response(StatusCode::OK, body.to_string());
    }

    let charged = state
        .bucket
        .lock()
        .expect("bucket lock is never poisoned: no code panics while holding it")
        .charge(requested);
    let status = match charged {
        Ok(status) => status,
        Err(status) => {
            tracing::debug!(requested, available = status.currently_available, "throttled");
            let body = json!({
                "errors": [{
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
                }],
                "extensions": {"cost": cost_json(requested, None, status)},
            });
            return json_response(StatusCode::OK, body.to_string());
        }
    };

    let snapshot = state.data.snapshot();
    let response = state.schema.execute(request.data(snapshot)).await;
    let mut body = match serde_json::to_value(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not encode a GraphQL response");
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"errors":"Internal Server Error"}"#.into(),
            );
        }
    };
    let actual = body.get("data").map(cost::actual_cost).unwrap_or(0).min(requested);
    let status = if actual < requested {
        state
            .bucket
            .lock()
            .expect("bucket lock is never poisoned: no code panics while holding it")
            .refund(requested - actual)
    } else {
        status
    };
    if let Some(object) = body.as_object_mut() {
        object.insert("extensions".into(), json!({"cost": cost_json(requested, Some(actual), status)}));
    }
    json_response(StatusCode::OK, body.to_string())
}

fn cost_json(requested: u64, actual: Option<u64>, status: cost::ThrottleStatus) -> serde_json::Value {
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": status.maximum_available,
            "currentlyAvailable": status.currently_available,
            "restoreRate": status.restore_rate,
        },
    })
}

#[cfg(test)]
mod tests;
