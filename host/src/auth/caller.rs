//! The `Caller` extractor: who sends the request and for which organization. An
//! `Authorization: Bearer` API token acts for its one organization; a session cookie for the
//! organization its session chose, and then every unsafe method (POST, PUT, DELETE…) must
//! carry the session's CSRF token. No credentials, an unknown, revoked or expired one: 401.
//! A wrong or missing CSRF token: 403.

use super::secret_hash;
use super::session::{CSRF_HEADER, csrf_matches, session_token};
use crate::api::{ApiError, ApiState};
use crate::db::now_ms;
use crate::model::{AccountId, OrgId};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// `last_used_at` / `last_seen_at` are written at most this often per credential.
const TOUCH_EVERY_MS: i64 = 60_000;

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// API token id.
    Token(i64),
    /// Session id.
    Session(i64),
}

/// An authenticated request: the account, and the one organization it acts for. Handlers
/// scope every id they are given to `org` (see `ApiState::channel_of` and friends).
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    pub org: OrgId,
    pub via: Via,
    /// The session's CSRF token (sessions only), for pages to put in their forms.
    pub csrf_token: Option<String>,
}

/// Whether the extractor checks the CSRF header of a cookie session's unsafe request, or
/// leaves it to the handler (an HTML form sends it as the `csrf_token` field, which only
/// the handler can read: it must then call `Caller::check_csrf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfCheck {
    Header,
    ByHandler,
}

impl Caller {
    /// Checks a CSRF token a form sent (always true for API tokens: no cookie, no CSRF).
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), ApiError> {
        match &self.csrf_token {
            Some(expected) if !csrf_matches(expected, given) => Err(csrf_refused()),
            _ => Ok(()),
        }
    }

    /// Authenticates the request's parts (see the module doc).
    pub async fn from_parts(parts: &Parts, state: &ApiState, csrf: CsrfCheck) -> Result<Caller, ApiError> {
        let db = &state.app.db;
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::Unauthorized("the Authorization header is not `Bearer <API token>`".into())
                })?;
            let row = db.api_token(&secret_hash(token)).await?.filter(|t| !t.revoked).ok_or_else(|| {
                ApiError::Unauthorized(
                    "the API token is unknown or revoked: create one with `crossdock token create` \
                     or POST /api/tokens"
                        .into(),
                )
            })?;
            if row.last_used_at.is_none_or(|t| now_ms() - t > TOUCH_EVERY_MS) {
                db.touch_api_token(row.id).await?;
            }
            return Ok(Caller {
                account: row.account,
                org: row.org,
                via: Via::Token(row.id),
                csrf_token: None,
            });
        }
        if let Some(token) = session_token(&parts.headers) {
            let session = db.session(&secret_hash(&token)).await?.ok_or_else(|| {
                ApiError::Unauthorized(
                    "the session has expired or ended: log in again (POST /api/session)".into(),
                )
            })?;
            if csrf == CsrfCheck::Header && !parts.method.is_safe() {
                let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if !csrf_matches(&session.csrf_token, given) {
                    return Err(csrf_refused());
                }
            }
            if now_ms() - session.last_seen_at > TOUCH_EVERY_MS {
                db.touch_session(session.id).await?;
            }
            return Ok(Caller {
                account: session.account,
                org: session.org,
                via: Via::Session(session.id),
                csrf_token: Some(session.csrf_token),
            });
        }
        Err(ApiError::Unauthorized(
            "no credentials: send `Authorization: Bearer <API token>` or log in (POST /api/session)".into(),
        ))
    }
}

fn csrf_refused() -> ApiError {
    ApiError::Forbidden(
        "missing or wrong CSRF token: a logged-in browser sends its session's token (from POST \
         /api/session or GET /api/me) in the X-CSRF-Token header or the csrf_token form field"
            .into(),
    )
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        Caller::from_parts(parts, state, CsrfCheck::Header).await
    }
}
