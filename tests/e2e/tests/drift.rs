//! Drift from the channel side, through the real engine: a listing edited or hidden in
//! Seller Center (price, stock, status) is read back on the drift cycle, put right, and
//! listed under `GET /api/channels/{id}/drift`; a cycle with nothing changed corrects nothing.

use crossdock::catalog::drift::schedule_drift_checks;
use crossdock::db::listings::DriftCorrection;
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock_e2e::{
    active_products, api_client, fast_settings, fresh_postgres_url, fresh_sqlite_url, init_tracing,
    serve_api, sync, world,
};
use crossdock_sandbox::tiktok::{SellerEdit, ShopSpec};
use rust_decimal::Decimal;

async fn edits_made_in_seller_center_are_read_back_and_corrected(database_url: &str) {
    let catalog = active_products(3);
    let world = world(database_url, catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let shop = world.channels[0].shop.clone();
    sync(&world).await;
    let before = world.tiktok.products(&shop.cipher);
    assert_eq!(before.len(), 3);
    assert!(before.iter().all(|p| p.status == "ACTIVATE"));

    // The seller lowers a price and a stock on one listing and hides another.
    let (edited, hidden) = (&before[0], &before[1]);
    let sku = &edited.skus[0];
    let price_edit = SellerEdit {
        sku_id: Some(sku.id.clone()),
        price: Some(sku.price.amount - Decimal::ONE),
        quantity: Some(sku.quantity + 7),
        deactivate: false,
    };
    world.tiktok.seller_edit(&shop.cipher, &edited.id, &price_edit);
    world.tiktok.seller_edit(
        &shop.cipher,
        &hidden.id,
        &SellerEdit { deactivate: true, ..SellerEdit::default() },
    );
    assert_eq!(world.tiktok.product(&shop.cipher, &hidden.id).expect("there").status, "SELLER_DEACTIVATED");

    // The drift cycle reads every live listing back and puts right what differs.
    let engine = world.engine(fast_settings()).await.expect("engine");
    let queued = schedule_drift_checks(&engine).await.expect("drift checks queued");
    assert_eq!(queued, 3, "every live listing is read back");
    run_until_idle(&engine, &QueueSettings::default(), &|| {}).await.expect("the queue drains");

    let after = world.tiktok.products(&shop.cipher);
    assert_eq!(after.len(), 3, "corrected in place, nothing listed again");
    let corrected = after.iter().find(|p| p.id == edited.id).expect("the edited listing");
    let corrected_sku = corrected.skus.iter().find(|s| s.id == sku.id).expect("the SKU");
    assert_eq!((corrected_sku.price.amount, corrected_sku.quantity), (sku.price.amount, sku.quantity));
    assert_eq!(world.tiktok.product(&shop.cipher, &hidden.id).expect("there").status, "ACTIVATE");

    // The merchant sees what was put right.
    let api = serve_api(&world).await;
    let url = format!("{}/api/channels/{}/drift", api.base_url(), world.channels[0].id);
    let corrections: Vec<DriftCorrection> =
        api_client(&url).get(&url).send().await.expect("answers").json().await.expect("corrections");
    let mut kinds: Vec<&str> = corrections.iter().map(|c| c.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["price", "status", "stock"], "{corrections:#?}");
    assert!(corrections.iter().any(|c| c.kind == "price" && c.detail.contains(&sku.seller_sku)));

    // Nothing changed since: the next cycle reads back and corrects nothing.
    let calls = world.tiktok.request_count();
    schedule_drift_checks(&engine).await.expect("drift checks queued");
    run_until_idle(&engine, &QueueSettings::default(), &|| {}).await.expect("the queue drains");
    let again: Vec<DriftCorrection> =
        api_client(&url).get(&url).send().await.expect("answers").json().await.expect("corrections");
    assert_eq!(again.len(), corrections.len(), "no new correction");
    assert_eq!(world.tiktok.request_count() - calls, 3, "one read-back per listing and no write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_in_seller_center_are_read_back_and_corrected_on_sqlite() {
    init_tracing();
    edits_made_in_seller_center_are_read_back_and_corrected(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_in_seller_center_are_read_back_and_corrected_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    edits_made_in_seller_center_are_read_back_and_corrected(&url).await;
}
