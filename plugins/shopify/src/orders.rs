//! The store's orders (`store-orders`) through the Admin GraphQL API: creating a channel order
//! once, finding and reading orders with their fulfillments and refunds, and cancelling,
//! refunding and fulfilling them. Each operation is a short exchange over a [`Graphql`]
//! transport (`lib.rs` gives the real one), so whole exchanges are tested natively.
//!
//! Ids are Shopify GIDs: orders `gid://shopify/Order/…`, lines `gid://shopify/LineItem/…`,
//! fulfillments `gid://shopify/Fulfillment/…`, refunds `gid://shopify/Refund/…`. A list
//! cursor is Shopify's own `endCursor` for the same `updated-since`.

pub mod cancel;
pub mod create;
pub mod fulfil;
pub mod query;
pub mod read;
pub mod refund;
pub mod user_error;

use crate::gid;
use crate::iso8601;
use crate::mapping::decode;
use crossdock_plugin_sdk::Result;
use crossdock_plugin_sdk::store_orders::{
    Cancellation, NewFulfillment, NewOrder, NewRefund, StoreOrder, StoreOrderPage,
};
use crossdock_plugin_sdk::types::ConnectorError;
use query::Sizes;
use read::{FulfillmentLinesData, OrderData, OrderLinesData, OrderNode, OrdersData};
use serde::Deserialize;
use serde_json::Value;

/// Sends one GraphQL request and answers its `data`, or the failure as a contract error.
pub trait Graphql {
    fn post(&self, body: &Value) -> Result<Value>;
}

