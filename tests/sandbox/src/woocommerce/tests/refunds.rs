//! Over real HTTP: order refunds restock, are listed on the order, refuse over-refunds and
//! (with no gateway in the sandbox) the default gateway refund.

use super::*;

async fn delete(url: &str) -> (u16, Value) {
    let response =
        reqwest::Client::new().delete(url).basic_auth(KEY, Some(SECRET)).send().await.expect("answers");
    (response.status().as_u16(), response.json().await.expect("JSON body"))
}

/// A store with one two-variant product and a paid order of two units of `GEN-000000-01`:
/// the store, the order id, its line id, the unit price and the stock before the order.
async fn paid_order() -> (WooSandbox, u64, u64, String, i64) {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let before = woo.stock("GEN-000000-01").expect("stock");
    let (status, order) = post(
        &api(&woo, "/orders"),
        json!({"set_paid": true, "line_items": [{"sku": "GEN-000000-01", "quantity": 2}]}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 2));
    let id = order["id"].as_u64().expect("id");
    let line = order["line_items"][0]["id"].as_u64().expect("line id");
    let total: rust_decimal::Decimal =
        order["line_items"][0]["total"].as_str().and_then(|t| t.parse().ok()).expect("a line total");
    let price = data::money(total / rust_decimal::Decimal::from(2));
    (woo, id, line, price, before)
}

#[tokio::test]
async fn a_refund_restocks_its_line_and_is_listed_on_the_order_until_fully_refunded() {
    let (woo, id, line, price, before) = paid_order().await;
    let refunds = api(&woo, &format!("/orders/{id}/refunds"));
    let one = json!({"reason": "Returned", "api_refund": false,
                     "line_items": [{"id": line, "quantity": 1, "refund_total": price}]});
    let (status, refund) = post(&refunds, one.clone()).await;
    assert_eq!(status, 201, "{refund}");
    let unit: rust_decimal::Decimal = price.parse().expect("a price");
    assert_eq!(refund["amount"], data::money(unit), "the amount comes from the line totals");
    assert_eq!(refund["refunded_payment"], false);
    assert_eq!(refund["line_items"][0]["quantity"], -1);
    assert_eq!(refund["line_items"][0]["meta_data"][0]["value"], line.to_string());
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 1), "api_restock defaults to true");

    let (_, _, order) = get(&api(&woo, &format!("/orders/{id}"))).await;
    assert_eq!(order["status"], "processing", "partly refunded");
    assert_eq!(order["refunds"][0]["id"], refund["id"]);
    assert_eq!(order["refunds"][0]["total"], data::money(-unit));
    assert_eq!(order["refunds"][0]["reason"], "Returned");
    let (_, _, notes) = get(&api(&woo, &format!("/orders/{id}/notes"))).await;
    assert!(notes[0]["note"].as_str().is_some_and(|n| n.contains("stock increased")), "{notes}");

    let (status, _) = post(&refunds, one).await;
    assert_eq!(status, 201);
    let (_, _, order) = get(&api(&woo, &format!("/orders/{id}"))).await;
    assert_eq!(order["status"], "refunded", "nothing left to refund");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before));
    let (_, headers, listed) = get(&refunds).await;
    assert_eq!(header(&headers, "x-wp-total"), "2");
    let rid = listed[1]["id"].as_u64().expect("id");
    assert_eq!(listed[1]["id"], order["refunds"][0]["id"], "newest first");
    let (status, _, read) = get(&format!("{refunds}/{rid}")).await;
    assert_eq!((status, read["id"].as_u64()), (200, Some(rid)));

    let (status, over) = post(&refunds, json!({"amount": "0.01", "api_refund": false})).await;
    assert_eq!(status, 500);
    assert_eq!(over["code"], "woocommerce_rest_cannot_create_order_refund");
    assert_eq!(over["message"], "Invalid refund amount.");
    woo.stop().await;
}

