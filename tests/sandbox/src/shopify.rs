//! A Shopify store's Admin GraphQL API (version 2026-01) over real HTTP: products and
//! variants from a [`CatalogProduct`] catalog, locations and inventory levels, orders with
//! fulfillment orders, fulfillments, cancellations and refunds, `X-Shopify-Access-Token` auth,
//! calculated query cost with a leaky bucket and `THROTTLED` errors, Relay cursors, the
//! `@idempotent` directive, bulk query operations with their JSONL files at signed URLs
//! (`bulk.rs`), signed webhooks, and chaos knobs. Control methods change the shop as a
//! merchant would, and emit the webhooks Shopify would, for propagation tests.
//!
//! **Control API.** Besides Rust, the sandbox is driven over HTTP at `/_sandbox/*`
//! (unauthenticated, never throttled or failed by chaos, JSON in and out, errors as
//! `{"error": "..."}`): `GET|PUT /_sandbox/chaos`, `POST /_sandbox/products`,
//! `PUT /_sandbox/products/{handle}/status|title`, `DELETE /_sandbox/products/{handle}`,
//! `PUT /_sandbox/stock`, `POST /_sandbox/locations`, `PUT /_sandbox/webhooks`,
//! `PUT /_sandbox/cost-limits`, `GET|PUT /_sandbox/bulk`, `GET /_sandbox/orders`,
//! `GET /_sandbox/stats`. Each route calls the Rust method of the same name below (see
//! `shopify/control.rs`).
//!
//! Choices where ../shared/reference marks Shopify's behaviour unconfirmed (more in each
//! module's header): the cost bucket's throttling answers HTTP 200, chaos's 429 (Shopify is
//! reported to use both); the message for a page size over 250 is ours; a stock change bumps
//! the product's `updatedAt` and sends only `inventory_levels/update`; the shop's domain is its
//! name made a `*.myshopify.com` handle.

mod bulk;
mod control;
mod cost;
mod data;
mod endpoint;
mod fulfillment;
mod idempotency;
mod inventory;
mod oauth;
mod orders;
mod refunds;
mod rest;
mod scalars;
mod schema;
mod search;
mod shop;
mod timestamp;
mod user_error;
mod webhooks;

pub use oauth::{CLIENT_ID, CLIENT_SECRET, callback_hmac};
pub use webhooks::sign as sign_webhook;

pub use crate::chaos::Chaos;
pub use bulk::{BulkErrorCode, BulkOperationState, BulkSettings, BulkStatus};
pub use cost::CostLimits;
pub use webhooks::TOPICS as WEBHOOK_TOPICS;

use crate::catalog::{CatalogProduct, ProductStatus};
use crate::chaos::ChaosState;
use crate::server::ServerHandle;
use axum::Router;
use axum::middleware;
use axum::routing::post;
use bulk::BulkOperations;
use cost::Bucket;
use data::{InventoryPolicy, PRIMARY_LOCATION_ID, ShopData};
use schema::{ShopInfo, ShopSchema};
use shop::{Shop, now_seconds};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use webhooks::Emitter;

/// The one Admin API version the sandbox speaks.
pub const API_VERSION: &str = "2026-01";

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

/// A running sandbox shop; dropping it stops the server. Its control methods are those of
/// [`ShopifyControl`], which it dereferences to.
pub struct ShopifySandbox {
    server: ServerHandle,
    control: ShopifyControl,
}

/// The sandbox's control methods: what a merchant (or a test) does to the shop outside the
/// Admin API. The HTTP control API calls these same methods.
#[derive(Clone)]
pub struct ShopifyControl {
    state: Arc<AppState>,
}

impl std::fmt::Debug for ShopifyControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyControl").field("shop_domain", &self.shop_domain()).finish_non_exhaustive()
    }
}

impl std::ops::Deref for ShopifySandbox {
    type Target = ShopifyControl;

    fn deref(&self) -> &ShopifyControl {
        &self.control
    }
}

impl std::fmt::Debug for ShopifySandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifySandbox").field("base_url", &self.server.base_url()).finish_non_exhaustive()
    }
}

