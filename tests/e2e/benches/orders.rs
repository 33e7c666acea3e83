//! Order benchmark: TikTok sandbox orders into the Shopify sandbox through the real wasm
//! connectors (with their declared per-API pacing), real Rhai and SQLite, measured two ways:
//! a backlog of orders imported by one poll (orders per second), and the time from a TikTok
//! order to its store order with the webhook receiver and the workers running as `serve`
//! runs them (p50 / p99). Run:
//!
//!     cargo bench -p crossdock-e2e --bench orders
//!
//! Sizes come from CROSSDOCK_BENCH_ORDERS (300) and CROSSDOCK_BENCH_LATENCY_SAMPLES (50); the
//! Shopify sandbox runs with Shopify Plus's cost bucket unless CROSSDOCK_BENCH_SHOPIFY_ADVANCED
//! is set (see docs/benchmarks.md for what the smaller bucket does to a backlog).
//! Figures go to stdout; docs/benchmarks.md keeps them.

use crossdock::api::{ApiState, router};
use crossdock::demo::{SandboxWorld, WorldSpec};
use crossdock::dispatch::{QueueSettings, run_due, run_until_idle};
use crossdock::engine::SyncSettings;
use crossdock::orders::import::poll_orders;
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec};
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn settings() -> SyncSettings {
    SyncSettings { review_poll: Duration::from_millis(100), ..SyncSettings::default() }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let orders = env("CROSSDOCK_BENCH_ORDERS", 300);
    let samples = env("CROSSDOCK_BENCH_LATENCY_SAMPLES", 50);
    let dir = std::env::temp_dir().join("crossdock-bench");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join(format!("orders-{}.db", std::process::id()));
    let catalog: Vec<_> = crossdock_sandbox::catalog::demo_catalog()
        .into_iter()
        .filter(|p| p.status == crossdock_sandbox::catalog::ProductStatus::Active)
        .take(20)
        .collect();
    let world = SandboxWorld::start(
        &format!("sqlite:{}", db.display()),
        WorldSpec {
            catalog,
            store_currency: "USD".into(),
            shops: vec![ShopSpec::new("Bench US", "US", "USD")],
            review: ReviewPolicy { delay: Duration::from_millis(50), ..ReviewPolicy::default() },
        },
    )
    .await?;
    if std::env::var_os("CROSSDOCK_BENCH_SHOPIFY_ADVANCED").is_none() {
        // Shopify Plus: a 10,000-point bucket restoring 500 points a second (the sandbox's
        // default is the Advanced plan's 2,000 / 100; CROSSDOCK_BENCH_SHOPIFY_ADVANCED keeps it).
        world.shopify.set_cost_limits(crossdock_sandbox::shopify::CostLimits {
            maximum_available: 10_000.0,
            restore_rate: 500.0,
            ..world.shopify.cost_limits()
        });
    }
    let queue = QueueSettings { workers: 4, ..QueueSettings::default() };
    let engine = world.engine(settings()).await?;
    crossdock::catalog::import::import_catalog(&engine, &|_| {}).await?;
    run_until_idle(&engine, &queue, &|| {}).await?;
    let cipher = world.channels[0].shop.cipher.clone();
    let skus: Vec<String> = world
        .tiktok
        .products(&cipher)
        .into_iter()
        .filter(|p| p.status == "ACTIVATE")
        .flat_map(|p| p.skus.into_iter().map(|s| s.seller_sku))
        .collect();
    anyhow::ensure!(!skus.is_empty(), "nothing listed to order from");
    // Plenty of stock on both sides, so every order can be taken.
    for sku in &skus {
        world.shopify.set_variant_stock(sku, 1_000_000);
    }
    let engine = world.engine(settings()).await?;
    crossdock::catalog::import::import_catalog(&engine, &|_| {}).await?;
    run_until_idle(&engine, &queue, &|| {}).await?;

    // 1. A backlog: `orders` orders placed while Crossdock was away, then one poll.
    for i in 0..orders {
        world.tiktok.place_order(&cipher, &[(&skus[i % skus.len()], 1)]);
    }
    let engine = world.engine(settings()).await?;
    let started = Instant::now();
    let report = poll_orders(&engine).await?;
    let read = started.elapsed();
    run_until_idle(&engine, &queue, &|| {}).await?;
    let total = started.elapsed();
    let created = world.shopify.order_count();
    if created != orders {
        let counts = world.app.db.order_counts(world.channels[0].id).await?;
        let failed = world
            .app
            .db
            .orders(world.channels[0].id, Some(crossdock::db::orders::OrderState::Failed), 3)
            .await?;
        let failures: Vec<_> = failed.iter().map(|o| o.failure.clone()).collect();
        anyhow::bail!(
            "{created} store orders for {orders} channel orders: {counts:?} {failures:?} (read {})",
            report.orders_seen
        );
    }
    println!(
        "backlog: {orders} orders in {:.1} s = {:.1} orders/s (poll read {} orders in {:.2} s)",
        total.as_secs_f64(),
        orders as f64 / total.as_secs_f64(),
        report.orders_seen,
        read.as_secs_f64()
    );

    // 2. Latency: webhook receiver and workers running, one order at a time.
    let state = ApiState::new(world.app.clone(), settings());
    let woken = state.work_queued.clone();
    let api = crossdock_sandbox::server::ServerHandle::start(router(state), 0).await?;
    world.tiktok.subscribe_webhooks(&format!(
        "{}/webhooks/channel/{}",
        api.base_url(),
        world.channels[0].id.0
    ));
    let worker_world = world.engine(settings()).await?;
    let worker = tokio::spawn(async move {
        let mut engine = worker_world;
        loop {
            engine = match run_due(engine.clone(), &QueueSettings::default(), &|| {}).await {
                Ok(e) => e,
                Err(_) => engine,
            };
            tokio::select! {
                _ = woken.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    });
    let mut latencies = Vec::new();
    for i in 0..samples {
        let before = world.shopify.order_count();
        let placed = Instant::now();
        world.tiktok.place_order(&cipher, &[(&skus[i % skus.len()], 1)]);
        while world.shopify.order_count() == before {
            anyhow::ensure!(placed.elapsed() < Duration::from_secs(30), "order {i} never reached the store");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(placed.elapsed());
    }
    worker.abort();
    latencies.sort();
    println!(
        "TikTok order → store order ({samples} orders, by webhook): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    world.app.db.close().await;
    let _ = std::fs::remove_file(&db);
    Ok(())
}
