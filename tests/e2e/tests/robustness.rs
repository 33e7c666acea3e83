//! Issue 12 through the real API, the real queue and the sandboxes: hostile numbers are
//! refused naming the field, a rule that breaks most products is not activated unless
//! forced, stuck work is reported by `/readyz`, onboarding and the failure list until the
//! queue repairs it, a review check lost in a crash is queued again from state, and store
//! webhooks are deduplicated on what their signature covers.

use crossdock::api::ApiState;
use crossdock::catalog::import::import_catalog;
use crossdock::db::jobs::JobKind;
use crossdock::demo::{SandboxWorld, WEBHOOK_SECRET};
use crossdock::rules::RuleKind;
use crossdock_e2e::{
    WebhookRecorder, active_products, api_call, api_ok, fast_settings, fresh_postgres_url, fresh_sqlite_url,
    init_tracing, product_with_sku, run_queue, serve_api, serve_api_with, sku_on_shop, sync, world,
};
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

fn one_shop() -> Vec<ShopSpec> {
    vec![ShopSpec::new("US", "US", "USD")]
}

fn step<'a>(onboarding: &'a Value, name: &str) -> &'a Value {
    onboarding["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {onboarding}"))
}

/// One request with a number near `i64::MAX` used to stop the service (the stock shares were
/// summed unchecked); every such number is now refused at the edge with its field and range,
/// nothing is saved, and the sync goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_numbers_are_refused_with_422_naming_the_field_and_the_sync_goes_on() {
    init_tracing();
    let catalog = active_products(2);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    sync(&world).await;
    let channel = world.channels[0].id;
    let api = serve_api(&world).await;
    let base = format!("{}/api/channels/{channel}", api.base_url());
    let before = world.app.db.channel(channel).await.expect("reads");
    let cases: Vec<(String, Value, &str)> = vec![
        (
            format!("{base}/options"),
            json!({ "sync_content": false, "auto_select": true, "stock_buffer": 0, "stock_share": i64::MAX }),
            "stock_share",
        ),
        (
            format!("{base}/options"),
            json!({ "sync_content": false, "auto_select": true, "stock_buffer": i64::MAX, "stock_share": 1 }),
            "stock_buffer",
        ),
        (format!("{base}/exchange-rate"), json!({ "rate": "1000000000000000000000000000" }), "rate"),
        (format!("{base}/exchange-rate"), json!({ "rate": "0.0000000001" }), "rate"),
        (
            format!("{base}/templates"),
            json!({ "match_field": "tag", "match_value": "x", "category_id": "600001", "priority": i64::MIN }),
            "priority",
        ),
    ];
    for (url, body, field) in cases {
        let (status, answer) = api_call(Method::PUT, &url, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url} {body}: {answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert!(answer["allowed"].as_str().is_some_and(|a| a.contains(" to ")), "{answer}");
        assert!(answer["error"].as_str().is_some_and(|e| e.starts_with(field)), "{answer}");
    }
    let after = world.app.db.channel(channel).await.expect("reads");
    assert_eq!((after.options, after.exchange_rate), (before.options, before.exchange_rate), "nothing saved");
    assert!(world.app.db.templates(channel).await.expect("reads").is_empty());

    // The largest allowed share is accepted and the sync still works out the stock.
    let options =
        json!({ "sync_content": false, "auto_select": true, "stock_buffer": 0, "stock_share": 1_000_000 });
    api_ok(Method::PUT, &format!("{base}/options"), Some(options)).await;
    let sku = catalog[0].variants[0].sku.clone();
    assert!(world.shopify.set_variant_stock(&sku, 9));
    sync(&world).await;
    let cipher = world.channels[0].shop.cipher.clone();
    assert_eq!(sku_on_shop(&world, &cipher, &sku).quantity, 9, "a lone channel offers all of it");
}

