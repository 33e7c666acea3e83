//! Channel orders, the store orders they became, and the shipments and after-sale requests
//! that crossed. Each order row is its own work item (see migration 0005): recording a newer
//! channel snapshot, a store change or a retry moves `version` on; a worker claims an order
//! with a lease, acts on the state it reads, and settles the version it claimed, so a change
//! made meanwhile is acted on next.

use super::jobs::lease_token;
use super::{Backend, Context, Db, DbError, now_ms};
use crate::model::ChannelId;
use crate::model::order::{ChannelOrder, OrderStage, StoreOrder};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::time::Duration;

/// Where an order stands in Crossdock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderState {
    /// Not importable yet (unpaid, or on hold when the channel waits for the hold to end).
    Waiting,
    /// The order rule holds it for the merchant.
    Held,
    /// To be worked on.
    Pending,
    /// In the store, and every change so far acted on.
    Synced,
    /// Stopped on a failure the merchant must fix; retry after the fix.
    Failed,
    /// Not imported, on purpose (the order rule, or cancelled before import).
    Skipped,
}

impl OrderState {
    pub const ALL: [OrderState; 6] = [
        OrderState::Waiting,
        OrderState::Held,
        OrderState::Pending,
        OrderState::Synced,
        OrderState::Failed,
        OrderState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Waiting => "waiting",
            OrderState::Held => "held",
            OrderState::Pending => "pending",
            OrderState::Synced => "synced",
            OrderState::Failed => "failed",
            OrderState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// A failure the merchant can act on: a stable kind, the cause, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Failure {
    pub kind: String,
    pub cause: String,
    pub fix: String,
}

impl Failure {
    pub fn new(kind: &str, cause: impl Into<String>, fix: impl Into<String>) -> Self {
        Failure { kind: kind.to_string(), cause: cause.into(), fix: fix.into() }
    }
}

/// An order row.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OrderRow {
    pub id: i64,
    pub channel_id: ChannelId,
    pub channel_order_id: String,
    pub status: String,
    pub stage: OrderStage,
    pub state: OrderState,
    pub store_order_id: Option<String>,
    pub store_order_name: Option<String>,
    pub failure: Option<Failure>,
    pub attempts: i64,
    pub store_cancelled: bool,
    pub channel_cancel_sent: bool,
    /// The merchant released it from the order rule's hold.
    pub released: bool,
    #[serde(skip)]
    pub order: ChannelOrder,
    #[serde(skip)]
    pub store_order: Option<StoreOrder>,
    #[serde(skip)]
    pub create_started_at: Option<i64>,
    pub channel_updated_at: i64,
    pub updated_at: i64,
}

/// A claimed order: the row as read at claim time, the version claimed and the lease.
#[derive(Debug, Clone)]
pub struct ClaimedOrder {
    pub row: OrderRow,
    pub version: i64,
    pub lease_token: String,
}

/// How working on an order ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSettle {
    /// Every change so far acted on; the order now stands in `state`.
    Done(OrderState),
    /// Stopped on a failure the merchant must fix.
    Failed(Failure),
    /// Stopped on purpose (held or skipped by the order rule), with the reason.
    Stopped(OrderState, Failure),
    /// Try again after the delay (a platform error worth retrying).
    Retry { after: Duration, failure: Failure },
}

/// A shipment that crossed, or a store fulfillment that was not sent and why: one row per
/// store fulfillment (`to_channel`) and per platform package (`to_store`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ShipmentRow {
    /// `to_channel` or `to_store`.
    pub direction: String,
    /// The store fulfillment id, or the channel package id.
    pub source_id: String,
    /// The channel package id, or the store fulfillment id, once sent.
    pub target_id: Option<String>,
    pub carrier: String,
    pub tracking_number: String,
    /// The channel's unit line ids it carried.
    pub units: Vec<String>,
    /// `sent`, `failed` or `not_sent`.
    pub state: String,
    /// Why it failed (`failed`) or was not sent (`not_sent`).
    pub failure: Option<Failure>,
}

impl ShipmentRow {
    pub fn is_sent(&self) -> bool {
        self.state == ShipmentOutcome::SENT
    }

