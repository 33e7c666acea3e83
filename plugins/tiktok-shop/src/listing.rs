//! Between the contract's listing records and TikTok Shop's product JSON (reference §5): the
//! Create/Edit Product body with its product attributes, the price and inventory update
//! bodies, and reading ids, review status and the listing as the shop holds it back. Pure, so
//! it is tested natively.

use crossdock_plugin_sdk::Result;
use crossdock_plugin_sdk::listings::{
    ListingDraft, ListingRef, ListingSku, ListingSnapshot, ReviewStatus, SkuPrice, SkuSnapshot, SkuStock,
};
use crossdock_plugin_sdk::types::{AttributeValue, ConnectorError, Money};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Package weight sent when the store has none (TikTok requires one).
const DEFAULT_WEIGHT_KG: &str = "0.5";
/// The documented inventory range is 1–99 999; 0 marks a SKU out of stock (accepted by the
/// sandbox; UNCONFIRMED on the real API, reference §5.5).
const MAX_QUANTITY: i64 = 99_999;
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// Where a listing goes in the shop.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// Leaf category.
    pub category_id: &'a str,
    /// The shop's sales warehouse.
    pub warehouse_id: &'a str,
}

/// The Create Product body (`existing` none) or the Edit Product body, where `existing` maps
/// seller SKU to the channel SKU id so those SKUs are kept (Edit deletes SKUs whose id is
/// missing, reference §5.4).
pub fn product_body(
    draft: &ListingDraft,
    place: Placement<'_>,
    existing: Option<&HashMap<String, String>>,
) -> Value {
    let skus: Vec<Value> = draft
        .skus
        .iter()
        .map(|sku| {
            let mut body = sku_body(sku, place.warehouse_id, draft.skus.len());
            if let Some(id) = existing.and_then(|ids| ids.get(&sku.seller_sku)) {
                body["id"] = json!(id);
            }
            body
        })
        .collect();
    // TikTok needs image URIs returned by its own upload endpoint (POST
    // /product/202309/images/upload, multipart, body unsigned). Until the connector uploads
    // (that needs fetching the image bytes through the host), the store's URL is passed as
    // the URI, which the sandbox accepts and the real API will refuse.
    let images: Vec<Value> = draft.images.iter().map(|image| json!({ "uri": image.url })).collect();
    let mut body = json!({
        "title": draft.title,
        "description": draft.description_html,
        "category_id": place.category_id,
        "main_images": images,
        "package_weight": { "value": weight_kg(draft.weight_grams), "unit": "KILOGRAM" },
        "skus": skus,
        "external_product_id": draft.external_id,
    });
    let attributes = product_attributes(&draft.attributes);
    if !attributes.is_empty() {
        body["product_attributes"] = json!(attributes);
    }
    if existing.is_none() {
        let key: String = draft.idempotency_key.chars().take(MAX_IDEMPOTENCY_KEY_CHARS).collect();
        body["idempotency_key"] = json!(key);
    }
    body
}

/// `product_attributes[{id, values[{id} | {name}]}]`: option ids by id, custom values by name
/// (TikTok gives them ids). Attributes without an id or a value are left out.
fn product_attributes(values: &[AttributeValue]) -> Vec<Value> {
    values
        .iter()
        .filter(|a| !a.attribute_id.is_empty())
        .filter_map(|a| {
            let values: Vec<Value> = a
                .option_ids
                .iter()
                .filter(|id| !id.is_empty())
                .map(|id| json!({ "id": id }))
                .chain(
                    a.custom_values
                        .iter()
                        .filter(|name| !name.trim().is_empty())
                        .map(|name| json!({ "name": name })),
                )
                .collect();
            (!values.is_empty()).then(|| json!({ "id": a.attribute_id, "values": values }))
        })
        .collect()
}

fn sku_body(sku: &ListingSku, warehouse_id: &str, sku_count: usize) -> Value {
    let mut body = json!({
        "seller_sku": sku.seller_sku,
        "price": { "amount": sku.price.amount, "currency": sku.price.currency },
        "inventory": [{ "warehouse_id": warehouse_id, "quantity": quantity(sku.stock) }],
    });
    // Sales attributes may be left out when there is a single SKU.
    if !sku.options.is_empty() || sku_count > 1 {
        let mut attributes: Vec<Value> = sku
            .options
            .iter()
            .map(|option| json!({ "name": option.name, "value_name": option.value }))
            .collect();
        if let (Some(first), Some(image)) = (attributes.first_mut(), &sku.image) {
            // The SKU image rides on the first ("primary") attribute; same caveat as above.
            first["sku_img"] = json!({ "uri": image.url });
        }
        body["sales_attributes"] = json!(attributes);
    }
    body
}

