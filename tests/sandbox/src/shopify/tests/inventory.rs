//! Locations, inventory levels, `inventorySetQuantities` (compare-and-set),
//! `inventoryAdjustQuantities`, `@idempotent` and mutation cost, over HTTP.

use super::*;

const SET: &str = "mutation($input: InventorySetQuantitiesInput!) {
    inventorySetQuantities(input: $input) {
      inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange item { id } location { id } } }
      userErrors { field message code } } }";

const ADJUST_ONCE: &str = "mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
    inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
      inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
      userErrors { field message code } } }";

const LEVEL: &str = "query($item: ID!, $location: ID!) { inventoryItem(id: $item) {
    inventoryLevel(locationId: $location) { quantities(names: [\"available\", \"on_hand\", \"committed\"]) { name quantity } }
    inventoryLevels(first: 5) { nodes { location { name } } } } }";

/// The shop's one location and the inventory items of its first `n` variants.
pub(super) async fn location_and_items(shop: &ShopifySandbox, n: usize) -> (String, Vec<String>) {
    let body = query(
        shop,
        "{ locations(first: 5) { nodes { id name isActive } }
           productVariants(first: 10) { nodes { inventoryItem { id } } } }",
        json!({}),
    )
    .await;
    let locations = body["data"]["locations"]["nodes"].as_array().expect("locations").clone();
    assert_eq!(locations.len(), 1, "a new shop has one location: {body}");
    assert_eq!(locations[0]["name"], "Shop location");
    let location = locations[0]["id"].as_str().expect("location id").to_string();
    assert!(location.starts_with("gid://shopify/Location/"), "{location}");
    let items = body["data"]["productVariants"]["nodes"]
        .as_array()
        .expect("variants")
        .iter()
        .take(n)
        .map(|v| v["inventoryItem"]["id"].as_str().expect("item id").to_string())
        .collect();
    (location, items)
}

/// `(available, on_hand, committed)` of an item at a location, read over GraphQL.
pub(super) async fn level(shop: &ShopifySandbox, item: &str, location: &str) -> (i64, i64, i64) {
    let body = query(shop, LEVEL, json!({"item": item, "location": location})).await;
    let quantities =
        body["data"]["inventoryItem"]["inventoryLevel"]["quantities"].as_array().expect("quantities");
    let named = |name: &str| {
        quantities
            .iter()
            .find(|q| q["name"] == name)
            .and_then(|q| q["quantity"].as_i64())
            .expect("a quantity")
    };
    assert_eq!(
        body["data"]["inventoryItem"]["inventoryLevels"]["nodes"][0]["location"]["name"],
        "Shop location"
    );
    (named("available"), named("on_hand"), named("committed"))
}

fn set_input(quantities: Value) -> Value {
    json!({"input": {"name": "available", "reason": "correction", "quantities": quantities}})
}

