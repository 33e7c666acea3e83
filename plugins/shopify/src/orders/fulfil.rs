//! `fulfillmentCreate` for a shipment the channel made: which fulfillment-order lines hold the
//! units, the variables, and its refusals.
//!
//! Shopify fulfils fulfillment-order lines, not order lines, and one fulfillment ships from
//! one location, so the units are taken from the open fulfillment orders holding each line
//! and a shipment that spans locations becomes one fulfillment per location (the first one's
//! id is the answer). Units already in fulfillments with the same tracking number count as
//! shipped: a retry ships only what the first attempt did not, and answers the fulfillment
//! that carries the number.

use super::user_error::{UserError, messages};
use crate::orders::read::IdNode;
use crossdock_plugin_sdk::store_orders::NewFulfillment;
use crossdock_plugin_sdk::types::ConnectorError;
use serde::Deserialize;
use serde_json::{Value, json};

const CONTEXT: &str = "query FulfilContext($id: ID!) {
  order(id: $id) {
    id cancelledAt
    fulfillments(first: 10) {
      id status
      trackingInfo(first: 3) { number }
      fulfillmentLineItems(first: 20) { nodes { quantity lineItem { id } } }
    }
    fulfillmentOrders(first: 5) {
      nodes { id status assignedLocation { location { id } } lineItems(first: 25) { nodes { id remainingQuantity lineItem { id } } } }
    }
  }
}";

const FULFILLMENT_CREATE: &str = "mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}";

#[derive(Debug, Deserialize)]
pub struct ContextData {
    pub order: Option<Context>,
}

/// What a shipment needs to know about its order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    pub id: String,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    #[serde(default)]
    pub fulfillments: Vec<FulfillmentNode>,
    pub fulfillment_orders: FulfillmentOrders,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentNode {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub tracking_info: Vec<TrackingNumber>,
    pub fulfillment_line_items: Nodes<UnitLine>,
}