struct AppState {
    schema: ShopSchema,
    access_token: String,
    shop: Arc<Shop>,
    bucket: Mutex<Bucket>,
    /// Admin API requests, refused ones included (control calls are not counted).
    requests: AtomicU64,
    chaos: Arc<ChaosState>,
    /// Chaos failures so far; they rotate through 500, 502 and 503.
    failures: AtomicU64,
    bulk: Arc<BulkOperations>,
    /// Install codes not yet exchanged for the access token.
    oauth_codes: oauth::Codes,
}

impl AppState {
    fn bucket(&self) -> MutexGuard<'_, Bucket> {
        self.bucket.lock().expect("bucket lock is never poisoned: no code panics while holding it")
    }
}

/// Webhook settings, as `PUT /_sandbox/webhooks` takes them.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// `http://host:port/path` to deliver to.
    pub address: String,
    /// Signs each delivery (`X-Shopify-Hmac-Sha256`).
    pub secret: String,
    /// Retries after a failed delivery (Shopify: 8).
    pub attempts: Option<u32>,
    /// Wait before the first retry, in milliseconds, doubling after.
    pub base_ms: Option<u64>,
    /// While paused, changes send no webhook.
    pub paused: Option<bool>,
}

/// Counters for tests and benchmarks (`GET /_sandbox/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SandboxStats {
    /// Admin API requests, refused ones included.
    pub requests: u64,
    /// Webhook deliveries a receiver answered with 2xx.
    pub webhook_deliveries: u64,
    pub products: usize,
    pub orders: usize,
    /// Bulk operation result downloads, refused ones included.
    pub bulk_downloads: u64,
}

impl ShopifySandbox {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(config: ShopifyConfig) -> std::io::Result<Self> {
        Self::start_on(config, 0).await
    }

