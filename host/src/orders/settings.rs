//! A channel's order, fulfillment, cancellation and refund/return settings (its product and
//! inventory settings are the channel options). Stored as JSON on the channel; every field has
//! a default, so `{}` is a valid setting and older rows read as the defaults.

use serde::{Deserialize, Serialize};

/// Which orders come into the store, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct OrderGroup {
    /// Bring this channel's orders into the store at all.
    pub import: bool,
    /// Import orders still in the platform's hold (TikTok's first hour); by default they wait
    /// until the hold ends, as the buyer may still cancel.
    pub import_on_hold: bool,
    /// Take the units from the store's stock when the order is created.
    pub decrement_stock: bool,
    /// Tag the store order with the shop's name.
    pub tag_with_shop_name: bool,
}

impl Default for OrderGroup {
    fn default() -> Self {
        OrderGroup { import: true, import_on_hold: false, decrement_stock: true, tag_with_shop_name: true }
    }
}

/// Shipments, both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FulfillmentGroup {
    /// Send the store's fulfillments (carrier and tracking) to the channel.
    pub send_tracking: bool,
    /// Record the channel's own shipments (TikTok Shipping) as store fulfillments.
    pub record_platform_shipments: bool,
}

impl Default for FulfillmentGroup {
    fn default() -> Self {
        FulfillmentGroup { send_tracking: true, record_platform_shipments: true }
    }
}

/// Cancellations, both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CancellationGroup {
    /// A cancellation on the channel cancels the store order.
    pub channel_to_store: bool,
    /// Put the units back in the store's stock when it does.
    pub restock: bool,
    /// A store cancellation is sent to the channel, where the platform allows it.
    pub store_to_channel: bool,
}

impl Default for CancellationGroup {
    fn default() -> Self {
        CancellationGroup { channel_to_store: true, restock: true, store_to_channel: true }
    }
}

/// Refunds and returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RefundGroup {
    /// A completed refund or return on the channel is recorded as a store refund.
    pub channel_to_store: bool,
    /// Put returned units back in stock.
    pub restock_returns: bool,
    /// Put units back in stock for a refund without a return (the buyer keeps the goods, so
    /// normally not).
    pub restock_refund_only: bool,
    /// Approve a buyer's return request on the channel by itself; otherwise the merchant
    /// decides it (the order page, or the decide API).
    pub approve_returns: bool,
    /// Accept the goods a buyer sent back by themselves (the refund is then paid); otherwise
    /// the merchant inspects and decides.
    pub approve_received_goods: bool,
}

impl Default for RefundGroup {
    fn default() -> Self {
        RefundGroup {
            channel_to_store: true,
            restock_returns: true,
            restock_refund_only: false,
            approve_returns: false,
            approve_received_goods: false,
        }
    }
}

/// Everything a channel decides about its orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct OrderSettings {
    pub order: OrderGroup,
    pub fulfillment: FulfillmentGroup,
    pub cancellation: CancellationGroup,
    pub refund: RefundGroup,
}

impl OrderSettings {
    /// Reads stored or submitted settings; unknown fields are refused with their name.
    pub fn parse(json: &str) -> Result<OrderSettings, String> {
        serde_json::from_str(json).map_err(|e| format!("order settings: {e}"))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_settings_are_the_defaults_and_unknown_fields_are_refused() {
        let s = OrderSettings::parse("{}").expect("defaults");
        assert!(s.order.import && !s.order.import_on_hold && s.refund.restock_returns);
        let partial = OrderSettings::parse(r#"{"order": {"import-on-hold": true}}"#).expect("partial");
        assert!(partial.order.import_on_hold && partial.order.decrement_stock);
        let error = OrderSettings::parse(r#"{"order": {"import-onhold": true}}"#).expect_err("typo");
        assert!(error.contains("import-onhold"), "{error}");
        assert_eq!(OrderSettings::parse(&s.to_json()).expect("round trip"), s);
    }
}
