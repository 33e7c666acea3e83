//! Orders (reference §6): the order book, the status machine of §11.8 with a type 1 webhook on
//! every transition, the order object of §6.3, and Get Order List / Get Order Detail.
//!
//! Choices of ours: one line item per unit (the reference's reading, UNCONFIRMED); no shipping
//! fee, discounts or tax, so `total_amount` equals `sub_total`; a package holding every unit
//! exists from payment on (the SEA behaviour; US and UK shops only show it after shipment) so
//! Ship Package can be called on it, and shipping a subset splits the shipped units into a
//! package of their own (see `fulfillment`); stock is taken from the SKU's first warehouse
//! when the order is placed.

use super::envelope::{ApiError, code, unix_now};
use super::fulfillment::Package;
use super::product_body;
use super::returns::{Cancellation, KeyedDecision, Return};
use super::state::State;
use super::webhooks::Event;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// An order's `status` (reference §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Unpaid,
    /// Paid, in the buyer-remorse hour: the address is hidden and shipping refused.
    OnHold,
    AwaitingShipment,
    PartiallyShipping,
    AwaitingCollection,
    InTransit,
    Delivered,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Unpaid => "UNPAID",
            OrderStatus::OnHold => "ON_HOLD",
            OrderStatus::AwaitingShipment => "AWAITING_SHIPMENT",
            OrderStatus::PartiallyShipping => "PARTIALLY_SHIPPING",
            OrderStatus::AwaitingCollection => "AWAITING_COLLECTION",
            OrderStatus::InTransit => "IN_TRANSIT",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Completed => "COMPLETED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<OrderStatus> {
        const ALL: [OrderStatus; 9] = [
            OrderStatus::Unpaid,
            OrderStatus::OnHold,
            OrderStatus::AwaitingShipment,
            OrderStatus::PartiallyShipping,
            OrderStatus::AwaitingCollection,
            OrderStatus::InTransit,
            OrderStatus::Delivered,
            OrderStatus::Completed,
            OrderStatus::Cancelled,
        ];
        ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The spelling in ORDER_STATUS_CHANGE webhooks: the doc lists `CANCEL` there (§9.5).
    fn webhook_name(self) -> &'static str {
        match self {
            OrderStatus::Cancelled => "CANCEL",
            other => other.as_str(),
        }
    }

    /// Moves a control call (`advance_order`) may make; shipping goes through Ship Package and
    /// cancelling through the after-sale calls.
    fn may_advance_to(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Unpaid, OnHold)
                | (Unpaid | OnHold, AwaitingShipment)
                | (AwaitingShipment | PartiallyShipping, AwaitingCollection)
                | (AwaitingCollection, InTransit)
                | (InTransit, Delivered)
                | (Delivered, Completed)
        )
    }
}

/// Who ships an order (`shipping_type`, reference §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShippingType {
    /// The seller ships with its own carrier and uploads the tracking.
    Seller,
    /// TikTok Shipping: the platform arranges the carrier and the tracking; the seller's ship
    /// calls are refused.
    Tiktok,
}

impl ShippingType {
    pub fn as_str(self) -> &'static str {
        match self {
            ShippingType::Seller => "SELLER",
            ShippingType::Tiktok => "TIKTOK",
        }
    }
}

/// One unit of one SKU.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub id: String,
    /// The package the unit is in: the order's first package from payment on, its own
    /// package once shipped.
    pub package_id: Option<String>,
    pub sku_id: String,
    pub product_id: String,
    pub product_name: String,
    pub sku_name: String,
    pub seller_sku: String,
    pub price: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: String,
    pub cipher: String,
    pub shop_id: String,
    pub currency: String,
    pub status: OrderStatus,
    pub was_on_hold: bool,
    pub user_id: String,
    pub create_time: i64,
    pub update_time: i64,
    pub paid_time: Option<i64>,
    pub rts_time: Option<i64>,
    pub collection_time: Option<i64>,
    pub delivery_time: Option<i64>,
    pub cancel_time: Option<i64>,
    pub lines: Vec<LineItem>,
    pub warehouse_id: String,
    pub shipping_type: ShippingType,
    /// The order's packages, oldest first.
    pub packages: Vec<String>,
    pub buyer_request_cancel: bool,
    pub cancellation_initiator: Option<&'static str>,
    pub cancel_reason: Option<String>,
}

