//! `crossdock demo`: a sandbox Shopify store and two sandbox TikTok Shops (USD and GBP)
//! over real HTTP, an organization connected to them through the real plugins, and a full
//! sync with a progress display. `SandboxWorld` is the same wiring the end-to-end tests use.

use crate::app::App;
use crate::catalog::import::{ImportReport, import_catalog};
use crate::connections;
use crate::connectors::ConnectionSettings;
use crate::db::jobs::JobState;
use crate::db::listings::ListingState;
use crate::dispatch::{QueueSettings, run_until_idle};
use crate::engine::{SyncEngine, SyncSettings};
use crate::model::{ChannelId, OrgId};
use crate::rules::RuleKind;
use crate::secrets::{KeyOrigin, SecretKey};
use crossdock_sandbox::catalog::CatalogProduct;
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ReviewPolicy, SandboxShop, ShopSpec, TikTokConfig, TikTokSandbox};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The price rule the demo's GBP shop uses: convert, add 5 %, end in .99.
pub const DEMO_GBP_PRICE_RULE: &str = include_str!("../../rules/examples/price-convert-charm.rhai");

const SHOPIFY_TOKEN: &str = "shpat_sandbox_demo_token";
/// The secret the sandbox store signs its webhooks with.
pub const WEBHOOK_SECRET: &str = "sandbox-webhook-secret";
/// The sandbox TikTok leaf category listings default to (category mapping comes later).
pub const DEFAULT_CATEGORY: &str = "600001";

/// One channel of the sandbox world.
#[derive(Debug, Clone)]
pub struct WorldChannel {
    pub id: ChannelId,
    pub shop: SandboxShop,
}

/// Sandboxes plus an organization connected to them.
#[derive(Debug)]
pub struct SandboxWorld {
    pub shopify: ShopifySandbox,
    pub tiktok: TikTokSandbox,
    pub app: App,
    pub org: OrgId,
    pub channels: Vec<WorldChannel>,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct WorldSpec {
    pub catalog: Vec<CatalogProduct>,
    pub store_currency: String,
    pub shops: Vec<ShopSpec>,
    pub review: ReviewPolicy,
}

impl SandboxWorld {
    /// Starts the sandboxes, connects a new organization's store and one channel per shop.
    /// Channels whose currency differs from the store's get no exchange rate here.
    pub async fn start(database_url: &str, spec: WorldSpec) -> anyhow::Result<Self> {
        let shopify = ShopifySandbox::start(ShopifyConfig {
            shop_name: "Crossdock Demo Outfitters".into(),
            currency: spec.store_currency.clone(),
            access_token: SHOPIFY_TOKEN.into(),
            catalog: spec.catalog,
        })
        .await?;
        let tiktok_config =
            TikTokConfig { shops: spec.shops, review: spec.review, ..TikTokConfig::default() };
        let (app_key, app_secret) = (tiktok_config.app_key.clone(), tiktok_config.app_secret.clone());
        let tiktok = TikTokSandbox::start(tiktok_config).await?;
        // The sandboxes listen on this machine: allow loopback, explicitly.
        let app = App::start_with_key(database_url, sandbox_key(database_url)?)
            .await?
            .with_egress(crate::connectors::EgressPolicy::local_sandboxes())?;
        let org = app.db.create_org("Crossdock Demo Outfitters").await?;
        let store_settings = ConnectionSettings::default()
            .setting("base-url", shopify.base_url())
            .secret("access-token", SHOPIFY_TOKEN)
            .secret("webhook-secret", WEBHOOK_SECRET);
        connections::connect_store(&app, org, "Sandbox Shopify", "shopify", store_settings).await?;
        let mut channels = Vec::new();
        for shop in tiktok.shops() {
            let settings = ConnectionSettings::default()
                .setting("base-url", tiktok.base_url())
                .setting("app-key", app_key.clone())
                .setting("shop-cipher", shop.cipher.clone())
                .setting("category-id", DEFAULT_CATEGORY)
                .secret("app-secret", app_secret.clone())
                .secret("access-token", tiktok.access_token());
            let id = connections::add_channel(&app, org, &shop.name, "tiktok-shop", settings).await?;
            channels.push(WorldChannel { id, shop });
        }
        Ok(SandboxWorld { shopify, tiktok, app, org, channels })
    }

