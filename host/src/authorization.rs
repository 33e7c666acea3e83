//! Connecting a store or a TikTok shop through the platform's own authorization: `start`
//! answers where to send the merchant's browser (the plugin manifest's `[authorization]`
//! URL over the operator's app settings, the merchant's inputs and a fresh `state`) and
//! keeps the pending authorization; `complete` takes the platform's callback, checks its
//! state (matching, unused, unexpired, the caller's organization's) and makes the connection
//! with the callback's values, checked with the platform as any connection is. The
//! connector exchanges the code on that first call and hands its tokens to the host, which
//! stores them encrypted with the connection. No platform is named here: the manifest says
//! it all.

use crate::app::App;
use crate::auth::{new_secret, secret_hash};
use crate::connections::{self, SetupError};
use crate::connectors::authorization::{AuthorizationSpec, CallbackError, STATE_PARAM, parse_query};
use crate::connectors::{ConnectionSettings, PluginKind};
use crate::db::DbError;
use crate::db::authorizations::{PendingAuthorization, Taken};
use crate::model::{AccountId, OrgId};
use std::collections::BTreeMap;
use std::time::Duration;

/// Where the platform sends the browser back, under the admin's address.
pub const CALLBACK_PATH: &str = "/connect/callback";
/// How long the merchant has to authorize.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);

/// The operator's apps (`[apps.<plugin>]`, secrets resolved) and where the admin is reached.
#[derive(Clone, Default)]
pub struct Apps {
    /// `public-url`; unset, the address the browser used.
    pub public_url: Option<String>,
    /// Per plugin id: the settings and secrets every connection made through it starts with.
    pub credentials: BTreeMap<String, ConnectionSettings>,
}

impl std::fmt::Debug for Apps {
    /// `ConnectionSettings` shows secret names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apps")
            .field("public_url", &self.public_url)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// A store or a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Store,
    Channel,
}

impl Role {
    fn kind(self) -> PluginKind {
        match self {
            Role::Store => PluginKind::Store,
            Role::Channel => PluginKind::Channel,
        }
    }
    fn as_str(self) -> &'static str {
        self.kind().as_str()
    }
}

/// What the merchant asks to connect.
#[derive(Debug, Clone)]
pub struct Request {
    pub plugin: String,
    pub role: Role,
    pub name: String,
    /// The inputs the manifest asks for (Shopify's shop domain) and any other setting.
    pub settings: BTreeMap<String, String>,
}

/// Where to send the browser.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Started {
    pub url: String,
    /// Unix milliseconds after which the callback is refused.
    pub expires_at: i64,
}

/// The connection the callback made.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Completed {
    pub role: Role,
    pub id: i64,
    pub name: String,
    /// An existing connection got new tokens rather than a new one being made.
    pub reconnected: bool,
}

/// Why an authorization could not start or complete; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizationError {
    #[error("no plugin `{0}` is installed (see `crossdock plugin list`)")]
    UnknownPlugin(String),
    #[error("plugin `{plugin}` is a {kind} plugin; a {role} needs a {role} plugin")]
    WrongKind { plugin: String, kind: &'static str, role: &'static str },
    #[error(
        "plugin `{0}` has no authorization through its platform; connect it with its credentials instead"
    )]
    NotSupported(String),
    #[error(
        "the operator has not configured the app for plugin `{0}`: add `[apps.{0}]` (its app credentials) \
         to the configuration file and restart"
    )]
    NoApp(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("plugin `{plugin}`: {message}")]
    Url { plugin: String, message: String },
    #[error("the platform's answer carries no state; start connecting again from Connected stores")]
    NoState,
    #[error(
        "this authorization is unknown to your organization (it was started elsewhere or for another \
         organization); start connecting again from Connected stores"
    )]
    UnknownState,
    #[error(
        "this authorization was already used; nothing more was changed. Start connecting again if needed"
    )]
    UsedState,
    #[error("this authorization expired (the platform must answer within {} minutes); start connecting again", DEFAULT_TTL.as_secs() / 60)]
    ExpiredState,
    #[error("{name}: {source}; nothing was connected. Start connecting again and approve the access")]
    Callback { name: String, source: CallbackError },
    #[error("{name}: the platform did not accept the authorization: {source}; nothing was connected")]
    Setup { name: String, source: Box<SetupError> },
    #[error(
        "{name}: the organization's store is connected with plugin `{current}`; disconnect it before \
         connecting a `{wanted}` store"
    )]
    OtherStore { name: String, current: String, wanted: String },
    #[error("{name}: a channel of that name uses plugin `{current}`; choose another name")]
    OtherChannel { name: String, current: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

fn spec_of(app: &App, plugin: &str, role: Role) -> Result<AuthorizationSpec, AuthorizationError> {
    let loaded = app.plugins.get(plugin).ok_or_else(|| AuthorizationError::UnknownPlugin(plugin.into()))?;
    if loaded.kind() != role.kind() {
        return Err(AuthorizationError::WrongKind {
            plugin: plugin.into(),
            kind: loaded.kind().as_str(),
            role: role.as_str(),
        });
    }
    loaded.manifest.authorization.clone().ok_or_else(|| AuthorizationError::NotSupported(plugin.into()))
}

/// Keeps a pending authorization and answers where to send the browser. `callback_base` is
/// the admin's address as the browser reached it, used when no `public-url` is configured.
#[tracing::instrument(skip_all, fields(org = %org, plugin = %request.plugin, role = request.role.as_str()))]
pub async fn start(
    app: &App,
    apps: &Apps,
    org: OrgId,
    account: AccountId,
    request: Request,
    callback_base: &str,
) -> Result<Started, AuthorizationError> {
    let spec = spec_of(app, &request.plugin, request.role)?;
    let credentials = apps
        .credentials
        .get(&request.plugin)
        .ok_or_else(|| AuthorizationError::NoApp(request.plugin.clone()))?;
    let name = request.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AuthorizationError::BadRequest("name: 1 to 200 characters".into()));
    }
    for (input, label) in &spec.inputs {
        if request.settings.get(input).is_none_or(|v| v.trim().is_empty()) {
            return Err(AuthorizationError::BadRequest(format!("settings.{input}: give the {label}")));
        }
    }
    let inputs: BTreeMap<String, String> =
        request.settings.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).collect();
    let mut settings = credentials.settings.clone();
    settings.extend(inputs.clone());
    let base = apps.public_url.as_deref().unwrap_or(callback_base).trim_end_matches('/');
    let redirect_uri = format!("{base}{CALLBACK_PATH}");
    let state = new_secret("");
    let url = spec
        .url_for(&settings, &state, &redirect_uri)
        .map_err(|message| AuthorizationError::Url { plugin: request.plugin.clone(), message })?;
    let expires_at = crate::db::now_ms() + DEFAULT_TTL.as_millis() as i64;
    let pending = PendingAuthorization {
        org,
        plugin_id: request.plugin,
        role: request.role.as_str().into(),
        name,
        settings: inputs,
    };
    app.db.create_pending_authorization(&secret_hash(&state), account, &pending, expires_at).await?;
    tracing::info!(expires_at, "authorization started");
    Ok(Started { url, expires_at })
}

