use super::*;
use crossdock_plugin_sdk::store_orders::NewOrderLine;

const MUG: &str = "gid://shopify/ProductVariant/45000000000011";
const TEE: &str = "gid://shopify/ProductVariant/45000000000012";

fn usd(amount: &str) -> Money {
    Money::new(amount, "USD")
}

fn line(variant: &str, quantity: u32, price: &str, discount: &str, source: &str) -> NewOrderLine {
    NewOrderLine {
        variant_id: variant.into(),
        sku: "TEST-SKU".into(),
        title: "Trail Mug — Blue".into(),
        quantity,
        unit_price: usd(price),
        discount: usd(discount),
        source_line_id: source.into(),
    }
}

/// A paid TikTok order: 2 mugs at 12.00, 5.00 shipping, no discount or tax.
fn order() -> NewOrder {
    NewOrder {
        source_identifier: "tiktok-shop:7495:576486014771843072".into(),
        source_name: "TikTok Shop — Acme US".into(),
        idempotency_key: "create:tiktok-shop:7495:576486014771843072".into(),
        lines: vec![line(MUG, 2, "12.00", "0.00", "576486014771900001,576486014771900002")],
        shipping: usd("5.00"),
        tax: usd("0.00"),
        buyer_paid: usd("29.00"),
        platform_discount: usd("0.00"),
        shipping_address: Some(Address {
            name: "Ada Lovelace".into(),
            phone: Some("(+1)512***67".into()),
            line1: "1 Main St".into(),
            line2: None,
            city: "Austin".into(),
            region: Some("TX".into()),
            postal_code: "78701".into(),
            country_code: "us".into(),
        }),
        email: Some("buyer@scs.tiktokw.us".into()),
        note: Some("Please gift wrap".into()),
        tags: vec!["TikTok Shop".into(), " ".into()],
        attributes: vec![("TikTok order".into(), "576486014771843072".into())],
        decrement_stock: true,
    }
}

fn variables(order: &NewOrder) -> Value {
    plan(order).expect("plans").body["variables"].clone()
}

