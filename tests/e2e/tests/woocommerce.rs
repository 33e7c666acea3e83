//! End to end: a sandbox WooCommerce catalog (simple and variable products, a draft) reaches
//! a sandbox TikTok Shop through the real WooCommerce and TikTok Shop wasm connectors.

use crossdock::connections;
use crossdock::connectors::ConnectionSettings;
use crossdock::db::jobs::JobState;
use crossdock::db::listings::ListingState;
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::SyncEngine;
use crossdock_e2e::{fast_settings, fresh_sqlite_url, init_tracing};
use crossdock_sandbox::catalog::{CatalogProduct, ProductStatus, generated_catalog};
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec, TikTokConfig, TikTokSandbox};
use crossdock_sandbox::woocommerce::{WooConfig, WooSandbox};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::time::Duration;

const KEY: &str = "ck_e2e_consumer_key";
const SECRET: &str = "cs_e2e_consumer_secret";

/// Two simple products, two variable ones (3 variations each) and one draft.
fn catalog() -> Vec<CatalogProduct> {
    let mut catalog = generated_catalog(2, 1, 21);
    catalog.extend(generated_catalog(2, 3, 22).into_iter().map(|mut p| {
        p.handle = format!("{}-variable", p.handle);
        for v in &mut p.variants {
            v.sku = format!("{}-V", v.sku);
        }
        p
    }));
    let mut draft = generated_catalog(1, 1, 23).remove(0);
    draft.handle = "draft-product".into();
    draft.variants[0].sku = "DRAFT-1".into();
    draft.status = ProductStatus::Draft;
    catalog.push(draft);
    catalog
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_woocommerce_products_are_active_on_tiktok_with_their_skus_and_prices() {
    init_tracing();
    let catalog = catalog();
    let woo = WooSandbox::start(WooConfig {
        store_name: "Crossdock Woo Outfitters".into(),
        currency: "USD".into(),
        consumer_key: KEY.into(),
        consumer_secret: SECRET.into(),
        catalog: catalog.clone(),
    })
    .await
    .expect("the WooCommerce sandbox starts");
    let tiktok_config = TikTokConfig {
        shops: vec![ShopSpec::new("Crossdock US", "US", "USD")],
        review: ReviewPolicy { delay: Duration::from_millis(150), ..ReviewPolicy::default() },
        ..TikTokConfig::default()
    };
    let (app_key, app_secret) = (tiktok_config.app_key.clone(), tiktok_config.app_secret.clone());
    let tiktok = TikTokSandbox::start(tiktok_config).await.expect("the TikTok sandbox starts");

    let app = crossdock_e2e::start_app(&fresh_sqlite_url()).await;
    let org = app.db.create_org("Crossdock Woo Outfitters").await.expect("org created");
    let store_settings = ConnectionSettings::default()
        .setting("base-url", woo.base_url())
        .secret("consumer-key", KEY)
        .secret("consumer-secret", SECRET)
        .secret("webhook-secret", "woo-webhook-secret");
    connections::connect_store(&app, org, "Woo", "woocommerce", store_settings)
        .await
        .expect("store connected");
    let shop = tiktok.shops().remove(0);
    let channel_settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", app_key)
        .setting("shop-cipher", shop.cipher.clone())
        .setting("category-id", "600001")
        .secret("app-secret", app_secret)
        .secret("access-token", tiktok.access_token());
    let channel = connections::add_channel(&app, org, &shop.name, "tiktok-shop", channel_settings)
        .await
        .expect("channel added");

    let engine = SyncEngine::load(&app, org, fast_settings()).await.expect("the sync engine loads");
    let report =
        crossdock::catalog::import::import_catalog(&engine, &|_| {}).await.expect("the catalog imports");
    let queue = QueueSettings { workers: 4, ..QueueSettings::default() };
    run_until_idle(&engine, &queue, &|| {}).await.expect("the queue drains");

    assert_eq!(report.products, catalog.len());
    let published: Vec<&CatalogProduct> =
        catalog.iter().filter(|p| p.status == ProductStatus::Active).collect();
    let price_by_sku: HashMap<&str, Decimal> =
        published.iter().flat_map(|p| p.variants.iter().map(|v| (v.sku.as_str(), v.price))).collect();
    let listed = tiktok.products(&shop.cipher);
    assert_eq!(listed.len(), published.len(), "every published product is listed, the draft is not");
    for product in &listed {
        assert_eq!(product.status, "ACTIVATE", "{} passed review", product.title);
        let source = published
            .iter()
            .find(|p| p.variants.iter().any(|v| product.skus.iter().any(|s| s.seller_sku == v.sku)))
            .expect("the listing comes from a published product");
        assert_eq!(
            product.skus.len(),
            source.variants.len(),
            "one TikTok SKU per variation of {}",
            source.title
        );
        for sku in &product.skus {
            assert_eq!(sku.price.currency, "USD");
            assert_eq!(
                sku.price.amount,
                price_by_sku[sku.seller_sku.as_str()],
                "price of {}",
                sku.seller_sku
            );
        }
    }
    assert!(listed.iter().all(|p| p.skus.iter().all(|s| s.seller_sku != "DRAFT-1")));
    let jobs = app.db.job_counts().await.expect("job counts");
    assert_eq!(jobs.get(&JobState::Failed), None, "no job failed: {:?}", app.db.failed_jobs().await);
    assert_eq!(jobs.get(&JobState::Dead), None);
    let counts = app.db.listing_counts(channel).await.expect("listing counts");
    assert_eq!(counts.get(&ListingState::Active).copied(), Some(published.len() as i64));
    app.db.close().await;
    tiktok.stop().await;
    woo.stop().await;
}
