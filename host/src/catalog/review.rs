//! Following a channel's review of a pushed listing until it is live or refused, polling
//! at the sync's review interval. When the review ends, a push the review held back (new
//! stock or prices, a withdrawal) runs at once.

use crate::connectors::ReviewStatus;
use crate::db::jobs::{Job, JobKind};
use crate::db::listings::ListingState;
use crate::db::now_ms;
use crate::engine::SyncEngine;
use crate::queue::{JobOutcome, Retry};

#[tracing::instrument(skip_all, fields(channel = %job.channel_id, product = %job.product_id))]
pub async fn check_review(engine: &SyncEngine, job: &Job) -> JobOutcome {
    let db = &engine.app.db;
    let Some(channel) = engine.channel(job.channel_id) else {
        return JobOutcome::failed(format!("channel {} no longer exists", job.channel_id));
    };
    let mut listing = match db.listing(job.product_id, job.channel_id).await {
        Ok(Some(l)) => l,
        Ok(None) => return JobOutcome::Skipped("the listing is gone".into()),
        Err(e) => {
            return JobOutcome::Failed { reason: format!("database: {e}"), retry: Retry::After(None) };
        }
    };
    let Some(listing_id) = listing.external_id.clone() else {
        return JobOutcome::Skipped("the listing was never created".into());
    };
    let status = match channel.connector.listing_status(&listing_id).await {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let (state, reason) = match status {
        ReviewStatus::InReview => return JobOutcome::Again(engine.settings.review_poll),
        ReviewStatus::Active => (ListingState::Active, None),
        ReviewStatus::Rejected(reasons) => (ListingState::Rejected, Some(reasons.join("; "))),
        ReviewStatus::Inactive(status) => {
            // Hidden on the channel: if the product should be on sale, the push activates it.
            listing.deactivated = true;
            listing.target_hash = None;
            (ListingState::Inactive, Some(format!("channel status {status}")))
        }
        ReviewStatus::Draft => (ListingState::Inactive, Some("saved as a draft on the channel".into())),
    };
    listing.state = state;
    listing.reason = reason;
    let result = async {
        db.save_listing(&listing).await?;
        if listing.target_hash.is_none() {
            db.enqueue(JobKind::PushListing, job.channel_id, job.product_id, now_ms()).await?;
        }
        Ok::<_, crate::db::DbError>(())
    };
    if let Err(e) = result.await {
        return JobOutcome::Failed { reason: format!("database: {e}"), retry: Retry::After(None) };
    }
    JobOutcome::Done
}
