//! How far the catalog sync got on each channel — the first sync or any later one: products
//! selected, listings queued, pushing, in review, live, failed, held back, and whether work
//! is still under way. The Home and Product center pages draw their progress bars from it.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::db::jobs::JobState;
use crate::db::listings::ListingState;
use crate::model::ChannelId;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Serialize;

/// One channel's catalog sync.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChannelProgress {
    pub channel: ChannelId,
    pub name: String,
    /// Store products (deleted ones left out).
    pub products: i64,
    /// Products chosen for the channel (every product but the deselected ones).
    pub selected: i64,
    /// Listings waiting for their push.
    pub queued: i64,
    /// Jobs being worked on right now.
    pub pushing: i64,
    /// Pushed; the channel reviews them.
    pub in_review: i64,
    /// Live on the channel.
    pub live: i64,
    /// Failed or rejected by the review: see the product center for why.
    pub failed: i64,
    /// Skipped or held by a rule.
    pub held: i64,
    /// Selected products whose listing reached an end state (live, failed, held, inactive).
    pub settled: i64,
    /// Jobs queued for the channel (pushes, updates, review checks).
    pub jobs_queued: i64,
    /// Work is still under way (jobs queued or running, listings queued or in review).
    pub running: bool,
    /// Why nothing can be listed on the channel now, when something blocks it.
    pub blocked: Option<String>,
}

/// Every channel of the organization.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SyncProgress {
    pub channels: Vec<ChannelProgress>,
    /// Any channel still works.
    pub running: bool,
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/orgs/{org}/sync-progress", get(progress))
}

async fn progress(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<SyncProgress>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let db = &state.app.db;
    let store = db.store_of(org).await?;
    let engine = match &store {
        Some(_) => Some(state.engine(org).await?),
        None => None,
    };
    let mut channels = Vec::new();
    for row in db.channels(org).await? {
        let rows = match &store {
            Some(store) => db.product_center(store.id, row.id).await?,
            None => Vec::new(),
        };
        let jobs = db.job_counts_of(row.id).await?;
        let job = |s: JobState| jobs.get(&s).copied().unwrap_or(0);
        let live_rows: Vec<_> = rows.iter().filter(|r| !r.deleted).collect();
        let count = |states: &[ListingState]| {
            live_rows.iter().filter(|r| r.state.is_some_and(|s| states.contains(&s))).count() as i64
        };
        let products = live_rows.len() as i64;
        let selected = products - count(&[ListingState::NotSelected]);
        let queued = count(&[ListingState::Queued]);
        let in_review = count(&[ListingState::InReview]);
        let live = count(&[ListingState::Active]);
        let failed = count(&[ListingState::Failed, ListingState::Rejected]);
        let held = count(&[ListingState::Skipped, ListingState::Held]);
        let settled = live + failed + held + count(&[ListingState::Inactive]);
        let (jobs_queued, pushing) = (job(JobState::Queued), job(JobState::Running));
        let blocked = match &engine {
            Some(engine) => engine.channel(row.id).and_then(|c| c.blocked.clone()),
            None => Some("no store connected: connect the organization's store".to_string()),
        };
        channels.push(ChannelProgress {
            channel: row.id,
            name: row.name,
            products,
            selected,
            queued,
            pushing,
            in_review,
            live,
            failed,
            held,
            settled,
            jobs_queued,
            running: jobs_queued + pushing + queued + in_review > 0,
            blocked,
        });
    }
    let running = channels.iter().any(|c| c.running);
    Ok(Json(SyncProgress { channels, running }))
}
