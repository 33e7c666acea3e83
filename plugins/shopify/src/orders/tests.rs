//! Whole exchanges against a scripted transport: which requests go out, in which order, and
//! what the answers become.

use super::*;
use crossdock_plugin_sdk::commerce::Tracking;
use crossdock_plugin_sdk::store_orders::NewOrderLine;
use crossdock_plugin_sdk::types::Money;
use serde_json::json;
use std::cell::RefCell;
use std::collections::VecDeque;

const ORDER_ID: &str = "gid://shopify/Order/6100000000001";
const SOURCE: &str = "tiktok-shop:7495:576486014771843072";

/// Answers each request with the next scripted `data`, checking its operation name.
#[derive(Default)]
struct Script {
    replies: RefCell<VecDeque<(&'static str, Value)>>,
    sent: RefCell<Vec<Value>>,
}

impl Script {
    fn new(replies: Vec<(&'static str, Value)>) -> Script {
        Script { replies: RefCell::new(replies.into()), sent: RefCell::default() }
    }

    fn sent(&self) -> Vec<Value> {
        self.sent.borrow().clone()
    }

    fn operations(&self) -> Vec<String> {
        self.sent().iter().map(|b| b["operationName"].as_str().unwrap_or("?").to_string()).collect()
    }

    fn done(&self) {
        assert!(self.replies.borrow().is_empty(), "unsent replies: {:?}", self.replies.borrow());
    }
}

impl Graphql for Script {
    fn post(&self, body: &Value) -> Result<Value> {
        self.sent.borrow_mut().push(body.clone());
        let (operation, data) = self.replies.borrow_mut().pop_front().unwrap_or(("(none)", Value::Null));
        assert_eq!(body["operationName"], operation, "request {}", self.sent.borrow().len());
        Ok(data)
    }
}

/// `data` of the order fixture (an order read whole).
fn order_data() -> Value {
    let answer: Value = serde_json::from_str(include_str!("../../testdata/order.json")).expect("json");
    answer["data"].clone()
}

fn order_node() -> Value {
    order_data()["order"].clone()
}

fn new_order() -> NewOrder {
    NewOrder {
        source_identifier: SOURCE.into(),
        source_name: "TikTok Shop — Acme US".into(),
        idempotency_key: format!("create:{SOURCE}"),
        lines: vec![NewOrderLine {
            variant_id: "gid://shopify/ProductVariant/45000000000011".into(),
            sku: "TEST-MUG".into(),
            title: "Trail Mug".into(),
            quantity: 2,
            unit_price: Money::new("12.00", "USD"),
            discount: Money::new("0.00", "USD"),
            source_line_id: "576486014771900001,576486014771900002".into(),
        }],
        shipping: Money::new("0.00", "USD"),
        tax: Money::new("0.00", "USD"),
        buyer_paid: Money::new("24.00", "USD"),
        platform_discount: Money::new("0.00", "USD"),
        shipping_address: None,
        email: None,
        note: None,
        tags: Vec::new(),
        attributes: Vec::new(),
        decrement_stock: true,
    }
}

#[test]
fn a_created_order_is_read_back_whole() {
    let script = Script::new(vec![
        ("OrderCreate", json!({"orderCreate": {"order": {"id": ORDER_ID}, "userErrors": []}})),
        ("Order", order_data()),
    ]);
    let order = create_order(&script, &new_order()).expect("created");
    assert_eq!(order.id, ORDER_ID);
    assert_eq!(order.source_identifier.as_deref(), Some(SOURCE));
    let sent = script.sent();
    assert_eq!(sent[0]["variables"]["key"], format!("create:{SOURCE}"));
    assert_eq!(sent[1]["variables"]["id"], ORDER_ID);
    script.done();
}

#[test]
fn a_refused_create_is_one_call_and_a_typed_error() {
    let script = Script::new(vec![(
        "OrderCreate",
        json!({"orderCreate": {"order": null, "userErrors": [{"field": ["order", "lineItems", "0", "quantity"],
            "message": "Unable to claim 2 of TEST-MUG at the location: 0 available.", "code": "INVENTORY_CLAIM_FAILED"}]}}),
    )]);
    let error = create_order(&script, &new_order()).expect_err("refused");
    assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "stock"));
    assert_eq!(script.operations(), ["OrderCreate"]);
}

#[test]
fn a_key_reused_with_other_figures_answers_the_first_order() {
    let script = Script::new(vec![
        (
            "OrderCreate",
            json!({"orderCreate": {"order": null, "userErrors": [{"field": null, "code": "INVALID",
            "message": "The same idempotency key cannot be used with different operation parameters."}]}}),
        ),
        ("FindOrders", json!({"orders": {"nodes": [{"id": ORDER_ID, "sourceIdentifier": SOURCE}]}})),
        ("Order", order_data()),
    ]);
    assert_eq!(create_order(&script, &new_order()).expect("the first order").id, ORDER_ID);
    script.done();
}

