//! The conformance kit (`crossdock plugin check`) against the sandboxes: the built-in
//! connectors pass every check, and a connector that breaks the contract is told which
//! check failed and why.

use crossdock::connectors::conformance::{CheckOptions, CheckResult, check, check_with};
use crossdock::connectors::{ConnectionSettings, Plugin, PluginRuntime, builtin};
use crossdock_e2e::active_products;
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig, TikTokSandbox};
use std::sync::Arc;

fn builtin_plugin(runtime: &PluginRuntime, id: &str) -> Arc<Plugin> {
    let bytes = builtin::all().into_iter().find(|(name, _)| *name == id).expect("built in").1;
    Arc::new(Plugin::load(runtime, bytes, id).expect("loads"))
}

fn assert_all_pass(results: &[CheckResult]) {
    assert!(results.len() >= 5, "the suite ran: {results:#?}");
    let failed: Vec<&CheckResult> = results.iter().filter(|r| !r.passed).collect();
    assert!(failed.is_empty(), "failed checks: {failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shopify_connector_passes_the_kit_against_its_sandbox() {
    let mut catalog = active_products(30);
    catalog.extend(crossdock_sandbox::catalog::generated_catalog(40, 2, 7));
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Kit".into(),
        currency: "USD".into(),
        access_token: "tok".into(),
        catalog,
    })
    .await
    .expect("sandbox");
    let runtime = crossdock_e2e::local_runtime();
    let settings = ConnectionSettings::default()
        .setting("base-url", shopify.base_url())
        .secret("access-token", "tok")
        .secret("webhook-secret", "kit-secret");
    let results = check(&runtime, builtin_plugin(&runtime, "shopify"), settings).await.expect("runs");
    assert_all_pass(&results);
    let paging = results.iter().find(|r| r.check.contains("pages to the end")).expect("paging check");
    assert!(paging.detail.starts_with("70 products"), "every product over several pages: {}", paging.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tiktok_connector_passes_the_kit_against_its_sandbox() {
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("UK", "GB", "GBP")],
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let shop = tiktok.shops()[0].clone();
    let runtime = crossdock_e2e::local_runtime();
    let settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", "sandbox-app-key")
        .setting("shop-cipher", shop.cipher)
        .secret("app-secret", "sandbox-app-secret")
        .secret("access-token", tiktok.access_token());
    assert_all_pass(&check(&runtime, builtin_plugin(&runtime, "tiktok-shop"), settings).await.expect("runs"));
}

/// With a live listing to work on, the kit also changes its price and stock and reads them
/// back, deactivates it and reads it inactive, activates it and reads it live; the listing
/// ends as it began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tiktok_connector_passes_the_activation_and_read_back_checks_on_a_live_listing() {
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("UK", "GB", "GBP")],
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let shop = tiktok.shops()[0].clone();
    let listing = tiktok.seed_product(&shop.cipher, "Kit kettle", &["KIT-KETTLE"]);
    let before = tiktok.product(&shop.cipher, &listing).expect("seeded");
    let runtime = crossdock_e2e::local_runtime();
    let settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", "sandbox-app-key")
        .setting("shop-cipher", shop.cipher.clone())
        .secret("app-secret", "sandbox-app-secret")
        .secret("access-token", tiktok.access_token());
    let options = CheckOptions { listing_id: Some(listing.clone()) };
    let results = check_with(&runtime, builtin_plugin(&runtime, "tiktok-shop"), settings, &options)
        .await
        .expect("runs");
    assert_all_pass(&results);
    for (operation, check) in [
        ("read-listing", "answers not-found for an unknown listing"),
        ("activate-listing", "answers not-found for an unknown listing"),
        ("read-listing", "reads a live listing with its SKUs"),
        ("update-prices", "read-listing shows the price update-prices set"),
        ("update-stock", "read-listing shows the stock update-stock set"),
        ("deactivate-listing", "read-listing shows a deactivated listing as inactive"),
        ("activate-listing", "puts it back on sale: read-listing shows it active or in review"),
        ("activate-listing", "activating a listing that is on sale succeeds"),
    ] {
        let ran = results.iter().find(|r| r.operation == operation && r.check == check);
        assert!(
            ran.is_some_and(|r| !r.detail.starts_with("skipped")),
            "{operation}: {check} ran: {results:#?}"
        );
    }
    let after = tiktok.product(&shop.cipher, &listing).expect("still there");
    assert_eq!(after.status, "ACTIVATE");
    assert_eq!(after.skus, before.skus, "price and stock were put back");
}

