//! Reading the store's catalog page by page: each product is stored with its content hash,
//! and a push job is queued for every (product, channel) pair that has something new.

use crate::connectors::{ConnectorError, ProductPage};
use crate::db::jobs::JobKind;
use crate::db::now_ms;
use crate::db::products::Upserted;
use crate::queue::Backoff;
use crate::sync::{SyncEngine, SyncError};
use std::time::Duration;

/// What one import found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub products: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Push jobs queued.
    pub queued: usize,
}

/// Pages through the whole store catalog once.
#[tracing::instrument(skip_all, fields(org = %engine.org))]
pub async fn import_catalog(
    engine: &SyncEngine,
    on_page: &(dyn Fn(&ImportReport) + Send + Sync),
) -> Result<ImportReport, SyncError> {
    let db = &engine.app.db;
    let mut report = ImportReport::default();
    let mut cursor = None;
    loop {
        let page = read_page(engine, cursor.take()).await?;
        for product in &page.products {
            report.products += 1;
            let upserted = db.upsert_product(engine.store.id, product).await?;
            match upserted {
                Upserted::New(_) => report.new += 1,
                Upserted::Changed(_) => report.changed += 1,
                Upserted::Unchanged(_) => report.unchanged += 1,
            }
            for channel in engine.channels.values().filter(|c| c.rules.is_some()) {
                let needs_push = match upserted {
                    Upserted::New(_) | Upserted::Changed(_) => true,
                    // A channel added (or unblocked) since the last import has no listing yet.
                    Upserted::Unchanged(id) => db.listing(id, channel.row.id).await?.is_none(),
                };
                if needs_push {
                    db.enqueue(
                        JobKind::PushListing,
                        channel.row.id,
                        upserted.id(),
                        now_ms(),
                    )
                    .await?;
                    report.queued += 1;
                }
            }
        }
        on_page(&report);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    tracing::info!(
        products = report.products,
        new = report.new,
        changed = report.changed,
        unchanged = report.unchanged,
        queued = report.queued,
        "catalog imported"
    );
    Ok(report)
}

/// Attempts at one page before the import gives up.
const PAGE_ATTEMPTS: i64 = 8;

/// Reads one page, waiting out throttling and transient failures.
async fn read_page(
    engine: &SyncEngine,
    cursor: Option<String>,
) -> Result<ProductPage, ConnectorError> {
    let backoff = Backoff {
        base: Duration::from_millis(200),
        max: Duration::from_secs(30),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match engine
            .store_connector
            .list_products(cursor.clone(), engine.settings.page_size)
            .await
        {
            Err(e) if e.is_retryable() && attempt < PAGE_ATTEMPTS => {
                let delay = backoff.delay(attempt, e.retry_after(), 0.5);
                tracing::info!(error = %e, delay_ms = delay.as_millis() as u64, "store page will be read again");
                tokio::time::sleep(delay).await;
            }
            result => return result,
        }
    }
}
