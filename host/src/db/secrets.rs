//! Connection secrets at rest: one `connection_secrets` row per (connection, name), the value
//! sealed by the host's cipher to that connection and name, so the database never holds a
//! token in plaintext and a sealed value copied elsewhere does not open. Each row also keeps
//! the value the operator last gave, so re-applying an unchanged configuration keeps a value
//! the connector has since rotated, while a changed configuration replaces it.

use super::{Backend, Context, Db, DbError, now_ms};
use crate::connectors::ConnectionSettings;
use crate::connectors::secret_sink::{KeepFuture, SecretSink};
use crate::model::{ChannelId, OrgId, StoreId};
use crate::secrets::{KeyOrigin, OpenError, SecretCipher, SecretError, SecretKey};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The connection a secret belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretOwner {
    Store(StoreId),
    Channel(ChannelId),
}

impl fmt::Display for SecretOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretOwner::Store(id) => write!(f, "store {id}"),
            SecretOwner::Channel(id) => write!(f, "channel {id}"),
        }
    }
}

/// Which of a row's two sealed values.
#[derive(Clone, Copy)]
enum Role {
    /// The value in use.
    Value,
    /// The value the operator last gave.
    Given,
}

impl SecretOwner {
    /// The associated data a value is sealed with: the connection, the role and the name
    /// (last, so the parts cannot be confused).
    fn place(self, role: Role, name: &str) -> Vec<u8> {
        let role = match role {
            Role::Value => "value",
            Role::Given => "given",
        };
        let (kind, id) = match self {
            SecretOwner::Store(id) => ("store", id.0),
            SecretOwner::Channel(id) => ("channel", id.0),
        };
        format!("crossdock/connection-secret/{kind}/{id}/{role}/{name}").into_bytes()
    }

    /// Picks the statement written for this owner's column, and binds its id.
    fn sql(self, store: &'static str, channel: &'static str) -> (&'static str, i64) {
        match self {
            SecretOwner::Store(id) => (store, id.0),
            SecretOwner::Channel(id) => (channel, id.0),
        }
    }

    fn from_row(row: &AnyRow) -> Result<Self, DbError> {
        let ctx = || "reading a connection secret".to_string();
        let store: Option<i64> = row.try_get("store_id").context(ctx)?;
        let channel: Option<i64> = row.try_get("channel_id").context(ctx)?;
        match (store, channel) {
            (Some(id), None) => Ok(SecretOwner::Store(StoreId(id))),
            (None, Some(id)) => Ok(SecretOwner::Channel(ChannelId(id))),
            _ => Err(DbError::Corrupt("a connection secret belongs to no single connection".into())),
        }
    }
}

/// One stored secret, opened. `Debug` shows the name only.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretEntry {
    pub name: String,
    pub value: String,
    /// What the operator last gave; `None` when the connector made the secret.
    pub given: Option<String>,
}

impl fmt::Debug for SecretEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretEntry").field("name", &self.name).finish_non_exhaustive()
    }
}

/// What re-applying the operator's settings to a stored connection changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionUpdate {
    /// What the connection uses afterwards: the configured settings and allowed hosts, and
    /// for each secret the configured value, or the stored one when the operator's value is
    /// the one last given (the connector may have rotated it since).
    pub settings: ConnectionSettings,
    /// Secrets written as the operator's: value and given value both.
    pub given: Vec<String>,
    /// Secrets the operator gave before and no longer configures.
    pub removed: Vec<String>,
    /// Whether what the connector uses changes, so the platform should check it again.
    pub credentials_changed: bool,
}

impl ConnectionUpdate {
    /// Compares the configuration with the stored connection (`stored` holds its plain
    /// settings, `entries` its secrets).
    pub fn plan(
        stored: &ConnectionSettings,
        entries: &[SecretEntry],
        configured: &ConnectionSettings,
    ) -> Self {
        let mut settings = ConnectionSettings { secrets: BTreeMap::new(), ..configured.clone() };
        let mut given = Vec::new();
        for (name, value) in &configured.secrets {
            let entry = entries.iter().find(|e| &e.name == name);
            match entry {
                Some(entry) if entry.given.as_ref() == Some(value) => {
                    settings.secrets.insert(name.clone(), entry.value.clone());
                }
                _ => {
                    settings.secrets.insert(name.clone(), value.clone());
                    given.push(name.clone());
                }
            }
        }
        let mut removed = Vec::new();
        for entry in entries.iter().filter(|e| !configured.secrets.contains_key(&e.name)) {
            if entry.given.is_some() {
                removed.push(entry.name.clone());
            } else {
                settings.secrets.insert(entry.name.clone(), entry.value.clone());
            }
        }
        let current = ConnectionSettings {
            secrets: entries.iter().map(|e| (e.name.clone(), e.value.clone())).collect(),
            ..stored.clone()
        };
        let credentials_changed = settings != current;
        ConnectionUpdate { settings, given, removed, credentials_changed }
    }

