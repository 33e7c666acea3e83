//! Cancellations and returns (reference §8): buyer requests raised by control calls, the
//! seller's Cancel Order, Search / Approve / Reject for both, their statuses (§8.2), their
//! effect on the order, and type 11 / 12 webhooks on every change.
//!
//! Choices of ours: an approved cancellation is COMPLETE at once (the refund is instant), and
//! so is a seller's cancellation; the seller cancels whole orders only (item-level cancels are
//! a US/UK out-of-stock feature the sandbox leaves out) and only with a code of the seller
//! reason list (UK shops its `_uk` spelling); an approved refund-only request is SUCCESS, a
//! return approved with APPROVE_RETURN waits in AWAITING_BUYER_SHIP; returns leave the order's
//! status as it was. Searches sort by `create_time` (default) or `update_time`, newest first
//! unless `sort_order` is ASC.

use super::envelope::{ApiError, code, unix_now};
use super::orders::{Order, OrderStatus, invalid, money};
use super::paging;
use super::product_body;
use super::state::State;
use super::webhooks::Event;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Cancellation {
    pub id: String,
    pub order_id: String,
    pub cipher: String,
    /// CANCEL (auto-approved, or the seller's) or BUYER_CANCEL (needs the seller).
    pub cancel_type: &'static str,
    pub status: &'static str,
    /// BUYER or SELLER.
    pub role: &'static str,
    /// The reason code (`cancel_reason`).
    pub reason_code: String,
    /// Its text (`cancel_reason_text`).
    pub reason: String,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Return {
    pub id: String,
    pub order_id: String,
    pub cipher: String,
    /// REFUND or RETURN_AND_REFUND.
    pub return_type: String,
    pub status: &'static str,
    pub reason: String,
    /// The order line items (one per unit) coming back or refunded.
    pub line_ids: Vec<String>,
    /// The buyer's parcel back, once shipped: (tracking number, provider name).
    pub tracking: Option<(String, String)>,
    pub create_time: i64,
    pub update_time: i64,
}

/// What a seller's return decision answered, kept per `idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyedDecision {
    pub return_id: String,
    pub decision: String,
}

/// Return states no decision can change any more (25001010); in the others the seller waits
/// for the buyer or the platform (25001001).
const RETURN_ENDED: [&str; 4] = [
    "REFUND_OR_RETURN_REQUEST_REJECT",
    "REJECT_RECEIVE_PACKAGE",
    "RETURN_OR_REFUND_REQUEST_CANCEL",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
];

/// The carrier of a buyer's parcel back when the buyer names none.
pub(crate) const DEFAULT_RETURN_PROVIDER: &str = "USPS";

const PENDING: &str = "CANCELLATION_REQUEST_PENDING";
const COMPLETE: &str = "CANCELLATION_REQUEST_COMPLETE";
/// Responses and webhooks spell the closed state this way; the search filter `..._CANCEL`.
const CLOSED: &str = "CANCELLATION_REQUEST_CANCELLED";

fn order_of<'s>(state: &'s State, cipher: &str, order_id: &str) -> Result<&'s Order, String> {
    state
        .orders
        .orders
        .get(order_id)
        .filter(|o| o.cipher == cipher)
        .ok_or_else(|| format!("the shop has no order {order_id:?}"))
}

fn cancellation_event(state: &mut State, id: &str, now: i64) {
    let Some(c) = state.orders.cancellations.get(id) else { return };
    let Some(shop_id) = state.orders.orders.get(&c.order_id).map(|o| o.shop_id.clone()) else { return };
    let data = json!({
        "order_id": c.order_id,
        "cancel_id": c.id,
        "cancellations_role": c.role,
        "cancel_status": c.status,
        "create_time": c.create_time,
    });
    state.orders.outbox.push(Event::new(11, &shop_id, data, now));
}

