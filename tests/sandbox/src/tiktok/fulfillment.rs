//! Packages and shipping with the seller's tracking (reference §7.3): Get Package Detail, Ship
//! Package with `self_shipment`, Mark Package As Shipped for the whole order or a subset of its
//! units (a split: the units shipped get a package of their own), and Update Package Shipping
//! Info to correct one package's tracking once within 72 h of shipment. The order is
//! PARTIALLY_SHIPPING while some units wait, AWAITING_COLLECTION once every unit is shipped;
//! the carrier's later moves come from `advance_order`. Orders TikTok ships itself refuse the
//! seller's ship calls (21008117); `platform_shipping` ships them.

use super::envelope::{ApiError, code, unix_now};
use super::logistics;
use super::orders::{Order, OrderStatus, ShippingType, invalid};
use super::product_body;
use super::state::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// One package: some units of one order (the sandbox never combines orders).
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
    /// DEFAULT, or SPLIT when it was split off the order's first package.
    pub split_tag: &'static str,
    pub create_time: i64,
    pub update_time: i64,
}

impl Package {
    pub fn new(id: &str, order: &Order, units: Vec<String>, now: i64) -> Package {
        Package {
            id: id.to_owned(),
            order_id: order.id.clone(),
            cipher: order.cipher.clone(),
            status: "TO_FULFILL",
            line_item_ids: units,
            shipping_provider_id: None,
            tracking_number: None,
            shipped_time: None,
            tracking_updates: 0,
            split_tag: "DEFAULT",
            create_time: now,
            update_time: now,
        }
    }

