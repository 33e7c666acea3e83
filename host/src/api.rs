//! The HTTP JSON API: onboarding progress, channels and their settings, the product center,
//! rules with dry runs, failures with retry, and the store webhook receiver. One router per
//! resource, one `ApiState`, and `router()` that tests call directly.
//!
//! Every `/api` route but login and setup takes a `Caller` (see `auth`) and scopes each id it
//! is given to the caller's organization through the `*_of` methods below: an id of another
//! organization answers 404, exactly as a missing one. The webhook receivers are public
//! (their signatures are the check) and can be served apart (`webhook_router`).

mod accounts;
mod authorizations;
mod channels;
mod connections;
mod error;
mod health;
mod installed;
mod jobs;
mod onboarding;
mod openapi;
mod orders;
mod plugins;
mod products;
mod rule_history;
mod rules;
mod sync_progress;
pub mod task_board;
mod tasks;
mod team;
mod webhooks;

pub use error::{ApiError, ErrorBody};
pub use health::Health;

use crate::app::App;
use crate::auth::Caller;
use crate::auth::throttle::LoginThrottle;
use crate::catalog::dry_run::DryRunReport;
use crate::catalog::reconcile::{ReconcileReport, reconcile_products};
use crate::db::orders::OrderRow;
use crate::db::orgs::ChannelRow;
use crate::db::placement::{CategoryTemplate, HandCategory, LinkIssue};
use crate::engine::{SyncEngine, SyncSettings};
use crate::model::{ChannelId, OrgId, ProductId};
use crate::orders::OrderSettings;
use axum::Router;
use std::sync::Arc;
use task_board::TaskView;
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
    /// What `/readyz` checks besides the database.
    pub health: Health,
    /// One dry run at a time per organization.
    pub dry_runs: rules::DryRunSlots,
    /// The operator's apps, for connections made through the platform's authorization.
    pub apps: Arc<crate::authorization::Apps>,
    /// Bulk work running off the request path, and the recent ones (in memory).
    pub tasks: task_board::TaskBoard,
}

impl ApiState {
    pub fn new(app: App, settings: SyncSettings) -> Self {
        ApiState {
            app,
            settings,
            work_queued: Arc::new(Notify::new()),
            login_throttle: Arc::default(),
            secure_cookies: false,
            health: Health::default(),
            dry_runs: Default::default(),
            apps: Arc::default(),
            tasks: Default::default(),
        }
    }

    /// The caller's organization when `org` is it; 404 otherwise.
    pub(crate) fn org_of(&self, caller: &Caller, org: i64) -> Result<OrgId, ApiError> {
        if caller.org.0 == org {
            Ok(caller.org)
        } else {
            Err(ApiError::NotFound(format!("organization {org}")))
        }
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
        .merge(team::router())
        .merge(openapi::router())
        .merge(onboarding::router())
        .merge(channels::router())
        .merge(connections::router())
        .merge(authorizations::router())
        .merge(installed::router())
        .merge(rule_history::router())
        .merge(products::router())
        .merge(rules::router())
        .merge(jobs::router())
        .merge(orders::router())
        .merge(plugins::router())
        .merge(health::router())
        .merge(tasks::router())
        .merge(sync_progress::router())
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

/// The JSON Schema of a body, from the Rust type the handler reads or answers.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

fn schema<T: schemars::JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// One route of the API: who may call it, what it takes and what it answers.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// What it does, in a line (the API description's summary).
    pub summary: &'static str,
    /// The JSON body it reads, if it reads one (webhooks read the platform's raw body).
    pub request: Option<SchemaFn>,
    /// Its query parameters (all optional): name and meaning.
    pub query: &'static [(&'static str, &'static str)],
    /// Its success status.
    pub status: u16,
    /// The JSON body it answers with on success.
    pub answer: SchemaFn,
    /// Other answers that are not the shared error body: status and body.
    pub also: &'static [(u16, SchemaFn)],
}

/// A route answering 200 with `answer`; [`Route::takes`], [`Route::status`] and
/// [`Route::query`] say the rest.
const fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    answer: SchemaFn,
) -> Route {
    Route { method, path, access, summary, request: None, query: &[], status: 200, answer, also: &[] }
}

