//! The connectors this process can run: manifest, contract, origin, hash and the limits its
//! calls run under after the operator's policy. The same for every organization (each
//! organization's connections and their health are `GET /api/orgs/{org}/plugins`).

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::connectors::manifest::Manifest;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InstalledView {
    pub manifest: Manifest,
    pub contract: String,
    pub hash: String,
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/plugins", get(list))
}

/// Any signed-in caller may see what the process runs (it holds no organization's data).
async fn list(_caller: Caller, State(state): State<ApiState>) -> Result<Json<Vec<InstalledView>>, ApiError> {
    let views = state
        .app
        .plugins
        .list()
        .into_iter()
        .map(|plugin| InstalledView {
            manifest: plugin.manifest.clone(),
            contract: plugin.contract().to_string(),
            hash: plugin.hash.clone(),
        })
        .collect();
    Ok(Json(views))
}
