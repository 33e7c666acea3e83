//! Catalog sync across several TikTok Shops, each with its own currency, rules, content and
//! stock settings, through the real plugins, rules, database and HTTP API.

use crossdock::db::listings::{ListingState, ProductCenterRow};
use crossdock::db::orgs::ChannelOptions;
use crossdock::rules::RuleKind;
use crossdock_e2e::{active_products, api_client, fresh_sqlite_url, init_tracing, serve_api, sync, world};
use crossdock_sandbox::tiktok::{ReviewOutcome, ReviewPolicy, ShopSpec};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("valid decimal")
}

const KITCHEN_ONLY: &str = r#"
if product.status != "active" { return skip("not active in the store"); }
if !product.tags.contains("kitchen") { return skip("only kitchen goods on this shop"); }
keep()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shops_get_their_own_prices_stock_shares_products_and_content_settings() {
    init_tracing();
    let catalog = active_products(12);
    let shops = vec![
        ShopSpec::new("US", "US", "USD"),
        ShopSpec::new("UK", "GB", "GBP"),
        ShopSpec::new("DE", "DE", "EUR"),
    ];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    let [us, uk, de] = [0, 1, 2].map(|i| world.channels[i].clone());
    let app = &world.app;
    crossdock::connections::set_exchange_rate(app, uk.id, dec("0.79")).await.expect("rate");
    crossdock::connections::set_exchange_rate(app, de.id, dec("0.92")).await.expect("rate");
    app.db.save_rule(de.id, RuleKind::Product, KITCHEN_ONLY).await.expect("rule");
    let options = |sync_content, buffer, share| ChannelOptions {
        sync_content,
        auto_select: true,
        stock_buffer: buffer,
        stock_share: share,
    };
    app.db.set_channel_options(us.id, options(true, 0, 5)).await.expect("options");
    app.db.set_channel_options(uk.id, options(false, 2, 3)).await.expect("options");
    app.db.set_channel_options(de.id, options(false, 0, 2)).await.expect("options");
    let negative = app
        .db
        .set_channel_options(de.id, options(false, -1, 2))
        .await
        .expect_err("a negative buffer is refused");
    assert!(negative.to_string().contains("stock_buffer: -1 is out of range"), "{negative}");

    sync(&world).await;

    let store: HashMap<&str, (Decimal, i64)> = catalog
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| (v.sku.as_str(), (v.price, v.inventory_quantity))))
        .collect();
    let kitchen = catalog.iter().filter(|p| p.tags.iter().any(|t| t == "kitchen")).count();
    for (channel, share, buffer, rate, expected_count) in [
        (&us, 5, 0, dec("1"), catalog.len()),
        (&uk, 3, 2, dec("0.79"), catalog.len()),
        (&de, 2, 0, dec("0.92"), kitchen),
    ] {
        let listed = world.tiktok.products(&channel.shop.cipher);
        assert_eq!(listed.len(), expected_count, "products on {}", channel.shop.name);
        for sku in listed.iter().flat_map(|p| p.skus.iter()) {
            let (price, stock) = store[sku.seller_sku.as_str()];
            assert_eq!(
                sku.price.amount,
                (price * rate).round_dp(2),
                "price of {} on {}",
                sku.seller_sku,
                channel.shop.name
            );
            let allocated = ((stock - buffer).max(0) * share / 10) as u32;
            assert_eq!(sku.quantity, allocated, "stock of {} on {}", sku.seller_sku, channel.shop.name);
        }
    }
    // Shares round down: together the shops never offer more than the store holds.
    for (sku, (_, stock)) in &store {
        let offered: u32 = world
            .channels
            .iter()
            .flat_map(|c| world.tiktok.products(&c.shop.cipher))
            .flat_map(|p| p.skus)
            .filter(|s| s.seller_sku == *sku)
            .map(|s| s.quantity)
            .sum();
        assert!(i64::from(offered) <= *stock, "{sku}: offered {offered} of {stock}");
    }

    // The product center says why the German shop skipped the rest.
    let api = serve_api(&world).await;
    let rows: Vec<ProductCenterRow> = api_client(&api.base_url())
        .get(format!("{}/api/channels/{}/products", api.base_url(), de.id))
        .send()
        .await
        .expect("api answers")
        .json()
        .await
        .expect("product center rows");
    let skipped: Vec<&ProductCenterRow> =
        rows.iter().filter(|r| r.state == Some(ListingState::Skipped)).collect();
    assert_eq!(skipped.len(), catalog.len() - kitchen);
    assert!(skipped.iter().all(|r| r.reason.as_deref() == Some("only kitchen goods on this shop")));

    // Content follows only where the channel asks for it; prices and stock always do.
    let renamed = &catalog[0];
    assert!(world.shopify.set_product_title(&renamed.handle, "Renamed in the store"));
    sync(&world).await;
    let title_on = |c: &crossdock::demo::WorldChannel| {
        world
            .tiktok
            .products(&c.shop.cipher)
            .into_iter()
            .find(|p| p.skus.iter().any(|s| s.seller_sku == renamed.variants[0].sku))
            .map(|p| p.title)
    };
    assert_eq!(title_on(&us).as_deref(), Some("Renamed in the store"), "the US shop keeps content in step");
    assert_eq!(title_on(&uk).as_deref(), Some(renamed.title.as_str()), "the UK shop keeps its own content");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_listing_shows_the_reasons_and_goes_live_once_fixed() {
    init_tracing();
    let catalog = active_products(3);
    let world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    world.tiktok.set_review(ReviewPolicy {
        delay: Duration::from_millis(100),
        outcome: ReviewOutcome::Reject(vec!["Main image shows a watermark".into()]),
    });
    sync(&world).await;
    let listings = world.app.db.listings_of(channel.id).await.expect("listings");
    assert_eq!(listings.len(), 3);
    for l in &listings {
        assert_eq!(l.state, ListingState::Rejected);
        assert_eq!(l.reason.as_deref(), Some("Main image shows a watermark"));
    }

    // The merchant fixes the product in the store; the fix is resubmitted and approved.
    world
        .tiktok
        .set_review(ReviewPolicy { delay: Duration::from_millis(100), outcome: ReviewOutcome::Approve });
    assert!(world.shopify.set_product_title(&catalog[0].handle, "Fixed title"));
    sync(&world).await;
    let fixed = world.app.db.listings_of(channel.id).await.expect("listings");
    let states: Vec<ListingState> = fixed.iter().map(|l| l.state).collect();
    assert_eq!(states.iter().filter(|s| **s == ListingState::Active).count(), 1, "{states:?}");
    assert_eq!(
        states.iter().filter(|s| **s == ListingState::Rejected).count(),
        2,
        "unfixed ones stay rejected"
    );
    let live = world.tiktok.products(&channel.shop.cipher);
    assert!(live.iter().any(|p| p.title == "Fixed title" && p.status == "ACTIVATE"));
    assert_eq!(live.len(), 3, "the fix edits the listing, it does not create another");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sku_linking_adopts_existing_listings_and_holds_duplicates_instead_of_guessing() {
    init_tracing();
    let mut catalog: Vec<_> =
        active_products(20).into_iter().filter(|p| p.variants.len() == 1).take(5).collect();
    assert_eq!(catalog.len(), 5, "enough single-variant products");
    // Two store products share one SKU.
    let shared = catalog[3].variants[0].sku.clone();
    catalog[4].variants[0].sku = shared.clone();
    let skus: Vec<String> = catalog.iter().map(|p| p.variants[0].sku.clone()).collect();
    let world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    let cipher = channel.shop.cipher.clone();
    // The shop already sells product 0 (once) and product 1 (twice); product 2 is new there.
    let existing = world.tiktok.seed_product(&cipher, "Old listing", &[&skus[0]]);
    world.tiktok.seed_product(&cipher, "Twin A", &[&skus[1]]);
    world.tiktok.seed_product(&cipher, "Twin B", &[&skus[1]]);
    world.tiktok.seed_product(&cipher, "Shared", &[&shared]);

    sync(&world).await;

    let listings = world.app.db.listings_of(channel.id).await.expect("listings");
    let state_of = |i: usize| listings[i].state;
    assert_eq!(state_of(0), ListingState::Active, "linked to the existing listing");
    assert_eq!(listings[0].external_id.as_deref(), Some(existing.as_str()));
    assert_eq!(state_of(1), ListingState::Held, "two channel SKUs match: held");
    assert_eq!(state_of(2), ListingState::InReview.max(state_of(2)), "listed as new");
    assert!(matches!(state_of(2), ListingState::Active | ListingState::InReview));
    assert_eq!(state_of(3), ListingState::Held, "SKU used twice in the store: held");
    assert_eq!(state_of(4), ListingState::Held);

    let on_shop = world.tiktok.products(&cipher);
    assert_eq!(
        on_shop.iter().filter(|p| p.skus.iter().any(|s| s.seller_sku == skus[0])).count(),
        1,
        "no duplicate listing"
    );
    let linked = world.tiktok.product(&cipher, &existing).expect("still there");
    assert_eq!(
        linked.skus[0].price.amount, catalog[0].variants[0].price,
        "the linked listing gets the store price"
    );

    let issues = world.app.db.link_issues(channel.id).await.expect("issues");
    let kinds: Vec<(&str, &str)> = issues.iter().map(|i| (i.sku.as_str(), i.kind.as_str())).collect();
    assert!(kinds.contains(&(skus[1].as_str(), "ambiguous_on_channel")), "{kinds:?}");
    assert!(kinds.contains(&(shared.as_str(), "duplicate_in_store")), "{kinds:?}");
    assert!(issues.iter().all(|i| i.detail.contains(&i.sku)), "each issue names its SKU");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_templates_place_products_and_missing_attributes_are_reported_before_any_push() {
    init_tracing();
    let catalog: Vec<_> = crossdock_sandbox::catalog::demo_catalog()
        .into_iter()
        .filter(|p| matches!(p.product_type.as_str(), "Tents" | "Textiles" | "Coffee"))
        .filter(|p| p.status == crossdock_sandbox::catalog::ProductStatus::Active)
        .collect();
    let world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    let api = serve_api(&world).await;
    let client = api_client(&api.base_url());
    let template = |product_type: &str, attributes: serde_json::Value| json!({ "match_field": "product_type", "match_value": product_type, "category_id": "600002", "attributes": attributes });
    for body in [
        template("Textiles", json!([{ "attribute_id": "100198", "option_ids": ["1000058"] }])),
        template("Tents", json!([])),
    ] {
        let response = client
            .put(format!("{}/api/channels/{}/templates", api.base_url(), channel.id))
            .json(&body)
            .send()
            .await
            .expect("api answers");
        assert!(response.status().is_success(), "{:?}", response.text().await);
    }
    let calls_before = world.tiktok.request_count();
    sync(&world).await;

    let on_shop = world.tiktok.products(&channel.shop.cipher);
    let textiles = catalog.iter().filter(|p| p.product_type == "Textiles").count();
    let coffee = catalog.iter().filter(|p| p.product_type == "Coffee").count();
    assert_eq!(
        on_shop.iter().filter(|p| p.category_id == "600002").count(),
        textiles,
        "textiles by template"
    );
    assert_eq!(
        on_shop.iter().filter(|p| p.category_id == "600001").count(),
        coffee,
        "the rest by the channel default"
    );
    assert!(
        on_shop
            .iter()
            .filter(|p| p.category_id == "600002")
            .all(|p| p.product_attributes.iter().any(|a| a.id == "100198"))
    );

    let failures = world.app.db.failed_jobs().await.expect("failures");
    let tents = catalog.iter().filter(|p| p.product_type == "Tents").count();
    assert_eq!(failures.len(), tents, "every tent fails: its template gives no Material");
    for f in &failures {
        assert!(
            f.error.contains("600002")
                && f.error.contains("Material")
                && f.error.contains("template product_type=Tents"),
            "{}",
            f.error
        );
    }
    assert!(
        on_shop.iter().all(|p| !catalog.iter().any(|c| c.product_type == "Tents" && c.title == p.title)),
        "no tent was pushed"
    );
    assert!(world.tiktok.request_count() > calls_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_changes_reach_every_channel_by_webhook_and_missed_webhooks_by_reconciliation() {
    init_tracing();
    let catalog = active_products(6);
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("US 2", "US", "USD")];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    world.shopify.set_webhook_retry(2, Duration::from_millis(50));
    world.shopify.subscribe_webhooks(
        &format!("{}/webhooks/store/{}", api.base_url(), world.org),
        crossdock::demo::WEBHOOK_SECRET,
    );
    let sku = catalog[0].variants[0].sku.clone();
    let quantity_everywhere = |world: &crossdock::demo::SandboxWorld| -> Vec<u32> {
        world
            .channels
            .iter()
            .map(|c| {
                world
                    .tiktok
                    .products(&c.shop.cipher)
                    .iter()
                    .flat_map(|p| p.skus.clone())
                    .find(|s| s.seller_sku == sku)
                    .map(|s| s.quantity)
                    .unwrap_or(u32::MAX)
            })
            .collect()
    };

    // A webhook queues the change; working the queue (no catalog read) delivers it.
    world.shopify.set_variant_stock(&sku, 17);
    world.shopify.wait_for_webhooks().await;
    assert_eq!(world.shopify.webhook_deliveries(), 1);
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("engine");
    crossdock::dispatch::run_until_idle(&engine, &Default::default(), &|| {}).await.expect("queue");
    assert_eq!(quantity_everywhere(&world), vec![8, 8], "two equal shares of 17");

    // A missed webhook: the periodic reconciliation (a catalog read) catches it.
    world.shopify.set_webhooks_paused(true);
    world.shopify.set_variant_stock(&sku, 4);
    crossdock::dispatch::run_until_idle(&engine, &Default::default(), &|| {}).await.expect("queue");
    assert_eq!(quantity_everywhere(&world), vec![8, 8], "nothing heard yet");
    sync(&world).await;
    assert_eq!(quantity_everywhere(&world), vec![2, 2], "two equal shares of 4");

    // A forged delivery is refused.
    let forged = reqwest::Client::new()
        .post(format!("{}/webhooks/store/{}", api.base_url(), world.org))
        .header("X-Shopify-Topic", "products/update")
        .header("X-Shopify-Hmac-Sha256", "bm90IGEgc2lnbmF0dXJl")
        .body(r#"{"id":1}"#)
        .send()
        .await
        .expect("api answers");
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_archived_and_deselected_products_are_taken_off_the_channel() {
    init_tracing();
    let catalog = active_products(4);
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("US 2", "US", "USD")];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    world.shopify.subscribe_webhooks(
        &format!("{}/webhooks/store/{}", api.base_url(), world.org),
        crossdock::demo::WEBHOOK_SECRET,
    );

    assert!(world.shopify.delete_product(&catalog[0].handle));
    assert!(
        world
            .shopify
            .set_product_status(&catalog[1].handle, crossdock_sandbox::catalog::ProductStatus::Archived)
    );
    world.shopify.wait_for_webhooks().await;
    let second = world.channels[1].clone();
    let product_ids: Vec<i64> =
        world.app.db.listings_of(second.id).await.expect("listings").iter().map(|l| l.product_id.0).collect();
    let response = api_client(&api.base_url())
        .put(format!("{}/api/channels/{}/selection", api.base_url(), second.id))
        .json(&json!({ "product_ids": [product_ids[2]], "selected": false }))
        .send()
        .await
        .expect("api answers");
    assert!(response.status().is_success());
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("engine");
    crossdock::dispatch::run_until_idle(&engine, &Default::default(), &|| {}).await.expect("queue");

    let status_of = |c: &crossdock::demo::WorldChannel, i: usize| {
        world
            .tiktok
            .products(&c.shop.cipher)
            .into_iter()
            .find(|p| p.skus.iter().any(|s| s.seller_sku == catalog[i].variants[0].sku))
            .map(|p| p.status)
            .unwrap_or_default()
    };
    for channel in &world.channels {
        assert_eq!(status_of(channel, 0), "SELLER_DEACTIVATED", "deleted in the store");
        assert_eq!(status_of(channel, 1), "SELLER_DEACTIVATED", "archived in the store");
        assert_eq!(status_of(channel, 3), "ACTIVATE");
    }
    assert_eq!(status_of(&world.channels[0], 2), "ACTIVATE", "still selected on the first shop");
    assert_eq!(status_of(&second, 2), "SELLER_DEACTIVATED", "deselected on the second shop");
    let states: Vec<ListingState> =
        world.app.db.listings_of(second.id).await.expect("listings").iter().map(|l| l.state).collect();
    assert_eq!(
        states,
        vec![ListingState::Inactive, ListingState::Inactive, ListingState::NotSelected, ListingState::Active]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_and_dry_run_show_what_remains_and_what_a_rule_would_change() {
    init_tracing();
    let catalog = active_products(5);
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("UK", "GB", "GBP")];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    let api = serve_api(&world).await;
    let client = api_client(&api.base_url());
    let onboarding = |client: reqwest::Client, url: String| async move {
        client.get(url).send().await.expect("api").json::<serde_json::Value>().await.expect("json")
    };
    let url = format!("{}/api/orgs/{}/onboarding", api.base_url(), world.org);
    let before = onboarding(client.clone(), url.clone()).await;
    assert_eq!(before["complete"], false);
    let prices_uk = before["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == "prices for UK")
        .expect("step")
        .clone();
    assert_eq!(prices_uk["done"], false);
    assert!(prices_uk["detail"].as_str().expect("detail").contains("set an exchange rate"));

    let uk = world.channels[1].id;
    let rate = client
        .put(format!("{}/api/channels/{uk}/exchange-rate", api.base_url()))
        .json(&json!({ "rate": "0.80" }))
        .send()
        .await
        .expect("api");
    assert!(rate.status().is_success());
    sync(&world).await;
    let after = onboarding(client.clone(), url).await;
    assert_eq!(after["complete"], true, "{after}");

    // A dry run of a 10 % markup lists every product, changes nothing yet.
    let calls = world.tiktok.request_count();
    let report: serde_json::Value = client
        .post(format!("{}/api/channels/{uk}/rules/price/dry-run", api.base_url()))
        .json(&json!({ "source": "(price * rate * 1.10).round(2)" }))
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(report["products"], catalog.len());
    assert_eq!(report["changes"].as_array().expect("changes").len(), catalog.len(), "{report}");
    assert_eq!(world.tiktok.request_count(), calls, "a dry run never calls the channel");
    let broken = client
        .post(format!("{}/api/channels/{uk}/rules/price/dry-run", api.base_url()))
        .json(&json!({ "source": "price *" }))
        .send()
        .await
        .expect("api");
    assert_eq!(broken.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(broken.text().await.expect("body").contains("line 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_has_exactly_one_store_and_can_swap_it_after_disconnecting() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), vec![ShopSpec::new("US", "US", "USD")]).await;
    let settings = crossdock::connectors::ConnectionSettings::default()
        .setting("base-url", world.shopify.base_url())
        .secret("access-token", "shpat_sandbox_demo_token");
    let second =
        crossdock::connections::connect_store(&world.app, world.org, "Second", "shopify", settings.clone())
            .await
            .expect_err("a second store is refused");
    let message = second.to_string();
    assert!(message.contains("already has a store") && message.contains("disconnect"), "{message}");

    let api = serve_api(&world).await;
    let response = api_client(&api.base_url())
        .delete(format!("{}/api/orgs/{}/store", api.base_url(), world.org))
        .send()
        .await
        .expect("api answers");
    assert!(response.status().is_success());
    crossdock::connections::connect_store(&world.app, world.org, "Second", "shopify", settings)
        .await
        .expect("after disconnecting, another store connects");
    let channels = world.app.db.channels(world.org).await.expect("channels");
    assert_eq!(channels.len(), 1, "channels stay");
}

/// The queue's fairness rests on the claim: workers claim channel by channel, so one
/// channel's backlog (all older) never stands in front of another channel's work, and a
/// channel with nothing due gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_claimed_channel_by_channel_oldest_first_so_no_backlog_blocks_another_channel() {
    use crossdock::db::jobs::JobKind;
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("US 2", "US", "USD")];
    let world = world(&fresh_sqlite_url(), active_products(3), shops).await;
    sync(&world).await;
    let db = &world.app.db;
    let (a, b) = (world.channels[0].id, world.channels[1].id);
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("engine");
    let products = db.product_ids(engine.store.id).await.expect("ids");
    let now = crossdock::db::now_ms();
    for (i, product) in products.iter().enumerate() {
        db.enqueue(JobKind::PushListing, a, *product, now - 1000 + i as i64).await.expect("queued");
    }
    db.enqueue(JobKind::PushListing, b, products[0], now).await.expect("queued");
    db.enqueue(JobKind::PushListing, b, products[1], now + 60_000).await.expect("queued later");
    assert_eq!(db.next_job_due(Some(&[b])).await.expect("reads"), Some(now));
    let lease = Duration::from_secs(60);
    let from_b =
        db.claim_job(lease, b, JobKind::PushListing).await.expect("claims").expect("b has a due job");
    assert_eq!((from_b.channel_id, from_b.product_id), (b, products[0]), "b's job despite a's older backlog");
    assert!(
        db.claim_job(lease, b, JobKind::PushListing).await.expect("claims").is_none(),
        "b's other job is not due yet"
    );
    let from_a = db.claim_job(lease, a, JobKind::PushListing).await.expect("claims").expect("a has due jobs");
    assert_eq!((from_a.channel_id, from_a.product_id), (a, products[0]), "a's oldest first");
}