impl Route {
    const fn takes(mut self, body: SchemaFn) -> Route {
        self.request = Some(body);
        self
    }

    const fn status(mut self, status: u16) -> Route {
        self.status = status;
        self
    }

    const fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Route {
        self.query = query;
        self
    }

    const fn also(mut self, also: &'static [(u16, SchemaFn)]) -> Route {
        self.also = also;
        self
    }
}

/// Every route the routers serve, with its bodies, for the API description and the tests
/// that call each one (a unit test below keeps it equal to the `.route(…)` calls of the
/// modules, and another to the handlers that read a JSON body).
pub const ROUTES: &[Route] = &[
    route(
        "POST",
        "/api/session",
        Access::Public,
        "Log in with email and password: sets the session cookie, answers the CSRF token",
        schema::<accounts::SessionView>,
    )
    .takes(schema::<accounts::LoginBody>),
    route(
        "PUT",
        "/api/session",
        Access::Caller,
        "Switch the session to another organization of the account",
        schema::<accounts::Switched>,
    )
    .takes(schema::<accounts::SwitchBody>),
    route(
        "DELETE",
        "/api/session",
        Access::Caller,
        "Log out (ends the session, clears the cookie)",
        schema::<accounts::LoggedOut>,
    ),
    route(
        "GET",
        "/api/me",
        Access::Caller,
        "The caller: account, email, organization acted for, memberships, CSRF token",
        schema::<accounts::MeView>,
    ),
    route(
        "PUT",
        "/api/me/password",
        Access::Caller,
        "Change the caller's password (the current one is checked); the account's other sessions end",
        schema::<team::PasswordChanged>,
    )
    .takes(schema::<team::PasswordBody>),
    route(
        "GET",
        "/api/orgs/{org}/members",
        Access::Caller,
        "The organization's members and their roles",
        schema::<Vec<crate::db::team::Member>>,
    ),
    route(
        "DELETE",
        "/api/orgs/{org}/members/{account}",
        Access::Caller,
        "Remove a member (owners; anyone may leave); never the last owner",
        schema::<team::MemberRemoved>,
    ),
    route(
        "POST",
        "/api/orgs/{org}/invitations",
        Access::Caller,
        "Invite an email address as member or owner (owners): a one-time link, valid a week, shown once",
        schema::<crate::auth::team::NewInvitation>,
    )
    .takes(schema::<team::InviteBody>)
    .status(201),
    route(
        "GET",
        "/api/orgs/{org}/invitations",
        Access::Caller,
        "The organization's invitations (never their links)",
        schema::<Vec<crate::db::team::Invitation>>,
    ),
    route(
        "DELETE",
        "/api/orgs/{org}/invitations/{invitation}",
        Access::Caller,
        "Revoke an unused invitation (owners)",
        schema::<team::InvitationRevoked>,
    ),
    route(
        "GET",
        "/api/invitations/{token}",
        Access::Public,
        "Whom an invitation link is for (organization, email, role), without using it",
        schema::<team::PendingView>,
    ),
    route(
        "POST",
        "/api/invitations/{token}",
        Access::Public,
        "Accept an invitation with a password (new account, or the existing account's): logs in",
        schema::<accounts::SessionView>,
    )
    .takes(schema::<team::AcceptBody>),
    route(
        "POST",
        "/api/tokens",
        Access::Caller,
        "Create an API token for the caller's organization (shown once)",
        schema::<crate::auth::token::NewToken>,
    )
    .takes(schema::<accounts::TokenBody>)
    .status(201),
    route(
        "GET",
        "/api/tokens",
        Access::Caller,
        "The organization's API tokens (never their values)",
        schema::<Vec<crate::db::accounts::TokenView>>,
    ),
    route("DELETE", "/api/tokens/{token}", Access::Caller, "Revoke an API token", schema::<accounts::Revoked>),
    route(
        "POST",
        "/api/setup/{token}",
        Access::Public,
        "First run: create the organization's first account with the one-time setup link",
        schema::<accounts::SessionView>,
    )
    .takes(schema::<accounts::SetupBody>),
    route("GET", "/api/openapi.json", Access::Public, "This document", schema::<serde_json::Value>),
    route(
        "GET",
        "/healthz",
        Access::Public,
        "Liveness: 200 while the process answers",
        schema::<health::Liveness>,
    ),
    route(
        "GET",
        "/readyz",
        Access::Public,
        "Readiness: the database answers, every service loop runs, the queue moves (503 with the problems)",
        schema::<health::Readiness>,
    )
    .also(&[(503, schema::<health::Readiness>)]),
    route(
        "GET",
        "/api/orgs/{org}/onboarding",
        Access::Caller,
        "Onboarding progress: steps done and what to do next",
        schema::<onboarding::Onboarding>,
    ),
    route(
        "GET",
        "/api/orgs/{org}/sync-progress",
        Access::Caller,
        "The catalog sync's progress per channel: selected, queued, pushing, in review, live, failed, held, running",
        schema::<sync_progress::SyncProgress>,
    ),
    route(
        "GET",
        "/api/orgs/{org}/channels",
        Access::Caller,
        "Channels with their options, rate, blocking reason and listing counts",
        schema::<Vec<channels::ChannelView>>,
    ),
    route(
        "PUT",
        "/api/orgs/{org}/auto-link",
        Access::Caller,
        "Switch SKU auto-linking",
        schema::<channels::AutoLink>,
    )
    .takes(schema::<channels::SwitchBody>),
    route(
        "GET",
        "/api/orgs/{org}",
        Access::Caller,
        "The organization: its name and its store (never its secrets)",
        schema::<connections::OrganizationView>,
    ),
    route(
        "PUT",
        "/api/orgs/{org}/store",
        Access::Caller,
        "Connect the organization's one store (checked with the platform first; secrets stored encrypted)",
        schema::<connections::StoreConnected>,
    )
    .takes(schema::<connections::ConnectBody>),
    route(
        "POST",
        "/api/orgs/{org}/channels",
        Access::Caller,
        "Add a TikTok shop (checked with the platform first; secrets stored encrypted)",
        schema::<connections::ChannelAdded>,
    )
    .takes(schema::<connections::ConnectBody>),
    route(
        "DELETE",
        "/api/orgs/{org}/store",
        Access::Caller,
        "Disconnect the store (channels stay)",
        schema::<channels::Disconnected>,
    ),
    route(
        "POST",
        "/api/orgs/{org}/authorizations",
        Access::Caller,
        "Start connecting a store or TikTok shop through the platform's authorization: the URL to send the browser to",
        schema::<crate::authorization::Started>,
    )
    .takes(schema::<authorizations::StartBody>),
    route(
        "POST",
        "/api/orgs/{org}/authorizations/callback",
        Access::Caller,
        "Complete an authorization with the platform's callback query: makes or reconnects the connection",
        schema::<crate::authorization::Completed>,
    )
    .takes(schema::<authorizations::CallbackBody>),
    route(
        "GET",
        "/api/plugins",
        Access::Caller,
        "The connectors this process runs: manifest, contract, hash",
        schema::<Vec<installed::InstalledView>>,
    ),
    route(
        "GET",
        "/api/orgs/{org}/plugins",
        Access::Caller,
        "Each connection's plugin: origin, hash, the limits it runs under, its health",
        schema::<Vec<plugins::ConnectionPlugin>>,
    ),
    route(
        "PUT",
        "/api/channels/{channel}/options",
        Access::Caller,
        "Set a channel's options (content sync, auto-select, stock buffer and share)",
        schema::<crate::db::orgs::ChannelOptions>,
    )
    .takes(schema::<crate::db::orgs::ChannelOptions>),
    route(
        "PUT",
        "/api/channels/{channel}/exchange-rate",
        Access::Caller,
        "Set a channel's exchange rate",
        schema::<channels::RateBody>,
    )
    .takes(schema::<channels::RateBody>),
    route("DELETE", "/api/channels/{channel}", Access::Caller, "Delete a channel", schema::<channels::Deleted>),
    route(
        "GET",
        "/api/channels/{channel}/rules/{kind}/versions",
        Access::Caller,
        "A rule's versions, newest first, and the active one (roll back by saving an older source)",
        schema::<rule_history::RuleHistory>,
    ),
    route(
        "GET",
        "/api/channels/{channel}/products",
        Access::Caller,
        "The product center: every product's state on the channel",
        schema::<Vec<crate::db::listings::ProductCenterRow>>,
    ),
    route(
        "PUT",
        "/api/channels/{channel}/selection",
        Access::Caller,
        "Select or deselect products for the channel",
        schema::<products::Selected>,
    )
    .takes(schema::<products::SelectionBody>),
    route(
        "PUT",
        "/api/channels/{channel}/products/{product}/category",
        Access::Caller,
        "Map a product's category by hand",
        schema::<HandCategory>,
    )
    .takes(schema::<HandCategory>),
    route(
        "PUT",
        "/api/channels/{channel}/templates",
        Access::Caller,
        "Save a category template",
        schema::<Vec<CategoryTemplate>>,
    )
    .takes(schema::<products::TemplateBody>),
    route(
        "GET",
        "/api/channels/{channel}/templates",
        Access::Caller,
        "The channel's category templates",
        schema::<Vec<CategoryTemplate>>,
    ),
    route(
        "GET",
        "/api/channels/{channel}/link-issues",
        Access::Caller,
        "What SKU linking could not decide",
        schema::<Vec<LinkIssue>>,
    ),
    route(
        "GET",
        "/api/channels/{channel}/drift",
        Access::Caller,
        "Corrections of edits made on the shop",
        schema::<Vec<crate::db::listings::DriftCorrection>>,
    ),
    route(
        "PUT",
        "/api/channels/{channel}/rules/{kind}",
        Access::Caller,
        "Save a new rule version (compiled first)",
        schema::<rules::RuleSaved>,
    )
    .takes(schema::<rules::RuleBody>),
    route(
        "POST",
        "/api/channels/{channel}/rules/{kind}/dry-run",
        Access::Caller,
        "Dry-run a rule over the catalog",
        schema::<DryRunReport>,
    )
    .takes(schema::<rules::RuleBody>),
    route(
        "GET",
        "/api/orgs/{org}/dry-run",
        Access::Caller,
        "The organization's running dry run: channel, rule kind, products evaluated of the catalog's",
        schema::<rules::DryRunStatus>,
    ),
    route(
        "DELETE",
        "/api/orgs/{org}/dry-run",
        Access::Caller,
        "Cancel the organization's running dry run (it answers, stopped, with what it evaluated)",
        schema::<rules::DryRunCancelled>,
    ),
    route(
        "GET",
        "/api/failures",
        Access::Caller,
        "The organization's failed jobs with their reasons",
        schema::<Vec<jobs::FailureView>>,
    ),
    route("POST", "/api/jobs/{job}/retry", Access::Caller, "Retry a failed job", schema::<jobs::JobRetried>),
    route(
        "POST",
        "/api/orgs/{org}/failures/retry",
        Access::Caller,
        "Retry every failed job of the organization, as a background task (202; 409 while one runs)",
        schema::<TaskView>,
    )
    .status(202),
    route(
        "GET",
        "/api/orgs/{org}/tasks",
        Access::Caller,
        "The organization's recent background tasks, newest first",
        schema::<Vec<TaskView>>,
    ),
    route(
        "GET",
        "/api/orgs/{org}/tasks/{task}",
        Access::Caller,
        "A background task: kind, state, done of total, errors, start and end",
        schema::<TaskView>,
    ),
    route(
        "DELETE",
        "/api/orgs/{org}/tasks/{task}",
        Access::Caller,
        "Cancel a running background task (it stops after its current batch)",
        schema::<TaskView>,
    ),
    route(
        "GET",
        "/api/channels/{channel}/orders",
        Access::Caller,
        "A channel's orders by state, with failure reasons",
        schema::<orders::OrdersView>,
    )
    .query(&[("state", "only orders in this state"), ("limit", "most orders answered (1 to 1000, default 100)")]),
    route(
        "POST",
        "/api/channels/{channel}/orders/retry",
        Access::Caller,
        "Retry every failed order of a channel (optionally of one kind), as a background task (202; 409 while one runs)",
        schema::<TaskView>,
    )
    .status(202)
    .query(&[("kind", "only orders failed with this kind (unlinked_sku…)")]),
    route(
        "POST",
        "/api/channels/{channel}/orders/poll",
        Access::Caller,
        "Poll a channel's orders now",
        schema::<crate::orders::import::PollReport>,
    ),
    route(
        "GET",
        "/api/channels/{channel}/order-settings",
        Access::Caller,
        "A channel's order settings",
        schema::<OrderSettings>,
    ),
    route(
        "PUT",
        "/api/channels/{channel}/order-settings",
        Access::Caller,
        "Set a channel's order settings",
        schema::<OrderSettings>,
    )
    .takes(schema::<OrderSettings>),
    route(
        "GET",
        "/api/channels/{channel}/carriers",
        Access::Caller,
        "Carrier mappings and the channel's shipping providers",
        schema::<orders::CarriersView>,
    ),
    route(
        "PUT",
        "/api/channels/{channel}/carriers",
        Access::Caller,
        "Map a store carrier to a shipping provider",
        schema::<orders::CarrierMapping>,
    )
    .takes(schema::<orders::CarrierMapping>),
    route(
        "GET",
        "/api/orders/{order}",
        Access::Caller,
        "One order with its shipments and after-sale requests",
        schema::<orders::OrderView>,
    ),
    route("POST", "/api/orders/{order}/retry", Access::Caller, "Retry one order", schema::<orders::OrderRetried>),
    route(
        "POST",
        "/api/orders/{order}/release",
        Access::Caller,
        "Release an order held by the order rule",
        schema::<orders::OrderReleased>,
    ),
    route(
        "POST",
        "/api/orders/{order}/after-sales/{request}/decide",
        Access::Caller,
        "Approve or reject a buyer's after-sale request",
        schema::<orders::Decided>,
    )
    .takes(schema::<orders::Decision>),
    route(
        "POST",
        "/webhooks/store/{org}",
        Access::Webhook,
        "The store's webhooks (signed by the platform)",
        schema::<crate::dispatch::store_webhook::WebhookOutcome>,
    ),
    route(
        "POST",
        "/webhooks/channel/{channel}",
        Access::Webhook,
        "A channel's webhooks (signed by the platform)",
        schema::<crate::orders::import::ChannelWebhookOutcome>,
    ),
];

