//! Growing and keeping a team: an owner invites an email address (a one-time link, valid for
//! a week), the invited person accepts it with a new password (or, with an account already,
//! its password), and anyone changes their own password (which ends their other sessions).

use super::password::{check_strength, hash_password, verify_password};
use super::{new_secret, normalize_email, secret_hash};
use crate::db::team::Invitation;
use crate::db::{Db, DbError, now_ms};
use crate::model::{AccountId, OrgId};

/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// The roles an account can have in an organization.
pub const ROLES: [&str; 2] = ["owner", "member"];

/// Why a team change was refused.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("{0}")]
    Invalid(String),
    /// The invitation link is unknown, used, revoked or expired.
    #[error(
        "invitation (used, revoked, expired or never made: ask an owner of the organization for a \
         new link)"
    )]
    NoInvitation,
    /// The password given for an existing account (or the current password) is wrong.
    #[error("{0}")]
    WrongPassword(String),
    #[error("only an owner of the organization can {0}")]
    NotOwner(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A new invitation and its link's secret, shown once (`/invite/<secret>`).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct NewInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The page the invited person opens: `/invite/<secret>`. Shown only now.
    pub link: String,
}

/// Whether `account` may manage `org`'s team.
pub async fn require_owner(
    db: &Db,
    account: AccountId,
    org: OrgId,
    what: &'static str,
) -> Result<(), TeamError> {
    match db.role_in(account, org).await?.as_deref() {
        Some("owner") => Ok(()),
        _ => Err(TeamError::NotOwner(what)),
    }
}

/// Invites `email` into `org` with `role`; `by` must be an owner.
pub async fn invite(
    db: &Db,
    org: OrgId,
    by: AccountId,
    email: &str,
    role: &str,
) -> Result<NewInvitation, TeamError> {
    require_owner(db, by, org, "invite people").await?;
    let email = normalize_email(email).map_err(|m| TeamError::Invalid(format!("email: {m}")))?;
    if !ROLES.contains(&role) {
        return Err(TeamError::Invalid(format!("role: `{role}` is not one of {}", ROLES.join(", "))));
    }
    if db.members(org).await?.iter().any(|m| m.email == email) {
        return Err(TeamError::Invalid(format!("email: {email} is already a member")));
    }
    let secret = new_secret("");
    let invitation = db
        .create_invitation(&secret_hash(&secret), org, &email, role, by, now_ms() + INVITATION_TTL_MS)
        .await?;
    Ok(NewInvitation { invitation, link: format!("/invite/{secret}") })
}

/// Whom a pending invitation is for (the accept page shows it).
pub async fn invitation_for(db: &Db, secret: &str) -> Result<(OrgId, String, String), TeamError> {
    let pending = db.pending_invitation(&secret_hash(secret)).await?.ok_or(TeamError::NoInvitation)?;
    Ok((pending.org, pending.email, pending.role))
}

/// Who accepts an invitation: an account that exists, or a new one with this password hash.
enum Joiner {
    Existing(AccountId),
    New(String),
}

/// Accepts an invitation: creates the invited account with `password`, or, when an account
/// with that email exists, checks `password` against it; then adds the membership. The link
/// is used up only once the password is right, so a typo does not cost it.
pub async fn accept(db: &Db, secret: &str, password: &str) -> Result<(AccountId, OrgId), TeamError> {
    let hash = secret_hash(secret);
    let pending = db.pending_invitation(&hash).await?.ok_or(TeamError::NoInvitation)?;
    let existing = db.account_by_email(&pending.email).await?;
    let joiner = match &existing {
        Some(account) => {
            let (given, stored) = (password.to_string(), account.password_hash.clone());
            let right =
                tokio::task::spawn_blocking(move || verify_password(&given, &stored)).await.unwrap_or(false);
            if !right {
                return Err(TeamError::WrongPassword(format!(
                    "password: {} already has an account; give its password to join",
                    pending.email
                )));
            }
            Joiner::Existing(account.id)
        }
        None => {
            check_strength(password).map_err(|m| TeamError::Invalid(format!("password: {m}")))?;
            let password = password.to_string();
            let hashed = tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| TeamError::Invalid(format!("password: hashing: {e}")))?
                .map_err(|m| TeamError::Invalid(format!("password: {m}")))?;
            Joiner::New(hashed)
        }
    };
    let accepted = db.use_invitation(&hash).await?.ok_or(TeamError::NoInvitation)?;
    let account = match joiner {
        Joiner::Existing(account) => account,
        Joiner::New(hashed) => db.create_account(&accepted.email, &hashed).await?,
    };
    // Joining never demotes: an owner who accepts a member's invitation stays an owner.
    let role = match db.role_in(account, accepted.org).await?.as_deref() {
        Some("owner") => "owner".to_string(),
        _ => accepted.role,
    };
    db.add_membership(account, accepted.org, &role).await?;
    Ok((account, accepted.org))
}

/// Changes `account`'s password after checking the current one; ends its other sessions
/// (`keep` is the session making the change). Returns how many sessions were ended.
pub async fn change_password(
    db: &Db,
    account: AccountId,
    current: &str,
    new: &str,
    keep: Option<i64>,
) -> Result<u64, TeamError> {
    let stored = db.password_hash(account).await?;
    let (given, new_password) = (current.to_string(), new.to_string());
    check_strength(new).map_err(|m| TeamError::Invalid(format!("new_password: {m}")))?;
    if current == new {
        return Err(TeamError::Invalid("new_password: the new password is the current one".into()));
    }
    let hashed = tokio::task::spawn_blocking(move || {
        verify_password(&given, &stored).then(|| hash_password(&new_password))
    })
    .await
    .map_err(|e| TeamError::Invalid(format!("new_password: hashing: {e}")))?;
    let hashed = hashed
        .ok_or_else(|| TeamError::WrongPassword("current_password: not the account's password".into()))?
        .map_err(|m| TeamError::Invalid(format!("new_password: {m}")))?;
    Ok(db.set_password(account, &hashed, keep).await?)
}