fn return_event(state: &mut State, id: &str, now: i64) {
    let Some(r) = state.orders.returns.get(id) else { return };
    let Some(shop_id) = state.orders.orders.get(&r.order_id).map(|o| o.shop_id.clone()) else { return };
    let data = json!({
        "order_id": r.order_id,
        "return_id": r.id,
        "return_role": "BUYER",
        "return_type": r.return_type,
        "return_status": r.status,
        "create_time": r.create_time,
        "update_time": r.update_time,
    });
    state.orders.outbox.push(Event::new(12, &shop_id, data, now));
}

/// The buyer cancels (`cancel_order_as_buyer`): UNPAID or ON_HOLD orders are cancelled at once
/// (type CANCEL, COMPLETE); AWAITING_SHIPMENT ones get a BUYER_CANCEL request for the seller.
pub(crate) fn buyer_cancel(state: &mut State, cipher: &str, order_id: &str) -> Result<String, String> {
    let order = order_of(state, cipher, order_id)?;
    let immediate = match order.status {
        OrderStatus::Unpaid | OrderStatus::OnHold => true,
        OrderStatus::AwaitingShipment => false,
        other => return Err(format!("a buyer cannot cancel a {} order", other.as_str())),
    };
    if order.buyer_request_cancel {
        return Err(format!("order {order_id} already has a pending cancellation"));
    }
    let now = unix_now();
    let id = state.next_id("40");
    let cancellation = Cancellation {
        id: id.clone(),
        order_id: order_id.to_owned(),
        cipher: cipher.to_owned(),
        cancel_type: if immediate { "CANCEL" } else { "BUYER_CANCEL" },
        status: if immediate { COMPLETE } else { PENDING },
        role: "BUYER",
        reason_code: "buyer_cancel_reason_no_longer_needed".into(),
        reason: "No longer needed".into(),
        create_time: now,
        update_time: now,
    };
    state.orders.cancellations.insert(id.clone(), cancellation);
    if immediate {
        cancel_order(state, order_id, "BUYER", "No longer needed", now);
    } else if let Some(order) = state.orders.orders.get_mut(order_id) {
        order.buyer_request_cancel = true;
        order.update_time = now;
    }
    cancellation_event(state, &id, now);
    Ok(id)
}

fn cancel_order(state: &mut State, order_id: &str, initiator: &'static str, reason: &str, now: i64) {
    if let Some(order) = state.orders.orders.get_mut(order_id) {
        order.buyer_request_cancel = false;
        order.cancellation_initiator = Some(initiator);
        order.cancel_reason = Some(reason.to_owned());
    }
    state.orders.set_status(order_id, OrderStatus::Cancelled, now);
}

/// The seller's reason codes (reference §8.1, US list; UK shops add `_uk`) and their texts.
const SELLER_REASONS: [(&str, &str); 3] = [
    ("seller_cancel_reason_out_of_stock", "Out of stock"),
    ("seller_cancel_reason_wrong_price", "Pricing error"),
    ("seller_cancel_paid_reason_address_not_deliver", "Unable to deliver to buyer address"),
];

/// The text of a seller reason code, as a shop of `region` spells it.
fn seller_reason(code: &str, region: &str) -> Option<&'static str> {
    let base = if region == "GB" { code.strip_suffix("_uk")? } else { code };
    SELLER_REASONS.iter().find(|(c, _)| *c == base).map(|(_, text)| *text)
}

#[derive(Debug, Default, Deserialize)]
struct SellerCancelBody {
    order_id: Option<String>,
    cancel_reason: Option<String>,
    order_line_item_ids: Option<Vec<String>>,
    skus: Option<Vec<Value>>,
}

