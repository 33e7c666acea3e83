//! WooCommerce REST v3 responses: telling failures apart by status and WooCommerce `code`,
//! and mapping products and variations to the contract's records. Pure functions over bytes
//! and JSON, so they are tested natively.
//!
//! Mapping choices: `publish` is active; `draft`, `pending` and `future` are drafts;
//! `private` and `trash` are archived. A simple product is one variant with the product's id;
//! a variable product has one variant per variation. `price` is what the customer pays, and
//! `regular_price` is the compare-at price while a sale price is set. Stock is
//! `stock_quantity` when stock is managed (a variation may inherit its parent's), else 0 when
//! out of stock and the connection's `unmanaged-stock` otherwise. A variation without a SKU
//! inherits its parent's, as WooCommerce shows it.

use crossdock_plugin_sdk::types::{
    ConnectorError, Image, Money, OptionValue, Product, ProductStatus, ProductVariant,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Wait before retrying a 429 that names no `Retry-After`.
const DEFAULT_RETRY_MS: u64 = 5_000;

/// Checks an HTTP response and returns its body as JSON, or the failure as a contract error.
pub fn check_response(
    status: u16,
    retry_after_ms: Option<u64>,
    body: &[u8],
) -> Result<Value, ConnectorError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let code = json.as_ref().and_then(|j| j.get("code")).and_then(Value::as_str).map(str::to_string);
    let message = || {
        json.as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| preview(body))
    };
    let described = || match &code {
        Some(code) => format!("{code}: {}", message()),
        None => message(),
    };
    match status {
        200..=299 => {}
        401 | 403 => {
            return Err(ConnectorError::Unauthorized(format!(
                "WooCommerce refused the API key (HTTP {status}): {}; check `consumer-key`, `consumer-secret` and the key's permission",
                described()
            )));
        }
        429 => {
            return Err(ConnectorError::rate_limited(
                retry_after_ms.unwrap_or(DEFAULT_RETRY_MS),
                format!("the WooCommerce host throttled the call (HTTP 429): {}", described()),
            ));
        }
        404 => return Err(ConnectorError::NotFound(format!("WooCommerce (HTTP 404): {}", described()))),
        400..=499 => {
            // `rest_invalid_param` names the parameter in `data.params`; that is the field.
            let param = json
                .as_ref()
                .and_then(|j| j.pointer("/data/params"))
                .and_then(Value::as_object)
                .and_then(|p| p.iter().next())
                .map(|(field, why)| (field.clone(), why.as_str().unwrap_or_default().to_string()));
            return Err(match param {
                Some((field, why)) => ConnectorError::invalid(
                    field,
                    format!("WooCommerce refused the request (HTTP {status}): {} {why}", message()),
                ),
                None => ConnectorError::invalid(
                    code.unwrap_or_else(|| format!("http-{status}")),
                    format!("WooCommerce refused the request (HTTP {status}): {}", message()),
                ),
            });
        }
        500..=599 => {
            return Err(ConnectorError::Transient(format!(
                "WooCommerce answered HTTP {status}: {}",
                described()
            )));
        }
        _ => {
            return Err(ConnectorError::Fatal(format!(
                "WooCommerce answered HTTP {status}: {}",
                described()
            )));
        }
    }
    json.ok_or_else(|| {
        // A cut-off body is what an overloaded host sends; asking again usually works.
        ConnectorError::Transient(format!(
            "WooCommerce sent a body that is not JSON (HTTP {status}): {}",
            preview(body)
        ))
    })
}

/// The WooCommerce error `code` of a response body, if it has one.
pub fn error_code(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    json.get("code").and_then(Value::as_str).map(str::to_string)
}

