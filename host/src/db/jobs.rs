//! The job queue's storage: one row per (kind, channel, product), claimed with a short lease
//! that the worker renews while the job runs, so a crashed worker's job is taken back within
//! a lease by any process. PostgreSQL claims with `FOR UPDATE SKIP LOCKED` so several
//! processes share the queue; SQLite has one writer anyway.
//!
//! Queueing a job that a worker holds never drops the news: every enqueue bumps the job's
//! generation, and settling a job whose generation moved since its claim queues it again, so
//! the job runs once more from the state current then.

use super::{Backend, Context, Db, DbError, now_ms};
use crate::model::{ChannelId, OrgId, ProductId};
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
    /// Read back what the channel holds and correct drift (an edit in Seller Center).
    CheckDrift,
}

impl JobKind {
    /// Every kind, in the order a channel's workers take turns between them.
    pub const ALL: [JobKind; 3] = [JobKind::PushListing, JobKind::CheckReview, JobKind::CheckDrift];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::PushListing => "push_listing",
            JobKind::CheckReview => "check_review",
            JobKind::CheckDrift => "check_drift",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [JobKind::PushListing, JobKind::CheckReview, JobKind::CheckDrift]
            .into_iter()
            .find(|k| k.as_str() == s)
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
    /// The job's generation when it was claimed; a later enqueue moves it on.
    pub generation: i64,
    /// Proves this claim still holds the job (renewing, settling).
    pub lease_token: String,
}

/// What settling a claimed job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Recorded as asked.
    Recorded,
    /// Work was queued for the pair while the job ran: it was queued to run again now.
    Requeued,
    /// The lease had run out and the job was taken back; this claim no longer holds it.
    LeaseLost,
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
/// Claims the oldest due job of one kind on one channel (index `jobs_ready_by_kind`).
const CLAIM_SQLITE: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, \
     lease_token = $4, updated_at = $2 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' \
     AND channel_id = $3 AND kind = $5 AND run_after <= $2 ORDER BY run_after, id LIMIT 1) \
     RETURNING id, kind, channel_id, product_id, attempts, generation";
const CLAIM_POSTGRES: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, \
     lease_token = $4, updated_at = $2 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' \
     AND channel_id = $3 AND kind = $5 AND run_after <= $2 ORDER BY run_after, id LIMIT 1 \
     FOR UPDATE SKIP LOCKED) RETURNING id, kind, channel_id, product_id, attempts, generation";

/// Ends a claimed job: as asked when its generation did not move, else queued again now.
const SETTLE: &str = "UPDATE jobs SET \
     state = CASE WHEN generation = $1 THEN $2 ELSE 'queued' END, \
     run_after = CASE WHEN generation = $1 THEN $3 ELSE $4 END, \
     attempts = CASE WHEN generation = $1 AND $8 = 0 THEN attempts ELSE 0 END, \
     last_error = $5, lease_until = NULL, lease_token = NULL, updated_at = $4 \
     WHERE id = $6 AND lease_token = $7 AND state = 'running' RETURNING state";

/// A random lease token: unique per claim, across processes.
pub(crate) fn lease_token() -> String {
    use rand::Rng;
    let bytes: [u8; 12] = rand::rng().random();
    hex::encode(bytes)
}

impl Db {
    /// Queues a job, or re-queues the existing one for the same (kind, channel, product). A
    /// job a worker holds right now stays with it, but its generation moves on, so it runs
    /// once more when the worker settles it. A queued job keeps the earlier of its due times.
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
             ON CONFLICT (kind, channel_id, product_id) DO UPDATE SET \
             generation = jobs.generation + 1, \
             state = CASE WHEN jobs.state = 'running' THEN 'running' ELSE 'queued' END, \
             attempts = CASE WHEN jobs.state = 'running' THEN jobs.attempts ELSE 0 END, \
             run_after = CASE WHEN jobs.state = 'running' THEN jobs.run_after \
                 WHEN jobs.state = 'queued' AND jobs.run_after < excluded.run_after THEN jobs.run_after \
                 ELSE excluded.run_after END, \
             last_error = CASE WHEN jobs.state = 'running' THEN jobs.last_error ELSE NULL END, \
             updated_at = excluded.updated_at",
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