#[test]
fn find_keeps_exact_matches_only_and_refuses_duplicates() {
    let fuzzy = json!({"id": "gid://shopify/Order/6100000000009", "sourceIdentifier": format!("{SOURCE}-2")});
    let exact = json!({"id": ORDER_ID, "sourceIdentifier": SOURCE});
    let script = Script::new(vec![
        ("FindOrders", json!({"orders": {"nodes": [fuzzy.clone(), exact.clone()]}})),
        ("Order", order_data()),
    ]);
    assert_eq!(find_order(&script, SOURCE).expect("found").map(|o| o.id).as_deref(), Some(ORDER_ID));
    assert_eq!(script.sent()[0]["variables"]["query"], format!("source_identifier:\"{SOURCE}\""));

    let script = Script::new(vec![("FindOrders", json!({"orders": {"nodes": [fuzzy]}}))]);
    assert!(find_order(&script, SOURCE).expect("searched").is_none());

    let twin = json!({"id": "gid://shopify/Order/6100000000002", "sourceIdentifier": SOURCE});
    let script = Script::new(vec![("FindOrders", json!({"orders": {"nodes": [exact, twin]}}))]);
    match find_order(&script, SOURCE) {
        Err(ConnectorError::Fatal(m)) => {
            assert!(m.contains(ORDER_ID) && m.contains("gid://shopify/Order/6100000000002"), "{m}")
        }
        other => panic!("expected fatal, got {other:?}"),
    }
    assert!(matches!(find_order(&Script::default(), " "), Err(ConnectorError::Invalid(_))));
}

#[test]
fn get_checks_the_id_and_a_deleted_order_is_none() {
    let script = Script::default();
    assert!(
        matches!(get_order(&script, "6100000000001"), Err(ConnectorError::Invalid(f)) if f.field == "id")
    );
    assert!(script.sent().is_empty());
    let script = Script::new(vec![("Order", json!({"order": null}))]);
    assert!(get_order(&script, ORDER_ID).expect("read").is_none());
}

#[test]
fn long_orders_and_fulfillments_are_read_to_the_end() {
    let mut node = order_node();
    node["lineItems"]["pageInfo"] = json!({"hasNextPage": true, "endCursor": "l1"});
    node["fulfillments"][0]["fulfillmentLineItems"]["pageInfo"] =
        json!({"hasNextPage": true, "endCursor": "f1"});
    let more_line = json!({"id": "gid://shopify/LineItem/16000000000005", "sku": "TEST-CAP", "quantity": 1, "variant": null});
    let script = Script::new(vec![
        ("Order", json!({"order": node})),
        (
            "OrderLines",
            json!({"order": {"lineItems": {"pageInfo": {"hasNextPage": false, "endCursor": "l2"}, "nodes": [more_line]}}}),
        ),
        (
            "FulfillmentLines",
            json!({"fulfillment": {"fulfillmentLineItems": {"pageInfo": {"hasNextPage": false, "endCursor": "f2"},
            "nodes": [{"quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/16000000000005"}}]}}}),
        ),
    ]);
    let order = get_order(&script, ORDER_ID).expect("read").expect("an order");
    assert_eq!(order.lines.len(), 5);
    assert_eq!(order.lines[4].sku.as_deref(), Some("TEST-CAP"));
    assert_eq!(order.fulfillments[0].lines.len(), 2);
    let sent = script.sent();
    assert_eq!(sent[1]["variables"]["after"], "l1");
    assert_eq!(
        sent[2]["variables"],
        json!({"id": "gid://shopify/Fulfillment/5500000000001", "first": 100, "after": "f1"})
    );
    script.done();
}

#[test]
fn an_order_past_what_the_connector_reads_is_fatal() {
    let with_refunds = |n: usize| {
        let mut node = order_node();
        node["refunds"] = Value::Array(vec![node["refunds"][0].clone(); n]);
        json!({"order": node})
    };
    let script = Script::new(vec![("Order", with_refunds(5)), ("Order", with_refunds(10))]);
    assert!(matches!(get_order(&script, ORDER_ID), Err(ConnectorError::Fatal(m)) if m.contains(ORDER_ID)));
    script.done();
}

