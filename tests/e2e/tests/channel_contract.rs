//! Contract 0.2.0 on the real path (the built wasm components, the TikTok sandbox over HTTP):
//! `activate-listing` and `read-listing` through the TikTok connector, drift made in Seller
//! Center seen by a read-back, a refreshed token kept through `config.set-secret` (one refresh
//! per expiry, handed to the connection's `SecretSink`), and a plugin that abuses
//! `set-secret` refused without harm.

use crossdock::connectors::secret_sink::KeepFuture;
use crossdock::connectors::{
    ChannelConnector, ConnectionSettings, ErrorKind, ListingDraft, ListingSku, Plugin, PluginRuntime,
    ReviewStatus, SecretSink, SkuPrice, SkuStock, builtin,
};
use crossdock::model::{Image, Money};
use crossdock_sandbox::tiktok::{SandboxShop, SellerEdit, TikTokConfig, TikTokSandbox};
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};

/// Keeps rotated secrets in memory, in the order they came.
#[derive(Debug, Default)]
struct MemorySink(Mutex<Vec<(String, String)>>);

impl MemorySink {
    fn kept(&self) -> Vec<(String, String)> {
        self.0.lock().expect("not poisoned").clone()
    }
}

impl SecretSink for MemorySink {
    fn keep<'a>(&'a self, name: &'a str, value: &'a str) -> KeepFuture<'a> {
        self.0.lock().expect("not poisoned").push((name.to_string(), value.to_string()));
        Box::pin(async { Ok(()) })
    }
}

fn plugin(runtime: &PluginRuntime, id: &str) -> Arc<Plugin> {
    let bytes = match builtin::all().into_iter().find(|(name, _)| *name == id) {
        Some((_, bytes)) => bytes.to_vec(),
        None => std::fs::read(format!("{}/{id}.wasm", builtin::PLUGIN_DIR)).expect("a test plugin"),
    };
    Arc::new(Plugin::load(runtime, &bytes, id).expect("loads"))
}

fn tiktok_settings(tiktok: &TikTokSandbox, shop: &SandboxShop) -> ConnectionSettings {
    ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("auth-base-url", tiktok.base_url())
        .setting("app-key", "sandbox-app-key")
        .setting("shop-cipher", shop.cipher.clone())
        .secret("app-secret", "sandbox-app-secret")
        .secret("access-token", tiktok.access_token())
        .secret("refresh-token", tiktok.refresh_token())
}

