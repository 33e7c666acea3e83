//! The carrier catalogue (reference §7.2, §11.9) and brands (§5): each warehouse offers one
//! seller-shipped and one TikTok-shipped delivery option; the seller-shipped one lists USPS,
//! UPS, FedEx and DHL under fixed 19-digit ids. Brands are a fixed list, paged.
//!
//! Ids are ours except USPS's, which is the reference's sample; the real catalogue varies by
//! market and seller.

use super::envelope::{ApiError, code};
use super::orders::ShippingType;
use super::paging;
use super::state::Shop;
use serde_json::{Value, json};

/// The SEND_BY_SELLER delivery option of every warehouse.
pub(crate) const SEND_BY_SELLER_OPTION: &str = "7129736077789165314";
/// The STANDARD (TikTok-shipped) option: no providers (21008117).
const STANDARD_OPTION: &str = "7129736077789165315";

/// (id, name) of the providers of the seller-shipped option.
pub(crate) const PROVIDERS: [(&str, &str); 4] = [
    ("7117858858072016686", "USPS"),
    ("7117859084333745966", "UPS"),
    ("7129740289385621254", "FedEx"),
    ("7132708500385384198", "DHL"),
];

/// The delivery option (id, name) an order of this shipping type uses.
pub(crate) fn delivery_option_of(shipping_type: ShippingType) -> (&'static str, &'static str) {
    match shipping_type {
        ShippingType::Seller => (SEND_BY_SELLER_OPTION, "Shipped by seller"),
        ShippingType::Tiktok => (STANDARD_OPTION, "Standard Shipping"),
    }
}

/// The provider of a name (case-insensitive).
pub(crate) fn provider_named(name: &str) -> Option<(&'static str, &'static str)> {
    PROVIDERS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name.trim())).copied()
}

pub(crate) fn provider_name(id: &str) -> Option<&'static str> {
    PROVIDERS.iter().find(|(p, _)| *p == id).map(|(_, name)| *name)
}

/// GET /logistics/{v}/warehouses/{id}/delivery_options.
pub(crate) fn delivery_options(shop: &Shop, warehouse_id: &str) -> Result<Value, ApiError> {
    if warehouse_id != shop.sales_warehouse_id && warehouse_id != shop.return_warehouse_id {
        return Err(ApiError::new(
            code::RECORD_NOT_FOUND,
            format!("warehouse {warehouse_id} is not the shop's"),
        ));
    }
    let option = |id: &str, name: &str, kind: &str, description: &str| {
        json!({
            "id": id,
            "name": name,
            "type": kind,
            "description": description,
            "dimension_limit": { "max_height": 100, "max_length": 100, "max_width": 100, "unit": "CM" },
            "weight_limit": { "max_weight": 30000, "min_weight": 1, "unit": "GRAM" },
            "platform": ["TIKTOK_SHOP"],
        })
    };
    Ok(json!({
        "delivery_options": [
            option(SEND_BY_SELLER_OPTION, "Shipped by seller", "SEND_BY_SELLER", "Ship with your own carrier"),
            option(STANDARD_OPTION, "Standard Shipping", "STANDARD", "Shipped with TikTok's carrier"),
        ]
    }))
}

/// GET /logistics/{v}/delivery_options/{id}/shipping_providers.
pub(crate) fn shipping_providers(option_id: &str) -> Result<Value, ApiError> {
    match option_id {
        SEND_BY_SELLER_OPTION => {
            let providers: Vec<Value> =
                PROVIDERS.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
            Ok(json!({ "shipping_providers": providers }))
        }
        STANDARD_OPTION => Err(ApiError::new(
            code::TIKTOK_FULFILLED_OPTION,
            "The delivery option is fulfilled by TikTok; no shipping providers are returned.",
        )),
        _ => Err(ApiError::new(
            code::DELIVERY_OPTION_NOT_SUBSCRIBED,
            format!("The shop has no subscription for the delivery option {option_id}."),
        )),
    }
}

/// (id, name, authorized, T1) of the fixed brand list.
const BRANDS: [(&str, &str, bool, bool); 5] = [
    ("7082427311584347905", "Acme", true, false),
    ("7082427311584347906", "Acme Outdoors", false, false),
    ("7082427311584347907", "Globex", true, true),
    ("7082427311584347908", "Initech", false, true),
    ("7082427311584347909", "Sandbox Basics", true, false),
];

/// GET /product/{v}/brands: `page_size` (1–100, required), `page_token`, `brand_name`
/// (prefix, case-insensitive), `is_authorized`.
pub(crate) fn brands(
    page_size: Option<&str>,
    page_token: Option<&str>,
    brand_name: Option<&str>,
    is_authorized: Option<&str>,
) -> Result<Value, ApiError> {
    let size = paging::page_size(page_size, 100)?;
    let offset = paging::offset(page_token)?;
    let prefix = brand_name.unwrap_or_default().to_lowercase();
    let only_authorized = matches!(is_authorized, Some("true" | "1"));
    let matches: Vec<Value> = BRANDS
        .iter()
        .filter(|(_, name, _, _)| name.to_lowercase().starts_with(&prefix))
        .filter(|(_, _, authorized, _)| !only_authorized || *authorized)
        .map(|(id, name, authorized, t1)| {
            json!({
                "id": id,
                "name": name,
                // The typo is the real API's.
                "authorized_status": if *authorized { "AUTHORIZED" } else { "UNAUTHORIEZD" },
                "is_t1_brand": t1,
                "brand_status": "AVAILABLE",
            })
        })
        .collect();
    let total = matches.len();
    let (page, next_page_token) = paging::page(matches, offset, size);
    Ok(json!({ "brands": page, "total_count": total, "next_page_token": next_page_token }))
}
