//! Store webhooks: a delivery is verified by the store's connector, each product it names is
//! re-read from the store (webhooks are hints, not data) and reconciled on every channel.
//! Deliveries are deduplicated on what the signature covers — a hash of the verified body
//! and its topic — never on an event-id header the signature does not cover (a forged id
//! could otherwise silence a real delivery). The key is recorded only once the delivery was
//! handled, so a delivery that failed half-way (answered 503) is handled again when the
//! platform retries it, and a true duplicate is answered at once; keys are pruned after a
//! retention window. Missed deliveries are caught by the periodic import.

use crate::catalog::reconcile::reconcile_products;
use crate::connectors::{ConnectorError, ErrorKind, StoreEvent};
use crate::db::DbError;
use crate::engine::{SyncEngine, SyncError};
use sha2::Digest;

fn unavailable(e: SyncError) -> WebhookError {
    WebhookError::Unavailable(e.to_string())
}

/// What a delivery led to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct WebhookOutcome {
    pub topic: String,
    /// The same signed delivery (body and topic) was handled before.
    pub duplicate: bool,
    pub products: usize,
    pub queued: usize,
    /// Channel orders made due by the store's order events.
    pub orders: usize,
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

/// The deduplication key of a verified delivery: its topic and the hash of its signed body.
fn delivery_key(topic: &str, body_hash: &str) -> String {
    format!("sha256:{topic}:{body_hash}")
}

#[tracing::instrument(skip_all, fields(org = %engine.org))]
pub async fn receive_store_webhook(
    engine: &SyncEngine,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<WebhookOutcome, WebhookError> {
    let body_hash = hex::encode(sha2::Sha256::digest(&body));
    let delivery = engine.store_connector.verify_webhook(headers, body).await.map_err(|e| match e.kind {
        ErrorKind::Unauthorized(_) | ErrorKind::Invalid { .. } | ErrorKind::NotFound(_) => {
            WebhookError::Refused(e)
        }
        _ => WebhookError::Unavailable(e.to_string()),
    })?;
    let db = &engine.app.db;
    let mut outcome = WebhookOutcome { topic: delivery.topic.clone(), ..Default::default() };
    let key = delivery_key(&delivery.topic, &body_hash);
    if db.delivery_handled(engine.store.id, &key).await? {
        outcome.duplicate = true;
        return Ok(outcome);
    }
    let mut products = Vec::new();
    for event in delivery.events {
        let product_id = match event {
            StoreEvent::ProductChanged(id) => match engine.store_connector.get_product(&id).await {
                Ok(Some(product)) => Some(db.upsert_product(engine.store.id, &product).await?.id()),
                Ok(None) => db.mark_product_deleted(engine.store.id, &id).await?,
                Err(e) => return Err(WebhookError::Unavailable(e.to_string())),
            },
            StoreEvent::ProductDeleted(id) => db.mark_product_deleted(engine.store.id, &id).await?,
            StoreEvent::OrderChanged(id) => {
                // Fulfilled, cancelled or refunded in the store: its channel order is due.
                outcome.orders += crate::orders::import::store_order_changed(engine, &id).await?;
                None
            }
        };
        let Some(product_id) = product_id else {
            continue;
        };
        outcome.products += 1;
        products.push(product_id);
    }
    let report = reconcile_products(engine, &products, None).await.map_err(unavailable)?;
    outcome.queued = report.queued;
    db.record_delivery(engine.store.id, &key).await?;
    tracing::info!(event_id = delivery.event_id.as_deref().unwrap_or(""), topic = %outcome.topic, products = outcome.products, queued = outcome.queued, "store webhook");
    Ok(outcome)
}
