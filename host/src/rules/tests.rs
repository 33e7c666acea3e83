//! The rule engine's contract: limits, positions, verdicts, decimals, and every example
//! rule in `rules/examples/` against the cases beside it.

use super::product_rule::ChannelFacts;
use super::*;
use crate::model::{Currency, Money, Product, ProductStatus, Variant};
use rust_decimal::Decimal;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("valid decimal")
}

fn product(price: &str, compare_at: Option<&str>) -> Product {
    let usd = Currency::new("USD").expect("USD");
    Product {
        external_id: "gid://shopify/Product/1".into(),
        title: "Camp Mug".into(),
        description_html: "<p>Enamel</p>".into(),
        vendor: Some("Crossdock".into()),
        product_type: Some("Kitchen".into()),
        tags: vec!["camp".into()],
        status: ProductStatus::Active,
        images: vec![],
        variants: vec![Variant {
            external_id: "v1".into(),
            sku: "MUG-1".into(),
            barcode: None,
            title: "Default".into(),
            price: Money::new(dec(price), usd.clone()),
            compare_at_price: compare_at.map(|c| Money::new(dec(c), usd.clone())),
            stock: 5,
            weight_grams: Some(300),
            options: vec![("Color".into(), "Blue".into())],
            image: None,
        }],
        updated_at_ms: 0,
    }
}

fn facts(currency: &str) -> ChannelFacts {
    ChannelFacts { name: "UK".into(), currency: currency.into(), region: Some("GB".into()) }
}

fn price_with(source: &str, p: &Product, rate: &str, currency: &str) -> Result<PriceOutcome, RuleError> {
    let engine = RuleEngine::default();
    let rule = PriceRule::compile(&engine, "test price rule v1", 1, source)?;
    let currency = Currency::new(currency).expect("currency");
    rule.apply(
        &engine,
        PriceInput {
            product: p,
            variant: &p.variants[0],
            rate: dec(rate),
            channel: &facts(currency.as_str()),
            channel_currency: &currency,
        },
    )
}

#[test]
fn default_price_rule_converts_with_the_rate_in_decimal() {
    let outcome = price_with(DEFAULT_PRICE_RULE, &product("19.99", None), "0.79", "GBP").expect("prices");
    let gbp = Currency::new("GBP").expect("GBP");
    assert_eq!(outcome, PriceOutcome::Price { price: Money::new(dec("15.79"), gbp), compare_at: None });
}

#[test]
fn default_product_rule_skips_inactive_products_with_a_reason() {
    let engine = RuleEngine::default();
    let rule = ProductRule::compile(&engine, "p", 1, DEFAULT_PRODUCT_RULE).expect("compiles");
    let mut draft = product("1", None);
    draft.status = ProductStatus::Draft;
    assert_eq!(
        rule.apply(&engine, &draft, &facts("USD")).expect("runs"),
        ProductOutcome::Skip("not active in the store".into())
    );
    assert!(matches!(rule.apply(&engine, &product("1", None), &facts("USD")), Ok(ProductOutcome::Keep(_))));
}

#[test]
fn product_rules_can_rewrite_the_title_and_tags() {
    let engine = RuleEngine::default();
    let source =
        r#"product.title = product.title + " | " + channel.name; product.tags.push("tiktok"); keep()"#;
    let rule = ProductRule::compile(&engine, "p", 1, source).expect("compiles");
    let ProductOutcome::Keep(p) = rule.apply(&engine, &product("1", None), &facts("GBP")).expect("runs")
    else {
        panic!("kept")
    };
    assert_eq!(p.title, "Camp Mug | UK");
    assert_eq!(p.tags, vec!["camp".to_string(), "tiktok".to_string()]);
}

#[test]
fn a_syntax_error_names_the_rule_line_and_column() {
    let engine = RuleEngine::default();
    let error =
        PriceRule::compile(&engine, "channel 3 price rule v2", 2, "let x = price *;\nx").expect_err("bad");
    assert_eq!(error.line, Some(1));
    assert!(error.column.is_some());
    assert!(error.to_string().starts_with("channel 3 price rule v2 at line 1"), "{error}");
}

