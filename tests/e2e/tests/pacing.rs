//! Per-API pacing measured on the real path: 500 stock updates and 500 price updates through
//! the TikTok connector component, many at once, against the TikTok sandbox with its limit of
//! 50 requests per second per (shop, API) on. Each stock update makes two calls (the shop's
//! warehouses, then Update Inventory), so three APIs are busy together; the host paces each on
//! its own to 97 % of its limit (the manifest's `[[limits.api]]` and `per-api-per-second`).
//! Run with `--nocapture` to see the figures.

use crossdock::connectors::{ChannelConnector, ConnectionSettings, Plugin, SkuPrice, SkuStock, builtin};
use crossdock::model::Money;
use crossdock_sandbox::tiktok::{TikTokConfig, TikTokSandbox};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// Updates of each kind.
const UPDATES: usize = 500;
/// Calls in flight per kind: enough to keep every bucket busy.
const IN_FLIGHT: usize = 24;
/// The sandbox's (and TikTok's) limit per API.
const LIMIT: f64 = 50.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_run_uses_nearly_all_of_each_apis_limit_without_a_429() {
    let tiktok = TikTokSandbox::start(TikTokConfig::default()).await.expect("sandbox");
    let shop = tiktok.shops()[0].clone();
    let runtime = crossdock_e2e::local_runtime();
    let bytes = builtin::all().into_iter().find(|(id, _)| *id == "tiktok-shop").expect("built in").1;
    let plugin = Arc::new(Plugin::load(&runtime, bytes, "tiktok-shop").expect("loads"));
    let settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", "sandbox-app-key")
        .setting("shop-cipher", shop.cipher.clone())
        .secret("app-secret", "sandbox-app-secret")
        .secret("access-token", tiktok.access_token());
    let connector = ChannelConnector::new(&runtime, plugin, "channel pacing", settings).expect("binds");
    let listings: Vec<(String, String)> = (0..20)
        .map(|i| {
            let sku = format!("PACE-{i}");
            let id = tiktok.seed_product(&shop.cipher, &format!("Pace {i}"), &[&sku]);
            let sku_id = tiktok.product(&shop.cipher, &id).expect("seeded").skus[0].id.clone();
            (id, sku_id)
        })
        .collect();
    let listings = Arc::new(listings);

    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for worker in 0..IN_FLIGHT {
        for stock_updates in [true, false] {
            let (connector, listings) = (connector.clone(), listings.clone());
            tasks.spawn(async move {
                let mut failures = Vec::new();
                for n in (worker..UPDATES).step_by(IN_FLIGHT) {
                    let (listing, sku_id) = &listings[n % listings.len()];
                    let done = if stock_updates {
                        let stock = [SkuStock { sku_id: sku_id.clone(), stock: (n % 90) as i64 + 1 }];
                        connector.update_stock(listing, &stock).await
                    } else {
                        let amount = format!("{}.{:02}", 10 + n % 50, n % 100);
                        let price = Money::parse(&amount, "USD").expect("valid");
                        connector
                            .update_prices(
                                listing,
                                &[SkuPrice { sku_id: sku_id.clone(), price, compare_at_price: None }],
                            )
                            .await
                    };
                    if let Err(e) = done {
                        failures.push(e.to_string());
                    }
                }
                failures
            });
        }
    }
    let failures: Vec<String> = tasks.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    assert!(failures.is_empty(), "{} calls failed, first: {:?}", failures.len(), failures.first());

    println!("{UPDATES} stock + {UPDATES} price updates in {:.2} s", elapsed.as_secs_f64());
    let calls = tiktok.api_calls(&shop.cipher);
    for api in ["logistics.warehouses", "product.inventory.update", "product.prices.update"] {
        let counted =
            calls.iter().find(|c| c.api == api).unwrap_or_else(|| panic!("{api} was called: {calls:?}"));
        let rate = counted.per_second().expect("a rate");
        println!(
            "{api:<26} {:>4} calls  {rate:>5.1}/s  ({:.1} % of {LIMIT}/s)  {} × 429",
            counted.admitted,
            rate / LIMIT * 100.0,
            counted.throttled
        );
        assert_eq!(counted.admitted, UPDATES as u64, "{api}");
        assert_eq!(counted.throttled, 0, "{api}: no 429 from the sandbox");
        assert!(rate >= 0.95 * LIMIT, "{api} ran at {rate:.1}/s, under 95 % of {LIMIT}/s");
        assert!(rate <= LIMIT, "{api} ran at {rate:.1}/s, over the limit");
    }
}
