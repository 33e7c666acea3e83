//! A TikTok order object (reference §6.2, §6.3) as the contract's `channel-order`: the status
//! in the contract's words, who ships, the units grouped into lines, the amounts from
//! `payment`, the address, and the packages with their tracking. Pure, so it is tested
//! natively.

use crate::address::shipping_address;
use crate::amount::Amount;
use crate::listing::id_of;
use crate::units::{self, Group};
use crossdock_plugin_sdk::Result;
use crossdock_plugin_sdk::commerce::{
    ChannelOrder, OrderLine, OrderPackage, OrderStage, OrderTotals, ShippedBy, Tracking,
};
use crossdock_plugin_sdk::types::{ConnectorError, Money};
use serde_json::Value;
use std::collections::HashSet;

/// The contract's stage of an order `status` (§6.2); `CANCEL` is the webhook's spelling.
pub fn stage(status: &str) -> Option<OrderStage> {
    Some(match status {
        "UNPAID" => OrderStage::Unpaid,
        "ON_HOLD" => OrderStage::OnHold,
        "AWAITING_SHIPMENT" => OrderStage::AwaitingShipment,
        "PARTIALLY_SHIPPING" => OrderStage::PartiallyShipped,
        "AWAITING_COLLECTION" | "IN_TRANSIT" => OrderStage::Shipped,
        "DELIVERED" => OrderStage::Delivered,
        "COMPLETED" => OrderStage::Completed,
        "CANCELLED" | "CANCEL" => OrderStage::Cancelled,
        _ => return None,
    })
}

fn text(value: &Value) -> Option<&str> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// `shipping_type` (TIKTOK or SELLER); without it, an FBT order or a TikTok delivery option is
/// the platform's, anything else the seller's.
pub fn shipped_by(order: &Value) -> ShippedBy {
    match text(&order["shipping_type"]) {
        Some("TIKTOK") => ShippedBy::Platform,
        Some("SELLER") => ShippedBy::Seller,
        _ if text(&order["fulfillment_type"]) == Some("FULFILLMENT_BY_TIKTOK") => ShippedBy::Platform,
        _ => match text(&order["delivery_option_type"]).or_else(|| text(&order["delivery_option_name"])) {
            Some(option) if option == "SEND_BY_SELLER" || option.to_lowercase().contains("seller") => {
                ShippedBy::Seller
            }
            Some(_) => ShippedBy::Platform,
            None => ShippedBy::Seller,
        },
    }
}

/// Reads one order's amounts in its currency.
struct Amounts<'a> {
    order_id: &'a str,
    currency: String,
}

impl Amounts<'_> {
    /// A decimal string field; missing or empty is zero.
    fn amount(&self, value: &Value, field: &str) -> Result<Amount> {
        match value {
            Value::Null => Ok(Amount::ZERO),
            Value::String(s) if s.trim().is_empty() => Ok(Amount::ZERO),
            Value::String(s) => Amount::parse(s).ok_or_else(|| self.malformed(field, s)),
            other => Err(self.malformed(field, &other.to_string())),
        }
    }

    fn money(&self, amount: Amount) -> Money {
        Money::new(amount.to_string(), self.currency.clone())
    }

    fn field(&self, value: &Value, field: &str) -> Result<Money> {
        Ok(self.money(self.amount(value, field)?))
    }

    fn malformed(&self, field: &str, value: &str) -> ConnectorError {
        ConnectorError::Fatal(format!(
            "TikTok order {}: `{field}` is {value:?}, not a decimal amount",
            self.order_id
        ))
    }
}

/// `product_name — sku_name`, or the product name alone.
fn title(unit: &Value) -> String {
    let product = text(&unit["product_name"]).unwrap_or_default();
    match text(&unit["sku_name"]) {
        Some(sku) if !product.is_empty() => format!("{product} — {sku}"),
        Some(sku) => sku.to_owned(),
        None => product.to_owned(),
    }
}