/// The error with `what` (the record and the step) in front of its message; the variant, and
/// so the retry decision, stays.
pub fn about(what: &str, error: ConnectorError) -> ConnectorError {
    match error {
        ConnectorError::Unauthorized(m) => ConnectorError::Unauthorized(format!("{what}: {m}")),
        ConnectorError::RateLimited(r) => {
            ConnectorError::rate_limited(r.retry_after_ms, format!("{what}: {}", r.message))
        }
        ConnectorError::NotFound(m) => ConnectorError::NotFound(format!("{what}: {m}")),
        ConnectorError::Invalid(f) => ConnectorError::invalid(f.field, format!("{what}: {}", f.message)),
        ConnectorError::Transient(m) => ConnectorError::Transient(format!("{what}: {m}")),
        ConnectorError::Fatal(m) => ConnectorError::Fatal(format!("{what}: {m}")),
    }
}

/// Decodes checked JSON into a response type.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ConnectorError> {
    serde_json::from_value(value)
        .map_err(|e| ConnectorError::Transient(format!("unexpected WooCommerce response shape: {e}")))
}

/// The next page after `page`, from `X-WP-TotalPages`; without the header, a full page
/// means there may be more.
pub fn next_page(page: u32, total_pages: Option<&str>, returned: usize, per_page: u32) -> Option<u32> {
    match total_pages.and_then(|t| t.trim().parse::<u32>().ok()) {
        Some(total) => (page < total).then_some(page + 1),
        None => (returned as u32 >= per_page && returned > 0).then_some(page + 1),
    }
}

