//! `orderCreate` with each inventory behaviour, order search, `orderCancel`,
//! `fulfillmentCreate` and `refundCreate`, over HTTP.

use super::inventory::{level, location_and_items};
use super::*;

const CREATE: &str = "mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
    orderCreate(order: $order, options: $options) {
      order { id name sourceIdentifier displayFinancialStatus displayFulfillmentStatus cancelledAt
        totalPriceSet { shopMoney { amount currencyCode } }
        lineItems(first: 5) { nodes { id quantity sku } }
        fulfillmentOrders(first: 5) { nodes { id status supportedActions { action }
          lineItems(first: 5) { nodes { id totalQuantity remainingQuantity } } } } }
      userErrors { field message code } } }";

const CANCEL: &str = "mutation($id: ID!) {
    orderCancel(orderId: $id, reason: CUSTOMER, refund: false, restock: true, notifyCustomer: false, staffNote: \"TikTok cancel\") {
      job { id done } orderCancelUserErrors { field message code } } }";

const FULFIL: &str = "mutation($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id name status trackingInfo { company number url } fulfillmentLineItems(first: 5) { nodes { quantity } } }
    userErrors { field message } } }";

const ORDER: &str =
    "query($id: ID!) { order(id: $id) { displayFulfillmentStatus displayFinancialStatus cancelledAt
    lineItems(first: 5) { nodes { quantity currentQuantity unfulfilledQuantity refundableQuantity } }
    fulfillmentOrders(first: 5) { nodes { status supportedActions { action }
      lineItems(first: 5) { nodes { remainingQuantity } } } } } }";

/// The first variant: its GID, SKU and inventory item, with stock set to `stock`.
async fn stocked_variant(shop: &ShopifySandbox, stock: i64) -> (String, String, String) {
    let body =
        query(shop, "{ productVariants(first: 1) { nodes { id sku inventoryItem { id } } } }", json!({}))
            .await;
    let node = &body["data"]["productVariants"]["nodes"][0];
    let sku = node["sku"].as_str().expect("sku").to_string();
    assert!(shop.set_variant_stock(&sku, stock));
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    (text(&node["id"]), sku, text(&node["inventoryItem"]["id"]))
}

fn order_input(variant: &str, quantity: i64, source: &str, behaviour: Option<&str>) -> Value {
    json!({
        "order": {
            "lineItems": [{"variantId": variant, "quantity": quantity}],
            "sourceName": "tiktok-shop",
            "sourceIdentifier": source,
            "email": "buyer@scs.tiktokw.us",
            "currency": "USD",
            "shippingAddress": {"firstName": "Ada", "address1": "1 Main St", "city": "Austin", "countryCode": "US", "zip": "78701"},
            "transactions": [{"kind": "SALE", "status": "SUCCESS", "amountSet": {"shopMoney": {"amount": "1000.00", "currencyCode": "USD"}}}],
        },
        "options": behaviour.map(|b| json!({"inventoryBehaviour": b})),
    })
}

async fn create(shop: &ShopifySandbox, input: Value) -> Value {
    let body = query(shop, CREATE, input).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["orderCreate"].clone()
}