fn money(amount: &str, currency: &str) -> Money {
    Money::parse(amount, currency).expect("valid money")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_listing_shows_what_the_shop_holds_and_activation_puts_a_hidden_listing_back_on_sale() {
    let tiktok = TikTokSandbox::start(TikTokConfig::default()).await.expect("sandbox");
    let shop = tiktok.shops()[0].clone();
    let runtime = crossdock_e2e::local_runtime();
    let connector = ChannelConnector::new(
        &runtime,
        plugin(&runtime, "tiktok-shop"),
        "channel 1",
        tiktok_settings(&tiktok, &shop),
    )
    .expect("binds");
    assert_eq!(connector.contract(), "0.3.0");
    assert!(connector.supports_activation() && connector.supports_read_listing());
    let listing = tiktok.seed_product(&shop.cipher, "Kettle", &["KETTLE-1", "KETTLE-2"]);

    let held = connector.read_listing(&listing).await.expect("reads");
    assert_eq!(held.status, ReviewStatus::Active);
    assert_eq!(held.skus.len(), 2);
    let sku = held.skus.iter().find(|s| s.seller_sku == "KETTLE-1").expect("the SKU").clone();
    assert_eq!((sku.price.clone(), sku.stock, sku.compare_at_price.clone()), (money("10", "USD"), 10, None));

    // What Crossdock writes is what it reads back.
    let price = SkuPrice { sku_id: sku.sku_id.clone(), price: money("24.95", "USD"), compare_at_price: None };
    connector.update_prices(&listing, &[price]).await.expect("price set");
    connector
        .update_stock(&listing, &[SkuStock { sku_id: sku.sku_id.clone(), stock: 42 }])
        .await
        .expect("stock set");
    let held = connector.read_listing(&listing).await.expect("reads");
    let read = held.sku(&sku.sku_id).expect("the SKU");
    assert_eq!((read.price.clone(), read.stock), (money("24.95", "USD"), 42));

    // The seller changes the price and hides the listing in Seller Center: drift, seen only
    // by reading back.
    let edit = SellerEdit {
        sku_id: Some(sku.sku_id.clone()),
        price: Some(Decimal::new(1999, 2)),
        quantity: Some(5),
        deactivate: true,
    };
    tiktok.seller_edit(&shop.cipher, &listing, &edit);
    let drifted = connector.read_listing(&listing).await.expect("reads");
    assert_eq!(drifted.status, ReviewStatus::Inactive("SELLER_DEACTIVATED".into()));
    let read = drifted.sku(&sku.sku_id).expect("the SKU");
    assert_eq!((read.price.clone(), read.stock), (money("19.99", "USD"), 5));

    // Activation puts it back on sale; activating a live listing again is fine.
    connector.activate_listing(&listing).await.expect("activated");
    assert_eq!(connector.read_listing(&listing).await.expect("reads").status, ReviewStatus::Active);
    assert_eq!(tiktok.product(&shop.cipher, &listing).expect("there").status, "ACTIVATE");
    connector.activate_listing(&listing).await.expect("already live is fine");

    // A listing under review is where activation would put it; unknown ones are not found.
    let draft = ListingDraft {
        external_id: "gid://shopify/Product/9".into(),
        title: "Teapot".into(),
        description_html: "<p>Pours.</p>".into(),
        category_id: Some("600001".into()),
        brand: None,
        images: vec![Image { url: "https://cdn.example.com/teapot.jpg".into(), alt: None }],
        weight_grams: Some(900),
        skus: vec![ListingSku {
            seller_sku: "TEAPOT-1".into(),
            price: money("30", "USD"),
            compare_at_price: None,
            stock: 3,
            options: Vec::new(),
            barcode: None,
            image: None,
        }],
        attributes: Vec::new(),
        idempotency_key: "teapot-1".into(),
    };
    let pending = connector.create_listing(&draft).await.expect("created").listing_id;
    assert_eq!(connector.read_listing(&pending).await.expect("reads").status, ReviewStatus::InReview);
    connector.activate_listing(&pending).await.expect("under review is fine");
    for unknown in ["1799999999999999999", "not-a-tiktok-id"] {
        let read = connector.read_listing(unknown).await.map(|_| ()).expect_err("unknown");
        assert!(matches!(read.kind, ErrorKind::NotFound(_)), "{read}");
        let activated = connector.activate_listing(unknown).await.expect_err("unknown");
        assert!(matches!(activated.kind, ErrorKind::NotFound(_)), "{activated}");
    }
}

/// After the token expires, a run of calls through one connector refreshes once: the first
/// call refreshes and hands the new token to the host, every later call starts with it. The
/// connection's sink receives the token the sandbox now honours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_costs_one_refresh_per_run_and_the_sink_keeps_the_new_one() {
    let tiktok = TikTokSandbox::start(TikTokConfig::default()).await.expect("sandbox");
    let shop = tiktok.shops()[0].clone();
    let listing = tiktok.seed_product(&shop.cipher, "Kettle", &["KETTLE-1"]);
    let runtime = crossdock_e2e::local_runtime();
    let sink = Arc::new(MemorySink::default());
    let connector = ChannelConnector::new(
        &runtime,
        plugin(&runtime, "tiktok-shop"),
        "channel 1",
        tiktok_settings(&tiktok, &shop),
    )
    .expect("binds")
    .with_secret_sink(sink.clone());
    let original = tiktok.access_token();

    tiktok.expire_access_token();
    const CALLS: usize = 12;
    for i in 0..CALLS {
        let held = connector.read_listing(&listing).await.unwrap_or_else(|e| panic!("call {i}: {e}"));
        assert_eq!(held.status, ReviewStatus::Active);
    }
    assert_eq!(tiktok.token_refreshes(), 1, "one refresh for {CALLS} calls");
    let fresh = tiktok.access_token();
    assert_ne!(fresh, original);
    assert_eq!(sink.kept(), [("access-token".to_string(), fresh.clone())], "the sink has the new token");

    // A clone of the connector (another worker of the same connection) sees it too.
    let worker = connector.clone();
    worker.find_skus(&["KETTLE-1".to_string()]).await.expect("answers with the kept token");
    assert_eq!(tiktok.token_refreshes(), 1);
}