#[test]
fn an_order_with_many_refunds_is_read_again_large_and_a_small_one_once() {
    let with_refunds = |n: usize| {
        let mut node = order_node();
        node["refunds"] = Value::Array(vec![node["refunds"][0].clone(); n]);
        json!({"order": node})
    };
    let script = Script::new(vec![("Order", with_refunds(5)), ("Order", with_refunds(7))]);
    let order = get_order(&script, ORDER_ID).expect("reads").expect("found");
    assert_eq!(order.refunds.len(), 7);
    let sent = script.sent();
    assert_eq!(
        (sent[0]["variables"]["refunds"].as_u64(), sent[1]["variables"]["refunds"].as_u64()),
        (Some(5), Some(10))
    );
    script.done();
    let small = Script::new(vec![("Order", with_refunds(1))]);
    assert!(get_order(&small, ORDER_ID).expect("reads").is_some());
    assert_eq!(small.operations(), ["Order"], "one call in the common case");
}

#[test]
fn a_list_page_skips_orders_without_source_and_rereads_cut_ones() {
    let mut web = order_node();
    web["id"] = json!("gid://shopify/Order/6100000000002");
    web["sourceIdentifier"] = Value::Null;
    let small = order_node();
    let mut cut = order_node();
    cut["id"] = json!("gid://shopify/Order/6100000000003");
    cut["lineItems"]["pageInfo"] = json!({"hasNextPage": true, "endCursor": "l1"});
    let mut whole = order_node();
    whole["id"] = json!("gid://shopify/Order/6100000000003");
    let script = Script::new(vec![
        (
            "Orders",
            json!({"orders": {"pageInfo": {"hasNextPage": true, "endCursor": "p1"}, "nodes": [web, small, cut]}}),
        ),
        ("Order", json!({"order": whole})),
    ]);
    let page = list_orders(&script, 1_768_471_200_500, None, 50).expect("a page");
    let ids: Vec<&str> = page.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [ORDER_ID, "gid://shopify/Order/6100000000003"]);
    assert_eq!(page.next_cursor.as_deref(), Some("p1"));
    let sent = script.sent();
    assert_eq!(sent[0]["variables"]["query"], "updated_at:>=\"2026-01-15T10:00:00Z\"");
    assert_eq!(sent[0]["variables"]["after"], Value::Null);
    assert_eq!(sent[1]["variables"]["id"], "gid://shopify/Order/6100000000003");
    script.done();

    let script = Script::new(vec![(
        "Orders",
        json!({"orders": {"pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": []}}),
    )]);
    let last = list_orders(&script, 0, Some("p1"), 5).expect("a page");
    assert!(last.orders.is_empty() && last.next_cursor.is_none());
    assert_eq!(script.sent()[0]["variables"]["after"], "p1");
}

fn how() -> Cancellation {
    Cancellation { reason: "Out of stock".into(), restock: true, refund: false }
}

fn status(cancelled: bool) -> Value {
    json!({"order": {"id": ORDER_ID, "cancelledAt": cancelled.then_some("2026-01-15T10:00:00Z")}})
}

#[test]
fn cancelling_a_cancelled_order_sends_nothing_more() {
    let script = Script::new(vec![("OrderStatus", status(true))]);
    cancel_order(&script, ORDER_ID, &how()).expect("already cancelled");
    assert_eq!(script.operations(), ["OrderStatus"]);

    let script = Script::new(vec![("OrderStatus", json!({"order": null}))]);
    assert!(matches!(cancel_order(&script, ORDER_ID, &how()), Err(ConnectorError::NotFound(_))));
}

#[test]
fn cancelling_sends_order_cancel_and_a_refusal_is_checked_against_the_order() {
    let script = Script::new(vec![
        ("OrderStatus", status(false)),
        (
            "OrderCancel",
            json!({"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": false}, "orderCancelUserErrors": []}}),
        ),
    ]);
    cancel_order(&script, ORDER_ID, &how()).expect("cancelled");
    assert_eq!(script.sent()[1]["variables"]["staffNote"], "Out of stock");

    let refusal = json!({"orderCancel": {"job": null, "orderCancelUserErrors": [{"field": ["orderId"], "code": "INVALID",
        "message": "Order has already been cancelled."}]}});
    let script = Script::new(vec![
        ("OrderStatus", status(false)),
        ("OrderCancel", refusal.clone()),
        ("OrderStatus", status(true)),
    ]);
    cancel_order(&script, ORDER_ID, &how()).expect("cancelled meanwhile");
    script.done();

    let script = Script::new(vec![
        ("OrderStatus", status(false)),
        ("OrderCancel", refusal),
        ("OrderStatus", status(false)),
    ]);
    assert!(
        matches!(cancel_order(&script, ORDER_ID, &how()), Err(ConnectorError::Invalid(f)) if f.field == "status")
    );
}

fn refund_context(notes: &[&str]) -> Value {
    json!({"order": {
        "id": ORDER_ID, "currencyCode": "USD",
        "transactions": [{"id": "gid://shopify/OrderTransaction/1", "kind": "SALE", "status": "SUCCESS", "gateway": "manual",
            "amountSet": {"shopMoney": {"amount": "24.00", "currencyCode": "USD"}}}],
        "refunds": notes.iter().enumerate().map(|(i, n)| json!({"id": format!("gid://shopify/Refund/{i}"), "note": n})).collect::<Vec<_>>(),
        "lineItems": {"pageInfo": {"hasNextPage": false}, "nodes": []},
        "fulfillmentOrders": {"nodes": []},
    }})
}

