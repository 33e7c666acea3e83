//! Orders in the schema: `orders(first, after, query, sortKey, reverse)`, `order(id)`,
//! `job(id)`, the `Order`, `LineItem`, `MoneyBag` and `OrderTransaction` objects, and the
//! `orderCreate` and `orderCancel` mutations.

use super::fulfillment::{Fulfillment, FulfillmentOrder, FulfillmentOrderConnection};
use super::payload::{Payload, answer_once, payload_type};
use super::refunds::Refund;
use super::{
    PageArgs, Product, ProductVariant, SortValue, connection, find_by_gid, page_by_id, page_sorted, records,
    snapshot,
};
use crate::shopify::data::Snapshot;
use crate::shopify::orders::{
    self as domain, CancelRequest, DisplayFulfillmentStatus, FinancialStatus, LineItemRecord,
    MailingAddressInput, OrderCancelErrorCode, OrderCancelReason, OrderCreateErrorCode,
    OrderCreateOptionsInput, OrderCreateOrderInput, OrderRecord, OrderTransactionKind,
    OrderTransactionStatus, TransactionRecord,
};
use crate::shopify::scalars::{CountryCode, CurrencyCode, DateTime, Money};
use crate::shopify::search::Search;
use crate::shopify::shop::now_seconds;
use crate::shopify::timestamp;
use crate::shopify::user_error::{Refusal, UserError, user_error_type};
use async_graphql::{Context, Enum, Error, ID, Object, SimpleObject};
use rust_decimal::Decimal;
use std::sync::Arc;

/// An order as it was in `snapshot`.
#[derive(Clone)]
pub struct Order {
    pub snapshot: Snapshot,
    pub record: Arc<OrderRecord>,
}

impl Order {
    /// The order at `index` of `snapshot`.
    pub fn at(snapshot: &Snapshot, index: usize) -> Order {
        Order { snapshot: Arc::clone(snapshot), record: Arc::clone(&snapshot.orders[index]) }
    }

    fn money(&self, amount: Decimal) -> MoneyBag {
        MoneyBag::new(amount, &self.record.currency, &self.record.presentment_currency)
    }
}