    /// Makes sure a job exists and will run: queued when absent or ended, left alone while
    /// queued or running.
    pub async fn ensure_job(
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
             WHERE jobs.state NOT IN ('queued', 'running')",
        )
        .bind(kind.as_str())
        .bind(channel.0)
        .bind(product.0)
        .bind(run_after)
        .bind(now)
        .execute(self.pool())
        .await
        .context(|| format!("ensuring {} of product {product} on channel {channel}", kind.as_str()))?;
        Ok(())
    }

    /// Claims the oldest due job of `kind` on `channel`, leasing it for `lease`.
    pub async fn claim_job(
        &self,
        lease: Duration,
        channel: ChannelId,
        kind: JobKind,
    ) -> Result<Option<Job>, DbError> {
        let now = now_ms();
        let sql = match self.backend() {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        let token = lease_token();
        let row = sqlx::query(sql)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(channel.0)
            .bind(&token)
            .bind(kind.as_str())
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
            generation: row.try_get("generation").context(ctx)?,
            lease_token: token,
        }))
    }

    /// Extends a claimed job's lease; false when this claim no longer holds it.
    pub async fn renew_lease(&self, job: &Job, lease: Duration) -> Result<bool, DbError> {
        let result = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_token = $3 AND state = 'running'",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(job.id)
        .bind(&job.lease_token)
        .execute(self.pool())
        .await
        .context(|| format!("renewing the lease of job {}", job.id))?;
        Ok(result.rows_affected() == 1)
    }

    async fn settle(
        &self,
        job: &Job,
        state: JobState,
        run_after: Option<i64>,
        reason: Option<&str>,
        reset_attempts: bool,
    ) -> Result<Settled, DbError> {
        let now = now_ms();
        let row = sqlx::query(SETTLE)
            .bind(job.generation)
            .bind(state.as_str())
            .bind(run_after.unwrap_or(now))
            .bind(now)
            .bind(reason)
            .bind(job.id)
            .bind(&job.lease_token)
            .bind(i64::from(reset_attempts))
            .fetch_optional(self.pool())
            .await
            .context(|| format!("settling job {}", job.id))?;
        let Some(row) = row else { return Ok(Settled::LeaseLost) };
        let stored: String = row.try_get("state").context(|| format!("settling job {}", job.id))?;
        Ok(if stored == state.as_str() { Settled::Recorded } else { Settled::Requeued })
    }

    /// Ends a claimed job as done, skipped, failed or dead, with the reason when there is
    /// one — or queues it again now when work came for it while it ran.
    pub async fn settle_job(
        &self,
        job: &Job,
        state: JobState,
        reason: Option<&str>,
    ) -> Result<Settled, DbError> {
        self.settle(job, state, None, reason, false).await
    }

    /// Puts a claimed job back in the queue to run again at `run_after` (a retry: attempts
    /// count on), or now when work came for it while it ran.
    pub async fn retry_job(&self, job: &Job, run_after: i64, reason: &str) -> Result<Settled, DbError> {
        self.settle(job, JobState::Queued, Some(run_after), Some(reason), false).await
    }

    /// Returns jobs whose worker's lease ran out (a crash mid-job) to the queue, due now.
    pub async fn rescue_expired_jobs(&self) -> Result<u64, DbError> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, lease_token = NULL, run_after = $1, \
             updated_at = $1 WHERE state = 'running' AND lease_until < $1",
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

    /// A channel's jobs per state, queued ones only once due (a check planned for later is
    /// not work under way).
    pub async fn job_counts_of(&self, channel: ChannelId) -> Result<BTreeMap<JobState, i64>, DbError> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM jobs WHERE channel_id = $1 \
             AND NOT (state = 'queued' AND run_after > $2) GROUP BY state",
        )
        .bind(channel.0)
        .bind(now_ms())
        .fetch_all(self.pool())
        .await
        .context(|| format!("counting the jobs of channel {channel}"))?;
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
        self.failed_jobs_of(None).await
    }

    /// As `failed_jobs`, only the organization's when one is given.
    pub async fn failed_jobs_of(&self, org: Option<OrgId>) -> Result<Vec<FailedJob>, DbError> {
        let rows = sqlx::query(
            "SELECT id, kind, channel_id, product_id, state, attempts, last_error FROM jobs \
             WHERE state IN ('failed', 'dead') \
             AND ($1 IS NULL OR channel_id IN (SELECT id FROM channels WHERE org_id = $1)) \
             ORDER BY updated_at DESC, id",
        )
        .bind(org.map(|o| o.0))
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
    /// Queues a claimed job again at `run_after` as a fresh poll (attempts reset, no error),
    /// or now when work came for it while it ran.
    pub async fn reschedule_job(&self, job: &Job, run_after: i64) -> Result<Settled, DbError> {
        self.settle(job, JobState::Queued, Some(run_after), None, true).await
    }
}

impl Db {
    /// The organization whose channel the job is for; `None` when there is no such job.
    pub async fn job_org(&self, id: i64) -> Result<Option<OrgId>, DbError> {
        let row =
            sqlx::query("SELECT c.org_id FROM jobs j JOIN channels c ON c.id = j.channel_id WHERE j.id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .context(|| format!("reading job {id}"))?;
        row.map(|r| r.try_get("org_id").map(OrgId)).transpose().context(|| format!("reading job {id}"))
    }

    /// Puts every failed or dead job of a channel back in the queue now (its connection was
    /// fixed: new credentials checked out); how many.
    pub async fn retry_failed_jobs(&self, channel: ChannelId) -> Result<u64, DbError> {
        let result = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, updated_at = $1 \
             WHERE channel_id = $2 AND state IN ('failed', 'dead')",
        )
        .bind(now_ms())
        .bind(channel.0)
        .execute(self.pool())
        .await
        .context(|| format!("retrying the failed jobs of channel {channel}"))?;
        Ok(result.rows_affected())
    }

    /// Puts a failed or dead job back in the queue now, with fresh attempts (the retry
    /// button). False when the job is not failed.
    pub async fn retry_now(&self, id: i64) -> Result<bool, DbError> {
        let exists = sqlx::query("SELECT id FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading job {id}"))?;
        if exists.is_none() {
            return Err(DbError::NotFound(format!("job {id}")));
        }
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
