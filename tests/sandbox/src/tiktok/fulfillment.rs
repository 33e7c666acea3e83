//! Packages and shipping with the seller's tracking (reference §7.3): Get Package Detail, Ship
//! Package with `self_shipment`, Mark Package As Shipped for the whole order, and Update
//! Package Shipping Info to correct the tracking once within 72 h of shipment. Shipping moves
//! the order to AWAITING_COLLECTION; the carrier's later moves come from `advance_order`.

use super::envelope::{ApiError, code, unix_now};
use super::logistics;
use super::orders::{Order, OrderStatus, invalid};
use super::product_body;
use super::state::State;
use serde::Deserialize;
use serde_json::{Value, json};

/// One package: the whole order (the sandbox neither splits nor combines).
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub id: String,
    pub order_id: String,
    pub cipher: String,
    /// TO_FULFILL before shipment, then PROCESSING, FULFILLING, COMPLETED or CANCELLED.
    pub status: &'static str,
    pub line_item_ids: Vec<String>,
    pub shipping_provider_id: Option<String>,
    pub tracking_number: Option<String>,
    /// When it was handed over with tracking: the 72 h window of tracking updates starts here.
    pub shipped_time: Option<i64>,
    /// Tracking updates made; one is allowed.
    pub tracking_updates: u32,
    pub create_time: i64,
    pub update_time: i64,
}

impl Package {
    pub fn new(id: &str, order: &Order, now: i64) -> Package {
        Package {
            id: id.to_owned(),
            order_id: order.id.clone(),
            cipher: order.cipher.clone(),
            status: "TO_FULFILL",
            line_item_ids: order.lines.iter().map(|l| l.id.clone()).collect(),
            shipping_provider_id: None,
            tracking_number: None,
            shipped_time: None,
            tracking_updates: 0,
            create_time: now,
            update_time: now,
        }
    }
}

