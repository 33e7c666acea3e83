//! Routing of `/{category}/{version}/{resource}` (reference §1, §11.1): one fallback handler
//! resolves the endpoint, checks the version, runs the request checks and the rate limit, then
//! calls the endpoint with the state locked.

use super::App;
use super::auth::{self, ApiRequest, CipherRule};
use super::envelope::{self, ApiError, code};
use super::lifecycle::{self, Operation};
use super::{
    control, fulfillment, logistics, oauth, orders, products, returns, seller_center, shops, taxonomy, usage,
};
use crate::chaos::{self, Fate};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use tokio::time::Instant;

/// The oldest version the sandbox serves; newer version segments reach the same resources.
const BASE_VERSION: u32 = 202309;

/// The endpoints the sandbox implements.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Shops,
    Warehouses,
    Categories,
    CategoryAttributes(String),
    CreateProduct,
    /// Activate, deactivate, delete or recover a batch of products.
    ProductStatus(Operation),
    SearchProducts,
    GetProduct(String),
    EditProduct(String),
    UpdateInventory(String),
    UpdatePrices(String),
    Brands,
    DeliveryOptions(String),
    ShippingProviders(String),
    SearchOrders,
    OrderDetail,
    GetPackage(String),
    ShipPackage(String),
    MarkShipped(String),
    UpdateShippingInfo(String),
    /// The seller's Cancel Order.
    CancelOrder,
    SearchCancellations,
    /// Approve (true) or reject a cancellation.
    DecideCancellation(String, bool),
    SearchReturns,
    /// Approve (true) or reject a return.
    DecideReturn(String, bool),
    ListWebhooks,
    PutWebhook,
    DeleteWebhook,
}

impl Endpoint {
    /// The API's name, the unit of rate limiting.
    fn api(&self) -> &'static str {
        match self {
            Endpoint::Shops => "authorization.shops",
            Endpoint::Warehouses => "logistics.warehouses",
            Endpoint::Categories => "product.categories",
            Endpoint::CategoryAttributes(_) => "product.categories.attributes",
            Endpoint::CreateProduct => "product.create",
            Endpoint::ProductStatus(Operation::Activate) => "product.activate",
            Endpoint::ProductStatus(Operation::Deactivate) => "product.deactivate",
            Endpoint::ProductStatus(Operation::Delete) => "product.delete",
            Endpoint::ProductStatus(Operation::Recover) => "product.recover",
            Endpoint::SearchProducts => "product.search",
            Endpoint::GetProduct(_) => "product.get",
            Endpoint::EditProduct(_) => "product.edit",
            Endpoint::UpdateInventory(_) => "product.inventory.update",
            Endpoint::UpdatePrices(_) => "product.prices.update",
            Endpoint::Brands => "product.brands",
            Endpoint::DeliveryOptions(_) => "logistics.delivery_options",
            Endpoint::ShippingProviders(_) => "logistics.shipping_providers",
            Endpoint::SearchOrders => "order.search",
            Endpoint::OrderDetail => "order.detail",
            Endpoint::GetPackage(_) => "fulfillment.package.get",
            Endpoint::ShipPackage(_) => "fulfillment.package.ship",
            Endpoint::MarkShipped(_) => "fulfillment.order.packages",
            Endpoint::UpdateShippingInfo(_) => "fulfillment.package.shipping_info.update",
            Endpoint::CancelOrder => "return_refund.cancellations.create",
            Endpoint::SearchCancellations => "return_refund.cancellations.search",
            Endpoint::DecideCancellation(_, true) => "return_refund.cancellations.approve",
            Endpoint::DecideCancellation(_, false) => "return_refund.cancellations.reject",
            Endpoint::SearchReturns => "return_refund.returns.search",
            Endpoint::DecideReturn(_, true) => "return_refund.returns.approve",
            Endpoint::DecideReturn(_, false) => "return_refund.returns.reject",
            Endpoint::ListWebhooks => "event.webhooks.get",
            Endpoint::PutWebhook => "event.webhooks.update",
            Endpoint::DeleteWebhook => "event.webhooks.delete",
        }
    }

    fn cipher_rule(&self) -> CipherRule {
        match self {
            Endpoint::Shops => CipherRule::Forbidden,
            Endpoint::UpdateInventory(_) | Endpoint::GetPackage(_) => CipherRule::Optional,
            _ => CipherRule::Required,
        }
    }
}

pub(crate) fn router(app: Arc<App>) -> Router {
    let chaos = chaos::routes(Arc::clone(&app.chaos));
    let control = control::routes(Arc::clone(&app))
        .merge(seller_center::routes(Arc::clone(&app)))
        .merge(usage::routes(Arc::clone(&app)))
        .merge(super::authorize::routes(Arc::clone(&app)));
    Router::new().fallback(handle).with_state(app).merge(chaos).merge(control)
}

