use super::*;
use crossdock_plugin_sdk::commerce::Tracking;

const ORDER: &str = "gid://shopify/Order/6100000000001";
const MUG: &str = "gid://shopify/LineItem/16000000000001";
const TEE: &str = "gid://shopify/LineItem/16000000000002";
const CAP: &str = "gid://shopify/LineItem/16000000000003";
const MAIN: &str = "gid://shopify/FulfillmentOrder/7000000000001";
const SECOND: &str = "gid://shopify/FulfillmentOrder/7000000000002";

/// 3 mugs and 2 tees wait at the main location, a cap at a second one; one mug shipped
/// already with UPS 1Z1.
fn context() -> Context {
    let data: ContextData = serde_json::from_value(json!({
        "order": {
            "id": ORDER,
            "cancelledAt": null,
            "fulfillments": [
                {"id": "gid://shopify/Fulfillment/5500000000001", "status": "SUCCESS",
                 "trackingInfo": [{"number": "1Z1"}],
                 "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"id": MUG}}]}},
                {"id": "gid://shopify/Fulfillment/5500000000002", "status": "CANCELLED",
                 "trackingInfo": [{"number": "1Z2"}],
                 "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"id": TEE}}]}}
            ],
            "fulfillmentOrders": {"nodes": [
                {"id": MAIN, "status": "IN_PROGRESS",
                 "assignedLocation": {"location": {"id": "gid://shopify/Location/71000000001"}},
                 "lineItems": {"nodes": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000001", "remainingQuantity": 3, "lineItem": {"id": MUG}},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000002", "remainingQuantity": 2, "lineItem": {"id": TEE}}
                 ]}},
                {"id": SECOND, "status": "OPEN",
                 "assignedLocation": {"location": {"id": "gid://shopify/Location/71000000002"}},
                 "lineItems": {"nodes": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000003", "remainingQuantity": 1, "lineItem": {"id": CAP}}
                 ]}}
            ]}
        }
    }))
    .expect("the context shape");
    data.order.expect("an order")
}

fn shipment(lines: &[(&str, u32)], number: &str) -> NewFulfillment {
    NewFulfillment {
        lines: lines.iter().map(|(id, units)| (id.to_string(), *units)).collect(),
        tracking: Tracking {
            carrier: "UPS".into(),
            carrier_id: Some("7117858858072016686".into()),
            tracking_number: number.into(),
            url: None,
        },
    }
}

fn bodies(plan: Result<Plan, ConnectorError>) -> (Vec<Value>, Option<String>) {
    match plan {
        Ok(Plan::Send { bodies, earlier }) => (bodies, earlier),
        other => panic!("expected bodies, got {other:?}"),
    }
}

fn invalid(plan: Result<Plan, ConnectorError>) -> (String, String) {
    match plan {
        Err(ConnectorError::Invalid(f)) => (f.field, f.message),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn lines_are_taken_from_their_fulfillment_order_with_tracking() {
    let (bodies, earlier) = bodies(plan(&context(), &shipment(&[(MUG, 2), (TEE, 1)], "1Z9")));
    assert_eq!(earlier, None);
    let [body] = bodies.as_slice() else { panic!("one fulfillment: {bodies:?}") };
    assert!(
        body["query"].as_str().is_some_and(|q| q.contains("fulfillmentCreate(fulfillment: $fulfillment)"))
    );
    assert_eq!(
        body["variables"],
        json!({"fulfillment": {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": MAIN, "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000001", "quantity": 2},
                {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000002", "quantity": 1},
            ]}],
            "trackingInfo": {"number": "1Z9", "company": "UPS"},
            "notifyCustomer": false,
        }})
    );
}

#[test]
fn a_shipment_across_locations_is_one_fulfillment_per_location() {
    let mut shipment = shipment(&[(CAP, 1), (TEE, 2)], " 1Z9 ");
    shipment.tracking.url = Some("https://t.example/1Z9".into());
    let (bodies, _) = bodies(plan(&context(), &shipment));
    let orders: Vec<&Value> = bodies
        .iter()
        .map(|b| &b["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderId"])
        .collect();
    assert_eq!(orders, [SECOND, MAIN], "in the order the lines were asked");
    for body in &bodies {
        assert_eq!(
            body["variables"]["fulfillment"]["trackingInfo"],
            json!({"number": "1Z9", "company": "UPS", "url": "https://t.example/1Z9"})
        );
    }
}

