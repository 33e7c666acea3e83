//! Talking to Shopify's Admin GraphQL API: the endpoint, the three documents this connector
//! sends (shop, a page of products, one product), the page size that keeps a page under
//! Shopify's single-query cost limit, and telling failures apart (auth, throttling, outages,
//! refused queries) as contract errors.

use crate::crossdock::connector::http::HttpError;
use crate::crossdock::connector::types::{ConnectorError, RateLimited};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The Admin API version this connector was written against.
pub const API_VERSION: &str = "2026-01";

/// Shopify refuses a query that requests more than this many points.
const MAX_QUERY_COST: u32 = 1_000;
/// Shopify's largest page.
const MAX_PAGE_SIZE: u32 = 250;
/// Variants read with each product; a product with more is refused (see `product::page`).
pub const VARIANTS_PER_PRODUCT: u32 = 100;
/// Images read per product.
const IMAGES_PER_PRODUCT: u32 = 10;
/// Requested points of one product: itself, its images connection (2 + one per image) and its
/// variants connection (2 + per variant: itself and its `selectedOptions`).
const PRODUCT_COST: u32 = 1 + (2 + IMAGES_PER_PRODUCT) + (2 + VARIANTS_PER_PRODUCT * 2);
/// `shop` and the products connection's own 2 points.
const PAGE_OVERHEAD: u32 = 3;
/// Wait before retrying a throttled call when neither a header nor the cost data says more.
const DEFAULT_RETRY_MS: u64 = 1_000;

/// The fields of a product that `product::ProductNode` reads, connections included.
const PRODUCT_FIELDS: &str = "fragment ProductFields on Product {
  id title descriptionHtml vendor productType tags status updatedAt
  images(first: 10) { nodes { url altText } }
  variants(first: 100) {
    pageInfo { hasNextPage }
    nodes { id title sku barcode price compareAtPrice inventoryQuantity selectedOptions { name value } }
  }
}";

/// The shop's name and currency.
const SHOP_INFO: &str = "query ShopInfo { shop { name currencyCode } }";

/// One page of products, oldest id first, with the shop's currency.
const LIST_PRODUCTS: &str = "query ListProducts($first: Int!, $after: String) {
  shop { currencyCode }
  products(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ProductFields }
  }
}";

/// One product, with the shop's currency.
const PRODUCT: &str = "query Product($id: ID!) {
  shop { currencyCode }
  product(id: $id) { ...ProductFields }
}";

/// `{base_url}/admin/api/2026-01/graphql.json`, for an http(s) base URL.
pub fn endpoint(base_url: &str) -> Result<String, ConnectorError> {
    let http = base_url.starts_with("https://") || base_url.starts_with("http://");
    if !http || authority(base_url).is_none() {
        return Err(ConnectorError::Fatal(format!(
            "connection setting `base-url` must be an http(s) URL such as https://shop.myshopify.com, not \
             `{base_url}`"
        )));
    }
    Ok(format!("{base_url}/admin/api/{API_VERSION}/graphql.json"))
}

/// `host[:port]` of a URL, lower case.
pub fn authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

/// Products per page: what the host asked for, within Shopify's page size and cost limits.
pub fn page_size(limit: u32) -> u32 {
    let by_cost = (MAX_QUERY_COST - PAGE_OVERHEAD) / PRODUCT_COST;
    limit.clamp(1, MAX_PAGE_SIZE).min(by_cost)
}

/// The request body for the shop's name and currency.
pub fn shop_info() -> Value {
    json!({"query": SHOP_INFO, "operationName": "ShopInfo"})
}

/// The request body for a page of products after the Relay cursor `after`.
pub fn list_products(limit: u32, after: Option<&str>) -> Value {
    json!({
        "query": format!("{LIST_PRODUCTS}\n{PRODUCT_FIELDS}"),
        "operationName": "ListProducts",
        "variables": {"first": page_size(limit), "after": after},
    })
}

