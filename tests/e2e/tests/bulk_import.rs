//! A big store is read with Shopify's bulk operation through the real host and connector:
//! the first page comes back empty while Shopify prepares the file, the host waits and asks
//! again, and the catalog arrives whole (every product with its variants) in byte windows.

use crossdock::catalog::import::import_catalog;
use crossdock_e2e::{fast_settings, fresh_sqlite_url, init_tracing, world};
use crossdock_sandbox::catalog::generated_catalog;
use crossdock_sandbox::shopify::BulkSettings;
use crossdock_sandbox::tiktok::ShopSpec;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_above_the_bulk_threshold_is_read_whole_through_a_bulk_operation() {
    init_tracing();
    // 260 products: above the connector's default threshold of 250.
    let catalog = generated_catalog(260, 2, 7);
    let world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    world.shopify.set_bulk_settings(BulkSettings {
        run_time: Duration::from_millis(700),
        ..world.shopify.bulk_settings()
    });
    let engine = world.engine(fast_settings()).await.expect("engine");

    let report = import_catalog(&engine, &|_| {}).await.expect("the catalog imports");

    assert_eq!(report.products, 260);
    assert_eq!(world.shopify.bulk_operations().len(), 1, "one bulk operation read the store");
    assert!(world.shopify.stats().bulk_downloads > 0, "the result file was downloaded");
    for product in &catalog {
        let skus: Vec<&str> = product.variants.iter().map(|v| v.sku.as_str()).collect();
        for sku in skus {
            let found = world.app.db.products_with_sku(engine.store.id, sku).await.expect("reads");
            assert_eq!(found.len(), 1, "{sku} is stored once, with its product");
        }
    }
    // A second read (reconciliation) reads in bulk again and finds nothing changed.
    let again = import_catalog(&engine, &|_| {}).await.expect("the catalog imports again");
    assert_eq!((again.products, again.changed, again.new), (260, 0, 0));
    assert_eq!(world.shopify.bulk_operations().len(), 2);
}