#[derive(Debug, Deserialize)]
pub struct TrackingNumber {
    #[serde(default)]
    pub number: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Nodes<T> {
    #[serde(default = "Vec::new")]
    pub nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitLine {
    pub quantity: i64,
    #[serde(default)]
    pub line_item: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
pub struct FulfillmentOrders {
    #[serde(default)]
    pub nodes: Vec<FulfillmentOrderNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrderNode {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub assigned_location: Option<AssignedLocation>,
    pub line_items: Nodes<FulfillmentOrderLine>,
}

#[derive(Debug, Deserialize)]
pub struct AssignedLocation {
    #[serde(default)]
    pub location: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrderLine {
    pub id: String,
    pub remaining_quantity: i64,
    #[serde(default)]
    pub line_item: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentCreateData {
    pub fulfillment_create: Option<FulfillmentCreatePayload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentCreatePayload {
    #[serde(default)]
    pub fulfillment: Option<IdNode>,
    #[serde(default)]
    pub user_errors: Vec<UserError>,
}

/// The request body that reads a shipment's context.
pub fn context(order_id: &str) -> Value {
    json!({"query": CONTEXT, "operationName": "FulfilContext", "variables": {"id": order_id}})
}

/// What to do for one shipment.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Every unit already ships with this tracking number: that fulfillment's id.
    Done(String),
    /// Send these bodies, one fulfillment per location, in order. `earlier` is a fulfillment
    /// that already carries the tracking number (a retry after part of the units shipped):
    /// the answer, rather than the first one sent.
    Send { bodies: Vec<Value>, earlier: Option<String> },
}

impl FulfillmentOrderNode {
    /// Whether units can be fulfilled from it now.
    fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "OPEN" | "IN_PROGRESS")
    }

    fn location(&self) -> String {
        self.assigned_location
            .as_ref()
            .and_then(|a| a.location.as_ref())
            .map_or_else(|| self.id.clone(), |l| l.id.clone())
    }
}

/// Plans the fulfillment of `shipment` on the order `context` describes.
pub fn plan(context: &Context, shipment: &NewFulfillment) -> Result<Plan, ConnectorError> {
    let order = &context.id;
    let number = shipment.tracking.tracking_number.trim();
    if number.is_empty() {
        return Err(ConnectorError::invalid(
            "tracking",
            format!("shipment of order {order}: no tracking number"),
        ));
    }
    let same: Vec<&FulfillmentNode> = context
        .fulfillments
        .iter()
        .filter(|f| f.status != "CANCELLED")
        .filter(|f| f.tracking_info.iter().any(|t| t.number.as_deref().map(str::trim) == Some(number)))
        .collect();
    // (fulfillment order index, its line id, units), in the order taken.
    let mut picks: Vec<(usize, String, i64)> = Vec::new();
    if shipment.lines.is_empty() {
        if let Some(first) = same.first() {
            return Ok(Plan::Done(first.id.clone()));
        }
        for (f, fulfillment_order) in context.fulfillment_orders.nodes.iter().enumerate() {
            if fulfillment_order.is_open() {
                for line in fulfillment_order.line_items.nodes.iter().filter(|l| l.remaining_quantity > 0) {
                    picks.push((f, line.id.clone(), line.remaining_quantity));
                }
            }
        }
        if picks.is_empty() {
            return Err(nothing_to_ship(context, "lines", "nothing is left to ship"));
        }
    } else {
        // Units per order line already under this tracking number, used up in request order.
        let mut covered: Vec<(String, i64)> = Vec::new();
        for fulfillment in &same {
            for line in &fulfillment.fulfillment_line_items.nodes {
                if let Some(item) = &line.line_item {
                    match covered.iter_mut().find(|(id, _)| *id == item.id) {
                        Some((_, units)) => *units += line.quantity,
                        None => covered.push((item.id.clone(), line.quantity)),
                    }
                }
            }
        }
        for (i, (line_id, units)) in shipment.lines.iter().enumerate() {
            if *units == 0 {
                return Err(ConnectorError::invalid(
                    format!("lines[{i}]"),
                    format!("shipment of order {order}: line {line_id} with 0 units"),
                ));
            }
            let mut needed = i64::from(*units);
            if let Some((_, shipped)) = covered.iter_mut().find(|(id, _)| id == line_id) {
                let taken = needed.min(*shipped);
                *shipped -= taken;
                needed -= taken;
            }
            for (f, fulfillment_order) in context.fulfillment_orders.nodes.iter().enumerate() {
                if needed == 0 || !fulfillment_order.is_open() {
                    continue;
                }
                for line in &fulfillment_order.line_items.nodes {
                    if needed == 0 || line.line_item.as_ref().is_none_or(|l| &l.id != line_id) {
                        continue;
                    }
                    let taken_before: i64 =
                        picks.iter().filter(|(_, id, _)| *id == line.id).map(|p| p.2).sum();
                    let take = needed.min(line.remaining_quantity - taken_before);
                    if take > 0 {
                        picks.push((f, line.id.clone(), take));
                        needed -= take;
                    }
                }
            }
            if needed > 0 {
                return Err(short(context, i, line_id, *units, needed));
            }
        }
        if picks.is_empty()
            && let Some(first) = same.first()
        {
            return Ok(Plan::Done(first.id.clone()));
        }
    }

    let tracking = &shipment.tracking;
    let mut tracking_info = json!({"number": number});
    if !tracking.carrier.trim().is_empty() {
        tracking_info["company"] = json!(tracking.carrier.trim());
    }
    if let Some(url) = tracking.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        tracking_info["url"] = json!(url);
    }
    // One fulfillment per location, in the order their first units were taken.
    let mut locations: Vec<String> = Vec::new();
    for (f, _, _) in &picks {
        let location = context.fulfillment_orders.nodes[*f].location();
        if !locations.contains(&location) {
            locations.push(location);
        }
    }
    let bodies = locations
        .iter()
        .map(|location| {
            let mut groups: Vec<(usize, Vec<Value>)> = Vec::new();
            for (f, line, units) in picks.iter().filter(|(f, _, _)| context.fulfillment_orders.nodes[*f].location() == *location) {
                let item = json!({"id": line, "quantity": units});
                match groups.iter_mut().find(|(g, _)| g == f) {
                    Some((_, items)) => items.push(item),
                    None => groups.push((*f, vec![item])),
                }
            }
            let by_fulfillment_order: Vec<Value> = groups
                .into_iter()
                .map(|(f, items)| {
                    json!({"fulfillmentOrderId": context.fulfillment_orders.nodes[f].id, "fulfillmentOrderLineItems": items})
                })
                .collect();
            json!({
                "query": FULFILLMENT_CREATE,
                "operationName": "FulfillmentCreate",
                "variables": {"fulfillment": {
                    "lineItemsByFulfillmentOrder": by_fulfillment_order,
                    "trackingInfo": tracking_info,
                    "notifyCustomer": false,
                }},
            })
        })
        .collect();
    Ok(Plan::Send { bodies, earlier: same.first().map(|f| f.id.clone()) })
}

/// A line with fewer units left to ship than asked: `invalid` with field `status` when the
/// order or a fulfillment order holding it is closed to shipping, else with the line's field.
fn short(context: &Context, i: usize, line_id: &str, units: u32, needed: i64) -> ConnectorError {
    let order = &context.id;
    if context.cancelled_at.is_some() {
        return nothing_to_ship(context, "status", "the order is cancelled");
    }
    let held = context.fulfillment_orders.nodes.iter().find(|f| {
        !f.is_open()
            && f.line_items.nodes.iter().any(|l| {
                l.remaining_quantity > 0 && l.line_item.as_ref().is_some_and(|item| item.id == line_id)
            })
    });
    if let Some(held) = held {
        return ConnectorError::invalid(
            "status",
            format!(
                "shipment of order {order}: line {line_id} waits in fulfillment order {} whose status is {}; release it in Shopify first",
                held.id, held.status
            ),
        );
    }
    ConnectorError::invalid(
        format!("lines[{i}]"),
        format!(
            "shipment of order {order}: {units} units of line {line_id} asked, {} left to ship",
            i64::from(units) - needed
        ),
    )
}

fn nothing_to_ship(context: &Context, field: &str, why: &str) -> ConnectorError {
    let why = if context.cancelled_at.is_some() { "the order is cancelled" } else { why };
    ConnectorError::invalid(field, format!("shipment of order {}: {why}", context.id))
}

/// `fulfillmentCreate`'s refusals: a fulfillment order that cannot ship is `invalid` with
/// field `status`, tracking Shopify will not take with field `tracking`, the rest with field
/// `lines`.
pub fn refused(order_id: &str, errors: &[UserError]) -> ConnectorError {
    let summary = messages(errors);
    let about_tracking =
        errors.iter().any(|e| e.field.as_deref().unwrap_or_default().iter().any(|f| f == "trackingInfo"));
    let field = if summary.contains("unfulfillable status") {
        "status"
    } else if about_tracking {
        "tracking"
    } else {
        "lines"
    };
    ConnectorError::invalid(field, format!("shipment of order {order_id}: Shopify refused it: {summary}"))
}

#[cfg(test)]
mod tests;
