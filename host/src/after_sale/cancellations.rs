//! Cancellations, both ways: a whole-order cancellation on the channel cancels the store order
//! (restocking as the settings say); a store cancellation is sent to the channel where the
//! platform lets the seller cancel at that stage. Partial cancellations the channel paid are
//! refunds (`refunds`).

use crate::db::orders::{ClaimedOrder, Failure, OrderSettle};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{OrderStage, StoreOrder};
use crate::orders::OrderSettings;
use crate::orders::create::db_failure;
use crate::orders::failure::{Side, settle_for};

/// A cancellation on either side reaches the other, as the settings say.
pub async fn sync_cancellations(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let row = &claim.row;
    let channel_cancelled = row.order.stage == OrderStage::Cancelled;
    if channel_cancelled && !store_order.cancelled && settings.cancellation.channel_to_store {
        let reason = format!("cancelled on {} (order {})", channel.row.name, row.order.id);
        engine
            .store_connector
            .cancel_order(&store_order.id, &reason, settings.cancellation.restock, false)
            .await
            .map_err(|e| settle_for(&e, Side::Store, row.attempts, "cancelling the store order"))?;
        db.mark_store_cancelled(row.id).await.map_err(db_failure)?;
        tracing::info!(order = %row.order.id, store_order = %store_order.name, "store order cancelled");
    }
    let cancelled_in_store = store_order.cancelled && !row.store_cancelled;
    if cancelled_in_store
        && !channel_cancelled
        && !row.channel_cancel_sent
        && settings.cancellation.store_to_channel
    {
        let reason = format!("cancelled in the store ({})", store_order.name);
        match channel.connector.cancel_order(&row.order.id, &reason).await {
            Ok(()) => {
                db.mark_channel_cancel_sent(row.id).await.map_err(db_failure)?;
                tracing::info!(order = %row.order.id, "channel order cancelled");
            }
            Err(e) if matches!(e.kind, crate::connectors::ErrorKind::Invalid { .. }) => {
                return Err(OrderSettle::Failed(Failure::new(
                    "cancel_not_allowed",
                    format!(
                        "store order {} was cancelled, but {} refused to cancel order {}: {e}",
                        store_order.name, channel.row.name, row.order.id
                    ),
                    "the platform does not let the seller cancel the order in its current stage: cancel it in the \
                     platform's seller center or ask the buyer to, then retry the order",
                )));
            }
            Err(e) => {
                return Err(settle_for(&e, Side::Channel, row.attempts, "cancelling the channel order"));
            }
        }
    }
    Ok(())
}