/// The request body for one product (`gid://shopify/Product/…`).
pub fn product(id: &str) -> Value {
    json!({
        "query": format!("{PRODUCT}\n{PRODUCT_FIELDS}"),
        "operationName": "Product",
        "variables": {"id": id},
    })
}

/// A `Retry-After` header (seconds, maybe fractional) in milliseconds.
pub fn retry_after_ms(value: &str) -> Option<u64> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1_000.0).ceil() as u64)
}

/// Why the host sent no request or got no response, as a contract error.
pub fn http_error(operation: &str, error: HttpError) -> ConnectorError {
    match error {
        HttpError::Denied(m) => ConnectorError::Fatal(format!(
            "{operation}: the host may not call this address ({m}); check the connection's `base-url`"
        )),
        HttpError::InvalidUrl(m) => {
            ConnectorError::Fatal(format!("{operation}: `base-url` makes an invalid URL ({m})"))
        }
        HttpError::Timeout => {
            ConnectorError::Transient(format!("{operation}: Shopify did not answer in time"))
        }
        HttpError::TooLarge(cap) => ConnectorError::Fatal(format!(
            "{operation}: Shopify's answer is larger than the host takes ({cap} bytes)"
        )),
        HttpError::Transport(m) => {
            ConnectorError::Transient(format!("{operation}: could not reach Shopify ({m})"))
        }
    }
}

/// Checks a GraphQL response and returns its `data`.
pub fn check(
    operation: &str,
    status: u16,
    retry_after_ms: Option<u64>,
    body: &[u8],
) -> Result<Value, ConnectorError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let messages =
        || json.as_ref().map(error_messages).filter(|m| !m.is_empty()).unwrap_or_else(|| preview(body));
    match status {
        200..=299 => {}
        401 | 403 => {
            return Err(ConnectorError::Unauthorized(format!(
                "{operation}: Shopify refused the access token (HTTP {status}): {}; check the connection's \
                 `access-token`",
                messages()
            )));
        }
        429 => {
            let wait = retry_after_ms
                .or_else(|| json.as_ref().and_then(throttle_wait_ms))
                .unwrap_or(DEFAULT_RETRY_MS);
            return Err(rate_limited(wait, format!("{operation}: Shopify throttled the call (HTTP 429)")));
        }
        404 => {
            return Err(ConnectorError::Fatal(format!(
                "{operation}: Shopify has no Admin API {API_VERSION} at this address (HTTP 404); check \
                 `base-url`: {}",
                messages()
            )));
        }
        500..=599 => {
            return Err(ConnectorError::Transient(format!(
                "{operation}: Shopify answered HTTP {status}: {}",
                messages()
            )));
        }
        _ => {
            return Err(ConnectorError::Fatal(format!(
                "{operation}: Shopify answered HTTP {status}: {}",
                messages()
            )));
        }
    }
    let Some(json) = json else {
        return Err(ConnectorError::Transient(format!(
            "{operation}: Shopify sent a body that is not JSON: {}",
            preview(body)
        )));
    };
    if let Some(errors) = json.get("errors").filter(|e| !e.is_null()) {
        let has_code = |code: &str| {
            errors.as_array().is_some_and(|list| {
                list.iter().any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some(code))
            })
        };
        if has_code("THROTTLED") {
            let wait = retry_after_ms.or_else(|| throttle_wait_ms(&json)).unwrap_or(DEFAULT_RETRY_MS);
            return Err(rate_limited(wait, format!("{operation}: Shopify throttled the query (THROTTLED)")));
        }
        if has_code("ACCESS_DENIED") {
            return Err(ConnectorError::Unauthorized(format!(
                "{operation}: Shopify denied the app access: {}; reconnect the store granting \
                 `read_products`",
                error_messages(&json)
            )));
        }
        // Any other error, even beside partial data, means the answer is incomplete.
        return Err(ConnectorError::Fatal(format!(
            "{operation}: Shopify refused the query: {}",
            error_messages(&json)
        )));
    }
    match json.get("data") {
        Some(data) if !data.is_null() => Ok(data.clone()),
        _ => Err(ConnectorError::Fatal(format!(
            "{operation}: Shopify's answer has no data: {}",
            preview(body)
        ))),
    }
}

