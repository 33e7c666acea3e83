//! What the health endpoints and the failure list read: whether the database answers, and
//! work that is stuck rather than moving — a job leased past its lease (its worker or
//! process died), a job retrying without progress, a listing in review with no review check
//! queued (lost in a crash) — and the repair of the last one, derived from state.

use super::{Context, Db, DbError, now_ms};
use crate::model::{ChannelId, ProductId};
use sqlx::Row;

/// Attempts after which a queued job counts as retrying without progress.
pub const RETRYING_AFTER: i64 = 3;

/// Stuck work, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct StuckWork {
    /// Jobs still `running` although their lease ran out: their worker stopped.
    pub expired_leases: i64,
    /// How long ago the oldest of those leases ran out, in seconds.
    pub oldest_expired_secs: i64,
    /// Jobs queued again after failing at least [`RETRYING_AFTER`] times.
    pub retrying: i64,
    /// Listings in review with no review check queued.
    pub unchecked_reviews: i64,
}

impl StuckWork {
    pub fn is_empty(&self) -> bool {
        self.expired_leases == 0 && self.retrying == 0 && self.unchecked_reviews == 0
    }

    /// In words, with what is being done about each part.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.expired_leases > 0 {
            parts.push(format!(
                "{} job(s) leased past their lease (oldest by {} s): their worker stopped; the \
                 queue takes them back on its next round (if this stays, check that `serve` is \
                 running and see /readyz)",
                self.expired_leases, self.oldest_expired_secs
            ));
        }
        if self.retrying > 0 {
            parts.push(format!(
                "{} job(s) retrying after {RETRYING_AFTER}+ failed attempts: they retry with \
                 backoff and are listed in /api/failures once they give up",
                self.retrying
            ));
        }
        if self.unchecked_reviews > 0 {
            parts.push(format!(
                "{} listing(s) in review with no review check queued: the queue queues one on \
                 its next round",
                self.unchecked_reviews
            ));
        }
        if parts.is_empty() { "no stuck work".to_string() } else { parts.join("; ") }
    }
}

/// One job leased past its lease, for the failure list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckJob {
    pub id: i64,
    pub kind: String,
    pub channel_id: ChannelId,
    pub product_id: ProductId,
    pub attempts: i64,
    pub expired_secs: i64,
}

/// `channel_id IN (...)` for the given channels, or no condition. Safe in SQL: the ids are
/// integers formatted by Rust.
fn scope(channels: Option<&[ChannelId]>, column: &str) -> String {
    match channels {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_string(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(|c| c.0.to_string()).collect();
            format!(" AND {column} IN ({})", list.join(", "))
        }
    }
}

const UNCHECKED_REVIEWS: &str = "FROM listings l WHERE l.state = 'in_review' AND NOT EXISTS \
     (SELECT 1 FROM jobs j WHERE j.kind = 'check_review' AND j.channel_id = l.channel_id \
     AND j.product_id = l.product_id AND j.state IN ('queued', 'running', 'failed', 'dead'))";

impl Db {
    /// Whether the database answers a query.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(self.pool()).await.context(|| "pinging the database".into())?;
        Ok(())
    }

    /// Stuck work of the given channels (all when `None`).
    pub async fn stuck_work(&self, channels: Option<&[ChannelId]>) -> Result<StuckWork, DbError> {
        let now = now_ms();
        let ctx = || "counting stuck work".to_string();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n, MIN(lease_until) AS oldest FROM jobs WHERE state = 'running' \
             AND lease_until < $1{}",
            scope(channels, "channel_id")
        )))
        .bind(now)
        .fetch_one(self.pool())
        .await
        .context(ctx)?;
        let expired_leases: i64 = row.try_get("n").context(ctx)?;
        let oldest: Option<i64> = row.try_get("oldest").context(ctx)?;
        let retrying: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued' AND attempts >= $1{}",
            scope(channels, "channel_id")
        )))
        .bind(RETRYING_AFTER)
        .fetch_one(self.pool())
        .await
        .context(ctx)?
        .try_get("n")
        .context(ctx)?;
        let unchecked_reviews: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n {UNCHECKED_REVIEWS}{}",
            scope(channels, "l.channel_id")
        )))
        .fetch_one(self.pool())
        .await
        .context(ctx)?
        .try_get("n")
        .context(ctx)?;
        Ok(StuckWork {
            expired_leases,
            oldest_expired_secs: oldest.map(|t| (now - t) / 1000).unwrap_or(0),
            retrying,
            unchecked_reviews,
        })
    }

    /// Jobs leased past their lease, oldest first (at most 100).
    pub async fn expired_jobs(&self) -> Result<Vec<StuckJob>, DbError> {
        let now = now_ms();
        let ctx = || "listing jobs leased past their lease".to_string();
        let rows = sqlx::query(
            "SELECT id, kind, channel_id, product_id, attempts, lease_until FROM jobs \
             WHERE state = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT 100",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .context(ctx)?;
        rows.iter()
            .map(|row| {
                let lease_until: i64 = row.try_get("lease_until").context(ctx)?;
                Ok(StuckJob {
                    id: row.try_get("id").context(ctx)?,
                    kind: row.try_get("kind").context(ctx)?,
                    channel_id: ChannelId(row.try_get("channel_id").context(ctx)?),
                    product_id: ProductId(row.try_get("product_id").context(ctx)?),
                    attempts: row.try_get("attempts").context(ctx)?,
                    expired_secs: (now - lease_until) / 1000,
                })
            })
            .collect()
    }

    /// Queues a review check for every listing in review that has none (a check lost in a
    /// crash between saving the listing and queueing its check): every listing in review
    /// has a review check due. A check that failed stays in the failure list instead.
    pub async fn queue_missing_review_checks(
        &self,
        channels: &[ChannelId],
        due: i64,
    ) -> Result<u64, DbError> {
        let sql = format!(
            "INSERT INTO jobs (kind, channel_id, product_id, state, attempts, run_after, created_at, updated_at) \
             SELECT 'check_review', l.channel_id, l.product_id, 'queued', 0, $1, $2, $2 {UNCHECKED_REVIEWS}{} \
             ON CONFLICT (kind, channel_id, product_id) DO UPDATE SET state = 'queued', attempts = 0, \
             run_after = excluded.run_after, last_error = NULL, updated_at = excluded.updated_at \
             WHERE jobs.state NOT IN ('queued', 'running', 'failed', 'dead')",
            scope(Some(channels), "l.channel_id")
        );
        let result = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(due)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .context(|| "queueing missing review checks".into())?;
        Ok(result.rows_affected())
    }
}
