//! Over real HTTP: orders as the WooCommerce connector creates, lists, reads and changes them
//! (line amounts, line meta, fees, `created_via`, merged meta, the poller's list filters), the
//! variations it resolves through `/products`, and the order webhooks.

use super::*;

/// Far enough in the past that any change made now is after it.
const LONG_AGO: i64 = 1_700_000_000;

/// A body shaped like the connector's create: amounts per line, line meta, shipping, tax and
/// an adjustment as fee lines, and meta naming the channel order.
fn channel_order(source: &str, sku: &str) -> Value {
    json!({
        "status": "processing", "set_paid": true, "created_via": "crossdock", "currency": "USD",
        "payment_method": "crossdock", "payment_method_title": "TikTok Shop",
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "line_items": [{"sku": sku, "quantity": 2, "subtotal": "40.00", "total": "36.00",
                        "meta_data": [{"key": "_crossdock_line", "value": "577000000000000001"}]}],
        "shipping_lines": [{"method_id": "crossdock", "method_title": "TikTok Shop", "total": "4.99"}],
        "fee_lines": [{"name": "Tax", "tax_status": "none", "total": "2.88"},
                      {"name": "Adjustment", "tax_status": "none", "total": "-0.50"}],
        "tax_lines": [{"rate_code": "IGNORED", "tax_total": "100.00"}],
        "meta_data": [{"key": "_crossdock_source", "value": source},
                      {"key": "_crossdock_buyer_paid", "value": "43.37"}],
    })
}

async fn create(woo: &WooSandbox, body: Value) -> Value {
    let (status, order) = post(&api(woo, "/orders"), body).await;
    assert_eq!(status, 201, "{order}");
    order
}

fn id_of(order: &Value) -> u64 {
    order["id"].as_u64().expect("an order id")
}

/// Sets an order's modification date, as if it last changed then.
fn modified_at(woo: &WooSandbox, id: u64, when: i64) {
    if let Some(order) = woo.state.store().orders.get_mut(&id) {
        order.date_modified = when;
    }
}

fn modified(order: &Value) -> i64 {
    order["date_modified_gmt"].as_str().and_then(data::parse_wp_date).expect("date_modified_gmt")
}

#[tokio::test]
async fn line_amounts_line_meta_fees_and_created_via_are_kept_and_make_the_total() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let created = create(&woo, channel_order("tiktok-shop:7000:576", "GEN-000000-01")).await;
    let (_, _, order) = get(&api(&woo, &format!("/orders/{}", id_of(&created)))).await;
    assert_eq!(order, created, "a read answers what the create answered");
    assert_eq!(order["created_via"], "crossdock");
    let line = &order["line_items"][0];
    assert_eq!((line["subtotal"].as_str(), line["total"].as_str()), (Some("40.00"), Some("36.00")));
    assert_eq!(line["meta_data"][0]["key"], "_crossdock_line");
    assert_eq!(line["meta_data"][0]["value"], "577000000000000001");
    assert!(line["variation_id"].as_u64().is_some_and(|v| v != 0), "the SKU named a variation");
    assert_eq!(order["discount_total"], "4.00");
    assert_eq!(order["shipping_total"], "4.99");
    assert_eq!(order["fee_lines"][0]["total"], "2.88");
    assert_eq!(order["fee_lines"][1]["total"], "-0.50");
    assert_eq!(order["tax_lines"], json!([]), "tax lines are computed, never written");
    assert_eq!(order["total_tax"], "0.00");
    assert_eq!(order["total"], "43.37", "lines + shipping + fees");
    assert_eq!(order["billing"]["email"], "ada@example.com");

    let (status, refused) = post(
        &api(&woo, "/orders"),
        json!({"line_items": [{"sku": "GEN-000000-01", "quantity": 1}], "fee_lines": [{"total": "1.00"}]}),
    )
    .await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("woocommerce_rest_invalid_fee_item")));
    let (_, plain) =
        post(&api(&woo, "/orders"), json!({"line_items": [{"sku": "GEN-000000-00", "quantity": 1}]})).await;
    assert_eq!(plain["created_via"], "rest-api", "the default");
    woo.stop().await;
}