    /// Starts on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_on(config: ShopifyConfig, port: u16) -> std::io::Result<Self> {
        let webhooks = Emitter::new(tokio::runtime::Handle::current(), shop_domain(&config.shop_name));
        let shop = Arc::new(Shop {
            data: ShopData::new(config.catalog),
            webhooks,
            currency: config.currency.clone(),
        });
        let info = ShopInfo { name: config.shop_name, currency: config.currency };
        let bulk = Arc::new(BulkOperations::default());
        let state = Arc::new(AppState {
            schema: schema::build(info, Arc::clone(&shop), Arc::clone(&bulk)),
            access_token: config.access_token,
            shop,
            bucket: Mutex::new(Bucket::new(CostLimits::default())),
            requests: AtomicU64::new(0),
            chaos: Arc::default(),
            failures: AtomicU64::new(0),
            bulk,
            oauth_codes: oauth::Codes::default(),
        });
        let control = ShopifyControl { state };
        let server = ServerHandle::start(router(control.clone()), port).await?;
        control.state.bulk.set_base_url(server.base_url());
        tracing::info!(base_url = %server.base_url(), version = API_VERSION, "shopify sandbox started");
        Ok(ShopifySandbox { server, control })
    }

    /// `http://127.0.0.1:PORT`; the Admin API is at `/admin/api/2026-01/graphql.json` below it.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The Admin API version the sandbox serves.
    pub fn api_version(&self) -> &'static str {
        API_VERSION
    }

    /// A handle on the control methods that can outlive this borrow.
    pub fn control(&self) -> ShopifyControl {
        self.control.clone()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

impl ShopifyControl {
    /// Sets the `available` stock at the primary location of every variant with this SKU
    /// (Shopify does not keep SKUs unique) and sends `inventory_levels/update` for each.
    /// Returns whether any variant had it.
    pub fn set_variant_stock(&self, sku: &str, quantity: i64) -> bool {
        let now = now_seconds();
        let Ok(written) = self.state.shop.write(|shop, events| -> Result<bool, Infallible> {
            let mut found = false;
            for p in 0..shop.products.len() {
                for v in 0..shop.products[p].variants.len() {
                    let variant = &shop.products[p].variants[v];
                    if variant.sku != sku {
                        continue;
                    }
                    found = true;
                    let current = variant.level(PRIMARY_LOCATION_ID).map_or(0, |l| l.available);
                    inventory::shift(shop, (p, v), PRIMARY_LOCATION_ID, quantity - current, 0, now, events);
                }
            }
            Ok(found)
        });
        written.value
    }

    /// `available` units of the first variant with this SKU, across every location.
    pub fn available(&self, sku: &str) -> Option<i64> {
        let snapshot = self.state.shop.snapshot();
        let found = snapshot.products.iter().flat_map(|p| &p.variants).find(|v| v.sku == sku);
        found.map(data::VariantRecord::inventory_quantity)
    }

    /// `on_hand` units of the first variant with this SKU, across every location.
    pub fn on_hand(&self, sku: &str) -> Option<i64> {
        let snapshot = self.state.shop.snapshot();
        let found = snapshot.products.iter().flat_map(|p| &p.variants).find(|v| v.sku == sku);
        found.map(|v| v.levels.iter().map(data::LevelRecord::on_hand).sum())
    }

    /// Lets every variant with this SKU sell below 0 (`CONTINUE`) or not (`DENY`, the default).
    /// Returns whether any variant had it.
    pub fn set_continue_selling(&self, sku: &str, continue_selling: bool) -> bool {
        let policy = if continue_selling { InventoryPolicy::Continue } else { InventoryPolicy::Deny };
        let changed = self.state.shop.data.update(
            now_seconds(),
            |p| p.variants.iter().any(|v| v.sku == sku),
            |p, _| {
                for variant in p.variants.iter_mut().filter(|v| v.sku == sku) {
                    variant.inventory_policy = policy;
                }
            },
        );
        !changed.is_empty()
    }

    /// Adds a location where every item is stocked at 0; returns its GID. The shop starts with
    /// one, `Shop location`.
    pub fn add_location(&self, name: &str) -> String {
        self.state.shop.data.add_location(name, now_seconds()).gid()
    }

    /// Every order in creation order, in the REST shape (`GET /_sandbox/orders`): line items,
    /// fulfillments, refunds and transactions included.
    pub fn orders(&self) -> Vec<serde_json::Value> {
        self.state.shop.snapshot().orders.iter().map(|o| rest::order(o)).collect()
    }

    /// Number of orders.
    pub fn order_count(&self) -> usize {
        self.state.shop.snapshot().orders.len()
    }

    /// Request, delivery, product and order counts.
    pub fn stats(&self) -> SandboxStats {
        let snapshot = self.state.shop.snapshot();
        SandboxStats {
            requests: self.request_count(),
            webhook_deliveries: self.webhook_deliveries(),
            products: snapshot.products.len(),
            orders: snapshot.orders.len(),
            bulk_downloads: self.state.bulk.downloads(),
        }
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
        let changed = self.state.shop.data.update(now_seconds(), |p| p.handle == handle, |p, _| change(p));
        for product in &changed {
            self.state.shop.webhooks.emit("products/update", &rest::product(product));
        }
        !changed.is_empty()
    }

    /// Adds a product, created now with fresh ids, and sends `products/create`. Returns its
    /// GID. A handle already taken gets `-1`, `-2`… appended, as Shopify does.
    pub fn add_product(&self, product: CatalogProduct) -> String {
        self.add_product_with_handle(product).1
    }

    /// [`add_product`](Self::add_product), returning the handle it got and its GID.
    pub fn add_product_with_handle(&self, product: CatalogProduct) -> (String, String) {
        let created = self.state.shop.data.insert(product, now_seconds());
        self.state.shop.webhooks.emit("products/create", &rest::product(&created));
        (created.handle.clone(), created.gid())
    }

    /// Deletes the product with this handle and sends `products/delete`. Returns whether it
    /// existed.
    pub fn delete_product(&self, handle: &str) -> bool {
        let Some(deleted) = self.state.shop.data.remove(|p| p.handle == handle) else {
            return false;
        };
        self.state.shop.webhooks.emit("products/delete", &rest::deleted_product(&deleted));
        true
    }

    /// Subscribes `address` (`http://host:port/path`) to [`WEBHOOK_TOPICS`], signing each
    /// delivery with `secret`. Subscribing an address again replaces its secret; an address
    /// that is not `http://` is refused and logged.
    pub fn subscribe_webhooks(&self, address: &str, secret: &str) {
        if let Err(error) = self.state.shop.webhooks.subscribe(address, secret) {
            tracing::error!(%error, "webhook subscription refused");
        }
    }

    /// Subscribes as [`subscribe_webhooks`](Self::subscribe_webhooks) does and applies the
    /// optional retry and pause settings; an address that is not `http://` is refused.
    pub fn configure_webhooks(&self, settings: &WebhookSettings) -> Result<(), String> {
        self.state.shop.webhooks.subscribe(&settings.address, &settings.secret)?;
        if settings.attempts.is_some() || settings.base_ms.is_some() {
            let attempts = settings.attempts.unwrap_or(8);
            let base = Duration::from_millis(settings.base_ms.unwrap_or(1000));
            self.set_webhook_retry(attempts, base);
        }
        if let Some(paused) = settings.paused {
            self.set_webhooks_paused(paused);
        }
        Ok(())
    }

    /// Webhook subscriptions; one is deleted when a delivery to it fails every retry.
    pub fn webhook_subscription_count(&self) -> usize {
        self.state.shop.webhooks.subscription_count()
    }

    /// Retries after a failed delivery (Shopify: 8) and the wait before the first, doubling
    /// after (default 1 s; Shopify spreads its 8 over 4 hours). Applies to later events.
    pub fn set_webhook_retry(&self, attempts: u32, base: Duration) {
        self.state.shop.webhooks.set_retry(attempts, base);
    }

    /// While paused, changes send no webhook, ever: a missed webhook, for reconciliation tests.
    pub fn set_webhooks_paused(&self, paused: bool) {
        self.state.shop.webhooks.set_paused(paused);
    }

    /// Webhook deliveries a receiver answered with 2xx.
    pub fn webhook_deliveries(&self) -> u64 {
        self.state.shop.webhooks.delivered()
    }

    /// Waits until no webhook delivery is in flight: each succeeded or used up its retries.
    pub async fn wait_for_webhooks(&self) {
        self.state.shop.webhooks.settled().await;
    }

    /// `crossdock-demo-outfitters.myshopify.com`: the `X-Shopify-Shop-Domain` of webhooks.
    pub fn shop_domain(&self) -> &str {
        self.state.shop.webhooks.shop_domain()
    }

    /// Number of products in the shop.
    pub fn product_count(&self) -> usize {
        self.state.shop.data.len()
    }

    /// HTTP requests received so far, refused ones included.
    pub fn request_count(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Replaces the rate limits and refills the bucket (tests use a tiny bucket to see
    /// `THROTTLED`; benchmarks a huge one).
    pub fn set_cost_limits(&self, limits: CostLimits) {
        self.state.bucket().reset(limits);
    }

    /// The current rate limits.
    pub fn cost_limits(&self) -> CostLimits {
        self.state.bucket().limits()
    }

    /// Replaces the chaos knobs (`Chaos::default()` turns them off). Throttled calls answer
    /// HTTP 429 with the `THROTTLED` body, failed ones 500, 502 or 503, timed-out ones 504
    /// after the hang, malformed ones a body cut in half after the call took effect.
    pub fn set_chaos(&self, chaos: Chaos) {
        self.state.chaos.set(chaos);
    }

    /// The chaos knobs in force.
    pub fn chaos(&self) -> Chaos {
        self.state.chaos.get()
    }

    /// Replaces how bulk operations run: how long they stay `RUNNING`, how many may run at
    /// once, and whether the next one fails.
    pub fn set_bulk_settings(&self, settings: BulkSettings) {
        self.state.bulk.set_settings(settings);
    }

    /// How bulk operations run now.
    pub fn bulk_settings(&self) -> BulkSettings {
        self.state.bulk.settings()
    }

    /// Every bulk operation, oldest first, as a client would read it now.
    pub fn bulk_operations(&self) -> Vec<BulkOperationState> {
        self.state.bulk.all()
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

fn router(control: ShopifyControl) -> Router {
    let state = Arc::clone(&control.state);
    let api = Router::new()
        .route("/admin/api/{version}/graphql.json", post(endpoint::graphql))
        .fallback(endpoint::not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), endpoint::chaos))
        .with_state(Arc::clone(&state));
    // Control routes sit outside the chaos layer: they are never throttled or failed. Bulk
    // result files have their own (they come from a storage bucket, not the Admin API).
    api.merge(bulk::download::routes(Arc::clone(&state)))
        .merge(oauth::routes(Arc::clone(&state)))
        .merge(control::routes(control))
        .merge(crate::chaos::routes(Arc::clone(&state.chaos)))
}

#[cfg(test)]
mod tests;