#[test]
fn an_unknown_variable_is_a_compile_error_not_a_surprise() {
    let engine = RuleEngine::default();
    let error = PriceRule::compile(&engine, "r", 1, "prize * rate").expect_err("typo");
    assert!(error.message.contains("prize"), "{error}");
}

#[test]
fn floats_do_not_exist_in_rules() {
    let outcome = price_with("price * 1.1", &product("10.00", None), "1", "USD").expect("decimal literal");
    assert!(matches!(outcome, PriceOutcome::Price { price, .. } if price.amount == dec("11.000")));
}

#[test]
fn a_product_rule_must_end_with_a_verdict() {
    let engine = RuleEngine::default();
    let rule = ProductRule::compile(&engine, "p", 1, "42").expect("compiles");
    let error = rule.apply(&engine, &product("1", None), &facts("USD")).expect_err("no verdict");
    assert!(error.message.contains("keep()"), "{error}");
    assert!(error.record.as_deref().is_some_and(|r| r.contains("Camp Mug")), "names the record: {error}");
}

#[test]
fn a_price_rule_cannot_price_at_zero_or_below() {
    let error = price_with("price - price", &product("10", None), "1", "USD").expect_err("zero");
    assert!(error.message.contains("above zero"), "{error}");
}

#[test]
fn arithmetic_that_overflows_is_a_rule_error_naming_the_record_never_a_panic() {
    let near_max = "79228162514264337593543950330";
    let cases = [
        ("price_ending(decimal(\"79228162514264337593543950335\"), decimal(\"0.99\"))", "10"),
        ("price * decimal(\"10000000000000000000000\") * decimal(\"10000000000000000000000\")", "10"),
        ("price + price", near_max),
        ("price * rate * decimal(\"1000000000000000\")", "10"),
    ];
    for (source, price) in cases {
        let error = price_with(source, &product(price, None), "1000000", "USD").expect_err(source);
        assert!(error.to_string().contains("SKU MUG-1"), "{source}: {error}");
    }
    let fine = price_with("price_ending(price, decimal(\"0.99\"))", &product("12.10", None), "1", "USD");
    assert!(matches!(fine, Ok(PriceOutcome::Price { .. })), "{fine:?}");
}

