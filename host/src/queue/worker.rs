//! Workers that drain the job queue for one organization's sync engine. Each claimed job
//! is leased, so a worker that dies mid-job leaves it to be rescued, never lost.

use super::{Backoff, JobOutcome, Retry};
use crate::db::DbError;
use crate::db::jobs::{Job, JobState};
use crate::db::now_ms;
use crate::model::ChannelId;
use crate::sync::SyncEngine;
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinSet;

/// How the queue is worked.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Jobs run at once in this process.
    pub workers: usize,
    /// How long a claimed job stays with its worker before another may take it.
    pub lease: Duration,
    /// Attempts before a retryable failure is given up (dead letter).
    pub max_attempts: i64,
    pub backoff: Backoff,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            workers: 4,
            lease: Duration::from_secs(300),
            max_attempts: 8,
            backoff: Backoff::default(),
        }
    }
}

/// Runs jobs until none is queued, sleeping until scheduled ones (review checks, retries)
/// fall due. `on_settled` is told after every job (for progress displays).
pub async fn run_until_idle(
    engine: &SyncEngine,
    settings: &QueueSettings,
    on_settled: &(dyn Fn() + Send + Sync),
) -> Result<(), DbError> {
    loop {
        engine.app.db.rescue_expired_jobs().await?;
        drain(engine, settings, on_settled).await?;
        let channels: Vec<ChannelId> = engine.channels.keys().copied().collect();
        match engine.app.db.next_job_due(Some(&channels)).await? {
            None => return Ok(()),
            Some(due) => {
                let wait = u64::try_from(due - now_ms()).unwrap_or(0).min(5_000);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
        }
    }
}

/// Runs every job that is due now, `workers` at a time, and returns when none is left;
/// jobs in hand always finish.
pub async fn run_due(
    engine: &SyncEngine,
    settings: &QueueSettings,
    on_settled: &(dyn Fn() + Send + Sync),
) -> Result<(), DbError> {
    engine.app.db.rescue_expired_jobs().await?;
    drain(engine, settings, on_settled).await
}

/// Runs every job of the engine's channels that is due now, `workers` at a time. Channels
/// take turns, and none takes more than its fair share of the workers (`workers / channels`,
/// rounded up): a connection that waits on its rate limit, or a slow platform, holds only its
/// own share while the other channels move on.
async fn drain(
    engine: &SyncEngine,
    settings: &QueueSettings,
    on_settled: &(dyn Fn() + Send + Sync),
) -> Result<(), DbError> {
    let workers = settings.workers.max(1);
    let channels: Vec<ChannelId> = engine.channels.keys().copied().collect();
    let share = fair_share(workers, channels.len());
    let mut turn = 0;
    let mut running: JoinSet<Result<(), DbError>> = JoinSet::new();
    let mut channel_of: HashMap<tokio::task::Id, ChannelId> = HashMap::new();
    let mut busy: HashMap<ChannelId, usize> = HashMap::new();
    let mut exhausted = false;
    loop {
        while !exhausted && running.len() < workers {
            let mut claimed = None;
            for k in 0..channels.len() {
                let channel = channels[(turn + k) % channels.len()];
                if busy.get(&channel).copied().unwrap_or(0) >= share {
                    continue;
                }
                if let Some(job) = engine.app.db.claim_job(settings.lease, channel).await? {
                    turn = (turn + k + 1) % channels.len();
                    claimed = Some(job);
                    break;
                }
            }
            match claimed {
                Some(job) => {
                    *busy.entry(job.channel_id).or_default() += 1;
                    let channel = job.channel_id;
                    let engine = engine.clone();
                    let settings = settings.clone();
                    let task = running.spawn(async move { run_one(&engine, &settings, job).await });
                    channel_of.insert(task.id(), channel);
                }
                None => exhausted = true,
            }
        }
        match running.join_next_with_id().await {
            None => return Ok(()),
            Some(joined) => {
                let task = match &joined {
                    Ok((id, _)) => *id,
                    Err(e) => e.id(),
                };
                if let Some(n) = channel_of.remove(&task).and_then(|channel| busy.get_mut(&channel)) {
                    *n = n.saturating_sub(1);
                }
                match joined {
                    Ok((_, result)) => result?,
                    Err(e) => {
                        tracing::error!(error = %e, "job task panicked; its lease will expire and it will run again")
                    }
                }
                on_settled();
                // A finished job may have queued follow-ups that are due now, and its channel
                // has a free place again.
                exhausted = false;
            }
        }
    }
}

/// The most workers one channel may hold: an even split, rounded up, at least one.
fn fair_share(workers: usize, channels: usize) -> usize {
    workers.div_ceil(channels.max(1)).max(1)
}

#[tracing::instrument(skip_all, fields(job = job.id, kind = job.kind.as_str(), channel = %job.channel_id, product = %job.product_id))]
async fn run_one(engine: &SyncEngine, settings: &QueueSettings, job: Job) -> Result<(), DbError> {
    let outcome = engine.handle(&job).await;
    let db = &engine.app.db;
    match outcome {
        JobOutcome::Done => db.settle_job(job.id, JobState::Done, None).await,
        JobOutcome::Skipped(reason) => db.settle_job(job.id, JobState::Skipped, Some(&reason)).await,
        JobOutcome::Again(after) => db.reschedule_job(job.id, now_ms() + after.as_millis() as i64).await,
        JobOutcome::Failed { reason, retry: Retry::Never } => {
            tracing::warn!(%reason, "job failed");
            db.settle_job(job.id, JobState::Failed, Some(&reason)).await
        }
        JobOutcome::Failed { reason, retry: Retry::After(retry_after) } => {
            if job.attempts >= settings.max_attempts {
                let reason = format!("gave up after {} attempts: {reason}", job.attempts);
                tracing::warn!(%reason, "job dead");
                db.settle_job(job.id, JobState::Dead, Some(&reason)).await
            } else {
                let delay = settings.backoff.delay(job.attempts, retry_after, rand_unit());
                tracing::info!(%reason, delay_ms = delay.as_millis() as u64, "job will retry");
                db.retry_job(job.id, now_ms() + delay.as_millis() as i64, &reason).await
            }
        }
    }
}

/// A cheap jitter source in [0, 1); it needs to spread retries, not to be unpredictable.
fn rand_unit() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::fair_share;

    #[test]
    fn each_channel_gets_an_even_share_of_the_workers_rounded_up() {
        assert_eq!(fair_share(8, 3), 3);
        assert_eq!(fair_share(8, 1), 8);
        assert_eq!(fair_share(4, 8), 1);
        assert_eq!(fair_share(0, 0), 1);
    }
}
