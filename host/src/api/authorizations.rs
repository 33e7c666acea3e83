//! Connecting through the platform's own authorization: start one (answers the URL to send
//! the merchant's browser to) and complete it with the platform's callback (the admin page
//! at `/connect/callback` hands its query here). See `crate::authorization`.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::authorization::{self, Request, Role};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What the merchant asks to connect.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    pub plugin: String,
    pub role: Role,
    pub name: String,
    /// The plugin's inputs (Shopify's `shop`) and any other plain setting.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// The platform's callback as it reached the admin.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    /// The callback URL's query string, exactly as it arrived (`code=…&state=…`).
    pub query: String,
}

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/orgs/{org}/authorizations", post(start))
        .route("/api/orgs/{org}/authorizations/callback", post(callback))
}

/// `http://<Host>`: where the browser reached the admin, for the redirect URI when no
/// `public-url` is configured.
fn reached_at(headers: &HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

async fn start(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> Result<Json<authorization::Started>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let request = Request { plugin: body.plugin, role: body.role, name: body.name, settings: body.settings };
    let started =
        authorization::start(&state.app, &state.apps, org, caller.account, request, &reached_at(&headers))
            .await?;
    Ok(Json(started))
}

async fn callback(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    Json(body): Json<CallbackBody>,
) -> Result<Json<authorization::Completed>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let completed = authorization::complete(&state.app, &state.apps, org, &body.query).await?;
    state.work_queued.notify_one();
    Ok(Json(completed))
}
