//! Runaway Rhai rules on the real path: a price rule that loops forever, recurses without
//! end or builds a huge string fails the jobs of the products it runs away on, with the
//! rule, the record and the position, while every other product still syncs.

use crossdock::db::listings::ListingState;
use crossdock::rules::RuleKind;
use crossdock_e2e::{fresh_sqlite_url, init_tracing, sync, world};
use crossdock_sandbox::catalog::{ProductStatus, demo_catalog};
use crossdock_sandbox::tiktok::ShopSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_rules_fail_their_records_with_a_position_and_the_rest_sync() {
    init_tracing();
    let catalog: Vec<_> = demo_catalog()
        .into_iter()
        .filter(|p| p.status == ProductStatus::Active && p.variants.len() == 1)
        .take(6)
        .collect();
    let skus: Vec<String> = catalog.iter().map(|p| p.variants[0].sku.clone()).collect();
    let world = world(&fresh_sqlite_url(), catalog, vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].id;
    let rule = format!(
        r#"fn deeper(n) {{ deeper(n + 1) }}
if sku == "{loop_sku}" {{
    loop {{ }}
}}
if sku == "{recurse_sku}" {{
    deeper(0);
}}
if sku == "{string_sku}" {{
    let s = "grow";
    loop {{ s += s; }}
}}
(price * rate).round(2)
"#,
        loop_sku = skus[0],
        recurse_sku = skus[1],
        string_sku = skus[2]
    );
    world.app.db.save_rule(channel, RuleKind::Price, &rule).await.expect("rule saved");

    sync(&world).await;

    let failed = world.app.db.failed_jobs().await.expect("failed jobs");
    assert_eq!(failed.len(), 3, "{failed:#?}");
    let error_for = |sku: &str| {
        failed.iter().find(|f| f.error.contains(sku)).map(|f| f.error.clone()).unwrap_or_default()
    };
    let looped = error_for(&skus[0]);
    assert!(looped.contains(&format!("channel {channel} price rule v2")), "names the rule: {looped}");
    assert!(looped.contains("line 3"), "points at the loop: {looped}");
    assert!(looped.contains("too many operations"), "{looped}");
    let recursed = error_for(&skus[1]);
    assert!(
        recursed.contains("line 6") && recursed.contains("nested too deep"),
        "points at the call: {recursed}"
    );
    let grew = error_for(&skus[2]);
    assert!(grew.contains("line 10") && grew.contains("size limit"), "{grew}");

    let counts = world.app.db.listing_counts(channel).await.expect("counts");
    assert_eq!(counts.get(&ListingState::Active), Some(&3), "the other products are live");
    assert_eq!(counts.get(&ListingState::Failed), Some(&3));
}