fn invalid_field(result: Result<Plan, ConnectorError>) -> (String, String) {
    match result {
        Err(ConnectorError::Invalid(f)) => (f.field, f.message),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn a_paid_order_becomes_one_order_create_with_its_payment_and_address() {
    let plan = plan(&order()).expect("plans");
    assert!(plan.body["query"].as_str().is_some_and(|q| q.contains("@idempotent(key: $key)")));
    assert_eq!(plan.line_of, [0]);
    assert_eq!(
        plan.body["variables"],
        json!({
            "order": {
                "sourceIdentifier": "tiktok-shop:7495:576486014771843072",
                "sourceName": "TikTok Shop — Acme US",
                "currency": "USD",
                "lineItems": [{"variantId": MUG, "quantity": 2,
                    "priceSet": {"shopMoney": {"amount": "12.00", "currencyCode": "USD"}}}],
                "shippingLines": [{"title": "Shipping", "priceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}}}],
                "transactions": [{"kind": "SALE", "status": "SUCCESS", "gateway": "TikTok Shop — Acme US",
                    "amountSet": {"shopMoney": {"amount": "29.00", "currencyCode": "USD"}}}],
                "shippingAddress": {"firstName": "Ada", "lastName": "Lovelace", "phone": "(+1)512***67",
                    "address1": "1 Main St", "city": "Austin", "provinceCode": "TX", "zip": "78701", "countryCode": "US"},
                "email": "buyer@scs.tiktokw.us",
                "note": "Please gift wrap",
                "tags": ["TikTok Shop"],
                "customAttributes": [
                    {"key": "TikTok order", "value": "576486014771843072"},
                    {"key": "Platform discount", "value": "0.00 USD"},
                    {"key": "_crossdock_source_lines", "value": "[\"576486014771900001,576486014771900002\"]"},
                ],
            },
            "options": {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY", "sendReceipt": false, "sendFulfillmentReceipt": false},
            "key": "create:tiktok-shop:7495:576486014771843072",
        })
    );
}

#[test]
fn an_even_discount_lowers_the_unit_price() {
    let mut order = order();
    order.lines[0].discount = usd("4.00");
    order.platform_discount = usd("1.50");
    order.buyer_paid = usd("25.00");
    let variables = variables(&order);
    assert_eq!(variables["order"]["lineItems"][0]["priceSet"]["shopMoney"]["amount"], "10.00");
    assert_eq!(variables["order"]["lineItems"][0]["quantity"], 2);
    assert_eq!(
        variables["order"]["customAttributes"][1],
        json!({"key": "Platform discount", "value": "1.50 USD"})
    );
}

#[test]
fn an_uneven_discount_splits_the_line_so_the_total_stays_exact() {
    let mut order = order();
    order.lines = vec![line(TEE, 3, "10.00", "1.00", "t1,t2,t3"), line(MUG, 1, "12.00", "0.00", "m1")];
    // 3 × 10.00 − 1.00 = 29.00 → one unit at 9.66 and two at 9.67; then the mug.
    order.buyer_paid = usd("46.00");
    let plan = plan(&order).expect("plans");
    let items = &plan.body["variables"]["order"]["lineItems"];
    let shape: Vec<(u64, &str)> = items
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (l["quantity"].as_u64().unwrap_or(0), l["priceSet"]["shopMoney"]["amount"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(shape, [(1, "9.66"), (2, "9.67"), (1, "12.00")]);
    assert_eq!(plan.line_of, [0, 0, 1]);
    let sources = plan.body["variables"]["order"]["customAttributes"][2]["value"].as_str().expect("a value");
    assert_eq!(serde_json::from_str::<Vec<String>>(sources).expect("json"), ["t1,t2,t3", "t1,t2,t3", "m1"]);
}

#[test]
fn tax_becomes_an_order_tax_line_with_its_rate() {
    let mut order = order();
    order.tax = usd("1.92");
    order.buyer_paid = usd("30.92");
    let variables = variables(&order);
    assert_eq!(
        variables["order"]["taxLines"],
        json!([{"title": "Tax", "rate": "0.08", "priceSet": {"shopMoney": {"amount": "1.92", "currencyCode": "USD"}}, "channelLiable": null}])
    );
    assert_eq!(variables["order"]["transactions"][0]["amountSet"]["shopMoney"]["amount"], "30.92");
}

#[test]
fn a_free_order_without_stock_decrement_sends_no_charge_lines() {
    let mut order = order();
    order.lines[0].discount = usd("24");
    order.shipping = usd("0");
    order.buyer_paid = usd("0.00");
    order.decrement_stock = false;
    order.shipping_address = None;
    order.email = Some("  ".into());
    order.note = None;
    let variables = variables(&order);
    assert_eq!(variables["options"]["inventoryBehaviour"], "BYPASS");
    assert_eq!(variables["order"]["lineItems"][0]["priceSet"]["shopMoney"]["amount"], "0.00");
    for absent in ["shippingLines", "taxLines", "transactions", "shippingAddress", "email", "note"] {
        assert!(variables["order"].get(absent).is_none(), "{absent}: {variables}");
    }
}

#[test]
fn amounts_keep_the_finest_precision_given() {
    let mut order = order();
    order.lines[0].unit_price = Money::new("1200", "JPY");
    order.lines[0].discount = Money::new("0", "JPY");
    order.shipping = Money::new("0", "JPY");
    order.tax = Money::new("0", "JPY");
    order.platform_discount = Money::new("0", "JPY");
    order.buyer_paid = Money::new("2400", "jpy");
    let variables = variables(&order);
    assert_eq!(variables["order"]["currency"], "JPY");
    assert_eq!(
        variables["order"]["lineItems"][0]["priceSet"]["shopMoney"],
        json!({"amount": "1200", "currencyCode": "JPY"})
    );
}

#[test]
fn a_one_word_name_is_the_last_name() {
    let address = Address {
        name: "Ada".into(),
        phone: None,
        line1: "1 Main St".into(),
        line2: Some("Apt 2".into()),
        city: "Austin".into(),
        region: None,
        postal_code: "78701".into(),
        country_code: "US".into(),
    };
    assert_eq!(
        mailing_address(&address),
        json!({"lastName": "Ada", "address1": "1 Main St", "address2": "Apt 2", "city": "Austin", "zip": "78701", "countryCode": "US"})
    );
}

#[test]
fn figures_that_do_not_add_up_are_refused_before_any_call() {
    let mut order = order();
    order.buyer_paid = usd("30.00");
    let (field, message) = invalid_field(plan(&order));
    assert_eq!(field, "buyer-paid");
    assert!(
        message.contains("29.00") && message.contains("30.00") && message.contains(&order.source_identifier),
        "{message}"
    );
}

#[test]
fn malformed_orders_name_the_field_to_fix() {
    type Change = Box<dyn Fn(&mut NewOrder)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|o| o.lines.clear()), "lines"),
        (Box::new(|o| o.lines[0].quantity = 0), "lines[0].quantity"),
        (Box::new(|o| o.lines[0].variant_id = "45000000000011".into()), "lines[0].variant-id"),
        (Box::new(|o| o.lines[0].discount = usd("24.01")), "lines[0].discount"),
        (Box::new(|o| o.lines[0].unit_price = usd("12,00")), "lines[0].unit-price"),
        (Box::new(|o| o.shipping = Money::new("5.00", "EUR")), "shipping"),
        (Box::new(|o| o.buyer_paid = Money::new("29.00", "US")), "buyer-paid.currency"),
        (Box::new(|o| o.tax = usd("-1.00")), "tax"),
    ];
    for (change, wanted) in cases {
        let mut order = order();
        change(&mut order);
        let (field, message) = invalid_field(plan(&order));
        assert_eq!(field, wanted, "{message}");
        assert!(message.starts_with("order tiktok-shop:7495:576486014771843072: "), "{message}");
    }
}

fn user_errors(json: &str) -> Vec<UserError> {
    serde_json::from_str(json).expect("user errors")
}

#[test]
fn a_stock_refusal_is_invalid_stock() {
    let order = order();
    let plan = plan(&order).expect("plans");
    let error = refused(
        &order,
        &plan,
        &user_errors(
            r#"[{"code":"INVENTORY_CLAIM_FAILED","field":["order","lineItems","0","quantity"],"message":"Unable to claim 2 of TEST-MUG at the location: 1 available."}]"#,
        ),
    );
    match error {
        ConnectorError::Invalid(f) => {
            assert_eq!(f.field, "stock");
            assert!(
                f.message.contains("lines[0].quantity") && f.message.contains("1 available"),
                "{}",
                f.message
            );
        }
        other => panic!("expected invalid stock, got {other:?}"),
    }
}

#[test]
fn a_deleted_variant_is_not_found_and_names_it_through_split_lines() {
    let mut order = order();
    order.lines = vec![line(TEE, 3, "10.00", "1.00", "t"), line(MUG, 1, "12.00", "0.00", "m")];
    order.buyer_paid = usd("46.00");
    let plan = plan(&order).expect("plans");
    // Store line 2 is the mug: new-order line 1.
    let error = refused(
        &order,
        &plan,
        &user_errors(
            r#"[{"code":"INVALID","field":["order","lineItems","2","variantId"],"message":"Product variant gid://shopify/ProductVariant/45000000000011 does not exist."}]"#,
        ),
    );
    match error {
        ConnectorError::NotFound(m) => assert!(m.contains(MUG) && m.contains("lines[1]"), "{m}"),
        other => panic!("expected not-found, got {other:?}"),
    }
}

#[test]
fn other_refusals_are_invalid_with_the_contract_field() {
    let order = order();
    let plan = plan(&order).expect("plans");
    let error = refused(
        &order,
        &plan,
        &user_errors(
            r#"[{"code":"INVALID","field":["order","sourceName"],"message":"Source name `web` is reserved."}]"#,
        ),
    );
    assert!(
        matches!(&error, ConnectorError::Invalid(f) if f.field == "order.sourceName" && f.message.contains("reserved")),
        "{error:?}"
    );
    let error = refused(
        &order,
        &plan,
        &user_errors(
            r#"[{"code":"INVALID","field":["order","lineItems","0","quantity"],"message":"Quantity must be greater than or equal to 1."}]"#,
        ),
    );
    assert!(matches!(&error, ConnectorError::Invalid(f) if f.field == "lines[0].quantity"), "{error:?}");
    assert!(matches!(refused(&order, &plan, &[]), ConnectorError::Fatal(_)));
}
