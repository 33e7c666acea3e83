//! Shopify's Admin GraphQL responses: telling failures apart (auth, throttling, outages,
//! query errors) and mapping product nodes to the contract's records. Pure functions over
//! bytes and JSON, so they are tested natively.

use crate::iso8601;
use crossdock_plugin_sdk::types::{
    ConnectorError, Image, Money, OptionValue, Product, ProductStatus, ProductVariant,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Wait before retrying a throttled call when neither a header nor the cost data says more.
const DEFAULT_RETRY_MS: u64 = 1_000;

/// Checks an HTTP response from the GraphQL endpoint and returns its `data` and the points
/// it cost. `spent` is what earlier queries of this call cost: a throttled query asks the host
/// to wait until the bucket holds those too, because the host retries the whole call.
pub fn check_response(
    status: u16,
    retry_after_ms: Option<u64>,
    body: &[u8],
    spent: f64,
) -> Result<(Value, f64), ConnectorError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let messages =
        || json.as_ref().map(error_messages).filter(|m| !m.is_empty()).unwrap_or_else(|| preview(body));
    match status {
        200..=299 => {}
        401 | 403 => {
            return Err(ConnectorError::Unauthorized(format!(
                "Shopify refused the access token (HTTP {status}): {}",
                messages()
            )));
        }
        429 => {
            let wait = retry_after_ms
                .or_else(|| json.as_ref().and_then(|j| throttle_wait_ms(j, spent)))
                .unwrap_or(DEFAULT_RETRY_MS);
            return Err(ConnectorError::rate_limited(
                wait,
                format!("Shopify throttled the call (HTTP 429): {}", messages()),
            ));
        }
        404 => {
            return Err(ConnectorError::Fatal(format!(
                "Shopify has no Admin API at this address (HTTP 404); check `base-url` and `api-version`: {}",
                messages()
            )));
        }
        500..=599 => {
            return Err(ConnectorError::Transient(format!("Shopify answered HTTP {status}: {}", messages())));
        }
        _ => {
            return Err(ConnectorError::Fatal(format!("Shopify answered HTTP {status}: {}", messages())));
        }
    }

    let Some(json) = json else {
        return Err(ConnectorError::Transient(format!(
            "Shopify sent a body that is not JSON: {}",
            preview(body)
        )));
    };
    if let Some(errors) = json.get("errors").filter(|e| !e.is_null()) {
        let throttled = errors.as_array().is_some_and(|list| {
            list.iter().any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED"))
        });
        if throttled {
            let wait = retry_after_ms.or_else(|| throttle_wait_ms(&json, spent)).unwrap_or(DEFAULT_RETRY_MS);
            return Err(ConnectorError::rate_limited(wait, "Shopify throttled the query (THROTTLED)"));
        }
        let denied = errors.as_array().is_some_and(|list| {
            list.iter()
                .any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("ACCESS_DENIED"))
        });
        if denied {
            // A scope the app was not granted (`read_orders`, `write_orders`…): only the merchant
            // can fix it, by reconnecting with the scope.
            return Err(ConnectorError::Unauthorized(format!(
                "Shopify denied the app access: {}; reconnect the store granting the scopes the message names",
                error_messages(&json)
            )));
        }
        // Any other error, even beside partial data, means the page is incomplete.
        return Err(ConnectorError::Fatal(format!("Shopify refused the query: {}", error_messages(&json))));
    }
    let cost = json.pointer("/extensions/cost/actualQueryCost").and_then(Value::as_f64).unwrap_or(0.0);
    match json.get("data") {
        Some(data) if !data.is_null() => Ok((data.clone(), cost)),
        _ => Err(ConnectorError::Fatal(format!("Shopify's response has no data: {}", preview(body)))),
    }
}

