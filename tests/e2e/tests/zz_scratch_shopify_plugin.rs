//! Scratch: the shopify plugin against the shopify sandbox (temporary).
#![allow(clippy::unwrap_used)]
use crossdock::connectors::{ConnectionSettings, Plugin, PluginRuntime, StoreConnector};
use crossdock_sandbox::catalog::{demo_catalog, generated_catalog};
use crossdock_sandbox::shopify::{CostLimits, ShopifyConfig, ShopifySandbox};
use std::sync::Arc;

#[tokio::test]
async fn scratch_plugin_reads_the_sandbox() {
    let mut catalog = demo_catalog();
    catalog.extend(generated_catalog(5, 14, 3)); // products with > 10 variants
    let total = catalog.len();
    let variants: usize = catalog.iter().map(|p| p.variants.len()).sum();
    let shop = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Demo".into(),
        currency: "EUR".into(),
        access_token: "tok".into(),
        catalog,
    })
    .await
    .unwrap();
    let runtime = PluginRuntime::new().unwrap();
    let bytes = crossdock::connectors::builtin::all()
        .into_iter()
        .find(|(id, _)| *id == "shopify")
        .unwrap()
        .1;
    let plugin = Arc::new(Plugin::load(&runtime, bytes, "built-in").unwrap());
    let settings = ConnectionSettings::default()
        .setting("base-url", shop.base_url())
        .secret("access-token", "tok");
    let store = StoreConnector::new(&runtime, plugin.clone(), "demo", settings).unwrap();
    let info = store.store_info().await.unwrap();
    println!("{info:?}");
    let mut cursor = None;
    let mut seen = 0;
    let mut seen_variants = 0;
    let mut pages = 0;
    loop {
        let page = match store.list_products(cursor.clone(), 250).await {
            Ok(p) => p,
            Err(e) => {
                if let crossdock::connectors::ErrorKind::RateLimited { retry_after, .. } = &e.kind {
                    println!("waiting {retry_after:?}");
                    tokio::time::sleep(*retry_after).await;
                    continue;
                }
                panic!("{e:?}")
            }
        };
        pages += 1;
        seen += page.products.len();
        seen_variants += page
            .products
            .iter()
            .map(|p| p.variants.len())
            .sum::<usize>();
        if pages == 1 {
            println!("{:?}", page.products[1]);
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    println!("pages={pages} products={seen}/{total} variants={seen_variants}/{variants}");
    assert_eq!(seen, total);
    assert_eq!(seen_variants, variants);

    shop.set_cost_limits(CostLimits {
        maximum_available: 50.0,
        restore_rate: 10.0,
        single_query_max: 1000,
    });
    println!(
        "throttled: {:?}",
        store
            .list_products(None, 250)
            .await
            .map(|p| p.products.len())
    );
    let bad = StoreConnector::new(
        &runtime,
        plugin,
        "demo",
        ConnectionSettings::default()
            .setting("base-url", shop.base_url())
            .secret("access-token", "wrong"),
    )
    .unwrap();
    println!("bad token: {:?}", bad.store_info().await);
}
