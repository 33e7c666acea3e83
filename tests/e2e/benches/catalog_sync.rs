//! Catalog sync benchmark: a generated store catalog to several sandbox TikTok Shops
//! through the real wasm connectors, Rhai rules and SQLite, measured four ways: a first
//! full sync with the sandbox limits off, a no-op resync (calls the content hash avoids),
//! a sync under the real platform limits, and the time from a store stock change to every
//! channel holding the new number (by webhook). Run:
//!
//!     cargo bench -p crossdock-e2e --bench catalog_sync
//!
//! Sizes come from CROSSDOCK_BENCH_PRODUCTS (10000), CROSSDOCK_BENCH_VARIANTS (3),
//! CROSSDOCK_BENCH_SHOPS (3), CROSSDOCK_BENCH_LIMITED_PRODUCTS (1000) and
//! CROSSDOCK_BENCH_STOCK_SAMPLES (50), CROSSDOCK_BENCH_WORKERS (12); CROSSDOCK_BENCH_PHASES (`1,3,4`; 2 runs with 1) picks
//! the phases. Figures go to stdout; docs/benchmarks.md keeps them.

use crossdock::catalog::draft::build_draft;
use crossdock::catalog::import::import_catalog;
use crossdock::demo::{SandboxWorld, WEBHOOK_SECRET, WorldSpec};
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::{SyncEngine, SyncSettings};
use crossdock::rules::RuleKind;
use crossdock_sandbox::catalog::generated_catalog;
use crossdock_sandbox::shopify::CostLimits;
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Counts the engine's retry and failure events (by message, rate-limited retries apart), so
/// the limited run can say where its time went.
#[derive(Clone, Default)]
struct EventCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl EventCounter {
    fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rate_limited: bool,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else if field.name() == "reason" || field.name() == "error" {
            self.rate_limited |= text.contains("rate limited") || text.contains("THROTTLED");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventCounter {
    /// Only the engine's own events at INFO and above are built at all, so counting costs
    /// the measured runs nothing else (sqlx, hyper and the sandboxes stay silent).
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        let wanted = metadata.is_event()
            && *metadata.level() <= tracing::Level::INFO
            && metadata.target().starts_with("crossdock::");
        if wanted { tracing::subscriber::Interest::always() } else { tracing::subscriber::Interest::never() }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let counted = [
            "job will retry",
            "store page will be tried again",
            "SKU search will be tried again",
            "job dead",
            "job failed",
        ];
        if counted.contains(&fields.message.as_str()) {
            let key = if fields.rate_limited {
                format!("{} (rate limited)", fields.message)
            } else {
                fields.message
            };
            *self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += 1;
        }
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// CPU time this process has used (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // Fields 14 and 15 (utime, stime) sit at 11 and 12 after the command name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn shops(n: usize) -> Vec<ShopSpec> {
    [ShopSpec::new("US", "US", "USD"), ShopSpec::new("UK", "GB", "GBP"), ShopSpec::new("DE", "DE", "EUR")]
        .into_iter()
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, s)| ShopSpec::new(format!("{} {i}", s.name), s.region, s.currency))
        .collect()
}