#[tokio::test]
async fn the_list_filters_by_modified_after_and_created_via_in_the_asked_order_with_the_asked_fields() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let a = id_of(&create(&woo, channel_order("tiktok-shop:7000:1", "GEN-000000-00")).await);
    let b = id_of(&create(&woo, channel_order("tiktok-shop:7000:2", "GEN-000000-01")).await);
    let c = id_of(&create(&woo, channel_order("tiktok-shop:7000:3", "GEN-000000-00")).await);
    let other = id_of(&create(&woo, json!({"line_items": [{"sku": "GEN-000000-00", "quantity": 1}]})).await);
    for (id, when) in [(a, LONG_AGO + 300), (b, LONG_AGO + 100), (c, LONG_AGO + 200), (other, LONG_AGO + 250)]
    {
        modified_at(&woo, id, when);
    }
    let since = data::wp_date(LONG_AGO + 100);
    let (status, headers, listed) = get(&api(
        &woo,
        &format!(
            "/orders?modified_after={since}&dates_are_gmt=true&orderby=modified&order=asc&created_via=crossdock&_fields=id,status,meta_data"
        ),
    ))
    .await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<u64> = listed.as_array().expect("a list").iter().map(id_of).collect();
    assert_eq!(ids, vec![c, a], "after the bound (exclusive), oldest change first, ours only");
    assert_eq!(header(&headers, "x-wp-total"), "2");
    let keys: Vec<&String> = listed[0].as_object().expect("an object").keys().collect();
    assert_eq!(keys, vec!["id", "meta_data", "status"], "only the asked fields");

    let (_, _, newest) =
        get(&api(&woo, "/orders?orderby=date&order=desc&created_via=crossdock,rest-api")).await;
    let ids: Vec<u64> = newest.as_array().expect("a list").iter().map(id_of).collect();
    assert_eq!(ids, vec![other, c, b, a], "creation order, newest first");
    let (_, _, by_id) = get(&api(&woo, "/orders?orderby=id&order=asc&per_page=2&page=2")).await;
    assert_eq!(by_id.as_array().map(|l| l.iter().map(id_of).collect::<Vec<_>>()), Some(vec![c, other]));

    let (status, _, refused) = get(&api(&woo, "/orders?orderby=total")).await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("rest_invalid_param")));
    let (status, _, refused) = get(&api(&woo, "/orders?modified_after=last-tuesday")).await;
    assert_eq!((status, refused["data"]["params"]["modified_after"].as_str()), (400, Some("Invalid date.")));
    woo.stop().await;
}

#[tokio::test]
async fn every_change_moves_the_modified_date() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let order = create(&woo, channel_order("tiktok-shop:7000:9", "GEN-000000-01")).await;
    let id = id_of(&order);
    let line = order["line_items"][0]["id"].as_u64().expect("a line id");
    let url = api(&woo, &format!("/orders/{id}"));
    let changes: Vec<(&str, String, Value)> = vec![
        ("status", url.clone(), json!({"status": "on-hold"})),
        ("meta", url.clone(), json!({"meta_data": [{"key": "_crossdock_tags", "value": "vip"}]})),
        ("note", format!("{url}/notes"), json!({"note": "Packed"})),
        (
            "refund",
            format!("{url}/refunds"),
            json!({"amount": "1.00", "api_refund": false, "line_items": [{"id": line, "quantity": 1}]}),
        ),
    ];
    for (what, target, body) in changes {
        modified_at(&woo, id, LONG_AGO);
        let (status, answer) = if what == "status" || what == "meta" {
            put(&target, body).await
        } else {
            post(&target, body).await
        };
        assert!(status == 200 || status == 201, "{what}: {answer}");
        let (_, _, read) = get(&url).await;
        assert!(modified(&read) > LONG_AGO, "{what} moves date_modified_gmt");
    }
    woo.stop().await;
}

