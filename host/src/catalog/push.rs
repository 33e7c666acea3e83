//! Pushing one product to one channel: run the channel's rules, and then do the least the
//! channel needs: nothing when nothing changed, a price/stock update when only the offer
//! changed on a live listing, otherwise create or update the listing (which goes to review).

use super::draft::{DraftOutcome, build_draft};
use crate::connectors::{SkuPrice, SkuStock};
use crate::db::jobs::{Job, JobKind};
use crate::db::listings::{ListingRow, ListingState};
use crate::db::{DbError, now_ms};
use crate::model::ProductStatus;
use crate::queue::{JobOutcome, Retry};
use crate::sync::SyncEngine;

/// Turns a database failure into a retryable job failure (the database may come back).
fn db_failure(e: DbError) -> JobOutcome {
    JobOutcome::Failed {
        reason: format!("database: {e}"),
        retry: Retry::After(None),
    }
}

#[tracing::instrument(skip_all, fields(channel = %job.channel_id, product = %job.product_id))]
pub async fn push_listing(engine: &SyncEngine, job: &Job) -> JobOutcome {
    match push(engine, job).await {
        Ok(outcome) => outcome,
        Err(e) => db_failure(e),
    }
}

async fn push(engine: &SyncEngine, job: &Job) -> Result<JobOutcome, DbError> {
    let db = &engine.app.db;
    let Some(channel) = engine.channel(job.channel_id) else {
        return Ok(JobOutcome::failed(format!(
            "channel {} no longer exists",
            job.channel_id
        )));
    };
    let Some(rules) = &channel.rules else {
        return Ok(JobOutcome::failed(
            channel
                .blocked
                .clone()
                .unwrap_or_else(|| "channel is blocked".into()),
        ));
    };
    let product = db.product(job.product_id).await?;
    let mut listing = db
        .listing(job.product_id, job.channel_id)
        .await?
        .unwrap_or_else(|| ListingRow::new(job.product_id, job.channel_id));

    if product.status == ProductStatus::Archived && listing.external_id.is_none() {
        listing.state = ListingState::Skipped;
        listing.reason = Some("archived in the store".into());
        db.save_listing(&listing).await?;
        return Ok(JobOutcome::Skipped("archived in the store".into()));
    }

    let draft = match build_draft(&engine.app.rules, rules, &product) {
        Ok(DraftOutcome::List(draft)) => draft,
        Ok(DraftOutcome::Skip(reason)) => {
            listing.state = ListingState::Skipped;
            listing.reason = Some(reason.clone());
            db.save_listing(&listing).await?;
            return Ok(JobOutcome::Skipped(reason));
        }
        Ok(DraftOutcome::Hold(reason)) => {
            listing.state = ListingState::Held;
            listing.reason = Some(reason.clone());
            db.save_listing(&listing).await?;
            return Ok(JobOutcome::Skipped(format!("held: {reason}")));
        }
        Err(rule_error) => {
            let reason = rule_error.to_string();
            listing.state = ListingState::Failed;
            listing.reason = Some(reason.clone());
            db.save_listing(&listing).await?;
            return Ok(JobOutcome::failed(reason));
        }
    };

    let content_same = listing.pushed_hash.as_deref() == Some(draft.content_hash.as_str());
    let offer_same = listing.offer_hash.as_deref() == Some(draft.offer_hash.as_str());
    let connector = &channel.connector;
    match (&listing.external_id, content_same, offer_same) {
        // Nothing changed since the channel last accepted this product: no call at all.
        (Some(_), true, true) => return Ok(JobOutcome::Done),
        // Only prices or stock changed: no review needed, but the channel wants the listing live.
        (Some(listing_id), true, false) => {
            if listing.state == ListingState::InReview {
                return Ok(JobOutcome::Again(engine.settings.review_poll));
            }
            let prices: Vec<SkuPrice> = draft
                .listing
                .skus
                .iter()
                .filter_map(|s| {
                    listing.sku_ids.get(&s.seller_sku).map(|id| SkuPrice {
                        sku_id: id.clone(),
                        price: s.price.clone(),
                        compare_at_price: s.compare_at_price.clone(),
                    })
                })
                .collect();
            let stock: Vec<SkuStock> = draft
                .listing
                .skus
                .iter()
                .filter_map(|s| {
                    listing.sku_ids.get(&s.seller_sku).map(|id| SkuStock {
                        sku_id: id.clone(),
                        stock: s.stock,
                    })
                })
                .collect();
            if let Err(e) = connector.update_prices(listing_id, &prices).await {
                return fail_listing(engine, listing, e.into()).await;
            }
            if let Err(e) = connector.update_stock(listing_id, &stock).await {
                return fail_listing(engine, listing, e.into()).await;
            }
            listing.offer_hash = Some(draft.offer_hash.clone());
            listing.explanation = Some(draft.explanation.clone());
            db.save_listing(&listing).await?;
            return Ok(JobOutcome::Done);
        }
        _ => {}
    }

    let pushed = match &listing.external_id {
        Some(listing_id) => connector.update_listing(listing_id, &draft.listing).await,
        None => connector.create_listing(&draft.listing).await,
    };
    let reference = match pushed {
        Ok(r) => r,
        Err(e) => return fail_listing(engine, listing, e.into()).await,
    };
    listing.external_id = Some(reference.listing_id);
    listing.sku_ids = reference.sku_ids;
    listing.pushed_hash = Some(draft.content_hash.clone());
    listing.offer_hash = Some(draft.offer_hash.clone());
    listing.explanation = Some(draft.explanation.clone());
    listing.state = ListingState::InReview;
    listing.reason = None;
    db.save_listing(&listing).await?;
    let first_check = now_ms() + engine.settings.review_poll.as_millis() as i64;
    db.enqueue(
        JobKind::CheckReview,
        job.channel_id,
        job.product_id,
        first_check,
    )
    .await?;
    Ok(JobOutcome::Done)
}

/// Records a failed push on the listing (so the product center shows why) and returns the
/// job's outcome. A retryable failure keeps the listing's previous state.
async fn fail_listing(
    engine: &SyncEngine,
    mut listing: ListingRow,
    outcome: JobOutcome,
) -> Result<JobOutcome, DbError> {
    if let JobOutcome::Failed { reason, retry } = &outcome {
        if *retry == Retry::Never {
            listing.state = ListingState::Failed;
        }
        listing.reason = Some(reason.clone());
        engine.app.db.save_listing(&listing).await?;
    }
    Ok(outcome)
}