    fn shipped(&self) -> bool {
        self.tracking_number.is_some()
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
    let shipping_type =
        state.orders.orders.get(&package.order_id).map_or(ShippingType::Seller, |o| o.shipping_type);
    let (option_id, option_name) = logistics::delivery_option_of(shipping_type);
    Ok(json!({
        "package_id": package.id,
        "package_status": package.status,
        "order_line_item_ids": package.line_item_ids,
        "orders": [{ "id": package.order_id }],
        "shipping_type": shipping_type.as_str(),
        "delivery_option_id": option_id,
        "delivery_option_name": option_name,
        "shipping_provider_id": provider.unwrap_or_default(),
        "shipping_provider_name": provider.and_then(logistics::provider_name).unwrap_or_default(),
        "tracking_number": package.tracking_number.clone().unwrap_or_default(),
        "handover_method": if shipping_type == ShippingType::Tiktok { "PICKUP" } else { "DROP_OFF" },
        "split_and_combine_tag": package.split_tag,
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

/// POST /fulfillment/{v}/packages/{id}/ship: a SEND_BY_SELLER package needs `self_shipment`;
/// the package's units are shipped in it.
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
    let package = state
        .orders
        .packages
        .get(id)
        .filter(|p| p.cipher == cipher)
        .ok_or_else(|| not_found("package", id))?;
    let (order_id, units) = (package.order_id.clone(), package.line_item_ids.clone());
    refuse_tiktok_shipped(state, &order_id)?;
    let shipment = body.self_shipment.ok_or_else(|| {
        invalid("self_shipment", "is required for a package whose delivery option is SEND_BY_SELLER")
    })?;
    let handover = Handover {
        tracking_number: shipment.tracking_number,
        provider_id: shipment.shipping_provider_id,
        units: Some(units),
    };
    ship(state, cipher, &order_id, handover)?;
    Ok(Value::Null)
}

#[derive(Debug, Default, Deserialize)]
struct MarkShippedBody {
    tracking_number: Option<String>,
    shipping_provider_id: Option<String>,
    order_line_item_ids: Option<Vec<String>>,
}

/// POST /fulfillment/{v}/orders/{id}/packages (Mark Package As Shipped, US/UK/EU/JP): the
/// whole order without `order_line_item_ids`, else exactly those units (a split at item
/// level). Answers the package the units are in.
pub(crate) fn mark_shipped(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let body: MarkShippedBody = product_body::decode(body)?;
    state
        .orders
        .orders
        .get(order_id)
        .filter(|o| o.cipher == cipher)
        .ok_or_else(|| not_found("order", order_id))?;
    refuse_tiktok_shipped(state, order_id)?;
    let handover = Handover {
        tracking_number: body.tracking_number,
        provider_id: body.shipping_provider_id,
        units: body.order_line_item_ids.filter(|ids| !ids.is_empty()),
    };
    let (package_id, units) = ship(state, cipher, order_id, handover)?;
    Ok(json!({ "order_id": order_id, "order_line_item_ids": units, "package_id": package_id }))
}

/// The seller's ship and tracking calls on an order TikTok ships itself: refused as the
/// platform refuses a TikTok-fulfilled delivery option.
fn refuse_tiktok_shipped(state: &State, order_id: &str) -> Result<(), ApiError> {
    match state.orders.orders.get(order_id) {
        Some(order) if order.shipping_type == ShippingType::Tiktok => Err(ApiError::new(
            code::TIKTOK_FULFILLED_OPTION,
            format!(
                "Order {order_id} is shipped by TikTok (TikTok Shipping): the platform arranges its carrier and \
                 tracking; the seller cannot ship it with its own tracking."
            ),
        )),
        _ => Ok(()),
    }
}

/// One hand-over to a carrier: the carrier and number, and the units (none: every unit not
/// shipped yet).
pub(crate) struct Handover {
    pub tracking_number: Option<String>,
    pub provider_id: Option<String>,
    pub units: Option<Vec<String>>,
}

/// The checks and effects shared by every ship call, in this order: order state (cancelled
/// 21011041, cancellation pending 21011007, not awaiting shipment 21011001), units (not the
/// order's 36009005, named twice 36009005, already shipped 21011001), provider (21011022),
/// duplicate tracking number in the shop (21011025). The units go into a package of their own
/// unless they are exactly the units of an unshipped package; the order moves to
/// PARTIALLY_SHIPPING or AWAITING_COLLECTION. Answers the package and its units.
pub(crate) fn ship(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    handover: Handover,
) -> Result<(String, Vec<String>), ApiError> {
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
    let is_shipped = |unit: &str| {
        order
            .lines
            .iter()
            .find(|l| l.id == unit)
            .and_then(|l| l.package_id.as_ref())
            .and_then(|p| state.orders.packages.get(p))
            .is_some_and(Package::shipped)
    };
    let units: Vec<String> = match handover.units {
        None => {
            let pending: Vec<String> =
                order.lines.iter().map(|l| l.id.clone()).filter(|u| !is_shipped(u)).collect();
            if pending.is_empty() {
                return Err(ApiError::new(code::PACKAGE_STATUS, "Every line item of the order is shipped."));
            }
            pending
        }
        Some(ids) => {
            let mut seen = HashSet::new();
            for id in &ids {
                if !order.lines.iter().any(|l| &l.id == id) {
                    return Err(invalid(
                        "order_line_item_ids",
                        format!("line item {id} does not belong to order {order_id}"),
                    ));
                }
                if !seen.insert(id.as_str()) {
                    return Err(invalid("order_line_item_ids", format!("line item {id} is listed twice")));
                }
                if is_shipped(id) {
                    return Err(ApiError::new(
                        code::PACKAGE_STATUS,
                        format!("Line item {id} has already been shipped."),
                    ));
                }
            }
            ids
        }
    };
    let tracking = handover.tracking_number.filter(|t| !t.trim().is_empty());
    let provider = handover.provider_id.filter(|p| logistics::provider_name(p).is_some());
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
    let package_id = package_for(state, order_id, &units, now);
    if let Some(package) = state.orders.packages.get_mut(&package_id) {
        package.status = "PROCESSING";
        package.tracking_number = Some(tracking);
        package.shipping_provider_id = Some(provider);
        package.shipped_time = Some(now);
        package.update_time = now;
    }
    let order = state.orders.orders.get(order_id).ok_or_else(|| not_found("order", order_id))?;
    let every_unit_shipped = order.lines.iter().all(|l| {
        l.package_id.as_ref().and_then(|p| state.orders.packages.get(p)).is_some_and(Package::shipped)
    });
    let next =
        if every_unit_shipped { OrderStatus::AwaitingCollection } else { OrderStatus::PartiallyShipping };
    if order.status == next {
        if let Some(order) = state.orders.orders.get_mut(order_id) {
            order.update_time = now;
        }
    } else {
        state.orders.set_status(order_id, next, now);
    }
    Ok((package_id, units))
}

/// The unshipped package that holds exactly `units`, or a new package split off the packages
/// they were in (which keep the rest, and go when nothing is left in them).
fn package_for(state: &mut State, order_id: &str, units: &[String], now: i64) -> String {
    let wanted: HashSet<&str> = units.iter().map(String::as_str).collect();
    let whole = state.orders.packages.values().find(|p| {
        p.order_id == order_id
            && !p.shipped()
            && p.line_item_ids.len() == wanted.len()
            && p.line_item_ids.iter().all(|u| wanted.contains(u.as_str()))
    });
    if let Some(package) = whole {
        return package.id.clone();
    }
    let id = state.next_id("11");
    let Some(order) = state.orders.orders.get(order_id).cloned() else { return id };
    let mut package = Package::new(&id, &order, units.to_vec(), now);
    package.split_tag = "SPLIT";
    state.orders.packages.insert(id.clone(), package);
    let mut emptied = Vec::new();
    for old in &order.packages {
        let Some(old) = state.orders.packages.get_mut(old) else { continue };
        old.line_item_ids.retain(|u| !wanted.contains(u.as_str()));
        old.update_time = now;
        if old.line_item_ids.is_empty() {
            emptied.push(old.id.clone());
        }
    }
    for gone in &emptied {
        state.orders.packages.remove(gone);
    }
    if let Some(order) = state.orders.orders.get_mut(order_id) {
        order.packages.retain(|p| !emptied.contains(p));
        order.packages.push(id.clone());
        for line in order.lines.iter_mut().filter(|l| wanted.contains(l.id.as_str())) {
            line.package_id = Some(id.clone());
        }
    }
    id
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
    refuse_tiktok_shipped(state, &package.order_id)?;
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
    use crate::tiktok::orders::ShippingType;
    use crate::tiktok::{ReviewPolicy, ShopSpec, orders, platform_shipping, state};

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
        let package = state.orders.orders[&order].packages[0].clone();
        let body =
            br#"{"self_shipment":{"tracking_number":"94001","shipping_provider_id":"7117858858072016686"}}"#;
        ship_package(&mut state, &shop.cipher, &package, body).expect("shipped");
        (state, shop.cipher, package)
    }

    /// A US shop with a paid order of two MUG-1 and one CUP-1 shipped by `shipping_type`: the
    /// state, cipher, order id and its unit ids.
    fn two_lines(shipping_type: ShippingType) -> (State, String, String, Vec<String>) {
        let now = unix_now();
        let mut state =
            State::new(&[ShopSpec::new("US", "US", "USD")], ReviewPolicy::default(), now).expect("a shop");
        let shop = state.shops[0].clone();
        state::seed(&mut state, &shop, "Mug", &["MUG-1", "CUP-1"], now);
        let order =
            orders::place_shipped_by(&mut state, &shop.cipher, &[("MUG-1", 2), ("CUP-1", 1)], shipping_type)
                .expect("placed");
        orders::advance(&mut state, &shop.cipher, &order, OrderStatus::AwaitingShipment).expect("paid");
        let units = state.orders.orders[&order].lines.iter().map(|l| l.id.clone()).collect();
        (state, shop.cipher, order, units)
    }

    fn mark(tracking: &str, provider: &str, units: &[&String]) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "tracking_number": tracking, "shipping_provider_id": provider, "order_line_item_ids": units,
        }))
        .expect("json")
    }

    #[test]
    fn a_subset_ships_in_a_package_of_its_own_and_the_order_is_partially_shipping_until_the_rest_ships() {
        let (mut state, cipher, order, units) = two_lines(ShippingType::Seller);
        let first = state.orders.orders[&order].packages[0].clone();
        let shipped =
            mark_shipped(&mut state, &cipher, &order, &mark("94001", USPS, &[&units[0], &units[2]]))
                .expect("ships");
        let split = shipped["package_id"].as_str().expect("a package").to_owned();
        assert_ne!(split, first, "a subset is split off the order's package");
        assert_eq!(shipped["order_line_item_ids"], json!([units[0], units[2]]));
        assert_eq!(state.orders.orders[&order].status, OrderStatus::PartiallyShipping);
        let detail = get(&state, Some(&cipher), &split).expect("the new package");
        assert_eq!(detail["order_line_item_ids"], json!([units[0], units[2]]));
        assert_eq!(
            (detail["tracking_number"].as_str(), detail["split_and_combine_tag"].as_str()),
            (Some("94001"), Some("SPLIT"))
        );
        let rest = get(&state, Some(&cipher), &first).expect("the first package keeps the rest");
        assert_eq!(
            (rest["order_line_item_ids"].clone(), rest["package_status"].as_str()),
            (json!([units[1]]), Some("TO_FULFILL"))
        );
        let object = orders::order_json(&state, &state.orders.orders[&order]);
        let line_packages: Vec<&str> = object["line_items"]
            .as_array()
            .expect("units")
            .iter()
            .map(|l| l["package_id"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(line_packages, vec![split.as_str(), first.as_str(), split.as_str()]);
        assert_eq!(object["line_items"][1]["tracking_number"], "", "the unshipped unit has no tracking");

        // The rest is the whole first package: it ships in that package.
        let last =
            mark_shipped(&mut state, &cipher, &order, &mark("1Z001", UPS, &[&units[1]])).expect("ships");
        assert_eq!(last["package_id"], first.as_str());
        assert_eq!(state.orders.orders[&order].status, OrderStatus::AwaitingCollection);
        assert_eq!(state.orders.orders[&order].packages, vec![first.clone(), split.clone()]);

        // A correction changes its own package only.
        update_shipping_info(&mut state, &cipher, &split, &update("94002", USPS), unix_now())
            .expect("corrected");
        let tracking =
            |id: &str| get(&state, Some(&cipher), id).expect("a package")["tracking_number"].clone();
        assert_eq!((tracking(&split), tracking(&first)), (json!("94002"), json!("1Z001")));
    }

    #[test]
    fn units_of_another_order_units_named_twice_shipped_units_and_cancelled_orders_are_refused() {
        let (mut state, cipher, order, units) = two_lines(ShippingType::Seller);
        let stranger = "5799999999999999999".to_owned();
        let refused = |state: &mut State, body: Vec<u8>| {
            mark_shipped(state, &cipher, &order, &body).map_err(|e| e.code)
        };
        assert_eq!(refused(&mut state, mark("94001", USPS, &[&stranger])), Err(code::INVALID_REQUEST));
        assert_eq!(
            refused(&mut state, mark("94001", USPS, &[&units[0], &units[0]])),
            Err(code::INVALID_REQUEST)
        );
        assert!(refused(&mut state, mark("94001", USPS, &[&units[0]])).is_ok());
        assert_eq!(
            refused(&mut state, mark("94002", USPS, &[&units[0], &units[1]])),
            Err(code::PACKAGE_STATUS)
        );
        assert_eq!(refused(&mut state, mark("94001", USPS, &[&units[1]])), Err(code::DUPLICATE_TRACKING));
        // Without ids, the rest of the order ships.
        let whole = serde_json::to_vec(&json!({ "tracking_number": "94003", "shipping_provider_id": USPS }))
            .expect("json");
        let rest = mark_shipped(&mut state, &cipher, &order, &whole).expect("ships the rest");
        assert_eq!(rest["order_line_item_ids"], json!([units[1], units[2]]));
        assert_eq!(refused(&mut state, whole.clone()), Err(code::PACKAGE_STATUS), "nothing is left");

        let (mut state, cipher, order, units) = two_lines(ShippingType::Seller);
        let now = unix_now();
        state.orders.set_status(&order, OrderStatus::Cancelled, now);
        let cancelled = mark_shipped(&mut state, &cipher, &order, &mark("94001", USPS, &[&units[0]]));
        assert_eq!(cancelled.map_err(|e| e.code), Err(code::ORDER_CANCELLED));
    }

    #[test]
    fn a_tiktok_shipped_order_refuses_the_sellers_calls_and_the_platform_ships_it_package_by_package() {
        let (mut state, cipher, order, units) = two_lines(ShippingType::Tiktok);
        let package = state.orders.orders[&order].packages[0].clone();
        let seller = mark_shipped(&mut state, &cipher, &order, &mark("94001", USPS, &[&units[0]]));
        assert_eq!(seller.map_err(|e| e.code), Err(code::TIKTOK_FULFILLED_OPTION));
        let body =
            br#"{"self_shipment":{"tracking_number":"94001","shipping_provider_id":"7117858858072016686"}}"#;
        let ship = ship_package(&mut state, &cipher, &package, body);
        assert_eq!(ship.map_err(|e| e.code), Err(code::TIKTOK_FULFILLED_OPTION));

        let first = platform_shipping::ship(&mut state, &cipher, &order, &[("MUG-1", 1)], Some("UPS"))
            .expect("ships");
        assert_eq!(
            (first.line_item_ids.clone(), first.shipping_provider_name.as_str()),
            (vec![units[0].clone()], "UPS")
        );
        assert_eq!(state.orders.orders[&order].status, OrderStatus::PartiallyShipping);
        let detail = get(&state, Some(&cipher), &first.package_id).expect("the package");
        assert_eq!(
            (detail["shipping_type"].as_str(), detail["tracking_number"].as_str()),
            (Some("TIKTOK"), Some(first.tracking_number.as_str()))
        );
        let update =
            update_shipping_info(&mut state, &cipher, &first.package_id, &update("1Z9", UPS), unix_now());
        assert_eq!(
            update.map_err(|e| e.code),
            Err(code::TIKTOK_FULFILLED_OPTION),
            "seller-shipped packages only"
        );
        let rest = platform_shipping::ship(&mut state, &cipher, &order, &[], None).expect("ships the rest");
        assert_eq!(rest.line_item_ids, vec![units[1].clone(), units[2].clone()]);
        assert_eq!(rest.shipping_provider_name, "USPS");
        assert_eq!(state.orders.orders[&order].status, OrderStatus::AwaitingCollection);
        assert!(platform_shipping::ship(&mut state, &cipher, &order, &[("MUG-1", 1)], None).is_err());

        let (mut seller_state, cipher, seller_order, _) = two_lines(ShippingType::Seller);
        assert!(platform_shipping::ship(&mut seller_state, &cipher, &seller_order, &[], None).is_err());
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
        let unshipped = state.orders.orders[&order].packages[0].clone();
        let early = update_shipping_info(&mut state, &cipher, &unshipped, &update("1Z999", USPS), now);
        assert_eq!(early.map_err(|e| e.code), Err(NOT_SHIPPED_YET));
    }
}