#[Object]
impl Order {
    async fn id(&self) -> ID {
        ID(self.record.gid())
    }
    async fn legacy_resource_id(&self) -> String {
        self.record.id.to_string()
    }
    /// `#1001`.
    async fn name(&self) -> &str {
        &self.record.name
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.record.created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.record.updated_at)
    }
    async fn processed_at(&self) -> DateTime {
        DateTime(self.record.processed_at)
    }
    async fn cancelled_at(&self) -> Option<DateTime> {
        self.record.cancelled_at.map(DateTime)
    }
    async fn cancel_reason(&self) -> Option<OrderCancelReason> {
        self.record.cancel_reason
    }
    async fn closed(&self) -> bool {
        self.record.cancelled_at.is_some()
    }
    async fn source_identifier(&self) -> Option<&str> {
        self.record.source_identifier.as_deref()
    }
    async fn source_name(&self) -> &str {
        &self.record.source_name
    }
    async fn email(&self) -> Option<&str> {
        self.record.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.record.phone.as_deref()
    }
    async fn note(&self) -> Option<&str> {
        self.record.note.as_deref()
    }
    async fn tags(&self) -> &[String] {
        &self.record.tags
    }
    async fn test(&self) -> bool {
        self.record.test
    }
    async fn currency_code(&self) -> CurrencyCode {
        CurrencyCode(self.record.currency.clone())
    }
    async fn presentment_currency_code(&self) -> CurrencyCode {
        CurrencyCode(self.record.presentment_currency.clone())
    }
    async fn display_financial_status(&self) -> Option<FinancialStatus> {
        Some(self.record.financial_status)
    }
    async fn display_fulfillment_status(&self) -> DisplayFulfillmentStatus {
        self.record.display_fulfillment_status()
    }
    async fn fully_paid(&self) -> bool {
        self.record.received() >= self.record.total()
    }
    async fn total_price_set(&self) -> MoneyBag {
        self.money(self.record.total())
    }
    async fn subtotal_price_set(&self) -> MoneyBag {
        self.money(self.record.subtotal())
    }
    async fn total_shipping_price_set(&self) -> MoneyBag {
        self.money(self.record.shipping_total())
    }
    async fn total_refunded_set(&self) -> MoneyBag {
        self.money(self.record.refunded())
    }
    async fn total_received_set(&self) -> MoneyBag {
        self.money(self.record.received())
    }
    async fn shipping_address(&self) -> Option<MailingAddress> {
        self.record.shipping_address.clone().map(MailingAddress)
    }
    async fn billing_address(&self) -> Option<MailingAddress> {
        self.record.billing_address.clone().map(MailingAddress)
    }
    async fn custom_attributes(&self) -> Vec<Attribute> {
        self.record
            .custom_attributes
            .iter()
            .map(|(key, value)| Attribute { key: key.clone(), value: Some(value.clone()) })
            .collect()
    }
    async fn line_items(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<LineItemConnection, Error> {
        let items: Vec<LineItem> =
            (0..self.record.line_items.len()).map(|index| LineItem { order: self.clone(), index }).collect();
        page_by_id(&items, |l| l.record().id, PageArgs::new(first, after, last, before))
    }
    async fn fulfillment_orders(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<FulfillmentOrderConnection, Error> {
        let items: Vec<FulfillmentOrder> = (0..self.record.fulfillment_orders.len())
            .map(|index| FulfillmentOrder { order: self.clone(), index })
            .collect();
        page_by_id(&items, |f| f.record().id, PageArgs::new(first, after, last, before))
    }
    /// A list, not a connection, as on Shopify.
    async fn fulfillments(&self, first: Option<i32>) -> Vec<Fulfillment> {
        let count = first.map_or(usize::MAX, |n| n.max(0) as usize);
        (0..self.record.fulfillments.len())
            .take(count)
            .map(|index| Fulfillment { order: self.clone(), index })
            .collect()
    }
    /// A list, not a connection, as on Shopify.
    async fn refunds(&self, first: Option<i32>) -> Vec<Refund> {
        let count = first.map_or(usize::MAX, |n| n.max(0) as usize);
        (0..self.record.refunds.len())
            .take(count)
            .map(|index| Refund { order: self.clone(), index })
            .collect()
    }
    /// A list, not a connection, as on Shopify.
    async fn transactions(&self, first: Option<i32>) -> Vec<OrderTransaction> {
        let count = first.map_or(usize::MAX, |n| n.max(0) as usize);
        self.record
            .transactions
            .iter()
            .chain(self.record.refunds.iter().flat_map(|r| &r.transactions))
            .take(count)
            .map(|t| OrderTransaction { record: t.clone(), currency: self.record.currency.clone() })
            .collect()
    }
}

/// One line of an order.
#[derive(Clone)]
pub struct LineItem {
    pub order: Order,
    pub index: usize,
}

impl LineItem {
    pub fn record(&self) -> &LineItemRecord {
        &self.order.record.line_items[self.index]
    }

    /// The line with this id, when the order has it.
    pub fn find(order: &Order, id: u64) -> Option<LineItem> {
        let index = order.record.line_items.iter().position(|l| l.id == id)?;
        Some(LineItem { order: order.clone(), index })
    }
}

#[Object]
impl LineItem {
    async fn id(&self) -> ID {
        ID(self.record().gid())
    }
    async fn title(&self) -> &str {
        &self.record().title
    }
    async fn name(&self) -> String {
        let line = self.record();
        match &line.variant_title {
            Some(variant) => format!("{} - {variant}", line.title),
            None => line.title.clone(),
        }
    }
    async fn variant_title(&self) -> Option<&str> {
        self.record().variant_title.as_deref()
    }
    async fn sku(&self) -> Option<&str> {
        self.record().sku.as_deref()
    }
    async fn quantity(&self) -> i64 {
        self.record().quantity
    }
    async fn current_quantity(&self) -> i64 {
        self.record().current_quantity()
    }
    async fn unfulfilled_quantity(&self) -> i64 {
        self.record().unfulfilled()
    }
    async fn refundable_quantity(&self) -> i64 {
        self.record().refundable()
    }
    async fn requires_shipping(&self) -> bool {
        self.record().requires_shipping
    }
    async fn original_unit_price_set(&self) -> MoneyBag {
        self.order.money(self.record().price)
    }
    async fn original_total_set(&self) -> MoneyBag {
        self.order.money(self.record().price * Decimal::from(self.record().quantity))
    }
    /// `null` once the variant is deleted.
    async fn variant(&self) -> Option<ProductVariant> {
        let id = self.record().variant_id?;
        let (p, index) = self.order.snapshot.find_variant(id)?;
        Some(ProductVariant { product: Arc::clone(&self.order.snapshot.products[p]), index })
    }
    async fn product(&self) -> Option<Product> {
        Product::find(&self.order.snapshot, self.record().product_id?)
    }
}

/// `MoneyBag`: an amount in the shop's and the presentment currency (the same here).
#[derive(SimpleObject, Clone)]
pub struct MoneyBag {
    shop_money: MoneyV2,
    presentment_money: MoneyV2,
}

impl MoneyBag {
    pub fn new(amount: Decimal, currency: &str, presentment: &str) -> MoneyBag {
        MoneyBag {
            shop_money: MoneyV2 { amount: Money(amount), currency_code: CurrencyCode(currency.to_string()) },
            presentment_money: MoneyV2 {
                amount: Money(amount),
                currency_code: CurrencyCode(presentment.to_string()),
            },
        }
    }
}

/// `MoneyV2`.
#[derive(SimpleObject, Clone)]
pub struct MoneyV2 {
    amount: Money,
    currency_code: CurrencyCode,
}

/// `MailingAddress`.
#[derive(Clone)]
pub struct MailingAddress(MailingAddressInput);

#[Object]
impl MailingAddress {
    async fn address1(&self) -> Option<&str> {
        self.0.address1.as_deref()
    }
    async fn address2(&self) -> Option<&str> {
        self.0.address2.as_deref()
    }
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    async fn company(&self) -> Option<&str> {
        self.0.company.as_deref()
    }
    async fn country_code_v2(&self) -> Option<CountryCode> {
        self.0.country_code.clone()
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn province_code(&self) -> Option<&str> {
        self.0.province_code.as_deref()
    }
    async fn zip(&self) -> Option<&str> {
        self.0.zip.as_deref()
    }
}

/// `Attribute`.
#[derive(SimpleObject, Clone)]
pub struct Attribute {
    key: String,
    value: Option<String>,
}

/// `OrderTransaction`.
#[derive(Clone)]
pub struct OrderTransaction {
    pub record: TransactionRecord,
    pub currency: String,
}

#[Object]
impl OrderTransaction {
    async fn id(&self) -> ID {
        ID(self.record.gid())
    }
    async fn kind(&self) -> OrderTransactionKind {
        self.record.kind
    }
    async fn status(&self) -> OrderTransactionStatus {
        self.record.status
    }
    async fn gateway(&self) -> &str {
        &self.record.gateway
    }
    async fn amount_set(&self) -> MoneyBag {
        MoneyBag::new(self.record.amount, &self.currency, &self.currency)
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.record.created_at)
    }
}

/// `Job`: `orderCancel` runs asynchronously on Shopify.
#[derive(SimpleObject, Clone)]
pub struct Job {
    id: ID,
    done: bool,
}

connection!(OrderConnection, OrderEdge, Order);
connection!(LineItemConnection, LineItemEdge, LineItem);

/// How `orders` can be ordered (the keys the sandbox sorts by; others fall back to `ID`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSortKeys {
    CreatedAt,
    Id,
    OrderNumber,
    ProcessedAt,
    UpdatedAt,
    Relevance,
}

