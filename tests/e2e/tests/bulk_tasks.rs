//! Long work off the request path, watched over the real HTTP API: a bulk order retry answers
//! 202 with a task that reaches `done` with the right counts (one at a time per kind: a second
//! answers 409 naming the first; another organization sees 404; no credentials, 401), and the
//! catalog sync's progress per channel agrees with the listings while a real sync runs.

use crossdock_e2e::{
    active_products, api_call, api_ok, finished_task, fresh_postgres_url, fresh_sqlite_url, init_tracing,
    org_api_token, serve_api, sync, sync_orders, world,
};
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use std::sync::atomic::{AtomicBool, Ordering};

/// Takes a lock on the orders table from another connection (PostgreSQL), so the task's
/// first write waits and the test sees the task running; `ROLLBACK` lets it go.
async fn lock_orders(database_url: &str) -> sqlx::PgConnection {
    let mut c = sqlx::PgConnection::connect(database_url).await.expect("connects");
    sqlx::raw_sql("BEGIN; LOCK TABLE channel_orders IN EXCLUSIVE MODE")
        .execute(&mut c)
        .await
        .expect("the lock");
    c
}

async fn call_as(token: Option<&str>, method: Method, url: &str) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn a_bulk_order_retry_runs_in_the_background_to_done(database_url: &str) {
    init_tracing();
    let world = world(database_url, active_products(2), vec![ShopSpec::new("US", "US", "USD")]).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    // Three orders of a SKU only Seller Center has fail.
    world.tiktok.seed_product(&cipher, "Seller Center only", &["SC-ONLY-1"]);
    let orders: Vec<String> =
        (0..3).map(|_| world.tiktok.place_order(&cipher, &[("SC-ONLY-1", 1)])).collect();
    sync_orders(&world).await;
    let view = api_ok(Method::GET, &format!("{base}/api/channels/{channel}/orders?state=failed"), None).await;
    assert_eq!(view["orders"].as_array().map(Vec::len), Some(3), "{view}");

    let other = world.app.db.create_org("Other Org").await.expect("made");
    let other_token = org_api_token(&world.app, other, "other").await;
    // Its first use is recorded (a write), before the orders are locked.
    let (status, listed) =
        call_as(Some(&other_token), Method::GET, &format!("{base}/api/orgs/{other}/tasks")).await;
    assert_eq!((status, listed), (StatusCode::OK, json!([])));

    let retry_url = format!("{base}/api/channels/{channel}/orders/retry?kind=unlinked_sku");
    // On PostgreSQL a table lock holds the task's writes, so a second request meets it
    // running. (SQLite's one writer cannot be held that way without failing the task's
    // writes at its busy timeout; the board's own unit test covers the rule there.)
    let lock = match database_url.starts_with("postgres") {
        true => Some(lock_orders(database_url).await),
        false => None,
    };
    let (status, task) = api_call(Method::POST, &retry_url, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{task}");
    assert_eq!(task["kind"], "retry_orders", "{task}");
    let task_url = format!("{base}/api/orgs/{}/tasks/{}", world.org, task["id"]);
    if lock.is_some() {
        assert_eq!(task["state"], "running", "{task}");
        // While it runs: a second one waits, naming the first.
        let (status, busy) = api_call(Method::POST, &retry_url, None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{busy}");
        assert_eq!(busy["task"], task["id"], "{busy}");
        assert!(
            busy["error"].as_str().is_some_and(|e| e.contains(&format!("task {}", task["id"]))),
            "{busy}"
        );
    }
    // Nobody else sees it.
    let (status, _) = call_as(None, Method::GET, &task_url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = call_as(Some(&other_token), Method::GET, &task_url).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let theirs = format!("{base}/api/orgs/{other}/tasks/{}", task["id"]);
    let (status, answer) = call_as(Some(&other_token), Method::GET, &theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organization's task is not in theirs: {answer}");
    let (status, listed) =
        call_as(Some(&other_token), Method::GET, &format!("{base}/api/orgs/{other}/tasks")).await;
    assert_eq!((status, listed), (StatusCode::OK, json!([])), "none of theirs");
    if let Some(mut lock) = lock {
        sqlx::raw_sql("ROLLBACK").execute(&mut lock).await.expect("released");
    }

    let done = finished_task(&base, &task).await;
    assert_eq!(
        (&done["state"], &done["total"], &done["done"], &done["retried"], &done["error_count"]),
        (&json!("done"), &json!(3), &json!(3), &json!(3), &json!(0)),
        "{done}"
    );
    assert!(done["finished_at"].as_i64() >= done["started_at"].as_i64(), "{done}");
    let listed = api_ok(Method::GET, &format!("{base}/api/orgs/{}/tasks", world.org), None).await;
    assert_eq!(listed[0]["id"], task["id"], "newest first: {listed}");
    // Each is due again, its failure count forgotten (no worker ran yet).
    let view = api_ok(Method::GET, &format!("{base}/api/channels/{channel}/orders"), None).await;
    for order in &orders {
        let row = view["orders"].as_array().and_then(|o| o.iter().find(|r| r["channel_order_id"] == *order));
        let row = row.unwrap_or_else(|| panic!("{order} is listed: {view}"));
        assert_eq!((&row["state"], &row["attempts"]), (&json!("pending"), &json!(0)), "{order}: {row}");
    }
    // Once it ended, another may run: nothing is left to retry.
    let (status, again) = api_call(Method::POST, &retry_url, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    let again = finished_task(&base, &again).await;
    assert_eq!((&again["state"], &again["total"], &again["retried"]), (&json!("done"), &json!(0), &json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_order_retry_runs_in_the_background_to_done_sqlite() {
    a_bulk_order_retry_runs_in_the_background_to_done(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_order_retry_runs_in_the_background_to_done_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    a_bulk_order_retry_runs_in_the_background_to_done(&url).await;
}

async fn the_sync_progress_agrees_with_the_listings_while_a_sync_runs(database_url: &str) {
    init_tracing();
    let world = world(database_url, active_products(6), vec![ShopSpec::new("US", "US", "USD")]).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let url = format!("{base}/api/orgs/{}/sync-progress", world.org);
    let synced = AtomicBool::new(false);
    let first_sync = async {
        sync(&world).await;
        synced.store(true, Ordering::SeqCst);
    };
    let watch = async {
        let mut saw_running = 0;
        let mut last_live = 0;
        while !synced.load(Ordering::SeqCst) {
            let progress = api_ok(Method::GET, &url, None).await;
            let c = &progress["channels"][0];
            let n = |k: &str| c[k].as_i64().unwrap_or_else(|| panic!("{k} in {c}"));
            let counts = world.app.db.listing_counts(channel).await.expect("counts");
            let live_now: i64 =
                counts.get(&crossdock::db::listings::ListingState::Active).copied().unwrap_or(0);
            assert!(n("live") <= live_now, "live only grows, and is never ahead of the listings: {c}");
            assert!(n("live") >= last_live, "{c}");
            last_live = n("live");
            assert!(n("queued") + n("in_review") + n("settled") <= n("selected"), "{c}");
            assert!(n("settled") <= n("selected") && n("selected") <= n("products"), "{c}");
            if c["running"] == true {
                saw_running += 1;
            }
            // The sync runs beside; the API is read as a watcher would.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        saw_running
    };
    let ((), saw_running) = tokio::join!(first_sync, watch);
    assert!(saw_running > 0, "the progress said work ran while the sync ran");
    let progress = api_ok(Method::GET, &url, None).await;
    let c = &progress["channels"][0];
    let counts = world.app.db.listing_counts(channel).await.expect("counts");
    let live = counts.get(&crossdock::db::listings::ListingState::Active).copied().unwrap_or(0);
    assert_eq!(live, 6, "{counts:?}");
    assert_eq!(
        (
            &c["products"],
            &c["selected"],
            &c["live"],
            &c["settled"],
            &c["queued"],
            &c["in_review"],
            &c["running"]
        ),
        (&json!(6), &json!(6), &json!(live), &json!(6), &json!(0), &json!(0), &json!(false)),
        "{c}"
    );
    assert_eq!(progress["running"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_progress_agrees_with_the_listings_while_a_sync_runs_sqlite() {
    the_sync_progress_agrees_with_the_listings_while_a_sync_runs(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_progress_agrees_with_the_listings_while_a_sync_runs_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    the_sync_progress_agrees_with_the_listings_while_a_sync_runs(&url).await;
}
