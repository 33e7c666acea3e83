//! What every flow needs of one organization, loaded once per run: its store connector, and
//! per channel the connector and the compiled rules (compiled once per rule version). The
//! dispatcher (`dispatch`) loads it and hands it to the flows; it imports no flow.

use crate::app::App;
use crate::channel_rules::{ChannelRules, channel_rules, order_rule};
use crate::connections::{self, SetupError};
use crate::connectors::{ChannelConnector, StoreConnector};
use crate::db::DbError;
use crate::db::orgs::{ChannelRow, StoreRow};
use crate::model::Attribute;
use crate::model::{ChannelId, OrgId};
use crate::rules::OrderRule;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// Why a sync could not start.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Connector(#[from] crate::connectors::ConnectorError),
    #[error("organization {0} has no store connected")]
    NoStore(OrgId),
}

/// Timings of the sync loop.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// How long after a push the channel's review is first checked, and between checks.
    pub review_poll: Duration,
    /// Products read per store call.
    pub page_size: u32,
    /// Time a rule's dry run may take over the whole catalog (API dry runs and the dry run
    /// that gates saving a rule).
    pub dry_run_budget: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            review_poll: Duration::from_secs(60),
            page_size: 50,
            dry_run_budget: Duration::from_secs(30),
        }
    }
}

/// A channel ready to sync, or the reason it cannot.
#[derive(Debug, Clone)]
pub struct ChannelRuntime {
    pub row: ChannelRow,
    pub connector: ChannelConnector,
    /// None when the channel is blocked (see `blocked`).
    pub rules: Option<ChannelRules>,
    /// Why nothing is listed on this channel yet (missing exchange rate, broken rule).
    pub blocked: Option<String>,
    /// The channel's order rule, compiled; or why it does not compile (orders then wait).
    pub order_rule: Arc<Result<OrderRule, String>>,
    /// Category attributes read from the channel during this sync, by category id.
    attributes: Arc<Mutex<HashMap<String, Arc<Vec<Attribute>>>>>,
}

impl ChannelRuntime {
    /// The attributes a category asks for, read from the channel once per sync.
    pub async fn category_attributes(
        &self,
        category_id: &str,
    ) -> Result<Arc<Vec<Attribute>>, crate::connectors::ConnectorError> {
        if let Some(cached) = self.cached_attributes(category_id) {
            return Ok(cached);
        }
        let fetched = Arc::new(self.connector.category_attributes(category_id).await?);
        self.attributes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(category_id.to_string(), fetched.clone());
        Ok(fetched)
    }

    fn cached_attributes(&self, category_id: &str) -> Option<Arc<Vec<Attribute>>> {
        self.attributes.lock().unwrap_or_else(|p| p.into_inner()).get(category_id).cloned()
    }
}

/// Everything one organization's sync needs, loaded once per run.
#[derive(Debug, Clone)]
pub struct SyncEngine {
    pub app: App,
    pub org: OrgId,
    pub store: StoreRow,
    pub store_connector: StoreConnector,
    pub channels: Arc<BTreeMap<ChannelId, ChannelRuntime>>,
    pub settings: SyncSettings,
}

impl SyncEngine {
    /// Loads the organization's connections and compiles every channel's active rules.
    pub async fn load(app: &App, org: OrgId, settings: SyncSettings) -> Result<Self, SyncError> {
        let store = app.db.store_of(org).await?.ok_or(SyncError::NoStore(org))?;
        let store_connector = connections::store_connector(app, &store)?;
        let mut channels = BTreeMap::new();
        let rows = app.db.channels(org).await?;
        let total_shares: i64 =
            rows.iter().map(|r| r.options.stock_share.max(0)).fold(0, i64::saturating_add);
        for row in rows {
            let connector = connections::channel_connector(app, &row)?;
            let (rules, blocked) = match channel_rules(app, &store, &row, total_shares).await? {
                Ok(rules) => (Some(rules), None),
                Err(reason) => {
                    tracing::warn!(channel = %row.id, %reason, "channel blocked");
                    (None, Some(reason))
                }
            };
            let order_rule = Arc::new(order_rule(app, &row).await?);
            channels.insert(
                row.id,
                ChannelRuntime { row, connector, rules, blocked, order_rule, attributes: Arc::default() },
            );
        }
        Ok(SyncEngine {
            app: app.clone(),
            org,
            store,
            store_connector,
            channels: Arc::new(channels),
            settings,
        })
    }

    pub fn channel(&self, id: ChannelId) -> Option<&ChannelRuntime> {
        self.channels.get(&id)
    }

    /// Whether the channels' channel-wide inputs (rules, rate, options, templates) or the
    /// set of channels changed since this engine was loaded: then it must be reloaded, so
    /// that jobs work from the state current when they run.
    pub async fn is_stale(&self) -> Result<bool, DbError> {
        let now = self.app.db.channel_versions(self.org).await?;
        let loaded: Vec<(ChannelId, i64)> =
            self.channels.values().map(|c| (c.row.id, c.row.inputs_version)).collect();
        Ok(now != loaded)
    }
}