fn preview(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// `GET /settings/general/woocommerce_currency`.
#[derive(Debug, Deserialize)]
pub struct Setting {
    pub value: Value,
}

/// `GET /wp-json/`.
#[derive(Debug, Deserialize)]
pub struct SiteIndex {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Term {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct ImageNode {
    #[serde(default)]
    pub src: String,
    #[serde(default)]
    pub alt: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AttributeNode {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub variation: bool,
}

#[derive(Debug, Deserialize)]
pub struct VariationAttribute {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub option: String,
}

/// The price, SKU and stock fields products and variations share.
#[derive(Debug, Deserialize, Default)]
pub struct Stocked {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub regular_price: Option<String>,
    #[serde(default)]
    pub sale_price: Option<String>,
    /// `true`, `false`, or `"parent"` on a variation that inherits.
    #[serde(default)]
    pub manage_stock: Value,
    #[serde(default)]
    pub stock_quantity: Option<i64>,
    #[serde(default)]
    pub stock_status: Option<String>,
    #[serde(default)]
    pub weight: Option<String>,
    /// GTIN, UPC, EAN or ISBN (WooCommerce 9.2+).
    #[serde(default)]
    pub global_unique_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ProductNode {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub date_modified_gmt: Option<String>,
    #[serde(flatten)]
    pub stocked: Stocked,
    #[serde(default)]
    pub categories: Vec<Term>,
    #[serde(default)]
    pub tags: Vec<Term>,
    #[serde(default)]
    pub images: Vec<ImageNode>,
    #[serde(default)]
    pub attributes: Vec<AttributeNode>,
    #[serde(default)]
    pub variations: Vec<u64>,
}

impl ProductNode {
    pub fn is_variable(&self) -> bool {
        self.kind == "variable" || !self.variations.is_empty()
    }
}

#[derive(Debug, Deserialize)]
pub struct VariationNode {
    pub id: u64,
    #[serde(flatten)]
    pub stocked: Stocked,
    #[serde(default)]
    pub image: Option<ImageNode>,
    #[serde(default)]
    pub attributes: Vec<VariationAttribute>,
}

/// How the connection reads stock and weight.
#[derive(Debug, Clone, Copy)]
pub struct Units {
    /// Grams per unit of `woocommerce_weight_unit`.
    pub grams_per_unit: f64,
    /// Stock reported for `instock` products that do not manage stock.
    pub unmanaged_stock: i64,
}

impl Units {
    /// `kg` (WooCommerce's default), `g`, `lbs` or `oz`.
    pub fn grams_per(unit: Option<&str>) -> Result<f64, ConnectorError> {
        match unit.map(|u| u.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("kg") => Ok(1000.0),
            Some("g") => Ok(1.0),
            Some("lbs") | Some("lb") => Ok(453.592_37),
            Some("oz") => Ok(28.349_523_125),
            Some(other) => Err(ConnectorError::Fatal(format!(
                "connection setting `weight-unit` must be kg, g, lbs or oz, not `{other}`"
            ))),
        }
    }
}

/// A product with its variations (empty for a simple product) as the contract's record.
pub fn product(
    node: ProductNode,
    variations: Vec<VariationNode>,
    currency: &str,
    units: Units,
) -> Result<Product, ConnectorError> {
    let status = match node.status.as_str() {
        "publish" => ProductStatus::Active,
        "private" | "trash" => ProductStatus::Archived,
        _ => ProductStatus::Draft,
    };
    let id = node.id.to_string();
    let variants = if node.is_variable() {
        let mut variants = Vec::with_capacity(variations.len());
        for variation in variations {
            variants.push(variation_variant(
                &node,
                variation,
                currency,
                units,
                status == ProductStatus::Active,
            )?);
        }
        variants
    } else {
        let stocked = &node.stocked;
        vec![ProductVariant {
            id: id.clone(),
            sku: stocked.sku.clone().unwrap_or_default(),
            barcode: non_empty(stocked.global_unique_id.clone()),
            title: node.name.clone(),
            price: price(&id, stocked, currency, status == ProductStatus::Active)?,
            compare_at_price: compare_at(&id, stocked, currency)?,
            stock: stock(stocked, None, units),
            weight_grams: grams(stocked.weight.as_deref(), units),
            options: Vec::new(),
            image: None,
        }]
    };
    if variants.is_empty() {
        return Err(ConnectorError::invalid(
            "variations",
            format!("variable product {id} has no variations to sell"),
        ));
    }
    let vendor = node
        .attributes
        .iter()
        .find(|a| {
            !a.variation && (a.name.eq_ignore_ascii_case("brand") || a.name.eq_ignore_ascii_case("vendor"))
        })
        .and_then(|a| a.options.first().cloned());
    Ok(Product {
        id,
        title: node.name,
        description_html: node.description,
        vendor: non_empty(vendor),
        product_type: node.categories.into_iter().map(|c| c.name).find(|n| !n.trim().is_empty()),
        tags: node.tags.into_iter().map(|t| t.name).collect(),
        status,
        images: node.images.into_iter().filter(|i| !i.src.is_empty()).map(image).collect(),
        variants,
        updated_at: node.date_modified_gmt.as_deref().and_then(unix_millis).unwrap_or(0),
    })
}

fn variation_variant(
    parent: &ProductNode,
    node: VariationNode,
    currency: &str,
    units: Units,
    sellable: bool,
) -> Result<ProductVariant, ConnectorError> {
    let id = node.id.to_string();
    let options: Vec<OptionValue> = node
        .attributes
        .into_iter()
        // An "any value" attribute has an empty option; it tells nothing apart.
        .filter(|a| !a.option.is_empty())
        .map(|a| OptionValue { name: a.name, value: a.option })
        .collect();
    let title = options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>().join(" / ");
    let sku = non_empty(node.stocked.sku.clone()).or_else(|| parent.stocked.sku.clone()).unwrap_or_default();
    let weight = non_empty(node.stocked.weight.clone()).or_else(|| parent.stocked.weight.clone());
    Ok(ProductVariant {
        price: price(&id, &node.stocked, currency, sellable)?,
        compare_at_price: compare_at(&id, &node.stocked, currency)?,
        stock: stock(&node.stocked, Some(&parent.stocked), units),
        weight_grams: grams(weight.as_deref(), units),
        barcode: non_empty(node.stocked.global_unique_id.clone()),
        title: if title.is_empty() { parent.name.clone() } else { title },
        image: node.image.filter(|i| !i.src.is_empty()).map(image),
        id,
        sku,
        options,
    })
}

/// What the customer pays now: `price`, else `regular_price`. Drafts often have no price
/// yet; they read as 0 rather than failing the whole page (rules skip drafts).
fn price(id: &str, stocked: &Stocked, currency: &str, sellable: bool) -> Result<Money, ConnectorError> {
    let amount = non_empty(stocked.price.clone()).or_else(|| non_empty(stocked.regular_price.clone()));
    match amount {
        Some(amount) => money(id, "price", amount, currency),
        None if !sellable => Ok(Money::new("0", currency)),
        None => Err(ConnectorError::invalid(
            format!("{id}.price"),
            format!("published product {id} has no price"),
        )),
    }
}

/// `regular_price` while a different `sale_price` is set.
fn compare_at(id: &str, stocked: &Stocked, currency: &str) -> Result<Option<Money>, ConnectorError> {
    let (Some(sale), Some(regular)) =
        (non_empty(stocked.sale_price.clone()), non_empty(stocked.regular_price.clone()))
    else {
        return Ok(None);
    };
    if sale.trim() == regular.trim() {
        return Ok(None);
    }
    money(id, "regular_price", regular, currency).map(Some)
}

fn stock(stocked: &Stocked, parent: Option<&Stocked>, units: Units) -> i64 {
    let managed = |s: &Stocked| s.manage_stock.as_bool() == Some(true);
    if managed(stocked) {
        return stocked.stock_quantity.unwrap_or(0);
    }
    if stocked.manage_stock.as_str() == Some("parent")
        && let Some(parent) = parent.filter(|p| managed(p))
    {
        return parent.stock_quantity.unwrap_or(0);
    }
    match stocked.stock_status.as_deref() {
        Some("outofstock") => 0,
        _ => units.unmanaged_stock,
    }
}

/// Whole grams from a weight string in the store's unit; empty or zero means unknown.
fn grams(weight: Option<&str>, units: Units) -> Option<u32> {
    let value: f64 = weight?.trim().parse().ok()?;
    let grams = (value * units.grams_per_unit).round();
    (grams >= 1.0 && grams <= f64::from(u32::MAX)).then_some(grams as u32)
}

fn image(node: ImageNode) -> Image {
    Image { url: node.src, alt: non_empty(node.alt) }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

/// Checks a price string is a plain decimal (`"19.99"`) before passing it on.
fn money(id: &str, field: &str, amount: String, currency: &str) -> Result<Money, ConnectorError> {
    let amount = amount.trim().to_string();
    let mut parts = amount.split('.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let valid = digits(whole) && fraction.is_none_or(digits) && parts.next().is_none();
    if !valid {
        return Err(ConnectorError::invalid(
            format!("{id}.{field}"),
            format!("`{amount}` is not a decimal price"),
        ));
    }
    Ok(Money::new(amount, currency))
}

/// Unix milliseconds of a WordPress `_gmt` date (`2025-06-01T00:00:00`, UTC).
pub fn unix_millis(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = text.split_once('T').unwrap_or((text, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.split('.').next().and_then(|p| p.parse::<i64>().ok()));
    let (h, min, s) = (t.next()??, t.next().flatten().unwrap_or(0), t.next().flatten().unwrap_or(0));
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || !(0..24).contains(&h) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(((era * 146_097 + doe - 719_468) * 86_400 + h * 3600 + min * 60 + s) * 1000)
}

/// A WordPress `_gmt` date (`2025-06-01T00:00:00`) of Unix seconds, for `modified_after`.
pub fn gmt_date(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UNITS: Units = Units { grams_per_unit: 1000.0, unmanaged_stock: 0 };

    fn simple() -> Value {
        json!({
            "id": 101, "name": "Trail Mug", "type": "simple", "status": "publish",
            "description": "<p>Enamel.</p>", "sku": "MUG-1", "price": "12.00", "regular_price": "15.00",
            "sale_price": "12.00", "manage_stock": true, "stock_quantity": 7, "stock_status": "instock",
            "weight": "0.35", "date_modified_gmt": "2025-06-01T00:01:00",
            "categories": [{"id": 15, "name": "Kitchen", "slug": "kitchen"}], "tags": [{"id": 16, "name": "enamel"}],
            "images": [{"id": 1, "src": "https://cdn.example.com/mug.jpg", "alt": ""}],
            "attributes": [{"name": "Brand", "options": ["Crossdock"], "variation": false}], "variations": []
        })
    }

    #[test]
    fn a_simple_product_is_one_variant_on_sale() {
        let node: ProductNode = decode(simple()).expect("decodes");
        let p = product(node, Vec::new(), "USD", UNITS).expect("maps");
        assert_eq!(p.id, "101");
        assert_eq!(p.status, ProductStatus::Active);
        assert_eq!(p.vendor.as_deref(), Some("Crossdock"));
        assert_eq!(p.product_type.as_deref(), Some("Kitchen"));
        assert_eq!(p.updated_at, 1_748_736_060_000);
        assert_eq!(p.images[0].alt, None);
        let v = &p.variants[0];
        assert_eq!((v.id.as_str(), v.sku.as_str(), v.price.amount.as_str()), ("101", "MUG-1", "12.00"));
        assert_eq!(v.compare_at_price.as_ref().map(|m| m.amount.as_str()), Some("15.00"));
        assert_eq!((v.stock, v.weight_grams), (7, Some(350)));
        assert!(v.options.is_empty());
    }

    #[test]
    fn variations_become_variants_with_options() {
        let mut parent = simple();
        parent["type"] = json!("variable");
        parent["variations"] = json!([201, 202]);
        parent["sku"] = json!("TEE");
        let node: ProductNode = decode(parent).expect("decodes");
        let variations: Vec<VariationNode> = decode(json!([
            {"id": 201, "sku": "TEE-S", "price": "20.00", "regular_price": "20.00", "sale_price": "",
             "manage_stock": true, "stock_quantity": 3, "weight": "",
             "attributes": [{"name": "Size", "option": "S"}, {"name": "Color", "option": "Blue"}]},
            {"id": 202, "sku": "", "price": "21.00", "regular_price": "21.00", "manage_stock": "parent",
             "stock_status": "instock", "attributes": [{"name": "Size", "option": "M"}], "image": {"src": "https://cdn.example.com/m.jpg", "alt": "M"}}
        ]))
        .expect("decodes");
        let p = product(node, variations, "USD", UNITS).expect("maps");
        assert_eq!(p.variants.len(), 2);
        let s = &p.variants[0];
        assert_eq!((s.id.as_str(), s.title.as_str(), s.stock), ("201", "S / Blue", 3));
        assert!(s.compare_at_price.is_none());
        assert_eq!(s.weight_grams, Some(350), "an empty weight inherits the parent's");
        let m = &p.variants[1];
        assert_eq!(m.sku, "TEE", "an empty SKU inherits the parent's");
        assert_eq!(m.stock, 7, "`parent` stock management reads the parent's quantity");
        assert_eq!(m.image.as_ref().map(|i| i.url.as_str()), Some("https://cdn.example.com/m.jpg"));
    }

    #[test]
    fn statuses_map_to_the_contract() {
        for (status, expected) in [
            ("publish", ProductStatus::Active),
            ("draft", ProductStatus::Draft),
            ("pending", ProductStatus::Draft),
            ("private", ProductStatus::Archived),
        ] {
            let mut node = simple();
            node["status"] = json!(status);
            let p = product(decode(node).expect("decodes"), Vec::new(), "USD", UNITS).expect("maps");
            assert_eq!(p.status, expected, "{status}");
        }
    }

    #[test]
    fn bad_prices_are_invalid_not_guessed() {
        let mut node = simple();
        node["price"] = json!("12,00");
        let err = product(decode(node).expect("decodes"), Vec::new(), "USD", UNITS).expect_err("refused");
        assert!(matches!(err, ConnectorError::Invalid(f) if f.field == "101.price"));
    }

    #[test]
    fn failures_are_typed_by_status_and_code() {
        let body = br#"{"code":"woocommerce_rest_authentication_error","message":"Consumer key is invalid.","data":{"status":401}}"#;
        assert!(
            matches!(check_response(401, None, body), Err(ConnectorError::Unauthorized(m)) if m.contains("Consumer key is invalid."))
        );
        assert!(
            matches!(check_response(429, Some(2_000), b"slow down"), Err(ConnectorError::RateLimited(r)) if r.retry_after_ms == 2_000)
        );
        assert!(matches!(check_response(503, None, b"<html>"), Err(ConnectorError::Transient(_))));
        assert!(matches!(
            check_response(
                404,
                None,
                br#"{"code":"woocommerce_rest_product_invalid_id","message":"Invalid ID."}"#
            ),
            Err(ConnectorError::NotFound(_))
        ));
        let invalid = check_response(400, None, br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}}"#);
        assert!(matches!(invalid, Err(ConnectorError::Invalid(f)) if f.field == "rest_invalid_param"));
        assert!(matches!(check_response(200, None, br#"[{"id": 1, "na"#), Err(ConnectorError::Transient(_))));
        assert_eq!(check_response(200, None, b"[]").expect("ok"), json!([]));
    }

    #[test]
    fn an_invalid_parameter_names_its_field() {
        let body = br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): status","data":{"status":400,"params":{"status":"status is not one of pending, processing."}}}"#;
        assert!(matches!(
            check_response(400, None, body),
            Err(ConnectorError::Invalid(f)) if f.field == "status" && f.message.contains("not one of")
        ));
        assert_eq!(error_code(body).as_deref(), Some("rest_invalid_param"));
        assert_eq!(error_code(b"<html>"), None);
    }

    #[test]
    fn context_goes_in_front_and_the_variant_stays() {
        let e = about("order 812", ConnectorError::rate_limited(1_000, "slow down"));
        assert!(
            matches!(e, ConnectorError::RateLimited(r) if r.retry_after_ms == 1_000 && r.message == "order 812: slow down")
        );
        let e = about("order 812", ConnectorError::invalid("amount", "too much"));
        assert!(
            matches!(e, ConnectorError::Invalid(f) if f.field == "amount" && f.message == "order 812: too much")
        );
    }

    #[test]
    fn gmt_dates_round_trip() {
        assert_eq!(gmt_date(1_748_736_000), "2025-06-01T00:00:00");
        assert_eq!(gmt_date(1_748_772_299), "2025-06-01T10:04:59");
        assert_eq!(unix_millis(&gmt_date(1_709_251_199)), Some(1_709_251_199_000));
    }

    #[test]
    fn pages_follow_the_total_pages_header() {
        assert_eq!(next_page(1, Some("3"), 100, 100), Some(2));
        assert_eq!(next_page(3, Some("3"), 5, 100), None);
        assert_eq!(next_page(1, None, 10, 10), Some(2));
        assert_eq!(next_page(1, None, 4, 10), None);
    }

    #[test]
    fn weights_convert_from_the_store_unit() {
        let lbs = Units { grams_per_unit: Units::grams_per(Some("lbs")).expect("known"), unmanaged_stock: 0 };
        assert_eq!(grams(Some("2"), lbs), Some(907));
        assert_eq!(grams(Some("0"), UNITS), None);
        assert_eq!(grams(Some(""), UNITS), None);
        assert!(Units::grams_per(Some("stone")).is_err());
    }
}