/// `orders`, `order` and `job`.
#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    #[allow(clippy::too_many_arguments)]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        sort_key: Option<OrderSortKeys>,
        reverse: Option<bool>,
    ) -> Result<OrderConnection, Error> {
        let snapshot = snapshot(ctx)?;
        let search = Search::parse(query.as_deref());
        let sort_key = sort_key.unwrap_or(OrderSortKeys::Id);
        let reverse = reverse.unwrap_or(false);
        let key = move |o: &Order| -> (SortValue, u64) {
            let r = &o.record;
            let value = match sort_key {
                OrderSortKeys::Id | OrderSortKeys::Relevance | OrderSortKeys::OrderNumber => {
                    SortValue::Int(r.id as i64)
                }
                OrderSortKeys::CreatedAt => SortValue::Text(timestamp::format(r.created_at)),
                OrderSortKeys::ProcessedAt => SortValue::Text(timestamp::format(r.processed_at)),
                OrderSortKeys::UpdatedAt => SortValue::Text(timestamp::format(r.updated_at)),
            };
            (value, r.id)
        };
        let numeric =
            matches!(sort_key, OrderSortKeys::Id | OrderSortKeys::Relevance | OrderSortKeys::OrderNumber);
        let items: Vec<Order> = (0..snapshot.orders.len())
            .filter(|i| search.matches_order(&snapshot.orders[*i]))
            .map(|i| Order::at(&snapshot, i))
            .collect();
        page_sorted(items, key, numeric, PageArgs { first, after, last, before, reverse })
    }

    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>, Error> {
        find_by_gid(ctx, &id, "Order", |snapshot, id| {
            snapshot.order_index(id).map(|i| Order::at(snapshot, i))
        })
    }

    /// Jobs the sandbox handed out are done by the time anyone asks.
    async fn job(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Job>, Error> {
        let snapshot = snapshot(ctx)?;
        Ok(snapshot.jobs.iter().any(|j| *j == id.as_str()).then_some(Job { id, done: true }))
    }
}

