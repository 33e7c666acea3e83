//! REST shapes of orders, fulfillments and refunds, as `orders/create`, `orders/cancelled`,
//! `fulfillments/create|update` and `refunds/create` send them (and `GET /_sandbox/orders`
//! lists them).

use super::money;
use crate::shopify::fulfillment::FulfillmentRecord;
use crate::shopify::orders::{
    DisplayFulfillmentStatus, LineItemRecord, MailingAddressInput, OrderRecord, TransactionRecord,
};
use crate::shopify::refunds::{RefundLineItemRestockType, RefundRecord};
use crate::shopify::timestamp;
use serde_json::{Value, json};

/// An order with its line items, fulfillments and refunds.
pub fn order(order: &OrderRecord) -> Value {
    let fulfillment_status = match order.display_fulfillment_status() {
        DisplayFulfillmentStatus::Fulfilled => Some("fulfilled"),
        DisplayFulfillmentStatus::PartiallyFulfilled => Some("partial"),
        DisplayFulfillmentStatus::Restocked => Some("restocked"),
        _ => None,
    };
    json!({
        "id": order.id,
        "admin_graphql_api_id": order.gid(),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "source_identifier": order.source_identifier,
        "source_name": order.source_name,
        "source_url": order.source_url,
        "email": order.email,
        "phone": order.phone,
        "note": order.note,
        "tags": order.tags.join(", "),
        "test": order.test,
        "currency": order.currency,
        "presentment_currency": order.presentment_currency,
        "taxes_included": order.taxes_included,
        "created_at": timestamp::format(order.created_at),
        "updated_at": timestamp::format(order.updated_at),
        "processed_at": timestamp::format(order.processed_at),
        "cancelled_at": order.cancelled_at.map(timestamp::format),
        "cancel_reason": order.cancel_reason.map(|r| format!("{r:?}").to_lowercase()),
        "financial_status": order.financial_status.rest_name(),
        "fulfillment_status": fulfillment_status,
        "subtotal_price": money(order.subtotal()),
        "total_price": money(order.total()),
        "total_shipping_price_set": {"shop_money": {"amount": money(order.shipping_total()), "currency_code": order.currency}},
        "note_attributes": order
            .custom_attributes
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>(),
        "shipping_address": order.shipping_address.as_ref().map(address),
        "billing_address": order.billing_address.as_ref().map(address),
        "line_items": order.line_items.iter().map(line_item).collect::<Vec<_>>(),
        "shipping_lines": order
            .shipping_lines
            .iter()
            .map(|s| json!({"title": s.title, "code": s.code, "source": s.source, "price": money(s.price)}))
            .collect::<Vec<_>>(),
        "transactions": order.transactions.iter().map(|t| transaction(order, t)).collect::<Vec<_>>(),
        "fulfillments": order.fulfillments.iter().map(|f| fulfillment(order, f)).collect::<Vec<_>>(),
        "refunds": order.refunds.iter().map(|r| refund(order, r)).collect::<Vec<_>>(),
    })
}

fn line_item(line: &LineItemRecord) -> Value {
    let status = match (line.fulfilled, line.unfulfilled()) {
        (0, _) => None,
        (_, 0) => Some("fulfilled"),
        _ => Some("partial"),
    };
    json!({
        "id": line.id,
        "admin_graphql_api_id": line.gid(),
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "sku": line.sku,
        "title": line.title,
        "variant_title": line.variant_title,
        "name": match &line.variant_title {
            Some(v) => format!("{} - {v}", line.title),
            None => line.title.clone(),
        },
        "quantity": line.quantity,
        "current_quantity": line.current_quantity(),
        "fulfillable_quantity": line.unfulfilled(),
        "fulfillment_status": status,
        "price": money(line.price),
        "requires_shipping": line.requires_shipping,
    })
}

fn address(address: &MailingAddressInput) -> Value {
    json!({
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "province_code": address.province_code,
        "zip": address.zip,
        "country_code": address.country_code.as_ref().map(|c| c.0.clone()),
        "phone": address.phone,
    })
}

fn transaction(order: &OrderRecord, transaction: &TransactionRecord) -> Value {
    json!({
        "id": transaction.id,
        "admin_graphql_api_id": transaction.gid(),
        "order_id": order.id,
        "kind": format!("{:?}", transaction.kind).to_lowercase(),
        "status": format!("{:?}", transaction.status).to_lowercase(),
        "amount": money(transaction.amount),
        "currency": order.currency,
        "gateway": transaction.gateway,
        "created_at": timestamp::format(transaction.created_at),
    })
}

/// A fulfillment, as `fulfillments/create` and `fulfillments/update` send it.
pub fn fulfillment(order: &OrderRecord, fulfillment: &FulfillmentRecord) -> Value {
    let first = fulfillment.tracking.first();
    json!({
        "id": fulfillment.id,
        "admin_graphql_api_id": fulfillment.gid(),
        "order_id": order.id,
        "name": fulfillment.name,
        "status": format!("{:?}", fulfillment.status).to_lowercase(),
        "location_id": fulfillment.location_id,
        "created_at": timestamp::format(fulfillment.created_at),
        "updated_at": timestamp::format(fulfillment.updated_at),
        "tracking_company": first.and_then(|t| t.company.clone()),
        "tracking_number": first.and_then(|t| t.number.clone()),
        "tracking_numbers": fulfillment.tracking.iter().filter_map(|t| t.number.clone()).collect::<Vec<_>>(),
        "tracking_url": first.and_then(|t| t.url.clone()),
        "tracking_urls": fulfillment.tracking.iter().filter_map(|t| t.url.clone()).collect::<Vec<_>>(),
        "notify_customer": fulfillment.notify_customer,
        "line_items": fulfillment
            .lines
            .iter()
            .filter_map(|(id, units)| {
                let line = order.line_item(*id)?;
                let mut json = line_item(line);
                json["quantity"] = json!(units);
                Some(json)
            })
            .collect::<Vec<_>>(),
    })
}

/// A refund, as `refunds/create` sends it.
pub fn refund(order: &OrderRecord, refund: &RefundRecord) -> Value {
    json!({
        "id": refund.id,
        "admin_graphql_api_id": refund.gid(),
        "order_id": order.id,
        "created_at": timestamp::format(refund.created_at),
        "note": refund.note,
        "restock": refund.lines.iter().any(|l| l.restocked),
        "shipping": {"amount": money(refund.shipping)},
        "refund_line_items": refund
            .lines
            .iter()
            .map(|l| json!({
                "id": l.id,
                "line_item_id": l.line_item_id,
                "quantity": l.quantity,
                "restock_type": match l.restock_type {
                    RefundLineItemRestockType::Cancel => "cancel",
                    RefundLineItemRestockType::Return => "return",
                    RefundLineItemRestockType::NoRestock => "no_restock",
                    RefundLineItemRestockType::LegacyRestock => "legacy_restock",
                },
                "location_id": l.location_id,
                "subtotal": money(l.subtotal),
            }))
            .collect::<Vec<_>>(),
        "transactions": refund.transactions.iter().map(|t| transaction(order, t)).collect::<Vec<_>>(),
    })
}
