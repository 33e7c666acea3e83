//! Over real HTTP: the batch endpoints report each item's result or error in place, move stock
//! as the single endpoints do, and refuse more than 100 objects with a 413.

use super::*;

#[tokio::test]
async fn a_product_batch_reports_each_items_success_or_error_in_place() {
    let woo = WooSandbox::start(config(generated_catalog(3, 1, 5))).await.expect("starts");
    let hooks = receiver(200).await;
    let url = format!("{}/hooks", hooks.server.base_url());
    woo.subscribe_webhook("product.created", &url, "whsec").expect("subscribed");
    let ids: Vec<u64> = woo.state.store().products.keys().copied().collect();
    let body = json!({
        "create": [
            {"name": "Trail Mug", "sku": "MUG-NEW", "regular_price": "9.50", "manage_stock": true, "stock_quantity": 5},
            {"name": "Copy", "sku": "GEN-000000-00"},
        ],
        "update": [{"id": ids[0], "stock_quantity": 3}, {"id": 999_999, "stock_quantity": 1}],
        "delete": [ids[1], 999_998],
    });
    let (status, answer) = post(&api(&woo, "/products/batch"), body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["create"][0]["sku"], "MUG-NEW");
    assert_eq!(answer["create"][0]["regular_price"], "9.50");
    assert_eq!(answer["create"][1]["id"], 0);
    assert_eq!(answer["create"][1]["error"]["code"], "product_invalid_sku");
    assert_eq!(answer["create"][1]["error"]["data"]["status"], 400);
    assert_eq!(answer["update"][0]["stock_quantity"], 3);
    assert_eq!(answer["update"][1]["id"], 999_999);
    assert_eq!(answer["update"][1]["error"]["code"], "woocommerce_rest_product_invalid_id");
    assert_eq!(answer["update"][1]["error"]["data"]["status"], 404);
    assert_eq!(answer["delete"][0]["id"], ids[1]);
    assert_eq!(answer["delete"][1]["error"]["code"], "woocommerce_rest_product_invalid_id");

    assert_eq!(woo.stock("MUG-NEW"), Some(5));
    assert_eq!(woo.stock("GEN-000000-00"), Some(3));
    assert_eq!(woo.product_count(), 3, "one created, one deleted");
    let new_id = answer["create"][0]["id"].as_u64().expect("id");
    let (status, _, read) = get(&api(&woo, &format!("/products/{new_id}"))).await;
    assert_eq!((status, read["name"].as_str()), (200, Some("Trail Mug")));
    woo.wait_for_webhooks().await;
    let seen = hooks.seen.lock().expect("not poisoned").clone();
    let created: Value = serde_json::from_slice(&seen.last().expect("a delivery").1).expect("JSON");
    assert_eq!(created["sku"], "MUG-NEW", "product.created like the single endpoint");
    woo.stop().await;
}

#[tokio::test]
async fn an_order_batch_moves_stock_like_single_orders_and_reports_bad_lines_in_place() {
    let woo = WooSandbox::start(config(generated_catalog(1, 1, 2))).await.expect("starts");
    let before = woo.stock("GEN-000000-00").expect("stock");
    let body = json!({"create": [
        {"set_paid": true, "line_items": [{"sku": "GEN-000000-00", "quantity": 2}]},
        {"line_items": [{"product_id": 999_999, "quantity": 1}]},
    ]});
    let (status, answer) = post(&api(&woo, "/orders/batch"), body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["create"][0]["status"], "processing");
    assert_eq!(answer["create"][1]["error"]["code"], "woocommerce_rest_invalid_product_id");
    assert!(answer.get("update").is_none(), "only the lists sent are answered");
    assert_eq!(woo.stock("GEN-000000-00"), Some(before - 2));

    let order = answer["create"][0]["id"].as_u64().expect("id");
    let body = json!({"update": [{"id": order, "status": "cancelled"}, {"status": "completed"}]});
    let (_, answer) = post(&api(&woo, "/orders/batch"), body).await;
    assert_eq!(answer["update"][0]["status"], "cancelled");
    assert_eq!(answer["update"][1]["error"]["code"], "woocommerce_rest_shop_order_invalid_id");
    assert_eq!(woo.stock("GEN-000000-00"), Some(before));

    let (_, answer) = post(&api(&woo, "/orders/batch"), json!({"delete": [order]})).await;
    assert_eq!(answer["delete"][0]["id"], order);
    let (status, _, _) = get(&api(&woo, &format!("/orders/{order}"))).await;
    assert_eq!(status, 404);
    woo.stop().await;
}

#[tokio::test]
async fn a_variation_batch_creates_updates_and_deletes_under_its_parent() {
    let woo = WooSandbox::start(config(generated_catalog(1, 3, 4))).await.expect("starts");
    let parent = *woo.state.store().products.keys().next().expect("a product");
    let variations: Vec<u64> = woo.state.store().products[&parent].variations.iter().map(|v| v.id).collect();
    let body = json!({
        "create": [{"sku": "GEN-NEW-01", "regular_price": "12.00", "manage_stock": true, "stock_quantity": 4,
                    "attributes": [{"name": "Size", "option": "XL"}]}],
        "update": [{"id": variations[0], "stock_quantity": 1}, {"id": 999_999, "stock_quantity": 1}],
        "delete": [variations[2]],
    });
    let (status, answer) = post(&api(&woo, &format!("/products/{parent}/variations/batch")), body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["create"][0]["parent_id"], parent);
    assert_eq!(answer["update"][0]["stock_quantity"], 1);
    assert_eq!(answer["update"][1]["error"]["code"], "woocommerce_rest_product_variation_invalid_id");
    assert_eq!(answer["delete"][0]["id"], variations[2]);
    assert_eq!(woo.stock("GEN-NEW-01"), Some(4));
    let (_, headers, _) = get(&api(&woo, &format!("/products/{parent}/variations"))).await;
    assert_eq!(header(&headers, "x-wp-total"), "3", "three, plus one, minus one");

    let (status, missing) =
        post(&api(&woo, "/products/999999/variations/batch"), json!({"create": []})).await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("woocommerce_rest_product_invalid_id")));
    woo.stop().await;
}

#[tokio::test]
async fn a_batch_of_more_than_100_objects_is_refused_with_413_before_any_write() {
    let woo = WooSandbox::start(config(generated_catalog(1, 1, 1))).await.expect("starts");
    let creates: Vec<Value> = (0..60).map(|i| json!({"name": format!("P{i}")})).collect();
    let deletes: Vec<u64> = (0..41).collect();
    let (status, refused) =
        post(&api(&woo, "/products/batch"), json!({"create": creates, "delete": deletes})).await;
    assert_eq!(status, 413, "{refused}");
    assert_eq!(refused["code"], "woocommerce_rest_request_entity_too_large");
    assert_eq!(refused["data"]["status"], 413);
    assert_eq!(woo.product_count(), 1, "nothing was created");

    let hundred: Vec<Value> = (0..100).map(|i| json!({"name": format!("P{i}")})).collect();
    let (status, answer) = post(&api(&woo, "/products/batch"), json!({"create": hundred})).await;
    assert_eq!(status, 200, "exactly 100 is allowed");
    assert_eq!(answer["create"].as_array().map(Vec::len), Some(100));
    let (status, _) = post(&api(&woo, "/orders/batch"), json!({"update": vec![json!({}); 101]})).await;
    assert_eq!(status, 413);
    woo.stop().await;
}
