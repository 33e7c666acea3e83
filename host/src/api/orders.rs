//! The orders dashboard and its controls: a channel's orders by state with the failure
//! reasons (kind, cause, how to fix), one order with its shipments and after-sale requests,
//! retry of one order (every failed order of a channel is a background task: `tasks`), the
//! channel's order settings and carrier mapping, a poll on demand, and the channel webhook
//! receiver (`POST /webhooks/channel/{channel}`: 401 for a bad signature, 503 to be retried).

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::connectors::ErrorKind;
use crate::connectors::channel_orders::ShippingProvider;
use crate::db::orders::{AfterSaleRow, OrderRow, OrderState, ShipmentRow};
use crate::model::ChannelId;
use crate::orders::OrderSettings;
use crate::orders::import::{
    ChannelWebhookError, ChannelWebhookOutcome, PollReport, poll_orders, receive_channel_webhook,
};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/channels/{channel}/orders", get(list))
        .route("/api/channels/{channel}/orders/poll", post(poll))
        .route("/api/channels/{channel}/order-settings", get(get_settings).put(put_settings))
        .route("/api/channels/{channel}/carriers", get(carriers).put(map_carrier))
        .route("/api/orders/{order}", get(one))
        .route("/api/orders/{order}/retry", post(retry_one))
        .route("/api/orders/{order}/release", post(release))
        .route("/api/orders/{order}/after-sales/{request}/decide", post(decide))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct OrdersView {
    /// (state, failure kind or "", count).
    counts: Vec<(String, String, i64)>,
    orders: Vec<OrderRow>,
}

async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Json<OrdersView>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?.id;
    let filter = q
        .state
        .as_deref()
        .map(|s| {
            OrderState::parse(s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "state `{s}` is not one of {}",
                    OrderState::ALL.map(OrderState::as_str).join(", ")
                ))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(OrdersView {
        counts: state.app.db.order_counts(channel).await?,
        orders: state.app.db.orders(channel, filter, limit).await?,
    }))
}

#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct OrderView {
    #[serde(flatten)]
    row: OrderRow,
    channel_order: crate::model::order::ChannelOrder,
    store_order: Option<crate::model::order::StoreOrder>,
    shipments: Vec<ShipmentRow>,
    after_sales: Vec<AfterSaleRow>,
}

async fn one(
    caller: Caller,
    State(state): State<ApiState>,
    Path(order): Path<i64>,
) -> Result<Json<OrderView>, ApiError> {
    let row = state.order_of(&caller, order).await?;
    Ok(Json(OrderView {
        channel_order: row.order.clone(),
        store_order: row.store_order.clone(),
        shipments: state.app.db.shipments(order).await?,
        after_sales: state.app.db.after_sales(order).await?,
        row,
    }))
}

async fn retry_one(
    caller: Caller,
    State(state): State<ApiState>,
    Path(order): Path<i64>,
) -> Result<Json<OrderRetried>, ApiError> {
    state.order_of(&caller, order).await?;
    if !state.app.db.touch_order(order, true).await? {
        return Err(ApiError::NotFound(format!("order {order}")));
    }
    state.work_queued.notify_one();
    Ok(Json(OrderRetried { order, retried: true }))
}

/// An order queued again.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct OrderRetried {
    order: i64,
    retried: bool,
}

/// An order released from the order rule's hold.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct OrderReleased {
    order: i64,
    released: bool,
}

/// The merchant's decision on an after-sale request, sent to the channel.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct Decided {
    order: i64,
    request: String,
    approved: bool,
}

