//! Store webhooks: a delivery is verified by the store's connector, deduplicated by its
//! event id, and each product it names is re-read from the store (webhooks are hints, not
//! data) and queued for every channel. Missed deliveries are caught by the periodic import.

use super::import::{ImportReport, PushPlan};
use crate::connectors::{ConnectorError, ErrorKind, StoreEvent};
use crate::db::DbError;
use crate::sync::{SyncEngine, SyncError};

fn unavailable(e: SyncError) -> WebhookError {
    WebhookError::Unavailable(e.to_string())
}

/// What a delivery led to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WebhookOutcome {
    pub topic: String,
    /// The same event id was handled before.
    pub duplicate: bool,
    pub products: usize,
    pub queued: usize,
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Bad signature or unreadable body: the sender should not retry.
    #[error("{0}")]
    Refused(ConnectorError),
    /// Could not act on it now: the sender should retry.
    #[error("{0}")]
    Unavailable(String),
}

impl From<DbError> for WebhookError {
    fn from(e: DbError) -> Self {
        WebhookError::Unavailable(format!("database: {e}"))
    }
}

#[tracing::instrument(skip_all, fields(org = %engine.org))]
pub async fn receive_store_webhook(
    engine: &SyncEngine,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<WebhookOutcome, WebhookError> {
    let delivery = engine.store_connector.verify_webhook(headers, body).await.map_err(|e| match e.kind {
        ErrorKind::Unauthorized(_) | ErrorKind::Invalid { .. } | ErrorKind::NotFound(_) => {
            WebhookError::Refused(e)
        }
        _ => WebhookError::Unavailable(e.to_string()),
    })?;
    let db = &engine.app.db;
    let mut outcome = WebhookOutcome { topic: delivery.topic.clone(), ..Default::default() };
    if let Some(event_id) = &delivery.event_id
        && !db.first_delivery(engine.store.id, event_id).await?
    {
        outcome.duplicate = true;
        return Ok(outcome);
    }
    let mut plan = PushPlan::default();
    for event in delivery.events {
        let product_id = match event {
            StoreEvent::ProductChanged(id) => match engine.store_connector.get_product(&id).await {
                Ok(Some(product)) => Some(db.upsert_product(engine.store.id, &product).await?.id()),
                Ok(None) => db.mark_product_deleted(engine.store.id, &id).await?,
                Err(e) => return Err(WebhookError::Unavailable(e.to_string())),
            },
            StoreEvent::ProductDeleted(id) => db.mark_product_deleted(engine.store.id, &id).await?,
        };
        let Some(product_id) = product_id else {
            continue;
        };
        outcome.products += 1;
        plan.add(engine, product_id, true).await.map_err(unavailable)?;
    }
    let mut report = ImportReport::default();
    plan.queue(engine, &mut report).await.map_err(unavailable)?;
    outcome.queued = report.queued;
    tracing::info!(topic = %outcome.topic, products = outcome.products, queued = outcome.queued, "store webhook");
    Ok(outcome)
}
