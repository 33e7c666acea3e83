//! A rule's versions: the active one and its history, newest first. Rolling back is saving
//! an older version's source again (a new version, gated like any other save).

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::db::admin::RuleVersion;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RuleHistory {
    pub kind: String,
    pub active: Option<RuleVersion>,
    pub versions: Vec<RuleVersion>,
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/channels/{channel}/rules/{kind}/versions", get(history))
}

async fn history(
    caller: Caller,
    State(state): State<ApiState>,
    Path((channel, name)): Path<(i64, String)>,
) -> Result<Json<RuleHistory>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?.id;
    let kind = super::rules::kind(&name)?;
    let versions = state.app.db.rule_versions(channel, kind).await?;
    let active = versions.iter().find(|v| v.active).cloned();
    Ok(Json(RuleHistory { kind: kind.as_str().to_string(), active, versions }))
}
