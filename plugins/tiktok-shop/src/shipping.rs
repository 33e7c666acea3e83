//! Shipping seller-shipped orders with tracking (reference §7.2, §7.3): the carriers from
//! warehouses and delivery options, which units a shipment covers, whether a call already
//! shipped them with this number (a retry), which route ships them (Ship Package for a whole
//! existing package, Mark Package As Shipped otherwise), and the tracking-update check. Pure,
//! so it is tested natively.

use crate::listing::id_of;
use crate::units;
use crossdock_plugin_sdk::Result;
use crossdock_plugin_sdk::channel_orders::{Shipment, ShippingProvider};
use crossdock_plugin_sdk::types::ConnectorError;
use serde_json::{Value, json};
use std::collections::HashSet;

fn text(value: &Value) -> Option<&str> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The enabled SALES_WAREHOUSE ids of Get Warehouses.
pub fn sales_warehouses(data: &Value) -> Vec<String> {
    data["warehouses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|w| w["type"] == "SALES_WAREHOUSE" && w["effect_status"] != "DISABLED")
        .filter_map(|w| id_of(&w["id"]))
        .collect()
}

/// The delivery option ids of Get Warehouse Delivery Options.
pub fn delivery_options(data: &Value) -> Vec<String> {
    data["delivery_options"].as_array().into_iter().flatten().filter_map(|o| id_of(&o["id"])).collect()
}

/// Adds Get Shipping Providers' `shipping_providers[{id, name}]` to `found`, each id once.
pub fn add_providers(found: &mut Vec<ShippingProvider>, data: &Value) {
    for provider in data["shipping_providers"].as_array().into_iter().flatten() {
        let (Some(id), Some(name)) = (id_of(&provider["id"]), text(&provider["name"])) else { continue };
        if !found.iter().any(|p| p.id == id) {
            found.push(ShippingProvider { id, name: name.to_owned() });
        }
    }
}

/// How a shipment goes out.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Already shipped with this tracking number, in this package: nothing to call.
    Already(String),
    /// Ship Package (`POST /fulfillment/202309/packages/{id}/ship`) with this body: the
    /// package holds exactly the units to ship.
    Package { package_id: String, body: Value },
    /// Mark Package As Shipped (`POST /fulfillment/202309/orders/{id}/packages`) with this
    /// body; it answers the new package's id.
    Order { body: Value },
}

/// One unit line item, as shipping sees it.
struct Unit<'a> {
    id: String,
    package_id: Option<String>,
    tracking: Option<&'a str>,
    cancelled: bool,
}

impl Unit<'_> {
    fn shipped(&self) -> bool {
        self.tracking.is_some()
    }
}

fn status_refusal(order_id: &str, why: &str) -> ConnectorError {
    ConnectorError::invalid("status", format!("TikTok order {order_id} {why}"))
}

/// Refuses orders TikTok will not let the seller ship: unpaid, on hold, cancelled, or with an
/// open cancellation request.
fn check_shippable(order: &Value, order_id: &str) -> Result<()> {
    match text(&order["status"]).unwrap_or_default() {
        "UNPAID" => {
            return Err(status_refusal(order_id, "is UNPAID: TikTok lets the seller ship paid orders only"));
        }
        "ON_HOLD" => {
            return Err(status_refusal(
                order_id,
                "is ON_HOLD (the buyer may still cancel for about an hour): ship it once it is AWAITING_SHIPMENT",
            ));
        }
        "CANCELLED" | "CANCEL" => return Err(status_refusal(order_id, "is CANCELLED: do not ship it")),
        _ => {}
    }
    if order["is_buyer_request_cancel"] == true {
        return Err(status_refusal(
            order_id,
            "has an open cancellation request from the buyer: approve or reject it before shipping",
        ));
    }
    Ok(())
}