/// POST /return_refund/{v}/cancellations (Cancel Order, §8.1): the seller cancels an ON_HOLD,
/// AWAITING_SHIPMENT or AWAITING_COLLECTION order at once. Checks in this order: the body
/// (order id, a reason code of the shop's list, whole orders only), the order (not found), its
/// state (cancelled 25001010, another status or a buyer's request waiting 25001001). Emits the
/// type 11 webhook (role SELLER) and the order's type 1.
pub(crate) fn seller_cancel(
    state: &mut State,
    cipher: &str,
    body: &[u8],
    now: i64,
) -> Result<Value, ApiError> {
    let body: SellerCancelBody = product_body::decode(body)?;
    let order_id =
        body.order_id.filter(|o| !o.is_empty()).ok_or_else(|| invalid("order_id", "is required"))?;
    let code = body.cancel_reason.unwrap_or_default();
    let region = state.shop(cipher).map(|s| s.region.clone()).unwrap_or_default();
    let reason = seller_reason(&code, &region).ok_or_else(|| {
        let suffix = if region == "GB" { "_uk" } else { "" };
        invalid(
            "cancel_reason",
            format!("{code:?} is not a seller cancel reason of a {region} shop (e.g. seller_cancel_reason_out_of_stock{suffix})"),
        )
    })?;
    if body.skus.as_ref().is_some_and(|s| !s.is_empty()) {
        return Err(invalid("skus", "the sandbox cancels whole orders only"));
    }
    let order = state.orders.orders.get(&order_id).filter(|o| o.cipher == cipher).ok_or_else(|| {
        ApiError::new(code::RECORD_NOT_FOUND, format!("The order {order_id} does not exist in this shop."))
    })?;
    if let Some(ids) = body.order_line_item_ids.as_ref().filter(|ids| !ids.is_empty()) {
        let all = order.lines.iter().all(|l| ids.contains(&l.id));
        if !all || ids.len() != order.lines.len() {
            return Err(invalid("order_line_item_ids", "the sandbox cancels whole orders only"));
        }
    }
    match order.status {
        OrderStatus::Cancelled => {
            return Err(ApiError::new(code::AFTER_SALE_CLOSED, "The order has been cancelled."));
        }
        _ if order.buyer_request_cancel => {
            return Err(ApiError::new(
                code::AFTER_SALE_STATUS,
                "The order has a cancellation request from the buyer; approve or reject it instead.",
            ));
        }
        OrderStatus::OnHold | OrderStatus::AwaitingShipment | OrderStatus::AwaitingCollection => {}
        other => {
            return Err(ApiError::new(
                code::AFTER_SALE_STATUS,
                format!(
                    "Invalid order status for aftersale: the seller cannot cancel a {} order.",
                    other.as_str()
                ),
            ));
        }
    }
    let id = state.next_id("40");
    let cancellation = Cancellation {
        id: id.clone(),
        order_id: order_id.clone(),
        cipher: cipher.to_owned(),
        cancel_type: "CANCEL",
        status: COMPLETE,
        role: "SELLER",
        reason_code: code,
        reason: reason.to_owned(),
        create_time: now,
        update_time: now,
    };
    state.orders.cancellations.insert(id.clone(), cancellation);
    cancel_order(state, &order_id, "SELLER", reason, now);
    cancellation_event(state, &id, now);
    Ok(json!({ "cancel_id": id, "cancel_status": COMPLETE }))
}

/// Whether a return still holds its lines (not rejected for good, withdrawn or closed).
fn holds_lines(status: &str) -> bool {
    !matches!(status, "REFUND_OR_RETURN_REQUEST_REJECT" | "RETURN_OR_REFUND_REQUEST_CANCEL")
}