/// Decodes `data` into the shape a query asked for.
pub fn decode<T: DeserializeOwned>(data: Value) -> Result<T, ConnectorError> {
    serde_json::from_value(data)
        .map_err(|e| ConnectorError::Fatal(format!("unexpected shape of Shopify's data: {e}")))
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

/// How long until the bucket holds the points the query asked for plus `spent`:
/// `(spent + requestedQueryCost - currentlyAvailable) / restoreRate` seconds.
fn throttle_wait_ms(json: &Value, spent: f64) -> Option<u64> {
    let cost = json.pointer("/extensions/cost")?;
    let requested = cost.get("requestedQueryCost")?.as_f64()?;
    let available = cost.pointer("/throttleStatus/currentlyAvailable")?.as_f64()?;
    let rate = cost.pointer("/throttleStatus/restoreRate")?.as_f64()?;
    if rate.is_nan() || rate <= 0.0 {
        return None;
    }
    let maximum =
        cost.pointer("/throttleStatus/maximumAvailable").and_then(Value::as_f64).unwrap_or(f64::MAX);
    // Never more than a full bucket: past that, waiting longer buys nothing.
    let needed = (spent + requested).min(maximum);
    let seconds = (needed - available).max(0.0) / rate;
    // At least 100 ms: the bucket may be a hair short of the points by the time we return.
    Some(((seconds * 1000.0).ceil() as u64).max(100))
}

// ---- response shapes -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopNode {
    #[serde(default)]
    pub name: Option<String>,
    pub currency_code: String,
}

#[derive(Debug, Deserialize)]
pub struct ShopInfoData {
    pub shop: ShopNode,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(default)]
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    #[serde(default = "Vec::new")]
    pub nodes: Vec<T>,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductConnection {
    #[serde(default)]
    pub edges: Vec<ProductEdge>,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
pub struct ProductEdge {
    pub cursor: String,
    pub node: ProductNode,
}

#[derive(Debug, Deserialize)]
pub struct ListProductsData {
    pub shop: ShopNode,
    pub products: ProductConnection,
}

#[derive(Debug, Deserialize)]
pub struct ProductData {
    pub shop: ShopNode,
    pub product: Option<ProductNode>,
}

#[derive(Debug, Deserialize)]
pub struct ProductVariantsData {
    pub product: Option<ProductVariantsNode>,
}

#[derive(Debug, Deserialize)]
pub struct ProductVariantsNode {
    pub variants: Connection<VariantNode>,
}

/// `inventoryItem { variant { product { id } } }`; every level may be null.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItemProductData {
    #[serde(default)]
    pub inventory_item: Option<InventoryItemRef>,
}

#[derive(Debug, Deserialize)]
pub struct InventoryItemRef {
    #[serde(default)]
    pub variant: Option<VariantRef>,
}

#[derive(Debug, Deserialize)]
pub struct VariantRef {
    #[serde(default)]
    pub product: Option<ProductRef>,
}

#[derive(Debug, Deserialize)]
pub struct ProductRef {
    pub id: String,
}

