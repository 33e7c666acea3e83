//! Shared support for the end-to-end tests: a fresh database per test (a SQLite file, or a
//! new PostgreSQL database when `CROSSDOCK_TEST_POSTGRES_URL` is set) and small helpers.

use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000_000
    )
}

/// A new, empty SQLite database file under the system temp dir.
pub fn fresh_sqlite_url() -> String {
    let dir = std::env::temp_dir().join("crossdock-tests");
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let path = dir.join(format!("{}.db", unique_name("t")));
    format!("sqlite:{}", path.display())
}

/// A new, empty PostgreSQL database on the server `CROSSDOCK_TEST_POSTGRES_URL` points at,
/// or `None` (the test then says it was skipped). In CI (`CI` set) a PostgreSQL that is not
/// configured or not reachable fails the test instead: CI must run them.
pub async fn fresh_postgres_url() -> Option<String> {
    let in_ci = std::env::var_os("CI").is_some();
    let Ok(admin_url) = std::env::var("CROSSDOCK_TEST_POSTGRES_URL") else {
        assert!(
            !in_ci,
            "CI is set but CROSSDOCK_TEST_POSTGRES_URL is not: the PostgreSQL tests must run in CI"
        );
        eprintln!("skipped: CROSSDOCK_TEST_POSTGRES_URL is not set, so the PostgreSQL test did not run");
        return None;
    };
    let name = unique_name("crossdock_test");
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(connection) => connection,
        Err(e) => {
            panic!("PostgreSQL at CROSSDOCK_TEST_POSTGRES_URL ({admin_url}) does not accept connections: {e}")
        }
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("the test role may create databases");
    let (base, _) = admin_url.rsplit_once('/').expect("the URL names a database");
    Some(format!("{base}/{name}"))
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into()),
        )
        .with_test_writer()
        .try_init();
}

use crossdock::catalog::import::{ImportReport, import_catalog};
use crossdock::demo::{SandboxWorld, WorldSpec};
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::SyncSettings;
use crossdock_sandbox::catalog::CatalogProduct;
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec};
use std::time::Duration;

/// Sync timings short enough for tests.
pub fn fast_settings() -> SyncSettings {
    SyncSettings { review_poll: Duration::from_millis(100), ..SyncSettings::default() }
}

/// A world on `database_url` with the given catalog and shops; reviews pass after 150 ms.
pub async fn world(database_url: &str, catalog: Vec<CatalogProduct>, shops: Vec<ShopSpec>) -> SandboxWorld {
    SandboxWorld::start(
        database_url,
        WorldSpec {
            catalog,
            store_currency: "USD".into(),
            shops,
            review: ReviewPolicy { delay: Duration::from_millis(150), ..ReviewPolicy::default() },
        },
    )
    .await
    .expect("the sandbox world starts")
}

/// One full sync: read the catalog, then work the queue until nothing is left.
pub async fn sync(world: &SandboxWorld) -> ImportReport {
    let engine = world.engine(fast_settings()).await.expect("the sync engine loads");
    let report = import_catalog(&engine, &|_| {}).await.expect("the catalog imports");
    let queue = QueueSettings { workers: 4, ..QueueSettings::default() };
    run_until_idle(&engine, &queue, &|| {}).await.expect("the queue drains");
    report
}

/// The first `n` active products of the demo catalog.
pub fn active_products(n: usize) -> Vec<CatalogProduct> {
    crossdock_sandbox::catalog::demo_catalog()
        .into_iter()
        .filter(|p| p.status == crossdock_sandbox::catalog::ProductStatus::Active)
        .take(n)
        .collect()
}

/// The HTTP API (and webhook receiver) of the world's app on an ephemeral port. An owner
/// account and an API token of the world's organization are made, and `api_call`, `api_ok`
/// and `api_token` use that token for every URL under the server's address.
pub async fn serve_api(world: &SandboxWorld) -> crossdock_sandbox::server::ServerHandle {
    serve_api_with(world, crossdock::api::ApiState::new(world.app.clone(), fast_settings())).await
}

/// [`serve_api`] with the caller's own API state (other settings, a shared health board).
pub async fn serve_api_with(
    world: &SandboxWorld,
    state: crossdock::api::ApiState,
) -> crossdock_sandbox::server::ServerHandle {
    let server = crossdock_sandbox::server::ServerHandle::start(crossdock::api::router(state), 0)
        .await
        .expect("the API binds a port");
    let token = org_api_token(&world.app, world.org, "e2e").await;
    API_TOKENS.lock().unwrap_or_else(|p| p.into_inner()).push((server.base_url(), token));
    server
}

/// (base URL, API token) of every API `serve_api` started, newest last.
static API_TOKENS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// The password of the owner accounts `org_api_token` makes.
pub const OWNER_PASSWORD: &str = "e2e owner password";

/// The email of the owner account `org_api_token` makes for `org`.
pub fn owner_email(org: crossdock::model::OrgId) -> String {
    format!("owner-{org}@crossdock.test")
}

