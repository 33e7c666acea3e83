//! A store plugin built for contract 0.2.0 (`plugins/test-legacy-store`, a catalog-only
//! Shopify connector generated from `wit/0.2.0`) on the real path: connected as an
//! organization's store, its catalog reaches a TikTok sandbox shop, its product webhooks move
//! listings, and every order call says it needs contract 0.3.0 instead of failing obscurely.

use crossdock::connections;
use crossdock::connectors::{ConnectionSettings, Contract, ErrorKind, builtin};
use crossdock::db::jobs::JobState;
use crossdock::demo::{SandboxWorld, WorldChannel};
use crossdock_e2e::{
    active_products, fresh_sqlite_url, init_tracing, listing_with_sku, run_queue, serve_api, sync,
};
use crossdock_sandbox::catalog::{CatalogProduct, ProductStatus};
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec, TikTokConfig, TikTokSandbox};
use std::collections::HashMap;
use std::time::Duration;

const TOKEN: &str = "shpat_legacy_token";
const WEBHOOK_SECRET: &str = "legacy-webhook-secret";

/// A world whose store is the legacy plugin (installed from its component file) over a
/// Shopify sandbox with `catalog`, and whose one channel is a TikTok sandbox shop.
async fn legacy_world(catalog: Vec<CatalogProduct>) -> SandboxWorld {
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Legacy Outfitters".into(),
        currency: "USD".into(),
        access_token: TOKEN.into(),
        catalog,
    })
    .await
    .expect("the Shopify sandbox starts");
    let tiktok_config = TikTokConfig {
        shops: vec![ShopSpec::new("Legacy US", "US", "USD")],
        review: ReviewPolicy { delay: Duration::from_millis(150), ..ReviewPolicy::default() },
        ..TikTokConfig::default()
    };
    let (app_key, app_secret) = (tiktok_config.app_key.clone(), tiktok_config.app_secret.clone());
    let tiktok = TikTokSandbox::start(tiktok_config).await.expect("the TikTok sandbox starts");

    let app = crossdock_e2e::start_app(&fresh_sqlite_url()).await;
    let path = std::path::Path::new(builtin::PLUGIN_DIR).join("test-legacy-store.wasm");
    let plugin = app.plugins.install_file(&app.runtime, &path).expect("the 0.2.0 store plugin installs");
    assert_eq!(plugin.id(), "test-legacy-store");
    assert_eq!(plugin.contract(), Contract::V0_2);

    let org = app.db.create_org("Legacy Outfitters").await.expect("org created");
    let store_settings = ConnectionSettings::default()
        .setting("base-url", shopify.base_url())
        .secret("access-token", TOKEN)
        .secret("webhook-secret", WEBHOOK_SECRET);
    connections::connect_store(&app, org, "Legacy Shopify", "test-legacy-store", store_settings)
        .await
        .expect("a 0.2.0 store plugin connects");
    let shop = tiktok.shops().remove(0);
    let channel_settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", app_key)
        .setting("shop-cipher", shop.cipher.clone())
        .setting("category-id", crossdock::demo::DEFAULT_CATEGORY)
        .secret("app-secret", app_secret)
        .secret("access-token", tiktok.access_token());
    let id = connections::add_channel(&app, org, &shop.name, "tiktok-shop", channel_settings)
        .await
        .expect("channel added");
    SandboxWorld { shopify, tiktok, app, org, channels: vec![WorldChannel { id, shop }] }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_only_store_plugin_built_for_contract_0_2_still_lists_its_catalog() {
    init_tracing();
    let catalog = active_products(12);
    let world = legacy_world(catalog.clone()).await;
    let store = world.app.db.store_of(world.org).await.expect("reads").expect("a store is connected");
    assert_eq!(store.plugin_id, "test-legacy-store");
    assert_eq!(
        store.currency.as_ref().map(|c| c.as_str()),
        Some("USD"),
        "store-info's currency was recorded"
    );

    let report = sync(&world).await;
    assert_eq!(report.products, catalog.len(), "every product read, over several Relay pages");
    let shop = &world.channels[0].shop;
    let listed = world.tiktok.products(&shop.cipher);
    assert_eq!(listed.len(), catalog.len(), "every product is listed");
    let price_by_sku: HashMap<&str, rust_decimal::Decimal> =
        catalog.iter().flat_map(|p| p.variants.iter().map(|v| (v.sku.as_str(), v.price))).collect();
    for product in &catalog {
        let listing = listing_with_sku(&world, &shop.cipher, &product.variants[0].sku);
        assert_eq!(listing.status, "ACTIVATE", "{} passed review", product.title);
        assert_eq!(listing.title, product.title);
        assert_eq!(
            listing.skus.len(),
            product.variants.len(),
            "one TikTok SKU per variant of {}",
            product.title
        );
        for sku in &listing.skus {
            assert_eq!(
                sku.price.amount,
                price_by_sku[sku.seller_sku.as_str()],
                "price of {}",
                sku.seller_sku
            );
        }
    }
    let jobs = world.app.db.job_counts().await.expect("job counts");
    assert_eq!(jobs.get(&JobState::Failed), None, "no job failed: {:?}", world.app.db.failed_jobs().await);
    assert_eq!(jobs.get(&JobState::Dead), None);

    // Its product webhooks, signed by the sandbox and verified by the 0.2.0 plugin, move the
    // listings without a catalog read: an archived product (`products/update`, re-read
    // through get-product) and a deleted one (`products/delete`) are taken off sale.
    let api = serve_api(&world).await;
    world.shopify.set_webhook_retry(2, Duration::from_millis(50));
    world
        .shopify
        .subscribe_webhooks(&format!("{}/webhooks/store/{}", api.base_url(), world.org), WEBHOOK_SECRET);
    assert!(world.shopify.set_product_status(&catalog[0].handle, ProductStatus::Archived));
    assert!(world.shopify.delete_product(&catalog[1].handle));
    world.shopify.wait_for_webhooks().await;
    assert_eq!(world.shopify.webhook_deliveries(), 2, "the host took both deliveries");
    run_queue(&world).await;
    for (product, why) in [(&catalog[0], "archived in the store"), (&catalog[1], "deleted in the store")] {
        let listing = listing_with_sku(&world, &shop.cipher, &product.variants[0].sku);
        assert_eq!(listing.status, "SELLER_DEACTIVATED", "{why}");
    }
    let untouched = listing_with_sku(&world, &shop.cipher, &catalog[2].variants[0].sku);
    assert_eq!(untouched.status, "ACTIVATE", "only the products the webhooks named moved");
    world.app.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_plugin_built_for_contract_0_2_carries_no_orders_and_says_which_contract_does() {
    init_tracing();
    let world = legacy_world(active_products(2)).await;
    let store = world.app.db.store_of(world.org).await.expect("reads").expect("a store is connected");
    let connector = connections::store_connector(&world.app, &store).expect("binds");
    assert_eq!(connector.contract(), "0.2.0");
    assert!(!connector.supports_orders());

    let fails = [
        connector.get_order("gid://shopify/Order/1").await.map(|_| ()).expect_err("no orders in 0.2.0"),
        connector.find_order("tiktok:1").await.map(|_| ()).expect_err("no orders in 0.2.0"),
        connector.list_orders(0, None, 10).await.map(|_| ()).expect_err("no orders in 0.2.0"),
        connector.cancel_order("gid://shopify/Order/1", "test", false, false).await.expect_err("no orders"),
    ];
    for error in fails {
        let ErrorKind::Unsupported(message) = &error.kind else {
            panic!("expected unsupported, got {error}");
        };
        assert_eq!(error.plugin, "test-legacy-store");
        assert!(message.contains("0.2.0") && message.contains("contract 0.3.0"), "{message}");
        assert!(!error.is_retryable(), "only a new build helps: {error}");
    }
    assert_eq!(world.shopify.order_count(), 0, "nothing reached the store");

    // What `crossdock plugin inspect` prints for it: catalog only, orders missing.
    let missing = connector.plugin().contract().missing_store_operations();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].starts_with("store-orders") && missing[0].contains("catalog only"), "{missing:?}");
    world.app.db.close().await;
}