/// Decodes `data` into the shape `operation` asked for.
pub fn decode<T: DeserializeOwned>(operation: &str, data: Value) -> Result<T, ConnectorError> {
    serde_json::from_value(data)
        .map_err(|e| ConnectorError::Fatal(format!("{operation}: unexpected shape of Shopify's data: {e}")))
}

fn rate_limited(retry_after_ms: u64, message: String) -> ConnectorError {
    ConnectorError::RateLimited(RateLimited { retry_after_ms, message })
}

/// `errors` as one line: a string (`{"errors":"Not Found"}`) or the messages of a list.
fn error_messages(json: &Value) -> String {
    match json.get("errors") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|e| e.get("message").and_then(Value::as_str).unwrap_or("(no message)").to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) if !other.is_null() => other.to_string(),
        _ => String::new(),
    }
}

fn preview(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// How long until the bucket holds the points the query asked for:
/// `(requestedQueryCost - currentlyAvailable) / restoreRate` seconds, at least 100 ms.
fn throttle_wait_ms(json: &Value) -> Option<u64> {
    let cost = json.pointer("/extensions/cost")?;
    let requested = cost.get("requestedQueryCost")?.as_f64()?;
    let available = cost.pointer("/throttleStatus/currentlyAvailable")?.as_f64()?;
    let rate = cost.pointer("/throttleStatus/restoreRate")?.as_f64()?;
    if rate.is_nan() || rate <= 0.0 {
        return None;
    }
    let seconds = (requested - available).max(0.0) / rate;
    Some(((seconds * 1_000.0).ceil() as u64).max(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_stays_under_the_single_query_cost_limit() {
        assert_eq!(PRODUCT_COST, 215);
        assert_eq!(page_size(50), 4);
        assert_eq!(page_size(2), 2);
        assert_eq!(page_size(0), 1);
        assert!(PAGE_OVERHEAD + page_size(u32::MAX) * PRODUCT_COST <= MAX_QUERY_COST);
        assert!(PRODUCT_FIELDS.contains(&format!("variants(first: {VARIANTS_PER_PRODUCT})")));
        assert!(PRODUCT_FIELDS.contains(&format!("images(first: {IMAGES_PER_PRODUCT})")));
    }

    #[test]
    fn the_list_body_carries_the_page_size_and_the_relay_cursor() {
        let body = list_products(50, Some("eyJsYXN0X2lkIjo0fQ=="));
        assert_eq!(body["operationName"], "ListProducts");
        assert_eq!(body["variables"], json!({"first": 4, "after": "eyJsYXN0X2lkIjo0fQ=="}));
        let query = body["query"].as_str().expect("a query");
        assert!(query.contains("products(first: $first, after: $after, sortKey: ID)"), "{query}");
        assert!(query.contains("fragment ProductFields on Product"), "{query}");
        assert_eq!(list_products(10, None)["variables"]["after"], Value::Null);
        let one = product("gid://shopify/Product/7");
        assert_eq!(one["variables"]["id"], "gid://shopify/Product/7");
        assert!(one["query"].as_str().is_some_and(|q| q.contains("...ProductFields")));
    }

    #[test]
    fn the_endpoint_is_built_from_an_http_base_url_only() {
        assert_eq!(
            endpoint("https://shop.myshopify.com").expect("valid"),
            "https://shop.myshopify.com/admin/api/2026-01/graphql.json"
        );
        for bad in ["shop.myshopify.com", "ftp://shop", "https://"] {
            assert!(
                matches!(endpoint(bad), Err(ConnectorError::Fatal(m)) if m.contains("base-url")),
                "{bad}"
            );
        }
        assert_eq!(authority("http://user@127.0.0.1:8080/x").as_deref(), Some("127.0.0.1:8080"));
    }

    fn error_of(status: u16, retry_after: Option<u64>, body: &[u8]) -> ConnectorError {
        match check("ListProducts", status, retry_after, body) {
            Err(e) => e,
            Ok(data) => panic!("expected an error, got data {data}"),
        }
    }

    #[test]
    fn a_good_answer_gives_its_data() {
        let body = br#"{"data":{"shop":{"name":"Kit","currencyCode":"USD"}},"extensions":{"cost":{"actualQueryCost":1}}}"#;
        let data = check("ShopInfo", 200, None, body).expect("data");
        assert_eq!(data["shop"]["currencyCode"], "USD");
    }

    #[test]
    fn auth_failures_are_unauthorized() {
        let body =
            br#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;
        assert!(
            matches!(error_of(401, None, body), ConnectorError::Unauthorized(m) if m.contains("Invalid API key"))
        );
        let denied = br#"{"errors":[{"message":"Access denied for products field.","extensions":{"code":"ACCESS_DENIED"}}]}"#;
        assert!(
            matches!(error_of(200, None, denied), ConnectorError::Unauthorized(m) if m.contains("read_products"))
        );
    }

    #[test]
    fn throttling_waits_for_the_header_or_the_missing_points() {
        let throttled = br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
            "extensions":{"cost":{"requestedQueryCost":863,"actualQueryCost":null,
            "throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":363,"restoreRate":100.0}}}}"#;
        assert!(
            matches!(error_of(200, None, throttled), ConnectorError::RateLimited(r) if r.retry_after_ms == 5_000)
        );
        assert!(
            matches!(error_of(429, Some(2_500), b"{}"), ConnectorError::RateLimited(r) if r.retry_after_ms == 2_500)
        );
        assert!(
            matches!(error_of(429, None, b"Too Many Requests"), ConnectorError::RateLimited(r) if r.retry_after_ms == 1_000)
        );
        assert_eq!(retry_after_ms("2.5"), Some(2_500));
        assert_eq!(retry_after_ms("soon"), None);
    }

    #[test]
    fn outages_are_transient_and_refusals_fatal() {
        assert!(
            matches!(error_of(502, None, b"<html>Bad Gateway</html>"), ConnectorError::Transient(m) if m.contains("502"))
        );
        assert!(matches!(error_of(200, None, b"{\"data\":{\"sh"), ConnectorError::Transient(_)));
        assert!(
            matches!(error_of(404, None, br#"{"errors":"Not Found"}"#), ConnectorError::Fatal(m) if m.contains("base-url"))
        );
        let refused =
            br#"{"errors":[{"message":"Field 'nope' doesn't exist on type 'Product'"}],"data":null}"#;
        assert!(
            matches!(error_of(200, None, refused), ConnectorError::Fatal(m) if m.contains("Field 'nope'"))
        );
        assert!(
            matches!(error_of(200, None, br#"{"data":null}"#), ConnectorError::Fatal(m) if m.contains("no data"))
        );
    }

    #[test]
    fn transport_failures_are_transient_and_refused_addresses_fatal() {
        assert!(matches!(http_error("ShopInfo", HttpError::Timeout), ConnectorError::Transient(_)));
        assert!(
            matches!(http_error("ShopInfo", HttpError::Transport("reset".into())), ConnectorError::Transient(m) if m.contains("reset"))
        );
        assert!(
            matches!(http_error("ShopInfo", HttpError::Denied("evil.example".into())), ConnectorError::Fatal(m) if m.contains("base-url"))
        );
        assert!(matches!(http_error("ShopInfo", HttpError::TooLarge(10)), ConnectorError::Fatal(_)));
    }
}
