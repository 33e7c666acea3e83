//! Over real HTTP: product webhooks. A review decided on the timer sends types 5 and 37 with no
//! call coming in; a deactivate sends type 5 PRODUCT_STATUS_CHANGED; all are signed.

use super::*;
use axum::http::HeaderMap;
use tokio::sync::mpsc;

/// A receiver that answers 200 and hands each delivery (signature, body) to the test.
async fn receiver() -> (crate::server::ServerHandle, String, mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let signature =
                    headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let _ = tx.send((signature, body.to_vec()));
                axum::http::StatusCode::OK
            }
        }),
    );
    let server = crate::server::ServerHandle::start(app, 0).await.expect("binds");
    let url = format!("{}/hooks", server.base_url());
    (server, url, rx)
}

/// The next delivery, its signature checked.
async fn next_event(rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>) -> Value {
    let (signature, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a webhook within 5 s")
        .expect("the receiver is open");
    assert_eq!(signature, webhook_signature(KEY, SECRET, &body), "signed with the app secret");
    serde_json::from_slice(&body).expect("a JSON envelope")
}

/// Types 5 and 37 of one decision, in whichever order they arrived.
async fn review_events(rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>) -> (Value, Value) {
    let first = next_event(rx).await;
    let second = next_event(rx).await;
    if first["type"] == 5 { (first, second) } else { (second, first) }
}

#[tokio::test]
async fn an_approval_sends_types_5_and_37_when_decided_without_any_call() {
    let sandbox =
        sandbox(ReviewPolicy { delay: Duration::from_millis(100), outcome: ReviewOutcome::Approve }).await;
    let (_server, url, mut rx) = receiver().await;
    sandbox.subscribe_webhooks(&url);
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let id = create(&client, &us, "approve").await["product_id"].as_str().expect("id").to_owned();

    let (five, thirty_seven) = review_events(&mut rx).await;
    assert_eq!(sandbox.request_count(), 1, "decided by the timer, not by a call");
    assert_eq!(five["type"], 5);
    assert_eq!(five["shop_id"], us.id.as_str());
    assert_eq!(five["data"]["status"], "PRODUCT_FIRST_PASS_REVIEW");
    let numeric: u64 = id.parse().expect("digits");
    assert!(five["data"]["product_id"].is_u64(), "a JSON number: {five}");
    assert_eq!(five["data"]["product_id"], numeric);
    assert!(five["data"]["update_time"].is_i64());
    assert_eq!(thirty_seven["type"], 37);
    assert_eq!(thirty_seven["data"]["product_id"], id.as_str());
    assert_eq!(thirty_seven["data"]["audit"]["status"], "APPROVED");
    // The product was decided once: reading it announces nothing more.
    assert_eq!(sandbox.product(&us.cipher, &id).map(|p| p.status), Some("ACTIVATE".to_owned()));
    sandbox.webhooks_settled().await;
    assert_eq!(sandbox.webhook_deliveries(), 2);
}

#[tokio::test]
async fn a_rejection_sends_the_audit_failure_with_its_reasons() {
    let reasons = vec!["Main image is blurry".to_owned(), "Title has a banned word".to_owned()];
    let policy = ReviewPolicy { delay: Duration::from_millis(50), outcome: ReviewOutcome::Reject(reasons) };
    let sandbox = sandbox(policy).await;
    let (_server, url, mut rx) = receiver().await;
    sandbox.subscribe_webhooks(&url);
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let id = create(&client, &us, "reject").await["product_id"].as_str().expect("id").to_owned();

    let (five, thirty_seven) = review_events(&mut rx).await;
    assert_eq!(five["data"]["status"], "PRODUCT_AUDIT_FAILURE");
    assert_eq!(five["data"]["suspended_reason"], "Main image is blurry; Title has a banned word");
    assert_eq!(five["data"]["product_id"], id.parse::<u64>().expect("digits"));
    assert_eq!(thirty_seven["data"]["audit"]["status"], "FAILED");
    assert_eq!(sandbox.product(&us.cipher, &id).map(|p| p.status), Some("FAILED".to_owned()));
}

#[tokio::test]
async fn deactivate_sends_a_status_changed_event() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let (_server, url, mut rx) = receiver().await;
    sandbox.subscribe_webhooks(&url);
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let id = sandbox.seed_product(&us.cipher, "Mug", &["MUG-1"]);
    let body = json!({ "product_ids": [id] });
    let data =
        client.shop_call(Method::POST, "/product/202309/products/deactivate", &us.cipher, Some(&body)).await;
    assert_eq!(data["data"]["errors"], json!([]), "{data}");

    let five = next_event(&mut rx).await;
    assert_eq!(five["type"], 5);
    assert_eq!(five["data"]["status"], "PRODUCT_STATUS_CHANGED");
    assert_eq!(five["data"]["product_id"], id.parse::<u64>().expect("digits"));
    assert_eq!(five["data"]["suspended_reason"], "");

    // A move refused per item sends nothing.
    client.shop_call(Method::POST, "/product/202309/products/deactivate", &us.cipher, Some(&body)).await;
    sandbox.webhooks_settled().await;
    assert!(rx.try_recv().is_err(), "no event for a product that did not move");
}