impl Order {
    pub fn sub_total(&self) -> Decimal {
        self.lines.iter().map(|l| l.price).sum()
    }
}

/// Orders and everything hanging off them, plus the webhook events not yet sent.
#[derive(Debug, Default)]
pub(crate) struct Book {
    pub orders: BTreeMap<String, Order>,
    pub packages: BTreeMap<String, Package>,
    pub cancellations: BTreeMap<String, Cancellation>,
    pub returns: BTreeMap<String, Return>,
    /// (shop cipher, idempotency_key) -> the return decision made with it.
    pub return_decisions: HashMap<(String, String), KeyedDecision>,
    /// Tracking numbers already used in the shop, (cipher, number).
    pub tracking_numbers: HashSet<(String, String)>,
    /// Events raised under the state lock, sent once it is released.
    pub outbox: Vec<Event>,
}

impl Book {
    /// Moves an order and raises its ORDER_STATUS_CHANGE webhook (type 1).
    pub fn set_status(&mut self, order_id: &str, status: OrderStatus, now: i64) {
        let Some(order) = self.orders.get_mut(order_id) else { return };
        order.status = status;
        order.update_time = now;
        match status {
            OrderStatus::OnHold => order.was_on_hold = true,
            OrderStatus::AwaitingShipment => {
                order.paid_time.get_or_insert(now);
            }
            OrderStatus::AwaitingCollection => order.rts_time = Some(now),
            OrderStatus::InTransit => order.collection_time = Some(now),
            OrderStatus::Delivered => order.delivery_time = Some(now),
            OrderStatus::Cancelled => order.cancel_time = Some(now),
            _ => {}
        }
        let package_status = match status {
            OrderStatus::InTransit => Some("FULFILLING"),
            OrderStatus::Delivered | OrderStatus::Completed => Some("COMPLETED"),
            OrderStatus::Cancelled => Some("CANCELLED"),
            _ => None,
        };
        if let Some(package_status) = package_status {
            for id in &order.packages {
                if let Some(package) = self.packages.get_mut(id) {
                    package.status = package_status;
                    package.update_time = now;
                }
            }
        }
        let data = json!({
            "order_id": order.id,
            "order_status": status.webhook_name(),
            "is_on_hold_order": order.was_on_hold,
            "update_time": now,
        });
        self.outbox.push(Event::new(1, &order.shop_id, data, now));
    }
}

/// Places an order of `lines` (seller SKU, units) in the shop, taking the stock, as UNPAID.
/// Errors name the SKU that is unknown or short of stock.
#[cfg(test)]
pub(crate) fn place(state: &mut State, cipher: &str, lines: &[(&str, u32)]) -> Result<String, String> {
    place_shipped_by(state, cipher, lines, ShippingType::Seller)
}

