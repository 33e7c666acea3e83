//! Pushing one product to one channel, from the state current when the job runs
//! (`desired`). The listing's state and the two hashes decide the least the channel needs:
//! nothing when nothing changed; a price/stock update (no review) when only the offer
//! changed; a content update when content changed and the channel keeps content in step (or
//! the last version was rejected); a new listing otherwise. A product that should be off the
//! channel (deleted, archived, a draft, deselected, skipped by a rule) has its live listing
//! deactivated, and reactivated when it should be back. Every finished push records the
//! fingerprint of the desired state it acted on, so reconciliation knows the pair is in step.

use super::desired::{Desired, desired_now};
use super::draft::Draft;
use crate::channel_rules::category::missing_attributes;
use crate::connectors::{ListingRef, SkuMatch, SkuPrice, SkuStock};
use crate::db::jobs::{Job, JobKind};
use crate::db::listings::{ListingRow, ListingState};
use crate::db::{DbError, now_ms};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::queue::{JobOutcome, Retry};
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
    let Some(desired) = desired_now(engine, channel, job.product_id).await? else {
        return Ok(JobOutcome::Skipped(format!(
            "product {} no longer exists in the store of channel {}'s organization",
            job.product_id, job.channel_id
        )));
    };
    let listing = db
        .listing(job.product_id, job.channel_id)
        .await?
        .unwrap_or_else(|| ListingRow::new(job.product_id, job.channel_id));
    let target = desired.fingerprint(channel.row.options.sync_content);
    let mut pair = Pair { engine, channel, job, listing, target };
    match desired {
        Desired::Blocked(reason) => pair.settle(ListingState::Failed, reason, true).await,
        Desired::Held(reason) => pair.settle(ListingState::Held, reason, false).await,
        Desired::Withdrawn { state, reason } => pair.withdraw(state, reason).await,
        Desired::Listed(draft) => pair.list(&draft).await,
    }
}

/// One (product, channel) pair being pushed: its listing as stored and the fingerprint of
/// the state it should reach.
struct Pair<'a> {
    engine: &'a SyncEngine,
    channel: &'a ChannelRuntime,
    job: &'a Job,
    listing: ListingRow,
    target: String,
}

