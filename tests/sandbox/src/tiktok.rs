//! A TikTok Shop Open API (version 202309 and later) sandbox over real HTTP: one seller with
//! one or more shops, signed requests checked as the real API checks them, products that go
//! through a review decided lazily on tokio's clock, and a 50 req/s limit per (shop, API).
//! Beside the catalog: OAuth token calls, orders and their status machine, packages shipped
//! with tracking, cancellations and returns, signed webhooks with retries (product reviews and
//! status moves included, sent when a review is decided), chaos knobs, and a control API over
//! HTTP under `/_sandbox/` (see `control`, `seller_center` for edits made outside the Open
//! API, `usage` for calls per API and token refreshes).
//! It follows ../shared/reference/tiktok-shop-api.md §1–9 and §11.

mod auth;
mod authorize;
mod control;
mod envelope;
mod fulfillment;
mod lifecycle;
mod logistics;
mod oauth;
mod orders;
mod paging;
mod platform_shipping;
mod product_body;
mod product_events;
mod products;
mod region;
mod returns;
mod reviewer;
mod routes;
mod seller_center;
mod shops;
mod state;
mod taxonomy;
#[cfg(test)]
mod tests;
mod usage;
mod webhooks;

pub use auth::sign;
pub use authorize::SERVICE_ID;
pub use orders::{OrderStatus, ShippingType};
pub use platform_shipping::PlatformShipment;
pub use seller_center::SellerEdit;
pub use usage::ApiCalls;
pub use webhooks::webhook_signature;

use crate::chaos::{Chaos, ChaosState};
use crate::server::ServerHandle;
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// How to start a sandbox: the app's credentials, the seller's shops, the review policy.
#[derive(Debug, Clone)]
pub struct TikTokConfig {
    /// The app key every call must carry as `app_key`.
    pub app_key: String,
    /// The secret requests are signed with.
    pub app_secret: String,
    /// The seller's shops, all reachable with the one access token.
    pub shops: Vec<ShopSpec>,
    /// How the review of new and edited products ends.
    pub review: ReviewPolicy,
}

impl Default for TikTokConfig {
    /// One US shop, approval after 2 s.
    fn default() -> Self {
        TikTokConfig {
            app_key: "sandbox-app-key".into(),
            app_secret: "sandbox-app-secret".into(),
            shops: vec![ShopSpec::new("Sandbox US Shop", "US", "USD")],
            review: ReviewPolicy::default(),
        }
    }
}

/// One shop of the seller. The currency must be the region's (reference §10): the real shops
/// response carries no currency, so connectors derive it from the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSpec {
    pub name: String,
    /// Market code (`US`, `GB`, `ID`…).
    pub region: String,
    /// ISO 4217 code of the region (`USD` for `US`).
    pub currency: String,
}

impl ShopSpec {
    pub fn new(name: impl Into<String>, region: impl Into<String>, currency: impl Into<String>) -> Self {
        ShopSpec { name: name.into(), region: region.into(), currency: currency.into() }
    }
}

/// How a submitted product's review ends, and when. The policy in force when a product is
/// submitted decides its review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// Time from submission to decision, on tokio's clock (`tokio::time::pause` works).
    pub delay: Duration,
    pub outcome: ReviewOutcome,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy { delay: Duration::from_secs(2), outcome: ReviewOutcome::Approve }
    }
}

/// The decision of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// PENDING becomes ACTIVATE (audit APPROVED).
    Approve,
    /// PENDING becomes FAILED with these `audit_failed_reasons`; an edit of a live product
    /// that fails leaves the live version as it was.
    Reject(Vec<String>),
}

/// A shop as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxShop {
    /// 19-digit shop id.
    pub id: String,
    pub name: String,
    pub region: String,
    pub currency: String,
    /// The `shop_cipher` of shop-scoped calls.
    pub cipher: String,
    /// The default SALES_WAREHOUSE.
    pub warehouse_id: String,
}

