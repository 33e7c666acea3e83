use super::*;
use crossdock_plugin_sdk::types::Money;

const ORDER: &str = "gid://shopify/Order/6100000000001";
const SHIPPED: &str = "gid://shopify/LineItem/16000000000001";
const HALF_SHIPPED: &str = "gid://shopify/LineItem/16000000000002";

/// An order paid 29.00, with one line shipped whole, one half shipped, and one refund made
/// earlier by Crossdock.
fn context() -> Context {
    let data: ContextData = serde_json::from_value(json!({
        "order": {
            "id": ORDER,
            "currencyCode": "USD",
            "transactions": [
                {"id": "gid://shopify/OrderTransaction/8800000000001", "kind": "SALE", "status": "FAILURE", "gateway": "card",
                 "amountSet": {"shopMoney": {"amount": "29.00", "currencyCode": "USD"}}},
                {"id": "gid://shopify/OrderTransaction/8800000000002", "kind": "SALE", "status": "SUCCESS", "gateway": "TikTok Shop — Acme US",
                 "amountSet": {"shopMoney": {"amount": "29.00", "currencyCode": "USD"}}},
                {"id": "gid://shopify/OrderTransaction/8800000000003", "kind": "REFUND", "status": "SUCCESS", "gateway": "TikTok Shop — Acme US",
                 "amountSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}}}
            ],
            "refunds": [
                {"id": "gid://shopify/Refund/9100000000001", "note": "Late delivery [crossdock:refund-1]"},
                {"id": "gid://shopify/Refund/9100000000002", "note": null}
            ],
            "lineItems": {"pageInfo": {"hasNextPage": false}, "nodes": [
                {"id": SHIPPED, "unfulfilledQuantity": 0},
                {"id": HALF_SHIPPED, "unfulfilledQuantity": 1}
            ]},
            "fulfillmentOrders": {"nodes": [
                {"assignedLocation": {"location": {"id": "gid://shopify/Location/71000000001"}},
                 "lineItems": {"nodes": [{"lineItem": {"id": SHIPPED}}, {"lineItem": {"id": HALF_SHIPPED}}]}}
            ]}
        }
    }))
    .expect("the context shape");
    data.order.expect("an order")
}

fn refund(key: &str, lines: &[(&str, u32)], amount: &str, restock: bool) -> NewRefund {
    NewRefund {
        idempotency_key: key.into(),
        lines: lines.iter().map(|(id, units)| (id.to_string(), *units)).collect(),
        amount: Money::new(amount, "USD"),
        restock,
        note: "Buyer returned it".into(),
    }
}

fn sent(plan: Result<Plan, ConnectorError>) -> (Value, Vec<usize>) {
    match plan {
        Ok(Plan::Send { body, line_of }) => (body, line_of),
        other => panic!("expected a body, got {other:?}"),
    }
}

fn invalid(plan: Result<Plan, ConnectorError>) -> String {
    match plan {
        Err(ConnectorError::Invalid(f)) => f.field,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn a_retried_refund_is_found_by_its_note_and_nothing_is_sent() {
    let plan = plan(&context(), &refund("refund-1", &[(SHIPPED, 1)], "12.00", true));
    assert_eq!(plan.expect("plans"), Plan::Done("gid://shopify/Refund/9100000000001".into()));
    assert_eq!(marker("refund-1"), "[crossdock:refund-1]");
}

#[test]
fn restocked_units_are_cancelled_when_unshipped_and_returned_when_shipped() {
    let (body, line_of) = sent(plan(&context(), &refund("refund-2", &[(HALF_SHIPPED, 2)], "12.00", true)));
    assert!(body["query"].as_str().is_some_and(|q| q.contains("@idempotent(key: $key)")));
    assert_eq!(
        body["variables"],
        json!({
            "input": {
                "orderId": ORDER,
                "note": "Buyer returned it [crossdock:refund-2]",
                "notify": false,
                "refundLineItems": [
                    {"lineItemId": HALF_SHIPPED, "quantity": 1, "restockType": "CANCEL", "locationId": "gid://shopify/Location/71000000001"},
                    {"lineItemId": HALF_SHIPPED, "quantity": 1, "restockType": "RETURN", "locationId": "gid://shopify/Location/71000000001"},
                ],
                "transactions": [{"orderId": ORDER, "kind": "REFUND", "amount": "12.00",
                    "gateway": "TikTok Shop — Acme US", "parentId": "gid://shopify/OrderTransaction/8800000000002"}],
            },
            "key": "refund-2",
        })
    );
    assert_eq!(line_of, [0, 0]);
}

#[test]
fn without_restock_lines_are_not_restocked_and_need_no_location() {
    let (body, line_of) =
        sent(plan(&context(), &refund("refund-3", &[(SHIPPED, 1), (HALF_SHIPPED, 1)], "0", false)));
    assert_eq!(
        body["variables"]["input"]["refundLineItems"],
        json!([
            {"lineItemId": SHIPPED, "quantity": 1, "restockType": "NO_RESTOCK"},
            {"lineItemId": HALF_SHIPPED, "quantity": 1, "restockType": "NO_RESTOCK"},
        ])
    );
    assert_eq!(body["variables"]["input"]["transactions"], json!([]), "no money moves for 0");
    assert_eq!(line_of, [0, 1]);
}

#[test]
fn an_amount_alone_is_a_money_only_refund() {
    let mut only_money = refund("refund-4", &[], "3.5", false);
    only_money.note = "  ".into();
    let (body, line_of) = sent(plan(&context(), &only_money));
    assert_eq!(body["variables"]["input"]["refundLineItems"], json!([]));
    assert_eq!(body["variables"]["input"]["transactions"][0]["amount"], "3.5");
    assert_eq!(body["variables"]["input"]["note"], "[crossdock:refund-4]");
    assert!(line_of.is_empty());
}

#[test]
fn refunds_that_cannot_be_recorded_name_their_field() {
    let context = context();
    assert_eq!(invalid(plan(&context, &refund("r", &[], "0.00", true))), "lines");
    assert_eq!(invalid(plan(&context, &refund("r", &[("16000000000001", 1)], "1.00", true))), "lines[0]");
    assert_eq!(invalid(plan(&context, &refund("r", &[(SHIPPED, 0)], "1.00", true))), "lines[0]");
    assert_eq!(
        invalid(plan(&context, &refund("r", &[(SHIPPED, 1), ("gid://shopify/LineItem/1", 1)], "1.00", true))),
        "lines[1]",
        "not a line of this order"
    );
    assert_eq!(invalid(plan(&context, &refund("r", &[], "-1.00", false))), "amount");
    assert_eq!(invalid(plan(&context, &refund(" ", &[], "1.00", false))), "idempotency-key");
    let mut euros = refund("r", &[], "1.00", false);
    euros.amount = Money::new("1.00", "EUR");
    assert_eq!(invalid(plan(&context, &euros)), "amount.currency");
    let mut unpaid = self::context();
    unpaid.transactions.retain(|t| t.kind != "SALE");
    assert_eq!(invalid(plan(&unpaid, &refund("r", &[], "1.00", false))), "amount");
}

#[test]
fn a_line_past_the_lines_read_is_fatal_not_invalid() {
    let mut context = context();
    context.line_items.page_info.has_next_page = true;
    let result = plan(&context, &refund("r", &[("gid://shopify/LineItem/1", 1)], "1.00", true));
    assert!(matches!(result, Err(ConnectorError::Fatal(m)) if m.contains("first 100 lines")));
}

#[test]
fn refusals_name_the_contract_field() {
    let errors = |json: &str| -> Vec<UserError> { serde_json::from_str(json).expect("user errors") };
    let field = |error: ConnectorError| match error {
        ConnectorError::Invalid(f) => f.field,
        other => panic!("expected invalid, got {other:?}"),
    };
    let quantity = refused(
        ORDER,
        &[0, 0, 1],
        &errors(
            r#"[{"field":["refundLineItems","2","quantity"],"message":"Quantity cannot refund more items than were purchased."}]"#,
        ),
    );
    assert_eq!(field(quantity), "lines[1]");
    let amount = refused(
        ORDER,
        &[],
        &errors(
            r#"[{"field":["transactions"],"message":"Refund amount 40.00 is greater than the refundable amount 24.00."}]"#,
        ),
    );
    assert_eq!(field(amount), "amount");
    let gone = refused(ORDER, &[], &errors(r#"[{"field":["orderId"],"message":"Order does not exist."}]"#));
    assert!(matches!(gone, ConnectorError::NotFound(m) if m.contains(ORDER)));
    let mismatch = refused(
        ORDER,
        &[],
        &errors(
            r#"[{"field":null,"message":"The same idempotency key cannot be used with different operation parameters."}]"#,
        ),
    );
    assert_eq!(field(mismatch), "refund");
}
