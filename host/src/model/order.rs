//! Orders, shipments and after-sale requests as the flows see them, whatever platform they
//! came from (contract 0.3.0's `commerce` records, checked at the edge).

use super::Money;
use serde::{Deserialize, Serialize};

/// Where an order stands, in the contract's words.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum OrderStage {
    Unpaid,
    OnHold,
    AwaitingShipment,
    PartiallyShipped,
    Shipped,
    Delivered,
    Completed,
    Cancelled,
}

impl OrderStage {
    pub const ALL: [OrderStage; 8] = [
        OrderStage::Unpaid,
        OrderStage::OnHold,
        OrderStage::AwaitingShipment,
        OrderStage::PartiallyShipped,
        OrderStage::Shipped,
        OrderStage::Delivered,
        OrderStage::Completed,
        OrderStage::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStage::Unpaid => "unpaid",
            OrderStage::OnHold => "on-hold",
            OrderStage::AwaitingShipment => "awaiting-shipment",
            OrderStage::PartiallyShipped => "partially-shipped",
            OrderStage::Shipped => "shipped",
            OrderStage::Delivered => "delivered",
            OrderStage::Completed => "completed",
            OrderStage::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStage> {
        OrderStage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }
}

/// Who ships an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ShippedBy {
    Seller,
    Platform,
}

/// A carrier and tracking number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tracking {
    pub carrier: String,
    pub carrier_id: Option<String>,
    pub tracking_number: String,
    pub url: Option<String>,
}

/// One line of a channel order: a seller SKU and its units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderLine {
    /// The platform's line id (TikTok: its unit line ids joined with `,`).
    pub id: String,
    pub seller_sku: String,
    pub sku_id: Option<String>,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub seller_discount: Money,
    pub platform_discount: Money,
}

/// An order's amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub shipping: Money,
    pub tax: Money,
    pub seller_discount: Money,
    pub platform_discount: Money,
    pub buyer_paid: Money,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Address {
    pub name: String,
    pub phone: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country_code: String,
}

/// A package of a channel order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderPackage {
    pub id: String,
    pub line_ids: Vec<String>,
    pub tracking: Option<Tracking>,
}

/// An order as a channel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChannelOrder {
    pub id: String,
    /// The platform's status, verbatim.
    pub status: String,
    pub stage: OrderStage,
    pub shipped_by: ShippedBy,
    pub created_at: i64,
    pub updated_at: i64,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    pub shipping_address: Option<Address>,
    pub buyer_email: Option<String>,
    pub buyer_message: Option<String>,
    pub packages: Vec<OrderPackage>,
}

/// What a buyer or the platform asked to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AfterSaleKind {
    Cancellation,
    RefundOnly,
    ReturnAndRefund,
}

impl AfterSaleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleKind::Cancellation => "cancellation",
            AfterSaleKind::RefundOnly => "refund-only",
            AfterSaleKind::ReturnAndRefund => "return-and-refund",
        }
    }
}

/// Where an after-sale request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AfterSaleStage {
    Requested,
    InProgress,
    Completed,
    Rejected,
    Closed,
}

impl AfterSaleStage {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleStage::Requested => "requested",
            AfterSaleStage::InProgress => "in-progress",
            AfterSaleStage::Completed => "completed",
            AfterSaleStage::Rejected => "rejected",
            AfterSaleStage::Closed => "closed",
        }
    }
}

/// A decision the channel waits for from the seller on an after-sale request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SellerDecision {
    /// Accept or refuse the request itself.
    Request,
    /// Accept or refuse the goods the buyer sent back.
    ReceivedGoods,
}

impl SellerDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            SellerDecision::Request => "request",
            SellerDecision::ReceivedGoods => "received-goods",
        }
    }
}

/// A cancellation, refund or return on a channel order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AfterSale {
    pub id: String,
    pub order_id: String,
    pub kind: AfterSaleKind,
    pub stage: AfterSaleStage,
    pub status: String,
    pub line_ids: Vec<String>,
    pub refund_amount: Option<Money>,
    pub reason: String,
    pub updated_at: i64,
    /// What the channel waits for the seller to decide now (snapshots from before it was kept
    /// read as none).
    #[serde(default)]
    pub awaiting_seller: Option<SellerDecision>,
    /// The buyer's parcel back, for a return once shipped.
    #[serde(default)]
    pub return_tracking: Option<Tracking>,
}

/// One line of an order to create in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewOrderLine {
    pub variant_id: String,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub discount: Money,
    pub source_line_id: String,
}

/// A channel order to create in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewOrder {
    pub source_identifier: String,
    pub source_name: String,
    pub idempotency_key: String,
    pub lines: Vec<NewOrderLine>,
    pub shipping: Money,
    pub tax: Money,
    pub buyer_paid: Money,
    pub platform_discount: Money,
    pub shipping_address: Option<Address>,
    pub email: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub attributes: Vec<(String, String)>,
    pub decrement_stock: bool,
}

/// One line of a store order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreOrderLine {
    pub id: String,
    pub variant_id: Option<String>,
    pub sku: Option<String>,
    pub quantity: u32,
    pub source_line_id: Option<String>,
}

/// A shipment the store recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreFulfillment {
    pub id: String,
    /// (store line id, units).
    pub lines: Vec<(String, u32)>,
    pub tracking: Option<Tracking>,
    pub cancelled: bool,
    pub updated_at: i64,
}

/// A refund the store recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreRefund {
    pub id: String,
    pub amount: Money,
    pub lines: Vec<(String, u32)>,
}

/// An order as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreOrder {
    pub id: String,
    pub name: String,
    pub source_identifier: Option<String>,
    pub lines: Vec<StoreOrderLine>,
    pub cancelled: bool,
    pub fulfillments: Vec<StoreFulfillment>,
    pub refunds: Vec<StoreRefund>,
    pub updated_at: i64,
}

impl StoreOrder {
    /// The store line created from a channel line (by its source line id), if the store kept it.
    pub fn line_for_source(&self, source_line_id: &str) -> Option<&StoreOrderLine> {
        self.lines.iter().find(|l| l.source_line_id.as_deref() == Some(source_line_id))
    }
}
