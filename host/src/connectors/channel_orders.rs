//! A channel plugin's order operations (contract 0.3.0): reading orders and their after-sale
//! requests, shipping with tracking, cancelling, deciding requests, and verifying the channel's
//! webhooks. A plugin built for an older contract carries no orders: every call fails with
//! `ErrorKind::Unsupported`, which the order flows report once per channel rather than retry.

use super::bindings::v0_3::channel_world::exports::crossdock::connector::{
    channel_orders as wo, channel_webhooks as ww,
};
use super::call;
use super::channel_connector::ChannelConnector;
use super::contract::Contract;
use super::convert::orders as conv;
use super::error::{ConnectorError, ErrorKind};
use super::plugin::ChannelPre;
use crate::model::order::{AfterSale, ChannelOrder};

/// One page of channel orders.
#[derive(Debug, Clone)]
pub struct ChannelOrderPage {
    pub orders: Vec<ChannelOrder>,
    pub next_cursor: Option<String>,
}

/// One page of after-sale requests.
#[derive(Debug, Clone)]
pub struct AfterSalePage {
    pub requests: Vec<AfterSale>,
    pub next_cursor: Option<String>,
}

/// A carrier the channel accepts tracking from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ShippingProvider {
    pub id: String,
    pub name: String,
}

/// What a verified channel webhook delivery concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    OrderChanged(String),
    AfterSaleChanged(String),
    ListingChanged(String),
}

/// A verified channel webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDelivery {
    pub event_id: Option<String>,
    pub topic: String,
    pub events: Vec<ChannelEvent>,
}

/// Runs one export of interface `$iface` in a fresh 0.3.0 instance, or fails as unsupported.
macro_rules! orders_call {
    ($self:ident, $op:literal, $iface:ident, |$inst:ident, $store:ident| $call:expr) => {{
        let ChannelPre::V0_3(pre) = &$self.pre else {
            return Err($self.orders_unsupported($op));
        };
        let (mut $store, probe) = call::new_store(&$self.runtime, $self.ctx.clone());
        let pre = pre.clone();
        call::finish($self.plugin.id(), $op, &$self.ctx.limits, probe, async move {
            let $inst = pre.instantiate_async(&mut $store).await?;
            let $inst = $inst.$iface();
            $call.await
        })
        .await
    }};
}

impl ChannelConnector {
    /// Whether the plugin carries orders (contract 0.3.0 and later).
    pub fn supports_orders(&self) -> bool {
        self.plugin.contract().supports_orders()
    }

    fn orders_unsupported(&self, op: &str) -> ConnectorError {
        ConnectorError::new(
            self.plugin.id(),
            op,
            ErrorKind::Unsupported(format!(
                "the plugin was built for connector contract {}, which carries no orders; install a build \
                 for contract {} or later to sync this shop's orders",
                self.plugin.contract(),
                Contract::V0_3
            )),
        )
    }

    fn bad(&self, op: &str, kind: ErrorKind) -> ConnectorError {
        ConnectorError::new(self.plugin.id(), op, kind)
    }

    /// Orders changed at or after `updated_since` (Unix ms), oldest change first.
    pub async fn list_orders(
        &self,
        updated_since: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ChannelOrderPage, ConnectorError> {
        let cursor = cursor.map(str::to_string);
        let page = orders_call!(self, "list-orders", crossdock_connector_channel_orders, |inst, store| inst
            .call_list_orders(&mut store, updated_since, cursor.as_deref(), limit))?;
        let orders = page
            .orders
            .into_iter()
            .map(conv::channel_order_from_wit)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|k| self.bad("list-orders", k))?;
        Ok(ChannelOrderPage { orders, next_cursor: page.next_cursor })
    }

    /// One order; none when the channel has no such order.
    pub async fn get_order(&self, id: &str) -> Result<Option<ChannelOrder>, ConnectorError> {
        let order = orders_call!(self, "get-order", crossdock_connector_channel_orders, |inst, store| inst
            .call_get_order(&mut store, id))?;
        order.map(conv::channel_order_from_wit).transpose().map_err(|k| self.bad("get-order", k))
    }

