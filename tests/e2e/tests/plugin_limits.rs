//! Hostile plugins against the operator's limits, each a real component: the chaos plugin
//! built from `plugins/test-chaos`, made hostile by adding core modules to it (a memory bomb
//! spread over many memories, a pool hog, more modules than the compiler should ever see), or
//! driven into its misbehaviours (a huge result, a retry-after for ever, a crash loop). Each is
//! refused or contained with a clear error while the real TikTok channel keeps syncing.

use crossdock::App;
use crossdock::connectors::health::HealthPolicy;
use crossdock::connectors::policy::LimitsPolicy;
use crossdock::connectors::{
    ChannelConnector, ConnectionSettings, EgressPolicy, ErrorKind, ListingDraft, Plugin, PluginRegistry,
    PluginRuntime, builtin,
};
use crossdock::db::listings::ListingState;
use crossdock::demo::SandboxWorld;
use crossdock_e2e::{api_ok, fast_settings, fresh_sqlite_url, init_tracing, serve_api, sync, world};
use crossdock_sandbox::catalog::{CatalogProduct, ProductStatus, demo_catalog};
use crossdock_sandbox::tiktok::ShopSpec;
use std::sync::Arc;
use std::time::Duration;

fn chaos_bytes() -> Vec<u8> {
    std::fs::read(format!("{}/test-chaos.wasm", builtin::PLUGIN_DIR)).expect("the build made test-chaos.wasm")
}

