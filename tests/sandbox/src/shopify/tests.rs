//! The Shopify sandbox over real HTTP, as a client sees it: the catalog here; bulk
//! operations, inventory, orders and the control API in `tests/*`.

mod bulk;
mod control;
mod inventory;
mod orders;

use super::*;
use crate::catalog::{demo_catalog, generated_catalog};
use serde_json::{Value, json};
use std::collections::HashSet;

const TOKEN: &str = "shpat_sandbox_token";

fn config(catalog: Vec<CatalogProduct>) -> ShopifyConfig {
    ShopifyConfig {
        shop_name: "Crossdock Demo Outfitters".into(),
        currency: "USD".into(),
        access_token: TOKEN.into(),
        catalog,
    }
}

fn endpoint(shop: &ShopifySandbox) -> String {
    format!("{}/admin/api/{}/graphql.json", shop.base_url(), shop.api_version())
}

async fn post(url: &str, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.header("X-Shopify-Access-Token", token);
    }
    let response = request.send().await.expect("sandbox answers");
    let status = response.status().as_u16();
    let body = response.json().await.expect("JSON body");
    (status, body)
}

/// Runs a query or mutation and expects HTTP 200.
async fn query(shop: &ShopifySandbox, query: &str, variables: Value) -> Value {
    let (status, body) = post(&endpoint(shop), Some(TOKEN), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn paging_with_cursors_returns_every_product_exactly_once() {
    let shop = ShopifySandbox::start(config(generated_catalog(23, 2, 5))).await.expect("starts");
    let q = "query($after: String) { products(first: 5, after: $after, sortKey: ID) {
               edges { cursor node { id handle } } pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }";
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body = query(&shop, q, json!({"after": after})).await;
        let connection = &body["data"]["products"];
        pages += 1;
        for edge in connection["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["handle"].as_str().expect("handle").to_string());
        }
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], json!(pages > 1));
        if connection["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_string);
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 23);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
    assert_eq!(shop.product_count(), 23);
    assert_eq!(shop.request_count(), 5);
    shop.stop().await;
}

#[tokio::test]
async fn products_have_shopifys_shape() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    let body = query(
        &shop,
        "{ shop { name currencyCode }
           products(first: 2) { nodes { id title handle descriptionHtml vendor productType tags status updatedAt
             featuredImage { url altText } images(first: 10) { nodes { url altText } }
             variants(first: 10) { nodes { id title sku barcode price compareAtPrice inventoryQuantity
               selectedOptions { name value } image { url altText }
               inventoryItem { id tracked measurement { weight { value unit } } } } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["shop"], json!({"name": "Crossdock Demo Outfitters", "currencyCode": "USD"}));
    let product = &body["data"]["products"]["nodes"][0];
    assert!(product["id"].as_str().expect("id").starts_with("gid://shopify/Product/"));
    assert_eq!(product["status"], "ACTIVE");
    let updated = product["updatedAt"].as_str().expect("updatedAt");
    assert!(updated.len() == 20 && updated.ends_with('Z'), "{updated}");
    let variant = &product["variants"]["nodes"][0];
    assert!(variant["id"].as_str().expect("id").starts_with("gid://shopify/ProductVariant/"));
    let price = variant["price"].as_str().expect("price is a decimal string");
    assert!(price.contains('.'), "{price}");
    assert_eq!(variant["inventoryItem"]["measurement"]["weight"]["unit"], "GRAMS");
    assert!(variant["selectedOptions"][0]["name"].is_string());
    let cost = &body["extensions"]["cost"];
    assert!(
        cost["requestedQueryCost"].as_u64().expect("requested")
            >= cost["actualQueryCost"].as_u64().expect("actual")
    );
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], json!(2000.0));
    assert_eq!(cost["throttleStatus"]["restoreRate"], json!(100.0));
    shop.stop().await;
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_with_401() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    for token in [Some("shpat_wrong"), None] {
        let (status, body) = post(&endpoint(&shop), token, "{ shop { name } }", json!({})).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        );
    }
    shop.stop().await;
}

#[tokio::test]
async fn other_api_versions_are_not_found() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    let url = format!("{}/admin/api/2024-10/graphql.json", shop.base_url());
    let (status, _) = post(&url, Some(TOKEN), "{ shop { name } }", json!({})).await;
    assert_eq!(status, 404);
    shop.stop().await;
}

#[tokio::test]
async fn a_page_larger_than_250_is_a_graphql_error() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    let body = query(&shop, "{ products(first: 251) { nodes { id } } }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().expect("an error");
    assert!(message.contains("250"), "{message}");
    let body = query(&shop, "{ products { nodes { id } } }", json!({})).await;
    assert_eq!(body["errors"][0]["message"], "you must provide one of first or last");
    shop.stop().await;
}

#[tokio::test]
async fn an_empty_bucket_answers_throttled_with_the_bucket_status() {
    let shop = ShopifySandbox::start(config(generated_catalog(20, 1, 1))).await.expect("starts");
    shop.set_cost_limits(CostLimits { maximum_available: 30.0, restore_rate: 1.0, single_query_max: 1000 });
    let q = "{ products(first: 10) { nodes { id } } }"; // costs 12, returns 11 objects
    let mut throttled = None;
    for _ in 0..5 {
        let body = query(&shop, q, json!({})).await;
        if body.get("errors").is_some() {
            throttled = Some(body);
            break;
        }
    }
    let body = throttled.expect("the 30-point bucket runs dry within five 12-point queries");
    assert_eq!(body["errors"][0]["message"], "Throttled");
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 12);
    assert_eq!(cost["actualQueryCost"], Value::Null);
    assert!(cost["throttleStatus"]["currentlyAvailable"].as_f64().expect("available") < 12.0);
    shop.stop().await;
}