#[tokio::test]
async fn each_inventory_behaviour_claims_stock_as_documented() {
    let shop = ShopifySandbox::start(config(generated_catalog(2, 1, 5))).await.expect("starts");
    let (location, _) = location_and_items(&shop, 1).await;
    let (variant, sku, item) = stocked_variant(&shop, 2).await;

    // No options: BYPASS, nothing claimed.
    let bypass = create(&shop, order_input(&variant, 3, "TT-1", None)).await;
    assert_eq!(bypass["userErrors"], json!([]), "{bypass}");
    assert_eq!(bypass["order"]["name"], "#1001");
    assert_eq!(bypass["order"]["displayFinancialStatus"], "PAID");
    assert_eq!(bypass["order"]["displayFulfillmentStatus"], "UNFULFILLED");
    assert_eq!(level(&shop, &item, &location).await, (2, 2, 0));

    let ignoring = create(&shop, order_input(&variant, 3, "TT-2", Some("DECREMENT_IGNORING_POLICY"))).await;
    assert_eq!(ignoring["order"]["name"], "#1002", "{ignoring}");
    assert_eq!(level(&shop, &item, &location).await, (-1, 2, 3), "available goes below 0, committed holds 3");

    let obeying = create(&shop, order_input(&variant, 1, "TT-3", Some("DECREMENT_OBEYING_POLICY"))).await;
    assert_eq!(obeying["order"], Value::Null);
    assert_eq!(obeying["userErrors"][0]["code"], "INVENTORY_CLAIM_FAILED", "{obeying}");
    assert_eq!(level(&shop, &item, &location).await, (-1, 2, 3), "a refused order claims nothing");
    assert_eq!(shop.order_count(), 2);

    assert!(shop.set_variant_stock(&sku, 5));
    let obeying = create(&shop, order_input(&variant, 4, "TT-3", Some("DECREMENT_OBEYING_POLICY"))).await;
    assert_eq!(obeying["order"]["name"], "#1003", "{obeying}");
    assert_eq!(level(&shop, &item, &location).await, (1, 8, 7));
    // A variant that continues selling may go below 0 even when obeying the policy.
    assert!(shop.set_continue_selling(&sku, true));
    let continuing = create(&shop, order_input(&variant, 2, "TT-4", Some("DECREMENT_OBEYING_POLICY"))).await;
    assert_eq!(continuing["userErrors"], json!([]), "{continuing}");
    assert_eq!(shop.available(&sku), Some(-1));
    shop.stop().await;
}

#[tokio::test]
async fn the_same_source_identifier_is_not_deduplicated_and_search_finds_both() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 5))).await.expect("starts");
    let (variant, _, _) = stocked_variant(&shop, 10).await;
    let first = create(&shop, order_input(&variant, 1, "576486014771843072", None)).await;
    let second = create(&shop, order_input(&variant, 1, "576486014771843072", None)).await;
    create(&shop, order_input(&variant, 1, "576486014771849999", None)).await;
    assert_ne!(first["order"]["id"], second["order"]["id"], "Shopify has no dedupe key on orderCreate");

    let search = "query($q: String, $after: String) { orders(first: 1, after: $after, query: $q) {
        nodes { id name sourceIdentifier } pageInfo { hasNextPage endCursor } } }";
    let page = query(&shop, search, json!({"q": "source_identifier:576486014771843072"})).await;
    let orders = &page["data"]["orders"];
    assert_eq!(orders["nodes"][0]["id"], first["order"]["id"], "{page}");
    assert_eq!(orders["pageInfo"]["hasNextPage"], true);
    let next = query(
        &shop,
        search,
        json!({"q": "source_identifier:576486014771843072", "after": orders["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(next["data"]["orders"]["nodes"][0]["id"], second["order"]["id"], "{next}");
    assert_eq!(next["data"]["orders"]["pageInfo"]["hasNextPage"], false);
    let none = query(&shop, search, json!({"q": "source_identifier:1"})).await;
    assert_eq!(none["data"]["orders"]["nodes"], json!([]));
    shop.stop().await;
}

#[tokio::test]
async fn cancel_with_restock_returns_stock_and_cancelling_twice_is_refused() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 5))).await.expect("starts");
    let (location, _) = location_and_items(&shop, 1).await;
    let (variant, _, item) = stocked_variant(&shop, 5).await;
    let created = create(&shop, order_input(&variant, 2, "TT-9", Some("DECREMENT_OBEYING_POLICY"))).await;
    let id = created["order"]["id"].clone();
    assert_eq!(level(&shop, &item, &location).await, (3, 5, 2));

    let body = query(&shop, CANCEL, json!({"id": id})).await;
    let payload = &body["data"]["orderCancel"];
    assert_eq!(payload["orderCancelUserErrors"], json!([]), "{body}");
    assert_eq!(payload["job"]["done"], false, "Shopify answers before the job ran");
    let job =
        query(&shop, "query($id: ID!) { job(id: $id) { id done } }", json!({"id": payload["job"]["id"]}))
            .await;
    assert_eq!(job["data"]["job"]["done"], true);
    assert_eq!(level(&shop, &item, &location).await, (5, 5, 0), "restocked");
    let order = query(&shop, ORDER, json!({"id": id})).await;
    let order = &order["data"]["order"];
    assert!(order["cancelledAt"].is_string(), "{order}");
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["status"], "CLOSED");
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["supportedActions"], json!([]));

    let again = query(&shop, CANCEL, json!({"id": id})).await;
    let errors = &again["data"]["orderCancel"]["orderCancelUserErrors"];
    assert_eq!(errors[0]["code"], "INVALID", "{again}");
    assert_eq!(again["data"]["orderCancel"]["job"], Value::Null);
    assert_eq!(level(&shop, &item, &location).await, (5, 5, 0), "nothing restocked twice");
    let missing = query(&shop, CANCEL, json!({"id": "gid://shopify/Order/1"})).await;
    assert_eq!(missing["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"], "NOT_FOUND");
    shop.stop().await;
}