/// Creates `order` in the store and reads it back whole. A key Shopify already saw with other
/// arguments (the host retried with changed figures) answers the order the first call made.
pub fn create_order(api: &impl Graphql, order: &NewOrder) -> Result<StoreOrder> {
    let plan = create::plan(order)?;
    let data: CreateData = decode(api.post(&plan.body)?)?;
    let payload = data.order_create.ok_or_else(|| {
        ConnectorError::Fatal(format!("order {}: orderCreate answered no payload", order.source_identifier))
    })?;
    if let Some(created) = payload.order {
        return whole(api, &created.id)?.ok_or_else(|| {
            ConnectorError::Transient(format!(
                "order {}: Shopify created {} but cannot read it yet",
                order.source_identifier, created.id
            ))
        });
    }
    let reused_key = payload.user_errors.iter().any(|e| {
        e.code.as_deref() == Some("IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
            || e.message.to_ascii_lowercase().contains("idempotency key")
    });
    if reused_key && let Some(first) = find_order(api, &order.source_identifier)? {
        return Ok(first);
    }
    Err(create::refused(order, &plan, &payload.user_errors))
}

/// The order created with `source_identifier`; more than one is `fatal`, naming them.
pub fn find_order(api: &impl Graphql, source_identifier: &str) -> Result<Option<StoreOrder>> {
    if source_identifier.trim().is_empty() {
        return Err(ConnectorError::invalid("source-identifier", "an empty source identifier finds nothing"));
    }
    let data: FindData = decode(api.post(&query::find_orders(source_identifier))?)?;
    // Shopify's search may match more than the exact value; only the exact value counts.
    let exact: Vec<String> = data
        .orders
        .nodes
        .into_iter()
        .filter(|o| o.source_identifier.as_deref() == Some(source_identifier))
        .map(|o| o.id)
        .collect();
    match exact.as_slice() {
        [] => Ok(None),
        [id] => whole(api, id),
        ids => Err(ConnectorError::Fatal(format!(
            "source identifier {source_identifier} names {} store orders ({}); cancel or delete the duplicates in Shopify, keeping one",
            ids.len(),
            ids.join(", ")
        ))),
    }
}

/// One order by id; none when the store no longer has it.
pub fn get_order(api: &impl Graphql, id: &str) -> Result<Option<StoreOrder>> {
    check_order_id(id)?;
    whole(api, id)
}

/// Orders changed at or after `updated_since` (Unix ms) that carry a source identifier,
/// oldest change first. A page may hold fewer orders than asked, none even, with a cursor:
/// Shopify's search cannot ask for "has a source identifier", so the others are dropped here.
pub fn list_orders(
    api: &impl Graphql,
    updated_since: i64,
    cursor: Option<&str>,
    limit: u32,
) -> Result<StoreOrderPage> {
    let since = iso8601::format_seconds(updated_since);
    let after = cursor.filter(|c| !c.is_empty());
    let data: OrdersData = decode(api.post(&query::orders(&since, limit, after))?)?;
    let page = data.orders;
    let mut orders = Vec::with_capacity(page.nodes.len());
    for node in page.nodes {
        if node.source_identifier.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        if node.missing(Sizes::PAGE).nothing() {
            orders.push(read::store_order(node)?);
        } else if let Some(order) = whole(api, &node.id)? {
            orders.push(order);
        }
    }
    let next_cursor = page.page_info.has_next_page.then_some(page.page_info.end_cursor).flatten();
    Ok(StoreOrderPage { orders, next_cursor })
}

/// Cancels an order; one already cancelled succeeds without a call.
pub fn cancel_order(api: &impl Graphql, id: &str, how: &Cancellation) -> Result<()> {
    check_order_id(id)?;
    if cancelled(api, id)? {
        return Ok(());
    }
    let data: cancel::OrderCancelData = decode(api.post(&cancel::body(id, how))?)?;
    let errors = data.order_cancel.map(|p| p.order_cancel_user_errors).unwrap_or_default();
    // A refusal may come from an earlier attempt having cancelled it meanwhile.
    if errors.is_empty() || cancelled(api, id)? {
        return Ok(());
    }
    Err(cancel::refused(id, &errors))
}

/// Records a refund; answers the refund's id, the first one's on a retry.
pub fn refund_order(api: &impl Graphql, id: &str, refund: &NewRefund) -> Result<String> {
    check_order_id(id)?;
    let data: refund::ContextData = decode(api.post(&refund::context(id))?)?;
    let context = data.order.ok_or_else(|| no_order(id))?;
    match refund::plan(&context, refund)? {
        refund::Plan::Done(existing) => Ok(existing),
        refund::Plan::Send { body, line_of } => {
            let data: refund::RefundCreateData = decode(api.post(&body)?)?;
            let payload = data.refund_create.ok_or_else(|| {
                ConnectorError::Fatal(format!("refund of order {id}: refundCreate answered no payload"))
            })?;
            match payload.refund {
                Some(created) => Ok(created.id),
                None => Err(refund::refused(id, &line_of, &payload.user_errors)),
            }
        }
    }
}

/// Records a shipment; answers the fulfillment's id, the one already carrying the tracking
/// number on a retry.
pub fn fulfill_order(api: &impl Graphql, id: &str, shipment: &NewFulfillment) -> Result<String> {
    check_order_id(id)?;
    let data: fulfil::ContextData = decode(api.post(&fulfil::context(id))?)?;
    let context = data.order.ok_or_else(|| no_order(id))?;
    let (bodies, earlier) = match fulfil::plan(&context, shipment)? {
        fulfil::Plan::Done(existing) => return Ok(existing),
        fulfil::Plan::Send { bodies, earlier } => (bodies, earlier),
    };
    let mut first = earlier;
    for body in bodies {
        let data: fulfil::FulfillmentCreateData = decode(api.post(&body)?)?;
        let payload = data.fulfillment_create.ok_or_else(|| {
            ConnectorError::Fatal(format!("shipment of order {id}: fulfillmentCreate answered no payload"))
        })?;
        match payload.fulfillment {
            Some(created) => {
                first.get_or_insert(created.id);
            }
            None => return Err(fulfil::refused(id, &payload.user_errors)),
        }
    }
    first.ok_or_else(|| ConnectorError::Fatal(format!("shipment of order {id}: nothing was sent")))
}

/// An order read whole: the large read, then the lines it could not hold.
fn whole(api: &impl Graphql, id: &str) -> Result<Option<StoreOrder>> {
    let data: OrderData = decode(api.post(&query::order(id, Sizes::WHOLE))?)?;
    let Some(node) = data.order else { return Ok(None) };
    let missing = node.missing(Sizes::WHOLE);
    if !(missing.fulfillments_full || missing.refunds_full || missing.refund_lines_cut) {
        return complete(api, node, Sizes::WHOLE).map(Some);
    }
    // Many fulfillments or refunds: those lists do not page, so read the order again, large.
    let data: OrderData = decode(api.post(&query::order(id, Sizes::LARGE))?)?;
    data.order.map(|node| complete(api, node, Sizes::LARGE)).transpose()
}

/// Reads what a read of `node` at `sizes` left out, then maps it.
fn complete(api: &impl Graphql, mut node: OrderNode, sizes: Sizes) -> Result<StoreOrder> {
    let missing = node.missing(sizes);
    if missing.fulfillments_full || missing.refunds_full || missing.refund_lines_cut {
        let Sizes { fulfillments, refunds, refund_lines, .. } = sizes;
        return Err(ConnectorError::Fatal(format!(
            "order {} has {fulfillments} or more fulfillments, {refunds} or more refunds, or a refund of more than {refund_lines} lines: more than the connector reads; handle it in Shopify",
            node.id
        )));
    }
    let mut after = missing.lines_after;
    while let Some(cursor) = after {
        let data: OrderLinesData = decode(api.post(&query::order_lines(&node.id, &cursor))?)?;
        let Some(more) = data.order else { break };
        let info = more.line_items.page_info;
        after = info.has_next_page.then_some(info.end_cursor).flatten();
        node.line_items.nodes.extend(more.line_items.nodes);
    }
    for (index, cursor) in missing.fulfillment_lines_after {
        let mut after = Some(cursor);
        while let Some(cursor) = after {
            let fulfillment_id = node.fulfillments[index].id.clone();
            let data: FulfillmentLinesData =
                decode(api.post(&query::fulfillment_lines(&fulfillment_id, &cursor))?)?;
            let Some(more) = data.fulfillment else { break };
            let info = more.fulfillment_line_items.page_info;
            after = info.has_next_page.then_some(info.end_cursor).flatten();
            node.fulfillments[index].fulfillment_line_items.nodes.extend(more.fulfillment_line_items.nodes);
        }
    }
    read::store_order(node)
}

/// Whether the order is cancelled; `not-found` when there is no such order.
fn cancelled(api: &impl Graphql, id: &str) -> Result<bool> {
    let data: StatusData = decode(api.post(&query::order_status(id))?)?;
    let order = data.order.ok_or_else(|| no_order(id))?;
    Ok(order.cancelled_at.is_some())
}

fn check_order_id(id: &str) -> Result<()> {
    if gid::is("Order", id) {
        return Ok(());
    }
    Err(ConnectorError::invalid("id", format!("`{id}` is not a Shopify order id (gid://shopify/Order/…)")))
}

fn no_order(id: &str) -> ConnectorError {
    ConnectorError::NotFound(format!("Shopify has no order {id}; it was deleted from the store"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateData {
    order_create: Option<CreatePayload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePayload {
    #[serde(default)]
    order: Option<read::IdNode>,
    #[serde(default)]
    user_errors: Vec<user_error::UserError>,
}

#[derive(Debug, Deserialize)]
struct FindData {
    orders: FindConnection,
}

#[derive(Debug, Deserialize)]
struct FindConnection {
    #[serde(default)]
    nodes: Vec<FindNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FindNode {
    id: String,
    #[serde(default)]
    source_identifier: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StatusData {
    order: Option<StatusNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusNode {
    #[serde(default)]
    cancelled_at: Option<String>,
}

#[cfg(test)]
mod tests;
