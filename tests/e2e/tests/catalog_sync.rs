//! End to end: the sandbox Shopify catalog reaches two sandbox TikTok Shops through the real
//! wasm connectors and the channels' Rhai rules, on SQLite and on PostgreSQL.

use crossdock::db::jobs::JobState;
use crossdock::db::listings::ListingState;
use crossdock::demo::{DEMO_GBP_PRICE_RULE, SandboxWorld, demo_shops};
use crossdock::rules::RuleKind;
use crossdock_e2e::{fresh_postgres_url, fresh_sqlite_url, init_tracing, sync, world};
use crossdock_sandbox::catalog::{ProductStatus, demo_catalog};
use crossdock_sandbox::tiktok::ShopSpec;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimals are valid")
}

/// What `rules/examples/price-convert-charm.rhai` should make of a USD price, computed
/// here independently of Rhai.
fn expected_gbp(usd: Decimal, rate: Decimal) -> Decimal {
    let x = usd * rate * dec("1.05");
    let whole = x.floor();
    if whole + dec("0.99") >= x { whole + dec("0.99") } else { whole + Decimal::ONE + dec("0.99") }
}

async fn gbp_world(database_url: &str) -> SandboxWorld {
    let world = world(database_url, demo_catalog(), demo_shops()).await;
    let uk = world.channels.iter().find(|c| c.shop.currency == "GBP").expect("a GBP shop");
    crossdock::connections::set_exchange_rate(&world.app, uk.id, dec("0.79")).await.expect("rate saved");
    world.app.db.save_rule(uk.id, RuleKind::Price, DEMO_GBP_PRICE_RULE).await.expect("rule saved");
    world
}

async fn every_active_product_is_listed_on_both_shops_with_converted_prices(world: &SandboxWorld) {
    let report = sync(world).await;
    let catalog = demo_catalog();
    assert_eq!(report.products, catalog.len());
    let active: Vec<_> = catalog.iter().filter(|p| p.status == ProductStatus::Active).collect();
    let usd_by_sku: HashMap<&str, Decimal> =
        active.iter().flat_map(|p| p.variants.iter().map(|v| (v.sku.as_str(), v.price))).collect();

    for channel in &world.channels {
        let listed = world.tiktok.products(&channel.shop.cipher);
        assert_eq!(listed.len(), active.len(), "every active product is listed on {}", channel.shop.name);
        assert!(
            listed.iter().all(|p| p.status == "ACTIVATE"),
            "every listing passed review on {}",
            channel.shop.name
        );
        let counts = world.app.db.listing_counts(channel.id).await.expect("counts");
        assert_eq!(counts.get(&ListingState::Active).copied(), Some(active.len() as i64));
        assert_eq!(
            counts.get(&ListingState::Skipped).copied().unwrap_or(0),
            (catalog.len() - active.len()) as i64,
            "drafts and archived products are skipped by the default product rule"
        );
        for product in &listed {
            for sku in &product.skus {
                let usd = usd_by_sku[sku.seller_sku.as_str()];
                assert_eq!(sku.price.currency, channel.shop.currency);
                let expected =
                    if channel.shop.currency == "GBP" { expected_gbp(usd, dec("0.79")) } else { usd };
                assert_eq!(
                    sku.price.amount, expected,
                    "price of {} on {}",
                    sku.seller_sku, channel.shop.name
                );
            }
        }
    }
    let jobs = world.app.db.job_counts().await.expect("job counts");
    assert_eq!(jobs.get(&JobState::Failed), None, "no job failed: {:?}", world.app.db.failed_jobs().await);
    assert_eq!(jobs.get(&JobState::Dead), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_reaches_both_shops_with_gbp_prices_converted_by_the_rule_on_sqlite() {
    init_tracing();
    let world = gbp_world(&fresh_sqlite_url()).await;
    every_active_product_is_listed_on_both_shops_with_converted_prices(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_reaches_both_shops_with_gbp_prices_converted_by_the_rule_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let world = gbp_world(&url).await;
    every_active_product_is_listed_on_both_shops_with_converted_prices(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_with_nothing_changed_makes_no_channel_calls() {
    init_tracing();
    let world = gbp_world(&fresh_sqlite_url()).await;
    sync(&world).await;
    let calls_after_first = world.tiktok.request_count();
    let report = sync(&world).await;
    assert_eq!(report.unchanged, report.products, "nothing changed in the store");
    assert_eq!(report.queued, 0, "no push job is queued for unchanged products");
    assert_eq!(world.tiktok.request_count(), calls_after_first, "no TikTok call on a no-op sync");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_change_reaches_the_live_listings_without_a_new_review() {
    init_tracing();
    let world = gbp_world(&fresh_sqlite_url()).await;
    sync(&world).await;
    let sku = demo_catalog()
        .into_iter()
        .find(|p| p.status == ProductStatus::Active)
        .map(|p| p.variants[0].sku.clone())
        .expect("an active product");
    assert!(world.shopify.set_variant_stock(&sku, 7));
    sync(&world).await;
    for channel in &world.channels {
        let listed = world.tiktok.products(&channel.shop.cipher);
        let product = listed.iter().find(|p| p.skus.iter().any(|s| s.seller_sku == sku)).expect("listed");
        let quantity = product.skus.iter().find(|s| s.seller_sku == sku).map(|s| s.quantity);
        assert_eq!(quantity, Some(3), "an equal share of the new 7 units on {}", channel.shop.name);
        assert_eq!(product.status, "ACTIVATE", "a stock change needs no review");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_in_another_currency_lists_nothing_until_it_has_an_exchange_rate() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), demo_catalog(), demo_shops()).await;
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("engine");
    let uk = world.channels.iter().find(|c| c.shop.currency == "GBP").expect("GBP shop");
    let blocked = engine.channel(uk.id).and_then(|c| c.blocked.clone()).expect("the GBP channel is blocked");
    assert!(blocked.contains("sells in GBP but the store in USD"), "{blocked}");
    assert!(blocked.contains("exchange rate"), "{blocked}");
    sync(&world).await;
    assert!(world.tiktok.products(&uk.shop.cipher).is_empty(), "nothing listed without a rate");
    let us = world.channels.iter().find(|c| c.shop.currency == "USD").expect("USD shop");
    assert!(!world.tiktok.products(&us.shop.cipher).is_empty(), "the USD shop still syncs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_tiktok_signature_is_refused_with_the_platform_code() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), demo_catalog(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let (sandbox, shop) = (&world.tiktok, world.channels[0].shop.clone());
    let settings = crossdock::connectors::ConnectionSettings::default()
        .setting("base-url", sandbox.base_url())
        .setting("app-key", "sandbox-app-key")
        .setting("shop-cipher", shop.cipher.clone())
        .secret("app-secret", "not-the-secret")
        .secret("access-token", sandbox.access_token());
    let error =
        crossdock::connections::add_channel(&world.app, world.org, "Wrong secret", "tiktok-shop", settings)
            .await
            .expect_err("a bad signature is refused");
    let message = error.to_string();
    assert!(message.contains("tiktok-shop"), "names the plugin: {message}");
    assert!(message.contains("106001"), "carries TikTok's code: {message}");
    assert!(message.contains("unauthorized"), "says what kind of failure: {message}");
}
