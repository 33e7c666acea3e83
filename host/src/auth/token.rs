//! API tokens (a program's credential for one organization: shown once, stored hashed,
//! named, revocable) and one-time setup links (create an organization's first account).

use super::{new_secret, secret_hash};
use crate::db::{Db, DbError, now_ms};
use crate::model::{AccountId, OrgId};

/// Every API token starts with this, so a leaked one is recognizable (secret scanners).
pub const TOKEN_PREFIX: &str = "cdk_";
/// How long a setup link stays valid when unused.
pub const SETUP_LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// A token just made: `token` is its only appearance in clear.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub organization: OrgId,
    pub token: String,
}

/// Makes a token for `account` acting for `org`; the caller shows `token` once.
pub async fn create_api_token(
    db: &Db,
    account: AccountId,
    org: OrgId,
    name: &str,
) -> Result<NewToken, DbError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DbError::Invalid("name: give the token a name of 1 to 100 characters".into()));
    }
    let token = new_secret(TOKEN_PREFIX);
    let id = db.create_api_token(&secret_hash(&token), account, org, name).await?;
    Ok(NewToken { id, name: name.to_string(), organization: org, token })
}

/// Makes a setup link secret for `org`, valid for a day or until used; the caller prints
/// `/setup/<secret>`.
pub async fn create_setup_link(db: &Db, org: OrgId) -> Result<String, DbError> {
    let secret = new_secret("");
    db.create_setup_link(&secret_hash(&secret), org, now_ms() + SETUP_LINK_TTL_MS).await?;
    Ok(secret)
}