async fn release(
    caller: Caller,
    State(state): State<ApiState>,
    Path(order): Path<i64>,
) -> Result<Json<OrderReleased>, ApiError> {
    state.order_of(&caller, order).await?;
    if !state.app.db.release_order(order).await? {
        return Err(ApiError::Conflict(format!("order {order} is not held by the order rule")));
    }
    state.work_queued.notify_one();
    Ok(Json(OrderReleased { order, released: true }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Decision {
    approve: bool,
}

/// The merchant approves or rejects what the channel waits for the seller to decide on a
/// buyer's cancellation, refund or return (the request, or the goods that came back); 409 when
/// it waits for none. The order is then synced again (a paid refund becomes a store refund).
async fn decide(
    caller: Caller,
    State(state): State<ApiState>,
    Path((order, request)): Path<(i64, String)>,
    Json(decision): Json<Decision>,
) -> Result<Json<Decided>, ApiError> {
    let row = state.order_of(&caller, order).await?;
    let channel = state.app.db.channel(row.channel_id).await?;
    let engine = state.engine(channel.org_id).await?;
    let runtime =
        engine.channel(channel.id).ok_or_else(|| ApiError::NotFound(format!("channel {}", channel.id)))?;
    let requests = runtime
        .connector
        .order_after_sales(&row.channel_order_id)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let Some(found) = requests.iter().find(|r| r.id == request) else {
        return Err(ApiError::NotFound(format!("request {request} of order {order}")));
    };
    // Offered only when the channel waits for the seller: anything else would be refused there.
    if found.awaiting_seller.is_none() {
        return Err(ApiError::Conflict(format!(
            "request {request} of order {} is {} and waits for no decision of the seller",
            row.channel_order_id, found.status
        )));
    }
    runtime.connector.decide_after_sale(&request, decision.approve).await.map_err(|e| match e.kind {
        ErrorKind::Invalid { .. } | ErrorKind::NotFound(_) => ApiError::Conflict(e.to_string()),
        _ => ApiError::Unavailable(e.to_string()),
    })?;
    state.app.db.touch_order(order, false).await?;
    state.work_queued.notify_one();
    Ok(Json(Decided { order, request, approved: decision.approve }))
}

async fn poll(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<PollReport>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let engine = state.engine(row.org_id).await?;
    let report = poll_orders(&engine).await?;
    if report.orders_due > 0 {
        state.work_queued.notify_one();
    }
    Ok(Json(report))
}

async fn get_settings(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<OrderSettings>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?.id;
    let json = state.app.db.order_settings_json(channel).await?;
    Ok(Json(OrderSettings::parse(&json).map_err(ApiError::Internal)?))
}

async fn put_settings(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    body: Bytes,
) -> Result<Json<OrderSettings>, ApiError> {
    let channel = state.channel_of(&caller, channel).await?.id;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let settings = OrderSettings::parse(text).map_err(ApiError::BadRequest)?;
    state.app.db.set_order_settings_json(channel, &settings.to_json()).await?;
    Ok(Json(settings))
}

#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CarriersView {
    /// Store carrier (lower case) → provider.
    mappings: Vec<CarrierMapping>,
    /// The channel's shipping providers, to map to.
    providers: Vec<ShippingProvider>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CarrierMapping {
    store_carrier: String,
    provider_id: String,
    #[serde(default)]
    provider_name: String,
}

async fn carriers(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
) -> Result<Json<CarriersView>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let engine = state.engine(row.org_id).await?;
    let runtime = engine.channel(row.id).ok_or_else(|| ApiError::NotFound(format!("channel {channel}")))?;
    let providers =
        runtime.connector.shipping_providers().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mappings = state
        .app
        .db
        .carrier_mappings(row.id)
        .await?
        .into_iter()
        .map(|(store_carrier, provider_id, provider_name)| CarrierMapping {
            store_carrier,
            provider_id,
            provider_name,
        })
        .collect();
    Ok(Json(CarriersView { mappings, providers }))
}

async fn map_carrier(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Json(body): Json<CarrierMapping>,
) -> Result<Json<CarrierMapping>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    if body.store_carrier.trim().is_empty() {
        return Err(ApiError::BadRequest("store_carrier is empty".into()));
    }
    let engine = state.engine(row.org_id).await?;
    let runtime = engine.channel(row.id).ok_or_else(|| ApiError::NotFound(format!("channel {channel}")))?;
    let providers =
        runtime.connector.shipping_providers().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let provider = providers.iter().find(|p| p.id == body.provider_id).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "provider_id `{}` is not one of {}'s shipping providers (GET this route for the list)",
            body.provider_id, row.name
        ))
    })?;
    state.app.db.map_carrier(row.id, &body.store_carrier, &provider.id, &provider.name).await?;
    // Orders stopped on this carrier can go now.
    state.app.db.retry_failed_orders(row.id, Some("unmapped_carrier")).await?;
    state.work_queued.notify_one();
    Ok(Json(CarrierMapping {
        store_carrier: body.store_carrier.trim().to_lowercase(),
        provider_id: provider.id.clone(),
        provider_name: provider.name.clone(),
    }))
}

pub(super) async fn channel_webhook(
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ChannelWebhookOutcome>, ApiError> {
    let row = state.app.db.channel(ChannelId(channel)).await?;
    let engine = state.engine(row.org_id).await?;
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    match receive_channel_webhook(&engine, row.id, headers, body.to_vec()).await {
        Ok(outcome) => {
            if outcome.orders > 0 {
                state.work_queued.notify_one();
            }
            Ok(Json(outcome))
        }
        Err(ChannelWebhookError::Refused(e)) => Err(match e.kind {
            ErrorKind::Unauthorized(_) => ApiError::Unauthorized(e.to_string()),
            _ => ApiError::BadRequest(e.to_string()),
        }),
        Err(ChannelWebhookError::Unavailable(m)) => Err(ApiError::Unavailable(m)),
    }
}
