//! Refunds in the schema: the `Refund` object with its refund line items and transactions, and
//! the `refundCreate` mutation.

use super::inventory::Location;
use super::orders::{LineItem, MoneyBag, Order, OrderTransaction};
use super::payload::{answer_once, payload_type};
use super::{PageArgs, connection, page_by_id};
use crate::shopify::refunds::{
    self as domain, RefundInput, RefundLineItemRestockType, RefundLineRecord, RefundRecord,
};
use crate::shopify::scalars::DateTime;
use crate::shopify::shop::now_seconds;
use crate::shopify::user_error::UserError;
use async_graphql::{Context, Error, ID, Object, SimpleObject};

/// One refund of an order.
#[derive(Clone)]
pub struct Refund {
    pub order: Order,
    pub index: usize,
}

impl Refund {
    fn record(&self) -> &RefundRecord {
        &self.order.record.refunds[self.index]
    }
}

#[Object]
impl Refund {
    async fn id(&self) -> ID {
        ID(self.record().gid())
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.record().created_at)
    }
    async fn note(&self) -> Option<&str> {
        self.record().note.as_deref()
    }
    async fn total_refunded_set(&self) -> MoneyBag {
        let order = &self.order.record;
        MoneyBag::new(self.record().amount, &order.currency, &order.presentment_currency)
    }
    async fn refund_line_items(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<RefundLineItemConnection, Error> {
        let items: Vec<RefundLineItem> = self
            .record()
            .lines
            .iter()
            .map(|line| RefundLineItem { order: self.order.clone(), line: line.clone() })
            .collect();
        page_by_id(&items, |l| l.line.id, PageArgs::new(first, after, last, before))
    }
    async fn transactions(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<OrderTransactionConnection, Error> {
        let currency = &self.order.record.currency;
        let items: Vec<OrderTransaction> = self
            .record()
            .transactions
            .iter()
            .map(|t| OrderTransaction { record: t.clone(), currency: currency.clone() })
            .collect();
        page_by_id(&items, |t| t.record.id, PageArgs::new(first, after, last, before))
    }
    async fn order(&self) -> Order {
        self.order.clone()
    }
}

/// `RefundLineItem`.
#[derive(Clone)]
pub struct RefundLineItem {
    order: Order,
    line: RefundLineRecord,
}

#[Object]
impl RefundLineItem {
    async fn id(&self) -> ID {
        ID(format!("gid://shopify/RefundLineItem/{}", self.line.id))
    }
    async fn quantity(&self) -> i64 {
        self.line.quantity
    }
    async fn restock_type(&self) -> RefundLineItemRestockType {
        self.line.restock_type
    }
    async fn restocked(&self) -> bool {
        self.line.restocked
    }
    async fn line_item(&self) -> Option<LineItem> {
        LineItem::find(&self.order, self.line.line_item_id)
    }
    async fn location(&self) -> Option<Location> {
        let id = self.line.location_id?;
        self.order.snapshot.location(id).cloned().map(Location)
    }
    async fn subtotal_set(&self) -> MoneyBag {
        let order = &self.order.record;
        MoneyBag::new(self.line.subtotal, &order.currency, &order.presentment_currency)
    }
}

connection!(RefundLineItemConnection, RefundLineItemEdge, RefundLineItem);
connection!(OrderTransactionConnection, OrderTransactionEdge, OrderTransaction);

payload_type!(
    /// `RefundCreatePayload`.
    RefundCreatePayload { refund: Refund, order: Order },
    errors: UserError,
    mismatch: () = (),
);

/// `refundCreate`.
#[derive(Default)]
pub struct RefundMutation;

#[Object]
impl RefundMutation {
    /// Refunds line items (with a restock type), shipping and money.
    async fn refund_create(
        &self,
        ctx: &Context<'_>,
        input: RefundInput,
    ) -> Result<RefundCreatePayload, Error> {
        answer_once(
            ctx,
            |shop, events| domain::create_refund(shop, &input, now_seconds(), events),
            |c| {
                let order = Order::at(&c.snapshot, c.value);
                let index = order.record.refunds.len() - 1;
                RefundCreatePayload {
                    refund: Some(Refund { order: order.clone(), index }),
                    order: Some(order),
                    user_errors: Vec::new(),
                }
            },
        )
    }
}
