//! The HTTP JSON API: onboarding progress, channels and their settings, the product center,
//! rules with dry runs, failures with retry, and the store webhook receiver. One router per
//! resource, one `ApiState`, and `router()` that tests call directly.
//!
//! Every `/api` route but login and setup takes a `Caller` (see `auth`) and scopes each id it
//! is given to the caller's organization through the `*_of` methods below: an id of another
//! organization answers 404, exactly as a missing one. The webhook receivers are public
//! (their signatures are the check) and can be served apart (`webhook_router`).

mod accounts;
mod channels;
mod error;
mod jobs;
mod onboarding;
mod orders;
mod products;
mod rules;
mod webhooks;

pub use error::ApiError;

use crate::app::App;
use crate::auth::Caller;
use crate::auth::throttle::LoginThrottle;
use crate::catalog::reconcile::{ReconcileReport, reconcile_products};
use crate::db::orders::OrderRow;
use crate::db::orgs::ChannelRow;
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
    /// Failed logins per account and address.
    pub login_throttle: Arc<LoginThrottle>,
    /// Session cookies carry `Secure` (the admin is reached over HTTPS).
    pub secure_cookies: bool,
}

impl ApiState {
    pub fn new(app: App, settings: SyncSettings) -> Self {
        ApiState {
            app,
            settings,
            work_queued: Arc::new(Notify::new()),
            login_throttle: Arc::default(),
            secure_cookies: false,
        }
    }

    /// The caller's organization when `org` is it; 404 otherwise.
    pub(crate) fn org_of(&self, caller: &Caller, org: i64) -> Result<OrgId, ApiError> {
        if caller.org.0 == org { Ok(caller.org) } else { Err(ApiError::NotFound(format!("organization {org}"))) }
    }

    /// The channel when it is the caller's organization's; 404 otherwise.
    pub(crate) async fn channel_of(&self, caller: &Caller, channel: i64) -> Result<ChannelRow, ApiError> {
        match self.app.db.channel(ChannelId(channel)).await {
            Ok(row) if row.org_id == caller.org => Ok(row),
            Ok(_) => Err(ApiError::NotFound(format!("channel {channel}"))),
            Err(e) => Err(e.into()),
        }
    }

    /// The order when its channel is the caller's organization's; 404 otherwise.
    pub(crate) async fn order_of(&self, caller: &Caller, order: i64) -> Result<OrderRow, ApiError> {
        let not_found = || ApiError::NotFound(format!("order {order}"));
        let row = self.app.db.order(order).await?.ok_or_else(not_found)?;
        match self.app.db.channel(row.channel_id).await {
            Ok(channel) if channel.org_id == caller.org => Ok(row),
            _ => Err(not_found()),
        }
    }

