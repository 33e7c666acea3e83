//! Over real HTTP: a buyer's return of some units through its whole RETURN_AND_REFUND life
//! (approve, ship back with tracking, received or refused, paid), the decisions TikTok expects
//! at each step, idempotency keys, wrong-state codes and the type 12 webhook of every change.

use super::orders::receiver;
use super::*;

/// A shop with a delivered order of three units of MUG-1.
async fn delivered_order() -> (TikTokSandbox, Client, SandboxShop, String) {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let shop = sandbox.shops()[0].clone();
    sandbox.seed_product(&shop.cipher, "Mug", &["MUG-1"]);
    let order = sandbox.place_order(&shop.cipher, &[("MUG-1", 3)]);
    for status in [OrderStatus::AwaitingCollection, OrderStatus::InTransit, OrderStatus::Delivered] {
        sandbox.advance_order(&shop.cipher, &order, status);
    }
    let client = Client::new(&sandbox);
    (sandbox, client, shop, order)
}

async fn found(client: &Client, shop: &SandboxShop, return_id: &str) -> Value {
    let (_, found) = client
        .call(
            Method::POST,
            "/return_refund/202309/returns/search",
            &[("shop_cipher", &shop.cipher)],
            Some(&json!({ "return_ids": [return_id] })),
        )
        .await;
    found["data"]["return_orders"][0].clone()
}

async fn decide(client: &Client, shop: &SandboxShop, return_id: &str, decision: &str, key: &str) -> Value {
    let verb = if decision.starts_with("APPROVE") { "approve" } else { "reject" };
    let path = format!("/return_refund/202309/returns/{return_id}/{verb}");
    let body = json!({ "decision": decision, "reject_reason": "reverse_reject_request_reason_1" });
    let query = [("shop_cipher", shop.cipher.as_str()), ("idempotency_key", key)];
    client.call(Method::POST, &path, &query, Some(&body)).await.1
}

fn actions(request: &Value) -> Vec<String> {
    let list = request["seller_next_action_response"].as_array().cloned().unwrap_or_default();
    list.iter().filter_map(|a| a["action"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_return_of_one_unit_goes_from_request_to_paid_with_each_decision_asked_for_once() {
    let (sandbox, client, shop, order) = delivered_order().await;
    let lines = sandbox.order_line_ids(&shop.cipher, &order);
    assert_eq!(lines.len(), 3, "one line item per unit");
    let return_id = sandbox.request_return_of(&shop.cipher, &order, "RETURN_AND_REFUND", &[&lines[1]]);
    let request = found(&client, &shop, &return_id).await;
    assert_eq!(request["return_status"], "RETURN_OR_REFUND_REQUEST_PENDING");
    assert_eq!(actions(&request), ["SELLER_RESPOND_RETURN"]);
    let items = request["return_line_items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["order_line_item_id"], lines[1].as_str());
    assert_eq!(request["refund_amount"]["refund_total"], items[0]["refund_amount"]["refund_total"]);

    let early = decide(&client, &shop, &return_id, "APPROVE_RECEIVED_PACKAGE", "k0").await;
    assert_eq!(early["code"], 25001001, "nothing came back yet: {early}");
    let approved = decide(&client, &shop, &return_id, "APPROVE_RETURN", "k1").await;
    assert_eq!(approved["code"], 0, "{approved}");
    let again = decide(&client, &shop, &return_id, "APPROVE_RETURN", "k1").await;
    assert_eq!(again["code"], 0, "the same key answers the same: {again}");
    let request = found(&client, &shop, &return_id).await;
    assert_eq!(request["return_status"], "AWAITING_BUYER_SHIP");
    assert!(actions(&request).is_empty(), "the buyer ships next: {request}");
    let reused = decide(&client, &shop, &return_id, "REJECT_RETURN", "k1").await;
    assert_eq!(reused["code"], 36009005, "a key belongs to one decision: {reused}");
    let twice = decide(&client, &shop, &return_id, "APPROVE_RETURN", "k2").await;
    assert_eq!(twice["code"], 25001001, "{twice}");

    sandbox.return_shipped_with(&shop.cipher, &return_id, ("1Z999".into(), "UPS".into()));
    let request = found(&client, &shop, &return_id).await;
    assert_eq!(request["return_status"], "BUYER_SHIPPED_ITEM");
    assert_eq!(request["return_tracking_number"], "1Z999");
    assert_eq!(request["return_provider_name"], "UPS");
    assert_eq!(actions(&request), ["SELLER_RESPOND_RECEIVE_PACKAGE"]);
    let received = decide(&client, &shop, &return_id, "APPROVE_RECEIVED_PACKAGE", "k3").await;
    assert_eq!(received["code"], 0, "{received}");
    assert_eq!(
        sandbox.return_status(&shop.cipher, &return_id).as_deref(),
        Some("RETURN_OR_REFUND_REQUEST_SUCCESS")
    );
    sandbox.refund_paid(&shop.cipher, &return_id);
    let request = found(&client, &shop, &return_id).await;
    assert_eq!(request["return_status"], "RETURN_OR_REFUND_REQUEST_COMPLETE");
    let late = decide(&client, &shop, &return_id, "REJECT_RECEIVED_PACKAGE", "k4").await;
    assert_eq!(late["code"], 25001010, "{late}");
    assert_eq!(sandbox.order_status(&shop.cipher, &order), Some(OrderStatus::Delivered));
}

#[tokio::test]
async fn a_refused_package_ends_the_return_and_its_units_cannot_be_asked_for_twice() {
    let (sandbox, client, shop, order) = delivered_order().await;
    let (url, seen) = receiver(0).await;
    sandbox.subscribe_webhooks(&url);
    let lines = sandbox.order_line_ids(&shop.cipher, &order);
    let return_id = sandbox.request_return_of(&shop.cipher, &order, "RETURN_AND_REFUND", &[&lines[0]]);
    let refused = sandbox.app.request_return(&shop.cipher, &order, "RETURN_AND_REFUND", &[lines[0].clone()]);
    assert!(refused.is_err_and(|e| e.to_string().contains("already in return")));
    let unknown = sandbox.app.request_return(&shop.cipher, &order, "RETURN_AND_REFUND", &["1".into()]);
    assert!(unknown.is_err());
    assert_eq!(decide(&client, &shop, &return_id, "APPROVE_RETURN", "a").await["code"], 0);
    sandbox.return_shipped_by_buyer(&shop.cipher, &return_id);
    let rejected = decide(&client, &shop, &return_id, "REJECT_RECEIVED_PACKAGE", "b").await;
    assert_eq!(rejected["code"], 0, "{rejected}");
    let request = found(&client, &shop, &return_id).await;
    assert_eq!(request["return_status"], "REJECT_RECEIVE_PACKAGE");
    assert!(actions(&request).is_empty());
    assert!(sandbox.app.refund_paid(&shop.cipher, &return_id).is_err(), "a refused package is not paid");

    sandbox.webhooks_settled().await;
    let statuses: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|(_, body)| serde_json::from_slice::<Value>(body).ok())
        .filter(|event| event["type"] == 12)
        .map(|event| event["data"]["return_status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        statuses,
        [
            "RETURN_OR_REFUND_REQUEST_PENDING",
            "AWAITING_BUYER_SHIP",
            "BUYER_SHIPPED_ITEM",
            "REJECT_RECEIVE_PACKAGE"
        ]
    );
}