#[tokio::test]
async fn a_partial_fulfillment_then_the_rest_closes_the_fulfillment_order() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 5))).await.expect("starts");
    let (location, _) = location_and_items(&shop, 1).await;
    let (variant, _, item) = stocked_variant(&shop, 10).await;
    let created = create(&shop, order_input(&variant, 3, "TT-5", Some("DECREMENT_OBEYING_POLICY"))).await;
    let fulfillment_order = &created["order"]["fulfillmentOrders"]["nodes"][0];
    assert_eq!(fulfillment_order["status"], "OPEN");
    let actions = fulfillment_order["supportedActions"].as_array().expect("actions");
    assert!(actions.contains(&json!({"action": "CREATE_FULFILLMENT"})), "{actions:?}");
    let line = &fulfillment_order["lineItems"]["nodes"][0];
    assert_eq!(line["totalQuantity"], 3);

    let one = query(
        &shop,
        FULFIL,
        json!({"fulfillment": {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"],
                "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}]}],
            "trackingInfo": {"company": "UPS", "number": "1Z999AA10123456784"},
            "notifyCustomer": false,
        }}),
    )
    .await;
    let fulfillment = &one["data"]["fulfillmentCreate"]["fulfillment"];
    assert_eq!(one["data"]["fulfillmentCreate"]["userErrors"], json!([]), "{one}");
    assert_eq!(fulfillment["name"], "#1001.1");
    assert_eq!(fulfillment["status"], "SUCCESS");
    assert_eq!(fulfillment["fulfillmentLineItems"]["nodes"], json!([{"quantity": 1}]));
    assert_eq!(fulfillment["trackingInfo"][0]["number"], "1Z999AA10123456784");
    assert!(
        fulfillment["trackingInfo"][0]["url"].as_str().is_some_and(|u| u.ends_with("1Z999AA10123456784"))
    );
    let order = query(&shop, ORDER, json!({"id": created["order"]["id"]})).await;
    let order = &order["data"]["order"];
    assert_eq!(order["displayFulfillmentStatus"], "PARTIALLY_FULFILLED", "{order}");
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["status"], "IN_PROGRESS");
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["remainingQuantity"], 2);
    assert_eq!(level(&shop, &item, &location).await, (7, 9, 2), "a shipped unit leaves on_hand");

    let rest = query(
        &shop,
        FULFIL,
        json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}]}}),
    )
    .await;
    assert_eq!(
        rest["data"]["fulfillmentCreate"]["fulfillment"]["fulfillmentLineItems"]["nodes"],
        json!([{"quantity": 2}])
    );
    let order = query(&shop, ORDER, json!({"id": created["order"]["id"]})).await;
    let order = &order["data"]["order"];
    assert_eq!(order["displayFulfillmentStatus"], "FULFILLED");
    assert_eq!(order["fulfillmentOrders"]["nodes"][0]["status"], "CLOSED");
    assert_eq!(order["lineItems"]["nodes"][0]["unfulfilledQuantity"], 0);
    assert_eq!(level(&shop, &item, &location).await, (7, 7, 0));

    let update = query(
        &shop,
        "mutation($id: ID!) { fulfillmentTrackingInfoUpdate(fulfillmentId: $id,
           trackingInfoInput: {company: \"USPS\", number: \"9400100000000000000000\"}) {
           fulfillment { trackingInfo { company number url } } userErrors { message } } }",
        json!({"id": fulfillment["id"]}),
    )
    .await;
    let tracking = &update["data"]["fulfillmentTrackingInfoUpdate"]["fulfillment"]["trackingInfo"][0];
    assert_eq!(tracking["company"], "USPS", "{update}");
    assert!(
        tracking["url"]
            .as_str()
            .is_some_and(|u| u.contains("usps.com") && u.ends_with("9400100000000000000000"))
    );
    assert_eq!(shop.orders()[0]["fulfillments"][0]["tracking_number"], "9400100000000000000000");
    shop.stop().await;
}