/// Decides how `shipment` of `order` (a Get Order Detail object) goes out.
pub fn plan(order: &Value, shipment: &Shipment) -> Result<Route> {
    let order_id = id_of(&order["id"]).unwrap_or_default();
    let tracking = shipment.tracking_number.trim();
    if tracking.is_empty() {
        return Err(ConnectorError::invalid(
            "tracking",
            format!("shipping TikTok order {order_id}: the tracking number is empty"),
        ));
    }
    if shipment.carrier_id.trim().is_empty() {
        return Err(ConnectorError::invalid(
            "tracking",
            format!(
                "shipping TikTok order {order_id}: no carrier; map the store's carrier to a TikTok shipping provider"
            ),
        ));
    }
    let items = order["line_items"].as_array().map(Vec::as_slice).unwrap_or_default();
    let all: Vec<Unit<'_>> = items
        .iter()
        .filter_map(|item| {
            Some(Unit {
                id: id_of(&item["id"])?,
                package_id: id_of(&item["package_id"]),
                tracking: text(&item["tracking_number"]),
                cancelled: item["package_status"] == "CANCELLED" || item["display_status"] == "CANCELLED",
            })
        })
        .collect();
    let all_ids: Vec<String> = all.iter().map(|u| u.id.clone()).collect();
    let named = units::expand(&shipment.line_ids, &all_ids).map_err(|why| {
        ConnectorError::invalid("line_ids", format!("shipping TikTok order {order_id}: {why}"))
    })?;
    let wanted: Vec<&Unit<'_>> = if named.is_empty() {
        let unshipped: Vec<&Unit<'_>> = all.iter().filter(|u| !u.shipped() && !u.cancelled).collect();
        if unshipped.is_empty() {
            // A retry of a whole-order shipment: the units carrying this number.
            all.iter().filter(|u| u.tracking == Some(tracking)).collect()
        } else {
            unshipped
        }
    } else {
        all.iter().filter(|u| named.contains(&u.id)).collect()
    };
    if wanted.is_empty() {
        return Err(ConnectorError::invalid(
            "line_ids",
            format!("shipping TikTok order {order_id}: every line is already shipped or cancelled"),
        ));
    }
    if wanted.iter().all(|u| u.tracking == Some(tracking)) {
        let package = wanted.iter().find_map(|u| u.package_id.clone()).ok_or_else(|| {
            ConnectorError::Fatal(format!(
                "TikTok order {order_id} is shipped with {tracking} but names no package"
            ))
        })?;
        return Ok(Route::Already(package));
    }
    if let Some(unit) = wanted.iter().find(|u| u.shipped() && u.tracking != Some(tracking)) {
        return Err(ConnectorError::invalid(
            "line_ids",
            format!(
                "shipping TikTok order {order_id}: line item {} is already shipped with tracking {}; correct it with update-tracking",
                unit.id,
                unit.tracking.unwrap_or_default()
            ),
        ));
    }
    if let Some(unit) = wanted.iter().find(|u| u.cancelled) {
        return Err(status_refusal(
            &order_id,
            &format!("has line item {} cancelled: it cannot be shipped", unit.id),
        ));
    }
    check_shippable(order, &order_id)?;

    let wanted_ids: HashSet<&str> = wanted.iter().map(|u| u.id.as_str()).collect();
    let packages: HashSet<Option<&str>> = wanted.iter().map(|u| u.package_id.as_deref()).collect();
    if let [Some(package)] = packages.into_iter().collect::<Vec<_>>().as_slice() {
        let in_package: HashSet<&str> =
            all.iter().filter(|u| u.package_id.as_deref() == Some(*package)).map(|u| u.id.as_str()).collect();
        if in_package == wanted_ids {
            let body = json!({
                "self_shipment": { "tracking_number": tracking, "shipping_provider_id": shipment.carrier_id.trim() },
            });
            return Ok(Route::Package { package_id: (*package).to_owned(), body });
        }
    }
    let mut body = json!({ "tracking_number": tracking, "shipping_provider_id": shipment.carrier_id.trim() });
    if wanted_ids.len() < all.len() {
        // A subset splits the order at item level (§7.3); the whole order omits the list.
        let ids: Vec<&str> = wanted.iter().map(|u| u.id.as_str()).collect();
        body["order_line_item_ids"] = json!(ids);
    }
    Ok(Route::Order { body })
}

/// Whether Get Package Detail already shows this carrier and number (a retried update).
pub fn tracking_unchanged(package: &Value, carrier_id: &str, tracking_number: &str) -> bool {
    text(&package["tracking_number"]) == Some(tracking_number.trim())
        && id_of(&package["shipping_provider_id"]).as_deref() == Some(carrier_id.trim())
}

