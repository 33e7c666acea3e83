//! The Admin API endpoint, `POST /admin/api/2026-01/graphql.json`: access token, calculated
//! cost and the leaky bucket, then the schema over the current snapshot; and the chaos layer
//! in front of it.
//!
//! Choices where ../shared/reference marks Shopify's behaviour unconfirmed: the cost bucket's
//! `THROTTLED` answers HTTP 200 while chaos's answers 429 (Shopify is reported to use both, so
//! clients must handle both); chaos failures rotate through 500, 502 and 503 with a
//! `{"errors": "<reason>"}` body, a timeout answers 504 after the hang, and a malformed answer
//! is the real body cut in half after the call took effect.

use super::cost::{self, ThrottleStatus};
use super::{API_VERSION, AppState};
use crate::chaos::Fate;
use async_graphql::parser::parse_query;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Shopify's body for a missing or wrong access token.
const INVALID_TOKEN_BODY: &str =
    r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;
/// Responses larger than this are not read back for the malformed-body knob.
const MAX_CHAOS_BODY: usize = 16 * 1024 * 1024;

/// A JSON answer with Shopify's headers.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert("x-shopify-api-version", HeaderValue::from_static(API_VERSION));
    response
}

pub async fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_string())
}

/// `THROTTLED`, as Shopify's GraphQL API reports it.
fn throttled_body(cost: Option<serde_json::Value>) -> String {
    let mut body = json!({
        "errors": [{
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }],
    });
    if let Some(cost) = cost {
        body["extensions"] = json!({"cost": cost});
    }
    body.to_string()
}

/// Counts the request, then applies the chaos knobs around the real answer.
pub async fn chaos(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let fate = state.chaos.fate().await;
    match fate {
        Fate::Throttle => return json_response(StatusCode::TOO_MANY_REQUESTS, throttled_body(None)),
        Fate::Fail => {
            let (status, reason) = match state.failures.fetch_add(1, Ordering::Relaxed) % 3 {
                0 => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
                1 => (StatusCode::BAD_GATEWAY, "Bad Gateway"),
                _ => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
            };
            return json_response(status, json!({"errors": reason}).to_string());
        }
        Fate::Timeout => {
            return json_response(StatusCode::GATEWAY_TIMEOUT, r#"{"errors":"Gateway Timeout"}"#.into());
        }
        Fate::Serve | Fate::Malform => {}
    }
    let response = next.run(request).await;
    if fate != Fate::Malform || !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_CHAOS_BODY).await.unwrap_or_default();
    let mut response = Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)));
    response.headers_mut().remove("content-length");
    response
}

#[tracing::instrument(skip_all, fields(version = %version))]
pub async fn graphql(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    request: async_graphql_axum::GraphQLRequest,
) -> Response {
    if version != API_VERSION {
        return json_response(StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_string());
    }
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok());
    if token != Some(state.access_token.as_str()) {
        return json_response(StatusCode::UNAUTHORIZED, INVALID_TOKEN_BODY.to_string());
    }
    let request = request.into_inner();

    // A query that does not parse costs nothing; execution reports the syntax error.
    let requested = parse_query(&request.query)
        .ok()
        .and_then(|doc| cost::requested(&doc, request.operation_name.as_deref(), &request.variables));
    let Some(requested) = requested else {
        let response = state.schema.execute(request).await;
        return json_response(StatusCode::OK, serde_json::to_string(&response).unwrap_or_default());
    };
    let points = requested.points;

    let limits = state.bucket().limits();
    if points > limits.single_query_max {
        let body = json!({
            "errors": [{
                "message": format!(
                    "Query cost is {points}, which exceeds the single query max cost limit ({}).",
                    limits.single_query_max
                ),
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": points, "maxCost": limits.single_query_max},
            }],
        });
        return json_response(StatusCode::OK, body.to_string());
    }

    let charged = state.bucket().charge(points);
    let status = match charged {
        Ok(status) => status,
        Err(status) => {
            tracing::debug!(points, available = status.currently_available, "throttled");
            return json_response(StatusCode::OK, throttled_body(Some(cost_json(points, None, status))));
        }
    };

    let snapshot = state.shop.snapshot();
    // The schema rides along for `bulkOperationRunQuery`, which runs a query of its own.
    let response = state.schema.execute(request.data(snapshot).data(state.schema.clone())).await;
    let mut body = match serde_json::to_value(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not encode a GraphQL response");
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"errors":"Internal Server Error"}"#.into(),
            );
        }
    };
    let actual = if requested.mutation {
        points
    } else {
        body.get("data").map(cost::actual_cost).unwrap_or(0).min(points)
    };
    let status = if actual < points { state.bucket().refund(points - actual) } else { status };
    if let Some(object) = body.as_object_mut() {
        object.insert("extensions".into(), json!({"cost": cost_json(points, Some(actual), status)}));
    }
    json_response(StatusCode::OK, body.to_string())
}

fn cost_json(requested: u64, actual: Option<u64>, status: ThrottleStatus) -> serde_json::Value {
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": status.maximum_available,
            "currentlyAvailable": status.currently_available,
            "restoreRate": status.restore_rate,
        },
    })
}
