//! Orders: the records (line items, fulfillment orders, fulfillments, refunds, transactions),
//! `orderCreate` with its inventory behaviours, and `orderCancel`. Fulfillments and refunds
//! are in their own modules; all of them change a copy of the shop inside one write.
//!
//! Choices where ../shared/reference and the docs are silent or unconfirmed:
//! - `orderCreate` does not deduplicate on `sourceIdentifier` (the reference: no native dedupe
//!   key); a client finds earlier orders with `orders(query: "source_identifier:…")`.
//! - Each line goes to the first location (in id order) with enough `available` stock, else to
//!   the primary location; each location's lines make one fulfillment order.
//! - A claimed unit moves `available` → `committed`; fulfilling it leaves `committed` (so
//!   `on_hand` drops); restocking an unfulfilled one moves it back. Restocking a unit that was
//!   never claimed (a `BYPASS` order) changes nothing.
//! - Without `financialStatus`, the status follows the transactions (paid in full → `PAID`,
//!   part → `PARTIALLY_PAID`, an authorization → `AUTHORIZED`), else `PENDING`.
//! - `orderCancel` refuses an order with fulfillments (cancel those first), and runs at once:
//!   the payload's `job` says `done: false` as Shopify's does, `job(id:)` then says `done: true`.
//!   Open fulfillment orders of a cancelled order become `CLOSED`.

use super::data::{Event, ShopState, parse_gid};
use super::fulfillment::{
    FulfillmentOrderLineRecord, FulfillmentOrderRecord, FulfillmentOrderStatus, FulfillmentRecord,
};
use super::inventory::shift;
use super::refunds::RefundRecord;
use super::rest;
use super::user_error::Refusal;
use crate::shopify::data::InventoryPolicy;
use async_graphql::{Enum, ID};
use rust_decimal::Decimal;
use std::sync::Arc;

mod input;

pub use input::{
    MailingAddressInput, OrderCreateLineItemInput, OrderCreateOptionsInput, OrderCreateOrderInput,
};

const ORDER_ID_BASE: u64 = 6_100_000_000_000;
const LINE_ITEM_ID_BASE: u64 = 16_000_000_000_000;
const FULFILLMENT_ORDER_ID_BASE: u64 = 7_000_000_000_000;
const FULFILLMENT_ORDER_LINE_ID_BASE: u64 = 17_000_000_000_000;
const TRANSACTION_ID_BASE: u64 = 8_800_000_000_000;
/// `sourceName` values Shopify keeps for itself (reference §5).
const RESERVED_SOURCE_NAMES: [&str; 5] = ["web", "pos", "shopify_draft_order", "iphone", "android"];
/// `staffNote` is at most this long.
const MAX_STAFF_NOTE: usize = 255;

// ---- enums ----------------------------------------------------------------------------

/// `OrderCreateInputsInventoryBehavior`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(name = "OrderCreateInputsInventoryBehavior")]
pub enum InventoryBehaviour {
    /// Claim no stock (Shopify's default).
    #[default]
    Bypass,
    /// Claim stock even when it goes below 0.
    DecrementIgnoringPolicy,
    /// Claim stock; refuse when a `DENY` variant has too little.
    DecrementObeyingPolicy,
}

/// `OrderDisplayFinancialStatus`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderDisplayFinancialStatus")]
pub enum FinancialStatus {
    Authorized,
    Expired,
    Paid,
    PartiallyPaid,
    PartiallyRefunded,
    Pending,
    Refunded,
    Voided,
}

impl FinancialStatus {
    /// The status as the REST API and the `financial_status:` search filter spell it.
    pub fn rest_name(self) -> &'static str {
        match self {
            FinancialStatus::Authorized => "authorized",
            FinancialStatus::Expired => "expired",
            FinancialStatus::Paid => "paid",
            FinancialStatus::PartiallyPaid => "partially_paid",
            FinancialStatus::PartiallyRefunded => "partially_refunded",
            FinancialStatus::Pending => "pending",
            FinancialStatus::Refunded => "refunded",
            FinancialStatus::Voided => "voided",
        }
    }
}

