//! Logging in and out, who am I, API tokens, and the first-run setup link. Login and setup
//! are the only `/api` routes without a `Caller`; both are throttled or single-use.

use super::{ApiError, ApiState};
use crate::auth::account::{AccountError, create_owner};
use crate::auth::password::check_strength;
use crate::auth::session::{LoginError, NewSession, cleared_cookie, login, session_cookie, start_session};
use crate::auth::token::{NewToken, create_api_token};
use crate::auth::{Caller, Via, normalize_email, secret_hash};
use crate::db::accounts::{Membership, TokenView};
use crate::db::now_ms;
use crate::model::{AccountId, OrgId};
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/session", post(log_in).put(switch_org).delete(log_out))
        .route("/api/me", get(me))
        .route("/api/tokens", post(new_token).get(tokens))
        .route("/api/tokens/{token}", delete(revoke_token))
        .route("/api/setup/{token}", post(setup))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginBody {
    email: String,
    password: String,
    /// The organization to act for (default: the account's oldest membership).
    #[serde(default)]
    organization: Option<i64>,
}

/// What a login (or setup) answers besides the cookie: the CSRF token the page sends back.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct SessionView {
    account: AccountId,
    organization: OrgId,
    csrf_token: String,
    expires_at: i64,
}

/// The client's address, when the listener records it (`serve` does).
struct ClientAddr(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

pub(super) fn with_cookie(state: &ApiState, session: NewSession) -> Response {
    let max_age = (session.expires_at - now_ms()) / 1000;
    let cookie = session_cookie(&session.token, max_age, state.secure_cookies);
    let view = SessionView {
        account: session.account,
        organization: session.org,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    };
    ([(SET_COOKIE, cookie)], Json(view)).into_response()
}

async fn log_in(
    State(state): State<ApiState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let org = body.organization.map(OrgId);
    match login(&state.app.db, &state.login_throttle, &body.email, &body.password, client, org).await {
        Ok(session) => Ok(with_cookie(&state, session)),
        Err(LoginError::Db(e)) => Err(e.into()),
        Err(wrong @ LoginError::Wrong) => Err(ApiError::Unauthorized(wrong.to_string())),
        Err(throttled @ LoginError::Throttled) => Err(ApiError::TooManyRequests(throttled.to_string())),
        Err(other) => Err(ApiError::Forbidden(other.to_string())),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SwitchBody {
    organization: i64,
}

/// Points the session at another organization of the account's.
async fn switch_org(
    caller: Caller,
    State(state): State<ApiState>,
    Json(body): Json<SwitchBody>,
) -> Result<Json<Switched>, ApiError> {
    let Via::Session(session) = caller.via else {
        return Err(ApiError::Conflict(
            "an API token acts for the one organization it was made for: create a token there".into(),
        ));
    };
    let memberships = state.app.db.memberships(caller.account).await?;
    if !memberships.iter().any(|m| m.organization.0 == body.organization) {
        return Err(ApiError::NotFound(format!("organization {}", body.organization)));
    }
    state.app.db.set_session_org(session, OrgId(body.organization)).await?;
    Ok(Json(Switched { organization: OrgId(body.organization) }))
}

/// The organization a session acts for now.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct Switched {
    organization: OrgId,
}

/// A session ended.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct LoggedOut {
    logged_out: bool,
}

/// An API token revoked.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct Revoked {
    token: i64,
    revoked: bool,
}

async fn log_out(caller: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let Via::Session(session) = caller.via else {
        return Err(ApiError::Conflict(
            "this request carries an API token, not a session: revoke it with DELETE /api/tokens/{id}".into(),
        ));
    };
    state.app.db.delete_session(session).await?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = cleared_cookie(state.secure_cookies).parse() {
        headers.insert(SET_COOKIE, value);
    }
    Ok((headers, Json(LoggedOut { logged_out: true })).into_response())
}

#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct MeView {
    account: AccountId,
    email: String,
    /// The organization this request acts for.
    organization: OrgId,
    /// `session` or `token`.
    via: &'static str,
    /// The session's CSRF token (sessions only).
    csrf_token: Option<String>,
    organizations: Vec<Membership>,
}

async fn me(caller: Caller, State(state): State<ApiState>) -> Result<Json<MeView>, ApiError> {
    Ok(Json(MeView {
        account: caller.account,
        email: state.app.db.account_email(caller.account).await?,
        organization: caller.org,
        via: match caller.via {
            Via::Session(_) => "session",
            Via::Token(_) => "token",
        },
        csrf_token: caller.csrf_token.clone(),
        organizations: state.app.db.memberships(caller.account).await?,
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    name: String,
}

/// A new API token for the caller's organization; the answer is the only time it is shown.
async fn new_token(
    caller: Caller,
    State(state): State<ApiState>,
    Json(body): Json<TokenBody>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let token = create_api_token(&state.app.db, caller.account, caller.org, &body.name).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

async fn tokens(caller: Caller, State(state): State<ApiState>) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(state.app.db.api_tokens(caller.org).await?))
}

async fn revoke_token(
    caller: Caller,
    State(state): State<ApiState>,
    Path(token): Path<i64>,
) -> Result<Json<Revoked>, ApiError> {
    state.app.db.revoke_api_token(caller.org, token).await?;
    Ok(Json(Revoked { token, revoked: true }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SetupBody {
    email: String,
    password: String,
}

/// The first-run link: creates an account owning the link's organization and logs it in.
/// The link works once, within a day of being printed.
async fn setup(
    State(state): State<ApiState>,
    Path(token): Path<String>,
    Json(body): Json<SetupBody>,
) -> Result<Response, ApiError> {
    // Checked before the link is used up, so a typo does not cost the link.
    normalize_email(&body.email).map_err(|m| ApiError::BadRequest(format!("email: {m}")))?;
    check_strength(&body.password).map_err(|m| ApiError::BadRequest(format!("password: {m}")))?;
    let db = &state.app.db;
    let org = db.use_setup_link(&secret_hash(&token)).await?.ok_or_else(|| {
        ApiError::NotFound(
            "setup link (used, expired or never made: restart `serve` for a new one, or run \
             `crossdock account create`)"
                .into(),
        )
    })?;
    let account = create_owner(db, org, &body.email, &body.password).await.map_err(|e| match e {
        AccountError::Db(db) => ApiError::from(db),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    let session = start_session(db, account, org).await?;
    Ok(with_cookie(&state, session))
}
