//! The merchant's admin pages, rendered on the server (no front-end build; a few lines of
//! script for live progress). Every page is a client of the JSON API: it calls the API in
//! process with the visitor's own session cookie and CSRF token, so a page can do nothing the
//! API would refuse, and whatever a page does, a program can do through the API too.

mod account;
mod api_client;
mod connect;
mod failures;
mod home;
mod layout;
mod orders;
mod plugins;
mod products;
mod progress;
mod rules;
mod session;
mod settings;
mod stores;

use api_client::ApiClient;
use axum::Router;

/// What every page handler shares: the API it renders.
#[derive(Clone)]
pub struct WebState {
    api: ApiClient,
}

/// The admin pages, over `api` (the API router with its state, as `api::router` returns it).
pub fn router(api: Router) -> Router {
    Router::new()
        .merge(session::router())
        .merge(home::router())
        .merge(stores::router())
        .merge(connect::router())
        .merge(products::router())
        .merge(orders::router())
        .merge(failures::router())
        .merge(settings::router())
        .merge(rules::router())
        .merge(plugins::router())
        .merge(account::router())
        .with_state(WebState { api: ApiClient::new(api) })
}

/// The API and the pages together, as `serve` answers on its admin address.
pub fn with_pages(api: Router) -> Router {
    api.clone().merge(router(api))
}