// Another schema type with (in 2026-01) the same values as `FinancialStatus`; `remote` derives
// the conversions both ways. (A plain comment: doc comments become the schema's description.)
/// `OrderCreateFinancialStatus`: the statuses `orderCreate` may set.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "FinancialStatus")]
pub enum OrderCreateFinancialStatus {
    Authorized,
    Expired,
    Paid,
    PartiallyPaid,
    PartiallyRefunded,
    Pending,
    Refunded,
    Voided,
}

/// `OrderDisplayFulfillmentStatus` (the values the sandbox reaches).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderDisplayFulfillmentStatus")]
pub enum DisplayFulfillmentStatus {
    Fulfilled,
    InProgress,
    OnHold,
    Open,
    PartiallyFulfilled,
    PendingFulfillment,
    RequestDeclined,
    Restocked,
    Scheduled,
    Unfulfilled,
}

/// `OrderCancelReason`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderCancelReason {
    Customer,
    Declined,
    Fraud,
    Inventory,
    Other,
    Staff,
}

/// `OrderTransactionKind`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTransactionKind {
    Authorization,
    Capture,
    Change,
    EmvAuthorization,
    Refund,
    Sale,
    SuggestedRefund,
    Void,
}

/// `OrderTransactionStatus`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTransactionStatus {
    AwaitingResponse,
    Error,
    Failure,
    Pending,
    Success,
    Unknown,
}

/// `OrderCreateUserErrorCode` (2026-01).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderCreateUserErrorCode")]
pub enum OrderCreateErrorCode {
    FulfillmentServiceInvalid,
    Invalid,
    InventoryClaimFailed,
    ProcessedAtInvalid,
    RedundantCustomerFields,
    ShopDormant,
    TaxLineRateMissing,
}

/// `OrderCancelUserErrorCode` (2026-01).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderCancelUserErrorCode")]
pub enum OrderCancelErrorCode {
    InternalError,
    Invalid,
    NoRefundPermission,
    NotFound,
}

// ---- records --------------------------------------------------------------------------

/// One order as the sandbox stores it.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub id: u64,
    /// `1001`, `1002`…; the name is `#` and the number unless `name` was given.
    pub number: u64,
    pub name: String,
    pub source_identifier: Option<String>,
    pub source_name: String,
    pub source_url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub test: bool,
    pub currency: String,
    pub presentment_currency: String,
    pub taxes_included: bool,
    pub custom_attributes: Vec<(String, String)>,
    pub shipping_address: Option<MailingAddressInput>,
    pub billing_address: Option<MailingAddressInput>,
    pub created_at: i64,
    pub updated_at: i64,
    pub processed_at: i64,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<OrderCancelReason>,
    pub financial_status: FinancialStatus,
    pub line_items: Vec<LineItemRecord>,
    pub shipping_lines: Vec<ShippingLineRecord>,
    pub transactions: Vec<TransactionRecord>,
    pub fulfillment_orders: Vec<FulfillmentOrderRecord>,
    pub fulfillments: Vec<FulfillmentRecord>,
    pub refunds: Vec<RefundRecord>,
}

/// One line of an order, with how many of its units were fulfilled, removed and returned.
#[derive(Debug, Clone)]
pub struct LineItemRecord {
    pub id: u64,
    pub variant_id: Option<u64>,
    pub product_id: Option<u64>,
    pub inventory_item_id: Option<u64>,
    pub sku: Option<String>,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    /// Unit price in the shop's currency.
    pub price: Decimal,
    pub requires_shipping: bool,
    /// Whether creating the order moved its units to `committed` at `location_id`.
    pub claimed: bool,
    pub location_id: u64,
    pub fulfilled: i64,
    /// Units taken off before fulfillment: refunded with `CANCEL`/`NO_RESTOCK`, or cancelled.
    pub removed: i64,
    /// Fulfilled units refunded afterwards.
    pub returned: i64,
    /// Units in refunds.
    pub refunded: i64,
}