/// A store plugin really built for contract 0.2.0 (`plugins/test-legacy-store`, generated
/// from `wit/0.2.0`: no `store-orders`, no `order-changed`) loads as 0.2.0 and passes the
/// store suite against the Shopify sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_plugin_built_for_contract_0_2_still_passes_the_kit() {
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Old".into(),
        currency: "USD".into(),
        access_token: "tok".into(),
        catalog: active_products(30),
    })
    .await
    .expect("sandbox");
    let runtime = crossdock_e2e::local_runtime();
    let bytes = std::fs::read(format!("{}/test-legacy-store.wasm", builtin::PLUGIN_DIR)).expect("built");
    let old = Plugin::load(&runtime, &bytes, "test-legacy-store").expect("a 0.2.0 store plugin loads");
    assert_eq!(old.contract(), crossdock::connectors::Contract::V0_2);
    let settings = ConnectionSettings::default()
        .setting("base-url", shopify.base_url())
        .secret("access-token", "tok")
        .secret("webhook-secret", "kit-secret");
    let results = check(&runtime, Arc::new(old), settings).await.expect("runs");
    assert_all_pass(&results);
    let info = results.iter().find(|r| r.operation == "store-info").expect("checked");
    assert!(info.detail.starts_with("Old ("), "the shop's own name: {}", info.detail);
    assert!(info.detail.ends_with("currency USD"), "{}", info.detail);
    let paging = results.iter().find(|r| r.check.contains("pages to the end")).expect("paging check");
    assert!(paging.detail.starts_with("30 products over "), "{}", paging.detail);
    let pages: usize = paging
        .detail
        .trim_start_matches("30 products over ")
        .trim_end_matches(" pages")
        .parse()
        .expect("a page count");
    assert!(pages > 1, "paged with Relay cursors, not in one answer: {}", paging.detail);
}

/// A 0.1.0 channel plugin has no activation or read-back: the kit says so, and fails nothing.
#[tokio::test]
async fn a_contract_0_1_plugin_is_told_activation_and_read_back_are_not_available() {
    let runtime = crossdock_e2e::local_runtime();
    let bytes = std::fs::read(format!("{}/test-legacy.wasm", builtin::PLUGIN_DIR)).expect("built");
    let legacy = Arc::new(Plugin::load(&runtime, &bytes, "test-legacy").expect("loads"));
    let options = CheckOptions { listing_id: Some("legacy-1".into()) };
    let results = check_with(&runtime, legacy, ConnectionSettings::default(), &options).await.expect("runs");
    assert_all_pass(&results);
    for operation in ["read-listing", "activate-listing"] {
        let result = results.iter().find(|r| r.operation == operation).expect("reported");
        assert_eq!(result.detail, "not available (contract 0.1.0)");
    }
}

