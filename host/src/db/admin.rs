//! What the admin shows that no sync flow needs: the organization's name and a rule's
//! version history.

use super::{Context, Db, DbError};
use crate::model::{ChannelId, OrgId};
use crate::rules::RuleKind;
use serde::Serialize;
use sqlx::Row;

/// One stored version of a rule.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RuleVersion {
    pub version: i64,
    pub hash: String,
    pub active: bool,
    pub created_at: i64,
    pub source: String,
}

impl Db {
    /// The organization's name; NotFound when it does not exist.
    pub async fn organization_name(&self, org: OrgId) -> Result<String, DbError> {
        let row = sqlx::query("SELECT name FROM organizations WHERE id = $1")
            .bind(org.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading organization {org}"))?;
        let row = row.ok_or_else(|| DbError::NotFound(format!("organization {org}")))?;
        row.try_get("name").context(|| format!("reading organization {org}"))
    }

    /// Every version of the channel's `kind` rule, newest first.
    pub async fn rule_versions(
        &self,
        channel: ChannelId,
        kind: RuleKind,
    ) -> Result<Vec<RuleVersion>, DbError> {
        let rows = sqlx::query(
            "SELECT version, hash, active, created_at, source FROM rules \
             WHERE channel_id = $1 AND kind = $2 ORDER BY version DESC",
        )
        .bind(channel.0)
        .bind(kind.as_str())
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the {} rule versions of channel {channel}", kind.as_str()))?;
        let ctx = || "reading a rule version".to_string();
        rows.iter()
            .map(|row| {
                Ok(RuleVersion {
                    version: row.try_get("version").context(ctx)?,
                    hash: row.try_get("hash").context(ctx)?,
                    active: row.try_get::<i64, _>("active").context(ctx)? != 0,
                    created_at: row.try_get("created_at").context(ctx)?,
                    source: row.try_get("source").context(ctx)?,
                })
            })
            .collect()
    }
}