    /// Whether nothing is to be written.
    pub fn is_empty(&self) -> bool {
        !self.credentials_changed && self.given.is_empty() && self.removed.is_empty()
    }
}

/// The settings JSON kept in a connection's row: everything but the secrets.
pub(crate) fn plain_settings_json(settings: &ConnectionSettings) -> String {
    let plain = ConnectionSettings { secrets: BTreeMap::new(), ..settings.clone() };
    serde_json::to_string(&plain).unwrap_or_else(|_| "{}".to_string())
}

impl Db {
    fn open_error(&self, owner: SecretOwner, name: &str, error: OpenError) -> DbError {
        let owner_text = owner.to_string();
        DbError::Secret(match (error, self.cipher.origin()) {
            (OpenError::Malformed, _) => SecretError::Malformed { owner: owner_text, name: name.to_string() },
            (OpenError::Inauthentic, KeyOrigin::NewFile(path)) => {
                SecretError::LostKeyFile { owner: owner_text, path: path.clone() }
            }
            (OpenError::Inauthentic, origin) => {
                SecretError::WrongKey { owner: owner_text, origin: origin.clone() }
            }
        })
    }

    fn open(&self, owner: SecretOwner, role: Role, name: &str, sealed: &str) -> Result<String, DbError> {
        self.cipher.open(&owner.place(role, name), sealed).map_err(|e| self.open_error(owner, name, e))
    }

    fn seal(&self, owner: SecretOwner, role: Role, name: &str, value: &str) -> Result<String, DbError> {
        Ok(self.cipher.seal(&owner.place(role, name), value)?)
    }

    /// The secrets of one connection, decrypted, with what the operator last gave.
    pub async fn secret_entries(&self, owner: SecretOwner) -> Result<Vec<SecretEntry>, DbError> {
        let (sql, id) = owner.sql(
            "SELECT name, value_encrypted, given_encrypted FROM connection_secrets \
             WHERE store_id = $1 ORDER BY name",
            "SELECT name, value_encrypted, given_encrypted FROM connection_secrets \
             WHERE channel_id = $1 ORDER BY name",
        );
        let rows = sqlx::query(sql)
            .bind(id)
            .fetch_all(self.pool())
            .await
            .context(|| format!("reading the secrets of {owner}"))?;
        rows.iter()
            .map(|row| {
                let ctx = || format!("reading the secrets of {owner}");
                let name: String = row.try_get("name").context(ctx)?;
                let value: String = row.try_get("value_encrypted").context(ctx)?;
                let given: Option<String> = row.try_get("given_encrypted").context(ctx)?;
                Ok(SecretEntry {
                    value: self.open(owner, Role::Value, &name, &value)?,
                    given: given.map(|g| self.open(owner, Role::Given, &name, &g)).transpose()?,
                    name,
                })
            })
            .collect()
    }

    /// The secrets of one connection, decrypted: what its connector reads.
    pub async fn secrets_of(&self, owner: SecretOwner) -> Result<BTreeMap<String, String>, DbError> {
        Ok(self.secret_entries(owner).await?.into_iter().map(|e| (e.name, e.value)).collect())
    }