/// Stock as TikTok takes it: 0..=99 999 (overselling shows as 0).
pub fn quantity(stock: i64) -> i64 {
    stock.clamp(0, MAX_QUANTITY)
}

/// Grams as a kilogram decimal string, without floats: 1250 -> "1.25".
pub fn weight_kg(grams: Option<u32>) -> String {
    match grams {
        None | Some(0) => DEFAULT_WEIGHT_KG.to_owned(),
        Some(grams) => {
            let text = format!("{}.{:03}", grams / 1000, grams % 1000);
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
    }
}

/// The Update Price body (reference §5.5).
pub fn prices_body(prices: &[SkuPrice]) -> Value {
    let skus: Vec<Value> = prices
        .iter()
        .map(|p| json!({ "id": p.sku_id, "price": { "amount": p.price.amount, "currency": p.price.currency } }))
        .collect();
    json!({ "skus": skus })
}

/// The Update Inventory body: every SKU's one warehouse (reference §5.5).
pub fn inventory_body(stock: &[SkuStock], warehouse_id: &str) -> Value {
    let skus: Vec<Value> = stock
        .iter()
        .map(|s| json!({ "id": s.sku_id, "inventory": [{ "warehouse_id": warehouse_id, "quantity": quantity(s.stock) }] }))
        .collect();
    json!({ "skus": skus })
}

/// An id that may come as a string or, in some payloads, a bare JSON number.
pub fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The ids in a Create/Edit Product response: `{product_id, skus[{id, seller_sku}]}`.
pub fn listing_ref(data: &Value, fallback_id: Option<&str>) -> Result<ListingRef> {
    let listing_id = id_of(&data["product_id"])
        .or_else(|| fallback_id.map(str::to_owned))
        .ok_or_else(|| unexpected("product_id", data))?;
    Ok(ListingRef { listing_id, sku_ids: sku_ids(data) })
}

/// (seller SKU, SKU id) pairs of a product or a write response.
pub fn sku_ids(data: &Value) -> Vec<(String, String)> {
    data["skus"]
        .as_array()
        .map(|skus| {
            skus.iter()
                .filter_map(|sku| Some((sku["seller_sku"].as_str()?.to_owned(), id_of(&sku["id"])?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Review status of a Get Product answer (reference §5.3).
pub fn review_status(data: &Value) -> Result<ReviewStatus> {
    let status = data["status"].as_str().ok_or_else(|| unexpected("status", data))?;
    Ok(match status {
        "PENDING" => ReviewStatus::InReview,
        // An edit of a live product under review leaves it ACTIVATE: it stays sellable.
        "ACTIVATE" => ReviewStatus::Active,
        "FAILED" => ReviewStatus::Rejected(failed_reasons(data)),
        "DRAFT" => ReviewStatus::Draft,
        other => ReviewStatus::Inactive(other.to_owned()),
    })
}

/// A Get Product answer as the contract's snapshot: the status, and per SKU the price buyers
/// see and the stock summed over warehouses (reference §5.3 response fields).
pub fn snapshot(data: &Value) -> Result<ListingSnapshot> {
    let status = review_status(data)?;
    let skus = data["skus"]
        .as_array()
        .ok_or_else(|| unexpected("skus", data))?
        .iter()
        .map(|sku| {
            let sku_id = id_of(&sku["id"]).ok_or_else(|| unexpected("skus[].id", data))?;
            let price = sku_price(&sku["price"]).ok_or_else(|| unexpected("skus[].price", data))?;
            let stock = sku["inventory"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|entry| entry["quantity"].as_i64())
                .sum();
            Ok(SkuSnapshot {
                sku_id,
                seller_sku: sku["seller_sku"].as_str().unwrap_or_default().to_owned(),
                price,
                compare_at_price: list_price(&sku["list_price"]),
                stock,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ListingSnapshot { status, skus })
}

/// `price{sale_price, tax_exclusive_price, currency}`: the price buyers see, which is what
/// Update Price sets for local sellers; the tax-exclusive one when there is no sale price.
fn sku_price(price: &Value) -> Option<Money> {
    let amount = [&price["sale_price"], &price["tax_exclusive_price"]]
        .into_iter()
        .find_map(|v| v.as_str().filter(|a| !a.is_empty()))?;
    let currency = price["currency"].as_str().filter(|c| !c.is_empty())?;
    Some(Money::new(amount, currency))
}

/// `list_price{amount, currency}` (the US "was" price), when the SKU has one.
fn list_price(price: &Value) -> Option<Money> {
    let amount = price["amount"].as_str().filter(|a| !a.is_empty())?;
    let currency = price["currency"].as_str().filter(|c| !c.is_empty())?;
    Some(Money::new(amount, currency))
}

/// `audit_failed_reasons[].reasons[]`, flattened; never empty for a failed review.
fn failed_reasons(data: &Value) -> Vec<String> {
    let reasons: Vec<String> = data["audit_failed_reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["reasons"].as_array().into_iter().flatten())
        .filter_map(|reason| reason.as_str().map(str::to_owned))
        .collect();
    if reasons.is_empty() { vec!["TikTok review failed without a reason".to_owned()] } else { reasons }
}

/// The currency a local shop of `region` prices in (reference §10); the shops response has
/// no currency.
pub fn region_currency(region: &str) -> Option<&'static str> {
    Some(match region {
        "BR" => "BRL",
        "FR" | "DE" | "IE" | "IT" | "ES" => "EUR",
        "GB" | "UK" => "GBP",
        "ID" => "IDR",
        "JP" => "JPY",
        "MX" => "MXN",
        "MY" => "MYR",
        "PH" => "PHP",
        "SG" => "SGD",
        "TH" => "THB",
        "US" => "USD",
        "VN" => "VND",
        _ => return None,
    })
}

fn unexpected(field: &str, data: &Value) -> ConnectorError {
    let preview: String = data.to_string().chars().take(300).collect();
    ConnectorError::Fatal(format!("TikTok answer without `{field}`: {preview}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdock_plugin_sdk::types::{Image, Money, OptionValue};

    fn draft() -> ListingDraft {
        let sku = |seller_sku: &str, size: &str| ListingSku {
            seller_sku: seller_sku.into(),
            price: Money::new("19.99", "USD"),
            compare_at_price: None,
            stock: 7,
            options: vec![OptionValue { name: "Size".into(), value: size.into() }],
            barcode: None,
            image: None,
        };
        ListingDraft {
            external_id: "gid://shopify/Product/1".into(),
            title: "Tee".into(),
            description_html: "<p>Soft</p>".into(),
            category_id: None,
            brand: None,
            images: vec![Image { url: "https://cdn.example.com/tee.jpg".into(), alt: None }],
            weight_grams: Some(1250),
            skus: vec![sku("TEE-S", "S"), sku("TEE-M", "M")],
            attributes: Vec::new(),
            idempotency_key: "create-1".into(),
        }
    }

    const PLACE: Placement<'static> =
        Placement { category_id: "600001", warehouse_id: "7200000000000000001" };

    #[test]
    fn create_body_carries_what_tiktok_requires() {
        let body = product_body(&draft(), PLACE, None);
        assert_eq!(body["category_id"], "600001");
        assert_eq!(body["main_images"][0]["uri"], "https://cdn.example.com/tee.jpg");
        assert_eq!(body["package_weight"], json!({ "value": "1.25", "unit": "KILOGRAM" }));
        assert_eq!(body["idempotency_key"], "create-1");
        assert_eq!(body["external_product_id"], "gid://shopify/Product/1");
        let sku = &body["skus"][1];
        assert_eq!(sku["price"], json!({ "amount": "19.99", "currency": "USD" }));
        assert_eq!(sku["inventory"], json!([{ "warehouse_id": "7200000000000000001", "quantity": 7 }]));
        assert_eq!(sku["sales_attributes"], json!([{ "name": "Size", "value_name": "M" }]));
        assert!(sku.get("id").is_none());
    }

    #[test]
    fn attributes_go_by_option_id_or_custom_name() {
        let mut draft = draft();
        assert!(product_body(&draft, PLACE, None).get("product_attributes").is_none());
        let value = |id: &str, options: &[&str], custom: &[&str]| AttributeValue {
            attribute_id: id.into(),
            option_ids: options.iter().map(|s| s.to_string()).collect(),
            custom_values: custom.iter().map(|s| s.to_string()).collect(),
        };
        draft.attributes = vec![
            value("100198", &["1000061"], &["Bamboo"]),
            value("100392", &[], &[]),
            value("", &["1"], &[]),
        ];
        let body = product_body(&draft, PLACE, None);
        assert_eq!(
            body["product_attributes"],
            json!([{ "id": "100198", "values": [{ "id": "1000061" }, { "name": "Bamboo" }] }])
        );
        let edit = product_body(&draft, PLACE, Some(&HashMap::new()));
        assert_eq!(edit["product_attributes"], body["product_attributes"]);
    }

    #[test]
    fn edit_body_keeps_existing_sku_ids_by_seller_sku() {
        let existing = HashMap::from([("TEE-M".to_owned(), "1700000000000000009".to_owned())]);
        let body = product_body(&draft(), PLACE, Some(&existing));
        assert!(body["skus"][0].get("id").is_none());
        assert_eq!(body["skus"][1]["id"], "1700000000000000009");
        assert!(body.get("idempotency_key").is_none());
    }

    #[test]
    fn weights_and_quantities_fit_tiktoks_ranges() {
        assert_eq!(weight_kg(None), "0.5");
        assert_eq!(weight_kg(Some(2000)), "2");
        assert_eq!(weight_kg(Some(5)), "0.005");
        assert_eq!((quantity(-3), quantity(150_000), quantity(0)), (0, 99_999, 0));
    }

    #[test]
    fn statuses_map_to_review_states() {
        let status = |s: &str| review_status(&json!({ "status": s })).ok();
        assert!(matches!(status("PENDING"), Some(ReviewStatus::InReview)));
        assert!(matches!(status("ACTIVATE"), Some(ReviewStatus::Active)));
        assert!(matches!(status("DRAFT"), Some(ReviewStatus::Draft)));
        assert!(matches!(status("FREEZE"), Some(ReviewStatus::Inactive(s)) if s == "FREEZE"));
        let failed =
            json!({ "status": "FAILED", "audit_failed_reasons": [{ "reasons": ["blurry", "no brand"] }] });
        assert!(
            matches!(review_status(&failed), Ok(ReviewStatus::Rejected(r)) if r == ["blurry", "no brand"])
        );
    }

    #[test]
    fn a_product_reads_back_as_status_prices_and_summed_stock() {
        let data = json!({
            "status": "SELLER_DEACTIVATED",
            "skus": [
                { "id": "10001", "seller_sku": "TEE-S",
                  "price": { "tax_exclusive_price": "110", "sale_price": "117.5", "currency": "USD" },
                  "list_price": { "amount": "150", "currency": "USD" },
                  "inventory": [{ "warehouse_id": "1", "quantity": 999 }, { "warehouse_id": "2", "quantity": 1 }] },
                { "id": 10002, "price": { "tax_exclusive_price": "9.5", "currency": "USD" }, "inventory": [] },
            ],
        });
        let held = snapshot(&data).expect("reads");
        assert!(matches!(&held.status, ReviewStatus::Inactive(s) if s == "SELLER_DEACTIVATED"));
        let first = &held.skus[0];
        assert_eq!((first.sku_id.as_str(), first.seller_sku.as_str(), first.stock), ("10001", "TEE-S", 1000));
        assert_eq!(first.price.amount, "117.5");
        assert_eq!(first.compare_at_price.as_ref().map(|m| m.amount.as_str()), Some("150"));
        let second = &held.skus[1];
        assert_eq!((second.sku_id.as_str(), second.price.amount.as_str(), second.stock), ("10002", "9.5", 0));
        assert!(second.compare_at_price.is_none());
        assert!(snapshot(&json!({ "status": "ACTIVATE", "skus": [{ "id": "1" }] })).is_err());
    }

    #[test]
    fn ids_are_read_from_strings_and_numbers() {
        let data =
            json!({ "product_id": 1729592969712207013u64, "skus": [{ "id": "1729", "seller_sku": "A" }] });
        let listing = listing_ref(&data, None).ok();
        assert_eq!(listing.as_ref().map(|l| l.listing_id.as_str()), Some("1729592969712207013"));
        assert_eq!(listing.map(|l| l.sku_ids), Some(vec![("A".to_owned(), "1729".to_owned())]));
        assert_eq!(region_currency("GB"), Some("GBP"));
    }
}