/// The buyer asks for a refund (from AWAITING_COLLECTION on) or a return (from DELIVERED);
/// `return_type` is REFUND or RETURN_AND_REFUND; `line_ids` are the order line items (one per
/// unit) it covers, every line when empty. A line already in another open or finished return
/// cannot be asked for again.
pub(crate) fn buyer_return(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    return_type: &str,
    line_ids: &[String],
) -> Result<String, String> {
    let order = order_of(state, cipher, order_id)?;
    let lines: Vec<String> = if line_ids.is_empty() {
        order.lines.iter().map(|l| l.id.clone()).collect()
    } else {
        if let Some(unknown) = line_ids.iter().find(|id| !order.lines.iter().any(|l| &l.id == *id)) {
            return Err(format!("order {order_id} has no line item {unknown:?}"));
        }
        line_ids.to_vec()
    };
    let taken = state.orders.returns.values().filter(|r| r.order_id == order_id && holds_lines(r.status));
    for r in taken {
        if let Some(line) = lines.iter().find(|l| r.line_ids.contains(l)) {
            return Err(format!("line item {line} of order {order_id} is already in return {}", r.id));
        }
    }
    use OrderStatus::*;
    let allowed = match return_type {
        "REFUND" => matches!(order.status, AwaitingCollection | InTransit | Delivered),
        "RETURN_AND_REFUND" => order.status == Delivered,
        other => return Err(format!("unknown return type {other:?} (REFUND or RETURN_AND_REFUND)")),
    };
    if !allowed {
        return Err(format!("a {return_type} cannot be requested for a {} order", order.status.as_str()));
    }
    let now = unix_now();
    let id = state.next_id("41");
    let request = Return {
        id: id.clone(),
        order_id: order_id.to_owned(),
        cipher: cipher.to_owned(),
        return_type: return_type.to_owned(),
        status: "RETURN_OR_REFUND_REQUEST_PENDING",
        reason: "Item not as described".into(),
        line_ids: lines,
        tracking: None,
        create_time: now,
        update_time: now,
    };
    state.orders.returns.insert(id.clone(), request);
    return_event(state, &id, now);
    Ok(id)
}

#[derive(Debug, Default, Deserialize)]
struct CancellationFilters {
    cancel_ids: Option<Vec<String>>,
    order_ids: Option<Vec<String>>,
    cancel_types: Option<Vec<String>>,
    cancel_status: Option<Vec<String>>,
    #[serde(flatten)]
    window: TimeWindow,
}

/// The create/update time bounds both searches take (`*_ge` inclusive, `*_lt` exclusive).
#[derive(Debug, Default, Deserialize)]
struct TimeWindow {
    create_time_ge: Option<i64>,
    create_time_lt: Option<i64>,
    update_time_ge: Option<i64>,
    update_time_lt: Option<i64>,
}

impl TimeWindow {
    fn contains(&self, create_time: i64, update_time: i64) -> bool {
        self.create_time_ge.is_none_or(|t| create_time >= t)
            && self.create_time_lt.is_none_or(|t| create_time < t)
            && self.update_time_ge.is_none_or(|t| update_time >= t)
            && self.update_time_lt.is_none_or(|t| update_time < t)
    }
}

fn wanted(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref().is_none_or(|l| l.is_empty() || l.iter().any(|v| v == value))
}

fn param<'q>(query: &'q [(String, String)], key: &str) -> Option<&'q str> {
    query.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
}

/// The refund of the whole order.
fn refund_amount(order: &Order) -> Value {
    let total = money(order.sub_total());
    json!({ "currency": order.currency, "refund_total": total, "refund_subtotal": total,
            "refund_shipping_fee": "0.00", "refund_tax": "0.00" })
}

/// The refund of the lines a return covers: the whole order's when it covers every line.
fn return_refund_amount(order: &Order, line_ids: &[String]) -> Value {
    if order.lines.iter().all(|l| line_ids.contains(&l.id)) {
        return refund_amount(order);
    }
    let total = money(order.lines.iter().filter(|l| line_ids.contains(&l.id)).map(|l| l.price).sum());
    json!({ "currency": order.currency, "refund_total": total, "refund_subtotal": total,
            "refund_shipping_fee": "0.00", "refund_tax": "0.00" })
}

/// What TikTok waits for the seller to do about a return in `status`, if anything.
fn seller_action(return_type: &str, status: &str) -> Option<&'static str> {
    match status {
        "RETURN_OR_REFUND_REQUEST_PENDING" if return_type == "REFUND" => Some("SELLER_RESPOND_REFUND"),
        "RETURN_OR_REFUND_REQUEST_PENDING" => Some("SELLER_RESPOND_RETURN"),
        "BUYER_SHIPPED_ITEM" => Some("SELLER_RESPOND_RECEIVE_PACKAGE"),
        _ => None,
    }
}

