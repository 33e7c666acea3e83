//! Channels: their state, options (content sync, selection default, stock buffer and
//! share), exchange rate, SKU auto-link switch, and deletion.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::connections;
use crate::db::orgs::ChannelOptions;
use crate::model::{ChannelId, OrgId, StoreId};
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Serialize, JsonSchema)]
pub struct ChannelView {
    pub id: i64,
    pub name: String,
    pub plugin: String,
    pub currency: Option<String>,
    pub region: Option<String>,
    pub exchange_rate: Option<Decimal>,
    pub options: ChannelOptions,
    /// Why nothing is listed there yet, when something blocks it.
    pub blocked: Option<String>,
    /// Listings per state.
    pub listings: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    pub rate: Decimal,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchBody {
    pub on: bool,
}

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/orgs/{org}/channels", get(list))
        .route("/api/orgs/{org}/auto-link", put(set_auto_link))
        .route("/api/channels/{channel}/options", put(set_options))
        .route("/api/channels/{channel}/exchange-rate", put(set_rate))
        .route("/api/channels/{channel}", axum::routing::delete(delete))
        .route("/api/orgs/{org}/store", axum::routing::delete(disconnect_store))
}

async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    let org = state.org_of(&caller, org)?;
    // Without a store nothing can be listed, but the channels are still there to see.
    let engine = match state.app.db.store_of(org).await? {
        Some(_) => Some(state.engine(org).await?),
        None => None,
    };
    let mut views = Vec::new();
    for row in state.app.db.channels(org).await? {
        let blocked = match &engine {
            Some(engine) => engine.channel(row.id).and_then(|c| c.blocked.clone()),
            None => Some("no store connected: connect the organization's store".to_string()),
        };
        let row = &row;
        let counts = state.app.db.listing_counts(row.id).await?;
        views.push(ChannelView {
            id: row.id.0,
            name: row.name.clone(),
            plugin: row.plugin_id.clone(),
            currency: row.currency.as_ref().map(|c| c.to_string()),
            region: row.region.clone(),
            exchange_rate: row.exchange_rate,
            options: row.options,
            blocked,
            listings: counts.into_iter().map(|(s, n)| (s.as_str().to_string(), n)).collect(),
        });
    }
    Ok(Json(views))
}

async fn set_options(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Json(options): Json<ChannelOptions>,
) -> Result<Json<ChannelOptions>, ApiError> {
    state.channel_of(&caller, channel).await?;
    options.validate()?;
    state.app.db.set_channel_options(ChannelId(channel), options).await?;
    // The channel (and its siblings, whose shares change) is reconciled by the workers.
    state.work_queued.notify_one();
    Ok(Json(options))
}

async fn set_rate(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Json(body): Json<RateBody>,
) -> Result<Json<RateBody>, ApiError> {
    state.channel_of(&caller, channel).await?;
    crate::model::limits::check_exchange_rate("rate", body.rate)?;
    connections::set_exchange_rate(&state.app, ChannelId(channel), body.rate).await?;
    state.work_queued.notify_one();
    Ok(Json(body))
}

async fn set_auto_link(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    Json(body): Json<SwitchBody>,
) -> Result<Json<AutoLink>, ApiError> {
    let org = state.org_of(&caller, org)?;
    state.app.db.set_auto_link(org, body.on).await?;
    Ok(Json(AutoLink { auto_link: body.on }))
}

/// Whether SKU auto-linking is on now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AutoLink {
    pub auto_link: bool,
}

/// A channel forgotten.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    pub deleted: ChannelId,
}

/// The organization, its store disconnected (`store` is always null).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Disconnected {
    pub organization: OrgId,
    pub store: Option<StoreId>,
}

async fn delete(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<Deleted>, ApiError> {
    state.channel_of(&caller, channel).await?;
    state.app.db.delete_channel(ChannelId(channel)).await?;
    Ok(Json(Deleted { deleted: ChannelId(channel) }))
}

/// Disconnects the organization's store (and forgets its catalog) so another can be
/// connected; channels stay.
async fn disconnect_store(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Disconnected>, ApiError> {
    let org = state.org_of(&caller, org)?;
    state.app.db.disconnect_store(org).await?;
    Ok(Json(Disconnected { organization: org, store: None }))
}
