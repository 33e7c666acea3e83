//! The HTTP JSON API: onboarding progress, channels and their settings, the product center,
//! rules with dry runs, failures with retry, and the store webhook receiver. One router per
//! resource, one `ApiState`, and `router()` that tests call directly.

mod channels;
mod error;
mod health;
mod jobs;
mod onboarding;
mod orders;
mod products;
mod rules;
mod webhooks;

pub use error::ApiError;
pub use health::Health;

use crate::app::App;
use crate::catalog::reconcile::{ReconcileReport, reconcile_products};
use crate::model::{ChannelId, OrgId, ProductId};
use crate::sync::{SyncEngine, SyncSettings};
use axum::Router;
use std::sync::Arc;
use tokio::sync::Notify;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub app: App,
    pub settings: SyncSettings,
    /// Woken whenever a handler queued work, so the workers start at once.
    pub work_queued: Arc<Notify>,
    /// What `/readyz` checks besides the database.
    pub health: Health,
    /// One dry run at a time per organization.
    pub dry_runs: rules::DryRunSlots,
}

impl ApiState {
    pub fn new(app: App, settings: SyncSettings) -> Self {
        ApiState {
            app,
            settings,
            work_queued: Arc::new(Notify::new()),
            health: Health::default(),
            dry_runs: Default::default(),
        }
    }

    pub(crate) async fn engine(&self, org: OrgId) -> Result<SyncEngine, ApiError> {
        self.app.db.organization_exists(org).await?;
        Ok(SyncEngine::load(&self.app, org, self.settings.clone()).await?)
    }

    /// Refuses product ids that are not the organization's (404).
    pub(crate) async fn check_products(&self, org: OrgId, products: &[ProductId]) -> Result<(), ApiError> {
        let store = self
            .app
            .db
            .store_of(org)
            .await?
            .ok_or_else(|| ApiError::Conflict(format!("organization {org} has no store connected")))?;
        Ok(self.app.db.check_products_of(store.id, products).await?)
    }

    /// Brings `products` on `channel` back in step after a change the merchant made, and
    /// wakes the workers for what it queued.
    pub(crate) async fn reconcile(
        &self,
        org: OrgId,
        products: &[ProductId],
        channel: ChannelId,
    ) -> Result<ReconcileReport, ApiError> {
        let engine = self.engine(org).await?;
        let report = reconcile_products(&engine, products, Some(channel)).await?;
        if report.queued > 0 {
            self.work_queued.notify_one();
        }
        Ok(report)
    }
}

/// The whole API.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .merge(onboarding::router())
        .merge(channels::router())
        .merge(products::router())
        .merge(rules::router())
        .merge(jobs::router())
        .merge(orders::router())
        .merge(webhooks::router())
        .merge(health::router())
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}