/// A request's sort key: (create_time, update_time, id).
type SortKey<'a> = (i64, i64, &'a str);

/// The `sort_field` (create_time, default, or update_time) and `sort_order` (DESC, default, or
/// ASC) of both searches.
#[derive(Debug, Clone, Copy)]
struct Sorting {
    by_update: bool,
    ascending: bool,
}

impl Sorting {
    fn of(query: &[(String, String)]) -> Result<Sorting, ApiError> {
        let by_update = match param(query, "sort_field") {
            None | Some("create_time") => false,
            Some("update_time") => true,
            Some(other) => return Err(invalid("sort_field", format!("unknown {other:?}"))),
        };
        let ascending = match param(query, "sort_order") {
            None | Some("DESC") => false,
            Some("ASC") => true,
            Some(other) => return Err(invalid("sort_order", format!("unknown {other:?}"))),
        };
        Ok(Sorting { by_update, ascending })
    }

    fn compare(self, a: SortKey<'_>, b: SortKey<'_>) -> std::cmp::Ordering {
        // Ids grow with time, so they break ties between requests of the same second.
        let key = |k: SortKey<'_>| (if self.by_update { k.1 } else { k.0 }, k.2.to_owned());
        if self.ascending { key(a).cmp(&key(b)) } else { key(b).cmp(&key(a)) }
    }
}

/// POST /return_refund/{v}/cancellations/search.
pub(crate) fn search_cancellations(
    state: &State,
    cipher: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let size = paging::page_size(param(query, "page_size").or(Some("10")), 50)?;
    let offset = paging::offset(param(query, "page_token"))?;
    let f: CancellationFilters = product_body::decode(body)?;
    let sorting = Sorting::of(query)?;
    // The filter spells the closed state CANCEL, responses CANCELLED (§8.2): accept both.
    let status_wanted = |status: &str| {
        wanted(&f.cancel_status, status)
            || (status == CLOSED && wanted(&f.cancel_status, "CANCELLATION_REQUEST_CANCEL"))
    };
    let mut matches: Vec<&Cancellation> = state
        .orders
        .cancellations
        .values()
        .filter(|c| c.cipher == cipher)
        .filter(|c| wanted(&f.cancel_ids, &c.id) && wanted(&f.order_ids, &c.order_id))
        .filter(|c| wanted(&f.cancel_types, c.cancel_type) && status_wanted(c.status))
        .filter(|c| f.window.contains(c.create_time, c.update_time))
        .collect();
    matches.sort_by(|a, b| {
        sorting.compare((a.create_time, a.update_time, &a.id), (b.create_time, b.update_time, &b.id))
    });
    let total = matches.len();
    let (page, next_page_token) = paging::page(matches, offset, size);
    let cancellations: Vec<Value> = page
        .into_iter()
        .filter_map(|c| {
            let order = state.orders.orders.get(&c.order_id)?;
            let pending = c.status == PENDING;
            Some(json!({
                "cancel_id": c.id,
                "order_id": c.order_id,
                "cancel_type": c.cancel_type,
                "cancel_status": c.status,
                "role": c.role,
                "cancel_reason": c.reason_code,
                "cancel_reason_text": c.reason,
                "create_time": c.create_time,
                "update_time": c.update_time,
                "seller_next_action_response": if pending {
                    json!([{ "action": "SELLER_RESPOND_CANCEL", "deadline": c.create_time + 48 * 3600 }])
                } else { json!([]) },
                "refund_amount": refund_amount(order),
                "cancel_line_items": order.lines.iter().map(|l| json!({
                    "cancel_line_item_id": l.id, "order_line_item_id": l.id, "sku_id": l.sku_id,
                    "sku_name": l.sku_name, "seller_sku": l.seller_sku, "product_name": l.product_name,
                    "refund_amount": { "currency": order.currency, "refund_total": money(l.price) },
                })).collect::<Vec<_>>(),
            }))
        })
        .collect();
    Ok(json!({ "cancellations": cancellations, "total_count": total, "next_page_token": next_page_token }))
}

