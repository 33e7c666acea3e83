//! A listing under review cannot take new prices or stock on TikTok; a change made meanwhile
//! is not lost and not polled for: it goes out the moment the review ends.

use crossdock::catalog::import::import_catalog;
use crossdock::db::listings::ListingState;
use crossdock::demo::{SandboxWorld, WorldSpec};
use crossdock::dispatch::{QueueSettings, run_due, run_until_idle};
use crossdock_e2e::{active_products, fast_settings, fresh_sqlite_url, init_tracing};
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_change_during_review_reaches_the_shop_when_the_review_ends() {
    init_tracing();
    let catalog = active_products(1);
    let sku = catalog[0].variants[0].sku.clone();
    let world = SandboxWorld::start(
        &fresh_sqlite_url(),
        WorldSpec {
            catalog: catalog.clone(),
            store_currency: "USD".into(),
            shops: vec![ShopSpec::new("US", "US", "USD")],
            review: ReviewPolicy { delay: Duration::from_millis(1_500), ..ReviewPolicy::default() },
        },
    )
    .await
    .expect("the sandbox world starts");
    let cipher = world.channels[0].shop.cipher.clone();
    let engine = world.engine(fast_settings()).await.expect("engine");
    let queue = QueueSettings::default();

    // Listed; TikTok reviews it for 1.5 s.
    import_catalog(&engine, &|_| {}).await.expect("imports");
    run_due(engine.clone(), &queue, &|| {}).await.expect("the create runs");
    let listed = world.tiktok.products(&cipher);
    assert_eq!(listed[0].status, "PENDING");
    let before = listed[0].skus.iter().find(|s| s.seller_sku == sku).expect("the SKU").quantity;

    // The store sells out meanwhile; the change is read while the listing is in review.
    assert!(world.shopify.set_variant_stock(&sku, 0));
    import_catalog(&engine, &|_| {}).await.expect("imports");
    run_due(engine.clone(), &queue, &|| {}).await.expect("the push runs");
    let product = world.app.db.product_ids(engine.store.id).await.expect("ids")[0];
    let listing = world.app.db.listing(product, world.channels[0].id).await.expect("reads").expect("listed");
    assert_eq!(listing.state, ListingState::InReview);
    assert!(listing.target_hash.is_none(), "the pair stays out of date while the offer waits");
    let held =
        world.tiktok.products(&cipher)[0].skus.iter().find(|s| s.seller_sku == sku).expect("SKU").quantity;
    assert_eq!(held, before, "TikTok takes no stock while it reviews");

    // The review ends; the waiting stock goes out at once, with no catalog read in between.
    run_until_idle(&engine, &queue, &|| {}).await.expect("the queue drains");
    let live = world.tiktok.products(&cipher);
    assert_eq!(live[0].status, "ACTIVATE");
    let now = live[0].skus.iter().find(|s| s.seller_sku == sku).expect("the SKU").quantity;
    assert_eq!(now, 0, "the store sold out during the review");
    let listing = world.app.db.listing(product, world.channels[0].id).await.expect("reads").expect("listed");
    assert_eq!(listing.state, ListingState::Active);
    assert!(listing.target_hash.is_some(), "in step again");
}