/// `place` for an order shipped by `shipping_type`.
pub(crate) fn place_shipped_by(
    state: &mut State,
    cipher: &str,
    lines: &[(&str, u32)],
    shipping_type: ShippingType,
) -> Result<String, String> {
    let shop = state.shop(cipher).cloned().ok_or_else(|| format!("no shop has the cipher {cipher:?}"))?;
    let now = unix_now();
    let mut items = Vec::new();
    for (seller_sku, units) in lines {
        let (product_id, product_name, sku_id, price, sku_name) = state
            .products
            .values()
            .filter(|p| p.cipher == cipher && p.live.is_some())
            .find_map(|p| {
                let live = p.live.as_ref()?;
                let sku = live.skus.iter().find(|s| s.seller_sku == *seller_sku)?;
                let sku_name =
                    sku.sales_attributes.iter().map(|a| a.value_name.as_str()).collect::<Vec<_>>().join(", ");
                Some((p.id.clone(), live.title.clone(), sku.id.clone(), sku.price, sku_name))
            })
            .ok_or_else(|| format!("no live product of the shop has the seller SKU {seller_sku:?}"))?;
        let product = state.products.get(&product_id).ok_or("the product vanished")?;
        let available = product
            .content
            .skus
            .iter()
            .find(|s| s.id == sku_id)
            .and_then(|s| s.inventory.first())
            .map_or(0, |s| s.quantity);
        if available < *units {
            return Err(format!("{seller_sku:?} has {available} in stock, {units} ordered"));
        }
        if let Some(product) = state.products.get_mut(&product_id) {
            product.update_sku(&sku_id, |sku| {
                if let Some(stock) = sku.inventory.first_mut() {
                    stock.quantity -= units;
                }
            });
        }
        for _ in 0..*units {
            items.push(LineItem {
                id: state.next_id("57"),
                package_id: None,
                sku_id: sku_id.clone(),
                product_id: product_id.clone(),
                product_name: product_name.clone(),
                sku_name: sku_name.clone(),
                seller_sku: (*seller_sku).to_owned(),
                price,
            });
        }
    }
    if items.is_empty() {
        return Err("an order needs at least one unit".into());
    }
    let order = Order {
        id: state.next_id("57"),
        cipher: cipher.to_owned(),
        shop_id: shop.id.clone(),
        currency: shop.currency.clone(),
        status: OrderStatus::Unpaid,
        was_on_hold: false,
        user_id: state.next_id("76"),
        create_time: now,
        update_time: now,
        paid_time: None,
        rts_time: None,
        collection_time: None,
        delivery_time: None,
        cancel_time: None,
        lines: items,
        warehouse_id: shop.sales_warehouse_id.clone(),
        shipping_type,
        packages: Vec::new(),
        buyer_request_cancel: false,
        cancellation_initiator: None,
        cancel_reason: None,
    };
    let id = order.id.clone();
    state.orders.orders.insert(id.clone(), order);
    state.orders.set_status(&id, OrderStatus::Unpaid, now);
    Ok(id)
}