#[derive(Debug, Default, Deserialize)]
struct RejectBody {
    reject_reason: Option<String>,
}

/// POST /return_refund/{v}/cancellations/{id}/approve|reject: approving cancels the order;
/// rejecting leaves it to be shipped.
pub(crate) fn decide_cancellation(
    state: &mut State,
    cipher: &str,
    id: &str,
    approve: bool,
    body: &[u8],
) -> Result<Value, ApiError> {
    if !approve {
        let body: RejectBody = product_body::decode(body)?;
        if body.reject_reason.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("reject_reason", "is required"));
        }
    }
    let c = state.orders.cancellations.get(id).filter(|c| c.cipher == cipher).ok_or_else(|| {
        ApiError::new(code::RECORD_NOT_FOUND, format!("The cancellation {id} does not exist in this shop."))
    })?;
    if c.status != PENDING {
        return Err(ApiError::new(
            code::AFTER_SALE_CLOSED,
            format!("The cancellation is {}, not pending.", c.status),
        ));
    }
    let order_id = c.order_id.clone();
    let now = unix_now();
    if let Some(c) = state.orders.cancellations.get_mut(id) {
        c.status = if approve { COMPLETE } else { "CANCELLATION_REQUEST_REJECT" };
        c.update_time = now;
    }
    if approve {
        cancel_order(state, &order_id, "BUYER", "No longer needed", now);
    } else if let Some(order) = state.orders.orders.get_mut(&order_id) {
        order.buyer_request_cancel = false;
        order.update_time = now;
    }
    cancellation_event(state, id, now);
    Ok(Value::Null)
}

#[derive(Debug, Default, Deserialize)]
struct ReturnFilters {
    return_ids: Option<Vec<String>>,
    order_ids: Option<Vec<String>>,
    return_types: Option<Vec<String>>,
    return_status: Option<Vec<String>>,
    #[serde(flatten)]
    window: TimeWindow,
}

/// POST /return_refund/{v}/returns/search.
pub(crate) fn search_returns(
    state: &State,
    cipher: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let size = paging::page_size(param(query, "page_size").or(Some("10")), 50)?;
    let offset = paging::offset(param(query, "page_token"))?;
    let f: ReturnFilters = product_body::decode(body)?;
    let sorting = Sorting::of(query)?;
    let mut matches: Vec<&Return> = state
        .orders
        .returns
        .values()
        .filter(|r| r.cipher == cipher)
        .filter(|r| wanted(&f.return_ids, &r.id) && wanted(&f.order_ids, &r.order_id))
        .filter(|r| wanted(&f.return_types, &r.return_type) && wanted(&f.return_status, r.status))
        .filter(|r| f.window.contains(r.create_time, r.update_time))
        .collect();
    matches.sort_by(|a, b| {
        sorting.compare((a.create_time, a.update_time, &a.id), (b.create_time, b.update_time, &b.id))
    });
    let total = matches.len();
    let (page, next_page_token) = paging::page(matches, offset, size);
    let returns: Vec<Value> = page
        .into_iter()
        .filter_map(|r| {
            let order = state.orders.orders.get(&r.order_id)?;
            let (tracking_number, provider) = r.tracking.clone().unzip();
            Some(json!({
                "return_id": r.id,
                "order_id": r.order_id,
                "return_type": r.return_type,
                "return_status": r.status,
                "role": "BUYER",
                "return_reason": "ecom_order_delivered_refund_and_return_reason_not_as_described",
                "return_reason_text": r.reason,
                "shipment_type": "PLATFORM",
                "can_buyer_keep_item": false,
                "return_tracking_number": tracking_number,
                "return_provider_name": provider,
                "seller_next_action_response": match seller_action(&r.return_type, r.status) {
                    Some(action) => json!([{ "action": action, "deadline": r.update_time + 48 * 3600 }]),
                    None => json!([]),
                },
                "refund_amount": return_refund_amount(order, &r.line_ids),
                "return_line_items": order.lines.iter().filter(|l| r.line_ids.contains(&l.id)).map(|l| json!({
                    "return_line_item_id": l.id, "order_line_item_id": l.id, "sku_id": l.sku_id,
                    "seller_sku": l.seller_sku, "product_name": l.product_name,
                    "refund_amount": { "currency": order.currency, "refund_total": money(l.price) },
                })).collect::<Vec<_>>(),
                "create_time": r.create_time,
                "update_time": r.update_time,
            }))
        })
        .collect();
    Ok(json!({ "return_orders": returns, "total_count": total, "next_page_token": next_page_token }))
}