#[test]
fn runaway_scripts_stop_with_the_reason() {
    let p = product("10", None);
    let looped = price_with("loop {}", &p, "1", "USD").expect_err("stops");
    assert!(looped.message.contains("too many operations"), "{looped}");
    let recursed = price_with("fn f(x) { f(x) } f(1)", &p, "1", "USD").expect_err("stops");
    assert!(recursed.message.contains("nested too deep"), "{recursed}");
    let grown = price_with(r#"let s = "ab"; loop { s += s; }"#, &p, "1", "USD").expect_err("stops");
    assert!(grown.message.contains("size limit"), "{grown}");
}

#[test]
fn wall_clock_limit_stops_slow_scripts_even_under_the_operation_limit() {
    let engine = RuleEngine::new(engine::RuleLimits {
        max_operations: u64::MAX,
        wall_time: std::time::Duration::from_millis(20),
        ..Default::default()
    });
    let rule = PriceRule::compile(&engine, "slow", 1, "loop {}").expect("compiles");
    let p = product("1", None);
    let usd = Currency::new("USD").expect("USD");
    let error = rule
        .apply(
            &engine,
            PriceInput {
                product: &p,
                variant: &p.variants[0],
                rate: Decimal::ONE,
                channel: &facts("USD"),
                channel_currency: &usd,
            },
        )
        .expect_err("stopped by the deadline");
    assert!(error.message.contains("wall-clock"), "{error}");
}

#[test]
fn sleep_eval_and_imports_are_not_available() {
    let p = product("1", None);
    assert!(price_with("sleep(10); price", &p, "1", "USD").is_err());
    assert!(price_with(r#"eval("price")"#, &p, "1", "USD").is_err());
    assert!(price_with(r#"import "x" as y; price"#, &p, "1", "USD").is_err());
}

/// Every example rule ships with cases: `{input: {price, compare_at?, rate}, expect: {price, compare_at?}}`.
#[test]
fn example_price_rules_produce_their_documented_outputs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("rules/examples exists") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".cases.json") else {
            continue;
        };
        let source =
            std::fs::read_to_string(dir.join(format!("{stem}.rhai"))).expect("rule beside its cases");
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("cases")).expect("cases are JSON");
        for case in cases {
            let input = &case["input"];
            let p = product(input["price"].as_str().expect("price"), input["compare_at"].as_str());
            let outcome = price_with(&source, &p, input["rate"].as_str().expect("rate"), "GBP")
                .unwrap_or_else(|e| panic!("{stem}: {e}"));
            let PriceOutcome::Price { price, compare_at } = outcome else { panic!("{stem}: skipped {case}") };
            assert_eq!(
                price.amount,
                dec(case["expect"]["price"].as_str().expect("expected price")),
                "{stem}: {case}"
            );
            let expected_compare = case["expect"]["compare_at"].as_str().map(dec);
            assert_eq!(compare_at.map(|m| m.amount), expected_compare, "{stem}: {case}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "the example cases ran ({checked})");
}

#[test]
fn the_outdoor_only_example_keeps_tagged_products_and_names_the_brand() {
    let engine = RuleEngine::default();
    let source = include_str!("../../../rules/examples/product-outdoor-only.rhai");
    let rule = ProductRule::compile(&engine, "outdoor-only", 1, source).expect("compiles");
    let mut gear = product("10", None);
    gear.tags = vec!["outdoor".into()];
    let ProductOutcome::Keep(kept) = rule.apply(&engine, &gear, &facts("GBP")).expect("runs") else {
        panic!("outdoor gear is kept")
    };
    assert_eq!(kept.title, "Crossdock Camp Mug");
    assert_eq!(
        rule.apply(&engine, &product("10", None), &facts("GBP")).expect("runs"),
        ProductOutcome::Skip("not tagged outdoor".into())
    );
}

fn order(buyer_paid: &str, platform_discount: &str) -> crate::model::order::ChannelOrder {
    use crate::model::order::*;
    let usd = |a: &str| crate::model::Money::parse(a, "USD").expect("money");
    ChannelOrder {
        id: "5770001".into(),
        status: "AWAITING_SHIPMENT".into(),
        stage: OrderStage::AwaitingShipment,
        shipped_by: ShippedBy::Seller,
        created_at: 0,
        updated_at: 0,
        lines: vec![OrderLine {
            id: "1,2".into(),
            seller_sku: "MUG-1".into(),
            sku_id: None,
            title: "Camp mug".into(),
            quantity: 2,
            unit_price: usd("10"),
            seller_discount: usd("0"),
            platform_discount: usd(platform_discount),
        }],
        totals: OrderTotals {
            subtotal: usd("20"),
            shipping: usd("0"),
            tax: usd("0"),
            seller_discount: usd("0"),
            platform_discount: usd(platform_discount),
            buyer_paid: usd(buyer_paid),
        },
        shipping_address: None,
        buyer_email: None,
        buyer_message: None,
        packages: Vec::new(),
    }
}

#[test]
fn the_order_example_tags_holds_large_orders_and_notes_platform_discounts() {
    use crate::rules::{OrderOutcome, OrderRule};
    let engine = RuleEngine::default();
    let source = include_str!("../../../rules/examples/order-tag-and-hold.rhai");
    let rule = OrderRule::compile(&engine, "order-tag-and-hold", 1, source).expect("compiles");
    let tags = vec!["tiktok-shop".to_string(), "Crossdock US".to_string()];
    let kept = rule.apply(&engine, &order("18.50", "1.50"), &facts("USD"), &tags, None).expect("runs");
    assert_eq!(
        kept,
        OrderOutcome::Keep {
            tags: vec!["tiktok-shop".into(), "Crossdock US".into(), "tiktok".into()],
            note: Some("TikTok-funded discount 1.50 USD".into()),
        }
    );
    let held = rule.apply(&engine, &order("600", "0"), &facts("USD"), &tags, None).expect("runs");
    assert_eq!(held, OrderOutcome::Hold("over 500: check the buyer before shipping".into()));
    let bad = OrderRule::compile(&engine, "bad", 1, "order.tags = 5; keep()").expect("compiles");
    let error =
        bad.apply(&engine, &order("1", "0"), &facts("USD"), &tags, None).expect_err("tags must be strings");
    assert!(error.to_string().contains("order.tags must be an array"), "{error}");
    assert!(OrderRule::compile(&engine, "typo", 1, "ordr.tags.push(1); keep()").is_err(), "unknown variable");
}

mod generated_inputs {
    //! Property tests of the rule inputs: whatever prices, compare-at prices and rates a store
    //! and a merchant can produce, a price rule answers a price within the money bounds, a skip,
    //! or a rule error naming the rule — never a panic, never an amount past the bounds.

    use super::*;
    use proptest::prelude::*;

    /// Decimals of every scale and size, the extremes included.
    fn decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (any::<i64>(), 0u32..=28).prop_map(|(m, scale)| Decimal::from_i128_with_scale(m.into(), scale)),
            (any::<i64>(), 0u32..=4)
                .prop_map(|(m, scale)| Decimal::from_i128_with_scale(m.into(), scale).abs()),
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(Decimal::ZERO),
            Just(dec("0.0000000000000000000000000001")),
            Just(dec("999999999999999")),
        ]
    }

    const RULES: [&str; 5] = [
        "(price * rate).round(2)",
        include_str!("../../../rules/examples/price-convert-charm.rhai"),
        "price_ending(price * rate * 1000000, 0.99)",
        "#{ price: price * rate, compare_at: if compare_at != () { compare_at * rate * rate } else { () } }",
        "if price > 100 { skip(\"too dear\") } else { price * rate / 3 }",
    ];

    fn with_prices(price: Decimal, compare_at: Decimal) -> Product {
        let mut p = product("1", None);
        let usd = Currency::new("USD").expect("USD");
        p.variants[0].price = Money::new(price, usd.clone());
        p.variants[0].compare_at_price = Some(Money::new(compare_at, usd));
        p
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn a_price_rule_never_panics_and_never_answers_past_the_bounds(
            rule in 0..RULES.len(),
            price in decimal(),
            compare_at in decimal(),
            rate in decimal(),
        ) {
            let engine = RuleEngine::default();
            let compiled = PriceRule::compile(&engine, "generated price rule v1", 1, RULES[rule]).expect("compiles");
            let p = with_prices(price, compare_at);
            let currency = Currency::new("GBP").expect("GBP");
            let input = PriceInput {
                product: &p,
                variant: &p.variants[0],
                rate,
                channel: &facts("GBP"),
                channel_currency: &currency,
            };
            match compiled.apply(&engine, input) {
                Ok(PriceOutcome::Price { price, compare_at }) => {
                    let bound = dec("1000000000000000");
                    prop_assert!(price.amount.abs() <= bound, "price {} past the bounds", price.amount);
                    if let Some(c) = compare_at {
                        prop_assert!(c.amount.abs() <= bound, "compare-at {} past the bounds", c.amount);
                    }
                }
                Ok(PriceOutcome::Skip(_)) => {}
                Err(error) => {
                    let text = error.to_string();
                    prop_assert!(text.contains("generated price rule v1"), "the error names the rule: {text}");
                }
            }
        }
    }
}