#[cfg(test)]
mod tests {
    use super::{Access, ROUTES};
    use std::collections::BTreeSet;

    /// (method, path) of every `.route("path", get(…).put(…))` in the modules' source.
    fn declared_routes() -> BTreeSet<(String, String)> {
        // Every module of the API, so a new file's routes are read too.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let sources: Vec<String> = std::fs::read_dir(&dir)
            .expect("the api modules")
            .map(|entry| std::fs::read_to_string(entry.expect("an api module").path()).expect("readable"))
            .collect();
        let mut found = BTreeSet::new();
        for source in &sources {
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
                for (word, method) in
                    [("get(", "GET"), ("put(", "PUT"), ("post(", "POST"), ("delete(", "DELETE")]
                {
                    let called = handlers.match_indices(word).any(|(i, _)| {
                        i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    });
                    if called {
                        found.insert((method.to_string(), path.to_string()));
                    }
                }
            }
        }
        found
    }

    /// The source of every module of the API.
    fn sources() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        std::fs::read_dir(&dir)
            .expect("the api modules")
            .map(|entry| std::fs::read_to_string(entry.expect("an api module").path()).expect("readable"))
            .collect()
    }

    /// The parameters of handler `name` (`async fn name(…) ->`), as written: in the module
    /// that routes to it, else in the one it names (`super::orders::channel_webhook`).
    fn handler_params(sources: &[String], module: usize, name: &str) -> String {
        let head = format!("async fn {name}(");
        let source = Some(&sources[module])
            .filter(|s| s.contains(&head))
            .or_else(|| sources.iter().find(|s| s.contains(&head)))
            .unwrap_or_else(|| panic!("handler {name} is defined in an api module"));
        let start = source.find(&head).expect("found above") + head.len();
        let end = source[start..].find(") ->").expect("a handler returns something");
        source[start..start + end].to_string()
    }

    /// (method, path) → (module, handler name) of every `.route(…)` call.
    fn handlers(sources: &[String]) -> Vec<((String, String), (usize, String))> {
        let mut found = Vec::new();
        for (module, source) in sources.iter().enumerate() {
            for call in source.split(".route(\"").skip(1) {
                let (path, rest) = call.split_once('"').expect("a route path is a string literal");
                let line: String = rest.chars().take_while(|c| *c != '\n').collect();
                for (word, method) in
                    [("get(", "GET"), ("put(", "PUT"), ("post(", "POST"), ("delete(", "DELETE")]
                {
                    for (i, _) in line.match_indices(word) {
                        if i > 0 && line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                            continue;
                        }
                        let name: String = line[i + word.len()..]
                            .chars()
                            .take_while(|c| *c != ')')
                            .collect::<String>()
                            .rsplit("::")
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        found.push(((method.to_string(), path.to_string()), (module, name)));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn a_route_that_reads_a_json_body_says_its_schema_and_only_such_a_route_does() {
        let sources = sources();
        let handlers = handlers(&sources);
        assert_eq!(handlers.len(), ROUTES.len(), "every route's handler is found: {handlers:?}");
        for ((method, path), (module, name)) in &handlers {
            let route = ROUTES
                .iter()
                .find(|r| r.method == method && r.path == path)
                .unwrap_or_else(|| panic!("{method} {path} is in ROUTES"));
            let params = handler_params(&sources, *module, name);
            let reads_json = params.contains("Json(") || params.contains("Bytes");
            match route.access {
                Access::Webhook => {
                    assert!(
                        route.request.is_none(),
                        "{method} {path}: the platform's body is not ours to describe"
                    )
                }
                _ => assert_eq!(
                    reads_json,
                    route.request.is_some(),
                    "{method} {path} ({name}): a handler that reads a JSON body says its schema in ROUTES \
                     (`.takes(schema::<Body>)`), and only such a handler"
                ),
            }
        }
    }

    #[test]
    fn the_route_table_lists_every_route_the_routers_serve() {
        let listed: BTreeSet<(String, String)> =
            ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
        assert_eq!(listed.len(), ROUTES.len(), "a route is listed twice");
        let declared = declared_routes();
        assert!(declared.len() > 30, "the parser found the routes: {declared:?}");
        assert_eq!(
            listed, declared,
            "api::ROUTES and the routers differ: add the route to ROUTES (and its tests)"
        );
    }
}