#[tokio::test]
async fn over_fulfilling_and_fulfilling_a_cancelled_order_are_refused() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 5))).await.expect("starts");
    let (variant, _, _) = stocked_variant(&shop, 10).await;
    let created = create(&shop, order_input(&variant, 3, "TT-6", None)).await;
    let fulfillment_order = &created["order"]["fulfillmentOrders"]["nodes"][0];
    let line = &fulfillment_order["lineItems"]["nodes"][0];
    let too_many = query(
        &shop,
        FULFIL,
        json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"],
            "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 4}]}]}}),
    )
    .await;
    let payload = &too_many["data"]["fulfillmentCreate"];
    assert_eq!(payload["fulfillment"], Value::Null);
    assert_eq!(
        payload["userErrors"][0]["message"],
        "Invalid fulfillment order line item quantity requested."
    );
    let order = query(&shop, ORDER, json!({"id": created["order"]["id"]})).await;
    assert_eq!(
        order["data"]["order"]["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["remainingQuantity"],
        3
    );

    let cancelled = query(&shop, CANCEL, json!({"id": created["order"]["id"]})).await;
    assert_eq!(cancelled["data"]["orderCancel"]["orderCancelUserErrors"], json!([]));
    let after_cancel = query(
        &shop,
        FULFIL,
        json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}]}}),
    )
    .await;
    let message =
        after_cancel["data"]["fulfillmentCreate"]["userErrors"][0]["message"].as_str().expect("refused");
    assert!(message.contains("unfulfillable status= closed"), "{message}");
    assert_eq!(shop.orders()[0]["fulfillments"], json!([]));
    shop.stop().await;
}