impl LineItemRecord {
    /// A line of `orderCreate` before it is numbered, placed at a location or claims stock;
    /// a custom line as it stays.
    fn unplaced(line: &OrderCreateLineItemInput, title: String, quantity: i64, price: Decimal) -> Self {
        LineItemRecord {
            id: 0,
            variant_id: None,
            product_id: None,
            inventory_item_id: None,
            sku: line.sku.clone(),
            title,
            variant_title: None,
            quantity,
            price,
            requires_shipping: line.requires_shipping.unwrap_or(true),
            claimed: false,
            location_id: 0,
            fulfilled: 0,
            removed: 0,
            returned: 0,
            refunded: 0,
        }
    }

    pub fn gid(&self) -> String {
        format!("gid://shopify/LineItem/{}", self.id)
    }

    /// Units still to fulfil.
    pub fn unfulfilled(&self) -> i64 {
        self.quantity - self.fulfilled - self.removed
    }

    /// `currentQuantity`: the quantity less every unit removed or returned.
    pub fn current_quantity(&self) -> i64 {
        self.quantity - self.removed - self.returned
    }

    /// `refundableQuantity`.
    pub fn refundable(&self) -> i64 {
        self.quantity - self.refunded
    }
}

/// A shipping charge.
#[derive(Debug, Clone)]
pub struct ShippingLineRecord {
    pub title: String,
    pub code: Option<String>,
    pub source: Option<String>,
    pub price: Decimal,
}

/// A payment or refund.
#[derive(Debug, Clone)]
pub struct TransactionRecord {
    pub id: u64,
    pub kind: OrderTransactionKind,
    pub status: OrderTransactionStatus,
    pub amount: Decimal,
    pub gateway: String,
    pub created_at: i64,
}

impl TransactionRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/OrderTransaction/{}", self.id)
    }
}

impl OrderRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Order/{}", self.id)
    }

    pub fn subtotal(&self) -> Decimal {
        self.line_items.iter().map(|l| l.price * Decimal::from(l.quantity)).sum()
    }

    pub fn shipping_total(&self) -> Decimal {
        self.shipping_lines.iter().map(|s| s.price).sum()
    }

    /// `totalPriceSet`: lines and shipping (the sandbox charges no tax).
    pub fn total(&self) -> Decimal {
        self.subtotal() + self.shipping_total()
    }

    /// Money received: successful sales and captures.
    pub fn received(&self) -> Decimal {
        self.transactions
            .iter()
            .filter(|t| t.status == OrderTransactionStatus::Success)
            .filter(|t| matches!(t.kind, OrderTransactionKind::Sale | OrderTransactionKind::Capture))
            .map(|t| t.amount)
            .sum()
    }

    /// `totalRefundedSet`.
    pub fn refunded(&self) -> Decimal {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    /// `displayFulfillmentStatus`.
    pub fn display_fulfillment_status(&self) -> DisplayFulfillmentStatus {
        let fulfilled: i64 = self.line_items.iter().map(|l| l.fulfilled).sum();
        let unfulfilled: i64 = self.line_items.iter().map(LineItemRecord::unfulfilled).sum();
        match (fulfilled > 0, unfulfilled > 0) {
            (true, false) => DisplayFulfillmentStatus::Fulfilled,
            (true, true) => DisplayFulfillmentStatus::PartiallyFulfilled,
            (false, false)
                if self.line_items.iter().any(|l| l.removed > 0) && self.cancelled_at.is_none() =>
            {
                DisplayFulfillmentStatus::Restocked
            }
            _ => DisplayFulfillmentStatus::Unfulfilled,
        }
    }

    pub fn line_item(&self, id: u64) -> Option<&LineItemRecord> {
        self.line_items.iter().find(|l| l.id == id)
    }
}

// ---- orderCreate ----------------------------------------------------------------------