/// GET /fulfillment/{v}/packages/{id}; without a cipher any of the seller's packages.
pub(crate) fn get(state: &State, cipher: Option<&str>, id: &str) -> Result<Value, ApiError> {
    let package = state
        .orders
        .packages
        .get(id)
        .filter(|p| cipher.is_none_or(|c| p.cipher == c))
        .ok_or_else(|| not_found("package", id))?;
    let provider = package.shipping_provider_id.as_deref();
    Ok(json!({
        "package_id": package.id,
        "package_status": package.status,
        "order_line_item_ids": package.line_item_ids,
        "orders": [{ "id": package.order_id }],
        "shipping_type": "SELLER",
        "delivery_option_id": logistics::SEND_BY_SELLER_OPTION,
        "delivery_option_name": "Shipped by seller",
        "shipping_provider_id": provider.unwrap_or_default(),
        "shipping_provider_name": provider.and_then(logistics::provider_name).unwrap_or_default(),
        "tracking_number": package.tracking_number.clone().unwrap_or_default(),
        "handover_method": "DROP_OFF",
        "split_and_combine_tag": "DEFAULT",
        "create_time": package.create_time,
        "update_time": package.update_time,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct SelfShipment {
    tracking_number: Option<String>,
    shipping_provider_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ShipBody {
    handover_method: Option<String>,
    self_shipment: Option<SelfShipment>,
}

/// POST /fulfillment/{v}/packages/{id}/ship: a SEND_BY_SELLER package needs `self_shipment`.
pub(crate) fn ship_package(
    state: &mut State,
    cipher: &str,
    id: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let body: ShipBody = product_body::decode(body)?;
    if let Some(method) = body.handover_method.as_deref()
        && !matches!(method, "PICKUP" | "DROP_OFF")
    {
        return Err(invalid("handover_method", format!("unknown {method:?}")));
    }
    let shipment = body.self_shipment.ok_or_else(|| {
        invalid("self_shipment", "is required for a package whose delivery option is SEND_BY_SELLER")
    })?;
    let package = state
        .orders
        .packages
        .get(id)
        .filter(|p| p.cipher == cipher)
        .ok_or_else(|| not_found("package", id))?;
    let order_id = package.order_id.clone();
    ship(state, cipher, &order_id, shipment.tracking_number, shipment.shipping_provider_id)?;
    Ok(Value::Null)
}

#[derive(Debug, Default, Deserialize)]
struct MarkShippedBody {
    tracking_number: Option<String>,
    shipping_provider_id: Option<String>,
    order_line_item_ids: Option<Vec<String>>,
}

/// POST /fulfillment/{v}/orders/{id}/packages (Mark Package As Shipped, US/UK/EU/JP). Only
/// whole orders: the sandbox does not split.
pub(crate) fn mark_shipped(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let body: MarkShippedBody = product_body::decode(body)?;
    let order = state
        .orders
        .orders
        .get(order_id)
        .filter(|o| o.cipher == cipher)
        .ok_or_else(|| not_found("order", order_id))?;
    if let Some(ids) = body.order_line_item_ids.as_ref().filter(|ids| !ids.is_empty()) {
        let all: Vec<&String> = order.lines.iter().map(|l| &l.id).collect();
        if ids.len() != all.len() || !ids.iter().all(|id| all.contains(&id)) {
            return Err(invalid("order_line_item_ids", "the sandbox ships whole orders only"));
        }
    }
    ship(state, cipher, order_id, body.tracking_number, body.shipping_provider_id)?;
    let order = state.orders.orders.get(order_id).ok_or_else(|| not_found("order", order_id))?;
    Ok(json!({
        "order_id": order.id,
        "order_line_item_ids": order.lines.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        "package_id": order.package_id.clone().unwrap_or_default(),
    }))
}

/// The checks and effects shared by both ship calls, in this order: order state (cancelled
/// 21011041, cancellation pending 21011007, not awaiting shipment 21011001*), provider
/// (21011022), duplicate tracking number in the shop (21011025).
fn ship(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    tracking_number: Option<String>,
    provider_id: Option<String>,
) -> Result<(), ApiError> {
    let order = state.orders.orders.get(order_id).ok_or_else(|| not_found("order", order_id))?;
    match order.status {
        OrderStatus::Cancelled => {
            return Err(ApiError::new(code::ORDER_CANCELLED, "The order has been cancelled."));
        }
        _ if order.buyer_request_cancel => {
            return Err(ApiError::new(
                code::AFTER_SALE_PENDING,
                "The order has a pending cancellation request and cannot be shipped.",
            ));
        }
        OrderStatus::AwaitingShipment | OrderStatus::PartiallyShipping => {}
        other => {
            return Err(ApiError::new(
                code::PACKAGE_STATUS,
                format!("The package cannot be shipped while the order is {}.", other.as_str()),
            ));
        }
    }
    let tracking = tracking_number.filter(|t| !t.trim().is_empty());
    let provider = provider_id.filter(|p| logistics::provider_name(p).is_some());
    let (Some(tracking), Some(provider)) = (tracking, provider) else {
        return Err(ApiError::new(
            code::INVALID_TRACKING,
            "Invalid tracking number or shipping provider id.",
        ));
    };
    let key = (cipher.to_owned(), tracking.clone());
    if state.orders.tracking_numbers.contains(&key) {
        return Err(ApiError::new(code::DUPLICATE_TRACKING, "The tracking number has already been used."));
    }
    state.orders.tracking_numbers.insert(key);
    let now = unix_now();
    let package_id = order.package_id.clone();
    if let Some(package) = package_id.and_then(|id| state.orders.packages.get_mut(&id)) {
        package.status = "PROCESSING";
        package.tracking_number = Some(tracking);
        package.shipping_provider_id = Some(provider);
        package.shipped_time = Some(now);
        package.update_time = now;
    }
    state.orders.set_status(order_id, OrderStatus::AwaitingCollection, now);
    Ok(())
}

/// Tracking may be corrected this long after shipment (US, UK and SEA, reference §7.3).
const TRACKING_UPDATE_WINDOW_SECS: i64 = 72 * 3600;
/// Codes of Update Package Shipping Info (reference §7.3).
const NOT_SHIPPED_YET: i64 = 21011043;
const UPDATE_WINDOW_PASSED: i64 = 21011050;
const UPDATE_LIMIT_REACHED: i64 = 21011051;

#[derive(Debug, Default, Deserialize)]
struct ShippingInfoBody {
    tracking_number: Option<String>,
    shipping_provider_id: Option<String>,
}

/// POST /fulfillment/{v}/packages/{id}/shipping_info/update: a shipped, seller-shipped package
/// gets a new tracking number and provider, once, within 72 h of shipment. Checks in this
/// order: the package (not found), its state (cancelled 21011041, not shipped 21011043), the
/// window (21011050), the one update (21011051), the provider (21011022), the number already
/// used in the shop (21011025). The order's `update_time` moves; no webhook (no status moves).
pub(crate) fn update_shipping_info(
    state: &mut State,
    cipher: &str,
    id: &str,
    body: &[u8],
    now: i64,
) -> Result<Value, ApiError> {
    let body: ShippingInfoBody = product_body::decode(body)?;
    let package = state
        .orders
        .packages
        .get(id)
        .filter(|p| p.cipher == cipher)
        .ok_or_else(|| not_found("package", id))?;
    if package.status == "CANCELLED" {
        return Err(ApiError::new(code::ORDER_CANCELLED, "The order has been cancelled."));
    }
    let (Some(shipped_time), Some(old_tracking)) = (package.shipped_time, package.tracking_number.clone())
    else {
        return Err(ApiError::new(NOT_SHIPPED_YET, "The package has not been shipped yet."));
    };
    if now - shipped_time > TRACKING_UPDATE_WINDOW_SECS {
        return Err(ApiError::new(
            UPDATE_WINDOW_PASSED,
            "Shipping information can only be updated within 72 hours of shipment.",
        ));
    }
    if package.tracking_updates >= 1 {
        return Err(ApiError::new(
            UPDATE_LIMIT_REACHED,
            "Shipping information of an order can only be updated once.",
        ));
    }
    let tracking = body.tracking_number.filter(|t| !t.trim().is_empty());
    let provider = body.shipping_provider_id.filter(|p| logistics::provider_name(p).is_some());
    let (Some(tracking), Some(provider)) = (tracking, provider) else {
        return Err(ApiError::new(
            code::INVALID_TRACKING,
            "Invalid tracking number or shipping provider id.",
        ));
    };
    let key = (cipher.to_owned(), tracking.clone());
    if tracking != old_tracking && state.orders.tracking_numbers.contains(&key) {
        return Err(ApiError::new(code::DUPLICATE_TRACKING, "The tracking number has already been used."));
    }
    let order_id = package.order_id.clone();
    state.orders.tracking_numbers.remove(&(cipher.to_owned(), old_tracking));
    state.orders.tracking_numbers.insert(key);
    if let Some(package) = state.orders.packages.get_mut(id) {
        package.tracking_number = Some(tracking);
        package.shipping_provider_id = Some(provider);
        package.tracking_updates += 1;
        package.update_time = now;
    }
    if let Some(order) = state.orders.orders.get_mut(&order_id) {
        order.update_time = now;
    }
    Ok(Value::Null)
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(code::RECORD_NOT_FOUND, format!("The {what} {id} does not exist in this shop."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiktok::{ReviewPolicy, ShopSpec, orders, state};

    const USPS: &str = "7117858858072016686";
    const UPS: &str = "7117859084333745966";

    /// A US shop with one paid order shipped with USPS 9400…01; its cipher and package id.
    fn shipped() -> (State, String, String) {
        let now = unix_now();
        let mut state =
            State::new(&[ShopSpec::new("US", "US", "USD")], ReviewPolicy::default(), now).expect("a shop");
        let shop = state.shops[0].clone();
        state::seed(&mut state, &shop, "Mug", &["MUG-1"], now);
        let order = orders::place(&mut state, &shop.cipher, &[("MUG-1", 1)]).expect("placed");
        orders::advance(&mut state, &shop.cipher, &order, OrderStatus::AwaitingShipment).expect("paid");
        let package = state.orders.orders[&order].package_id.clone().expect("a package");
        let body =
            br#"{"self_shipment":{"tracking_number":"94001","shipping_provider_id":"7117858858072016686"}}"#;
        ship_package(&mut state, &shop.cipher, &package, body).expect("shipped");
        (state, shop.cipher, package)
    }

    fn update(tracking: &str, provider: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({ "tracking_number": tracking, "shipping_provider_id": provider }))
            .expect("json")
    }

    #[test]
    fn tracking_is_corrected_once_and_shows_on_the_package() {
        let (mut state, cipher, package) = shipped();
        let now = unix_now();
        assert_eq!(
            update_shipping_info(&mut state, &cipher, &package, &update("1Z999", UPS), now),
            Ok(Value::Null)
        );
        let detail = get(&state, Some(&cipher), &package).expect("a package");
        assert_eq!(
            (detail["tracking_number"].as_str(), detail["shipping_provider_name"].as_str()),
            (Some("1Z999"), Some("UPS"))
        );
        let again = update_shipping_info(&mut state, &cipher, &package, &update("1Z998", UPS), now);
        assert_eq!(again.map_err(|e| e.code), Err(UPDATE_LIMIT_REACHED));
    }

    #[test]
    fn an_update_is_refused_before_shipment_after_72_hours_and_with_a_bad_provider() {
        let (mut state, cipher, package) = shipped();
        let now = unix_now();
        let bad = update_shipping_info(&mut state, &cipher, &package, &update("1Z999", "123"), now);
        assert_eq!(bad.map_err(|e| e.code), Err(code::INVALID_TRACKING));
        let late =
            update_shipping_info(&mut state, &cipher, &package, &update("1Z999", UPS), now + 73 * 3600);
        assert_eq!(late.map_err(|e| e.code), Err(UPDATE_WINDOW_PASSED));
        let unknown = update_shipping_info(&mut state, &cipher, "1100", &update("1Z999", UPS), now);
        assert_eq!(unknown.map_err(|e| e.code), Err(code::RECORD_NOT_FOUND));

        let shop = state.shops[0].clone();
        let order = orders::place(&mut state, &cipher, &[("MUG-1", 1)]).expect("placed");
        orders::advance(&mut state, &shop.cipher, &order, OrderStatus::AwaitingShipment).expect("paid");
        let unshipped = state.orders.orders[&order].package_id.clone().expect("a package");
        let early = update_shipping_info(&mut state, &cipher, &unshipped, &update("1Z999", USPS), now);
        assert_eq!(early.map_err(|e| e.code), Err(NOT_SHIPPED_YET));
    }
}