    /// One Shopify Admin GraphQL call to the world's store, as the merchant's admin makes it.
    pub async fn store_graphql(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        shopify_graphql(&self.shopify, SHOPIFY_TOKEN, query, variables).await
    }

    /// The merchant ships a store order in Shopify's admin (see [`ship_in_shopify`]).
    pub async fn ship_in_store(
        &self,
        order_gid: &str,
        units: &[(&str, i64)],
        company: &str,
        number: &str,
    ) -> anyhow::Result<String> {
        ship_in_shopify(&self.shopify, SHOPIFY_TOKEN, order_gid, units, company, number).await
    }

    /// Polls the orders of every shop and the store, then works the queue until idle.
    pub async fn sync_orders(
        &self,
        settings: &SyncSettings,
        queue: &QueueSettings,
    ) -> anyhow::Result<crate::orders::import::PollReport> {
        let engine = self.engine(settings.clone()).await?;
        let report = crate::orders::import::poll_orders(&engine).await?;
        run_until_idle(&engine, queue, &|| {}).await?;
        Ok(report)
    }

    /// The merchant approves every request of an order that waits for the seller (a buyer's
    /// cancellation, refund or return); how many.
    pub async fn approve_requests(
        &self,
        settings: &SyncSettings,
        channel: ChannelId,
        order_id: &str,
    ) -> anyhow::Result<usize> {
        let engine = self.engine(settings.clone()).await?;
        let runtime = engine.channel(channel).ok_or_else(|| anyhow::anyhow!("no channel {channel}"))?;
        let mut approved = 0;
        for request in runtime.connector.order_after_sales(order_id).await? {
            if request.awaiting_seller.is_some() {
                runtime.connector.decide_after_sale(&request.id, true).await?;
                approved += 1;
            }
        }
        Ok(approved)
    }

    /// Loads the sync engine for the world's organization.
    pub async fn engine(&self, settings: SyncSettings) -> anyhow::Result<SyncEngine> {
        Ok(SyncEngine::load(&self.app, self.org, settings).await?)
    }
}

/// The sandbox world holds sandbox credentials only, so on PostgreSQL without
/// `CROSSDOCK_SECRET_KEY` it encrypts them with a key for this process alone; SQLite uses
/// its key file as a real deployment does.
fn sandbox_key(database_url: &str) -> anyhow::Result<Option<SecretKey>> {
    let operator_key = std::env::var_os(crate::secrets::KEY_ENV).is_some();
    if database_url.starts_with("sqlite:") || operator_key {
        return Ok(None);
    }
    Ok(Some(SecretKey::generate(KeyOrigin::Ephemeral)?))
}

/// The demo's shops: one US shop in USD, one UK shop in GBP.
pub fn demo_shops() -> Vec<ShopSpec> {
    vec![ShopSpec::new("Crossdock US", "US", "USD"), ShopSpec::new("Crossdock UK", "GB", "GBP")]
}

/// Options of `crossdock demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub database_url: String,
    pub once: bool,
    /// USD → GBP rate for the UK shop.
    pub gbp_rate: Decimal,
    pub review_delay: Duration,
    pub workers: usize,
    /// Where the API listens while the demo keeps serving (not with `once`).
    pub listen: String,
}

/// The operator's apps as registered with the sandboxes, so a merchant can connect a TikTok
/// shop or a Shopify store from the pages through the sandbox's authorization page; the
/// TikTok app's redirect URL is registered as `admin`'s `/connect/callback`.
pub fn sandbox_apps(
    tiktok: &TikTokSandbox,
    shopify: &ShopifySandbox,
    admin: &str,
) -> crate::authorization::Apps {
    let defaults = TikTokConfig::default();
    let tiktok_app = ConnectionSettings::default()
        .setting("app-key", defaults.app_key)
        .setting("service-id", crossdock_sandbox::tiktok::SERVICE_ID)
        .setting("authorize-base-url", tiktok.base_url())
        .setting("auth-base-url", tiktok.base_url())
        .setting("base-url", tiktok.base_url())
        .setting("category-id", DEFAULT_CATEGORY)
        .secret("app-secret", defaults.app_secret);
    let shopify_app = ConnectionSettings::default()
        .setting("client-id", crossdock_sandbox::shopify::CLIENT_ID)
        .setting("scopes", "read_products,write_orders,read_merchant_managed_fulfillment_orders")
        .setting("base-url", shopify.base_url())
        .secret("client-secret", crossdock_sandbox::shopify::CLIENT_SECRET);
    let admin = admin.trim_end_matches('/');
    tiktok.register_redirect_url(&format!("{admin}{}", crate::authorization::CALLBACK_PATH));
    crate::authorization::Apps {
        public_url: Some(admin.to_string()),
        credentials: BTreeMap::from([("tiktok-shop".into(), tiktok_app), ("shopify".into(), shopify_app)]),
    }
}