    /// Deliberately not sent (the reason is in `failure`).
    pub fn is_not_sent(&self) -> bool {
        self.state == ShipmentOutcome::NOT_SENT
    }
}

/// How crossing one shipment ended.
#[derive(Debug, Clone, Copy)]
pub enum ShipmentOutcome<'a> {
    Sent,
    Failed(&'a Failure),
    /// Deliberately not sent, with the reason the order's detail shows.
    NotSent(&'a Failure),
}

impl ShipmentOutcome<'_> {
    const SENT: &'static str = "sent";
    const NOT_SENT: &'static str = "not_sent";

    fn state(self) -> &'static str {
        match self {
            ShipmentOutcome::Sent => Self::SENT,
            ShipmentOutcome::Failed(_) => "failed",
            ShipmentOutcome::NotSent(_) => Self::NOT_SENT,
        }
    }
}

/// One shipment to record: which record it came from and went to, what it carried.
#[derive(Debug, Clone, Copy)]
pub struct ShipmentRecord<'a> {
    /// `to_channel` or `to_store`.
    pub direction: &'a str,
    pub source_id: &'a str,
    pub target_id: Option<&'a str>,
    pub carrier: &'a str,
    pub tracking_number: &'a str,
    pub units: &'a [String],
}

/// An after-sale request and what it became.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AfterSaleRow {
    pub after_sale_id: String,
    pub kind: String,
    pub stage: String,
    /// The platform's status, verbatim, as last read.
    pub status: String,
    /// The decision the channel waits for from the seller (`request`, `received-goods`), if any.
    pub awaiting_seller: Option<crate::model::order::SellerDecision>,
    /// The buyer's parcel back, for a return once shipped.
    pub return_tracking: Option<crate::model::order::Tracking>,
    pub store_refund_id: Option<String>,
    pub state: String,
    pub failure: Option<Failure>,
}

const ORDER_COLUMNS: &str = "id, channel_id, channel_order_id, status, stage, snapshot, channel_updated_at, \
     create_started_at, store_order_id, store_order_name, store_snapshot, state, failure_kind, failure, fix, \
     attempts, store_cancelled, channel_cancel_sent, released, updated_at, version";

fn failure_from(row: &AnyRow, prefix: &str) -> Result<Option<Failure>, DbError> {
    let ctx = || format!("reading {prefix} failure");
    let kind: Option<String> = row.try_get("failure_kind").context(ctx)?;
    Ok(match kind {
        Some(kind) => Some(Failure {
            kind,
            cause: row.try_get::<Option<String>, _>("failure").context(ctx)?.unwrap_or_default(),
            fix: row.try_get::<Option<String>, _>("fix").context(ctx)?.unwrap_or_default(),
        }),
        None => None,
    })
}

fn order_from(row: &AnyRow) -> Result<OrderRow, DbError> {
    let ctx = || "reading an order".to_string();
    let id: i64 = row.try_get("id").context(ctx)?;
    let stage: String = row.try_get("stage").context(ctx)?;
    let state: String = row.try_get("state").context(ctx)?;
    let snapshot: String = row.try_get("snapshot").context(ctx)?;
    let store_snapshot: Option<String> = row.try_get("store_snapshot").context(ctx)?;
    Ok(OrderRow {
        id,
        channel_id: ChannelId(row.try_get("channel_id").context(ctx)?),
        channel_order_id: row.try_get("channel_order_id").context(ctx)?,
        status: row.try_get("status").context(ctx)?,
        stage: OrderStage::parse(&stage)
            .ok_or_else(|| DbError::Corrupt(format!("order {id} stage `{stage}`")))?,
        state: OrderState::parse(&state)
            .ok_or_else(|| DbError::Corrupt(format!("order {id} state `{state}`")))?,
        store_order_id: row.try_get("store_order_id").context(ctx)?,
        store_order_name: row.try_get("store_order_name").context(ctx)?,
        failure: failure_from(row, "order")?,
        attempts: row.try_get("attempts").context(ctx)?,
        store_cancelled: row.try_get::<i64, _>("store_cancelled").context(ctx)? != 0,
        channel_cancel_sent: row.try_get::<i64, _>("channel_cancel_sent").context(ctx)? != 0,
        released: row.try_get::<i64, _>("released").context(ctx)? != 0,
        order: serde_json::from_str(&snapshot)
            .map_err(|e| DbError::Corrupt(format!("order {id} snapshot: {e}")))?,
        store_order: store_snapshot
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| DbError::Corrupt(format!("order {id} store snapshot: {e}")))?,
        create_started_at: row.try_get("create_started_at").context(ctx)?,
        channel_updated_at: row.try_get("channel_updated_at").context(ctx)?,
        updated_at: row.try_get("updated_at").context(ctx)?,
    })
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

