//! `refundCreate` (reference §8): refunded line items with a restock type, refund
//! transactions, and the stock they put back. `CANCEL` takes unfulfilled units off the order
//! (and returns claimed ones to `available`), `RETURN` puts fulfilled units back on the shelf
//! (`available` and `on_hand` grow), `NO_RESTOCK` only refunds.
//!
//! Choices where the reference and docs are silent: a refund line without `restockType` is
//! `NO_RESTOCK`; money moves only through `transactions` (as on Shopify, line items alone
//! refund nothing) and may not exceed what was received; `NO_RESTOCK` takes unfulfilled units
//! first; the refusal wording is ours.

use super::data::{Event, ShopState, parse_gid};
use super::inventory::shift;
use super::orders::{FinancialStatus, OrderTransactionKind, OrderTransactionStatus, TransactionRecord};
use super::rest;
use super::scalars::{CurrencyCode, Money};
use super::user_error::Refusal;
use async_graphql::{Enum, ID, InputObject};
use rust_decimal::Decimal;

pub const REFUND_ID_BASE: u64 = 9_100_000_000_000;
const REFUND_LINE_ID_BASE: u64 = 9_200_000_000_000;
const TRANSACTION_ID_BASE: u64 = 8_800_000_000_000;

/// `RefundLineItemRestockType`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundLineItemRestockType {
    /// Unfulfilled units, taken off the order and back to stock.
    Cancel,
    /// Read-only and deprecated; refused as input.
    LegacyRestock,
    NoRestock,
    /// Fulfilled units that came back.
    Return,
}

/// `RefundInput`.
#[derive(InputObject, Debug, Clone)]
pub struct RefundInput {
    pub order_id: ID,
    pub note: Option<String>,
    pub notify: Option<bool>,
    pub currency: Option<CurrencyCode>,
    pub shipping: Option<ShippingRefundInput>,
    pub refund_line_items: Option<Vec<RefundLineItemInput>>,
    pub transactions: Option<Vec<OrderTransactionInput>>,
}

/// `ShippingRefundInput`.
#[derive(InputObject, Debug, Clone)]
pub struct ShippingRefundInput {
    pub amount: Option<Money>,
    pub full_refund: Option<bool>,
}

/// `RefundLineItemInput`.
#[derive(InputObject, Debug, Clone)]
pub struct RefundLineItemInput {
    pub line_item_id: ID,
    pub quantity: i32,
    pub restock_type: Option<RefundLineItemRestockType>,
    /// Where `RETURN` units go back; the line's own location when absent.
    pub location_id: Option<ID>,
}

/// `OrderTransactionInput`.
#[derive(InputObject, Debug, Clone)]
pub struct OrderTransactionInput {
    pub amount: Money,
    pub gateway: String,
    pub kind: OrderTransactionKind,
    pub order_id: ID,
    pub parent_id: Option<ID>,
}

/// One refund of an order.
#[derive(Debug, Clone)]
pub struct RefundRecord {
    pub id: u64,
    pub created_at: i64,
    pub note: Option<String>,
    pub lines: Vec<RefundLineRecord>,
    /// Money refunded: the refund transactions.
    pub amount: Decimal,
    pub shipping: Decimal,
    pub transactions: Vec<TransactionRecord>,
}

impl RefundRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Refund/{}", self.id)
    }
}

/// One refunded line.
#[derive(Debug, Clone)]
pub struct RefundLineRecord {
    pub id: u64,
    pub line_item_id: u64,
    pub quantity: i64,
    pub restock_type: RefundLineItemRestockType,
    pub location_id: Option<u64>,
    pub restocked: bool,
    /// Unit price times quantity.
    pub subtotal: Decimal,
}

/// What one refund line will do, checked before anything changes.
struct Plan {
    /// Index of the order's line item.
    line: usize,
    units: i64,
    restock_type: RefundLineItemRestockType,
    /// Where `RETURN` units go.
    location: u64,
    /// Units taken off the unfulfilled ones.
    off_unfulfilled: i64,
    /// Units taken off the fulfilled ones.
    off_fulfilled: i64,
}