/// A product as tests see it: the newest content the seller sent, with its review settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxProduct {
    pub id: String,
    pub title: String,
    /// DRAFT, PENDING, FAILED, ACTIVATE, SELLER_DEACTIVATED or DELETED.
    pub status: String,
    /// NONE, AUDITING, APPROVED or FAILED (of the newest content).
    pub audit_status: String,
    pub skus: Vec<SandboxSku>,
    pub external_product_id: Option<String>,
    pub category_id: String,
    pub audit_failed_reasons: Vec<String>,
    /// `product_attributes` as sent, custom values with the ids the sandbox gave them.
    pub product_attributes: Vec<SandboxAttribute>,
}

/// A package of an order as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPackage {
    pub id: String,
    /// TO_FULFILL, PROCESSING, FULFILLING, COMPLETED or CANCELLED.
    pub status: String,
    /// The units in it (one line item per unit).
    pub line_item_ids: Vec<String>,
    pub shipping_provider_id: Option<String>,
    pub tracking_number: Option<String>,
}

/// One unit of an order as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUnit {
    pub id: String,
    pub seller_sku: String,
    pub package_id: Option<String>,
}

/// A product attribute of a product: value ids and names, in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxAttribute {
    pub id: String,
    pub value_ids: Vec<String>,
    pub value_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSku {
    pub id: String,
    pub seller_sku: String,
    pub price: SandboxMoney,
    /// Summed over warehouses.
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxMoney {
    pub amount: Decimal,
    pub currency: String,
}

/// What the HTTP handler shares.
#[derive(Debug)]
struct App {
    credentials: auth::Credentials,
    state: Mutex<state::State>,
    /// API calls received, refused ones included.
    requests: AtomicU64,
    webhooks: webhooks::Emitter,
    chaos: Arc<ChaosState>,
    /// Wakes the review timer: a product was submitted or a webhook address set.
    review_wake: Arc<Notify>,
}

impl App {
    fn lock_state(&self) -> MutexGuard<'_, state::State> {
        // The state stays consistent even if a holder panicked: every write is one step.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the webhooks raised under the state lock.
    fn flush_events(&self) {
        let events = std::mem::take(&mut self.lock_state().orders.outbox);
        if !events.is_empty() {
            self.webhooks.emit(events);
        }
    }
}

/// A running TikTok Shop sandbox.
#[derive(Debug)]
pub struct TikTokSandbox {
    server: ServerHandle,
    app: Arc<App>,
    /// Decides reviews when they fall due while a webhook address is set.
    _reviewer: reviewer::Reviewer,
}

impl TikTokSandbox {
    /// Starts on a free port.
    pub async fn start(config: TikTokConfig) -> std::io::Result<Self> {
        Self::start_on(config, 0).await
    }

    /// Starts on `127.0.0.1:port` (0 picks a free port). Fails with `InvalidInput` when a
    /// shop's region is not a TikTok Shop market or its currency is not the region's.
    pub async fn start_on(config: TikTokConfig, port: u16) -> std::io::Result<Self> {
        let state = state::State::new(&config.shops, config.review, envelope::unix_now())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let webhooks = webhooks::Emitter::new(
            tokio::runtime::Handle::current(),
            config.app_key.clone(),
            config.app_secret.clone(),
        );
        let app = Arc::new(App {
            credentials: auth::Credentials { app_key: config.app_key, app_secret: config.app_secret },
            state: Mutex::new(state),
            requests: AtomicU64::new(0),
            webhooks,
            chaos: Arc::default(),
            review_wake: Arc::default(),
        });
        let reviewer = reviewer::Reviewer::start(Arc::downgrade(&app), Arc::clone(&app.review_wake));
        let server = ServerHandle::start(routes::router(app.clone()), port).await?;
        Ok(TikTokSandbox { server, app, _reviewer: reviewer })
    }

    /// Registers the app's redirect URL, where the authorization page sends the seller's
    /// browser back (Partner Center's setting for the real app).
    pub fn register_redirect_url(&self, url: &str) {
        self.app.lock_state().grants.redirect_url = Some(url.to_string());
    }

    /// `http://127.0.0.1:PORT`, the Open API host (no trailing slash).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The seller's shops.
    pub fn shops(&self) -> Vec<SandboxShop> {
        self.state().sandbox_shops()
    }

    /// The seller's access token, valid for every shop; issued at start, expires 7 days later.
    pub fn access_token(&self) -> String {
        self.state().token.value.clone()
    }

    /// Makes the access token expired (calls then get 105002).
    pub fn expire_access_token(&self) {
        self.app.expire_access_token();
    }

    /// The shop's products in creation order, reviews settled as of now (none for an unknown
    /// cipher).
    pub fn products(&self, cipher: &str) -> Vec<SandboxProduct> {
        self.app.shop_products(cipher).unwrap_or_default()
    }

    /// One product of the shop, review settled as of now; none when it is another shop's or
    /// unknown (deleted products are still returned, with status DELETED).
    pub fn product(&self, cipher: &str, id: &str) -> Option<SandboxProduct> {
        self.app.shop_product(cipher, id)
    }

    /// Puts a live (ACTIVATE, audit APPROVED) product straight into the shop, as if the
    /// seller had listed it before Crossdock came: leaf `600001`, one SKU per seller SKU
    /// (price 10.00 in the shop's currency, 10 in stock, a `Variant` sales attribute when
    /// there are several). Returns the product id. Panics on an unknown cipher, an empty
    /// title or no seller SKU.
    pub fn seed_product(&self, cipher: &str, title: &str, seller_skus: &[&str]) -> String {
        self.app.seed_product(cipher, title, seller_skus).unwrap_or_else(|e| panic!("seed_product: {e}"))
    }

    /// Sets the policy for products submitted from now on.
    pub fn set_review(&self, policy: ReviewPolicy) {
        self.app.set_review(policy);
    }

    /// Sets the per-(shop, API) rate limit; `None` turns it off, as benchmarks need.
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.app.set_rate_limit(per_second);
    }

    /// API calls received so far, refused ones included.
    pub fn request_count(&self) -> u64 {
        self.app.requests.load(Ordering::Relaxed)
    }

    /// The shop's calls per API (the unit of the rate limit): admitted, throttled, and when
    /// the first and last were admitted. Empty for an unknown cipher.
    pub fn api_calls(&self, cipher: &str) -> Vec<ApiCalls> {
        self.app.api_calls(cipher)
    }

    /// Access tokens issued by `/api/v2/token/refresh` so far.
    pub fn token_refreshes(&self) -> u64 {
        self.app.token_refreshes()
    }

    /// The seller changes a product in Seller Center, outside the Open API (a SKU's price or
    /// stock, or hides it): what a connector sees only by reading the product back. Returns
    /// the product. Panics on an unknown shop, product or SKU, or a deactivation of a product
    /// that is not live.
    pub fn seller_edit(&self, cipher: &str, product_id: &str, edit: &SellerEdit) -> SandboxProduct {
        self.app.seller_edit(cipher, product_id, edit).unwrap_or_else(|e| panic!("seller_edit: {e}"))
    }

    /// A fresh single-use authorization code, valid 30 minutes on tokio's clock, as the
    /// seller's redirect after consent would carry; `/api/v2/token/get` exchanges it.
    pub fn authorization_code(&self) -> String {
        self.app.authorization_code()
    }

    /// The seller's refresh token (kept across refreshes).
    pub fn refresh_token(&self) -> String {
        self.app.refresh_token()
    }

    /// Places an order of `lines` (seller SKU of a live product of the shop, units), paid at
    /// once: UNPAID then AWAITING_SHIPMENT, with its package; stock is taken. Returns the order
    /// id. Panics on an unknown cipher or SKU, or too little stock.
    pub fn place_order(&self, cipher: &str, lines: &[(&str, u32)]) -> String {
        self.app.place_order(cipher, lines, true).unwrap_or_else(|e| panic!("place_order: {e}"))
    }

    /// `place_order` for an order TikTok ships itself (`shipping_type` TIKTOK): the seller's
    /// ship calls are refused on it, `ship_as_platform` ships it.
    pub fn place_order_shipped_by_tiktok(&self, cipher: &str, lines: &[(&str, u32)]) -> String {
        self.app
            .place_order_shipped_by(cipher, lines, ShippingType::Tiktok)
            .unwrap_or_else(|e| panic!("place_order_shipped_by_tiktok: {e}"))
    }

    /// TikTok ships `lines` (seller SKU, units; none: the rest) of a TikTok-shipped order with
    /// `provider` (a provider name, USPS when none), assigning the tracking number: a package
    /// per call, the order PARTIALLY_SHIPPING until every unit is shipped. Panics when the
    /// order is not TikTok-shipped or the units are not left to ship.
    pub fn ship_as_platform(
        &self,
        cipher: &str,
        order_id: &str,
        lines: &[(&str, u32)],
        provider: Option<&str>,
    ) -> PlatformShipment {
        self.app
            .ship_as_platform(cipher, order_id, lines, provider)
            .unwrap_or_else(|e| panic!("ship_as_platform: {e}"))
    }

    /// The order's packages, oldest first (none when the order is not the shop's).
    pub fn packages(&self, cipher: &str, order_id: &str) -> Vec<SandboxPackage> {
        let state = self.state();
        let Some(order) = state.orders.orders.get(order_id).filter(|o| o.cipher == cipher) else {
            return Vec::new();
        };
        order
            .packages
            .iter()
            .filter_map(|id| state.orders.packages.get(id))
            .map(|p| SandboxPackage {
                id: p.id.clone(),
                status: p.status.to_owned(),
                line_item_ids: p.line_item_ids.clone(),
                shipping_provider_id: p.shipping_provider_id.clone(),
                tracking_number: p.tracking_number.clone(),
            })
            .collect()
    }

    /// The order's units (line items), in order.
    pub fn units(&self, cipher: &str, order_id: &str) -> Vec<SandboxUnit> {
        let state = self.state();
        state
            .orders
            .orders
            .get(order_id)
            .filter(|o| o.cipher == cipher)
            .map(|o| {
                o.lines
                    .iter()
                    .map(|l| SandboxUnit {
                        id: l.id.clone(),
                        seller_sku: l.seller_sku.clone(),
                        package_id: l.package_id.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Places an UNPAID order; `advance_order` pays it (ON_HOLD or AWAITING_SHIPMENT).
    pub fn place_unpaid_order(&self, cipher: &str, lines: &[(&str, u32)]) -> String {
        self.app.place_order(cipher, lines, false).unwrap_or_else(|e| panic!("place_order: {e}"))
    }

    /// Moves an order as the buyer, the platform or the carrier would: UNPAID -> ON_HOLD or
    /// AWAITING_SHIPMENT, ON_HOLD -> AWAITING_SHIPMENT, AWAITING_COLLECTION -> IN_TRANSIT ->
    /// DELIVERED -> COMPLETED (AWAITING_SHIPMENT -> AWAITING_COLLECTION is Ship Package's).
    /// Emits a type 1 webhook. Panics on any other move or an unknown order.
    pub fn advance_order(&self, cipher: &str, order_id: &str, status: OrderStatus) {
        self.app.advance_order(cipher, order_id, status).unwrap_or_else(|e| panic!("advance_order: {e}"));
    }

    /// The order's status now; none when it is not the shop's.
    pub fn order_status(&self, cipher: &str, order_id: &str) -> Option<OrderStatus> {
        self.state().orders.orders.get(order_id).filter(|o| o.cipher == cipher).map(|o| o.status)
    }

    /// The buyer cancels: an UNPAID or ON_HOLD order is cancelled at once; an
    /// AWAITING_SHIPMENT one gets a pending request the seller approves or rejects. Returns the
    /// cancellation id. Panics when the order cannot be cancelled by the buyer.
    pub fn cancel_order_as_buyer(&self, cipher: &str, order_id: &str) -> String {
        self.app
            .cancel_order_as_buyer(cipher, order_id)
            .unwrap_or_else(|e| panic!("cancel_order_as_buyer: {e}"))
    }

    /// The buyer asks for a `REFUND` (from AWAITING_COLLECTION on) or a `RETURN_AND_REFUND`
    /// (once DELIVERED). Returns the return id. Panics when the order does not allow it.
    pub fn request_return(&self, cipher: &str, order_id: &str, return_type: &str) -> String {
        self.request_return_of(cipher, order_id, return_type, &[])
    }

    /// The buyer asks for a `REFUND` or `RETURN_AND_REFUND` of some order line items (one per
    /// unit; every line when empty). Returns the return id. Panics when the order does not
    /// allow it or a line is unknown or already in another return.
    pub fn request_return_of(
        &self,
        cipher: &str,
        order_id: &str,
        return_type: &str,
        line_ids: &[&str],
    ) -> String {
        let line_ids: Vec<String> = line_ids.iter().map(|l| (*l).to_owned()).collect();
        self.app
            .request_return(cipher, order_id, return_type, &line_ids)
            .unwrap_or_else(|e| panic!("request_return: {e}"))
    }

    /// The buyer ships an approved return back: AWAITING_BUYER_SHIP -> BUYER_SHIPPED_ITEM, with
    /// tracking number `RT<return id>` by USPS.
    pub fn return_shipped_by_buyer(&self, cipher: &str, return_id: &str) {
        let tracking = (format!("RT{return_id}"), "USPS".to_owned());
        self.return_shipped_with(cipher, return_id, tracking);
    }

    /// The buyer ships an approved return back with this (tracking number, provider).
    pub fn return_shipped_with(&self, cipher: &str, return_id: &str, tracking: (String, String)) {
        self.app
            .return_shipped_by_buyer(cipher, return_id, tracking)
            .unwrap_or_else(|e| panic!("return_shipped_by_buyer: {e}"));
    }

    /// The order line item ids of an order (one per unit), in order.
    pub fn order_line_ids(&self, cipher: &str, order_id: &str) -> Vec<String> {
        let state = self.state();
        let order = state.orders.orders.get(order_id).filter(|o| o.cipher == cipher);
        order.map(|o| o.lines.iter().map(|l| l.id.clone()).collect()).unwrap_or_default()
    }

    /// A return's `return_status`, when the shop has it.
    pub fn return_status(&self, cipher: &str, return_id: &str) -> Option<String> {
        let state = self.state();
        state.orders.returns.get(return_id).filter(|r| r.cipher == cipher).map(|r| r.status.to_owned())
    }

    /// The platform pays an approved refund or return: RETURN_OR_REFUND_REQUEST_SUCCESS ->
    /// RETURN_OR_REFUND_REQUEST_COMPLETE, with a type 12 webhook. Panics on any other state.
    pub fn refund_paid(&self, cipher: &str, return_id: &str) {
        self.app.refund_paid(cipher, return_id).unwrap_or_else(|e| panic!("refund_paid: {e}"));
    }

    /// The app-level webhook address (Partner Center's), for every event of every shop
    /// unless a shop set its own through the Event API. Only `http://` addresses; panics on
    /// anything else. From now on reviews are decided (and announced) when they fall due.
    pub fn subscribe_webhooks(&self, url: &str) {
        self.app.subscribe_webhooks(url).unwrap_or_else(|e| panic!("subscribe_webhooks: {e}"));
    }

    /// Retries after a failed delivery and the base of their waits: the waits are base × 1,
    /// 15, 90, 360 (2 min gives the documented +2 min, +30 min, +3 h, +12 h). Applies to events
    /// emitted from now on.
    pub fn set_webhook_retry(&self, retries: u32, base: Duration) {
        self.app.webhooks.set_retry(retries, base);
    }

    /// Webhook deliveries answered 200.
    pub fn webhook_deliveries(&self) -> u64 {
        self.app.webhooks.delivered()
    }

    /// Webhook attempts made, retries included.
    pub fn webhook_attempts(&self) -> u64 {
        self.app.webhooks.attempts()
    }

    /// Waits until no webhook delivery is in flight.
    pub async fn webhooks_settled(&self) {
        self.app.webhooks.settled().await;
    }

    /// Turns chaos on for the calls from now on (`Chaos::default()` turns it off). Throttled
    /// calls answer HTTP 429 / 36009002, failed ones HTTP 500 / 36009003, timed-out ones HTTP
    /// 504 after the hang, malformed ones an HTML page after the call took effect.
    pub fn set_chaos(&self, chaos: Chaos) {
        self.app.chaos.set(chaos);
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    fn state(&self) -> MutexGuard<'_, state::State> {
        self.app.lock_state()
    }
}