    /// The secrets of every channel of the organization, decrypted, in one read.
    pub(crate) async fn channel_secrets_of_org(
        &self,
        org: OrgId,
    ) -> Result<HashMap<ChannelId, BTreeMap<String, String>>, DbError> {
        let rows = sqlx::query(
            "SELECT s.channel_id, s.name, s.value_encrypted FROM connection_secrets s \
             JOIN channels c ON c.id = s.channel_id WHERE c.org_id = $1",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the channel secrets of organization {org}"))?;
        let mut secrets: HashMap<ChannelId, BTreeMap<String, String>> = HashMap::new();
        for row in &rows {
            let ctx = || "reading a channel secret".to_string();
            let channel = ChannelId(row.try_get("channel_id").context(ctx)?);
            let name: String = row.try_get("name").context(ctx)?;
            let sealed: String = row.try_get("value_encrypted").context(ctx)?;
            let value = self.open(SecretOwner::Channel(channel), Role::Value, &name, &sealed)?;
            secrets.entry(channel).or_default().insert(name, value);
        }
        Ok(secrets)
    }

    /// Writes secrets as the operator gave them (value and given value), inside the caller's
    /// transaction so that a connection is never stored without its secrets.
    pub(crate) async fn put_given_secrets(
        &self,
        conn: &mut AnyConnection,
        owner: SecretOwner,
        secrets: &BTreeMap<String, String>,
    ) -> Result<(), DbError> {
        let (sql, id) = owner.sql(
            "INSERT INTO connection_secrets (store_id, name, value_encrypted, given_encrypted, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store_id, name) DO UPDATE SET \
             value_encrypted = excluded.value_encrypted, given_encrypted = excluded.given_encrypted, \
             updated_at = excluded.updated_at",
            "INSERT INTO connection_secrets (channel_id, name, value_encrypted, given_encrypted, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, name) DO UPDATE SET \
             value_encrypted = excluded.value_encrypted, given_encrypted = excluded.given_encrypted, \
             updated_at = excluded.updated_at",
        );
        for (name, value) in secrets {
            sqlx::query(sql)
                .bind(id)
                .bind(name)
                .bind(self.seal(owner, Role::Value, name, value)?)
                .bind(self.seal(owner, Role::Given, name, value)?)
                .bind(now_ms())
                .execute(&mut *conn)
                .await
                .context(|| format!("storing secret `{name}` of {owner}"))?;
        }
        Ok(())
    }

    /// Keeps a secret the connector rotated (a refreshed access token): the next load, in
    /// this process or the next, returns it. What the operator gave stays as it was.
    pub async fn keep_secret(&self, owner: SecretOwner, name: &str, value: &str) -> Result<(), DbError> {
        let (sql, id) = owner.sql(
            "INSERT INTO connection_secrets (store_id, name, value_encrypted, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (store_id, name) DO UPDATE SET \
             value_encrypted = excluded.value_encrypted, updated_at = excluded.updated_at",
            "INSERT INTO connection_secrets (channel_id, name, value_encrypted, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id, name) DO UPDATE SET \
             value_encrypted = excluded.value_encrypted, updated_at = excluded.updated_at",
        );
        sqlx::query(sql)
            .bind(id)
            .bind(name)
            .bind(self.seal(owner, Role::Value, name, value)?)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .context(|| format!("keeping secret `{name}` of {owner}"))?;
        tracing::info!(connection = %owner, secret = name, "kept a rotated secret");
        Ok(())
    }

    /// Writes a planned update: the plain settings, the operator's secrets, the removals —
    /// in one transaction.
    pub async fn update_connection(
        &self,
        owner: SecretOwner,
        update: &ConnectionUpdate,
    ) -> Result<(), DbError> {
        let ctx = || format!("updating the settings of {owner}");
        let mut tx = self.pool().begin().await.context(ctx)?;
        let (sql, id) = owner.sql(
            "UPDATE stores SET settings = $1 WHERE id = $2",
            "UPDATE channels SET settings = $1 WHERE id = $2",
        );
        sqlx::query(sql)
            .bind(plain_settings_json(&update.settings))
            .bind(id)
            .execute(&mut *tx)
            .await
            .context(ctx)?;
        let given: BTreeMap<String, String> = update
            .given
            .iter()
            .filter_map(|name| update.settings.secrets.get(name).map(|v| (name.clone(), v.clone())))
            .collect();
        self.put_given_secrets(&mut tx, owner, &given).await?;
        let (sql, id) = owner.sql(
            "DELETE FROM connection_secrets WHERE store_id = $1 AND name = $2",
            "DELETE FROM connection_secrets WHERE channel_id = $1 AND name = $2",
        );
        for name in &update.removed {
            sqlx::query(sql).bind(id).bind(name).execute(&mut *tx).await.context(ctx)?;
        }
        tx.commit().await.context(ctx)?;
        Ok(())
    }

    /// The one-time upgrade step after migration 0004: moves plaintext secrets still in the
    /// settings JSON of stores and channels into sealed rows, then compacts the tables so the
    /// old plaintext does not linger in free pages. Returns how many connections it sealed.
    pub(crate) async fn seal_plaintext_secrets(&self) -> Result<usize, DbError> {
        let mut sealed = 0;
        for (select, update, kind) in [
            ("SELECT id, settings FROM stores", "UPDATE stores SET settings = $1 WHERE id = $2", "store"),
            (
                "SELECT id, settings FROM channels",
                "UPDATE channels SET settings = $1 WHERE id = $2",
                "channel",
            ),
        ] {
            let rows = sqlx::query(select)
                .fetch_all(self.pool())
                .await
                .context(|| format!("reading {kind} settings to encrypt their secrets"))?;
            for row in &rows {
                let id: i64 = row.try_get("id").context(|| format!("reading {kind} id"))?;
                let owner = match kind {
                    "store" => SecretOwner::Store(StoreId(id)),
                    _ => SecretOwner::Channel(ChannelId(id)),
                };
                let text: String = row.try_get("settings").context(|| format!("reading {owner} settings"))?;
                let settings: ConnectionSettings = serde_json::from_str(&text)
                    .map_err(|e| DbError::Corrupt(format!("{owner} settings: {e}")))?;
                if settings.secrets.is_empty() {
                    continue;
                }
                let ctx = || format!("encrypting the secrets of {owner}");
                let mut tx = self.pool().begin().await.context(ctx)?;
                self.put_given_secrets(&mut tx, owner, &settings.secrets).await?;
                sqlx::query(update)
                    .bind(plain_settings_json(&settings))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .context(ctx)?;
                tx.commit().await.context(ctx)?;
                tracing::info!(connection = %owner, secrets = settings.secrets.len(), "encrypted stored secrets");
                sealed += 1;
            }
        }
        if sealed > 0 {
            let compact = match self.backend() {
                // VACUUM rebuilds the file without the freed pages; the checkpoint empties the
                // write-ahead log, which held the old pages too.
                Backend::Sqlite => "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
                // Rewrites both tables, leaving the dead row versions behind.
                Backend::Postgres => "VACUUM FULL stores, channels",
            };
            sqlx::raw_sql(compact)
                .execute(self.pool())
                .await
                .context(|| "compacting the tables after encrypting secrets".into())?;
        }
        Ok(sealed)
    }

    /// Opens every stored secret once, so a wrong key stops the start with a message naming
    /// the connection instead of failing later, mid-sync.
    pub(crate) async fn check_secrets_open(&self) -> Result<(), DbError> {
        let rows = sqlx::query(
            "SELECT store_id, channel_id, name, value_encrypted, given_encrypted FROM connection_secrets \
             ORDER BY id",
        )
        .fetch_all(self.pool())
        .await
        .context(|| "reading the connection secrets".into())?;
        for row in &rows {
            let owner = SecretOwner::from_row(row)?;
            let ctx = || format!("reading the secrets of {owner}");
            let name: String = row.try_get("name").context(ctx)?;
            let value: String = row.try_get("value_encrypted").context(ctx)?;
            self.open(owner, Role::Value, &name, &value)?;
            if let Some(given) = row.try_get::<Option<String>, _>("given_encrypted").context(ctx)? {
                self.open(owner, Role::Given, &name, &given)?;
            }
        }
        Ok(())
    }
}

impl Db {
    /// Seals every stored secret again with `new`, in one transaction: all under the new key
    /// or, on any failure, all under the current one. Returns how many rows it sealed. Every
    /// process using the database must be stopped first, since they hold the current key.
    pub async fn reseal_secrets(&self, new: &SecretKey) -> Result<usize, DbError> {
        let ctx = || "sealing the connection secrets with the new key".to_string();
        let next = SecretCipher::new(new);
        let mut tx = self.pool().begin().await.context(ctx)?;
        let rows = sqlx::query(
            "SELECT id, store_id, channel_id, name, value_encrypted, given_encrypted \
             FROM connection_secrets ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await
        .context(ctx)?;
        for row in &rows {
            let owner = SecretOwner::from_row(row)?;
            let id: i64 = row.try_get("id").context(ctx)?;
            let name: String = row.try_get("name").context(ctx)?;
            let value = self.open(
                owner,
                Role::Value,
                &name,
                &row.try_get::<String, _>("value_encrypted").context(ctx)?,
            )?;
            let given = row
                .try_get::<Option<String>, _>("given_encrypted")
                .context(ctx)?
                .map(|g| self.open(owner, Role::Given, &name, &g))
                .transpose()?;
            let given = given.map(|g| next.seal(&owner.place(Role::Given, &name), &g)).transpose()?;
            sqlx::query(
                "UPDATE connection_secrets SET value_encrypted = $1, given_encrypted = $2 WHERE id = $3",
            )
            .bind(next.seal(&owner.place(Role::Value, &name), &value)?)
            .bind(given)
            .bind(id)
            .execute(&mut *tx)
            .await
            .context(ctx)?;
        }
        tx.commit().await.context(ctx)?;
        Ok(rows.len())
    }
}

/// Keeps the secrets one connection's connector rotates, encrypted, in the database.
#[derive(Debug, Clone)]
pub struct DbSecretSink {
    db: Db,
    owner: SecretOwner,
}

impl DbSecretSink {
    pub fn new(db: Db, owner: SecretOwner) -> Self {
        DbSecretSink { db, owner }
    }
}

impl SecretSink for DbSecretSink {
    fn keep<'a>(&'a self, name: &'a str, value: &'a str) -> KeepFuture<'a> {
        Box::pin(async move { self.db.keep_secret(self.owner, name, value).await.map_err(|e| e.to_string()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: &str, given: Option<&str>) -> SecretEntry {
        SecretEntry { name: name.into(), value: value.into(), given: given.map(Into::into) }
    }

    fn stored() -> ConnectionSettings {
        ConnectionSettings::default().setting("shop-cipher", "C1")
    }

    #[test]
    fn an_unchanged_configuration_keeps_a_rotated_token_and_writes_nothing() {
        let entries = [entry("access-token", "rotated", Some("first"))];
        let configured = stored().secret("access-token", "first");
        let update = ConnectionUpdate::plan(&stored(), &entries, &configured);
        assert!(update.is_empty(), "{update:?}");
        assert_eq!(update.settings.secrets["access-token"], "rotated");
    }

    #[test]
    fn a_new_token_in_the_configuration_replaces_the_stored_one() {
        let entries = [entry("access-token", "rotated", Some("first"))];
        let configured = stored().setting("shop-cipher", "C2").secret("access-token", "second");
        let update = ConnectionUpdate::plan(&stored(), &entries, &configured);
        assert!(update.credentials_changed);
        assert_eq!(update.given, vec!["access-token".to_string()]);
        assert_eq!(update.settings.secrets["access-token"], "second");
        assert_eq!(update.settings.settings["shop-cipher"], "C2");
    }

    #[test]
    fn a_secret_without_a_given_value_is_recorded_without_counting_as_a_change() {
        let entries = [entry("access-token", "same", None)];
        let update = ConnectionUpdate::plan(&stored(), &entries, &stored().secret("access-token", "same"));
        assert!(!update.credentials_changed);
        assert_eq!(update.given, vec!["access-token".to_string()]);
    }

    #[test]
    fn secrets_the_operator_dropped_go_and_those_the_connector_made_stay() {
        let entries = [entry("webhook-secret", "w", Some("w")), entry("refresh-token", "r", None)];
        let update = ConnectionUpdate::plan(&stored(), &entries, &stored());
        assert_eq!(update.removed, vec!["webhook-secret".to_string()]);
        assert_eq!(update.settings.secrets.get("refresh-token").map(String::as_str), Some("r"));
        assert!(update.credentials_changed);
    }

    #[test]
    fn places_bind_connection_role_and_name() {
        let a = SecretOwner::Channel(ChannelId(3)).place(Role::Value, "access-token");
        let b = SecretOwner::Store(StoreId(3)).place(Role::Value, "access-token");
        let c = SecretOwner::Channel(ChannelId(3)).place(Role::Given, "access-token");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, b"crossdock/connection-secret/channel/3/value/access-token");
    }

    #[test]
    fn debug_of_an_entry_shows_no_value() {
        let shown = format!("{:?}", entry("access-token", "tok-secret", Some("tok-given")));
        assert!(!shown.contains("tok-"), "{shown}");
    }
}