async fn handle(
    AxumState(app): AxumState<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    app.requests.fetch_add(1, Ordering::Relaxed);
    let fate = app.chaos.fate().await;
    match fate {
        Fate::Throttle => {
            return ApiError::new(code::TOO_MANY_REQUESTS, "Too many requests.")
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .into_response();
        }
        Fate::Fail => {
            return ApiError::new(code::INTERNAL_ERROR, "Internal error, please retry.")
                .with_status(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response();
        }
        Fate::Timeout => {
            let html = [(axum::http::header::CONTENT_TYPE, "text/html")];
            return (StatusCode::GATEWAY_TIMEOUT, html, "<html><body>504 Gateway Time-out</body></html>")
                .into_response();
        }
        Fate::Serve | Fate::Malform => {}
    }
    let response = if oauth::is_auth_path(uri.path()) {
        oauth::handle(&app, &method, &uri)
    } else {
        match serve(&app, &method, &uri, &headers, &body) {
            Ok(data) => envelope::ok(data),
            Err(error) => {
                tracing::debug!(code = error.code, message = %error.message, path = uri.path(), "tiktok sandbox refused a call");
                error.into_response()
            }
        }
    };
    app.flush_events();
    if fate == Fate::Malform {
        let html = [(axum::http::header::CONTENT_TYPE, "text/html")];
        return (StatusCode::OK, html, "<html><body>502 Bad Gateway</body></html>").into_response();
    }
    response
}

fn serve(app: &App, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let endpoint = resolve(method, uri.path())?;
    let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| ApiError::credentials(format!("Malformed query string: {e}")))?;
    let request = ApiRequest { method, path: uri.path(), query: &query, headers, body };
    let now = Instant::now();

    // Every write is one step, so the state is consistent even after a panic elsewhere.
    let mut state = app.state.lock().unwrap_or_else(PoisonError::into_inner);
    let cipher = auth::check(&app.credentials, &state, &request, endpoint.cipher_rule())?;
    if !state.admit(cipher.as_deref().unwrap_or_default(), endpoint.api(), now) {
        return Err(ApiError::new(code::TOO_MANY_REQUESTS, "Too many requests.")
            .with_status(StatusCode::TOO_MANY_REQUESTS));
    }

    // A submitted product or a new address gives the review timer something to do.
    if matches!(endpoint, Endpoint::CreateProduct | Endpoint::EditProduct(_) | Endpoint::PutWebhook) {
        app.review_wake.notify_one();
    }
    // Required-cipher endpoints are only reached with a cipher (the checks saw to it).
    let shop_cipher = || cipher.clone().unwrap_or_default();
    match &endpoint {
        Endpoint::Shops => Ok(shops::authorized_shops(&state)),
        Endpoint::Warehouses => {
            let shop = state
                .shop(&shop_cipher())
                .ok_or_else(|| ApiError::new(code::SHOP_MISMATCH, "unknown shop_cipher"))?;
            Ok(shops::warehouses(shop))
        }
        Endpoint::Categories => Ok(taxonomy::categories(request.param("keyword"))),
        Endpoint::CategoryAttributes(id) => taxonomy::category_attributes(id),
        Endpoint::CreateProduct => products::create(&mut state, &shop_cipher(), body, now),
        Endpoint::ProductStatus(operation) => {
            lifecycle::apply(&mut state, &shop_cipher(), *operation, body, now)
        }
        Endpoint::SearchProducts => products::search(
            &mut state,
            &shop_cipher(),
            request.param("page_size"),
            request.param("page_token"),
            body,
            now,
        ),
        Endpoint::GetProduct(id) => {
            let under_review = request.param("return_under_review_version") == Some("true");
            products::get(&mut state, &shop_cipher(), id, under_review, now)
        }
        Endpoint::EditProduct(id) => products::edit(&mut state, &shop_cipher(), id, body, now),
        Endpoint::UpdateInventory(id) => {
            products::update_inventory(&mut state, cipher.as_deref(), id, body, now)
        }
        Endpoint::UpdatePrices(id) => products::update_prices(&mut state, &shop_cipher(), id, body, now),
        Endpoint::Brands => logistics::brands(
            request.param("page_size"),
            request.param("page_token"),
            request.param("brand_name"),
            request.param("is_authorized"),
        ),
        Endpoint::DeliveryOptions(warehouse) => {
            let shop = state
                .shop(&shop_cipher())
                .ok_or_else(|| ApiError::new(code::SHOP_MISMATCH, "unknown shop_cipher"))?;
            logistics::delivery_options(shop, warehouse)
        }
        Endpoint::ShippingProviders(option) => logistics::shipping_providers(option),
        Endpoint::SearchOrders => orders::search(&state, &shop_cipher(), &query, body),
        Endpoint::OrderDetail => orders::detail(&state, &shop_cipher(), request.param("ids")),
        Endpoint::GetPackage(id) => fulfillment::get(&state, cipher.as_deref(), id),
        Endpoint::ShipPackage(id) => fulfillment::ship_package(&mut state, &shop_cipher(), id, body),
        Endpoint::MarkShipped(id) => fulfillment::mark_shipped(&mut state, &shop_cipher(), id, body),
        Endpoint::UpdateShippingInfo(id) => {
            fulfillment::update_shipping_info(&mut state, &shop_cipher(), id, body, envelope::unix_now())
        }
        Endpoint::CancelOrder => {
            returns::seller_cancel(&mut state, &shop_cipher(), body, envelope::unix_now())
        }
        Endpoint::SearchCancellations => returns::search_cancellations(&state, &shop_cipher(), &query, body),
        Endpoint::DecideCancellation(id, approve) => {
            returns::decide_cancellation(&mut state, &shop_cipher(), id, *approve, body)
        }
        Endpoint::SearchReturns => returns::search_returns(&state, &shop_cipher(), &query, body),
        Endpoint::DecideReturn(id, approve) => {
            returns::decide_return(&mut state, &shop_cipher(), id, *approve, &query, body)
        }
        Endpoint::ListWebhooks | Endpoint::PutWebhook | Endpoint::DeleteWebhook => {
            let shop_id = state.shop(&shop_cipher()).map(|s| s.id.clone()).unwrap_or_default();
            match endpoint {
                Endpoint::ListWebhooks => Ok(app.webhooks.list(&shop_id)),
                Endpoint::PutWebhook => app.webhooks.put(&shop_id, body),
                _ => app.webhooks.delete(&shop_id, body),
            }
        }
    }
}

