//! Onboarding progress: which steps an organization has done and which remain, each with
//! what to do next.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::db::listings::ListingState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub step: String,
    pub done: bool,
    pub detail: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Onboarding {
    pub organization: i64,
    pub complete: bool,
    pub steps: Vec<Step>,
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/orgs/{org}/onboarding", get(onboarding))
}

async fn onboarding(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Onboarding>, ApiError> {
    let db = &state.app.db;
    let org = state.org_of(&caller, org)?;
    let mut steps = Vec::new();
    let store = db.store_of(org).await?;
    steps.push(Step {
        step: "connect the store".into(),
        done: store.is_some(),
        detail: match &store {
            Some(s) => format!("{} ({}) connected", s.name, s.plugin_id),
            None => "connect your eCommerce store (Shopify, WooCommerce…)".into(),
        },
    });
    let channels = db.channels(org).await?;
    steps.push(Step {
        step: "connect a TikTok Shop".into(),
        done: !channels.is_empty(),
        detail: format!("{} channel(s) connected", channels.len()),
    });
    let store_currency = store.as_ref().and_then(|s| s.currency.clone());
    for channel in &channels {
        let needs_rate = match (&store_currency, &channel.currency) {
            (Some(s), Some(c)) => s != c,
            _ => true,
        };
        steps.push(Step {
            step: format!("prices for {}", channel.name),
            done: !needs_rate || channel.exchange_rate.is_some(),
            detail: match (&store_currency, &channel.currency, channel.exchange_rate) {
                (Some(s), Some(c), _) if s == c => format!("sells in {c}, like the store"),
                (Some(s), Some(c), Some(rate)) => format!("1 {s} = {rate} {c}"),
                (Some(s), Some(c), None) => {
                    format!("sells in {c} but the store in {s}: set an exchange rate")
                }
                _ => "currency unknown: reconnect".into(),
            },
        });
    }
    if let Some(store) = &store {
        let products = db.product_ids(store.id).await?.len();
        steps.push(Step {
            step: "import the catalog".into(),
            done: products > 0,
            detail: format!("{products} products read from the store"),
        });
    }
    for channel in &channels {
        let counts = db.listing_counts(channel.id).await?;
        let active = counts.get(&ListingState::Active).copied().unwrap_or(0);
        let failed = counts.get(&ListingState::Failed).copied().unwrap_or(0)
            + counts.get(&ListingState::Rejected).copied().unwrap_or(0);
        steps.push(Step {
            step: format!("first listings live on {}", channel.name),
            done: active > 0,
            detail: format!("{active} active, {failed} need attention"),
        });
    }
    let ids: Vec<crate::model::ChannelId> = channels.iter().map(|c| c.id).collect();
    let stuck = db.stuck_work(Some(&ids)).await?;
    steps.push(Step { step: "work is moving".into(), done: stuck.is_empty(), detail: stuck.describe() });
    let complete = steps.iter().all(|s| s.done);
    Ok(Json(Onboarding { organization: org.0, complete, steps }))
}
