//! An organization's team: its members and roles, the invitations an owner sends (a one-time
//! link per email address, its secret kept only as a SHA-256), and changing a password.
//! Removing a member ends what let it act for the organization at once: sessions and API
//! tokens are only valid while their account is a member (see `db::accounts`).

use super::{Context, Db, DbError, now_ms};
use crate::model::{AccountId, OrgId};
use serde::Serialize;
use sqlx::Row;

/// One member of an organization.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Member {
    pub account: AccountId,
    pub email: String,
    /// `owner` or `member`.
    pub role: String,
    pub since: i64,
}

/// An invitation as listed: never its link.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub invited_by: Option<AccountId>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// An invitation that was just used up: where it lets the new member in, and as whom.
#[derive(Debug, Clone)]
pub struct AcceptedInvitation {
    pub org: OrgId,
    pub email: String,
    pub role: String,
}

impl Db {
    /// The organization's members, owners first, then by how long they have been members.
    pub async fn members(&self, org: OrgId) -> Result<Vec<Member>, DbError> {
        let rows = sqlx::query(
            "SELECT m.account_id, a.email, m.role, m.created_at FROM memberships m \
             JOIN accounts a ON a.id = m.account_id WHERE m.org_id = $1 \
             ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.created_at, m.account_id",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing the members of organization {org}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || format!("reading a member of organization {org}");
                Ok(Member {
                    account: AccountId(r.try_get("account_id").context(ctx)?),
                    email: r.try_get("email").context(ctx)?,
                    role: r.try_get("role").context(ctx)?,
                    since: r.try_get("created_at").context(ctx)?,
                })
            })
            .collect()
    }

    /// The account's role in the organization, if it is a member.
    pub async fn role_in(&self, account: AccountId, org: OrgId) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT role FROM memberships WHERE account_id = $1 AND org_id = $2")
            .bind(account.0)
            .bind(org.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading the role of account {account} in organization {org}"))?;
        row.map(|r| r.try_get("role")).transpose().context(|| "reading a role".into())
    }

    /// Removes `account` from `org`, unless it is the organization's last owner (a conflict:
    /// someone must be able to invite and remove). One statement, so two owners removing each
    /// other at once cannot leave none.
    pub async fn remove_member(&self, org: OrgId, account: AccountId) -> Result<(), DbError> {
        let removed = sqlx::query(
            "DELETE FROM memberships WHERE org_id = $1 AND account_id = $2 AND (role <> 'owner' OR \
             (SELECT COUNT(*) FROM memberships o WHERE o.org_id = $1 AND o.role = 'owner') > 1)",
        )
        .bind(org.0)
        .bind(account.0)
        .execute(self.pool())
        .await
        .context(|| format!("removing account {account} from organization {org}"))?
        .rows_affected();
        if removed == 1 {
            return Ok(());
        }
        match self.role_in(account, org).await? {
            None => Err(DbError::NotFound(format!("member {account}"))),
            Some(_) => Err(DbError::Conflict(format!(
                "account {account} is the organization's last owner: make another member an owner \
                 (invite one with the owner role) before removing it"
            ))),
        }
    }

    pub async fn create_invitation(
        &self,
        token_hash: &str,
        org: OrgId,
        email: &str,
        role: &str,
        invited_by: AccountId,
        expires_at: i64,
    ) -> Result<Invitation, DbError> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO invitations (token_hash, org_id, email, role, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(token_hash)
        .bind(org.0)
        .bind(email)
        .bind(role)
        .bind(invited_by.0)
        .bind(now)
        .bind(expires_at)
        .fetch_one(self.pool())
        .await
        .context(|| format!("inviting {email} to organization {org}"))?;
        Ok(Invitation {
            id: row.try_get("id").context(|| "reading an invitation id".into())?,
            email: email.to_string(),
            role: role.to_string(),
            invited_by: Some(invited_by),
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
        })
    }

    /// The organization's invitations, newest first (used, revoked and expired ones too).
    pub async fn invitations(&self, org: OrgId) -> Result<Vec<Invitation>, DbError> {
        let rows = sqlx::query(
            "SELECT id, email, role, invited_by, created_at, expires_at, used_at, revoked_at \
             FROM invitations WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing the invitations of organization {org}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || format!("reading an invitation of organization {org}");
                Ok(Invitation {
                    id: r.try_get("id").context(ctx)?,
                    email: r.try_get("email").context(ctx)?,
                    role: r.try_get("role").context(ctx)?,
                    invited_by: r.try_get::<Option<i64>, _>("invited_by").context(ctx)?.map(AccountId),
                    created_at: r.try_get("created_at").context(ctx)?,
                    expires_at: r.try_get("expires_at").context(ctx)?,
                    used_at: r.try_get("used_at").context(ctx)?,
                    revoked_at: r.try_get("revoked_at").context(ctx)?,
                })
            })
            .collect()
    }

    /// Revokes an unused invitation of `org`; unknown (or another organization's) is not found,
    /// an already used one a conflict.
    pub async fn revoke_invitation(&self, org: OrgId, id: i64) -> Result<(), DbError> {
        let revoked = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND used_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .bind(org.0)
        .execute(self.pool())
        .await
        .context(|| format!("revoking invitation {id}"))?
        .rows_affected();
        if revoked == 1 {
            return Ok(());
        }
        let exists = sqlx::query("SELECT 1 AS one FROM invitations WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading invitation {id}"))?;
        match exists {
            None => Err(DbError::NotFound(format!("invitation {id}"))),
            Some(_) => Err(DbError::Conflict(format!("invitation {id} was already accepted"))),
        }
    }

    /// The unused, unrevoked, unexpired invitation whose secret hashes to `token_hash`,
    /// without using it (the accept page shows whom it is for).
    pub async fn pending_invitation(&self, token_hash: &str) -> Result<Option<AcceptedInvitation>, DbError> {
        let row = sqlx::query(
            "SELECT org_id, email, role FROM invitations WHERE token_hash = $1 AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await
        .context(|| "reading an invitation".into())?;
        row.map(|r| accepted(&r)).transpose()
    }

    /// Marks the pending invitation used and returns it; `None` when there is no such
    /// invitation (unknown, used, revoked or expired). One statement, so two requests with
    /// one link cannot both use it.
    pub async fn use_invitation(&self, token_hash: &str) -> Result<Option<AcceptedInvitation>, DbError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $1 RETURNING org_id, email, role",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .context(|| "using an invitation".into())?;
        row.map(|r| accepted(&r)).transpose()
    }

    /// The account's password hash (Argon2id PHC string).
    pub async fn password_hash(&self, account: AccountId) -> Result<String, DbError> {
        let row = sqlx::query("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(account.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading account {account}"))?
            .ok_or_else(|| DbError::NotFound(format!("account {account}")))?;
        row.try_get("password_hash").context(|| format!("reading account {account}"))
    }

    /// Replaces the account's password hash and ends every other session of the account
    /// (`keep`, the session that changed it, stays).
    pub async fn set_password(
        &self,
        account: AccountId,
        password_hash: &str,
        keep: Option<i64>,
    ) -> Result<u64, DbError> {
        let mut tx = self.pool().begin().await.context(|| "starting a password change".into())?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(account.0)
            .execute(&mut *tx)
            .await
            .context(|| format!("changing the password of account {account}"))?;
        let ended = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id <> $2")
            .bind(account.0)
            .bind(keep.unwrap_or(-1))
            .execute(&mut *tx)
            .await
            .context(|| format!("ending the other sessions of account {account}"))?
            .rows_affected();
        tx.commit().await.context(|| "committing a password change".into())?;
        Ok(ended)
    }
}

fn accepted(r: &sqlx::any::AnyRow) -> Result<AcceptedInvitation, DbError> {
    let ctx = || "reading an invitation".to_string();
    Ok(AcceptedInvitation {
        org: OrgId(r.try_get("org_id").context(ctx)?),
        email: r.try_get("email").context(ctx)?,
        role: r.try_get("role").context(ctx)?,
    })
}
