//! Pending authorizations: a connection being made through a platform's own authorization,
//! from the moment the merchant's browser is sent to the platform until the callback takes
//! it. Found by the hash of its `state`; taken at most once.

use super::{Context, Db, DbError, now_ms};
use crate::model::{AccountId, OrgId};
use sqlx::Row;
use std::collections::BTreeMap;

/// What a pending authorization will connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    pub org: OrgId,
    pub plugin_id: String,
    /// `store` or `channel`.
    pub role: String,
    pub name: String,
    /// The merchant's inputs given at the start.
    pub settings: BTreeMap<String, String>,
}

/// What taking a pending authorization found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// It was there, unused and unexpired: it is used now.
    Fresh(PendingAuthorization),
    /// No such state (or one of another organization: the caller cannot tell them apart).
    Unknown,
    /// The callback already came.
    Used,
    /// Its time ran out before the callback came.
    Expired,
}

impl Db {
    /// Keeps a new pending authorization until `expires_at` (ms).
    pub async fn create_pending_authorization(
        &self,
        state_hash: &str,
        account: AccountId,
        pending: &PendingAuthorization,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let settings = serde_json::to_string(&pending.settings).unwrap_or_else(|_| "{}".into());
        sqlx::query(
            "INSERT INTO pending_authorizations \
             (state_hash, org_id, account_id, plugin_id, role, name, settings, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(state_hash)
        .bind(pending.org.0)
        .bind(account.0)
        .bind(&pending.plugin_id)
        .bind(&pending.role)
        .bind(&pending.name)
        .bind(settings)
        .bind(now_ms())
        .bind(expires_at)
        .execute(self.pool())
        .await
        .context(|| format!("starting an authorization of {} `{}`", pending.role, pending.name))?;
        Ok(())
    }

    /// Takes the pending authorization of `state_hash` for `org`, marking it used in the same
    /// statement so two callbacks with one state cannot both take it; expired rows (a day
    /// past their expiry) are pruned on the way.
    pub async fn take_pending_authorization(&self, state_hash: &str, org: OrgId) -> Result<Taken, DbError> {
        let now = now_ms();
        let ctx = || "reading a pending authorization".to_string();
        sqlx::query("DELETE FROM pending_authorizations WHERE expires_at < $1")
            .bind(now - 24 * 60 * 60 * 1000)
            .execute(self.pool())
            .await
            .context(ctx)?;
        let row = sqlx::query(
            "SELECT id, plugin_id, role, name, settings, expires_at, used_at FROM pending_authorizations \
             WHERE state_hash = $1 AND org_id = $2",
        )
        .bind(state_hash)
        .bind(org.0)
        .fetch_optional(self.pool())
        .await
        .context(ctx)?;
        let Some(row) = row else { return Ok(Taken::Unknown) };
        let id: i64 = row.try_get("id").context(ctx)?;
        if row.try_get::<Option<i64>, _>("used_at").context(ctx)?.is_some() {
            return Ok(Taken::Used);
        }
        if row.try_get::<i64, _>("expires_at").context(ctx)? <= now {
            return Ok(Taken::Expired);
        }
        let taken =
            sqlx::query("UPDATE pending_authorizations SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await
                .context(ctx)?;
        if taken.rows_affected() == 0 {
            return Ok(Taken::Used);
        }
        let settings: String = row.try_get("settings").context(ctx)?;
        Ok(Taken::Fresh(PendingAuthorization {
            org,
            plugin_id: row.try_get("plugin_id").context(ctx)?,
            role: row.try_get("role").context(ctx)?,
            name: row.try_get("name").context(ctx)?,
            settings: serde_json::from_str(&settings)
                .map_err(|e| DbError::Corrupt(format!("pending authorization {id} settings: {e}")))?,
        }))
    }
}