#[tokio::test]
async fn more_than_the_remaining_total_is_refused_and_changes_nothing() {
    let (woo, id, _, price, before) = paid_order().await;
    let unit: rust_decimal::Decimal = price.parse().expect("a price");
    let too_much = data::money(unit * rust_decimal::Decimal::from(2) + rust_decimal::Decimal::new(1, 2));
    let (status, refused) =
        post(&api(&woo, &format!("/orders/{id}/refunds")), json!({"amount": too_much, "api_refund": false}))
            .await;
    assert_eq!(status, 500);
    assert_eq!(refused["code"], "woocommerce_rest_cannot_create_order_refund");
    assert_eq!(refused["data"]["status"], 500);
    let (_, _, order) = get(&api(&woo, &format!("/orders/{id}"))).await;
    assert_eq!(order["refunds"], json!([]));
    assert_eq!(order["status"], "processing");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 2));

    let (status, negative) =
        post(&api(&woo, &format!("/orders/{id}/refunds")), json!({"amount": "-1", "api_refund": false}))
            .await;
    assert_eq!((status, negative["code"].as_str()), (400, Some("woocommerce_rest_invalid_order_refund")));
    let (status, _) = post(&api(&woo, "/orders/999999/refunds"), json!({"amount": "1"})).await;
    assert_eq!(status, 404);
    woo.stop().await;
}

#[tokio::test]
async fn a_gateway_refund_is_refused_as_core_refuses_a_missing_gateway() {
    let (woo, id, line, price, before) = paid_order().await;
    let (status, refused) = post(
        &api(&woo, &format!("/orders/{id}/refunds")),
        json!({"line_items": [{"id": line, "quantity": 1, "refund_total": price}]}),
    )
    .await;
    assert_eq!(status, 500, "api_refund defaults to true");
    assert_eq!(refused["code"], "woocommerce_rest_cannot_create_order_refund");
    assert_eq!(refused["message"], "The payment gateway for this order does not exist.");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 2), "nothing restocked");
    let (_, _, order) = get(&api(&woo, &format!("/orders/{id}"))).await;
    assert_eq!(order["refunds"], json!([]));
    woo.stop().await;
}

#[tokio::test]
async fn without_restock_stock_stays_and_a_later_cancel_restores_only_what_refunds_did_not() {
    let (woo, id, line, price, before) = paid_order().await;
    let refunds = api(&woo, &format!("/orders/{id}/refunds"));
    let (status, _) = post(
        &refunds,
        json!({"api_refund": false, "api_restock": false,
               "line_items": [{"id": line, "quantity": 1, "refund_total": price}]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 2), "api_restock: false");
    let (status, _) = post(
        &refunds,
        json!({"api_refund": false, "line_items": [{"id": line, "quantity": 1, "refund_total": "0.00"}],
               "amount": "0.01"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 1));
    let (status, too_many) = post(
        &refunds,
        json!({"api_refund": false, "amount": "0.01", "line_items": [{"id": line, "quantity": 1}]}),
    )
    .await;
    assert_eq!((status, too_many["code"].as_str()), (400, Some("woocommerce_rest_invalid_order_refund")));

    let (_, cancelled) = put(&api(&woo, &format!("/orders/{id}")), json!({"status": "cancelled"})).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before), "the unit not restocked by a refund comes back");
    woo.stop().await;
}

#[tokio::test]
async fn a_refund_is_deleted_only_with_force() {
    let (woo, id, _, _, _) = paid_order().await;
    let refunds = api(&woo, &format!("/orders/{id}/refunds"));
    let (_, refund) = post(&refunds, json!({"amount": "1.00", "api_refund": false})).await;
    let rid = refund["id"].as_u64().expect("id");
    let (status, trash) = delete(&format!("{refunds}/{rid}")).await;
    assert_eq!((status, trash["code"].as_str()), (501, Some("woocommerce_rest_trash_not_supported")));
    let (status, deleted) = delete(&format!("{refunds}/{rid}?force=true")).await;
    assert_eq!((status, deleted["id"].as_u64()), (200, Some(rid)));
    let (_, _, order) = get(&api(&woo, &format!("/orders/{id}"))).await;
    assert_eq!(order["refunds"], json!([]));
    let (status, missing) = delete(&format!("{refunds}/{rid}?force=true")).await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (404, Some("woocommerce_rest_shop_order_refund_invalid_id"))
    );
    woo.stop().await;
}
