//! The organization's team: members, invitations (owners only), accepting an invitation (the
//! link is the credential, used once), and changing one's own password.

use super::accounts::with_cookie;
use super::{ApiError, ApiState};
use crate::auth::session::start_session;
use crate::auth::team::{self, NewInvitation, TeamError};
use crate::auth::{Caller, Via};
use crate::db::team::{Invitation, Member};
use crate::model::{AccountId, OrgId};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/orgs/{org}/members", get(members))
        .route("/api/orgs/{org}/members/{account}", delete(remove_member))
        .route("/api/orgs/{org}/invitations", post(invite).get(invitations))
        .route("/api/orgs/{org}/invitations/{invitation}", delete(revoke))
        .route("/api/invitations/{token}", get(pending).post(accept))
        .route("/api/me/password", put(change_password))
}

impl From<TeamError> for ApiError {
    fn from(e: TeamError) -> Self {
        match e {
            TeamError::Invalid(m) => ApiError::BadRequest(m),
            TeamError::NoInvitation => ApiError::NotFound(e.to_string()),
            TeamError::WrongPassword(m) => ApiError::Forbidden(m),
            TeamError::NotOwner(_) => ApiError::Forbidden(e.to_string()),
            TeamError::Db(db) => db.into(),
        }
    }
}

async fn members(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(state.app.db.members(org).await?))
}

/// Removes a member (an owner may remove anyone but the last owner; anyone may leave).
async fn remove_member(
    caller: Caller,
    State(state): State<ApiState>,
    Path((org, account)): Path<(i64, i64)>,
) -> Result<Json<MemberRemoved>, ApiError> {
    let org = state.org_of(&caller, org)?;
    let account = AccountId(account);
    if account != caller.account {
        team::require_owner(&state.app.db, caller.account, org, "remove members").await?;
    }
    state.app.db.remove_member(org, account).await?;
    Ok(Json(MemberRemoved { account, removed: true }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteBody {
    email: String,
    /// `member` (default) or `owner`.
    #[serde(default = "member")]
    role: String,
}

fn member() -> String {
    "member".into()
}

/// Invites an email address; the answer carries the link, shown this once.
async fn invite(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    Json(body): Json<InviteBody>,
) -> Result<(StatusCode, Json<NewInvitation>), ApiError> {
    let org = state.org_of(&caller, org)?;
    let invitation = team::invite(&state.app.db, org, caller.account, &body.email, &body.role).await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

async fn invitations(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(state.app.db.invitations(org).await?))
}

async fn revoke(
    caller: Caller,
    State(state): State<ApiState>,
    Path((org, invitation)): Path<(i64, i64)>,
) -> Result<Json<InvitationRevoked>, ApiError> {
    let org = state.org_of(&caller, org)?;
    team::require_owner(&state.app.db, caller.account, org, "revoke invitations").await?;
    state.app.db.revoke_invitation(org, invitation).await?;
    Ok(Json(InvitationRevoked { invitation, revoked: true }))
}

/// Whom a pending invitation is for, without using it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct PendingView {
    organization: OrgId,
    organization_name: String,
    email: String,
    role: String,
    /// Whether an account with this email exists (then its password joins).
    existing_account: bool,
}

async fn pending(
    State(state): State<ApiState>,
    Path(token): Path<String>,
) -> Result<Json<PendingView>, ApiError> {
    let db = &state.app.db;
    let (org, email, role) = team::invitation_for(db, &token).await?;
    Ok(Json(PendingView {
        organization: org,
        organization_name: db.organization_name(org).await?,
        existing_account: db.account_by_email(&email).await?.is_some(),
        email,
        role,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptBody {
    password: String,
}

/// Accepts an invitation and logs the account in, acting for the organization it joined.
async fn accept(
    State(state): State<ApiState>,
    Path(token): Path<String>,
    Json(body): Json<AcceptBody>,
) -> Result<Response, ApiError> {
    let db = &state.app.db;
    let (account, org) = team::accept(db, &token, &body.password).await?;
    let session = start_session(db, account, org).await?;
    Ok(with_cookie(&state, session))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password; every other session of the account ends.
async fn change_password(
    caller: Caller,
    State(state): State<ApiState>,
    Json(body): Json<PasswordBody>,
) -> Result<Json<PasswordChanged>, ApiError> {
    let keep = match caller.via {
        Via::Session(id) => Some(id),
        Via::Token(_) => None,
    };
    let ended = team::change_password(
        &state.app.db,
        caller.account,
        &body.current_password,
        &body.new_password,
        keep,
    )
    .await?;
    Ok(Json(PasswordChanged { changed: true, other_sessions_ended: ended }))
}

/// A member removed.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct MemberRemoved {
    account: AccountId,
    removed: bool,
}

/// An invitation revoked.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct InvitationRevoked {
    invitation: i64,
    revoked: bool,
}

/// A password changed, and how many other sessions of the account ended.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct PasswordChanged {
    changed: bool,
    other_sessions_ended: u64,
}