impl InventoryItemProductData {
    /// The product's id; none when the item, its variant or its product is gone.
    pub fn product_id(self) -> Option<String> {
        Some(self.inventory_item?.variant?.product?.id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductNode {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description_html: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: String,
    pub updated_at: String,
    pub images: Connection<ImageNode>,
    pub variants: Connection<VariantNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageNode {
    pub url: String,
    #[serde(default)]
    pub alt_text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantNode {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
    pub price: String,
    #[serde(default)]
    pub compare_at_price: Option<String>,
    #[serde(default)]
    pub inventory_quantity: Option<i64>,
    #[serde(default)]
    pub selected_options: Vec<SelectedOption>,
    #[serde(default)]
    pub image: Option<ImageNode>,
    #[serde(default)]
    pub inventory_item: Option<InventoryItemNode>,
}

#[derive(Debug, Deserialize)]
pub struct SelectedOption {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
pub struct InventoryItemNode {
    #[serde(default)]
    pub measurement: Option<Measurement>,
}

#[derive(Debug, Deserialize)]
pub struct Measurement {
    #[serde(default)]
    pub weight: Option<Weight>,
}

#[derive(Debug, Deserialize)]
pub struct Weight {
    pub value: f64,
    pub unit: String,
}

// ---- mapping ---------------------------------------------------------------------------

/// Maps a product node, with all its variants gathered, to the contract's record.
pub fn product(node: ProductNode, currency: &str) -> Result<Product, ConnectorError> {
    let updated_at = iso8601::parse_millis(&node.updated_at).ok_or_else(|| {
        ConnectorError::Fatal(format!(
            "product {}: updatedAt `{}` is not an ISO 8601 time",
            node.id, node.updated_at
        ))
    })?;
    let status = match node.status.as_str() {
        "ACTIVE" => ProductStatus::Active,
        "ARCHIVED" => ProductStatus::Archived,
        // DRAFT, and statuses newer than this connector (e.g. UNLISTED): not for a channel.
        _ => ProductStatus::Draft,
    };
    let variants = node
        .variants
        .nodes
        .into_iter()
        .map(|v| variant(v, currency))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| match e {
            ConnectorError::Fatal(m) => ConnectorError::Fatal(format!("product {}: {m}", node.id)),
            other => other,
        })?;
    Ok(Product {
        id: node.id,
        title: node.title,
        description_html: node.description_html.unwrap_or_default(),
        vendor: non_empty(node.vendor),
        product_type: non_empty(node.product_type),
        tags: node.tags,
        status,
        images: node.images.nodes.into_iter().map(image).collect(),
        variants,
        updated_at,
    })
}

fn variant(node: VariantNode, currency: &str) -> Result<ProductVariant, ConnectorError> {
    let price = money(&node.id, "price", node.price, currency)?;
    let compare_at_price = match non_empty(node.compare_at_price) {
        Some(amount) => Some(money(&node.id, "compareAtPrice", amount, currency)?),
        None => None,
    };
    // A variant of a product without options carries Shopify's placeholder option.
    let options = node
        .selected_options
        .into_iter()
        .filter(|o| !(o.name == "Title" && o.value == "Default Title"))
        .map(|o| OptionValue { name: o.name, value: o.value })
        .collect();
    let weight_grams = node.inventory_item.and_then(|i| i.measurement).and_then(|m| m.weight).and_then(grams);
    Ok(ProductVariant {
        id: node.id,
        sku: node.sku.unwrap_or_default(),
        barcode: non_empty(node.barcode),
        title: node.title,
        price,
        compare_at_price,
        stock: node.inventory_quantity.unwrap_or(0),
        weight_grams,
        options,
        image: node.image.map(image),
    })
}

fn image(node: ImageNode) -> Image {
    Image { url: node.url, alt: non_empty(node.alt_text) }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

/// Checks a `Money` scalar is a plain decimal string (`"19.99"`) before passing it on.
fn money(variant_id: &str, field: &str, amount: String, currency: &str) -> Result<Money, ConnectorError> {
    let digits = amount.strip_prefix('-').unwrap_or(&amount);
    let mut parts = digits.split('.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let valid = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_none();
    if !valid {
        return Err(ConnectorError::Fatal(format!(
            "variant {variant_id}: {field} `{amount}` is not a decimal amount"
        )));
    }
    Ok(Money::new(amount, currency))
}

/// Whole grams; Shopify's default weight of 0 means "not set".
fn grams(weight: Weight) -> Option<u32> {
    let factor = match weight.unit.as_str() {
        "GRAMS" => 1.0,
        "KILOGRAMS" => 1_000.0,
        "OUNCES" => 28.349_523_125,
        "POUNDS" => 453.592_37,
        _ => return None,
    };
    let grams = (weight.value * factor).round();
    (grams >= 1.0 && grams <= f64::from(u32::MAX)).then_some(grams as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../testdata/list-products-page.json");

    fn page() -> ListProductsData {
        let (data, cost) = check_response(200, None, PAGE.as_bytes(), 0.0).expect("a good page");
        assert_eq!(cost, 21.0);
        decode(data).expect("the list shape")
    }

    #[test]
    fn a_product_page_maps_to_contract_records() {
        let page = page();
        assert!(page.products.page_info.has_next_page);
        assert_eq!(
            page.products.page_info.end_cursor.as_deref(),
            Some("eyJsYXN0X2lkIjo4MTAwMDAwMDAwMDAxLCJsYXN0X3ZhbHVlIjoiODEwMDAwMDAwMDAwMSJ9")
        );
        let currency = page.shop.currency_code.clone();
        assert!(page.products.edges[0].cursor.starts_with("eyJ"));
        let mut products = page.products.edges.into_iter().map(|e| product(e.node, &currency));

        let kettle = products.next().expect("first product").expect("maps");
        assert_eq!(kettle.id, "gid://shopify/Product/8100000000000");
        assert_eq!(kettle.status, ProductStatus::Active);
        assert_eq!(kettle.updated_at, 1_768_471_200_000);
        assert_eq!(kettle.vendor.as_deref(), Some("Hearth Test Co"));
        assert_eq!(kettle.product_type, None);
        assert_eq!(kettle.tags, ["kitchen", "kettles"]);
        assert_eq!(kettle.images.len(), 2);
        assert_eq!(kettle.images[1].alt, None);
        let copper = &kettle.variants[1];
        assert_eq!(copper.sku, "TEST-KETTLE-CPR");
        assert_eq!(copper.price.amount, "64.00");
        assert_eq!(copper.price.currency, "EUR");
        assert_eq!(copper.compare_at_price.as_ref().map(|m| m.amount.as_str()), Some("79.00"));
        assert_eq!(copper.stock, 0);
        assert_eq!(copper.weight_grams, Some(1_200));
        assert_eq!(copper.options.len(), 1);
        assert_eq!(copper.options[0].value, "Copper");
        assert_eq!(
            copper.image.as_ref().map(|i| i.url.as_str()),
            Some("https://cdn.example.com/test/kettle-2.jpg")
        );

        let bivy = products.next().expect("second product").expect("maps");
        assert_eq!(bivy.status, ProductStatus::Draft);
        let only = &bivy.variants[0];
        assert!(only.options.is_empty(), "the Default Title placeholder is dropped");
        assert_eq!(only.sku, "", "a null SKU reads as empty");
        assert_eq!(only.barcode, None);
        assert_eq!(only.weight_grams, None, "weight 0 means unknown");
        assert_eq!(only.stock, 12);
        assert_eq!(bivy.updated_at, 1_768_471_200_250);
        assert!(products.next().is_none());
    }

    #[test]
    fn an_inventory_item_resolves_to_its_product_or_nothing() {
        let found: InventoryItemProductData = decode(serde_json::json!({
            "inventoryItem": {"variant": {"product": {"id": "gid://shopify/Product/7"}}}
        }))
        .expect("shape");
        assert_eq!(found.product_id().as_deref(), Some("gid://shopify/Product/7"));
        for data in [
            serde_json::json!({"inventoryItem": null}),
            serde_json::json!({"inventoryItem": {"variant": null}}),
        ] {
            let gone: InventoryItemProductData = decode(data).expect("shape");
            assert_eq!(gone.product_id(), None);
        }
    }

    #[test]
    fn weights_convert_to_grams() {
        let w = |value, unit: &str| grams(Weight { value, unit: unit.into() });
        assert_eq!(w(1.2, "KILOGRAMS"), Some(1_200));
        assert_eq!(w(16.0, "OUNCES"), Some(454));
        assert_eq!(w(1.0, "POUNDS"), Some(454));
        assert_eq!(w(0.0, "GRAMS"), None);
        assert_eq!(w(5.0, "STONES"), None);
    }

    #[test]
    fn auth_failures_are_unauthorized() {
        let body =
            br#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;
        match check_response(401, None, body, 0.0) {
            Err(ConnectorError::Unauthorized(m)) => assert!(m.contains("Invalid API key"), "{m}"),
            other => panic!("expected unauthorized, got {other:?}"),
        }
        assert!(matches!(check_response(403, None, b"{}", 0.0), Err(ConnectorError::Unauthorized(_))));
    }

    #[test]
    fn throttled_queries_wait_for_the_missing_points() {
        let body = br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
            "extensions":{"cost":{"requestedQueryCost":978,"actualQueryCost":null,
            "throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":478,"restoreRate":100.0}}}}"#;
        match check_response(200, None, body, 0.0) {
            Err(ConnectorError::RateLimited(r)) => assert_eq!(r.retry_after_ms, 5_000),
            other => panic!("expected rate limited, got {other:?}"),
        }
        match check_response(200, None, body, 900.0) {
            Err(ConnectorError::RateLimited(r)) => {
                assert_eq!(r.retry_after_ms, 14_000, "waits for the call's earlier points too")
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
        match check_response(200, None, body, 5_000.0) {
            Err(ConnectorError::RateLimited(r)) => {
                assert_eq!(r.retry_after_ms, 15_220, "never more than a full bucket")
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
        let bare = br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#;
        match check_response(200, None, bare, 0.0) {
            Err(ConnectorError::RateLimited(r)) => assert_eq!(r.retry_after_ms, 1_000),
            other => panic!("expected rate limited, got {other:?}"),
        }
    }

    #[test]
    fn http_429_prefers_the_retry_after_header() {
        match check_response(429, Some(2_500), body_of_throttle(), 0.0) {
            Err(ConnectorError::RateLimited(r)) => assert_eq!(r.retry_after_ms, 2_500),
            other => panic!("expected rate limited, got {other:?}"),
        }
        match check_response(429, None, b"Too Many Requests", 0.0) {
            Err(ConnectorError::RateLimited(r)) => assert_eq!(r.retry_after_ms, 1_000),
            other => panic!("expected rate limited, got {other:?}"),
        }
    }

    fn body_of_throttle() -> &'static [u8] {
        br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#
    }

    #[test]
    fn outages_are_transient_and_query_errors_fatal() {
        assert!(matches!(
            check_response(502, None, b"<html>Bad Gateway</html>", 0.0),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            check_response(404, None, br#"{"errors":"Not Found"}"#, 0.0),
            Err(ConnectorError::Fatal(_))
        ));
        let refused = br#"{"errors":[{"message":"Field 'nope' doesn't exist on type 'Product'"},{"message":"second"}]}"#;
        match check_response(200, None, refused, 0.0) {
            Err(ConnectorError::Fatal(m)) => {
                assert!(m.contains("Field 'nope' doesn't exist on type 'Product'; second"), "{m}")
            }
            other => panic!("expected fatal, got {other:?}"),
        }
        assert!(matches!(check_response(200, None, b"not json", 0.0), Err(ConnectorError::Transient(_))));
    }

    #[test]
    fn a_missing_scope_is_unauthorized_and_names_it() {
        let denied = br#"{"errors":[{"message":"Access denied for orders field. Required access: `read_orders` access scope.",
            "extensions":{"code":"ACCESS_DENIED","documentation":"https://shopify.dev/api/usage/access-scopes"}}],"data":{"orders":null}}"#;
        match check_response(200, None, denied, 0.0) {
            Err(ConnectorError::Unauthorized(m)) => assert!(m.contains("read_orders"), "{m}"),
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn bad_money_and_times_are_fatal_and_name_the_record() {
        let mut node: ProductNode = decode(serde_json::json!({
            "id": "gid://shopify/Product/1", "title": "T", "status": "ACTIVE",
            "updatedAt": "2026-01-15T10:00:00Z",
            "images": {"nodes": []},
            "variants": {"nodes": [{"id": "gid://shopify/ProductVariant/9", "title": "Default Title", "price": "12,50"}]}
        }))
        .expect("shape");
        match product(node, "USD") {
            Err(ConnectorError::Fatal(m)) => {
                assert!(m.contains("Product/1") && m.contains("12,50"), "{m}")
            }
            other => panic!("expected fatal, got {other:?}"),
        }
        node = decode(serde_json::json!({
            "id": "gid://shopify/Product/2", "title": "T", "status": "ACTIVE", "updatedAt": "soon",
            "images": {"nodes": []}, "variants": {"nodes": []}
        }))
        .expect("shape");
        assert!(matches!(product(node, "USD"), Err(ConnectorError::Fatal(m)) if m.contains("Product/2")));
    }
}