fn database_url(tag: &str) -> String {
    let dir = std::env::temp_dir().join("crossdock-bench");
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let path = dir.join(format!("{tag}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite:{}", path.display())
}

async fn world(
    tag: &str,
    products: usize,
    variants: usize,
    shop_count: usize,
    limits_off: bool,
) -> SandboxWorld {
    let world = SandboxWorld::start(
        &database_url(tag),
        WorldSpec {
            catalog: generated_catalog(products, variants, 42),
            store_currency: "USD".into(),
            shops: shops(shop_count),
            review: ReviewPolicy { delay: Duration::from_millis(50), ..ReviewPolicy::default() },
        },
    )
    .await
    .expect("the sandbox world starts");
    if limits_off {
        world.shopify.set_cost_limits(CostLimits {
            maximum_available: 1.0e12,
            restore_rate: 1.0e12,
            single_query_max: 1_000_000,
        });
        world.tiktok.set_rate_limit(None);
        // The connector paces itself to TikTok's real limits (the manifest's per-API limits);
        // with the sandbox limit off, lift them too, or the run would measure the pacing.
        let mut unpaced = crossdock::connectors::Plugin::load(
            &world.app.runtime,
            crossdock::connectors::builtin::TIKTOK_SHOP,
            "bench",
        )
        .expect("the built-in TikTok plugin loads");
        let limits = &mut unpaced.manifest.limits;
        limits.requests_per_second = None;
        limits.per_api_per_second = None;
        limits.api.clear();
        world.app.plugins.replace(unpaced);
    }
    for c in &world.channels {
        let rate = match c.shop.currency.as_str() {
            "GBP" => "0.79",
            "EUR" => "0.92",
            _ => continue,
        };
        let rate: Decimal = rate.parse().expect("rate");
        crossdock::connections::set_exchange_rate(&world.app, c.id, rate).await.expect("rate");
        world
            .app
            .db
            .save_rule(c.id, RuleKind::Price, crossdock::demo::DEMO_GBP_PRICE_RULE)
            .await
            .expect("rule");
    }
    world
}

fn settings() -> SyncSettings {
    SyncSettings { review_poll: Duration::from_millis(50), ..SyncSettings::default() }
}

fn queue() -> QueueSettings {
    QueueSettings { workers: env("CROSSDOCK_BENCH_WORKERS", 12), ..QueueSettings::default() }
}

async fn full_sync(world: &SandboxWorld) -> (usize, Duration) {
    let engine = world.engine(settings()).await.expect("engine");
    let started = Instant::now();
    let report = import_catalog(&engine, &|_| {}).await.expect("import");
    run_until_idle(&engine, &queue(), &|| {}).await.expect("queue");
    (report.products, started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Phases 1 and 2: the first sync with limits off, rule and plugin costs, the no-op resync.
async fn unlimited(products: usize, variants: usize, shop_count: usize) {
    let world = world("unlimited", products, variants, shop_count, true).await;
    let (cpu0, calls0) = (cpu_time(), world.tiktok.request_count());
    let (read, wall) = full_sync(&world).await;
    let (cpu, first_calls) = (cpu_time() - cpu0, world.tiktok.request_count() - calls0);
    let records = read * shop_count;
    let variant_records = read * variants * shop_count;
    let active: usize = world
        .channels
        .iter()
        .map(|c| world.tiktok.products(&c.shop.cipher).iter().filter(|p| p.status == "ACTIVATE").count())
        .sum();
    println!("\n## 1. First sync, sandbox limits off");
    println!(
        "| products | variants | shops | listings active | wall | products·shops/s | variants·shops/s | TikTok calls | process CPU | CPU per product·shop |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {read} | {} | {shop_count} | {active} | {:.1} s | {:.0} | {:.0} | {first_calls} | {:.1} s | {:.0} µs |",
        read * variants,
        wall.as_secs_f64(),
        records as f64 / wall.as_secs_f64(),
        variant_records as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_micros() as f64 / records as f64
    );

    // Rules alone: the channel's rules over every stored product, in a tight loop.
    let engine = world.engine(settings()).await.expect("engine");
    let channel =
        engine.channels.values().find(|c| c.row.currency.as_ref().is_some_and(|c| c.as_str() != "USD"));
    let channel = channel.or_else(|| engine.channels.values().next()).expect("a channel");
    let rules = channel.rules.as_ref().expect("the channel syncs");
    let db = &world.app.db;
    let mut stored = Vec::new();
    for id in db.product_ids(engine.store.id).await.expect("ids") {
        stored.push(db.product(id).await.expect("product"));
    }
    let started = Instant::now();
    for product in &stored {
        build_draft(&world.app.rules, rules, product, None).expect("rules run");
    }
    let rules_per_product = started.elapsed() / stored.len().max(1) as u32;

    // Plugin calls alone: the host's sandboxed call into the TikTok plugin, then the HTTP
    // round trip, both against the in-process sandbox.
    let listing =
        db.listings_of(channel.row.id).await.expect("listings").into_iter().find(|l| l.external_id.is_some());
    let listing = listing.expect("a listing");
    let listing_id = listing.external_id.clone().expect("listed");
    let sku = listing.sku_ids.values().next().cloned().expect("a sku");
    let stock = vec![crossdock::connectors::SkuStock { sku_id: sku, stock: 5 }];
    let calls = 200;
    let started = Instant::now();
    for _ in 0..calls {
        channel.connector.update_stock(&listing_id, &stock).await.expect("stock update");
    }
    let per_update = started.elapsed() / calls;
    let started = Instant::now();
    for _ in 0..calls {
        channel.connector.listing_status(&listing_id).await.expect("status");
    }
    let per_status = started.elapsed() / calls;
    let pages = 20;
    let started = Instant::now();
    for _ in 0..pages {
        engine.store_connector.list_products(None, 50).await.expect("page");
    }
    let per_page = started.elapsed() / pages;
    println!("\n| cost | per call |");
    println!("|---|---|");
    println!(
        "| rules (product + price rule, {variants} variants) per product·shop | {} µs |",
        rules_per_product.as_micros()
    );
    println!(
        "| plugin update-stock (instantiate + wasm + signed HTTP to the sandbox) | {} µs |",
        per_update.as_micros()
    );
    println!(
        "| plugin listing-status (instantiate + wasm + signed HTTP + JSON decode) | {} µs |",
        per_status.as_micros()
    );
    println!(
        "| plugin list-products, one page (Shopify GraphQL, ≤13 products) | {} µs |",
        per_page.as_micros()
    );

    // Phase 2: nothing changed, so the content hash avoids every channel call.
    let calls_before = world.tiktok.request_count();
    let (_, wall) = full_sync(&world).await;
    let repeat_calls = world.tiktok.request_count() - calls_before;
    println!("\n## 2. No-op resync");
    println!("| wall | TikTok calls | calls avoided by the content hash |");
    println!("|---|---|---|");
    let first_sync_calls = first_calls;
    println!(
        "| {:.1} s | {repeat_calls} | {} |",
        wall.as_secs_f64(),
        first_sync_calls.saturating_sub(repeat_calls)
    );
}

/// Phase 3: a first sync under the platforms' real limits, the way `serve` runs it: the
/// store read and the channel work (linking, pushes, review checks) at the same time, each
/// page pushed as soon as it is stored. Reports both sides' busy time and the retries.
async fn limited(products: usize, variants: usize, shop_count: usize, events: &EventCounter) {
    let world = world("limited", products, variants, shop_count, false).await;
    let engine = world.engine(settings()).await.expect("engine");
    events.take();
    let (tiktok0, shopify0) = (world.tiktok.request_count(), world.shopify.request_count());
    let started = Instant::now();
    let reader = engine.clone();
    let import = tokio::spawn(async move {
        let report = import_catalog(&reader, &|_| {}).await.expect("import");
        (report, Instant::now())
    });
    // Work the queue while the catalog is read; an idle queue waits for the next page.
    while !import.is_finished() {
        run_until_idle(&engine, &queue(), &|| {}).await.expect("queue");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (report, import_done) = import.await.expect("the import task ends");
    run_until_idle(&engine, &queue(), &|| {}).await.expect("queue");
    let wall = started.elapsed();
    let import_wall = import_done - started;
    let shopify_calls = world.shopify.request_count() - shopify0;
    let calls = world.tiktok.request_count() - tiktok0;
    let per_shop_per_s = calls as f64 / shop_count as f64 / wall.as_secs_f64();
    println!(
        "\n## 3. First sync under the real limits (TikTok 50 requests/s per API per shop, Shopify cost bucket), store read and pushes together"
    );
    println!(
        "| products | shops | wall | store read | Shopify calls | TikTok calls | TikTok calls/s per shop |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {shop_count} | {:.1} s | {:.1} s | {shopify_calls} | {calls} | {per_shop_per_s:.1} |",
        report.products,
        wall.as_secs_f64(),
        import_wall.as_secs_f64(),
    );
    println!("\n| shop | TikTok API | calls | calls/s (first to last) | share of 50/s | 429 |");
    println!("|---|---|---|---|---|---|");
    for channel in &world.channels {
        for api in world.tiktok.api_calls(&channel.shop.cipher) {
            let rate = api.per_second().unwrap_or(0.0);
            println!(
                "| {} | {} | {} | {rate:.1} | {:.1} % | {} |",
                channel.shop.name,
                api.api,
                api.admitted,
                rate / 50.0 * 100.0,
                api.throttled
            );
        }
    }
    let counted = events.take();
    println!("\n| retry event | count |");
    println!("|---|---|");
    for (event, count) in &counted {
        println!("| {event} | {count} |");
    }
    if counted.is_empty() {
        println!("| (none) | 0 |");
    }
}

/// Phase 4: store stock change → every channel, by webhook.
async fn propagation(samples: usize, shop_count: usize) {
    let world = world("propagation", 50, 1, shop_count, true).await;
    full_sync(&world).await;
    let state = crossdock::api::ApiState::new(world.app.clone(), settings());
    let server =
        crossdock_sandbox::server::ServerHandle::start(crossdock::api::router(state), 0).await.expect("api");
    world.shopify.set_webhook_retry(2, Duration::from_millis(20));
    world
        .shopify
        .subscribe_webhooks(&format!("{}/webhooks/store/{}", server.base_url(), world.org), WEBHOOK_SECRET);
    let engine = SyncEngine::load(&world.app, world.org, settings()).await.expect("engine");
    let sku = generated_catalog(50, 1, 42)[0].variants[0].sku.clone();
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        let quantity = 100 + i as i64 * shop_count as i64;
        let expected = (quantity / shop_count as i64) as u32;
        let started = Instant::now();
        world.shopify.set_variant_stock(&sku, quantity);
        loop {
            run_until_idle(&engine, &queue(), &|| {}).await.expect("queue");
            let everywhere = world.channels.iter().all(|c| {
                world
                    .tiktok
                    .products(&c.shop.cipher)
                    .iter()
                    .flat_map(|p| p.skus.iter())
                    .any(|s| s.seller_sku == sku && s.quantity == expected)
            });
            if everywhere {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "\n## 4. Store stock change → every channel (webhook → re-read → push), {samples} changes, {shop_count} shops"
    );
    println!("| p50 | p99 | max |");
    println!("|---|---|---|");
    println!(
        "| {:.1} ms | {:.1} ms | {:.1} ms |",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events = EventCounter::default();
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(events.clone()));
    let phases = std::env::var("CROSSDOCK_BENCH_PHASES").unwrap_or_else(|_| "1,3,4".into());
    let phase = |n: &str| phases.split(',').any(|p| p.trim() == n);
    let products = env("CROSSDOCK_BENCH_PRODUCTS", 10_000);
    let variants = env("CROSSDOCK_BENCH_VARIANTS", 3);
    let shop_count = env("CROSSDOCK_BENCH_SHOPS", 3);
    let limited_products = env("CROSSDOCK_BENCH_LIMITED_PRODUCTS", 1_000);
    let samples = env("CROSSDOCK_BENCH_STOCK_SAMPLES", 50);
    println!(
        "# Crossdock catalog sync benchmark ({} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    if phase("1") {
        unlimited(products, variants, shop_count).await;
    }
    if phase("3") {
        limited(limited_products, variants, shop_count, &events).await;
    }
    if phase("4") {
        propagation(samples, shop_count).await;
    }
}