/// Applies `refundCreate`. Returns the order's index.
pub fn create_refund(
    shop: &mut ShopState,
    input: &RefundInput,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<usize, Vec<Refusal<()>>> {
    let Some(index) = parse_gid(&input.order_id, "Order").and_then(|id| shop.order_index(id)) else {
        return Err(vec![Refusal::uncoded(&["orderId"], "Order does not exist.")]);
    };
    let order = &shop.orders[index];
    let mut refusals = Vec::new();
    let mut plans: Vec<Plan> = Vec::new();
    for (i, line_input) in input.refund_line_items.iter().flatten().enumerate() {
        let index = i.to_string();
        let at = |field: &str| ["refundLineItems", index.as_str(), field].map(String::from).to_vec();
        let refuse =
            |field: &str, message: &str| Refusal { code: None, field: at(field), message: message.into() };
        let position = parse_gid(&line_input.line_item_id, "LineItem")
            .and_then(|id| order.line_items.iter().position(|l| l.id == id));
        let Some(position) = position else {
            refusals.push(refuse("lineItemId", "Line item does not belong to the order."));
            continue;
        };
        let line = &order.line_items[position];
        let units = i64::from(line_input.quantity);
        let earlier =
            |pick: fn(&Plan) -> i64| -> i64 { plans.iter().filter(|p| p.line == position).map(pick).sum() };
        let unfulfilled = line.unfulfilled() - earlier(|p| p.off_unfulfilled);
        let returnable = line.fulfilled - line.returned - earlier(|p| p.off_fulfilled);
        if units < 1 {
            refusals.push(refuse("quantity", "Quantity must be greater than 0."));
            continue;
        }
        if units > line.refundable() - earlier(|p| p.units) {
            refusals.push(refuse("quantity", "Quantity cannot refund more items than were purchased."));
            continue;
        }
        let restock_type = line_input.restock_type.unwrap_or(RefundLineItemRestockType::NoRestock);
        let location = match &line_input.location_id {
            None => line.location_id,
            Some(gid) => match parse_gid(gid, "Location").filter(|id| shop.location(*id).is_some()) {
                Some(id) => id,
                None => {
                    refusals.push(refuse("locationId", "Location does not exist."));
                    continue;
                }
            },
        };
        let (off_unfulfilled, off_fulfilled) = match restock_type {
            RefundLineItemRestockType::Cancel if units > unfulfilled => {
                refusals.push(refuse("restockType", "Cannot cancel more items than are unfulfilled."));
                continue;
            }
            RefundLineItemRestockType::Cancel => (units, 0),
            RefundLineItemRestockType::Return if units > returnable => {
                refusals.push(refuse("restockType", "Cannot return more items than were fulfilled."));
                continue;
            }
            RefundLineItemRestockType::Return => (0, units),
            RefundLineItemRestockType::NoRestock => {
                let first = units.min(unfulfilled.max(0));
                (first, units - first)
            }
            RefundLineItemRestockType::LegacyRestock => {
                refusals.push(refuse("restockType", "LEGACY_RESTOCK cannot be used to create a refund."));
                continue;
            }
        };
        plans.push(Plan { line: position, units, restock_type, location, off_unfulfilled, off_fulfilled });
    }
    let mut amount = Decimal::ZERO;
    for (i, transaction) in input.transactions.iter().flatten().enumerate() {
        if transaction.kind != OrderTransactionKind::Refund {
            let field = ["transactions".to_string(), i.to_string(), "kind".into()].to_vec();
            refusals.push(Refusal {
                code: None,
                field,
                message: "A refund transaction must be a REFUND.".into(),
            });
        }
        amount += transaction.amount.0;
    }
    if amount > order.received() - order.refunded() {
        let message = format!(
            "Refund amount {amount} is greater than the refundable amount {}.",
            order.received() - order.refunded()
        );
        refusals.push(Refusal::uncoded(&["transactions"], message));
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }

    // Stock first (it needs the shop), then the order.
    let mut restocked = Vec::new();
    for plan in &plans {
        let (restock_type, location) = (&plan.restock_type, &plan.location);
        let (off_unfulfilled, off_fulfilled) = (&plan.off_unfulfilled, &plan.off_fulfilled);
        let line = &shop.orders[index].line_items[plan.line];
        let item = line.inventory_item_id.and_then(|id| shop.find_item(id));
        let claimed = line.claimed;
        let line_location = line.location_id;
        let Some(item) = item else {
            restocked.push(false);
            continue;
        };
        let moved = match restock_type {
            RefundLineItemRestockType::Cancel if claimed => {
                shift(shop, item, line_location, *off_unfulfilled, -off_unfulfilled, now, events);
                true
            }
            RefundLineItemRestockType::Return => {
                shift(shop, item, *location, *off_fulfilled, 0, now, events);
                true
            }
            RefundLineItemRestockType::NoRestock if claimed && *off_unfulfilled > 0 => {
                // Claimed units that are not restocked leave the shop.
                shift(shop, item, line_location, 0, -off_unfulfilled, now, events);
                false
            }
            _ => false,
        };
        restocked.push(moved);
    }
    let refund_id = REFUND_ID_BASE + shop.next_record_id();
    let line_ids: Vec<u64> = plans.iter().map(|_| REFUND_LINE_ID_BASE + shop.next_record_id()).collect();
    let transaction_ids: Vec<u64> =
        input.transactions.iter().flatten().map(|_| TRANSACTION_ID_BASE + shop.next_record_id()).collect();
    let order = shop.order_mut(index);
    let mut lines = Vec::new();
    for ((plan, id), moved) in plans.iter().zip(line_ids).zip(restocked) {
        let Plan { line: position, units, restock_type, location, off_unfulfilled, off_fulfilled } = plan;
        let line = &mut order.line_items[*position];
        line.refunded += units;
        line.removed += off_unfulfilled;
        line.returned += off_fulfilled;
        let line_item_id = line.id;
        let price = line.price;
        let mut left = *off_unfulfilled;
        for fulfillment_order in order.fulfillment_orders.iter_mut().filter(|f| f.status.is_open()) {
            for fo_line in fulfillment_order.lines.iter_mut().filter(|l| l.line_item_id == line_item_id) {
                let take = left.min(fo_line.remaining_quantity);
                fo_line.remaining_quantity -= take;
                left -= take;
            }
            if fulfillment_order.lines.iter().all(|l| l.remaining_quantity == 0) {
                fulfillment_order.status = super::fulfillment::FulfillmentOrderStatus::Closed;
                fulfillment_order.updated_at = now;
            }
        }
        lines.push(RefundLineRecord {
            id,
            line_item_id,
            quantity: *units,
            restock_type: *restock_type,
            location_id: (*restock_type != RefundLineItemRestockType::NoRestock).then_some(*location),
            restocked: moved,
            subtotal: price * Decimal::from(*units),
        });
    }
    let transactions: Vec<TransactionRecord> = input
        .transactions
        .iter()
        .flatten()
        .zip(transaction_ids)
        .map(|(t, id)| TransactionRecord {
            id,
            kind: OrderTransactionKind::Refund,
            status: OrderTransactionStatus::Success,
            amount: t.amount.0,
            gateway: t.gateway.clone(),
            created_at: now,
        })
        .collect();
    let shipping = match &input.shipping {
        Some(ShippingRefundInput { full_refund: Some(true), .. }) => order.shipping_total(),
        Some(ShippingRefundInput { amount: Some(amount), .. }) => amount.0,
        _ => Decimal::ZERO,
    };
    order.refunds.push(RefundRecord {
        id: refund_id,
        created_at: now,
        note: input.note.clone(),
        lines,
        amount,
        shipping,
        transactions,
    });
    let refunded = order.refunded();
    if refunded > Decimal::ZERO {
        order.financial_status = if refunded >= order.received() {
            FinancialStatus::Refunded
        } else {
            FinancialStatus::PartiallyRefunded
        };
    }
    order.updated_at = now;
    if let Some(refund) = order.refunds.last() {
        events.push(Event { topic: "refunds/create", payload: rest::refund(order, refund) });
    }
    Ok(index)
}