/// Takes the platform's callback (`raw_query`, as it arrived) for `org` and makes (or
/// reconnects) the connection. Any failure makes nothing; the state is used up either way.
#[tracing::instrument(skip_all, fields(org = %org))]
pub async fn complete(
    app: &App,
    apps: &Apps,
    org: OrgId,
    raw_query: &str,
) -> Result<Completed, AuthorizationError> {
    let params = parse_query(raw_query);
    let state = params
        .iter()
        .find(|(k, v)| k == STATE_PARAM && !v.is_empty())
        .map(|(_, v)| v.clone())
        .ok_or(AuthorizationError::NoState)?;
    let pending = match app.db.take_pending_authorization(&secret_hash(&state), org).await? {
        Taken::Fresh(pending) => pending,
        Taken::Unknown => return Err(AuthorizationError::UnknownState),
        Taken::Used => return Err(AuthorizationError::UsedState),
        Taken::Expired => return Err(AuthorizationError::ExpiredState),
    };
    let role = if pending.role == "store" { Role::Store } else { Role::Channel };
    let name = pending.name.clone();
    let spec = spec_of(app, &pending.plugin_id, role)?;
    let values = spec
        .values_of(raw_query)
        .map_err(|source| AuthorizationError::Callback { name: name.clone(), source })?;
    let credentials = apps
        .credentials
        .get(&pending.plugin_id)
        .ok_or_else(|| AuthorizationError::NoApp(pending.plugin_id.clone()))?;
    // The app's, then the merchant's, then the platform's: the callback has the last word.
    let mut settings = credentials.clone();
    settings.settings.extend(pending.settings.clone());
    settings.settings.extend(values.settings);
    settings.secrets.extend(values.secrets);
    let setup = |source| AuthorizationError::Setup { name: name.clone(), source: Box::new(source) };
    let completed = match role {
        Role::Store => match app.db.store_of(org).await? {
            Some(store) if store.plugin_id == pending.plugin_id => {
                connections::reauthorize_store(app, &store, &settings).await.map_err(setup)?;
                Completed { role, id: store.id.0, name: store.name, reconnected: true }
            }
            Some(store) => {
                return Err(AuthorizationError::OtherStore {
                    name,
                    current: store.plugin_id,
                    wanted: pending.plugin_id,
                });
            }
            None => {
                let id = connections::connect_store(app, org, &name, &pending.plugin_id, settings)
                    .await
                    .map_err(setup)?;
                Completed { role, id: id.0, name, reconnected: false }
            }
        },
        Role::Channel => match app.db.channels(org).await?.into_iter().find(|c| c.name == name) {
            Some(channel) if channel.plugin_id == pending.plugin_id => {
                connections::reauthorize_channel(app, &channel, &settings).await.map_err(setup)?;
                Completed { role, id: channel.id.0, name, reconnected: true }
            }
            Some(channel) => {
                return Err(AuthorizationError::OtherChannel { name, current: channel.plugin_id });
            }
            None => {
                let id = connections::add_channel(app, org, &name, &pending.plugin_id, settings)
                    .await
                    .map_err(setup)?;
                Completed { role, id: id.0, name, reconnected: false }
            }
        },
    };
    tracing::info!(
        role = role.as_str(),
        id = completed.id,
        reconnected = completed.reconnected,
        "authorization completed"
    );
    Ok(completed)
}
