//! The product center: every product's state per channel, choosing which channels carry
//! which products (one by one or in bulk), category mapping by hand and by template, and
//! what SKU linking could not decide.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::db::listings::{DriftCorrection, ProductCenterRow};
use crate::db::placement::{CategoryTemplate, HandCategory, LinkIssue, MatchField};
use crate::model::limits::check_range;
use crate::model::{AttributeValue, ProductId};
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectionBody {
    pub product_ids: Vec<i64>,
    pub selected: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub match_field: MatchField,
    pub match_value: String,
    pub category_id: String,
    #[serde(default)]
    pub attributes: Vec<AttributeValue>,
    #[serde(default = "default_priority")]
    pub priority: i64,
}

/// Most products one selection request may name.
pub const MAX_SELECTION: usize = 10_000;
/// Template priorities lie within ± this.
pub const MAX_PRIORITY: i64 = 1_000_000;

fn default_priority() -> i64 {
    100
}

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/channels/{channel}/products", get(product_center))
        .route("/api/channels/{channel}/selection", put(select))
        .route("/api/channels/{channel}/products/{product}/category", put(map_by_hand))
        .route("/api/channels/{channel}/templates", put(save_template).get(templates))
        .route("/api/channels/{channel}/link-issues", get(link_issues))
        .route("/api/channels/{channel}/drift", get(drift))
}

async fn product_center(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<Vec<ProductCenterRow>>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let store = state
        .app
        .db
        .store_of(row.org_id)
        .await?
        .ok_or_else(|| ApiError::Conflict("no store connected".into()))?;
    Ok(Json(state.app.db.product_center(store.id, row.id).await?))
}

/// Selects or deselects products and reconciles them, so the channel follows at once: a
/// deselected live listing is deactivated, a selected one listed or reactivated.
async fn select(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Json(body): Json<SelectionBody>,
) -> Result<Json<Selected>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let channel = row.id;
    check_range("product_ids (count)", body.product_ids.len(), 0, MAX_SELECTION)?;
    let products: Vec<ProductId> = body.product_ids.iter().copied().map(ProductId).collect();
    state.check_products(row.org_id, &products).await?;
    state.app.db.set_selection(channel, &products, body.selected).await?;
    let report = state.reconcile(row.org_id, &products, channel).await?;
    Ok(Json(Selected { products: products.len(), selected: body.selected, queued: report.queued }))
}

/// What a selection changed: how many products, which way, and the jobs it queued.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Selected {
    pub products: usize,
    pub selected: bool,
    pub queued: usize,
}

async fn map_by_hand(
    caller: Caller,
    State(state): State<ApiState>,
    Path((channel, product)): Path<(i64, i64)>,
    Json(body): Json<HandCategory>,
) -> Result<Json<HandCategory>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let (channel, product) = (row.id, ProductId(product));
    state.check_products(row.org_id, &[product]).await?;
    state.app.db.set_hand_category(product, channel, &body).await?;
    state.reconcile(row.org_id, &[product], channel).await?;
    Ok(Json(body))
}

async fn save_template(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Json(body): Json<TemplateBody>,
) -> Result<Json<Vec<CategoryTemplate>>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?.id;
    check_range("priority", body.priority, -MAX_PRIORITY, MAX_PRIORITY)?;
    state
        .app
        .db
        .save_template(&CategoryTemplate {
            id: 0,
            channel_id: channel,
            match_field: body.match_field,
            match_value: body.match_value,
            category_id: body.category_id,
            attributes: body.attributes,
            priority: body.priority,
        })
        .await?;
    state.work_queued.notify_one();
    Ok(Json(state.app.db.templates(channel).await?))
}

async fn templates(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<Vec<CategoryTemplate>>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?;
    Ok(Json(state.app.db.templates(channel.id).await?))
}

async fn link_issues(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<Vec<LinkIssue>>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?;
    Ok(Json(state.app.db.link_issues(channel.id).await?))
}

/// What the drift check found on the channel and corrected, newest first.
async fn drift(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<Vec<DriftCorrection>>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?;
    Ok(Json(state.app.db.drift_corrections(channel.id, 200).await?))
}
