//! What the sandbox counted: calls per (shop, API), admitted and throttled, and the access
//! tokens issued by refresh. Tests measure a connector's pacing and its refreshes with them:
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /_sandbox/shops/{cipher}/api-calls` | `{apis: [{api, admitted, throttled, per_second}]}` |
//! | `GET /_sandbox/token-refreshes` | `{token_refreshes}` |

use super::App;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::time::Instant;

/// One API's calls from one shop.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCalls {
    /// The API's name (`product.inventory.update`), the unit the sandbox rate-limits.
    pub api: String,
    /// Calls let through.
    pub admitted: u64,
    /// Calls refused with HTTP 429 / 36009002 by the rate limit (chaos throttling not counted).
    pub throttled: u64,
    pub first_admitted: Option<Instant>,
    pub last_admitted: Option<Instant>,
}

impl ApiCalls {
    /// Admitted calls per second between the first and the last; none under two calls.
    pub fn per_second(&self) -> Option<f64> {
        let span = self.last_admitted?.saturating_duration_since(self.first_admitted?).as_secs_f64();
        (self.admitted >= 2 && span > 0.0).then(|| (self.admitted - 1) as f64 / span)
    }
}

impl App {
    /// The shop's calls per API, by API name.
    pub(crate) fn api_calls(&self, cipher: &str) -> Vec<ApiCalls> {
        self.lock_state()
            .usage
            .iter()
            .filter(|((shop, _), _)| shop == cipher)
            .map(|((_, api), usage)| ApiCalls {
                api: (*api).to_owned(),
                admitted: usage.admitted,
                throttled: usage.throttled,
                first_admitted: usage.first_admitted,
                last_admitted: usage.last_admitted,
            })
            .collect()
    }

    pub(crate) fn token_refreshes(&self) -> u64 {
        self.lock_state().grants.refreshes
    }
}

/// The counter routes, to be merged beside the Open API handler.
pub(crate) fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/_sandbox/shops/{cipher}/api-calls", get(api_calls))
        .route("/_sandbox/token-refreshes", get(token_refreshes))
        .with_state(app)
}

async fn api_calls(State(app): State<Arc<App>>, Path(cipher): Path<String>) -> Json<Value> {
    let apis: Vec<Value> = app
        .api_calls(&cipher)
        .iter()
        .map(|c| {
            json!({ "api": c.api, "admitted": c.admitted, "throttled": c.throttled, "per_second": c.per_second() })
        })
        .collect();
    Json(json!({ "apis": apis }))
}

async fn token_refreshes(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({ "token_refreshes": app.token_refreshes() }))
}
