//! Shipments, both ways. A store fulfillment (carrier and tracking number, whole, partial or
//! split by line) becomes its own package on the channel carrying exactly the units it ships,
//! through the channel's carrier mapping, and a corrected tracking number corrects only that
//! package (`to_channel`); an order the platform ships itself (TikTok Shipping) has each of its
//! packages recorded as one store fulfillment, and the store's own fulfillments of it are not
//! sent (`from_channel`). Which units a store fulfillment ships is `units`; the carrier mapping
//! is `carrier`. One row per store fulfillment or platform package records what was sent.

mod carrier;
mod from_channel;
mod to_channel;
mod units;

use crate::db::orders::{ClaimedOrder, OrderSettle};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{ShippedBy, StoreOrder};
use crate::orders::OrderSettings;
use crate::orders::create::db_failure;

/// `order_shipments.direction` of a store fulfillment sent to the channel.
const TO_CHANNEL: &str = "to_channel";
/// `order_shipments.direction` of a platform package recorded in the store.
const TO_STORE: &str = "to_store";

/// Sends what the store shipped to the channel and records what the channel shipped in the
/// store, as the settings say.
pub async fn sync_shipments(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
) -> Result<(), OrderSettle> {
    let shipments = engine.app.db.shipments(claim.row.id).await.map_err(db_failure)?;
    match claim.row.order.shipped_by {
        ShippedBy::Seller if settings.fulfillment.send_tracking => {
            to_channel::send_fulfillments(engine, channel, claim, store_order, &shipments).await
        }
        ShippedBy::Seller => Ok(()),
        ShippedBy::Platform => {
            if settings.fulfillment.record_platform_shipments {
                from_channel::record_packages(engine, claim, store_order, &shipments).await?;
            }
            from_channel::hold_back_store_fulfillments(engine, channel, claim, store_order, &shipments).await
        }
    }
}