/// A plugin that sets a secret it never declared, a huge value, and too many in one call is
/// refused each time with the reason; the host and the next calls are unharmed, and only the
/// values it was allowed to set reach the sink.
#[tokio::test]
async fn a_plugin_abusing_set_secret_is_refused_cleanly() {
    let runtime = crossdock_e2e::local_runtime();
    let sink = Arc::new(MemorySink::default());
    let settings = ConnectionSettings::default().secret("token", "t0");
    let chaos = ChannelConnector::new(&runtime, plugin(&runtime, "test-chaos"), "chaos", settings)
        .expect("binds")
        .with_secret_sink(sink.clone());
    let draft = |title: &str| ListingDraft {
        external_id: "1".into(),
        title: title.into(),
        description_html: String::new(),
        category_id: None,
        brand: None,
        images: Vec::new(),
        weight_grams: None,
        skus: Vec::new(),
        attributes: Vec::new(),
        idempotency_key: "k".into(),
    };

    let error = chaos.create_listing(&draft("[secrets]")).await.expect_err("reports what the host said");
    let ErrorKind::Invalid { field, message } = &error.kind else { panic!("{error}") };
    assert_eq!(field, "secrets");
    let answers: Vec<&str> = message.split("; ").collect();
    assert_eq!(answers[0], r#"undeclared: Err(SetSecretError::UnknownName("not-declared"))"#, "{message}");
    assert_eq!(answers[1], "huge: Err(SetSecretError::TooLarge(8192))", "{message}");
    assert_eq!(answers[2..4], ["set 0: Ok(())", "set 1: Ok(())"], "{message}");
    for answer in &answers[4..8] {
        assert!(answer.ends_with("Err(SetSecretError::TooManyCalls(4))"), "{message}");
    }
    assert_eq!(answers[8], r#"read: Some("v1")"#, "{message}");
    assert_eq!(
        sink.kept(),
        [("token".to_string(), "v0".to_string()), ("token".to_string(), "v1".to_string())]
    );

    // The next call starts with a fresh allowance and sees the last value taken.
    let error = chaos.create_listing(&draft("[read-secret]")).await.expect_err("reports");
    assert!(error.to_string().contains(r#"read: Some("v1")"#), "{error}");
    chaos.create_listing(&draft("a fine product")).await.expect("the plugin still works");
}

/// The wiring the sync engine uses: a stored channel's connector hands what its plugin rotates
/// to the database, so the refreshed token is what the next process reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refreshed_through_a_stored_channel_is_stored_for_the_next_process() {
    let world = crossdock_e2e::world(
        &crossdock_e2e::fresh_sqlite_url(),
        crossdock_e2e::active_products(1),
        vec![crossdock_sandbox::tiktok::ShopSpec::new("US", "US", "USD")],
    )
    .await;
    let shop = world.channels[0].shop.clone();
    let settings = tiktok_settings(&world.tiktok, &shop);
    let id =
        crossdock::connections::add_channel(&world.app, world.org, "Refreshing", "tiktok-shop", settings)
            .await
            .expect("connects");
    let row = world.app.db.channel(id).await.expect("stored");
    let connector = crossdock::connections::channel_connector(&world.app, &row).expect("binds");
    let listing = world.tiktok.seed_product(&shop.cipher, "Kettle", &["KETTLE-1"]);

    world.tiktok.expire_access_token();
    for _ in 0..5 {
        connector.read_listing(&listing).await.expect("answers");
    }
    assert_eq!(world.tiktok.token_refreshes(), 1);
    let stored = world.app.db.channel(id).await.expect("stored").settings.secrets;
    assert_eq!(stored["access-token"], world.tiktok.access_token(), "the next process starts with it");
    assert_eq!(stored["refresh-token"], world.tiktok.refresh_token());
}
