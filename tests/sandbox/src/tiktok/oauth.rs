//! The auth host's token calls on the sandbox's own server (reference §2.2, §11.2):
//! `GET /api/v2/token/get` exchanges a single-use authorization code (30-minute TTL on tokio's
//! clock) and `GET /api/v2/token/refresh` rotates the access token. Both are unsigned and carry
//! `app_key`, `app_secret` and `grant_type` in the query.
//!
//! Choices of ours: the seller has one access token at a time, so a new one makes the old one
//! invalid (36009004); the refresh token is kept across refreshes (whether it rotates is
//! UNCONFIRMED) and lasts 5 years; a wrong `grant_type` is refused with 36009004.

use super::App;
use super::envelope::{ApiError, code, request_id, unix_now};
use super::state::{AccessToken, State, TOKEN_LIFETIME_SECS};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::PoisonError;
use tokio::time::{Duration, Instant};

/// Authorization codes last 30 minutes (§2.2).
const CODE_TTL: Duration = Duration::from_secs(30 * 60);
const REFRESH_LIFETIME_SECS: i64 = 5 * 365 * 24 * 3600;
const TOKEN_GET: &str = "/api/v2/token/get";
const TOKEN_REFRESH: &str = "/api/v2/token/refresh";

/// The seller's grants: outstanding authorization codes and the refresh token.
#[derive(Debug)]
pub(crate) struct Grants {
    /// Code -> issue time; a code is removed when used.
    codes: HashMap<String, Instant>,
    pub refresh_token: String,
    pub refresh_expires_at: i64,
    /// Access tokens issued by `/api/v2/token/refresh` so far.
    pub refreshes: u64,
    /// The app's registered redirect URL (see `authorize`).
    pub redirect_url: Option<String>,
}

impl Grants {
    pub fn new(now: i64) -> Grants {
        Grants {
            codes: HashMap::new(),
            refresh_token: format!("TTP_{}", random_text(40)),
            refresh_expires_at: now + REFRESH_LIFETIME_SECS,
            refreshes: 0,
            redirect_url: None,
        }
    }

    /// A fresh single-use code, as the seller's redirect would carry.
    pub fn issue_code(&mut self, now: Instant) -> String {
        let code = random_text(32);
        self.codes.insert(code.clone(), now);
        code
    }

    /// Uses up `code`; false when unknown, used or older than 30 minutes.
    fn redeem(&mut self, code: &str, now: Instant) -> bool {
        self.codes.remove(code).is_some_and(|issued| now.saturating_duration_since(issued) < CODE_TTL)
    }
}

/// Whether `path` is one of the auth host's.
pub(crate) fn is_auth_path(path: &str) -> bool {
    path == TOKEN_GET || path == TOKEN_REFRESH
}

/// Serves one auth-host call.
pub(crate) fn handle(app: &App, method: &Method, uri: &Uri) -> Response {
    match serve(app, method, uri) {
        // The auth host says "success" in lower case (§4.1).
        Ok(data) => {
            axum::Json(json!({ "code": 0, "message": "success", "request_id": request_id(), "data": data }))
                .into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn serve(app: &App, method: &Method, uri: &Uri) -> Result<Value, ApiError> {
    if method != Method::GET {
        return Err(ApiError::new(code::INVALID_METHOD, "Invalid method.")
            .with_status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let query: Vec<(String, String)> = axum::extract::Query::try_from_uri(uri)
        .map(|axum::extract::Query(q)| q)
        .map_err(|e| ApiError::credentials(format!("Malformed query string: {e}")))?;
    let param = |key: &str| query.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str());
    if param("app_key") != Some(app.credentials.app_key.as_str()) {
        return Err(ApiError::credentials("Invalid credentials. Invalid app_key."));
    }
    if param("app_secret") != Some(app.credentials.app_secret.as_str()) {
        return Err(ApiError::credentials("Invalid credentials. Invalid app_secret."));
    }
    let refresh = uri.path() == TOKEN_REFRESH;
    let grant_type = if refresh { "refresh_token" } else { "authorized_code" };
    if param("grant_type") != Some(grant_type) {
        return Err(ApiError::credentials(format!("Invalid grant_type: expected {grant_type}.")));
    }
    let mut state = app.state.lock().unwrap_or_else(PoisonError::into_inner);
    let now = unix_now();
    if refresh {
        if param("refresh_token") != Some(state.grants.refresh_token.as_str()) {
            return Err(ApiError::new(code::AUTH_RECORD_NOT_FOUND, "can not find related auth record"));
        }
        if now >= state.grants.refresh_expires_at {
            return Err(ApiError::new(code::REFRESH_TOKEN_EXPIRED, "rt has expired"));
        }
        state.grants.refreshes += 1;
    } else {
        let code = param("auth_code").unwrap_or_default();
        if !state.grants.redeem(code, Instant::now()) {
            return Err(ApiError::new(code::AUTH_RECORD_NOT_FOUND, "can not find related auth record"));
        }
    }
    state.token =
        AccessToken { value: format!("TTP_{}", random_text(32)), expires_at: now + TOKEN_LIFETIME_SECS };
    Ok(token_data(&state))
}

fn token_data(state: &State) -> Value {
    let region = state.shops.first().map(|s| s.region.clone()).unwrap_or_default();
    json!({
        "access_token": state.token.value,
        "access_token_expire_in": state.token.expires_at,
        "refresh_token": state.grants.refresh_token,
        "refresh_token_expire_in": state.grants.refresh_expires_at,
        "open_id": "sandbox-open-id",
        "seller_name": "Sandbox Seller",
        "seller_base_region": region,
        "user_type": 0,
        "granted_scopes": [
            "seller.authorization.info", "seller.shop.info", "seller.product.basic",
            "seller.product.write", "seller.product.delete", "seller.order.info",
            "seller.fulfillment.basic", "seller.logistics", "seller.return_refund.basic",
        ],
    })
}

fn random_text(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_single_use_and_last_thirty_minutes() {
        let mut grants = Grants::new(0);
        let start = Instant::now();
        let code = grants.issue_code(start);
        assert!(grants.redeem(&code, start + Duration::from_secs(60)));
        assert!(!grants.redeem(&code, start + Duration::from_secs(61)));
        let late = grants.issue_code(start);
        assert!(!grants.redeem(&late, start + CODE_TTL));
        assert!(!grants.redeem("unknown", start));
    }
}