impl Db {
    /// Records what a channel reported for an order. A new order is due at once; a known one
    /// is due again when the snapshot changed and is not older than the one kept (deliveries
    /// that arrive late or out of order never roll an order back). Answers the row id and
    /// whether anything changed.
    pub async fn record_channel_order(
        &self,
        channel: ChannelId,
        order: &ChannelOrder,
    ) -> Result<(i64, bool), DbError> {
        let now = now_ms();
        let snapshot = json(order);
        let inserted = sqlx::query(
            "INSERT INTO channel_orders (channel_id, channel_order_id, status, stage, snapshot, \
             channel_updated_at, state, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7, $7) \
             ON CONFLICT (channel_id, channel_order_id) DO NOTHING RETURNING id",
        )
        .bind(channel.0)
        .bind(&order.id)
        .bind(&order.status)
        .bind(order.stage.as_str())
        .bind(&snapshot)
        .bind(order.updated_at)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("recording order {} of channel {channel}", order.id))?;
        if let Some(row) = inserted {
            return Ok((row.try_get("id").context(|| "reading the new order id".into())?, true));
        }
        let updated = sqlx::query(
            "UPDATE channel_orders SET status = $1, stage = $2, snapshot = $3, channel_updated_at = $4, \
             version = version + 1, run_after = $5, updated_at = $5 \
             WHERE channel_id = $6 AND channel_order_id = $7 AND channel_updated_at <= $4 AND snapshot <> $3 \
             RETURNING id",
        )
        .bind(&order.status)
        .bind(order.stage.as_str())
        .bind(&snapshot)
        .bind(order.updated_at)
        .bind(now)
        .bind(channel.0)
        .bind(&order.id)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("updating order {} of channel {channel}", order.id))?;
        if let Some(row) = updated {
            return Ok((row.try_get("id").context(|| "reading the order id".into())?, true));
        }
        let id = self
            .order_id(channel, &order.id)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("order {} of channel {channel}", order.id)))?;
        Ok((id, false))
    }

    /// The row id of a channel order, if Crossdock has seen it.
    pub async fn order_id(&self, channel: ChannelId, channel_order_id: &str) -> Result<Option<i64>, DbError> {
        let row =
            sqlx::query("SELECT id FROM channel_orders WHERE channel_id = $1 AND channel_order_id = $2")
                .bind(channel.0)
                .bind(channel_order_id)
                .fetch_optional(self.pool())
                .await
                .context(|| format!("finding order {channel_order_id} of channel {channel}"))?;
        row.map(|r| r.try_get("id").context(|| "reading the order id".into())).transpose()
    }

    /// Makes an order due again now: the store changed it, an after-sale request changed, or
    /// the merchant asked for a retry (which also forgets the failure count).
    pub async fn touch_order(&self, id: i64, retry: bool) -> Result<bool, DbError> {
        let now = now_ms();
        let sql = if retry {
            "UPDATE channel_orders SET version = version + 1, run_after = $1, attempts = 0, updated_at = $1, \
             state = CASE WHEN state IN ('failed', 'held') THEN 'pending' ELSE state END WHERE id = $2"
        } else {
            "UPDATE channel_orders SET version = version + 1, run_after = $1, updated_at = $1 WHERE id = $2"
        };
        let done = sqlx::query(sql)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await
            .context(|| format!("making order {id} due"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Releases an order the order rule held: it is imported on its next run, hold or not.
    pub async fn release_order(&self, id: i64) -> Result<bool, DbError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE channel_orders SET released = 1, state = 'pending', version = version + 1, run_after = $1, \
             attempts = 0, updated_at = $1 WHERE id = $2 AND state = 'held'",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("releasing order {id}"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The orders with this store order id (normally one).
    pub async fn orders_by_store_id(&self, store_order_id: &str) -> Result<Vec<i64>, DbError> {
        let rows = sqlx::query("SELECT id FROM channel_orders WHERE store_order_id = $1")
            .bind(store_order_id)
            .fetch_all(self.pool())
            .await
            .context(|| format!("finding the orders of store order {store_order_id}"))?;
        rows.iter().map(|r| r.try_get("id").context(|| "reading an order id".into())).collect()
    }

    /// The failed orders of a channel, or only those failed with `kind`, oldest first (what a
    /// bulk retry goes through).
    pub async fn failed_order_ids(
        &self,
        channel: ChannelId,
        kind: Option<&str>,
    ) -> Result<Vec<i64>, DbError> {
        let rows = sqlx::query(
            "SELECT id FROM channel_orders WHERE channel_id = $1 AND state = 'failed' \
             AND ($2 IS NULL OR failure_kind = $2) ORDER BY id",
        )
        .bind(channel.0)
        .bind(kind)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing the failed orders of channel {channel}"))?;
        rows.iter().map(|r| r.try_get("id").context(|| "reading an order id".into())).collect()
    }

    /// Makes one failed order due again with fresh attempts; false when it is no longer
    /// failed (a worker or another retry got there first).
    pub async fn retry_failed_order(&self, id: i64) -> Result<bool, DbError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE channel_orders SET version = version + 1, run_after = $1, attempts = 0, updated_at = $1, \
             state = 'pending' WHERE id = $2 AND state = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("retrying order {id}"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Retries every failed order of a channel, or only those failed with `kind`; how many.
    pub async fn retry_failed_orders(&self, channel: ChannelId, kind: Option<&str>) -> Result<u64, DbError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE channel_orders SET version = version + 1, run_after = $1, attempts = 0, updated_at = $1, \
             state = 'pending' WHERE channel_id = $2 AND state = 'failed' AND ($3 IS NULL OR failure_kind = $3)",
        )
        .bind(now)
        .bind(channel.0)
        .bind(kind)
        .execute(self.pool())
        .await
        .context(|| format!("retrying the failed orders of channel {channel}"))?;
        Ok(done.rows_affected())
    }

    /// Claims the order due first among `channels`, leased for `lease`.
    pub async fn claim_order(
        &self,
        lease: Duration,
        channels: &[ChannelId],
    ) -> Result<Option<ClaimedOrder>, DbError> {
        if channels.is_empty() {
            return Ok(None);
        }
        let now = now_ms();
        let list = channels.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",");
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let token = lease_token();
        let sql = format!(
            "UPDATE channel_orders SET lease_until = $1, lease_token = $2, attempts = attempts + 1 WHERE id = \
             (SELECT id FROM channel_orders WHERE synced_version < version AND run_after <= $3 \
             AND (lease_until IS NULL OR lease_until < $3) AND channel_id IN ({list}) \
             ORDER BY run_after, id LIMIT 1{lock}) RETURNING {ORDER_COLUMNS}"
        );
        // Only ids (integers) and fixed text are formatted in.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now + lease.as_millis() as i64)
            .bind(&token)
            .bind(now)
            .fetch_optional(self.pool())
            .await
            .context(|| "claiming an order".to_string())?;
        let Some(row) = row else { return Ok(None) };
        let version: i64 = row.try_get("version").context(|| "reading the claimed version".into())?;
        Ok(Some(ClaimedOrder { row: order_from(&row)?, version, lease_token: token }))
    }

    /// When the next order of `channels` falls due, if any is waiting.
    pub async fn next_order_due(&self, channels: &[ChannelId]) -> Result<Option<i64>, DbError> {
        if channels.is_empty() {
            return Ok(None);
        }
        let list = channels.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",");
        // Only ids (integers) are formatted in.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > run_after THEN lease_until \
             ELSE run_after END) AS due FROM channel_orders WHERE synced_version < version AND channel_id IN ({list})"
        )))
        .fetch_one(self.pool())
        .await
        .context(|| "reading when the next order is due".to_string())?;
        row.try_get("due").context(|| "reading the next due time".into())
    }

    /// Holds back every due order of `channels` until `until` (Unix ms): a platform throttled
    /// one of them, and the others would only spend the points it waits for.
    pub async fn defer_due_orders(&self, channels: &[ChannelId], until: i64) -> Result<u64, DbError> {
        if channels.is_empty() {
            return Ok(0);
        }
        let list = channels.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",");
        // Only ids (integers) are formatted in.
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE channel_orders SET run_after = $1 WHERE synced_version < version AND run_after < $1 \
             AND channel_id IN ({list})"
        )))
        .bind(until)
        .execute(self.pool())
        .await
        .context(|| "holding back due orders".to_string())?;
        Ok(done.rows_affected())
    }

    /// Notes, before the store's create is called, that it is about to be: after a crash
    /// before its answer is recorded, the next attempt looks the order up first.
    pub async fn mark_store_create_started(&self, claim: &ClaimedOrder) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE channel_orders SET create_started_at = $1 WHERE id = $2 AND lease_token = $3",
        )
        .bind(now_ms())
        .bind(claim.row.id)
        .bind(&claim.lease_token)
        .execute(self.pool())
        .await
        .context(|| format!("marking the store create of order {}", claim.row.id))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the store order an order became (or is), with what the store holds for it.
    pub async fn record_store_order(&self, id: i64, store_order: &StoreOrder) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE channel_orders SET store_order_id = $1, store_order_name = $2, store_snapshot = $3, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(&store_order.id)
        .bind(&store_order.name)
        .bind(json(store_order))
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("recording the store order of order {id}"))?;
        Ok(())
    }

    /// Notes that Crossdock cancelled the store order (from a channel cancellation), so the
    /// store's cancellation is not sent back to the channel.
    pub async fn mark_store_cancelled(&self, id: i64) -> Result<(), DbError> {
        self.set_flag(id, "store_cancelled").await
    }

    /// Notes that the channel was asked to cancel (a store cancellation crossed).
    pub async fn mark_channel_cancel_sent(&self, id: i64) -> Result<(), DbError> {
        self.set_flag(id, "channel_cancel_sent").await
    }

    async fn set_flag(&self, id: i64, column: &'static str) -> Result<(), DbError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE channel_orders SET {column} = 1, updated_at = $1 WHERE id = $2"
        )))
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("setting {column} on order {id}"))?;
        Ok(())
    }

    /// Ends a claim: the version claimed is acted on (unless a retry is due), and a change
    /// recorded meanwhile keeps the order due. False when the lease was lost.
    pub async fn settle_order(&self, claim: &ClaimedOrder, settle: &OrderSettle) -> Result<bool, DbError> {
        let now = now_ms();
        let (state, failure, synced, run_after, reset) = match settle {
            OrderSettle::Done(state) => (*state, None, claim.version, now, true),
            OrderSettle::Failed(f) => (OrderState::Failed, Some(f), claim.version, now, false),
            OrderSettle::Stopped(state, f) => (*state, Some(f), claim.version, now, true),
            OrderSettle::Retry { after, failure } => {
                (OrderState::Pending, Some(failure), claim.version - 1, now + after.as_millis() as i64, false)
            }
        };
        // A throttled attempt does not count toward the failure count.
        let uncount =
            matches!(settle, OrderSettle::Retry { failure, .. } if failure.kind.ends_with("_throttled"));
        let done = sqlx::query(
            "UPDATE channel_orders SET state = $1, failure_kind = $2, failure = $3, fix = $4, \
             synced_version = CASE WHEN synced_version > $5 THEN synced_version ELSE $5 END, run_after = $6, \
             attempts = CASE WHEN $7 = 1 THEN 0 WHEN $11 = 1 THEN attempts - 1 ELSE attempts END, \
             lease_until = NULL, lease_token = NULL, updated_at = $8 WHERE id = $9 AND lease_token = $10",
        )
        .bind(state.as_str())
        .bind(failure.map(|f| f.kind.clone()))
        .bind(failure.map(|f| f.cause.clone()))
        .bind(failure.map(|f| f.fix.clone()))
        .bind(synced)
        .bind(run_after)
        .bind(i64::from(reset))
        .bind(now)
        .bind(claim.row.id)
        .bind(&claim.lease_token)
        .bind(i64::from(uncount))
        .execute(self.pool())
        .await
        .context(|| format!("settling order {}", claim.row.id))?;
        Ok(done.rows_affected() == 1)
    }

    /// One order by row id.
    pub async fn order(&self, id: i64) -> Result<Option<OrderRow>, DbError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM channel_orders WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading order {id}"))?;
        row.as_ref().map(order_from).transpose()
    }

    /// A channel's orders, newest first, optionally in one state.
    pub async fn orders(
        &self,
        channel: ChannelId,
        state: Option<OrderState>,
        limit: i64,
    ) -> Result<Vec<OrderRow>, DbError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM channel_orders WHERE channel_id = $1 AND ($2 IS NULL OR state = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(channel.0)
        .bind(state.map(OrderState::as_str))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing the orders of channel {channel}"))?;
        rows.iter().map(order_from).collect()
    }

    /// How many orders of a channel stand in each state, and failures by kind.
    pub async fn order_counts(&self, channel: ChannelId) -> Result<Vec<(String, String, i64)>, DbError> {
        let rows = sqlx::query(
            "SELECT state, COALESCE(failure_kind, '') AS kind, COUNT(*) AS n FROM channel_orders \
             WHERE channel_id = $1 GROUP BY state, COALESCE(failure_kind, '') ORDER BY state, kind",
        )
        .bind(channel.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("counting the orders of channel {channel}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || "reading order counts".to_string();
                Ok((
                    r.try_get("state").context(ctx)?,
                    r.try_get("kind").context(ctx)?,
                    r.try_get("n").context(ctx)?,
                ))
            })
            .collect()
    }

    /// The shipments of an order.
    pub async fn shipments(&self, order: i64) -> Result<Vec<ShipmentRow>, DbError> {
        let rows = sqlx::query(
            "SELECT direction, source_id, target_id, carrier, tracking_number, units, state, failure_kind, \
             failure, fix FROM order_shipments WHERE order_id = $1 ORDER BY id",
        )
        .bind(order)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the shipments of order {order}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || "reading a shipment".to_string();
                let units: Option<String> = r.try_get("units").context(ctx)?;
                let units = match units {
                    Some(json) => serde_json::from_str(&json).map_err(|e| {
                        DbError::Invalid(format!(
                            "the units of a shipment of order {order} are not a JSON list: {e}"
                        ))
                    })?,
                    None => Vec::new(),
                };
                Ok(ShipmentRow {
                    direction: r.try_get("direction").context(ctx)?,
                    source_id: r.try_get("source_id").context(ctx)?,
                    target_id: r.try_get("target_id").context(ctx)?,
                    carrier: r.try_get("carrier").context(ctx)?,
                    tracking_number: r.try_get("tracking_number").context(ctx)?,
                    units,
                    state: r.try_get("state").context(ctx)?,
                    failure: failure_from(r, "shipment")?,
                })
            })
            .collect()
    }

    /// Records how crossing a shipment ended (one row per source record, the latest outcome).
    pub async fn record_shipment(
        &self,
        order: i64,
        shipment: &ShipmentRecord<'_>,
        outcome: ShipmentOutcome<'_>,
    ) -> Result<(), DbError> {
        let reason = match outcome {
            ShipmentOutcome::Sent => None,
            ShipmentOutcome::Failed(f) | ShipmentOutcome::NotSent(f) => Some(f),
        };
        let units = if shipment.units.is_empty() {
            None
        } else {
            Some(serde_json::to_string(shipment.units).map_err(|e| DbError::Invalid(e.to_string()))?)
        };
        sqlx::query(
            "INSERT INTO order_shipments (order_id, direction, source_id, target_id, carrier, tracking_number, \
             units, state, failure_kind, failure, fix, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (order_id, direction, source_id) DO UPDATE SET target_id = excluded.target_id, \
             carrier = excluded.carrier, tracking_number = excluded.tracking_number, units = excluded.units, \
             state = excluded.state, failure_kind = excluded.failure_kind, failure = excluded.failure, \
             fix = excluded.fix, updated_at = excluded.updated_at",
        )
        .bind(order)
        .bind(shipment.direction)
        .bind(shipment.source_id)
        .bind(shipment.target_id)
        .bind(shipment.carrier)
        .bind(shipment.tracking_number)
        .bind(units)
        .bind(outcome.state())
        .bind(reason.map(|f| f.kind.clone()))
        .bind(reason.map(|f| f.cause.clone()))
        .bind(reason.map(|f| f.fix.clone()))
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context(|| format!("recording shipment {} of order {order}", shipment.source_id))?;
        Ok(())
    }

    /// The after-sale requests of an order.
    pub async fn after_sales(&self, order: i64) -> Result<Vec<AfterSaleRow>, DbError> {
        let rows = sqlx::query(
            "SELECT after_sale_id, kind, stage, snapshot, store_refund_id, state, failure_kind, failure, fix \
             FROM order_after_sales WHERE order_id = $1 ORDER BY id",
        )
        .bind(order)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the after-sale requests of order {order}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || "reading an after-sale request".to_string();
                let snapshot: String = r.try_get("snapshot").context(ctx)?;
                let request: Option<crate::model::order::AfterSale> = serde_json::from_str(&snapshot).ok();
                Ok(AfterSaleRow {
                    after_sale_id: r.try_get("after_sale_id").context(ctx)?,
                    kind: r.try_get("kind").context(ctx)?,
                    stage: r.try_get("stage").context(ctx)?,
                    status: request.as_ref().map(|a| a.status.clone()).unwrap_or_default(),
                    awaiting_seller: request.as_ref().and_then(|a| a.awaiting_seller),
                    return_tracking: request.and_then(|a| a.return_tracking),
                    store_refund_id: r.try_get("store_refund_id").context(ctx)?,
                    state: r.try_get("state").context(ctx)?,
                    failure: failure_from(r, "after-sale")?,
                })
            })
            .collect()
    }

    /// Records an after-sale request and what it became.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_after_sale(
        &self,
        order: i64,
        request: &crate::model::order::AfterSale,
        store_refund_id: Option<&str>,
        state: &str,
        failure: Option<&Failure>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO order_after_sales (order_id, after_sale_id, kind, stage, snapshot, store_refund_id, state, \
             failure_kind, failure, fix, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (order_id, after_sale_id) DO UPDATE SET kind = excluded.kind, stage = excluded.stage, \
             snapshot = excluded.snapshot, \
             store_refund_id = COALESCE(excluded.store_refund_id, order_after_sales.store_refund_id), \
             state = excluded.state, failure_kind = excluded.failure_kind, failure = excluded.failure, \
             fix = excluded.fix, updated_at = excluded.updated_at",
        )
        .bind(order)
        .bind(&request.id)
        .bind(request.kind.as_str())
        .bind(request.stage.as_str())
        .bind(json(request))
        .bind(store_refund_id)
        .bind(state)
        .bind(failure.map(|f| f.kind.clone()))
        .bind(failure.map(|f| f.cause.clone()))
        .bind(failure.map(|f| f.fix.clone()))
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context(|| format!("recording after-sale request {} of order {order}", request.id))?;
        Ok(())
    }

    /// The channel's carrier mappings: store carrier (lower case) → (provider id, name).
    pub async fn carrier_mappings(
        &self,
        channel: ChannelId,
    ) -> Result<Vec<(String, String, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT store_carrier, provider_id, provider_name FROM carrier_mappings WHERE channel_id = $1 \
             ORDER BY store_carrier",
        )
        .bind(channel.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the carrier mappings of channel {channel}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || "reading a carrier mapping".to_string();
                Ok((
                    r.try_get("store_carrier").context(ctx)?,
                    r.try_get("provider_id").context(ctx)?,
                    r.try_get("provider_name").context(ctx)?,
                ))
            })
            .collect()
    }

    /// Maps a store carrier name to a channel shipping provider (replacing an earlier mapping).
    pub async fn map_carrier(
        &self,
        channel: ChannelId,
        store_carrier: &str,
        provider_id: &str,
        provider_name: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO carrier_mappings (channel_id, store_carrier, provider_id, provider_name) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id, store_carrier) DO UPDATE SET \
             provider_id = excluded.provider_id, provider_name = excluded.provider_name",
        )
        .bind(channel.0)
        .bind(store_carrier.trim().to_lowercase())
        .bind(provider_id)
        .bind(provider_name)
        .execute(self.pool())
        .await
        .context(|| format!("mapping carrier {store_carrier} on channel {channel}"))?;
        Ok(())
    }

    /// Where polling of a channel's orders resumes (Unix ms), and moving it on.
    pub async fn orders_polled_until(&self, channel: ChannelId) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT orders_polled_until FROM channels WHERE id = $1")
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading the order cursor of channel {channel}"))?;
        row.map(|r| r.try_get("orders_polled_until").context(|| "reading the order cursor".into()))
            .transpose()
            .map(|v| v.unwrap_or(0))
    }

    pub async fn set_orders_polled_until(&self, channel: ChannelId, until: i64) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE channels SET orders_polled_until = $1 WHERE id = $2 AND orders_polled_until < $1",
        )
        .bind(until)
        .bind(channel.0)
        .execute(self.pool())
        .await
        .context(|| format!("moving the order cursor of channel {channel}"))?;
        Ok(())
    }

    /// Where polling of the store's orders resumes (Unix ms), and moving it on.
    pub async fn store_orders_polled_until(&self, store: crate::model::StoreId) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT orders_polled_until FROM stores WHERE id = $1")
            .bind(store.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading the order cursor of store {}", store.0))?;
        row.map(|r| r.try_get("orders_polled_until").context(|| "reading the order cursor".into()))
            .transpose()
            .map(|v| v.unwrap_or(0))
    }

    pub async fn set_store_orders_polled_until(
        &self,
        store: crate::model::StoreId,
        until: i64,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE stores SET orders_polled_until = $1 WHERE id = $2 AND orders_polled_until < $1")
            .bind(until)
            .bind(store.0)
            .execute(self.pool())
            .await
            .context(|| format!("moving the order cursor of store {}", store.0))?;
        Ok(())
    }

    /// A channel's order settings (JSON as stored; `{}` for the defaults).
    pub async fn order_settings_json(&self, channel: ChannelId) -> Result<String, DbError> {
        let row = sqlx::query("SELECT order_settings FROM channels WHERE id = $1")
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading the order settings of channel {channel}"))?
            .ok_or_else(|| DbError::NotFound(format!("channel {channel}")))?;
        row.try_get("order_settings").context(|| "reading order settings".into())
    }

    pub async fn set_order_settings_json(&self, channel: ChannelId, json: &str) -> Result<(), DbError> {
        let done = sqlx::query("UPDATE channels SET order_settings = $1 WHERE id = $2")
            .bind(json)
            .bind(channel.0)
            .execute(self.pool())
            .await
            .context(|| format!("saving the order settings of channel {channel}"))?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound(format!("channel {channel}")));
        }
        Ok(())
    }

    /// The store variants carrying a SKU: (variant id, product title, product deleted, stock).
    pub async fn store_variants_with_sku(
        &self,
        store: crate::model::StoreId,
        sku: &str,
    ) -> Result<Vec<StoreVariant>, DbError> {
        let rows = sqlx::query(
            "SELECT v.external_id, p.title, p.deleted, v.stock FROM variants v JOIN products p ON p.id = v.product_id \
             WHERE p.store_id = $1 AND v.sku = $2 ORDER BY p.deleted, p.id",
        )
        .bind(store.0)
        .bind(sku)
        .fetch_all(self.pool())
        .await
        .context(|| format!("looking up store variants of SKU {sku}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || "reading a store variant".to_string();
                Ok(StoreVariant {
                    variant_id: r.try_get("external_id").context(ctx)?,
                    product_title: r.try_get("title").context(ctx)?,
                    deleted: r.try_get::<i64, _>("deleted").context(ctx)? != 0,
                    stock: r.try_get("stock").context(ctx)?,
                })
            })
            .collect()
    }
}

/// A store variant an order line can map to.
#[derive(Debug, Clone)]
pub struct StoreVariant {
    pub variant_id: String,
    pub product_title: String,
    pub deleted: bool,
    pub stock: i64,
}
