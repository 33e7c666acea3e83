//! Workers that drain the job queue for one organization's sync engine. Each claimed job
//! is leased for a short time and the lease is renewed while the job runs, so a worker (or
//! a whole process) that dies mid-job leaves it to be taken back within one lease, never
//! lost; a worker that loses its lease stops the job rather than race the new holder.

use crate::catalog::reconcile::reconcile_changed_channels;
use crate::catalog::{drift, push, review};
use crate::db::DbError;
use crate::db::jobs::{Job, JobKind, JobState, Settled};
use crate::db::now_ms;
use crate::engine::{SyncEngine, SyncError};
use crate::model::ChannelId;
use crate::queue::{Backoff, JobOutcome, Retry};
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How the queue is worked.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Jobs run at once in this process.
    pub workers: usize,
    /// How long a claimed job stays with its worker before another may take it; renewed every
    /// third of it while the job runs.
    pub lease: Duration,
    /// Attempts before a retryable failure is given up (dead letter).
    pub max_attempts: i64,
    pub backoff: Backoff,
    /// Cancelled at shutdown: no new job is claimed, the jobs in hand finish and settle, so
    /// no lease is left behind.
    pub stop: CancellationToken,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            workers: 4,
            lease: Duration::from_secs(30),
            max_attempts: 8,
            backoff: Backoff::default(),
            stop: CancellationToken::new(),
        }
    }
}

/// Runs jobs until none is queued, sleeping until scheduled ones (review checks, retries)
/// fall due. Channels whose channel-wide inputs changed are reconciled first, and the engine
/// is reloaded whenever they change, so every job works from the state current when it runs.
/// `on_settled` is told after every job (for progress displays).
pub async fn run_until_idle(
    engine: &SyncEngine,
    settings: &QueueSettings,
    on_settled: &(dyn Fn() + Send + Sync),
) -> Result<(), SyncError> {
    let mut engine = engine.clone();
    loop {
        engine = prepare(engine).await?;
        if drain(&engine, settings, on_settled).await? == Drained::Stale {
            continue;
        }
        super::orders::run_due_orders(&engine).await?;
        let channels: Vec<ChannelId> = engine.channels.keys().copied().collect();
        let stale = engine.is_stale().await?;
        let changed = !engine.app.db.channels_to_reconcile(engine.org).await?.is_empty();
        if stale || changed {
            continue;
        }
        let next_job = engine.app.db.next_job_due(Some(&channels)).await?;
        let next_order = engine.app.db.next_order_due(&channels).await?;
        let next = match (next_job, next_order) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match next {
            None => return Ok(()),
            Some(due) => {
                let wait = u64::try_from(due - now_ms()).unwrap_or(0).min(5_000);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
        }
    }
}

/// Runs every job that is due now, `workers` at a time, and returns the engine it ended
/// with (reloaded when the channels' inputs changed); jobs in hand always finish.
pub async fn run_due(
    engine: SyncEngine,
    settings: &QueueSettings,
    on_settled: &(dyn Fn() + Send + Sync),
) -> Result<SyncEngine, SyncError> {
    let mut engine = engine;
    loop {
        engine = prepare(engine).await?;
        if settings.stop.is_cancelled() {
            return Ok(engine);
        }
        if drain(&engine, settings, on_settled).await? == Drained::Idle {
            if !settings.stop.is_cancelled() {
                super::orders::run_due_orders(&engine).await?;
            }
            return Ok(engine);
        }
    }
}

/// Before claiming: takes back jobs whose lease ran out (a crashed worker or process),
/// reloads a stale engine, and reconciles the channels whose inputs changed.
async fn prepare(mut engine: SyncEngine) -> Result<SyncEngine, SyncError> {
    let rescued = engine.app.db.rescue_expired_jobs().await?;
    if rescued > 0 {
        tracing::warn!(rescued, "took back jobs whose lease ran out");
    }
    let channels: Vec<ChannelId> = engine.channels.keys().copied().collect();
    let due = now_ms() + engine.settings.review_poll.as_millis() as i64;
    let checks = engine.app.db.queue_missing_review_checks(&channels, due).await?;
    if checks > 0 {
        tracing::warn!(checks, "queued review checks that were lost (listings in review without one)");
    }
    loop {
        if engine.is_stale().await? {
            engine = SyncEngine::load(&engine.app, engine.org, engine.settings.clone()).await?;
        }
        if reconcile_changed_channels(&engine).await?.is_some() {
            return Ok(engine);
        }
        engine = SyncEngine::load(&engine.app, engine.org, engine.settings.clone()).await?;
    }
}

/// Why a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drained {
    /// Nothing is due.
    Idle,
    /// The channels' inputs changed: reload the engine and go on.
    Stale,
}

