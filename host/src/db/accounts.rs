//! Accounts, their memberships in organizations, and what proves a caller is one of them:
//! sessions (browsers), API tokens (programs) and one-time setup links. Secrets are looked up
//! by their SHA-256 (see `auth::secret`); the clear values never reach the database.

use super::{Context, Db, DbError, is_unique_violation, now_ms};
use crate::model::{AccountId, OrgId};
use serde::Serialize;
use sqlx::Row;

/// An account as the login check needs it.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub email: String,
    pub password_hash: String,
}

/// One organization an account may act for.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Membership {
    pub organization: OrgId,
    pub name: String,
    pub role: String,
}

/// A live session, found by its token's hash.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    pub account: AccountId,
    pub org: OrgId,
    pub csrf_token: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

/// An API token, found by its hash while its account is still a member of its organization
/// (revoked ones too: the caller checks `revoked`).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub account: AccountId,
    pub org: OrgId,
    pub revoked: bool,
    pub last_used_at: Option<i64>,
}

/// An API token as listed: never its value.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub account: AccountId,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Db {
    /// Creates an account; a taken email is a conflict.
    pub async fn create_account(&self, email: &str, password_hash: &str) -> Result<AccountId, DbError> {
        let row = sqlx::query(
            "INSERT INTO accounts (email, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(email)
        .bind(password_hash)
        .bind(now_ms())
        .fetch_one(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DbError::Conflict(format!("an account with email {email} already exists"))
            } else {
                DbError::Sqlx { context: format!("creating account {email}"), source: e }
            }
        })?;
        Ok(AccountId(row.try_get("id").context(|| "reading account id".into())?))
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<AccountRow>, DbError> {
        let row = sqlx::query("SELECT id, email, password_hash FROM accounts WHERE email = $1")
            .bind(email)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading account {email}"))?;
        row.map(|r| {
            let ctx = || format!("reading account {email}");
            Ok(AccountRow {
                id: AccountId(r.try_get("id").context(ctx)?),
                email: r.try_get("email").context(ctx)?,
                password_hash: r.try_get("password_hash").context(ctx)?,
            })
        })
        .transpose()
    }

    /// The account's email.
    pub async fn account_email(&self, id: AccountId) -> Result<String, DbError> {
        let row = sqlx::query("SELECT email FROM accounts WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading account {id}"))?
            .ok_or_else(|| DbError::NotFound(format!("account {id}")))?;
        row.try_get("email").context(|| format!("reading account {id}"))
    }

    /// How many accounts may act for `org` (none: `serve` offers a setup link).
    pub async fn member_count(&self, org: OrgId) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE org_id = $1")
            .bind(org.0)
            .fetch_one(self.pool())
            .await
            .context(|| format!("counting members of organization {org}"))?;
        row.try_get("n").context(|| "reading member count".into())
    }

    /// Lets `account` act for `org` (again: the role is updated).
    pub async fn add_membership(&self, account: AccountId, org: OrgId, role: &str) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO memberships (account_id, org_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, org_id) DO UPDATE SET role = excluded.role",
        )
        .bind(account.0)
        .bind(org.0)
        .bind(role)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context(|| format!("adding account {account} to organization {org}"))?;
        Ok(())
    }

    /// The organizations `account` may act for, oldest membership first.
    pub async fn memberships(&self, account: AccountId) -> Result<Vec<Membership>, DbError> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
             WHERE m.account_id = $1 ORDER BY m.created_at, m.org_id",
        )
        .bind(account.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing memberships of account {account}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || format!("reading membership of account {account}");
                Ok(Membership {
                    organization: OrgId(r.try_get("org_id").context(ctx)?),
                    name: r.try_get("name").context(ctx)?,
                    role: r.try_get("role").context(ctx)?,
                })
            })
            .collect()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        account: AccountId,
        org: OrgId,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let now = now_ms();
        // Expired sessions go as new ones come, so the table stays the size of the live ones.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await
            .context(|| "deleting expired sessions".into())?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, org_id, csrf_token, created_at, expires_at, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $5)",
        )
        .bind(token_hash)
        .bind(account.0)
        .bind(org.0)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await
        .context(|| format!("creating a session for account {account}"))?;
        Ok(())
    }

    /// The unexpired session whose token hashes to `token_hash`, while its account is still a
    /// member of the session's organization.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, account_id, org_id, csrf_token, expires_at, last_seen_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2 AND EXISTS (SELECT 1 FROM memberships m \
             WHERE m.account_id = sessions.account_id AND m.org_id = sessions.org_id)",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await
        .context(|| "reading a session".into())?;
        row.map(|r| {
            let ctx = || "reading a session".to_string();
            Ok(SessionRow {
                id: r.try_get("id").context(ctx)?,
                account: AccountId(r.try_get("account_id").context(ctx)?),
                org: OrgId(r.try_get("org_id").context(ctx)?),
                csrf_token: r.try_get("csrf_token").context(ctx)?,
                expires_at: r.try_get("expires_at").context(ctx)?,
                last_seen_at: r.try_get("last_seen_at").context(ctx)?,
            })
        })
        .transpose()
    }

    pub async fn touch_session(&self, id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await
            .context(|| format!("touching session {id}"))?;
        Ok(())
    }

    /// Points the session at another of its account's organizations.
    pub async fn set_session_org(&self, id: i64, org: OrgId) -> Result<(), DbError> {
        sqlx::query("UPDATE sessions SET org_id = $1 WHERE id = $2")
            .bind(org.0)
            .bind(id)
            .execute(self.pool())
            .await
            .context(|| format!("switching session {id} to organization {org}"))?;
        Ok(())
    }

    /// Ends a session (logout); expired sessions go with it.
    pub async fn delete_session(&self, id: i64) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1 OR expires_at <= $2")
            .bind(id)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .context(|| format!("deleting session {id}"))?;
        Ok(())
    }

    pub async fn create_api_token(
        &self,
        token_hash: &str,
        account: AccountId,
        org: OrgId,
        name: &str,
    ) -> Result<i64, DbError> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (token_hash, account_id, org_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash)
        .bind(account.0)
        .bind(org.0)
        .bind(name)
        .bind(now_ms())
        .fetch_one(self.pool())
        .await
        .context(|| format!("creating API token `{name}` of account {account}"))?;
        row.try_get("id").context(|| "reading API token id".into())
    }

    pub async fn api_token(&self, token_hash: &str) -> Result<Option<TokenRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, account_id, org_id, revoked_at, last_used_at FROM api_tokens WHERE token_hash = $1 \
             AND EXISTS (SELECT 1 FROM memberships m \
             WHERE m.account_id = api_tokens.account_id AND m.org_id = api_tokens.org_id)",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .context(|| "reading an API token".into())?;
        row.map(|r| {
            let ctx = || "reading an API token".to_string();
            Ok(TokenRow {
                id: r.try_get("id").context(ctx)?,
                account: AccountId(r.try_get("account_id").context(ctx)?),
                org: OrgId(r.try_get("org_id").context(ctx)?),
                revoked: r.try_get::<Option<i64>, _>("revoked_at").context(ctx)?.is_some(),
                last_used_at: r.try_get("last_used_at").context(ctx)?,
            })
        })
        .transpose()
    }

    pub async fn touch_api_token(&self, id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await
            .context(|| format!("touching API token {id}"))?;
        Ok(())
    }

    /// The organization's API tokens, newest first (revoked ones too, marked).
    pub async fn api_tokens(&self, org: OrgId) -> Result<Vec<TokenView>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, account_id, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE org_id = $1 ORDER BY id DESC",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing API tokens of organization {org}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || format!("reading an API token of organization {org}");
                Ok(TokenView {
                    id: r.try_get("id").context(ctx)?,
                    name: r.try_get("name").context(ctx)?,
                    account: AccountId(r.try_get("account_id").context(ctx)?),
                    created_at: r.try_get("created_at").context(ctx)?,
                    last_used_at: r.try_get("last_used_at").context(ctx)?,
                    revoked_at: r.try_get("revoked_at").context(ctx)?,
                })
            })
            .collect()
    }

    /// Revokes the organization's token `id`; a token of another organization is not found.
    pub async fn revoke_api_token(&self, org: OrgId, id: i64) -> Result<(), DbError> {
        let result = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND org_id = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(org.0)
        .execute(self.pool())
        .await
        .context(|| format!("revoking API token {id}"))?;
        if result.rows_affected() == 0 {
            return Err(DbError::NotFound(format!("API token {id}")));
        }
        Ok(())
    }

    pub async fn create_setup_link(
        &self,
        token_hash: &str,
        org: OrgId,
        expires_at: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO setup_links (token_hash, org_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(org.0)
        .bind(now_ms())
        .bind(expires_at)
        .execute(self.pool())
        .await
        .context(|| format!("creating a setup link for organization {org}"))?;
        Ok(())
    }

    /// Marks the unused, unexpired setup link as used and returns its organization; `None`
    /// when there is no such link (unknown, used or expired). One statement, so two requests
    /// with one link cannot both use it.
    pub async fn use_setup_link(&self, token_hash: &str) -> Result<Option<OrgId>, DbError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE setup_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND expires_at > $1 RETURNING org_id",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .context(|| "using a setup link".into())?;
        row.map(|r| r.try_get("org_id").map(OrgId)).transpose().context(|| "reading a setup link".into())
    }
}

impl Db {
    /// The organization's oldest member (the account `token create` defaults to).
    pub async fn first_member(&self, org: OrgId) -> Result<Option<AccountId>, DbError> {
        let row = sqlx::query(
            "SELECT account_id FROM memberships WHERE org_id = $1 ORDER BY created_at, account_id LIMIT 1",
        )
        .bind(org.0)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading the members of organization {org}"))?;
        row.map(|r| r.try_get("account_id").map(AccountId)).transpose().context(|| "reading a member".into())
    }
}