/// A core module defining one linear memory of `pages` 64 KiB pages and nothing else, or
/// with `None` an empty module.
fn memory_module(pages: Option<u64>) -> wasm_encoder::Module {
    let mut module = wasm_encoder::Module::new();
    if let Some(pages) = pages {
        let mut memories = wasm_encoder::MemorySection::new();
        memories.memory(wasm_encoder::MemoryType {
            minimum: pages,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
    }
    module
}

/// How many core modules the component defines at its top level (the index the next one
/// gets).
fn top_level_modules(component: &[u8]) -> u32 {
    let mut depth = 0;
    let mut modules = 0;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.expect("a valid component") {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ModuleSection { .. } if depth == 1 => modules += 1,
            _ => {}
        }
    }
    modules
}

/// `component` with `count` more core modules, each defining a memory of `pages` pages (or
/// none); when `instantiate`, the component also instantiates each of them, so every
/// instance of it takes that many more core instances and allocates those memories.
fn with_extra_modules(mut component: Vec<u8>, count: u32, pages: Option<u64>, instantiate: bool) -> Vec<u8> {
    use wasm_encoder::{ComponentSection, Encode};
    let first = top_level_modules(&component);
    let module = memory_module(pages);
    let mut instances = wasm_encoder::InstanceSection::new();
    for i in 0..count {
        // Sections may follow the exports: a component is a sequence of sections.
        let section = wasm_encoder::ModuleSection(&module);
        component.push(section.id());
        section.encode(&mut component);
        instances.instantiate(first + i, Vec::<(&str, wasm_encoder::ModuleArg)>::new());
    }
    if instantiate {
        component.push(instances.id());
        instances.encode(&mut component);
    }
    component
}

fn runtime(limits: LimitsPolicy) -> PluginRuntime {
    PluginRuntime::with_policy(limits, HealthPolicy::default())
        .expect("the runtime starts")
        .with_egress(EgressPolicy::local_sandboxes())
        .expect("the HTTP client")
}

fn chaos_connector(runtime: &PluginRuntime, bytes: &[u8]) -> ChannelConnector {
    let plugin = Arc::new(Plugin::load(runtime, bytes, "hostile.wasm").expect("the component loads"));
    ChannelConnector::new(runtime, plugin, "channel hostile", ConnectionSettings::default()).expect("binds")
}

fn draft(title: &str) -> ListingDraft {
    ListingDraft {
        external_id: "1".into(),
        title: title.into(),
        description_html: String::new(),
        category_id: Some("1".into()),
        brand: None,
        images: Vec::new(),
        weight_grams: None,
        skus: Vec::new(),
        attributes: Vec::new(),
        idempotency_key: "k".into(),
    }
}

/// The bomb: 20 extra core modules, each with its own memory well under the 32 MiB
/// the chaos manifest asks for, together far over it. The cap holds for the whole instance.
#[tokio::test]
async fn a_memory_bomb_spread_over_many_memories_stops_at_the_instance_cap() {
    let policy =
        LimitsPolicy { core_modules: 64, core_instances: 64, memories: 32, ..LimitsPolicy::default() };
    let runtime = runtime(policy);

    // 20 memories of 4 MiB each: 80 MiB in all.
    let bomb = chaos_connector(&runtime, &with_extra_modules(chaos_bytes(), 20, Some(64), true));
    let error = bomb.channel_info().await.expect_err("the bomb is stopped");
    assert!(
        matches!(error.kind, ErrorKind::MemoryLimit { limit_bytes } if limit_bytes == 32 << 20),
        "{error}"
    );
    assert!(error.to_string().contains("memory limit of 32 MiB"), "{error}");

    // The same shape with 20 memories of one page each fits: it is the sum that counts.
    let small = chaos_connector(&runtime, &with_extra_modules(chaos_bytes(), 20, Some(1), true));
    assert_eq!(small.channel_info().await.expect("fits").id, "chaos");
}

/// A component with more core modules than the compiler should ever be handed (257 or more
/// aborted a debug build inside the compiler) is refused from its bytes; that the test process
/// is still alive shows it was never compiled.
#[tokio::test]
async fn a_component_with_too_many_core_modules_is_refused_before_compiling() {
    let runtime = runtime(LimitsPolicy::default());
    let crowded = with_extra_modules(chaos_bytes(), 300, None, false);
    let message = Plugin::load(&runtime, &crowded, "crowded.wasm").expect_err("refused").to_string();
    assert!(message.contains("test-chaos") && message.contains("crowded.wasm"), "{message}");
    assert!(message.contains("core modules") && message.contains("allows 32"), "{message}");
    assert!(message.contains("plugins.limits.core-modules"), "names the key: {message}");
    assert!(message.contains("refused before compiling"), "{message}");

    // Memories are counted the same way, against their own limit.
    let runtime = self::runtime(LimitsPolicy { core_modules: 64, ..LimitsPolicy::default() });
    let message =
        Plugin::load(&runtime, &with_extra_modules(chaos_bytes(), 8, Some(1), true), "memories.wasm")
            .expect_err("refused")
            .to_string();
    assert!(message.contains("linear memories") && message.contains("plugins.limits.memories"), "{message}");
}

/// A plugin answering with 100,000 SKU ids (megabytes through the boundary) is stopped by the
/// operator's cap on bytes per crossing; under the default cap the same answer passes.
#[tokio::test]
async fn a_huge_result_is_bounded_by_the_hostcall_cap() {
    let capped = runtime(LimitsPolicy { hostcall_bytes: 1 << 20, ..LimitsPolicy::default() });
    let error = chaos_connector(&capped, &chaos_bytes()).create_listing(&draft("[huge] list")).await;
    let error = error.expect_err("the result is refused");
    assert!(matches!(error.kind, ErrorKind::Trap { .. }), "{error}");
    assert!(error.to_string().contains("too much data is being copied"), "{error}");
    assert!(error.to_string().contains("plugin `test-chaos` create-listing"), "{error}");

    let roomy = runtime(LimitsPolicy::default());
    let listing = chaos_connector(&roomy, &chaos_bytes()).create_listing(&draft("[huge] list")).await;
    assert_eq!(listing.expect("within the default cap").sku_ids.len(), 100_000);
}

/// `rate-limited(retry-after: u64::MAX)` would have a retry wait for ever; it is clamped to
/// the operator's maximum before anything (inline retries, the queue's backoff) sees it.
#[tokio::test]
async fn a_retry_after_for_ever_is_clamped_to_the_policy() {
    let runtime = runtime(LimitsPolicy { max_retry_after_secs: 7, ..LimitsPolicy::default() });
    let error = chaos_connector(&runtime, &chaos_bytes())
        .create_listing(&draft("[throttle] me"))
        .await
        .expect_err("throttled");
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)), "{error}");
    let queue = crossdock::queue::Backoff::default();
    assert!(queue.delay(1, error.retry_after(), 1.0) <= Duration::from_secs(8));
}