/// Step 1 of the checks: a known resource (36009009), a valid version (36009014), an allowed
/// method (36009010).
fn resolve(method: &Method, path: &str) -> Result<Endpoint, ApiError> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let unknown = || ApiError::new(code::INVALID_PATH, "Invalid path.").with_status(StatusCode::NOT_FOUND);
    let [category, version, rest @ ..] = segments.as_slice() else {
        return Err(unknown());
    };
    let id = |s: &str| s.to_owned();
    let candidates: Vec<(Method, Endpoint)> = match (*category, rest) {
        ("authorization", ["shops"]) => vec![(Method::GET, Endpoint::Shops)],
        ("logistics", ["warehouses"]) => vec![(Method::GET, Endpoint::Warehouses)],
        ("product", ["categories"]) => vec![(Method::GET, Endpoint::Categories)],
        ("product", ["categories", c, "attributes"]) if !c.is_empty() => {
            vec![(Method::GET, Endpoint::CategoryAttributes(id(c)))]
        }
        ("product", ["products"]) => vec![
            (Method::POST, Endpoint::CreateProduct),
            (Method::DELETE, Endpoint::ProductStatus(Operation::Delete)),
        ],
        ("product", ["products", "search"]) => vec![(Method::POST, Endpoint::SearchProducts)],
        ("product", ["products", "activate"]) => {
            vec![(Method::POST, Endpoint::ProductStatus(Operation::Activate))]
        }
        ("product", ["products", "deactivate"]) => {
            vec![(Method::POST, Endpoint::ProductStatus(Operation::Deactivate))]
        }
        ("product", ["products", "recover"]) => {
            vec![(Method::POST, Endpoint::ProductStatus(Operation::Recover))]
        }
        ("product", ["products", p]) if !p.is_empty() => {
            vec![(Method::GET, Endpoint::GetProduct(id(p))), (Method::PUT, Endpoint::EditProduct(id(p)))]
        }
        ("product", ["products", p, "inventory", "update"]) if !p.is_empty() => {
            vec![(Method::POST, Endpoint::UpdateInventory(id(p)))]
        }
        ("product", ["products", p, "prices", "update"]) if !p.is_empty() => {
            vec![(Method::POST, Endpoint::UpdatePrices(id(p)))]
        }
        ("product", ["brands"]) => vec![(Method::GET, Endpoint::Brands)],
        ("logistics", ["warehouses", w, "delivery_options"]) if !w.is_empty() => {
            vec![(Method::GET, Endpoint::DeliveryOptions(id(w)))]
        }
        ("logistics", ["delivery_options", d, "shipping_providers"]) if !d.is_empty() => {
            vec![(Method::GET, Endpoint::ShippingProviders(id(d)))]
        }
        ("order", ["orders", "search"]) => vec![(Method::POST, Endpoint::SearchOrders)],
        ("order", ["orders"]) => vec![(Method::GET, Endpoint::OrderDetail)],
        ("fulfillment", ["packages", p]) if !p.is_empty() => vec![(Method::GET, Endpoint::GetPackage(id(p)))],
        ("fulfillment", ["packages", p, "ship"]) if !p.is_empty() => {
            vec![(Method::POST, Endpoint::ShipPackage(id(p)))]
        }
        ("fulfillment", ["orders", o, "packages"]) if !o.is_empty() => {
            vec![(Method::POST, Endpoint::MarkShipped(id(o)))]
        }
        ("fulfillment", ["packages", p, "shipping_info", "update"]) if !p.is_empty() => {
            vec![(Method::POST, Endpoint::UpdateShippingInfo(id(p)))]
        }
        ("return_refund", ["cancellations"]) => vec![(Method::POST, Endpoint::CancelOrder)],
        ("return_refund", ["cancellations", "search"]) => vec![(Method::POST, Endpoint::SearchCancellations)],
        ("return_refund", ["cancellations", c, decision @ ("approve" | "reject")]) if !c.is_empty() => {
            vec![(Method::POST, Endpoint::DecideCancellation(id(c), *decision == "approve"))]
        }
        ("return_refund", ["returns", "search"]) => vec![(Method::POST, Endpoint::SearchReturns)],
        ("return_refund", ["returns", r, decision @ ("approve" | "reject")]) if !r.is_empty() => {
            vec![(Method::POST, Endpoint::DecideReturn(id(r), *decision == "approve"))]
        }
        ("event", ["webhooks"]) => vec![
            (Method::GET, Endpoint::ListWebhooks),
            (Method::PUT, Endpoint::PutWebhook),
            (Method::DELETE, Endpoint::DeleteWebhook),
        ],
        _ => return Err(unknown()),
    };
    check_version(version)?;
    candidates.into_iter().find(|(m, _)| m == method).map(|(_, endpoint)| endpoint).ok_or_else(|| {
        ApiError::new(code::INVALID_METHOD, "Invalid method.").with_status(StatusCode::METHOD_NOT_ALLOWED)
    })
}