/// A new API token acting for `org`, of its owner account (made the first time, with
/// `OWNER_PASSWORD`).
pub async fn org_api_token(app: &crossdock::App, org: crossdock::model::OrgId, name: &str) -> String {
    let email = owner_email(org);
    let account = match app.db.account_by_email(&email).await.expect("reads accounts") {
        Some(row) => row.id,
        None => crossdock::auth::account::create_owner(&app.db, org, &email, OWNER_PASSWORD)
            .await
            .expect("the owner account is made"),
    };
    crossdock::auth::token::create_api_token(&app.db, account, org, name)
        .await
        .expect("a token is made")
        .token
}

/// A client that sends the token `serve_api` made for the server `url` is under.
pub fn api_client(url: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {}", api_token(url)).parse().expect("a token is a valid header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder().default_headers(headers).build().expect("a client builds")
}

/// The API token `serve_api` made for the server `url` is under.
pub fn api_token(url: &str) -> String {
    API_TOKENS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .rev()
        .find(|(base, _)| {
            url.strip_prefix(base.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(|(_, token)| token.clone())
        .unwrap_or_else(|| panic!("{url} is not under an API that serve_api started"))
}

/// Works the queue until nothing is left, without reading the catalog: channel-wide changes
/// (rules, rate, options, templates, channels added or removed) and changes made through the
/// API must reach the channels this way alone.
pub async fn run_queue(world: &SandboxWorld) {
    let engine = world.engine(fast_settings()).await.expect("the sync engine loads");
    let queue = QueueSettings { workers: 4, ..QueueSettings::default() };
    run_until_idle(&engine, &queue, &|| {}).await.expect("the queue drains");
}

/// The shop's listings that carry `sku`, deleted ones left out.
pub fn listings_with_sku(
    world: &SandboxWorld,
    cipher: &str,
    sku: &str,
) -> Vec<crossdock_sandbox::tiktok::SandboxProduct> {
    world
        .tiktok
        .products(cipher)
        .into_iter()
        .filter(|p| p.status != "DELETED" && p.skus.iter().any(|s| s.seller_sku == sku))
        .collect()
}

/// The one listing on the shop that carries `sku`; panics when there is none or several.
pub fn listing_with_sku(
    world: &SandboxWorld,
    cipher: &str,
    sku: &str,
) -> crossdock_sandbox::tiktok::SandboxProduct {
    let mut found = listings_with_sku(world, cipher, sku);
    assert_eq!(found.len(), 1, "exactly one listing on shop {cipher} carries {sku}: {found:#?}");
    found.remove(0)
}

/// The SKU `sku` as the shop holds it, in its one listing.
pub fn sku_on_shop(world: &SandboxWorld, cipher: &str, sku: &str) -> crossdock_sandbox::tiktok::SandboxSku {
    let listing = listing_with_sku(world, cipher, sku);
    listing.skus.into_iter().find(|s| s.seller_sku == sku).expect("the listing carries the SKU")
}

/// The access token `SandboxWorld` gives its Shopify sandbox.
pub const SHOPIFY_TOKEN: &str = "shpat_sandbox_demo_token";

/// Settings that connect a Shopify sandbox as the store, as `SandboxWorld` does.
pub fn shopify_settings(shopify_base_url: &str) -> crossdock::connectors::ConnectionSettings {
    crossdock::connectors::ConnectionSettings::default()
        .setting("base-url", shopify_base_url)
        .secret("access-token", SHOPIFY_TOKEN)
        .secret("webhook-secret", crossdock::demo::WEBHOOK_SECRET)
}

/// Settings that connect one shop of the world's TikTok sandbox as a channel, as
/// `SandboxWorld` does.
pub fn tiktok_settings(
    world: &SandboxWorld,
    shop: &crossdock_sandbox::tiktok::SandboxShop,
) -> crossdock::connectors::ConnectionSettings {
    let defaults = crossdock_sandbox::tiktok::TikTokConfig::default();
    crossdock::connectors::ConnectionSettings::default()
        .setting("base-url", world.tiktok.base_url())
        .setting("app-key", defaults.app_key)
        .setting("shop-cipher", shop.cipher.clone())
        .setting("category-id", crossdock::demo::DEFAULT_CATEGORY)
        .secret("app-secret", defaults.app_secret)
        .secret("access-token", world.tiktok.access_token())
}

/// A base URL nothing listens on (a port bound and let go), for a platform that is down.
pub fn unreachable_base_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// One webhook delivery as a platform sandbox sent it: replaying it sends the very same
/// request (headers, signature and event id included).
#[derive(Debug, Clone)]
pub struct RecordedDelivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedDelivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// POSTs the delivery, as it was sent, to `url`.
    pub async fn replay(&self, url: &str) -> reqwest::Response {
        let mut request = reqwest::Client::new().post(url).body(self.body.clone());
        for (name, value) in &self.headers {
            if !["host", "content-length"].contains(&name.to_ascii_lowercase().as_str()) {
                request = request.header(name, value);
            }
        }
        request.send().await.expect("the receiver answers")
    }
}

/// A webhook receiver that only records what it is sent (answering 200), so a test can
/// replay a platform's signed delivery when and as often as it likes.
#[derive(Debug)]
pub struct WebhookRecorder {
    server: crossdock_sandbox::server::ServerHandle,
    deliveries: std::sync::Arc<std::sync::Mutex<Vec<RecordedDelivery>>>,
}

impl WebhookRecorder {
    pub async fn start() -> Self {
        let deliveries: std::sync::Arc<std::sync::Mutex<Vec<RecordedDelivery>>> = Default::default();
        let kept = deliveries.clone();
        let router = axum::Router::new().route(
            "/recorded",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let headers = headers
                        .iter()
                        .map(|(n, v)| {
                            (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())
                        })
                        .collect();
                    kept.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(RecordedDelivery { headers, body: body.to_vec() });
                    axum::http::StatusCode::OK
                }
            }),
        );
        let server = crossdock_sandbox::server::ServerHandle::start(router, 0)
            .await
            .expect("the recorder binds a port");
        WebhookRecorder { server, deliveries }
    }

    /// The address to subscribe.
    pub fn address(&self) -> String {
        format!("{}/recorded", self.server.base_url())
    }

    /// Every delivery recorded so far, in arrival order.
    pub fn deliveries(&self) -> Vec<RecordedDelivery> {
        self.deliveries.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The world's store product that has a variant with `sku` (deleted ones left out).
pub async fn product_with_sku(world: &SandboxWorld, sku: &str) -> crossdock::model::ProductId {
    let store = world.app.db.store_of(world.org).await.expect("reads").expect("a store is connected");
    let found = world.app.db.products_with_sku(store.id, sku).await.expect("reads");
    assert_eq!(found.len(), 1, "one store product has SKU {sku}: {found:?}");
    found[0]
}

/// One JSON request to the API, with the token `serve_api` made: its status and its body
/// (`null` when the body is not JSON).
pub async fn api_call(
    method: reqwest::Method,
    url: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if url.contains("/api/") {
        request = request.bearer_auth(api_token(url));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    let text = response.text().await.expect("the body reads");
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// [`api_call`] for a request that must succeed: its JSON body.
pub async fn api_ok(
    method: reqwest::Method,
    url: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let (status, answer) = api_call(method.clone(), url, body).await;
    assert!(status.is_success(), "{method} {url} answered {status}: {answer}");
    answer
}

/// The app on `database_url` for a test that wires its own sandboxes, keyed as
/// `SandboxWorld` keys its app: SQLite with its key file, PostgreSQL (without
/// `CROSSDOCK_SECRET_KEY`) with a key for this process alone; its plugins may reach loopback,
/// where the sandboxes listen.
pub async fn start_app(database_url: &str) -> crossdock::App {
    use crossdock::secrets::{KEY_ENV, KeyOrigin, SecretKey};
    let key = (!database_url.starts_with("sqlite:") && std::env::var_os(KEY_ENV).is_none())
        .then(|| SecretKey::generate(KeyOrigin::Ephemeral).expect("a random key"));
    crossdock::App::start_with_key(database_url, key)
        .await
        .expect("the app starts")
        .with_egress(crossdock::connectors::EgressPolicy::local_sandboxes())
        .expect("the plugin HTTP client builds")
}

/// A plugin runtime whose connectors may reach the sandboxes on this machine (loopback is
/// refused by default).
pub fn local_runtime() -> crossdock::connectors::PluginRuntime {
    crossdock::connectors::PluginRuntime::new()
        .expect("runtime")
        .with_egress(crossdock::connectors::EgressPolicy::local_sandboxes())
        .expect("the plugin HTTP client builds")
}

/// The merchant ships a store order in Shopify (see `SandboxWorld::ship_in_store`).
pub async fn ship_in_shopify(
    world: &SandboxWorld,
    order_gid: &str,
    units: &[(&str, i64)],
    company: &str,
    number: &str,
) -> String {
    world.ship_in_store(order_gid, units, company, number).await.expect("the store records the shipment")
}

/// Polls every channel's orders and the store's, then works everything that is due.
pub async fn sync_orders(world: &SandboxWorld) -> crossdock::orders::import::PollReport {
    let queue = QueueSettings { workers: 4, ..QueueSettings::default() };
    world.sync_orders(&fast_settings(), &queue).await.expect("the orders sync")
}

/// Follows the background task a `202 Accepted` answered with (`accepted` is its body) until
/// it ends, re-reading it over the API; its last view. Fails after 30 s.
pub async fn finished_task(base: &str, accepted: &serde_json::Value) -> serde_json::Value {
    let url = format!("{base}/api/orgs/{}/tasks/{}", accepted["organization"], accepted["id"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let task = api_ok(reqwest::Method::GET, &url, None).await;
        if task["state"] != "running" {
            return task;
        }
        assert!(std::time::Instant::now() < deadline, "the task still runs after 30 s: {task}");
        // The task works in the background; the API is the only way to watch it from here.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
