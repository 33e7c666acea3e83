//! Rules: saving a new version (compiled first, so a broken rule never becomes active) and
//! dry runs over the whole catalog before saving.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::catalog::dry_run::{DryRunReport, dry_run};
use crate::rules::RuleKind;
use axum::extract::{Path, State};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub source: String,
}

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/channels/{channel}/rules/{kind}", put(save))
        .route("/api/channels/{channel}/rules/{kind}/dry-run", post(run_dry))
}

fn kind(name: &str) -> Result<RuleKind, ApiError> {
    match name {
        "product" => Ok(RuleKind::Product),
        "price" => Ok(RuleKind::Price),
        "category" => Ok(RuleKind::Category),
        "order" => Ok(RuleKind::Order),
        other => Err(ApiError::NotFound(format!("rule kind `{other}` (product, price, category, order)"))),
    }
}

async fn save(
    caller: Caller,
    State(state): State<ApiState>,
    Path((channel, name)): Path<(i64, String)>,
    Json(body): Json<RuleBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?.id;
    let kind = kind(&name)?;
    let label = format!("channel {channel} {} rule (new version)", kind.as_str());
    crate::rules::check(&state.app.rules, kind, &label, &body.source)?;
    let saved = state.app.db.save_rule(channel, kind, &body.source).await?;
    // Every pair of the channel is reconciled with the new version by the workers.
    state.work_queued.notify_one();
    Ok(Json(serde_json::json!({ "kind": kind.as_str(), "version": saved.version, "hash": saved.hash })))
}

async fn run_dry(
    caller: Caller,
    State(state): State<ApiState>,
    Path((channel, name)): Path<(i64, String)>,
    Json(body): Json<RuleBody>,
) -> Result<Json<DryRunReport>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let (channel, kind) = (row.id, kind(&name)?);
    let engine = state.engine(row.org_id).await?;
    Ok(Json(dry_run(&engine, channel, kind, &body.source).await?))
}
