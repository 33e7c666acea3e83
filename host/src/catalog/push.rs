//! Pushing one product to one channel. The listing's state and the two hashes decide the
//! least the channel needs: nothing when nothing changed; a price/stock update (no review)
//! when only the offer changed; a content update when content changed and the channel keeps
//! content in step (or the last version was rejected); a new listing otherwise. A product
//! that is deselected, archived or deleted has its live listing deactivated.

use super::category::missing_attributes;
use super::draft::{Draft, DraftOutcome, build_draft};
use crate::connectors::{ListingRef, SkuMatch, SkuPrice, SkuStock};
use crate::db::jobs::{Job, JobKind};
use crate::db::listings::{ListingRow, ListingState};
use crate::db::{DbError, now_ms};
use crate::model::ProductStatus;
use crate::queue::{JobOutcome, Retry};
use crate::sync::{ChannelRuntime, SyncEngine};
use std::collections::BTreeMap;

#[tracing::instrument(skip_all, fields(channel = %job.channel_id, product = %job.product_id))]
pub async fn push_listing(engine: &SyncEngine, job: &Job) -> JobOutcome {
    match push(engine, job).await {
        Ok(outcome) => outcome,
        // The database may come back: retry with backoff.
        Err(e) => JobOutcome::Failed { reason: format!("database: {e}"), retry: Retry::After(None) },
    }
}

async fn push(engine: &SyncEngine, job: &Job) -> Result<JobOutcome, DbError> {
    let db = &engine.app.db;
    let Some(channel) = engine.channel(job.channel_id) else {
        return Ok(JobOutcome::failed(format!("channel {} no longer exists", job.channel_id)));
    };
    let Some(rules) = &channel.rules else {
        return Ok(JobOutcome::failed(
            channel.blocked.clone().unwrap_or_else(|| "channel is blocked".into()),
        ));
    };
    let product = db.product(job.product_id).await?;
    let listing = db
        .listing(job.product_id, job.channel_id)
        .await?
        .unwrap_or_else(|| ListingRow::new(job.product_id, job.channel_id));

    // Products that should not be (or no longer be) on this channel.
    let selected =
        db.selection(job.product_id, job.channel_id).await?.unwrap_or(channel.row.options.auto_select);
    let withdrawn = if db.is_deleted(job.product_id).await? {
        Some((ListingState::Inactive, "deleted in the store"))
    } else if product.status == ProductStatus::Archived {
        Some((ListingState::Inactive, "archived in the store"))
    } else if !selected {
        Some((ListingState::NotSelected, "not selected for this channel"))
    } else {
        None
    };
    if let Some((state, reason)) = withdrawn {
        return withdraw(engine, channel, listing, state, reason).await;
    }

    let by_hand = db.hand_category(job.product_id, job.channel_id).await?;
    let draft = match build_draft(&engine.app.rules, rules, &product, by_hand) {
        Ok(DraftOutcome::List(draft)) => draft,
        Ok(DraftOutcome::Skip(reason)) => {
            return settle(engine, listing, ListingState::Skipped, reason, false).await;
        }
        Ok(DraftOutcome::Hold(reason)) => {
            return settle(engine, listing, ListingState::Held, reason, false).await;
        }
        Ok(DraftOutcome::Unplaced(reason)) => {
            return settle(engine, listing, ListingState::Failed, reason, true).await;
        }
        Err(rule_error) => {
            return settle(engine, listing, ListingState::Failed, rule_error.to_string(), true).await;
        }
    };

    let content_same = listing.pushed_hash.as_deref() == Some(draft.content_hash.as_str());
    let offer_same = listing.offer_hash.as_deref() == Some(draft.offer_hash.as_str());
    let Some(listing_id) = listing.external_id.clone() else {
        return write_content(engine, channel, job, listing, &draft, None).await;
    };
    let resubmit = listing.state == ListingState::Rejected;
    if !content_same && (channel.row.options.sync_content || resubmit) {
        return write_content(engine, channel, job, listing, &draft, Some(listing_id)).await;
    }
    if offer_same {
        // Nothing the channel needs: no call at all.
        return Ok(JobOutcome::Done);
    }
    if listing.state == ListingState::InReview {
        // Prices and stock can only change on a live listing.
        return Ok(JobOutcome::Again(engine.settings.review_poll));
    }
    update_offer(engine, channel, listing, &draft, &listing_id).await
}

/// Creates the listing, or replaces its content; either way it goes to review.
async fn write_content(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    job: &Job,
    listing: ListingRow,
    draft: &Draft,
    listing_id: Option<String>,
) -> Result<JobOutcome, DbError> {
    // The channel refuses a category's missing required attributes; say so before pushing.
    let category = &draft.placement.category_id;
    match channel.category_attributes(category).await {
        Ok(attributes) => {
            let missing = missing_attributes(&attributes, &draft.placement.attributes);
            if !missing.is_empty() {
                let names: Vec<String> =
                    missing.iter().map(|a| format!("{} (id {})", a.name, a.id)).collect();
                let reason = format!(
                    "category {category} ({}) requires {}: give values in the category template or the \
                     product's category mapping",
                    draft.placement.source,
                    names.join(", ")
                );
                return settle(engine, listing, ListingState::Failed, reason, true).await;
            }
        }
        Err(e) => return fail_listing(engine, listing, e.into()).await,
    }
    if listing_id.is_none() && job.attempts > 1 {
        // An earlier attempt may have created the listing and lost the answer (a timeout, a
        // broken body, a crash): adopt what the channel holds rather than list it twice.
        let skus: Vec<String> = draft.listing.skus.iter().map(|s| s.seller_sku.clone()).collect();
        match channel.connector.find_skus(&skus).await {
            Ok(found) => {
                if let Some(earlier) = earlier_listing(&found, &skus) {
                    tracing::info!(listing = %earlier.listing_id, "adopting the listing an earlier attempt created");
                    return record_pushed(engine, job, listing, draft, earlier).await;
                }
            }
            Err(e) => return fail_listing(engine, listing, e.into()).await,
        }
    }
    let pushed = match &listing_id {
        Some(id) => channel.connector.update_listing(id, &draft.listing).await,
        None => channel.connector.create_listing(&draft.listing).await,
    };
    let reference = match pushed {
        Ok(r) => r,
        Err(e) => return fail_listing(engine, listing, e.into()).await,
    };
    record_pushed(engine, job, listing, draft, reference).await
}

