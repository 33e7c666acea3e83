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
use crossdock::queue::{QueueSettings, run_until_idle};
use crossdock::sync::SyncSettings;
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

/// The HTTP API (and webhook receiver) of the world's app on an ephemeral port.
pub async fn serve_api(world: &SandboxWorld) -> crossdock_sandbox::server::ServerHandle {
    let state = crossdock::api::ApiState::new(world.app.clone(), fast_settings());
    crossdock_sandbox::server::ServerHandle::start(crossdock::api::router(state), 0)
        .await
        .expect("the API binds a port")
}