fn new_refund() -> NewRefund {
    NewRefund {
        idempotency_key: "refund:42".into(),
        lines: Vec::new(),
        amount: Money::new("5.00", "USD"),
        restock: false,
        note: "Late".into(),
    }
}

#[test]
fn a_refund_is_recorded_once() {
    let script = Script::new(vec![
        ("RefundContext", refund_context(&[])),
        (
            "RefundCreate",
            json!({"refundCreate": {"refund": {"id": "gid://shopify/Refund/9100000000005"}, "userErrors": []}}),
        ),
    ]);
    assert_eq!(
        refund_order(&script, ORDER_ID, &new_refund()).expect("refunded"),
        "gid://shopify/Refund/9100000000005"
    );

    let script = Script::new(vec![("RefundContext", refund_context(&["Late [crossdock:refund:42]"]))]);
    assert_eq!(refund_order(&script, ORDER_ID, &new_refund()).expect("found"), "gid://shopify/Refund/0");
    assert_eq!(script.operations(), ["RefundContext"]);

    let script = Script::new(vec![
        ("RefundContext", refund_context(&[])),
        (
            "RefundCreate",
            json!({"refundCreate": {"refund": null, "userErrors": [{"field": ["transactions"], "message": "Too much."}]}}),
        ),
    ]);
    assert!(
        matches!(refund_order(&script, ORDER_ID, &new_refund()), Err(ConnectorError::Invalid(f)) if f.field == "amount")
    );
    let script = Script::new(vec![("RefundContext", json!({"order": null}))]);
    assert!(matches!(refund_order(&script, ORDER_ID, &new_refund()), Err(ConnectorError::NotFound(_))));
}

fn fulfil_context() -> Value {
    let open = |id: &str, location: &str, line: &str, item: &str| {
        json!({"id": id, "status": "OPEN", "assignedLocation": {"location": {"id": location}},
            "lineItems": {"nodes": [{"id": item, "remainingQuantity": 1, "lineItem": {"id": line}}]}})
    };
    json!({"order": {"id": ORDER_ID, "cancelledAt": null, "fulfillments": [], "fulfillmentOrders": {"nodes": [
        open("gid://shopify/FulfillmentOrder/1", "gid://shopify/Location/1", "gid://shopify/LineItem/1", "gid://shopify/FulfillmentOrderLineItem/1"),
        open("gid://shopify/FulfillmentOrder/2", "gid://shopify/Location/2", "gid://shopify/LineItem/2", "gid://shopify/FulfillmentOrderLineItem/2"),
    ]}}})
}

fn shipment() -> NewFulfillment {
    NewFulfillment {
        lines: Vec::new(),
        tracking: Tracking {
            carrier: "USPS".into(),
            carrier_id: None,
            tracking_number: "9400".into(),
            url: None,
        },
    }
}

#[test]
fn a_shipment_from_two_locations_answers_the_first_fulfillment() {
    let created = |id: &str| json!({"fulfillmentCreate": {"fulfillment": {"id": id}, "userErrors": []}});
    let script = Script::new(vec![
        ("FulfilContext", fulfil_context()),
        ("FulfillmentCreate", created("gid://shopify/Fulfillment/1")),
        ("FulfillmentCreate", created("gid://shopify/Fulfillment/2")),
    ]);
    assert_eq!(
        fulfill_order(&script, ORDER_ID, &shipment()).expect("shipped"),
        "gid://shopify/Fulfillment/1"
    );
    script.done();

    let script = Script::new(vec![
        ("FulfilContext", fulfil_context()),
        ("FulfillmentCreate", created("gid://shopify/Fulfillment/1")),
        (
            "FulfillmentCreate",
            json!({"fulfillmentCreate": {"fulfillment": null, "userErrors": [{"field": ["fulfillment"],
            "message": "Fulfillment order 2 has an unfulfillable status= closed."}]}}),
        ),
    ]);
    assert!(
        matches!(fulfill_order(&script, ORDER_ID, &shipment()), Err(ConnectorError::Invalid(f)) if f.field == "status")
    );
    let script = Script::new(vec![("FulfilContext", json!({"order": null}))]);
    assert!(matches!(fulfill_order(&script, ORDER_ID, &shipment()), Err(ConnectorError::NotFound(_))));
    assert!(matches!(
        fulfill_order(&Script::default(), "gid://shopify/Product/1", &shipment()),
        Err(ConnectorError::Invalid(_))
    ));
}