/// The demo's account (its password is generated at each start and printed).
pub const DEMO_EMAIL: &str = "demo@crossdock.local";

/// Serves the API (and webhooks) of the world's app on `listen` until `stop`, and makes the
/// demo account; prints how to log in.
async fn serve_admin(
    world: &SandboxWorld,
    settings: &SyncSettings,
    listen: &str,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, String)> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!("binding the demo API to {listen} (choose another with --listen): {e}")
    })?;
    let address = listener.local_addr()?;
    let mut state = crate::api::ApiState::new(world.app.clone(), settings.clone());
    // The merchant can add more shops (or reconnect these) through the sandbox's authorization.
    state.apps = Arc::new(sandbox_apps(&world.tiktok, &world.shopify, &format!("http://{address}")));
    let router = crate::web::with_pages(crate::api::router(state));
    let server = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(error) =
            axum::serve(listener, service).with_graceful_shutdown(stop.cancelled_owned()).await
        {
            tracing::error!(%error, "the demo API stopped");
        }
    });
    let password = crate::auth::password::generate_password();
    crate::auth::account::create_owner(&world.app.db, world.org, DEMO_EMAIL, &password).await?;
    let account =
        world.app.db.first_member(world.org).await?.ok_or_else(|| anyhow::anyhow!("the demo account"))?;
    let token = crate::auth::token::create_api_token(&world.app.db, account, world.org, "demo").await?;
    let login = format!(
        "Admin pages and API at http://{address} (organization {org}). Open it in a browser and log in with:\n  \
         email     {DEMO_EMAIL}\n  \
         password  {password}\n  \
         or from a terminal: curl -c cookies.txt -H 'content-type: application/json' \\\n    \
         -d '{{\"email\":\"{DEMO_EMAIL}\",\"password\":\"{password}\"}}' http://{address}/api/session\n  \
         or, as a program: curl -H 'Authorization: Bearer {token}' http://{address}/api/me",
        org = world.org,
        token = token.token
    );
    println!("\n{login}");
    Ok((server, login))
}