#[tokio::test]
async fn a_query_over_the_single_query_limit_is_refused() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    let body = query(
        &shop,
        "{ products(first: 250) { nodes { variants(first: 100) { nodes { id } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert!(body["errors"][0]["message"].as_str().expect("message").starts_with("Query cost is 25752"));
    shop.stop().await;
}

/// The shopify plugin's queries (plugins/shopify/src/query.rs), its list page at the largest size.
#[tokio::test]
async fn the_plugins_largest_page_fits_the_single_query_limit() {
    let shop = ShopifySandbox::start(config(generated_catalog(30, 12, 2))).await.expect("starts");
    let fragments = "fragment ProductFields on Product { id title handle descriptionHtml vendor productType tags status updatedAt
        images(first: 10) { nodes { url altText } } }
      fragment VariantFields on ProductVariant { id title sku barcode price compareAtPrice inventoryQuantity
        selectedOptions { name value } image { url altText } inventoryItem { measurement { weight { value unit } } } }";
    let q = format!("query ListProducts($first: Int!, $after: String) {{
      shop {{ currencyCode }}
      products(first: $first, after: $after, sortKey: ID) {{
        pageInfo {{ hasNextPage endCursor }}
        edges {{ cursor node {{ ...ProductFields variants(first: 10) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...VariantFields }} }} }} }} }} }}
      {fragments}");
    let body = query(&shop, &q, json!({"first": 13})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 978);
    assert_eq!(body["data"]["products"]["edges"][0]["node"]["variants"]["pageInfo"]["hasNextPage"], true);

    let whole = format!("query Product($id: ID!) {{ shop {{ currencyCode }} product(id: $id) {{ ...ProductFields
        variants(first: 100) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...VariantFields }} }} }} }} {fragments}");
    let id = body["data"]["products"]["edges"][0]["node"]["id"].clone();
    let body = query(&shop, &whole, json!({"id": id})).await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 616);
    assert_eq!(body["data"]["product"]["variants"]["nodes"].as_array().map(Vec::len), Some(12));
    shop.stop().await;
}

#[tokio::test]
async fn stock_and_title_changes_show_and_bump_updated_at() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    let sku = demo_catalog()[0].variants[0].sku.clone();
    let handle = demo_catalog()[1].handle.clone();
    let lookup = "query($q: String) { productVariants(first: 5, query: $q) {
                    nodes { sku inventoryQuantity product { handle updatedAt } } } }";
    let before = query(&shop, lookup, json!({"q": format!("sku:{sku}")})).await;
    let nodes = before["data"]["productVariants"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 1, "{before}");
    assert!(shop.set_variant_stock(&sku, 7));
    assert!(!shop.set_variant_stock("NO-SUCH-SKU", 7));
    let after = query(&shop, lookup, json!({"q": format!("sku:{sku}")})).await;
    let node = &after["data"]["productVariants"]["nodes"][0];
    assert_eq!(node["inventoryQuantity"], 7);
    assert!(node["product"]["updatedAt"].as_str() > nodes[0]["product"]["updatedAt"].as_str());

    assert!(shop.set_product_title(&handle, "Renamed Tent"));
    assert!(!shop.set_product_title("no-such-handle", "x"));
    let body = query(
        &shop,
        "query($q: String) { products(first: 1, query: $q) { nodes { title } } }",
        json!({"q": format!("handle:{handle}")}),
    )
    .await;
    assert_eq!(body["data"]["products"]["nodes"][0]["title"], "Renamed Tent");
    shop.stop().await;
}

#[tokio::test]
async fn updated_at_filters_and_reverse_sorting_work() {
    let shop = ShopifySandbox::start(config(generated_catalog(10, 1, 9))).await.expect("starts");
    let handle = generated_catalog(10, 1, 9)[4].handle.clone();
    assert!(shop.set_product_title(&handle, "Fresh"));
    let body = query(
        &shop,
        "{ products(first: 50, query: \"updated_at:>'2026-01-01T00:00:00Z'\") { nodes { title } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["products"]["nodes"], json!([{"title": "Fresh"}]));
    let body = query(
        &shop,
        "{ products(first: 2, sortKey: UPDATED_AT, reverse: true) { nodes { title } } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["products"]["nodes"][0]["title"], "Fresh");
    shop.stop().await;
}

#[tokio::test]
async fn an_inventory_item_leads_to_its_variant_and_product() {
    let catalog = generated_catalog(3, 2, 4);
    let shop = ShopifySandbox::start(config(catalog.clone())).await.expect("starts");
    let q = "query($id: ID!) { inventoryItem(id: $id) { id variant { sku product { id handle } } } }";
    let variants = query(
        &shop,
        "{ products(first: 3) { nodes { variants(first: 2) { nodes { sku inventoryItem { id } } } } } }",
        json!({}),
    )
    .await;
    let last = &variants["data"]["products"]["nodes"][2]["variants"]["nodes"][1];
    let body = query(&shop, q, json!({"id": last["inventoryItem"]["id"]})).await;
    let item = &body["data"]["inventoryItem"];
    assert_eq!(item["id"], last["inventoryItem"]["id"]);
    assert_eq!(item["variant"]["sku"], last["sku"]);
    assert_eq!(item["variant"]["product"]["handle"], catalog[2].handle.as_str());
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 3);
    for unknown in ["gid://shopify/InventoryItem/1", "gid://shopify/Product/8100000000000"] {
        let body = query(&shop, q, json!({"id": unknown})).await;
        assert_eq!(body["data"]["inventoryItem"], Value::Null, "{unknown}");
    }
    shop.stop().await;
}