#[tokio::test]
async fn a_put_merges_meta_by_id_and_by_key_and_a_null_value_deletes() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let order = create(&woo, channel_order("tiktok-shop:7000:5", "GEN-000000-00")).await;
    let url = api(&woo, &format!("/orders/{}", id_of(&order)));
    let source = order["meta_data"][0].clone();
    let paid = order["meta_data"][1].clone();
    assert!(source["id"].as_u64().is_some(), "meta entries have ids: {source}");

    // The connector's fulfilment: the entries it read back, and the tracking items added.
    let items = json!([{"tracking_number": "1Z999", "custom_tracking_provider": "UPS"}]);
    let body = json!({"status": "completed", "meta_data": [source, paid,
                      {"key": "_wc_shipment_tracking_items", "value": items}]});
    let (status, shipped) = put(&url, body).await;
    assert_eq!(status, 200, "{shipped}");
    let meta = shipped["meta_data"].as_array().expect("meta");
    assert_eq!(meta.len(), 3);
    assert_eq!(meta[0], order["meta_data"][0], "entries sent back as read are unchanged");
    assert_eq!(meta[2]["value"][0]["tracking_number"], "1Z999");
    let tracking_id = meta[2]["id"].clone();

    let body = json!({"meta_data": [{"key": "_wc_shipment_tracking_items", "value": []},
                                    {"key": "_crossdock_tags", "value": "gift"}]});
    let (_, updated) = put(&url, body).await;
    assert_eq!(updated["meta_data"].as_array().map(Vec::len), Some(4), "others stay, a new key is added");
    assert_eq!(updated["meta_data"][2]["id"], tracking_id, "an existing key is updated in place");
    assert_eq!(updated["meta_data"][2]["value"], json!([]));

    let (_, deleted) = put(
        &url,
        json!({"meta_data": [{"id": tracking_id, "key": "_wc_shipment_tracking_items", "value": null}]}),
    )
    .await;
    let keys: Vec<&str> =
        deleted["meta_data"].as_array().expect("meta").iter().filter_map(|m| m["key"].as_str()).collect();
    assert_eq!(keys, vec!["_crossdock_source", "_crossdock_buyer_paid", "_crossdock_tags"]);
    assert_eq!(deleted["status"], "completed");
    assert!(deleted["date_completed_gmt"].is_string());
    woo.stop().await;
}

#[tokio::test]
async fn a_variation_is_a_product_by_id_and_by_sku() {
    let woo = WooSandbox::start(config(generated_catalog(2, 3, 5))).await.expect("starts");
    let (_, _, products) = get(&api(&woo, "/products?orderby=id&order=asc")).await;
    let parent = &products[0];
    let vid = parent["variations"][1].as_u64().expect("a variation id");
    let (status, _, variation) = get(&api(&woo, &format!("/products/{vid}"))).await;
    assert_eq!(status, 200, "{variation}");
    assert_eq!(variation["type"], "variation");
    assert_eq!(variation["parent_id"], parent["id"]);
    assert_eq!(variation["sku"], "GEN-000000-01");
    assert!(variation["stock_quantity"].is_i64() && variation["manage_stock"] == true);
    assert!(
        variation["name"].as_str().is_some_and(|n| n.starts_with(parent["name"].as_str().unwrap_or("?")))
    );

    let (status, headers, found) = get(&api(&woo, "/products?sku=GEN-000000-01")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-wp-total"), "1");
    assert_eq!(found[0]["id"], json!(vid));
    assert_eq!(found[0]["type"], "variation");
    let (_, _, both) =
        get(&api(&woo, "/products?sku=GEN-000000-02,GEN-000001-00&orderby=id&order=asc")).await;
    let skus: Vec<&str> = both.as_array().expect("a list").iter().filter_map(|p| p["sku"].as_str()).collect();
    assert_eq!(skus, vec!["GEN-000000-02", "GEN-000001-00"]);
    let (_, _, none) = get(&api(&woo, "/products?sku=NOPE")).await;
    assert_eq!(none, json!([]));
    let (status, _, missing) = get(&api(&woo, "/products/999999")).await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("woocommerce_rest_product_invalid_id")));
    woo.stop().await;
}

/// Receivers for each order topic, keyed by topic.
async fn order_receivers(woo: &WooSandbox) -> Vec<(&'static str, Receiver, u64)> {
    let mut receivers = Vec::new();
    for topic in ["order.created", "order.updated", "order.deleted", "order.restored"] {
        let hooks = receiver(200).await;
        let url = format!("{}/hooks", hooks.server.base_url());
        let id = woo.subscribe_webhook(topic, &url, "whsec").expect("an order topic");
        receivers.push((topic, hooks, id));
    }
    woo.wait_for_webhooks().await;
    receivers
}

