//! How orders become known: a channel's signed webhooks and polling of every channel (orders
//! and after-sale requests changed since the last poll), and the store's order webhooks and
//! polling (fulfillments, cancellations, refunds made in the store). Both only record what was
//! reported and make the order due; `work` acts on it. The same order arriving by webhook and
//! by polling at once is one row (unique per channel and order id), acted on once.

use crate::connectors::ErrorKind;
use crate::connectors::channel_orders::ChannelEvent;
use crate::db::DbError;
use crate::engine::{ChannelRuntime, SyncEngine, SyncError};
use crate::model::ChannelId;
use crate::queue::retry_inline;
use serde::Serialize;

/// Orders are read again this far back on every poll, so one changed while the last poll
/// ran (or with a clock a little off) is not missed.
const POLL_OVERLAP_MS: i64 = 5 * 60 * 1000;
const PAGE: u32 = 50;

/// What a poll found.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct PollReport {
    /// Orders read from the channels.
    pub orders_seen: usize,
    /// Orders new or changed, now due.
    pub orders_due: usize,
    /// After-sale requests read.
    pub after_sales_seen: usize,
    /// Store orders read.
    pub store_orders_seen: usize,
}

/// Polls every channel that carries orders, and the store.
pub async fn poll_orders(engine: &SyncEngine) -> Result<PollReport, SyncError> {
    let mut report = PollReport::default();
    for channel in engine.channels.values().filter(|c| c.connector.supports_orders()) {
        poll_channel(engine, channel, &mut report).await?;
    }
    if engine.store_connector.supports_orders() {
        poll_store(engine, &mut report).await?;
    }
    Ok(report)
}

async fn poll_channel(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    report: &mut PollReport,
) -> Result<(), SyncError> {
    let db = &engine.app.db;
    let started = crate::db::now_ms();
    let since = (db.orders_polled_until(channel.row.id).await? - POLL_OVERLAP_MS).max(0);
    let mut cursor: Option<String> = None;
    loop {
        let page = retry_inline("reading channel orders", || {
            channel.connector.list_orders(since, cursor.as_deref(), PAGE)
        })
        .await?;
        for order in &page.orders {
            report.orders_seen += 1;
            if db.record_channel_order(channel.row.id, order).await?.1 {
                report.orders_due += 1;
            }
        }
        match page.next_cursor {
            Some(next) if !page.orders.is_empty() || cursor.as_deref() != Some(next.as_str()) => {
                cursor = Some(next)
            }
            _ => break,
        }
    }
    let mut cursor: Option<String> = None;
    loop {
        let page = retry_inline("reading after-sale requests", || {
            channel.connector.list_after_sales(since, cursor.as_deref(), PAGE)
        })
        .await?;
        for request in &page.requests {
            report.after_sales_seen += 1;
            if order_changed(engine, channel, &request.order_id).await? {
                report.orders_due += 1;
            }
        }
        match page.next_cursor {
            Some(next) if !page.requests.is_empty() => cursor = Some(next),
            _ => break,
        }
    }
    db.set_orders_polled_until(channel.row.id, started).await?;
    Ok(())
}

/// The store side: orders changed there (fulfilled, cancelled, refunded) make their channel
/// order due.
async fn poll_store(engine: &SyncEngine, report: &mut PollReport) -> Result<(), SyncError> {
    let db = &engine.app.db;
    let started = crate::db::now_ms();
    let since = (db.store_orders_polled_until(engine.store.id).await? - POLL_OVERLAP_MS).max(0);
    let mut cursor: Option<String> = None;
    loop {
        let page = retry_inline("reading store orders", || {
            engine.store_connector.list_orders(since, cursor.as_deref(), PAGE)
        })
        .await?;
        for order in &page.orders {
            report.store_orders_seen += 1;
            report.orders_due += store_order_changed(engine, &order.id).await?;
        }
        match page.next_cursor {
            Some(next) if !page.orders.is_empty() => cursor = Some(next),
            _ => break,
        }
    }
    db.set_store_orders_polled_until(engine.store.id, started).await?;
    Ok(())
}

