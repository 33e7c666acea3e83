//! The connectors this process runs: manifest, contract, limits and hash, which of the
//! organization's connections use each, and their recent failures.

use super::{ApiError, ApiState};
use crate::connectors::manifest::Manifest;
use crate::model::OrgId;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct PluginView {
    pub manifest: Manifest,
    pub contract: String,
    pub hash: String,
    /// The organization's connections using it (`store NAME`, `channel NAME`).
    pub connections: Vec<String>,
    /// Failed jobs of those connections.
    pub failures: usize,
    /// The newest failure reasons, up to five.
    pub recent_failures: Vec<String>,
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/orgs/{org}/plugins", get(list))
}

async fn list(
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    let org = OrgId(org);
    state.app.db.organization_exists(org).await?;
    let store = state.app.db.store_of(org).await?;
    let channels = state.app.db.channels(org).await?;
    let failed = state.app.db.failed_jobs().await?;
    let views = state
        .app
        .plugins
        .list()
        .into_iter()
        .map(|plugin| {
            let id = plugin.id();
            let mut connections = Vec::new();
            if let Some(s) = store.as_ref().filter(|s| s.plugin_id == id) {
                connections.push(format!("store {}", s.name));
            }
            let used: Vec<_> = channels.iter().filter(|c| c.plugin_id == id).collect();
            connections.extend(used.iter().map(|c| format!("channel {}", c.name)));
            let failures: Vec<String> = failed
                .iter()
                .filter(|f| used.iter().any(|c| c.id == f.channel_id))
                .map(|f| f.error.clone())
                .collect();
            PluginView {
                manifest: plugin.manifest.clone(),
                contract: plugin.contract().to_string(),
                hash: plugin.hash.clone(),
                connections,
                failures: failures.len(),
                recent_failures: failures.into_iter().rev().take(5).collect(),
            }
        })
        .collect();
    Ok(Json(views))
}