#[tokio::test]
async fn compare_and_set_applies_when_change_from_matches() {
    let shop = ShopifySandbox::start(config(generated_catalog(2, 1, 7))).await.expect("starts");
    let (location, items) = location_and_items(&shop, 1).await;
    let (available, on_hand, _) = level(&shop, &items[0], &location).await;
    let wanted = available + 5;

    let body = query(
        &shop,
        SET,
        set_input(json!([{
            "inventoryItemId": items[0], "locationId": location, "quantity": wanted, "changeFromQuantity": available,
        }])),
    )
    .await;
    let payload = &body["data"]["inventorySetQuantities"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    let changes = payload["inventoryAdjustmentGroup"]["changes"].as_array().expect("changes");
    let change = |name: &str| changes.iter().find(|c| c["name"] == name).expect("a change").clone();
    assert_eq!(change("available")["delta"], 5);
    assert_eq!(change("available")["quantityAfterChange"], wanted);
    assert_eq!(change("on_hand")["quantityAfterChange"], on_hand + 5);
    assert_eq!(change("available")["item"]["id"], items[0].as_str());
    assert_eq!(change("available")["location"]["id"], location.as_str());
    assert_eq!(level(&shop, &items[0], &location).await, (wanted, on_hand + 5, 0));
    shop.stop().await;
}

#[tokio::test]
async fn a_stale_change_from_refuses_the_whole_mutation_and_changes_nothing() {
    let shop = ShopifySandbox::start(config(generated_catalog(2, 1, 7))).await.expect("starts");
    let (location, items) = location_and_items(&shop, 2).await;
    let before = [level(&shop, &items[0], &location).await, level(&shop, &items[1], &location).await];

    let body = query(
        &shop,
        SET,
        set_input(json!([
            {"inventoryItemId": items[0], "locationId": location, "quantity": 50, "changeFromQuantity": before[0].0},
            {"inventoryItemId": items[1], "locationId": location, "quantity": 50, "changeFromQuantity": before[1].0 + 1},
        ])),
    )
    .await;
    let payload = &body["data"]["inventorySetQuantities"];
    assert_eq!(payload["inventoryAdjustmentGroup"], Value::Null, "{body}");
    assert_eq!(
        payload["userErrors"],
        json!([{
            "field": ["input", "quantities", "1", "changeFromQuantity"],
            "message": "The changeFromQuantity argument no longer matches the persisted quantity.",
            "code": "CHANGE_FROM_QUANTITY_STALE",
        }])
    );
    let after = [level(&shop, &items[0], &location).await, level(&shop, &items[1], &location).await];
    assert_eq!(after, before, "the valid quantity was not applied either");

    // Before 2026-04 a quantity without any compare value is refused unless ignored.
    let body = query(
        &shop,
        SET,
        set_input(json!([{"inventoryItemId": items[0], "locationId": location, "quantity": 1}])),
    )
    .await;
    assert_eq!(body["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "COMPARE_QUANTITY_REQUIRED");
    // An explicit null opts out of the check (the 2026-04 rule).
    let body = query(
        &shop,
        SET,
        set_input(json!([{"inventoryItemId": items[0], "locationId": location, "quantity": 1, "changeFromQuantity": null}])),
    )
    .await;
    assert_eq!(body["data"]["inventorySetQuantities"]["userErrors"], json!([]), "{body}");
    assert_eq!(level(&shop, &items[0], &location).await.0, 1);
    shop.stop().await;
}

#[tokio::test]
async fn adjust_adds_a_delta_and_refuses_unknown_items() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 3))).await.expect("starts");
    let (location, items) = location_and_items(&shop, 1).await;
    let (available, on_hand, _) = level(&shop, &items[0], &location).await;
    let adjust = "mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) {
        inventoryAdjustmentGroup { changes { name delta quantityAfterChange } } userErrors { field code } } }";
    let input = |item: &str, delta: i64| {
        json!({"input": {"name": "available", "reason": "received",
               "changes": [{"inventoryItemId": item, "locationId": location, "delta": delta}]}})
    };
    let body = query(&shop, adjust, input(&items[0], -4)).await;
    let changes = &body["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"];
    assert_eq!(
        changes[0],
        json!({"name": "available", "delta": -4, "quantityAfterChange": available - 4}),
        "{body}"
    );
    assert_eq!(level(&shop, &items[0], &location).await, (available - 4, on_hand - 4, 0));

    let body = query(&shop, adjust, input("gid://shopify/InventoryItem/1", 2)).await;
    assert_eq!(
        body["data"]["inventoryAdjustQuantities"]["userErrors"],
        json!([{"field": ["input", "changes", "0", "inventoryItemId"], "code": "INVALID_INVENTORY_ITEM"}])
    );
    assert_eq!(level(&shop, &items[0], &location).await.0, available - 4);
    shop.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_result_and_applies_once() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 3))).await.expect("starts");
    let (location, items) = location_and_items(&shop, 1).await;
    let (available, _, _) = level(&shop, &items[0], &location).await;
    let variables = |delta: i64, key: &str| {
        json!({"key": key, "input": {"name": "available", "reason": "received",
               "changes": [{"inventoryItemId": items[0], "locationId": location, "delta": delta}]}})
    };

    let first = query(&shop, ADJUST_ONCE, variables(3, "4f5b6ebf-143c-4da5-8d0f-fb8553bfd85d")).await;
    let retry = query(&shop, ADJUST_ONCE, variables(3, "4f5b6ebf-143c-4da5-8d0f-fb8553bfd85d")).await;
    let group = &first["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"];
    assert!(group["id"].as_str().is_some_and(|id| id.starts_with("gid://shopify/InventoryAdjustmentGroup/")));
    assert_eq!(first["data"], retry["data"], "the retry returns the first result");
    assert_eq!(level(&shop, &items[0], &location).await.0, available + 3, "applied once");

    let other = query(&shop, ADJUST_ONCE, variables(4, "4f5b6ebf-143c-4da5-8d0f-fb8553bfd85d")).await;
    let payload = &other["data"]["inventoryAdjustQuantities"];
    assert_eq!(payload["inventoryAdjustmentGroup"], Value::Null);
    assert_eq!(payload["userErrors"][0]["code"], "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "{other}");
    assert_eq!(level(&shop, &items[0], &location).await.0, available + 3, "refused with other arguments");

    let fresh = query(&shop, ADJUST_ONCE, variables(3, "a-new-key")).await;
    assert_ne!(fresh["data"], first["data"], "a new key is a new adjustment");
    assert_eq!(level(&shop, &items[0], &location).await.0, available + 6);
    shop.stop().await;
}

#[tokio::test]
async fn a_mutation_costs_ten_points_from_the_bucket() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 3))).await.expect("starts");
    let (location, items) = location_and_items(&shop, 1).await;
    shop.set_cost_limits(CostLimits { maximum_available: 100.0, restore_rate: 0.0, single_query_max: 100 });
    let body = query(
        &shop,
        ADJUST_ONCE,
        json!({"key": "cost", "input": {"name": "available", "reason": "received",
               "changes": [{"inventoryItemId": items[0], "locationId": location, "delta": 1}]}}),
    )
    .await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 10, "{body}");
    assert_eq!(cost["actualQueryCost"], 10);
    assert_eq!(cost["throttleStatus"]["currentlyAvailable"], json!(90.0));
    shop.stop().await;
}
