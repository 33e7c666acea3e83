//! The admin pages in a real browser (Debian's headless Chromium driven through
//! chromedriver): a new merchant creates the account from the first-run link, logs in,
//! connects the Shopify sandbox, one TikTok sandbox shop through TikTok's authorization page
//! (clicking Authorize there) and another with its credentials, sets a rate, lists products,
//! sees an order come in and a shipment fail on an unmapped carrier, fixes it and retries,
//! and edits a price rule after seeing its dry-run diff. Screenshots of every step are kept
//! in `$CARGO_TARGET_TMPDIR/browser/`. Without Chromium the test says it was skipped (and
//! fails under CI, which installs it).

use crossdock::catalog::import::import_catalog;
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::SyncEngine;
use crossdock::sandboxes::{self, CatalogChoice, SandboxOptions};
use crossdock_e2e::{fast_settings, fresh_sqlite_url, init_tracing, start_app};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const EMAIL: &str = "merchant@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        let why =
            format!("{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
        assert!(std::env::var_os("CI").is_none(), "CI must run the browser test: {why}");
        eprintln!("SKIPPED: the browser test needs Chromium: {why}");
        return None;
    }
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Driver { child, url: format!("http://127.0.0.1:{port}") })
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1100"],
            // No password manager: its autofill would race the test's typing.
            "prefs": { "credentials_enable_service": false, "profile.password_manager_enabled": false, "autofill.profile_enabled": false },
        }),
    );
    // chromedriver listens on plain HTTP on this machine: no TLS stack needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a browser session")
}

/// The steps' screenshots.
struct Shots {
    dir: PathBuf,
    n: usize,
}

impl Shots {
    fn new() -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        Shots { dir, n: 0 }
    }

    async fn take(&mut self, c: &Client, name: &str) {
        self.n += 1;
        let png = c.screenshot().await.expect("a screenshot");
        let path = self.dir.join(format!("{:02}-{name}.png", self.n));
        std::fs::write(&path, png).expect("the screenshot is written");
        eprintln!("screenshot: {}", path.display());
    }
}

async fn fill(c: &Client, css: &str, value: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no field {css}: {e}"));
    field.clear().await.expect("the field clears");
    field.send_keys(value).await.expect("typing");
}