/// Saving a rule runs its dry run first: one that fails on more than 5 % of the products is
/// refused with the errors, and saved only with `force`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_that_fails_on_most_products_is_not_activated_unless_forced() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(3), one_shop()).await;
    sync(&world).await;
    let channel = world.channels[0].id;
    let api = serve_api(&world).await;
    let url = format!("{}/api/channels/{channel}/rules/price", api.base_url());
    let before = world.app.db.active_rule(channel, RuleKind::Price).await.expect("reads").map(|r| r.version);
    let throwing = r#"if sku != "" { throw "no price for " + sku } else { price }"#;

    let (status, answer) = api_call(Method::PUT, &url, Some(json!({ "source": throwing }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let error = answer["error"].as_str().expect("a message");
    assert!(error.contains("not saved") && error.contains("force"), "{error}");
    let errors = answer["details"]["errors"].as_array().expect("the dry run's errors");
    assert!(!errors.is_empty(), "{answer}");
    assert!(errors[0]["after"].as_str().is_some_and(|e| e.contains("no price for")), "{answer}");
    let after = world.app.db.active_rule(channel, RuleKind::Price).await.expect("reads").map(|r| r.version);
    assert_eq!(after, before, "the refused rule is not the active version");

    // A rule that works on every product passes the gate; a forced one is saved as asked.
    let fine = api_ok(Method::PUT, &url, Some(json!({ "source": "(price * rate * 2).round(2)" }))).await;
    assert_eq!(fine["dry_run"]["errors"], 0, "{fine}");
    let forced = api_ok(Method::PUT, &url, Some(json!({ "source": throwing, "force": true }))).await;
    assert_eq!(forced["forced"], true);
    let active = world.app.db.active_rule(channel, RuleKind::Price).await.expect("reads").expect("saved");
    assert_eq!(active.source, throwing);
}

/// A job whose worker died (what a SIGKILL mid-push leaves: `running`, its lease run out) is
/// reported by `/readyz` (503), onboarding and the failure list — not hidden behind
/// "complete" — until the queue takes it back and runs it; then all say so.
async fn a_stalled_job_is_reported_until_the_queue_takes_it_back(database_url: &str) {
    init_tracing();
    let catalog = active_products(1);
    let world = world(database_url, catalog.clone(), one_shop()).await;
    sync(&world).await;
    let mut state = ApiState::new(world.app.clone(), fast_settings());
    // Any lease run out counts at once (`serve` waits one more lease before saying so).
    state.health.lease = Duration::ZERO;
    let api = serve_api_with(&world, state).await;
    let base = api.base_url();
    assert_eq!(api_ok(Method::GET, &format!("{base}/healthz"), None).await["status"], "ok");
    let ready = api_ok(Method::GET, &format!("{base}/readyz"), None).await;
    assert_eq!(ready["ready"], true, "{ready}");
    let onboarding_url = format!("{base}/api/orgs/{}/onboarding", world.org);
    assert_eq!(step(&api_ok(Method::GET, &onboarding_url, None).await, "work is moving")["done"], true);

    // A worker claims a job and dies with it.
    let channel = world.channels[0].id;
    let product = product_with_sku(&world, &catalog[0].variants[0].sku).await;
    world.app.db.ensure_job(JobKind::PushListing, channel, product, 0).await.expect("queued");
    let job = world
        .app
        .db
        .claim_job(Duration::from_millis(1), channel, JobKind::PushListing)
        .await
        .expect("claims")
        .expect("the job is due");
    let mut answer = (StatusCode::OK, Value::Null);
    for _ in 0..200 {
        answer = api_call(Method::GET, &format!("{base}/readyz"), None).await;
        if answer.0 == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, ready) = answer;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["stuck"]["counts"]["expired_leases"], 1, "{ready}");
    assert!(ready["problems"][0].as_str().is_some_and(|p| p.contains("not moving")), "{ready}");
    let onboarding = api_ok(Method::GET, &onboarding_url, None).await;
    assert_eq!(onboarding["complete"], false, "{onboarding}");
    let moving = step(&onboarding, "work is moving");
    assert!(moving["detail"].as_str().is_some_and(|d| d.contains("takes them back")), "{moving}");
    let failures = api_ok(Method::GET, &format!("{base}/api/failures"), None).await;
    assert_eq!(failures[0]["job"], job.id, "{failures}");
    assert_eq!(failures[0]["state"], "stuck", "{failures}");

    // The queue takes the job back and runs it: nothing is stuck any more.
    run_queue(&world).await;
    let ready = api_ok(Method::GET, &format!("{base}/readyz"), None).await;
    assert_eq!(ready["ready"], true, "{ready}");
    let onboarding = api_ok(Method::GET, &onboarding_url, None).await;
    assert_eq!(step(&onboarding, "work is moving")["done"], true, "{onboarding}");
    assert_eq!(onboarding["complete"], true, "{onboarding}");
    assert_eq!(api_ok(Method::GET, &format!("{base}/api/failures"), None).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_job_is_reported_until_the_queue_takes_it_back_on_sqlite() {
    a_stalled_job_is_reported_until_the_queue_takes_it_back(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_job_is_reported_until_the_queue_takes_it_back_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    a_stalled_job_is_reported_until_the_queue_takes_it_back(&url).await;
}

/// Puts a listing back in review with its review check gone: the state a crash between
/// saving the listing and queueing its check leaves.
async fn lose_the_review_check(world: &SandboxWorld, listing_sku: &str) {
    let product = product_with_sku(world, listing_sku).await;
    let pool = world.app.db.pool();
    sqlx::query("UPDATE listings SET state = 'in_review' WHERE product_id = $1")
        .bind(product.0)
        .execute(pool)
        .await
        .expect("updates");
    sqlx::query("DELETE FROM jobs WHERE kind = 'check_review' AND product_id = $1")
        .bind(product.0)
        .execute(pool)
        .await
        .expect("deletes");
}

/// Every listing in review has a review check due: one lost in a crash is reported, then
/// queued again from state by the next queue round, and the listing follows the shop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_in_review_whose_check_was_lost_gets_one_and_follows_the_shop() {
    init_tracing();
    let catalog = active_products(1);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    sync(&world).await;
    let sku = catalog[0].variants[0].sku.clone();
    lose_the_review_check(&world, &sku).await;
    let api = serve_api(&world).await;
    let onboarding_url = format!("{}/api/orgs/{}/onboarding", api.base_url(), world.org);
    let onboarding = api_ok(Method::GET, &onboarding_url, None).await;
    let moving = step(&onboarding, "work is moving");
    assert_eq!(moving["done"], false, "{onboarding}");
    assert!(moving["detail"].as_str().is_some_and(|d| d.contains("no review check")), "{moving}");

    run_queue(&world).await;
    let product = product_with_sku(&world, &sku).await;
    let state: String = sqlx::query_scalar("SELECT state FROM listings WHERE product_id = $1")
        .bind(product.0)
        .fetch_one(world.app.db.pool())
        .await
        .expect("reads");
    assert_eq!(state, "active", "the shop has it live, and so does Crossdock");
    let onboarding = api_ok(Method::GET, &onboarding_url, None).await;
    assert_eq!(step(&onboarding, "work is moving")["done"], true, "{onboarding}");
}

/// Store webhooks are deduplicated on the signed body and topic: a delivery whose unsigned
/// `X-Shopify-Event-Id` header was copied from an earlier one is still handled, a true
/// redelivery is a duplicate, and after the retention window it is forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deduplication_keys_on_the_signed_body_not_the_event_id_header_and_is_pruned() {
    init_tracing();
    let catalog = active_products(1);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let receiver = format!("{}/webhooks/store/{}", api.base_url(), world.org);
    let recorder = WebhookRecorder::start().await;
    world.shopify.subscribe_webhooks(&recorder.address(), WEBHOOK_SECRET);
    let sku = catalog[0].variants[0].sku.clone();
    assert!(world.shopify.set_variant_stock(&sku, 6));
    world.shopify.wait_for_webhooks().await;
    assert!(world.shopify.set_variant_stock(&sku, 4));
    world.shopify.wait_for_webhooks().await;
    let deliveries = recorder.deliveries();
    let (first, mut second) = (deliveries[0].clone(), deliveries[1].clone());
    let first_id = first.header("X-Shopify-Event-Id").expect("an event id").to_string();
    for (name, value) in &mut second.headers {
        if name.eq_ignore_ascii_case("X-Shopify-Event-Id") {
            *value = first_id.clone();
        }
    }
    let outcome = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.expect("json")
    };
    assert_eq!(outcome(first.replay(&receiver).await).await["duplicate"], false);
    let borrowed = outcome(second.replay(&receiver).await).await;
    assert_eq!(borrowed["duplicate"], false, "a copied event id does not silence a real delivery");
    assert_eq!(outcome(first.replay(&receiver).await).await["duplicate"], true, "a redelivery is known");
    run_queue(&world).await;
    let cipher = world.channels[0].shop.cipher.clone();
    assert_eq!(sku_on_shop(&world, &cipher, &sku).quantity, 4, "the later stock is live");

    tokio::time::sleep(Duration::from_millis(5)).await;
    let pruned = world.app.db.prune_webhook_deliveries(Duration::ZERO).await.expect("prunes");
    assert_eq!(pruned, 2);
    assert_eq!(
        outcome(first.replay(&receiver).await).await["duplicate"],
        false,
        "forgotten after the window"
    );
    let kept = world.app.db.prune_webhook_deliveries(Duration::from_secs(7 * 86_400)).await.expect("prunes");
    assert_eq!(kept, 0, "deliveries inside the window stay");
}

/// A catalog read cut short (here: the process dies after its second page) resumes after the
/// last committed page instead of reading from page 1 again; the products of the pages read
/// before the crash are not taken for deleted; the next read starts over and still notices a
/// product the store deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_read_cut_short_resumes_after_its_last_committed_page() {
    init_tracing();
    let catalog = active_products(6);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    let settings = crossdock::engine::SyncSettings { page_size: 2, ..fast_settings() };
    let engine = world.engine(settings.clone()).await.expect("loads");
    let crashed = tokio::spawn(async move {
        import_catalog(&engine, &|report| {
            if report.products >= 4 {
                panic!("the process dies after its second page");
            }
        })
        .await
    })
    .await;
    assert!(crashed.expect_err("the read died").is_panic());

    let engine = world.engine(settings.clone()).await.expect("loads");
    let resumed = import_catalog(&engine, &|_| {}).await.expect("the read resumes");
    assert_eq!(resumed.products, 2, "only the third page is read again: {resumed:?}");
    assert_eq!(resumed.deleted, 0, "the pages read before the crash count as seen");
    let stored = world.app.db.product_ids(engine.store.id).await.expect("reads");
    assert_eq!(stored.len(), 6);

    assert!(world.shopify.delete_product(&catalog[0].handle));
    let again = import_catalog(&engine, &|_| {}).await.expect("a new read");
    assert_eq!((again.products, again.deleted), (5, 1), "{again:?}");
}

