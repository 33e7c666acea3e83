//! Versioned rule sources per channel: saving adds a version; one version per kind is
//! active.

use super::{Context, Db, DbError, now_ms};
use crate::model::ChannelId;
use crate::rules::RuleKind;
use crate::rules::script::source_hash;
use sqlx::Row;

/// A stored rule version.
#[derive(Debug, Clone)]
pub struct RuleRow {
    pub channel_id: ChannelId,
    pub kind: RuleKind,
    pub version: i64,
    pub source: String,
    pub hash: String,
}

impl Db {
    /// Stores `source` as the next version of the channel's `kind` rule and makes it the
    /// active one. Saving the same source as the active version is a no-op.
    pub async fn save_rule(
        &self,
        channel: ChannelId,
        kind: RuleKind,
        source: &str,
    ) -> Result<RuleRow, DbError> {
        let hash = source_hash(source);
        if let Some(active) = self.active_rule(channel, kind).await?
            && active.hash == hash
        {
            return Ok(active);
        }
        let mut tx = self.pool().begin().await.context(|| "starting a rule save".into())?;
        let row = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) AS v FROM rules WHERE channel_id = $1 AND kind = $2",
        )
        .bind(channel.0)
        .bind(kind.as_str())
        .fetch_one(&mut *tx)
        .await
        .context(|| format!("reading rule versions of channel {channel}"))?;
        let version: i64 = row.try_get::<i64, _>("v").context(|| "reading rule version".into())? + 1;
        sqlx::query("UPDATE rules SET active = 0 WHERE channel_id = $1 AND kind = $2")
            .bind(channel.0)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await
            .context(|| "deactivating the previous rule".into())?;
        sqlx::query(
            "INSERT INTO rules (channel_id, kind, version, source, hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(channel.0)
        .bind(kind.as_str())
        .bind(version)
        .bind(source)
        .bind(&hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context(|| format!("saving {} rule v{version} of channel {channel}", kind.as_str()))?;
        // Every pair of the channel is recomputed with the new version.
        sqlx::query("UPDATE channels SET inputs_version = inputs_version + 1 WHERE id = $1")
            .bind(channel.0)
            .execute(&mut *tx)
            .await
            .context(|| format!("marking channel {channel} out of date"))?;
        tx.commit().await.context(|| "committing the rule".into())?;
        Ok(RuleRow { channel_id: channel, kind, version, source: source.to_string(), hash })
    }

    pub async fn active_rule(&self, channel: ChannelId, kind: RuleKind) -> Result<Option<RuleRow>, DbError> {
        let row = sqlx::query(
            "SELECT version, source, hash FROM rules WHERE channel_id = $1 AND kind = $2 AND active = 1",
        )
        .bind(channel.0)
        .bind(kind.as_str())
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading the {} rule of channel {channel}", kind.as_str()))?;
        let Some(row) = row else { return Ok(None) };
        let ctx = || "reading rule".to_string();
        Ok(Some(RuleRow {
            channel_id: channel,
            kind,
            version: row.try_get("version").context(ctx)?,
            source: row.try_get("source").context(ctx)?,
            hash: row.try_get("hash").context(ctx)?,
        }))
    }
}