#[derive(Debug, Default, Deserialize)]
struct DecisionBody {
    decision: Option<String>,
    reject_reason: Option<String>,
}

/// POST /return_refund/{v}/returns/{id}/approve|reject with a `decision` that fits the
/// request's type and state (§8.1). An `idempotency_key` (query, at most 255 characters) seen
/// before with the same return and decision answers success again without deciding twice; with
/// another return or decision it is refused.
pub(crate) fn decide_return(
    state: &mut State,
    cipher: &str,
    id: &str,
    approve: bool,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let body: DecisionBody = product_body::decode(body)?;
    let decision = body.decision.unwrap_or_default();
    let key = param(query, "idempotency_key").map(str::to_owned);
    if let Some(key) = &key {
        if key.len() > 255 {
            return Err(invalid("idempotency_key", "at most 255 characters"));
        }
        let asked = KeyedDecision { return_id: id.to_owned(), decision: decision.clone() };
        match state.orders.return_decisions.get(&(cipher.to_owned(), key.clone())) {
            Some(done) if *done == asked => return Ok(Value::Null),
            Some(done) => {
                return Err(invalid(
                    "idempotency_key",
                    format!("already used for {} of return {}", done.decision, done.return_id),
                ));
            }
            None => {}
        }
    }
    let r = state.orders.returns.get(id).filter(|r| r.cipher == cipher).ok_or_else(|| {
        ApiError::new(code::RECORD_NOT_FOUND, format!("The return {id} does not exist in this shop."))
    })?;
    let refund_only = r.return_type == "REFUND";
    let next = match (approve, decision.as_str(), r.status) {
        (true, "APPROVE_REFUND", "RETURN_OR_REFUND_REQUEST_PENDING") if refund_only => {
            "RETURN_OR_REFUND_REQUEST_SUCCESS"
        }
        (true, "APPROVE_RETURN", "RETURN_OR_REFUND_REQUEST_PENDING") if !refund_only => "AWAITING_BUYER_SHIP",
        (true, "APPROVE_RECEIVED_PACKAGE", "BUYER_SHIPPED_ITEM") => "RETURN_OR_REFUND_REQUEST_SUCCESS",
        (false, "REJECT_REFUND", "RETURN_OR_REFUND_REQUEST_PENDING") if refund_only => {
            "REFUND_OR_RETURN_REQUEST_REJECT"
        }
        (false, "REJECT_RETURN", "RETURN_OR_REFUND_REQUEST_PENDING") if !refund_only => {
            "REFUND_OR_RETURN_REQUEST_REJECT"
        }
        (false, "REJECT_RECEIVED_PACKAGE", "BUYER_SHIPPED_ITEM") => "REJECT_RECEIVE_PACKAGE",
        (_, "", _) => return Err(invalid("decision", "is required")),
        (_, _, status) if RETURN_ENDED.contains(&status) => {
            return Err(ApiError::new(code::AFTER_SALE_CLOSED, format!("The return is {status}.")));
        }
        (_, decision, status) => {
            return Err(ApiError::new(
                code::AFTER_SALE_STATUS,
                format!("The decision {decision} does not fit a {} request in {status}.", r.return_type),
            ));
        }
    };
    if !approve && body.reject_reason.as_deref().is_none_or(str::is_empty) {
        return Err(invalid("reject_reason", "is required"));
    }
    let now = unix_now();
    if let Some(r) = state.orders.returns.get_mut(id) {
        r.status = next;
        r.update_time = now;
    }
    if let Some(key) = key {
        let done = KeyedDecision { return_id: id.to_owned(), decision };
        state.orders.return_decisions.insert((cipher.to_owned(), key), done);
    }
    return_event(state, id, now);
    Ok(Value::Null)
}

