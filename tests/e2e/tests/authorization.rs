//! Connecting through the platforms' own authorization, over real HTTP: the merchant's
//! session starts it through the API, a client follows the redirect chain through the
//! sandbox's authorization page (TikTok Shop's service authorization, Shopify's app install)
//! back to the admin's `/connect/callback`, and the real plugins exchange the code on their
//! first call. Tokens land encrypted; the channel syncs afterwards; a reused, foreign or
//! expired state, a cancel and a forged Shopify hmac each create nothing.

use crossdock::api::ApiState;
use crossdock::authorization::Apps;
use crossdock::connectors::ConnectionSettings;
use crossdock::db::secrets::SecretOwner;
use crossdock::model::OrgId;
use crossdock_e2e::{
    OWNER_PASSWORD, active_products, fast_settings, fresh_postgres_url, fresh_sqlite_url, start_app,
};
use crossdock_sandbox::server::ServerHandle;
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig, TikTokSandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const SHOPIFY_TOKEN: &str = "shpat_installed_token";

/// Two organizations, the sandboxes with the operator's apps registered, and the admin
/// (API and pages) on a port.
struct Setup {
    app: crossdock::App,
    org: OrgId,
    other_org: OrgId,
    shopify: ShopifySandbox,
    tiktok: TikTokSandbox,
    server: ServerHandle,
    database_url: String,
}

/// A logged-in merchant: the session cookie and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn setup(database_url: &str) -> Setup {
    crossdock_e2e::init_tracing();
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Installed Outfitters".into(),
        currency: "USD".into(),
        access_token: SHOPIFY_TOKEN.into(),
        catalog: active_products(3),
    })
    .await
    .expect("shopify starts");
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("Authorized US", "US", "USD")],
        ..TikTokConfig::default()
    })
    .await
    .expect("tiktok starts");
    let app = start_app(database_url).await;
    let org = app.db.create_org("Authorizing").await.expect("org");
    let other_org = app.db.create_org("Someone else").await.expect("org");
    let defaults = TikTokConfig::default();
    let tiktok_app = ConnectionSettings::default()
        .setting("app-key", defaults.app_key)
        .setting("service-id", crossdock_sandbox::tiktok::SERVICE_ID)
        .setting("authorize-base-url", tiktok.base_url())
        .setting("auth-base-url", tiktok.base_url())
        .setting("base-url", tiktok.base_url())
        .setting("category-id", crossdock::demo::DEFAULT_CATEGORY)
        .secret("app-secret", defaults.app_secret);
    let shopify_app = ConnectionSettings::default()
        .setting("client-id", crossdock_sandbox::shopify::CLIENT_ID)
        .setting("scopes", "read_products,write_orders")
        .setting("base-url", shopify.base_url())
        .secret("client-secret", crossdock_sandbox::shopify::CLIENT_SECRET);
    let mut state = ApiState::new(app.clone(), fast_settings());
    state.apps = Arc::new(Apps {
        public_url: None,
        credentials: BTreeMap::from([("tiktok-shop".into(), tiktok_app), ("shopify".into(), shopify_app)]),
    });
    let router = crossdock::web::with_pages(crossdock::api::router(state));
    let server = ServerHandle::start(router, 0).await.expect("the admin binds a port");
    tiktok.register_redirect_url(&format!("{}/connect/callback", server.base_url()));
    Setup { app, org, other_org, shopify, tiktok, server, database_url: database_url.into() }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