user_error_type!(OrderCreateUserError, OrderCreateErrorCode);
user_error_type!(OrderCancelUserError, OrderCancelErrorCode);

payload_type!(
    /// `OrderCreatePayload`.
    OrderCreatePayload { order: Order },
    errors: OrderCreateUserError,
    mismatch: OrderCreateErrorCode = OrderCreateErrorCode::Invalid,
);

/// `OrderCancelPayload`.
#[derive(SimpleObject, Clone)]
pub struct OrderCancelPayload {
    job: Option<Job>,
    order_cancel_user_errors: Vec<OrderCancelUserError>,
    /// Deprecated on Shopify; the same errors without codes.
    user_errors: Vec<UserError>,
}

impl Payload for OrderCancelPayload {
    type Code = OrderCancelErrorCode;
    const MISMATCH: OrderCancelErrorCode = OrderCancelErrorCode::Invalid;
    fn refused(refusals: Vec<Refusal<OrderCancelErrorCode>>) -> Self {
        let user_errors = refusals
            .iter()
            .map(|r| {
                UserError::from(Refusal::<()> {
                    code: None,
                    field: r.field.clone(),
                    message: r.message.clone(),
                })
            })
            .collect();
        OrderCancelPayload {
            job: None,
            user_errors,
            order_cancel_user_errors: refusals.into_iter().map(Into::into).collect(),
        }
    }
}

/// `orderCreate` and `orderCancel`.
#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Creates an order from an external channel; `sourceIdentifier` is not deduplicated.
    async fn order_create(
        &self,
        ctx: &Context<'_>,
        order: OrderCreateOrderInput,
        options: Option<OrderCreateOptionsInput>,
    ) -> Result<OrderCreatePayload, Error> {
        let currency = &records(ctx)?.currency;
        let options = options.unwrap_or_default();
        answer_once(
            ctx,
            |shop, events| domain::create_order(shop, &order, &options, currency, now_seconds(), events),
            |c| OrderCreatePayload { order: Some(Order::at(&c.snapshot, c.value)), user_errors: Vec::new() },
        )
    }

    /// Cancels an order; irreversible.
    #[allow(clippy::too_many_arguments)]
    async fn order_cancel(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reason: OrderCancelReason,
        refund: Option<bool>,
        restock: bool,
        notify_customer: Option<bool>,
        staff_note: Option<String>,
    ) -> Result<OrderCancelPayload, Error> {
        let _ = notify_customer;
        let request =
            CancelRequest { order_id, reason, refund: refund.unwrap_or(false), restock, staff_note };
        answer_once(
            ctx,
            |shop, events| {
                let job_id = format!("gid://shopify/Job/{}", crate::shopify::webhooks::uuid_v4());
                domain::cancel_order(shop, &request, job_id, now_seconds(), events)
            },
            |c| OrderCancelPayload {
                // Shopify answers before the job ran.
                job: Some(Job { id: ID(c.value), done: false }),
                order_cancel_user_errors: Vec::new(),
                user_errors: Vec::new(),
            },
        )
    }
}