/// The buyer ships the returned item (`return_shipped_by_buyer`) with the parcel's (tracking
/// number, provider): AWAITING_BUYER_SHIP -> BUYER_SHIPPED_ITEM.
pub(crate) fn buyer_shipped(
    state: &mut State,
    cipher: &str,
    id: &str,
    tracking: (String, String),
) -> Result<(), String> {
    let r = state
        .orders
        .returns
        .get_mut(id)
        .filter(|r| r.cipher == cipher)
        .ok_or_else(|| format!("the shop has no return {id:?}"))?;
    if r.status != "AWAITING_BUYER_SHIP" {
        return Err(format!("return {id} is {}, not AWAITING_BUYER_SHIP", r.status));
    }
    let now = unix_now();
    r.status = "BUYER_SHIPPED_ITEM";
    r.tracking = Some(tracking);
    r.update_time = now;
    return_event(state, id, now);
    Ok(())
}

/// The platform pays an approved refund (§8.2: SUCCESS → COMPLETE once the refund is paid).
pub(crate) fn refund_paid(state: &mut State, cipher: &str, id: &str) -> Result<(), String> {
    let r = state
        .orders
        .returns
        .get_mut(id)
        .filter(|r| r.cipher == cipher)
        .ok_or_else(|| format!("the shop has no return {id:?}"))?;
    if r.status != "RETURN_OR_REFUND_REQUEST_SUCCESS" {
        return Err(format!("return {id} is {}, not RETURN_OR_REFUND_REQUEST_SUCCESS", r.status));
    }
    let now = unix_now();
    r.status = "RETURN_OR_REFUND_REQUEST_COMPLETE";
    r.update_time = now;
    return_event(state, id, now);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn searches_sort_by_the_field_and_order_asked_for() {
        let mut keys = [(10, 50, "401"), (20, 30, "402"), (30, 30, "403")];
        let by_update =
            Sorting::of(&query(&[("sort_field", "update_time"), ("sort_order", "ASC")])).expect("valid");
        keys.sort_by(|a, b| by_update.compare(*a, *b));
        assert_eq!(keys.map(|k| k.2), ["402", "403", "401"]);
        let default = Sorting::of(&[]).expect("valid");
        keys.sort_by(|a, b| default.compare(*a, *b));
        assert_eq!(keys.map(|k| k.2), ["403", "402", "401"], "newest created first");
        assert!(Sorting::of(&query(&[("sort_field", "price")])).is_err());
        assert!(Sorting::of(&query(&[("sort_order", "UP")])).is_err());
    }

    #[test]
    fn seller_reasons_follow_the_shops_market() {
        assert_eq!(seller_reason("seller_cancel_reason_out_of_stock", "US"), Some("Out of stock"));
        assert_eq!(seller_reason("seller_cancel_reason_out_of_stock_uk", "GB"), Some("Out of stock"));
        assert_eq!(seller_reason("seller_cancel_reason_out_of_stock", "GB"), None);
        assert_eq!(seller_reason("seller_cancel_reason_out_of_stock_uk", "US"), None);
        assert_eq!(seller_reason("buyer_cancel_reason_no_longer_needed", "US"), None);
    }
}
