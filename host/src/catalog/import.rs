//! Reading the store's catalog page by page: each product is stored with its content hash,
//! and a push job is queued for every (product, channel) pair that has something new.

use super::link::link_products;
use crate::connectors::{ConnectorError, ProductPage};
use crate::db::jobs::JobKind;
use crate::db::listings::ListingState;
use crate::db::now_ms;
use crate::db::products::Upserted;
use crate::model::{ChannelId, ProductId};
use crate::queue::retry_inline;
use crate::sync::{SyncEngine, SyncError};
use std::collections::BTreeMap;

/// What one import found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub products: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Products adopted from existing channel listings by SKU.
    pub linked: usize,
    /// Products held because their SKUs could not be linked for sure.
    pub held: usize,
    /// Push jobs queued.
    pub queued: usize,
}

/// Pages through the whole store catalog once, then links and queues what is new to
/// each channel.
#[tracing::instrument(skip_all, fields(org = %engine.org))]
pub async fn import_catalog(
    engine: &SyncEngine,
    on_page: &(dyn Fn(&ImportReport) + Send + Sync),
) -> Result<ImportReport, SyncError> {
    let db = &engine.app.db;
    let mut report = ImportReport::default();
    let mut plan = PushPlan::default();
    let mut cursor = None;
    loop {
        let page = read_page(engine, cursor.take()).await?;
        for product in &page.products {
            report.products += 1;
            let upserted = db.upsert_product(engine.store.id, product).await?;
            let changed = match upserted {
                Upserted::New(_) => {
                    report.new += 1;
                    true
                }
                Upserted::Changed(_) => {
                    report.changed += 1;
                    true
                }
                Upserted::Unchanged(_) => {
                    report.unchanged += 1;
                    false
                }
            };
            plan.add(engine, upserted.id(), changed).await?;
        }
        on_page(&report);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    plan.queue(engine, &mut report).await?;
    tracing::info!(
        products = report.products,
        new = report.new,
        changed = report.changed,
        unchanged = report.unchanged,
        linked = report.linked,
        held = report.held,
        queued = report.queued,
        "catalog imported"
    );
    Ok(report)
}

/// Which products each channel needs to hear about: those not yet on it go through SKU
/// linking first; changed ones are pushed.
#[derive(Debug, Default)]
pub(crate) struct PushPlan {
    to_push: BTreeMap<ChannelId, Vec<ProductId>>,
    to_link: BTreeMap<ChannelId, Vec<ProductId>>,
}

impl PushPlan {
    pub(crate) async fn add(
        &mut self,
        engine: &SyncEngine,
        product: ProductId,
        changed: bool,
    ) -> Result<(), SyncError> {
        for channel in engine.channels.values().filter(|c| c.rules.is_some()) {
            let listing = engine.app.db.listing(product, channel.row.id).await?;
            // Not yet on the channel (or held by linking): linking decides first.
            let unlinked =
                listing.as_ref().is_none_or(|l| l.external_id.is_none() && l.state == ListingState::Held);
            if unlinked {
                self.to_link.entry(channel.row.id).or_default().push(product);
            } else if changed {
                self.to_push.entry(channel.row.id).or_default().push(product);
            }
        }
        Ok(())
    }

    pub(crate) async fn queue(
        mut self,
        engine: &SyncEngine,
        report: &mut ImportReport,
    ) -> Result<(), SyncError> {
        let db = &engine.app.db;
        let auto_link = db.auto_link(engine.org).await?;
        for (channel_id, products) in std::mem::take(&mut self.to_link) {
            let Some(channel) = engine.channel(channel_id) else {
                continue;
            };
            let ready = if auto_link {
                let linked = link_products(engine, channel, &products).await?;
                db.replace_link_issues(channel_id, &linked.issues).await?;
                report.held += linked.held.len();
                report.linked += linked.linked.len();
                linked.linked.into_iter().chain(linked.missing).collect()
            } else {
                products
            };
            self.to_push.entry(channel_id).or_default().extend(ready);
        }
        for (channel_id, products) in self.to_push {
            for product in products {
                db.enqueue(JobKind::PushListing, channel_id, product, now_ms()).await?;
                report.queued += 1;
            }
        }
        Ok(())
    }
}

/// Reads one page, waiting out throttling and transient failures.
async fn read_page(engine: &SyncEngine, cursor: Option<String>) -> Result<ProductPage, ConnectorError> {
    retry_inline("store page", || {
        engine.store_connector.list_products(cursor.clone(), engine.settings.page_size)
    })
    .await
}