/// The JSON payloads a receiver got (the ping left out).
fn payloads(hooks: &Receiver) -> Vec<Value> {
    let seen = hooks.seen.lock().expect("not poisoned").clone();
    seen.iter().skip(1).map(|(_, body)| serde_json::from_slice(body).expect("a JSON payload")).collect()
}

#[tokio::test]
async fn order_webhooks_are_signed_and_sent_for_every_change() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let receivers = order_receivers(&woo).await;
    let order = create(&woo, channel_order("tiktok-shop:7000:7", "GEN-000000-01")).await;
    let id = id_of(&order);
    let url = api(&woo, &format!("/orders/{id}"));
    put(&url, json!({"status": "on-hold"})).await;
    put(&url, json!({"meta_data": [{"key": "_crossdock_tags", "value": "vip"}]})).await;
    post(&format!("{url}/refunds"), json!({"amount": "1.00", "api_refund": false})).await;
    post(&format!("{url}/notes"), json!({"note": "no webhook for notes"})).await;
    woo.set_order_status(id, "completed").expect("a status");
    woo.set_order_meta(id, "_crossdock_tags", json!(null)).expect("meta");
    woo.trash_order(id).expect("trashed");
    woo.restore_order(id).expect("restored");
    woo.wait_for_webhooks().await;

    let by_topic = |topic: &str| receivers.iter().find(|(t, _, _)| *t == topic).map(|(_, h, _)| payloads(h));
    let created = by_topic("order.created").expect("created");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["id"], json!(id));
    assert_eq!(created[0]["line_items"][0]["meta_data"][0]["value"], "577000000000000001");
    let updated = by_topic("order.updated").expect("updated");
    // The create's second save, status, meta, refund, and the two control changes.
    assert_eq!(updated.len(), 6, "{updated:?}");
    assert!(updated.iter().all(|p| p["id"] == json!(id)));
    assert!(updated.iter().any(|p| p["status"] == "completed"));
    let deleted = by_topic("order.deleted").expect("deleted");
    assert_eq!(deleted, vec![json!({"id": id})], "a deleted order's payload is its id alone");
    let restored = by_topic("order.restored").expect("restored");
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0]["status"], "completed");

    let (_, hooks, webhook) = &receivers[1];
    let seen = hooks.seen.lock().expect("not poisoned").clone();
    let (headers, body) = &seen[1];
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec").expect("any key length");
    mac.update(body);
    let signature =
        base64::engine::general_purpose::STANDARD.decode(value("x-wc-webhook-signature")).expect("base64");
    mac.verify_slice(&signature).expect("the signature matches the body");
    assert_eq!(value("x-wc-webhook-topic"), "order.updated");
    assert_eq!(
        (value("x-wc-webhook-resource"), value("x-wc-webhook-event")),
        ("order".into(), "updated".into())
    );
    assert_eq!(value("x-wc-webhook-id"), webhook.to_string());
    assert_eq!(value("x-wc-webhook-delivery-id").len(), 32);
    woo.stop().await;
}

#[tokio::test]
async fn a_forced_delete_sends_nothing_and_a_batch_sends_each_order_once() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let receivers = order_receivers(&woo).await;
    let body = json!({"create": [channel_order("tiktok-shop:7000:11", "GEN-000000-00"),
                                 channel_order("tiktok-shop:7000:12", "GEN-000000-01")]});
    let (_, answer) = post(&api(&woo, "/orders/batch"), body).await;
    let first = id_of(&answer["create"][0]);
    let update =
        json!({"update": [{"id": first, "status": "on-hold"}, {"id": first, "customer_note": "twice"}]});
    post(&api(&woo, "/orders/batch"), update).await;
    let response = reqwest::Client::new()
        .delete(api(&woo, &format!("/orders/{first}?force=true")))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    woo.wait_for_webhooks().await;
    let count =
        |topic: &str| receivers.iter().find(|(t, _, _)| *t == topic).map(|(_, h, _)| payloads(h).len());
    assert_eq!(count("order.created"), Some(2));
    assert_eq!(count("order.updated"), Some(3), "two creates, then one update for both changes");
    assert_eq!(count("order.deleted"), Some(0), "core hooks only the trash");
    let (status, _, _) = get(&api(&woo, &format!("/orders/{first}"))).await;
    assert_eq!(status, 404);
    woo.stop().await;
}