#[test]
fn no_lines_means_every_unit_left_at_every_location() {
    let (bodies, _) = bodies(plan(&context(), &shipment(&[], "1Z9")));
    let picked: Vec<Value> =
        bodies.iter().map(|b| b["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"].clone()).collect();
    assert_eq!(
        picked,
        [
            json!([{"fulfillmentOrderId": MAIN, "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000001", "quantity": 3},
                {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000002", "quantity": 2}]}]),
            json!([{"fulfillmentOrderId": SECOND, "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/17000000000003", "quantity": 1}]}]),
        ]
    );
}

#[test]
fn units_already_under_this_tracking_number_are_not_shipped_again() {
    // The mug shipped with 1Z1 before: a retry of (mug, 1) answers that fulfillment.
    assert_eq!(
        plan(&context(), &shipment(&[(MUG, 1)], "1Z1")).expect("plans"),
        Plan::Done("gid://shopify/Fulfillment/5500000000001".into())
    );
    assert_eq!(
        plan(&context(), &shipment(&[], "1Z1")).expect("plans"),
        Plan::Done("gid://shopify/Fulfillment/5500000000001".into())
    );
    // (mug, 2) with 1Z1: one more mug ships, and the answer stays the first fulfillment.
    let (more, earlier) = bodies(plan(&context(), &shipment(&[(MUG, 2)], "1Z1")));
    assert_eq!(earlier.as_deref(), Some("gid://shopify/Fulfillment/5500000000001"));
    assert_eq!(
        more[0]["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"],
        json!([{"id": "gid://shopify/FulfillmentOrderLineItem/17000000000001", "quantity": 1}])
    );
    // A cancelled fulfillment's number counts for nothing.
    let (_, earlier) = bodies(plan(&context(), &shipment(&[(TEE, 1)], "1Z2")));
    assert_eq!(earlier, None);
}

#[test]
fn more_units_than_are_left_name_the_line() {
    let (field, message) = invalid(plan(&context(), &shipment(&[(MUG, 1), (TEE, 3)], "1Z9")));
    assert_eq!(field, "lines[1]");
    assert!(
        message.contains("3 units") && message.contains("2 left") && message.contains(ORDER),
        "{message}"
    );
    assert_eq!(invalid(plan(&context(), &shipment(&[(TEE, 0)], "1Z9"))).0, "lines[0]");
    assert_eq!(invalid(plan(&context(), &shipment(&[(MUG, 1)], "  "))).0, "tracking");
}

#[test]
fn a_held_fulfillment_order_or_a_cancelled_order_is_invalid_status() {
    let mut held = context();
    held.fulfillment_orders.nodes[1].status = "ON_HOLD".into();
    let (field, message) = invalid(plan(&held, &shipment(&[(CAP, 1)], "1Z9")));
    assert_eq!(field, "status");
    assert!(message.contains("ON_HOLD") && message.contains(SECOND), "{message}");

    let mut cancelled = context();
    cancelled.cancelled_at = Some("2026-01-15T10:00:00Z".into());
    for node in &mut cancelled.fulfillment_orders.nodes {
        node.status = "CLOSED".into();
    }
    let (field, message) = invalid(plan(&cancelled, &shipment(&[(CAP, 1)], "1Z9")));
    assert_eq!(field, "status");
    assert!(message.contains("cancelled"), "{message}");
    assert_eq!(invalid(plan(&cancelled, &shipment(&[], "1Z9"))).0, "lines");
}

#[test]
fn refusals_say_whether_status_tracking_or_lines_are_at_fault() {
    let errors = |json: &str| -> Vec<UserError> { serde_json::from_str(json).expect("user errors") };
    let field = |error: ConnectorError| match error {
        ConnectorError::Invalid(f) => f.field,
        other => panic!("expected invalid, got {other:?}"),
    };
    assert_eq!(
        field(refused(
            ORDER,
            &errors(
                r#"[{"field":["fulfillment"],"message":"Fulfillment order 7000000000001 has an unfulfillable status= closed."}]"#
            )
        )),
        "status"
    );
    assert_eq!(
        field(refused(
            ORDER,
            &errors(r#"[{"field":["fulfillment","trackingInfo","url"],"message":"Url is invalid."}]"#)
        )),
        "tracking"
    );
    assert_eq!(
        field(refused(
            ORDER,
            &errors(
                r#"[{"field":["fulfillment"],"message":"Invalid fulfillment order line item quantity requested."}]"#
            )
        )),
        "lines"
    );
}