/// Applies `orderCreate`: validates every line, claims stock per `behaviour`, opens one
/// fulfillment order per location and queues `orders/create`. Returns the order's index.
pub fn create_order(
    shop: &mut ShopState,
    input: &OrderCreateOrderInput,
    options: &OrderCreateOptionsInput,
    shop_currency: &str,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<usize, Vec<Refusal<OrderCreateErrorCode>>> {
    use OrderCreateErrorCode as Code;
    let behaviour = options.inventory_behaviour.unwrap_or_default();
    let mut refusals = Vec::new();
    if let Some(source) = input.source_name.as_deref().filter(|s| RESERVED_SOURCE_NAMES.contains(s)) {
        let message = format!("Source name `{source}` is reserved for Shopify's own channels.");
        refusals.push(Refusal::new(Code::Invalid, &["order", "sourceName"], message));
    }
    let inputs = input.line_items.as_deref().unwrap_or_default();
    if inputs.is_empty() {
        refusals.push(Refusal::new(Code::Invalid, &["order", "lineItems"], "Line items can't be blank."));
    }
    let mut lines = Vec::new();
    for (i, line) in inputs.iter().enumerate() {
        let index = i.to_string();
        let at =
            |field: &'static str| vec!["order".to_string(), "lineItems".into(), index.clone(), field.into()];
        if line.quantity < 1 {
            let message = "Quantity must be greater than or equal to 1.".to_string();
            refusals.push(Refusal { code: Some(Code::Invalid), field: at("quantity"), message });
            continue;
        }
        let price = line.price_set.as_ref().map(|p| p.shop_money.amount.0);
        let quantity = i64::from(line.quantity);
        let Some(variant_gid) = &line.variant_id else {
            match (&line.title, price) {
                (Some(title), Some(price)) => {
                    lines.push((LineItemRecord::unplaced(line, title.clone(), quantity, price), None));
                }
                _ => {
                    let message = "A custom line item needs a title and a priceSet.".to_string();
                    refusals.push(Refusal { code: Some(Code::Invalid), field: at("variantId"), message });
                }
            }
            continue;
        };
        let Some(found) = parse_gid(variant_gid, "ProductVariant").and_then(|id| shop.find_variant(id))
        else {
            let message = format!("Product variant {} does not exist.", variant_gid.as_str());
            refusals.push(Refusal { code: Some(Code::Invalid), field: at("variantId"), message });
            continue;
        };
        let product = &shop.products[found.0];
        let variant = &product.variants[found.1];
        let title = line.title.clone().unwrap_or_else(|| product.title.clone());
        lines.push((
            LineItemRecord {
                variant_id: Some(variant.id),
                product_id: Some(product.id),
                inventory_item_id: Some(variant.inventory_item_id),
                sku: line.sku.clone().or_else(|| Some(variant.sku.clone()).filter(|s| !s.is_empty())),
                variant_title: Some(variant.title.clone()).filter(|t| t != "Default Title"),
                ..LineItemRecord::unplaced(line, title, quantity, price.unwrap_or(variant.price))
            },
            Some(found),
        ));
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }

    let primary = shop.locations[0].id;
    for (i, (line, found)) in lines.iter_mut().enumerate() {
        line.id = LINE_ITEM_ID_BASE + shop.next_record_id();
        let Some(found) = *found else {
            line.location_id = primary;
            continue;
        };
        let variant = shop.variant(found);
        line.location_id =
            variant.levels.iter().find(|l| l.available >= line.quantity).map_or(primary, |l| l.location_id);
        if behaviour == InventoryBehaviour::Bypass {
            continue;
        }
        let available = variant.level(line.location_id).map_or(0, |l| l.available);
        if behaviour == InventoryBehaviour::DecrementObeyingPolicy
            && variant.inventory_policy == InventoryPolicy::Deny
            && available < line.quantity
        {
            let message = format!(
                "Unable to claim {} of {} at the location: {available} available.",
                line.quantity,
                line.sku.as_deref().unwrap_or(&line.title)
            );
            let field = vec!["order".into(), "lineItems".into(), i.to_string(), "quantity".into()];
            return Err(vec![Refusal { code: Some(Code::InventoryClaimFailed), field, message }]);
        }
        shift(shop, found, line.location_id, -line.quantity, line.quantity, now, events);
        line.claimed = true;
    }
    let line_items: Vec<LineItemRecord> = lines.into_iter().map(|(line, _)| line).collect();

    let mut fulfillment_orders: Vec<FulfillmentOrderRecord> = Vec::new();
    for line in line_items.iter().filter(|l| l.requires_shipping) {
        let index = match fulfillment_orders.iter().position(|f| f.location_id == line.location_id) {
            Some(index) => index,
            None => {
                fulfillment_orders.push(FulfillmentOrderRecord {
                    id: FULFILLMENT_ORDER_ID_BASE + shop.next_record_id(),
                    location_id: line.location_id,
                    status: FulfillmentOrderStatus::Open,
                    created_at: now,
                    updated_at: now,
                    lines: Vec::new(),
                });
                fulfillment_orders.len() - 1
            }
        };
        let id = FULFILLMENT_ORDER_LINE_ID_BASE + shop.next_record_id();
        fulfillment_orders[index].lines.push(FulfillmentOrderLineRecord {
            id,
            line_item_id: line.id,
            total_quantity: line.quantity,
            remaining_quantity: line.quantity,
        });
    }
    fulfillment_orders.sort_by_key(|f| f.location_id);

    let currency = input.currency.as_ref().map_or_else(|| shop_currency.to_string(), |c| c.0.clone());
    let transactions: Vec<TransactionRecord> = input
        .transactions
        .iter()
        .flatten()
        .map(|t| TransactionRecord {
            id: TRANSACTION_ID_BASE + shop.next_record_id(),
            kind: t.kind.unwrap_or(OrderTransactionKind::Sale),
            status: t.status.unwrap_or(OrderTransactionStatus::Success),
            amount: t.amount_set.shop_money.amount.0,
            gateway: t.gateway.clone().unwrap_or_else(|| "manual".into()),
            created_at: t.processed_at.map_or(now, |d| d.0),
        })
        .collect();
    let number = shop.next_order_number();
    let mut order = OrderRecord {
        id: ORDER_ID_BASE + shop.next_record_id(),
        number,
        name: input.name.clone().unwrap_or_else(|| format!("#{number}")),
        source_identifier: input.source_identifier.clone(),
        // Shopify uses the app's id when no source is given; the sandbox has no app id.
        source_name: input.source_name.clone().unwrap_or_else(|| "sandbox-app".into()),
        source_url: input.source_url.clone(),
        email: input.email.clone(),
        phone: input.phone.clone(),
        note: input.note.clone(),
        tags: input.tags.clone().unwrap_or_default(),
        test: input.test.unwrap_or(false),
        presentment_currency: input
            .presentment_currency
            .as_ref()
            .map_or_else(|| currency.clone(), |c| c.0.clone()),
        currency,
        taxes_included: input.taxes_included.unwrap_or(false),
        custom_attributes: input
            .custom_attributes
            .iter()
            .flatten()
            .map(|a| (a.key.clone(), a.value.clone()))
            .collect(),
        shipping_address: input.shipping_address.clone(),
        billing_address: input.billing_address.clone(),
        created_at: now,
        updated_at: now,
        processed_at: input.processed_at.map_or(now, |d| d.0),
        cancelled_at: None,
        cancel_reason: None,
        financial_status: FinancialStatus::Pending,
        line_items,
        shipping_lines: input
            .shipping_lines
            .iter()
            .flatten()
            .map(|s| ShippingLineRecord {
                title: s.title.clone(),
                code: s.code.clone(),
                source: s.source.clone(),
                price: s.price_set.shop_money.amount.0,
            })
            .collect(),
        transactions,
        fulfillment_orders,
        fulfillments: Vec::new(),
        refunds: Vec::new(),
    };
    order.financial_status = match input.financial_status {
        Some(status) => status.into(),
        None => paid_status(&order),
    };
    events.push(Event { topic: "orders/create", payload: rest::order(&order) });
    shop.orders.push(Arc::new(order));
    Ok(shop.orders.len() - 1)
}

/// The financial status the transactions make.
fn paid_status(order: &OrderRecord) -> FinancialStatus {
    let received = order.received();
    let authorized = order.transactions.iter().any(|t| {
        t.status == OrderTransactionStatus::Success && t.kind == OrderTransactionKind::Authorization
    });
    if received > Decimal::ZERO && received >= order.total() {
        FinancialStatus::Paid
    } else if received > Decimal::ZERO {
        FinancialStatus::PartiallyPaid
    } else if authorized {
        FinancialStatus::Authorized
    } else {
        FinancialStatus::Pending
    }
}

// ---- orderCancel ----------------------------------------------------------------------

/// What `orderCancel` was asked.
#[derive(Debug, Clone)]
pub struct CancelRequest {
    pub order_id: ID,
    pub reason: OrderCancelReason,
    pub refund: bool,
    pub restock: bool,
    pub staff_note: Option<String>,
}

/// Applies `orderCancel`: releases (and with `restock` returns) the unfulfilled units, closes
/// the open fulfillment orders, refunds what was paid when asked, and queues
/// `orders/cancelled`. Returns the job's GID.
pub fn cancel_order(
    shop: &mut ShopState,
    request: &CancelRequest,
    job_id: String,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<String, Vec<Refusal<OrderCancelErrorCode>>> {
    use OrderCancelErrorCode as Code;
    let Some(index) = parse_gid(&request.order_id, "Order").and_then(|id| shop.order_index(id)) else {
        return Err(vec![Refusal::new(Code::NotFound, &["orderId"], "Order does not exist.")]);
    };
    let order = &shop.orders[index];
    if order.cancelled_at.is_some() {
        return Err(vec![Refusal::new(Code::Invalid, &["orderId"], "Order has already been cancelled.")]);
    }
    if !order.fulfillments.is_empty() {
        let message = "Cannot cancel an order with fulfillments; cancel the fulfillments first.";
        return Err(vec![Refusal::new(Code::Invalid, &["orderId"], message)]);
    }
    if request.staff_note.as_ref().is_some_and(|n| n.chars().count() > MAX_STAFF_NOTE) {
        let message = "Staff note is too long (maximum is 255 characters).";
        return Err(vec![Refusal::new(Code::Invalid, &["staffNote"], message)]);
    }
    // Claimed units still waiting to ship: (item, location, units).
    let releases: Vec<((usize, usize), u64, i64)> = order
        .line_items
        .iter()
        .filter(|l| l.claimed && l.unfulfilled() > 0)
        .filter_map(|l| Some((shop.find_item(l.inventory_item_id?)?, l.location_id, l.unfulfilled())))
        .collect();
    for (item, location, units) in releases {
        let back = if request.restock { units } else { 0 };
        shift(shop, item, location, back, -units, now, events);
    }
    let order = shop.order_mut(index);
    for line in &mut order.line_items {
        line.removed += line.unfulfilled();
    }
    for fulfillment_order in &mut order.fulfillment_orders {
        if fulfillment_order.status.is_open() {
            fulfillment_order.status = FulfillmentOrderStatus::Closed;
            fulfillment_order.updated_at = now;
            for line in &mut fulfillment_order.lines {
                line.remaining_quantity = 0;
            }
        }
    }
    order.cancelled_at = Some(now);
    order.cancel_reason = Some(request.reason);
    order.updated_at = now;
    if request.refund {
        refund_everything(shop, index, now, events);
    }
    let order = &shop.orders[index];
    events.push(Event { topic: "orders/cancelled", payload: rest::order(order) });
    shop.jobs.push(job_id.clone());
    Ok(job_id)
}

/// `refund: true` on cancel: what was received goes back (an authorization is voided).
fn refund_everything(shop: &mut ShopState, index: usize, now: i64, events: &mut Vec<Event>) {
    let refund_id = super::refunds::REFUND_ID_BASE + shop.next_record_id();
    let transaction_id = TRANSACTION_ID_BASE + shop.next_record_id();
    let order = shop.order_mut(index);
    let owed = order.received() - order.refunded();
    if owed > Decimal::ZERO {
        let transaction = TransactionRecord {
            id: transaction_id,
            kind: OrderTransactionKind::Refund,
            status: OrderTransactionStatus::Success,
            amount: owed,
            gateway: order.transactions.first().map_or_else(|| "manual".into(), |t| t.gateway.clone()),
            created_at: now,
        };
        order.refunds.push(RefundRecord {
            id: refund_id,
            created_at: now,
            note: None,
            lines: Vec::new(),
            amount: owed,
            shipping: Decimal::ZERO,
            transactions: vec![transaction],
        });
        order.financial_status = FinancialStatus::Refunded;
        if let Some(refund) = order.refunds.last() {
            events.push(Event { topic: "refunds/create", payload: rest::refund(order, refund) });
        }
    } else if order.financial_status == FinancialStatus::Authorized {
        order.financial_status = FinancialStatus::Voided;
    }
}
