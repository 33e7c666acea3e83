//! Fulfillment orders and fulfillments in the schema: `FulfillmentOrder` with its line items
//! and `supportedActions`, `Fulfillment` with `trackingInfo`, `fulfillmentOrder(id)`, and the
//! `fulfillmentCreate` and `fulfillmentTrackingInfoUpdate` mutations.

use super::inventory::Location;
use super::orders::{LineItem, Order};
use super::payload::{answer, answer_once, payload_type};
use super::{PageArgs, connection, find_by_gid, page_by_id, records};
use crate::shopify::fulfillment::{
    self as domain, FulfillmentInput, FulfillmentOrderAction, FulfillmentOrderLineRecord,
    FulfillmentOrderRecord, FulfillmentOrderStatus, FulfillmentRecord, FulfillmentStatus,
    FulfillmentTrackingInput,
};
use crate::shopify::scalars::{DateTime, Url};
use crate::shopify::shop::now_seconds;
use crate::shopify::user_error::UserError;
use async_graphql::{Context, Enum, Error, ID, Object, SimpleObject};

/// A fulfillment order of an order.
#[derive(Clone)]
pub struct FulfillmentOrder {
    pub order: Order,
    pub index: usize,
}

impl FulfillmentOrder {
    pub fn record(&self) -> &FulfillmentOrderRecord {
        &self.order.record.fulfillment_orders[self.index]
    }
}

/// `FulfillmentOrderRequestStatus`: merchant-managed orders are never submitted.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentOrderRequestStatus {
    Accepted,
    CancellationAccepted,
    CancellationRejected,
    CancellationRequested,
    Closed,
    Rejected,
    Submitted,
    Unsubmitted,
}

#[Object]
impl FulfillmentOrder {
    async fn id(&self) -> ID {
        ID(self.record().gid())
    }
    async fn status(&self) -> FulfillmentOrderStatus {
        self.record().status
    }
    async fn request_status(&self) -> FulfillmentOrderRequestStatus {
        FulfillmentOrderRequestStatus::Unsubmitted
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.record().created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.record().updated_at)
    }
    async fn assigned_location(&self) -> FulfillmentOrderAssignedLocation {
        let location = self.order.snapshot.location(self.record().location_id).cloned();
        FulfillmentOrderAssignedLocation {
            name: location.as_ref().map(|l| l.name.clone()).unwrap_or_default(),
            location: location.map(Location),
        }
    }
    async fn supported_actions(&self) -> Vec<FulfillmentOrderSupportedAction> {
        self.record()
            .supported_actions()
            .into_iter()
            .map(|action| FulfillmentOrderSupportedAction { action, external_url: None })
            .collect()
    }
    async fn line_items(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<FulfillmentOrderLineItemConnection, Error> {
        let items: Vec<FulfillmentOrderLineItem> = self
            .record()
            .lines
            .iter()
            .map(|line| FulfillmentOrderLineItem { order: self.order.clone(), line: line.clone() })
            .collect();
        page_by_id(&items, |l| l.line.id, PageArgs::new(first, after, last, before))
    }
    async fn order(&self) -> Order {
        self.order.clone()
    }
}

/// `FulfillmentOrderAssignedLocation`.
#[derive(SimpleObject, Clone)]
pub struct FulfillmentOrderAssignedLocation {
    name: String,
    location: Option<Location>,
}

/// `FulfillmentOrderSupportedAction`.
#[derive(SimpleObject, Clone)]
pub struct FulfillmentOrderSupportedAction {
    action: FulfillmentOrderAction,
    external_url: Option<Url>,
}

/// A line item's units in a fulfillment order.
#[derive(Clone)]
pub struct FulfillmentOrderLineItem {
    order: Order,
    line: FulfillmentOrderLineRecord,
}

#[Object]
impl FulfillmentOrderLineItem {
    async fn id(&self) -> ID {
        ID(self.line.gid())
    }
    async fn total_quantity(&self) -> i64 {
        self.line.total_quantity
    }
    async fn remaining_quantity(&self) -> i64 {
        self.line.remaining_quantity
    }
    async fn line_item(&self) -> Option<LineItem> {
        LineItem::find(&self.order, self.line.line_item_id)
    }
    async fn sku(&self) -> Option<String> {
        self.order.record.line_item(self.line.line_item_id).and_then(|l| l.sku.clone())
    }
}

/// One shipment.
#[derive(Clone)]
pub struct Fulfillment {
    pub order: Order,
    pub index: usize,
}

impl Fulfillment {
    fn record(&self) -> &FulfillmentRecord {
        &self.order.record.fulfillments[self.index]
    }
}