fn line(group: &Group<'_>, amounts: &Amounts<'_>) -> Result<OrderLine> {
    let first = group.first();
    let price =
        if first["original_price"].is_null() { &first["sale_price"] } else { &first["original_price"] };
    let sum = |field: &str| -> Result<Amount> {
        let mut total = Amount::ZERO;
        for unit in &group.units {
            total = total.add(amounts.amount(&unit[field], field)?);
        }
        Ok(total)
    };
    Ok(OrderLine {
        id: group.line_id(),
        seller_sku: text(&first["seller_sku"]).unwrap_or_default().to_owned(),
        sku_id: id_of(&first["sku_id"]),
        title: title(first),
        quantity: u32::try_from(group.units.len()).unwrap_or(u32::MAX),
        unit_price: amounts.field(price, "line_items.original_price")?,
        seller_discount: amounts.money(sum("seller_discount")?),
        platform_discount: amounts.money(sum("platform_discount")?),
    })
}

fn totals(order: &Value, groups: &[Group<'_>], amounts: &Amounts<'_>) -> Result<OrderTotals> {
    let payment = &order["payment"];
    let subtotal = if text(&payment["original_total_product_price"]).is_some() {
        amounts.amount(&payment["original_total_product_price"], "payment.original_total_product_price")?
    } else {
        // The lines at list price, when the payment leaves the figure out.
        let mut total = Amount::ZERO;
        for unit in groups.iter().flat_map(|g| g.units.iter()) {
            total = total.add(amounts.amount(&unit["original_price"], "line_items.original_price")?);
        }
        total
    };
    Ok(OrderTotals {
        subtotal: amounts.money(subtotal),
        shipping: amounts.field(&payment["shipping_fee"], "payment.shipping_fee")?,
        tax: amounts.field(&payment["tax"], "payment.tax")?,
        seller_discount: amounts.field(&payment["seller_discount"], "payment.seller_discount")?,
        platform_discount: amounts.field(&payment["platform_discount"], "payment.platform_discount")?,
        buyer_paid: amounts.field(&payment["total_amount"], "payment.total_amount")?,
    })
}

/// `packages[]` and the units' `package_id`, each package once, with the lines in it and the
/// tracking its units carry.
fn packages(order: &Value, line_items: &[Value], groups: &[Group<'_>]) -> Vec<OrderPackage> {
    let mut ids: Vec<String> = Vec::new();
    let listed = order["packages"].as_array().into_iter().flatten().filter_map(|p| id_of(&p["id"]));
    let carried = line_items.iter().filter_map(|unit| id_of(&unit["package_id"]));
    for id in listed.chain(carried) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.into_iter()
        .map(|id| {
            let units: Vec<&Value> =
                line_items.iter().filter(|unit| id_of(&unit["package_id"]).as_deref() == Some(&id)).collect();
            let unit_ids: HashSet<&str> = units.iter().filter_map(|u| u["id"].as_str()).collect();
            let tracking = units.iter().find_map(|unit| {
                let number = text(&unit["tracking_number"])?;
                Some(Tracking {
                    carrier: text(&unit["shipping_provider_name"])
                        .or_else(|| text(&order["shipping_provider"]))
                        .unwrap_or_default()
                        .to_owned(),
                    carrier_id: id_of(&unit["shipping_provider_id"]),
                    tracking_number: number.to_owned(),
                    url: None,
                })
            });
            OrderPackage { line_ids: units::line_ids_of(groups, &unit_ids), id, tracking }
        })
        .collect()
}

/// One order object as the contract's channel order.
pub fn channel_order(order: &Value) -> Result<ChannelOrder> {
    let preview = || order.to_string().chars().take(200).collect::<String>();
    let id = id_of(&order["id"])
        .ok_or_else(|| ConnectorError::Fatal(format!("TikTok order without an id: {}", preview())))?;
    let status = text(&order["status"]).unwrap_or_default().to_owned();
    let stage = stage(&status).ok_or_else(|| {
        ConnectorError::Fatal(format!(
            "TikTok order {id} has the status {status:?}, which this connector does not know; update the connector"
        ))
    })?;
    let line_items = order["line_items"].as_array().map(Vec::as_slice).unwrap_or_default();
    let groups =
        units::group(line_items).map_err(|why| ConnectorError::Fatal(format!("TikTok order {id}: {why}")))?;
    let currency = text(&order["payment"]["currency"])
        .or_else(|| line_items.iter().find_map(|unit| text(&unit["currency"])))
        .ok_or_else(|| ConnectorError::Fatal(format!("TikTok order {id} names no currency")))?
        .to_owned();
    let amounts = Amounts { order_id: &id, currency };
    let lines = groups.iter().map(|group| line(group, &amounts)).collect::<Result<Vec<_>>>()?;
    let totals = totals(order, &groups, &amounts)?;
    let millis = |field: &str| order[field].as_i64().unwrap_or_default().saturating_mul(1000);
    Ok(ChannelOrder {
        status,
        stage,
        shipped_by: shipped_by(order),
        created_at: millis("create_time"),
        updated_at: millis("update_time"),
        lines,
        totals,
        shipping_address: shipping_address(&order["recipient_address"]),
        buyer_email: text(&order["buyer_email"]).map(str::to_owned),
        buyer_message: text(&order["buyer_message"]).map(str::to_owned),
        packages: packages(order, line_items, &groups),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unit(id: &str, sku: &str, seller_sku: &str, size: &str, discounts: (&str, &str)) -> Value {
        json!({
            "id": id, "sku_id": sku, "product_id": "1729000000000000001", "product_name": "Organic tee",
            "sku_name": size, "seller_sku": seller_sku, "original_price": "20.00", "sale_price": "18.00",
            "seller_discount": discounts.0, "platform_discount": discounts.1, "currency": "USD",
            "package_id": "", "tracking_number": "", "shipping_provider_id": "", "shipping_provider_name": "",
        })
    }

    fn order() -> Value {
        json!({
            "id": "576461413038785752", "status": "AWAITING_SHIPMENT", "create_time": 1700000000,
            "update_time": 1700000100, "shipping_type": "SELLER", "buyer_email": "v@scs.tiktokw.us",
            "buyer_message": "", "packages": [],
            "payment": {
                "currency": "USD", "original_total_product_price": "60.00", "sub_total": "54.00",
                "shipping_fee": "5.99", "seller_discount": "4.50", "platform_discount": "1.50",
                "tax": "3.24", "total_amount": "63.23",
            },
            "recipient_address": { "name": "Jane", "address_line1": "2 Main St", "postal_code": "90001",
                                   "region_code": "US" },
            "line_items": [
                unit("5701", "1729001", "TEE-S", "S", ("1.50", "0.50")),
                unit("5702", "1729002", "TEE-M", "M", ("1.50", "0.50")),
                unit("5703", "1729001", "TEE-S", "S", ("1.50", "0.50")),
            ],
        })
    }

    #[test]
    fn every_documented_status_has_a_stage() {
        let table = [
            ("UNPAID", OrderStage::Unpaid),
            ("ON_HOLD", OrderStage::OnHold),
            ("AWAITING_SHIPMENT", OrderStage::AwaitingShipment),
            ("PARTIALLY_SHIPPING", OrderStage::PartiallyShipped),
            ("AWAITING_COLLECTION", OrderStage::Shipped),
            ("IN_TRANSIT", OrderStage::Shipped),
            ("DELIVERED", OrderStage::Delivered),
            ("COMPLETED", OrderStage::Completed),
            ("CANCELLED", OrderStage::Cancelled),
            ("CANCEL", OrderStage::Cancelled),
        ];
        for (status, expected) in table {
            assert_eq!(stage(status), Some(expected), "{status}");
        }
        assert_eq!(stage("SHIPPED"), None);
    }

    #[test]
    fn shipped_by_follows_shipping_type_then_fulfillment_and_delivery_option() {
        assert_eq!(shipped_by(&json!({ "shipping_type": "TIKTOK" })), ShippedBy::Platform);
        assert_eq!(shipped_by(&json!({ "shipping_type": "SELLER" })), ShippedBy::Seller);
        assert_eq!(shipped_by(&json!({ "fulfillment_type": "FULFILLMENT_BY_TIKTOK" })), ShippedBy::Platform);
        assert_eq!(shipped_by(&json!({ "delivery_option_name": "Shipped by seller" })), ShippedBy::Seller);
        assert_eq!(shipped_by(&json!({ "delivery_option_name": "Standard Shipping" })), ShippedBy::Platform);
        assert_eq!(shipped_by(&json!({})), ShippedBy::Seller);
    }

    #[test]
    fn units_become_lines_with_quantity_list_price_and_summed_discounts() {
        let order = channel_order(&order()).expect("maps");
        assert_eq!((order.id.as_str(), order.stage), ("576461413038785752", OrderStage::AwaitingShipment));
        assert_eq!((order.created_at, order.updated_at), (1_700_000_000_000, 1_700_000_100_000));
        assert_eq!(order.lines.len(), 2);
        let tee_s = &order.lines[0];
        assert_eq!(tee_s.id, "5701,5703");
        assert_eq!((tee_s.seller_sku.as_str(), tee_s.sku_id.as_deref()), ("TEE-S", Some("1729001")));
        assert_eq!((tee_s.title.as_str(), tee_s.quantity), ("Organic tee — S", 2));
        assert_eq!((tee_s.unit_price.amount.as_str(), tee_s.unit_price.currency.as_str()), ("20.00", "USD"));
        assert_eq!(tee_s.seller_discount.amount, "3.00");
        assert_eq!(tee_s.platform_discount.amount, "1.00");
        assert_eq!((order.lines[1].id.as_str(), order.lines[1].quantity), ("5702", 1));
    }

    #[test]
    fn totals_come_from_payment_and_reconcile() {
        let totals = channel_order(&order()).expect("maps").totals;
        let amounts: Vec<&str> = [
            &totals.subtotal,
            &totals.shipping,
            &totals.tax,
            &totals.seller_discount,
            &totals.platform_discount,
            &totals.buyer_paid,
        ]
        .iter()
        .map(|m| m.amount.as_str())
        .collect();
        assert_eq!(amounts, vec!["60.00", "5.99", "3.24", "4.50", "1.50", "63.23"]);
        let mut without_original = order();
        without_original["payment"]["original_total_product_price"] = json!("");
        let totals = channel_order(&without_original).expect("maps").totals;
        assert_eq!(totals.subtotal.amount, "60.00", "the units at list price");
    }

    #[test]
    fn packages_list_their_lines_and_tracking() {
        let mut raw = order();
        raw["status"] = json!("PARTIALLY_SHIPPING");
        raw["packages"] = json!([{ "id": "1150001" }, { "id": "1150002" }]);
        for (index, package, tracking) in [(0, "1150001", "9400111"), (1, "1150002", ""), (2, "1150002", "")]
        {
            let unit = &mut raw["line_items"][index];
            unit["package_id"] = json!(package);
            unit["tracking_number"] = json!(tracking);
            if !tracking.is_empty() {
                unit["shipping_provider_id"] = json!("7117858858072016686");
                unit["shipping_provider_name"] = json!("USPS");
            }
        }
        let order = channel_order(&raw).expect("maps");
        assert_eq!(order.stage, OrderStage::PartiallyShipped);
        assert_eq!(order.packages.len(), 2);
        let first = &order.packages[0];
        assert_eq!((first.id.as_str(), first.line_ids.clone()), ("1150001", vec!["5701".to_owned()]));
        let tracking = first.tracking.as_ref().expect("tracking");
        assert_eq!((tracking.carrier.as_str(), tracking.tracking_number.as_str()), ("USPS", "9400111"));
        assert_eq!(tracking.carrier_id.as_deref(), Some("7117858858072016686"));
        let second = &order.packages[1];
        assert_eq!(
            second.line_ids,
            vec!["5703".to_owned(), "5702".to_owned()],
            "lines in order, a split line by unit"
        );
        assert!(second.tracking.is_none());
    }

    #[test]
    fn an_on_hold_order_has_no_address_and_blank_texts_are_none() {
        let mut raw = order();
        raw["status"] = json!("ON_HOLD");
        raw["recipient_address"] = json!({});
        let order = channel_order(&raw).expect("maps");
        assert_eq!(order.stage, OrderStage::OnHold);
        assert!(order.shipping_address.is_none());
        assert_eq!(order.buyer_message, None);
        assert_eq!(order.buyer_email.as_deref(), Some("v@scs.tiktokw.us"));
    }

    #[test]
    fn unknown_statuses_and_malformed_amounts_are_errors_naming_the_order() {
        let mut raw = order();
        raw["status"] = json!("TELEPORTED");
        assert!(
            matches!(channel_order(&raw), Err(ConnectorError::Fatal(m)) if m.contains("576461413038785752") && m.contains("TELEPORTED"))
        );
        let mut raw = order();
        raw["payment"]["tax"] = json!("3,24");
        assert!(matches!(channel_order(&raw), Err(ConnectorError::Fatal(m)) if m.contains("payment.tax")));
    }
}