/// Whether a package belongs to the order: its `orders[].id` name it (a package detail
/// without the deprecated list is taken at its word).
pub fn belongs_to(package: &Value, order_id: &str) -> bool {
    match package["orders"].as_array() {
        Some(orders) if !orders.is_empty() => {
            orders.iter().any(|o| id_of(&o["id"]).as_deref() == Some(order_id))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USPS: &str = "7117858858072016686";

    fn order(units: &[(&str, &str, &str)]) -> Value {
        let items: Vec<Value> = units
            .iter()
            .map(|(id, package, tracking)| {
                json!({ "id": id, "sku_id": "1729001", "package_id": package, "tracking_number": tracking,
                        "package_status": if tracking.is_empty() { "TO_FULFILL" } else { "PROCESSING" } })
            })
            .collect();
        json!({ "id": "5760", "status": "AWAITING_SHIPMENT", "is_buyer_request_cancel": false, "line_items": items })
    }

    fn shipment(lines: &[&str], tracking: &str) -> Shipment {
        Shipment {
            line_ids: lines.iter().map(|l| l.to_string()).collect(),
            carrier_id: USPS.into(),
            tracking_number: tracking.into(),
        }
    }

    fn field_of(result: Result<Route>) -> Option<String> {
        match result {
            Err(ConnectorError::Invalid(f)) => Some(f.field),
            _ => None,
        }
    }

    #[test]
    fn a_whole_package_ships_through_ship_package() {
        let order = order(&[("1", "1150", ""), ("2", "1150", "")]);
        let route = plan(&order, &shipment(&["1,2"], "9400")).expect("plans");
        let body = json!({ "self_shipment": { "tracking_number": "9400", "shipping_provider_id": USPS } });
        assert_eq!(route, Route::Package { package_id: "1150".into(), body: body.clone() });
        assert_eq!(
            plan(&order, &shipment(&[], "9400")).expect("plans"),
            Route::Package { package_id: "1150".into(), body }
        );
    }

    #[test]
    fn a_subset_or_an_order_without_packages_is_marked_as_shipped() {
        let packaged = order(&[("1", "1150", ""), ("2", "1150", ""), ("3", "1150", "")]);
        let route = plan(&packaged, &shipment(&["2", "3"], "9400")).expect("plans");
        let body = json!({ "tracking_number": "9400", "shipping_provider_id": USPS, "order_line_item_ids": ["2", "3"] });
        assert_eq!(route, Route::Order { body });
        let us = order(&[("1", "", ""), ("2", "", "")]);
        let route = plan(&us, &shipment(&[], "9400")).expect("plans");
        assert_eq!(
            route,
            Route::Order { body: json!({ "tracking_number": "9400", "shipping_provider_id": USPS }) }
        );
    }

    #[test]
    fn a_retry_with_the_same_tracking_answers_the_package_without_a_call() {
        let order = order(&[("1", "1150", "9400"), ("2", "1150", "9400")]);
        assert_eq!(plan(&order, &shipment(&["1,2"], "9400")).expect("plans"), Route::Already("1150".into()));
        assert_eq!(plan(&order, &shipment(&[], "9400")).expect("plans"), Route::Already("1150".into()));
        assert_eq!(field_of(plan(&order, &shipment(&["1"], "OTHER"))), Some("line_ids".into()));
        assert_eq!(field_of(plan(&order, &shipment(&[], "OTHER"))), Some("line_ids".into()));
    }

    #[test]
    fn on_hold_cancelled_unpaid_and_cancel_requested_orders_are_refused_on_status() {
        for status in ["ON_HOLD", "CANCELLED", "UNPAID"] {
            let mut order = order(&[("1", "", "")]);
            order["status"] = json!(status);
            assert_eq!(field_of(plan(&order, &shipment(&[], "9400"))), Some("status".into()), "{status}");
        }
        let mut order = order(&[("1", "", "")]);
        order["is_buyer_request_cancel"] = json!(true);
        assert_eq!(field_of(plan(&order, &shipment(&[], "9400"))), Some("status".into()));
    }

    #[test]
    fn unknown_lines_and_missing_tracking_are_refused() {
        let order = order(&[("1", "", "")]);
        assert_eq!(field_of(plan(&order, &shipment(&["9"], "9400"))), Some("line_ids".into()));
        assert_eq!(field_of(plan(&order, &shipment(&[], " "))), Some("tracking".into()));
        let mut no_carrier = shipment(&[], "9400");
        no_carrier.carrier_id = String::new();
        assert_eq!(field_of(plan(&order, &no_carrier)), Some("tracking".into()));
    }

    #[test]
    fn providers_are_collected_once_each_from_sales_warehouses() {
        let warehouses = json!({ "warehouses": [
            { "id": "7001", "type": "SALES_WAREHOUSE", "effect_status": "ENABLED" },
            { "id": "7002", "type": "RETURN_WAREHOUSE", "effect_status": "ENABLED" },
            { "id": "7003", "type": "SALES_WAREHOUSE", "effect_status": "DISABLED" },
        ] });
        assert_eq!(sales_warehouses(&warehouses), vec!["7001".to_owned()]);
        let options =
            json!({ "delivery_options": [{ "id": "7129736077789165314" }, { "id": "7129736077789165315" }] });
        assert_eq!(delivery_options(&options).len(), 2);
        let mut found = Vec::new();
        add_providers(
            &mut found,
            &json!({ "shipping_providers": [{ "id": USPS, "name": "USPS" }, { "id": "71", "name": "UPS" }] }),
        );
        add_providers(
            &mut found,
            &json!({ "shipping_providers": [{ "id": USPS, "name": "USPS" }, { "id": "", "name": "x" }] }),
        );
        let names: Vec<(&str, &str)> = found.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
        assert_eq!(names, vec![(USPS, "USPS"), ("71", "UPS")]);
    }

    #[test]
    fn an_update_to_the_tracking_a_package_has_is_a_retry() {
        let package =
            json!({ "tracking_number": "9400", "shipping_provider_id": USPS, "orders": [{ "id": "5760" }] });
        assert!(tracking_unchanged(&package, USPS, "9400"));
        assert!(!tracking_unchanged(&package, USPS, "9401"));
        assert!(!tracking_unchanged(&package, "71", "9400"));
        assert!(belongs_to(&package, "5760"));
        assert!(!belongs_to(&package, "5761"));
        assert!(belongs_to(&json!({ "package_id": "1150" }), "5761"));
    }
}
