//! The plugin sandbox on the real path: a channel plugin that loops forever, allocates
//! without end, panics or calls a host it is not allowed fails exactly that job, with an
//! error naming the plugin and the cause, while every other job runs fine. A component
//! built for a contract version the host does not speak is refused before it runs; one built
//! for the older 0.1.0 still runs.

use crossdock::connectors::{
    ChannelConnector, ConnectionSettings, Contract, ErrorKind, Plugin, ReviewStatus, builtin,
};
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
    world.app.plugins.add(plugin).expect("test-chaos is a new id");
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

/// Every `from` in `bytes` becomes `to` (same length, so the bytes stay a valid component).
fn replace_all(mut bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
        }
        i += 1;
    }
    bytes
}

/// The manifest's `contract = "…"` line, `from` becoming `to`.
fn manifest_says(bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    replace_all(bytes, &format!("contract = \"{from}\""), &format!("contract = \"{to}\""))
}

/// The component, "rebuilt" for another contract: every interface name and the manifest say
/// `to` where they said `from`.
fn rewritten_for(bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    manifest_says(replace_all(bytes, &format!("@{from}"), &format!("@{to}")), from, to)
}

#[tokio::test]
async fn a_plugin_built_for_a_contract_version_the_host_does_not_speak_is_refused_naming_them() {
    let runtime = crossdock::connectors::PluginRuntime::new().expect("runtime");
    for future in ["0.4.0", "1.0.0"] {
        let bytes = rewritten_for(chaos_bytes(), "0.3.0", future);
        let error = Plugin::load(&runtime, &bytes, "future.wasm").expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("test-chaos"), "{message}");
        assert!(message.contains(future) && message.contains("0.1.0, 0.2.0 and 0.3.0"), "{message}");
        assert!(message.contains("crossdock:connector@0.3.0"), "names what to rebuild against: {message}");
    }
}

#[tokio::test]
async fn a_manifest_that_names_another_version_than_the_exports_is_refused() {
    let runtime = crossdock::connectors::PluginRuntime::new().expect("runtime");
    let bytes = manifest_says(chaos_bytes(), "0.3.0", "0.2.0");
    let message = Plugin::load(&runtime, &bytes, "mixed.wasm").expect_err("refused").to_string();
    assert!(message.contains("manifest says contract 0.2.0") && message.contains("@0.3.0"), "{message}");
}

/// A plugin built before 0.2.0 (`plugins/test-legacy`, generated from `wit/0.1.0`) loads, lists
/// the catalog through its 0.1.0 imports and exports, and is told plainly what it cannot do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_for_contract_0_1_still_loads_and_syncs_the_catalog() {
    init_tracing();
    let products = catalog().into_iter().filter(|p| !p.title.starts_with('[')).collect::<Vec<_>>();
    let world = world(&fresh_sqlite_url(), products.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let bytes = std::fs::read(format!("{}/test-legacy.wasm", builtin::PLUGIN_DIR)).expect("built");
    let plugin = Plugin::load(&world.app.runtime, &bytes, "test-legacy.wasm").expect("a 0.1.0 plugin loads");
    assert_eq!(plugin.contract(), Contract::V0_1);
    let plugin = world.app.plugins.add(plugin).expect("test-legacy is a new id");
    let settings = ConnectionSettings::default()
        .setting("base-url", world.tiktok.base_url())
        .setting("category-id", "1");
    let legacy =
        crossdock::connections::add_channel(&world.app, world.org, "Legacy", "test-legacy", settings.clone())
            .await
            .expect("the 0.1.0 channel connects (channel-info over its http import)");

    sync(&world).await;

    let counts = world.app.db.listing_counts(legacy).await.expect("counts");
    assert_eq!(counts.get(&ListingState::Active), Some(&(products.len() as i64)), "{counts:?}");
    assert!(world.app.db.failed_jobs().await.expect("failed jobs").is_empty());

    let connector =
        ChannelConnector::new(&world.app.runtime, plugin, "legacy check", settings).expect("binds");
    assert_eq!(connector.contract(), "0.1.0");
    assert!(!connector.supports_activation() && !connector.supports_read_listing());
    for error in [
        connector.activate_listing("legacy-1").await.expect_err("no activation in 0.1.0"),
        connector.read_listing("legacy-1").await.map(|_| ()).expect_err("no read-back in 0.1.0"),
    ] {
        assert!(matches!(error.kind, ErrorKind::Unsupported(_)), "{error}");
        assert!(!error.is_retryable());
        let message = error.to_string();
        assert!(message.contains("contract 0.1.0") && message.contains("0.2.0"), "{message}");
    }
    assert_eq!(connector.listing_status("legacy-1").await.expect("0.1.0 calls work"), ReviewStatus::Active);
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