/// A store order changed: its channel order is due again. How many orders that makes due.
pub async fn store_order_changed(engine: &SyncEngine, store_order_id: &str) -> Result<usize, DbError> {
    let db = &engine.app.db;
    let mut due = 0;
    for id in db.orders_by_store_id(store_order_id).await? {
        if db.touch_order(id, false).await? {
            due += 1;
        }
    }
    Ok(due)
}

/// A channel order changed (or one of its after-sale requests did): the order is read from
/// the channel and recorded; true when that made it due.
pub async fn order_changed(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    order_id: &str,
) -> Result<bool, SyncError> {
    let db = &engine.app.db;
    match retry_inline("reading a channel order", || channel.connector.get_order(order_id)).await? {
        Some(order) => {
            let (id, changed) = db.record_channel_order(channel.row.id, &order).await?;
            // An after-sale change leaves the order itself unchanged: it is due all the same.
            if !changed {
                db.touch_order(id, false).await?;
            }
            Ok(true)
        }
        None => {
            tracing::warn!(channel = %channel.row.id, order = %order_id, "the channel reported an order it does not have");
            Ok(false)
        }
    }
}

/// What a channel webhook delivery did.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ChannelWebhookOutcome {
    pub topic: String,
    pub duplicate: bool,
    /// Orders recorded or made due.
    pub orders: usize,
    /// Events this host does not act on (listing changes are caught by drift checks).
    pub ignored: usize,
}

/// Why a channel webhook was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ChannelWebhookError {
    /// Bad signature, another shop, unreadable body: the sender should not retry.
    #[error("{0}")]
    Refused(crate::connectors::ConnectorError),
    /// Could not be acted on now: the platform retries.
    #[error("{0}")]
    Unavailable(String),
}

/// Verifies a channel's webhook with its connector, then records the orders it concerns.
/// Deduplicated by the platform's event id, recorded only once handled, so a delivery answered
/// 503 and retried is handled on the retry.
pub async fn receive_channel_webhook(
    engine: &SyncEngine,
    channel_id: ChannelId,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<ChannelWebhookOutcome, ChannelWebhookError> {
    let unavailable = |e: &dyn std::fmt::Display| ChannelWebhookError::Unavailable(e.to_string());
    let Some(channel) = engine.channel(channel_id) else {
        return Err(ChannelWebhookError::Unavailable(format!("channel {channel_id} is not loaded")));
    };
    let delivery = channel.connector.verify_webhook(headers, body).await.map_err(|e| match e.kind {
        ErrorKind::Unauthorized(_)
        | ErrorKind::Invalid { .. }
        | ErrorKind::NotFound(_)
        | ErrorKind::Unsupported(_) => ChannelWebhookError::Refused(e),
        _ => ChannelWebhookError::Unavailable(e.to_string()),
    })?;
    let db = &engine.app.db;
    let mut outcome = ChannelWebhookOutcome { topic: delivery.topic.clone(), ..Default::default() };
    let dedup_key = delivery.event_id.as_ref().map(|id| format!("channel:{channel_id}:{id}"));
    if let Some(key) = &dedup_key
        && db.delivery_handled(engine.store.id, key).await.map_err(|e| unavailable(&e))?
    {
        outcome.duplicate = true;
        return Ok(outcome);
    }
    for event in delivery.events {
        match event {
            ChannelEvent::OrderChanged(id) | ChannelEvent::AfterSaleChanged(id) => {
                if order_changed(engine, channel, &id).await.map_err(|e| unavailable(&e))? {
                    outcome.orders += 1;
                }
            }
            ChannelEvent::ListingChanged(_) => outcome.ignored += 1,
        }
    }
    if let Some(key) = &dedup_key {
        db.record_delivery(engine.store.id, key).await.map_err(|e| unavailable(&e))?;
    }
    tracing::info!(channel = %channel_id, topic = %outcome.topic, orders = outcome.orders, "channel webhook");
    Ok(outcome)
}