/// The one listing on the channel that carries every one of `skus`, if there is exactly one.
fn earlier_listing(found: &[SkuMatch], skus: &[String]) -> Option<ListingRef> {
    let listing_id = &found.first()?.listing_id;
    if found.iter().any(|m| &m.listing_id != listing_id) {
        return None;
    }
    let sku_ids: BTreeMap<String, String> =
        found.iter().map(|m| (m.seller_sku.clone(), m.sku_id.clone())).collect();
    let complete = skus.iter().all(|s| sku_ids.contains_key(s)) && sku_ids.len() == skus.len();
    complete.then(|| ListingRef { listing_id: listing_id.clone(), sku_ids })
}

/// Records a listing the channel now holds with this draft's content, and queues its review
/// check.
async fn record_pushed(
    engine: &SyncEngine,
    job: &Job,
    mut listing: ListingRow,
    draft: &Draft,
    reference: ListingRef,
) -> Result<JobOutcome, DbError> {
    listing.external_id = Some(reference.listing_id);
    listing.sku_ids = reference.sku_ids;
    listing.pushed_hash = Some(draft.content_hash.clone());
    listing.offer_hash = Some(draft.offer_hash.clone());
    listing.explanation = Some(draft.explanation.clone());
    listing.state = ListingState::InReview;
    listing.reason = None;
    engine.app.db.save_listing(&listing).await?;
    let first_check = now_ms() + engine.settings.review_poll.as_millis() as i64;
    engine.app.db.enqueue(JobKind::CheckReview, job.channel_id, job.product_id, first_check).await?;
    Ok(JobOutcome::Done)
}

/// Sends prices and stock to a live listing: no review needed.
async fn update_offer(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    mut listing: ListingRow,
    draft: &Draft,
    listing_id: &str,
) -> Result<JobOutcome, DbError> {
    let skus = &draft.listing.skus;
    let prices: Vec<SkuPrice> = skus
        .iter()
        .filter_map(|s| {
            listing.sku_ids.get(&s.seller_sku).map(|id| SkuPrice {
                sku_id: id.clone(),
                price: s.price.clone(),
                compare_at_price: s.compare_at_price.clone(),
            })
        })
        .collect();
    let stock: Vec<SkuStock> = skus
        .iter()
        .filter_map(|s| {
            listing.sku_ids.get(&s.seller_sku).map(|id| SkuStock { sku_id: id.clone(), stock: s.stock })
        })
        .collect();
    if let Err(e) = channel.connector.update_prices(listing_id, &prices).await {
        return fail_listing(engine, listing, e.into()).await;
    }
    if let Err(e) = channel.connector.update_stock(listing_id, &stock).await {
        return fail_listing(engine, listing, e.into()).await;
    }
    listing.offer_hash = Some(draft.offer_hash.clone());
    listing.explanation = Some(draft.explanation.clone());
    if listing.state == ListingState::Failed {
        listing.state = ListingState::Active;
        listing.reason = None;
    }
    engine.app.db.save_listing(&listing).await?;
    Ok(JobOutcome::Done)
}

/// Takes a product off the channel: a live listing is deactivated there.
async fn withdraw(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    mut listing: ListingRow,
    state: ListingState,
    reason: &str,
) -> Result<JobOutcome, DbError> {
    if listing.state == state {
        return Ok(JobOutcome::Skipped(reason.to_string()));
    }
    let live = matches!(listing.state, ListingState::Active | ListingState::InReview | ListingState::Failed);
    if let (Some(listing_id), true) = (&listing.external_id, live) {
        if let Err(e) = channel.connector.deactivate_listing(listing_id).await {
            return fail_listing(engine, listing, e.into()).await;
        }
        listing.offer_hash = None;
    }
    listing.state = state;
    listing.reason = Some(reason.to_string());
    engine.app.db.save_listing(&listing).await?;
    Ok(JobOutcome::Skipped(reason.to_string()))
}

/// Records why the product is not listed and ends the job accordingly.
async fn settle(
    engine: &SyncEngine,
    mut listing: ListingRow,
    state: ListingState,
    reason: String,
    failed: bool,
) -> Result<JobOutcome, DbError> {
    // A listing already on the channel keeps its ids; only its state and reason change.
    listing.state = state;
    listing.reason = Some(reason.clone());
    engine.app.db.save_listing(&listing).await?;
    Ok(if failed { JobOutcome::failed(reason) } else { JobOutcome::Skipped(reason) })
}

/// Records a failed channel call on the listing (so the product center shows why). A
/// retryable failure keeps the listing's state.
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