#[tokio::test]
async fn a_returned_refund_restocks_and_refunding_more_than_bought_is_refused() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 5))).await.expect("starts");
    let (location, _) = location_and_items(&shop, 1).await;
    let (variant, _, item) = stocked_variant(&shop, 10).await;
    let created = create(&shop, order_input(&variant, 2, "TT-7", Some("DECREMENT_OBEYING_POLICY"))).await;
    let order_id = created["order"]["id"].clone();
    let line_id = created["order"]["lineItems"]["nodes"][0]["id"].clone();
    let fulfillment_order = created["order"]["fulfillmentOrders"]["nodes"][0]["id"].clone();
    let shipped = query(
        &shop,
        FULFIL,
        json!({"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order}]}}),
    )
    .await;
    assert_eq!(shipped["data"]["fulfillmentCreate"]["userErrors"], json!([]), "{shipped}");
    assert_eq!(level(&shop, &item, &location).await, (8, 8, 0));

    let refund = "mutation($input: RefundInput!, $key: String!) { refundCreate(input: $input) @idempotent(key: $key) {
        refund { id totalRefundedSet { shopMoney { amount } } refundLineItems(first: 5) { nodes { quantity restockType restocked } } }
        order { displayFinancialStatus }
        userErrors { field message } } }";
    let input = |quantity: i64, key: &str| {
        json!({"key": key, "input": {"orderId": order_id, "note": "TikTok return",
            "refundLineItems": [{"lineItemId": line_id, "quantity": quantity, "restockType": "RETURN", "locationId": location}],
            "transactions": [{"orderId": order_id, "kind": "REFUND", "gateway": "manual", "amount": "10.00"}]}})
    };
    let first = query(&shop, refund, input(1, "refund-1")).await;
    let payload = &first["data"]["refundCreate"];
    assert_eq!(payload["userErrors"], json!([]), "{first}");
    assert_eq!(
        payload["refund"]["refundLineItems"]["nodes"],
        json!([{"quantity": 1, "restockType": "RETURN", "restocked": true}])
    );
    assert_eq!(payload["refund"]["totalRefundedSet"]["shopMoney"]["amount"], "10.00");
    assert_eq!(payload["order"]["displayFinancialStatus"], "PARTIALLY_REFUNDED");
    assert_eq!(level(&shop, &item, &location).await, (9, 9, 0), "the returned unit is back on the shelf");

    let replay = query(&shop, refund, input(1, "refund-1")).await;
    assert_eq!(replay["data"], first["data"], "the same key replays the first refund");
    assert_eq!(level(&shop, &item, &location).await, (9, 9, 0), "and restocks once");

    let too_many = query(&shop, refund, input(2, "refund-2")).await;
    let payload = &too_many["data"]["refundCreate"];
    assert_eq!(payload["refund"], Value::Null);
    assert_eq!(payload["userErrors"][0]["field"], json!(["refundLineItems", "0", "quantity"]), "{too_many}");
    assert_eq!(level(&shop, &item, &location).await, (9, 9, 0));
    let order = query(&shop, ORDER, json!({"id": order_id})).await;
    assert_eq!(order["data"]["order"]["lineItems"]["nodes"][0]["refundableQuantity"], 1);
    assert_eq!(shop.orders()[0]["refunds"].as_array().map(Vec::len), Some(1));
    shop.stop().await;
}

#[tokio::test]
async fn a_cancel_refund_of_unfulfilled_units_releases_their_claim() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 5))).await.expect("starts");
    let (location, _) = location_and_items(&shop, 1).await;
    let (variant, _, item) = stocked_variant(&shop, 10).await;
    let created = create(&shop, order_input(&variant, 3, "TT-8", Some("DECREMENT_OBEYING_POLICY"))).await;
    let body = query(
        &shop,
        "mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }",
        json!({"input": {"orderId": created["order"]["id"],
            "refundLineItems": [{"lineItemId": created["order"]["lineItems"]["nodes"][0]["id"], "quantity": 2, "restockType": "CANCEL"}]}}),
    )
    .await;
    assert_eq!(body["data"]["refundCreate"]["userErrors"], json!([]), "{body}");
    assert_eq!(level(&shop, &item, &location).await, (9, 10, 1));
    let order = query(&shop, ORDER, json!({"id": created["order"]["id"]})).await;
    let line = &order["data"]["order"]["lineItems"]["nodes"][0];
    assert_eq!(line["currentQuantity"], 1);
    assert_eq!(line["unfulfilledQuantity"], 1);
    let fulfillment_order = &order["data"]["order"]["fulfillmentOrders"]["nodes"][0];
    assert_eq!(fulfillment_order["lineItems"]["nodes"][0]["remainingQuantity"], 1);
    shop.stop().await;
}
