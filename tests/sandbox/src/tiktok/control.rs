//! The control API: what a test, the demo or a plugin author does to the sandbox from outside
//! the Open API (seed listings, set the review policy, place and move orders as the buyer or the
//! carrier, point webhooks somewhere, read counters). Each control is one `App` method that
//! both `TikTokSandbox` and the HTTP routes call, so the two never diverge.
//!
//! Over HTTP it is unauthenticated JSON under `/_sandbox/`, mounted outside the Open API
//! handler so chaos, signing and rate limits never apply to it. Errors are `{"error": "..."}`:
//! 404 for an unknown shop, order or return, 400 for a body that does not parse or a value that
//! cannot be used, 409 for a call the state does not allow (a move the order machine refuses, an
//! unknown seller SKU, too little stock).
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /_sandbox/shops` | | `{shops: [{id, name, cipher, region, currency, warehouse_id}]}` |
//! | `POST /_sandbox/shops/{cipher}/products` | `{title, seller_skus}` | `{product_id}` |
//! | `GET /_sandbox/shops/{cipher}/products` | | `{products: [..]}`, reviews settled |
//! | `PUT /_sandbox/review` | `{outcome: approve\|reject, reasons?, delay_ms?}` | the policy |
//! | `PUT /_sandbox/rate-limit` | `{per_second: n\|null}` | the limit |
//! | `POST /_sandbox/shops/{cipher}/orders` | `{lines: [{seller_sku, quantity}], paid?, shipping_type?}` | `{order_id}` |
//! | `POST …/orders/{id}/advance` | `{status}` | `{order_id, status}` |
//! | `POST …/orders/{id}/platform-ship` | `{lines?: [{seller_sku, quantity}], shipping_provider?}` | `{package_id, order_line_item_ids, shipping_provider_id, shipping_provider_name, tracking_number}` |
//! | `POST …/orders/{id}/cancel` | | `{cancel_id}` |
//! | `POST …/orders/{id}/returns` | `{return_type, line_item_ids?}` | `{return_id}` |
//! | `POST …/returns/{id}/shipped` | `{tracking_number?, provider?}` | `{return_id, return_status}` |
//! | `POST …/returns/{id}/refund-paid` | | `{return_id, return_status}` |
//! | `PUT /_sandbox/webhooks` | `{url, retries?, base_ms?}` | `{url}` |
//! | `POST /_sandbox/access-token/expire` | | `{expired: true}` |
//! | `GET /_sandbox/stats` | | `{requests, webhook_deliveries, webhook_attempts}` |
//! | `GET /_sandbox/authorization` | | `{auth_code, refresh_token}` (a fresh code each call) |

use super::{
    App, OrderStatus, PlatformShipment, ReviewOutcome, ReviewPolicy, SandboxProduct, ShippingType, envelope,
    orders, platform_shipping, returns, state,
};
use crate::control::{control_error, json_body};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// Why a control call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ControlError {
    /// No such shop, order or return (404).
    NotFound(String),
    /// The sandbox's state does not allow the call (409).
    Conflict(String),
    /// A value that cannot be used (400).
    Invalid(String),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::NotFound(why) | ControlError::Conflict(why) | ControlError::Invalid(why) => {
                f.write_str(why)
            }
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match &self {
            ControlError::NotFound(_) => StatusCode::NOT_FOUND,
            ControlError::Conflict(_) => StatusCode::CONFLICT,
            ControlError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        control_error(status, self.to_string())
    }
}

impl App {
    fn known_shop(&self, cipher: &str) -> Result<state::Shop, ControlError> {
        self.lock_state()
            .shop(cipher)
            .cloned()
            .ok_or_else(|| ControlError::NotFound(format!("no shop has the cipher {cipher:?}")))
    }

    fn known_order(&self, cipher: &str, order_id: &str) -> Result<(), ControlError> {
        self.known_shop(cipher)?;
        let state = self.lock_state();
        match state.orders.orders.get(order_id) {
            Some(order) if order.cipher == cipher => Ok(()),
            _ => Err(ControlError::NotFound(format!("the shop has no order {order_id:?}"))),
        }
    }

    /// Puts a live product into the shop (see `TikTokSandbox::seed_product`).
    pub(crate) fn seed_product(
        &self,
        cipher: &str,
        title: &str,
        seller_skus: &[&str],
    ) -> Result<String, ControlError> {
        if title.trim().is_empty() {
            return Err(ControlError::Invalid("the title is empty".into()));
        }
        if seller_skus.is_empty() || seller_skus.iter().any(|s| s.trim().is_empty()) {
            return Err(ControlError::Invalid("a listing needs at least one non-empty seller SKU".into()));
        }
        let shop = self.known_shop(cipher)?;
        Ok(state::seed(&mut self.lock_state(), &shop, title, seller_skus, envelope::unix_now()))
    }

    /// The shop's products in creation order, reviews settled as of now.
    pub(crate) fn shop_products(&self, cipher: &str) -> Result<Vec<SandboxProduct>, ControlError> {
        self.known_shop(cipher)?;
        let products = {
            let mut state = self.lock_state();
            state.settle_all(Instant::now());
            state.products.values().filter(|p| p.cipher == cipher).map(|p| p.to_sandbox()).collect()
        };
        self.flush_events();
        Ok(products)
    }

    /// One product of the shop, review settled as of now.
    pub(crate) fn shop_product(&self, cipher: &str, id: &str) -> Option<SandboxProduct> {
        let product = {
            let mut state = self.lock_state();
            if state.products.get(id).is_some_and(|p| p.cipher == cipher) {
                state.settle(id, Instant::now());
            }
            state.products.get(id).filter(|p| p.cipher == cipher).map(|p| p.to_sandbox())
        };
        self.flush_events();
        product
    }

    pub(crate) fn set_review(&self, policy: ReviewPolicy) {
        self.lock_state().review = policy;
    }

    pub(crate) fn set_rate_limit(&self, per_second: Option<u32>) {
        self.lock_state().rate_per_sec = per_second.map(f64::from);
    }

    pub(crate) fn expire_access_token(&self) {
        self.lock_state().token.expires_at = envelope::unix_now() - 1;
    }

    /// Places an order of `lines`; `paid` moves it on to AWAITING_SHIPMENT at once.
    pub(crate) fn place_order(
        &self,
        cipher: &str,
        lines: &[(&str, u32)],
        paid: bool,
    ) -> Result<String, ControlError> {
        self.place_order_as(cipher, lines, paid, ShippingType::Seller)
    }

    /// Places a paid order shipped by `shipping_type`.
    pub(crate) fn place_order_shipped_by(
        &self,
        cipher: &str,
        lines: &[(&str, u32)],
        shipping_type: ShippingType,
    ) -> Result<String, ControlError> {
        self.place_order_as(cipher, lines, true, shipping_type)
    }

    fn place_order_as(
        &self,
        cipher: &str,
        lines: &[(&str, u32)],
        paid: bool,
        shipping_type: ShippingType,
    ) -> Result<String, ControlError> {
        self.known_shop(cipher)?;
        let placed = orders::place_shipped_by(&mut self.lock_state(), cipher, lines, shipping_type)
            .map_err(ControlError::Conflict);
        self.flush_events();
        let id = placed?;
        if paid {
            self.advance_order(cipher, &id, OrderStatus::AwaitingShipment)?;
        }
        Ok(id)
    }

    /// Moves an order as the buyer, the platform or the carrier would.
    pub(crate) fn advance_order(
        &self,
        cipher: &str,
        order_id: &str,
        status: OrderStatus,
    ) -> Result<(), ControlError> {
        self.known_order(cipher, order_id)?;
        let moved = orders::advance(&mut self.lock_state(), cipher, order_id, status);
        self.flush_events();
        moved.map_err(ControlError::Conflict)
    }

    /// TikTok ships units of a TikTok-shipped order with its own carrier and tracking.
    pub(crate) fn ship_as_platform(
        &self,
        cipher: &str,
        order_id: &str,
        lines: &[(&str, u32)],
        provider: Option<&str>,
    ) -> Result<PlatformShipment, ControlError> {
        self.known_order(cipher, order_id)?;
        let shipped = platform_shipping::ship(&mut self.lock_state(), cipher, order_id, lines, provider);
        self.flush_events();
        shipped.map_err(ControlError::Conflict)
    }

    /// The buyer cancels; returns the cancellation id.
    pub(crate) fn cancel_order_as_buyer(&self, cipher: &str, order_id: &str) -> Result<String, ControlError> {
        self.known_order(cipher, order_id)?;
        let cancelled = returns::buyer_cancel(&mut self.lock_state(), cipher, order_id);
        self.flush_events();
        cancelled.map_err(ControlError::Conflict)
    }

    /// The buyer asks for a REFUND or a RETURN_AND_REFUND of some line items (one per unit;
    /// every line when empty); returns the return id.
    pub(crate) fn request_return(
        &self,
        cipher: &str,
        order_id: &str,
        return_type: &str,
        line_ids: &[String],
    ) -> Result<String, ControlError> {
        self.known_order(cipher, order_id)?;
        if !matches!(return_type, "REFUND" | "RETURN_AND_REFUND") {
            return Err(ControlError::Invalid(format!(
                "unknown return type {return_type:?} (REFUND or RETURN_AND_REFUND)"
            )));
        }
        let requested =
            returns::buyer_return(&mut self.lock_state(), cipher, order_id, return_type, line_ids);
        self.flush_events();
        requested.map_err(ControlError::Conflict)
    }

    /// The buyer ships an approved return back with the parcel's (tracking number, provider).
    pub(crate) fn return_shipped_by_buyer(
        &self,
        cipher: &str,
        return_id: &str,
        tracking: (String, String),
    ) -> Result<(), ControlError> {
        self.known_shop(cipher)?;
        let known = self.lock_state().orders.returns.get(return_id).is_some_and(|r| r.cipher == cipher);
        if !known {
            return Err(ControlError::NotFound(format!("the shop has no return {return_id:?}")));
        }
        let shipped = returns::buyer_shipped(&mut self.lock_state(), cipher, return_id, tracking);
        self.flush_events();
        shipped.map_err(ControlError::Conflict)
    }

    /// The platform pays an approved refund: SUCCESS → COMPLETE, with a type 12 webhook.
    pub(crate) fn refund_paid(&self, cipher: &str, return_id: &str) -> Result<(), ControlError> {
        self.known_shop(cipher)?;
        let paid = returns::refund_paid(&mut self.lock_state(), cipher, return_id);
        self.flush_events();
        paid.map_err(ControlError::Conflict)
    }

    /// Sets the app-level webhook address; wakes the review timer, which now has someone to tell.
    pub(crate) fn subscribe_webhooks(&self, url: &str) -> Result<(), ControlError> {
        self.webhooks.subscribe(url).map_err(ControlError::Invalid)?;
        self.review_wake.notify_one();
        Ok(())
    }

    pub(crate) fn authorization_code(&self) -> String {
        self.lock_state().grants.issue_code(Instant::now())
    }

    pub(crate) fn refresh_token(&self) -> String {
        self.lock_state().grants.refresh_token.clone()
    }
}

/// The control routes, to be merged beside the Open API handler.
pub(crate) fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/_sandbox/shops", get(shops))
        .route("/_sandbox/shops/{cipher}/products", get(products).post(seed))
        .route("/_sandbox/review", put(review))
        .route("/_sandbox/rate-limit", put(rate_limit))
        .route("/_sandbox/shops/{cipher}/orders", post(place))
        .route("/_sandbox/shops/{cipher}/orders/{id}/advance", post(advance))
        .route("/_sandbox/shops/{cipher}/orders/{id}/platform-ship", post(platform_ship))
        .route("/_sandbox/shops/{cipher}/orders/{id}/cancel", post(cancel))
        .route("/_sandbox/shops/{cipher}/orders/{id}/returns", post(request_return))
        .route("/_sandbox/shops/{cipher}/returns/{id}/shipped", post(return_shipped))
        .route("/_sandbox/shops/{cipher}/returns/{id}/refund-paid", post(refund_paid))
        .route("/_sandbox/webhooks", put(webhooks))
        .route("/_sandbox/access-token/expire", post(expire))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/authorization", get(authorization))
        .route("/_sandbox/app/redirect-url", put(redirect_url))
        .with_state(app)
}

type Answer = Result<Json<Value>, Response>;

fn refused(error: ControlError) -> Response {
    error.into_response()
}

async fn shops(State(app): State<Arc<App>>) -> Json<Value> {
    let shops: Vec<Value> = app
        .lock_state()
        .sandbox_shops()
        .into_iter()
        .map(|s| {
            json!({ "id": s.id, "name": s.name, "cipher": s.cipher, "region": s.region,
                    "currency": s.currency, "warehouse_id": s.warehouse_id })
        })
        .collect();
    Json(json!({ "shops": shops }))
}

fn product_json(p: &SandboxProduct) -> Value {
    let skus: Vec<Value> = p
        .skus
        .iter()
        .map(|s| {
            json!({ "id": s.id, "seller_sku": s.seller_sku, "quantity": s.quantity,
                    "price": { "amount": s.price.amount.to_string(), "currency": s.price.currency } })
        })
        .collect();
    json!({
        "id": p.id, "title": p.title, "status": p.status, "audit_status": p.audit_status,
        "audit_failed_reasons": p.audit_failed_reasons, "category_id": p.category_id,
        "external_product_id": p.external_product_id, "skus": skus,
    })
}

async fn products(State(app): State<Arc<App>>, Path(cipher): Path<String>) -> Answer {
    let products = app.shop_products(&cipher).map_err(refused)?;
    Ok(Json(json!({ "products": products.iter().map(product_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    title: String,
    seller_skus: Vec<String>,
}

async fn seed(State(app): State<Arc<App>>, Path(cipher): Path<String>, body: Bytes) -> Answer {
    let body: SeedBody = json_body(&body, "bad body")?;
    let skus: Vec<&str> = body.seller_skus.iter().map(String::as_str).collect();
    let id = app.seed_product(&cipher, &body.title, &skus).map_err(refused)?;
    Ok(Json(json!({ "product_id": id })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum OutcomeName {
    Approve,
    Reject,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    outcome: OutcomeName,
    #[serde(default)]
    reasons: Vec<String>,
    /// The default policy's 2 s when left out.
    delay_ms: Option<u64>,
}

async fn review(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let body: ReviewBody = json_body(&body, "bad body")?;
    let outcome = match body.outcome {
        OutcomeName::Approve => ReviewOutcome::Approve,
        OutcomeName::Reject if body.reasons.is_empty() => {
            return Err(refused(ControlError::Invalid("a rejection needs at least one reason".into())));
        }
        OutcomeName::Reject => ReviewOutcome::Reject(body.reasons.clone()),
    };
    let delay = body.delay_ms.map_or(ReviewPolicy::default().delay, Duration::from_millis);
    let (name, reasons) = match &outcome {
        ReviewOutcome::Approve => ("approve", Vec::new()),
        ReviewOutcome::Reject(reasons) => ("reject", reasons.clone()),
    };
    app.set_review(ReviewPolicy { delay, outcome });
    Ok(Json(json!({ "outcome": name, "reasons": reasons, "delay_ms": delay.as_millis() as u64 })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    per_second: Option<u32>,
}

async fn rate_limit(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let body: RateBody = json_body(&body, "bad body")?;
    if body.per_second == Some(0) {
        return Err(refused(ControlError::Invalid(
            "per_second must be at least 1, or null for no limit".into(),
        )));
    }
    app.set_rate_limit(body.per_second);
    Ok(Json(json!({ "per_second": body.per_second })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineBody {
    seller_sku: String,
    quantity: u32,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderBody {
    lines: Vec<LineBody>,
    /// Paid at once (AWAITING_SHIPMENT) unless false (UNPAID).
    #[serde(default = "yes")]
    paid: bool,
    /// SELLER (the default) or TIKTOK.
    shipping_type: Option<String>,
}

async fn place(State(app): State<Arc<App>>, Path(cipher): Path<String>, body: Bytes) -> Answer {
    let body: OrderBody = json_body(&body, "bad body")?;
    let lines: Vec<(&str, u32)> = body.lines.iter().map(|l| (l.seller_sku.as_str(), l.quantity)).collect();
    let shipping_type = match body.shipping_type.as_deref() {
        None | Some("SELLER") => ShippingType::Seller,
        Some("TIKTOK") => ShippingType::Tiktok,
        Some(other) => {
            return Err(refused(ControlError::Invalid(format!(
                "unknown shipping_type {other:?} (SELLER or TIKTOK)"
            ))));
        }
    };
    let id = match shipping_type {
        ShippingType::Tiktok if !body.paid => {
            return Err(refused(ControlError::Invalid("a TikTok-shipped order is placed paid".into())));
        }
        ShippingType::Tiktok => app.place_order_shipped_by(&cipher, &lines, shipping_type),
        ShippingType::Seller => app.place_order(&cipher, &lines, body.paid),
    }
    .map_err(refused)?;
    Ok(Json(json!({ "order_id": id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformShipBody {
    #[serde(default)]
    lines: Vec<LineBody>,
    shipping_provider: Option<String>,
}

async fn platform_ship(
    State(app): State<Arc<App>>,
    Path((cipher, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body: PlatformShipBody = json_body(&body, "bad body")?;
    let lines: Vec<(&str, u32)> = body.lines.iter().map(|l| (l.seller_sku.as_str(), l.quantity)).collect();
    let shipped =
        app.ship_as_platform(&cipher, &id, &lines, body.shipping_provider.as_deref()).map_err(refused)?;
    Ok(Json(json!({
        "package_id": shipped.package_id,
        "order_line_item_ids": shipped.line_item_ids,
        "shipping_provider_id": shipped.shipping_provider_id,
        "shipping_provider_name": shipped.shipping_provider_name,
        "tracking_number": shipped.tracking_number,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    status: String,
}

async fn advance(
    State(app): State<Arc<App>>,
    Path((cipher, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body: AdvanceBody = json_body(&body, "bad body")?;
    let status = OrderStatus::parse(&body.status)
        .ok_or_else(|| refused(ControlError::Invalid(format!("unknown order status {:?}", body.status))))?;
    app.advance_order(&cipher, &id, status).map_err(refused)?;
    Ok(Json(json!({ "order_id": id, "status": status.as_str() })))
}

async fn cancel(State(app): State<Arc<App>>, Path((cipher, id)): Path<(String, String)>) -> Answer {
    let cancel_id = app.cancel_order_as_buyer(&cipher, &id).map_err(refused)?;
    Ok(Json(json!({ "cancel_id": cancel_id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnBody {
    return_type: String,
    #[serde(default)]
    line_item_ids: Vec<String>,
}

async fn request_return(
    State(app): State<Arc<App>>,
    Path((cipher, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body: ReturnBody = json_body(&body, "bad body")?;
    let return_id =
        app.request_return(&cipher, &id, &body.return_type, &body.line_item_ids).map_err(refused)?;
    Ok(Json(json!({ "return_id": return_id })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedBody {
    tracking_number: Option<String>,
    provider: Option<String>,
}

async fn return_shipped(
    State(app): State<Arc<App>>,
    Path((cipher, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body: ShippedBody =
        if body.is_empty() { ShippedBody::default() } else { json_body(&body, "bad body")? };
    let tracking = (
        body.tracking_number.unwrap_or_else(|| format!("RT{id}")),
        body.provider.unwrap_or_else(|| returns::DEFAULT_RETURN_PROVIDER.to_owned()),
    );
    app.return_shipped_by_buyer(&cipher, &id, tracking).map_err(refused)?;
    Ok(Json(json!({ "return_id": id, "return_status": "BUYER_SHIPPED_ITEM" })))
}

async fn refund_paid(State(app): State<Arc<App>>, Path((cipher, id)): Path<(String, String)>) -> Answer {
    app.refund_paid(&cipher, &id).map_err(refused)?;
    Ok(Json(json!({ "return_id": id, "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE" })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: String,
    retries: Option<u32>,
    base_ms: Option<u64>,
}

async fn webhooks(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let body: WebhookBody = json_body(&body, "bad body")?;
    app.subscribe_webhooks(&body.url).map_err(refused)?;
    if body.retries.is_some() || body.base_ms.is_some() {
        let (retries, base) = app.webhooks.retry();
        let retries = body.retries.unwrap_or(retries);
        let base = body.base_ms.map_or(base, Duration::from_millis);
        app.webhooks.set_retry(retries, base);
    }
    Ok(Json(json!({ "url": body.url })))
}

/// `{"url": "…"}`: the app's registered redirect URL, where the authorization page sends
/// the seller back.
async fn redirect_url(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    #[derive(serde::Deserialize)]
    struct Body {
        url: String,
    }
    let body: Body = json_body(&body, "bad body")?;
    app.lock_state().grants.redirect_url = Some(body.url.clone());
    Ok(Json(json!({ "url": body.url })))
}

async fn expire(State(app): State<Arc<App>>) -> Json<Value> {
    app.expire_access_token();
    Json(json!({ "expired": true }))
}

async fn stats(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({
        "requests": app.requests.load(Ordering::Relaxed),
        "webhook_deliveries": app.webhooks.delivered(),
        "webhook_attempts": app.webhooks.attempts(),
    }))
}

async fn authorization(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({ "auth_code": app.authorization_code(), "refresh_token": app.refresh_token() }))
}