/// A dry run past its budget stops and says so, and the rule it gates is refused (unless
/// forced). The budget here is zero, so the very first product is past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_whose_dry_run_runs_past_its_budget_is_refused_and_the_dry_run_says_where_it_stopped() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), one_shop()).await;
    sync(&world).await;
    let channel = world.channels[0].id;
    let settings = crossdock::engine::SyncSettings { dry_run_budget: Duration::ZERO, ..fast_settings() };
    let api = serve_api_with(&world, ApiState::new(world.app.clone(), settings)).await;
    let rule = json!({ "source": "(price * rate * 2).round(2)" });
    let base = format!("{}/api/channels/{channel}/rules/price", api.base_url());
    let report = api_ok(Method::POST, &format!("{base}/dry-run"), Some(rule.clone())).await;
    assert_eq!(report["products"], 0, "{report}");
    assert!(report["stopped"].as_str().is_some_and(|s| s.contains("budget")), "{report}");
    let active = || async { world.app.db.active_rule(channel, RuleKind::Price).await.expect("reads") };
    let initial = active().await.map(|r| r.version);
    let (status, answer) = api_call(Method::PUT, &base, Some(rule)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("budget")), "{answer}");
    let before = active().await.map(|r| r.version);
    assert_eq!(before, initial, "the refused rule is not saved");
    let forced = json!({ "source": "(price * rate * 2).round(2)", "force": true });
    api_ok(Method::PUT, &base, Some(forced)).await;
    let after = active().await.expect("saved when forced");
    assert_ne!(Some(after.version), before, "saved only when forced");
    assert_eq!(after.source, "(price * rate * 2).round(2)");
}

