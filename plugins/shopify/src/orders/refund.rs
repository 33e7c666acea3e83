//! `refundCreate` for a channel refund: what the order must tell first (its payment, its
//! lines' state, where they ship from, the refunds it has), the variables, and its refusals.
//!
//! A retry must never refund twice. The mutation carries the refund's `@idempotent` key, and
//! the key is also written at the end of the refund's note (`[crossdock:<key>]`): the restock
//! split below depends on the order's state, which the first refund changed, so a retry could
//! not repeat the same arguments the directive compares; it finds the note instead and
//! answers that refund without sending anything.
//!
//! Restocked units that are not shipped yet are `CANCEL`led, shipped ones `RETURN`ed (Shopify
//! refuses either type for the other kind of unit); without restock, `NO_RESTOCK`. Money moves
//! only through a `REFUND` transaction against the order's payment.

use super::user_error::{UserError, joined, messages};
use crate::gid;
use crate::money::{self, Amount};
use crate::orders::read::{IdNode, MoneyBag};
use crossdock_plugin_sdk::store_orders::NewRefund;
use crossdock_plugin_sdk::types::ConnectorError;
use serde::Deserialize;
use serde_json::{Value, json};

const CONTEXT: &str = "query RefundContext($id: ID!) {
  order(id: $id) {
    id currencyCode
    transactions(first: 20) { id kind status gateway amountSet { shopMoney { amount currencyCode } } }
    refunds(first: 50) { id note }
    lineItems(first: 100) { pageInfo { hasNextPage } nodes { id unfulfilledQuantity } }
    fulfillmentOrders(first: 5) { nodes { assignedLocation { location { id } } lineItems(first: 20) { nodes { lineItem { id } } } } }
  }
}";

const REFUND_CREATE: &str = "mutation RefundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id }
    userErrors { field message }
  }
}";

#[derive(Debug, Deserialize)]
pub struct ContextData {
    pub order: Option<Context>,
}

/// What a refund needs to know about its order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    pub id: String,
    pub currency_code: String,
    #[serde(default)]
    pub transactions: Vec<TransactionNode>,
    #[serde(default)]
    pub refunds: Vec<RefundNote>,
    pub line_items: ContextLines,
    pub fulfillment_orders: ContextFulfillmentOrders,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionNode {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub gateway: String,
    pub amount_set: MoneyBag,
}

