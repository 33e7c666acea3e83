//! Drift from the channel side: on a slower cycle, read back what each shop actually holds
//! (status, prices, stock) and correct what differs from what Crossdock applied — a listing
//! edited or deactivated in Seller Center, or deleted there. Every correction is recorded,
//! so the merchant sees what was put right.

use super::desired::{Desired, desired_now};
use crate::connectors::{ErrorKind, ListingSnapshot, ReviewStatus};
use crate::db::jobs::{Job, JobKind};
use crate::db::listings::{ListingRow, ListingState};
use crate::db::{DbError, now_ms};
use crate::engine::{SyncEngine, SyncError};
use crate::queue::{JobOutcome, Retry};

/// Queues a drift check for every live listing of every channel of the engine; returns
/// how many were queued.
pub async fn schedule_drift_checks(engine: &SyncEngine) -> Result<usize, SyncError> {
    let db = &engine.app.db;
    let mut queued = 0;
    // A plugin built for contract 0.1.0 cannot read listings back.
    let checkable =
        engine.channels.values().filter(|c| c.rules.is_some() && c.connector.supports_read_listing());
    for channel in checkable {
        for listing in db.listings_in_state(channel.row.id, ListingState::Active).await? {
            if listing.external_id.is_some() && !listing.deactivated {
                db.ensure_job(JobKind::CheckDrift, channel.row.id, listing.product_id, now_ms()).await?;
                queued += 1;
            }
        }
    }
    tracing::info!(queued, "drift checks queued");
    Ok(queued)
}

#[tracing::instrument(skip_all, fields(channel = %job.channel_id, product = %job.product_id))]
pub async fn check_drift(engine: &SyncEngine, job: &Job) -> JobOutcome {
    match check(engine, job).await {
        Ok(outcome) => outcome,
        Err(e) => JobOutcome::Failed { reason: format!("database: {e}"), retry: Retry::After(None) },
    }
}

async fn check(engine: &SyncEngine, job: &Job) -> Result<JobOutcome, DbError> {
    let db = &engine.app.db;
    let Some(channel) = engine.channel(job.channel_id) else {
        return Ok(JobOutcome::Skipped(format!("channel {} no longer exists", job.channel_id)));
    };
    let Some(listing) = db.listing(job.product_id, job.channel_id).await? else {
        return Ok(JobOutcome::Skipped("no listing".into()));
    };
    let Some(listing_id) = listing.external_id.clone() else {
        return Ok(JobOutcome::Skipped("not on the channel".into()));
    };
    if listing.state != ListingState::Active || listing.deactivated {
        return Ok(JobOutcome::Skipped("not live".into()));
    }
    let Some(Desired::Listed(draft)) = desired_now(engine, channel, job.product_id).await? else {
        return Ok(JobOutcome::Skipped("not meant to be on sale".into()));
    };
    let snapshot = match channel.connector.read_listing(&listing_id).await {
        Ok(s) => s,
        Err(e) => match &e.kind {
            ErrorKind::NotFound(_) => {
                let detail =
                    format!("listing {listing_id} is gone from the channel; listing the product again");
                return correct(engine, job, listing, &[("removed", detail)], true).await;
            }
            ErrorKind::Unsupported(_) => {
                return Ok(JobOutcome::Skipped(format!(
                    "the channel's plugin cannot read listings back: {e}"
                )));
            }
            _ => return Ok(e.into()),
        },
    };
    if listing.offer_hash.as_deref() != Some(draft.offer_hash.as_str()) {
        // A push is on its way; what the channel holds is not drift yet.
        return Ok(JobOutcome::Done);
    }
    let found = differences(&listing, &draft.listing.skus, &snapshot);
    if found.is_empty() {
        return Ok(JobOutcome::Done);
    }
    let relist = found.iter().any(|(kind, _)| *kind == "status");
    correct(engine, job, listing, &found, relist).await
}

/// What the channel holds that differs from what was applied: (kind, detail) pairs.
fn differences(
    listing: &ListingRow,
    skus: &[crate::connectors::ListingSku],
    snapshot: &ListingSnapshot,
) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    match &snapshot.status {
        ReviewStatus::Active | ReviewStatus::InReview => {}
        other => found.push(("status", format!("the channel shows the listing as {other:?}, not active"))),
    }
    for sku in skus {
        let Some(sku_id) = listing.sku_ids.get(&sku.seller_sku) else { continue };
        let Some(held) = snapshot.skus.iter().find(|s| &s.sku_id == sku_id) else { continue };
        if held.price.amount != sku.price.amount {
            found.push((
                "price",
                format!("{}: the channel has {} where {} was set", sku.seller_sku, held.price, sku.price),
            ));
        }
        if held.stock != sku.stock {
            found.push((
                "stock",
                format!("{}: the channel has {} where {} was set", sku.seller_sku, held.stock, sku.stock),
            ));
        }
    }
    found
}

/// Records the corrections and queues the push that makes them: the listing's applied
/// offer is forgotten; a status change also marks it deactivated (so the push activates
/// it), and a listing gone from the channel is listed again.
async fn correct(
    engine: &SyncEngine,
    job: &Job,
    mut listing: ListingRow,
    found: &[(&'static str, String)],
    status_changed: bool,
) -> Result<JobOutcome, DbError> {
    let db = &engine.app.db;
    for (kind, detail) in found {
        tracing::info!(kind, %detail, "drift corrected");
        db.record_drift(job.channel_id, job.product_id, kind, detail).await?;
    }
    listing.offer_hash = None;
    listing.target_hash = None;
    if found.iter().any(|(kind, _)| *kind == "removed") {
        listing.external_id = None;
        listing.sku_ids.clear();
        listing.pushed_hash = None;
        listing.state = ListingState::Queued;
    } else if status_changed {
        listing.deactivated = true;
        listing.state = ListingState::Inactive;
    }
    db.save_listing(&listing).await?;
    db.enqueue(JobKind::PushListing, job.channel_id, job.product_id, now_ms()).await?;
    Ok(JobOutcome::Done)
}