/// Clicks what submits a form or follows a link, and waits for the next page: the old
/// document is marked before the click, and the wait ends when a document without the mark
/// has finished loading (errors while the browser swaps documents are waited out).
async fn click(c: &Client, css: &str) {
    c.execute("window.__crossdockOld = true; return true", vec![]).await.expect("marks the page");
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"))
        .click()
        .await
        .expect("a click");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let next = c
            .execute("return window.__crossdockOld !== true && document.readyState === 'complete'", vec![])
            .await;
        if matches!(next, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        assert!(Instant::now() < deadline, "clicking {css} led to no new page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn choose(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no select {css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
}

async fn page_text(c: &Client) -> String {
    // A page that is still being replaced answers "stale"; read the one that settles.
    for _ in 0..50 {
        if let Ok(body) = c.find(Locator::Css("body")).await
            && let Ok(text) = body.text().await
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never settled");
}

/// Reloads `url` until its text contains `wanted` (the workers run in the background).
async fn wait_for_text(c: &Client, url: &str, wanted: &str) -> String {
    wait_until(c, url, |text| text.contains(wanted)).await
}

/// Reloads `url` until its text satisfies `ready`.
async fn wait_until(c: &Client, url: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        c.goto(url).await.expect("the page opens");
        let text = page_text(c).await;
        if ready(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{url} never got there; it shows:\n{text}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The count the state filter shows beside `state` (`active (12)`).
fn count_of(text: &str, state: &str) -> usize {
    let marker = format!("{state} (");
    text.lines()
        .filter_map(|line| line.trim().strip_prefix(&marker))
        .filter_map(|rest| rest.strip_suffix(')'))
        .find_map(|n| n.parse().ok())
        .unwrap_or(0)
}

/// What `serve` does in the background: reads the catalog, polls orders and works the queue.
fn spawn_workers(app: crossdock::App, org: crossdock::model::OrgId) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let queue = QueueSettings { workers: 4, ..QueueSettings::default() };
        loop {
            if let Ok(engine) = SyncEngine::load(&app, org, fast_settings()).await {
                let _ = import_catalog(&engine, &|_| {}).await;
                let _ = crossdock::orders::import::poll_orders(&engine).await;
                let _ = run_until_idle(&engine, &queue, &|| {}).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_merchant_walks_the_admin_in_a_browser() {
    init_tracing();
    let Some(driver) = start_driver() else { return };
    let sandboxes = sandboxes::start(&SandboxOptions {
        shopify_port: 0,
        woocommerce_port: 0,
        tiktok_port: 0,
        catalog: CatalogChoice::Demo,
        currency: "USD".into(),
        shops: vec![ShopSpec::new("Crossdock US", "US", "USD"), ShopSpec::new("Crossdock UK", "GB", "GBP")],
        config_dir: None,
    })
    .await
    .expect("the sandboxes start");
    let app = start_app(&fresh_sqlite_url()).await;
    let org = app.db.create_org("Acme Outdoor").await.expect("the organization");
    let setup = crossdock::auth::account::setup_link_if_unclaimed(&app.db, org)
        .await
        .expect("reads accounts")
        .expect("no account yet: a first-run link");
    // The admin's port is picked before the router is made: the operator's apps name it as
    // the redirect URL the TikTok sandbox sends the seller back to.
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port();
    let base = format!("http://127.0.0.1:{port}");
    let mut state = crossdock::api::ApiState::new(app.clone(), fast_settings());
    state.apps =
        std::sync::Arc::new(crossdock::demo::sandbox_apps(&sandboxes.tiktok, &sandboxes.shopify, &base));
    let api = crossdock::api::router(state);
    let server = crossdock_sandbox::server::ServerHandle::start(crossdock::web::with_pages(api), port)
        .await
        .expect("the admin listens");
    let workers = spawn_workers(app.clone(), org);
    let c = browser(&driver).await;
    let mut shots = Shots::new();

    // First run: the one-time link creates the account and signs it in.
    c.goto(&format!("{base}/setup/{setup}")).await.expect("the setup page");
    shots.take(&c, "setup").await;
    fill(&c, "input[name=email]", EMAIL).await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    let home = page_text(&c).await;
    assert!(home.contains("Onboarding") && home.contains(EMAIL), "signed in at home: {home}");
    assert!(home.contains("○ connect the store"), "nothing connected yet: {home}");
    shots.take(&c, "home-empty").await;

    // Log out and in again.
    click(&c, "header form button").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = c.current_url().await.expect("a url");
        if url.path().starts_with("/login") {
            break;
        }
        assert!(Instant::now() < deadline, "logged out at {url}: {}", page_text(&c).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fill(&c, "input[name=email]", EMAIL).await;
    fill(&c, "input[name=password]", "wrong password!!").await;
    click(&c, "button[type=submit]").await;
    assert!(page_text(&c).await.to_lowercase().contains("password"), "a wrong password is refused");
    fill(&c, "input[name=email]", EMAIL).await;
    fill(&c, "input[name=password]", PASSWORD).await;
    let typed = c
        .execute("return document.querySelector('input[name=email]').value", vec![])
        .await
        .expect("reads the form");
    assert_eq!(typed, EMAIL, "the email field holds what was typed");
    click(&c, "button[type=submit]").await;
    let url = c.current_url().await.expect("a url");
    assert_eq!(url.path(), "/", "logged in again: {}", page_text(&c).await);

    // Connect the store, then two TikTok shops.
    c.goto(&format!("{base}/stores")).await.expect("stores");
    fill(&c, "form[action='/stores/store'] input[name=name]", "Sandbox Outfitters").await;
    choose(&c, "form[action='/stores/store'] select[name=plugin]", "shopify").await;
    fill(
        &c,
        "form[action='/stores/store'] textarea[name=settings]",
        &format!("base-url = {}", sandboxes.shopify.base_url()),
    )
    .await;
    fill(
        &c,
        "form[action='/stores/store'] textarea[name=secrets]",
        &format!(
            "access-token = {}\nwebhook-secret = {}",
            sandboxes::SHOPIFY_TOKEN,
            sandboxes::SHOPIFY_WEBHOOK_SECRET
        ),
    )
    .await;
    click(&c, "form[action='/stores/store'] button[type=submit]").await;
    let stores = page_text(&c).await;
    assert!(stores.contains("Store connected"), "the store connects: {stores}");
    // The US shop through TikTok's own authorization: the seller approves on TikTok's page
    // and comes back connected (the seller has two shops, so the merchant names this one).
    let us_shop = sandboxes.tiktok.shops()[0].clone();
    fill(&c, "form.authorize input[name=name]", &us_shop.name).await;
    fill(&c, "form.authorize input[name='input-shop-id']", &us_shop.id).await;
    shots.take(&c, "connect-with-tiktok").await;
    click(&c, "form.authorize button[type=submit]").await;
    let consent = page_text(&c).await;
    assert!(consent.contains("Authorize this app on TikTok Shop"), "TikTok's page: {consent}");
    shots.take(&c, "tiktok-authorization-page").await;
    click(&c, "#approve").await;
    let connected = page_text(&c).await;
    assert!(
        connected.contains(&format!("Shop {} connected through the platform's authorization", us_shop.name)),
        "back on Connected stores: {connected}"
    );
    // The UK shop with its credentials typed in, as for a platform without authorization.
    let tiktok = TikTokConfig::default();
    for shop in sandboxes.tiktok.shops().into_iter().skip(1) {
        fill(&c, "form[action='/stores/channels'] input[name=name]", &shop.name).await;
        choose(&c, "form[action='/stores/channels'] select[name=plugin]", "tiktok-shop").await;
        fill(
            &c,
            "form[action='/stores/channels'] textarea[name=settings]",
            &format!(
                "base-url = {}\napp-key = {}\nshop-cipher = {}\ncategory-id = {}",
                sandboxes.tiktok.base_url(),
                tiktok.app_key,
                shop.cipher,
                crossdock::demo::DEFAULT_CATEGORY
            ),
        )
        .await;
        fill(
            &c,
            "form[action='/stores/channels'] textarea[name=secrets]",
            &format!(
                "app-secret = {}\naccess-token = {}",
                tiktok.app_secret,
                sandboxes.tiktok.access_token()
            ),
        )
        .await;
        click(&c, "form[action='/stores/channels'] button[type=submit]").await;
        let added = page_text(&c).await;
        assert!(added.contains(&format!("Shop {} added", shop.name)), "the shop is added: {added}");
    }
    shots.take(&c, "stores-connected").await;
    let channels = app.db.channels(org).await.expect("channels");
    assert_eq!(channels.len(), 2, "two shops connected through the pages");
    let (us, uk) = (channels[0].id.0, channels[1].id.0);

    // The UK shop sells in GBP: the home page says it needs a rate; set it.
    let home = wait_for_text(&c, &format!("{base}/"), "set an exchange rate").await;
    assert!(home.contains("Crossdock UK"), "{home}");
    c.goto(&format!("{base}/settings?channel={uk}")).await.expect("settings");
    fill(&c, "#currency-converter input[name=rate]", "0.79").await;
    click(&c, "#currency-converter button[type=submit]").await;
    let saved = page_text(&c).await;
    assert!(saved.contains("Exchange rate set to 0.79"), "{saved}");
    shots.take(&c, "currency-converter").await;

    // Products list on both shops (new shops take new products); the product center shows
    // them live after TikTok's review.
    let center = wait_until(&c, &format!("{base}/products?channel={us}&state=active"), |text| {
        count_of(text, "active") > 0 && count_of(text, "queued") + count_of(text, "in_review") == 0
    })
    .await;
    assert!(count_of(&center, "active") >= 10, "products went live on the US shop: {center}");
    c.find(Locator::Css("#sync-progress [data-sync] progress")).await.expect("the shop's sync progress bar");
    shots.take(&c, "product-center").await;
    // Home draws a catalog sync bar per shop, from the sync progress API.
    c.goto(&format!("{base}/")).await.expect("home");
    c.find(Locator::Css("#sync-progress [data-sync] progress")).await.expect("a sync progress bar on Home");
    let home = page_text(&c).await;
    assert!(home.contains("selected products settled"), "{home}");
    shots.take(&c, "home-sync-progress").await;
    let listed = app
        .db
        .product_center(
            app.db.store_of(org).await.expect("reads").expect("the store is connected").id,
            channels[0].id,
        )
        .await
        .expect("reads");
    let live = listed
        .iter()
        .find(|r| r.state == Some(crossdock::db::listings::ListingState::Active))
        .expect("a live product");

    // A buyer orders it on the US shop: the order comes into the store.
    let cipher = &sandboxes.tiktok.shops()[0].cipher;
    let product = sandboxes
        .tiktok
        .product(cipher, live.channel_product_id.as_deref().expect("a TikTok id"))
        .expect("on TikTok");
    let sku = product.skus[0].seller_sku.clone();
    let order_id = sandboxes.tiktok.place_order(cipher, &[(&sku, 1)]);
    let orders = wait_for_text(&c, &format!("{base}/orders?channel={us}&state=synced"), &order_id).await;
    assert!(orders.contains(&order_id), "{orders}");
    shots.take(&c, "order-synced").await;

    // The merchant ships it in Shopify with a carrier the shop does not know yet: the order
    // page says why and how to fix it.
    let store_order = app
        .db
        .orders(channels[0].id, None, 10)
        .await
        .expect("reads")
        .into_iter()
        .find(|o| o.channel_order_id == order_id)
        .expect("the order is in the database");
    let gid = store_order.store_order_id.clone().expect("a store order");
    crossdock::demo::ship_in_shopify(
        &sandboxes.shopify,
        sandboxes::SHOPIFY_TOKEN,
        &gid,
        &[],
        "Pigeon Post",
        "PP-000123",
    )
    .await
    .expect("shipped in Shopify");
    let failed =
        wait_for_text(&c, &format!("{base}/orders?channel={us}&state=failed"), "unmapped_carrier").await;
    assert!(failed.contains("Fix:"), "the failure says how to fix it: {failed}");
    shots.take(&c, "order-failure").await;

    // "Retry all" of that kind runs in the background; the page shows the task's progress.
    c.goto(&format!("{base}/orders?channel={us}")).await.expect("orders");
    click(&c, "#order-counts form button").await;
    let retrying = page_text(&c).await;
    assert!(retrying.contains("Retrying the failed orders in the background"), "{retrying}");
    c.find(Locator::Css("#tasks [data-task] progress")).await.expect("the task's progress bar");
    let tasks = wait_until(&c, &format!("{base}/orders?channel={us}"), |t| t.contains("— done")).await;
    assert!(tasks.contains("1 of 1"), "the task went through the one failed order: {tasks}");
    shots.take(&c, "bulk-retry-progress").await;

    // Fix: map the carrier in the shop's settings, then retry the order.
    c.goto(&format!("{base}/settings?channel={us}")).await.expect("settings");
    fill(&c, "#carriers input[name=store_carrier]", "Pigeon Post").await;
    click(&c, "#carriers button[type=submit]").await;
    let mapped = page_text(&c).await;
    assert!(mapped.contains("pigeon post is sent as"), "{mapped}");
    c.goto(&format!("{base}/orders/{}", store_order.id)).await.expect("the order");
    if let Ok(retry) = c.find(Locator::Css("form[action$='/retry'] button")).await {
        retry.click().await.expect("retry");
    }
    let detail = wait_for_text(&c, &format!("{base}/orders/{}", store_order.id), "sent").await;
    assert!(detail.contains("PP-000123"), "the tracking reached the shop: {detail}");
    shots.take(&c, "order-fixed").await;
    let packages = sandboxes.tiktok.order_status(cipher, &order_id);
    assert!(packages.is_some(), "the shop knows the order");

    // A price rule: dry run first, see the diff, then save it.
    c.goto(&format!("{base}/rules?channel={us}&kind=price")).await.expect("rules");
    let editor = c.find(Locator::Css("#rule-source")).await.expect("the editor");
    editor.clear().await.expect("clears");
    editor.send_keys("(price * rate * 1.10).round(2)").await.expect("types");
    click(&c, "button[value=dry-run]").await;
    let diff = c
        .find(Locator::Css("#dry-run-changes"))
        .await
        .expect("the dry-run diff")
        .text()
        .await
        .expect("its text");
    assert!(diff.lines().count() > 1, "the dry run shows changed prices: {diff}");
    shots.take(&c, "price-rule-dry-run").await;
    click(&c, "button[value=save]").await;
    let saved = page_text(&c).await;
    assert!(saved.contains("Version 2 is active"), "{saved}");
    shots.take(&c, "price-rule-saved").await;

    // A broken rule is shown at its line and never becomes active.
    let editor = c.find(Locator::Css("#rule-source")).await.expect("the editor");
    editor.clear().await.expect("clears");
    editor.send_keys("let x = 1;\nprice * ;").await.expect("types");
    click(&c, "button[value=save]").await;
    let refused = match c.find(Locator::Css("#rule-error")).await {
        Ok(error) => error.text().await.expect("its text"),
        Err(e) => panic!("no rule error shown ({e}): {}", page_text(&c).await),
    };
    assert!(refused.contains("line 2"), "{refused}");
    c.find(Locator::Css("#rule-lines tr.line-error")).await.expect("the failing line is marked");
    shots.take(&c, "price-rule-error").await;

    c.close().await.expect("the browser closes");
    workers.abort();
    drop(server);
}