#[tokio::test]
async fn a_connector_that_breaks_the_contract_is_told_which_check_failed() {
    let runtime = crossdock_e2e::local_runtime();
    let bytes = std::fs::read(format!("{}/test-chaos.wasm", builtin::PLUGIN_DIR)).expect("built");
    let chaos = Arc::new(Plugin::load(&runtime, &bytes, "test-chaos").expect("loads"));
    let results = check(&runtime, chaos, ConnectionSettings::default()).await.expect("runs");
    let status = results.iter().find(|r| r.operation == "listing-status").expect("checked");
    assert!(!status.passed);
    assert_eq!(status.detail, "reported an unknown listing as active");
    // The chaos channel has no carriers either: no tracking could ever be sent through it.
    let providers =
        results.iter().find(|r| r.operation == "shipping-providers").expect("checked (contract 0.3.0)");
    assert!(!providers.passed && providers.detail.contains("no shipping providers"), "{providers:?}");
    let broken = ["listing-status", "shipping-providers"];
    assert!(
        results.iter().filter(|r| !broken.contains(&r.operation.as_str())).all(|r| r.passed),
        "{results:#?}"
    );
    let read_back = results.iter().find(|r| r.operation == "read-listing").expect("checked (contract 0.2.0)");
    assert!(read_back.detail.contains("not found"), "{read_back:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_woocommerce_connector_passes_the_kit_against_its_sandbox() {
    use crossdock_sandbox::woocommerce::{WooConfig, WooSandbox};
    let mut catalog = active_products(20);
    catalog.extend(crossdock_sandbox::catalog::generated_catalog(90, 2, 11));
    let woo = WooSandbox::start(WooConfig {
        store_name: "Kit".into(),
        currency: "USD".into(),
        consumer_key: "ck_kit".into(),
        consumer_secret: "cs_kit".into(),
        catalog,
    })
    .await
    .expect("sandbox");
    let runtime = crossdock_e2e::local_runtime();
    let settings = ConnectionSettings::default()
        .setting("base-url", woo.base_url())
        .secret("consumer-key", "ck_kit")
        .secret("consumer-secret", "cs_kit")
        .secret("webhook-secret", "kit-secret");
    let results = check(&runtime, builtin_plugin(&runtime, "woocommerce"), settings).await.expect("runs");
    assert_all_pass(&results);
    let paging = results.iter().find(|r| r.check.contains("pages to the end")).expect("paging check");
    assert!(paging.detail.starts_with("110 products"), "every product over several pages: {}", paging.detail);
}

/// `crossdock sandbox` as a plugin author uses it: the three sandboxes start, the connection
/// files it writes are what `crossdock plugin check --config` reads, every built-in connector
/// passes the kit through them, and the chaos knobs set over HTTP reach the connector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_command_writes_connection_files_every_connector_passes_the_kit_with() {
    use crossdock::config::ConnectionFile;
    use crossdock::sandboxes::{CatalogChoice, SandboxOptions, describe, start};
    let dir = std::env::temp_dir().join(format!("crossdock-sandbox-cmd-{}", std::process::id()));
    let options = SandboxOptions {
        shopify_port: 0,
        woocommerce_port: 0,
        tiktok_port: 0,
        catalog: "generated:30x2".parse::<CatalogChoice>().expect("a catalog"),
        currency: "USD".into(),
        shops: crossdock::demo::demo_shops(),
        config_dir: Some(dir.clone()),
    };
    let running = start(&options).await.expect("the sandboxes start");
    let printed = describe(&running);
    assert!(printed.contains(&running.woocommerce.base_url()), "{printed}");
    let ids: Vec<&str> = running.config_files.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["shopify", "woocommerce", "tiktok-shop", "tiktok-shop"]);

    let runtime = crossdock_e2e::local_runtime();
    for (id, path) in &running.config_files {
        let settings = ConnectionFile::load(path).expect("the written file loads, secrets from files");
        assert_all_pass(&check(&runtime, builtin_plugin(&runtime, id), settings).await.expect("runs"));
    }

    // Chaos over the control API: every WooCommerce call fails, and the kit says so.
    let control = format!("{}/_sandbox/chaos", running.woocommerce.base_url());
    let client = reqwest::Client::new();
    let set =
        client.put(&control).json(&serde_json::json!({"error_rate": 1.0})).send().await.expect("answers");
    assert_eq!(set.status().as_u16(), 200);
    let woo_file = &running.config_files[1].1;
    let settings = ConnectionFile::load(woo_file).expect("loads");
    let results = check(&runtime, builtin_plugin(&runtime, "woocommerce"), settings).await.expect("runs");
    let info = results.iter().find(|r| r.operation == "store-info").expect("checked");
    assert!(!info.passed && info.detail.contains("500"), "the failure names the status: {info:?}");
    client.put(&control).json(&serde_json::json!({})).send().await.expect("answers");
    let settings = ConnectionFile::load(woo_file).expect("loads");
    assert_all_pass(&check(&runtime, builtin_plugin(&runtime, "woocommerce"), settings).await.expect("runs"));
    let _ = std::fs::remove_dir_all(dir);
}