/// How often a drain checks that its engine is still current and takes back expired leases.
const STALE_CHECK: Duration = Duration::from_millis(500);

/// Runs every job of the engine's channels that is due now, `workers` at a time. Channels
/// take turns, and none takes more than its fair share of the workers (`workers / channels`,
/// rounded up): a connection that waits on its rate limit, or a slow platform, holds only its
/// own share while the other channels move on. Within a channel the job kinds take turns
/// too: they call different platform APIs, each with its own rate limit, so review checks
/// run beside a long backlog of creates instead of after it. Stops claiming when the engine
/// goes stale.
async fn drain(
    engine: &SyncEngine,
    settings: &QueueSettings,
    on_settled: &(dyn Fn() + Send + Sync),
) -> Result<Drained, DbError> {
    let workers = settings.workers.max(1);
    let channels: Vec<ChannelId> = engine.channels.keys().copied().collect();
    let share = fair_share(workers, channels.len());
    let mut turn = 0;
    let mut kind_turn: HashMap<ChannelId, usize> = HashMap::new();
    let mut running: JoinSet<Result<(), DbError>> = JoinSet::new();
    let mut channel_of: HashMap<tokio::task::Id, ChannelId> = HashMap::new();
    let mut busy: HashMap<ChannelId, usize> = HashMap::new();
    let mut exhausted = false;
    let mut stale = false;
    let mut checked = tokio::time::Instant::now();
    loop {
        if !stale && checked.elapsed() >= STALE_CHECK {
            checked = tokio::time::Instant::now();
            stale = engine.is_stale().await?;
            // A process that died holds jobs until their lease runs out; take them back now,
            // not when this process's own backlog is done.
            let rescued = engine.app.db.rescue_expired_jobs().await?;
            if rescued > 0 {
                tracing::warn!(rescued, "took back jobs whose lease ran out");
                exhausted = false;
            }
        }
        while !exhausted && !stale && !settings.stop.is_cancelled() && running.len() < workers {
            let mut claimed = None;
            for k in 0..channels.len() {
                let channel = channels[(turn + k) % channels.len()];
                if busy.get(&channel).copied().unwrap_or(0) >= share {
                    continue;
                }
                if let Some(job) = claim_next_kind(engine, settings, channel, &mut kind_turn).await? {
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
        let joined = tokio::select! {
            joined = running.join_next_with_id() => joined,
            // Long jobs in hand: look for expired leases and staleness meanwhile.
            _ = tokio::time::sleep(STALE_CHECK), if !running.is_empty() => continue,
        };
        match joined {
            None => return Ok(if stale { Drained::Stale } else { Drained::Idle }),
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
                    // `run_one` catches the job's own panics; this is one in settling it.
                    Err(e) => {
                        tracing::error!(error = %e, "a worker task ended abnormally; the job's lease expires and it is taken back")
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

/// Claims a due job of `channel`, trying the kinds in turn from the one after the kind it
/// last took.
async fn claim_next_kind(
    engine: &SyncEngine,
    settings: &QueueSettings,
    channel: ChannelId,
    kind_turn: &mut HashMap<ChannelId, usize>,
) -> Result<Option<Job>, DbError> {
    let start = kind_turn.get(&channel).copied().unwrap_or(0);
    for k in 0..JobKind::ALL.len() {
        let kind = JobKind::ALL[(start + k) % JobKind::ALL.len()];
        if let Some(job) = engine.app.db.claim_job(settings.lease, channel, kind).await? {
            kind_turn.insert(channel, (start + k + 1) % JobKind::ALL.len());
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// The most workers one channel may hold: an even split, rounded up, at least one.
fn fair_share(workers: usize, channels: usize) -> usize {
    workers.div_ceil(channels.max(1)).max(1)
}

#[tracing::instrument(skip_all, fields(job = job.id, kind = job.kind.as_str(), channel = %job.channel_id, product = %job.product_id))]
async fn run_one(engine: &SyncEngine, settings: &QueueSettings, job: Job) -> Result<(), DbError> {
    let db = &engine.app.db;
    // The job runs in its own task, so a panic in it (a bug) fails this job with its cause
    // instead of unwinding through the worker and leaving the job to run, and panic, again.
    let handled = {
        let (engine, job) = (engine.clone(), job.clone());
        tokio::spawn(async move { run_job(&engine, &job).await })
    };
    let abort = handled.abort_handle();
    let outcome = tokio::select! {
        joined = handled => match joined {
            Ok(outcome) => outcome,
            Err(e) => {
                let reason = crate::queue::panic_reason(&format!("job {} ({})", job.id, job.kind.as_str()), e);
                tracing::error!(%reason, "job panicked");
                JobOutcome::failed(reason)
            }
        },
        lost = keep_lease(engine, settings, &job) => {
            abort.abort();
            lost?;
            tracing::warn!("lease lost (the job was taken back); stopping it");
            return Ok(());
        }
    };
    let settled = match outcome {
        JobOutcome::Done => db.settle_job(&job, JobState::Done, None).await?,
        JobOutcome::Skipped(reason) => db.settle_job(&job, JobState::Skipped, Some(&reason)).await?,
        JobOutcome::Again(after) => db.reschedule_job(&job, now_ms() + after.as_millis() as i64).await?,
        JobOutcome::Failed { reason, retry: Retry::Never } => {
            tracing::warn!(%reason, "job failed");
            db.settle_job(&job, JobState::Failed, Some(&reason)).await?
        }
        JobOutcome::Failed { reason, retry: Retry::After(retry_after) } => {
            if job.attempts >= settings.max_attempts {
                let reason = format!("gave up after {} attempts: {reason}", job.attempts);
                tracing::warn!(%reason, "job dead");
                db.settle_job(&job, JobState::Dead, Some(&reason)).await?
            } else {
                let delay = settings.backoff.delay(job.attempts, retry_after, rand_unit());
                tracing::info!(%reason, delay_ms = delay.as_millis() as u64, "job will retry");
                db.retry_job(&job, now_ms() + delay.as_millis() as i64, &reason).await?
            }
        }
    };
    match settled {
        Settled::Recorded => {}
        Settled::Requeued => tracing::debug!("work came in while the job ran; it runs again"),
        Settled::LeaseLost => tracing::warn!("the lease ran out before the job ended; another worker has it"),
    }
    Ok(())
}

/// Renews the job's lease every third of it; returns only when the lease was lost (or the
/// database failed), so the job can be stopped.
async fn keep_lease(engine: &SyncEngine, settings: &QueueSettings, job: &Job) -> Result<(), DbError> {
    let every = (settings.lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        match engine.app.db.renew_lease(job, settings.lease).await {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            // A database hiccup: keep working, the next renewal may pass.
            Err(error) => tracing::warn!(%error, "renewing a lease failed"),
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

/// Runs one job through the flow that owns it.
pub async fn run_job(engine: &SyncEngine, job: &Job) -> JobOutcome {
    match job.kind {
        JobKind::PushListing => push::push_listing(engine, job).await,
        JobKind::CheckReview => review::check_review(engine, job).await,
        JobKind::CheckDrift => drift::check_drift(engine, job).await,
    }
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
