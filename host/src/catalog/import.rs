//! Reading the store's catalog page by page: each product is stored with its content hash,
//! and each page is reconciled on every channel as soon as it is stored, so pushing starts
//! while the rest of the catalog is still being read. A complete read also notices products
//! the store no longer has (deleted without a webhook reaching us). Each committed page
//! records where the read goes on, so a read cut short (a crash) resumes there instead of
//! from page 1.

use super::reconcile::{ReconcileReport, reconcile_products};
use crate::connectors::{ConnectorError, ProductPage};
use crate::db::now_ms;
use crate::db::products::{ImportProgress, Upserted};
use crate::engine::{SyncEngine, SyncError};
use crate::queue::retry_inline;
use std::time::Duration;

/// What one import found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub products: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Products the store no longer returned, now marked deleted.
    pub deleted: usize,
    /// Products adopted from existing channel listings by SKU.
    pub linked: usize,
    /// Products held because their SKUs could not be linked for sure.
    pub held: usize,
    /// Push jobs queued.
    pub queued: usize,
    /// Products whose SKU linking failed (the channel was down); the next read retries.
    pub unlinked: usize,
}

impl ImportReport {
    fn add(&mut self, reconciled: ReconcileReport) {
        self.linked += reconciled.linked;
        self.held += reconciled.held;
        self.queued += reconciled.queued;
        self.unlinked += reconciled.unlinked;
    }
}

/// Pages through the whole store catalog once; each page is stored and reconciled on every
/// channel before the next is read (`on_page` is told, e.g. to wake the workers).
#[tracing::instrument(skip_all, fields(org = %engine.org))]
pub async fn import_catalog(
    engine: &SyncEngine,
    on_page: &(dyn Fn(&ImportReport) + Send + Sync),
) -> Result<ImportReport, SyncError> {
    let db = &engine.app.db;
    let mut report = ImportReport::default();
    let store = engine.store.id;
    let resumed = db.import_progress(store).await?;
    let started_at = resumed.as_ref().map_or_else(now_ms, |p| p.started_at);
    let mut cursor = resumed.as_ref().map(|p| p.next_cursor.clone());
    if let Some(progress) = &resumed {
        tracing::info!(cursor = %progress.next_cursor, "resuming the catalog read cut short");
    }
    let mut first = true;
    let mut waiting = Duration::ZERO;
    loop {
        let page = match read_page(engine, cursor.take()).await {
            Ok(page) => page,
            // The cursor of a read cut short may have expired: start over, once.
            Err(e) if first && resumed.is_some() && !e.is_retryable() => {
                tracing::warn!(error = %e, "the interrupted catalog read cannot resume; starting over");
                db.clear_import_progress(store).await?;
                return Box::pin(import_catalog(engine, on_page)).await;
            }
            Err(e) => return Err(e.into()),
        };
        first = false;
        if page.products.is_empty() && page.next_cursor.is_some() {
            // The store is preparing the data (a bulk export): ask again in a moment.
            waiting = (waiting * 2).clamp(Duration::from_millis(250), Duration::from_secs(2));
            tokio::time::sleep(waiting).await;
            cursor = page.next_cursor;
            continue;
        }
        waiting = Duration::ZERO;
        let mut ids = Vec::with_capacity(page.products.len());
        for product in &page.products {
            report.products += 1;
            let upserted = db.upsert_product(engine.store.id, product).await?;
            match upserted {
                Upserted::New(_) => report.new += 1,
                Upserted::Changed(_) => report.changed += 1,
                Upserted::Unchanged(_) => report.unchanged += 1,
            }
            ids.push(upserted.id());
        }
        report.add(reconcile_products(engine, &ids, None).await?);
        // Committed after the page's products and their reconciliation: a crash before it
        // reads this page again (harmless), never skips it.
        let progress = page.next_cursor.clone().map(|next_cursor| ImportProgress { next_cursor, started_at });
        db.commit_import_page(store, &ids, progress.as_ref(), started_at).await?;
        on_page(&report);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let gone = db.mark_unseen_since_deleted(store, started_at).await?;
    report.deleted = gone.len();
    report.add(reconcile_products(engine, &gone, None).await?);
    if report.unlinked == 0 {
        // Every product was reconciled on every channel with the inputs this engine loaded.
        for channel in engine.channels.values().filter(|c| c.rules.is_some()) {
            db.channel_reconciled(channel.row.id, channel.row.inputs_version).await?;
        }
    }
    on_page(&report);
    tracing::info!(
        products = report.products,
        new = report.new,
        changed = report.changed,
        unchanged = report.unchanged,
        deleted = report.deleted,
        linked = report.linked,
        held = report.held,
        queued = report.queued,
        "catalog imported"
    );
    Ok(report)
}

/// Reads one page, waiting out throttling and transient failures.
async fn read_page(engine: &SyncEngine, cursor: Option<String>) -> Result<ProductPage, ConnectorError> {
    retry_inline("store page", || {
        engine.store_connector.list_products(cursor.clone(), engine.settings.page_size)
    })
    .await
}
