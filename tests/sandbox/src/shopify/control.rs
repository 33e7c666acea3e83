//! The HTTP control API at `/_sandbox/*`: unauthenticated, outside the chaos layer, JSON in
//! and out, errors as `{"error": "..."}`. Every route calls the [`ShopifyControl`] method tests
//! call from Rust, so the two never diverge. (`GET|PUT /_sandbox/chaos` is the shared
//! `crate::chaos::routes`, merged beside these.)

use super::{BulkSettings, CostLimits, ShopifyControl, WebhookSettings};
use crate::catalog::{CatalogProduct, ProductStatus};
use crate::control::{control_error, json_body};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
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
        .route("/_sandbox/bulk", get(bulk).put(set_bulk))
        .route("/_sandbox/orders", get(orders))
        .route("/_sandbox/stats", get(stats))
        .with_state(control)
}

/// A handler's answer: the success or the error response.
type Answer = Result<Response, Response>;

fn no_product(handle: &str) -> Response {
    control_error(StatusCode::NOT_FOUND, format!("no product has the handle `{handle}`"))
}

async fn add_product(State(control): State<ShopifyControl>, bytes: Bytes) -> Answer {
    let product: CatalogProduct = json_body(&bytes, "not a catalog product")?;
    if product.variants.is_empty() {
        return Err(control_error(StatusCode::UNPROCESSABLE_ENTITY, "a product needs at least one variant"));
    }
    let (handle, id) = control.add_product_with_handle(product);
    Ok((StatusCode::CREATED, Json(json!({"handle": handle, "id": id}))).into_response())
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
) -> Answer {
    let wanted: StatusBody = json_body(&bytes, r#"not {"status": "active"|"draft"|"archived"}"#)?;
    if !control.set_product_status(&handle, wanted.status) {
        return Err(no_product(&handle));
    }
    Ok(Json(json!({"handle": handle, "status": wanted.status})).into_response())
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
) -> Answer {
    let wanted: TitleBody = json_body(&bytes, r#"not {"title": "..."}"#)?;
    if !control.set_product_title(&handle, &wanted.title) {
        return Err(no_product(&handle));
    }
    Ok(Json(json!({"handle": handle, "title": wanted.title})).into_response())
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

async fn set_stock(State(control): State<ShopifyControl>, bytes: Bytes) -> Answer {
    let wanted: StockBody = json_body(&bytes, r#"not {"sku": "...", "quantity": n}"#)?;
    if !control.set_variant_stock(&wanted.sku, wanted.quantity) {
        return Err(control_error(StatusCode::NOT_FOUND, format!("no variant has the SKU `{}`", wanted.sku)));
    }
    Ok(Json(json!({"sku": wanted.sku, "available": control.available(&wanted.sku)})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationBody {
    name: String,
}

async fn add_location(State(control): State<ShopifyControl>, bytes: Bytes) -> Answer {
    let wanted: LocationBody = json_body(&bytes, r#"not {"name": "..."}"#)?;
    let id = control.add_location(&wanted.name);
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": wanted.name}))).into_response())
}

async fn configure_webhooks(State(control): State<ShopifyControl>, bytes: Bytes) -> Answer {
    let settings: WebhookSettings = json_body(&bytes, "not webhook settings")?;
    if let Err(error) = control.configure_webhooks(&settings) {
        return Err(control_error(StatusCode::UNPROCESSABLE_ENTITY, error));
    }
    Ok(Json(json!({
        "address": settings.address,
        "subscriptions": control.webhook_subscription_count(),
    }))
    .into_response())
}

async fn set_cost_limits(State(control): State<ShopifyControl>, bytes: Bytes) -> Answer {
    let limits: CostLimits = json_body(&bytes, "not cost limits")?;
    let valid = limits.maximum_available.is_finite()
        && limits.maximum_available > 0.0
        && limits.restore_rate.is_finite()
        && limits.restore_rate >= 0.0
        && limits.single_query_max > 0;
    if !valid {
        let message = "maximum_available and single_query_max must be positive, restore_rate not negative";
        return Err(control_error(StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    control.set_cost_limits(limits);
    Ok(Json(control.cost_limits()).into_response())
}

async fn bulk(State(control): State<ShopifyControl>) -> Response {
    Json(json!({"settings": control.bulk_settings(), "operations": control.bulk_operations()}))
        .into_response()
}

async fn set_bulk(State(control): State<ShopifyControl>, bytes: Bytes) -> Answer {
    let settings: BulkSettings = json_body(&bytes, "not bulk settings")?;
    if let Some(problem) = settings.problem() {
        return Err(control_error(StatusCode::UNPROCESSABLE_ENTITY, problem));
    }
    control.set_bulk_settings(settings);
    Ok(Json(control.bulk_settings()).into_response())
}

async fn orders(State(control): State<ShopifyControl>) -> Response {
    Json(json!({"orders": control.orders()})).into_response()
}

async fn stats(State(control): State<ShopifyControl>) -> Response {
    Json(control.stats()).into_response()
}