impl Setup {
    fn admin(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// Logs in as the owner of `org` (made the first time).
    async fn login(&self, org: OrgId) -> Session {
        let email = format!("merchant-{org}@crossdock.test");
        if self.app.db.account_by_email(&email).await.expect("reads").is_none() {
            crossdock::auth::account::create_owner(&self.app.db, org, &email, OWNER_PASSWORD)
                .await
                .expect("an account");
        }
        let login = no_redirects()
            .post(self.admin("/api/session"))
            .json(&json!({ "email": email, "password": OWNER_PASSWORD }))
            .send()
            .await
            .expect("answers");
        assert_eq!(login.status(), StatusCode::OK);
        let cookie =
            login.headers()["set-cookie"].to_str().expect("text").split(';').next().expect("pair").into();
        let body: Value = login.json().await.expect("json");
        Session { cookie, csrf: body["csrf_token"].as_str().expect("a CSRF token").into() }
    }

    /// Starts an authorization through the API; its answer.
    async fn start(&self, session: &Session, org: OrgId, body: Value) -> (StatusCode, Value) {
        let answer = no_redirects()
            .post(self.admin(&format!("/api/orgs/{org}/authorizations")))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .json(&body)
            .send()
            .await
            .expect("answers");
        (answer.status(), answer.json().await.unwrap_or(Value::Null))
    }

    /// Follows redirects from `url` as a browser would, sending the session cookie to the
    /// admin only; the last URL and its page.
    async fn browse(&self, session: &Session, url: &str) -> (String, String) {
        let client = no_redirects();
        let mut url = url.to_string();
        for _ in 0..10 {
            let mut request = client.get(&url);
            if url.starts_with(&self.server.base_url()) {
                request = request.header("cookie", &session.cookie);
            }
            let answer = request.send().await.expect("answers");
            if !answer.status().is_redirection() {
                let page = answer.text().await.expect("a page");
                return (url, page);
            }
            let location = answer.headers()["location"].to_str().expect("ascii").to_string();
            url = if location.starts_with("http") { location } else { format!("{}{location}", origin(&url)) };
        }
        panic!("too many redirects from {url}");
    }

    /// The URL a browser lands on after clicking the page's link `id` (`approve`, `cancel`),
    /// without following the platform's redirect back to the admin.
    async fn click(&self, page_url: &str, page: &str, id: &str) -> String {
        let link = format!("{}{}", origin(page_url), href(page, id));
        let answer = no_redirects().get(&link).send().await.expect("answers");
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{link}");
        answer.headers()["location"].to_str().expect("ascii").to_string()
    }

    /// Sends the browser to the platform's page for `body` and clicks `id` there: the
    /// callback URL the platform sends the browser back to.
    async fn authorize(&self, session: &Session, body: Value, id: &str) -> String {
        let (status, started) = self.start(session, self.org, body).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let url = started["url"].as_str().expect("a URL").to_string();
        let (page_url, page) = self.browse(session, &url).await;
        self.click(&page_url, &page, id).await
    }

    async fn channels(&self, org: OrgId) -> Vec<crossdock::db::orgs::ChannelRow> {
        self.app.db.channels(org).await.expect("reads")
    }

    /// Every byte the SQLite database keeps, write-ahead log included.
    fn sqlite_bytes(&self) -> Vec<u8> {
        let path = self.database_url.strip_prefix("sqlite:").expect("a SQLite URL");
        let mut bytes = std::fs::read(path).expect("the database file");
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        bytes
    }
}

fn origin(url: &str) -> String {
    let rest = url.split_once("://").expect("absolute").1;
    let host = rest.split('/').next().expect("a host");
    format!("{}://{host}", url.split_once("://").expect("absolute").0)
}

fn href(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" href=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no link {id} in {page}")) + marker.len();
    page[at..at + page[at..].find('"').expect("closed")].replace("&amp;", "&")
}

/// The notice a page shows after a redirect to `/stores?ok=…` or `?error=…`.
fn notice(url: &str, kind: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let value = query.split('&').find_map(|p| p.strip_prefix(&format!("{kind}=")))?;
    Some(crossdock::connectors::authorization::parse_query(&format!("v={value}")).remove(0).1)
}

fn tiktok_body(name: &str) -> Value {
    json!({ "plugin": "tiktok-shop", "role": "channel", "name": name })
}

