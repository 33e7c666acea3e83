//! A Shopify store's Admin GraphQL API (version 2026-01) over real HTTP: products and
//! variants from a [`CatalogProduct`] catalog, `X-Shopify-Access-Token` auth, calculated query
//! cost with a leaky bucket and `THROTTLED` errors, Relay cursors. Control methods change the
//! catalog as a merchant would, for stock and price propagation tests.
//!
//! Choices where ../shared/reference marks Shopify's behaviour unconfirmed: throttling answers
//! HTTP 200 (Shopify is reported to use 200 and sometimes 429); the message for a page size over
//! 250 is ours; a stock change bumps the product's `updatedAt`.

mod cost;
mod data;
mod schema;
mod search;
mod timestamp;

pub use cost::CostLimits;

use crate::catalog::CatalogProduct;
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
        f.debug_struct("ShopifySandbox")
            .field("base_url", &self.server.base_url())
            .finish_non_exhaustive()
    }
}

struct AppState {
    schema: ShopSchema,
    access_token: String,
    data: ShopData,
    bucket: Mutex<Bucket>,
    requests: AtomicU64,
}

impl ShopifySandbox {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(config: ShopifyConfig) -> std::io::Result<Self> {
        Self::start_on(config, 0).await
    }

    /// Starts on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_on(config: ShopifyConfig, port: u16) -> std::io::Result<Self> {
        let state = Arc::new(AppState {
            schema: schema::build(ShopInfo {
                name: config.shop_name,
                currency: config.currency,
            }),
            access_token: config.access_token,
            data: ShopData::new(config.catalog),
            bucket: Mutex::new(Bucket::new(CostLimits::default())),
            requests: AtomicU64::new(0),
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

    /// Sets the stock of every variant with this SKU (Shopify does not keep SKUs unique).
    /// Returns whether any variant had it.
    pub fn set_variant_stock(&self, sku: &str, quantity: i64) -> bool {
        self.state.data.update(
            now_seconds(),
            |p| p.variants.iter().any(|v| v.sku == sku),
            |p, stamp| {
                for variant in p.variants.iter_mut().filter(|v| v.sku == sku) {
                    variant.inventory_quantity = quantity;
                    variant.updated_at = stamp;
                }
            },
        )
    }

    /// Renames the product with this handle and bumps its `updatedAt`. Returns whether it exists.
    pub fn set_product_title(&self, handle: &str, title: &str) -> bool {
        self.state.data.update(
            now_seconds(),
            |p| p.handle == handle,
            |p, _| p.title = title.to_string(),
        )
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
    json_response(
        StatusCode::NOT_FOUND,
        r#"{"errors":"Not Found"}"#.to_string(),
    )
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        "x-shopify-api-version",
        HeaderValue::from_static(API_VERSION),
    );
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
        return json_response(
            StatusCode::NOT_FOUND,
            r#"{"errors":"Not Found"}"#.to_string(),
        );
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(state.access_token.as_str()) {
        return json_response(StatusCode::UNAUTHORIZED, INVALID_TOKEN_BODY.to_string());
    }
    let request = request.into_inner();

    // A query that does not parse costs nothing; execution reports the syntax error.
    let requested = parse_query(&request.query).ok().and_then(|doc| {
        cost::requested_cost(&doc, request.operation_name.as_deref(), &request.variables)
    });
    let Some(requested) = requested else {
        let response = state.schema.execute(request).await;
        return json_response(
            StatusCode::OK,
            serde_json::to_string(&response).unwrap_or_default(),
        );
    };

    let limits = state
        .bucket
        .lock()
        .expect("bucket lock is never poisoned: no code panics while holding it")
        .limits();
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
            tracing::debug!(
                requested,
                available = status.currently_available,
                "throttled"
            );
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
    let actual = body
        .get("data")
        .map(cost::actual_cost)
        .unwrap_or(0)
        .min(requested);
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
        object.insert(
            "extensions".into(),
            json!({"cost": cost_json(requested, Some(actual), status)}),
        );
    }
    json_response(StatusCode::OK, body.to_string())
}

fn cost_json(
    requested: u64,
    actual: Option<u64>,
    status: cost::ThrottleStatus,
) -> serde_json::Value {
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