#[Object]
impl Fulfillment {
    async fn id(&self) -> ID {
        ID(self.record().gid())
    }
    async fn name(&self) -> &str {
        &self.record().name
    }
    async fn status(&self) -> FulfillmentStatus {
        self.record().status
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.record().created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.record().updated_at)
    }
    async fn total_quantity(&self) -> i64 {
        self.record().lines.iter().map(|(_, units)| units).sum()
    }
    /// A list, not a connection, as on Shopify.
    async fn tracking_info(&self, first: Option<i32>) -> Vec<FulfillmentTrackingInfo> {
        let count = first.map_or(usize::MAX, |n| n.max(0) as usize);
        self.record()
            .tracking
            .iter()
            .take(count)
            .map(|t| FulfillmentTrackingInfo {
                company: t.company.clone(),
                number: t.number.clone(),
                url: t.url.clone().map(Url),
            })
            .collect()
    }
    async fn fulfillment_line_items(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<FulfillmentLineItemConnection, Error> {
        let record = self.record();
        let items: Vec<FulfillmentLineItem> = record
            .lines
            .iter()
            .enumerate()
            .map(|(i, (line_item_id, quantity))| FulfillmentLineItem {
                // Fulfillment line items have no id of their own in the sandbox's records.
                id: record.id * 100 + i as u64,
                order: self.order.clone(),
                line_item_id: *line_item_id,
                quantity: *quantity,
            })
            .collect();
        page_by_id(&items, |l| l.id, PageArgs::new(first, after, last, before))
    }
    async fn fulfillment_orders(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<FulfillmentOrderConnection, Error> {
        let ids = &self.record().fulfillment_order_ids;
        let items: Vec<FulfillmentOrder> = (0..self.order.record.fulfillment_orders.len())
            .filter(|i| ids.contains(&self.order.record.fulfillment_orders[*i].id))
            .map(|index| FulfillmentOrder { order: self.order.clone(), index })
            .collect();
        page_by_id(&items, |f| f.record().id, PageArgs::new(first, after, last, before))
    }
    async fn location(&self) -> Option<Location> {
        self.order.snapshot.location(self.record().location_id).cloned().map(Location)
    }
    async fn order(&self) -> Order {
        self.order.clone()
    }
}

/// `FulfillmentTrackingInfo`.
#[derive(SimpleObject, Clone)]
pub struct FulfillmentTrackingInfo {
    company: Option<String>,
    number: Option<String>,
    url: Option<Url>,
}

/// `FulfillmentLineItem`.
#[derive(Clone)]
pub struct FulfillmentLineItem {
    id: u64,
    order: Order,
    line_item_id: u64,
    quantity: i64,
}

#[Object]
impl FulfillmentLineItem {
    async fn id(&self) -> ID {
        ID(format!("gid://shopify/FulfillmentLineItem/{}", self.id))
    }
    async fn quantity(&self) -> i64 {
        self.quantity
    }
    async fn line_item(&self) -> Option<LineItem> {
        LineItem::find(&self.order, self.line_item_id)
    }
}

connection!(FulfillmentOrderConnection, FulfillmentOrderEdge, FulfillmentOrder);
connection!(FulfillmentOrderLineItemConnection, FulfillmentOrderLineItemEdge, FulfillmentOrderLineItem);
connection!(FulfillmentLineItemConnection, FulfillmentLineItemEdge, FulfillmentLineItem);

payload_type!(
    /// `FulfillmentCreatePayload`.
    FulfillmentCreatePayload { fulfillment: Fulfillment },
    errors: UserError,
    mismatch: () = (),
);

payload_type!(
    /// `FulfillmentTrackingInfoUpdatePayload`.
    FulfillmentTrackingInfoUpdatePayload { fulfillment: Fulfillment },
    errors: UserError,
    mismatch: () = (),
);

/// `fulfillmentOrder(id)`, a query field kept beside its type.
#[derive(Default)]
pub struct FulfillmentQuery;

#[Object]
impl FulfillmentQuery {
    async fn fulfillment_order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<FulfillmentOrder>, Error> {
        find_by_gid(ctx, &id, "FulfillmentOrder", |snapshot, id| {
            (0..snapshot.orders.len()).find_map(|o| {
                let index = snapshot.orders[o].fulfillment_orders.iter().position(|f| f.id == id)?;
                Some(FulfillmentOrder { order: Order::at(snapshot, o), index })
            })
        })
    }

    async fn fulfillment(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Fulfillment>, Error> {
        find_by_gid(ctx, &id, "Fulfillment", |snapshot, id| {
            (0..snapshot.orders.len()).find_map(|o| {
                let index = snapshot.orders[o].fulfillments.iter().position(|f| f.id == id)?;
                Some(Fulfillment { order: Order::at(snapshot, o), index })
            })
        })
    }
}

/// `fulfillmentCreate` and `fulfillmentTrackingInfoUpdate`.
#[derive(Default)]
pub struct FulfillmentMutation;

#[Object]
impl FulfillmentMutation {
    /// Ships units of one order's fulfillment orders.
    async fn fulfillment_create(
        &self,
        ctx: &Context<'_>,
        fulfillment: FulfillmentInput,
        message: Option<String>,
    ) -> Result<FulfillmentCreatePayload, Error> {
        let _ = message;
        answer_once(
            ctx,
            |shop, events| domain::create_fulfillment(shop, &fulfillment, now_seconds(), events),
            |c| {
                let order = Order::at(&c.snapshot, c.value);
                let index = order.record.fulfillments.len() - 1;
                FulfillmentCreatePayload {
                    fulfillment: Some(Fulfillment { order, index }),
                    user_errors: Vec::new(),
                }
            },
        )
    }

    /// Replaces a fulfillment's tracking.
    async fn fulfillment_tracking_info_update(
        &self,
        ctx: &Context<'_>,
        fulfillment_id: ID,
        tracking_info_input: FulfillmentTrackingInput,
        notify_customer: Option<bool>,
    ) -> Result<FulfillmentTrackingInfoUpdatePayload, Error> {
        let _ = notify_customer;
        Ok(answer(
            records(ctx)?,
            |shop, events| {
                domain::update_tracking(shop, &fulfillment_id, &tracking_info_input, now_seconds(), events)
            },
            |c| {
                let (o, index) = c.value;
                let fulfillment = Fulfillment { order: Order::at(&c.snapshot, o), index };
                FulfillmentTrackingInfoUpdatePayload {
                    fulfillment: Some(fulfillment),
                    user_errors: Vec::new(),
                }
            },
        ))
    }
}