    /// Refuses a job that is not the caller's organization's (404).
    pub(crate) async fn job_of(&self, caller: &Caller, job: i64) -> Result<(), ApiError> {
        match self.app.db.job_org(job).await? {
            Some(org) if org == caller.org => Ok(()),
            _ => Err(ApiError::NotFound(format!("job {job}"))),
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

/// The whole API, webhook receivers included (one listener).
pub fn router(state: ApiState) -> Router {
    admin_router(state.clone()).merge(webhook_router(state))
}

/// The authenticated API (and login), without the webhook receivers.
pub fn admin_router(state: ApiState) -> Router {
    Router::new()
        .merge(accounts::router())
        .merge(onboarding::router())
        .merge(channels::router())
        .merge(products::router())
        .merge(rules::router())
        .merge(jobs::router())
        .merge(orders::router())
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}

/// The public webhook receivers alone (`listen-webhooks`): the store's and the channels'.
pub fn webhook_router(state: ApiState) -> Router {
    Router::new()
        .merge(webhooks::router())
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login, first-run setup, the API description).
    Public,
    /// An API token or a session (and its CSRF token for unsafe methods).
    Caller,
    /// Anyone; the platform's signature is the check.
    Webhook,
}

/// One route of the API.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, access: Access) -> Route {
    Route { method, path, access }
}

/// Every route the routers serve, for the API description and the tests that call each one
/// (a unit test below keeps it equal to the `.route(…)` calls of the modules).
pub const ROUTES: &[Route] = &[
    route("POST", "/api/session", Access::Public),
    route("PUT", "/api/session", Access::Caller),
    route("DELETE", "/api/session", Access::Caller),
    route("GET", "/api/me", Access::Caller),
    route("POST", "/api/tokens", Access::Caller),
    route("GET", "/api/tokens", Access::Caller),
    route("DELETE", "/api/tokens/{token}", Access::Caller),
    route("POST", "/api/setup/{token}", Access::Public),
    route("GET", "/api/orgs/{org}/onboarding", Access::Caller),
    route("GET", "/api/orgs/{org}/channels", Access::Caller),
    route("PUT", "/api/orgs/{org}/auto-link", Access::Caller),
    route("DELETE", "/api/orgs/{org}/store", Access::Caller),
    route("PUT", "/api/channels/{channel}/options", Access::Caller),
    route("PUT", "/api/channels/{channel}/exchange-rate", Access::Caller),
    route("DELETE", "/api/channels/{channel}", Access::Caller),
    route("GET", "/api/channels/{channel}/products", Access::Caller),
    route("PUT", "/api/channels/{channel}/selection", Access::Caller),
    route("PUT", "/api/channels/{channel}/products/{product}/category", Access::Caller),
    route("PUT", "/api/channels/{channel}/templates", Access::Caller),
    route("GET", "/api/channels/{channel}/templates", Access::Caller),
    route("GET", "/api/channels/{channel}/link-issues", Access::Caller),
    route("GET", "/api/channels/{channel}/drift", Access::Caller),
    route("PUT", "/api/channels/{channel}/rules/{kind}", Access::Caller),
    route("POST", "/api/channels/{channel}/rules/{kind}/dry-run", Access::Caller),
    route("GET", "/api/failures", Access::Caller),
    route("POST", "/api/jobs/{job}/retry", Access::Caller),
    route("GET", "/api/channels/{channel}/orders", Access::Caller),
    route("POST", "/api/channels/{channel}/orders/retry", Access::Caller),
    route("POST", "/api/channels/{channel}/orders/poll", Access::Caller),
    route("GET", "/api/channels/{channel}/order-settings", Access::Caller),
    route("PUT", "/api/channels/{channel}/order-settings", Access::Caller),
    route("GET", "/api/channels/{channel}/carriers", Access::Caller),
    route("PUT", "/api/channels/{channel}/carriers", Access::Caller),
    route("GET", "/api/orders/{order}", Access::Caller),
    route("POST", "/api/orders/{order}/retry", Access::Caller),
    route("POST", "/api/orders/{order}/release", Access::Caller),
    route("POST", "/api/orders/{order}/after-sales/{request}/decide", Access::Caller),
    route("POST", "/webhooks/store/{org}", Access::Webhook),
    route("POST", "/webhooks/channel/{channel}", Access::Webhook),
];

#[cfg(test)]
mod tests {
    use super::ROUTES;
    use std::collections::BTreeSet;

    /// (method, path) of every `.route("path", get(…).put(…))` in the modules' source.
    fn declared_routes() -> BTreeSet<(String, String)> {
        let sources = [
            include_str!("api/accounts.rs"),
            include_str!("api/channels.rs"),
            include_str!("api/jobs.rs"),
            include_str!("api/onboarding.rs"),
            include_str!("api/orders.rs"),
            include_str!("api/products.rs"),
            include_str!("api/rules.rs"),
            include_str!("api/webhooks.rs"),
        ];
        let mut found = BTreeSet::new();
        for source in sources {
            for call in source.split(".route(\"").skip(1) {
                let (path, rest) = call.split_once('"').expect("a route path is a string literal");
                // The handlers: up to the `)` that closes `.route(`.
                let mut depth = 1;
                let end = rest
                    .char_indices()
                    .find(|(_, c)| {
                        match c {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map(|(i, _)| i)
                    .expect("the route call closes");
                let handlers = &rest[..end];
                for (word, method) in [("get(", "GET"), ("put(", "PUT"), ("post(", "POST"), ("delete(", "DELETE")] {
                    let called = handlers
                        .match_indices(word)
                        .any(|(i, _)| i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                    if called {
                        found.insert((method.to_string(), path.to_string()));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn the_route_table_lists_every_route_the_routers_serve() {
        let listed: BTreeSet<(String, String)> =
            ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
        assert_eq!(listed.len(), ROUTES.len(), "a route is listed twice");
        let declared = declared_routes();
        assert!(declared.len() > 30, "the parser found the routes: {declared:?}");
        assert_eq!(listed, declared, "api::ROUTES and the routers differ: add the route to ROUTES (and its tests)");
    }
}
