//! Bringing pairs back in step: for a set of products on a set of channels, work out what each
//! channel should hold (`desired`), compare it with what the last push acted on, and queue a
//! push for exactly the pairs that differ. Products not yet on a channel go through SKU
//! linking first. Every trigger ends here — a store read, a webhook, an API or config change,
//! a rule version, a new channel's share of the stock — so a missed or duplicated event costs
//! latency, never correctness.

use super::desired::{Desired, PairInputs, derive, out_of_date};
use super::link::link_products;
use crate::db::jobs::JobKind;
use crate::db::listings::ListingState;
use crate::db::now_ms;
use crate::engine::{ChannelRuntime, SyncEngine, SyncError};
use crate::model::{ChannelId, ProductId};

/// What one reconciliation found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    /// (product, channel) pairs looked at.
    pub pairs: usize,
    /// Pairs whose push was queued.
    pub queued: usize,
    /// Products adopted from existing channel listings by SKU.
    pub linked: usize,
    /// Products held because their SKUs could not be linked for sure.
    pub held: usize,
    /// Products whose SKU search failed (the channel was down): they wait for the next
    /// reconciliation.
    pub unlinked: usize,
}

impl ReconcileReport {
    pub fn add(&mut self, other: ReconcileReport) {
        self.pairs += other.pairs;
        self.queued += other.queued;
        self.linked += other.linked;
        self.held += other.held;
        self.unlinked += other.unlinked;
    }
}

/// Products reconciled per batch (one read of their inputs per channel).
const BATCH: usize = 500;

/// Reconciles `products` on every channel of the engine (or only `only`).
#[tracing::instrument(skip_all, fields(org = %engine.org, products = products.len()))]
pub async fn reconcile_products(
    engine: &SyncEngine,
    products: &[ProductId],
    only: Option<ChannelId>,
) -> Result<ReconcileReport, SyncError> {
    let mut report = ReconcileReport::default();
    for batch in products.chunks(BATCH) {
        for channel in engine.channels.values().filter(|c| only.is_none_or(|id| id == c.row.id)) {
            report.add(reconcile_batch(engine, channel, batch).await?);
        }
    }
    Ok(report)
}

/// Reconciles every product of the store on one channel.
pub async fn reconcile_channel(
    engine: &SyncEngine,
    channel: ChannelId,
) -> Result<ReconcileReport, SyncError> {
    let products = engine.app.db.product_ids(engine.store.id).await?;
    reconcile_products(engine, &products, Some(channel)).await
}

/// Reconciles the channels whose channel-wide inputs changed (a rule version, the rate, the
/// stock options or shares, a template) and records the version each was reconciled at.
/// Returns None when the engine was loaded before the change (the caller reloads it).
pub async fn reconcile_changed_channels(engine: &SyncEngine) -> Result<Option<ReconcileReport>, SyncError> {
    let mut report = ReconcileReport::default();
    for (channel, version) in engine.app.db.channels_to_reconcile(engine.org).await? {
        let Some(runtime) = engine.channel(channel) else { return Ok(None) };
        if runtime.row.inputs_version < version {
            return Ok(None);
        }
        let done = reconcile_channel(engine, channel).await?;
        tracing::info!(%channel, version, pairs = done.pairs, queued = done.queued, "channel reconciled");
        report.add(done);
        if done.unlinked == 0 {
            engine.app.db.channel_reconciled(channel, version).await?;
        }
    }
    Ok(Some(report))
}

async fn reconcile_batch(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    batch: &[ProductId],
) -> Result<ReconcileReport, SyncError> {
    let db = &engine.app.db;
    let id = channel.row.id;
    let mut report = ReconcileReport::default();
    if channel.rules.is_none() {
        // Nothing can be worked out until the channel is unblocked (which marks it changed).
        return Ok(report);
    }
    // Only the organization's own store's products, whatever ids were asked for.
    let mut products = db.products_for(batch).await?;
    products.retain(|p| p.store_id == engine.store.id);
    let listings = db.listings_for(id, batch).await?;
    let selections = db.selections_for(id, batch).await?;
    let hand = db.hand_categories_for(id, batch).await?;
    let sync_content = channel.row.options.sync_content;
    let mut to_push = Vec::new();
    let mut to_link = Vec::new();
    for stored in &products {
        report.pairs += 1;
        let listing = listings.get(&stored.id);
        let inputs = PairInputs {
            product: &stored.product,
            deleted: stored.deleted,
            selected: selections.get(&stored.id).copied(),
            hand_category: hand.get(&stored.id),
        };
        let desired = derive(&engine.app.rules, channel, inputs);
        if !out_of_date(&desired, listing, sync_content) {
            if listing.is_some_and(|l| l.state == ListingState::InReview) {
                // A review check lost in a crash would leave the listing in review for good.
                let due = now_ms() + engine.settings.review_poll.as_millis() as i64;
                db.ensure_job(JobKind::CheckReview, id, stored.id, due).await?;
            }
            continue;
        }
        // Not on the channel yet, and no create may have reached it: linking decides first,
        // so a listing the shop already has is adopted rather than listed twice.
        let unlinked = listing.is_none_or(|l| l.external_id.is_none() && l.create_started_at.is_none());
        if matches!(desired, Desired::Listed(_)) && unlinked {
            to_link.push(stored.id);
        } else {
            to_push.push(stored.id);
        }
    }
    if !to_link.is_empty() {
        if db.auto_link(engine.org).await? {
            match link_products(engine, channel, &to_link).await {
                Ok(linked) => {
                    db.replace_link_issues(id, &to_link, &linked.issues).await?;
                    report.held += linked.held.len();
                    report.linked += linked.linked.len();
                    to_push.extend(linked.linked.into_iter().chain(linked.missing));
                }
                Err(SyncError::Connector(error)) => {
                    // Listing them blind could list them twice; they wait for the next round.
                    tracing::warn!(channel = %id, %error, products = to_link.len(), "SKU linking failed; will retry");
                    report.unlinked += to_link.len();
                }
                Err(other) => return Err(other),
            }
        } else {
            to_push.extend(to_link);
        }
    }
    for product in to_push {
        db.enqueue(JobKind::PushListing, id, product, now_ms()).await?;
        report.queued += 1;
    }
    Ok(report)
}
