//! The job queue's storage: one row per (kind, channel, product), claimed with a lease so
//! a crashed worker's job is picked up again. PostgreSQL claims with `FOR UPDATE SKIP
//! LOCKED` so several processes share the queue; SQLite has one writer anyway.

use super::{Backend, Context, Db, DbError, now_ms};
use crate::model::{ChannelId, ProductId};
use sqlx::Row;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Apply the channel's rules to a product and create or update its listing.
    PushListing,
    /// Ask the channel where its review of a listing stands.
    CheckReview,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::PushListing => "push_listing",
            JobKind::CheckReview => "check_review",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [JobKind::PushListing, JobKind::CheckReview].into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// A rule decided the record does not cross; not an error.
    Skipped,
    /// Failed in a way retrying will not fix; the reason says what to change.
    Failed,
    /// Retryable, but out of attempts.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Skipped => "skipped",
            JobState::Failed => "failed",
            JobState::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Skipped,
            JobState::Failed,
            JobState::Dead,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub channel_id: ChannelId,
    pub product_id: ProductId,
    /// Including this one.
    pub attempts: i64,
}

/// A job that ended badly, for the failure list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    pub id: i64,
    pub kind: JobKind,
    pub channel_id: ChannelId,
    pub product_id: ProductId,
    pub state: JobState,
    pub attempts: i64,
    pub error: String,
}

/// Claims the oldest due job of one channel (index `jobs_ready_by_channel`).
const CLAIM_SQLITE: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, \
     updated_at = $2 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND channel_id = $3 \
     AND run_after <= $2 ORDER BY run_after, id LIMIT 1) \
     RETURNING id, kind, channel_id, product_id, attempts";
const CLAIM_POSTGRES: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, \
     updated_at = $2 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND channel_id = $3 \
     AND run_after <= $2 ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, channel_id, product_id, attempts";

