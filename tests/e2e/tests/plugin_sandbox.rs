//! The plugin sandbox on the real path: a channel plugin that loops forever, allocates
//! without end, panics or calls a host it is not allowed fails exactly that job, with an
//! error naming the plugin and the cause, while every other job runs fine. A component
//! built for another contract version is refused before it runs.

use crossdock::connectors::{ConnectionSettings, Plugin, builtin};
use crossdock::db::jobs::JobState;
use crossdock::db::listings::ListingState;
use crossdock_e2e::{fresh_sqlite_url, init_tracing, sync, world};
use crossdock_sandbox::catalog::{CatalogProduct, ProductStatus, demo_catalog};
use crossdock_sandbox::tiktok::ShopSpec;

fn chaos_bytes() -> Vec<u8> {
    std::fs::read(format!("{}/test-chaos.wasm", builtin::PLUGIN_DIR)).expect("the build made test-chaos.wasm")
}

/// Eight active products; four of them carry a misbehaviour marker in the title.
fn catalog() -> Vec<CatalogProduct> {
    let mut products: Vec<CatalogProduct> =
        demo_catalog().into_iter().filter(|p| p.status == ProductStatus::Active).take(8).collect();
    for (product, marker) in products.iter_mut().zip(["[loop]", "[alloc]", "[panic]", "[forbidden]"]) {
        product.title = format!("{marker} {}", product.title);
    }
    products
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_plugin_fails_only_its_own_jobs_with_the_cause() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), catalog(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let plugin = Plugin::load(&world.app.runtime, &chaos_bytes(), "test-chaos.wasm").expect("chaos loads");
    world.app.plugins.add(plugin);
    let settings = ConnectionSettings::default()
        .setting("base-url", world.tiktok.base_url())
        .setting("category-id", "1");
    let chaos = crossdock::connections::add_channel(&world.app, world.org, "Chaos", "test-chaos", settings)
        .await
        .expect("the chaos channel connects");

    sync(&world).await;

    let failed = world.app.db.failed_jobs().await.expect("failed jobs");
    assert_eq!(failed.len(), 4, "exactly the four bad products failed: {failed:#?}");
    assert!(failed.iter().all(|f| f.channel_id == chaos && f.state == JobState::Failed));
    let reason_for = |marker: &str| -> String {
        let product =
            catalog().into_iter().position(|p| p.title.starts_with(marker)).expect("marker") as i64 + 1;
        failed.iter().find(|f| f.product_id.0 == product).map(|f| f.error.clone()).unwrap_or_default()
    };
    let looped = reason_for("[loop]");
    assert!(looped.contains("plugin `test-chaos` create-listing"), "{looped}");
    assert!(looped.contains("CPU budget of 500 ms"), "{looped}");
    let allocated = reason_for("[alloc]");
    assert!(
        allocated.contains("plugin `test-chaos`") && allocated.contains("memory limit of 32 MiB"),
        "{allocated}"
    );
    let panicked = reason_for("[panic]");
    assert!(
        panicked.contains("plugin `test-chaos`") && panicked.contains("panicked on purpose"),
        "{panicked}"
    );
    let forbidden = reason_for("[forbidden]");
    assert!(forbidden.contains("forbidden.example.com is not allowed"), "{forbidden}");

    let chaos_counts = world.app.db.listing_counts(chaos).await.expect("counts");
    assert_eq!(chaos_counts.get(&ListingState::Active), Some(&4), "the four good products are listed");
    assert_eq!(chaos_counts.get(&ListingState::Failed), Some(&4));
    let shop = &world.channels[0];
    assert_eq!(world.tiktok.products(&shop.shop.cipher).len(), 8, "the TikTok channel is untouched");
}

#[tokio::test]
async fn a_plugin_built_for_another_contract_version_is_refused_naming_both_versions() {
    let runtime = crossdock::connectors::PluginRuntime::new().expect("runtime");
    let mut bytes = chaos_bytes();
    // Rebuild the component "for 0.2.0": every interface name and the manifest say so.
    for (from, to) in [(&b"@0.1.0"[..], &b"@0.2.0"[..]), (b"contract = \"0.1.0\"", b"contract = \"0.2.0\"")] {
        let mut i = 0;
        while i + from.len() <= bytes.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
            }
            i += 1;
        }
    }
    let error = Plugin::load(&runtime, &bytes, "future.wasm").expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("test-chaos"), "{message}");
    assert!(message.contains("0.2.0") && message.contains("0.1.0"), "{message}");
}

#[tokio::test]
async fn a_component_without_a_manifest_is_refused_with_the_fix() {
    let runtime = crossdock::connectors::PluginRuntime::new().expect("runtime");
    let mut bytes = chaos_bytes();
    let section = b"crossdock-manifest";
    let at = bytes.windows(section.len()).position(|w| w == section).expect("section present");
    bytes[at] = b'X';
    let message = Plugin::load(&runtime, &bytes, "nameless.wasm").expect_err("refused").to_string();
    assert!(message.contains("nameless.wasm") && message.contains("manifest!"), "{message}");
}