/// Runs the demo; with `once`, returns when every product is settled on every channel.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let catalog = crossdock_sandbox::catalog::demo_catalog();
    let variants: usize = catalog.iter().map(|p| p.variants.len()).sum();
    println!(
        "Starting sandbox Shopify ({} products, {variants} variants) and two sandbox TikTok Shops…",
        catalog.len()
    );
    let world = SandboxWorld::start(
        &options.database_url,
        WorldSpec {
            catalog,
            store_currency: "USD".into(),
            shops: demo_shops(),
            review: ReviewPolicy { delay: options.review_delay, ..ReviewPolicy::default() },
        },
    )
    .await?;
    println!("  Shopify Admin API  {}/admin/api/2026-01/graphql.json", world.shopify.base_url());
    println!("  TikTok Shop API    {}", world.tiktok.base_url());
    for c in &world.channels {
        println!("  channel {}: {} ({}, {})", c.id, c.shop.name, c.shop.region, c.shop.currency);
        if c.shop.currency != "USD" {
            connections::set_exchange_rate(&world.app, c.id, options.gbp_rate).await?;
            world.app.db.save_rule(c.id, RuleKind::Price, DEMO_GBP_PRICE_RULE).await?;
            println!(
                "    exchange rate 1 USD = {} {}, price rule rules/examples/price-convert-charm.rhai",
                options.gbp_rate, c.shop.currency
            );
        }
    }
    let settings = SyncSettings { review_poll: Duration::from_millis(500), ..SyncSettings::default() };
    let queue = QueueSettings { workers: options.workers, ..QueueSettings::default() };
    let mut orders_shown = false;
    let stop_api = tokio_util::sync::CancellationToken::new();
    let (api, mut login) = match options.once {
        true => (None, None),
        false => {
            let (server, login) = serve_admin(&world, &settings, &options.listen, stop_api.clone()).await?;
            (Some(server), Some(login))
        }
    };
    loop {
        let engine = world.engine(settings.clone()).await?;
        let report = sync_once(&engine, &queue).await?;
        print_summary(&world, &report, started.elapsed()).await?;
        if !orders_shown {
            orders_shown = true;
            order_scene(&world, &settings, &queue).await?;
        }
        if options.once {
            break;
        }
        println!("\nServing the sandboxes; syncing again every 30 s. Ctrl-C to stop.");
        // Once more after the first summary, where it is easy to see.
        if let Some(login) = login.take() {
            println!("{login}");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    stop_api.cancel();
    if let Some(api) = api {
        let _ = api.await;
    }
    world.app.db.close().await;
    Ok(())
}

/// The money path on the sandboxes: a buyer orders on the first shop, the order comes into
/// the store, the merchant ships it there and the tracking goes back to the shop with the
/// mapped carrier, then the buyer asks for a refund of one unit, the merchant approves it, and
/// it becomes a store refund; then the buyer returns the other unit, Crossdock approves the
/// return and accepts the goods back as the channel's settings say, and once TikTok pays it
/// becomes a store refund that puts the unit back in stock. Prints each step.
pub async fn order_scene(
    world: &SandboxWorld,
    settings: &SyncSettings,
    queue: &QueueSettings,
) -> anyhow::Result<()> {
    use crossdock_sandbox::tiktok::OrderStatus;
    let Some(channel) = world.channels.first() else { return Ok(()) };
    let cipher = &channel.shop.cipher;
    let Some(product) =
        world.tiktok.products(cipher).into_iter().find(|p| p.status == "ACTIVATE" && !p.skus.is_empty())
    else {
        println!("\nOrders: no live listing on {} to order from", channel.shop.name);
        return Ok(());
    };
    let sku = product.skus[0].seller_sku.clone();
    println!("\nOrders on {}:", channel.shop.name);
    let order_id = world.tiktok.place_order(cipher, &[(&sku, 2)]);
    println!("  a buyer ordered 2 × {sku} ({}): TikTok order {order_id}", product.title);
    world.sync_orders(settings, queue).await?;
    let db = &world.app.db;
    let Some(row_id) = db.order_id(channel.id, &order_id).await? else {
        anyhow::bail!("order {order_id} was not read from the shop");
    };
    let Some(row) = db.order(row_id).await? else { anyhow::bail!("order {order_id} vanished") };
    let (Some(store_id), Some(store_name)) = (row.store_order_id.clone(), row.store_order_name.clone())
    else {
        let why = row.failure.map(|f| format!("{}: {} ({})", f.kind, f.cause, f.fix)).unwrap_or_default();
        println!("  not in the store: {} {why}", row.state.as_str());
        return Ok(());
    };
    println!("  → Shopify order {store_name} ({store_id}), tagged with the shop's name");
    world.ship_in_store(&store_id, &[], "USPS", "9400111899223344556677").await?;
    println!("  the merchant shipped it in Shopify with USPS 9400111899223344556677");
    world.sync_orders(settings, queue).await?;
    let status = world.tiktok.order_status(cipher, &order_id).map(|s| s.as_str()).unwrap_or("unknown");
    let shipments = db.shipments(row_id).await?;
    match shipments.first() {
        Some(s) if s.state == "sent" => println!(
            "  → the shop has the tracking ({} {}), order status {status}",
            s.carrier, s.tracking_number
        ),
        Some(s) => println!("  shipment not sent: {:?}", s.failure),
        None => println!("  shipment not sent yet"),
    }
    world.tiktok.advance_order(cipher, &order_id, OrderStatus::InTransit);
    world.tiktok.advance_order(cipher, &order_id, OrderStatus::Delivered);
    let units = world.tiktok.order_line_ids(cipher, &order_id);
    let return_id = world.tiktok.request_return_of(cipher, &order_id, "REFUND", &[&units[0]]);
    println!("  delivered; the buyer asked for a refund of one unit (TikTok return {return_id})");
    if world.approve_requests(settings, channel.id, &order_id).await? > 0 {
        println!("  the merchant approved it");
    }
    world.tiktok.refund_paid(cipher, &return_id);
    println!("  TikTok paid the refund");
    db.touch_order(row_id, false).await?;
    world.sync_orders(settings, queue).await?;
    print_store_refund(world, row_id, &return_id, "no restock: the buyer keeps the goods").await?;
    if let Some(other) = units.get(1) {
        return_scene(world, settings, queue, (channel.id, cipher, &order_id, row_id), &sku, other).await?;
    }
    let counts = db.order_counts(channel.id).await?;
    let line: Vec<String> = counts
        .iter()
        .map(
            |(state, kind, n)| {
                if kind.is_empty() { format!("{state} {n}") } else { format!("{state} ({kind}) {n}") }
            },
        )
        .collect();
    println!("  orders on {}: {}", channel.shop.name, line.join(", "));
    Ok(())
}

/// The buyer returns one unit (line item `unit`) of the order; the channel's refund settings
/// let Crossdock approve the return and accept the goods back, the buyer ships it, TikTok
/// pays, and the store refund puts the unit back in stock.
async fn return_scene(
    world: &SandboxWorld,
    settings: &SyncSettings,
    queue: &QueueSettings,
    (channel, cipher, order_id, row_id): (ChannelId, &str, &str, i64),
    sku: &str,
    unit: &str,
) -> anyhow::Result<()> {
    let db = &world.app.db;
    let mut order_settings = crate::orders::OrderSettings::parse(&db.order_settings_json(channel).await?)
        .map_err(|e| anyhow::anyhow!(e))?;
    order_settings.refund.approve_returns = true;
    order_settings.refund.approve_received_goods = true;
    db.set_order_settings_json(channel, &order_settings.to_json()).await?;
    let stock_before = world.shopify.available(sku);
    let return_id = world.tiktok.request_return_of(cipher, order_id, "RETURN_AND_REFUND", &[unit]);
    println!("  the buyer asked to return the other unit (TikTok return {return_id})");
    world.sync_orders(settings, queue).await?;
    let status = |id: &str| world.tiktok.return_status(cipher, id).unwrap_or_default();
    println!("  → Crossdock approved the return (setting approve-returns): {}", status(&return_id));
    world.tiktok.return_shipped_with(cipher, &return_id, ("1ZDEMORETURN1".into(), "UPS".into()));
    println!("  the buyer shipped it back with UPS 1ZDEMORETURN1");
    world.sync_orders(settings, queue).await?;
    println!("  → Crossdock accepted the goods (setting approve-received-goods): {}", status(&return_id));
    world.tiktok.refund_paid(cipher, &return_id);
    println!("  TikTok paid the refund: {}", status(&return_id));
    world.sync_orders(settings, queue).await?;
    let stock = match (stock_before, world.shopify.available(sku)) {
        (Some(before), Some(after)) => format!("restocked: {sku} {before} → {after}"),
        _ => format!("{sku} is not tracked"),
    };
    print_store_refund(world, row_id, &return_id, &stock).await
}

/// Prints the store refund a request became, or that it is not there yet.
async fn print_store_refund(
    world: &SandboxWorld,
    row_id: i64,
    request: &str,
    how: &str,
) -> anyhow::Result<()> {
    let rows = world.app.db.after_sales(row_id).await?;
    let done = rows.iter().find(|a| a.after_sale_id.ends_with(request)).and_then(|a| {
        a.store_refund_id.as_ref().map(|r| format!("{} → Shopify refund {r} ({how})", a.after_sale_id))
    });
    match done {
        Some(line) => println!("  → {line}"),
        None => println!("  refund of {request} not in the store yet"),
    }
    Ok(())
}

/// Imports the catalog and works the queue until idle, printing progress.
pub async fn sync_once(engine: &SyncEngine, queue: &QueueSettings) -> anyhow::Result<ImportReport> {
    let report = import_catalog(engine, &|r| {
        print!("\r  reading the store: {} products", r.products);
        let _ = std::io::stdout().flush();
    })
    .await?;
    println!(
        "\r  read {} products ({} new, {} changed, {} unchanged); {} push jobs queued",
        report.products, report.new, report.changed, report.unchanged, report.queued
    );
    let settled = Arc::new(AtomicUsize::new(0));
    let counter = settled.clone();
    let last_print = std::sync::Mutex::new(Instant::now());
    run_until_idle(engine, queue, &move || {
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = last_print.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() > Duration::from_millis(250) {
            *last = Instant::now();
            print!("\r  jobs settled: {n}");
            let _ = std::io::stdout().flush();
        }
    })
    .await?;
    println!("\r  jobs settled: {}          ", settled.load(Ordering::Relaxed));
    Ok(report)
}

async fn print_summary(world: &SandboxWorld, report: &ImportReport, elapsed: Duration) -> anyhow::Result<()> {
    println!("\nSummary after {:.1} s ({} store products):", elapsed.as_secs_f64(), report.products);
    for c in &world.channels {
        let counts = world.app.db.listing_counts(c.id).await?;
        let line: Vec<String> = ListingState::ALL
            .iter()
            .filter_map(|s| counts.get(s).map(|n| format!("{} {n}", s.as_str())))
            .collect();
        let live = world.tiktok.products(&c.shop.cipher);
        let active = live.iter().filter(|p| p.status == "ACTIVATE").count();
        println!(
            "  {} ({}): {} | on the shop: {} products, {active} active",
            c.shop.name,
            c.shop.currency,
            line.join(", "),
            live.len()
        );
        if let Some(sample) = live.iter().find(|p| !p.skus.is_empty()) {
            let sku = &sample.skus[0];
            println!(
                "    e.g. {} — {} {} {}",
                sample.title, sku.seller_sku, sku.price.amount, sku.price.currency
            );
        }
    }
    let jobs = world.app.db.job_counts().await?;
    let failed: i64 = [JobState::Failed, JobState::Dead].iter().filter_map(|s| jobs.get(s)).sum();
    if failed > 0 {
        println!("  {failed} jobs failed:");
        for f in world.app.db.failed_jobs().await?.iter().take(10) {
            println!("    product {} on channel {}: {}", f.product_id, f.channel_id, f.error);
        }
    }
    let by_state: BTreeMap<&str, i64> = jobs.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    println!("  jobs: {by_state:?}");
    Ok(())
}

/// One Admin GraphQL call to a Shopify sandbox with `token`, as the merchant's admin would make it.
pub async fn shopify_graphql(
    shopify: &ShopifySandbox,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("{}/admin/api/{}/graphql.json", shopify.base_url(), shopify.api_version());
    let answer: serde_json::Value = reqwest::Client::new()
        .post(url)
        .header("X-Shopify-Access-Token", token)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await?
        .json()
        .await?;
    if let Some(errors) = answer.get("errors") {
        anyhow::bail!("GraphQL errors: {errors}");
    }
    Ok(answer["data"].clone())
}

/// The merchant ships a store order in Shopify's admin: `units` of each SKU (all remaining
/// units when empty) with this carrier and tracking number; the fulfillment's id.
pub async fn ship_in_shopify(
    shopify: &ShopifySandbox,
    token: &str,
    order_gid: &str,
    units: &[(&str, i64)],
    company: &str,
    number: &str,
) -> anyhow::Result<String> {
    let data = shopify_graphql(
        shopify,
        token,
        "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 10) { nodes { id \
                 lineItems(first: 50) { nodes { id sku remainingQuantity } } } } } }",
        serde_json::json!({ "id": order_gid }),
    )
    .await?;
    let mut by_order = Vec::new();
    let empty = Vec::new();
    for fo in data["order"]["fulfillmentOrders"]["nodes"].as_array().unwrap_or(&empty) {
        let mut items = Vec::new();
        for item in fo["lineItems"]["nodes"].as_array().unwrap_or(&empty) {
            let remaining = item["remainingQuantity"].as_i64().unwrap_or(0);
            let sku = item["sku"].as_str().unwrap_or_default();
            let quantity = if units.is_empty() {
                remaining
            } else {
                units.iter().find(|(s, _)| *s == sku).map(|(_, q)| *q).unwrap_or(0).min(remaining)
            };
            if quantity > 0 {
                items.push(serde_json::json!({ "id": item["id"], "quantity": quantity }));
            }
        }
        if !items.is_empty() {
            by_order.push(
                serde_json::json!({ "fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items }),
            );
        }
    }
    if by_order.is_empty() {
        anyhow::bail!("nothing left to ship on {order_gid}: {data}");
    }
    let created = shopify_graphql(
        shopify,
        token,
        "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } \
                 userErrors { field message } } }",
        serde_json::json!({ "f": {
            "lineItemsByFulfillmentOrder": by_order,
            "trackingInfo": { "company": company, "number": number },
            "notifyCustomer": false,
        }}),
    )
    .await?;
    let errors = &created["fulfillmentCreate"]["userErrors"];
    if errors.as_array().is_some_and(|e| !e.is_empty()) {
        anyhow::bail!("fulfillmentCreate refused: {errors}");
    }
    created["fulfillmentCreate"]["fulfillment"]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("fulfillmentCreate answered no id: {created}"))
}