/// The chaos manifest asks for 32 MiB and 500 ms of CPU; an operator allowing 16 MiB and
/// 100 ms gets those, and the errors say so.
#[tokio::test]
async fn a_manifest_asking_for_more_than_the_policy_runs_under_the_policy() {
    let runtime = runtime(LimitsPolicy { memory_mb: 16, cpu_ms: 100, ..LimitsPolicy::default() });
    let chaos = chaos_connector(&runtime, &chaos_bytes());
    let allocated = chaos.create_listing(&draft("[alloc]")).await.expect_err("stopped").to_string();
    assert!(allocated.contains("memory limit of 16 MiB"), "{allocated}");
    let looped = chaos.create_listing(&draft("[loop]")).await.expect_err("stopped").to_string();
    assert!(looped.contains("CPU budget of 100 ms"), "{looped}");
}

/// Rebuilds the world's app on a runtime with the given policies (same database).
fn with_policy(world: &mut SandboxWorld, limits: LimitsPolicy, health: HealthPolicy) {
    let runtime = PluginRuntime::with_policy(limits, health)
        .expect("the runtime starts")
        .with_egress(EgressPolicy::local_sandboxes())
        .expect("the HTTP client");
    let plugins = PluginRegistry::with_builtins(&runtime).expect("the built-ins load");
    world.app = App { runtime, plugins, ..world.app.clone() };
}

fn products(n: usize, marker: &str) -> Vec<CatalogProduct> {
    let mut products: Vec<CatalogProduct> =
        demo_catalog().into_iter().filter(|p| p.status == ProductStatus::Active).take(n).collect();
    for p in &mut products {
        p.title = format!("{marker}{}", p.title);
    }
    products
}

async fn add_chaos_channel(world: &SandboxWorld, bytes: &[u8]) -> crossdock::model::ChannelId {
    let plugin = Plugin::load(&world.app.runtime, bytes, "hog.wasm").expect("loads");
    world.app.plugins.add(plugin).expect("a new id");
    let settings = ConnectionSettings::default()
        .setting("base-url", world.tiktok.base_url())
        .setting("category-id", "1");
    crossdock::connections::add_channel(&world.app, world.org, "Chaos", "test-chaos", settings)
        .await
        .expect("the chaos channel connects")
}

/// A channel plugin whose every instance takes 16 extra core instances tries to take the
/// whole (small) pool while the real TikTok channel syncs: it never holds more than its
/// share, its calls that find no slot wait and run later ("busy", never a failure), and every
/// TikTok job succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_hog_gets_its_share_while_the_tiktok_channel_syncs() {
    init_tracing();
    let catalog = products(10, "");
    let mut world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let policy = LimitsPolicy { pool_instances: 8, pool_share_percent: 50, ..LimitsPolicy::default() };
    let share = policy.share();
    with_policy(&mut world, policy, HealthPolicy::default());
    let hog = with_extra_modules(chaos_bytes(), 16, None, true);
    let chaos = add_chaos_channel(&world, &hog).await;

    // With its share taken, the hog's next call is busy (retryable, not its fault), while the
    // TikTok connector still gets a slot.
    let slots = world.app.runtime.slots().clone();
    let held = slots.reserve("test-chaos", share).expect("the whole share is free");
    let settings = ConnectionSettings::default().setting("base-url", world.tiktok.base_url());
    let plugin = world.app.plugins.get("test-chaos").expect("installed");
    let probe = ChannelConnector::new(&world.app.runtime, plugin, "channel probe", settings).expect("binds");
    let busy = probe.channel_info().await.expect_err("no slot for the hog");
    assert!(matches!(busy.kind, ErrorKind::Busy { .. }), "{busy}");
    assert!(busy.is_retryable() && !busy.is_plugin_fault(), "{busy}");
    assert!(busy.to_string().contains("its share of the instance pool"), "{busy}");
    let tiktok_row = world.app.db.channels(world.org).await.expect("channels").remove(0);
    let tiktok_connector = crossdock::connections::channel_connector(&world.app, &tiktok_row).expect("binds");
    assert_eq!(tiktok_connector.plugin().id(), "tiktok-shop");
    tiktok_connector.channel_info().await.expect("TikTok still gets a slot");
    drop(held);

    sync(&world).await;

    let failed = world.app.db.failed_jobs().await.expect("failed jobs");
    assert!(failed.is_empty(), "no job failed, the hog's included: {failed:#?}");
    let tiktok = world.channels[0].id;
    let counts = world.app.db.listing_counts(tiktok).await.expect("counts");
    assert_eq!(counts.get(&ListingState::Active), Some(&(catalog.len() as i64)), "{counts:?}");
    let chaos_counts = world.app.db.listing_counts(chaos).await.expect("counts");
    assert_eq!(chaos_counts.get(&ListingState::Active), Some(&(catalog.len() as i64)), "{chaos_counts:?}");

    let peak = world.app.runtime.slots().peak("test-chaos");
    assert!(peak.core_instances > 16, "the hog ran: {peak:?}");
    assert!(peak.core_instances <= share.core_instances, "never more than its share: {peak:?} > {share:?}");
    assert!(world.app.runtime.slots().peak("tiktok-shop").instances >= 1);
}

