//! Making accounts: the first one of an organization (`crossdock account create`, the setup
//! link `serve` prints, the demo's), with the password checked and hashed.

use super::password::{check_strength, hash_password};
use super::token::create_setup_link;
use crate::db::{Db, DbError};
use crate::model::{AccountId, OrgId};

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("email: {0}")]
    Email(String),
    #[error("password: {0}")]
    Password(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates an account with `password` and makes it an owner of `org`.
pub async fn create_owner(
    db: &Db,
    org: OrgId,
    email: &str,
    password: &str,
) -> Result<AccountId, AccountError> {
    let email = super::normalize_email(email).map_err(AccountError::Email)?;
    check_strength(password).map_err(AccountError::Password)?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Password(format!("hashing: {e}")))?
        .map_err(AccountError::Password)?;
    let account = db.create_account(&email, &hash).await?;
    db.add_membership(account, org, "owner").await?;
    Ok(account)
}

/// A setup link secret when `org` has no account yet (`serve` prints `/setup/<secret>`).
pub async fn setup_link_if_unclaimed(db: &Db, org: OrgId) -> Result<Option<String>, DbError> {
    if db.member_count(org).await? > 0 {
        return Ok(None);
    }
    Ok(Some(create_setup_link(db, org).await?))
}
