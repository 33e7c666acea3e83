//! The sync under trouble: platforms that throttle, fail, lose answers and expire tokens.
//! Every product still arrives exactly once, and no job fails for a reason that a retry cures.

use crossdock::catalog::import::import_catalog;
use crossdock::connectors::{ChannelConnector, ConnectionSettings, Plugin, builtin};
use crossdock::db::jobs::JobState;
use crossdock::dispatch::{QueueSettings, run_due, run_until_idle};
use crossdock::queue::Backoff;
use crossdock_e2e::{active_products, fast_settings, fresh_sqlite_url, init_tracing, world};
use crossdock_sandbox::chaos::Chaos;
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig, TikTokSandbox};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn seller_skus(world: &crossdock::demo::SandboxWorld, cipher: &str) -> Vec<String> {
    let mut skus: Vec<String> = world
        .tiktok
        .products(cipher)
        .iter()
        .filter(|p| p.status != "DELETED")
        .flat_map(|p| p.skus.iter().map(|s| s.seller_sku.clone()))
        .collect();
    skus.sort();
    skus
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_failures_and_lost_answers_slow_the_sync_but_list_every_product_exactly_once() {
    let catalog = active_products(6);
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("US 2", "US", "USD")];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    // Shopify throttles a fifth of the reads with HTTP 429, and TikTok throttles, fails and
    // loses answers during linking; then, for the pushes, TikTok loses almost a third of its
    // answers after doing the work: a create whose answer is lost must not be repeated blind.
    world.shopify.set_chaos(Chaos { throttle_rate: 0.2, seed: 3, ..Chaos::default() });
    world.tiktok.set_chaos(Chaos {
        throttle_rate: 0.15,
        error_rate: 0.1,
        malformed_rate: 0.15,
        seed: 11,
        ..Chaos::default()
    });
    let engine = world.engine(fast_settings()).await.expect("engine");
    let report = import_catalog(&engine, &|_| {}).await.expect("the import waits out every failure");
    assert_eq!(report.products, 6, "every product was read despite the throttling");
    world.tiktok.set_chaos(Chaos { malformed_rate: 0.3, error_rate: 0.1, seed: 5, ..Chaos::default() });
    // Patient and quick: enough attempts that a job of several calls outlives a platform failing
    // 40 % of them (the draws follow the calls' arrival order, which the workers' timing moves,
    // so the attempts must cover the unlucky orders too: a 4-call job fails all 100 attempts
    // with odds of about 1 in a million).
    let queue = QueueSettings {
        workers: 4,
        max_attempts: 100,
        backoff: Backoff { base: Duration::from_millis(20), max: Duration::from_millis(200) },
        ..QueueSettings::default()
    };
    run_until_idle(&engine, &queue, &|| {}).await.expect("the queue drains");
    world.tiktok.set_chaos(Chaos::default());

    let counts: BTreeMap<JobState, i64> = world.app.db.job_counts().await.expect("counts");
    let failed = world.app.db.failed_jobs().await.expect("failed jobs");
    for state in [JobState::Failed, JobState::Dead, JobState::Queued, JobState::Running] {
        assert_eq!(counts.get(&state).copied().unwrap_or(0), 0, "no job {state:?}: {counts:?} {failed:#?}");
    }
    let mut expected: Vec<String> =
        catalog.iter().flat_map(|p| p.variants.iter().map(|v| v.sku.clone())).collect();
    expected.sort();
    for channel in &world.channels {
        assert_eq!(
            seller_skus(&world, &channel.shop.cipher),
            expected,
            "each SKU listed once on {}",
            channel.shop.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tiktok_connector_refreshes_an_expired_token_and_retries_the_call() {
    let tiktok = TikTokSandbox::start(TikTokConfig::default()).await.expect("sandbox");
    let shop = tiktok.shops()[0].clone();
    let runtime = crossdock_e2e::local_runtime();
    let bytes = builtin::all().into_iter().find(|(id, _)| *id == "tiktok-shop").expect("built in").1;
    let plugin = Arc::new(Plugin::load(&runtime, bytes, "tiktok-shop").expect("loads"));
    let settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("auth-base-url", tiktok.base_url())
        .setting("app-key", "sandbox-app-key")
        .setting("shop-cipher", shop.cipher.clone())
        .secret("app-secret", "sandbox-app-secret")
        .secret("access-token", tiktok.access_token())
        .secret("refresh-token", tiktok.refresh_token());
    let connector = ChannelConnector::new(&runtime, plugin, "refresh test", settings).expect("connects");
    let listed = tiktok.seed_product(&shop.cipher, "Kettle", &["KETTLE-1"]);

    tiktok.expire_access_token();
    let found = connector.find_skus(&["KETTLE-1".to_string()]).await.expect("refreshed, then answered");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].listing_id, listed);
    let stats: serde_json::Value = reqwest::get(format!("{}/_sandbox/stats", tiktok.base_url()))
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert!(
        stats["requests"].as_u64().expect("counted") >= 3,
        "expired call, refresh, retried call: {stats}"
    );
}

/// A create whose answer was lost (the listing exists, Crossdock never learnt its id) is not
/// repeated blind: the next attempt finds the listing by its SKUs and adopts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_create_adopts_the_listing_an_earlier_attempt_made_instead_of_listing_twice() {
    init_tracing();
    let catalog = active_products(1);
    let world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let cipher = world.channels[0].shop.cipher.clone();
    let engine = world.engine(fast_settings()).await.expect("engine");
    import_catalog(&engine, &|_| {}).await.expect("imports");
    let queue = QueueSettings {
        workers: 1,
        backoff: Backoff { base: Duration::from_millis(1), max: Duration::from_millis(5) },
        ..QueueSettings::default()
    };
    // The category's attributes are read (and kept) first, so the create call is the one that
    // fails; then the listing appears as if that call had reached the shop before its answer
    // was lost.
    let channel = engine.channel(world.channels[0].id).expect("the channel");
    let category = channel.rules.as_ref().and_then(|r| r.categories.default_category.clone());
    channel.category_attributes(&category.expect("a default category")).await.expect("attributes");
    world.tiktok.set_chaos(Chaos { error_rate: 1.0, ..Chaos::default() });
    run_due(engine.clone(), &queue, &|| {}).await.expect("the first attempt runs");
    world.tiktok.set_chaos(Chaos::default());
    let skus: Vec<&str> = catalog[0].variants.iter().map(|v| v.sku.as_str()).collect();
    let earlier = world.tiktok.seed_product(&cipher, &catalog[0].title, &skus);

    run_until_idle(&engine, &queue, &|| {}).await.expect("the queue drains");
    let products = world.tiktok.products(&cipher);
    assert_eq!(products.len(), 1, "listed once: {products:#?}");
    let product = world.app.db.product_ids(engine.store.id).await.expect("ids")[0];
    let listing = world.app.db.listing(product, world.channels[0].id).await;
    let listing = listing.expect("reads").expect("a listing");
    assert_eq!(listing.external_id.as_deref(), Some(earlier.as_str()), "the earlier listing was adopted");
}
