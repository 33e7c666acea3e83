//! A store plugin's order operations (contract 0.3.0): creating channel orders exactly once,
//! finding them by source identifier, reading their fulfillments and refunds, cancelling,
//! refunding and fulfilling. A plugin built for an older contract carries no orders: every call
//! fails with `ErrorKind::Unsupported`.

use super::bindings::v0_3::store_world::exports::crossdock::connector::store_orders as ws;
use super::call;
use super::contract::Contract;
use super::convert::orders as conv;
use super::error::{ConnectorError, ErrorKind};
use super::plugin::StorePre;
use super::store_connector::StoreConnector;
use crate::model::Money;
use crate::model::order::{NewOrder, StoreOrder, Tracking};

/// One page of store orders.
#[derive(Debug, Clone)]
pub struct StoreOrderPage {
    pub orders: Vec<StoreOrder>,
    pub next_cursor: Option<String>,
}

/// Runs one `store-orders` export in a fresh 0.3.0 instance, or fails as unsupported.
macro_rules! store_orders_call {
    ($self:ident, $op:literal, |$inst:ident, $store:ident| $call:expr) => {{
        let StorePre::V0_3(pre) = &$self.pre else {
            return Err($self.orders_unsupported($op));
        };
        let (mut $store, probe) = call::new_store(&$self.runtime, $self.ctx.clone());
        let pre = pre.clone();
        call::finish($self.plugin.id(), $op, &$self.ctx.limits, probe, async move {
            let $inst = pre.instantiate_async(&mut $store).await?;
            let $inst = $inst.crossdock_connector_store_orders();
            $call.await
        })
        .await
    }};
}

impl StoreConnector {
    /// Whether the plugin carries orders (contract 0.3.0 and later).
    pub fn supports_orders(&self) -> bool {
        self.plugin.contract().supports_orders()
    }

    fn orders_unsupported(&self, op: &str) -> ConnectorError {
        ConnectorError::new(
            self.plugin.id(),
            op,
            ErrorKind::Unsupported(format!(
                "the store plugin was built for connector contract {}, which carries no orders; install a \
                 build for contract {} or later to bring channel orders into the store",
                self.plugin.contract(),
                Contract::V0_3
            )),
        )
    }

    fn order_from(&self, op: &str, order: ws::StoreOrder) -> Result<StoreOrder, ConnectorError> {
        conv::store_order_from_wit(order).map_err(|k| ConnectorError::new(self.plugin.id(), op, k))
    }

    /// Creates a channel order in the store (a retry with the same key answers the same order).
    pub async fn create_order(&self, order: &NewOrder) -> Result<StoreOrder, ConnectorError> {
        let wit = conv::new_order_to_wit(order);
        let created =
            store_orders_call!(self, "create-order", |inst, store| inst.call_create_order(&mut store, &wit))?;
        self.order_from("create-order", created)
    }

    /// The order created with this source identifier, if any.
    pub async fn find_order(&self, source_identifier: &str) -> Result<Option<StoreOrder>, ConnectorError> {
        let found = store_orders_call!(self, "find-order", |inst, store| inst
            .call_find_order(&mut store, source_identifier))?;
        found.map(|o| self.order_from("find-order", o)).transpose()
    }

    /// One order by the store's id; none when the store no longer has it.
    pub async fn get_order(&self, id: &str) -> Result<Option<StoreOrder>, ConnectorError> {
        let found = store_orders_call!(self, "get-order", |inst, store| inst.call_get_order(&mut store, id))?;
        found.map(|o| self.order_from("get-order", o)).transpose()
    }

    /// Orders with a source identifier changed at or after `updated_since` (Unix ms).
    pub async fn list_orders(
        &self,
        updated_since: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<StoreOrderPage, ConnectorError> {
        let cursor = cursor.map(str::to_string);
        let page = store_orders_call!(self, "list-orders", |inst, store| inst.call_list_orders(
            &mut store,
            updated_since,
            cursor.as_deref(),
            limit
        ))?;
        let orders = page
            .orders
            .into_iter()
            .map(|o| self.order_from("list-orders", o))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StoreOrderPage { orders, next_cursor: page.next_cursor })
    }

    /// Cancels a store order (already cancelled is fine).
    pub async fn cancel_order(
        &self,
        id: &str,
        reason: &str,
        restock: bool,
        refund: bool,
    ) -> Result<(), ConnectorError> {
        let how = ws::Cancellation { reason: reason.to_string(), restock, refund };
        store_orders_call!(self, "cancel-order", |inst, store| inst.call_cancel_order(&mut store, id, &how))
    }

    /// Records a refund; the store's refund id.
    pub async fn refund_order(
        &self,
        id: &str,
        idempotency_key: &str,
        lines: &[(String, u32)],
        amount: &Money,
        restock: bool,
        note: &str,
    ) -> Result<String, ConnectorError> {
        let refund = conv::refund_to_wit(idempotency_key, lines, amount, restock, note);
        store_orders_call!(self, "refund-order", |inst, store| inst
            .call_refund_order(&mut store, id, &refund))
    }

    /// Records a shipment made by the channel; the store's fulfillment id.
    pub async fn fulfill_order(
        &self,
        id: &str,
        lines: &[(String, u32)],
        tracking: &Tracking,
    ) -> Result<String, ConnectorError> {
        let fulfillment = conv::fulfillment_to_wit(lines, tracking);
        store_orders_call!(self, "fulfill-order", |inst, store| inst.call_fulfill_order(
            &mut store,
            id,
            &fulfillment
        ))
    }
}