async fn a_tiktok_shop_is_connected_through_its_authorization_page(database_url: &str) {
    let s = setup(database_url).await;
    let session = s.login(s.org).await;
    let callback = s.authorize(&session, tiktok_body("Authorized US"), "approve").await;
    assert!(callback.starts_with(&s.admin("/connect/callback?code=")), "{callback}");
    let (landed, page) = s.browse(&session, &callback).await;
    let ok = notice(&landed, "ok").unwrap_or_else(|| panic!("connected: {landed}"));
    assert!(ok.contains("Authorized US") && ok.contains("connected"), "{ok}");
    assert!(page.contains("Authorized US"), "the Connected stores page lists the shop");

    let channels = s.channels(s.org).await;
    assert_eq!(channels.len(), 1);
    let channel = &channels[0];
    assert_eq!(channel.plugin_id, "tiktok-shop");
    assert_eq!(channel.currency.as_ref().map(|c| c.as_str()), Some("USD"));
    let secrets = s.app.db.secrets_of(SecretOwner::Channel(channel.id)).await.expect("reads");
    let token = s.tiktok.access_token();
    assert_eq!(secrets.get("access-token"), Some(&token), "the exchanged token is the connection's");
    assert_eq!(secrets.get("refresh-token"), Some(&s.tiktok.refresh_token()));
    assert_eq!(secrets.get("shop-cipher"), Some(&s.tiktok.shops()[0].cipher));
    assert_eq!(secrets.get("auth-code").map(String::as_str), Some(""), "the used code is cleared");
    if database_url.starts_with("sqlite:") {
        let bytes = s.sqlite_bytes();
        let plain = |value: &str| bytes.windows(value.len()).any(|w| w == value.as_bytes());
        assert!(!plain(&token), "the access token is not in the database file in plain text");
        assert!(!plain(&s.tiktok.refresh_token()), "nor the refresh token");
    }

    // The same callback again: refused, nothing more made.
    let (landed, _) = s.browse(&session, &callback).await;
    let error = notice(&landed, "error").expect("refused");
    assert!(error.contains("already used"), "{error}");
    assert_eq!(s.channels(s.org).await.len(), 1);

    // Connecting the shop's store and syncing: the new channel lists the catalog.
    let store_settings =
        crossdock_e2e::shopify_settings(&s.shopify.base_url()).secret("access-token", SHOPIFY_TOKEN);
    crossdock::connections::connect_store(&s.app, s.org, "Store", "shopify", store_settings)
        .await
        .expect("the store connects");
    sync(&s.app, s.org).await;
    let listed = s.tiktok.products(&s.tiktok.shops()[0].cipher);
    assert_eq!(listed.len(), 3, "the authorized shop got the catalog: {listed:#?}");

    // Authorizing again replaces the tokens of the same channel.
    let callback = s.authorize(&session, tiktok_body("Authorized US"), "approve").await;
    let (landed, _) = s.browse(&session, &callback).await;
    assert!(notice(&landed, "ok").is_some_and(|m| m.contains("reconnected")), "{landed}");
    let again = s.app.db.secrets_of(SecretOwner::Channel(channel.id)).await.expect("reads");
    assert_ne!(again.get("access-token"), Some(&token), "a new token replaced the old one");
    assert_eq!(again.get("access-token"), Some(&s.tiktok.access_token()));
    assert_eq!(s.channels(s.org).await.len(), 1);
}

async fn sync(app: &crossdock::App, org: OrgId) {
    use crossdock::dispatch::{QueueSettings, run_until_idle};
    let engine = crossdock::engine::SyncEngine::load(app, org, fast_settings()).await.expect("engine");
    crossdock::catalog::import::import_catalog(&engine, &|_| {}).await.expect("imports");
    let queue = QueueSettings { workers: 2, ..QueueSettings::default() };
    run_until_idle(&engine, &queue, &|| {}).await.expect("drains");
}

#[tokio::test]
async fn a_tiktok_shop_is_connected_through_its_authorization_page_on_sqlite() {
    a_tiktok_shop_is_connected_through_its_authorization_page(&fresh_sqlite_url()).await;
}

#[tokio::test]
async fn a_tiktok_shop_is_connected_through_its_authorization_page_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    a_tiktok_shop_is_connected_through_its_authorization_page(&url).await;
}

