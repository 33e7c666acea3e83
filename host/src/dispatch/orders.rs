//! Working on due orders: one claim at a time per worker, each acted on from the state it
//! reads (channel snapshot, store order, settings), then settled with the version it claimed.

use crate::db::DbError;
use crate::db::orders::{ClaimedOrder, Failure, OrderSettle, OrderState};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::ChannelId;
use crate::model::order::OrderStage;
use crate::orders::create::{db_failure, ensure_store_order};
use crate::orders::failure::{Side, settle_for};
use crate::orders::settings::OrderSettings;
use crate::{after_sale, fulfillment};
use std::time::Duration;

/// How long a claimed order stays with its worker.
const LEASE: Duration = Duration::from_secs(60);

/// Orders worked at once: each holds its own lease, so they never work the same order.
const WORKERS: usize = 4;

/// Works every order of the engine's channels that is due now, `WORKERS` at a time; how many
/// were worked.
pub async fn run_due_orders(engine: &SyncEngine) -> Result<usize, DbError> {
    let channels: Vec<ChannelId> =
        engine.channels.values().filter(|c| c.connector.supports_orders()).map(|c| c.row.id).collect();
    if channels.is_empty() {
        return Ok(0);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (engine, channels) = (engine.clone(), channels.clone());
        tasks.spawn(async move { work_orders(&engine, &channels).await });
    }
    let mut worked = 0;
    while let Some(joined) = tasks.join_next().await {
        worked += joined.map_err(|e| DbError::Invalid(format!("an order worker stopped: {e}")))??;
    }
    Ok(worked)
}

/// One worker: claims due orders until none is left.
async fn work_orders(engine: &SyncEngine, channels: &[ChannelId]) -> Result<usize, DbError> {
    let mut worked = 0;
    while let Some(claim) = engine.app.db.claim_order(LEASE, channels).await? {
        // In its own task: a panic (a bug) fails this order with its cause, and the other
        // orders go on, instead of the order coming back and panicking again for ever.
        let handled = {
            let (engine, claim) = (engine.clone(), claim.clone());
            tokio::spawn(async move { sync_order(&engine, &claim).await })
        };
        let settle = match handled.await {
            Ok(settle) => settle,
            Err(e) => {
                let what = format!("order {}", claim.row.channel_order_id);
                OrderSettle::Failed(Failure::new(
                    "internal_error",
                    crate::queue::panic_reason(&what, e),
                    "report the message; retry the order once a fixed version runs",
                ))
            }
        };
        if let OrderSettle::Failed(f) | OrderSettle::Retry { failure: f, .. } = &settle {
            tracing::warn!(
                order = %claim.row.channel_order_id, channel = %claim.row.channel_id,
                kind = %f.kind, cause = %f.cause, "order not synced"
            );
        }
        if !engine.app.db.settle_order(&claim, &settle).await? {
            tracing::warn!(order = claim.row.id, "lost the order's lease; the new holder settles it");
        }
        // A throttled platform holds back every order that would call it, not just this one:
        // otherwise the others spend, in small calls, the points this one waits for.
        if let OrderSettle::Retry { after, failure } = &settle
            && failure.kind.ends_with("_throttled")
        {
            let scope: Vec<ChannelId> = if failure.kind.starts_with("store") {
                channels.to_vec()
            } else {
                vec![claim.row.channel_id]
            };
            let until = crate::db::now_ms() + after.as_millis() as i64;
            engine.app.db.defer_due_orders(&scope, until).await?;
        }
        worked += 1;
    }
    Ok(worked)
}

/// Brings one order up to date, whatever happened before.
pub async fn sync_order(engine: &SyncEngine, claim: &ClaimedOrder) -> OrderSettle {
    let row = &claim.row;
    let Some(channel) = engine.channel(row.channel_id) else {
        return OrderSettle::Failed(Failure::new(
            "channel_gone",
            format!("channel {} is no longer connected", row.channel_id),
            "nothing to do",
        ));
    };
    let settings = match engine.app.db.order_settings_json(channel.row.id).await {
        Ok(json) => match OrderSettings::parse(&json) {
            Ok(s) => s,
            Err(e) => {
                return OrderSettle::Failed(Failure::new(
                    "settings",
                    e,
                    "save the channel's order settings again",
                ));
            }
        },
        Err(e) => return db_failure(e),
    };
    match step(engine, channel, &settings, claim).await {
        Ok(state) => OrderSettle::Done(state),
        Err(settle) => settle,
    }
}

async fn step(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
) -> Result<OrderState, OrderSettle> {
    let db = &engine.app.db;
    let row = &claim.row;
    let order = &row.order;
    let store_order = match &row.store_order_id {
        None => {
            if !settings.order.import {
                return Ok(OrderState::Skipped);
            }
            match order.stage {
                OrderStage::Cancelled => return Ok(OrderState::Skipped),
                OrderStage::Unpaid => return Ok(OrderState::Waiting),
                OrderStage::OnHold if !settings.order.import_on_hold => return Ok(OrderState::Waiting),
                _ => {}
            }
            let created = ensure_store_order(engine, channel, settings, claim).await?;
            db.record_store_order(row.id, &created).await.map_err(db_failure)?;
            tracing::info!(order = %order.id, store_order = %created.name, channel = %channel.row.name, "order created in the store");
            created
        }
        Some(id) => match engine.store_connector.get_order(id).await {
            Ok(Some(current)) => {
                db.record_store_order(row.id, &current).await.map_err(db_failure)?;
                current
            }
            Ok(None) => {
                return Err(OrderSettle::Failed(Failure::new(
                    "store_order_deleted",
                    format!("store order {id} (from channel order {}) is gone from the store", order.id),
                    "nothing crosses for this order any more; recreate it in the store by hand if needed",
                )));
            }
            Err(e) => return Err(settle_for(&e, Side::Store, row.attempts, "reading the store order")),
        },
    };
    after_sale::sync_cancellations(engine, channel, settings, claim, &store_order).await?;
    fulfillment::sync_shipments(engine, channel, settings, claim, &store_order).await?;
    after_sale::sync_after_sales(engine, channel, settings, claim, &store_order).await?;
    Ok(OrderState::Synced)
}