#[derive(Debug, Deserialize)]
pub struct RefundNote {
    pub id: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextLines {
    #[serde(default)]
    pub nodes: Vec<ContextLine>,
    #[serde(default)]
    pub page_info: crate::mapping::PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextLine {
    pub id: String,
    pub unfulfilled_quantity: i64,
}

#[derive(Debug, Deserialize)]
pub struct ContextFulfillmentOrders {
    #[serde(default)]
    pub nodes: Vec<ContextFulfillmentOrder>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextFulfillmentOrder {
    #[serde(default)]
    pub assigned_location: Option<AssignedLocation>,
    pub line_items: ContextFulfillmentOrderLines,
}

#[derive(Debug, Deserialize)]
pub struct AssignedLocation {
    #[serde(default)]
    pub location: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
pub struct ContextFulfillmentOrderLines {
    #[serde(default)]
    pub nodes: Vec<ContextFulfillmentOrderLine>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextFulfillmentOrderLine {
    #[serde(default)]
    pub line_item: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundCreateData {
    pub refund_create: Option<RefundCreatePayload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundCreatePayload {
    #[serde(default)]
    pub refund: Option<IdNode>,
    #[serde(default)]
    pub user_errors: Vec<UserError>,
}

/// The request body that reads a refund's context.
pub fn context(order_id: &str) -> Value {
    json!({"query": CONTEXT, "operationName": "RefundContext", "variables": {"id": order_id}})
}

/// What to do for one refund.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The refund was recorded before (a retry): its id.
    Done(String),
    /// Send this body; `line_of` maps each refund line sent to the `new-refund` line it
    /// comes from.
    Send { body: Value, line_of: Vec<usize> },
}

/// `[crossdock:<key>]`, the mark a refund's note carries.
pub fn marker(key: &str) -> String {
    format!("[crossdock:{key}]")
}

/// Plans the refund of `refund` on the order `context` describes.
pub fn plan(context: &Context, refund: &NewRefund) -> Result<Plan, ConnectorError> {
    let order = &context.id;
    if refund.idempotency_key.trim().is_empty() {
        return Err(ConnectorError::invalid(
            "idempotency-key",
            format!("refund of order {order}: the idempotency key is empty"),
        ));
    }
    let mark = marker(&refund.idempotency_key);
    if let Some(done) = context.refunds.iter().find(|r| r.note.as_deref().is_some_and(|n| n.ends_with(&mark)))
    {
        return Ok(Plan::Done(done.id.clone()));
    }
    if !refund.amount.currency.trim().eq_ignore_ascii_case(&context.currency_code) {
        return Err(ConnectorError::invalid(
            "amount.currency",
            format!(
                "refund of order {order}: the amount is in {}, the order in {}",
                refund.amount.currency, context.currency_code
            ),
        ));
    }
    let amount = Amount::parse(&refund.amount.amount).filter(|a| a.at(a.scale()) >= 0).ok_or_else(|| {
        ConnectorError::invalid(
            "amount",
            format!(
                "refund of order {order}: `{}` is not a decimal amount of zero or more",
                refund.amount.amount
            ),
        )
    })?;

    let mut lines = Vec::new();
    let mut line_of = Vec::new();
    for (i, (line_id, units)) in refund.lines.iter().enumerate() {
        if !gid::is("LineItem", line_id) || *units == 0 {
            return Err(ConnectorError::invalid(
                format!("lines[{i}]"),
                format!(
                    "refund of order {order}: ({line_id}, {units}) is not a Shopify line id (gid://shopify/LineItem/…) with units"
                ),
            ));
        }
        if !refund.restock {
            lines.push(json!({"lineItemId": line_id, "quantity": units, "restockType": "NO_RESTOCK"}));
            line_of.push(i);
            continue;
        }
        let Some(line) = context.line_items.nodes.iter().find(|l| &l.id == line_id) else {
            if context.line_items.page_info.has_next_page {
                return Err(ConnectorError::Fatal(format!(
                    "refund of order {order}: line {line_id} is past the first 100 lines the connector reads to restock"
                )));
            }
            return Err(ConnectorError::invalid(
                format!("lines[{i}]"),
                format!("refund of order {order}: {line_id} is not a line of this order"),
            ));
        };
        let unfulfilled = u32::try_from(line.unfulfilled_quantity.max(0)).unwrap_or(0);
        let location = location_of(context, line_id);
        let cancel = (*units).min(unfulfilled);
        for (restock_type, quantity) in [("CANCEL", cancel), ("RETURN", units - cancel)] {
            if quantity == 0 {
                continue;
            }
            let mut line = json!({"lineItemId": line_id, "quantity": quantity, "restockType": restock_type});
            if let Some(location) = location {
                line["locationId"] = json!(location);
            }
            lines.push(line);
            line_of.push(i);
        }
    }
    let mut transactions = Vec::new();
    let units = amount.at(amount.scale());
    if units > 0 {
        let payment = context
            .transactions
            .iter()
            .filter(|t| t.status == "SUCCESS" && (t.kind == "SALE" || t.kind == "CAPTURE"))
            .max_by_key(|t| {
                Amount::parse(&t.amount_set.shop_money.amount).map_or(0, |a| a.at(money::MAX_SCALE))
            });
        let Some(payment) = payment else {
            return Err(ConnectorError::invalid(
                "amount",
                format!(
                    "refund of order {order}: the order has no payment to refund {} from",
                    refund.amount.amount
                ),
            ));
        };
        transactions.push(json!({
            "orderId": order,
            "kind": "REFUND",
            "amount": money::format(units, amount.scale()),
            "gateway": payment.gateway,
            "parentId": payment.id,
        }));
    }
    if lines.is_empty() && transactions.is_empty() {
        return Err(ConnectorError::invalid(
            "lines",
            format!("refund of order {order}: neither lines nor an amount to refund"),
        ));
    }
    let note = match refund.note.trim() {
        "" => mark,
        note => format!("{note} {mark}"),
    };
    let body = json!({
        "query": REFUND_CREATE,
        "operationName": "RefundCreate",
        "variables": {
            "input": {
                "orderId": order,
                "note": note,
                "notify": false,
                "refundLineItems": lines,
                "transactions": transactions,
            },
            "key": refund.idempotency_key,
        },
    });
    Ok(Plan::Send { body, line_of })
}

/// The location of the fulfillment order that holds `line_id`.
fn location_of<'a>(context: &'a Context, line_id: &str) -> Option<&'a str> {
    context
        .fulfillment_orders
        .nodes
        .iter()
        .find(|f| f.line_items.nodes.iter().any(|l| l.line_item.as_ref().is_some_and(|l| l.id == line_id)))
        .and_then(|f| f.assigned_location.as_ref()?.location.as_ref())
        .map(|l| l.id.as_str())
}

/// `refundCreate`'s refusals as `invalid`, the field in the contract's terms (`lines[1]`,
/// `amount`).
pub fn refused(order_id: &str, line_of: &[usize], errors: &[UserError]) -> ConnectorError {
    let summary = messages(errors);
    let path = errors.first().and_then(|e| e.field.clone()).unwrap_or_default();
    let field = match path.as_slice() {
        [items, index, ..] if items == "refundLineItems" => index
            .parse::<usize>()
            .ok()
            .and_then(|i| line_of.get(i))
            .map_or_else(|| "lines".to_string(), |i| format!("lines[{i}]")),
        [transactions, ..] if transactions == "transactions" => "amount".into(),
        [order, ..] if order == "orderId" => {
            return ConnectorError::NotFound(format!("refund of order {order_id}: {summary}"));
        }
        _ => joined(&path).unwrap_or_else(|| "refund".into()),
    };
    ConnectorError::invalid(
        field.clone(),
        format!("refund of order {order_id}: Shopify refused {field}: {summary}"),
    )
}

#[cfg(test)]
mod tests;