async fn refusals_create_nothing(database_url: &str) {
    let s = setup(database_url).await;
    let session = s.login(s.org).await;

    // The merchant cancels on TikTok's page.
    let cancelled = s.authorize(&session, tiktok_body("Cancelled"), "cancel").await;
    let (landed, _) = s.browse(&session, &cancelled).await;
    let error = notice(&landed, "error").expect("refused");
    assert!(error.contains("auth_denied") && error.contains("nothing was connected"), "{error}");

    // A state started by one organization, brought back by another's session.
    let callback = s.authorize(&session, tiktok_body("Foreign"), "approve").await;
    let stranger = s.login(s.other_org).await;
    let (landed, _) = s.browse(&stranger, &callback).await;
    let error = notice(&landed, "error").expect("refused");
    assert!(error.contains("unknown to your organization"), "{error}");
    assert!(s.channels(s.other_org).await.is_empty());

    // Expired before the platform answered.
    let late = s.authorize(&session, tiktok_body("Late"), "approve").await;
    // A second ago: expired, not yet old enough to be pruned.
    sqlx::query("UPDATE pending_authorizations SET expires_at = $1 WHERE used_at IS NULL")
        .bind(crossdock::db::now_ms() - 1_000)
        .execute(s.app.db.pool())
        .await
        .expect("expires");
    let (landed, _) = s.browse(&session, &late).await;
    let error = notice(&landed, "error").expect("refused");
    assert!(error.contains("expired"), "{error}");

    // A state nobody issued.
    let forged = s.admin("/connect/callback?code=abc&state=made-up");
    let (landed, _) = s.browse(&session, &forged).await;
    assert!(notice(&landed, "error").is_some_and(|e| e.contains("unknown")), "{landed}");
    assert!(s.channels(s.org).await.is_empty(), "no refusal made a channel");

    // A Shopify callback whose hmac is not the app's: the connector refuses it.
    let shop = json!({ "plugin": "shopify", "role": "store", "name": "Installed", "settings": { "shop": "installed-outfitters.myshopify.com" } });
    let callback = s.authorize(&session, shop.clone(), "approve").await;
    let hmac = callback.split("hmac=").nth(1).and_then(|r| r.split('&').next()).expect("an hmac").to_string();
    let tampered = callback.replace(&hmac, &"0".repeat(hmac.len()));
    let (landed, _) = s.browse(&session, &tampered).await;
    let error = notice(&landed, "error").expect("refused");
    assert!(error.contains("hmac"), "{error}");
    assert!(s.app.db.store_of(s.org).await.expect("reads").is_none());

    // Without a session the callback asks for a login and makes nothing.
    let anonymous = no_redirects().get(&callback).send().await.expect("answers");
    assert_eq!(anonymous.status(), StatusCode::OK, "a page that loads itself once more");
    let resumed =
        no_redirects().get(format!("{callback}&crossdock-resumed=1")).send().await.expect("answers");
    assert!(resumed.headers()["location"].to_str().expect("ascii").starts_with("/login"));

    // The genuine install: the store is connected with the token Shopify gave.
    let callback = s.authorize(&session, shop, "approve").await;
    let (landed, _) = s.browse(&session, &callback).await;
    assert!(notice(&landed, "ok").is_some_and(|m| m.contains("Store Installed")), "{landed}");
    let store = s.app.db.store_of(s.org).await.expect("reads").expect("a store");
    assert_eq!(store.settings.settings.get("shop").map(String::as_str), Some(s.shopify.shop_domain()));
    let secrets = s.app.db.secrets_of(SecretOwner::Store(store.id)).await.expect("reads");
    assert_eq!(secrets.get("access-token").map(String::as_str), Some(SHOPIFY_TOKEN));
    assert_eq!(secrets.get("install-query").map(String::as_str), Some(""));

    // Asking for what cannot be: an unknown plugin, a plugin without authorization, a
    // missing input, another organization's id, no credentials.
    let (status, answer) =
        s.start(&session, s.org, json!({ "plugin": "woocommerce", "role": "store", "name": "W" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("credentials instead")), "{answer}");
    let (status, answer) =
        s.start(&session, s.org, json!({ "plugin": "shopify", "role": "store", "name": "S" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("settings.shop")), "{answer}");
    let (status, _) = s.start(&session, s.other_org, tiktok_body("X")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let nobody = no_redirects()
        .post(s.admin(&format!("/api/orgs/{}/authorizations", s.org)))
        .json(&tiktok_body("X"))
        .send()
        .await
        .expect("answers");
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refused_reused_foreign_expired_cancelled_and_forged_authorizations_create_nothing() {
    refusals_create_nothing(&fresh_sqlite_url()).await;
}

#[tokio::test]
async fn refused_authorizations_create_nothing_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    refusals_create_nothing(&url).await;
}