    /// The carriers the channel accepts tracking from.
    pub async fn shipping_providers(&self) -> Result<Vec<ShippingProvider>, ConnectorError> {
        let providers =
            orders_call!(self, "shipping-providers", crossdock_connector_channel_orders, |inst, store| inst
                .call_shipping_providers(&mut store))?;
        Ok(providers.into_iter().map(|p| ShippingProvider { id: p.id, name: p.name }).collect())
    }

    /// Hands over the given lines (all unshipped when empty) with tracking; the package id.
    pub async fn ship(
        &self,
        order_id: &str,
        line_ids: &[String],
        carrier_id: &str,
        tracking_number: &str,
    ) -> Result<String, ConnectorError> {
        let shipment = wo::Shipment {
            line_ids: line_ids.to_vec(),
            carrier_id: carrier_id.to_string(),
            tracking_number: tracking_number.to_string(),
        };
        orders_call!(self, "ship", crossdock_connector_channel_orders, |inst, store| inst
            .call_ship(&mut store, order_id, &shipment))
    }

    /// Corrects a shipped package's carrier or tracking number.
    pub async fn update_tracking(
        &self,
        order_id: &str,
        package_id: &str,
        carrier_id: &str,
        tracking_number: &str,
    ) -> Result<(), ConnectorError> {
        orders_call!(self, "update-tracking", crossdock_connector_channel_orders, |inst, store| inst
            .call_update_tracking(&mut store, order_id, package_id, carrier_id, tracking_number))
    }

    /// Cancels an order as the seller.
    pub async fn cancel_order(&self, order_id: &str, reason: &str) -> Result<(), ConnectorError> {
        orders_call!(self, "cancel-order", crossdock_connector_channel_orders, |inst, store| inst
            .call_cancel_order(&mut store, order_id, reason))
    }

    /// Cancellations, refunds and returns changed at or after `updated_since`.
    pub async fn list_after_sales(
        &self,
        updated_since: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AfterSalePage, ConnectorError> {
        let cursor = cursor.map(str::to_string);
        let page =
            orders_call!(self, "list-after-sales", crossdock_connector_channel_orders, |inst, store| inst
                .call_list_after_sales(&mut store, updated_since, cursor.as_deref(), limit))?;
        let requests = page
            .requests
            .into_iter()
            .map(conv::after_sale_from_wit)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|k| self.bad("list-after-sales", k))?;
        Ok(AfterSalePage { requests, next_cursor: page.next_cursor })
    }

    /// Every cancellation, refund and return of one order.
    pub async fn order_after_sales(&self, order_id: &str) -> Result<Vec<AfterSale>, ConnectorError> {
        let requests =
            orders_call!(self, "order-after-sales", crossdock_connector_channel_orders, |inst, store| inst
                .call_order_after_sales(&mut store, order_id))?;
        requests
            .into_iter()
            .map(conv::after_sale_from_wit)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|k| self.bad("order-after-sales", k))
    }

    /// Approves or rejects a request waiting for the seller.
    pub async fn decide_after_sale(&self, id: &str, approve: bool) -> Result<(), ConnectorError> {
        orders_call!(self, "decide-after-sale", crossdock_connector_channel_orders, |inst, store| inst
            .call_decide_after_sale(&mut store, id, approve))
    }

    /// Verifies and decodes a channel webhook delivery.
    pub async fn verify_webhook(
        &self,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<ChannelDelivery, ConnectorError> {
        let delivery =
            orders_call!(self, "verify-webhook", crossdock_connector_channel_webhooks, |inst, store| inst
                .call_verify_webhook(&mut store, &headers, &body))?;
        Ok(ChannelDelivery {
            event_id: delivery.event_id,
            topic: delivery.topic,
            events: delivery
                .events
                .into_iter()
                .map(|e| match e {
                    ww::ChannelEvent::OrderChanged(id) => ChannelEvent::OrderChanged(id),
                    ww::ChannelEvent::AfterSaleChanged(id) => ChannelEvent::AfterSaleChanged(id),
                    ww::ChannelEvent::ListingChanged(id) => ChannelEvent::ListingChanged(id),
                })
                .collect(),
        })
    }
}