/// `YYYYMM`, at least 202309 (older versions are retired, reference §1).
fn check_version(version: &str) -> Result<(), ApiError> {
    let invalid = || ApiError::new(code::INVALID_VERSION, "The version name is invalid.");
    if version.len() != 6 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let value: u32 = version.parse().map_err(|_| invalid())?;
    let month = value % 100;
    if !(1..=12).contains(&month) || value < BASE_VERSION {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_reach_the_same_resource() {
        let endpoint = resolve(&Method::POST, "/product/202502/products/search");
        assert_eq!(endpoint, Ok(Endpoint::SearchProducts));
        assert_eq!(
            resolve(&Method::GET, "/product/202309/products/17001"),
            Ok(Endpoint::GetProduct("17001".into()))
        );
    }

    #[test]
    fn batch_status_paths_are_not_product_ids() {
        assert_eq!(
            resolve(&Method::POST, "/product/202309/products/deactivate"),
            Ok(Endpoint::ProductStatus(Operation::Deactivate))
        );
        assert_eq!(
            resolve(&Method::DELETE, "/product/202309/products"),
            Ok(Endpoint::ProductStatus(Operation::Delete))
        );
        assert_eq!(
            resolve(&Method::GET, "/product/202309/categories/600002/attributes"),
            Ok(Endpoint::CategoryAttributes("600002".into()))
        );
    }

    #[test]
    fn cancel_order_and_shipping_info_updates_have_their_routes() {
        assert_eq!(resolve(&Method::POST, "/return_refund/202309/cancellations"), Ok(Endpoint::CancelOrder));
        assert_eq!(
            resolve(&Method::POST, "/return_refund/202309/cancellations/search"),
            Ok(Endpoint::SearchCancellations)
        );
        assert_eq!(
            resolve(&Method::POST, "/fulfillment/202309/packages/1150/shipping_info/update"),
            Ok(Endpoint::UpdateShippingInfo("1150".into()))
        );
        assert_eq!(
            resolve(&Method::GET, "/return_refund/202309/cancellations").map_err(|e| e.code),
            Err(code::INVALID_METHOD)
        );
    }

    #[test]
    fn malformed_and_retired_versions_are_refused() {
        for version in ["2023-9", "202313", "202212", "v1"] {
            let error = resolve(&Method::GET, &format!("/product/{version}/categories"));
            assert_eq!(error.map_err(|e| e.code), Err(code::INVALID_VERSION), "{version}");
        }
    }

    #[test]
    fn unknown_paths_and_methods_have_their_codes() {
        assert_eq!(
            resolve(&Method::GET, "/nothing/202309/here").map_err(|e| e.code),
            Err(code::INVALID_PATH)
        );
        assert_eq!(resolve(&Method::GET, "/product/202309").map_err(|e| e.code), Err(code::INVALID_PATH));
        assert_eq!(
            resolve(&Method::DELETE, "/product/202309/categories").map_err(|e| e.code),
            Err(code::INVALID_METHOD)
        );
    }
}
