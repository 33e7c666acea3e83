//! The plugins an organization's connections run and their health: which plugin (id,
//! version, where it was installed from, its hash), the limits its calls run under after the
//! operator's policy, and whether the connection is healthy, failing or paused (with why).

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::connectors::health::HealthReport;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConnectionPlugin {
    /// `store` or `channel`.
    pub kind: &'static str,
    /// The store's or channel's id.
    pub id: i64,
    pub name: String,
    pub plugin: String,
    /// None when no such plugin is installed in this process.
    pub installed: Option<InstalledPlugin>,
    pub health: HealthReport,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InstalledPlugin {
    pub version: String,
    pub contract: String,
    /// `built-in …` or the file it was installed from.
    pub origin: String,
    /// `sha256:<hex>` of the component.
    pub hash: String,
    /// The limits each call runs under: the manifest's, lowered to the operator's policy.
    pub memory_mb: u64,
    pub cpu_ms: u64,
    pub timeout_ms: u64,
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/orgs/{org}/plugins", get(list))
}

async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Vec<ConnectionPlugin>>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let db = &state.app.db;
    let mut connections = Vec::new();
    if let Some(store) = db.store_of(org).await? {
        connections.push(("store", store.id.0, store.name, store.plugin_id));
    }
    for channel in db.channels(org).await? {
        connections.push(("channel", channel.id.0, channel.name, channel.plugin_id));
    }
    let runtime = &state.app.runtime;
    let views = connections
        .into_iter()
        .map(|(kind, id, name, plugin)| {
            let installed = state.app.plugins.get(&plugin).map(|p| {
                let limits = runtime.policy().clamp(&p.manifest.limits);
                InstalledPlugin {
                    version: p.manifest.version.clone(),
                    contract: p.contract().to_string(),
                    origin: p.origin.clone(),
                    hash: p.hash.clone(),
                    memory_mb: limits.memory_bytes() / (1024 * 1024),
                    cpu_ms: limits.cpu().as_millis() as u64,
                    timeout_ms: limits.timeout().as_millis() as u64,
                }
            });
            // The label every call of the connection carries (see `connections`).
            let health = runtime.health().report(&format!("{kind} {id}"));
            ConnectionPlugin { kind, id, name, plugin, installed, health }
        })
        .collect();
    Ok(Json(views))
}