/// A connection whose plugin crashes on every call is paused after three crashes in a row:
/// its remaining jobs wait (retryable) instead of crashing, the API shows it paused with the
/// crash as the reason, and the TikTok channel is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_whose_plugin_keeps_crashing_is_paused_and_shown_unhealthy() {
    init_tracing();
    let catalog = products(12, "[panic] ");
    let mut world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let health = HealthPolicy { failures: 3, pause_ms: 600_000, max_pause_ms: 600_000 };
    with_policy(&mut world, LimitsPolicy::default(), health);
    let chaos = add_chaos_channel(&world, &chaos_bytes()).await;

    // One pass over what is due: the paused jobs are scheduled after the pause.
    let engine = world.engine(fast_settings()).await.expect("engine");
    crossdock::catalog::import::import_catalog(&engine, &|_| {}).await.expect("imports");
    let queue = crossdock::dispatch::QueueSettings { workers: 4, ..Default::default() };
    crossdock::dispatch::run_due(engine, &queue, &|| {}).await.expect("runs");

    let failed = world.app.db.failed_jobs().await.expect("failed jobs");
    assert!(failed.iter().all(|f| f.channel_id == chaos), "only chaos jobs failed: {failed:#?}");
    assert!(
        (3..catalog.len()).contains(&failed.len()),
        "three crashes (and those already running) failed; the rest waited: {failed:#?}"
    );
    let tiktok = world.channels[0].id;
    assert_eq!(world.tiktok.products(&world.channels[0].shop.cipher).len(), catalog.len());

    let api = serve_api(&world).await;
    let answer =
        api_ok(reqwest::Method::GET, &format!("{}/api/orgs/{}/plugins", api.base_url(), world.org), None)
            .await;
    let connection = |kind: &str, id: i64| {
        answer
            .as_array()
            .expect("a list")
            .iter()
            .find(|c| c["kind"] == kind && c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{kind} {id} in {answer}"))
    };
    let chaos_view = connection("channel", chaos.0);
    assert_eq!(chaos_view["health"]["state"], "paused", "{chaos_view}");
    let reason = chaos_view["health"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("panicked on purpose"), "{reason}");
    assert_eq!(chaos_view["installed"]["origin"], "hog.wasm");
    assert!(chaos_view["installed"]["hash"].as_str().is_some_and(|h| h.starts_with("sha256:")));
    let tiktok_view = connection("channel", tiktok.0);
    assert_eq!(tiktok_view["health"]["state"], "healthy", "{tiktok_view}");
    assert_eq!(tiktok_view["installed"]["origin"], "built-in tiktok-shop");
    assert_eq!(
        connection("store", world.app.db.store_of(world.org).await.expect("db").expect("store").id.0)["health"]
            ["state"],
        "healthy"
    );
}

/// Every `from` in `bytes` becomes `to` (same length, so the bytes stay a valid component).
fn replace_all(mut bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    assert_eq!(from.len(), to.len());
    let at = bytes.windows(from.len()).position(|w| w == from).expect("present");
    bytes[at..at + from.len()].copy_from_slice(to);
    bytes
}

/// Another build of the chaos plugin: same id, another name in its manifest, another hash.
fn rebuilt_chaos() -> Vec<u8> {
    replace_all(chaos_bytes(), "Chaos channel (tests only)", "Chaos channel (tests 0nly)")
}

/// A fresh directory holding `serve.toml` (with `[plugins]` and the connections given) and
/// a `plugins.d/` folder.
fn serve_dir(plugins: &str, channels: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "crossdock-install-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    ));
    std::fs::create_dir_all(dir.join("plugins.d")).expect("temp dir");
    let config = format!(
        "organization = \"Pinned\"\n[plugins]\n{plugins}\n[store]\nname = \"S\"\nplugin = \"shopify\"\n{channels}"
    );
    std::fs::write(dir.join("serve.toml"), config).expect("config written");
    dir
}