/// A new token from the TikTok sandbox's auth host (the old one stops working).
async fn reauthorize(tiktok: &crossdock_sandbox::tiktok::TikTokSandbox) -> String {
    let url = format!(
        "{}/api/v2/token/get?app_key=sandbox-app-key&app_secret=sandbox-app-secret&auth_code={}\
         &grant_type=authorized_code",
        tiktok.base_url(),
        tiktok.authorization_code()
    );
    let answer: Value = reqwest::get(url).await.expect("the auth host answers").json().await.expect("json");
    answer["data"]["access_token"].as_str().expect("a new token").to_string()
}

/// The work that failed because a shop's token stopped working runs again once the operator
/// puts the new token in `crossdock.toml` and it checks out: nothing stays failed. (The
/// failures are written as a sync on the dead token leaves them: `run_until_idle` itself
/// would wait for ever on a channel it cannot link.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_failed_on_a_dead_token_runs_again_once_the_new_token_is_applied() {
    use crossdock::config::ServeConfig;
    use crossdock::dispatch::{QueueSettings, run_until_idle};
    use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
    use crossdock_sandbox::tiktok::{TikTokConfig, TikTokSandbox};
    init_tracing();
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Token shop".into(),
        currency: "USD".into(),
        access_token: "tok".into(),
        catalog: active_products(2),
    })
    .await
    .expect("shopify");
    let tiktok =
        TikTokSandbox::start(TikTokConfig { shops: one_shop(), ..Default::default() }).await.expect("tiktok");
    let shop = tiktok.shops()[0].clone();
    let dir = std::env::temp_dir().join(format!("crossdock-token-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("secrets")).expect("temp dir");
    std::fs::write(dir.join("secrets/key"), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").expect("key");
    std::fs::write(dir.join("secrets/shopify"), "tok").expect("secret");
    std::fs::write(dir.join("secrets/tts-secret"), "sandbox-app-secret").expect("secret");
    std::fs::write(dir.join("secrets/tts-token"), tiktok.access_token()).expect("secret");
    let path = dir.join("crossdock.toml");
    let config = format!(
        r#"
database-url = "{database_url}"
organization = "Token Org"
secret-key = "file:secrets/key"

# The sandboxes listen on this machine.
[plugins.egress]
allow-networks = ["127.0.0.0/8"]

[store]
name = "Token shop"
plugin = "shopify"
settings = {{ base-url = "{shopify}" }}
secrets = {{ access-token = "file:secrets/shopify" }}

[[channels]]
name = "US"
plugin = "tiktok-shop"
settings = {{ base-url = "{tiktok}", app-key = "sandbox-app-key", shop-cipher = "{cipher}", category-id = "600001" }}
secrets = {{ app-secret = "file:secrets/tts-secret", access-token = "file:secrets/tts-token" }}
"#,
        database_url = fresh_sqlite_url(),
        shopify = shopify.base_url(),
        tiktok = tiktok.base_url(),
        cipher = shop.cipher,
    );
    std::fs::write(&path, config).expect("config");
    let config = ServeConfig::load(&path).expect("the config is valid");
    let key = config.secret_key(&path).expect("the key file is read");
    let egress = config.plugins.egress.policy().expect("the egress policy is valid");
    let app = crossdock::App::start_with_key(&config.database_url, key)
        .await
        .expect("app")
        .with_egress(egress)
        .expect("the plugin HTTP client builds");
    let org = crossdock::serve::apply_config(&app, &config, &path).await.expect("applied");

    let queue = QueueSettings { workers: 2, ..QueueSettings::default() };
    let engine = crossdock::engine::SyncEngine::load(&app, org, fast_settings()).await.expect("loads");
    import_catalog(&engine, &|_| {}).await.expect("imports");
    run_until_idle(&engine, &queue, &|| {}).await.expect("drains");

    // The seller reconnected in TikTok: the stored token is dead, and the pushes made with it
    // failed as unauthorized (the state a sync on the dead token leaves).
    let new_token = reauthorize(&tiktok).await;
    let failed = sqlx::query(
        "UPDATE jobs SET state = 'failed', last_error = 'unauthorized: reconnect the account' \
         WHERE kind = 'push_listing'",
    )
    .execute(app.db.pool())
    .await
    .expect("updates")
    .rows_affected();
    assert_eq!(failed, 2);
    assert_eq!(app.db.failed_jobs().await.expect("reads").len(), 2);

    // The operator puts the new token in the file; re-applying it checks it and retries.
    std::fs::write(dir.join("secrets/tts-token"), &new_token).expect("secret");
    crossdock::serve::apply_config(&app, &config, &path).await.expect("re-applied");
    assert!(app.db.failed_jobs().await.expect("reads").is_empty(), "the failed work is queued again");
    let queued = app.db.job_counts().await.expect("reads");
    assert_eq!(queued.get(&crossdock::db::jobs::JobState::Queued), Some(&2), "{queued:?}");
    let engine = crossdock::engine::SyncEngine::load(&app, org, fast_settings()).await.expect("loads");
    run_until_idle(&engine, &queue, &|| {}).await.expect("drains");
    assert!(app.db.failed_jobs().await.expect("reads").is_empty(), "nothing failed again");
    let live = tiktok.products(&shop.cipher).iter().filter(|p| p.status != "DELETED").count();
    assert_eq!(live, 2, "both products are listed, once");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dry run can be cancelled while it runs: it answers at once, stopped, saying how far it
/// got; the organization can start another right after. (The rule is slow on purpose: each
/// product runs to the rule engine's own limits, so the whole catalog takes seconds.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_dry_run_can_be_cancelled() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(40), one_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let slow = json!({ "source": "let n = 0; while n < 1000000 { n += 1; } price * rate" });
    let dry_run = format!("{base}/api/channels/{channel}/rules/price/dry-run");
    let running = tokio::spawn({
        let (url, body) = (dry_run.clone(), slow.clone());
        async move { api_call(Method::POST, &url, Some(body)).await }
    });
    // Its progress is readable while it runs.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let cancel = format!("{base}/api/orgs/{}/dry-run", world.org.0);
    loop {
        let status = api_ok(Method::GET, &cancel, None).await;
        if status["running"] == true && status["products"].as_u64().is_some_and(|n| n > 0) {
            assert_eq!(status["kind"], "price", "{status}");
            assert_eq!(status["channel"], channel.0, "{status}");
            assert!(status["evaluated"].as_u64() <= status["products"].as_u64(), "{status}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the dry run never showed its progress: {status}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    loop {
        let answer = api_ok(Method::DELETE, &cancel, None).await;
        if answer["cancelled"] == true {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the dry run never started: {answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, report) = running.await.expect("the request ends");
    assert_eq!(status, StatusCode::OK, "{report}");
    let stopped = report["stopped"].as_str().expect("stopped");
    assert!(stopped.contains("cancelled"), "{report}");
    assert!(report["products"].as_u64().is_some_and(|n| n < 40), "it stopped early: {report}");
    // Nothing runs any more: cancelling again finds nothing, and a new dry run may start.
    assert_eq!(api_ok(Method::DELETE, &cancel, None).await["cancelled"], false);
    assert_eq!(api_ok(Method::GET, &cancel, None).await["running"], false);
    let quick = api_ok(Method::POST, &dry_run, Some(json!({ "source": "price * rate" }))).await;
    assert!(quick["stopped"].is_null(), "{quick}");
}
