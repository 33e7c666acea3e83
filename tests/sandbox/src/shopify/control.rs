//! The HTTP control API at `/_sandbox/*`: unauthenticated, outside the chaos layer, JSON in
//! and out, errors as `{"error": "..."}`. Every route calls the [`ShopifyControl`] method tests
//! call from Rust, so the two never diverge. (`GET|PUT /_sandbox/chaos` is the shared
//! `crate::chaos::routes`, merged beside these.)

use super::{CostLimits, ShopifyControl, WebhookSettings};
use crate::catalog::{CatalogProduct, ProductStatus};
use crate::chaos::control_error;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// The control routes over `control`.
pub fn routes(control: ShopifyControl) -> Router {
    Router::new()
        .route("/_sandbox/products", post(add_product))
        .route("/_sandbox/products/{handle}/status", put(set_status))
        .route("/_sandbox/products/{handle}/title", put(set_title))
        .route("/_sandbox/products/{handle}", delete(delete_product))
        .route("/_sandbox/stock", put(set_stock))
        .route("/_sandbox/locations", post(add_location))
        .route("/_sandbox/webhooks", put(configure_webhooks))
        .route("/_sandbox/cost-limits", put(set_cost_limits))
        .route("/_sandbox/orders", get(orders))
        .route("/_sandbox/stats", get(stats))
        .with_state(control)
}

/// Reads a JSON body, or says why it could not (the caller answers 400).
fn body<T: DeserializeOwned>(bytes: &Bytes, what: &str) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|error| format!("not {what}: {error}"))
}

fn no_product(handle: &str) -> Response {
    control_error(StatusCode::NOT_FOUND, format!("no product has the handle `{handle}`"))
}

async fn add_product(State(control): State<ShopifyControl>, bytes: Bytes) -> Response {
    let product: CatalogProduct = match body(&bytes, "a catalog product") {
        Ok(product) => product,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    if product.variants.is_empty() {
        return control_error(StatusCode::UNPROCESSABLE_ENTITY, "a product needs at least one variant");
    }
    let (handle, id) = control.add_product_with_handle(product);
    (StatusCode::CREATED, Json(json!({"handle": handle, "id": id}))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: ProductStatus,
}

async fn set_status(
    State(control): State<ShopifyControl>,
    Path(handle): Path<String>,
    bytes: Bytes,
) -> Response {
    let wanted: StatusBody = match body(&bytes, r#"{"status": "active"|"draft"|"archived"}"#) {
        Ok(wanted) => wanted,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    if !control.set_product_status(&handle, wanted.status) {
        return no_product(&handle);
    }
    Json(json!({"handle": handle, "status": wanted.status})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TitleBody {
    title: String,
}

async fn set_title(
    State(control): State<ShopifyControl>,
    Path(handle): Path<String>,
    bytes: Bytes,
) -> Response {
    let wanted: TitleBody = match body(&bytes, r#"{"title": "..."}"#) {
        Ok(wanted) => wanted,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    if !control.set_product_title(&handle, &wanted.title) {
        return no_product(&handle);
    }
    Json(json!({"handle": handle, "title": wanted.title})).into_response()
}

async fn delete_product(State(control): State<ShopifyControl>, Path(handle): Path<String>) -> Response {
    if !control.delete_product(&handle) {
        return no_product(&handle);
    }
    Json(json!({"handle": handle, "deleted": true})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockBody {
    sku: String,
    quantity: i64,
}

async fn set_stock(State(control): State<ShopifyControl>, bytes: Bytes) -> Response {
    let wanted: StockBody = match body(&bytes, r#"{"sku": "...", "quantity": n}"#) {
        Ok(wanted) => wanted,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    if !control.set_variant_stock(&wanted.sku, wanted.quantity) {
        return control_error(StatusCode::NOT_FOUND, format!("no variant has the SKU `{}`", wanted.sku));
    }
    Json(json!({"sku": wanted.sku, "available": control.available(&wanted.sku)})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationBody {
    name: String,
}

async fn add_location(State(control): State<ShopifyControl>, bytes: Bytes) -> Response {
    let wanted: LocationBody = match body(&bytes, r#"{"name": "..."}"#) {
        Ok(wanted) => wanted,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    let id = control.add_location(&wanted.name);
    (StatusCode::CREATED, Json(json!({"id": id, "name": wanted.name}))).into_response()
}

async fn configure_webhooks(State(control): State<ShopifyControl>, bytes: Bytes) -> Response {
    let settings: WebhookSettings = match body(&bytes, "webhook settings") {
        Ok(settings) => settings,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    if let Err(error) = control.configure_webhooks(&settings) {
        return control_error(StatusCode::UNPROCESSABLE_ENTITY, error);
    }
    Json(json!({
        "address": settings.address,
        "subscriptions": control.webhook_subscription_count(),
    }))
    .into_response()
}

async fn set_cost_limits(State(control): State<ShopifyControl>, bytes: Bytes) -> Response {
    let limits: CostLimits = match body(&bytes, "cost limits") {
        Ok(limits) => limits,
        Err(message) => return control_error(StatusCode::BAD_REQUEST, message),
    };
    let valid = limits.maximum_available.is_finite()
        && limits.maximum_available > 0.0
        && limits.restore_rate.is_finite()
        && limits.restore_rate >= 0.0
        && limits.single_query_max > 0;
    if !valid {
        let message = "maximum_available and single_query_max must be positive, restore_rate not negative";
        return control_error(StatusCode::UNPROCESSABLE_ENTITY, message);
    }
    control.set_cost_limits(limits);
    Json(control.cost_limits()).into_response()
}

async fn orders(State(control): State<ShopifyControl>) -> Response {
    Json(json!({"orders": control.orders()})).into_response()
}

async fn stats(State(control): State<ShopifyControl>) -> Response {
    Json(control.stats()).into_response()
}