/// Moves an order along the machine (`advance_order`); paying creates its package.
pub(crate) fn advance(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    next: OrderStatus,
) -> Result<(), String> {
    let order = state
        .orders
        .orders
        .get(order_id)
        .filter(|o| o.cipher == cipher)
        .ok_or_else(|| format!("the shop has no order {order_id:?}"))?;
    if !order.status.may_advance_to(next) {
        return Err(format!(
            "order {order_id} cannot go from {} to {}",
            order.status.as_str(),
            next.as_str()
        ));
    }
    let needs_package = next == OrderStatus::AwaitingShipment && order.packages.is_empty();
    let order = order.clone();
    let now = unix_now();
    if needs_package {
        let package_id = state.next_id("11");
        let units: Vec<String> = order.lines.iter().map(|l| l.id.clone()).collect();
        let package = Package::new(&package_id, &order, units, now);
        state.orders.packages.insert(package_id.clone(), package);
        if let Some(order) = state.orders.orders.get_mut(order_id) {
            order.packages.push(package_id.clone());
            for line in &mut order.lines {
                line.package_id = Some(package_id.clone());
            }
        }
    }
    state.orders.set_status(order_id, next, now);
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct SearchFilters {
    order_status: Option<String>,
    create_time_ge: Option<i64>,
    create_time_lt: Option<i64>,
    update_time_ge: Option<i64>,
    update_time_lt: Option<i64>,
    buyer_user_id: Option<String>,
    is_buyer_request_cancel: Option<bool>,
}

/// POST /order/{v}/orders/search: filters in the body; `page_size` (1–100, required),
/// `page_token`, `sort_field` and `sort_order` in the query.
pub(crate) fn search(
    state: &State,
    cipher: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Value, ApiError> {
    let param = |key: &str| query.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str());
    let size = super::paging::page_size(param("page_size"), 100)?;
    let offset = super::paging::offset(param("page_token"))?;
    let filters: SearchFilters = product_body::decode(body)?;
    let status = match filters.order_status.as_deref() {
        None => None,
        Some(s) => {
            Some(OrderStatus::parse(s).ok_or_else(|| invalid("order_status", format!("unknown {s:?}")))?)
        }
    };
    let by_update = match param("sort_field") {
        None | Some("create_time") => false,
        Some("update_time") => true,
        Some(other) => return Err(invalid("sort_field", format!("unknown {other:?}"))),
    };
    let ascending = match param("sort_order") {
        None | Some("DESC") => false,
        Some("ASC") => true,
        Some(other) => return Err(invalid("sort_order", format!("unknown {other:?}"))),
    };
    let mut matches: Vec<&Order> = state
        .orders
        .orders
        .values()
        .filter(|o| o.cipher == cipher)
        .filter(|o| status.is_none_or(|s| o.status == s))
        .filter(|o| filters.create_time_ge.is_none_or(|t| o.create_time >= t))
        .filter(|o| filters.create_time_lt.is_none_or(|t| o.create_time < t))
        .filter(|o| filters.update_time_ge.is_none_or(|t| o.update_time >= t))
        .filter(|o| filters.update_time_lt.is_none_or(|t| o.update_time < t))
        .filter(|o| filters.buyer_user_id.as_ref().is_none_or(|u| &o.user_id == u))
        .filter(|o| filters.is_buyer_request_cancel.is_none_or(|b| o.buyer_request_cancel == b))
        .collect();
    // Ids grow with time, so they break ties between orders of the same second.
    matches.sort_by(|a, b| {
        let key = |o: &Order| (if by_update { o.update_time } else { o.create_time }, o.id.clone());
        if ascending { key(a).cmp(&key(b)) } else { key(b).cmp(&key(a)) }
    });
    let total = matches.len();
    let (page, next_page_token) = super::paging::page(matches, offset, size);
    let orders: Vec<Value> = page.into_iter().map(|o| order_json(state, o)).collect();
    Ok(json!({ "orders": orders, "total_count": total, "next_page_token": next_page_token }))
}

/// The most ids Get Order Detail takes.
const MAX_DETAIL_IDS: usize = 50;

/// GET /order/{v}/orders?ids=a,b: the shop's orders among `ids` (unknown ids are left out).
pub(crate) fn detail(state: &State, cipher: &str, ids: Option<&str>) -> Result<Value, ApiError> {
    let ids: Vec<&str> =
        ids.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() {
        return Err(invalid("ids", "is required"));
    }
    if ids.len() > MAX_DETAIL_IDS {
        return Err(invalid("ids", format!("at most {MAX_DETAIL_IDS}, got {}", ids.len())));
    }
    let orders: Vec<Value> = ids
        .iter()
        .filter_map(|id| state.orders.orders.get(*id))
        .filter(|o| o.cipher == cipher)
        .map(|o| order_json(state, o))
        .collect();
    Ok(json!({ "orders": orders }))
}

pub(crate) fn invalid(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(code::INVALID_REQUEST, format!("Invalid parameter `{field}`: {why}"))
}

/// A decimal string with the currency's two places.
pub(crate) fn money(amount: Decimal) -> String {
    format!("{:.2}", amount)
}

/// The order object of reference §6.3 (the fields the sandbox has).
pub(crate) fn order_json(state: &State, order: &Order) -> Value {
    // The order-level carrier and number are the first shipped package's.
    let shipped = order
        .packages
        .iter()
        .filter_map(|id| state.orders.packages.get(id))
        .find(|p| p.tracking_number.is_some());
    let hidden = matches!(order.status, OrderStatus::Unpaid | OrderStatus::OnHold);
    let line_display = match order.status {
        OrderStatus::OnHold | OrderStatus::PartiallyShipping => OrderStatus::AwaitingShipment,
        other => other,
    };
    let provider = shipped.and_then(|p| p.shipping_provider_id.as_deref());
    let provider_name = provider.and_then(super::logistics::provider_name).unwrap_or_default();
    let tracking = shipped.and_then(|p| p.tracking_number.clone()).unwrap_or_default();
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            let package = l.package_id.as_ref().and_then(|id| state.orders.packages.get(id));
            let unit_provider = package.and_then(|p| p.shipping_provider_id.as_deref());
            let line_display = match package.map(|p| p.status) {
                Some("PROCESSING") if order.status == OrderStatus::PartiallyShipping => {
                    OrderStatus::AwaitingCollection
                }
                _ => line_display,
            };
            json!({
                "id": l.id,
                "sku_id": l.sku_id,
                "product_id": l.product_id,
                "product_name": l.product_name,
                "sku_name": l.sku_name,
                "sku_image": "https://sandbox.invalid/sku.jpg",
                "seller_sku": l.seller_sku,
                "original_price": money(l.price),
                "sale_price": money(l.price),
                "seller_discount": "0.00",
                "platform_discount": "0.00",
                "currency": order.currency,
                "display_status": line_display.as_str(),
                "package_id": l.package_id.clone().unwrap_or_default(),
                "package_status": package.map_or("TO_FULFILL", |p| p.status),
                "tracking_number": package.and_then(|p| p.tracking_number.clone()).unwrap_or_default(),
                "shipping_provider_id": unit_provider.unwrap_or_default(),
                "shipping_provider_name":
                    unit_provider.and_then(super::logistics::provider_name).unwrap_or_default(),
                "rts_time": order.rts_time.unwrap_or_default(),
                "is_gift": false,
                "cancel_reason": order.cancel_reason.clone().unwrap_or_default(),
                "cancel_user": order.cancellation_initiator.unwrap_or_default(),
            })
        })
        .collect();
    let sub_total = money(order.sub_total());
    let address = if hidden {
        json!({})
    } else {
        json!({
            "name": "Sandbox Buyer",
            "first_name": "Sandbox",
            "last_name": "Buyer",
            "phone_number": "(+1)213-***-1234",
            "full_address": "2 Buyer Street, Sandbox City",
            "address_detail": "Apt 1",
            "address_line1": "2 Buyer Street",
            "address_line2": "Apt 1",
            "address_line3": "",
            "address_line4": "",
            "postal_code": "00000",
            "region_code": state.shop(&order.cipher).map(|s| s.region.clone()).unwrap_or_default(),
            "district_info": [
                { "address_level": "L0", "address_level_name": "Country", "address_name": "Sandbox Country" },
                { "address_level": "L1", "address_level_name": "State", "address_name": "Sandbox State" },
                { "address_level": "L3", "address_level_name": "City", "address_name": "Sandbox City" },
            ],
        })
    };
    let payment = json!({
        "currency": order.currency,
        "sub_total": sub_total,
        "shipping_fee": "0.00",
        "seller_discount": "0.00",
        "platform_discount": "0.00",
        "total_amount": sub_total,
        "original_total_product_price": sub_total,
        "original_shipping_fee": "0.00",
        "shipping_fee_seller_discount": "0.00",
        "shipping_fee_platform_discount": "0.00",
        "tax": "0.00",
        "product_tax": "0.00",
        "shipping_fee_tax": "0.00",
    });
    let mut object = json!({
        "id": order.id,
        "status": order.status.as_str(),
        "create_time": order.create_time,
        "update_time": order.update_time,
        "paid_time": order.paid_time,
        "rts_time": order.rts_time,
        "collection_time": order.collection_time,
        "delivery_time": order.delivery_time,
        "cancel_time": order.cancel_time,
        "user_id": order.user_id,
        "buyer_email": format!("{}@scs.tiktokw.us", order.user_id),
        "buyer_message": "",
        "seller_note": "",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "shipping_type": order.shipping_type.as_str(),
        "delivery_type": "HOME_DELIVERY",
        "delivery_option_id": super::logistics::delivery_option_of(order.shipping_type).0,
        "delivery_option_name": super::logistics::delivery_option_of(order.shipping_type).1,
        "shipping_provider": provider_name,
        "shipping_provider_id": provider.unwrap_or_default(),
        "tracking_number": tracking,
        "warehouse_id": order.warehouse_id,
        "packages": order.packages.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
        "split_or_combine_tag": if order.packages.len() > 1 { "SPLIT" } else { "" },
        "order_type": "NORMAL",
        "is_cod": false,
        "is_sample_order": false,
        "is_on_hold_order": order.was_on_hold,
        "is_replacement_order": false,
        "is_exchange_order": false,
        "is_buyer_request_cancel": order.buyer_request_cancel,
        "cancellation_initiator": order.cancellation_initiator.unwrap_or_default(),
        "cancel_reason": order.cancel_reason.clone().unwrap_or_default(),
        "has_updated_recipient_address": false,
        "commerce_platform": "TIKTOK_SHOP",
        "payment_method_name": "CARD",
    });
    if let Some(map) = object.as_object_mut() {
        map.insert("payment".into(), payment);
        map.insert("recipient_address".into(), address);
        map.insert("line_items".into(), Value::Array(lines));
    }
    object
}