fn install(dir: &std::path::Path) -> Result<(PluginRegistry, crossdock::config::ServeConfig), String> {
    let path = dir.join("serve.toml");
    let config = crossdock::config::ServeConfig::load(&path).expect("the config is valid");
    let runtime = PluginRuntime::new().expect("runtime");
    let registry = PluginRegistry::with_builtins(&runtime).expect("built-ins");
    crossdock::plugin_files::install_plugins(&runtime, &registry, &config, &path)
        .map(|resolved| (registry, resolved))
        .map_err(|e| e.to_string())
}

/// Two channels pin the chaos plugin, one by id (installed from the plugins directory), one
/// by path; both start. The file swapped for another build refuses to start, naming the
/// connection, the file and both hashes.
#[tokio::test]
async fn a_swapped_file_under_a_pinned_hash_refuses_to_start_naming_both_hashes() {
    let pinned = crossdock::connectors::manifest::content_hash(&chaos_bytes());
    let channels = format!(
        "[[channels]]\nname = \"By id\"\nplugin = \"test-chaos@{pinned}\"\n\
         [[channels]]\nname = \"By path\"\nplugin = \"plugins.d/chaos.wasm\"\nplugin-sha256 = \"{pinned}\"\n"
    );
    let dir = serve_dir("dir = \"plugins.d\"", &channels);
    std::fs::write(dir.join("plugins.d/chaos.wasm"), chaos_bytes()).expect("installed");
    let (registry, resolved) = install(&dir).expect("the pinned file starts");
    assert_eq!(resolved.channels[0].connection.plugin, "test-chaos");
    assert_eq!(resolved.channels[1].connection.plugin, "test-chaos");
    let chaos = registry.get("test-chaos").expect("installed");
    assert_eq!(chaos.hash, pinned);
    assert!(chaos.origin.ends_with("plugins.d/chaos.wasm"), "{}", chaos.origin);

    let swapped = rebuilt_chaos();
    let swapped_hash = crossdock::connectors::manifest::content_hash(&swapped);
    std::fs::write(dir.join("plugins.d/chaos.wasm"), swapped).expect("swapped");
    let message = install(&dir).map(|_| ()).expect_err("refused");
    assert!(message.contains("connection `By id`"), "{message}");
    assert!(message.contains(&format!("pinned to {pinned}")), "{message}");
    assert!(message.contains(&format!("hashes to {swapped_hash}")), "{message}");
    assert!(message.contains("plugins.d/chaos.wasm"), "names the file: {message}");
}

/// A file with a built-in's id, or with the id of another installed file, is refused with
/// both origins named; listed in `override`, it replaces the built-in on purpose.
#[tokio::test]
async fn installing_a_plugin_never_replaces_another_silently() {
    let dir = serve_dir("dir = \"plugins.d\"", "");
    std::fs::write(dir.join("plugins.d/tiktok.wasm"), builtin::TIKTOK_SHOP).expect("installed");
    let message = install(&dir).map(|_| ()).expect_err("refused");
    assert!(
        message.contains("plugins.d/tiktok.wasm") && message.contains("built-in tiktok-shop"),
        "{message}"
    );
    assert!(message.contains("override = [\"tiktok-shop\"]"), "says how to replace it: {message}");

    let dir = serve_dir("dir = \"plugins.d\"\noverride = [\"tiktok-shop\"]", "");
    std::fs::write(dir.join("plugins.d/tiktok.wasm"), builtin::TIKTOK_SHOP).expect("installed");
    let (registry, _) = install(&dir).expect("replaced on purpose");
    let tiktok = registry.get("tiktok-shop").expect("installed");
    assert!(tiktok.origin.ends_with("plugins.d/tiktok.wasm"), "{}", tiktok.origin);

    let dir = serve_dir("dir = \"plugins.d\"", "");
    std::fs::write(dir.join("plugins.d/a.wasm"), chaos_bytes()).expect("installed");
    std::fs::write(dir.join("plugins.d/b.wasm"), rebuilt_chaos()).expect("installed");
    let message = install(&dir).map(|_| ()).expect_err("refused");
    assert!(message.contains("plugins.d/a.wasm") && message.contains("plugins.d/b.wasm"), "{message}");
}