impl Pair<'_> {
    /// Brings a listing that should be on sale in step with its draft.
    async fn list(&mut self, draft: &Draft) -> Result<JobOutcome, DbError> {
        let Some(listing_id) = self.listing.external_id.clone() else {
            return self.write_content(draft, None).await;
        };
        if self.listing.deactivated {
            // Selected again, restored in the store or no longer skipped: back on sale.
            if let Err(e) = self.channel.connector.activate_listing(&listing_id).await {
                return self.fail(e.into()).await;
            }
            self.listing.deactivated = false;
            self.listing.state = ListingState::Active;
            self.listing.reason = None;
            self.save().await?;
        }
        let content_same = self.listing.pushed_hash.as_deref() == Some(draft.content_hash.as_str());
        let offer_same = self.listing.offer_hash.as_deref() == Some(draft.offer_hash.as_str());
        let resubmit = self.listing.state == ListingState::Rejected;
        if !content_same && (self.channel.row.options.sync_content || resubmit) {
            return self.write_content(draft, Some(listing_id)).await;
        }
        match self.listing.state {
            ListingState::InReview if !offer_same => {
                // Prices and stock change only on a live listing; the review check pushes
                // again the moment the review ends.
                self.listing.target_hash = None;
                self.save().await?;
                return Ok(JobOutcome::Done);
            }
            ListingState::Rejected => {
                // Nothing to resubmit; the reasons stay on the listing for the merchant.
                self.listing.target_hash = Some(self.target.clone());
                self.save().await?;
                return Ok(JobOutcome::Done);
            }
            _ => {}
        }
        if !offer_same {
            return self.update_offer(draft, &listing_id).await;
        }
        if !matches!(self.listing.state, ListingState::InReview | ListingState::Active) {
            self.listing.state = ListingState::Active;
            self.listing.reason = None;
        }
        self.listing.target_hash = Some(self.target.clone());
        self.save().await?;
        Ok(JobOutcome::Done)
    }

    /// Creates the listing, or replaces its content; either way it goes to review.
    async fn write_content(
        &mut self,
        draft: &Draft,
        listing_id: Option<String>,
    ) -> Result<JobOutcome, DbError> {
        let channel = self.channel;
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
                    return self.settle(ListingState::Failed, reason, true).await;
                }
            }
            Err(e) => return self.fail(e.into()).await,
        }
        if listing_id.is_none() {
            if self.listing.create_started_at.is_some() {
                // An earlier attempt may have created the listing and lost the answer (a timeout,
                // a broken body, a crash): adopt what the channel holds rather than list it twice.
                let skus: Vec<String> = draft.listing.skus.iter().map(|s| s.seller_sku.clone()).collect();
                match channel.connector.find_skus(&skus).await {
                    Ok(found) => {
                        if let Some(earlier) = earlier_listing(&found, &skus) {
                            tracing::info!(listing = %earlier.listing_id, "adopting the listing an earlier attempt created");
                            return self.adopt(earlier).await;
                        }
                    }
                    Err(e) => return self.fail(e.into()).await,
                }
            }
            // Recorded before the call: from now on any attempt searches first.
            self.listing.create_started_at = Some(now_ms());
            self.save().await?;
        }
        let pushed = match &listing_id {
            Some(id) => channel.connector.update_listing(id, &draft.listing).await,
            None => channel.connector.create_listing(&draft.listing).await,
        };
        let reference = match pushed {
            Ok(r) => r,
            Err(e) => {
                let outcome: JobOutcome = e.into();
                if listing_id.is_none() && matches!(outcome, JobOutcome::Failed { retry: Retry::Never, .. }) {
                    // The channel refused the create outright: nothing was listed.
                    self.listing.create_started_at = None;
                }
                return self.fail(outcome).await;
            }
        };
        self.record_pushed(draft, reference).await
    }

    /// Adopts a listing an earlier attempt created: its ids are recorded, but not what it
    /// holds (that attempt may have sent an older draft), so once its review ends the push
    /// brings its offer (and content, where the channel keeps content in step) up to date.
    async fn adopt(&mut self, earlier: ListingRef) -> Result<JobOutcome, DbError> {
        let listing = &mut self.listing;
        listing.external_id = Some(earlier.listing_id);
        listing.sku_ids = earlier.sku_ids;
        listing.pushed_hash = None;
        listing.offer_hash = None;
        listing.state = ListingState::InReview;
        listing.reason = None;
        listing.create_started_at = None;
        listing.deactivated = false;
        listing.target_hash = None;
        self.save().await?;
        let first_check = now_ms() + self.engine.settings.review_poll.as_millis() as i64;
        self.engine
            .app
            .db
            .enqueue(JobKind::CheckReview, self.job.channel_id, self.job.product_id, first_check)
            .await?;
        Ok(JobOutcome::Done)
    }

    /// Records a listing the channel now holds with this draft's content, and queues its
    /// review check.
    async fn record_pushed(&mut self, draft: &Draft, reference: ListingRef) -> Result<JobOutcome, DbError> {
        let listing = &mut self.listing;
        listing.external_id = Some(reference.listing_id);
        listing.sku_ids = reference.sku_ids;
        listing.pushed_hash = Some(draft.content_hash.clone());
        listing.offer_hash = Some(draft.offer_hash.clone());
        listing.explanation = Some(draft.explanation.clone());
        listing.state = ListingState::InReview;
        listing.reason = None;
        listing.create_started_at = None;
        listing.deactivated = false;
        listing.target_hash = Some(self.target.clone());
        self.save().await?;
        let first_check = now_ms() + self.engine.settings.review_poll.as_millis() as i64;
        self.engine
            .app
            .db
            .enqueue(JobKind::CheckReview, self.job.channel_id, self.job.product_id, first_check)
            .await?;
        Ok(JobOutcome::Done)
    }

    /// Sends prices and stock to a live listing: no review needed. SKUs the store no longer
    /// has are set to 0, so the shop never sells what the store removed.
    async fn update_offer(&mut self, draft: &Draft, listing_id: &str) -> Result<JobOutcome, DbError> {
        let skus = &draft.listing.skus;
        let ids = &self.listing.sku_ids;
        let prices: Vec<SkuPrice> = skus
            .iter()
            .filter_map(|s| {
                ids.get(&s.seller_sku).map(|id| SkuPrice {
                    sku_id: id.clone(),
                    price: s.price.clone(),
                    compare_at_price: s.compare_at_price.clone(),
                })
            })
            .collect();
        let mut stock: Vec<SkuStock> = skus
            .iter()
            .filter_map(|s| ids.get(&s.seller_sku).map(|id| SkuStock { sku_id: id.clone(), stock: s.stock }))
            .collect();
        let removed = ids
            .iter()
            .filter(|(seller_sku, _)| !skus.iter().any(|s| &s.seller_sku == *seller_sku))
            .map(|(_, id)| SkuStock { sku_id: id.clone(), stock: 0 });
        stock.extend(removed);
        if !prices.is_empty()
            && let Err(e) = self.channel.connector.update_prices(listing_id, &prices).await
        {
            return self.fail(e.into()).await;
        }
        if !stock.is_empty()
            && let Err(e) = self.channel.connector.update_stock(listing_id, &stock).await
        {
            return self.fail(e.into()).await;
        }
        let listing = &mut self.listing;
        listing.offer_hash = Some(draft.offer_hash.clone());
        if listing.pushed_hash.as_deref() == Some(draft.content_hash.as_str()) {
            // The explanation names the category the shop holds: only with the content.
            listing.explanation = Some(draft.explanation.clone());
        }
        if listing.state != ListingState::InReview {
            listing.state = ListingState::Active;
            listing.reason = None;
        }
        listing.target_hash = Some(self.target.clone());
        self.save().await?;
        Ok(JobOutcome::Done)
    }

    /// Takes a product off the channel: a live listing is deactivated there.
    async fn withdraw(&mut self, state: ListingState, reason: String) -> Result<JobOutcome, DbError> {
        if let Some(listing_id) = self.listing.external_id.clone()
            && !self.listing.deactivated
        {
            match self.listing.state {
                ListingState::InReview => {
                    // The channel cannot deactivate a listing under review; the review check
                    // pushes again the moment the review ends.
                    self.listing.reason = Some(format!("{reason}; withdrawn once the channel's review ends"));
                    self.listing.target_hash = None;
                    self.save().await?;
                    return Ok(JobOutcome::Skipped(reason));
                }
                // A refused listing is not on sale.
                ListingState::Rejected => {}
                _ => {
                    if let Err(e) = self.channel.connector.deactivate_listing(&listing_id).await {
                        return self.fail(e.into()).await;
                    }
                    self.listing.deactivated = true;
                }
            }
        }
        self.listing.state = state;
        self.listing.reason = Some(reason.clone());
        self.listing.target_hash = Some(self.target.clone());
        self.save().await?;
        Ok(JobOutcome::Skipped(reason))
    }

    /// Records why the product is not listed (or not changed) and ends the job accordingly.
    async fn settle(
        &mut self,
        state: ListingState,
        reason: String,
        failed: bool,
    ) -> Result<JobOutcome, DbError> {
        // A listing already on the channel keeps its ids; only its state and reason change.
        self.listing.state = state;
        self.listing.reason = Some(reason.clone());
        self.listing.target_hash = Some(self.target.clone());
        self.save().await?;
        Ok(if failed { JobOutcome::failed(reason) } else { JobOutcome::Skipped(reason) })
    }

    /// Records a failed channel call on the listing (so the product center shows why). A
    /// retryable failure keeps the listing's state and leaves the pair out of date; one that
    /// needs a person marks the pair done with this state, until an input changes.
    async fn fail(&mut self, outcome: JobOutcome) -> Result<JobOutcome, DbError> {
        if let JobOutcome::Failed { reason, retry } = &outcome {
            if *retry == Retry::Never {
                self.listing.state = ListingState::Failed;
                self.listing.target_hash = Some(self.target.clone());
            }
            self.listing.reason = Some(reason.clone());
            self.save().await?;
        }
        Ok(outcome)
    }

    async fn save(&self) -> Result<(), DbError> {
        self.engine.app.db.save_listing(&self.listing).await
    }
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
