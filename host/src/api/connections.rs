//! The organization and its connections: what is connected, connecting the store, adding a
//! TikTok shop. A connection is checked with the platform before anything is stored; its
//! secrets are stored encrypted and never answered back.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::connections;
use crate::connectors::settings::ConnectionSettings;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrganizationView {
    pub id: i64,
    pub name: String,
    pub store: Option<StoreView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StoreView {
    pub id: i64,
    pub name: String,
    pub plugin: String,
    pub currency: Option<String>,
    /// Plain settings (`base-url`…); secrets are never answered.
    pub settings: BTreeMap<String, String>,
    pub secrets: Vec<String>,
}

/// A new connection: its name, plugin, settings and secrets.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    pub name: String,
    pub plugin: String,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

impl ConnectBody {
    fn checked(self) -> Result<(String, String, ConnectionSettings), ApiError> {
        let name = self.name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(ApiError::BadRequest("name: 1 to 200 characters".into()));
        }
        let settings =
            ConnectionSettings { settings: self.settings, secrets: self.secrets, allowed_hosts: None };
        Ok((name, self.plugin, settings))
    }
}

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/orgs/{org}", get(organization))
        .route("/api/orgs/{org}/store", put(connect_store))
        .route("/api/orgs/{org}/channels", post(add_channel))
}

async fn organization(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<OrganizationView>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let name = state.app.db.organization_name(org).await?;
    let store = state.app.db.store_of(org).await?.map(|s| StoreView {
        id: s.id.0,
        name: s.name,
        plugin: s.plugin_id,
        currency: s.currency.map(|c| c.to_string()),
        settings: s.settings.settings,
        secrets: s.settings.secrets.into_keys().collect(),
    });
    Ok(Json(OrganizationView { id: org.0, name, store }))
}

async fn connect_store(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    Json(body): Json<ConnectBody>,
) -> Result<Json<StoreConnected>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let (name, plugin, settings) = body.checked()?;
    let store = connections::connect_store(&state.app, org, &name, &plugin, settings).await?;
    state.work_queued.notify_one();
    Ok(Json(StoreConnected { store }))
}

/// The store connected.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StoreConnected {
    pub store: crate::model::StoreId,
}

/// The channel added.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChannelAdded {
    pub channel: crate::model::ChannelId,
}

async fn add_channel(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    Json(body): Json<ConnectBody>,
) -> Result<Json<ChannelAdded>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let (name, plugin, settings) = body.checked()?;
    let channel = connections::add_channel(&state.app, org, &name, &plugin, settings).await?;
    state.work_queued.notify_one();
    Ok(Json(ChannelAdded { channel }))
}