impl Db {
    /// Queues a job, or re-queues the existing one for the same (kind, channel, product)
    /// unless a worker holds it right now.
    pub async fn enqueue(
        &self,
        kind: JobKind,
        channel: ChannelId,
        product: ProductId,
        run_after: i64,
    ) -> Result<(), DbError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO jobs (kind, channel_id, product_id, state, attempts, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5) \
             ON CONFLICT (kind, channel_id, product_id) DO UPDATE SET state = 'queued', attempts = 0, \
             run_after = excluded.run_after, last_error = NULL, updated_at = excluded.updated_at \
             WHERE jobs.state <> 'running'",
        )
        .bind(kind.as_str())
        .bind(channel.0)
        .bind(product.0)
        .bind(run_after)
        .bind(now)
        .execute(self.pool())
        .await
        .context(|| format!("queueing {} of product {product} on channel {channel}", kind.as_str()))?;
        Ok(())
    }

    /// Claims the oldest due job of `channel`, leasing it for `lease`.
    pub async fn claim_job(&self, lease: Duration, channel: ChannelId) -> Result<Option<Job>, DbError> {
        let now = now_ms();
        let sql = match self.backend() {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        let row = sqlx::query(sql)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("claiming a job of channel {channel}"))?;
        let Some(row) = row else { return Ok(None) };
        let ctx = || "reading claimed job".to_string();
        let kind: String = row.try_get("kind").context(ctx)?;
        Ok(Some(Job {
            id: row.try_get("id").context(ctx)?,
            kind: JobKind::parse(&kind).ok_or_else(|| DbError::Corrupt(format!("job kind `{kind}`")))?,
            channel_id: ChannelId(row.try_get("channel_id").context(ctx)?),
            product_id: ProductId(row.try_get("product_id").context(ctx)?),
            attempts: row.try_get("attempts").context(ctx)?,
        }))
    }

    /// Ends a job as done, skipped, failed or dead, with the reason when there is one.
    pub async fn settle_job(&self, id: i64, state: JobState, reason: Option<&str>) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE jobs SET state = $1, last_error = $2, lease_until = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("settling job {id}"))?;
        Ok(())
    }

    /// Puts a job back in the queue to run again at `run_after`.
    pub async fn retry_job(&self, id: i64, run_after: i64, reason: &str) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = $1, last_error = $2, lease_until = NULL, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(run_after)
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("re-queueing job {id}"))?;
        Ok(())
    }

    /// Returns jobs whose worker's lease ran out (a crash mid-job) to the queue.
    pub async fn rescue_expired_jobs(&self) -> Result<u64, DbError> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, updated_at = $1 \
             WHERE state = 'running' AND lease_until < $1",
        )
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context(|| "rescuing expired jobs".into())?;
        Ok(result.rows_affected())
    }

    /// How many jobs are in each state.
    pub async fn job_counts(&self) -> Result<BTreeMap<JobState, i64>, DbError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(self.pool())
            .await
            .context(|| "counting jobs".into())?;
        let mut counts = BTreeMap::new();
        for row in rows {
            let state: String = row.try_get("state").context(|| "reading job counts".into())?;
            let n: i64 = row.try_get("n").context(|| "reading job counts".into())?;
            if let Some(state) = JobState::parse(&state) {
                counts.insert(state, n);
            }
        }
        Ok(counts)
    }

    /// When the earliest queued job is due, if any is queued: of the given channels, or of
    /// any channel.
    pub async fn next_job_due(&self, channels: Option<&[ChannelId]>) -> Result<Option<i64>, DbError> {
        let sql = match channels {
            None => "SELECT MIN(run_after) AS due FROM jobs WHERE state = 'queued'".to_string(),
            Some([]) => return Ok(None),
            Some(ids) => {
                // Ids from the database, never from input.
                let ids: Vec<String> = ids.iter().map(|c| c.0.to_string()).collect();
                format!(
                    "SELECT MIN(run_after) AS due FROM jobs WHERE state = 'queued' AND channel_id IN ({})",
                    ids.join(", ")
                )
            }
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(self.pool())
            .await
            .context(|| "reading the next due job".into())?;
        row.try_get::<Option<i64>, _>("due").context(|| "reading the next due job".into())
    }

    /// Jobs that failed or died, newest first, with their reasons.
    pub async fn failed_jobs(&self) -> Result<Vec<FailedJob>, DbError> {
        let rows = sqlx::query(
            "SELECT id, kind, channel_id, product_id, state, attempts, last_error FROM jobs \
             WHERE state IN ('failed', 'dead') ORDER BY updated_at DESC, id",
        )
        .fetch_all(self.pool())
        .await
        .context(|| "listing failed jobs".into())?;
        rows.iter()
            .map(|row| {
                let ctx = || "reading failed job".to_string();
                let kind: String = row.try_get("kind").context(ctx)?;
                let state: String = row.try_get("state").context(ctx)?;
                Ok(FailedJob {
                    id: row.try_get("id").context(ctx)?,
                    kind: JobKind::parse(&kind)
                        .ok_or_else(|| DbError::Corrupt(format!("job kind `{kind}`")))?,
                    channel_id: ChannelId(row.try_get("channel_id").context(ctx)?),
                    product_id: ProductId(row.try_get("product_id").context(ctx)?),
                    state: JobState::parse(&state)
                        .ok_or_else(|| DbError::Corrupt(format!("job state `{state}`")))?,
                    attempts: row.try_get("attempts").context(ctx)?,
                    error: row.try_get::<Option<String>, _>("last_error").context(ctx)?.unwrap_or_default(),
                })
            })
            .collect()
    }
}

impl Db {
    /// Queues the job again at `run_after` as a fresh poll (attempts reset, no error).
    pub async fn reschedule_job(&self, id: i64, run_after: i64) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, last_error = NULL, \
             lease_until = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(run_after)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("rescheduling job {id}"))?;
        Ok(())
    }
}

impl Db {
    /// Puts a failed or dead job back in the queue now, with fresh attempts (the retry
    /// button). False when the job is not failed.
    pub async fn retry_now(&self, id: i64) -> Result<bool, DbError> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, updated_at = $1 \
             WHERE id = $2 AND state IN ('failed', 'dead')",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .context(|| format!("retrying job {id}"))?;
        Ok(result.rows_affected() == 1)
    }
}
